package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
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

// repartitionable reports whether an aggregation runs behind a repartition stage: a stream
// aggregation not grouped by the source's key whose sink has several partitions. (With one
// sink partition there is one aggregation task anyway.) Table sources, whose updates retract
// from one group and add to another, run as one task.
func (p *queryPlan) repartitionable(sink *source) bool {
	if p.agg == nil || p.join != nil || p.partition != nil || p.tableSource || len(p.sources) != 1 || p.groupsBySourceKey() {
		return false
	}
	return sink.Partitions > 1 && !p.sources[0].src.windowed()
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
	src := plan.sources[0].src
	info, err := e.log.DescribeTopic(ctx, src.Topic)
	if err != nil {
		return fmt.Errorf("source topic %s: %w", src.Topic, err)
	}
	nIn, nOut := len(info.Partitions), sink.Partitions
	topic := e.repartitionTopic(qi.ID)
	if err := e.log.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: nIn * nOut}); err != nil && !errors.Is(err, storage.ErrTopicExists) {
		return err
	}
	if ti, err := e.log.DescribeTopic(ctx, topic); err != nil {
		return err
	} else if len(ti.Partitions) != nIn*nOut {
		return fmt.Errorf("repartition topic %s has %d partitions, want %d", topic, len(ti.Partitions), nIn*nOut)
	}
	writers := make([]*repartWriter, nIn)
	for i := range writers {
		t, err := e.startRepartWriter(ctx, qi, plan, sink, topic, int32(i), nOut)
		if err != nil {
			stopAll(qi)
			return err
		}
		writers[i] = t.repart
	}
	// WHERE ran in the writers.
	ap := *plan
	ap.where = nil
	for j := 0; j < nOut; j++ {
		if err := e.startRepartAgg(ctx, qi, &ap, sink, topic, int32(j), writers); err != nil {
			stopAll(qi)
			return err
		}
	}
	return nil
}

// startRepartWriter starts the writer task of source partition i.
func (e *Engine) startRepartWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, i int32, nOut int) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, fmt.Sprintf("%s-r%d", qi.ID, i))
	if err != nil {
		return nil, err
	}
	lo, hi := i*int32(nOut), (i+1)*int32(nOut)
	t.outTopic = topic
	t.owns = func(p int32) bool { return p >= lo && p < hi }
	t.repart = &repartWriter{marks: map[int32]int64{}, woken: make(chan struct{})}
	t.mat, t.pullFromAgg = false, false
	kc, _, err := sink.codecs()
	if err != nil {
		return nil, err
	}
	rn := &repartNode{t: t, groups: plan.agg.groups, kc: kc, base: lo, n: nOut, group: make([]any, len(plan.agg.groups))}
	var next node = rn
	if plan.where != nil {
		next = &filterNode{cond: plan.where, next: next}
	}
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	inner, err := pl.sourceEntry(plan.sources[0], 0, next)
	if err != nil {
		return nil, err
	}
	pl.entry = []func(*storage.Record) error{func(rec *storage.Record) error {
		rn.cur = rec
		return inner(rec)
	}}
	t.pl = pl
	src := plan.sources[0].src
	info, err := e.log.DescribeTopic(ctx, src.Topic)
	if err != nil {
		return nil, fmt.Errorf("source topic %s: %w", src.Topic, err)
	}
	for _, p := range info.Partitions {
		if p.Partition != i {
			continue
		}
		in := &taskInput{topic: src.Topic, partition: p.Partition, entry: pl.entry[0]}
		e.resumeAt(in, p, committed, plan)
		t.inputs = append(t.inputs, in)
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
	t, committed, err := e.newTask(qi, plan, sink, true, j)
	if err != nil {
		return err
	}
	pl, err := plan.instantiate(t.store, t.emit, t.recordError)
	if err != nil {
		return err
	}
	t.pl = pl
	pl.agg.shards = sink.Partitions
	t.ownCache()
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return err
	}
	nOut := int32(sink.Partitions)
	var seen []*repartSeen
	for i, w := range writers {
		p := int32(i)*nOut + j
		w := w
		in := &taskInput{topic: topic, partition: p, limit: func() int64 { return w.mark(p) }, wake: w.wake}
		rs := &repartSeen{key: "src:" + in.id(), last: -1}
		if v, ok := committed[rs.key]; ok {
			rs.last = v
		}
		seen = append(seen, rs)
		in.entry = rs.entry(topic, pl.entry[0])
		if off, ok := committed[in.id()]; ok {
			in.offset = off
		} else {
			// The topic holds only this query's records: all of them are to be read.
			in.offset = info.Partitions[p].StartOffset
		}
		t.inputs = append(t.inputs, in)
	}
	t.commitExtra = func(offs map[string]int64) {
		for _, rs := range seen {
			offs[rs.key] = rs.last
		}
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
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

// repartNode ends a writer's pipeline: it routes the current source record to the partition
// of its group.
type repartNode struct {
	t      *task
	groups []*eval.Expr
	kc     serde.Codec // the sink's key codec: the sink's partitioner decides
	base   int32       // the writer's first partition
	n      int         // sink partitions
	cur    *storage.Record
	group  []any
}

func (n *repartNode) push(c *change) error {
	r := c.new
	if r == nil || n.cur == nil {
		return nil
	}
	for i, x := range n.groups {
		v, err := x.Eval(r)
		if err != nil || v == nil {
			// The aggregation skips rows with a NULL (or failing) grouping expression.
			return nil
		}
		n.group[i] = v
	}
	kb, err := n.kc.Encode(n.group)
	if err != nil {
		return err
	}
	cur := n.cur
	val := make([]byte, repartHeader, repartHeader+len(cur.Value))
	binary.BigEndian.PutUint32(val, uint32(cur.Partition))
	binary.BigEndian.PutUint64(val[4:], uint64(cur.Offset))
	val = append(val, cur.Value...)
	n.t.out = append(n.t.out, storage.Record{Key: cur.Key, Value: val, Timestamp: cur.Timestamp, Headers: cur.Headers,
		Partition: n.base + storage.PartitionFor(kb, n.n)})
	return nil
}

// repartWriter publishes a writer task's committed high-water marks to the tasks that read
// its partitions of the repartition topic.
type repartWriter struct {
	mu    sync.Mutex
	marks map[int32]int64
	woken chan struct{} // closed and replaced at every publish
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
