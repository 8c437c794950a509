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
func (e *Engine) startJoinWriter(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, topic string, i int32, nOut int) (*task, error) {
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
	jr := &joinedRepartNode{
		t:     t,
		rn:    &repartNode{groups: plan.agg.groups, kc: kc, base: lo, n: nOut, group: make([]any, len(plan.agg.groups))},
		typs:  plan.joinedTypes(),
		index: i,
		seq:   committed[joinSeqKey],
	}
	t.commitExtra = func(offs map[string]int64) { offs[joinSeqKey] = jr.seq }
	pl := &pipeline{plan: plan, st: t.store, errs: t.recordError}
	if err := plan.feed(pl, jr); err != nil {
		return nil, err
	}
	t.pl = pl
	broadcast := plan.broadcastSources()
	for si, bs := range plan.sources {
		part := i
		if broadcast[si] {
			part = -1
		}
		if err := e.addSourceInputs(ctx, t, bs.src.Topic, part, pl.entry[si], committed, plan); err != nil {
			return nil, err
		}
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
		return pl.agg.push(&c)
	}
}
