package segment

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzSegmentRead feeds arbitrary bytes to the batch decoder, both as a single frame and as the
// body of a segment file walked by the same frame scanner that recovery and Read use.
//
// Invariants: nothing panics; every failure is ErrCorrupt; a decoded batch has strictly
// increasing offsets inside its range; the scanner stops at a position that is inside the data
// and at a frame boundary, and re-scanning the prefix up to that position finds no damage (which
// is what makes truncating there a valid recovery).
func FuzzSegmentRead(f *testing.F) {
	f.Add(AppendBatch(nil, 0, sampleRecords()))
	f.Add(AppendBatch(AppendBatch(nil, 0, sampleRecords()[:1]), 1, sampleRecords()[1:]))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if payload, _, err := ParseFrame(data); err == nil {
			checkBatch(t, payload)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ParseFrame: non-corrupt error %v", err)
		}

		file := append(encodeFileHeader(0, 1), data...)
		valid, batches := scanAll(t, file)
		if valid < fileHeaderSize || valid > int64(len(file)) {
			t.Fatalf("scanner stopped at %d of %d", valid, len(file))
		}
		again, n := scanAll(t, file[:valid])
		if again != valid || n != batches {
			t.Fatalf("prefix rescan: %d/%d batches, stop %d/%d", n, batches, again, valid)
		}
	})
}

func checkBatch(t *testing.T, payload []byte) {
	h, recs, err := DecodeBatch(payload, 0, 0, nil)
	// The fast decoder must agree with the reference one on every input.
	if _, ref, rerr := decodeBatchChecked(payload, 0, 0, nil); (err == nil) != (rerr == nil) || len(ref) != len(recs) {
		t.Fatalf("DecodeBatch: %d records, %v; decodeBatchChecked: %d records, %v", len(recs), err, len(ref), rerr)
	}
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("non-corrupt error %v", err)
		}
		return
	}
	prev := int64(-1)
	for _, r := range recs {
		if r.Offset <= prev || r.Offset < h.BaseOffset || r.Offset >= h.NextOffset() {
			t.Fatalf("offset %d out of order or range %+v", r.Offset, h)
		}
		if r.Timestamp < h.MinTimestamp || r.Timestamp > h.MaxTimestamp {
			t.Fatalf("timestamp %d outside [%d, %d]", r.Timestamp, h.MinTimestamp, h.MaxTimestamp)
		}
		prev = r.Offset
	}
}

// scanAll mirrors the recovery scan and returns where valid data ends.
func scanAll(t *testing.T, file []byte) (int64, int) {
	sc := newFrameScanner(bytes.NewReader(file), fileHeaderSize, int64(len(file)))
	defer sc.close()
	n := 0
	for {
		if _, ok := sc.next(); !ok {
			break
		}
		payload, err := sc.payload(false)
		if err != nil {
			break
		}
		if _, _, err := DecodeBatch(payload, 0, 0, nil); err != nil {
			sc.pos -= sc.frameSize()
			break
		}
		checkBatch(t, payload)
		n++
	}
	if sc.err != nil && !errors.Is(sc.err, ErrCorrupt) {
		t.Fatalf("scanner: non-corrupt error %v", sc.err)
	}
	return sc.pos, n
}
