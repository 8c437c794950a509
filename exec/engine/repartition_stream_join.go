package engine

import (
	"context"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Stream-stream joins of streams not partitioned by the join key. Both streams go through the
// query's repartition topic, as ksqlDB's left and right repartition topics do: one writer per
// partition of each stream (the left stream's writers first, then the right's) routes each
// record to the sink partition of its join key, and one join task per sink partition joins
// what both sides' writers routed to it. The result, keyed by the join key, stays in that
// partition, so every partition keeps a single writer.

// streamJoinRepartitionable reports whether a stream-stream join runs behind repartition
// stages of both streams: one join step of unwindowed streams, each side's ON expression
// over its own stream, and a sink keyed by the join key with several partitions.
func (p *queryPlan) streamJoinRepartitionable(sink *source) bool {
	if p.join == nil || p.agg != nil || p.partition != nil || len(p.sources) != 2 || len(p.join.steps) != 1 || p.joinPartitionParallel(sink) {
		return false
	}
	st := p.join.steps[0]
	left, right := p.sources[0].src, p.sources[1].src
	if st.kind != joinSS || st.leftSrc != 0 || left.windowed() || right.windowed() || len(sink.keyCols()) != 1 {
		return false
	}
	return sink.Partitions > 1 && sink.keyCols()[0].Type.Equal(st.keyType)
}

// startStreamJoinRepartitioned starts the writers of both streams, then the join tasks.
func (e *Engine) startStreamJoinRepartitioned(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source) error {
	counts, err := e.sidePartitions(ctx, plan)
	if err != nil {
		return err
	}
	nOut := sink.Partitions
	nWriters := counts[0] + counts[1]
	topic := e.repartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, nWriters*nOut); err != nil {
		return err
	}
	kc, _, err := sink.codecs()
	if err != nil {
		return err
	}
	writers, err := e.startSideWriters(ctx, qi, plan, sink, topic, counts, nOut, kc)
	if err != nil {
		return err
	}
	for j := 0; j < nOut; j++ {
		if err := e.startStreamJoinTask(ctx, qi, plan, sink, topic, int32(j), writers, counts[0]); err != nil {
			stopAll(qi)
			return err
		}
	}
	return nil
}

// startSideWriters starts one writer per partition of each stream, the left stream's first,
// routing each record to one of nOut partitions by its join key encoded with kc.
func (e *Engine) startSideWriters(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, counts [2]int, nOut int, kc serde.Codec) ([]*repartWriter, error) {
	writers := make([]*repartWriter, 0, counts[0]+counts[1])
	for side := range counts {
		for part := 0; part < counts[side]; part++ {
			t, err := e.startSideWriter(ctx, qi, plan, sink, topic, len(writers), side, int32(part), nOut, kc)
			if err != nil {
				stopAll(qi)
				return nil, err
			}
			writers = append(writers, t.repart)
		}
	}
	return writers, nil
}

// startSideWriter starts writer number w: it routes each record of partition part of the
// join's stream on side (0 left, 1 right) to the sink partition of its join key.
func (e *Engine) startSideWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, w, side int, part int32, nOut int, kc serde.Codec) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, fmt.Sprintf("%s-r%d", qi.ID, w))
	if err != nil {
		return nil, err
	}
	lo := t.makeWriter(topic, int32(w), nOut)
	st := plan.join.steps[0]
	bs := plan.sources[side]
	key := st.leftKey
	if side == 1 {
		key = st.rightKey
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

// startStreamJoinTask starts the join task of sink partition j over what the left writers
// (the first nLeft) and the right writers routed to it.
func (e *Engine) startStreamJoinTask(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, j int32, writers []*repartWriter, nLeft int) error {
	t, committed, err := e.newTask(qi, plan, sink, true, j)
	if err != nil {
		return err
	}
	pl, err := plan.instantiate(t.store, t.emit, t.recordError)
	if err != nil {
		return err
	}
	t.pl = pl
	if err := e.streamJoinInputs(ctx, t, committed, topic, j, writers, nLeft); err != nil {
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
// repartition stages of both streams and of the joined rows.
func (p *queryPlan) streamJoinAggTwoStage() bool {
	if p.join == nil || p.agg == nil || p.partition != nil || len(p.sources) != 2 || len(p.join.steps) != 1 || p.joinCoPartitioned() {
		return false
	}
	st := p.join.steps[0]
	left, right := p.sources[0].src, p.sources[1].src
	return st.kind == joinSS && st.leftSrc == 0 && !left.windowed() && !right.windowed() &&
		(left.Partitions > 1 || right.Partitions > 1)
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
	counts, err := e.sidePartitions(ctx, plan)
	if err != nil {
		return err
	}
	nOut := sink.Partitions
	first, second := e.repartitionTopic(qi.ID), e.groupRepartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, first, (counts[0]+counts[1])*nOut); err != nil {
		return err
	}
	if err := e.createRepartTopic(ctx, second, nOut*nOut); err != nil {
		return err
	}
	writers, err := e.startSideWriters(ctx, qi, plan, sink, first, counts, nOut, groupKeyCodec{typs: []*types.Type{plan.join.steps[0].keyType}})
	if err != nil {
		return err
	}
	joiners, err := startWriters(qi, nOut, func(j int32) (*task, error) {
		return e.startStreamJoinStage(ctx, qi, plan, sink, first, second, j, writers, counts[0])
	})
	if err != nil {
		return err
	}
	return e.startAggStage(ctx, qi, plan, sink, second, joiners)
}

// startStreamJoinStage starts join task j of a stream-stream join aggregation: it joins what
// the left writers (the first nLeft) and the right writers routed to it and routes each
// joined row to the aggregation partition of its group.
func (e *Engine) startStreamJoinStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, first, second string, j int32, writers []*repartWriter, nLeft int) (*task, error) {
	return e.startJoinedWriter(ctx, qi, plan, sink, fmt.Sprintf("%s-j%d", qi.ID, j), second, j, func(t *task, committed map[string]int64) error {
		return e.streamJoinInputs(ctx, t, committed, first, j, writers, nLeft)
	})
}

// sidePartitions are the partition counts of a two-stream join's left and right streams.
func (e *Engine) sidePartitions(ctx context.Context, plan *queryPlan) (counts [2]int, err error) {
	for side := range counts {
		info, err := e.log.DescribeTopic(ctx, plan.sources[side].src.Topic)
		if err != nil {
			return counts, fmt.Errorf("source topic %s: %w", plan.sources[side].src.Topic, err)
		}
		counts[side] = len(info.Partitions)
	}
	return counts, nil
}

// streamJoinInputs adds to join task j (pipeline set) what the left writers (the first nLeft)
// and the right writers routed to it, as its left and right inputs.
func (e *Engine) streamJoinInputs(ctx context.Context, t *task, committed map[string]int64, topic string, j int32, writers []*repartWriter, nLeft int) error {
	nOut := int32(t.sink.Partitions)
	if err := e.repartInputsFrom(ctx, t, committed, topic, j, nOut, 0, writers[:nLeft], t.pl.entry[0]); err != nil {
		return err
	}
	return e.repartInputsFrom(ctx, t, committed, topic, j, nOut, nLeft, writers[nLeft:], t.pl.entry[1])
}
