package badger

import (
	"bytes"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/sluicedb/sluice/state"
)

// reader reads a store's committed data from Badger snapshots, for pull queries on other
// goroutines. It never sees the owner's buffer, and it bypasses the owner's cache (which has no
// lock). Each call takes its own snapshot: a Scan is consistent within itself, two calls may
// straddle a Commit.
type reader struct {
	s *Store
}

var (
	_ state.Reader        = (*reader)(nil)
	_ state.KeyScanner    = (*reader)(nil)
	_ state.CommitCounter = (*reader)(nil)
)

// Commits counts the store's commits that readers can see.
func (r *reader) Commits() uint64 { return r.s.visible.Load() }

// snapshot opens a read transaction outside any large commit's apply phase (see applyMu).
func (r *reader) snapshot() (*bdg.Txn, bool) {
	if r.s.closed.Load() || !r.s.m.gate.enter() {
		return nil, false
	}
	r.s.applyMu.RLock()
	txn := r.s.m.db.NewTransaction(false)
	r.s.applyMu.RUnlock()
	return txn, true
}

func (r *reader) done(txn *bdg.Txn) {
	txn.Discard()
	r.s.m.gate.leave()
}

func (r *reader) Get(table string, key []byte) ([]byte, bool, error) {
	txn, ok := r.snapshot()
	if !ok {
		return nil, false, state.ErrClosed
	}
	defer r.done(txn)
	return txnGet(txn, append(tablePrefix(r.s.prefix, table), key...))
}

func (r *reader) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	return r.scan(table, from, to, true, fn)
}

// ScanKeys lists keys without fetching or copying values.
func (r *reader) ScanKeys(table string, from, to []byte, fn func(key []byte) bool) error {
	return r.scan(table, from, to, false, func(k, _ []byte) bool { return fn(k) })
}

// scan calls fn with copies of the keys in [from, to) of table, and of their values when
// withValues is set, from one snapshot.
func (r *reader) scan(table string, from, to []byte, withValues bool, fn func(key, value []byte) bool) error {
	txn, ok := r.snapshot()
	if !ok {
		return state.ErrClosed
	}
	defer r.done(txn)
	tp := tablePrefix(r.s.prefix, table)
	lo, hi := scanBounds(tp, from, to)
	it := txn.NewIterator(bdg.IteratorOptions{Prefix: tp})
	defer it.Close()
	for it.Seek(lo); it.Valid(); it.Next() {
		item := it.Item()
		if bytes.Compare(item.Key(), hi) >= 0 {
			return nil
		}
		var v []byte
		if withValues {
			var err error
			if v, err = item.ValueCopy(nil); err != nil {
				return err
			}
		}
		if !fn(item.KeyCopy(nil)[len(tp):], v) {
			return nil
		}
	}
	return nil
}
