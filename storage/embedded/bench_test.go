package embedded

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicedb/sluice/storage"
)

// benchBatch is 1000 records with 100-byte values and 8-byte keys, the hot-path shape the
// embedded log is tuned for.
func benchBatch() []storage.Record {
	recs := make([]storage.Record, 1000)
	for i := range recs {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte('a' + (i+j)%26)
		}
		recs[i] = storage.Record{Key: []byte(fmt.Sprintf("k%07d", i)), Value: v, Timestamp: int64(i), Partition: 0}
	}
	return recs
}

func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), WithFsync(FsyncInterval), WithMaintenanceInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.CreateTopic(ctx, "bench", storage.TopicConfig{Partitions: 1}); err != nil {
		b.Fatal(err)
	}
	recs := benchBatch()
	b.SetBytes(int64(len(recs) * 100))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(ctx, "bench", recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkRead(b *testing.B) {
	l, err := Open(b.TempDir(), WithFsync(FsyncNever), WithMaintenanceInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.CreateTopic(ctx, "bench", storage.TopicConfig{Partitions: 1}); err != nil {
		b.Fatal(err)
	}
	recs := benchBatch()
	const batches = 200 // 200k records, 20 MB: read repeatedly from the page cache
	for i := 0; i < batches; i++ {
		if _, err := l.Append(ctx, "bench", recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(recs) * 100))
	b.ReportAllocs()
	b.ResetTimer()
	off := int64(0)
	for i := 0; i < b.N; i++ {
		if off >= batches*1000 {
			off = 0
		}
		got, err := l.Read(ctx, "bench", 0, off, 1000, 0)
		if err != nil || len(got) != 1000 {
			b.Fatalf("read %d at %d: %v", len(got), off, err)
		}
		off += 1000
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}
