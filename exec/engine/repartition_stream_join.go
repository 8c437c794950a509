package engine

import (
	"context"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Stream-stream joins of streams not partitioned by the join key. Every stream goes through
// the query's repartition topic, as ksqlDB's left and right repartition topics do: one writer
// per partition of each stream (the first stream's writers first, then the next stream's)
// routes each record to the sink partition of its join key, and one join task per sink
// partition joins what every side's writers routed to it. The result, keyed by the join key,
// stays in that partition, so every partition keeps a single writer. An n-way join qualifies
// when every step joins on the same expression of the first stream (a JOIN b ON a.k = b.k
// JOIN c ON a.k = c.k): then one key routes every side.

// streamJoinOneKey reports whether a join is of unwindowed streams only, every step joining
// on the same expression of the first stream, so that routing each side's records by its ON
// expression brings every match of a key to one task.
func (p *queryPlan) streamJoinOneKey() bool {
	if p.join == nil || p.partition != nil || len(p.sources) < 2 || len(p.join.steps) != len(p.sources)-1 {
		return false
	}
	for _, bs := range p.sources {
		if bs.src.windowed() {
			return false
		}
	}
	first := p.join.steps[0]
	for _, st := range p.join.steps {
		if st.kind != joinSS || st.leftSrc != 0 || !st.sameKeyAs(first) {
			return false
		}
	}
	return true
}

// streamJoinRepartitionable reports whether a stream-stream join runs behind repartition
// stages of its streams (streamJoinOneKey) into a sink keyed by the join key with several
// partitions.
func (p *queryPlan) streamJoinRepartitionable(sink *source) bool {
	if p.agg != nil || !p.streamJoinOneKey() || p.joinPartitionParallel(sink) || len(sink.keyCols()) != 1 {
		return false
	}
	return sink.Partitions > 1 && sink.keyCols()[0].Type.Equal(p.join.steps[0].keyType)
}

// startStreamJoinRepartitioned starts the writers of both streams, then the join tasks.
func (e *Engine) startStreamJoinRepartitioned(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	counts, err := e.sidePartitions(ctx, plan)
	if err != nil {
		return err
	}
	nOut := sink.Partitions
	topic := e.repartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, sum(counts)*nOut); err != nil {
		return err
	}
	kc, _, err := sink.codecs()
	if err != nil {
		return err
	}
	writers, err := e.startSideWriters(ctx, qi, plan, sink, topic, sideWriters{counts: counts}, nOut, kc)
	if err != nil {
		return err
	}
	return startEach(qi, nOut, func(j int32) error {
		return e.startStreamJoinTask(ctx, qi, plan, sink, topic, j, writers, counts)
	})
}

// sideWriters says which streams' writers startSideWriters starts: the join's streams sides
// (nil: 0, 1, …), with counts[i] partitions each, as writers firstWriter, firstWriter+1, … of
// the topic. Their stores are named by store (default "%s-r%d") from the query id and their
// writer number.
type sideWriters struct {
	sides       []int
	counts      []int
	firstWriter int
	store       string
}

// startSideWriters starts one writer per partition of each stream, in source order, routing
// each record to one of nOut partitions by its join key encoded with kc.
func (e *Engine) startSideWriters(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, sw sideWriters, nOut int, kc serde.Codec) ([]*repartWriter, error) {
	writers := make([]*repartWriter, 0, sum(sw.counts))
	store := sw.store
	if store == "" {
		store = "%s-r%d"
	}
	for i, n := range sw.counts {
		side := i
		if sw.sides != nil {
			side = sw.sides[i]
		}
		for part := 0; part < n; part++ {
			w := sw.firstWriter + len(writers)
			t, err := e.startSideWriter(ctx, qi, plan, sink, topic, fmt.Sprintf(store, qi.ID, w), w, side, int32(part), nOut, kc)
			if err != nil {
				stopAll(qi)
				return nil, err
			}
			writers = append(writers, t.repart)
		}
	}
	return writers, nil
}

// startSideWriter starts writer number w (its store storeID): it routes each record of
// partition part of the join's stream number side to the sink partition of its join key (the
// ON expression of the step that joins it; the first step's left expression for the first
// stream).
func (e *Engine) startSideWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic, storeID string, w, side int, part int32, nOut int, kc serde.Codec) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, storeID)
	if err != nil {
		return nil, err
	}
	lo := t.makeWriter(topic, int32(w), nOut)
	bs := plan.sources[side]
	key := plan.join.steps[0].leftKey
	if side > 0 {
		key = plan.join.steps[side-1].rightKey
	}
	out := &repartOut{t: t}
	route := &joinRouteNode{out: out, kc: kc, base: lo, n: nOut, nullTo: lo + int32(w%nOut), key: func(r *eval.Rec) (any, error) {
		return key.Eval(plan.join.widen(bs, side, r))
	}}
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	inner, err := pl.sourceEntry(bs, side, route)
	if err != nil {
		return nil, err
	}
	pl.entry = []func(*storage.Record) error{func(rec *storage.Record) error {
		out.cur = rec
		return inner(rec)
	}}
	t.pl = pl
	if err := e.addSourceInputs(ctx, t, bs.src.Topic, part, pl.entry[0], committed, plan); err != nil {
		return nil, err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// startStreamJoinTask starts the join task of sink partition j over what every side's
// writers (counts of them per side, in source order) routed to it.
func (e *Engine) startStreamJoinTask(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, j int32, writers []*repartWriter, counts []int) error {
	t, committed, err := e.newSinkWriter(qi, plan, sink, j)
	if err != nil {
		return err
	}
	if err := e.streamJoinInputs(ctx, t, committed, topic, j, writers, counts); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}

// Aggregations of stream-stream joins of streams not keyed by the join key: the side writers
// route both streams by join key to nOut join tasks (nOut the sink's partition count, with the
// join key in the aggregate-state encoding, since the sink is keyed by the group, not the join
// key), and each join task routes its joined rows through a second topic to the aggregation
// task of their group.

// streamJoinAggTwoStage reports whether an aggregation of a stream-stream join runs behind
// repartition stages of its streams (streamJoinOneKey) and of the joined rows.
func (p *queryPlan) streamJoinAggTwoStage() bool {
	if p.agg == nil || !p.streamJoinOneKey() || p.joinCoPartitioned() {
		return false
	}
	for _, bs := range p.sources {
		if bs.src.Partitions > 1 {
			return true
		}
	}
	return false
}

// groupKeyCodec encodes a join key as aggregate state keys do: a routing key only, never
// decoded.
type groupKeyCodec struct{ typs []*types.Type }

func (c groupKeyCodec) Encode(vals []any) ([]byte, error) { return encodeGroupKey(vals, c.typs), nil }

func (c groupKeyCodec) Decode([]byte, []any) error {
	return fmt.Errorf("internal error: a routing key is never decoded")
}

// startStreamJoinAggTwoStage starts the side writers, the join tasks, then the aggregation
// tasks.
func (e *Engine) startStreamJoinAggTwoStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	second, joiners, err := e.startStreamJoinWriters(ctx, qi, plan, sink, e.startStreamJoinStage)
	if err != nil {
		return err
	}
	return e.startAggStage(ctx, qi, plan, sink, second, joiners)
}

// startStreamJoinWriters starts the two stages of a stream-stream join whose results go on
// through a second repartition topic: side writers routing every stream by the join key (in
// the aggregate-state encoding) to the query's first topic, then one join task per sink
// partition, started by startJoiner, writing to the second topic. It returns the second topic
// and the join tasks' writers.
func (e *Engine) startStreamJoinWriters(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source,
	startJoiner func(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, first, second string, j int32, writers []*repartWriter, counts []int) (*task, error)) (string, []*repartWriter, error) {
	counts, err := e.sidePartitions(ctx, plan)
	if err != nil {
		return "", nil, err
	}
	nOut := sink.Partitions
	first, second := e.repartitionTopic(qi.ID), e.groupRepartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, first, sum(counts)*nOut); err != nil {
		return "", nil, err
	}
	if err := e.createRepartTopic(ctx, second, nOut*nOut); err != nil {
		return "", nil, err
	}
	writers, err := e.startSideWriters(ctx, qi, plan, sink, first, sideWriters{counts: counts}, nOut, groupKeyCodec{typs: []*types.Type{plan.join.steps[0].keyType}})
	if err != nil {
		return "", nil, err
	}
	joiners, err := startWriters(qi, nOut, func(j int32) (*task, error) {
		return startJoiner(ctx, qi, plan, sink, first, second, j, writers, counts)
	})
	return second, joiners, err
}

// startStreamJoinStage starts join task j of a stream-stream join aggregation: it joins what
// every side's writers routed to it and routes each joined row to the aggregation partition
// of its group.
func (e *Engine) startStreamJoinStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, first, second string, j int32, writers []*repartWriter, counts []int) (*task, error) {
	return e.startJoinedWriter(ctx, qi, plan, sink, fmt.Sprintf("%s-j%d", qi.ID, j), second, j, func(t *task, committed map[string]int64) error {
		return e.streamJoinInputs(ctx, t, committed, first, j, writers, counts)
	})
}

// sidePartitions are the partition counts of a stream join's streams, in source order.
func (e *Engine) sidePartitions(ctx context.Context, plan *queryPlan) ([]int, error) {
	counts := make([]int, len(plan.sources))
	for side, bs := range plan.sources {
		info, err := e.log.DescribeTopic(ctx, bs.src.Topic)
		if err != nil {
			return nil, fmt.Errorf("source topic %s: %w", bs.src.Topic, err)
		}
		counts[side] = len(info.Partitions)
	}
	return counts, nil
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// streamJoinInputs adds to join task j (pipeline set) what every side's writers (counts of
// them per side, in source order) routed to it, as that side's input.
func (e *Engine) streamJoinInputs(ctx context.Context, t *task, committed map[string]int64, topic string, j int32, writers []*repartWriter, counts []int) error {
	nOut := int32(t.sink.Partitions)
	first := 0
	for side, n := range counts {
		if err := e.repartInputsFrom(ctx, t, committed, topic, j, nOut, first, writers[first:first+n], t.pl.entry[side]); err != nil {
			return err
		}
		first += n
	}
	return nil
}
