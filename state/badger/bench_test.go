package badger

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/sluicedb/sluice/state/keys"
)

const (
	benchKeys        = 100_000
	benchCommitEvery = 10_000
)

// benchKey builds a key the way exec would (an order-preserving string encoding) without
// allocating, so the benchmark measures the store.
func benchKey(dst []byte, i int) []byte {
	var raw [16]byte
	return keys.AppendBytes(dst, strconv.AppendInt(append(raw[:0], "user-"...), int64(i), 10))
}

// BenchmarkAggregateUpdates is the hot path of a keyed aggregation (COUNT/SUM per key): per
// record one Get and one Put of a random key out of 100,000, and a Commit every 10,000 records,
// as exec/runtime does at barriers. One op is one record.
func BenchmarkAggregateUpdates(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"cache", nil},
		{"nocache", []Option{WithCacheSize(0)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := Open(b.TempDir(), append([]Option{WithLogger(nil)}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			st, _ := m.Open("agg")
			s := st.(*Store)
			// Load every key once so the run measures the steady state, not first inserts.
			var k []byte
			for i := range benchKeys {
				k = benchKey(k[:0], i)
				s.Put("counts", k, binary.BigEndian.AppendUint64(nil, 0))
				if (i+1)%benchCommitEvery == 0 {
					if err := s.Commit(nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k = benchKey(k[:0], r.IntN(benchKeys))
				v, ok, err := s.Get("counts", k)
				if err != nil || !ok {
					b.Fatalf("Get: %v %v", ok, err)
				}
				s.Put("counts", k, binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(v)+1))
				if (i+1)%benchCommitEvery == 0 {
					if err := s.Commit(map[string]int64{"src/0": int64(i)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
		})
	}
}

// BenchmarkCommit measures one Commit of a batch of distinct keys (the batch is written to
// the buffer outside the timer). Batches of 50,000 exceed the default transaction limit and
// take the redo-log path.
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			m, err := Open(b.TempDir(), WithLogger(nil))
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			s, _ := m.Open("c")
			val := make([]byte, 16)
			var k []byte
			r := rand.New(rand.NewPCG(3, 4))
			for i := range b.N {
				b.StopTimer()
				for range n {
					k = benchKey(k[:0], r.IntN(1_000_000))
					s.Put("t", k, val)
				}
				b.StartTimer()
				if err := s.Commit(map[string]int64{"src/0": int64(i)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
