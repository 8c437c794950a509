package segment

import (
	"fmt"
	"testing"

	"github.com/sluicedb/sluice/storage"
)

// benchPayload is one verified batch of 1000 records with 8-byte keys and 100-byte values, the
// shape logbench appends.
func benchPayload(b *testing.B) []byte {
	recs := make([]storage.Record, 1000)
	for i := range recs {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte('a' + (i+j)%26)
		}
		recs[i] = storage.Record{Key: fmt.Appendf(nil, "k%07d", i), Value: v, Timestamp: int64(i)}
	}
	payload, _, err := ParseFrame(AppendBatch(nil, 0, recs))
	if err != nil {
		b.Fatal(err)
	}
	return payload
}

func BenchmarkDecodeBatch(b *testing.B) {
	for _, c := range []struct {
		name   string
		decode func([]byte, int64, int, []storage.Record) (BatchHeader, []storage.Record, error)
	}{{"fast", DecodeBatch}, {"checked", decodeBatchChecked}} {
		b.Run(c.name, func(b *testing.B) {
			payload := benchPayload(b)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				_, recs, err := c.decode(payload, 0, 1000, make([]storage.Record, 0, 1000))
				if err != nil || len(recs) != 1000 {
					b.Fatal(len(recs), err)
				}
			}
		})
	}
}

// BenchmarkPartitionRead reads 1000-record batches back from the page cache, the logbench read
// phase without the embedded.Log layer.
func BenchmarkPartitionRead(b *testing.B) {
	p, err := Open(b.TempDir(), Fsync(FsyncNever))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	payload := benchPayload(b)
	_, recs, _ := DecodeBatch(payload, 0, 0, nil)
	const batches = 200
	for range batches {
		if _, err := p.Append(recs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(recs) * 100))
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		if off >= batches*1000 {
			off = 0
		}
		got, err := p.Read(off, 1000)
		if err != nil || len(got) != 1000 {
			b.Fatalf("read %d at %d: %v", len(got), off, err)
		}
		off += 1000
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}
