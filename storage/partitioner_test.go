package storage_test

import (
	"math/rand/v2"
	"testing"

	"github.com/sluicedb/sluice/storage"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Vectors from Kafka's own UtilsTest.testMurmur2 (signed Java ints).
func TestMurmur2KafkaVectors(t *testing.T) {
	cases := []struct {
		in   []byte
		want int32
	}{
		{[]byte("21"), -973932308},
		{[]byte("foobar"), -790332482},
		{[]byte("a-little-bit-long-string"), -985981536},
		{[]byte("a-little-bit-longer-string"), -1486304829},
		{[]byte("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971},
		{[]byte{'a', 'b', 'c'}, 479470107},
	}
	for _, c := range cases {
		if got := int32(storage.Murmur2(c.in)); got != c.want {
			t.Errorf("murmur2(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// The partition table is pinned so a refactor cannot silently move keys; the values were
// cross-checked against franz-go's Java-compatible partitioner (TestPartitionForMatchesFranzGo).
func TestPartitionForTable(t *testing.T) {
	cases := []struct {
		key  string
		n    int
		want int32
	}{
		{"21", 3, 0},
		{"foobar", 3, 0},
		{"a", 2, 0},
		{"alice", 4, 1},
		{"bob", 4, 2},
		{"key-1", 12, 0},
		{"", 5, 1},
	}
	for _, c := range cases {
		if got := storage.PartitionFor([]byte(c.key), c.n); got != c.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
}

// franz-go's StickyKeyPartitioner(nil) is documented as matching the Java client's default
// partitioner for non-null keys; check every tail length and many partition counts against it.
func TestPartitionForMatchesFranzGo(t *testing.T) {
	ref := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		key := make([]byte, rng.IntN(40))
		for j := range key {
			key[j] = byte(rng.IntN(256)) // high bytes exercise the unsigned-tail rule
		}
		n := 1 + rng.IntN(64)
		want := int32(ref.Partition(&kgo.Record{Key: key}, n))
		if got := storage.PartitionFor(key, n); got != want {
			t.Fatalf("PartitionFor(%x, %d) = %d, franz-go says %d", key, n, got, want)
		}
	}
}

// Null keys have no hash: they must still reach every partition rather than pile onto one.
func TestPartitionForNullKeySpreads(t *testing.T) {
	const n = 4
	seen := make(map[int32]int)
	for i := 0; i < 4*n; i++ {
		p := storage.PartitionFor(nil, n)
		if p < 0 || p >= n {
			t.Fatalf("partition %d out of range", p)
		}
		seen[p]++
	}
	if len(seen) != n {
		t.Fatalf("null keys reached %d of %d partitions: %v", len(seen), n, seen)
	}
}
