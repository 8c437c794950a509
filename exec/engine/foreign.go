package engine

import (
	"context"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/storage"
)

// Foreign writes into a query's sink. A persistent query that is the exclusive writer of a
// sink partition cuts that partition back to its last committed mark when it restarts
// (exactly-once recovery), which would also cut rows that someone else appended after the
// mark: an INSERT VALUES into the sink stream, or the output of an INSERT INTO query. So those
// appends go through the owning task: under its lock, the rows are appended, its mark moves
// past them and the task commits, all before the insert is acknowledged. The commit is an
// ordinary one (state, input offsets and marks as of what the task has processed), so the
// task's own exactly-once scheme is untouched.

// sinkOwners indexes the running exclusive writers by sink topic.
type sinkOwners struct {
	mu sync.Mutex
	m  map[string][]*task
}

func (o *sinkOwners) add(t *task) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string][]*task{}
	}
	o.m[t.outTopic] = append(o.m[t.outTopic], t)
}

func (o *sinkOwners) remove(t *task) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.m[t.outTopic]
	for i, x := range ts {
		if x == t {
			o.m[t.outTopic] = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
}

// owner returns the task that exclusively writes partition p of topic, if any.
func (o *sinkOwners) owner(topic string, p int32) *task {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range o.m[topic] {
		if t.only < 0 || t.only == p {
			return t
		}
	}
	return nil
}

// ownsSink reports whether t's recovery cuts its output topic, so that others must append
// to it through t.
func (t *task) ownsSink() bool { return t.exclusive && !t.matOnly && t.repart == nil }

// appendForeign appends recs (Partition set, or -1 for the default partitioner) to topic on
// behalf of something other than the topic's owning queries, and returns their offsets once
// they are durable.
func (e *Engine) appendForeign(ctx context.Context, topic string, recs []storage.Record) ([]int64, error) {
	offs, _, err := e.appendForeignFrom(ctx, topic, recs, nil)
	return offs, err
}

// appendForeignFrom is appendForeign for an INSERT INTO task (from, or nil). A stateless task
// that owns one target partition (positionsInOwner) appends all its rows through that
// partition's owner, whose commit then also records the task's positions: the rows and the
// positions that produced them become durable together, whenever the owner next commits, and
// the task commits nothing itself meanwhile, so nothing of it gets ahead of them
// (insertOffsetsFromOwner reads them back). tracked reports that a live owner took every
// record so. Any other task (one over every partition, which may append through several
// owners that cannot commit as one, or one with state the owner cannot commit) waits for the
// owners' commits and commits its own positions after: at-least-once.
func (e *Engine) appendForeignFrom(ctx context.Context, topic string, recs []storage.Record, from *task) (offs []int64, tracked bool, err error) {
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil || len(info.Partitions) == 0 {
		offs, err := e.log.Append(ctx, topic, recs)
		return offs, false, err
	}
	n := len(info.Partitions)
	groups := map[*task][]int{} // owner (nil: none) -> indices of its records
	for i := range recs {
		p := recs[i].Partition
		if p < 0 {
			if recs[i].Key == nil {
				p = 0
			} else {
				p = storage.PartitionFor(recs[i].Key, n)
			}
			recs[i].Partition = p
		}
		owner := e.owners.owner(topic, p)
		groups[owner] = append(groups[owner], i)
	}
	var fromOffs map[string]int64
	if from != nil && from.positionsInOwner && len(groups) == 1 {
		fromOffs = make(map[string]int64, len(from.inputs))
		for k, v := range from.positions() {
			fromOffs[insertOffsetKey(from.id, k)] = v
		}
	}
	deferCommit := fromOffs != nil
	offs = make([]int64, len(recs))
	tracked = fromOffs != nil
	for owner, idx := range groups {
		batch := make([]storage.Record, len(idx))
		for k, i := range idx {
			batch[k] = recs[i]
		}
		got, owned, err := e.appendThrough(ctx, owner, topic, batch, fromOffs, deferCommit)
		if err != nil {
			return nil, false, err
		}
		tracked = tracked && owned
		for k, i := range idx {
			offs[i] = got[k]
		}
	}
	return offs, tracked, nil
}

// appendThrough appends batch to topic under owner's lock and commits owner's moved marks,
// at once or (deferCommit) at the owner's next commit. It is a plain append (owned false)
// without an owner, or when the owner has stopped or failed: a failed task's state may hold
// half a batch, which must not be committed.
func (e *Engine) appendThrough(ctx context.Context, owner *task, topic string, batch []storage.Record, fromOffs map[string]int64, deferCommit bool) (offs []int64, owned bool, err error) {
	if owner == nil {
		offs, err := e.log.Append(ctx, topic, batch)
		return offs, false, err
	}
	owner.mu.Lock()
	defer owner.mu.Unlock()
	if owner.closed || owner.failure() != nil {
		offs, err := e.log.Append(ctx, topic, batch)
		return offs, false, err
	}
	offs, err = e.log.Append(ctx, topic, batch)
	if err != nil {
		return nil, false, err
	}
	for i, r := range batch {
		if offs[i]+1 > owner.hwm[r.Partition] {
			owner.hwm[r.Partition] = offs[i] + 1
		}
	}
	if len(fromOffs) > 0 {
		if owner.foreign == nil {
			owner.foreign = map[string]int64{}
		}
		for k, v := range fromOffs {
			owner.foreign[k] = v
		}
	}
	owner.dirty = true
	if !deferCommit || owner.standalone {
		if err := owner.commit(); err != nil {
			return nil, false, err
		}
	}
	return offs, true, nil
}

// handPositionsToOwner gives t's current positions to the live owner of its target partition
// for its next commit, and reports whether there was one. Input that produced no rows (a
// filter) moves t's positions without an append; without this, a restart would read it again.
func (e *Engine) handPositionsToOwner(t *task) bool {
	owner := e.owners.owner(t.outTopic, t.only)
	if owner == nil {
		return false
	}
	owner.mu.Lock()
	defer owner.mu.Unlock()
	if owner.closed || owner.failure() != nil {
		return false
	}
	for k, v := range t.positions() {
		key := insertOffsetKey(t.id, k)
		if old, ok := owner.foreign[key]; ok && old == v {
			continue
		}
		if owner.foreign == nil {
			owner.foreign = map[string]int64{}
		}
		owner.foreign[key] = v
		owner.dirty = true
	}
	if owner.standalone && owner.dirty {
		if err := owner.commit(); err != nil {
			return false // the task commits its positions itself
		}
	}
	return true
}

// forgetInsertPositions erases, at the owner's next commit, every position a terminated
// INSERT INTO query's tasks kept in its owners' commits, so that a later query given the same
// QUERY_ID starts as a new query does, not where the old one stopped. A position of -1 is
// below every offset, so insertOffsetsFromOwner never resumes from it.
func (e *Engine) forgetInsertPositions(q *queryInfo) {
	done := map[*task]bool{}
	for _, t := range q.allTasks() {
		if !t.positionsInOwner {
			continue
		}
		owner := e.owners.owner(t.outTopic, t.only)
		if owner == nil || done[owner] {
			continue
		}
		done[owner] = true
		prefix := "ins:" + t.id + "/"
		owner.mu.Lock()
		var keys []string
		for k := range owner.foreign {
			keys = append(keys, k)
		}
		if offs, err := owner.store.Offsets(); err == nil {
			for k := range offs {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				if owner.foreign == nil {
					owner.foreign = map[string]int64{}
				}
				owner.foreign[k] = -1
				owner.dirty = true
			}
		}
		if owner.standalone && owner.dirty {
			if err := owner.commit(); err != nil {
				e.logf("%s: %v", owner.id, err)
			}
		}
		owner.mu.Unlock()
	}
}

// insertOffsetKey names an INSERT INTO task's commit position in its owner's commits.
func insertOffsetKey(queryID, position string) string {
	return "ins:" + queryID + "/" + position
}

// positions returns what t's commits record of its progress: its input offsets and the
// positions it adds itself (commitExtra: the last record seen from each repartition writer).
func (t *task) positions() map[string]int64 {
	offs := make(map[string]int64, len(t.inputs))
	for _, in := range t.inputs {
		offs[in.id()] = in.offset
	}
	if t.commitExtra != nil {
		t.commitExtra(offs)
	}
	return offs
}

// insertOffsetsFromOwner moves an INSERT INTO partition task's committed positions forward to
// those its target partition's owner committed with the task's rows, when they are later (the
// task crashed between the owner's commit and its own). Every position only grows.
func (e *Engine) insertOffsetsFromOwner(t *task, committed map[string]int64) {
	for id, v := range e.ownerCommitted(t) {
		if v > committed[id] {
			committed[id] = v
		}
	}
}

// ownerCommitted returns the positions that the owner of t's target partition last committed
// for t, by t's own names for them; nil without an owner.
func (e *Engine) ownerCommitted(t *task) map[string]int64 {
	owner := e.owners.owner(t.outTopic, t.only)
	if owner == nil {
		return nil
	}
	owner.mu.Lock()
	offs, err := owner.store.Offsets()
	owner.mu.Unlock()
	if err != nil {
		return nil
	}
	prefix := "ins:" + t.id + "/"
	out := map[string]int64{}
	for k, v := range offs {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out[k[len(prefix):]] = v
		}
	}
	return out
}
