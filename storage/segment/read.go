package segment

import (
	"errors"
	"fmt"

	"github.com/sluicedb/sluice/storage"
)

// Read path. Partition.Read returns records whose keys, values and header values alias the bytes
// read from the file, so a read costs one positional read (pread) per window of whole frames and
// one decode pass, with no copy per record or per field and no pooled buffer: every window is a
// fresh allocation that is never written again after the pread, which is what makes it safe to
// hand out sub-slices of it (see the aliasing rule on storage.Log.Read).
//
// Every frame that contributes records is checked against its CRC32C on every read. The bytes
// come from the file (page cache or disk), not from memory this process verified, so bit rot or
// a stray write to the file after the append would otherwise reach the caller as valid data.
// Frames that lie entirely before the requested offset are skipped by their headers, unverified,
// as before.
//
// A read that stops inside a window because it reached its limit leaves that window with the
// segment (lastWindow): the next read usually starts where this one stopped, often inside the
// same frame, and would otherwise read and allocate the frame again (a reader taking 2,000
// records at a time from frames of 10,000 read every frame five times). Windows are never
// written after their pread, so readers share them; TruncateTo bumps the segment's cut
// generation, which retires every window read before the cut.

const (
	// minReadWindow is the smallest pread the reader issues. It covers a gap between two sparse
	// index entries (4 KiB by default) plus a few small frames.
	minReadWindow = 16 << 10
	// maxReadWindow bounds one pread when the caller asked for many records or for no limit.
	// A frame larger than this is still read whole, in one pread of its own size.
	maxReadWindow = 4 << 20
)

// window is one pread's worth of a segment file: buf holds the bytes at file position pos.
type window struct {
	buf []byte
	pos int64
	gen uint64 // the segment's cut generation when the pread started
}

// maxSharedWindow bounds the window a segment keeps for the next read: one per segment that a
// reader stopped inside, so memory stays at one small window per partition being read.
const maxSharedWindow = 1 << 20

// covers reports whether the window holds the n bytes at file position at.
func (w *window) covers(at int64, n int64) bool {
	return at >= w.pos && at+n <= w.pos+int64(len(w.buf))
}

func (w *window) slice(at, n int64) []byte {
	off := at - w.pos
	return w.buf[off : off+n : off+n]
}

// readWindow sizes the next pread at file position pos: at least need bytes (a whole frame or
// frame header), otherwise enough for the records still wanted at this segment's average bytes
// per offset, within [minReadWindow, maxReadWindow], and never past end.
func (s *segment) readWindow(w *window, pos, need, end int64, wanted int) error {
	n := int64(maxReadWindow)
	if wanted > 0 {
		per := int64(64)
		if span := s.next.Load() - s.base; span > 0 {
			per = max(1, (s.size.Load()-fileHeaderSize+span-1)/span)
		}
		// wanted is clamped first so that a huge limit cannot overflow the product.
		n = min(n, int64(min(wanted, maxReadWindow))*per+frameHeaderSize+batchHeaderSize)
	}
	n = min(max(n, minReadWindow, need), end-pos)
	// A fresh buffer every time: records decoded from the previous window alias it.
	buf := make([]byte, n)
	s.preads.Add(1)
	if _, err := s.f.ReadAt(buf, pos); err != nil {
		return ioErr(err)
	}
	w.buf, w.pos = buf, pos
	return nil
}

// keepWindow leaves w with the segment for the next read when the read stopped with bytes of
// w left unread (from position pos on), and otherwise lets go of a kept window it has read past.
func (s *segment) keepWindow(w *window, pos int64) {
	kept := s.lastWindow.Load()
	if len(w.buf) > 0 && len(w.buf) <= maxSharedWindow && w.pos+int64(len(w.buf)) > pos {
		if kept == nil || kept.pos != w.pos || len(kept.buf) != len(w.buf) {
			c := *w
			s.lastWindow.Store(&c)
		}
		return
	}
	if kept != nil && kept.pos+int64(len(kept.buf)) <= pos {
		s.lastWindow.CompareAndSwap(kept, nil)
	}
}

// read appends records at or after from to out and returns where the caller should continue.
func (s *segment) read(from int64, limit int, partition int32, out []storage.Record) ([]storage.Record, int64, error) {
	// The generation first: a window this read makes must not outlive a cut that changes the
	// bytes below the size it loads next.
	gen := s.cutGen.Load()
	size := s.size.Load()
	closed := s.closed.Load()
	pos := lookupOffset(s.indexSnapshot(), s.base, from)
	next := from
	w := window{gen: gen}
	if kept := s.lastWindow.Load(); kept != nil && kept.gen == gen {
		w = *kept
	}
	var ferr error // first failure: ErrCorrupt for damage, an I/O error otherwise
	for pos < size && (limit <= 0 || len(out) < limit) {
		wanted := 0
		if limit > 0 {
			wanted = limit - len(out)
		}
		if size-pos < frameHeaderSize {
			ferr = corruptf("torn frame header at %d", pos)
			break
		}
		// The frame header and the batch header are read together; a frame too short to hold a
		// batch header is rejected below before its batch header is looked at.
		hdrLen := min(int64(frameHeaderSize+batchHeaderSize), size-pos)
		if !w.covers(pos, hdrLen) {
			if ferr = s.readWindow(&w, pos, hdrLen, size, wanted); ferr != nil {
				break
			}
		}
		fh := parseFrameHeader(w.slice(pos, frameHeaderSize))
		if fh.length > maxFramePayload || int64(fh.length) > size-pos-frameHeaderSize {
			ferr = corruptf("frame at %d: length %d runs past %d", pos, fh.length, size)
			break
		}
		if fh.length < batchHeaderSize {
			ferr = corruptf("frame at %d: length %d shorter than a batch header", pos, fh.length)
			break
		}
		bh, err := checkBatchHeader(parseBatchHeader(w.slice(pos+frameHeaderSize, batchHeaderSize)), int(fh.length))
		if err != nil {
			ferr = err
			break
		}
		frameLen := frameHeaderSize + int64(fh.length)
		if bh.NextOffset() <= from {
			pos += frameLen // wholly before the requested offset: skipped unread, unverified
			continue
		}
		if !w.covers(pos, frameLen) {
			if ferr = s.readWindow(&w, pos, frameLen, size, wanted); ferr != nil {
				break
			}
		}
		frame := w.slice(pos, frameLen)
		if err := checkFrame(fh, frame[8:]); err != nil {
			ferr = fmt.Errorf("frame at %d: %w", pos, err)
			break
		}
		var derr error
		if _, out, derr = decodeBatch(frame[frameHeaderSize:], from, limit, partition, out); derr != nil {
			return out, next, fmt.Errorf("segment %s at byte %d: %w", s.path, pos, derr)
		}
		pos += frameLen
		next = bh.NextOffset()
		if limit > 0 && len(out) >= limit {
			next = out[len(out)-1].Offset + 1
			resume := pos
			if next < bh.NextOffset() {
				resume -= frameLen // the next read starts inside this frame
			}
			s.keepWindow(&w, resume)
			return out, next, nil
		}
	}
	s.keepWindow(&w, pos)
	if ferr != nil && !errors.Is(ferr, ErrCorrupt) {
		return out, next, ferr
	}
	if ferr != nil && closed {
		return out, next, fmt.Errorf("segment %s: %w", s.path, ferr)
	}
	if closed {
		// A closed segment's range is final; compaction may have removed its last records.
		next = max(next, s.next.Load())
	}
	return out, next, nil
}
