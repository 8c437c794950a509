package engine

import (
	"context"
	"fmt"
	"strconv"
)

// Owners of plain streams. A stream no persistent query writes (a plain CREATE STREAM, or the
// sink of a terminated query) has no task to commit the rows INSERT INTO queries append to it,
// nor to cut uncommitted ones after a crash, so those queries were at-least-once there. While
// INSERT INTO queries write such a stream, each of its partitions gets a standalone owner: a
// task with no input and no pipeline, only a store, through which every append to the
// partition goes (foreign.go), committed before it is acknowledged, with the positions of the
// INSERT INTO tasks whose rows it took. A crash between an append and its commit is repaired as
// a query's own output is: the partition is cut back to the owner's committed mark and the
// INSERT INTO task, resuming from the positions committed with the rows, appends them again.
//
// The owner's commits record plainLiveKey: 1 while it runs, 0 once it stopped cleanly (its
// last INSERT INTO query ended, or the engine closed). Only a mark committed with 1 is cut to:
// after a clean stop, rows appended without an owner (INSERT VALUES) may follow the mark. A
// crash leaves 1, so recovery cuts, both when the owner is opened again and, at startup, for a
// stream that no INSERT INTO query writes any more (sweepPlainOwners).
//
// Only a log that can cut a partition's tail (the built-in log) gets these owners.

const plainLiveKey = "plain:live"

func plainStoreID(topic string, p int32) string { return fmt.Sprintf("_plain/%s/p%d", topic, p) }

// logCutsTails reports whether the log's TruncateTo works, so that owners can cut.
func (e *Engine) logCutsTails() bool {
	c, ok := e.log.(interface{ CutsTails() bool })
	return ok && c.CutsTails()
}

// ensurePlainOwners opens a standalone owner for every partition of sink that no task owns
// (startInsert calls it before starting the INSERT INTO query's tasks).
func (e *Engine) ensurePlainOwners(ctx context.Context, sink *source) error {
	if !e.logCutsTails() || sink.Topic == ProcessingLogTopic {
		return nil
	}
	info, err := e.log.DescribeTopic(ctx, sink.Topic)
	if err != nil {
		return err
	}
	for _, pi := range info.Partitions {
		if e.owners.owner(sink.Topic, pi.Partition) != nil {
			continue
		}
		t, err := e.openPlainOwner(ctx, sink, pi.Partition, true)
		if err != nil {
			return err
		}
		e.owners.add(t)
		e.plainOwners[sink.Topic] = append(e.plainOwners[sink.Topic], t)
	}
	return nil
}

// openPlainOwner opens the owner of partition p of sink: it cuts the partition back to the
// mark a crashed owner committed, then, when live, pins the current end and commits itself as
// running. Not live, it only recovers (sweepPlainOwners) and commits itself stopped.
func (e *Engine) openPlainOwner(ctx context.Context, sink *source, p int32, live bool) (*task, error) {
	store, err := e.states.Open(plainStoreID(sink.Topic, p))
	if err != nil {
		return nil, err
	}
	t := &task{e: e, id: "owner of " + sink.Topic + "/" + strconv.Itoa(int(p)), store: store, sink: sink, exclusive: true,
		hwm: map[int32]int64{}, tsCol: -1, only: p, outTopic: sink.Topic, standalone: true, pl: &pipeline{}}
	t.owns = func(q int32) bool { return q == p }
	committed, err := store.Offsets()
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	t.foreign = map[string]int64{}
	for k, v := range committed {
		if len(k) > 4 && k[:4] == "ins:" {
			t.foreign[k] = v // the INSERT INTO tasks' positions, kept in every commit
		}
	}
	if committed[plainLiveKey] != 1 {
		// Stopped cleanly (or never run): rows appended since without an owner follow its
		// mark, so there is nothing to cut; recoverTask pins the current end instead.
		delete(committed, "out:"+strconv.Itoa(int(p)))
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		_ = store.Close()
		return nil, err
	}
	t.foreign[plainLiveKey] = 0
	if live {
		t.foreign[plainLiveKey] = 1
	}
	t.dirty = true
	if err := t.commit(); err != nil {
		_ = store.Close()
		return nil, err
	}
	return t, nil
}

// closePlainOwners stops topic's standalone owners cleanly once no INSERT INTO query writes
// the topic any more: later rows go straight to the log again.
func (e *Engine) closePlainOwners(topic string) {
	for _, q := range e.cat.queries {
		if q.Kind == "INSERT" {
			if sink := e.cat.sources[q.Sink]; sink != nil && sink.Topic == topic {
				return
			}
		}
	}
	e.closePlainOwnersNow(topic)
}

// closePlainOwnersNow stops topic's standalone owners cleanly.
func (e *Engine) closePlainOwnersNow(topic string) {
	for _, t := range e.plainOwners[topic] {
		t.stopPlainOwner()
	}
	delete(e.plainOwners, topic)
}

// closeAllPlainOwners stops every standalone owner cleanly (Engine.Close, after the queries).
func (e *Engine) closeAllPlainOwners() {
	for topic := range e.plainOwners {
		e.closePlainOwnersNow(topic)
	}
}

// stopPlainOwner takes a standalone owner out of the appends' way and commits it stopped.
func (t *task) stopPlainOwner() {
	t.e.owners.remove(t)
	t.mu.Lock()
	t.foreign[plainLiveKey] = 0
	t.dirty = true
	if err := t.commit(); err != nil {
		t.e.logf("%s: %v", t.id, err)
	}
	t.closed = true
	t.mu.Unlock()
	_ = t.store.Close()
}

// dropPlainOwnerStores deletes the stores of topic's owners when its stream is dropped (its
// INSERT INTO queries have ended, so no owner runs), unless another stream over the topic
// still has running owners.
func (e *Engine) dropPlainOwnerStores(ctx context.Context, topic string) {
	if !e.logCutsTails() || len(e.plainOwners[topic]) > 0 {
		return
	}
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return
	}
	for _, pi := range info.Partitions {
		if st, err := e.states.Open(plainStoreID(topic, pi.Partition)); err == nil {
			_ = st.Drop()
			_ = st.Close()
		}
	}
}

// plainOwnerCrashed reports whether the owner of partition p of topic last committed itself
// running (an empty store, never used, reports false).
func (e *Engine) plainOwnerCrashed(topic string, p int32) (bool, error) {
	store, err := e.states.Open(plainStoreID(topic, p))
	if err != nil {
		return false, err
	}
	defer store.Close()
	committed, err := store.Offsets()
	return committed[plainLiveKey] == 1, err
}

// sweepPlainOwners repairs, at startup, the partitions of streams whose owner crashed but that
// no INSERT INTO query writes any more (it ended in the crash): cut back to the owner's last
// mark, then marked stopped, before anyone appends to them without an owner.
func (e *Engine) sweepPlainOwners(ctx context.Context) error {
	if !e.logCutsTails() {
		return nil
	}
	for _, src := range e.cat.sources {
		if src.Topic == ProcessingLogTopic || len(e.plainOwners[src.Topic]) > 0 {
			continue
		}
		info, err := e.log.DescribeTopic(ctx, src.Topic)
		if err != nil {
			continue
		}
		for _, pi := range info.Partitions {
			if e.owners.owner(src.Topic, pi.Partition) != nil {
				continue
			}
			crashed, err := e.plainOwnerCrashed(src.Topic, pi.Partition)
			if err != nil {
				return err
			}
			if !crashed {
				continue
			}
			t, err := e.openPlainOwner(ctx, src, pi.Partition, false)
			if err != nil {
				return err
			}
			_ = t.store.Close()
		}
	}
	return nil
}
