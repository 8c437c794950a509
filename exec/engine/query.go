package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/parse"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// pushBuffer bounds the rows a push query holds for a client that is not reading; past it the
// subscriber is disconnected with an error instead of slowing the engine or other clients.
const pushBuffer = 4096

// pushStallTimeout is how long a full buffer may stay full before the subscriber is dropped.
const pushStallTimeout = 10 * time.Second

// Query starts a SELECT (push or pull) or a PRINT given as one statement.
func (e *Engine) Query(ctx context.Context, s *Session, text string) (*Cursor, error) {
	if s == nil {
		s = NewSession()
	}
	pieces := parse.Split(text)
	if len(pieces) != 1 {
		return nil, errf("Expected exactly one query, got %d statements", len(pieces))
	}
	st, err := e.parseOne(pieces[0], s)
	if err != nil {
		return nil, err
	}
	var c *Cursor
	switch n := st.(type) {
	case *ast.Select:
		if n.Query.Emit == ast.EmitNone {
			c, err = e.pullQuery(ctx, s, n)
		} else {
			c, err = e.pushQuery(ctx, s, n)
		}
		var ee *Error
		if errors.As(err, &ee) {
			locate(ee, pieces[0])
			ee.Statement = pieces[0].Text
		}
		return c, err
	case *ast.Print:
		return e.print(ctx, n)
	}
	return nil, &Error{Code: 40001, SQLState: "42000", Kind: StatementError, Msg: "Statement is not a query; use Execute (REST: /ksql)"}
}

// Prepare parses and plans one statement without running it.
func (e *Engine) Prepare(ctx context.Context, s *Session, text string) (*Prepared, error) {
	if s == nil {
		s = NewSession()
	}
	pieces := parse.Split(text)
	if len(pieces) != 1 {
		return &Prepared{}, nil
	}
	st, err := e.parseOne(pieces[0], s)
	if err != nil {
		return nil, err
	}
	switch n := st.(type) {
	case *ast.Select:
		e.mu.Lock()
		defer e.mu.Unlock()
		if n.Query.Emit == ast.EmitNone {
			cols, _, err := e.pullColumns(n.Query, mergeProps(e.cfg.Props, s.Props))
			if err != nil {
				return nil, err
			}
			return &Prepared{IsQuery: true, Columns: cols, Tag: "SELECT"}, nil
		}
		plan, err := e.planQuery(n.Query, "", mergeProps(e.cfg.Props, s.Props), false)
		if err != nil {
			return nil, err
		}
		return &Prepared{IsQuery: true, Push: true, Columns: pushColumns(plan), Tag: "SELECT"}, nil
	case *ast.Print:
		return &Prepared{IsQuery: true, Push: true, Columns: []Column{{Name: "RECORD", Type: types.StringType}}, Tag: "SELECT"}, nil
	case *ast.Show, *ast.Describe, *ast.Explain:
		return &Prepared{Tag: "SHOW"}, nil
	}
	return &Prepared{}, nil
}

func pushColumns(p *queryPlan) []Column {
	cols := make([]Column, len(p.proj))
	for i, it := range p.proj {
		cols[i] = Column{Name: it.name, Type: it.typ()}
	}
	return cols
}

func (e *Engine) newTransientID(src string) string {
	return fmt.Sprintf("transient_%s_%d", src, 1000000+e.nextTrans.Add(1))
}

// pushQuery runs a transient continuous query that streams results to the cursor.
func (e *Engine) pushQuery(ctx context.Context, s *Session, n *ast.Select) (*Cursor, error) {
	e.mu.Lock()
	props := mergeProps(e.cfg.Props, s.Props)
	plan, err := e.planQuery(n.Query, "", props, false)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	plan.pushMode = true
	e.mu.Unlock()
	id := e.newTransientID(plan.sources[0].src.Name)
	qctx, cancel := context.WithCancel(e.ctx)
	rows := make(chan Row, pushBuffer)
	var qerr error
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		if qerr == nil {
			qerr = err
		}
		errMu.Unlock()
		cancel()
	}
	limit := n.Query.Limit
	count := 0
	limitHit := false
	emit := func(o *outRec) error {
		r := Row{Values: o.vals, Tombstone: o.tombstone}
		select {
		case rows <- r:
		case <-qctx.Done():
			return qctx.Err()
		case <-time.After(pushStallTimeout):
			err := &Error{Code: 50000, SQLState: "53400", Kind: ServerError, Msg: fmt.Sprintf("push query %s dropped: the client did not read %d buffered rows within %s", id, pushBuffer, pushStallTimeout)}
			e.logf("%s", err.Msg)
			fail(err)
			return err
		}
		count++
		if limit >= 0 && count >= limit {
			limitHit = true
			cancel()
			return errLimit
		}
		return nil
	}
	store := newMemStore()
	pl, err := plan.instantiate(store, emit, func(err error, rec *storage.Record) { e.processingLog(id, err, rec) })
	if err != nil {
		cancel()
		return nil, err
	}
	reset := strings.ToLower(props["auto.offset.reset"])
	if reset == "" {
		reset = strings.ToLower(props["ksql.streams.auto.offset.reset"])
	}
	var inputs []*taskInput
	for i, bs := range plan.sources {
		info, err := e.log.DescribeTopic(ctx, bs.src.Topic)
		if err != nil {
			cancel()
			return nil, err
		}
		for _, p := range info.Partitions {
			off := p.EndOffset
			if reset == "earliest" {
				off = p.StartOffset
			}
			inputs = append(inputs, &taskInput{topic: bs.src.Topic, partition: p.Partition, offset: off, entry: pl.entry[i]})
		}
	}
	done := make(chan struct{})
	var procMu sync.Mutex
	go func() {
		defer close(done)
		defer close(rows)
		var wg sync.WaitGroup
		for _, in := range inputs {
			wg.Add(1)
			go func(in *taskInput) {
				defer wg.Done()
				for qctx.Err() == nil {
					recs, err := e.log.Read(qctx, in.topic, in.partition, in.offset, 1000, 500*time.Millisecond)
					if err != nil {
						if qctx.Err() == nil {
							fail(err)
						}
						return
					}
					if !processPush(&procMu, func() {
						for i := range recs {
							if qctx.Err() != nil {
								break
							}
							if err := in.entry(&recs[i]); err != nil {
								if errors.Is(err, errLimit) || qctx.Err() != nil {
									break
								}
								e.processingLog(id, err, &recs[i])
							}
							in.offset = recs[i].Offset + 1
						}
						for _, p := range pl.puncts {
							_ = p.tick(pl.streamTime)
						}
					}, fail) {
						return
					}
				}
			}(in)
		}
		wg.Wait()
	}()
	c := &Cursor{ID: id, Columns: pushColumns(plan), Push: true, sql: n.Text}
	if limit == 0 {
		cancel()
		<-done
		return staticCursor(id, c.Columns, nil, "Limit Reached"), nil
	}
	var once sync.Once
	c.close = func() {
		once.Do(func() {
			cancel()
			<-done
			e.transient.Delete(id)
		})
	}
	c.next = func(ctx context.Context) (Row, error) {
		select {
		case r, ok := <-rows:
			if !ok {
				errMu.Lock()
				defer errMu.Unlock()
				if qerr != nil {
					return Row{}, qerr
				}
				return Row{}, io.EOF
			}
			return r, nil
		case <-ctx.Done():
			return Row{}, ctx.Err()
		}
	}
	c.final = func() string {
		if limitHit {
			return "Limit Reached"
		}
		return ""
	}
	e.transient.Store(id, c)
	return c, nil
}

var errLimit = errors.New("limit reached")

// staticCursor serves precomputed rows.
func staticCursor(id string, cols []Column, rows []Row, final string) *Cursor {
	i := 0
	return &Cursor{ID: id, Columns: cols, next: func(context.Context) (Row, error) {
		if i >= len(rows) {
			return Row{}, io.EOF
		}
		i++
		return rows[i-1], nil
	}, final: func() string { return final }, close: func() {}}
}

// pullScope is the row layout a pull query sees: key columns, window bounds (windowed
// tables), then value columns.
func pullScope(src *source) ([]eval.Col, []Column) {
	var cols []eval.Col
	var out []Column
	for _, c := range src.Schema.Columns {
		if c.Namespace == types.KeyColumn {
			cols = append(cols, eval.Col{Qualifier: src.Name, Name: c.Name, Type: c.Type})
			out = append(out, Column{Name: c.Name, Type: c.Type, Key: true})
		}
	}
	if src.windowed() {
		for _, n := range []string{eval.WindowStart, eval.WindowEnd} {
			cols = append(cols, eval.Col{Qualifier: src.Name, Name: n, Type: types.BigintType})
			out = append(out, Column{Name: n, Type: types.BigintType, Key: true})
		}
	}
	for _, c := range src.Schema.Columns {
		if c.Namespace != types.KeyColumn {
			cols = append(cols, eval.Col{Qualifier: src.Name, Name: c.Name, Type: c.Type})
			out = append(out, Column{Name: c.Name, Type: c.Type})
		}
	}
	return cols, out
}

type pullPlan struct {
	src   *source
	where *eval.Expr
	proj  []*eval.Expr
	cols  []Column
	limit int
}

func (e *Engine) planPull(q *ast.Query, props map[string]string) (*pullPlan, error) {
	ref, ok := q.From.(*ast.SourceRef)
	if !ok {
		return nil, errf("Pull queries don't support JOIN clauses." + pullHint)
	}
	if q.Window != nil {
		return nil, errf("Pull queries don't support WINDOW clauses." + pullHint)
	}
	if len(q.GroupBy) > 0 {
		return nil, errf("Pull queries don't support GROUP BY clauses." + pullHint)
	}
	if len(q.PartitionBy) > 0 {
		return nil, errf("Pull queries don't support PARTITION BY clauses." + pullHint)
	}
	if q.Having != nil {
		return nil, errf("Pull queries don't support HAVING clauses." + pullHint)
	}
	src, err := e.lookupSource(ref.Name)
	if err != nil {
		return nil, err
	}
	// ksqlDB builds the result schema first, so a repeated column is reported before the
	// table's queryability.
	seenCols := map[string]bool{}
	for _, it := range q.Select {
		c, ok := it.Expr.(*ast.ColumnRef)
		if it.Star || !ok || it.Alias != "" {
			continue
		}
		if i := src.Schema.Find(c.Name); i >= 0 && src.Schema.Columns[i].Namespace != types.KeyColumn {
			if seenCols[c.Name] {
				return nil, errf("Duplicate value columns found in schema: `%s` %s", c.Name, src.Schema.Columns[i].Type)
			}
			seenCols[c.Name] = true
		}
	}
	if src.Kind == ast.Table && !src.Materialized {
		return nil, errf("The `%s` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_%s AS SELECT * FROM %s'. See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query.", src.Name, src.Name, src.Name)
	}
	scopeCols, allCols := pullScope(src)
	alias := ref.Alias
	for i := range scopeCols {
		if alias != "" {
			scopeCols[i].Qualifier = alias
		}
	}
	pp := &pullPlan{src: src, limit: q.Limit}
	var bad string
	check := func(x ast.Expr) {
		walkExpr(x, func(y ast.Expr) {
			if c, ok := y.(*ast.ColumnRef); ok && (c.Name == eval.RowPartition || c.Name == eval.RowOffset) && bad == "" {
				bad = c.Name
			}
		})
	}
	for _, it := range q.Select {
		check(it.Expr)
	}
	if bad != "" {
		return nil, errf("Pull queries don't support the following columns in SELECT clauses: `%s`", bad)
	}
	check(q.Where)
	if bad != "" {
		return nil, errf("Pull queries don't support the following columns in WHERE clauses: `%s`", bad)
	}
	if src.Kind == ast.Table && q.Where != nil {
		if err := checkPullKeyLiterals(q.Where, src); err != nil {
			return nil, err
		}
		if v := strings.ToLower(props["ksql.query.pull.table.scan.enabled"]); v == "false" {
			if err := validatePullWhere(q.Where, src); err != nil {
				return nil, err
			}
		}
	}
	rowtime := &eval.Scope{Cols: scopeCols, Pseudo: true, Config: props}
	if q.Where != nil {
		w, err := eval.Compile(q.Where, rowtime)
		if err != nil {
			if ee, ok := wrapExprErr("WHERE", err).(*Error); ok && strings.HasPrefix(ee.Msg, "Error in WHERE") {
				if src.Kind == ast.Table && !comparesKey(ee.Msg, src) {
					// ksqlDB checks key comparisons while it extracts the keys to look up;
					// the rest of a table scan's filter fails its expression compiler.
					ee.Msg = "Invalid expression: " + strings.TrimPrefix(ee.Msg, "Error in WHERE expression: ")
				}
				ee.Msg += "\nStatement: " + eval.Text(q.Where)
				return nil, ee
			}
			return nil, wrapExprErr("WHERE", err)
		}
		pp.where = w
	}
	names, err := projectionNames(q, nil)
	if err != nil {
		return nil, err
	}
	for si, it := range q.Select {
		if it.Star && it.Expr != nil {
			// s->* expands to one column per struct field.
			base, err := eval.Compile(it.Expr, rowtime)
			if err != nil {
				return nil, wrapExprErr("SELECT", err)
			}
			if base.Type == nil || base.Type.Kind != types.KindStruct {
				return nil, errf("Cannot use '->*' on a non-STRUCT column: %s", eval.Text(it.Expr))
			}
			for _, f := range base.Type.Fields {
				x, err := eval.Compile(&ast.Dereference{Base: it.Expr, Field: f.Name}, rowtime)
				if err != nil {
					return nil, err
				}
				pp.proj = append(pp.proj, x)
				pp.cols = append(pp.cols, Column{Name: f.Name, Type: f.Type})
			}
			continue
		}
		if it.Star {
			for i, c := range allCols {
				if it.Qualifier != "" && !strings.EqualFold(it.Qualifier, scopeCols[i].Qualifier) {
					continue
				}
				idx := i
				pp.proj = append(pp.proj, &eval.Expr{Type: c.Type, Eval: func(r *eval.Rec) (any, error) { return r.Vals[idx], nil }})
				pp.cols = append(pp.cols, c)
			}
			continue
		}
		x, err := eval.Compile(it.Expr, rowtime)
		if err != nil {
			return nil, wrapExprErr("SELECT", err)
		}
		name := names[si]
		key := false
		if r, ok := it.Expr.(*ast.ColumnRef); ok {
			for _, c := range allCols {
				if c.Name == r.Name && c.Key {
					key = true
				}
			}
		}
		pp.proj = append(pp.proj, x)
		pp.cols = append(pp.cols, Column{Name: name, Type: orStringType(x.Type), Key: key})
	}
	return pp, nil
}

func (e *Engine) pullColumns(q *ast.Query, props map[string]string) ([]Column, *pullPlan, error) {
	pp, err := e.planPull(q, props)
	if err != nil {
		return nil, nil, err
	}
	return pp.cols, pp, nil
}

// pullQuery answers from a materialized table's committed state, or scans a stream's topic up
// to its current end.
func (e *Engine) pullQuery(ctx context.Context, s *Session, n *ast.Select) (*Cursor, error) {
	e.mu.Lock()
	pp, err := e.planPull(n.Query, mergeProps(e.cfg.Props, s.Props))
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	src := pp.src
	var reader state.Reader
	if src.Kind == ast.Table {
		q := e.cat.queries[src.OwnerQuery]
		if q == nil || q.task == nil {
			e.mu.Unlock()
			return nil, errf("The `%s` table isn't queryable: its query is not running.", src.Name)
		}
		reader = tableReader(q.tableTasks())
	}
	e.mu.Unlock()
	kc, vc, err := src.codecs()
	if err != nil {
		return nil, err
	}
	nk := len(src.keyCols())
	var rows []Row
	var procErr error
	add := func(keyBytes, value []byte, ts int64, part int32, off int64) bool {
		r := &eval.Rec{Vals: make([]any, len(pp.cols)), Ts: ts, Partition: part, Offset: off}
		vals := make([]any, len(src.Schema.Columns)+2)
		kb := keyBytes
		var ws, we int64
		if src.windowed() && kb != nil {
			k, s0, e0, err := serde.SplitWindowedKey(kb, src.WindowType == ast.Session, src.WindowSizeMs)
			if err != nil {
				return true
			}
			kb, ws, we = k, s0, e0
		}
		if err := kc.Decode(kb, vals[:nk]); err != nil {
			return true
		}
		w := nk
		if src.windowed() {
			vals[nk], vals[nk+1] = ws, we
			w = nk + 2
		}
		nv := len(src.valueCols())
		if err := vc.Decode(value, vals[w:w+nv]); err != nil {
			return true
		}
		r.Vals = vals[:w+nv]
		r.WinStart, r.WinEnd = ws, we
		if pp.where != nil {
			v, err := pp.where.Eval(r)
			if err != nil {
				procErr = err
				return false
			}
			if v != true {
				return true
			}
		}
		out := make([]any, len(pp.proj))
		for i, x := range pp.proj {
			v, err := x.Eval(r)
			if err != nil {
				v = nil
			}
			out[i] = v
		}
		rows = append(rows, Row{Values: out})
		return pp.limit < 0 || len(rows) < pp.limit
	}
	final := ""
	if reader == nil {
		// ksqlDB marks key columns only in table pull-query headers.
		for i := range pp.cols {
			pp.cols[i].Key = false
		}
	}
	if q := e.ownerTask(src); q != nil && q.pullFromAgg && reader != nil {
		err = pullFromAggregate(q, src, n.Query.Where, reader, func(row []any, ts, ws, we int64) bool {
			r := &eval.Rec{Vals: row, Ts: ts, WinStart: ws, WinEnd: we}
			if pp.where != nil {
				v, werr := pp.where.Eval(r)
				if werr != nil {
					procErr = werr
					return false
				}
				if v != true {
					return true
				}
			}
			vals := make([]any, len(pp.proj))
			for i, x := range pp.proj {
				v, perr := x.Eval(r)
				if perr != nil {
					v = nil
				}
				vals[i] = v
			}
			rows = append(rows, Row{Values: vals})
			return pp.limit < 0 || len(rows) < pp.limit
		})
	} else if reader != nil {
		visit := func(k, v []byte) bool {
			if len(v) < 8 {
				return true
			}
			ts := int64(binary.BigEndian.Uint64(v[:8]))
			return add(k, v[8:], ts, 0, 0)
		}
		if keys, ok := pullKeys(n.Query.Where, src); ok {
			// Point lookups: the WHERE clause names the keys, so read only those.
			for _, k := range keys {
				r := forKey(reader, k)
				if src.windowed() {
					from, to := windowedKeyRange(k, src.WindowType == ast.Session)
					if err = r.Scan(matTable, from, to, func(kk, v []byte) bool {
						if len(kk) != len(to)-1 {
							return true
						}
						return visit(kk, v)
					}); err != nil {
						break
					}
					continue
				}
				v, found, gerr := r.Get(matTable, k)
				if gerr != nil {
					err = gerr
					break
				}
				if found && !visit(k, v) {
					break
				}
			}
		} else {
			err = reader.Scan(matTable, nil, nil, visit)
		}
	} else {
		final = "Query Completed"
		err = e.scanTopic(ctx, src.Topic, func(r *storage.Record) bool {
			if r.Value == nil {
				return true
			}
			return add(r.Key, r.Value, r.Timestamp, r.Partition, r.Offset)
		})
	}
	if err != nil {
		return nil, err
	}
	if procErr != nil {
		return nil, errf("%s", procErr.Error())
	}
	return staticCursor(e.newTransientID(src.Name), pp.cols, rows, final), nil
}

// ownerTask returns a running task that maintains a table (the first partition's, when there
// is one per partition), or nil.
func (e *Engine) ownerTask(src *source) *task {
	e.mu.Lock()
	defer e.mu.Unlock()
	if q := e.cat.queries[src.OwnerQuery]; q != nil {
		if ts := q.tableTasks(); len(ts) > 0 {
			return ts[0]
		}
	}
	return nil
}

// scanTopic reads every partition of a topic from its start to its current end.
func (e *Engine) scanTopic(ctx context.Context, topic string, fn func(*storage.Record) bool) error {
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return err
	}
	for _, p := range info.Partitions {
		off := p.StartOffset
		for off < p.EndOffset {
			recs, err := e.log.Read(ctx, topic, p.Partition, off, 1000, 0)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				break
			}
			for i := range recs {
				if recs[i].Offset >= p.EndOffset {
					return nil
				}
				if !fn(&recs[i]) {
					return nil
				}
				off = recs[i].Offset + 1
			}
		}
	}
	return nil
}

// print streams a topic's records as text lines (PRINT).
func (e *Engine) print(ctx context.Context, n *ast.Print) (*Cursor, error) {
	info, err := e.log.DescribeTopic(ctx, n.Topic)
	if err != nil {
		return nil, &Error{Code: 40001, SQLState: "42P01", Kind: StatementError, Msg: fmt.Sprintf("Could not find topic '%s', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive.", n.Topic)}
	}
	qctx, cancel := context.WithCancel(e.ctx)
	rows := make(chan Row, 256)
	offsets := make([]int64, len(info.Partitions))
	for i, p := range info.Partitions {
		offsets[i] = p.EndOffset
		if n.FromBeginning {
			offsets[i] = p.StartOffset
		}
	}
	limit := n.Limit
	id := e.newTransientID("PRINT")
	go func() {
		defer close(rows)
		count, seen := 0, 0
		interval := n.Interval
		if interval <= 0 {
			interval = 1
		}
		for qctx.Err() == nil {
			got := false
			for i, p := range info.Partitions {
				wait := time.Duration(0)
				if i == len(info.Partitions)-1 {
					wait = 200 * time.Millisecond
				}
				recs, err := e.log.Read(qctx, n.Topic, p.Partition, offsets[i], 500, wait)
				if err != nil {
					return
				}
				for _, r := range recs {
					got = true
					offsets[i] = r.Offset + 1
					seen++
					if (seen-1)%interval != 0 {
						continue
					}
					line := fmt.Sprintf("rowtime: %s, key: %s, value: %s, partition: %d", time.UnixMilli(r.Timestamp).UTC().Format("2006/01/02 15:04:05.000 MST"), printable(r.Key), printable(r.Value), r.Partition)
					select {
					case rows <- Row{Values: []any{line}}:
					case <-qctx.Done():
						return
					}
					count++
					if limit >= 0 && count >= limit {
						return
					}
				}
			}
			_ = got
		}
	}()
	c := &Cursor{ID: id, Columns: []Column{{Name: "RECORD", Type: types.StringType}}, Push: true, sql: n.Text}
	c.next = func(ctx context.Context) (Row, error) {
		select {
		case r, ok := <-rows:
			if !ok {
				return Row{}, io.EOF
			}
			return r, nil
		case <-ctx.Done():
			return Row{}, ctx.Err()
		}
	}
	c.close = cancel
	return c, nil
}

func printable(b []byte) string {
	if b == nil {
		return "<null>"
	}
	if len(b) == 8 && !utf8.Valid(b) {
		return fmt.Sprint(int64(binary.BigEndian.Uint64(b)))
	}
	if len(b) == 4 && !utf8.Valid(b) {
		return fmt.Sprint(int32(binary.BigEndian.Uint32(b)))
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("%x", b)
}

// processPush runs one batch of a push query under mu. A panic (a bug behind this query) ends
// the query with an internal error instead of the server; it reports whether to go on.
func processPush(mu *sync.Mutex, batch func(), fail func(error)) (ok bool) {
	mu.Lock()
	defer mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			fail(fmt.Errorf("internal error: %v", r))
			ok = false
		}
	}()
	batch()
	return true
}

// comparesKey reports whether a "Cannot compare X (TYPE) ..." error is about a key column X of
// src (other errors count as key errors, keeping their wording).
func comparesKey(msg string, src *source) bool {
	_, rest, ok := strings.Cut(msg, "Cannot compare ")
	if !ok {
		return true
	}
	name, _, ok := strings.Cut(rest, " (")
	if !ok {
		return true
	}
	for _, c := range src.keyCols() {
		if c.Name == name {
			return true
		}
	}
	return false
}
