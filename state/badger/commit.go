package badger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/sluicedb/sluice/state"
)

// Commit makes the buffered writes and offsets durable atomically (see the package comment
// for the two paths), then moves the written entries into the read cache. Offsets are merged
// into the committed ones: sources not named keep their previous offset.
//
// On error the buffer is left intact, so the caller may retry or abort.
func (s *Store) Commit(offsets map[string]int64) error {
	return s.CommitWith(offsets, nil)
}

// CommitWith is Commit with further writes handed straight to the commit instead of through
// Put, for an owner that keeps its own copy of this state (an aggregation's entry cache): they
// skip the write buffer and the read cache, so Get and Scan do not see them before the commit
// and the cache does not hold them after it. writes calls put for each write; it may be called
// more than once per commit (a commit too large for one transaction goes through the redo log)
// and must then make the same calls. The slices passed to put must stay unchanged until
// CommitWith returns. writes may be nil.
func (s *Store) CommitWith(offsets map[string]int64, writes func(put func(table string, key, value []byte, deleted bool))) error {
	if err := s.WaitCommit(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	if !s.m.gate.enter() {
		return state.ErrClosed
	}
	defer s.m.gate.leave()
	s.m.dropMu.RLock()
	defer s.m.dropMu.RUnlock()

	if s.pendingApply {
		if err := s.recoverLocked(); err != nil {
			return err
		}
	}
	s.extra = writes
	defer func() { s.extra = nil }()
	err := s.commitTxn(offsets)
	if errors.Is(err, bdg.ErrTxnTooBig) {
		s.m.redoCommits.Add(1)
		err = s.commitRedo(offsets)
	}
	if err != nil {
		return fmt.Errorf("state/badger: commit store %q: %w", s.id, err)
	}
	s.visible.Add(1)
	s.wb.committed()
	return nil
}

// CommitWithAsync is CommitWith that returns once the commit is handed to Badger's writer,
// without waiting for it to be written: the owner goes on processing input while Badger
// writes, instead of the two taking turns. WaitCommit reports the outcome. Until it returns,
// the slices passed to put must stay unchanged; every other method that commits waits for it
// first, and so does the next CommitWithAsync, so at most one commit is in flight.
//
// The store treats the commit as done at once: its buffered writes become cached values, as
// after CommitWith. That is safe because Badger makes a read wait for the commits handed over
// before it, so a value evicted from a cache is read back as written. If the commit fails,
// WaitCommit says so and the owner must not commit again on top of it: its in-memory state is
// ahead of what is durable, and it has to start again from the last commit (reopen).
//
// A commit that cannot go asynchronously (one too large for a transaction, or after a redo
// commit that has still to be applied) is done synchronously; its error is returned here.
func (s *Store) CommitWithAsync(offsets map[string]int64, writes func(put func(table string, key, value []byte, deleted bool))) error {
	if err := s.WaitCommit(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	if s.pendingApply {
		return s.CommitWith(offsets, writes)
	}
	if !s.m.gate.enter() {
		return state.ErrClosed
	}
	s.m.dropMu.RLock()
	// The gate and dropMu are held until Badger is done, so that neither Close nor Drop runs
	// under a commit in flight; the callback, not this goroutine, lets go of them.
	release := func() {
		s.m.dropMu.RUnlock()
		s.m.gate.leave()
	}
	s.extra = writes
	txn, err := s.buildTxn(offsets)
	s.extra = nil
	if errors.Is(err, bdg.ErrTxnTooBig) {
		release()
		return s.CommitWith(offsets, writes)
	}
	if err != nil {
		release()
		return fmt.Errorf("state/badger: commit store %q: %w", s.id, err)
	}
	done := make(chan error, 1)
	txn.CommitWith(func(err error) {
		if err == nil {
			s.visible.Add(1) // Badger calls back once new snapshots see the commit
		}
		release()
		done <- err
	})
	s.inflight = done
	s.wb.committed()
	return nil
}

// WaitCommit waits for the commit CommitWithAsync handed to Badger, if any, and returns its
// error. The error sticks: every later commit returns it too, because the owner's state went
// on from a commit that did not happen.
func (s *Store) WaitCommit() error {
	if s.inflight != nil {
		if err := <-s.inflight; err != nil {
			s.asyncFailed = fmt.Errorf("state/badger: commit store %q: %w", s.id, err)
		}
		s.inflight = nil
	}
	return s.asyncFailed
}

// commitTxn is the common path: everything in one Badger transaction.
func (s *Store) commitTxn(offsets map[string]int64) error {
	txn, err := s.buildTxn(offsets)
	if err != nil {
		return err
	}
	return txn.Commit()
}

// buildTxn puts every write of the commit in progress and the offsets into one transaction.
// On error the transaction is discarded.
func (s *Store) buildTxn(offsets map[string]int64) (*bdg.Txn, error) {
	txn := s.m.db.NewTransaction(true)
	s.entries = s.entries[:0]
	err := s.eachWrite(func(key, value []byte, deleted bool) error {
		if deleted {
			return txn.Delete(key)
		}
		if len(s.entries) == cap(s.entries) {
			// A new array: the transaction holds pointers into the old one until it ends.
			s.entries = make([]bdg.Entry, 0, max(2*cap(s.entries), 256))
		}
		s.entries = append(s.entries, bdg.Entry{Key: key, Value: value})
		return txn.SetEntry(&s.entries[len(s.entries)-1])
	})
	if err != nil {
		txn.Discard()
		return nil, err
	}
	for src, off := range offsets {
		if err := txn.Set(offsetKey(s.prefix, src), encodeOffset(off)); err != nil {
			txn.Discard()
			return nil, err
		}
	}
	return txn, nil
}

// eachWrite calls fn with every write of the commit in progress: the buffered ones, then those
// of CommitWith's writes function (their keys built in keyArena, which lives until the next
// commit). It stops at fn's first error.
func (s *Store) eachWrite(fn func(key, value []byte, deleted bool) error) error {
	for _, n := range s.wb.dirty {
		if err := fn(bytesOf(n.key), n.value, n.deleted); err != nil {
			return err
		}
	}
	if s.extra == nil {
		return nil
	}
	s.keyArena = s.keyArena[:0]
	var err error
	s.extra(func(table string, key, value []byte, deleted bool) {
		if err != nil {
			return
		}
		start := len(s.keyArena)
		s.keyArena = append(append(s.keyArena, s.tablePrefix(table)...), key...)
		// Capped, so that a later append never writes into a key Badger still holds.
		err = fn(s.keyArena[start:len(s.keyArena):len(s.keyArena)], value, deleted)
	})
	return err
}

// redoChunkBytes is the target size of one redo chunk: small enough to stay inline in the LSM
// tree (below ValueThreshold) and for several to share a transaction.
func (s *Store) redoChunkBytes() int {
	return int(min(256<<10, s.m.db.MaxBatchSize()/4))
}

// commitRedo commits a batch too large for one transaction. Steps and what a crash after each
// leaves (the recovery in recoverLocked runs on the next Open):
//
//  1. write the redo chunks (WriteBatch, several transactions): chunks without a marker, which
//     recovery deletes; state and offsets are the previous commit's.
//  2. one transaction: the marker (chunk count) and the offsets. This is the commit point;
//     from here on recovery replays the chunks, so the new state is what survives.
//  3. apply the writes (WriteBatch): recovery re-applies them all; puts and deletes of fixed
//     values are idempotent.
//  4. delete the marker, then the chunks.
func (s *Store) commitRedo(offsets map[string]int64) error {
	db := s.m.db
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	var chunk []byte
	var chunks uint32
	limit := s.redoChunkBytes()
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := wb.Set(redoKey(s.prefix, chunks), chunk)
		chunk, chunks = nil, chunks+1
		return err
	}
	err := s.eachWrite(func(key, value []byte, deleted bool) error {
		chunk = appendRedo(chunk, key, value, deleted)
		if len(chunk) >= limit {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}

	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	err = db.Update(func(txn *bdg.Txn) error {
		if err := txn.Set(tagPrefix(s.prefix, tagMarker), binary.AppendUvarint(nil, uint64(chunks))); err != nil {
			return err
		}
		for src, off := range offsets {
			if err := txn.Set(offsetKey(s.prefix, src), encodeOffset(off)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Committed. A failure from here on is repaired by replaying the redo log, either at the
	// next Commit (pendingApply) or at the next Open.
	s.pendingApply = true
	apply := db.NewWriteBatch()
	defer apply.Cancel()
	err = s.eachWrite(func(key, value []byte, deleted bool) error {
		if deleted {
			return apply.Delete(key)
		}
		return apply.Set(key, value)
	})
	if err != nil {
		return err
	}
	if err := apply.Flush(); err != nil {
		return err
	}
	if err := s.clearRedo(); err != nil {
		return err
	}
	s.pendingApply = false
	return nil
}

// recover brings the store's keys to the last commit after a crash: it replays a redo log
// whose marker was written and discards one whose marker was not.
func (s *Store) recover() error {
	if !s.m.gate.enter() {
		return state.ErrClosed
	}
	defer s.m.gate.leave()
	s.m.dropMu.RLock()
	defer s.m.dropMu.RUnlock()
	return s.recoverLocked()
}

// recoverLocked is recover for a caller already inside the gate and holding dropMu shared.
func (s *Store) recoverLocked() error {
	db := s.m.db
	var chunks uint64
	var marked bool
	err := db.View(func(txn *bdg.Txn) error {
		v, ok, err := txnGet(txn, tagPrefix(s.prefix, tagMarker))
		if err != nil || !ok {
			return err
		}
		var n int
		if chunks, n = binary.Uvarint(v); n <= 0 {
			return errCorruptRedo
		}
		marked = true
		return nil
	})
	if err != nil {
		return err
	}
	if marked {
		s.applyMu.Lock()
		defer s.applyMu.Unlock()
		if err := s.replayRedo(uint32(chunks)); err != nil {
			return err
		}
		// The cache may hold values from before the replayed commit.
		s.wb.forgetCache()
	}
	if err := s.clearRedo(); err != nil {
		return err
	}
	s.pendingApply = false
	return nil
}

func (s *Store) replayRedo(chunks uint32) error {
	db := s.m.db
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for i := range chunks {
		var chunk []byte
		err := db.View(func(txn *bdg.Txn) error {
			v, ok, err := txnGet(txn, redoKey(s.prefix, i))
			if err == nil && !ok {
				err = fmt.Errorf("%w: chunk %d of %d missing", errCorruptRedo, i, chunks)
			}
			chunk = v
			return err
		})
		if err != nil {
			return err
		}
		// chunk is a private copy, so WriteBatch may keep sub-slices of it until Flush.
		err = readRedo(chunk, func(key, value []byte, deleted bool) error {
			if deleted {
				return wb.Delete(key)
			}
			return wb.Set(key, value)
		})
		if err != nil {
			return err
		}
	}
	return wb.Flush()
}

// clearRedo deletes the marker first (one transaction) and then the chunks: chunks without a
// marker are garbage, whereas a marker without its chunks would be corruption.
func (s *Store) clearRedo() error {
	db := s.m.db
	if err := db.Update(func(txn *bdg.Txn) error {
		return txn.Delete(tagPrefix(s.prefix, tagMarker))
	}); err != nil {
		return err
	}
	var keys [][]byte
	p := tagPrefix(s.prefix, tagRedo)
	err := db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}
