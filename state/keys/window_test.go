package keys

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

type win struct {
	key        []byte
	start, end int64
}

func TestWindowKeyOrderAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 100000 {
		x := win{randBytes(r), randInt64(r), randInt64(r)}
		y := win{randBytes(r), randInt64(r), randInt64(r)}
		want := bytes.Compare(x.key, y.key)
		if want == 0 {
			want = cmp.Or(cmp.Compare(x.start, y.start), cmp.Compare(x.end, y.end))
		}
		ex, ey := WindowKey(nil, x.key, x.start, x.end), WindowKey(nil, y.key, y.start, y.end)
		if got := sign(bytes.Compare(ex, ey)); got != want {
			t.Fatalf("order(%+v, %+v) = %d, want %d", x, y, got, want)
		}
		k, s, e, err := DecodeWindowKey(ex)
		if err != nil || !bytes.Equal(k, x.key) || s != x.start || e != x.end {
			t.Fatalf("DecodeWindowKey = %x %d %d %v, want %+v", k, s, e, err, x)
		}
		if !bytes.HasPrefix(ex, WindowPrefix(nil, x.key)) {
			t.Fatalf("window key %x lacks its prefix", ex)
		}
	}
}

func TestSessionKeyOrderAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 100000 {
		x := win{randBytes(r), randInt64(r), randInt64(r)}
		y := win{randBytes(r), randInt64(r), randInt64(r)}
		want := bytes.Compare(x.key, y.key)
		if want == 0 {
			want = cmp.Or(cmp.Compare(x.end, y.end), cmp.Compare(x.start, y.start))
		}
		ex, ey := SessionKey(nil, x.key, x.start, x.end), SessionKey(nil, y.key, y.start, y.end)
		if got := sign(bytes.Compare(ex, ey)); got != want {
			t.Fatalf("order(%+v, %+v) = %d, want %d", x, y, got, want)
		}
		k, s, e, err := DecodeSessionKey(ex)
		if err != nil || !bytes.Equal(k, x.key) || s != x.start || e != x.end {
			t.Fatalf("DecodeSessionKey = %x %d %d %v, want %+v", k, s, e, err, x)
		}
	}
}

// TestRanges checks the Scan bounds against a brute-force filter over a sorted key set: the
// windows (sessions) selected by the byte range are exactly the ones the predicate selects.
func TestRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for range 300 {
		var ws []win
		var wk, sk [][]byte
		for range 50 {
			w := win{randBytes(r), r.Int64N(20) - 10, r.Int64N(20) - 10}
			ws = append(ws, w)
			wk = append(wk, WindowKey(nil, w.key, w.start, w.end))
			sk = append(sk, SessionKey(nil, w.key, w.start, w.end))
		}
		key := ws[r.IntN(len(ws))].key
		lo, hi := r.Int64N(24)-12, r.Int64N(24)-12
		from, to := WindowRange(key, lo, hi)
		for i, w := range ws {
			got := bytes.Compare(wk[i], from) >= 0 && bytes.Compare(wk[i], to) < 0
			want := bytes.Equal(w.key, key) && w.start >= lo && w.start < hi
			if got != want {
				t.Fatalf("WindowRange(%x, %d, %d) selects %+v = %v, want %v", key, lo, hi, w, got, want)
			}
		}
		from, to = SessionRange(key, lo)
		for i, w := range ws {
			got := bytes.Compare(sk[i], from) >= 0 && (to == nil || bytes.Compare(sk[i], to) < 0)
			want := bytes.Equal(w.key, key) && w.end >= lo
			if got != want {
				t.Fatalf("SessionRange(%x, %d) selects %+v = %v, want %v", key, lo, w, got, want)
			}
		}
		// Scanning all windows of a key yields them in start order.
		p := WindowPrefix(nil, key)
		var starts []int64
		slices.SortFunc(wk, bytes.Compare)
		for _, k := range wk {
			if bytes.HasPrefix(k, p) {
				_, s, _, _ := DecodeWindowKey(k)
				starts = append(starts, s)
			}
		}
		if !slices.IsSorted(starts) {
			t.Fatalf("windows of %x not in start order: %v", key, starts)
		}
	}
}

func FuzzDecodeWindowKey(f *testing.F) {
	f.Add(WindowKey(nil, []byte("k\x00"), -5, 10))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, s, e, err := DecodeWindowKey(in)
		if err == nil && !bytes.Equal(WindowKey(nil, k, s, e), in) {
			t.Fatalf("DecodeWindowKey(%x) does not round-trip", in)
		}
	})
}
