package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// An aggregation that groups by something other than the source's key runs in two stages, as
// ksqlDB's does through a repartition topic:
//
//  1. one writer task per source partition i decodes its records, applies WHERE, evaluates the
//     grouping key and appends the source record unchanged to partition i*N+j of the query's
//     repartition topic, where N is the sink's partition count and j the sink partition the
//     sink's partitioner picks for the group key;
//  2. one aggregation task per sink partition j reads partitions {i*N+j} of every writer and
//     writes partition j of the sink.
//
// Every partition of the repartition topic and of the sink thus has a single writer, so each
// task keeps the usual exactly-once scheme (output before commit, truncation to the committed
// marks on restart). Readers of the repartition topic read only what its writer has committed
// (Kafka's read_committed): a record the writer could still cut on recovery is never consumed.
// Where output cannot be cut (Kafka), a restarted writer writes its uncommitted records again;
// readers skip them by their source offset (repartSeen), so aggregates stay exactly once.

// repartitionable reports whether an aggregation runs behind a repartition stage: an
// aggregation not grouped by the source's key whose sink has several partitions. (With one
// sink partition there is one aggregation task anyway.) For a table source the writers send
// changes, as Kafka Streams' KTable group-by does: an update that moves a row to another group
// is a retraction for the old group's partition and an addition for the new one's.
func (p *queryPlan) repartitionable(sink *source) bool {
	if p.rekeyRepartitionable(sink) {
		return true
	}
	if p.join != nil {
		return p.joinRepartitionable(sink) || p.joinAggRepartitionable() || p.joinAggTwoStage() ||
			p.streamJoinRepartitionable(sink) || p.streamJoinAggTwoStage() || p.joinBroadcastRepartitionable(sink) ||
			p.stagedJoinRepartitionable(sink)
	}
	if p.agg == nil || p.partition != nil || len(p.sources) != 1 || p.groupsBySourceKey() {
		return false
	}
	src := p.sources[0].src
	return sink.Partitions > 1 && !src.windowed()
}

// joinRepartitionable reports whether a stream-table join runs behind a repartition stage of
// its stream: the stream is not partitioned like the table by the join key (it is keyed by
// something else, or has another partition count), so writers re-route each stream record to
// the table partition of its join key, as ksqlDB's Join-left-repartition topic does, and one
// join task per table partition meets them there. The result, keyed by the join key, stays in
// that partition, so the sink must be keyed like the table. A sink with another partition
// count than the table's gets one join task per sink partition instead, each reading every
// table partition and keeping the rows whose key the sink places in its partition.
//
// An n-way join of a stream with several tables is routed by its last step's key (the
// result's key), which must come from the stream itself; the tables of the earlier steps are
// read whole by every join task (their lookups may hit any key), and only the last table is
// split among them.
func (p *queryPlan) joinRepartitionable(sink *source) bool {
	if p.agg != nil || !p.streamTableRoutable() || p.joinPartitionParallel(sink) || len(sink.keyCols()) != 1 {
		return false
	}
	table := p.join.lastStep().right.src
	return sink.Partitions > 1 && sink.KeyFormat == table.KeyFormat && sink.keyCols()[0].Type.Equal(table.keyCols()[0].Type)
}

// streamTableRoutable reports whether a join's stream records can be routed to the table
// partition of their join key: stream-table steps over unwindowed inputs, the last (whose key
// the result carries) keyed by the table's primary key and joined on an expression of the
// stream alone.
func (p *queryPlan) streamTableRoutable() bool {
	if p.partition != nil || !p.streamTableJoin() {
		return false
	}
	last := p.join.lastStep()
	table := last.right.src
	return last.leftSrc == 0 && len(table.keyCols()) == 1 && last.keyType.Equal(table.keyCols()[0].Type)
}

// lastStep is the join's final step, whose key the result carries.
func (jp *joinPlan) lastStep() *joinStep { return jp.steps[len(jp.steps)-1] }

// createRepartTopic creates a repartition topic of n partitions, or checks the one a previous
// run created.
func (e *Engine) createRepartTopic(ctx context.Context, topic string, n int) error {
	if err := e.log.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: n}); err != nil && !errors.Is(err, storage.ErrTopicExists) {
		return err
	}
	ti, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return err
	}
	if len(ti.Partitions) != n {
		return fmt.Errorf("repartition topic %s has %d partitions, want %d", topic, len(ti.Partitions), n)
	}
	return nil
}

// repartitionTopic names a query's repartition topic after the query, like ksqlDB's
// _confluent-ksql-<service id>query_<query id>-...-repartition.
func (e *Engine) repartitionTopic(queryID string) string {
	return "_sluice_" + e.cfg.ServiceID + "query_" + queryID + "-repartition"
}

// repartHeader is the source partition (4 bytes) and offset (8 bytes) of the source record,
// before its value in a repartition record: ROWPARTITION and ROWOFFSET keep their source
// values.
const repartHeader = 12

// startRepartitioned starts the writer tasks, then the aggregation tasks, of a repartitioned
// aggregation (in that order: Quiesce drives tasks in order).
func (e *Engine) startRepartitioned(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	switch {
	case plan.streamJoinRepartitionable(sink):
		return e.startStreamJoinRepartitioned(ctx, qi, plan, sink)
	case plan.streamJoinAggTwoStage():
		return e.startStreamJoinAggTwoStage(ctx, qi, plan, sink)
	case plan.stagedJoinRepartitionable(sink):
		return e.startStagedJoin(ctx, qi, plan, sink, false)
	}
	src := plan.sources[0].src // the aggregation's source, or the join's stream
	info, err := e.log.DescribeTopic(ctx, src.Topic)
	if err != nil {
		return fmt.Errorf("source topic %s: %w", src.Topic, err)
	}
	nIn, nOut := len(info.Partitions), sink.Partitions
	if plan.rekeyRepartitionable(sink) || plan.joinBroadcastRepartitionable(sink) {
		return e.startRekeyRepartitioned(ctx, qi, plan, sink, nIn)
	}
	if plan.joinAggTwoStage() {
		return e.startJoinAggTwoStage(ctx, qi, plan, sink, nIn)
	}
	topic := e.repartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, nIn*nOut); err != nil {
		return err
	}
	joinAgg := plan.joinAggRepartitionable()
	start := e.startRepartWriter
	if joinAgg {
		start = e.startJoinWriter
	}
	writers, err := startWriters(qi, nIn, func(i int32) (*task, error) {
		return start(ctx, qi, plan, sink, topic, i, nOut)
	})
	if err != nil {
		return err
	}
	if plan.join != nil && !joinAgg {
		return startEach(qi, nOut, func(j int32) error {
			return e.startRepartJoin(ctx, qi, plan, sink, topic, j, writers)
		})
	}
	return e.startAggStage(ctx, qi, plan, sink, topic, writers)
}

// newSinkWriter makes the task that exclusively writes sink partition j, its pipeline built
// from plan (inputs still to add).
func (e *Engine) newSinkWriter(qi *queryInfo, plan *queryPlan, sink *source, j int32) (*task, map[string]int64, error) {
	t, committed, err := e.newTask(qi, plan, sink, true, j)
	if err != nil {
		return nil, nil, err
	}
	if t.pl, err = plan.instantiate(t.store, t.emit, t.recordError); err != nil {
		return nil, nil, err
	}
	return t, committed, nil
}

// keysOfPartition passes to entry only the records whose key the default partitioner places
// in partition j of n: a task's share of a table read whole.
func keysOfPartition(entry func(*storage.Record) error, n int, j int32) func(*storage.Record) error {
	return func(rec *storage.Record) error {
		if rec.Key == nil || storage.PartitionFor(rec.Key, n) != j {
			return nil
		}
		return entry(rec)
	}
}

// startEach starts n tasks of a query with start(0), start(1), …, and stops the query's tasks
// if one fails.
func startEach(qi *queryInfo, n int, start func(j int32) error) error {
	for j := 0; j < n; j++ {
		if err := start(int32(j)); err != nil {
			stopAll(qi)
			return err
		}
	}
	return nil
}

// startWriters starts n writers of a repartition topic with start, in order, and stops the
// query's tasks if one fails.
func startWriters(qi *queryInfo, n int, start func(i int32) (*task, error)) ([]*repartWriter, error) {
	writers := make([]*repartWriter, n)
	for i := range writers {
		t, err := start(int32(i))
		if err != nil {
			stopAll(qi)
			return nil, err
		}
		writers[i] = t.repart
	}
	return writers, nil
}

// startAggStage starts one aggregation task per sink partition over what writers routed to
// topic. WHERE ran in the writers, so the tasks leave it out.
func (e *Engine) startAggStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, writers []*repartWriter) error {
	ap := *plan
	ap.where = nil
	return startEach(qi, sink.Partitions, func(j int32) error {
		return e.startRepartAgg(ctx, qi, &ap, sink, topic, j, writers)
	})
}

// startRepartWriter starts the writer task of source partition i: it routes each record of
// the aggregation's (or the join's stream's) partition i to its partition of the topic.
func (e *Engine) startRepartWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, i int32, nOut int) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, fmt.Sprintf("%s-r%d", qi.ID, i))
	if err != nil {
		return nil, err
	}
	lo := t.makeWriter(topic, i, nOut)
	out := &repartOut{t: t}
	var next node
	if plan.join != nil {
		if next, err = joinRoute(plan, out, lo, lo+i%int32(nOut), nOut); err != nil {
			return nil, err
		}
	} else {
		kc, _, err := sink.codecs()
		if err != nil {
			return nil, err
		}
		rn := &repartNode{out: out, groups: plan.agg.groups, kc: kc, base: lo, n: nOut, group: make([]any, len(plan.agg.groups))}
		next = rn
		if plan.tableSource {
			_, vc, err := plan.sources[0].src.codecs()
			if err != nil {
				return nil, err
			}
			next = &repartChangeNode{rn: rn, vc: vc, valPos: valuePositions(plan.sources[0].src.Schema)}
		}
		if plan.where != nil {
			next = &filterNode{cond: plan.where, next: next, table: plan.tableSource}
		}
	}
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	inner, err := pl.sourceEntry(plan.sources[0], 0, next)
	if err != nil {
		return nil, err
	}
	pl.entry = []func(*storage.Record) error{func(rec *storage.Record) error {
		out.cur = rec
		return inner(rec)
	}}
	t.pl = pl
	if err := e.addSourceInputs(ctx, t, plan.sources[0].src.Topic, i, pl.entry[0], committed, plan); err != nil {
		return nil, err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// startRepartAgg starts the aggregation task of sink partition j over the records every
// writer routed to it.
func (e *Engine) startRepartAgg(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, j int32, writers []*repartWriter) error {
	t, committed, err := e.newSinkWriter(qi, plan, sink, j)
	if err != nil {
		return err
	}
	pl := t.pl
	pl.agg.shards = sink.Partitions
	var changes *repartChangeReader
	switch {
	case plan.join != nil:
		// Joined changes from join writers (repartition_join.go).
		pl.entry = []func(*storage.Record) error{joinedChanges(pl, plan.joinedTypes())}
	case plan.tableSource:
		// Records are table changes (repartChangeNode): decode them as rows, without
		// materializing the table again, and hand them to the aggregation as retractions
		// and additions.
		bs := *plan.sources[0]
		asRows := *bs.src
		asRows.Kind, asRows.keyCodec, asRows.valCodec = ast.Stream, nil, nil
		bs.src = &asRows
		changes = &repartChangeReader{agg: pl.agg}
		if pl.entry[0], err = pl.sourceEntry(&bs, 0, changes); err != nil {
			return err
		}
	}
	if err := t.ownCache(); err != nil {
		return err
	}
	var entry = pl.entry[0]
	if changes != nil {
		entry = changes.entry(pl.entry[0])
	}
	if err := e.repartInputs(ctx, t, committed, topic, j, int32(sink.Partitions), writers, entry); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}

// joinRoute is the end of a join writer's pipeline: it routes each stream record to the table
// partition of its join key (a NULL key, which joins nothing, to nullTo so that a LEFT JOIN
// still emits it).
func joinRoute(plan *queryPlan, out *repartOut, base, nullTo int32, nOut int) (node, error) {
	st := plan.join.lastStep()
	stream, table := plan.sources[0], st.right.src
	kc, _, err := table.codecs()
	if err != nil {
		return nil, err
	}
	return &joinRouteNode{out: out, kc: kc, base: base, n: nOut, nullTo: nullTo, key: func(r *eval.Rec) (any, error) {
		return st.leftKey.Eval(plan.join.widen(stream, 0, r))
	}}, nil
}

// joinRouteNode ends a join writer's pipeline: it appends the current stream record to the
// partition of its join key.
type joinRouteNode struct {
	out    *repartOut
	kc     serde.Codec // the table's key codec: the table's partitioner placed its rows
	base   int32
	n      int
	nullTo int32
	key    func(*eval.Rec) (any, error)
}

func (n *joinRouteNode) push(c *change) error {
	if c.new == nil || n.out.cur == nil {
		return nil
	}
	part := n.nullTo
	if v, err := n.key(c.new); err == nil && v != nil {
		kb, err := n.kc.Encode([]any{v})
		if err != nil {
			return err
		}
		part = n.base + storage.PartitionFor(kb, n.n)
	}
	n.out.source(part)
	return nil
}

// startRepartJoin starts the join task of sink partition j: it reads the table rows the sink
// places in partition j (the table's partition j when they have as many partitions) and the
// stream records every writer routed to it.
func (e *Engine) startRepartJoin(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, j int32, writers []*repartWriter) error {
	t, committed, err := e.newSinkWriter(qi, plan, sink, j)
	if err != nil {
		return err
	}
	pl := t.pl
	last := plan.join.lastStep()
	for i := 1; i < len(plan.sources); i++ {
		table := plan.sources[i].src
		tableEntry, tablePart := pl.entry[i], j
		switch {
		case i != last.rightIdx:
			tablePart = -1 // an earlier step's table: read whole
		case table.Partitions != sink.Partitions:
			// The sink's partitioner, not the table's, decides which task joins a key (the
			// key bytes are the same: joinRepartitionable checks the format and type).
			tablePart, tableEntry = -1, keysOfPartition(pl.entry[i], sink.Partitions, j)
		}
		if err := e.addSourceInputs(ctx, t, table.Topic, tablePart, tableEntry, committed, plan); err != nil {
			return err
		}
	}
	if err := e.repartInputs(ctx, t, committed, topic, j, int32(sink.Partitions), writers, pl.entry[0]); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}

// repartInputs adds to t the partitions {i*nOut+j} of the repartition topic, one per writer,
// each read up to its writer's committed mark and unwrapped into the source record for entry;
// the last source offset seen from each writer is committed with the task.
func (e *Engine) repartInputs(ctx context.Context, t *task, committed map[string]int64, topic string, j, nOut int32, writers []*repartWriter, entry func(*storage.Record) error) error {
	return e.repartInputsFrom(ctx, t, committed, topic, j, nOut, 0, writers, entry)
}

// repartInputsFrom is repartInputs for the writers numbered first, first+1, ... (a topic fed
// by the writers of several sources); each call adds its positions to the task's commits.
func (e *Engine) repartInputsFrom(ctx context.Context, t *task, committed map[string]int64, topic string, j, nOut int32, first int, writers []*repartWriter, entry func(*storage.Record) error) error {
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return err
	}
	var seen []*repartSeen
	for i, w := range writers {
		p := int32(first+i)*nOut + j
		w := w
		in := &taskInput{topic: topic, partition: p, limit: func() int64 { return w.mark(p) }, wake: w.wake}
		rs := &repartSeen{key: "src:" + in.id(), last: -1}
		if v, ok := committed[rs.key]; ok {
			rs.last = v
		}
		seen = append(seen, rs)
		in.entry = rs.entry(topic, entry)
		if off, ok := committed[in.id()]; ok {
			in.offset = off
		} else if at, ok := w.freshStart(p); ok {
			// Reader and writer both start afresh: a new query, or a server rebuilding its
			// queries on a new data dir over Kafka topics that outlived the old one. The
			// writer writes everything again from there, so what lies before it is the old
			// run's, and partly deleted already (purgeRepartInputs): read from the start,
			// its records would make repartSeen skip the rewrites of the deleted ones.
			in.offset = at
		} else {
			// The topic holds only this query's records: all of them are to be read.
			in.offset = info.Partitions[p].StartOffset
		}
		t.inputs = append(t.inputs, in)
	}
	prev := t.commitExtra
	t.commitExtra = func(offs map[string]int64) {
		if prev != nil {
			prev(offs)
		}
		for _, rs := range seen {
			offs[rs.key] = rs.last
		}
	}
	return nil
}

// repartSeen is the last source offset an aggregation task consumed from one writer. A
// writer's records carry increasing source offsets, so one at or below it is a record the
// writer wrote again after a crash because it could not cut its uncommitted output (Kafka
// cannot truncate): skipping it keeps the aggregate exactly once. It is committed with the
// task's state.
type repartSeen struct {
	key  string
	last int64
}

// entry unwraps a repartition record into its source record for inner.
func (rs *repartSeen) entry(topic string, inner func(*storage.Record) error) func(*storage.Record) error {
	return func(rec *storage.Record) error {
		if len(rec.Value) < repartHeader {
			return fmt.Errorf("corrupt repartition record at %s/%d@%d", topic, rec.Partition, rec.Offset)
		}
		r := *rec
		r.Partition = int32(binary.BigEndian.Uint32(rec.Value))
		r.Offset = int64(binary.BigEndian.Uint64(rec.Value[4:]))
		r.Value = rec.Value[repartHeader:]
		if r.Offset <= rs.last {
			return nil
		}
		rs.last = r.Offset
		return inner(&r)
	}
}

// makeWriter turns t into writer number w of a repartition topic: the single writer of its
// partitions w*n…w*n+n−1, which readers consume up to its committed marks. It returns the
// first of them.
func (t *task) makeWriter(topic string, w int32, n int) int32 {
	lo, hi := w*int32(n), (w+1)*int32(n)
	t.outTopic = topic
	t.owns = func(p int32) bool { return p >= lo && p < hi }
	t.repart = &repartWriter{marks: map[int32]int64{}, woken: make(chan struct{})}
	t.mat, t.pullFromAgg = false, false
	return lo
}

// repartOut appends a writer's records to the repartition topic: the current source record,
// or a table change, each behind the source record's partition and offset (repartHeader).
type repartOut struct {
	t   *task
	cur *storage.Record
}

func (o *repartOut) header(size int) []byte {
	val := make([]byte, repartHeader, repartHeader+size)
	binary.BigEndian.PutUint32(val, uint32(o.cur.Partition))
	binary.BigEndian.PutUint64(val[4:], uint64(o.cur.Offset))
	return val
}

// source appends the current source record, unchanged, to partition p.
func (o *repartOut) source(p int32) {
	cur := o.cur
	val := append(o.header(len(cur.Value)), cur.Value...)
	o.t.out = append(o.t.out, storage.Record{Key: cur.Key, Value: val, Timestamp: cur.Timestamp, Headers: cur.Headers, Partition: p})
}

// repartNode ends a writer's pipeline: it routes the current source record to the partition
// of its group.
type repartNode struct {
	out    *repartOut
	groups []*eval.Expr
	kc     serde.Codec // the sink's key codec: the sink's partitioner decides
	base   int32       // the writer's first partition
	n      int         // sink partitions
	group  []any
}

func (n *repartNode) push(c *change) error {
	if c.new == nil || n.out.cur == nil {
		return nil
	}
	p, ok, err := n.partitionOf(c.new)
	if err != nil || !ok {
		// The aggregation skips rows with a NULL (or failing) grouping expression.
		return err
	}
	n.out.source(p)
	return nil
}

// partitionOf is the partition of r's group; false for a NULL (or failing) group.
func (n *repartNode) partitionOf(r *eval.Rec) (int32, bool, error) {
	for i, x := range n.groups {
		v, err := x.Eval(r)
		if err != nil || v == nil {
			return 0, false, nil
		}
		n.group[i] = v
	}
	kb, err := n.kc.Encode(n.group)
	if err != nil {
		return 0, false, err
	}
	return n.base + storage.PartitionFor(kb, n.n), true, nil
}

// A table change in a repartition record: after the header, a flag byte (changeOld and/or
// changeNew), then with changeOld the old row's value length (4 bytes) and value, then with
// changeNew the new row's value. Values are encoded with the source's value format.
const (
	changeOld = 1
	changeNew = 2
)

// repartChangeNode routes a table source's change to the aggregation partitions of its groups:
// one record when the old and new rows share a partition, a retraction and an addition when
// the row moves.
//
// A change carries the value columns of its rows; header columns come back from the record's
// headers, which the change keeps, as they do for the old row of an update in one task.
type repartChangeNode struct {
	rn     *repartNode
	vc     serde.Codec
	valPos []int // the schema positions of the value columns
	vals   []any
}

func (n *repartChangeNode) push(c *change) error {
	if n.rn.out.cur == nil {
		return nil
	}
	oldP, oldOK := n.partitionOf(c.old)
	newP, newOK := n.partitionOf(c.new)
	switch {
	case oldOK && newOK && oldP == newP:
		return n.send(oldP, c.old, c.new)
	default:
		if oldOK {
			if err := n.send(oldP, c.old, nil); err != nil {
				return err
			}
		}
		if newOK {
			return n.send(newP, nil, c.new)
		}
	}
	return nil
}

// partitionOf is the aggregation partition of r's group; false for no row or a NULL group.
func (n *repartChangeNode) partitionOf(r *eval.Rec) (int32, bool) {
	if r == nil {
		return 0, false
	}
	p, ok, err := n.rn.partitionOf(r)
	return p, ok && err == nil
}

func (n *repartChangeNode) send(p int32, old, new *eval.Rec) error {
	out := n.rn.out
	val := append(out.header(64), 0)
	if old != nil {
		b, err := n.vc.Encode(n.values(old))
		if err != nil {
			return err
		}
		val[repartHeader] |= changeOld
		val = binary.BigEndian.AppendUint32(val, uint32(len(b)))
		val = append(val, b...)
	}
	if new != nil {
		b, err := n.vc.Encode(n.values(new))
		if err != nil {
			return err
		}
		val[repartHeader] |= changeNew
		val = append(val, b...)
	}
	out.t.out = append(out.t.out, storage.Record{Key: out.cur.Key, Value: val, Timestamp: out.cur.Timestamp, Headers: out.cur.Headers, Partition: p})
	return nil
}

// values gathers r's value columns (the codec encodes them alone).
func (n *repartChangeNode) values(r *eval.Rec) []any {
	n.vals = n.vals[:0]
	for _, pos := range n.valPos {
		n.vals = append(n.vals, r.Vals[pos])
	}
	return n.vals
}

// valuePositions are the schema positions of s's value columns, which header columns may
// interleave.
func valuePositions(s *types.Schema) []int {
	var pos []int
	for i, c := range s.Columns {
		if c.Namespace == types.ValueColumn {
			pos = append(pos, i)
		}
	}
	return pos
}

// repartChangeReader turns the rows decoded from a table change back into one change for the
// aggregation: the old row, the new row, or both.
type repartChangeReader struct {
	agg  *aggNode
	mode byte // what the row being decoded is: changeOld or changeNew
	old  *eval.Rec
}

// entry splits a change record (its repartition header already removed) into the old and new
// rows' values and decodes each with decodeRow, which pushes the row to push below.
func (cr *repartChangeReader) entry(decodeRow func(*storage.Record) error) func(*storage.Record) error {
	return func(rec *storage.Record) error {
		if len(rec.Value) < 1 {
			return fmt.Errorf("corrupt table change at %d", rec.Offset)
		}
		flag, body := rec.Value[0], rec.Value[1:]
		cr.old = nil
		if flag&changeOld != 0 {
			if len(body) < 4 || int(binary.BigEndian.Uint32(body)) > len(body)-4 {
				return fmt.Errorf("corrupt table change at %d", rec.Offset)
			}
			n := binary.BigEndian.Uint32(body)
			r := *rec
			r.Value = body[4 : 4+n]
			cr.mode = changeOld
			if err := decodeRow(&r); err != nil {
				return err
			}
			body = body[4+n:]
		}
		if flag&changeNew != 0 {
			r := *rec
			r.Value = body
			cr.mode = changeNew
			return decodeRow(&r)
		}
		if cr.old != nil {
			old := cr.old
			cr.old = nil
			return cr.agg.push(&change{old: old})
		}
		return nil
	}
}

func (cr *repartChangeReader) push(c *change) error {
	if cr.mode == changeOld {
		cr.old = c.new
		return nil
	}
	old := cr.old
	cr.old = nil
	return cr.agg.push(&change{old: old, new: c.new})
}

// repartWriter publishes a writer task's committed high-water marks to the tasks that read
// its partitions of the repartition topic.
type repartWriter struct {
	mu    sync.Mutex
	marks map[int32]int64
	woken chan struct{} // closed and replaced at every publish
	// fresh holds, for each partition the writer started without a committed mark, where
	// its writing began (the partition's end then).
	fresh map[int32]int64
}

// startedAfresh notes that the writer starts partition p with nothing committed, at end.
func (w *repartWriter) startedAfresh(p int32, end int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fresh == nil {
		w.fresh = map[int32]int64{}
	}
	w.fresh[p] = end
}

// freshStart returns where the writer began partition p when it started with nothing
// committed there.
func (w *repartWriter) freshStart(p int32) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.fresh[p]
	return at, ok
}

func (w *repartWriter) publish(hwm map[int32]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, h := range hwm {
		w.marks[p] = h
	}
	close(w.woken)
	w.woken = make(chan struct{})
}

func (w *repartWriter) mark(p int32) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.marks[p]
}

func (w *repartWriter) wake() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.woken
}

// dropQueryTopics deletes the repartition topics of a query being dropped, with its state.
func (e *Engine) dropQueryTopics(ctx context.Context, q *queryInfo) {
	if q == nil {
		return
	}
	done := map[string]bool{}
	for _, t := range q.allTasks() {
		if t.repart != nil && !done[t.outTopic] {
			done[t.outTopic] = true
			_ = e.log.DeleteTopic(ctx, t.outTopic)
		}
	}
}
