package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// FsyncPolicy says when appended bytes are forced to stable storage. Every policy writes each
// batch to the file with one write(2) before Append returns, so an acknowledged append survives
// the process being killed under all of them; the policy only matters for power loss and kernel
// crashes.
type FsyncPolicy int

const (
	// FsyncInterval fsyncs in the background at most every FsyncEvery (default 200ms) after a
	// write. Power loss can lose up to one interval of acknowledged appends.
	FsyncInterval FsyncPolicy = iota
	// FsyncAlways fsyncs before Append returns and before the batch becomes readable, so no
	// reader can act on a record that power loss could still take back.
	FsyncAlways
	// FsyncNever leaves flushing to the kernel (and to Close).
	FsyncNever
)

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncNever:
		return "never"
	default:
		return "interval"
	}
}

// ParseFsyncPolicy parses "always", "interval" or "never".
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "interval", "":
		return FsyncInterval, nil
	case "never":
		return FsyncNever, nil
	}
	return 0, fmt.Errorf("segment: unknown fsync policy %q (want always, interval or never)", s)
}

type options struct {
	segmentBytes  int64
	segmentAge    time.Duration
	indexInterval int64
	fsync         FsyncPolicy
	fsyncEvery    time.Duration
	maxBatchBytes int
	partitionID   int32
	now           func() time.Time
}

// Option configures a Partition.
type Option func(*options)

// MaxBytes rolls to a new segment before a batch would grow the active one past n bytes
// (default 64 MiB). A single larger batch still fits: it gets a segment to itself.
func MaxBytes(n int64) Option { return func(o *options) { o.segmentBytes = n } }

// MaxAge rolls a non-empty active segment on the first append after it is d old (default 7
// days), so time-based retention can eventually delete data in quiet partitions.
func MaxAge(d time.Duration) Option { return func(o *options) { o.segmentAge = d } }

// IndexInterval adds a sparse index entry every n bytes of log (default 4 KiB).
func IndexInterval(n int64) Option { return func(o *options) { o.indexInterval = n } }

// Fsync sets the durability policy (default FsyncInterval).
func Fsync(p FsyncPolicy) Option { return func(o *options) { o.fsync = p } }

// FsyncEvery sets the FsyncInterval period (default 200ms).
func FsyncEvery(d time.Duration) Option { return func(o *options) { o.fsyncEvery = d } }

// MaxBatchBytes rejects a single Append whose encoded batch exceeds n bytes (default 256 MiB).
func MaxBatchBytes(n int) Option { return func(o *options) { o.maxBatchBytes = n } }

// PartitionID sets the Partition field of the records Read returns (default 0).
func PartitionID(id int32) Option { return func(o *options) { o.partitionID = id } }

// Clock replaces time.Now, for tests of roll by age and of the tombstone delay.
func Clock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// ErrBatchTooLarge is returned by Append for a batch over MaxBatchBytes.
var ErrBatchTooLarge = errors.New("segment: batch too large")

// RecoveryEvent records one repair made while opening a partition. The server prints them: an
// operator should know that a torn tail was cut even though nothing acknowledged was lost.
type RecoveryEvent struct {
	File         string
	Action       string // "truncated", "rebuilt index", "rewrote header"
	At           int64  // byte position where valid data ended
	DroppedBytes int64
	Reason       string
}

func (e RecoveryEvent) String() string {
	if e.DroppedBytes == 0 {
		return fmt.Sprintf("segment %s: %s (%s)", e.File, e.Action, e.Reason)
	}
	return fmt.Sprintf("segment %s: %s at byte %d, dropped %d bytes (%s)",
		e.File, e.Action, e.At, e.DroppedBytes, e.Reason)
}

// SegmentInfo describes one segment file, for retention decisions.
type SegmentInfo struct {
	BaseOffset   int64
	NextOffset   int64
	SizeBytes    int64
	MaxTimestamp int64 // math.MinInt64 when the segment holds no record
	Closed       bool
	RolledAt     time.Time // zero while active
}

// segment is one open segment file. Its counters are atomics because readers load them without
// the partition lock; the writer publishes size before next so a reader that has seen a next
// offset can always read the bytes behind it.
type segment struct {
	base      int64
	path      string
	f         *os.File
	createdMs int64

	size   atomic.Int64 // bytes of whole frames; readers never read past it
	next   atomic.Int64 // offset after the last batch range
	maxTs  atomic.Int64
	closed atomic.Bool  // rolled: next and maxTs no longer change
	rolled atomic.Int64 // epoch ms of the roll, 0 while active

	idxMu    sync.RWMutex // guards idx
	idx      []indexEntry
	sinceIdx int64 // bytes written since the last index entry; writer only

	// lastWindow is the window a read stopped inside, for the next read (read.go); cutGen
	// counts the cuts of this segment's tail, which retire windows read before them.
	lastWindow atomic.Pointer[window]
	cutGen     atomic.Uint64
	preads     atomic.Int64 // windows read from the file (for tests)

	// refs counts the partition's own reference plus readers in flight. The file is closed when
	// it drops to zero, so retention and compaction can unlink a segment under a reader.
	refs atomic.Int32
}

func (s *segment) acquire() { s.refs.Add(1) }
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
	}
}

func (s *segment) indexSnapshot() []indexEntry {
	s.idxMu.RLock()
	defer s.idxMu.RUnlock()
	return s.idx
}

func (s *segment) meta() indexMeta {
	return indexMeta{base: s.base, next: s.next.Load(), maxTs: s.maxTs.Load(),
		logSize: s.size.Load(), rolledAt: s.rolled.Load()}
}

// Partition is one partition stored as a sequence of segment files in a directory.
//
// Operations: Append (one batch per call), Read, OffsetForTime, TruncateTo, and maintenance
// entry points (DeleteSegmentsBefore, Compact) that storage/embedded schedules.
//
// Guarantees: offsets are assigned densely by Append; a batch becomes readable all at once,
// after its bytes are in the file (and, with FsyncAlways, on stable storage); an Append that
// returned nil survives kill -9. Open repairs a torn or corrupt tail of the last segment by
// truncating back to the last whole batch and reports it in Recovery. Readers never block
// writers: reads use positional I/O on shared file descriptors kept alive by reference counts.
//
// Non-guarantees: a Read that runs concurrently with TruncateTo may return records that the
// truncation removes. Compaction leaves holes in offsets. Damage in a closed (non-last) segment
// is cut back the same way, which can leave a gap in offsets; Read skips gaps.
//
// Failure: I/O errors are returned as they are; after Close every call returns
// storage.ErrClosed. Safe for concurrent use; one writer at a time is enforced internally.
type Partition struct {
	dir  string
	opts options

	// Lock order: maint, then wmu, then mu.
	maint sync.Mutex // serialises Compact, DeleteSegmentsBefore and TruncateTo
	wmu   sync.Mutex // serialises writers; guards act and buf
	act   *segment
	buf   []byte

	mu   sync.RWMutex // guards segs
	segs []*segment

	closed   atomic.Bool
	end      atomic.Int64
	notify   atomic.Pointer[chan struct{}]
	dirty    atomic.Bool
	recovery []RecoveryEvent
}

// Open opens (or creates) the partition stored in dir and recovers it.
func Open(dir string, opts ...Option) (*Partition, error) {
	o := options{
		segmentBytes:  64 << 20,
		segmentAge:    7 * 24 * time.Hour,
		indexInterval: 4 << 10,
		fsync:         FsyncInterval,
		fsyncEvery:    200 * time.Millisecond,
		maxBatchBytes: 256 << 20,
		now:           time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &Partition{dir: dir, opts: o}
	ch := make(chan struct{})
	p.notify.Store(&ch)

	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".cleaned"):
			// Leftovers of an interrupted atomic write or compaction: the rename that would have
			// made them live never happened, so the original is still in place.
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, ".log"):
			base, err := strconv.ParseInt(strings.TrimSuffix(name, ".log"), 10, 64)
			if err != nil || base < 0 {
				return nil, fmt.Errorf("segment: unexpected file %s in %s", name, dir)
			}
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	for i, base := range bases {
		s, err := p.openSegment(base, i == len(bases)-1)
		if err != nil {
			p.closeSegments()
			return nil, err
		}
		p.segs = append(p.segs, s)
	}
	if len(p.segs) == 0 {
		s, err := p.createSegment(0)
		if err != nil {
			return nil, err
		}
		p.segs = append(p.segs, s)
	}
	p.act = p.segs[len(p.segs)-1]
	p.end.Store(p.act.next.Load())
	return p, nil
}

func (p *Partition) segPath(base int64) string {
	return filepath.Join(p.dir, fmt.Sprintf("%020d.log", base))
}

func (p *Partition) nowMs() int64 { return p.opts.now().UnixMilli() }

func (p *Partition) createSegment(base int64) (*segment, error) {
	path := p.segPath(base)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	created := p.nowMs()
	if _, err := f.WriteAt(encodeFileHeader(base, created), 0); err != nil {
		f.Close()
		return nil, err
	}
	if p.opts.fsync != FsyncNever {
		// A new file's directory entry is only durable once the directory itself is synced.
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := SyncDir(p.dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	s := &segment{base: base, path: path, f: f, createdMs: created}
	s.size.Store(fileHeaderSize)
	s.next.Store(base)
	s.maxTs.Store(math.MinInt64)
	s.refs.Store(1)
	return s, nil
}

func (p *Partition) report(e RecoveryEvent) { p.recovery = append(p.recovery, e) }

// openSegment opens an existing file. Closed segments trust their index files when those match
// the log; the last segment is always scanned, because only it can have a torn tail after a
// crash (closed segments were complete when the next one was created).
func (p *Partition) openSegment(base int64, last bool) (*segment, error) {
	path := p.segPath(base)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	fileSize := st.Size()
	hdr := make([]byte, fileHeaderSize)
	n, _ := f.ReadAt(hdr, 0)
	hbase, created, herr := decodeFileHeader(hdr[:n])
	if herr == nil && hbase != base {
		herr = corruptf("header base offset %d does not match file name", hbase)
	}
	if herr != nil {
		if !last || !errors.Is(herr, ErrCorrupt) {
			f.Close()
			return nil, fmt.Errorf("segment %s: %w", path, herr)
		}
		// The last file was being created when the process died: its header never made it.
		created = p.nowMs()
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt(encodeFileHeader(base, created), 0)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		p.report(RecoveryEvent{File: path, Action: "rewrote header", At: 0,
			DroppedBytes: fileSize, Reason: herr.Error()})
		fileSize = fileHeaderSize
	}
	s := &segment{base: base, path: path, f: f, createdMs: created}
	s.refs.Store(1)
	if !last {
		if m, idx, err := loadIndexes(path, base, fileSize); err == nil {
			s.idx = idx
			s.size.Store(fileSize)
			s.next.Store(m.next)
			s.maxTs.Store(m.maxTs)
			s.rolled.Store(m.rolledAt)
			s.closed.Store(true)
			return s, nil
		}
	}
	if err := p.rescan(s, fileSize); err != nil {
		f.Close()
		return nil, err
	}
	if !last {
		s.closed.Store(true)
		s.rolled.Store(st.ModTime().UnixMilli())
		_ = writeIndexes(path, s.meta(), s.idx, p.opts.fsync != FsyncNever)
		p.report(RecoveryEvent{File: path, Action: "rebuilt index", Reason: "index missing, stale or corrupt"})
	} else {
		removeIndexes(path) // the active segment's index lives in memory only
	}
	return s, nil
}

// rescan rebuilds a segment's in-memory state by reading every frame, and cuts the file at the
// first damaged one. The index it builds is identical to the one Append would have built,
// because it applies the same every-N-bytes rule to the same frame sizes.
func (p *Partition) rescan(s *segment, fileSize int64) error {
	sc := newFrameScanner(s.f, fileHeaderSize, fileSize)
	defer sc.close()
	var idx []indexEntry
	next, maxTs, since := s.base, int64(math.MinInt64), int64(0)
	for {
		h, ok := sc.next()
		if !ok {
			break
		}
		payload, err := sc.payload(false)
		if err != nil {
			break
		}
		if _, _, err := DecodeBatch(payload, math.MaxInt64, 0, nil); err != nil {
			sc.err = err
			sc.pos -= sc.frameSize()
			break
		}
		if h.BaseOffset < next || h.NextOffset()-s.base > math.MaxUint32 {
			sc.err = corruptf("batch base offset %d, expected >= %d", h.BaseOffset, next)
			sc.pos -= sc.frameSize()
			break
		}
		pos := sc.pos - sc.frameSize()
		if since >= p.opts.indexInterval {
			idx = append(idx, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos), maxTsBefore: maxTs})
			since = 0
		}
		since += sc.frameSize()
		maxTs = max(maxTs, h.MaxTimestamp)
		next = h.NextOffset()
	}
	if sc.err != nil {
		if !errors.Is(sc.err, ErrCorrupt) {
			return sc.err
		}
		if err := s.f.Truncate(sc.pos); err != nil {
			return err
		}
		if p.opts.fsync != FsyncNever {
			if err := s.f.Sync(); err != nil {
				return err
			}
		}
		p.report(RecoveryEvent{File: s.path, Action: "truncated", At: sc.pos,
			DroppedBytes: fileSize - sc.pos, Reason: sc.err.Error()})
		fileSize = sc.pos
	}
	s.idxMu.Lock()
	s.idx = idx
	s.idxMu.Unlock()
	s.sinceIdx = since
	s.size.Store(fileSize)
	s.next.Store(next)
	s.maxTs.Store(maxTs)
	return nil
}

// Recovery lists the repairs Open made; empty after a clean shutdown.
func (p *Partition) Recovery() []RecoveryEvent { return p.recovery }

// Dir is the partition's directory.
func (p *Partition) Dir() string { return p.dir }

// EndOffset is the offset the next Append will get (the high-water mark).
func (p *Partition) EndOffset() int64 { return p.end.Load() }

// StartOffset is the first offset that may still be stored.
func (p *Partition) StartOffset() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.segs) == 0 {
		return p.end.Load()
	}
	return p.segs[0].base
}

// Segments describes the current segment files, oldest first.
func (p *Partition) Segments() []SegmentInfo {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]SegmentInfo, len(p.segs))
	for i, s := range p.segs {
		out[i] = SegmentInfo{BaseOffset: s.base, NextOffset: s.next.Load(), SizeBytes: s.size.Load(),
			MaxTimestamp: s.maxTs.Load(), Closed: s.closed.Load()}
		if r := s.rolled.Load(); r != 0 {
			out[i].RolledAt = time.UnixMilli(r)
		}
	}
	return out
}

// SizeBytes is the total size of the partition's segment files.
func (p *Partition) SizeBytes() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var n int64
	for _, s := range p.segs {
		n += s.size.Load()
	}
	return n
}

// Changed returns a channel that is closed at the next Append, TruncateTo or Close. Long-polling
// readers take it before checking EndOffset, so an append between the check and the wait still
// wakes them; any number of readers share one channel, so waiting costs nothing per append.
func (p *Partition) Changed() <-chan struct{} { return *p.notify.Load() }

func (p *Partition) wake() {
	ch := make(chan struct{})
	close(*p.notify.Swap(&ch))
}

// Append writes recs as one batch and returns the offset of the first record; the others follow
// densely. The batch is written with one positional write; it becomes readable only after the
// write (and, with FsyncAlways, the fsync) succeeded.
func (p *Partition) Append(recs []storage.Record) (int64, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.closed.Load() {
		return 0, storage.ErrClosed
	}
	base := p.end.Load()
	if len(recs) == 0 {
		return base, nil
	}
	p.buf = AppendBatch(p.buf[:0], base, recs)
	frame := p.buf
	if len(frame) > p.opts.maxBatchBytes {
		return 0, fmt.Errorf("%w: %d bytes", ErrBatchTooLarge, len(frame))
	}
	s := p.act
	if p.shouldRoll(s, int64(len(frame)), base+int64(len(recs))) {
		var err error
		if s, err = p.roll(); err != nil {
			return 0, err
		}
	}
	pos := s.size.Load()
	if _, err := s.f.WriteAt(frame, pos); err != nil {
		_ = s.f.Truncate(pos) // a partial write must not become a torn frame in the middle
		return 0, err
	}
	if p.opts.fsync == FsyncAlways {
		if err := s.f.Sync(); err != nil {
			_ = s.f.Truncate(pos)
			return 0, err
		}
	}
	if s.sinceIdx >= p.opts.indexInterval {
		s.idxMu.Lock()
		s.idx = append(s.idx, indexEntry{rel: uint32(base - s.base), pos: uint32(pos), maxTsBefore: s.maxTs.Load()})
		s.idxMu.Unlock()
		s.sinceIdx = 0
	}
	s.sinceIdx += int64(len(frame))
	batchMax := parseBatchHeader(frame[frameHeaderSize:]).MaxTimestamp
	if batchMax > s.maxTs.Load() {
		s.maxTs.Store(batchMax)
	}
	next := base + int64(len(recs))
	s.size.Store(pos + int64(len(frame)))
	s.next.Store(next)
	p.end.Store(next)
	p.wake()
	if p.opts.fsync == FsyncInterval {
		p.markDirty()
	}
	return base, nil
}

func (p *Partition) shouldRoll(s *segment, frameLen, next int64) bool {
	if s.size.Load() <= fileHeaderSize {
		return false
	}
	return s.size.Load()+frameLen > p.opts.segmentBytes ||
		p.nowMs()-s.createdMs >= p.opts.segmentAge.Milliseconds() ||
		next-s.base > math.MaxUint32 // index entries hold offsets relative to the base in 32 bits
}

// roll closes the active segment and starts a new one at the end offset. Caller holds wmu.
func (p *Partition) roll() (*segment, error) {
	old := p.act
	s, err := p.createSegment(p.end.Load())
	if err != nil {
		return nil, err
	}
	sync := p.opts.fsync != FsyncNever
	if sync {
		if err := old.f.Sync(); err != nil {
			s.release()
			_ = os.Remove(s.path)
			return nil, err
		}
	}
	old.rolled.Store(p.nowMs())
	old.closed.Store(true)
	// The index is a cache: failing to write it costs a rescan at the next open, not data.
	_ = writeIndexes(old.path, old.meta(), old.indexSnapshot(), sync)
	p.mu.Lock()
	p.segs = append(p.segs, s)
	p.mu.Unlock()
	p.act = s
	return s, nil
}

func (p *Partition) markDirty() {
	if p.dirty.CompareAndSwap(false, true) {
		time.AfterFunc(p.opts.fsyncEvery, p.flush)
	}
}

// flush is the FsyncInterval timer. It clears dirty before syncing so that a write racing with
// the sync schedules another flush instead of being forgotten. A flush that fires after Close
// finds no segments and does nothing; Close has synced already.
func (p *Partition) flush() {
	p.dirty.Store(false)
	_ = p.Sync()
}

// Sync fsyncs the active segment. Closed segments were synced when they were rolled.
func (p *Partition) Sync() error {
	p.mu.RLock()
	if len(p.segs) == 0 {
		p.mu.RUnlock()
		return nil
	}
	s := p.segs[len(p.segs)-1]
	s.acquire()
	p.mu.RUnlock()
	defer s.release()
	return s.f.Sync()
}

// segmentFor finds the segment holding offset (or the first one after a gap) and acquires it.
func (p *Partition) segmentFor(offset int64) (*segment, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() || len(p.segs) == 0 {
		return nil, storage.ErrClosed
	}
	if offset < p.segs[0].base {
		return nil, fmt.Errorf("%w: offset %d is before the log start %d", storage.ErrOffsetOutRange, offset, p.segs[0].base)
	}
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].base > offset }) - 1
	for i < len(p.segs)-1 && p.segs[i].next.Load() <= offset {
		i++
	}
	s := p.segs[i]
	s.acquire()
	return s, nil
}

// Read returns up to limit records (limit <= 0: no limit) starting at offset, crossing segment
// boundaries. offset == EndOffset returns nothing; beyond it, or before StartOffset, it returns
// storage.ErrOffsetOutRange.
func (p *Partition) Read(offset int64, limit int) ([]storage.Record, error) {
	return p.ReadAppend(offset, limit, nil)
}

// ReadAppend is Read appending the records to dst[:0], so that a reader that is done with its
// previous batch can reuse its slice (the keys and values are in a fresh buffer either way).
func (p *Partition) ReadAppend(offset int64, limit int, dst []storage.Record) ([]storage.Record, error) {
	end := p.end.Load()
	if offset > end || offset < 0 {
		return nil, fmt.Errorf("%w: offset %d, end %d", storage.ErrOffsetOutRange, offset, end)
	}
	out := dst[:0]
	if limit > 0 && cap(out) == 0 {
		out = make([]storage.Record, 0, min(limit, 1024))
	}
	for offset < end && (limit <= 0 || len(out) < limit) {
		s, err := p.segmentFor(offset)
		if err != nil {
			if len(out) > 0 && !errors.Is(err, storage.ErrClosed) {
				break
			}
			return nil, err
		}
		var next int64
		out, next, err = s.read(offset, limit, p.opts.partitionID, out)
		s.release()
		if err != nil {
			return nil, err
		}
		if next <= offset {
			break // only possible when a concurrent TruncateTo shrank the segment
		}
		offset = next
	}
	// A batch appended after end was loaded may already be visible in the segment; returning
	// it would hand the caller a next offset beyond end, which the next Read rejects as out of
	// range. Keep the read consistent with the end it started from.
	for len(out) > 0 && out[len(out)-1].Offset >= end {
		out = out[:len(out)-1]
	}
	return out, nil
}

// OffsetForTime returns the first offset whose record timestamp is >= ts, or EndOffset.
func (p *Partition) OffsetForTime(ts int64) (int64, error) {
	end := p.end.Load()
	p.mu.RLock()
	if p.closed.Load() {
		p.mu.RUnlock()
		return 0, storage.ErrClosed
	}
	segs := slices.Clone(p.segs)
	for _, s := range segs {
		s.acquire()
	}
	p.mu.RUnlock()
	defer func() {
		for _, s := range segs {
			s.release()
		}
	}()
	for _, s := range segs {
		if s.maxTs.Load() < ts {
			continue
		}
		sc := newFrameScanner(s.f, lookupTime(s.indexSnapshot(), ts), s.size.Load())
		for {
			h, ok := sc.next()
			if !ok {
				break
			}
			if h.MaxTimestamp < ts {
				continue
			}
			payload, err := sc.payload(false)
			if err != nil {
				break
			}
			_, recs, err := DecodeBatch(payload, 0, 0, nil)
			if err != nil {
				sc.close()
				return 0, err
			}
			for _, r := range recs {
				if r.Timestamp >= ts && r.Offset < end {
					sc.close()
					return r.Offset, nil
				}
			}
		}
		err := sc.err
		sc.close()
		if err != nil && !errors.Is(err, ErrCorrupt) {
			return 0, err
		}
	}
	return end, nil
}

// DeleteSegmentsBefore deletes closed segments whose whole range is below offset, oldest first,
// so that a crash midway leaves a contiguous suffix. It never deletes the active segment. It
// returns how many segments it deleted.
func (p *Partition) DeleteSegmentsBefore(offset int64) (int, error) {
	p.maint.Lock()
	defer p.maint.Unlock()
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return 0, storage.ErrClosed
	}
	n := 0
	for n < len(p.segs)-1 && p.segs[n].closed.Load() && p.segs[n].next.Load() <= offset {
		n++
	}
	victims := slices.Clone(p.segs[:n])
	p.segs = slices.Clone(p.segs[n:])
	p.mu.Unlock()
	var firstErr error
	for _, s := range victims {
		if err := os.Remove(s.path); err != nil && firstErr == nil {
			firstErr = err
		}
		removeIndexes(s.path)
		s.release()
	}
	if n > 0 && p.opts.fsync != FsyncNever {
		_ = SyncDir(p.dir)
	}
	return n, firstErr
}

// TruncateTo removes every record at or after offset. When offset falls inside a batch, the
// batch is rewritten without its tail, keeping the offsets of the records before offset. The
// new end is synced (unless FsyncNever) before TruncateTo returns, because exactly-once
// recovery relies on the removed output staying removed.
func (p *Partition) TruncateTo(offset int64) error {
	p.maint.Lock()
	defer p.maint.Unlock()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.closed.Load() {
		return storage.ErrClosed
	}
	end := p.end.Load()
	if offset < 0 || offset > end {
		return fmt.Errorf("%w: truncate to %d, end %d", storage.ErrOffsetOutRange, offset, end)
	}
	if offset == end {
		return nil
	}
	p.mu.Lock()
	defer func() {
		p.mu.Unlock()
		p.wake()
	}()
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].base > offset }) - 1
	// Remove newest first, so a crash midway leaves a prefix of the log, never a hole.
	for j := len(p.segs) - 1; j > i && j >= 0; j-- {
		s := p.segs[j]
		if err := os.Remove(s.path); err != nil {
			return err
		}
		removeIndexes(s.path)
		s.release()
		p.segs = p.segs[:j]
	}
	if i < 0 {
		s, err := p.createSegment(offset)
		if err != nil {
			return err
		}
		p.segs = []*segment{s}
		p.act = s
		p.end.Store(offset)
		return nil
	}
	s := p.segs[i]
	if err := p.cutSegment(s, offset); err != nil {
		return err
	}
	removeIndexes(s.path)
	s.closed.Store(false)
	s.rolled.Store(0)
	p.act = s
	p.end.Store(offset)
	if p.opts.fsync != FsyncNever {
		if err := s.f.Sync(); err != nil {
			return err
		}
		return SyncDir(p.dir)
	}
	return nil
}

// cutSegment truncates s so that it ends just before offset.
func (p *Partition) cutSegment(s *segment, offset int64) error {
	// A new generation before any byte changes and another once the new size is in place: a
	// read that loaded the generation in between may have read bytes in flux.
	s.cutGen.Add(1)
	s.lastWindow.Store(nil)
	defer func() {
		s.cutGen.Add(1)
		s.lastWindow.Store(nil)
	}()
	size := s.size.Load()
	sc := newFrameScanner(s.f, lookupOffset(s.indexSnapshot(), s.base, offset), size)
	defer sc.close()
	cut, tail := size, []byte(nil)
	for {
		h, ok := sc.next()
		if !ok {
			break
		}
		if h.NextOffset() <= offset {
			continue
		}
		cut = sc.pos
		if h.BaseOffset < offset {
			payload, err := sc.payload(false)
			if err != nil {
				return err
			}
			_, recs, err := DecodeBatch(payload, 0, 0, nil)
			if err != nil {
				return err
			}
			keep := recs[:0]
			for _, r := range recs {
				if r.Offset < offset {
					keep = append(keep, r)
				}
			}
			tail = appendFrame(nil, h.BaseOffset, offset, keep, true)
		}
		break
	}
	if sc.err != nil && !errors.Is(sc.err, ErrCorrupt) {
		return sc.err
	}
	if len(tail) > 0 {
		if _, err := s.f.WriteAt(tail, cut); err != nil {
			return err
		}
	}
	if err := s.f.Truncate(cut + int64(len(tail))); err != nil {
		return err
	}
	if err := p.rescan(s, cut+int64(len(tail))); err != nil {
		return err
	}
	s.next.Store(offset)
	return nil
}

// Close syncs (unless FsyncNever) and closes the partition. In-flight reads finish on their own
// file references; later calls return storage.ErrClosed.
func (p *Partition) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.maint.Lock()
	defer p.maint.Unlock()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	var err error
	if p.opts.fsync != FsyncNever && p.act != nil {
		err = p.act.f.Sync()
	}
	p.closeSegments()
	p.wake()
	return err
}

func (p *Partition) closeSegments() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.segs {
		s.release()
	}
	p.segs = nil
}

// preads counts the windows read from the files of the partition's current segments.
func (p *Partition) preads() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var n int64
	for _, s := range p.segs {
		n += s.preads.Load()
	}
	return n
}
