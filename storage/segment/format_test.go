package segment

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sluicedb/sluice/storage"
)

func sampleRecords() []storage.Record {
	return []storage.Record{
		{Key: []byte("k"), Value: []byte("v"), Timestamp: 1000},
		{Key: nil, Value: []byte{}, Timestamp: 999},
		{Key: []byte{}, Value: nil, Timestamp: 1005,
			Headers: []storage.Header{{Key: "a", Value: []byte("1")}, {Key: "", Value: nil}, {Key: "e", Value: []byte{}}}},
		{Key: bytes.Repeat([]byte{0xff}, 300), Value: bytes.Repeat([]byte("x"), 5000), Timestamp: -5},
	}
}

func TestBatchRoundTripKeepsNullsAndHeaders(t *testing.T) {
	in := sampleRecords()
	frame := AppendBatch(nil, 42, in)
	payload, n, err := ParseFrame(frame)
	if err != nil || n != len(frame) {
		t.Fatalf("ParseFrame: n=%d err=%v", n, err)
	}
	h, out, err := DecodeBatch(payload, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 42 || h.Count != 4 || h.NextOffset() != 46 || h.MinTimestamp != -5 || h.MaxTimestamp != 1005 {
		t.Fatalf("header %+v", h)
	}
	for i := range in {
		assertSameRecord(t, in[i], out[i])
		if out[i].Offset != 42+int64(i) {
			t.Fatalf("record %d offset %d", i, out[i].Offset)
		}
	}
	// from and limit select a window of the batch.
	_, part, err := DecodeBatch(payload, 43, 2, nil)
	if err != nil || len(part) != 2 || part[0].Offset != 43 || part[1].Offset != 44 {
		t.Fatalf("window: %v %+v", err, part)
	}
}

func assertSameRecord(t *testing.T, want, got storage.Record) {
	t.Helper()
	if (want.Key == nil) != (got.Key == nil) || !bytes.Equal(want.Key, got.Key) {
		t.Fatalf("key: want %q (nil=%v), got %q (nil=%v)", want.Key, want.Key == nil, got.Key, got.Key == nil)
	}
	if (want.Value == nil) != (got.Value == nil) || !bytes.Equal(want.Value, got.Value) {
		t.Fatalf("value: want nil=%v, got nil=%v", want.Value == nil, got.Value == nil)
	}
	if want.Timestamp != got.Timestamp {
		t.Fatalf("timestamp %d, want %d", got.Timestamp, want.Timestamp)
	}
	if len(want.Headers) != len(got.Headers) {
		t.Fatalf("headers %v, want %v", got.Headers, want.Headers)
	}
	for i, h := range want.Headers {
		g := got.Headers[i]
		if g.Key != h.Key || (g.Value == nil) != (h.Value == nil) || !bytes.Equal(g.Value, h.Value) {
			t.Fatalf("header %d: %+v, want %+v", i, g, h)
		}
	}
}

// Every single-byte corruption of a frame must be caught (by the CRC or the framing checks),
// never decoded into different records.
func TestParseFrameDetectsEveryByteFlip(t *testing.T) {
	frame := AppendBatch(nil, 0, sampleRecords()[:3])
	for i := range frame {
		bad := bytes.Clone(frame)
		bad[i] ^= 0x5a
		if _, _, err := ParseFrame(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at byte %d not detected: %v", i, err)
		}
	}
	for n := 0; n < len(frame); n++ {
		if _, _, err := ParseFrame(frame[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("frame cut to %d bytes not detected: %v", n, err)
		}
	}
}

// frozenV1 pins the version-1 encoding; if this test fails, the format changed and format.go's
// migration guide applies (keep a decoder for these bytes).
func TestFrozenV1Frame(t *testing.T) {
	frame := AppendBatch(nil, 7, []storage.Record{{Key: []byte("a"), Value: nil, Timestamp: 3,
		Headers: []storage.Header{{Key: "h", Value: []byte("x")}}}})
	want := []byte{
		0x2a, 0, 0, 0, // length 42
		0, 0, 0, 0, // crc, compared separately
		1, 0, // version
		7, 0, 0, 0, 0, 0, 0, 0, // base
		0, 0, 0, 0, // last delta
		1, 0, 0, 0, // count
		3, 0, 0, 0, 0, 0, 0, 0, // min ts
		3, 0, 0, 0, 0, 0, 0, 0, // max ts
		0, 0, // offset delta, ts delta
		2, 'a', // key len 1 (zigzag 2)
		1,              // value null (zigzag -1)
		1,              // one header
		2, 'h', 2, 'x', // header key, value
	}
	got := bytes.Clone(frame)
	copy(got[4:8], []byte{0, 0, 0, 0})
	if !bytes.Equal(got, want) {
		t.Fatalf("v1 encoding changed:\n got %v\nwant %v", got, want)
	}
	if _, _, err := ParseFrame(frame); err != nil {
		t.Fatal(err)
	}
}
