package badger

import (
	"unsafe"
)

// writeBack is a store's in-memory layer over Badger: one map from full database key to an
// entry that may hold a buffered (uncommitted) write, a cached committed value, or both. One
// map rather than a buffer plus a cache because the hot path of an aggregation is Get then Put
// of the same key: with one map both are a single lookup, and Commit turns a buffered write
// into a cached value in place instead of moving it between maps.
//
// The cache part is coherent without invalidation because the owning Store is the only writer
// of its keys: Commit overwrites the cached value of every key it writes, after the write is
// durable, and Drop clears everything. Clean entries are evicted at random (Go map iteration
// starts at a random slot) once the cache's byte budget is exceeded: no per-access bookkeeping
// on the hot path, and for the skewed key sets of aggregations hot keys come back at their next
// access. Dirty entries are never evicted; the buffer is bounded by the caller's commit
// interval, not by the budget.
//
// Order for Scan comes from a skiplist threaded through the dirty entries only, and linked
// lazily: a table that is never scanned (most aggregations) never pays for it.
//
// Keys are stored once, as strings (the map needs one); bytesOf gives Badger and Scan a []byte
// view of the same memory. Nothing ever writes through that view.
type writeBack struct {
	m         map[string]*entry
	dirty     []*entry // entries with a buffered write, in first-write order
	unlinked  []*entry // dirty entries not yet in the skiplist
	head      []*entry // skiplist heads; maxLevel long
	level     int
	rnd       uint64 // xorshift state for skiplist heights
	cacheSize int    // bytes of cached committed values (with overhead)
	limit     int    // cache budget; 0 disables caching committed values
}

type entry struct {
	key string

	// Buffered write, when dirty.
	dirty   bool
	deleted bool
	value   []byte

	// Cached committed value, when loaded (present false: known to be absent).
	loaded   bool
	present  bool
	cvalue   []byte
	cacheLen int // what this entry adds to cacheSize

	next []*entry // skiplist links; non-nil once linked
}

// maxLevel 16 with branching 4 keeps O(log n) search up to 4^16 entries, far beyond a batch.
const maxLevel = 16

// entryOverhead approximates an entry's memory beyond its key and value (entry, map slot).
const entryOverhead = 120

func newWriteBack(limit int) *writeBack {
	return &writeBack{
		m:     make(map[string]*entry),
		head:  make([]*entry, maxLevel),
		level: 1,
		rnd:   0x9E3779B97F4A7C15,
		limit: limit,
	}
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (w *writeBack) get(key []byte) *entry { return w.m[string(key)] }

// write buffers a put (or, with deleted, a tombstone). key is copied; value is kept, so the
// caller hands over a slice nobody will modify (Store.Put copies).
func (w *writeBack) write(key, value []byte, deleted bool) {
	e := w.m[string(key)]
	if e == nil {
		e = &entry{key: string(key)}
		w.m[e.key] = e
	}
	if !e.dirty {
		e.dirty = true
		w.dirty = append(w.dirty, e)
		w.unlinked = append(w.unlinked, e)
	}
	e.value, e.deleted = value, deleted
}

// load caches a committed value read from Badger.
func (w *writeBack) load(key []byte, value []byte, present bool) {
	if w.limit <= 0 {
		return
	}
	e := w.m[string(key)]
	if e == nil {
		e = &entry{key: string(key)}
		w.m[e.key] = e
	}
	w.setCached(e, value, present)
	w.evict()
}

func (w *writeBack) setCached(e *entry, value []byte, present bool) {
	w.cacheSize -= e.cacheLen
	e.loaded, e.present, e.cvalue = true, present, value
	e.cacheLen = len(e.key) + len(value) + entryOverhead
	w.cacheSize += e.cacheLen
}

// evict drops cached values down to 7/8 of the budget once it is exceeded, so that eviction
// runs once per many loads rather than on each.
func (w *writeBack) evict() {
	if w.cacheSize <= w.limit {
		return
	}
	target := w.limit / 8 * 7
	for k, e := range w.m {
		if w.cacheSize <= target {
			return
		}
		if !e.loaded {
			continue
		}
		w.cacheSize -= e.cacheLen
		e.loaded, e.cvalue, e.cacheLen = false, nil, 0
		if !e.dirty {
			delete(w.m, k)
		}
	}
}

// committed turns every buffered write into the cached committed value (or drops the entry
// when caching is off), after Commit made the writes durable.
func (w *writeBack) committed() {
	for _, e := range w.dirty {
		e.dirty, e.next = false, nil
		if w.limit > 0 {
			w.setCached(e, e.value, !e.deleted)
		} else {
			delete(w.m, e.key)
		}
		e.value = nil
	}
	w.dropBuffer()
	w.evict()
}

// forgetCache drops every cached committed value but keeps the buffered writes (after a redo
// replay changed committed data underneath the cache).
func (w *writeBack) forgetCache() {
	for k, e := range w.m {
		if !e.dirty {
			delete(w.m, k)
			continue
		}
		e.loaded, e.cvalue, e.cacheLen = false, nil, 0
	}
	w.cacheSize = 0
}

// reset drops everything: buffered writes and cache.
func (w *writeBack) reset() {
	clear(w.m)
	w.cacheSize = 0
	w.dropBuffer()
}

func (w *writeBack) dropBuffer() {
	clear(w.dirty) // let the GC have dropped entries
	w.dirty = w.dirty[:0]
	clear(w.unlinked)
	w.unlinked = w.unlinked[:0]
	clear(w.head)
	w.level = 1
}

// link inserts the dirty entries written since the last Scan into the skiplist.
func (w *writeBack) link() {
	for _, e := range w.unlinked {
		if e.dirty && e.next == nil {
			w.insert(e)
		}
	}
	clear(w.unlinked)
	w.unlinked = w.unlinked[:0]
}

func (w *writeBack) insert(e *entry) {
	var update [maxLevel]*[]*entry // the next-pointer array to splice into, per level
	links := &w.head
	for i := w.level - 1; i >= 0; i-- {
		for (*links)[i] != nil && (*links)[i].key < e.key {
			links = &(*links)[i].next
		}
		update[i] = links
	}
	h := w.randomHeight()
	if h > w.level {
		for i := w.level; i < h; i++ {
			update[i] = &w.head
		}
		w.level = h
	}
	e.next = make([]*entry, h)
	for i := range h {
		e.next[i] = (*update[i])[i]
		(*update[i])[i] = e
	}
}

func (w *writeBack) randomHeight() int {
	h := 1
	for h < maxLevel {
		w.rnd ^= w.rnd << 13
		w.rnd ^= w.rnd >> 7
		w.rnd ^= w.rnd << 17
		if w.rnd&3 != 0 {
			break
		}
		h++
	}
	return h
}

// seek returns the first dirty entry with key >= key, or nil; follow next[0] for the rest in
// order. Entries written after seek are not linked until the next seek.
func (w *writeBack) seek(key []byte) *entry {
	w.link()
	links := w.head
	for i := w.level - 1; i >= 0; i-- {
		for links[i] != nil && links[i].key < string(key) {
			links = links[i].next
		}
	}
	return links[0]
}
