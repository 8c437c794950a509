// Command enginebench measures the engine end to end on this machine: records are appended
// straight into the embedded log (in a temporary directory), persistent queries run in server
// mode with Badger state, and each scenario reports records/s from the first input append to the
// last output (or, for aggregations, to the moment every input is consumed and committed).
//
//	go run ./exec/cmd/enginebench                 # every scenario, each in its own process
//	go run ./exec/cmd/enginebench -scenario csas  # one scenario
//
// Scenarios:
//
//	csas    1,000,000 JSON records {"ID","AMOUNT","NAME"}; CSAS filter + projection
//	rekey   the same records re-keyed by NAME (PARTITION BY), all written to the sink
//	insert  the same records INSERTed INTO a CSAS stream from a stream with one more
//	        partition: writers and copiers appending through the sink's owning tasks
//	window  1,000,000 records over 100,000 keys; CTAS COUNT/SUM, WINDOW TUMBLING (SIZE 1 MINUTE)
//	join    stream-table join: 100,000 users table, 1,000,000 orders enriched with the user name
//	join-repart  the same join on a non-key column of the orders (a repartition stage first)
//	join-agg     the orders joined to the users and counted per user region (100 regions):
//	             join writers per partition, then aggregation tasks behind a repartition topic
//	join-staged  500,000 orders joined to 500,000 shipments on the item (stream-stream), then
//	             to the users table on the orders' user: two join stages, each behind a
//	             repartition topic; records/s counts orders and shipments
//
// Each scenario runs in a child process so that its peak RSS (VmHWM) is its own.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/exec/gcpace"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

var (
	scenario   = flag.String("scenario", "", "run one scenario: csas, rekey, insert, window, join, join-repart, join-agg or join-staged (default: all, each in a child process)")
	records    = flag.Int("records", 1_000_000, "input records per scenario")
	keys       = flag.Int("keys", 100_000, "distinct keys (window: GROUP BY keys; join: table rows)")
	partitions = flag.Int("partitions", 2, "partitions of the input topics")
	batch      = flag.Int("batch", 5000, "records per Append")
	timeout    = flag.Duration("timeout", 10*time.Minute, "give up after this long")
	cpuprofile = flag.String("cpuprofile", "", "with -scenario: write a CPU profile of the scenario to this file")
	gcPercent  = flag.Int("gc-percent", gcpace.DefaultPercent, "Go garbage collector target percentage, as the server's --gc-percent (GOGC wins)")
	traceFile  = flag.String("trace", "", "with -scenario: write an execution trace of the scenario to this file (go tool trace), to see where goroutines wait")
	memprofile = flag.String("memprofile", "", "with -scenario: write a heap profile (allocations and in-use memory) when the scenario ends, before the engine closes")
	commitMs   = flag.Int("commit-ms", 0, "ksql.streams.commit.interval.ms for the engine (0: the engine's default)")
	memtableMB = flag.Int("memtable-mb", 0, "Badger memtable size in MiB (0: the state store's default)")
)

func main() {
	flag.Parse()
	if *scenario == "" {
		fmt.Printf("enginebench: %d records, %d keys, %d partitions, batches of %d, embedded log + Badger, server mode\n",
			*records, *keys, *partitions, *batch)
		failed := false
		for _, s := range []string{"csas", "rekey", "insert", "window", "join", "join-repart", "join-agg", "join-staged"} {
			args := append([]string{"-scenario", s}, os.Args[1:]...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Printf("%-8s failed: %v\n", s, err)
				failed = true
			}
		}
		if failed {
			os.Exit(1)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// The collector's pace the server runs with (GOGC and GOMEMLIMIT still win).
	gcpace.Apply(*gcPercent, 0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer trace.Stop()
	}
	var err error
	switch *scenario {
	case "csas":
		err = runCSAS(ctx)
	case "rekey":
		err = runRekey(ctx)
	case "insert":
		err = runInsert(ctx)
	case "window":
		err = runWindow(ctx)
	case "join":
		err = runJoin(ctx)
	case "join-repart":
		err = runJoinRepart(ctx)
	case "join-agg":
		err = runJoinAgg(ctx)
	case "join-staged":
		err = runJoinStaged(ctx)
	default:
		err = fmt.Errorf("unknown scenario %q", *scenario)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintf(os.Stderr, "%s: %v\n", *scenario, err)
		os.Exit(1)
	}
}

// bench is one engine on a fresh embedded log and Badger store in a temporary directory.
type bench struct {
	dir string
	log *embedded.Log
	e   *engine.Engine
	s   *engine.Session
}

func open(ctx context.Context) (*bench, error) {
	dir, err := os.MkdirTemp("", "enginebench-")
	if err != nil {
		return nil, err
	}
	lg, err := embedded.Open(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	var opts []badger.Option
	if *memtableMB > 0 {
		opts = append(opts, badger.WithMemTableSize(int64(*memtableMB)<<20))
	}
	st, err := badger.Open(filepath.Join(dir, "state"), opts...)
	if err != nil {
		return nil, err
	}
	var props map[string]string
	if *commitMs > 0 {
		props = map[string]string{"ksql.streams.commit.interval.ms": strconv.Itoa(*commitMs)}
	}
	e, err := engine.Open(ctx, engine.Config{Log: lg, State: st, DefaultPartitions: *partitions, Props: props,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "engine: "+f+"\n", a...) }})
	if err != nil {
		return nil, err
	}
	return &bench{dir: dir, log: lg, e: e, s: engine.NewSession()}, nil
}

func (b *bench) close() {
	b.e.Close()
	b.log.Close()
	os.RemoveAll(b.dir)
}

func (b *bench) exec(ctx context.Context, sql string) error {
	_, err := b.e.Execute(ctx, b.s, sql)
	return err
}

// produce appends n records made by mk into topic, round-robin over the partitions, in
// batches. It returns when the last batch is appended.
func (b *bench) produce(ctx context.Context, topic string, n int, mk func(i int) (key, value []byte, ts int64)) error {
	buf := make([]storage.Record, 0, *batch)
	for i := 0; i < n; i++ {
		k, v, ts := mk(i)
		buf = append(buf, storage.Record{Key: k, Value: v, Timestamp: ts, Partition: int32(i % *partitions)})
		if len(buf) == cap(buf) || i == n-1 {
			if _, err := b.log.Append(ctx, topic, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// pullSum runs a pull query and sums its first column (a BIGINT).
func (b *bench) pullSum(ctx context.Context, sql string) (int64, error) {
	cur, err := b.e.Query(ctx, b.s, sql)
	if err != nil {
		return 0, err
	}
	defer cur.Close()
	var total int64
	for {
		r, err := cur.Next(ctx)
		if err != nil {
			return total, nil
		}
		total += r.Values[0].(int64)
	}
}

// endOffsets sums a topic's end offsets.
func (b *bench) endOffsets(ctx context.Context, topic string) (int64, error) {
	info, err := b.log.DescribeTopic(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range info.Partitions {
		n += p.EndOffset
	}
	return n, nil
}

// waitTopic waits until topic holds at least want records.
func (b *bench) waitTopic(ctx context.Context, topic string, want int64) error {
	for {
		n, err := b.endOffsets(ctx, topic)
		if err == nil && n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s has %d of %d records: %w", topic, n, want, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func report(name string, n int, d time.Duration, note string) {
	if *memprofile != "" {
		// Written before the engine closes, so in-use figures show its live memory.
		if f, err := os.Create(*memprofile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	fmt.Printf("%-8s records=%d seconds=%.3f records/s=%.0f peakRSS=%s %s\n",
		name, n, d.Seconds(), float64(n)/d.Seconds(), peakRSS(), note)
}

// peakRSS is this process's VmHWM from /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%.0fMB", float64(kb)/1024)
			}
		}
	}
	return "?"
}

func orderValue(i int) []byte {
	// About a fifth of the records pass the filter AMOUNT > 800.
	return []byte(`{"ID":` + strconv.Itoa(i) + `,"AMOUNT":` + strconv.Itoa(i%1000) + `.5,"NAME":"name-` + strconv.Itoa(i%977) + `"}`)
}

// runCSAS is the first end-to-end scenario: a filter and projection over 1M records.
func runCSAS(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE STREAM orders (ID BIGINT, AMOUNT DOUBLE, NAME STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM big AS SELECT ID, AMOUNT * 2 AS DOUBLED, UCASE(NAME) AS NAME FROM orders WHERE AMOUNT > 800;`, *partitions)); err != nil {
		return err
	}
	want := int64(0)
	for i := 0; i < *records; i++ {
		if i%1000 >= 800 {
			want++
		}
	}
	start := time.Now()
	prodErr := make(chan error, 1)
	var produced time.Duration
	go func() {
		err := b.produce(ctx, "orders", *records, func(i int) ([]byte, []byte, int64) {
			return nil, orderValue(i), int64(1_700_000_000_000 + i)
		})
		produced = time.Since(start)
		prodErr <- err
	}()
	if err := b.waitTopic(ctx, "BIG", want); err != nil {
		return err
	}
	d := time.Since(start)
	if err := <-prodErr; err != nil {
		return err
	}
	report("csas", *records, d, fmt.Sprintf("(outputs=%d, input appended in %.3fs)", want, produced.Seconds()))
	return nil
}

// runRekey: the csas input re-keyed by name (PARTITION BY), every record written to the sink.
func runRekey(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE STREAM orders (ID BIGINT, AMOUNT DOUBLE, NAME STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM by_name AS SELECT NAME, ID, AMOUNT FROM orders PARTITION BY NAME;`, *partitions)); err != nil {
		return err
	}
	start := time.Now()
	if err := b.produce(ctx, "orders", *records, func(i int) ([]byte, []byte, int64) {
		return nil, orderValue(i), int64(1_700_000_000_000 + i)
	}); err != nil {
		return err
	}
	produced := time.Since(start)
	if err := b.waitTopic(ctx, "BY_NAME", int64(*records)); err != nil {
		return err
	}
	report("rekey", *records, time.Since(start), fmt.Sprintf("(input appended in %.3fs)", produced.Seconds()))
	return nil
}

// runInsert: INSERT INTO a CSAS stream from a stream with one more partition, so the query
// runs as writers and copiers that append through the sink's owning tasks.
func runInsert(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE STREAM orders (ID BIGINT KEY, AMOUNT DOUBLE, NAME STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM more (ID BIGINT KEY, AMOUNT DOUBLE, NAME STRING) WITH (KAFKA_TOPIC='more', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM all_orders AS SELECT ID, AMOUNT, NAME FROM orders;
		INSERT INTO all_orders SELECT ID, AMOUNT, NAME FROM more;`, *partitions, *partitions+1)); err != nil {
		return err
	}
	start := time.Now()
	if err := b.produce(ctx, "more", *records, func(i int) ([]byte, []byte, int64) {
		return binary.BigEndian.AppendUint64(nil, uint64(i)), orderValue(i), int64(1_700_000_000_000 + i)
	}); err != nil {
		return err
	}
	produced := time.Since(start)
	if err := b.waitTopic(ctx, "ALL_ORDERS", int64(*records)); err != nil {
		return err
	}
	report("insert", *records, time.Since(start), fmt.Sprintf("(input appended in %.3fs)", produced.Seconds()))
	return nil
}

// runWindow: COUNT and SUM per key and minute over 100,000 keys.
func runWindow(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE STREAM events (K STRING KEY, V BIGINT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE TABLE per_min AS SELECT K, COUNT(*) AS N, SUM(V) AS S FROM events WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY K EMIT CHANGES;`, *partitions)); err != nil {
		return err
	}
	// Records stream through five minutes of event time; every key appears in every minute.
	span := int64(5 * 60_000)
	start := time.Now()
	err = b.produce(ctx, "events", *records, func(i int) ([]byte, []byte, int64) {
		k := "k" + strconv.Itoa(i%*keys)
		ts := 1_700_000_000_000 + int64(i)*span/int64(*records)
		return []byte(k), []byte(`{"V":` + strconv.Itoa(i%100) + `}`), ts
	})
	if err != nil {
		return err
	}
	produced := time.Since(start)
	if err := b.e.Quiesce(ctx); err != nil {
		return err
	}
	d := time.Since(start)
	// Check one result so a silently broken query cannot report a fast time.
	total, err := b.pullSum(ctx, `SELECT N FROM per_min WHERE K = 'k1';`)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("(keys=%d, input appended in %.3fs, pull k1 total=%d)", *keys, produced.Seconds(), total)
	if want := int64(*records / *keys); total != want {
		note += fmt.Sprintf(" WARNING: want %d", want)
	}
	report("window", *records, d, note)
	return nil
}

// runJoinRepart: orders keyed by order id, enriched from a users table on their user column,
// so the orders go through a repartition stage to meet the users' partitions.
func runJoinRepart(ctx context.Context) error {
	return runJoinScenario(ctx, "join-repart",
		`CREATE STREAM orders (OID STRING KEY, UID STRING, AMOUNT DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);`,
		`CREATE STREAM enriched AS SELECT o.UID AS UID, o.OID AS OID, o.AMOUNT, u.NAME FROM orders o JOIN users u ON o.UID = u.UID;`,
		func(i int) ([]byte, []byte) {
			uid := "u" + strconv.Itoa((i*7)%*keys)
			return []byte("o" + strconv.Itoa(i)), []byte(`{"UID":"` + uid + `","AMOUNT":` + strconv.Itoa(i%1000) + `.5}`)
		})
}

// runJoin: orders enriched from a users table, both keyed by the user.
func runJoin(ctx context.Context) error {
	return runJoinScenario(ctx, "join",
		`CREATE STREAM orders (UID STRING KEY, ID BIGINT, AMOUNT DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);`,
		`CREATE STREAM enriched AS SELECT o.UID AS UID, o.ID, o.AMOUNT, u.NAME FROM orders o JOIN users u ON o.UID = u.UID;`,
		func(i int) ([]byte, []byte) {
			return []byte("u" + strconv.Itoa((i*7)%*keys)), []byte(`{"ID":` + strconv.Itoa(i) + `,"AMOUNT":` + strconv.Itoa(i%1000) + `.5}`)
		})
}

// runJoinAgg: orders keyed by user joined to the users table and aggregated per user region,
// timed from the first order appended until every order is consumed and committed.
func runJoinAgg(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	const regions = 100
	if err := b.exec(ctx, fmt.Sprintf(`CREATE TABLE users (UID STRING PRIMARY KEY, REGION STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM orders (UID STRING KEY, ID BIGINT, AMOUNT BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE TABLE per_region AS SELECT u.REGION AS REGION, COUNT(*) AS N, SUM(o.AMOUNT) AS S FROM orders o JOIN users u ON o.UID = u.UID GROUP BY u.REGION;`, *partitions, *partitions)); err != nil {
		return err
	}
	part := func(k []byte) int32 { return storage.PartitionFor(k, *partitions) }
	if err := b.produceKeyed(ctx, "users", *keys, part, func(i int) ([]byte, []byte, int64) {
		return []byte("u" + strconv.Itoa(i)), []byte(`{"REGION":"r` + strconv.Itoa(i%regions) + `"}`), 1_600_000_000_000
	}); err != nil {
		return err
	}
	if err := b.e.Quiesce(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := b.produceKeyed(ctx, "orders", *records, part, func(i int) ([]byte, []byte, int64) {
		return []byte("u" + strconv.Itoa((i*7)%*keys)), []byte(`{"ID":` + strconv.Itoa(i) + `,"AMOUNT":` + strconv.Itoa(i%1000) + `}`), int64(1_700_000_000_000 + i)
	}); err != nil {
		return err
	}
	produced := time.Since(start)
	if err := b.e.Quiesce(ctx); err != nil {
		return err
	}
	d := time.Since(start)
	// Check the counts so a silently broken query cannot report a fast time.
	total, err := b.pullSum(ctx, `SELECT N FROM per_region;`)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("(users=%d, regions=%d, orders appended in %.3fs, counted %d)", *keys, regions, produced.Seconds(), total)
	if total != int64(*records) {
		note += fmt.Sprintf(" WARNING: want %d", *records)
	}
	report("join-agg", *records, d, note)
	return nil
}

// runJoinStaged: orders (keyed by order id) meet their shipments on the item within an hour,
// then the users table on the order's user: a staged join. Orders and shipments are appended
// in alternating batches, shipment i a millisecond after order i; the time runs from the first
// append to the last joined record.
func runJoinStaged(ctx context.Context) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE TABLE users (UID STRING PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM orders (OID STRING KEY, ITEM STRING, UID STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM ships (SID STRING KEY, REF STRING) WITH (KAFKA_TOPIC='ships', VALUE_FORMAT='JSON', PARTITIONS=%d);
		CREATE STREAM enriched AS SELECT o.UID AS UID, o.OID AS OID, s.SID AS SID, u.NAME AS NAME
		  FROM orders o JOIN ships s WITHIN 1 HOUR ON o.ITEM = s.REF JOIN users u ON o.UID = u.UID;`, *partitions, *partitions, *partitions)); err != nil {
		return err
	}
	part := func(k []byte) int32 { return storage.PartitionFor(k, *partitions) }
	if err := b.produceKeyed(ctx, "users", *keys, part, func(i int) ([]byte, []byte, int64) {
		return []byte("u" + strconv.Itoa(i)), []byte(`{"NAME":"user ` + strconv.Itoa(i) + `"}`), 1_600_000_000_000
	}); err != nil {
		return err
	}
	if err := b.e.Quiesce(ctx); err != nil {
		return err
	}
	n := *records / 2
	start := time.Now()
	for from := 0; from < n; from += *batch {
		count := min(*batch, n-from)
		if err := b.produceKeyed(ctx, "orders", count, part, func(i int) ([]byte, []byte, int64) {
			i += from
			return []byte("o" + strconv.Itoa(i)), []byte(`{"ITEM":"i` + strconv.Itoa(i) + `","UID":"u` + strconv.Itoa((i*7)%*keys) + `"}`), int64(1_700_000_000_000 + i)
		}); err != nil {
			return err
		}
		if err := b.produceKeyed(ctx, "ships", count, part, func(i int) ([]byte, []byte, int64) {
			i += from
			return []byte("s" + strconv.Itoa(i)), []byte(`{"REF":"i` + strconv.Itoa(i) + `"}`), int64(1_700_000_000_001 + i)
		}); err != nil {
			return err
		}
	}
	produced := time.Since(start)
	if err := b.waitTopic(ctx, "ENRICHED", int64(n)); err != nil {
		return err
	}
	report("join-staged", 2*n, time.Since(start), fmt.Sprintf("(orders=%d, shipments=%d, users=%d, appended in %.3fs)", n, n, *keys, produced.Seconds()))
	return nil
}

// runJoinScenario loads a users table, starts the join query over the orders stream (DDL with
// a %d for the partition count), then times the orders (order(i) gives key and value) from
// first append to last joined record.
func runJoinScenario(ctx context.Context, name, ordersDDL, query string, order func(i int) ([]byte, []byte)) error {
	b, err := open(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.exec(ctx, fmt.Sprintf(`CREATE TABLE users (UID STRING PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=%d);
		`+ordersDDL, *partitions, *partitions)); err != nil {
		return err
	}
	if err := b.exec(ctx, query); err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) {
			fmt.Printf("%-8s skipped: the engine rejects the stream-table join: %s\n", name, ee.Msg)
			return nil
		}
		return err
	}
	// Table first (keyed, so partitioned by key), then the orders.
	part := func(k []byte) int32 { return storage.PartitionFor(k, *partitions) }
	if err := b.produceKeyed(ctx, "users", *keys, part, func(i int) ([]byte, []byte, int64) {
		return []byte("u" + strconv.Itoa(i%*keys)), []byte(`{"NAME":"user ` + strconv.Itoa(i) + `"}`), 1_600_000_000_000
	}); err != nil {
		return err
	}
	if err := b.e.Quiesce(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := b.produceKeyed(ctx, "orders", *records, part, func(i int) ([]byte, []byte, int64) {
		k, v := order(i)
		return k, v, int64(1_700_000_000_000 + i)
	}); err != nil {
		return err
	}
	produced := time.Since(start)
	if err := b.waitTopic(ctx, "ENRICHED", int64(*records)); err != nil {
		return err
	}
	report(name, *records, time.Since(start), fmt.Sprintf("(table rows=%d, orders appended in %.3fs)", *keys, produced.Seconds()))
	return nil
}

// produceKeyed is produce with the partition chosen from the key, as a keyed producer would.
func (b *bench) produceKeyed(ctx context.Context, topic string, n int, part func([]byte) int32, mk func(i int) ([]byte, []byte, int64)) error {
	buf := make([]storage.Record, 0, *batch)
	for i := 0; i < n; i++ {
		k, v, ts := mk(i)
		buf = append(buf, storage.Record{Key: k, Value: v, Timestamp: ts, Partition: part(k)})
		if len(buf) == cap(buf) || i == n-1 {
			if _, err := b.log.Append(ctx, topic, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
