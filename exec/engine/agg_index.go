package engine

import (
	"bytes"
	"hash/maphash"
)

// entryIndex is an aggregation's cache of entries by state key: one open-addressed table with
// linear probing and backward-shift deletion.
//
// A windowed aggregation adds an entry per window and evicts it once the window has gone
// quiet, so its cache churns through every window while its size stays put. Go's map cannot
// reuse a slot freed in a full group without a tombstone, and sheds tombstones only by growing
// or splitting its tables: in the window scenario map rehashing took 7% of the CPU. A deletion
// here moves the following entries of the probe run back instead, so churn never rebuilds the
// table. The entry's own state key is the key: the table stores no copy of it.
type entryIndex struct {
	slots []indexSlot
	mask  uint64
	n     int
	seed  maphash.Seed
	// sweepAt is where the next sweep starts, so that evictions go round the table like a
	// clock hand instead of starting over at its first slots.
	sweepAt uint64
}

type indexSlot struct {
	hash uint64
	e    *aggEntry
}

const minIndexSlots = 64

func newEntryIndex() *entryIndex {
	return &entryIndex{slots: make([]indexSlot, minIndexSlots), mask: minIndexSlots - 1, seed: maphash.MakeSeed()}
}

// Len is the number of entries.
func (x *entryIndex) Len() int { return x.n }

// Get returns the entry whose state key is key, or nil.
func (x *entryIndex) Get(key []byte) *aggEntry {
	h := maphash.Bytes(x.seed, key)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.e == nil {
			return nil
		}
		if s.hash == h && bytes.Equal(s.e.stateKey, key) {
			return s.e
		}
	}
}

// Put makes e the entry of its state key and returns the entry it replaced, or nil.
func (x *entryIndex) Put(e *aggEntry) *aggEntry {
	// Grow at a load of one half: probe runs stay short, and 16 bytes a slot is little next
	// to the entries.
	if 2*(x.n+1) > len(x.slots) {
		x.resize(2 * len(x.slots))
	}
	h := maphash.Bytes(x.seed, e.stateKey)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.e == nil {
			*s = indexSlot{hash: h, e: e}
			x.n++
			return nil
		}
		if s.hash == h && bytes.Equal(s.e.stateKey, e.stateKey) {
			old := s.e
			s.e = e
			return old
		}
	}
}

// Delete removes the entry whose state key is key, if any.
func (x *entryIndex) Delete(key []byte) {
	h := maphash.Bytes(x.seed, key)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.e == nil {
			return
		}
		if s.hash == h && bytes.Equal(s.e.stateKey, key) {
			x.deleteAt(i)
			return
		}
	}
}

// deleteAt empties slot i and moves back the entries after it in its probe run that may sit
// there (those whose home slot is not between the hole and themselves), so that every entry
// stays reachable from its home slot without tombstones.
func (x *entryIndex) deleteAt(i uint64) {
	hole := i
	for j := (i + 1) & x.mask; x.slots[j].e != nil; j = (j + 1) & x.mask {
		home := x.slots[j].hash & x.mask
		if (j-home)&x.mask >= (j-hole)&x.mask {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = indexSlot{}
	x.n--
}

func (x *entryIndex) resize(size int) {
	old := x.slots
	x.slots = make([]indexSlot, size)
	x.mask = uint64(size - 1)
	for _, s := range old {
		if s.e == nil {
			continue
		}
		i := s.hash & x.mask
		for x.slots[i].e != nil {
			i = (i + 1) & x.mask
		}
		x.slots[i] = s
	}
	x.sweepAt &= x.mask
}

// Sweep deletes entries that evictable accepts, going round the table from where the last
// sweep stopped, until at most target entries are left or it has been once round.
func (x *entryIndex) Sweep(target int, evictable func(*aggEntry) bool) {
	i := x.sweepAt
	// A deletion can move an entry from ahead of the hand into its slot, so the hand stays put
	// after one; each step either deletes or advances, which bounds the sweep.
	for steps := 2 * len(x.slots); steps > 0 && x.n > target; steps-- {
		if e := x.slots[i].e; e != nil && evictable(e) {
			x.deleteAt(i)
			continue
		}
		i = (i + 1) & x.mask
	}
	x.sweepAt = i
}

// Each calls fn with every entry until fn returns false. fn must not change the index.
func (x *entryIndex) Each(fn func(*aggEntry) bool) {
	for _, s := range x.slots {
		if s.e != nil && !fn(s.e) {
			return
		}
	}
}
