package engine

import (
	"context"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// BenchmarkWindowedAggregate measures the windowed aggregation of enginebench's window
// scenario on one goroutine (deterministic mode: Quiesce runs the task), with real Badger state
// and the embedded log on disk. One op is 100,000 records over 100,000 keys, committed every
// 10,000 records; event time advances one minute every 200,000 records, so every window is
// updated twice. It reports records/s, CPU time per record (all threads) and allocations,
// the figures that the end-to-end benchmark's noise hides.
//
//	go test ./exec/engine -run '^$' -bench WindowedAggregate -benchtime 20x -count 5
func BenchmarkWindowedAggregate(b *testing.B) {
	const keys = 100_000
	benchQuiesced(b, []string{
		`CREATE STREAM events (K STRING KEY, V BIGINT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE per_min AS SELECT K, COUNT(*) AS N, SUM(V) AS S FROM events WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY K EMIT CHANGES;`,
	}, func(from, n int) map[string][]storage.Record {
		batch := make([]storage.Record, 0, n)
		for i := from; i < from+n; i++ {
			batch = append(batch, storage.Record{
				Key:       []byte("k" + strconv.Itoa(i%keys)),
				Value:     []byte(`{"V":` + strconv.Itoa(i%100) + `}`),
				Timestamp: 1_700_000_000_000 + int64(i)*60_000/200_000,
				Partition: 0,
			})
		}
		return map[string][]storage.Record{"events": batch}
	})
}

// BenchmarkStreamStreamJoin: orders meet their shipments (a millisecond later) on the item,
// WITHIN 1 HOUR, in one task; half of each batch is orders, half shipments.
func BenchmarkStreamStreamJoin(b *testing.B) {
	benchQuiesced(b, []string{
		`CREATE STREAM orders (OID STRING KEY, ITEM STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM ships (SID STRING KEY, REF STRING) WITH (KAFKA_TOPIC='ships', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM shipped AS SELECT o.ITEM AS ITEM, o.OID AS OID, s.SID AS SID FROM orders o JOIN ships s WITHIN 1 HOUR ON o.ITEM = s.REF;`,
	}, func(from, n int) map[string][]storage.Record {
		orders, ships := make([]storage.Record, 0, n/2), make([]storage.Record, 0, n/2)
		for i := from / 2; i < (from+n)/2; i++ {
			item := strconv.Itoa(i)
			ts := 1_700_000_000_000 + int64(i)
			orders = append(orders, storage.Record{Key: []byte("o" + item), Value: []byte(`{"ITEM":"i` + item + `"}`), Timestamp: ts})
			ships = append(ships, storage.Record{Key: []byte("s" + item), Value: []byte(`{"REF":"i` + item + `"}`), Timestamp: ts + 1})
		}
		return map[string][]storage.Record{"orders": orders, "ships": ships}
	})
}

// benchQuiesced runs stmts on a fresh engine (embedded log and Badger state in a temporary
// directory, Deterministic), then times, per op, 100,000 records that fill makes (records
// from, from+1, … in batches of 10,000, by topic) each batch appended and processed to
// quiescence. It reports records/s of processing time and the process's CPU ns per record.
func benchQuiesced(b *testing.B, stmts []string, fill func(from, n int) map[string][]storage.Record) {
	dir := b.TempDir()
	lg, err := embedded.Open(filepath.Join(dir, "log"))
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	st, err := badger.Open(filepath.Join(dir, "state"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	e, err := Open(ctx, Config{Log: lg, State: st, Deterministic: true})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s := NewSession()
	for _, stmt := range stmts {
		if _, err := e.Execute(ctx, s, stmt); err != nil {
			b.Fatal(err)
		}
	}
	const perOp, perCommit = 100_000, 10_000
	next := 0
	var busy, cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range perOp / perCommit {
			b.StopTimer()
			for topic, batch := range fill(next, perCommit) {
				if _, err := lg.Append(ctx, topic, batch); err != nil {
					b.Fatal(err)
				}
			}
			next += perCommit
			b.StartTimer()
			t0, c0 := time.Now(), processCPU()
			if err := e.Quiesce(ctx); err != nil {
				b.Fatal(err)
			}
			busy += time.Since(t0)
			cpu += processCPU() - c0
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*perOp)/busy.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*perOp), "cpu-ns/record")
	b.ReportMetric(0, "ns/op")
}

// processCPU is the CPU time this process has used, on every thread (Badger's goroutines and
// the garbage collector included): on a noisy machine it varies less than elapsed time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
