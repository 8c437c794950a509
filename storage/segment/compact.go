package segment

import (
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// CompactStats says what one Compact call did.
type CompactStats struct {
	SegmentsRewritten int
	RecordsRemoved    int
	BytesBefore       int64
	BytesAfter        int64
}

// Compact rewrites closed segments so that each keeps, per key, only the record that is the
// latest for that key in the whole partition. A tombstone (nil value) that is the latest for its
// key is kept until tombstoneRetention has passed since its segment was rolled, so a consumer
// that reads at least that often sees every deletion. Records with a nil key are never removed:
// there is nothing newer they could be superseded by.
//
// Offsets are preserved, so compaction leaves holes; each batch keeps its offset range. The
// active segment is read (its records supersede older ones) but never rewritten. Each rewrite
// goes to a temporary file that is renamed over the original, so a crash leaves either the old
// or the new segment; readers already inside the old file keep reading it.
//
// Compact runs alongside Append and Read: it holds no lock they need except for the instant of
// swapping a segment in.
func (p *Partition) Compact(tombstoneRetention time.Duration) (CompactStats, error) {
	p.maint.Lock()
	defer p.maint.Unlock()
	var st CompactStats
	p.mu.RLock()
	if p.closed.Load() {
		p.mu.RUnlock()
		return st, storage.ErrClosed
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
	if len(segs) < 2 || !segs[len(segs)-2].closed.Load() {
		return st, nil
	}

	latest := make(map[string]int64)
	for _, s := range segs {
		err := s.forEachBatch(func(_ BatchHeader, recs []storage.Record) error {
			for _, r := range recs {
				if r.Key != nil {
					latest[string(r.Key)] = r.Offset
				}
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}

	nowMs := p.nowMs()
	for _, s := range segs[:len(segs)-1] {
		if !s.closed.Load() {
			break
		}
		if p.closed.Load() {
			return st, storage.ErrClosed
		}
		dropTombstones := nowMs-s.rolled.Load() >= tombstoneRetention.Milliseconds()
		removed, err := p.compactSegment(s, latest, dropTombstones, &st)
		if err != nil {
			return st, err
		}
		st.RecordsRemoved += removed
	}
	return st, nil
}

// forEachBatch decodes every batch of s up to its current size.
func (s *segment) forEachBatch(fn func(BatchHeader, []storage.Record) error) error {
	sc := newFrameScanner(s.f, fileHeaderSize, s.size.Load())
	defer sc.close()
	var recs []storage.Record
	for {
		h, ok := sc.next()
		if !ok {
			break
		}
		payload, err := sc.payload(false)
		if err != nil {
			break
		}
		_, recs, err = DecodeBatch(payload, 0, 0, recs[:0])
		if err != nil {
			return fmt.Errorf("segment %s: %w", s.path, err)
		}
		if err := fn(h, recs); err != nil {
			return err
		}
	}
	if sc.err != nil {
		return fmt.Errorf("segment %s: %w", s.path, sc.err)
	}
	return nil
}

func (p *Partition) compactSegment(s *segment, latest map[string]int64, dropTombstones bool, st *CompactStats) (int, error) {
	removed := 0
	err := s.forEachBatch(func(_ BatchHeader, recs []storage.Record) error {
		for _, r := range recs {
			if !keepRecord(r, latest, dropTombstones) {
				removed++
			}
		}
		return nil
	})
	if err != nil || removed == 0 {
		return 0, err
	}

	tmpPath := s.path + ".cleaned"
	f, err := os.OpenFile(tmpPath, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return 0, err
	}
	ns := &segment{base: s.base, path: s.path, f: f, createdMs: s.createdMs}
	ns.refs.Store(1)
	ns.rolled.Store(s.rolled.Load())
	ns.closed.Store(true)
	ns.next.Store(s.next.Load())
	buf := encodeFileHeader(s.base, s.createdMs)
	maxTs := int64(math.MinInt64)
	var idx []indexEntry
	since := int64(0)
	err = s.forEachBatch(func(h BatchHeader, recs []storage.Record) error {
		keep := recs[:0]
		for _, r := range recs {
			if keepRecord(r, latest, dropTombstones) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return nil
		}
		pos := int64(len(buf))
		if since >= p.opts.indexInterval {
			idx = append(idx, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos), maxTsBefore: maxTs})
			since = 0
		}
		buf = appendFrame(buf, h.BaseOffset, h.NextOffset(), keep, true)
		since += int64(len(buf)) - pos
		for _, r := range keep {
			maxTs = max(maxTs, r.Timestamp)
		}
		return nil
	})
	if err == nil {
		_, err = f.WriteAt(buf, 0)
	}
	if err == nil && p.opts.fsync != FsyncNever {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		_ = os.Remove(tmpPath)
		return 0, err
	}
	ns.idx = idx
	ns.size.Store(int64(len(buf)))
	ns.maxTs.Store(maxTs)

	p.mu.Lock()
	i := slices.Index(p.segs, s)
	if i < 0 { // deleted meanwhile; cannot happen while maint is held, but never resurrect it
		p.mu.Unlock()
		f.Close()
		_ = os.Remove(tmpPath)
		return 0, nil
	}
	if err := os.Rename(tmpPath, s.path); err != nil {
		p.mu.Unlock()
		f.Close()
		_ = os.Remove(tmpPath)
		return 0, err
	}
	p.segs[i] = ns
	p.mu.Unlock()
	s.release() // the partition's reference; readers still inside keep the old inode alive

	sync := p.opts.fsync != FsyncNever
	if sync {
		_ = SyncDir(p.dir)
	}
	_ = writeIndexes(ns.path, ns.meta(), idx, sync)
	st.SegmentsRewritten++
	st.BytesBefore += s.size.Load()
	st.BytesAfter += ns.size.Load()
	return removed, nil
}

func keepRecord(r storage.Record, latest map[string]int64, dropTombstones bool) bool {
	if r.Key == nil {
		return true
	}
	if latest[string(r.Key)] != r.Offset {
		return false
	}
	return r.Value != nil || !dropTombstones
}
