package segment

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

func batch(prefix string, n int, ts int64) []storage.Record {
	recs := make([]storage.Record, n)
	for i := range recs {
		recs[i] = storage.Record{
			Key:       []byte(fmt.Sprintf("%s-k%d", prefix, i%7)),
			Value:     []byte(fmt.Sprintf("%s-v%d", prefix, i)),
			Timestamp: ts + int64(i),
		}
	}
	return recs
}

func mustOpen(t *testing.T, dir string, opts ...Option) *Partition {
	t.Helper()
	p, err := Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Strings(m)
	return m
}

// readAll reads the whole partition and checks offsets increase.
func readAll(t *testing.T, p *Partition) []storage.Record {
	t.Helper()
	recs, err := p.Read(p.StartOffset(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Offset <= recs[i-1].Offset {
			t.Fatalf("offsets not increasing at %d: %d then %d", i, recs[i-1].Offset, recs[i].Offset)
		}
	}
	return recs
}

func TestAppendReadAcrossRollsAndReopen(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(2048), IndexInterval(256))
	var want []string
	for b := 0; b < 40; b++ {
		recs := batch(fmt.Sprint("b", b), 10, int64(b*100))
		base, err := p.Append(recs)
		if err != nil {
			t.Fatal(err)
		}
		if base != int64(b*10) {
			t.Fatalf("batch %d base %d", b, base)
		}
		for _, r := range recs {
			want = append(want, string(r.Value))
		}
	}
	if n := len(logFiles(t, dir)); n < 5 {
		t.Fatalf("expected several segments, got %d", n)
	}
	check := func(p *Partition) {
		got := readAll(t, p)
		if len(got) != len(want) {
			t.Fatalf("read %d records, want %d", len(got), len(want))
		}
		for i, r := range got {
			if r.Offset != int64(i) || string(r.Value) != want[i] {
				t.Fatalf("record %d: offset %d value %q, want %q", i, r.Offset, r.Value, want[i])
			}
		}
		// Every starting offset with a small limit: exercises index lookups mid-batch.
		for off := int64(0); off < 400; off += 13 {
			got, err := p.Read(off, 3)
			if err != nil || len(got) != 3 || got[0].Offset != off || string(got[2].Value) != want[off+2] {
				t.Fatalf("Read(%d,3) = %v, %v", off, got, err)
			}
		}
	}
	check(p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(0, 1); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	p2 := mustOpen(t, dir, MaxBytes(2048), IndexInterval(256))
	if len(p2.Recovery()) != 0 {
		t.Fatalf("clean reopen reported recovery: %v", p2.Recovery())
	}
	check(p2)
	if _, err := p2.Read(401, 1); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("read past end: %v", err)
	}
	if got, err := p2.Read(400, 1); err != nil || len(got) != 0 {
		t.Fatalf("read at end: %v %v", got, err)
	}
}

func TestIndexRebuiltWhenMissingOrCorrupt(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(1024), IndexInterval(128))
	for b := 0; b < 40; b++ {
		if _, err := p.Append(batch("x", 5, int64(b*10))); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	idx, _ := filepath.Glob(filepath.Join(dir, "*.index"))
	tidx, _ := filepath.Glob(filepath.Join(dir, "*.timeindex"))
	if len(idx) < 3 || len(tidx) != len(idx) {
		t.Fatalf("index files: %d offset, %d time", len(idx), len(tidx))
	}
	os.Remove(idx[0])
	b, _ := os.ReadFile(tidx[1])
	b[len(b)/2] ^= 1
	os.WriteFile(tidx[1], b, 0o644)
	os.WriteFile(idx[2], []byte("garbage"), 0o644)

	p2 := mustOpen(t, dir, MaxBytes(1024), IndexInterval(128))
	rebuilt := 0
	for _, e := range p2.Recovery() {
		if e.Action == "rebuilt index" {
			rebuilt++
		}
	}
	if rebuilt != 3 {
		t.Fatalf("rebuilt %d indexes, want 3: %v", rebuilt, p2.Recovery())
	}
	if got := readAll(t, p2); len(got) != 200 {
		t.Fatalf("read %d", len(got))
	}
	for off := int64(0); off < 200; off += 7 {
		if got, err := p2.Read(off, 1); err != nil || got[0].Offset != off {
			t.Fatalf("Read(%d): %v %v", off, got, err)
		}
	}
	if off, _ := p2.OffsetForTime(92); off != 47 {
		t.Fatalf("OffsetForTime(92) = %d after rebuild, want 47", off)
	}
}

func TestRecoveryTruncatesTornTail(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir)
	for b := 0; b < 5; b++ {
		p.Append(batch("t", 4, 0))
	}
	p.Close()
	f := logFiles(t, dir)[0]
	st, _ := os.Stat(f)
	os.Truncate(f, st.Size()-3) // tear the last batch

	p2 := mustOpen(t, dir)
	ev := p2.Recovery()
	if len(ev) != 1 || ev[0].Action != "truncated" || ev[0].DroppedBytes <= 0 {
		t.Fatalf("recovery events %v", ev)
	}
	if !strings.Contains(ev[0].String(), "dropped") {
		t.Fatalf("report line %q", ev[0])
	}
	if p2.EndOffset() != 16 {
		t.Fatalf("end %d after dropping the torn 5th batch", p2.EndOffset())
	}
	if base, err := p2.Append(batch("n", 2, 0)); err != nil || base != 16 {
		t.Fatalf("append after recovery: %d %v", base, err)
	}
	if got := readAll(t, p2); len(got) != 18 || string(got[17].Value) != "n-v1" {
		t.Fatalf("read %d records after recovery", len(got))
	}
}

func TestRecoveryRewritesTornHeader(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(200))
	p.Append(batch("a", 5, 0))
	p.Append(batch("a", 5, 0))
	p.Close()
	files := logFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("want 2 segments, got %d", len(files))
	}
	os.Truncate(files[1], 10) // the second file died mid-header
	p2 := mustOpen(t, dir, MaxBytes(200))
	if ev := p2.Recovery(); len(ev) != 1 || ev[0].Action != "rewrote header" {
		t.Fatalf("events %v", ev)
	}
	if p2.EndOffset() != 5 {
		t.Fatalf("end %d", p2.EndOffset())
	}
}

func TestTruncateTo(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(400))
	for b := 0; b < 10; b++ {
		p.Append(batch(fmt.Sprint(b), 5, int64(b*5)))
	}
	if len(logFiles(t, dir)) < 3 {
		t.Fatal("need several segments")
	}
	// Mid-batch in an earlier segment: later segments go, the batch keeps its head.
	if err := p.TruncateTo(23); err != nil {
		t.Fatal(err)
	}
	if p.EndOffset() != 23 {
		t.Fatalf("end %d", p.EndOffset())
	}
	got := readAll(t, p)
	if len(got) != 23 || string(got[22].Value) != "4-v2" {
		t.Fatalf("after truncate: %d records, last %q", len(got), got[len(got)-1].Value)
	}
	if base, _ := p.Append(batch("z", 2, 0)); base != 23 {
		t.Fatalf("append after truncate got base %d", base)
	}
	if err := p.TruncateTo(100); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("truncate past end: %v", err)
	}
	p.Close()
	p2 := mustOpen(t, dir, MaxBytes(400))
	got = readAll(t, p2)
	if len(got) != 25 || string(got[23].Value) != "z-v0" || len(p2.Recovery()) != 0 {
		t.Fatalf("after reopen: %d records, events %v", len(got), p2.Recovery())
	}
	if err := p2.TruncateTo(0); err != nil || p2.EndOffset() != 0 {
		t.Fatalf("truncate to 0: %v end %d", err, p2.EndOffset())
	}
	if got := readAll(t, p2); len(got) != 0 {
		t.Fatalf("%d records after truncate to 0", len(got))
	}
}

func TestOffsetForTime(t *testing.T) {
	p := mustOpen(t, t.TempDir(), MaxBytes(600), IndexInterval(64))
	// Timestamps go up by batch but are out of order inside each batch.
	for b := int64(0); b < 20; b++ {
		recs := batch("t", 4, 0)
		for i := range recs {
			recs[i].Timestamp = b*100 + []int64{30, 0, 20, 10}[i]
		}
		p.Append(recs)
	}
	cases := []struct{ ts, want int64 }{
		{math.MinInt64, 0}, {-1, 0}, {30, 0}, {31, 4}, {130, 4}, {131, 8}, {1925, 76}, {1930, 76},
		{1931, 80}, {math.MaxInt64, 80},
	}
	for _, c := range cases {
		if got, err := p.OffsetForTime(c.ts); err != nil || got != c.want {
			t.Errorf("OffsetForTime(%d) = %d, %v; want %d", c.ts, got, err, c.want)
		}
	}
}

func TestRollByAge(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxAge(time.Minute), Clock(clock))
	p.Append(batch("a", 1, 0))
	p.Append(batch("a", 1, 0))
	if n := len(logFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments before the age limit", n)
	}
	now = now.Add(time.Minute)
	p.Append(batch("a", 1, 0))
	if n := len(logFiles(t, dir)); n != 2 {
		t.Fatalf("%d segments after the age limit", n)
	}
	segs := p.Segments()
	if !segs[0].Closed || segs[0].RolledAt != now || segs[1].Closed {
		t.Fatalf("segments %+v", segs)
	}
}

func TestDeleteSegmentsBeforeWithConcurrentReader(t *testing.T) {
	dir := t.TempDir()
	p := mustOpen(t, dir, MaxBytes(300))
	for b := 0; b < 12; b++ {
		p.Append(batch("d", 5, 0))
	}
	segs := p.Segments()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a reader racing with deletion must see either data or ErrOffsetOutRange
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			recs, err := p.Read(p.StartOffset(), 0)
			if err != nil && !errors.Is(err, storage.ErrOffsetOutRange) {
				t.Errorf("read: %v", err)
				return
			}
			// A read may also stop early when the segment after the ones it already read was
			// deleted under it: it returns the records it has, and the next offset must then be
			// out of range (deletion only moves the start forward).
			if err == nil && len(recs) > 0 && recs[len(recs)-1].Offset != 59 {
				last := recs[len(recs)-1].Offset
				if _, err := p.Read(last+1, 1); !errors.Is(err, storage.ErrOffsetOutRange) {
					t.Errorf("read ended at %d, but offset %d is still readable (%v)", last, last+1, err)
					return
				}
			}
		}
	}()
	n, err := p.DeleteSegmentsBefore(segs[3].BaseOffset)
	close(stop)
	wg.Wait()
	if err != nil || n != 3 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if p.StartOffset() != segs[3].BaseOffset {
		t.Fatalf("start %d, want %d", p.StartOffset(), segs[3].BaseOffset)
	}
	if _, err := p.Read(0, 1); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("read of deleted offset: %v", err)
	}
	// The active segment survives any cutoff.
	p.DeleteSegmentsBefore(math.MaxInt64)
	if got := readAll(t, p); len(got) == 0 || got[len(got)-1].Offset != 59 {
		t.Fatalf("active segment deleted: %d records", len(got))
	}
}

func TestCompact(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	dir := t.TempDir()
	opts := []Option{MaxBytes(400), Clock(func() time.Time { return now })}
	p := mustOpen(t, dir, opts...)
	latest := map[string]string{}
	for i := 0; i < 120; i++ {
		k := fmt.Sprintf("k%d", i%6)
		v := []byte(fmt.Sprintf("v%d", i))
		if i == 100 { // delete k4
			v = nil
		}
		if i%6 == 4 && i > 100 {
			continue // keep k4's tombstone the latest for that key
		}
		p.Append([]storage.Record{{Key: []byte(k), Value: v, Timestamp: int64(i)}, {Key: nil, Value: []byte("nokey")}})
		latest[k] = string(v)
	}
	before := len(readAll(t, p))
	st, err := p.Compact(time.Hour)
	if err != nil || st.SegmentsRewritten == 0 || st.RecordsRemoved == 0 || st.BytesAfter >= st.BytesBefore {
		t.Fatalf("compact: %+v %v", st, err)
	}
	check := func(wantTombstone bool) {
		got := readAll(t, p)
		last := map[string]storage.Record{}
		nokey := 0
		for _, r := range got {
			if r.Key == nil {
				nokey++
				continue
			}
			last[string(r.Key)] = r
		}
		if nokey != 120-3 { // records without a key are never compacted away
			t.Fatalf("%d null-key records survived", nokey)
		}
		for k, v := range latest {
			r, ok := last[k]
			if k == "k4" {
				if ok != wantTombstone || (ok && r.Value != nil) {
					t.Fatalf("tombstone for k4: present=%v value=%q", ok, r.Value)
				}
				continue
			}
			if !ok || string(r.Value) != v {
				t.Fatalf("key %s: latest %q, want %q", k, r.Value, v)
			}
		}
	}
	check(true)
	if after := len(readAll(t, p)); after >= before {
		t.Fatalf("compaction kept %d of %d records", after, before)
	}
	now = now.Add(2 * time.Hour)
	if _, err := p.Compact(time.Hour); err != nil {
		t.Fatal(err)
	}
	check(false)
	// Compacted segments reopen cleanly (their index files were rewritten).
	end := p.EndOffset()
	p.Close()
	p2 := mustOpen(t, dir, opts...)
	if p2.EndOffset() != end || len(p2.Recovery()) != 0 {
		t.Fatalf("reopen: end %d want %d, events %v", p2.EndOffset(), end, p2.Recovery())
	}
	p = p2
	check(false)
}

func TestLongPollChannelWakesOnAppend(t *testing.T) {
	p := mustOpen(t, t.TempDir())
	ch := p.Changed()
	select {
	case <-ch:
		t.Fatal("woke before any append")
	default:
	}
	go p.Append(batch("w", 1, 0))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by append")
	}
	if p.EndOffset() != 1 {
		t.Fatalf("end %d after wake", p.EndOffset())
	}
}

func TestBatchTooLarge(t *testing.T) {
	p := mustOpen(t, t.TempDir(), MaxBatchBytes(100))
	_, err := p.Append([]storage.Record{{Value: bytes.Repeat([]byte("x"), 200)}})
	if !errors.Is(err, ErrBatchTooLarge) || p.EndOffset() != 0 {
		t.Fatalf("err %v end %d", err, p.EndOffset())
	}
}

// ReadAppend reuses the caller's array and returns what Read returns; the bytes of the
// records it replaced stay as they were.
func TestReadAppendReusesSlice(t *testing.T) {
	p := mustOpen(t, t.TempDir(), MaxBytes(400))
	for b := 0; b < 6; b++ {
		p.Append(batch(fmt.Sprint(b), 5, int64(b*5)))
	}
	first, err := p.ReadAppend(0, 8, nil)
	if err != nil || len(first) != 8 {
		t.Fatalf("first read: %d records, %v", len(first), err)
	}
	kept := first[7].Value
	again, err := p.ReadAppend(8, 8, first)
	if err != nil || len(again) != 8 {
		t.Fatalf("second read: %d records, %v", len(again), err)
	}
	if &again[0] != &first[0] {
		t.Error("ReadAppend did not reuse the array it was given")
	}
	want, err := p.Read(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if again[i].Offset != want[i].Offset || !bytes.Equal(again[i].Value, want[i].Value) || !bytes.Equal(again[i].Key, want[i].Key) {
			t.Errorf("record %d: %d %q, Read gives %d %q", i, again[i].Offset, again[i].Value, want[i].Offset, want[i].Value)
		}
	}
	if string(kept) != "1-v2" {
		t.Errorf("a value read before changed to %q", kept)
	}
}
