package segment

import (
	"bufio"
	"errors"
	"hash/crc32"
	"io"
	"sync"
)

const scanBufSize = 64 << 10

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, scanBufSize) }}

// frameScanner walks the whole frames of one segment file between two positions. Every reader of
// segment bytes (recovery, Read, OffsetForTime, compaction, truncation) goes through it, so there
// is one place that decides what a valid frame is. A caller that only needs the batch header can
// skip the payload without reading it through the checksum.
type frameScanner struct {
	r   *bufio.Reader
	pos int64 // position of the current (or next) frame
	end int64
	err error // first failure: ErrCorrupt for damage, an I/O error otherwise

	hdr     [frameHeaderSize]byte
	fh      frameHeader
	bh      BatchHeader
	pending bool // the current frame's payload has not been consumed
	buf     []byte
}

func newFrameScanner(f io.ReaderAt, pos, end int64) *frameScanner {
	r := readerPool.Get().(*bufio.Reader)
	r.Reset(io.NewSectionReader(f, pos, end-pos))
	return &frameScanner{r: r, pos: pos, end: end}
}

func (s *frameScanner) close() {
	if s.r != nil {
		s.r.Reset(nil)
		readerPool.Put(s.r)
		s.r = nil
	}
}

// next moves to the next frame and returns its batch header. It returns false at the end of the
// range or on the first damaged frame; s.err then says which, and s.pos is where valid data ends.
func (s *frameScanner) next() (BatchHeader, bool) {
	if s.pending {
		if !s.skip() {
			return BatchHeader{}, false
		}
	}
	if s.err != nil || s.pos >= s.end {
		return BatchHeader{}, false
	}
	if s.end-s.pos < frameHeaderSize {
		s.err = corruptf("torn frame header at %d", s.pos)
		return BatchHeader{}, false
	}
	if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
		s.err = ioErr(err)
		return BatchHeader{}, false
	}
	s.fh = parseFrameHeader(s.hdr[:])
	if s.fh.length > maxFramePayload || int64(s.fh.length) > s.end-s.pos-frameHeaderSize {
		s.err = corruptf("frame at %d: length %d runs past %d", s.pos, s.fh.length, s.end)
		return BatchHeader{}, false
	}
	if s.fh.length < batchHeaderSize {
		s.err = corruptf("frame at %d: length %d shorter than a batch header", s.pos, s.fh.length)
		return BatchHeader{}, false
	}
	peek, err := s.r.Peek(batchHeaderSize)
	if err != nil {
		s.err = ioErr(err)
		return BatchHeader{}, false
	}
	bh, err := checkBatchHeader(parseBatchHeader(peek), int(s.fh.length))
	if err != nil {
		s.err = err
		return BatchHeader{}, false
	}
	s.bh, s.pending = bh, true
	return bh, true
}

// payload reads and verifies the current frame's payload. With fresh it allocates a new slice,
// which is what lets decoded records alias it after the scanner moves on.
func (s *frameScanner) payload(fresh bool) ([]byte, error) {
	n := int(s.fh.length)
	var b []byte
	if fresh {
		b = make([]byte, n)
	} else {
		if cap(s.buf) < n {
			s.buf = make([]byte, n)
		}
		b = s.buf[:n]
	}
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = ioErr(err)
		return nil, s.err
	}
	crc := crc32.Update(crc32.Checksum(s.hdr[8:10], castagnoli), castagnoli, b)
	if crc != s.fh.crc {
		s.err = corruptf("frame at %d: checksum mismatch", s.pos)
		return nil, s.err
	}
	if s.fh.version != batchVersion {
		s.err = corruptf("frame at %d: unknown batch version %d", s.pos, s.fh.version)
		return nil, s.err
	}
	s.pending = false
	s.pos += frameHeaderSize + int64(n)
	return b, nil
}

// skip moves past the current payload without verifying it.
func (s *frameScanner) skip() bool {
	if _, err := s.r.Discard(int(s.fh.length)); err != nil {
		s.err = ioErr(err)
		return false
	}
	s.pending = false
	s.pos += frameHeaderSize + int64(s.fh.length)
	return true
}

// frameSize is the current frame's size on disk.
func (s *frameScanner) frameSize() int64 { return frameHeaderSize + int64(s.fh.length) }

// ioErr turns a short read into corruption: the scanner only reads below a size it was given, so
// running out of bytes means the file shrank or lied about its size.
func ioErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corruptf("unexpected end of file")
	}
	return err
}
