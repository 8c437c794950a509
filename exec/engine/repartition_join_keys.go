package engine

import (
	"context"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Staged joins: n-way joins of a stream with streams and tables whose steps do not all join on
// one key (orders JOIN shipments ON o.id = s.order_id JOIN customers ON o.customer = c.id), or
// that mix stream-stream and stream-table steps. They run as ksqlDB runs them, one stage per run
// of consecutive steps on the same key, each stage's result going through a repartition topic
// keyed by the next stage's key:
//
//   - side writers route the stage's streams (the first stream too, in the first stage) by
//     their ON expressions to the stage's topic;
//   - one join task per sink partition runs the stage's steps over what was routed to it, the
//     previous stage's joined rows as the left side of its first step, and the rows of its
//     tables' partition (or, when a table has another partition count, every row the routing
//     places in it);
//   - the last stage's tasks write the sink; or route their joined rows by group to the
//     aggregation tasks (startAggStage) when the query aggregates; or, for an INSERT INTO,
//     write their results, encoded for the target, to a topic whose copiers append them
//     through the target's owners, as the other INSERT INTO layouts do.
//
// Every partition of every topic and of the sink has a single writer, so each task keeps the
// usual exactly-once scheme, as in the other repartitioned layouts.

// joinStage is the steps lo…hi−1 of a staged join, which join on one key.
type joinStage struct{ lo, hi int }

// joinStages splits a join into stages when it can run staged: stream-stream and stream-table
// steps over unwindowed sources, starting from a stream, each stage's tables keyed by the
// stage's key alone and sharing a key format. Joins that another layout runs (one key over
// streams only, tables only, co-partitioned) give nil.
func (p *queryPlan) joinStages() []joinStage {
	if p.join == nil || p.partition != nil || len(p.sources) < 3 || len(p.join.steps) != len(p.sources)-1 {
		return nil
	}
	if p.streamJoinOneKey() || p.streamTableJoin() || p.joinCoPartitioned() {
		return nil
	}
	for _, bs := range p.sources {
		if bs.src.windowed() {
			return nil
		}
	}
	steps := p.join.steps
	var stages []joinStage
	for i, st := range steps {
		switch st.kind {
		case joinSS:
		case joinST:
			keys := st.right.src.keyCols()
			if len(keys) != 1 || !keys[0].Type.Equal(st.keyType) {
				return nil
			}
		default:
			return nil
		}
		if i == 0 || !st.sameKeyAs(steps[stages[len(stages)-1].lo]) {
			stages = append(stages, joinStage{lo: i, hi: i + 1})
		} else {
			stages[len(stages)-1].hi = i + 1
		}
	}
	for _, sg := range stages {
		if _, ok := p.stageTable(sg); !ok {
			return nil
		}
	}
	return stages
}

// sameKeyAs reports whether st joins on the same left expression, of the same type, as o:
// routing rows by one evaluates the other.
func (st *joinStep) sameKeyAs(o *joinStep) bool {
	return st.keyType.Equal(o.keyType) && eval.Text(st.leftAst) == eval.Text(o.leftAst)
}

// stageTable is the first table a stage joins (nil when it joins streams only); false when
// its tables' key formats differ, so no one routing places every key with its table rows.
func (p *queryPlan) stageTable(sg joinStage) (*source, bool) {
	var first *source
	for _, st := range p.join.steps[sg.lo:sg.hi] {
		if st.kind != joinST {
			continue
		}
		if first == nil {
			first = st.right.src
		} else if st.right.src.KeyFormat != first.KeyFormat {
			return nil, false
		}
	}
	return first, true
}

// stagedJoinRepartitionable reports whether a join runs staged into a sink of several
// partitions: keyed by the last stage's key when the query does not aggregate, and with
// the last stage's tables in the sink's key format.
func (p *queryPlan) stagedJoinRepartitionable(sink *source) bool {
	stages := p.joinStages()
	if stages == nil || sink.Partitions < 2 || p.joinPartitionParallel(sink) {
		return false
	}
	if p.agg != nil {
		return true
	}
	last := stages[len(stages)-1]
	keys := sink.keyCols()
	if len(keys) != 1 || !keys[0].Type.Equal(p.join.steps[last.lo].keyType) {
		return false
	}
	table, _ := p.stageTable(last)
	return table == nil || table.KeyFormat == sink.KeyFormat
}

// stageTopic names the repartition topic in front of stage g.
func (e *Engine) stageTopic(queryID string, g int) string {
	if g == 0 {
		return e.repartitionTopic(queryID)
	}
	return fmt.Sprintf("%s-stage%d", e.repartitionTopic(queryID), g)
}

// insertStagedJoinRepartitionable reports whether an INSERT INTO query runs as a staged join
// whose last stage feeds copiers.
func (p *queryPlan) insertStagedJoinRepartitionable() bool {
	return p.agg == nil && p.joinStages() != nil
}

// stageKeyCodec encodes the routing key of a stage: as the sink's key in a stage whose tasks
// write the sink partitions of their keys (writesSink), as the key of the stage's tables
// where it has some (their rows stay in their partitions), and as aggregate state keys
// otherwise (a routing key only, never decoded).
func (p *queryPlan) stageKeyCodec(sink *source, sg joinStage, writesSink bool) (serde.Codec, error) {
	if writesSink {
		kc, _, err := sink.codecs()
		return kc, err
	}
	if table, _ := p.stageTable(sg); table != nil {
		kc, _, err := table.codecs()
		return kc, err
	}
	return groupKeyCodec{typs: []*types.Type{p.join.steps[sg.lo].keyType}}, nil
}

// startStagedJoin starts each stage's side writers and join tasks, stage by stage (in the
// order data flows: Quiesce drives tasks in start order), then the aggregation tasks of a
// query that aggregates, or the copiers of an INSERT INTO (insert).
func (e *Engine) startStagedJoin(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, insert bool) error {
	stages := plan.joinStages()
	counts, err := e.sidePartitions(ctx, plan)
	if err != nil {
		return err
	}
	nOut := sink.Partitions
	// Whether stage g's join tasks write the sink themselves.
	writesSink := func(g int) bool { return g == len(stages)-1 && plan.agg == nil && !insert }
	var prev []*repartWriter // the previous stage's join tasks, as writers of this stage's topic
	for g, sg := range stages {
		last := g == len(stages)-1
		kc, err := plan.stageKeyCodec(sink, sg, writesSink(g))
		if err != nil {
			return err
		}
		// The stage's streams: the first source in the first stage, then each stream step's
		// right source.
		var sides, sideCounts []int
		if g == 0 {
			sides, sideCounts = append(sides, 0), append(sideCounts, counts[0])
		}
		for i := sg.lo; i < sg.hi; i++ {
			if plan.join.steps[i].kind == joinSS {
				sides, sideCounts = append(sides, i+1), append(sideCounts, counts[i+1])
			}
		}
		topic := e.stageTopic(qi.ID, g)
		if err := e.createRepartTopic(ctx, topic, (len(prev)+sum(sideCounts))*nOut); err != nil {
			return err
		}
		store := "%s-r%d"
		if g > 0 {
			store = fmt.Sprintf("%%s-s%dw%%d", g)
		}
		writers, err := e.startSideWriters(ctx, qi, plan, sink, topic, sideWriters{sides: sides, counts: sideCounts, firstWriter: len(prev), store: store}, nOut, kc)
		if err != nil {
			return err
		}
		st := &stageInputs{topic: topic, prev: prev, sides: sides, counts: sideCounts, writers: writers}
		stagePlan := *plan
		stagePlan.joinFrom = sg.lo
		if writesSink(g) {
			return startEach(qi, nOut, func(j int32) error {
				return e.startLastJoinStage(ctx, qi, &stagePlan, sink, st, sg, j)
			})
		}
		if last && insert {
			return e.startStagedInsertCopiers(ctx, qi, &stagePlan, sink, g, sg, st)
		}
		next, nextKC := joinStage{}, serde.Codec(nil)
		if !last {
			next = stages[g+1]
			if nextKC, err = plan.stageKeyCodec(sink, next, writesSink(g+1)); err != nil {
				return err
			}
		} else if err := e.createRepartTopic(ctx, e.groupRepartitionTopic(qi.ID), nOut*nOut); err != nil {
			return err
		}
		if prev, err = startWriters(qi, nOut, func(j int32) (*task, error) {
			return e.startJoinStageTask(ctx, qi, &stagePlan, sink, g, sg, next, nextKC, st, j)
		}); err != nil {
			return err
		}
	}
	return e.startAggStage(ctx, qi, plan, sink, e.groupRepartitionTopic(qi.ID), prev)
}

// startStagedInsertCopiers starts the last stage of a staged INSERT INTO: its join tasks
// write each result, encoded for the target, to the partition of a copy topic that the
// target's partitioner picks, and one copier per target partition appends those through the
// partition's owner.
func (e *Engine) startStagedInsertCopiers(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, g int, sg joinStage, st *stageInputs) error {
	nOut := sink.Partitions
	topic := e.groupRepartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, topic, nOut*nOut); err != nil {
		return err
	}
	writers, err := startWriters(qi, nOut, func(j int32) (*task, error) {
		t, committed, err := e.newRekeyWriter(qi, plan, sink, topic, j, nOut, fmt.Sprintf("%s-j%dt%d", qi.ID, g, j))
		if err != nil {
			return nil, err
		}
		return t, e.launchStageTask(ctx, qi, t, committed, plan, sink, st, sg, j)
	})
	if err != nil {
		return err
	}
	return e.startCopiers(ctx, qi, plan, sink, topic, writers, false)
}

// launchStageTask adds its inputs to join task j of stage sg (its pipeline built), recovers
// and launches it.
func (e *Engine) launchStageTask(ctx context.Context, qi *queryInfo, t *task, committed map[string]int64, plan *queryPlan, sink *source, st *stageInputs, sg joinStage, j int32) error {
	if err := e.addStageInputs(ctx, t, committed, plan, sink, st, sg, j); err != nil {
		return err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return err
	}
	e.launch(qi, t)
	return nil
}

// stageInputs is what a stage's join tasks read from its topic: the previous stage's joined
// rows (its join tasks being the topic's first writers), then the records the side writers of
// each of the stage's streams (sides, counts[i] writers each) routed.
type stageInputs struct {
	topic   string
	prev    []*repartWriter
	sides   []int
	counts  []int
	writers []*repartWriter
}

// addStageInputs adds to join task j of stage sg (its pipeline built) its inputs: what was
// routed to it through the stage's topic, and its tables' rows.
func (e *Engine) addStageInputs(ctx context.Context, t *task, committed map[string]int64, plan *queryPlan, sink *source, st *stageInputs, sg joinStage, j int32) error {
	nOut := int32(sink.Partitions)
	// The entries: the joined rows (after the first stage), then one per source of the
	// stage's steps, in source order (instantiateJoinSteps).
	entryOf := func(src int) func(*storage.Record) error {
		if sg.lo == 0 {
			return t.pl.entry[src]
		}
		return t.pl.entry[src-sg.lo]
	}
	if len(st.prev) > 0 {
		if err := e.repartInputsFrom(ctx, t, committed, st.topic, j, nOut, 0, st.prev, t.pl.entry[0]); err != nil {
			return err
		}
	}
	w := 0
	for i, side := range st.sides {
		if err := e.repartInputsFrom(ctx, t, committed, st.topic, j, nOut, len(st.prev)+w, st.writers[w:w+st.counts[i]], entryOf(side)); err != nil {
			return err
		}
		w += st.counts[i]
	}
	for i := sg.lo; i < sg.hi; i++ {
		if plan.join.steps[i].kind != joinST {
			continue
		}
		table, entry, part := plan.sources[i+1].src, entryOf(i+1), j
		if table.Partitions != sink.Partitions {
			// The routing, not the table's partitioner, decides which task joins a key (the
			// key bytes are the same: stageKeyCodec routes by the tables' key format).
			part, entry = -1, keysOfPartition(entry, sink.Partitions, j)
		}
		if err := e.addSourceInputs(ctx, t, table.Topic, part, entry, committed, plan); err != nil {
			return err
		}
	}
	return nil
}

// startJoinStageTask starts join task j of stage g (not the last of a query without
// aggregation): it joins the stage's inputs through its steps and routes each joined row, as
// writer j of the next topic, by the next stage's key encoded with nextKC, or, after the last
// stage (nextKC nil), by group to the aggregation tasks.
func (e *Engine) startJoinStageTask(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, g int, sg, next joinStage, nextKC serde.Codec, st *stageInputs, j int32) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, fmt.Sprintf("%s-j%dt%d", qi.ID, g, j))
	if err != nil {
		return nil, err
	}
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	t.pl = pl
	if nextKC == nil {
		// The last stage: joined rows go to the aggregation tasks of their groups, past WHERE.
		jr, err := joinedRepartTail(t, plan, sink, e.groupRepartitionTopic(qi.ID), j, committed, plan.agg.groups)
		if err != nil {
			return nil, err
		}
		if err := plan.feed(pl, jr); err != nil {
			return nil, err
		}
	} else {
		jr, err := joinedRepartTail(t, plan, sink, e.stageTopic(qi.ID, g+1), j, committed, []*eval.Expr{plan.join.steps[next.lo].leftKey})
		if err != nil {
			return nil, err
		}
		jr.rn.kc = nextKC // the next stage's routing, not the sink's key
		// No WHERE yet: it may name later sources' columns.
		if pl.entry, err = plan.instantiateJoinSteps(pl, sg.lo, sg.hi, jr); err != nil {
			return nil, err
		}
	}
	return t, e.launchStageTask(ctx, qi, t, committed, plan, sink, st, sg, j)
}

// startLastJoinStage starts join task j of a staged join's last stage, the writer of sink
// partition j.
func (e *Engine) startLastJoinStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, st *stageInputs, sg joinStage, j int32) error {
	t, committed, err := e.newSinkWriter(qi, plan, sink, j)
	if err != nil {
		return err
	}
	return e.launchStageTask(ctx, qi, t, committed, plan, sink, st, sg, j)
}
