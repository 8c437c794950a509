package keys

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"testing"
)

// randBytes draws from a small alphabet rich in the bytes the escape scheme treats specially,
// so that random pairs often share prefixes and contain 0x00, 0x01 and 0xFF.
func randBytes(r *rand.Rand) []byte {
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 'b', 0xFE, 0xFF}
	b := make([]byte, r.IntN(6))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func randInt64(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}[r.IntN(5)]
	case 1:
		return r.Int64N(7) - 3
	default:
		return int64(r.Uint64())
	}
}

func sign(c int) int { return cmp.Compare(c, 0) }

func TestInt64OrderAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		a, b := randInt64(r), randInt64(r)
		ea, eb := AppendInt64(nil, a), AppendInt64(nil, b)
		if got, want := sign(bytes.Compare(ea, eb)), cmp.Compare(a, b); got != want {
			t.Fatalf("order(%d, %d) = %d, want %d", a, b, got, want)
		}
		v, rest, err := ReadInt64(ea)
		if err != nil || v != a || len(rest) != 0 {
			t.Fatalf("ReadInt64(%x) = %d, %x, %v; want %d", ea, v, rest, err, a)
		}
	}
}

func TestUint64OrderAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		a, b := r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(64)
		ea, eb := AppendUint64(nil, a), AppendUint64(nil, b)
		if got, want := sign(bytes.Compare(ea, eb)), cmp.Compare(a, b); got != want {
			t.Fatalf("order(%d, %d) = %d, want %d", a, b, got, want)
		}
		if v, _, err := ReadUint64(ea); err != nil || v != a {
			t.Fatalf("ReadUint64(%x) = %d, %v; want %d", ea, v, err, a)
		}
	}
}

func TestBytesOrderAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		a, b := randBytes(r), randBytes(r)
		ea, eb := AppendBytes(nil, a), AppendBytes(nil, b)
		if got, want := sign(bytes.Compare(ea, eb)), bytes.Compare(a, b); got != want {
			t.Fatalf("order(%x, %x) = %d, want %d (enc %x, %x)", a, b, got, want, ea, eb)
		}
		if !bytes.Equal(ea, AppendString(nil, string(a))) {
			t.Fatalf("AppendString and AppendBytes differ for %x", a)
		}
		// Prefix-freeness: a different value's encoding never starts with this one.
		if !bytes.Equal(a, b) && (bytes.HasPrefix(eb, ea) || bytes.HasPrefix(ea, eb)) {
			t.Fatalf("encodings of %x and %x are prefixes of each other", a, b)
		}
		v, rest, err := ReadBytes(nil, append(ea, 0x42))
		if err != nil || !bytes.Equal(v, a) || !bytes.Equal(rest, []byte{0x42}) {
			t.Fatalf("ReadBytes(%x) = %x, %x, %v; want %x", ea, v, rest, err, a)
		}
	}
}

// tuple is what exec builds: a string column, an int column, a bytes column.
type tuple struct {
	s string
	i int64
	b []byte
}

func (x tuple) encode() []byte {
	e := AppendString(nil, x.s)
	e = AppendInt64(e, x.i)
	return AppendBytes(e, x.b)
}

func compareTuple(x, y tuple) int {
	if c := cmp.Compare(x.s, y.s); c != 0 {
		return c
	}
	if c := cmp.Compare(x.i, y.i); c != 0 {
		return c
	}
	return bytes.Compare(x.b, y.b)
}

func TestTupleOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		x := tuple{string(randBytes(r)), randInt64(r), randBytes(r)}
		y := tuple{string(randBytes(r)), randInt64(r), randBytes(r)}
		if r.IntN(3) == 0 {
			y.s = x.s // force deeper comparisons
		}
		if got, want := sign(bytes.Compare(x.encode(), y.encode())), compareTuple(x, y); got != want {
			t.Fatalf("order(%+v, %+v) = %d, want %d", x, y, got, want)
		}
	}
}

func TestReadBytesCorrupt(t *testing.T) {
	for _, in := range [][]byte{nil, {'a'}, {0x00}, {'a', 0x00}, {0x00, 0x02}, {0x00, 0xFF}} {
		if _, _, err := ReadBytes(nil, in); err != ErrCorrupt {
			t.Errorf("ReadBytes(%x) error = %v, want ErrCorrupt", in, err)
		}
	}
	if _, _, err := ReadInt64([]byte{1, 2, 3}); err != ErrCorrupt {
		t.Errorf("ReadInt64 short input error = %v, want ErrCorrupt", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 100000 {
		p, k := randBytes(r), randBytes(r)
		end := PrefixEnd(p)
		in := bytes.HasPrefix(k, p)
		below := end == nil || bytes.Compare(k, end) < 0
		if bytes.Compare(k, p) >= 0 && below != in {
			t.Fatalf("PrefixEnd(%x) = %x misclassifies %x (has prefix %v)", p, end, k, in)
		}
	}
	if PrefixEnd([]byte{0xFF, 0xFF}) != nil || PrefixEnd(nil) != nil {
		t.Fatal("PrefixEnd of all-0xFF must be nil")
	}
}

// FuzzReadBytes checks the decoder's invariants on arbitrary input: it never panics, and
// whatever it accepts re-encodes to exactly the bytes it consumed.
func FuzzReadBytes(f *testing.F) {
	f.Add([]byte{'a', 0x00, 0xFF, 'b', 0x00, 0x01, 'z'})
	f.Add([]byte{0x00, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		v, rest, err := ReadBytes(nil, in)
		if err != nil {
			return
		}
		consumed := in[:len(in)-len(rest)]
		if re := AppendBytes(nil, v); !bytes.Equal(re, consumed) {
			t.Fatalf("ReadBytes(%x) = %x; re-encodes to %x, consumed %x", in, v, re, consumed)
		}
	})
}

func BenchmarkAppendBytes(b *testing.B) {
	key := []byte("user-0000042\x00region-eu")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendBytes(dst[:0], key)
	}
}
