package badger

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/sluicedb/sluice/state"
)

// Store is the state.Store of one query: a key prefix of the shared database plus a writeBack
// (buffered writes and cached committed values). Only the owning task may call its methods,
// except ReadCommitted (safe anywhere) and Close.
//
// Slices returned by Get and passed to Scan callbacks must not be modified: they may be the
// buffered or cached value itself. They stay valid after the call, so they may be retained
// (an aggregate may keep the old value to emit a retraction after Put). Put copies its key and
// value, so callers may reuse their encoding buffers.
type Store struct {
	m      *Manager
	id     string
	prefix []byte // storePrefix(id)

	closed atomic.Bool

	// The fields below belong to the owning task and have no lock.
	tables  map[string][]byte // table name -> table prefix
	wb      *writeBack        // buffered writes and cached committed values
	scratch []byte            // full key of the current Get/Put/Delete
	// boundsBuf holds the bounds of the Scan in progress; scanning counts nested Scans (from
	// a Scan's callback), which make their own.
	boundsBuf []byte
	scanning  int
	// extra is the writes function of the CommitWith in progress; keyArena holds the full
	// keys it produced.
	extra    func(put func(table string, key, value []byte, deleted bool))
	keyArena []byte
	// entries are the Badger entries of commitTxn, reused from commit to commit: Badger lets
	// go of them once the transaction's Commit returns (or, for CommitWithAsync, once it
	// calls back). A commit in flight completes without the store, even past Close: it holds
	// the manager's gate, and Badger makes later reads wait for it.
	entries []bdg.Entry
	// inflight receives the outcome of the commit CommitWithAsync handed to Badger; nil when
	// none is in flight.
	inflight chan error
	// asyncFailed is the error of a commit that failed in flight; see WaitCommit.
	asyncFailed error
	// visible counts the commits that readers can see (ReadCommitted's Commits).
	visible atomic.Uint64
	// pendingApply is set when a redo-log commit failed after its commit point: the next
	// Commit replays the redo log before anything else.
	pendingApply bool

	// applyMu is held exclusively while a large commit is applied in several Badger
	// transactions, and shared by readers while they take their snapshot, so that no snapshot
	// falls in the middle.
	applyMu sync.RWMutex
}

var _ state.Store = (*Store)(nil)

func newStore(m *Manager, id string) *Store {
	return &Store{
		m:      m,
		id:     id,
		prefix: storePrefix(id),
		tables: make(map[string][]byte),
		wb:     newWriteBack(m.cfg.cacheBytes),
	}
}

// SetCacheBytes changes the budget for cached committed values of this store (0: none). An
// owner that caches what it reads itself (an aggregation) gains nothing from a second copy,
// which only costs a map entry per written key and garbage-collection work.
func (s *Store) SetCacheBytes(n int) {
	s.wb.limit = n
	if n <= 0 {
		s.wb.forgetCache()
		return
	}
	s.wb.evict()
}

func (s *Store) tablePrefix(table string) []byte {
	p, ok := s.tables[table]
	if !ok {
		p = tablePrefix(s.prefix, table)
		s.tables[table] = p
	}
	return p
}

func (s *Store) fullKey(table string, key []byte) []byte {
	s.scratch = append(append(s.scratch[:0], s.tablePrefix(table)...), key...)
	return s.scratch
}

// Get reads the buffered write, else the cached committed value, else Badger (filling the
// cache).
func (s *Store) Get(table string, key []byte) ([]byte, bool, error) {
	if s.closed.Load() {
		return nil, false, state.ErrClosed
	}
	k := s.fullKey(table, key)
	if e := s.wb.get(k); e != nil {
		if e.dirty {
			return e.value, !e.deleted, nil
		}
		if e.loaded {
			return e.cvalue, e.present, nil
		}
	}
	v, ok, err := s.m.getCommitted(k)
	if err != nil {
		return nil, false, err
	}
	s.wb.load(k, v, ok)
	return v, ok, nil
}

// Put buffers a write; it is visible to this store's Get and Scan at once and to others after
// Commit. Writes to a closed store are dropped (Commit will report ErrClosed).
func (s *Store) Put(table string, key, value []byte) {
	if s.closed.Load() {
		return
	}
	// A copy even when empty, so that Get of a present key never returns nil.
	v := make([]byte, len(value))
	copy(v, value)
	s.wb.write(s.fullKey(table, key), v, false)
}

// Delete buffers a tombstone.
func (s *Store) Delete(table string, key []byte) {
	if s.closed.Load() {
		return
	}
	s.wb.write(s.fullKey(table, key), nil, true)
}

// Scan merges the buffer with a Badger snapshot in key order; buffered entries shadow
// committed ones and tombstones hide them. fn may Get, Put and Delete on this store (whether
// keys first written during the Scan are visited is unspecified); it must not Commit or Drop.
func (s *Store) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	if s.closed.Load() {
		return state.ErrClosed
	}
	tp := s.tablePrefix(table)
	var lo, hi []byte
	if s.scanning == 0 {
		s.boundsBuf, lo, hi = appendScanBounds(s.boundsBuf[:0], tp, from, to)
	} else {
		lo, hi = scanBounds(tp, from, to)
	}
	s.scanning++
	defer func() { s.scanning-- }()
	if !s.m.gate.enter() {
		return state.ErrClosed
	}
	defer s.m.gate.leave()
	txn := s.m.db.NewTransaction(false)
	defer txn.Discard()
	// The longest prefix every key in [lo, hi) shares (a join's window of one key, say) lets
	// Badger skip the tables that cannot hold it.
	it := txn.NewIterator(bdg.IteratorOptions{Prefix: commonPrefix(lo, hi, len(tp))})
	defer it.Close()

	it.Seek(lo)
	n := s.wb.seek(lo)
	for {
		var dk []byte // next committed key, nil when done
		if it.Valid() {
			if dk = it.Item().Key(); bytes.Compare(dk, hi) >= 0 {
				dk = nil
			}
		}
		if n != nil && n.key >= string(hi) {
			n = nil
		}
		switch {
		case dk == nil && n == nil:
			return nil
		case n != nil && (dk == nil || n.key <= string(dk)):
			if dk != nil && n.key == string(dk) {
				it.Next() // shadowed by the buffer
			}
			cur := n
			n = n.next[0]
			if !cur.deleted && !fn(bytesOf(cur.key)[len(tp):], cur.value) {
				return nil
			}
		default:
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			k := item.KeyCopy(nil)[len(tp):]
			it.Next()
			if !fn(k, v) {
				return nil
			}
		}
	}
}

// commonPrefix is a prefix of every key in [lo, hi): the bytes lo and hi share, from their
// first n (the table prefix) on. A key at or after lo and before hi starts with them too.
func commonPrefix(lo, hi []byte, n int) []byte {
	for n < len(lo) && n < len(hi) && lo[n] == hi[n] {
		n++
	}
	return lo[:n]
}

// appendScanBounds turns table-relative [from, to) into database keys, appended to buf.
func appendScanBounds(buf, tp, from, to []byte) (out, lo, hi []byte) {
	n := len(buf)
	buf = append(append(buf, tp...), from...)
	m := len(buf)
	if to == nil {
		end := prefixEnd(tp)
		if end == nil {
			return buf, buf[n:m:m], nil
		}
		buf = append(buf, end...)
	} else {
		buf = append(append(buf, tp...), to...)
	}
	return buf, buf[n:m:m], buf[m:len(buf):len(buf)]
}

// scanBounds turns table-relative [from, to) into database keys.
func scanBounds(tp, from, to []byte) (lo, hi []byte) {
	_, lo, hi = appendScanBounds(nil, tp, from, to)
	return lo, hi
}

// Offsets returns the committed offsets (an empty map before the first Commit).
func (s *Store) Offsets() (map[string]int64, error) {
	if s.closed.Load() {
		return nil, state.ErrClosed
	}
	if !s.m.gate.enter() {
		return nil, state.ErrClosed
	}
	defer s.m.gate.leave()
	out := make(map[string]int64)
	p := tagPrefix(s.prefix, tagOffset)
	err := s.m.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.Valid(); it.Next() {
			var off int64
			err := it.Item().Value(func(v []byte) (err error) {
				off, err = decodeOffset(v)
				return err
			})
			if err != nil {
				return err
			}
			out[string(it.Item().Key()[len(p):])] = off
		}
		return nil
	})
	return out, err
}

// ReadCommitted returns a reader of this store's committed data for other goroutines.
func (s *Store) ReadCommitted() state.Reader { return &reader{s: s} }

// Drop deletes all of the store's data, committed and buffered, and its offsets. The store
// stays open and empty. Drop stalls every other store's Commit while it runs (DropPrefix blocks
// database writes), so it is meant for DROP and TERMINATE, not for clearing a table.
func (s *Store) Drop() error {
	if s.closed.Load() {
		return state.ErrClosed
	}
	if !s.m.gate.enter() {
		return state.ErrClosed
	}
	defer s.m.gate.leave()
	s.m.dropMu.Lock()
	defer s.m.dropMu.Unlock()
	if err := s.m.dropPrefix(s.prefix); err != nil {
		return err
	}
	s.wb.reset()
	s.pendingApply = false
	return nil
}

// Close discards uncommitted writes and releases the store id for a later Open.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.m.forget(s)
	return nil
}

// getCommitted reads one committed value from a fresh snapshot.
func (m *Manager) getCommitted(key []byte) ([]byte, bool, error) {
	if !m.gate.enter() {
		return nil, false, state.ErrClosed
	}
	defer m.gate.leave()
	txn := m.db.NewTransaction(false)
	defer txn.Discard()
	return txnGet(txn, key)
}

func txnGet(txn *bdg.Txn, key []byte) ([]byte, bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, bdg.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}
