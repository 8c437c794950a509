package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// joinOp runs one join step. State lives in the task's store under tables prefixed
// "j<step>": L and R hold each side's rows (stream-stream: buffered records keyed by join key,
// timestamp and sequence; tables: current rows keyed by join key), O the stream-stream outer
// rows waiting for their window to close, I the foreign-key subscriptions (FK, left key), M
// the step's clocks.
//
// Every operator runs in the task's single goroutine, and one task reads every partition of
// its inputs, so co-partitioned (or, for foreign keys, arbitrarily partitioned) inputs meet
// in the same state without repartition topics.
type joinOp struct {
	pl   *pipeline
	p    *queryPlan
	jp   *joinPlan
	s    *joinStep
	st   state.Store
	next node
	tL   string
	tR   string
	tO   string
	tI   string
	tM   string
	typs []*types.Type
	// Stream-stream clocks: the join's stream time (max timestamp seen on either side) and
	// each side's window-store time (max timestamp buffered on that side), as Kafka Streams
	// keeps them; seq makes buffer keys unique.
	streamTime int64
	obs        [2]int64
	seq        int64
	// leftKeyCodec encodes the left table's primary key for FK subscriptions, so that
	// referencing rows are revisited in the order Kafka Streams scans them (serialized key).
	leftKeyCodec serde.Codec
	leftNK       int
	// sinceClean counts buffered records since expired stream-stream buffers were purged.
	sinceClean int
	// oldest is, per side, a lower bound of the buffered records' timestamps (math.MinInt64
	// until a purge has scanned the buffer), so that a purge with nothing to expire skips
	// its full scan.
	oldest [2]int64
	// buffered counts, per side, the buffered records of each key (by a hash of its bytes), so
	// that a record whose key the other side has none of skips the range scan. nil until
	// built, by one scan of that side's buffer (a restart loses it); dropped for good past
	// maxBufferedKeys keys, where the memory would outweigh the scans it saves.
	buffered     [2]map[uint64]int32
	bufferedOff  [2]bool
	bufferedSeed maphash.Seed
	// Scratch buffers for a stream-stream record's buffer key, encoded row, scan bounds and
	// clock: the store copies what it is given (state.Store.Put).
	keyBuf, rowBuf, loBuf, hiBuf, clockBuf []byte
	// matches collects the other side's buffered rows that a stream record meets (collect,
	// made once, is the Scan callback that fills it; scanErr its decode error).
	matches []*eval.Rec
	collect func(k, v []byte) bool
	scanErr error
}

const maxBufferedKeys = 1 << 21

const (
	sideLeft  = 0
	sideRight = 1
)

func newJoinOp(pl *pipeline, p *queryPlan, i int, next node) (*joinOp, error) {
	s := p.join.steps[i]
	pre := fmt.Sprintf("j%d", i)
	op := &joinOp{pl: pl, p: p, jp: p.join, s: s, st: pl.st, next: next,
		tL: pre + "L", tR: pre + "R", tO: pre + "O", tI: pre + "I", tM: pre + "M"}
	op.typs = p.joinedTypes()
	op.streamTime, op.obs[0], op.obs[1] = -1<<62, -1<<62, -1<<62
	op.oldest = [2]int64{math.MinInt64, math.MinInt64}
	op.bufferedSeed = maphash.MakeSeed()
	if b, ok, err := op.st.Get(op.tM, []byte("clock")); err != nil {
		return nil, err
	} else if ok && len(b) == 32 {
		op.streamTime = int64(binary.BigEndian.Uint64(b))
		op.obs[0] = int64(binary.BigEndian.Uint64(b[8:]))
		op.obs[1] = int64(binary.BigEndian.Uint64(b[16:]))
		op.seq = int64(binary.BigEndian.Uint64(b[24:]))
	}
	if s.kind == joinFK {
		kc, _, err := p.sources[0].src.codecs()
		if err != nil {
			return nil, err
		}
		op.leftKeyCodec, op.leftNK = kc, len(p.sources[0].src.keyCols())
	}
	return op, nil
}

func (op *joinOp) saveClock() {
	if cap(op.clockBuf) < 32 {
		op.clockBuf = make([]byte, 32)
	}
	b := op.clockBuf[:32]
	binary.BigEndian.PutUint64(b, uint64(op.streamTime))
	binary.BigEndian.PutUint64(b[8:], uint64(op.obs[0]))
	binary.BigEndian.PutUint64(b[16:], uint64(op.obs[1]))
	binary.BigEndian.PutUint64(b[24:], uint64(op.seq))
	op.st.Put(op.tM, []byte("clock"), b)
}

// side adapts one input of the step to node.
type joinSide struct {
	op   *joinOp
	side int
}

func (s joinSide) push(c *change) error {
	switch s.op.s.kind {
	case joinSS:
		return s.op.pushStream(s.side, c)
	case joinST:
		if s.side == sideRight {
			return s.op.pushLookupTable(c)
		}
		return s.op.pushLookupStream(c)
	case joinFK:
		if s.side == sideRight {
			return s.op.pushFKRight(c)
		}
		return s.op.pushFKLeft(c)
	}
	return s.op.pushTable(s.side, c)
}

// --- rows -----------------------------------------------------------------------------------

// widen places a source row (source layout) into the joined layout, with its pseudo columns.
func (jp *joinPlan) widen(bs *boundSource, idx int, r *eval.Rec) *eval.Rec {
	if r == nil {
		return nil
	}
	out := &eval.Rec{Vals: make([]any, jp.width), Ts: r.Ts, Partition: r.Partition, Offset: r.Offset, WinStart: r.WinStart, WinEnd: r.WinEnd, Headers: r.Headers}
	copy(out.Vals[bs.offset:bs.offset+bs.ncols], r.Vals)
	for _, ps := range jp.pseudo {
		if ps.src != idx {
			continue
		}
		switch ps.name {
		case eval.RowTime:
			out.Vals[ps.idx] = r.Ts
		case eval.RowPartition:
			out.Vals[ps.idx] = r.Partition
		case eval.RowOffset:
			out.Vals[ps.idx] = r.Offset
		case eval.WindowStart:
			out.Vals[ps.idx] = r.WinStart
		case eval.WindowEnd:
			out.Vals[ps.idx] = r.WinEnd
		}
	}
	return out
}

// combine builds the joined row of l and r (either may be nil) keyed by key at time ts.
func (op *joinOp) combine(l, r *eval.Rec, key any, ts int64) *eval.Rec {
	out := &eval.Rec{Vals: make([]any, op.jp.width), Ts: ts}
	if l != nil {
		for _, i := range op.s.leftSlots {
			out.Vals[i] = l.Vals[i]
		}
		out.Partition, out.Offset, out.WinStart, out.WinEnd, out.Headers = l.Partition, l.Offset, l.WinStart, l.WinEnd, l.Headers
	} else if r != nil {
		out.Partition, out.Offset, out.WinStart, out.WinEnd, out.Headers = r.Partition, r.Offset, r.WinStart, r.WinEnd, r.Headers
	}
	if r != nil {
		for _, i := range op.s.rightSlots {
			out.Vals[i] = r.Vals[i]
		}
	}
	out.Vals[op.jp.keySlot] = key
	return out
}

// withTrigger copies the triggering record's metadata (partition, offset, headers) onto an output
// row, as Kafka Streams forwards join results in the context of the record being processed.
func withTrigger(out, trig *eval.Rec) *eval.Rec {
	if out != nil && trig != nil {
		out.Partition, out.Offset, out.Headers = trig.Partition, trig.Offset, trig.Headers
	}
	return out
}

// joined applies the join type: the result row, or nil when a required side is missing.
func (op *joinOp) joined(l, r *eval.Rec, key any, ts int64) *eval.Rec {
	switch op.s.typ {
	case ast.InnerJoin:
		if l == nil || r == nil {
			return nil
		}
	case ast.LeftJoin:
		if l == nil {
			return nil
		}
	case ast.RightJoin:
		if r == nil {
			return nil
		}
	default:
		if l == nil && r == nil {
			return nil
		}
	}
	return op.combine(l, r, key, ts)
}

// encodeRow serializes a joined-layout row with its record metadata.
func (op *joinOp) encodeRow(r *eval.Rec) []byte { return appendJoinedRow(nil, r, op.typs) }

func (op *joinOp) decodeRow(b []byte) (*eval.Rec, error) { return decodeJoinedRow(b, op.typs) }

// joinedTypes are the types of a join's row layout, as appendJoinedRow encodes them.
func (p *queryPlan) joinedTypes() []*types.Type {
	var typs []*types.Type
	for _, c := range p.inCols {
		typs = append(typs, orStringType(c.Type))
	}
	return typs
}

// appendJoinedRow encodes a row of a join's layout (typs) with its timestamp, source position
// and window: the form of join state and of joined rows in a repartition topic.
func appendJoinedRow(buf []byte, r *eval.Rec, typs []*types.Type) []byte {
	buf = append(buf, '[')
	for i, n := range [5]int64{r.Ts, int64(r.Partition), r.Offset, r.WinStart, r.WinEnd} {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, n, 10)
	}
	for i, v := range r.Vals {
		buf = append(buf, ',')
		buf = serde.AppendJSON(buf, v, typs[i])
	}
	return append(buf, ']')
}

func decodeJoinedRow(b []byte, typs []*types.Type) (*eval.Rec, error) {
	var head [5]int64
	vals := make([]any, len(typs))
	if ok, err := serde.DecodeTypedArray(b, head[:], typs, vals); ok {
		if err != nil {
			return nil, err
		}
		return &eval.Rec{Ts: head[0], Partition: int32(head[1]), Offset: head[2], WinStart: head[3], WinEnd: head[4], Vals: vals}, nil
	}
	tree, err := serde.ParseJSON(b)
	if err != nil {
		return nil, err
	}
	arr, ok := tree.([]any)
	if !ok || len(arr) != 5+len(typs) {
		return nil, fmt.Errorf("corrupt join state")
	}
	num := func(v any) int64 { x, _ := v.(json.Number).Int64(); return x }
	r := &eval.Rec{Ts: num(arr[0]), Partition: int32(num(arr[1])), Offset: num(arr[2]), WinStart: num(arr[3]), WinEnd: num(arr[4]), Vals: make([]any, len(typs))}
	for i := range r.Vals {
		if r.Vals[i], err = serde.FromJSON(arr[5+i], typs[i]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (op *joinOp) getRow(table string, key []byte) (*eval.Rec, error) {
	b, ok, err := op.st.Get(table, key)
	if err != nil || !ok {
		return nil, err
	}
	return op.decodeRow(b)
}

// keyOf evaluates one side's join expression: the value and its state-store encoding (the
// window is part of the key of windowed inputs). ok is false for NULL keys, which never join.
func (op *joinOp) keyOf(x *eval.Expr, r *eval.Rec) (any, []byte, bool) {
	if r == nil {
		return nil, nil, false
	}
	v, err := x.Eval(r)
	if err != nil {
		op.pl.reportErr(err)
		return nil, nil, false
	}
	if v == nil {
		return nil, nil, false
	}
	kb := encodeGroupKey([]any{v}, []*types.Type{orStringType(op.s.keyType)})
	if op.s.windowed {
		kb = appendWindow(kb, r.WinStart, r.WinEnd)
	}
	return v, kb, true
}

func appendTs(b []byte, ts int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(ts)^(1<<63))
}

func readTs(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func changeTs(c *change) int64 {
	if c.new != nil {
		return c.new.Ts
	}
	if c.old != nil {
		return c.old.Ts
	}
	return 0
}

func (op *joinOp) emit(c *change) error {
	if c.new == nil && c.old == nil {
		return nil
	}
	return op.next.push(c)
}

// --- stream-stream ----------------------------------------------------------------------------

// pushStream joins a stream record with the other side's records within the window, as Kafka
// Streams' KStreamKStreamJoin does: output timestamp max(left, right); outer sides emit a
// NULL-padded row at once without GRACE PERIOD, or, with one, when the record's window has
// closed in stream time without a match (rows arriving after the window closed are emitted
// immediately). Each side's buffer keeps records for before + after + grace (24 h by default).
func (op *joinOp) pushStream(side int, c *change) error {
	r := c.new
	if r == nil {
		return nil
	}
	expr := op.s.leftKey
	if side == sideRight {
		expr = op.s.rightKey
	}
	kv, kb, ok := op.keyOf(expr, r)
	if !ok {
		return nil
	}
	w := op.s.within
	before, after := w.BeforeMs, w.AfterMs
	graceMode := w.GraceMs >= 0
	grace := int64(defaultGraceMs)
	if graceMode {
		grace = w.GraceMs
	}
	retention := before + after + grace
	ts := r.Ts
	from, to := ts-before, ts+after
	if side == sideRight {
		from, to = ts-after, ts+before
	}
	if from < 0 {
		from = 0
	}
	if to < 0 {
		to = 0
	}
	if ts > op.streamTime {
		op.streamTime = ts
	}
	if graceMode && ts == op.streamTime {
		if err := op.emitExpired(before, after, grace); err != nil {
			return err
		}
	}
	// Buffer the record unless it is already older than its side's retention.
	own, other := op.tL, op.tR
	if side == sideRight {
		own, other = op.tR, op.tL
	}
	if ts > op.obs[side] {
		op.obs[side] = ts
	}
	op.seq++
	if ts >= op.obs[side]-retention+1 {
		op.keyBuf = binary.BigEndian.AppendUint64(appendTs(append(op.keyBuf[:0], kb...), ts), uint64(op.seq))
		op.rowBuf = appendJoinedRow(op.rowBuf[:0], r, op.typs)
		op.st.Put(own, op.keyBuf, op.rowBuf)
		op.oldest[side] = min(op.oldest[side], ts)
		op.countBuffered(side, kb, 1)
		op.sinceClean++
	}
	op.saveClock()
	lo := from
	if m := op.obs[1-side] - retention + 1; m > lo {
		lo = m
	}
	matches := op.matches[:0]
	defer func() { clear(matches); op.matches = matches[:0] }()
	if lo <= to {
		if none, err := op.noneBuffered(1-side, kb); err != nil {
			return err
		} else if none {
			lo = to + 1 // nothing to scan for
		}
	}
	if lo <= to {
		op.loBuf = appendTs(append(op.loBuf[:0], kb...), lo)
		op.hiBuf = appendTs(append(op.hiBuf[:0], kb...), to+1)
		if op.collect == nil {
			op.collect = func(k, v []byte) bool {
				o, err := op.decodeRow(v)
				if err != nil {
					op.scanErr = err
					return false
				}
				op.matches = append(op.matches, o)
				return true
			}
		}
		op.matches, op.scanErr = matches, nil
		err := op.st.Scan(other, op.loBuf, op.hiBuf, op.collect)
		matches = op.matches
		if err != nil {
			return err
		}
		if op.scanErr != nil {
			return op.scanErr
		}
	}
	for _, o := range matches {
		l, rr := r, o
		if side == sideRight {
			l, rr = o, r
		}
		ots := ts
		if o.Ts > ots {
			ots = o.Ts
		}
		if graceMode {
			// The other record found its match: it no longer waits for an outer result.
			if err := op.deletePending(o.Ts, 1-side, kb); err != nil {
				return err
			}
		}
		if err := op.emit(&change{new: withTrigger(op.combine(l, rr, kv, ots), r)}); err != nil {
			return err
		}
	}
	if len(matches) == 0 && op.outer(side) {
		if !graceMode || to < op.streamTime {
			return op.emit(&change{new: op.padded(side, r, kv, ts)})
		}
		k := appendTs(nil, ts)
		k = append(k, byte(1-side)) // Kafka Streams orders the right side first at equal times
		k = append(k, kb...)
		k = binary.BigEndian.AppendUint64(k, uint64(op.seq))
		op.st.Put(op.tO, k, op.encodeRow(r))
	}
	if op.sinceClean > 10000 {
		op.sinceClean = 0
		return op.purge(retention)
	}
	return nil
}

func (op *joinOp) outer(side int) bool {
	switch op.s.typ {
	case ast.LeftJoin:
		return side == sideLeft
	case ast.RightJoin:
		return side == sideRight
	case ast.FullJoin:
		return true
	}
	return false
}

// padded is the outer-join row of an unmatched record of side.
func (op *joinOp) padded(side int, r *eval.Rec, kv any, ts int64) *eval.Rec {
	if side == sideLeft {
		return op.combine(r, nil, kv, ts)
	}
	return op.combine(nil, r, kv, ts)
}

// emitExpired emits the outer rows whose window (plus grace) has closed, oldest first.
func (op *joinOp) emitExpired(before, after, grace int64) error {
	type pend struct {
		key  []byte
		side int
		r    *eval.Rec
	}
	var ready []pend
	var derr error
	err := op.st.Scan(op.tO, nil, nil, func(k, v []byte) bool {
		if len(k) < 9 {
			return true
		}
		ts := readTs(k)
		side := 1 - int(k[8])
		look := after
		if side == sideRight {
			look = before
		}
		if ts+look+grace >= op.streamTime {
			if ts+min(before, after)+grace >= op.streamTime {
				return false
			}
			return true
		}
		r, err := op.decodeRow(v)
		if err != nil {
			derr = err
			return false
		}
		ready = append(ready, pend{key: append([]byte(nil), k...), side: side, r: r})
		return true
	})
	if err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	for _, pd := range ready {
		op.st.Delete(op.tO, pd.key)
		expr := op.s.leftKey
		if pd.side == sideRight {
			expr = op.s.rightKey
		}
		kv, _, _ := op.keyOf(expr, pd.r)
		if err := op.emit(&change{new: op.padded(pd.side, pd.r, kv, pd.r.Ts)}); err != nil {
			return err
		}
	}
	return nil
}

// deletePending drops the waiting outer rows of side with key kb at time ts.
func (op *joinOp) deletePending(ts int64, side int, kb []byte) error {
	prefix := appendTs(nil, ts)
	prefix = append(prefix, byte(1-side))
	prefix = append(prefix, kb...)
	var keys [][]byte
	err := op.st.Scan(op.tO, prefix, prefixEnd(prefix), func(k, v []byte) bool {
		if len(k) == len(prefix)+8 {
			keys = append(keys, append([]byte(nil), k...))
		}
		return true
	})
	for _, k := range keys {
		op.st.Delete(op.tO, k)
	}
	return err
}

// countBuffered adds d to side's count of buffered records with key kb, once counts are kept.
func (op *joinOp) countBuffered(side int, kb []byte, d int32) {
	m := op.buffered[side]
	if m == nil {
		return
	}
	h := maphash.Bytes(op.bufferedSeed, kb)
	if n := m[h] + d; n > 0 {
		m[h] = n
	} else {
		delete(m, h)
	}
	if len(m) > maxBufferedKeys {
		op.buffered[side], op.bufferedOff[side] = nil, true
	}
}

// noneBuffered reports whether side has no buffered record with key kb (false when it cannot
// tell), building the counts on first use.
func (op *joinOp) noneBuffered(side int, kb []byte) (bool, error) {
	if op.bufferedOff[side] {
		return false, nil
	}
	if op.buffered[side] == nil {
		m := map[uint64]int32{}
		t := op.tL
		if side == sideRight {
			t = op.tR
		}
		err := op.st.Scan(t, nil, nil, func(k, v []byte) bool {
			if len(k) >= 16 {
				m[maphash.Bytes(op.bufferedSeed, k[:len(k)-16])]++
			}
			return len(m) <= maxBufferedKeys
		})
		if err != nil {
			return false, err
		}
		if len(m) > maxBufferedKeys {
			op.bufferedOff[side] = true
			return false, nil
		}
		op.buffered[side] = m
	}
	return op.buffered[side][maphash.Bytes(op.bufferedSeed, kb)] == 0, nil
}

// purge deletes buffered records that fell out of retention.
func (op *joinOp) purge(retention int64) error {
	for side, t := range []string{op.tL, op.tR} {
		limit := op.obs[side] - retention + 1
		if limit <= op.oldest[side] {
			continue // nothing buffered on this side is that old
		}
		var keys [][]byte
		oldest := int64(math.MaxInt64)
		err := op.st.Scan(t, nil, nil, func(k, v []byte) bool {
			if len(k) < 16 {
				return true
			}
			if ts := readTs(k[len(k)-16:]); ts < limit {
				keys = append(keys, append([]byte(nil), k...))
			} else {
				oldest = min(oldest, ts)
			}
			return true
		})
		if err != nil {
			return err
		}
		op.oldest[side] = oldest
		for _, k := range keys {
			op.st.Delete(t, k)
			op.countBuffered(side, k[:len(k)-16], -1)
		}
	}
	return nil
}

// --- stream-table -----------------------------------------------------------------------------

// pushLookupTable materializes the table side; table updates produce no output.
func (op *joinOp) pushLookupTable(c *change) error {
	r := c.new
	if r == nil {
		r = c.old
	}
	_, kb, ok := op.keyOf(op.s.rightKey, r)
	if !ok {
		return nil
	}
	if c.new != nil {
		op.st.Put(op.tR, kb, op.encodeRow(c.new))
	} else {
		op.st.Delete(op.tR, kb)
	}
	return nil
}

// pushLookupStream joins a stream record with the table's current row; the output carries
// the stream record's timestamp. A LEFT join emits the NULL-padded row when nothing matches.
func (op *joinOp) pushLookupStream(c *change) error {
	r := c.new
	if r == nil {
		return nil
	}
	kv, kb, ok := op.keyOf(op.s.leftKey, r)
	if !ok {
		return nil
	}
	t, err := op.getRow(op.tR, kb)
	if err != nil {
		return err
	}
	if j := op.joined(r, t, kv, r.Ts); j != nil {
		return op.emit(&change{new: withTrigger(j, r)})
	}
	return nil
}

// --- table-table (primary key) ------------------------------------------------------------------

// pushTable applies a change of one table side and emits the join result's change, following
// Kafka Streams' KTable-KTable joins: nothing when neither the old nor the new result exists,
// else the new row (a delete when it no longer exists), timestamped max(this, other side).
func (op *joinOp) pushTable(side int, c *change) error {
	expr, own, other := op.s.leftKey, op.tL, op.tR
	if side == sideRight {
		expr, own, other = op.s.rightKey, op.tR, op.tL
	}
	r := c.new
	if r == nil {
		r = c.old
	}
	kv, kb, ok := op.keyOf(expr, r)
	if !ok {
		return nil
	}
	old, err := op.getRow(own, kb)
	if err != nil {
		return err
	}
	if c.new != nil {
		op.st.Put(own, kb, op.encodeRow(c.new))
	} else {
		if old == nil {
			return nil
		}
		op.st.Delete(own, kb)
	}
	o, err := op.getRow(other, kb)
	if err != nil {
		return err
	}
	ts := changeTs(c)
	if o != nil && o.Ts > ts {
		ts = o.Ts
	}
	var nj, oj *eval.Rec
	if side == sideLeft {
		nj, oj = op.joined(c.new, o, kv, ts), op.joined(old, o, kv, ts)
	} else {
		nj, oj = op.joined(o, c.new, kv, ts), op.joined(o, old, kv, ts)
	}
	return op.emit(&change{new: withTrigger(nj, r), old: oj})
}

// --- foreign key -----------------------------------------------------------------------------

// leftPK encodes the left table's primary key of a joined-layout row as the left topic does.
func (op *joinOp) leftPK(r *eval.Rec) ([]byte, error) {
	off := op.p.sources[0].offset
	return op.leftKeyCodec.Encode(r.Vals[off : off+op.leftNK])
}

func (op *joinOp) subKey(fk, pk []byte) []byte {
	return append(append([]byte(nil), fk...), pk...)
}

// pushFKLeft handles a left-table change of a foreign-key join, with Kafka Streams'
// subscription semantics: the left row subscribes to its foreign key; an insert emits only if
// the right row exists (INNER) or always (LEFT); an update emits the joined row or, without a
// right row, a delete (INNER) or NULL-padded row (LEFT); a delete always emits a delete; a LEFT
// join whose foreign key changed first emits the row unmatched. Rows with a NULL foreign key
// are skipped by INNER joins. Outputs carry the left record's timestamp.
func (op *joinOp) pushFKLeft(c *change) error {
	r := c.new
	if r == nil {
		r = c.old
	}
	if r == nil {
		return nil
	}
	pk, err := op.leftPK(r)
	if err != nil {
		return err
	}
	oldL, err := op.getRow(op.tL, pk)
	if err != nil {
		return err
	}
	newL := c.new
	if newL != nil {
		op.st.Put(op.tL, pk, op.encodeRow(newL))
	} else {
		if oldL == nil {
			return nil
		}
		op.st.Delete(op.tL, pk)
	}
	ts := changeTs(c)
	_, oldFK, oldOK := op.keyOf(op.s.leftKey, oldL)
	_, newFK, newOK := op.keyOf(op.s.leftKey, newL)
	var oldR *eval.Rec
	if oldOK {
		if oldR, err = op.getRow(op.tR, oldFK); err != nil {
			return err
		}
	}
	var newR *eval.Rec
	if newOK {
		if newR, err = op.getRow(op.tR, newFK); err != nil {
			return err
		}
	}
	left := op.s.typ == ast.LeftJoin
	var prev *eval.Rec
	if oldL != nil {
		prev = op.joined(oldL, oldR, nil, ts)
		if prev == nil {
			prev = op.combine(oldL, nil, nil, ts)
		}
	}
	if oldL != nil && !left && !oldOK {
		return nil
	}
	if newL == nil {
		if oldOK {
			op.st.Delete(op.tI, op.subKey(oldFK, pk))
		}
		return op.emit(&change{old: prev})
	}
	if !newOK && !left {
		return nil
	}
	if oldOK && (!newOK || !bytes.Equal(oldFK, newFK)) {
		op.st.Delete(op.tI, op.subKey(oldFK, pk))
		if left {
			unmatched := op.combine(newL, nil, nil, ts)
			if err := op.emit(&change{new: unmatched, old: prev}); err != nil {
				return err
			}
			prev = unmatched
		}
	}
	if newOK {
		op.st.Put(op.tI, op.subKey(newFK, pk), []byte{})
	}
	j := op.joined(newL, newR, nil, ts)
	if j == nil && oldL == nil {
		return nil // INNER insert without a match: nothing to show yet
	}
	if j == nil && prev == nil {
		prev = op.combine(newL, nil, nil, ts)
	}
	return op.emit(&change{new: withTrigger(j, r), old: prev})
}

// pushFKRight handles a right-table change: every subscribed left row is re-joined (in left
// key order) with the right record's timestamp; a right delete turns INNER results into
// deletes and LEFT results into NULL-padded rows.
func (op *joinOp) pushFKRight(c *change) error {
	r := c.new
	if r == nil {
		r = c.old
	}
	_, kb, ok := op.keyOf(op.s.rightKey, r)
	if !ok {
		return nil
	}
	oldR, err := op.getRow(op.tR, kb)
	if err != nil {
		return err
	}
	if c.new != nil {
		op.st.Put(op.tR, kb, op.encodeRow(c.new))
	} else {
		if oldR == nil {
			return nil
		}
		op.st.Delete(op.tR, kb)
	}
	ts := changeTs(c)
	var pks [][]byte
	if err := op.st.Scan(op.tI, kb, prefixEnd(kb), func(k, v []byte) bool {
		pks = append(pks, append([]byte(nil), k[len(kb):]...))
		return true
	}); err != nil {
		return err
	}
	for _, pk := range pks {
		l, err := op.getRow(op.tL, pk)
		if err != nil {
			return err
		}
		if l == nil {
			continue
		}
		nj, oj := withTrigger(op.joined(l, c.new, nil, ts), r), op.joined(l, oldR, nil, ts)
		if nj == nil && oj == nil {
			oj = op.combine(l, nil, nil, ts)
		}
		if err := op.emit(&change{new: nj, old: oj}); err != nil {
			return err
		}
	}
	return nil
}

// --- wiring -----------------------------------------------------------------------------------

// instantiateJoin builds the join steps over the pipeline's sources, ending in next, and
// returns the entry of every bound source.
func (p *queryPlan) instantiateJoin(pl *pipeline, next node) ([]func(*storage.Record) error, error) {
	return p.instantiateJoinSteps(pl, p.joinFrom, len(p.join.steps), next)
}

// instantiateJoinSteps builds steps lo…hi−1 of the join, the last feeding next, and returns
// the pipeline's entries. With lo = 0 they are one per source 0…hi. With lo > 0 the earlier
// steps ran in other tasks: the first entry takes the joined changes those tasks routed
// through a repartition topic (as joinedRepartNode writes them) to step lo's left side, and
// one entry per source lo+1…hi follows.
func (p *queryPlan) instantiateJoinSteps(pl *pipeline, lo, hi int, next node) ([]func(*storage.Record) error, error) {
	jp := p.join
	ops := make([]*joinOp, hi)
	for i := hi - 1; i >= lo; i-- {
		out := next
		if i+1 < hi {
			out = joinSide{op: ops[i+1], side: sideLeft}
		}
		op, err := newJoinOp(pl, p, i, out)
		if err != nil {
			return nil, err
		}
		ops[i] = op
	}
	var entries []func(*storage.Record) error
	firstSource := 0
	if lo > 0 {
		entries = append(entries, joinedChangesTo(pl, p.joinedTypes(), joinSide{op: ops[lo], side: sideLeft}))
		firstSource = lo + 1
	}
	for i := firstSource; i <= hi; i++ {
		bs := p.sources[i]
		var in node
		if i == 0 {
			in = joinSide{op: ops[0], side: sideLeft}
		} else {
			in = joinSide{op: ops[i-1], side: sideRight}
		}
		i, bs, in := i, bs, in
		widen := nodeFunc(func(c *change) error {
			return in.push(&change{new: jp.widen(bs, i, c.new), old: jp.widen(bs, i, c.old)})
		})
		entry, err := pl.sourceEntry(bs, i, widen)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry)
	}
	return entries, nil
}
