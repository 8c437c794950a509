package engine

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Aggregations of joins. When the join's sources are co-partitioned (joinCoPartitioned), the
// join runs one writer task per source partition, as a co-partitioned join does, and each
// writer sends its joined changes, instead of source records, through the repartition topic to
// the aggregation task of their group (startRepartitioned's usual second stage). ksqlDB does
// the same: the join's output goes through a repartition topic keyed by the GROUP BY.
//
// A joined change in a repartition record: after the header (the writer's partition and its
// sequence number, which stand in for the source offset repartSeen deduplicates by, because a
// writer's records come from several topics), the flag byte of a table change, then the old
// row (4-byte length, then appendJoinedRow) and the new row.

// joinAggRepartitionable reports whether an aggregation of a join runs as co-partitioned join
// writers feeding one aggregation task per sink partition.
func (p *queryPlan) joinAggRepartitionable() bool {
	return p.join != nil && p.agg != nil && p.joinCoPartitioned()
}

// joinSeqKey is the commit position under which a join writer keeps its next sequence number.
const joinSeqKey = "seq:join"

// startJoinWriter starts the join writer of source partition i: it joins partition i of the
// sources (the whole of a foreign-key join's right table) and routes each joined change to the
// partition of its group.
func (e *Engine) startJoinWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, i int32, _ int) (*task, error) {
	return e.startJoinedWriter(ctx, qi, plan, sink, fmt.Sprintf("%s-r%d", qi.ID, i), topic, i, func(t *task, committed map[string]int64) error {
		broadcast := plan.broadcastSources()
		for si, bs := range plan.sources {
			part := i
			if broadcast[si] {
				part = -1
			}
			if err := e.addSourceInputs(ctx, t, bs.src.Topic, part, t.pl.entry[si], committed, plan); err != nil {
				return err
			}
		}
		return nil
	})
}

// startJoinedWriter starts a task (its store storeID) that joins what inputs adds to it and
// writes each joined change, as writer number w of topic, to the aggregation partition of its
// group.
func (e *Engine) startJoinedWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, storeID, topic string, w int32, inputs func(t *task, committed map[string]int64) error) (*task, error) {
	t, committed, err := e.newTaskStore(qi, plan, sink, true, -1, storeID)
	if err != nil {
		return nil, err
	}
	jr, err := joinedRepartTail(t, plan, sink, topic, w, committed, plan.agg.groups)
	if err != nil {
		return nil, err
	}
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	if err := plan.feed(pl, jr); err != nil {
		return nil, err
	}
	t.pl = pl
	if err := inputs(t, committed); err != nil {
		return nil, err
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// joinedRepartNode ends a join writer's pipeline: it appends each joined change to the
// aggregation partition of its group, or a retraction and an addition when the change moves a
// row from one group's partition to another's.
type joinedRepartNode struct {
	t     *task
	rn    *repartNode // evaluates groups and picks partitions (its out is unused)
	typs  []*types.Type
	index int32 // the writer's source partition
	seq   int64 // the next record's sequence number
}

func (n *joinedRepartNode) push(c *change) error {
	oldP, oldOK := n.partitionOf(c.old)
	newP, newOK := n.partitionOf(c.new)
	switch {
	case oldOK && newOK && oldP == newP:
		n.send(oldP, c.old, c.new, changeTs(c))
	default:
		if oldOK {
			n.send(oldP, c.old, nil, changeTs(c))
		}
		if newOK {
			n.send(newP, nil, c.new, changeTs(c))
		}
	}
	return nil
}

func (n *joinedRepartNode) partitionOf(r *eval.Rec) (int32, bool) {
	if r == nil {
		return 0, false
	}
	p, ok, err := n.rn.partitionOf(r)
	if err != nil {
		n.t.recordError(err, nil)
	}
	return p, ok && err == nil
}

func (n *joinedRepartNode) send(p int32, old, new *eval.Rec, ts int64) {
	val := make([]byte, repartHeader, 256)
	binary.BigEndian.PutUint32(val, uint32(n.index))
	binary.BigEndian.PutUint64(val[4:], uint64(n.seq))
	n.seq++
	flag := len(val)
	val = append(val, 0)
	if old != nil {
		val[flag] |= changeOld
		at := len(val)
		val = appendJoinedRow(append(val, 0, 0, 0, 0), old, n.typs)
		binary.BigEndian.PutUint32(val[at:], uint32(len(val)-at-4))
	}
	if new != nil {
		val[flag] |= changeNew
		val = appendJoinedRow(val, new, n.typs)
	}
	var headers []storage.Header
	if new != nil {
		headers = new.Headers
	} else if old != nil {
		headers = old.Headers
	}
	n.t.out = append(n.t.out, storage.Record{Value: val, Timestamp: ts, Headers: headers, Partition: p})
}

// joinedChanges is the entry of an aggregation task behind join writers: it decodes each
// joined change (its repartition header already removed) and aggregates it, advancing the
// task's stream time as the rows' timestamps do (Kafka Streams' stream time after a
// repartition topic).
func joinedChanges(pl *pipeline, typs []*types.Type) func(*storage.Record) error {
	return joinedChangesTo(pl, typs, nodeFunc(func(c *change) error { return pl.agg.push(c) }))
}

// joinedChangesTo is joinedChanges for any node: an aggregation, or a later join step.
func joinedChangesTo(pl *pipeline, typs []*types.Type, next node) func(*storage.Record) error {
	return func(rec *storage.Record) error {
		if len(rec.Value) < 1 {
			return fmt.Errorf("corrupt joined change at %d", rec.Offset)
		}
		flag, body := rec.Value[0], rec.Value[1:]
		var c change
		if flag&changeOld != 0 {
			if len(body) < 4 || int(binary.BigEndian.Uint32(body)) > len(body)-4 {
				return fmt.Errorf("corrupt joined change at %d", rec.Offset)
			}
			size := binary.BigEndian.Uint32(body)
			old, err := decodeJoinedRow(body[4:4+size], typs)
			if err != nil {
				return err
			}
			old.Headers = rec.Headers
			c.old = old
			body = body[4+size:]
		}
		if flag&changeNew != 0 {
			r, err := decodeJoinedRow(body, typs)
			if err != nil {
				return err
			}
			r.Headers = rec.Headers
			c.new = r
		}
		if ts := changeTs(&c); ts > pl.streamTime {
			pl.streamTime = ts
		}
		if c.old == nil && c.new == nil {
			return nil
		}
		return next.push(&c)
	}
}

// Aggregations of a stream-table join whose stream is not partitioned by the join key take two
// repartition stages, as in ksqlDB (a Join-left-repartition, then a GroupBy-repartition topic):
// writers route each stream record to the table partition of its join key (as joinRepartitionable
// joins do); one join task per table partition joins them and routes each joined change to the
// aggregation task of its group through a second topic; one aggregation task per sink
// partition aggregates them.

// joinAggTwoStage reports whether an aggregation of a join runs behind two repartition stages:
// stream-table steps routed by the last step's key, which comes from the stream.
func (p *queryPlan) joinAggTwoStage() bool {
	if p.agg == nil || !p.streamTableRoutable() || p.joinCoPartitioned() {
		return false
	}
	return p.sources[0].src.Partitions > 1 || p.join.lastStep().right.src.Partitions > 1
}

// groupRepartitionTopic names the second repartition topic of a two-stage query.
func (e *Engine) groupRepartitionTopic(queryID string) string {
	return e.repartitionTopic(queryID) + "-group"
}

// startJoinAggTwoStage starts the stream writers, the join tasks, then the aggregation tasks.
func (e *Engine) startJoinAggTwoStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, nIn int) error {
	nJoin, nOut := plan.join.lastStep().right.src.Partitions, sink.Partitions
	first, second := e.repartitionTopic(qi.ID), e.groupRepartitionTopic(qi.ID)
	if err := e.createRepartTopic(ctx, first, nIn*nJoin); err != nil {
		return err
	}
	if err := e.createRepartTopic(ctx, second, nJoin*nOut); err != nil {
		return err
	}
	writers, err := startWriters(qi, nIn, func(i int32) (*task, error) {
		return e.startRepartWriter(ctx, qi, plan, sink, first, i, nJoin)
	})
	if err != nil {
		return err
	}
	joiners, err := startWriters(qi, nJoin, func(j int32) (*task, error) {
		return e.startJoinStage(ctx, qi, plan, sink, first, second, j, nJoin, writers)
	})
	if err != nil {
		return err
	}
	return e.startAggStage(ctx, qi, plan, sink, second, joiners)
}

// startJoinStage starts the join task of table partition j of a two-stage query: it joins the
// stream records the writers routed to it with its partition of the last table (and the whole
// of earlier tables), then routes each joined change to the aggregation partition of its group.
func (e *Engine) startJoinStage(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, first, second string, j int32, nJoin int, writers []*repartWriter) (*task, error) {
	return e.startJoinedWriter(ctx, qi, plan, sink, fmt.Sprintf("%s-j%d", qi.ID, j), second, j, func(t *task, committed map[string]int64) error {
		last := plan.join.lastStep()
		for i := 1; i < len(plan.sources); i++ {
			part := j
			if i != last.rightIdx {
				part = -1 // an earlier step's table: read whole
			}
			if err := e.addSourceInputs(ctx, t, plan.sources[i].src.Topic, part, t.pl.entry[i], committed, plan); err != nil {
				return err
			}
		}
		return e.repartInputs(ctx, t, committed, first, j, int32(nJoin), writers, t.pl.entry[0])
	})
}

// joinedRepartTail makes t writer number j of topic (the one a join writer, or a two-stage
// query's join task, feeds the next stage through), whose pipeline ends in the returned node:
// it routes each joined row by the values of route (the aggregation's groups, or the next
// join step's key) encoded as the sink's key.
func joinedRepartTail(t *task, plan *queryPlan, sink *source, topic string, j int32, committed map[string]int64, route []*eval.Expr) (*joinedRepartNode, error) {
	nOut := sink.Partitions
	lo := t.makeWriter(topic, j, nOut)
	kc, _, err := sink.codecs()
	if err != nil {
		return nil, err
	}
	jr := &joinedRepartNode{
		t:     t,
		rn:    &repartNode{groups: route, kc: kc, base: lo, n: nOut, group: make([]any, len(route))},
		typs:  plan.joinedTypes(),
		index: j,
		seq:   committed[joinSeqKey],
	}
	t.commitExtra = func(offs map[string]int64) { offs[joinSeqKey] = jr.seq }
	return jr, nil
}
