package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state"
)

const (
	aggTable       = "agg"
	defaultGraceMs = 24 * 60 * 60 * 1000
)

// aggEntry is the running aggregate of one group (and window).
type aggEntry struct {
	group      []any
	accs       []functions.Accumulator
	ts         int64
	start, end int64
	stateKey   []byte
	dirty      bool
	deleted    bool
	seen       bool // has been aggregated into before (so it was emitted)
	// superseded: another entry replaced this one in the cache under the same key; flush
	// skips it (the newer entry is written instead).
	superseded bool
	// pending: the newest committed value is only in chunk (deferred writes), not in the
	// aggregate table, so the entry must stay cached.
	pending bool
	chunk   uint64
	// lastWrite is the deferred-writes commit that last wrote the entry (0: none yet).
	lastWrite uint64

	groupInline [2]any
	accsInline  [3]functions.Accumulator
	// keyInline holds a state key that fits (a group of one short string or number, with its
	// window), so that the key costs no allocation of its own and a lookup that compares it
	// reads the entry's own memory.
	keyInline [40]byte
}

// aggNode folds rows into per-group accumulators. Entries live in an in-memory write-back
// cache; flush writes dirty ones into the task's state store before each commit, so the hot path
// is a map lookup, not a store transaction.
type aggNode struct {
	a     *aggPlan
	pl    *pipeline
	st    state.Store
	next  node
	cache *entryIndex
	// sessions indexes session entries by group key (loaded lazily from the store).
	sessions map[string][]*aggEntry
	// final holds EMIT FINAL results until their window closes.
	final      map[string]*eval.Rec
	finalOrder []string
	dropped    int64
	cur        *eval.Rec // the input row being aggregated
	// out is the change forward passes on for a stream update: nodes never keep a change
	// past their push, and no node feeds back into this one.
	out change

	// dirtyList holds the entries with dirty set, in the order they became dirty, so that
	// flush visits only them instead of the whole cache.
	dirtyList []*aggEntry
	// Scratch buffers of push, reused from record to record.
	argBuf   []any
	groupBuf []any
	gkBuf    []byte
	keyBuf   []byte
	encArena []byte // the encodings of the writes being prepared (in one of arenas, below)
	// prepared are the writes of the next commit (prepareWrites), and isPrepared says they are
	// made. Their slices point into arenas[arenaSet]; the arenas alternate between commits, so
	// that a commit's writes can be encoded while the store still writes the commit before,
	// whose slices must stay unchanged until it is done.
	prepared   []preparedPut
	isPrepared bool
	arenas     [2]writeArenas
	arenaSet   int
	// recBuf are the rows forwarded downstream, reused from update to update unless EMIT
	// FINAL keeps them (the projection copies the values it needs before push returns).
	recBuf [2]eval.Rec
	// written filters the keys this node has written to the store. When the store held no
	// aggregate state at the start (fresh), a key missing from the cache and the filter is
	// known to be absent, so lookup skips the store read (new windows, new groups).
	written bloomFilter
	// maxWrittenStart is the latest window start written (time windows).
	maxWrittenStart int64
	// evicted is set once evict has dropped an entry, and maxEvictedStart is the latest
	// window start it dropped. An entry leaves the cache only by eviction or by its deletion
	// being committed, so in a fresh store a key the cache lacks and nothing like it was
	// evicted is absent, without asking the filter (whose false positives cost a store read
	// that waits for the commit in flight).
	evicted         bool
	maxEvictedStart int64
	freshDone       bool
	fresh           bool
	// shards is the number of partition tasks the query runs as: they share the cache bound.
	shards int
	// deferred is set when commits write entries as chunks (agg_deferred.go).
	deferred *deferredWrites
}

// maxAggCacheEntries bounds the in-memory cache of aggregate entries. Past it, flush drops
// clean entries (windows that have ended first); they reload from the store on demand.
var maxAggCacheEntries = 200_000 // a variable for tests

// setCache makes e the cache entry of its key, marking the entry it replaces superseded.
func (n *aggNode) setCache(e *aggEntry) {
	if old := n.cache.Put(e); old != nil && old != e {
		old.superseded = true
	}
}

// markDirty records that e must be written by the next flush.
func (n *aggNode) markDirty(e *aggEntry) {
	if !e.dirty {
		e.dirty = true
		n.dirtyList = append(n.dirtyList, e)
	}
}

func (n *aggNode) groupOf(r *eval.Rec) ([]any, bool) {
	return n.groupInto(make([]any, len(n.a.groups)), r)
}

// groupInto evaluates the group of r into g (len(n.a.groups)).
func (n *aggNode) groupInto(g []any, r *eval.Rec) ([]any, bool) {
	for i, x := range n.a.groups {
		v, err := x.Eval(r)
		if err != nil || v == nil {
			return nil, false
		}
		g[i] = v
	}
	return g, true
}

// args evaluates the arguments of c on r into a buffer reused by the next call (accumulators
// copy what they keep, never the slice).
func (n *aggNode) args(c *aggCall, r *eval.Rec) ([]any, error) {
	if cap(n.argBuf) < len(c.args) {
		n.argBuf = make([]any, len(c.args))
	}
	out := n.argBuf[:len(c.args)]
	clear(out)
	for i, x := range c.args {
		v, err := x.Eval(r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// newEntry makes an empty entry; it copies group and key, which may be scratch buffers.
func (n *aggNode) newEntry(group []any, key []byte) *aggEntry {
	e := &aggEntry{ts: -1 << 62}
	if len(key) <= len(e.keyInline) {
		e.stateKey = append(e.keyInline[:0:len(key)], key...)
	} else {
		e.stateKey = bytes.Clone(key)
	}
	// Small groups and call lists live in the entry itself: one allocation instead of three.
	if len(group) <= len(e.groupInline) {
		e.group = append(e.groupInline[:0], group...)
	} else {
		e.group = append([]any(nil), group...)
	}
	if len(n.a.calls) <= len(e.accsInline) {
		e.accs = e.accsInline[:len(n.a.calls)]
	} else {
		e.accs = make([]functions.Accumulator, len(n.a.calls))
	}
	for i, c := range n.a.calls {
		e.accs[i] = c.impl.New()
	}
	return e
}

// lookup returns the entry for key, from the cache or the store; create makes a new one. key
// may be a scratch buffer: it is copied when kept.
func (n *aggNode) lookup(group []any, key []byte, create bool) (*aggEntry, error) {
	old := n.cache.Get(key)
	if old != nil && !old.deleted {
		return old, nil
	}
	if old != nil {
		old.superseded = true // replaced below, by the stored entry or a new one
	}
	if !n.knownAbsent(key) {
		b, ok, err := n.st.Get(aggTable, key)
		if err != nil {
			return nil, err
		}
		if ok {
			e, err := n.decodeEntry(bytes.Clone(key), b)
			if err != nil {
				return nil, err
			}
			e.seen = true
			n.cache.Put(e)
			return e, nil
		}
	}
	if !create {
		return nil, nil
	}
	e := n.newEntry(group, key)
	n.cache.Put(e)
	return e, nil
}

// prior is the aggregated row before an update, or nil for a group seen for the first time;
// HAVING uses it to emit a tombstone only for rows that were emitted before.
func (n *aggNode) prior(e *aggEntry) *eval.Rec {
	if !e.seen {
		e.seen = true
		return nil
	}
	return n.recInto(&n.recBuf[1], e)
}

func (n *aggNode) rec(e *aggEntry) *eval.Rec { return n.recInto(&n.recBuf[0], e) }

// recInto builds the row of e in buf, or in a new row when EMIT FINAL keeps rows.
func (n *aggNode) recInto(buf *eval.Rec, e *aggEntry) *eval.Rec {
	var vals []any
	if n.final == nil {
		vals = buf.Vals[:0]
	} else {
		buf = new(eval.Rec)
	}
	if vals == nil {
		vals = make([]any, 0, n.a.width())
	}
	vals = append(vals, e.group...)
	for _, acc := range e.accs {
		vals = append(vals, acc.Result())
	}
	*buf = eval.Rec{Vals: vals, Ts: e.ts, WinStart: e.start, WinEnd: e.end}
	return buf
}

// knownAbsent reports whether key cannot be in the store: the store held no aggregate state
// when this node started and the node never wrote key.
func (n *aggNode) knownAbsent(key []byte) bool {
	if !n.freshDone {
		n.freshDone = true
		empty := true
		if err := n.st.Scan(aggTable, nil, nil, func(_, _ []byte) bool { empty = false; return false }); err == nil {
			n.fresh = empty
		}
	}
	if !n.fresh {
		return false
	}
	if n.timeWindowed() && len(key) >= 16 {
		// A window starting after every window written so far cannot have been written: the
		// common case of windows opening as event time advances needs no filter probe.
		start := int64(binary.BigEndian.Uint64(key[len(key)-16:]) ^ (1 << 63))
		if start > n.maxWrittenStart || !n.evicted || start > n.maxEvictedStart {
			return true
		}
	} else if !n.evicted {
		return true
	}
	return !n.written.mayContain(key)
}

// timeWindowed reports a tumbling or hopping window (state keys end with the window bounds).
func (n *aggNode) timeWindowed() bool {
	return n.a.window != nil && n.a.window.Type != ast.Session
}

// noteWritten records that e's key is in the store, for knownAbsent.
func (n *aggNode) noteWritten(e *aggEntry) {
	n.written.add(e.stateKey)
	if e.start > n.maxWrittenStart {
		n.maxWrittenStart = e.start
	}
}

func (n *aggNode) apply(e *aggEntry, r *eval.Rec, undo bool) {
	for i, c := range n.a.calls {
		args, err := n.args(c, r)
		if err != nil {
			n.pl.reportErr(err)
			continue
		}
		if undo {
			err = e.accs[i].Undo(args)
		} else {
			err = e.accs[i].Add(args)
		}
		if err != nil {
			n.pl.reportErr(err)
		}
	}
	n.markDirty(e)
}

// change fills the node's outgoing change.
func (n *aggNode) change(row, prior *eval.Rec) *change {
	n.out = change{new: row, old: prior}
	return &n.out
}

func (n *aggNode) forward(c *change) error {
	if c.new != nil && n.cur != nil {
		c.new.Headers = n.cur.Headers
	}
	if n.final != nil {
		if c.new == nil {
			// A window that stops existing (a session merged into another) has no final
			// result.
			if c.old != nil {
				delete(n.final, string(appendWindow(encodeGroupKey(c.old.Vals[:len(n.a.groups)], n.a.keyTypes), c.old.WinStart, c.old.WinEnd)))
			}
			return nil
		}
		k := string(appendWindow(encodeGroupKey(c.new.Vals[:len(n.a.groups)], n.a.keyTypes), c.new.WinStart, c.new.WinEnd))
		if _, ok := n.final[k]; !ok {
			n.finalOrder = append(n.finalOrder, k)
		}
		n.final[k] = c.new
		return nil
	}
	return n.next.push(c)
}

func (n *aggNode) push(c *change) error {
	n.cur = c.new
	if c.new == nil {
		n.cur = c.old
	}
	if c.old != nil || n.pl.plan.tableSource {
		return n.pushTable(c)
	}
	r := c.new
	if cap(n.groupBuf) < len(n.a.groups) {
		n.groupBuf = make([]any, len(n.a.groups))
	}
	group, ok := n.groupInto(n.groupBuf[:len(n.a.groups)], r)
	if !ok {
		return nil
	}
	n.gkBuf = appendGroupKey(n.gkBuf[:0], group, n.a.keyTypes)
	gk := n.gkBuf
	w := n.a.window
	if w == nil {
		e, err := n.lookup(group, gk, true)
		if err != nil {
			return err
		}
		old := n.prior(e)
		n.apply(e, r, false)
		if r.Ts > e.ts {
			e.ts = r.Ts
		}
		return n.forward(n.change(n.rec(e), old))
	}
	grace := n.grace()
	closeTime := n.pl.streamTime - grace
	if w.Type == ast.Session {
		// Kafka Streams closes a session window gap + grace after stream time passes its end,
		// and a session store keeps (so merges with) sessions ending within its retention.
		retention := w.SizeMs + grace
		if w.RetentionMs > retention {
			retention = w.RetentionMs
		}
		return n.pushSession(group, gk, r, w.SizeMs, closeTime-w.SizeMs, n.pl.streamTime-retention+1)
	}
	size, advance := w.SizeMs, w.SizeMs
	if w.Type == ast.Hopping {
		advance = w.AdvanceMs
	}
	// Windows containing ts start in (ts-size, ts], aligned to the advance, never before 0.
	lo := r.Ts - size + 1
	if lo < 0 {
		lo = 0
	}
	start := (lo + advance - 1) / advance * advance
	for ; start <= r.Ts; start += advance {
		end := start + size
		if end <= closeTime {
			n.dropped++
			continue
		}
		n.keyBuf = appendWindow(append(n.keyBuf[:0], gk...), start, end)
		e, err := n.lookup(group, n.keyBuf, true)
		if err != nil {
			return err
		}
		e.start, e.end = start, end
		old := n.prior(e)
		n.apply(e, r, false)
		if r.Ts > e.ts {
			e.ts = r.Ts
		}
		if err := n.forward(n.change(n.rec(e), old)); err != nil {
			return err
		}
	}
	return nil
}

// pushTable handles an update of a table source: retract the old row's contribution, then add
// the new one, emitting once when the group is unchanged and twice when it moved.
func (n *aggNode) pushTable(c *change) error {
	var oldGroup, newGroup []any
	var oldOK, newOK bool
	if c.old != nil {
		oldGroup, oldOK = n.groupOf(c.old)
	}
	if c.new != nil {
		newGroup, newOK = n.groupOf(c.new)
	}
	var ok, nk []byte
	if oldOK {
		ok = encodeGroupKey(oldGroup, n.a.keyTypes)
	}
	if newOK {
		nk = encodeGroupKey(newGroup, n.a.keyTypes)
	}
	ts := int64(0)
	if c.new != nil {
		ts = c.new.Ts
	} else if c.old != nil {
		ts = c.old.Ts
	}
	if oldOK {
		e, err := n.lookup(oldGroup, ok, false)
		if err != nil {
			return err
		}
		if e != nil {
			prev := n.prior(e)
			n.apply(e, c.old, true)
			if ts > e.ts {
				e.ts = ts
			}
			if !newOK || string(ok) != string(nk) {
				if err := n.forward(&change{new: n.rec(e), old: prev}); err != nil {
					return err
				}
			}
		}
	}
	if newOK {
		e, err := n.lookup(newGroup, nk, true)
		if err != nil {
			return err
		}
		prev := n.prior(e)
		n.apply(e, c.new, false)
		if ts > e.ts {
			e.ts = ts
		}
		return n.forward(&change{new: n.rec(e), old: prev})
	}
	return nil
}

// pushSession merges r into the sessions of its group that lie within gap of it.
func (n *aggNode) pushSession(group []any, gk []byte, r *eval.Rec, gap, closeTime, liveFrom int64) error {
	sessions, err := n.loadSessions(gk)
	if err != nil {
		return err
	}
	start, end := r.Ts, r.Ts
	var overlap []*aggEntry
	var keep []*aggEntry
	for _, s := range sessions {
		if s.end >= r.Ts-gap && s.end >= liveFrom && s.start <= r.Ts+gap {
			overlap = append(overlap, s)
			if s.start < start {
				start = s.start
			}
			if s.end > end {
				end = s.end
			}
		} else {
			keep = append(keep, s)
		}
	}
	if end < closeTime {
		n.dropped++
		return nil
	}
	merged := n.newEntry(group, nil)
	merged.ts = r.Ts
	for _, s := range overlap {
		for i := range merged.accs {
			if err := merged.accs[i].Merge(s.accs[i]); err != nil {
				n.pl.reportErr(err)
			}
		}
		if s.ts > merged.ts {
			merged.ts = s.ts
		}
	}
	n.apply(merged, r, false)
	merged.start, merged.end = start, end
	merged.stateKey = appendWindow(append([]byte(nil), gk...), start, end)
	for _, s := range overlap {
		if s.start == start && s.end == end {
			continue
		}
		s.deleted = true
		n.markDirty(s)
		n.setCache(s)
		old := n.rec(s)
		if err := n.forward(&change{old: old}); err != nil {
			return err
		}
	}
	n.setCache(merged)
	n.sessions[string(gk)] = append(keep, merged)
	return n.forward(&change{new: n.rec(merged)})
}

func (n *aggNode) loadSessions(gk []byte) ([]*aggEntry, error) {
	if n.sessions == nil {
		n.sessions = map[string][]*aggEntry{}
	}
	if s, ok := n.sessions[string(gk)]; ok {
		return s, nil
	}
	var out []*aggEntry
	to := append(append([]byte(nil), gk...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	err := n.st.Scan(aggTable, gk, to, func(k, v []byte) bool {
		if len(k) != len(gk)+16 {
			return true
		}
		e, err := n.decodeEntry(append([]byte(nil), k...), v)
		if err == nil {
			out = append(out, e)
		}
		return true
	})
	n.sessions[string(gk)] = out
	return out, err
}

// grace is the window's grace period. Without one, EMIT FINAL closes windows at their end
// (as ksqlDB does), while EMIT CHANGES keeps accepting late records for 24 hours.
func (n *aggNode) grace() int64 {
	if g := n.a.window.GraceMs; g >= 0 {
		return g
	}
	if n.final != nil {
		return 0
	}
	return defaultGraceMs
}

// tick emits EMIT FINAL results whose window has closed.
func (n *aggNode) tick(streamTime int64) error {
	if n.final == nil {
		return nil
	}
	grace := n.grace()
	w := n.a.window
	// ksqlDB's final results of time windows come from a window store whose retention is
	// size + grace (or RETENTION): a window that closed long enough ago to have expired by
	// the time stream time reaches it is dropped, not emitted, when stream time jumps past it.
	expired := int64(-1 << 62)
	if w.Type != ast.Session {
		retention := w.SizeMs + grace
		if w.RetentionMs > retention {
			retention = w.RetentionMs
		}
		expired = streamTime - retention
	}
	var ready []*eval.Rec
	rest := n.finalOrder[:0]
	for _, k := range n.finalOrder {
		r := n.final[k]
		if r == nil {
			continue // deleted, or re-added under this key further on in the order
		}
		if r.WinEnd+grace <= streamTime {
			if r.WinStart >= expired {
				ready = append(ready, r)
			}
			delete(n.final, k)
		} else {
			rest = append(rest, k)
		}
	}
	n.finalOrder = rest
	sort.SliceStable(ready, func(i, j int) bool { return ready[i].WinEnd < ready[j].WinEnd })
	for _, r := range ready {
		if err := n.next.push(&change{new: r}); err != nil {
			return err
		}
	}
	return nil
}

// flush writes dirty entries into the store's write buffer before a commit, for stores that
// cannot take them straight into the commit (writeDirty); the store copies what it keeps.
func (n *aggNode) flush() {
	n.writeDirty(func(table string, key, value []byte, deleted bool) {
		if deleted {
			n.st.Delete(table, key)
		} else {
			n.st.Put(table, key, value)
		}
	})
	n.committed()
}

// preparedPut is one write of a commit, as passed to a store's put.
type preparedPut struct {
	table   string
	key     []byte
	value   []byte
	deleted bool
}

// writeArenas hold the bytes of one commit's prepared writes.
type writeArenas struct{ enc, chunk []byte }

// prepareWrites encodes the writes of the next commit. The task calls it before waiting for
// the commit in flight, so that the encoding overlaps the store's write; writeDirty prepares
// them itself otherwise. Nothing may change the entries between this and the commit.
func (n *aggNode) prepareWrites() {
	a := &n.arenas[n.arenaSet]
	if cap(a.enc) > 4<<20 {
		a.enc = nil
	}
	if cap(a.chunk) > 4<<20 {
		a.chunk = nil
	}
	n.encArena = a.enc[:0]
	clear(n.prepared)
	n.prepared = n.prepared[:0]
	record := func(table string, key, value []byte, deleted bool) {
		n.prepared = append(n.prepared, preparedPut{table: table, key: key, value: value, deleted: deleted})
	}
	if d := n.deferred; d != nil {
		d.chunkArena = a.chunk[:0]
		n.writeDeferred(record)
		a.chunk = d.chunkArena
	} else {
		n.encodeDirty(record)
	}
	a.enc = n.encArena
	n.isPrepared = true
}

// writeDirty passes the dirty entries to put, for a store that takes them straight into its
// commit (committer); committed then marks them clean once the commit succeeded. It may be
// called more than once per commit, and makes the same calls each time (the prepared ones).
func (n *aggNode) writeDirty(put func(table string, key, value []byte, deleted bool)) {
	if !n.isPrepared {
		n.prepareWrites()
	}
	for _, w := range n.prepared {
		put(w.table, w.key, w.value, w.deleted)
	}
}

// donePrepared lets go of the prepared writes once their commit is handed to the store; the
// next commit prepares into the other arenas.
func (n *aggNode) donePrepared() {
	n.isPrepared = false
	clear(n.prepared)
	n.prepared = n.prepared[:0]
	n.arenaSet ^= 1
}

// encodeDirty passes the dirty entries to put as table writes (the direct path).
func (n *aggNode) encodeDirty(put func(table string, key, value []byte, deleted bool)) {
	for _, e := range n.dirtyList {
		if !e.dirty || e.superseded {
			continue
		}
		if e.deleted {
			put(aggTable, e.stateKey, nil, true)
			continue
		}
		start := len(n.encArena)
		n.encArena = n.encodeEntryTo(n.encArena, e)
		put(aggTable, e.stateKey, n.encArena[start:len(n.encArena):len(n.encArena)], false)
	}
}

// committed marks the entries writeDirty passed as written, after their commit.
func (n *aggNode) committed() {
	n.donePrepared()
	if n.deferred != nil {
		n.committedDeferred()
		return
	}
	n.settleDirty(func(_ int, e *aggEntry) { n.noteWritten(e) })
	n.evict()
}

// settleDirty marks the dirty entries clean once their commit is made, drops the deleted ones
// from the cache, and passes each written one (with its index in dirtyList) to written.
func (n *aggNode) settleDirty(written func(i int, e *aggEntry)) {
	for i, e := range n.dirtyList {
		n.dirtyList[i] = nil
		if !e.dirty {
			continue
		}
		e.dirty = false
		if e.superseded {
			continue
		}
		if e.deleted {
			n.cache.Delete(e.stateKey)
			continue
		}
		written(i, e)
	}
	n.dirtyList = n.dirtyList[:0]
}

// cacheLimit is this node's share of maxAggCacheEntries: a query run as one task per
// partition keeps the memory (and garbage-collection work) of one task, not one per partition.
func (n *aggNode) cacheLimit() int {
	if n.shards > 1 {
		return max(maxAggCacheEntries/n.shards, 1000)
	}
	return maxAggCacheEntries
}

// evict bounds memory: past cacheLimit, clean entries are dropped down to 3/4 of it
// (they reload from the store on demand). Time windows that have already ended in stream time
// go first, as only late records can still change them. Session windows are not evicted: their
// per-group index holds them anyway.
func (n *aggNode) evict() {
	limit := n.cacheLimit()
	if n.cache.Len() <= limit || (n.a.window != nil && n.a.window.Type == ast.Session) {
		return
	}
	target := limit / 4 * 3
	if n.a.window != nil {
		n.cache.Sweep(target, func(e *aggEntry) bool {
			if !e.dirty && !e.pending && e.end <= n.pl.streamTime {
				n.noteEvicted(e)
				return true
			}
			return false
		})
	}
	n.cache.Sweep(target, func(e *aggEntry) bool {
		if !e.dirty && !e.pending {
			n.noteEvicted(e)
			return true
		}
		return false
	})
}

func (n *aggNode) noteEvicted(e *aggEntry) {
	if !n.evicted || e.start > n.maxEvictedStart {
		n.maxEvictedStart = e.start
	}
	n.evicted = true
}

func (n *aggNode) encodeEntry(e *aggEntry) []byte { return n.encodeEntryTo(nil, e) }

// encodeEntryTo appends the stored form of e: [ts,[snapshots...]]. The group and the window
// are in the state key already (appendGroupKey, then the window for windowed entries).
func (n *aggNode) encodeEntryTo(buf []byte, e *aggEntry) []byte {
	buf = append(buf, '[')
	buf = strconv.AppendInt(buf, e.ts, 10)
	buf = append(buf, ",["...)
	for i, acc := range e.accs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = serde.AppendJSON(buf, acc.Snapshot(), n.a.calls[i].impl.State)
	}
	return append(buf, "]]"...)
}

// decodeEntry reads an entry stored under key: [ts,[snapshots...]], or the older
// [ts,start,end,[group...],[snapshots...]] that repeated the key's group and window.
func (n *aggNode) decodeEntry(key, b []byte) (*aggEntry, error) {
	tree, err := serde.ParseJSON(b)
	if err != nil {
		return nil, err
	}
	arr, ok := tree.([]any)
	if !ok || (len(arr) != 2 && len(arr) != 5) {
		return nil, fmt.Errorf("corrupt aggregate state")
	}
	num := func(v any) int64 { x, _ := v.(json.Number).Int64(); return x }
	e := &aggEntry{ts: num(arr[0]), stateKey: key}
	var gs, snaps []any
	if len(arr) == 5 {
		e.start, e.end = num(arr[1]), num(arr[2])
		gs, _ = arr[3].([]any)
		snaps, _ = arr[4].([]any)
	} else {
		gk := key
		if n.a.window != nil {
			if len(key) < 16 {
				return nil, fmt.Errorf("corrupt aggregate state key")
			}
			gk = key[:len(key)-16]
			e.start = int64(binary.BigEndian.Uint64(key[len(gk):]) ^ (1 << 63))
			e.end = int64(binary.BigEndian.Uint64(key[len(gk)+8:]) ^ (1 << 63))
		}
		g, err := serde.ParseJSON(gk)
		if err != nil {
			return nil, fmt.Errorf("corrupt aggregate state key: %w", err)
		}
		gs, _ = g.([]any)
		snaps, _ = arr[1].([]any)
	}
	for i, g := range gs {
		if i >= len(n.a.keyTypes) {
			break
		}
		v, err := serde.FromJSON(g, n.a.keyTypes[i])
		if err != nil {
			return nil, err
		}
		e.group = append(e.group, v)
	}
	for i, c := range n.a.calls {
		var snap any
		if i < len(snaps) {
			if snap, err = serde.FromJSON(snaps[i], c.impl.State); err != nil {
				return nil, err
			}
		}
		acc, err := c.impl.Restore(snap)
		if err != nil {
			return nil, err
		}
		e.accs = append(e.accs, acc)
	}
	return e, nil
}

var _ = types.StringType

// appendGroupKey appends the state-store key of a group (as encodeGroupKey makes it) to dst.
func appendGroupKey(dst []byte, vals []any, ts []*types.Type) []byte {
	dst = append(dst, '[')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = serde.AppendJSON(dst, v, ts[i])
	}
	return append(dst, ']')
}

// bloomFilter is a scalable Bloom filter of byte keys: a chain of filters, each twice the size
// of the previous one, a new one started when the last is full. False positives only cost a
// store read; there are no false negatives.
type bloomFilter struct {
	seed    maphash.Seed
	filters []bloomPart
}

type bloomPart struct {
	bits   []uint64
	n, max int
}

const bloomHashes = 4

func (f *bloomFilter) add(key []byte) {
	if len(f.filters) == 0 {
		f.seed = maphash.MakeSeed()
	}
	if len(f.filters) == 0 || f.filters[len(f.filters)-1].n >= f.filters[len(f.filters)-1].max {
		words := 1 << 10 // 64 Kib
		if len(f.filters) > 0 {
			words = 2 * len(f.filters[len(f.filters)-1].bits)
		}
		// About 12 bits per key keeps each part's false-positive rate near 1%.
		f.filters = append(f.filters, bloomPart{bits: make([]uint64, words), max: words * 64 / 12})
	}
	p := &f.filters[len(f.filters)-1]
	h := maphash.Bytes(f.seed, key)
	h1, h2 := h, h>>32|1
	m := uint64(len(p.bits) * 64)
	for i := uint64(0); i < bloomHashes; i++ {
		b := (h1 + i*h2) % m
		p.bits[b/64] |= 1 << (b % 64)
	}
	p.n++
}

func (f *bloomFilter) mayContain(key []byte) bool {
	if len(f.filters) == 0 {
		return false
	}
	h := maphash.Bytes(f.seed, key)
	h1, h2 := h, h>>32|1
	for i := range f.filters {
		p := &f.filters[i]
		m := uint64(len(p.bits) * 64)
		hit := true
		for j := uint64(0); j < bloomHashes; j++ {
			b := (h1 + j*h2) % m
			if p.bits[b/64]&(1<<(b%64)) == 0 {
				hit = false
				break
			}
		}
		if hit {
			return true
		}
	}
	return false
}
