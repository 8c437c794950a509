package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/sluicedb/sluice/state"
)

// Deferred aggregate writes.
//
// A high-cardinality aggregation updates most of its entries only a few times, far apart (a
// window of one key sees its records 100,000 records apart when 100,000 keys interleave), so
// no commit interval coalesces the updates and every update costs a Badger entry: about half
// the CPU of a windowed aggregation went to Badger's memtable, write-ahead log and flushes.
//
// With deferred writes a commit writes its dirty entries as a few large values in the "aggw"
// table (chunks of back-to-back key/value records, keyed by a sequence number) instead of one
// Badger entry each. An entry whose newest value is only in a chunk is pending: it stays in the
// cache (evict skips it), so the task never needs to read it back. Pending entries are queued
// in the order they were last written; once more than pendingLimit are pending, each commit
// writes the oldest ones to the aggregate table itself (write-out) and deletes the chunks no
// pending entry needs any more, all in the same atomic commit as the offsets. Write-outs keep
// to the average pace at which entries become pending, letting a burst run up to half the
// bound past it, so that no commit carries a whole burst's worth. An entry that is
// updated again before its turn moves to the back of the queue, so a window is written to the
// table once, when it has gone quiet, instead of once per commit that touched it.
//
// On restart, loadChunks reads the chunks back into the cache as pending entries. Pull queries
// read the table through aggOverlay, which indexes the chunks of their snapshot.
//
// Chunks pay off only when updates find their entry still pending. When few do (each group and
// window updated once, or its updates further apart than the pending bound reaches), a record
// would cost a chunk record and still a write-out, so the aggregation switches to writing
// entries straight to the table (direct): the switching commit writes every pending entry out
// and deletes every chunk, so the table alone is the state again. It switches back when updates
// would again find their entries (absorbed: written within the commits the pending bound
// spans).
//
// Session windows keep the direct path: merging sessions deletes entries and scans the store by
// group, which would have to read through the chunks too.

const (
	aggChunkTable = "aggw"
	// maxChunkBytes keeps a chunk well below Badger's value threshold (values above it go to
	// the value log, which state never garbage-collects), also with the small memtables of
	// tests.
	maxChunkBytes = 64 << 10
	// maxWriteOut bounds the entries one commit writes out, so that with the dirty entries
	// (maxPendingWrites) it stays one Badger transaction.
	maxWriteOut = 12_000
)

// maxLiveChunks bounds the chunk log (at most 16 MiB), so that recovery and the pull queries'
// index stay small (a variable for tests).
var maxLiveChunks uint64 = 256

// pendingShare is the share of the cache bound that pending entries may take before write-out
// starts (a variable for tests).
var pendingShare = 0.5

// pendingItem queues an entry by the chunk of its newest value; items whose entry has moved on
// (written again, written out, superseded) are skipped when they reach the front.
type pendingItem struct {
	e     *aggEntry
	chunk uint64
}

// deferredWrites is an aggregation's chunk log and pending queue.
type deferredWrites struct {
	loaded     bool
	firstChunk uint64 // the oldest chunk still in the store
	nextChunk  uint64 // the sequence number of the next chunk written
	pending    int    // entries whose newest value is only in a chunk
	queue      []pendingItem
	qhead      int

	// Whether to defer: commits counts the commits made; absorbed and updated are decaying
	// sums of the dirty entries that found their entry recently written, and of all dirty
	// entries; perCommit is a decaying average of dirty entries per commit.
	direct            bool
	commits           uint64
	absorbed, updated float64
	perCommit         float64
	// joinRate is a decaying average of the entries that become pending per commit, the
	// pace of write-outs.
	joinRate float64

	// The plan of the commit in progress, made by writeDirty and carried out by committed.
	chunkOf   []uint64 // per dirtyList index: the chunk of the entry's new value, or noChunk
	writeOuts []*aggEntry
	newFirst  uint64
	newNext   uint64
	// chunkArena holds the compressed chunks of the writes being prepared (see
	// aggNode.arenas).
	chunkArena []byte

	overlay aggOverlay
}

// noChunk marks a dirty entry that writeDeferred did not put in a chunk.
const noChunk = ^uint64(0)

func chunkKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// pendingLimit is the number of pending entries past which commits write entries out.
func (n *aggNode) pendingLimit() int { return max(int(float64(n.cacheLimit())*pendingShare), 100) }

// loadChunks reads the chunks left by the last run into the cache as pending entries.
func (n *aggNode) loadChunks() error {
	d := n.deferred
	if d.loaded {
		return nil
	}
	var decodeErr error
	first := true
	err := n.st.Scan(aggChunkTable, nil, nil, func(k, v []byte) bool {
		if len(k) != 8 {
			decodeErr = fmt.Errorf("corrupt aggregate chunk key %x", k)
			return false
		}
		seq := binary.BigEndian.Uint64(k)
		if first {
			first, d.firstChunk = false, seq
		}
		d.nextChunk = seq + 1
		decodeErr = eachChunkRecord(v, func(key, val []byte) error {
			key = bytes.Clone(key)
			e, err := n.decodeEntry(key, val)
			if err != nil {
				return err
			}
			e.seen, e.pending, e.chunk = true, true, seq
			if old := n.cache.Put(e); old != nil {
				old.superseded = true
			} else {
				d.pending++
			}
			d.queue = append(d.queue, pendingItem{e: e, chunk: seq})
			return nil
		})
		return decodeErr == nil
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return fmt.Errorf("aggregate state: %w", err)
	}
	d.loaded = true
	return nil
}

// chunkS2 starts a chunk whose records are S2-compressed. Chunks are compressed because their
// bytes are copied several times on their way through Badger (write-ahead log, memtable, L0
// table, compactions) before they are deleted: in the window scenario compression took
// 275,642 -> 311,795 records/s with one partition and 292,526 -> 366,052 with two, and
// 100 MB off peak RSS. Uncompressed chunks (the first builds with deferred writes) start with
// a state key's length, which is at least 3 ("[x]"), so they never start with chunkS2.
const chunkS2 = 0x01

// compressChunk returns a chunk's stored form: chunkS2, then the S2 block of its records.
func compressChunk(records []byte) []byte {
	_, chunk := appendCompressedChunk(nil, records)
	return chunk
}

// appendCompressedChunk appends a chunk's stored form to arena and returns the arena and the
// chunk (a full slice of it).
func appendCompressedChunk(arena, records []byte) ([]byte, []byte) {
	start := len(arena)
	arena = slices.Grow(arena, 1+s2.MaxEncodedLen(len(records)))
	arena = append(arena, chunkS2)
	n := len(s2.Encode(arena[len(arena):cap(arena)], records))
	arena = arena[:len(arena)+n]
	return arena, arena[start:len(arena):len(arena)]
}

// eachChunkRecord calls fn for each key/value record of a stored chunk.
func eachChunkRecord(chunk []byte, fn func(key, val []byte) error) error {
	if len(chunk) > 0 && chunk[0] == chunkS2 {
		records, err := s2.Decode(nil, chunk[1:])
		if err != nil {
			return fmt.Errorf("corrupt aggregate chunk: %w", err)
		}
		chunk = records
	}
	for len(chunk) > 0 {
		kl, n := binary.Uvarint(chunk)
		if n <= 0 || uint64(len(chunk)-n) < kl {
			return fmt.Errorf("corrupt aggregate chunk")
		}
		key := chunk[n : n+int(kl)]
		chunk = chunk[n+int(kl):]
		vl, n := binary.Uvarint(chunk)
		if n <= 0 || uint64(len(chunk)-n) < vl {
			return fmt.Errorf("corrupt aggregate chunk")
		}
		val := chunk[n : n+int(vl)]
		chunk = chunk[n+int(vl):]
		if err := fn(key, val); err != nil {
			return err
		}
	}
	return nil
}

// writeDeferred is writeDirty for deferred writes: the dirty entries go into new chunks, the
// oldest pending entries past pendingLimit are written out, and chunks nobody needs are
// deleted. Like writeDirty it changes nothing that a second call would see differently; the
// plan is carried out by committedDeferred.
func (n *aggNode) writeDeferred(put func(table string, key, value []byte, deleted bool)) {
	d := n.deferred
	n.encArena = n.encArena[:0]
	d.chunkArena = d.chunkArena[:0]
	d.chunkOf = slices.Grow(d.chunkOf[:0], len(n.dirtyList))[:len(n.dirtyList)]
	d.writeOuts = d.writeOuts[:0]
	seq := d.nextChunk
	chunkStart := 0
	joining := 0
	flushChunk := func() {
		if len(n.encArena) > chunkStart {
			var chunk []byte
			d.chunkArena, chunk = appendCompressedChunk(d.chunkArena, n.encArena[chunkStart:])
			put(aggChunkTable, chunkKey(seq), chunk, false)
			seq++
			chunkStart = len(n.encArena)
		}
	}
	for i, e := range n.dirtyList {
		d.chunkOf[i] = noChunk
		if !e.dirty || e.superseded {
			continue
		}
		if e.deleted {
			// Not reached today (only session merges delete); written straight through.
			put(aggTable, e.stateKey, nil, true)
			continue
		}
		if d.direct {
			start := len(n.encArena)
			n.encArena = n.encodeEntryTo(n.encArena, e)
			put(aggTable, e.stateKey, n.encArena[start:len(n.encArena):len(n.encArena)], false)
			chunkStart = len(n.encArena) // not chunk bytes
			continue
		}
		n.encArena = binary.AppendUvarint(n.encArena, uint64(len(e.stateKey)))
		n.encArena = append(n.encArena, e.stateKey...)
		// The value's length goes before it; encode after a gap of the largest varint and
		// move it down, rather than encoding twice.
		lenAt := len(n.encArena)
		n.encArena = append(n.encArena, 0, 0, 0, 0, 0)
		n.encArena = n.encodeEntryTo(n.encArena, e)
		vl := len(n.encArena) - lenAt - 5
		var lb [binary.MaxVarintLen64]byte
		ln := binary.PutUvarint(lb[:], uint64(vl))
		copy(n.encArena[lenAt:], lb[:ln])
		copy(n.encArena[lenAt+ln:], n.encArena[lenAt+5:])
		n.encArena = n.encArena[:lenAt+ln+vl]
		d.chunkOf[i] = seq
		if !e.pending {
			joining++
		}
		if len(n.encArena)-chunkStart >= maxChunkBytes {
			flushChunk()
		}
	}
	flushChunk()
	d.newNext = seq

	// Write out the oldest pending entries that this commit does not write again: while more
	// than pendingLimit are pending, and those whose chunk is more than maxLiveChunks old (an
	// entry updated once and never again would otherwise keep every later chunk alive).
	over := d.pending + joining - n.pendingLimit()
	d.joinRate = d.joinRate*0.9 + float64(joining)*0.1
	if over > 0 {
		// Paced: entries join in bursts (a tumbling window's groups all start near its
		// beginning, and all go quiet at its end), and writing out a burst's worth in one
		// commit made that commit take longer than the task's next batch, which then waited
		// for it. Pending entries may run up to half the bound past it, while the write-outs
		// keep to the average rate at which entries join.
		over = min(over, max(int(d.joinRate)+1, over-n.pendingLimit()/2))
	}
	var tooOld uint64
	if d.newNext > maxLiveChunks {
		tooOld = d.newNext - maxLiveChunks
	}
	limit := maxWriteOut
	if d.direct {
		// Everything goes, in this one commit: an entry written straight to the table must
		// not have an older value left in a chunk that a restart would load.
		over, tooOld, limit = d.pending, d.newNext, len(d.queue)
	}
	newFirst := d.nextChunk // no older entry pending: every chunk before this commit's can go
	for i := d.qhead; i < len(d.queue); i++ {
		it := d.queue[i]
		e := it.e
		if !e.pending || e.chunk != it.chunk || e.superseded || e.dirty {
			continue
		}
		if (over <= 0 && it.chunk >= tooOld) || len(d.writeOuts) >= limit {
			newFirst = it.chunk
			break
		}
		start := len(n.encArena)
		n.encArena = n.encodeEntryTo(n.encArena, e)
		put(aggTable, e.stateKey, n.encArena[start:len(n.encArena):len(n.encArena)], false)
		d.writeOuts = append(d.writeOuts, e)
		over--
	}
	for c := d.firstChunk; c < newFirst; c++ {
		put(aggChunkTable, chunkKey(c), nil, true)
	}
	d.newFirst = max(newFirst, d.firstChunk)
}

// committedDeferred carries out the plan of the last writeDeferred, once its commit is made.
func (n *aggNode) committedDeferred() {
	d := n.deferred
	d.commits++
	for _, e := range d.writeOuts {
		e.pending = false
		d.pending--
		e.lastWrite = d.commits
		n.noteWritten(e)
	}
	// An update absorbed by deferring finds its entry pending, or (when direct) written within
	// the commits that the pending bound spans.
	horizon := uint64(float64(n.pendingLimit()) / max(d.perCommit, 1))
	absorbed, updated := 0, 0
	n.settleDirty(func(i int, e *aggEntry) {
		updated++
		if e.pending || (e.lastWrite > 0 && d.commits-e.lastWrite <= horizon) {
			absorbed++
		}
		e.lastWrite = d.commits
		if c := d.chunkOf[i]; c != noChunk {
			if !e.pending {
				d.pending++
			}
			e.pending, e.chunk = true, c
			d.queue = append(d.queue, pendingItem{e: e, chunk: c})
		} else {
			if e.pending {
				e.pending = false
				d.pending--
			}
			n.noteWritten(e)
		}
	})
	d.decide(absorbed, updated, n.pendingLimit())
	d.firstChunk, d.nextChunk = d.newFirst, d.newNext
	// Drop the queue's dead front, and compact it once half of it is dead.
	for d.qhead < len(d.queue) {
		it := d.queue[d.qhead]
		if it.e.pending && it.e.chunk == it.chunk && !it.e.superseded {
			break
		}
		d.queue[d.qhead] = pendingItem{}
		d.qhead++
	}
	if d.qhead > len(d.queue)/2 && d.qhead > 1024 {
		d.queue = append(d.queue[:0], d.queue[d.qhead:]...)
		clear(d.queue[len(d.queue):cap(d.queue)])
		d.qhead = 0
	}
	// A quiet entry at the front (it goes when its chunk is maxLiveChunks old) would keep the
	// dead items of every update behind it; past four per pending entry, keep only live ones.
	if len(d.queue)-d.qhead > 4*d.pending+1024 {
		live := d.queue[:0]
		for _, it := range d.queue[d.qhead:] {
			if it.e.pending && it.e.chunk == it.chunk && !it.e.superseded {
				live = append(live, it)
			}
		}
		clear(d.queue[len(live):])
		d.queue, d.qhead = live, 0
	}
	clear(d.writeOuts)
	d.writeOuts = d.writeOuts[:0]
	n.evict()
}

// Below deferMinShare of updates absorbed, deferring costs more than it saves (a chunk record
// per update and a write-out per entry, against a table write per update); above
// deferResumeShare it pays again.
const (
	deferMinShare    = 0.1
	deferResumeShare = 0.25
)

// decide updates the decaying sums with one commit's dirty entries and picks the mode of the
// next commit. The sums forget over about twice the pending bound's worth of updates, the
// longest distance at which an update can still find its entry pending: a shorter memory
// would see only the new groups at the start of each window. It decides nothing before it has
// seen 1.5 times the pending bound's worth (the sums approach twice that): switching to direct
// writes every pending entry out in one commit, so it must not follow a passing trough.
func (d *deferredWrites) decide(absorbed, updated, pendingLimit int) {
	decay := math.Exp(-float64(updated) / float64(2*pendingLimit))
	d.absorbed = d.absorbed*decay + float64(absorbed)
	d.updated = d.updated*decay + float64(updated)
	d.perCommit = d.perCommit*0.8 + float64(updated)*0.2
	if d.updated < 1.5*float64(pendingLimit) {
		return
	}
	share := d.absorbed / d.updated
	switch {
	case !d.direct && share < deferMinShare:
		d.direct = true
	case d.direct && share > deferResumeShare:
		d.direct = false
	}
}

// aggOverlay indexes the chunks of an aggregation's store for pull queries, which read the
// aggregate table through it (overlayReader). It is built on first use and extended with the
// chunks written since; values whose chunk has been deleted were written out to the table, so
// they are dropped.
type aggOverlay struct {
	mu    sync.RWMutex
	first uint64 // chunks [first, next) are indexed
	next  uint64
	built bool
	vals  map[string]overlayVal
	// upTo is the store's commit count (state.CommitCounter) the index was brought up to;
	// while it has not moved, pull queries skip refresh and its two chunk scans.
	upTo    uint64
	current bool
	// sorted holds the index's keys in order for range scans (a windowed table's pull query
	// reads one group's windows), kept up to date lazily by sortKeys: added are the keys
	// indexed since, pruned says keys were dropped since, and unsorted that it must be built
	// from scratch.
	sorted   []string
	added    []string
	pruned   bool
	unsorted bool
}

type overlayVal struct {
	chunk uint64
	val   []byte
}

// refresh brings the index up to the chunks in r's current snapshot.
func (o *aggOverlay) refresh(r state.Reader) error {
	first, found := uint64(0), false
	probe := func(k []byte) bool {
		first, found = binary.BigEndian.Uint64(k), true
		return false
	}
	var err error
	if ks, ok := r.(state.KeyScanner); ok {
		err = ks.ScanKeys(aggChunkTable, nil, nil, probe) // not a 64 KiB copy per pull query
	} else {
		err = r.Scan(aggChunkTable, nil, nil, func(k, _ []byte) bool { return probe(k) })
	}
	if err != nil {
		return err
	}
	if !found {
		o.vals, o.built, o.sorted, o.added, o.unsorted = nil, false, nil, nil, false
		return nil
	}
	if !o.built || first > o.next {
		// Chunks were written and deleted since the last refresh: start again, as values
		// written out from them may be newer than the index's.
		o.vals, o.built, o.next = map[string]overlayVal{}, true, first
		o.sorted, o.added, o.unsorted = o.sorted[:0], o.added[:0], true
	} else if first > o.first {
		for k, v := range o.vals {
			if v.chunk < first {
				delete(o.vals, k)
				o.pruned = true
			}
		}
	}
	o.first = first
	var decodeErr error
	err = r.Scan(aggChunkTable, chunkKey(o.next), nil, func(k, v []byte) bool {
		seq := binary.BigEndian.Uint64(k)
		decodeErr = eachChunkRecord(v, func(key, val []byte) error {
			if _, ok := o.vals[string(key)]; !ok && !o.unsorted {
				o.added = append(o.added, string(key))
			}
			o.vals[string(key)] = overlayVal{chunk: seq, val: val}
			return nil
		})
		o.next = seq + 1
		return decodeErr == nil
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		o.built = false
	}
	return err
}

// sortKeys brings sorted up to date with vals: a full sort after a rebuild, else the keys
// dropped since are filtered out and those added since merged in.
func (o *aggOverlay) sortKeys() {
	if o.unsorted {
		o.sorted = o.sorted[:0]
		for k := range o.vals {
			o.sorted = append(o.sorted, k)
		}
		slices.Sort(o.sorted)
		o.added, o.pruned, o.unsorted = o.added[:0], false, false
		return
	}
	if o.pruned {
		o.sorted = slices.DeleteFunc(o.sorted, func(k string) bool { _, ok := o.vals[k]; return !ok })
		o.pruned = false
	}
	if len(o.added) == 0 {
		return
	}
	add := slices.DeleteFunc(o.added, func(k string) bool { _, ok := o.vals[k]; return !ok })
	slices.Sort(add)
	merged := make([]string, 0, len(o.sorted)+len(add))
	i, j := 0, 0
	for i < len(o.sorted) || j < len(add) {
		switch {
		case j == len(add) || (i < len(o.sorted) && o.sorted[i] < add[j]):
			merged = append(merged, o.sorted[i])
			i++
		case i == len(o.sorted) || add[j] < o.sorted[i]:
			merged = append(merged, add[j])
			j++
		default: // dropped and indexed again since: keep one
			merged = append(merged, add[j])
			i, j = i+1, j+1
		}
	}
	o.sorted, o.added = merged, o.added[:0]
}

func (o *aggOverlay) sortedCurrent() bool {
	return !o.unsorted && !o.pruned && len(o.added) == 0
}

// overlayReader reads an aggregation's table through its pending chunks.
type overlayReader struct {
	r state.Reader
	o *aggOverlay
}

func (n *aggNode) readerOver(r state.Reader) state.Reader {
	if n.deferred == nil {
		return r
	}
	return &overlayReader{r: r, o: &n.deferred.overlay}
}

// read calls fn with the index brought up to date (and its sorted keys, with sorted), under
// the index's read lock when no commit happened since the last refresh, else under its write
// lock after refreshing.
func (or *overlayReader) read(sorted bool, fn func(o *aggOverlay)) error {
	o := or.o
	cc, counted := or.r.(state.CommitCounter)
	var commits uint64
	if counted {
		commits = cc.Commits() // before the refresh: a commit during it makes the next one refresh
		o.mu.RLock()
		if o.current && o.upTo == commits && (!sorted || o.sortedCurrent()) {
			fn(o)
			o.mu.RUnlock()
			return nil
		}
		o.mu.RUnlock()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !counted || !o.current || o.upTo != commits {
		err := o.refresh(or.r)
		o.current, o.upTo = err == nil && counted, commits
		if err != nil {
			return err
		}
	}
	if sorted {
		o.sortKeys()
	}
	fn(o)
	return nil
}

func (or *overlayReader) Get(table string, key []byte) ([]byte, bool, error) {
	if table != aggTable {
		return or.r.Get(table, key)
	}
	var v overlayVal
	var ok bool
	if err := or.read(false, func(o *aggOverlay) { v, ok = o.vals[string(key)] }); err != nil {
		return nil, false, err
	}
	if ok {
		return v.val, true, nil
	}
	return or.r.Get(table, key)
}

// Scan merges the pending values in [from, to) into the table's own scan, in key order.
func (or *overlayReader) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	if table != aggTable {
		return or.r.Scan(table, from, to, fn)
	}
	type kv struct{ k, v []byte }
	var over []kv
	err := or.read(true, func(o *aggOverlay) {
		i, _ := slices.BinarySearch(o.sorted, string(from))
		for ; i < len(o.sorted) && (to == nil || o.sorted[i] < string(to)); i++ {
			over = append(over, kv{[]byte(o.sorted[i]), o.vals[o.sorted[i]].val})
		}
	})
	if err != nil {
		return err
	}
	i := 0
	stopped := false
	err = or.r.Scan(table, from, to, func(k, v []byte) bool {
		for i < len(over) && bytes.Compare(over[i].k, k) < 0 {
			if !fn(over[i].k, over[i].v) {
				stopped = true
				return false
			}
			i++
		}
		if i < len(over) && bytes.Equal(over[i].k, k) {
			i++
			if !fn(k, over[i-1].v) {
				stopped = true
				return false
			}
			return true
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if err != nil || stopped {
		return err
	}
	for ; i < len(over); i++ {
		if !fn(over[i].k, over[i].v) {
			return nil
		}
	}
	return nil
}
