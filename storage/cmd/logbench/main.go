// Command logbench measures the embedded log on this machine and puts the numbers next to two
// references: the raw sequential write bandwidth of the same disk under the same fsync policy,
// and franz-go producing to and consuming from an in-process kfake cluster.
//
//	go run ./storage/cmd/logbench -records 2000000 -fsync interval
//	go run ./storage/cmd/logbench -kafka-records 0 -cpuprofile read.prof   # profile the read phase
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

func main() {
	records := flag.Int("records", 2_000_000, "records to append and read back")
	fsyncFlag := flag.String("fsync", "interval", "fsync policy: always, interval or never")
	batch := flag.Int("batch", 1000, "records per Append")
	size := flag.Int("size", 100, "value bytes per record")
	dirFlag := flag.String("dir", "", "directory to write in (default: a temporary directory)")
	kafkaRecords := flag.Int("kafka-records", 500_000, "records for the franz-go/kfake reference (0 skips it)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the read phase to this file")
	flag.Parse()

	policy, err := embedded.ParseFsyncPolicy(*fsyncFlag)
	check(err)
	dir := *dirFlag
	if dir == "" {
		dir, err = os.MkdirTemp("", "logbench-")
		check(err)
		defer os.RemoveAll(dir)
	}
	fmt.Printf("logbench: %d records of %d bytes, batches of %d, fsync=%s, dir=%s\n",
		*records, *size, *batch, policy, dir)

	// Each disk phase starts from clean page cache state (sync(2)), so one phase's writeback
	// does not slow the next. Raw bandwidth is measured first over the size the log will write.
	logDir := filepath.Join(dir, "log")
	syscall.Sync()
	rawTotal := estimateDiskBytes(*records, *batch, *size)
	raw := benchRawWrite(filepath.Join(dir, "raw"), rawTotal, policy)
	syscall.Sync()
	app := benchAppend(logDir, policy, *records, *batch, *size)
	fmt.Printf("append:      %10.0f records/s  %8.1f MB/s payload  %8.1f MB/s on disk  p50 %v  p99 %v per batch\n",
		app.recsPerSec, app.payloadMBs, app.diskMBs, app.p50, app.p99)

	readRate, readCPU := benchRead(logDir, *records, *batch, *cpuProfile)
	fmt.Printf("read:        %10.0f records/s (sequential, %d per Read; process CPU %.1f µs per 1000 records)\n",
		readRate, *batch, readCPU)

	fmt.Printf("raw write:   %10.1f MB/s (1 MiB blocks, %s)  -> log reaches %.0f%% of it\n",
		raw, policy, 100*app.diskMBs/raw)

	if *kafkaRecords > 0 {
		prod, cons := benchKfake(*kafkaRecords, *size)
		fmt.Printf("kfake:       %10.0f records/s produce, %.0f records/s consume (franz-go, in-process, %d records)\n",
			prod, cons, *kafkaRecords)
	}
}

// estimateDiskBytes sizes the raw-write reference like the log's data: payload plus about 4
// bytes of framing per record.
func estimateDiskBytes(records, batch, size int) int64 {
	return int64(records) * int64(size+8+4)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "logbench:", err)
		os.Exit(1)
	}
}

func makeBatch(n, size int) []storage.Record {
	recs := make([]storage.Record, n)
	for i := range recs {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte('a' + (i+j)%26)
		}
		recs[i] = storage.Record{Key: fmt.Appendf(nil, "k%07d", i), Value: v, Timestamp: time.Now().UnixMilli()}
	}
	return recs
}

type appendResult struct {
	recsPerSec, payloadMBs, diskMBs float64
	diskBytes                       int64
	p50, p99                        time.Duration
}

func benchAppend(dir string, policy embedded.FsyncPolicy, records, batch, size int) appendResult {
	l, err := embedded.Open(dir, embedded.WithFsync(policy), embedded.WithMaintenanceInterval(0))
	check(err)
	defer l.Close()
	ctx := context.Background()
	check(l.CreateTopic(ctx, "bench", storage.TopicConfig{Partitions: 1}))
	recs := makeBatch(batch, size)
	payload := 0
	for _, r := range recs {
		payload += len(r.Key) + len(r.Value)
	}
	lat := make([]time.Duration, 0, records/batch+1)
	start := time.Now()
	for done := 0; done < records; done += batch {
		t0 := time.Now()
		_, err := l.Append(ctx, "bench", recs)
		check(err)
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start).Seconds()
	info, err := l.DescribeTopic(ctx, "bench")
	check(err)
	disk := info.Partitions[0].SizeBytes
	slices.Sort(lat)
	n := len(lat) * batch
	return appendResult{
		recsPerSec: float64(n) / elapsed,
		payloadMBs: float64(len(lat)*payload) / elapsed / 1e6,
		diskMBs:    float64(disk) / elapsed / 1e6,
		diskBytes:  disk,
		p50:        lat[len(lat)/2],
		p99:        lat[len(lat)*99/100],
	}
}

func benchRead(dir string, records, batch int, cpuProfile string) (recsPerSec, cpuPer1000 float64) {
	l, err := embedded.Open(dir, embedded.WithMaintenanceInterval(0))
	check(err)
	defer l.Close()
	ctx := context.Background()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		check(err)
		defer f.Close()
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	off, n := int64(0), 0
	for n < records {
		recs, err := l.Read(ctx, "bench", 0, off, batch, 0)
		check(err)
		if len(recs) == 0 {
			break
		}
		n += len(recs)
		off = recs[len(recs)-1].Offset + 1
	}
	elapsed := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	return float64(n) / elapsed, cpu.Seconds() * 1e6 / float64(max(n, 1)) * 1000
}

// cpuTime is the user plus system CPU time of the whole process (GC workers included). On a
// shared machine it is steadier than wall time: other processes slow the clock, not the work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRawWrite writes total bytes to a plain file in 1 MiB blocks, syncing as the policy
// would: after every block (always), every 200ms from another goroutine (interval), or never.
func benchRawWrite(path string, total int64, policy embedded.FsyncPolicy) float64 {
	f, err := os.Create(path)
	check(err)
	defer os.Remove(path)
	defer f.Close()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	if policy == embedded.FsyncInterval {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				time.Sleep(200 * time.Millisecond)
				f.Sync()
			}
		}()
	}
	start := time.Now()
	for written := int64(0); written < total; written += int64(len(block)) {
		_, err := f.Write(block)
		check(err)
		if policy == embedded.FsyncAlways {
			check(f.Sync())
		}
	}
	elapsed := time.Since(start).Seconds()
	stop.Store(true)
	wg.Wait()
	return float64(total) / elapsed / 1e6
}

func benchKfake(records, size int) (produce, consume float64) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "bench"))
	check(err)
	defer c.Close()
	ctx := context.Background()
	p, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("bench"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(100_000))
	check(err)
	defer p.Close()
	value := make([]byte, size)
	var failed atomic.Value
	start := time.Now()
	for i := 0; i < records; i++ {
		p.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%07d", i), Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(err)
			}
		})
	}
	check(p.Flush(ctx))
	if err, ok := failed.Load().(error); ok {
		check(err)
	}
	produce = float64(records) / time.Since(start).Seconds()

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"bench": {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxBytes(64<<20))
	check(err)
	defer cl.Close()
	start = time.Now()
	for n := 0; n < records; {
		fs := cl.PollRecords(ctx, 10_000)
		if errs := fs.Errors(); len(errs) > 0 {
			check(errs[0].Err)
		}
		n += fs.NumRecords()
	}
	consume = float64(records) / time.Since(start).Seconds()
	return produce, consume
}
