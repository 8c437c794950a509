package engine

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/storage"
)

// PARTITION BY over a partitioned stream. Re-keyed rows of every source partition may land in
// any sink partition, but each sink partition must keep a single writer (exactly-once recovery
// cuts a partition back to its writer's committed mark). So the work runs in the writers, one
// per source partition: decode, filter, project, re-key and encode each row for the sink, then
// append the encoded record to partition i*N+j of the query's repartition topic (N sink
// partitions, j the sink partition the sink's partitioner picks). One copier per sink
// partition j then appends what every writer committed for j to the sink, as it is.
//
// A record in the repartition topic: the header (writer index and the writer's sequence
// number: one source row may give several results, so source offsets cannot order them), a
// flag byte (1: a value follows; 0: a tombstone), then the value. Key, timestamp and headers
// are the record's own.

// rekeyRepartitionable reports whether a PARTITION BY query runs as writers and copiers (see
// also joinBroadcastRepartitionable and insertRepartitionable).
func (p *queryPlan) rekeyRepartitionable(sink *source) bool {
	return p.partition != nil && p.agg == nil && p.join == nil && len(p.sources) == 1 && !p.tableSource &&
		p.sources[0].src.Partitions > 1 && sink.Partitions > 1
}

// joinBroadcastRepartitionable reports whether a stream-table join runs as writers and
// copiers, with every table read whole by every writer (as Kafka Streams' global tables are):
// the joins whose stream records cannot be routed to their last table's partition, because
// the last join key comes from an earlier table (orders JOIN customers c ON o.cid = c.id JOIN
// regions r ON c.rid = r.id) or the result is re-keyed by PARTITION BY. Each writer joins its
// stream partition's records and routes the results by their key, as a re-keying writer does;
// the cost is a copy of the tables per writer.
func (p *queryPlan) joinBroadcastRepartitionable(sink *source) bool {
	if p.agg != nil || p.joinPartitionParallel(sink) || p.joinRepartitionable(sink) {
		return false
	}
	return p.streamTableJoin() && p.sources[0].src.Partitions > 1
}

// streamTableJoin reports whether a join is of an unwindowed stream with tables only, so
// that a writer reading the tables whole can join any of its stream records.
func (p *queryPlan) streamTableJoin() bool {
	if p.join == nil || len(p.sources) < 2 {
		return false
	}
	if stream := p.sources[0].src; stream.Kind != ast.Stream || stream.windowed() {
		return false
	}
	for _, st := range p.join.steps {
		if st.kind != joinST || st.right.src.windowed() {
			return false
		}
	}
	return true
}

// insertRepartitionable reports whether an INSERT INTO query runs as writers and copiers: a
// stream whose rows cannot stay in their source partition, or any join of a stream with
// tables (read whole by each writer) or of co-partitioned sources (each writer reads its
// partition of them); no aggregation. Its copiers append through the owner of their sink
// partition, which commits their positions with the rows: exactly once, where one task over
// every partition, appending through several owners, would be at-least-once. A join's state
// stays in the writers, which commit it with their own positions: a task that kept join state
// itself while an owner committed its positions would lose the state a crash cut.
func (p *queryPlan) insertRepartitionable(sink *source) bool {
	if p.agg != nil || p.tableSource {
		return false
	}
	if p.join != nil {
		return p.streamTableJoin() || p.joinCoPartitioned()
	}
	return len(p.sources) == 1 && (p.sources[0].src.Partitions > 1 || sink.Partitions > 1)
}

// singlePartitionSources reports whether every source has one partition.
func (p *queryPlan) singlePartitionSources() bool {
	for _, bs := range p.sources {
		if bs.src.Partitions != 1 {
			return false
		}
	}
	return true
}

// rekeySeqKey is the commit position under which a writer keeps its next sequence number.
const rekeySeqKey = "seq:rekey"

// startRekeyRepartitioned starts the writers, then the copiers.
func (e *Engine) startRekeyRepartitioned(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, nIn int) error {
	return e.startWritersAndCopiers(ctx, qi, plan, sink, nIn, true)
}

// startInsertRepartitioned starts an INSERT INTO query as writers and copiers: the copiers
// do not own the sink (exclusive false), so they append through its owners.
func (e *Engine) startInsertRepartitioned(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	return e.startWritersAndCopiers(ctx, qi, plan, sink, plan.sources[0].src.Partitions, false)
}

func (e *Engine) startWritersAndCopiers(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, nIn int, exclusive bool) error {
	nOut := sink.Partitions
	topic := e.repartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, nIn*nOut); err != nil {
		return err
	}
	writers, err := startWriters(qi, nIn, func(i int32) (*task, error) {
		return e.startRekeyWriter(ctx, qi, plan, sink, topic, i, nOut)
	})
	if err != nil {
		return err
	}
	return e.startCopiers(ctx, qi, plan, sink, topic, writers, exclusive)
}

// startRekeyWriter starts the writer of source partition i.
func (e *Engine) startRekeyWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, i int32, nOut int) (*task, error) {
	t, committed, err := e.newRekeyWriter(qi, plan, sink, topic, i, nOut, fmt.Sprintf("%s-r%d", qi.ID, i))
	if err != nil {
		return nil, err
	}
	if err := e.addSourceInputs(ctx, t, plan.sources[0].src.Topic, i, t.pl.entry[0], committed, plan); err != nil {
		return nil, err
	}
	// A join's other sources: partition i of those partitioned like the stream by the join
	// key, the others (and foreign-key steps' tables) whole.
	coPartitioned, broadcast := plan.joinCoPartitioned(), plan.broadcastSources()
	for k := 1; k < len(plan.sources); k++ {
		part := int32(-1)
		if coPartitioned && !broadcast[k] {
			part = i
		}
		if err := e.addSourceInputs(ctx, t, plan.sources[k].src.Topic, part, t.pl.entry[k], committed, plan); err != nil {
			return nil, err
		}
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// newRekeyWriter makes writer number w of topic, with its store storeID and its pipeline
// (inputs still to add): every result is encoded for the sink and appended, numbered, to
// partition w*nOut+j of topic, j the sink partition the sink's partitioner picks.
func (e *Engine) newRekeyWriter(qi *queryInfo, plan *queryPlan, sink *source, topic string, w int32, nOut int, storeID string) (*task, map[string]int64, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, storeID)
	if err != nil {
		return nil, nil, err
	}
	lo := t.makeWriter(topic, w, nOut)
	seq := committed[rekeySeqKey]
	t.commitExtra = func(offs map[string]int64) { offs[rekeySeqKey] = seq }
	emit := func(o *outRec) error {
		n := len(t.out)
		if err := t.emit(o); err != nil || len(t.out) == n {
			return err
		}
		// t.emit encoded the record for the sink; wrap it for partition lo+j of the topic.
		rec := &t.out[n]
		val := make([]byte, repartHeader+1, repartHeader+1+len(rec.Value))
		binary.BigEndian.PutUint32(val, uint32(w))
		binary.BigEndian.PutUint64(val[4:], uint64(seq))
		seq++
		if rec.Value != nil {
			val[repartHeader] = 1
			val = append(val, rec.Value...)
		}
		rec.Value = val
		rec.Partition = lo + rec.Partition
		return nil
	}
	pl, err := plan.instantiate(t.store, emit, t.recordError)
	if err != nil {
		return nil, nil, err
	}
	t.pl = pl
	return t, committed, nil
}

// insertStreamJoinRepartitionable reports whether an INSERT INTO query of a stream-stream
// join not partitioned by its key runs in three stages: side writers route every stream by
// the join key (streamJoinOneKey) to join tasks, which keep the join's state and write their
// results, encoded for the target, to a second topic as writers; copiers append those through
// the target's owners, as for the other INSERT INTO layouts.
func (p *queryPlan) insertStreamJoinRepartitionable() bool {
	return p.agg == nil && !p.joinCoPartitioned() && p.streamJoinOneKey()
}

// startStreamJoinInsert starts the side writers, the join writers, then the copiers.
func (e *Engine) startStreamJoinInsert(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	second, joiners, err := e.startStreamJoinWriters(ctx, qi, plan, sink, e.startStreamJoinRekeyWriter)
	if err != nil {
		return err
	}
	return e.startCopiers(ctx, qi, plan, sink, second, joiners, false)
}

// startStreamJoinRekeyWriter starts join task j of a stream-stream INSERT INTO: it joins what
// every side's writers routed to it and writes each result, encoded for the target, to the
// second topic's partition of its target partition.
func (e *Engine) startStreamJoinRekeyWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, first, second string, j int32, writers []*repartWriter, counts []int) (*task, error) {
	t, committed, err := e.newRekeyWriter(qi, plan, sink, second, j, sink.Partitions, fmt.Sprintf("%s-j%d", qi.ID, j))
	if err != nil {
		return nil, err
	}
	if err := e.streamJoinInputs(ctx, t, committed, first, j, writers, counts); err != nil {
		return nil, err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// startCopiers starts one copier per sink partition (startCopier).
func (e *Engine) startCopiers(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, writers []*repartWriter, exclusive bool) error {
	return startEach(qi, sink.Partitions, func(j int32) error {
		return e.startCopier(ctx, qi, plan, sink, topic, j, writers, exclusive)
	})
}

// startCopier starts the task that appends to sink partition j what the writers routed to it:
// as the partition's only writer (exclusive), or through its owner.
func (e *Engine) startCopier(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, j int32, writers []*repartWriter, exclusive bool) error {
	t, committed, err := e.newTask(qi, plan, sink, exclusive, j)
	if err != nil {
		return err
	}
	if !exclusive {
		e.insertOffsetsFromOwner(t, committed)
		t.positionsInOwner = true // a copier keeps no state
	}
	t.pl = &pipeline{plan: plan, st: t.store, errs: t.recordError}
	copyRecord := func(rec *storage.Record) error {
		if len(rec.Value) < 1 {
			return fmt.Errorf("corrupt re-keyed record at %d", rec.Offset)
		}
		out := storage.Record{Key: rec.Key, Timestamp: rec.Timestamp, Headers: rec.Headers, Partition: j}
		if rec.Value[0] == 1 {
			out.Value = rec.Value[1:]
		}
		if rec.Timestamp > t.pl.streamTime {
			t.pl.streamTime = rec.Timestamp
		}
		t.out = append(t.out, out)
		return nil
	}
	if err := e.repartInputs(ctx, t, committed, topic, j, int32(sink.Partitions), writers, copyRecord); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}
