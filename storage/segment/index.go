package segment

// Index files are caches of facts that can be recomputed from the log file, so their format is
// allowed to change freely: an unknown version, a bad checksum or a size mismatch with the log
// file all mean "rebuild", never "fail".
//
// OFFSET INDEX (<base>.index) and TIME INDEX (<base>.timeindex), little-endian:
//
//	header, 52 bytes:
//	  [4] magic "SLIX" (offset) or "SLTI" (time)
//	  [2] index version (1)
//	  [2] reserved
//	  [8] base offset        (must equal the log file's)
//	  [8] next offset        (end of the segment's offset range)
//	  [8] max timestamp      (over the whole segment; math.MinInt64 when empty)
//	  [8] log file size      (the index is stale if the log's size differs)
//	  [8] rolled at, epoch ms (when the segment was closed: starts the tombstone clock)
//	  [4] entry count
//	entries: offset index: [4] offset - base, [4] file position
//	         time index:   [8] max timestamp of all records before the entry, [4] offset - base
//	trailer: [4] CRC32C of everything before it
//
// Only closed segments have index files. The active segment's index lives in memory and is
// rebuilt by the recovery scan at open, which has to read the whole last segment anyway.

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
)

const (
	offsetIndexMagic = "SLIX"
	timeIndexMagic   = "SLTI"
	indexVersion     = 1
	indexHeaderSize  = 52
)

// indexEntry marks a batch boundary: the batch at pos starts at offset base+rel, and every
// record before it has a timestamp <= maxTsBefore. One in-memory entry serves both indexes.
type indexEntry struct {
	rel         uint32
	pos         uint32
	maxTsBefore int64
}

// indexMeta is what the index header remembers about a closed segment.
type indexMeta struct {
	base, next, maxTs, logSize, rolledAt int64
}

// lookupOffset returns the position of the last indexed batch starting at or before offset.
func lookupOffset(idx []indexEntry, base, offset int64) int64 {
	rel := offset - base
	i := sort.Search(len(idx), func(i int) bool { return int64(idx[i].rel) > rel })
	if i == 0 {
		return fileHeaderSize
	}
	return int64(idx[i-1].pos)
}

// lookupTime returns the position of the last indexed batch before which every record is older
// than ts: the first record with timestamp >= ts cannot be earlier. maxTsBefore is a running
// maximum, so the predicate is monotonic and binary search applies even when timestamps are not.
func lookupTime(idx []indexEntry, ts int64) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].maxTsBefore >= ts })
	if i == 0 {
		return fileHeaderSize
	}
	return int64(idx[i-1].pos)
}

func encodeIndex(magic string, m indexMeta, idx []indexEntry) []byte {
	entrySize := 8
	if magic == timeIndexMagic {
		entrySize = 12
	}
	b := make([]byte, indexHeaderSize, indexHeaderSize+len(idx)*entrySize+4)
	copy(b, magic)
	binary.LittleEndian.PutUint16(b[4:], indexVersion)
	binary.LittleEndian.PutUint64(b[8:], uint64(m.base))
	binary.LittleEndian.PutUint64(b[16:], uint64(m.next))
	binary.LittleEndian.PutUint64(b[24:], uint64(m.maxTs))
	binary.LittleEndian.PutUint64(b[32:], uint64(m.logSize))
	binary.LittleEndian.PutUint64(b[40:], uint64(m.rolledAt))
	binary.LittleEndian.PutUint32(b[48:], uint32(len(idx)))
	for _, e := range idx {
		if magic == timeIndexMagic {
			b = binary.LittleEndian.AppendUint64(b, uint64(e.maxTsBefore))
			b = binary.LittleEndian.AppendUint32(b, e.rel)
		} else {
			b = binary.LittleEndian.AppendUint32(b, e.rel)
			b = binary.LittleEndian.AppendUint32(b, e.pos)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errStaleIndex = errors.New("segment: index missing, stale or corrupt")

func decodeIndex(magic string, b []byte) (indexMeta, []struct{ a, b int64 }, error) {
	var m indexMeta
	if len(b) < indexHeaderSize+4 || string(b[:4]) != magic ||
		binary.LittleEndian.Uint16(b[4:]) != indexVersion {
		return m, nil, errStaleIndex
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return m, nil, errStaleIndex
	}
	m = indexMeta{
		base:     int64(binary.LittleEndian.Uint64(b[8:])),
		next:     int64(binary.LittleEndian.Uint64(b[16:])),
		maxTs:    int64(binary.LittleEndian.Uint64(b[24:])),
		logSize:  int64(binary.LittleEndian.Uint64(b[32:])),
		rolledAt: int64(binary.LittleEndian.Uint64(b[40:])),
	}
	n := int(binary.LittleEndian.Uint32(b[48:]))
	entrySize := 8
	if magic == timeIndexMagic {
		entrySize = 12
	}
	if len(body) != indexHeaderSize+n*entrySize {
		return m, nil, errStaleIndex
	}
	out := make([]struct{ a, b int64 }, n)
	p := body[indexHeaderSize:]
	for i := range out {
		if magic == timeIndexMagic {
			out[i].a = int64(binary.LittleEndian.Uint64(p))
			out[i].b = int64(binary.LittleEndian.Uint32(p[8:]))
		} else {
			out[i].a = int64(binary.LittleEndian.Uint32(p))
			out[i].b = int64(binary.LittleEndian.Uint32(p[4:]))
		}
		p = p[entrySize:]
	}
	return m, out, nil
}

// loadIndexes reads both index files of a closed segment and checks them against each other and
// against the log file. Any doubt returns errStaleIndex and the caller rebuilds.
func loadIndexes(logPath string, base, logSize int64) (indexMeta, []indexEntry, error) {
	ob, err := os.ReadFile(indexPath(logPath))
	if err != nil {
		return indexMeta{}, nil, errStaleIndex
	}
	tb, err := os.ReadFile(timeIndexPath(logPath))
	if err != nil {
		return indexMeta{}, nil, errStaleIndex
	}
	om, oe, err := decodeIndex(offsetIndexMagic, ob)
	if err != nil {
		return om, nil, err
	}
	tm, te, err := decodeIndex(timeIndexMagic, tb)
	if err != nil {
		return om, nil, err
	}
	if om != tm || om.base != base || om.logSize != logSize || len(oe) != len(te) || om.next < base {
		return om, nil, errStaleIndex
	}
	idx := make([]indexEntry, len(oe))
	var prev indexEntry
	for i := range oe {
		e := indexEntry{rel: uint32(oe[i].a), pos: uint32(oe[i].b), maxTsBefore: te[i].a}
		if te[i].b != oe[i].a || int64(e.pos) < fileHeaderSize || int64(e.pos) >= logSize ||
			(i > 0 && (e.rel <= prev.rel || e.pos <= prev.pos || e.maxTsBefore < prev.maxTsBefore)) {
			return om, nil, errStaleIndex
		}
		idx[i], prev = e, e
	}
	return om, idx, nil
}

// writeIndexes persists both index files atomically (temp file + rename), so a crash leaves
// either the old complete file, the new complete file, or none: never a half-written cache that
// happens to pass the checks.
func writeIndexes(logPath string, m indexMeta, idx []indexEntry, sync bool) error {
	for _, f := range []struct{ path, magic string }{
		{indexPath(logPath), offsetIndexMagic},
		{timeIndexPath(logPath), timeIndexMagic},
	} {
		if err := writeFileAtomic(f.path, encodeIndex(f.magic, m, idx), sync); err != nil {
			return err
		}
	}
	return nil
}

func removeIndexes(logPath string) {
	_ = os.Remove(indexPath(logPath))
	_ = os.Remove(timeIndexPath(logPath))
}

func indexPath(logPath string) string     { return logPath[:len(logPath)-len(".log")] + ".index" }
func timeIndexPath(logPath string) string { return logPath[:len(logPath)-len(".log")] + ".timeindex" }

// writeFileAtomic writes data to path via a temporary file and rename. With sync it fsyncs the
// file before the rename and the directory after it, which is what makes the rename durable.
func writeFileAtomic(path string, data []byte, sync bool) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if sync {
		return SyncDir(filepath.Dir(path))
	}
	return nil
}

// SyncDir fsyncs a directory so that file creations, renames and removals in it survive power
// loss. Exported for storage/embedded, which uses the same atomic-rename discipline.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteFileAtomic is writeFileAtomic for other storage packages (topic metadata, group offsets).
func WriteFileAtomic(path string, data []byte, sync bool) error {
	return writeFileAtomic(path, data, sync)
}
