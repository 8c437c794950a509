package segment

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/sluicedb/sluice/storage"
)

func sameRecord(a, b storage.Record) bool {
	if !bytes.Equal(a.Key, b.Key) || (a.Key == nil) != (b.Key == nil) ||
		!bytes.Equal(a.Value, b.Value) || (a.Value == nil) != (b.Value == nil) ||
		a.Timestamp != b.Timestamp || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i].Key != b.Headers[i].Key || !bytes.Equal(a.Headers[i].Value, b.Headers[i].Value) ||
			(a.Headers[i].Value == nil) != (b.Headers[i].Value == nil) {
			return false
		}
	}
	return true
}

// TestReadWindowsMatchModel appends batches of very different sizes (one record to thousands,
// values from null to larger than a read window) across several segments, then checks random
// (offset, limit) reads against an in-memory model. It covers windows that end mid-frame, frames
// larger than the estimated window, index gaps skipped inside a window, and limits that stop
// inside a batch.
func TestReadWindowsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	p := mustOpen(t, t.TempDir(), MaxBytes(256<<10), IndexInterval(1<<10), PartitionID(3))
	var model []storage.Record
	for b := 0; b < 120; b++ {
		var n, vmax int
		switch b % 4 {
		case 0:
			n, vmax = 1, 40
		case 1:
			n, vmax = 1+rng.Intn(20), 300
		case 2:
			n, vmax = 1+rng.Intn(2000), 120
		default:
			n, vmax = 1+rng.Intn(3), 40<<10 // values larger than minReadWindow
		}
		recs := make([]storage.Record, n)
		for i := range recs {
			r := storage.Record{Timestamp: int64(b*1000 + rng.Intn(20000))}
			if rng.Intn(10) > 0 {
				r.Key = fmt.Appendf(nil, "k%d", rng.Intn(1000))
			}
			if rng.Intn(20) > 0 {
				r.Value = bytes.Repeat([]byte{byte('a' + i%26)}, rng.Intn(vmax))
			}
			if rng.Intn(15) == 0 {
				r.Headers = []storage.Header{{Key: "h", Value: []byte(fmt.Sprint(i))}, {Key: "n"}}
			}
			recs[i] = r
		}
		if _, err := p.Append(recs); err != nil {
			t.Fatal(err)
		}
		model = append(model, recs...)
	}
	if len(p.Segments()) < 3 {
		t.Fatalf("want several segments, got %d", len(p.Segments()))
	}
	check := func(from int64, limit int) {
		t.Helper()
		got, err := p.Read(from, limit)
		if err != nil {
			t.Fatalf("Read(%d, %d): %v", from, limit, err)
		}
		want := len(model) - int(from)
		if limit > 0 {
			want = min(want, limit)
		}
		if len(got) != want {
			t.Fatalf("Read(%d, %d): %d records, want %d", from, limit, len(got), want)
		}
		for i, r := range got {
			off := from + int64(i)
			if r.Offset != off || r.Partition != 3 || !sameRecord(r, model[off]) {
				t.Fatalf("Read(%d, %d): record %d (offset %d) differs: %+v", from, limit, i, r.Offset, r)
			}
		}
	}
	check(0, 0)
	for i := 0; i < 400; i++ {
		limit := []int{1, 2, 7, 100, 1000, 5000, 0}[rng.Intn(7)]
		check(rng.Int63n(int64(len(model))+1), limit)
	}
	// Records from successive reads must not share storage that a later read overwrites.
	a, _ := p.Read(0, 50)
	keep := make([]storage.Record, len(a))
	for i, r := range a {
		keep[i] = storage.Record{Key: bytes.Clone(r.Key), Value: bytes.Clone(r.Value), Timestamp: r.Timestamp, Headers: r.Headers}
	}
	for off := int64(0); off < int64(len(model)); off += 997 {
		p.Read(off, 1000)
	}
	for i := range a {
		if !sameRecord(a[i], keep[i]) {
			t.Fatalf("record %d changed after later reads", i)
		}
	}
}

// TestReadVerifiesChecksums damages bytes of the file after the append was acknowledged (bit rot,
// a stray write): Read must not return the damaged batch. In a closed segment that is an error;
// in the active segment Read stops before the damage, as recovery would cut there.
func TestReadVerifiesChecksums(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(1024), IndexInterval(256))
	for b := 0; b < 20; b++ {
		if _, err := p.Append(batch(fmt.Sprint("c", b), 10, int64(b))); err != nil {
			t.Fatal(err)
		}
	}
	segs := p.Segments()
	if len(segs) < 2 {
		t.Fatalf("want a closed segment, got %d", len(segs))
	}
	files := logFiles(t, dir)
	flip := func(path string, at int64) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		f.ReadAt(b, at)
		b[0] ^= 0x20
		if _, err := f.WriteAt(b, at); err != nil {
			t.Fatal(err)
		}
	}
	// Last byte of the first closed segment: inside its last frame's payload.
	flip(files[0], segs[0].SizeBytes-1)
	if _, err := p.Read(0, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read over a damaged closed segment: %v", err)
	}
	if got, err := p.Read(0, 5); err != nil || len(got) != 5 {
		t.Fatalf("read before the damage: %d records, %v", len(got), err)
	}
	// Last byte of the active segment: its last batch is dropped from reads, the rest stays.
	act := segs[len(segs)-1]
	if act.NextOffset-act.BaseOffset < 20 {
		t.Fatalf("active segment holds %d records, want at least two batches", act.NextOffset-act.BaseOffset)
	}
	flip(files[len(files)-1], act.SizeBytes-1)
	got, err := p.Read(act.BaseOffset, 0)
	if err != nil {
		t.Fatalf("read of the active segment: %v", err)
	}
	if want := act.NextOffset - act.BaseOffset - 10; int64(len(got)) != want {
		t.Fatalf("active segment read %d records, want %d (all but the damaged batch)", len(got), want)
	}
}

// TestDecodeBatchFastPathAgreesWithChecked runs both decoders over every single-byte corruption
// of a batch (skipping the CRC, which is what would normally catch it): they must agree on the
// error-or-not outcome and on the records.
func TestDecodeBatchFastPathAgreesWithChecked(t *testing.T) {
	recs := append(sampleRecords(), batch("x", 100, 0)...)
	payload, _, err := ParseFrame(AppendBatch(nil, 7, recs))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(payload); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(payload)
			b[i] ^= x
			for _, lim := range []int{0, 3} {
				_, fast, ferr := DecodeBatch(b, 9, lim, nil)
				_, slow, serr := decodeBatchChecked(b, 9, lim, nil)
				if (ferr == nil) != (serr == nil) || len(fast) != len(slow) {
					t.Fatalf("byte %d ^%#x limit %d: fast %d recs %v, checked %d recs %v", i, x, lim, len(fast), ferr, len(slow), serr)
				}
				if ferr != nil && !errors.Is(ferr, ErrCorrupt) {
					t.Fatalf("byte %d: non-corrupt error %v", i, ferr)
				}
				for j := range fast {
					if fast[j].Offset != slow[j].Offset || !sameRecord(fast[j], slow[j]) {
						t.Fatalf("byte %d ^%#x: record %d differs", i, x, j)
					}
				}
			}
		}
	}
}

// A reader taking fewer records than a frame holds reads each frame from the file once: the
// next read starts inside the window the last one stopped in.
func TestReadsInsideAFrameShareItsWindow(t *testing.T) {
	p := mustOpen(t, t.TempDir())
	const frames, perFrame, limit = 6, 10_000, 2_000
	for f := 0; f < frames; f++ {
		if _, err := p.Append(batch(fmt.Sprint(f), perFrame, int64(f*perFrame))); err != nil {
			t.Fatal(err)
		}
	}
	before := p.preads()
	var got []storage.Record
	for off := int64(0); off < frames*perFrame; {
		recs, err := p.Read(off, limit)
		if err != nil || len(recs) == 0 {
			t.Fatalf("read at %d: %d records, %v", off, len(recs), err)
		}
		got = append(got, recs...)
		off = recs[len(recs)-1].Offset + 1
	}
	for i, r := range got {
		want := fmt.Sprintf("%d-v%d", i/perFrame, i%perFrame)
		if r.Offset != int64(i) || string(r.Value) != want {
			t.Fatalf("record %d: offset %d value %q, want %q", i, r.Offset, r.Value, want)
		}
	}
	// At most two preads per frame (a window sized for 2,000 records that holds the frame's
	// header, then the whole frame), where re-reading the frame for every 2,000 records took
	// ten (60 in all).
	if n := p.preads() - before; n > 2*frames {
		t.Fatalf("%d preads for %d frames", n, frames)
	}
}

// A window kept for the next read must not survive a cut of the segment's tail: the records
// appended after the cut sit at the same file positions as the ones cut.
func TestKeptWindowRetiredByTruncate(t *testing.T) {
	p := mustOpen(t, t.TempDir())
	if _, err := p.Append(batch("old", 1000, 0)); err != nil {
		t.Fatal(err)
	}
	if recs, err := p.Read(0, 100); err != nil || len(recs) != 100 {
		t.Fatalf("first read: %d records, %v", len(recs), err)
	}
	// Cut inside the frame the kept window holds, then write other records over the rest.
	if err := p.TruncateTo(500); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(batch("new", 500, 0)); err != nil {
		t.Fatal(err)
	}
	recs, err := p.Read(100, 0)
	if err != nil || len(recs) != 900 {
		t.Fatalf("after the cut: %d records, %v", len(recs), err)
	}
	for i, r := range recs {
		want := fmt.Sprintf("old-v%d", 100+i)
		if r.Offset >= 500 {
			want = fmt.Sprintf("new-v%d", r.Offset-500)
		}
		if string(r.Value) != want {
			t.Fatalf("offset %d: %q, want %q", r.Offset, r.Value, want)
		}
	}
}

// Readers that share kept windows, each at its own pace, while a writer appends: every reader
// sees every record once, in order, with its own value.
func TestConcurrentReadersShareWindows(t *testing.T) {
	p := mustOpen(t, t.TempDir())
	const frames, perFrame = 40, 2_500
	done := make(chan error, 3)
	go func() {
		for f := 0; f < frames; f++ {
			if _, err := p.Append(batch(fmt.Sprint(f), perFrame, int64(f*perFrame))); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for _, limit := range []int{700, 1_900} {
		go func() {
			for off := int64(0); off < frames*perFrame; {
				recs, err := p.Read(off, limit)
				if err != nil {
					done <- err
					return
				}
				for _, r := range recs {
					want := fmt.Sprintf("%d-v%d", r.Offset/perFrame, r.Offset%perFrame)
					if r.Offset != off || string(r.Value) != want {
						done <- fmt.Errorf("limit %d: offset %d (want %d) value %q, want %q", limit, r.Offset, off, r.Value, want)
						return
					}
					off++
				}
			}
			done <- nil
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
