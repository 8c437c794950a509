package engine

import (
	"context"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
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
	var counts [2]int
	for side := range counts {
		info, err := e.log.DescribeTopic(ctx, plan.sources[side].src.Topic)
		if err != nil {
			return fmt.Errorf("source topic %s: %w", plan.sources[side].src.Topic, err)
		}
		counts[side] = len(info.Partitions)
	}
	nOut := sink.Partitions
	nWriters := counts[0] + counts[1]
	topic := e.repartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, nWriters*nOut); err != nil {
		return err
	}
	writers := make([]*repartWriter, 0, nWriters)
	for side := range counts {
		for part := 0; part < counts[side]; part++ {
			t, err := e.startSideWriter(ctx, qi, plan, sink, topic, len(writers), side, int32(part), nOut)
			if err != nil {
				stopAll(qi)
				return err
			}
			writers = append(writers, t.repart)
		}
	}
	for j := 0; j < nOut; j++ {
		if err := e.startStreamJoinTask(ctx, qi, plan, sink, topic, int32(j), writers, counts[0]); err != nil {
			stopAll(qi)
			return err
		}
	}
	return nil
}

// startSideWriter starts writer number w: it routes each record of partition part of the
// join's stream on side (0 left, 1 right) to the sink partition of its join key.
func (e *Engine) startSideWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, w, side int, part int32, nOut int) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, fmt.Sprintf("%s-r%d", qi.ID, w))
	if err != nil {
		return nil, err
	}
	lo, hi := int32(w*nOut), int32((w+1)*nOut)
	t.outTopic = topic
	t.owns = func(p int32) bool { return p >= lo && p < hi }
	t.repart = &repartWriter{marks: map[int32]int64{}, woken: make(chan struct{})}
	t.mat, t.pullFromAgg = false, false
	kc, _, err := sink.codecs()
	if err != nil {
		return nil, err
	}
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
	nOut := int32(sink.Partitions)
	if err := e.repartInputsFrom(ctx, t, committed, topic, j, nOut, 0, writers[:nLeft], pl.entry[0]); err != nil {
		return err
	}
	if err := e.repartInputsFrom(ctx, t, committed, topic, j, nOut, nLeft, writers[nLeft:], pl.entry[1]); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}
