package segment

// FORMAT MIGRATION GUIDE
//
// Every persisted structure carries its own version: the segment file header (fileVersion), each
// batch frame (batchVersion) and each index file (indexVersion). Readers accept the current
// version and one version back (N-1); writers always write the current version. Old segments are
// never rewritten just to upgrade them: they age out through retention, or compaction rewrites
// them in the current version as a side effect.
//
// To change the batch payload:
//  1. Add batchVersionN+1 and a decodeRecordsVN+1; keep the old decoder, rename it with its
//     version number, and dispatch on the frame's version in decodeRecords.
//  2. Switch appendFrame to the new version. The frame header (length, CRC, version) must not
//     change: recovery relies on it to find the torn tail without understanding the payload.
//  3. Add a test that decodes a frame produced by the previous version (freeze its bytes in
//     format_test.go) and add the old frame to the fuzz corpus.
//  4. After a release that wrote only the new version, a later release may drop N-1.
//
// To change the file header, bump fileVersion the same way; the magic never changes.
// Index files are caches: a reader that sees an index version it does not know rebuilds the index
// from the log file instead of failing, so index format changes need no migration at all.
//
// SEGMENT FILE (<base offset, 20 digits>.log), all integers little-endian:
//
//	file header, 32 bytes:
//	  [4] magic "SLSG"
//	  [2] file format version (1)
//	  [2] reserved, zero
//	  [8] base offset: offset of the first record this file may hold
//	  [8] created, epoch milliseconds (drives roll by age across restarts)
//	  [4] reserved, zero
//	  [4] CRC32C (Castagnoli) of the 28 bytes above
//	then zero or more frames:
//	  [4] length N of the payload
//	  [4] CRC32C of the version and payload bytes
//	  [2] batch version (1)
//	  [N] payload
//
// BATCH PAYLOAD, version 1:
//
//	[8] base offset
//	[4] last offset delta: the batch covers offsets base..base+delta
//	[4] record count (at most delta+1; fewer after compaction)
//	[8] min timestamp, [8] max timestamp (epoch ms, over the batch's records)
//	then per record:
//	  uvarint offset delta (strictly increasing within the batch)
//	  uvarint timestamp - min timestamp
//	  varint  key length, -1 for a null key; key bytes
//	  varint  value length, -1 for a null value (tombstone); value bytes
//	  uvarint header count; per header: varint key length (never -1), key bytes,
//	          varint value length (-1 null), value bytes
//
// Null and empty are different values for keys, values and header values, which is why their
// lengths are signed: a table tombstone (nil) and an empty-string value must survive a round trip.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/sluicedb/sluice/storage"
)

const (
	fileMagic        = "SLSG"
	fileVersion      = 1
	fileHeaderSize   = 32
	frameHeaderSize  = 10
	batchVersion     = 1
	batchHeaderSize  = 32
	maxFramePayload  = 1 << 30 // sanity bound so a corrupt length cannot make us allocate wildly
	minRecordEncoded = 5       // offset delta, ts delta, key len, value len, header count
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports bytes that are not a whole, valid frame: a torn write, bit rot, or a file
// that is not a segment. Recovery treats it as the end of the usable log.
var ErrCorrupt = errors.New("segment: corrupt data")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// BatchHeader is the fixed part of a batch payload.
type BatchHeader struct {
	BaseOffset      int64
	LastOffsetDelta uint32
	Count           uint32
	MinTimestamp    int64
	MaxTimestamp    int64
}

// NextOffset is the offset just after the batch's range, whether or not its last records
// survived compaction.
func (h BatchHeader) NextOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) + 1 }

func encodeFileHeader(base, createdMs int64) []byte {
	b := make([]byte, fileHeaderSize)
	copy(b, fileMagic)
	binary.LittleEndian.PutUint16(b[4:], fileVersion)
	binary.LittleEndian.PutUint64(b[8:], uint64(base))
	binary.LittleEndian.PutUint64(b[16:], uint64(createdMs))
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

func decodeFileHeader(b []byte) (base, createdMs int64, err error) {
	if len(b) < fileHeaderSize {
		return 0, 0, corruptf("file header: %d bytes", len(b))
	}
	if string(b[:4]) != fileMagic {
		return 0, 0, corruptf("file header: bad magic %q", b[:4])
	}
	if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return 0, 0, corruptf("file header: checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != fileVersion {
		return 0, 0, fmt.Errorf("segment: unsupported file format version %d", v)
	}
	return int64(binary.LittleEndian.Uint64(b[8:])), int64(binary.LittleEndian.Uint64(b[16:])), nil
}

func varintLen(v int64) int { return uvarintLen(uint64(v<<1) ^ uint64(v>>63)) }
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// bytesLen is the encoded size of a nullable byte string.
func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// AppendBatch appends one frame holding recs, with dense offsets base, base+1, ..., to dst. The
// records' Offset and Partition fields are ignored.
func AppendBatch(dst []byte, base int64, recs []storage.Record) []byte {
	return appendFrame(dst, base, base+int64(len(recs)), recs, false)
}

// appendFrame encodes recs as one frame covering offsets [base, next). With explicit, each
// record's Offset is kept (compaction and mid-batch truncation leave holes); otherwise offsets
// are base+i. It sizes the frame first so the hot path is one pass into a reused buffer.
func appendFrame(dst []byte, base, next int64, recs []storage.Record, explicit bool) []byte {
	if len(recs) == 0 {
		return dst
	}
	minTs, maxTs := recs[0].Timestamp, recs[0].Timestamp
	for i := range recs {
		ts := recs[i].Timestamp
		if ts < minTs {
			minTs = ts
		}
		if ts > maxTs {
			maxTs = ts
		}
	}
	lastDelta := next - 1 - base
	size := batchHeaderSize
	for i := range recs {
		r := &recs[i]
		delta := int64(i)
		if explicit {
			delta = r.Offset - base
		}
		size += uvarintLen(uint64(delta)) + uvarintLen(uint64(r.Timestamp-minTs)) +
			bytesLen(r.Key) + bytesLen(r.Value) + uvarintLen(uint64(len(r.Headers)))
		for _, h := range r.Headers {
			size += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
		}
	}
	start := len(dst)
	if need := start + frameHeaderSize + size; cap(dst) < need {
		grown := make([]byte, start, need+need/4)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+frameHeaderSize]
	binary.LittleEndian.PutUint32(dst[start:], uint32(size))
	binary.LittleEndian.PutUint16(dst[start+8:], batchVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(base))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(lastDelta))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(recs)))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(minTs))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(maxTs))
	for i := range recs {
		r := &recs[i]
		delta := int64(i)
		if explicit {
			delta = r.Offset - base
		}
		dst = binary.AppendUvarint(dst, uint64(delta))
		dst = binary.AppendUvarint(dst, uint64(r.Timestamp-minTs))
		dst = appendBytes(dst, r.Key)
		dst = appendBytes(dst, r.Value)
		dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
		for _, h := range r.Headers {
			dst = binary.AppendVarint(dst, int64(len(h.Key)))
			dst = append(dst, h.Key...)
			dst = appendBytes(dst, h.Value)
		}
	}
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

// frameHeader is the fixed framing in front of every payload.
type frameHeader struct {
	length  uint32
	crc     uint32
	version uint16
}

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		length:  binary.LittleEndian.Uint32(b),
		crc:     binary.LittleEndian.Uint32(b[4:]),
		version: binary.LittleEndian.Uint16(b[8:]),
	}
}

// checkFrame verifies a frame's checksum and version; body is the version bytes plus payload.
func checkFrame(fh frameHeader, versionAndPayload []byte) error {
	if crc32.Checksum(versionAndPayload, castagnoli) != fh.crc {
		return corruptf("frame checksum mismatch")
	}
	if fh.version != batchVersion {
		return corruptf("unknown batch version %d", fh.version)
	}
	return nil
}

// ParseFrame splits the first frame off b and verifies it. It returns the payload (aliasing b)
// and the frame's total size.
func ParseFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameHeaderSize {
		return nil, 0, corruptf("short frame header: %d bytes", len(b))
	}
	fh := parseFrameHeader(b)
	if fh.length > maxFramePayload || int64(fh.length) > int64(len(b)-frameHeaderSize) {
		return nil, 0, corruptf("frame length %d exceeds %d available bytes", fh.length, len(b)-frameHeaderSize)
	}
	n = frameHeaderSize + int(fh.length)
	if err := checkFrame(fh, b[8:n]); err != nil {
		return nil, 0, err
	}
	return b[frameHeaderSize:n], n, nil
}

// DecodeBatchHeader reads the fixed part of a payload and checks it against the payload size.
func DecodeBatchHeader(payload []byte) (BatchHeader, error) {
	if len(payload) < batchHeaderSize {
		return BatchHeader{}, corruptf("batch header: %d bytes", len(payload))
	}
	return checkBatchHeader(parseBatchHeader(payload), len(payload))
}

func parseBatchHeader(payload []byte) BatchHeader {
	return BatchHeader{
		BaseOffset:      int64(binary.LittleEndian.Uint64(payload)),
		LastOffsetDelta: binary.LittleEndian.Uint32(payload[8:]),
		Count:           binary.LittleEndian.Uint32(payload[12:]),
		MinTimestamp:    int64(binary.LittleEndian.Uint64(payload[16:])),
		MaxTimestamp:    int64(binary.LittleEndian.Uint64(payload[24:])),
	}
}

// checkBatchHeader validates a header against the size of the payload it came from; the frame
// scanner calls it before reading the payload so that a bad header is caught without I/O.
func checkBatchHeader(h BatchHeader, payloadLen int) (BatchHeader, error) {
	switch {
	case h.BaseOffset < 0 || h.BaseOffset > math.MaxInt64-int64(h.LastOffsetDelta)-1:
		return h, corruptf("batch base offset %d out of range", h.BaseOffset)
	case h.Count == 0 || uint64(h.Count) > uint64(h.LastOffsetDelta)+1:
		return h, corruptf("batch count %d for offset delta %d", h.Count, h.LastOffsetDelta)
	case h.MinTimestamp > h.MaxTimestamp:
		return h, corruptf("batch timestamps min %d > max %d", h.MinTimestamp, h.MaxTimestamp)
	case uint64(h.Count) > uint64(payloadLen-batchHeaderSize)/minRecordEncoded:
		return h, corruptf("batch count %d does not fit in %d bytes", h.Count, payloadLen)
	}
	return h, nil
}

// DecodeBatch decodes a verified payload and appends the records whose offset is >= from to dst,
// stopping once dst holds limit records (limit <= 0: no limit). Keys, values and header values alias
// payload, so a reader allocates once per batch rather than once per field. Every length and
// count is checked against the bytes that remain: on any inconsistency it returns ErrCorrupt,
// never panics, and dst may then hold a prefix of the batch.
//
// The records are decoded by a straight-line loop that only answers "valid or not"; when it says
// not, the batch is decoded again by decodeBatchChecked, which names the damage. Both apply the
// same checks, so the fast path never accepts a batch the checked one rejects.
func DecodeBatch(payload []byte, from int64, limit int, dst []storage.Record) (BatchHeader, []storage.Record, error) {
	return decodeBatch(payload, from, limit, 0, dst)
}

// decodeBatch is DecodeBatch that also sets each record's Partition field, so that Read does not
// need a second pass over the records to stamp them.
func decodeBatch(payload []byte, from int64, limit int, partition int32, dst []storage.Record) (BatchHeader, []storage.Record, error) {
	h, err := DecodeBatchHeader(payload)
	if err != nil {
		return h, dst, err
	}
	start := len(dst)
	if room := int(h.Count); limit <= 0 || start < limit {
		if limit > 0 {
			room = min(room, limit-start)
		}
		dst = slices.Grow(dst, room)
	}
	b := payload[batchHeaderSize:]
	span := uint64(h.MaxTimestamp - h.MinTimestamp)
	last := uint64(h.LastOffsetDelta)
	next := uint64(0) // smallest delta the next record may have
	p := 0            // read position in b
	var ok bool
	for i := uint32(0); i < h.Count; i++ {
		// Varints are decoded in line when they fit in one or two bytes (offset and timestamp
		// deltas below 16384, key and value lengths below 8 KiB); longer ones take the call.
		var delta, tsDelta, nh uint64
		var kl, vl int64
		if p < len(b) && b[p] < 0x80 {
			delta, p = uint64(b[p]), p+1
		} else if p+1 < len(b) && b[p+1] < 0x80 {
			delta, p = uint64(b[p]&0x7f)|uint64(b[p+1])<<7, p+2
		} else if delta, p, ok = uvarintAt(b, p); !ok {
			goto slow
		}
		if p < len(b) && b[p] < 0x80 {
			tsDelta, p = uint64(b[p]), p+1
		} else if p+1 < len(b) && b[p+1] < 0x80 {
			tsDelta, p = uint64(b[p]&0x7f)|uint64(b[p+1])<<7, p+2
		} else if tsDelta, p, ok = uvarintAt(b, p); !ok {
			goto slow
		}
		if delta < next || delta > last || tsDelta > span {
			goto slow
		}
		next = delta + 1
		if p < len(b) && b[p] < 0x80 {
			u := uint64(b[p])
			kl, p = int64(u>>1)^-int64(u&1), p+1
		} else if kl, p, ok = varintAt(b, p); !ok {
			goto slow
		}
		if kl < -1 || kl > int64(len(b)-p) {
			goto slow
		}
		var key []byte
		if kl >= 0 {
			key = b[p : p+int(kl) : p+int(kl)]
			p += int(kl)
		}
		if p+1 < len(b) && b[p+1] < 0x80 && b[p] >= 0x80 {
			u := uint64(b[p]&0x7f) | uint64(b[p+1])<<7
			vl, p = int64(u>>1)^-int64(u&1), p+2
		} else if p < len(b) && b[p] < 0x80 {
			u := uint64(b[p])
			vl, p = int64(u>>1)^-int64(u&1), p+1
		} else if vl, p, ok = varintAt(b, p); !ok {
			goto slow
		}
		if vl < -1 || vl > int64(len(b)-p) {
			goto slow
		}
		var value []byte
		if vl >= 0 {
			value = b[p : p+int(vl) : p+int(vl)]
			p += int(vl)
		}
		if p < len(b) && b[p] < 0x80 {
			nh, p = uint64(b[p]), p+1
		} else if nh, p, ok = uvarintAt(b, p); !ok {
			goto slow
		}
		if nh > uint64(len(b)-p)/2 {
			goto slow
		}
		off := h.BaseOffset + int64(delta)
		keep := off >= from && (limit <= 0 || len(dst) < limit)
		var headers []storage.Header
		if nh > 0 {
			if keep {
				headers = make([]storage.Header, nh)
			}
			for j := uint64(0); j < nh; j++ {
				var hk, hv []byte
				if hk, p, ok = bytesAt(b, p); !ok || hk == nil {
					goto slow
				}
				if hv, p, ok = bytesAt(b, p); !ok {
					goto slow
				}
				if keep {
					headers[j] = storage.Header{Key: string(hk), Value: hv}
				}
			}
		}
		if !keep {
			continue
		}
		// Field by field into the slot rather than append(dst, Record{...}): a composite
		// literal is built aside and block-copied, which costs a bulk write barrier per record
		// whenever the GC is marking.
		k := len(dst)
		if k < cap(dst) {
			dst = dst[:k+1]
		} else {
			dst = append(dst, storage.Record{})
		}
		r := &dst[k]
		r.Key = key
		r.Value = value
		r.Timestamp = h.MinTimestamp + int64(tsDelta)
		if headers != nil || r.Headers != nil { // the slot is usually fresh: skip the barrier
			r.Headers = headers
		}
		r.Partition = partition
		r.Offset = off
	}
	if p == len(b) {
		return h, dst, nil
	}
slow:
	h, dst, err = decodeBatchChecked(payload, from, limit, dst[:start])
	for i := start; i < len(dst); i++ {
		dst[i].Partition = partition
	}
	return h, dst, err
}

// uvarintAt reads the uvarint at b[p:] and returns it with the position after it.
func uvarintAt(b []byte, p int) (uint64, int, bool) {
	v, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return 0, p, false
	}
	return v, p + n, true
}

// varintAt reads the signed varint at b[p:] and returns it with the position after it.
func varintAt(b []byte, p int) (int64, int, bool) {
	v, n := binary.Varint(b[p:])
	if n <= 0 {
		return 0, p, false
	}
	return v, p + n, true
}

// bytesAt reads the nullable byte string (signed varint length, -1 for null) at b[p:]. The
// returned slice aliases b and is capped so that appending to it cannot overwrite b.
func bytesAt(b []byte, p int) ([]byte, int, bool) {
	l, p, ok := varintAt(b, p)
	if !ok || l < -1 || l > int64(len(b)-p) {
		return nil, p, false
	}
	if l == -1 {
		return nil, p, true
	}
	return b[p : p+int(l) : p+int(l)], p + int(l), true
}

// decodeBatchChecked is DecodeBatch's reference decoder: it reports exactly what is wrong with a
// damaged batch. DecodeBatch falls back to it whenever its fast loop finds anything amiss.
func decodeBatchChecked(payload []byte, from int64, limit int, dst []storage.Record) (BatchHeader, []storage.Record, error) {
	h, err := DecodeBatchHeader(payload)
	if err != nil {
		return h, dst, err
	}
	d := decoder{b: payload[batchHeaderSize:]}
	prev := int64(-1)
	for i := uint32(0); i < h.Count; i++ {
		delta := int64(d.uvarint())
		tsDelta := d.uvarint()
		key := d.bytes()
		value := d.bytes()
		nh := d.uvarint()
		if d.err != nil {
			return h, dst, d.err
		}
		if delta <= prev || delta > int64(h.LastOffsetDelta) {
			return h, dst, corruptf("record offset delta %d after %d (last %d)", delta, prev, h.LastOffsetDelta)
		}
		prev = delta
		if tsDelta > uint64(h.MaxTimestamp-h.MinTimestamp) {
			return h, dst, corruptf("record timestamp delta %d beyond batch range", tsDelta)
		}
		if nh > uint64(len(d.b))/2 {
			return h, dst, corruptf("header count %d does not fit", nh)
		}
		off := h.BaseOffset + delta
		keep := off >= from && (limit <= 0 || len(dst) < limit)
		var headers []storage.Header
		if nh > 0 && keep {
			headers = make([]storage.Header, nh)
		}
		for j := uint64(0); j < nh; j++ {
			hk := d.bytes()
			if hk == nil && d.err == nil {
				d.err = corruptf("null header key")
			}
			hv := d.bytes()
			if keep {
				headers[j] = storage.Header{Key: string(hk), Value: hv}
			}
		}
		if d.err != nil {
			return h, dst, d.err
		}
		if !keep {
			continue
		}
		dst = append(dst, storage.Record{
			Key:       key,
			Value:     value,
			Timestamp: h.MinTimestamp + int64(tsDelta),
			Headers:   headers,
			Offset:    off,
		})
	}
	if len(d.b) != 0 {
		return h, dst, corruptf("%d trailing bytes after batch records", len(d.b))
	}
	return h, dst, nil
}

// decoder reads varint-framed fields and latches the first error, so the record loop reads
// straight-line and checks once per record.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = corruptf("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a nullable byte string. Header keys use the same signed length so every byte
// string in the payload has one length rule; a -1 there is rejected by the caller.
func (d *decoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	l, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = corruptf("bad varint length")
		return nil
	}
	d.b = d.b[n:]
	if l == -1 {
		return nil
	}
	if l < 0 || l > int64(len(d.b)) {
		d.err = corruptf("length %d exceeds %d remaining bytes", l, len(d.b))
		return nil
	}
	v := d.b[:l:l]
	d.b = d.b[l:]
	return v
}
