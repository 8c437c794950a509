package engine

import (
	"bytes"
	"sort"
	"sync"

	"github.com/sluicedb/sluice/state"
)

// memStore is the state store of transient push queries: their state dies with the query, so
// it lives in memory and Commit only records offsets.
type memStore struct {
	mu      sync.RWMutex
	tables  map[string]map[string][]byte
	offsets map[string]int64
}

func newMemStore() *memStore {
	return &memStore{tables: map[string]map[string][]byte{}, offsets: map[string]int64{}}
}

var _ state.Store = (*memStore)(nil)

func (m *memStore) Get(table string, key []byte) ([]byte, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.tables[table][string(key)]
	return v, ok, nil
}

func (m *memStore) Put(table string, key, value []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tables[table]
	if t == nil {
		t = map[string][]byte{}
		m.tables[table] = t
	}
	t[string(key)] = append([]byte(nil), value...)
}

func (m *memStore) Delete(table string, key []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tables[table], string(key))
}

func (m *memStore) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	m.mu.RLock()
	t := m.tables[table]
	keys := make([]string, 0, len(t))
	for k := range t {
		if from != nil && bytes.Compare([]byte(k), from) < 0 {
			continue
		}
		if to != nil && bytes.Compare([]byte(k), to) >= 0 {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = t[k]
	}
	m.mu.RUnlock()
	for i, k := range keys {
		if !fn([]byte(k), vals[i]) {
			break
		}
	}
	return nil
}

func (m *memStore) Commit(offsets map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range offsets {
		m.offsets[k] = v
	}
	return nil
}

func (m *memStore) Offsets() (map[string]int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]int64, len(m.offsets))
	for k, v := range m.offsets {
		out[k] = v
	}
	return out, nil
}

func (m *memStore) ReadCommitted() state.Reader { return m }
func (m *memStore) Drop() error {
	m.mu.Lock()
	m.tables = map[string]map[string][]byte{}
	m.mu.Unlock()
	return nil
}
func (m *memStore) Close() error { return nil }

// memManager hands out memStores; used when no state directory is configured.
type memManager struct {
	mu     sync.Mutex
	stores map[string]*memStore
}

func (m *memManager) Open(id string) (state.Store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stores == nil {
		m.stores = map[string]*memStore{}
	}
	s := m.stores[id]
	if s == nil {
		s = newMemStore()
		m.stores[id] = s
	}
	return s, nil
}

func (m *memManager) Close() error { return nil }
