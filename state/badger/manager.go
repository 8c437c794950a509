package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/sluicedb/sluice/state"
)

// Manager is a state.Manager over one Badger database.
type Manager struct {
	db  *bdg.DB
	cfg config

	// gate counts in-flight database operations so that Close can wait for them before it
	// closes Badger (whose iterators must not outlive the DB). It is not an RWMutex because a
	// Scan callback may call Get on the same store: a nested RLock deadlocks once Close waits.
	gate gate

	// dropMu is held shared by every Commit and exclusively by Drop: Badger's DropPrefix
	// blocks all writes to the database and fails concurrent ones with ErrBlockedWrites.
	dropMu sync.RWMutex

	// redoCommits counts commits that took the redo-log path, for tests and diagnostics.
	redoCommits atomic.Int64

	mu     sync.Mutex        // guards stores and closed
	stores map[string]*Store // open stores by id
	closed bool
}

var _ state.Manager = (*Manager)(nil)

// RedoCommits counts the commits that were too large for one Badger transaction and went
// through the redo log (for tests and diagnostics).
func (m *Manager) RedoCommits() int64 { return m.redoCommits.Load() }

// Open opens (creating if needed) the state database in dir.
func Open(dir string, opts ...Option) (*Manager, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := removeEmptyMemtables(dir); err != nil {
		return nil, fmt.Errorf("state/badger: open %s: %w", dir, err)
	}
	db, err := bdg.Open(cfg.badgerOptions(dir))
	if err != nil {
		return nil, fmt.Errorf("state/badger: open %s: %w", dir, err)
	}
	m := &Manager{db: db, cfg: cfg, stores: make(map[string]*Store)}
	m.gate.init()
	if err := m.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	if err := m.finishDrops(); err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// removeEmptyMemtables works around dgraph-io/badger#2207 (found by statetest's kill test): a
// process killed between creating a memtable's write-ahead log file and sizing it leaves a
// 0-byte .mem file, and bdg.Open then fails with z.NewFile ("Create a new file"). Such a file
// holds no entries, so removing it loses nothing; upstream's proposed fix (PR #2331) skips it.
func removeEmptyMemtables(dir string) error {
	files, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir() || !strings.HasSuffix(f.Name(), ".mem") {
			continue
		}
		info, err := f.Info()
		if err != nil {
			return err
		}
		if info.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) checkFormat() error {
	return m.db.Update(func(txn *bdg.Txn) error {
		item, err := txn.Get(versionKey)
		if errors.Is(err, bdg.ErrKeyNotFound) {
			return txn.Set(versionKey, binary.AppendUvarint(nil, formatVersion))
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			got, n := binary.Uvarint(v)
			if n <= 0 || got != formatVersion {
				return fmt.Errorf("state/badger: unsupported format version %d (want %d)", got, formatVersion)
			}
			return nil
		})
	})
}

// finishDrops completes Drops that a crash interrupted: DropPrefix is not atomic, so Drop
// records its intent first and this removes whatever the crash left behind.
func (m *Manager) finishDrops() error {
	var prefixes [][]byte
	err := m.db.View(func(txn *bdg.Txn) error {
		p := []byte{nsManager, mgrDrop}
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.Valid(); it.Next() {
			prefixes = append(prefixes, it.Item().KeyCopy(nil)[len(p):])
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range prefixes {
		if err := m.dropPrefix(p); err != nil {
			return err
		}
	}
	return nil
}

// dropPrefix deletes every key of one store, crash-safely. The caller holds dropMu
// exclusively or is Open (no store is open yet).
func (m *Manager) dropPrefix(prefix []byte) error {
	marker := dropMarkerKey(prefix)
	if err := m.db.Update(func(txn *bdg.Txn) error { return txn.Set(marker, nil) }); err != nil {
		return err
	}
	if err := m.db.DropPrefix(prefix); err != nil {
		return err
	}
	return m.db.Update(func(txn *bdg.Txn) error { return txn.Delete(marker) })
}

// Open opens the store of one query. A store can be open only once at a time: it has a single
// writer, and its buffer and cache assume it.
func (m *Manager) Open(storeID string) (state.Store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, state.ErrClosed
	}
	if _, ok := m.stores[storeID]; ok {
		return nil, fmt.Errorf("state/badger: store %q is already open", storeID)
	}
	s := newStore(m, storeID)
	if err := s.recover(); err != nil {
		return nil, fmt.Errorf("state/badger: recover store %q: %w", storeID, err)
	}
	m.stores[storeID] = s
	return s, nil
}

func (m *Manager) forget(s *Store) {
	m.mu.Lock()
	if m.stores[s.id] == s {
		delete(m.stores, s.id)
	}
	m.mu.Unlock()
}

// Close closes every open store (discarding uncommitted writes), waits for in-flight reads and
// commits, and closes the database.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	for _, s := range m.stores {
		s.closed.Store(true)
	}
	clear(m.stores)
	m.mu.Unlock()
	m.gate.close()
	return m.db.Close()
}

// gate admits operations until close, which then waits for the admitted ones to leave.
type gate struct {
	mu     sync.Mutex
	idle   sync.Cond // signalled when n drops to zero
	n      int       // operations in flight; guarded by mu
	closed bool      // guarded by mu
}

func (g *gate) init() { g.idle.L = &g.mu }

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	g.n--
	if g.n == 0 {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	for g.n > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
}
