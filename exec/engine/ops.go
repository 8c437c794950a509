package engine

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// pipeline is one instantiated query: its operators, state and stream time.
type pipeline struct {
	plan       *queryPlan
	entry      []func(rec *storage.Record) error // per bound source
	puncts     []punctuator
	streamTime int64
	st         state.Store
	errs       func(err error, rec *storage.Record)
	agg        *aggNode
}

// instantiate builds the operator chain of p over store st; results go to emit.
func (p *queryPlan) instantiate(st state.Store, emit func(*outRec) error, errs func(error, *storage.Record)) (*pipeline, error) {
	pl := &pipeline{plan: p, st: st, errs: errs}
	var next node
	switch {
	case p.agg != nil:
		proj := &projectNode{p: p, ordered: p.pushMode, emit: emit, windowed: p.window != nil, session: p.window != nil && p.window.Type == ast.Session, having: p.agg.having, table: true}
		an := &aggNode{a: p.agg, pl: pl, st: st, next: proj, cache: newEntryIndex()}
		if p.emitFinal {
			an.final = map[string]*eval.Rec{}
			pl.puncts = append(pl.puncts, an)
		}
		pl.agg = an
		next = an
	default:
		proj := &projectNode{p: p, ordered: p.pushMode, emit: emit, table: p.outKind == ast.Table}
		if p.keepsSourceWindow() {
			proj.windowed = true
			proj.session = p.sources[0].src.WindowType == ast.Session
		} else if w := p.joinedWindow(); w != nil {
			proj.windowed = true
			proj.session = w.WindowType == ast.Session
		}
		next = proj
		if p.partition != nil {
			pp, inner := p.partition, next
			next = nodeFunc(func(c *change) error {
				r, err := pp.rekey(c.new, c.tomb)
				if err != nil {
					return err
				}
				if c.tomb {
					return inner.push(&change{new: r, tomb: true})
				}
				return inner.push(&change{new: r})
			})
		}
	}
	if err := p.feed(pl, next); err != nil {
		return nil, err
	}
	return pl, nil
}

// feed sets pl's entries: each source's records decoded, joined and filtered by WHERE, then
// pushed to next.
func (p *queryPlan) feed(pl *pipeline, next node) error {
	if p.where != nil {
		// Over a table (a table source, or a table-table join) a row that stops matching is
		// deleted downstream; one that never matched stays absent.
		next = &filterNode{cond: p.where, next: next, table: p.tableSource}
	}
	if p.join != nil {
		entries, err := p.instantiateJoin(pl, next)
		if err != nil {
			return err
		}
		pl.entry = entries
		return nil
	}
	entry, err := pl.sourceEntry(p.sources[0], 0, next)
	if err != nil {
		return err
	}
	pl.entry = []func(*storage.Record) error{entry}
	return nil
}

// reportErr sends an operator error (bad expression, aggregate overflow) to the processing log.
func (pl *pipeline) reportErr(err error) {
	if pl.errs != nil {
		pl.errs(err, nil)
	}
}

// sourceEntry returns the function that decodes a log record of bs and pushes it downstream.
// Table sources are materialized in the task's store so that updates carry their old row.
func (pl *pipeline) sourceEntry(bs *boundSource, idx int, next node) (func(*storage.Record) error, error) {
	src := bs.src
	kc, vc, err := src.codecs()
	if err != nil {
		return nil, err
	}
	nk := len(src.keyCols())
	nv := len(src.valueCols())
	schema := src.Schema
	tsIdx := -1
	if src.TimestampCol != "" {
		tsIdx = schema.Find(src.TimestampCol)
	}
	var tsParse func(any) (int64, error)
	if tsIdx >= 0 {
		tsParse = timestampExtractor(schema.Columns[tsIdx].Type, src.TimestampFormat)
	}
	isTable := src.Kind == ast.Table
	matTable := fmt.Sprintf("src%d", idx)
	// Value columns may be interleaved with header columns in the schema; valPos maps the
	// decoded value columns back to their schema positions.
	valPos := valuePositions(schema)
	contiguous := len(valPos) == 0 || valPos[len(valPos)-1] == nk+nv-1
	// A stream feeding a persistent aggregation decodes every record into one reused row:
	// the aggregation keeps values, never the row (a table's changes, joins, table functions
	// and push queries may keep rows, so they get a fresh one each).
	p := pl.plan
	reuse := !isTable && p.agg != nil && p.join == nil && !p.tableSource && !p.hasTableFns && !p.pushMode
	var spare eval.Rec
	// spareChange is the change that carries a reused row: nodes never keep a change past
	// their push, so it saves an allocation per record too.
	var spareChange change
	decode := func(rec *storage.Record, keyBytes, value []byte) (*eval.Rec, error) {
		var r *eval.Rec
		if reuse {
			vals := spare.Vals
			if vals == nil {
				vals = make([]any, len(schema.Columns))
			} else {
				clear(vals)
			}
			spare = eval.Rec{Vals: vals, Ts: rec.Timestamp, Partition: rec.Partition, Offset: rec.Offset, Headers: rec.Headers}
			r = &spare
		} else {
			r = &eval.Rec{Vals: make([]any, len(schema.Columns)), Ts: rec.Timestamp, Partition: rec.Partition, Offset: rec.Offset, Headers: rec.Headers}
		}
		if err := kc.Decode(keyBytes, r.Vals[:nk]); err != nil {
			return nil, fmt.Errorf("Failed to deserialize key from topic: %s. %w", src.Topic, err)
		}
		if contiguous {
			if err := vc.Decode(value, r.Vals[nk:nk+nv]); err != nil {
				return nil, fmt.Errorf("Failed to deserialize value from topic: %s. %w", src.Topic, err)
			}
		} else {
			tmp := make([]any, nv)
			if err := vc.Decode(value, tmp); err != nil {
				return nil, fmt.Errorf("Failed to deserialize value from topic: %s. %w", src.Topic, err)
			}
			for i, pos := range valPos {
				r.Vals[pos] = tmp[i]
			}
		}
		fillHeaders(schema, r)
		if tsIdx >= 0 {
			v := r.Vals[tsIdx]
			if v == nil {
				return nil, nil
			}
			ts, err := tsParse(v)
			if err != nil {
				if strings.EqualFold(pl.plan.cfg["ksql.timestamp.throw.on.invalid"], "true") {
					// The user asked for a bad timestamp to stop the query, not skip the row.
					return nil, &fatalError{fmt.Errorf("Fatal user code error in TimestampExtractor callback for record %s/%d@%d: %v", src.Topic, rec.Partition, rec.Offset, err)}
				}
				return nil, err
			}
			r.Ts = ts
		}
		return r, nil
	}
	return func(rec *storage.Record) error {
		keyBytes := rec.Key
		var ws, we int64
		if src.windowed() && keyBytes != nil {
			k, s, e, err := serde.SplitWindowedKey(keyBytes, src.WindowType == ast.Session, src.WindowSizeMs)
			if err != nil {
				return err
			}
			keyBytes, ws, we = k, s, e
		}
		if !isTable {
			if rec.Value == nil {
				// ksqlDB forwards a stream record with a NULL value through projections (and
				// re-keying) as a tombstone; filters, aggregations and joins drop it.
				if pl.plan.where != nil || pl.plan.agg != nil || pl.plan.join != nil || pl.plan.pushMode {
					return nil
				}
				r, err := decode(rec, keyBytes, nil)
				if err != nil || r == nil {
					return err
				}
				r.WinStart, r.WinEnd = ws, we
				return next.push(&change{new: r, tomb: true})
			}
			r, err := decode(rec, keyBytes, rec.Value)
			if err != nil || r == nil {
				return err
			}
			r.WinStart, r.WinEnd = ws, we
			if r.Ts < 0 {
				// Kafka Streams skips records with an invalid (negative) timestamp.
				return fmt.Errorf("record with invalid timestamp %d skipped", r.Ts)
			}
			if r.Ts > pl.streamTime {
				pl.streamTime = r.Ts
			}
			if reuse {
				spareChange = change{new: r}
				return next.push(&spareChange)
			}
			return next.push(&change{new: r})
		}
		if rec.Key == nil {
			return nil
		}
		var old *eval.Rec
		if prev, ok, err := pl.st.Get(matTable, rec.Key); err != nil {
			return err
		} else if ok {
			old, _ = decode(rec, keyBytes, prev)
		}
		var nr *eval.Rec
		if rec.Value != nil {
			r, err := decode(rec, keyBytes, rec.Value)
			if err != nil {
				return err
			}
			nr = r
			pl.st.Put(matTable, rec.Key, rec.Value)
		} else {
			if old == nil {
				return nil
			}
			pl.st.Delete(matTable, rec.Key)
		}
		if nr != nil {
			nr.WinStart, nr.WinEnd = ws, we
			if nr.Ts > pl.streamTime {
				pl.streamTime = nr.Ts
			}
		} else if rec.Timestamp > pl.streamTime {
			pl.streamTime = rec.Timestamp
		}
		if old != nil {
			old.Ts = rec.Timestamp
			old.WinStart, old.WinEnd = ws, we
		}
		return next.push(&change{new: nr, old: old})
	}, nil
}

// fillHeaders sets HEADER('k') and HEADERS columns from the record headers.
func fillHeaders(s *types.Schema, r *eval.Rec) {
	for i, c := range s.Columns {
		if c.Namespace != types.HeaderColumn {
			continue
		}
		if c.HeaderKey != "" {
			var v any
			for _, h := range r.Headers {
				if h.Key == c.HeaderKey {
					v = nil // a header without a value is NULL, not empty bytes
					if h.Value != nil {
						v = h.Value
					}
				}
			}
			r.Vals[i] = v
			continue
		}
		arr := make([]any, 0, len(r.Headers))
		for _, h := range r.Headers {
			var hv any
			if h.Value != nil {
				hv = h.Value
			}
			arr = append(arr, &types.Struct{Names: []string{"KEY", "VALUE"}, Vals: []any{h.Key, hv}})
		}
		r.Vals[i] = arr
	}
}

// filterNode is WHERE. On tables a row that stops matching becomes a delete.
type filterNode struct {
	cond  *eval.Expr
	next  node
	table bool
}

func (f *filterNode) match(r *eval.Rec) bool {
	if r == nil {
		return false
	}
	v, err := f.cond.Eval(r)
	return err == nil && v == true
}

func (f *filterNode) push(c *change) error {
	if !f.table {
		if f.match(c.new) {
			return f.next.push(c)
		}
		return nil
	}
	nc := &change{}
	if f.match(c.new) {
		nc.new = c.new
	}
	if f.match(c.old) {
		nc.old = c.old
	}
	if nc.new == nil && nc.old == nil {
		// Matching neither before nor after: downstream holds nothing of this key to change
		// (Kafka Streams' table filter with old values drops it too).
		return nil
	}
	return f.next.push(nc)
}

// projectNode computes output rows: key and value columns, table-function expansion, HAVING
// on aggregated rows.
type projectNode struct {
	p *queryPlan
	// ordered puts every projected value in vals in SELECT order (push queries), instead of
	// splitting key and value columns (sinks).
	ordered  bool
	emit     func(*outRec) error
	table    bool
	windowed bool
	session  bool
	having   *eval.Expr
	// Scratch of the sink path: the row being emitted and its key and value slices.
	outScratch             outRec
	keyScratch, valScratch []any
}

// tombstoneVals are a push query's columns for a deleted row: key columns and window bounds
// keep their values, everything else is NULL.
func (n *projectNode) tombstoneVals(r *eval.Rec) []any {
	vals := make([]any, len(n.p.proj))
	for i, it := range n.p.proj {
		keep := it.isKey
		if ref, ok := it.ast.(*ast.ColumnRef); ok && (ref.Name == eval.WindowStart || ref.Name == eval.WindowEnd) {
			keep = true
		}
		if keep && it.expr != nil {
			if v, err := it.expr.Eval(r); err == nil {
				vals[i] = v
			}
		}
	}
	return vals
}

func (n *projectNode) tomb(r *eval.Rec) *outRec {
	o := &outRec{key: n.keyOf(r), tombstone: true, ts: r.Ts, windowed: n.windowed, session: n.session, winStart: r.WinStart, winEnd: r.WinEnd, partition: r.Partition, nullKeyObject: n.p.partition != nil}
	if n.ordered {
		o.vals = n.tombstoneVals(r)
	}
	return o
}

func (n *projectNode) keyOf(r *eval.Rec) []any {
	key := make([]any, len(n.p.keyIdx))
	for i, idx := range n.p.keyIdx {
		it := n.p.proj[idx]
		v, err := it.expr.Eval(r)
		if err == nil {
			key[i] = v
		}
	}
	return key
}

func (n *projectNode) push(c *change) error {
	if c.new == nil {
		if c.old == nil || !n.table {
			return nil
		}
		return n.emit(n.tomb(c.old))
	}
	r := c.new
	if c.tomb {
		return n.emit(n.tomb(r))
	}
	if n.having != nil {
		v, err := n.having.Eval(r)
		if err != nil || v != true {
			// Only a row that matched before (and so was emitted) needs deleting.
			if c.old == nil {
				return nil
			}
			if ov, err := n.having.Eval(c.old); err != nil || ov != true {
				return nil
			}
			return n.emit(n.tomb(r))
		}
	}
	if n.p.hasTableFns {
		return n.explode(r)
	}
	if n.ordered {
		out := &outRec{ts: r.Ts, windowed: n.windowed, session: n.session, winStart: r.WinStart, winEnd: r.WinEnd, partition: r.Partition, headers: r.Headers, nullKeyObject: n.p.partition != nil}
		for _, it := range n.p.proj {
			v, err := it.expr.Eval(r)
			if err != nil {
				v = nil
			}
			out.vals = append(out.vals, v)
		}
		out.key = n.keyOf(r)
		return n.emit(out)
	}
	out := &n.outScratch
	*out = outRec{ts: r.Ts, windowed: n.windowed, session: n.session, winStart: r.WinStart, winEnd: r.WinEnd, partition: r.Partition, headers: r.Headers, nullKeyObject: n.p.partition != nil}
	// A sink's emit encodes the row before it returns, so its slices are reused (push queries,
	// which hand rows to a client, take the ordered path above).
	out.key = n.keyScratch[:0]
	out.vals = n.valScratch[:0]
	for _, idx := range n.p.keyIdx {
		v, err := n.p.proj[idx].expr.Eval(r)
		if err != nil {
			v = nil
		}
		out.key = append(out.key, v)
	}
	for _, it := range n.p.proj {
		if it.isKey {
			continue
		}
		v, err := it.expr.Eval(r)
		if err != nil {
			v = nil
		}
		out.vals = append(out.vals, v)
	}
	err := n.emit(out)
	n.keyScratch, n.valScratch = out.key[:0], out.vals[:0]
	return err
}

// explode zips every table function's output; shorter outputs pad with NULL.
func (n *projectNode) explode(r *eval.Rec) error {
	results := make([][]any, len(n.p.proj))
	rows := 0
	for i, it := range n.p.proj {
		if it.tableFn == nil {
			continue
		}
		vs, err := it.tableFn.eval(r)
		if err != nil {
			vs = nil
		}
		results[i] = vs
		if len(vs) > rows {
			rows = len(vs)
		}
	}
	for j := 0; j < rows; j++ {
		out := &outRec{ts: r.Ts, partition: r.Partition, headers: r.Headers}
		for _, idx := range n.p.keyIdx {
			v, _ := n.p.proj[idx].expr.Eval(r)
			out.key = append(out.key, v)
		}
		for i, it := range n.p.proj {
			if it.isKey && !n.ordered {
				continue
			}
			var v any
			if it.tableFn != nil {
				if j < len(results[i]) {
					v = results[i][j]
				}
				if it.tableFnPost != nil {
					*it.tableFnCur = v
					v, _ = it.tableFnPost.Eval(r)
				}
			} else {
				v, _ = it.expr.Eval(r)
			}
			out.vals = append(out.vals, v)
		}
		if err := n.emit(out); err != nil {
			return err
		}
	}
	return nil
}

// timestampExtractor converts a TIMESTAMP column value into epoch milliseconds.
func timestampExtractor(t *types.Type, format string) func(any) (int64, error) {
	switch t.Kind {
	case types.KindBigint:
		return func(v any) (int64, error) { return v.(int64), nil }
	case types.KindTimestamp:
		return func(v any) (int64, error) { return int64(v.(types.Timestamp)), nil }
	case types.KindString:
		return func(v any) (int64, error) {
			if format == "" {
				ts, err := types.ParseTimestamp(v.(string))
				return int64(ts), err
			}
			f, err := types.CompileJavaDateFormat(format)
			if err != nil {
				return 0, err
			}
			pt, err := f.Parse(v.(string))
			if err != nil {
				return 0, err
			}
			return pt.Time(time.UTC).UnixMilli(), nil
		}
	}
	return func(v any) (int64, error) { return 0, fmt.Errorf("unsupported timestamp column type %s", t) }
}

// encodeKeyBytes is the state-store key of a group: the JSON array of its values.
func encodeGroupKey(vals []any, ts []*types.Type) []byte {
	// Room for a few short values up front: growing from one byte took three allocations.
	buf := append(make([]byte, 0, 16+16*len(vals)), '[')
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = serde.AppendJSON(buf, v, ts[i])
	}
	return append(buf, ']')
}

func appendWindow(buf []byte, start, end int64) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(start)^(1<<63))
	return binary.BigEndian.AppendUint64(buf, uint64(end)^(1<<63))
}
