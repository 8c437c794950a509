package app_test

// The big crash test: N orders (SLUICE_CRASH_RECORDS, see crashBigRecords) are written into
// the built-in log while the server is down; then the real binary works through them with a
// windowed CTAS (COUNT and SUM per customer and TUMBLING 10-second window) and a stream-table
// join (orders JOIN customers), and is SIGKILLed at random moments (SLUICE_CRASH_KILLS, default
// 10) and restarted on the same data dir. When it has caught up, the windowed table (a pull
// query scan) and the join's sink topic (read from the data dir's log with storage/embedded
// after a clean stop) are compared with a crash-free run of the same input and with the
// expected values computed here: nothing missing, nothing duplicated, nothing different.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

const (
	bigPartitions = 4   // orders partitions
	bigCustomers  = 100 // customers c000..c099, plus the sentinels
	bigBaseTs     = 1_700_000_000_000
	bigWindowMs   = 10_000
)

// crashBigRecords is N: 1,000,000 by default (the whole test, crash-free reference run
// included, takes about 30 s on a 2-core machine); SLUICE_CRASH_RECORDS overrides it.
func crashBigRecords(t *testing.T) int {
	return envInt(t, "SLUICE_CRASH_RECORDS", 1_000_000)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// bigOrder is one input order.
type bigOrder struct {
	id, cust string
	amount   int64
	ts       int64
}

// bigInput is the orders: order i belongs to customer c(i%100), has amount i%1000 and
// timestamp base+i ms (so every 10 s window of every customer holds 100 orders). After them,
// every partition gets one order of each sentinel customer. The join runs behind a repartition
// stage (the orders are keyed by order id): one writer per orders partition routes each order
// to the join task of its customer, and each sentinel customer is joined by a different task
// (sentinelCustomers). A writer routes its partition in order and a join task reads each
// writer in order, so once all sentinel orders show in the join's output, the join has
// processed every order. The windowed CTAS also aggregates behind a repartition stage, so
// crashBigRun waits for its full count instead.
func bigInput(n int) []bigOrder {
	sentinels := sentinelCustomers()
	out := make([]bigOrder, 0, n+bigPartitions*len(sentinels))
	for i := 0; i < n; i++ {
		out = append(out, bigOrder{id: fmt.Sprintf("o%07d", i), cust: fmt.Sprintf("c%03d", i%bigCustomers),
			amount: int64(i % 1000), ts: bigBaseTs + int64(i)})
	}
	for k, cust := range sentinels {
		for p, j := 0, 0; p < bigPartitions; j++ {
			id := fmt.Sprintf("s%d-%d", k, j)
			if storage.PartitionFor([]byte(id), bigPartitions) == int32(p) {
				out = append(out, bigOrder{id: id, cust: cust, ts: bigBaseTs + int64(n)})
				p++
			}
		}
	}
	return out
}

// sentinelCustomers are one customer per join task: the ENRICHED sink has bigPartitions
// partitions, and the join task of sink partition p joins the customers the sink's
// partitioner places in p.
func sentinelCustomers() []string {
	var out []string
	for p, j := 0, 0; p < bigPartitions; j++ {
		id := fmt.Sprintf("sentinel%d", j)
		if storage.PartitionFor([]byte(id), bigPartitions) == int32(p) {
			out = append(out, id)
			p++
		}
	}
	return out
}

func customerName(cust string) string { return "name-" + cust }

const crashBigDDL = `CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE TABLE customers (customerId STRING PRIMARY KEY, name STRING) WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE per_window AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY customerId EMIT CHANGES;
CREATE STREAM enriched AS SELECT o.customerId AS customerId, o.orderId, c.name, o.amount FROM orders o JOIN customers c ON o.customerId = c.customerId;`

// bigResult is what a run ends with.
type bigResult struct {
	windows  map[string]string   // "cust@windowStart" -> "n,total" (pull query scan of PER_WINDOW)
	enriched map[string]string   // orderId -> its ENRICHED record (enrichedRow)
	extra    map[string][]string // orderId -> its further ENRICHED records, if any (duplicates)
	records  int                 // records in ENRICHED
	raw      []string            // every ENRICHED record, "key|value" as stored
	took     time.Duration       // from the first start after the input was written to caught up
	truncs   int                 // "removed ... uncommitted output records" messages (recoveries that cut output)
}

// TestCrashBigExactlyOnce is the crash test.
func TestCrashBigExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("big crash test: not in -short mode")
	}
	n := crashBigRecords(t)
	kills := envInt(t, "SLUICE_CRASH_KILLS", 10)
	seed := int64(envInt(t, "SLUICE_CRASH_SEED", int(time.Now().UnixNano()%1_000_000_007)))
	t.Logf("records %d, kills %d, seed %d (SLUICE_CRASH_RECORDS, SLUICE_CRASH_KILLS, SLUICE_CRASH_SEED)", n, kills, seed)
	start := time.Now()
	input := bigInput(n)

	ref := crashBigRun(t, "reference", input, nil)
	t.Logf("crash-free run: caught up in %v; %d windows, %d join records", ref.took.Round(time.Millisecond), len(ref.windows), ref.records)

	// Kill moments: uniform in [50ms, T/kills] after a life reports its addresses, where T is
	// the crash-free processing time, so the kills land while the queries are working (each
	// life also redoes what its predecessor had not committed). The verbose log lists, per
	// life, the uncommitted output its recovery cut.
	rng := rand.New(rand.NewSource(seed))
	maxDelay := ref.took / time.Duration(max(kills, 1))
	if maxDelay < 100*time.Millisecond {
		maxDelay = 100 * time.Millisecond
	}
	delays := make([]time.Duration, kills)
	for i := range delays {
		delays[i] = 50*time.Millisecond + time.Duration(rng.Int63n(int64(maxDelay-50*time.Millisecond)))
	}
	got := crashBigRun(t, "crash", input, delays)
	t.Logf("crash run: %d SIGKILLs after %v; caught up %v after the first start; %d recoveries cut uncommitted output",
		kills, roundAll(delays), got.took.Round(time.Millisecond), got.truncs)

	cmpStart := time.Now()
	want := bigExpected(input)
	compareWindows(t, "crash-free run vs expected", ref.windows, want.windows)
	compareWindows(t, "crash run vs expected", got.windows, want.windows)
	compareWindows(t, "crash run vs crash-free run", got.windows, ref.windows)
	compareEnriched(t, "crash-free run", ref, want)
	compareEnriched(t, "crash run", got, want)
	compareRaw(t, "crash run vs crash-free run", got.raw, ref.raw)
	t.Logf("comparing took %v; total %v", time.Since(cmpStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// crashBigRun runs the scenario in a fresh data dir: DDL and customers, a clean stop, the
// orders written into the log, then one life per delay ended by SIGKILL after that delay, and a
// last life that runs until both queries have caught up.
func crashBigRun(t *testing.T, name string, input []bigOrder, delays []time.Duration) bigResult {
	dir := t.TempDir()
	t0 := time.Now()
	stage := func(what string) {
		t.Logf("%s: %s done at %v", name, what, time.Since(t0).Round(time.Millisecond))
	}
	c := startChild(t, dir)
	c.ksql(crashBigDDL)
	var sb strings.Builder
	for i := 0; i < bigCustomers; i++ {
		cust := fmt.Sprintf("c%03d", i)
		fmt.Fprintf(&sb, "INSERT INTO customers (customerId, name) VALUES ('%s', '%s');\n", cust, customerName(cust))
	}
	sentinels := sentinelCustomers()
	for _, cust := range sentinels {
		fmt.Fprintf(&sb, "INSERT INTO customers (customerId, name) VALUES ('%s', '%s');\n", cust, customerName(cust))
	}
	c.ksql(sb.String())
	// The join must hold every customer before the first order arrives (it reads both topics
	// at once); the clean stop commits that. Each of its bigPartitions join tasks reads every
	// customer (and keeps those of its partition).
	waitProcessed(c.testServer, "enriched", bigPartitions*(bigCustomers+len(sentinels)), 30*time.Second)
	c.stop(t)

	stage("setup")
	writeOrders(t, filepath.Join(dir, "log"), input)
	stage("writing the orders")

	var res bigResult
	began := time.Now()
	var logs []*logBuffer
	for i, d := range delays {
		c = startChild(t, dir)
		logs = append(logs, c.logs)
		time.Sleep(d)
		c.kill(t)
		t.Logf("%s: life %d killed after %v", name, i+1, d.Round(time.Millisecond))
	}
	c = startChild(t, dir)
	logs = append(logs, c.logs)

	// Caught up: every sentinel counted by the windowed CTAS and joined by the CSAS.
	for _, cust := range sentinels {
		c.waitPull(fmt.Sprintf(`SELECT n FROM per_window WHERE customerId = '%s';`, cust), fmt.Sprintf(`[[%d]]`, bigPartitions), 90*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nSentinels := bigPartitions * len(sentinels)
	sres, err := c.queryStream(ctx, fmt.Sprintf(`SELECT orderId FROM enriched WHERE customerId LIKE 'sentinel%%' EMIT CHANGES LIMIT %d;`, nSentinels), earliest)
	if err != nil || len(sres.rows) != nSentinels {
		t.Fatalf("%s: waiting for the join's sentinels: %v", name, err)
	}
	res.took = time.Since(began)
	stage("catching up")

	// The windowed table, scanned by a pull query. The sentinels' group is aggregated by one
	// of the CTAS's partition tasks (behind its repartition stage), so seeing them does not
	// mean the others have caught up: scan until every order is counted (or a minute has
	// passed; the comparisons then show what is missing or counted twice).
	ctx2, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	var pres *streamResult
	for {
		pres, err = c.queryStream(ctx2, `SELECT customerId, WINDOWSTART, n, total FROM per_window;`, nil)
		if err != nil || len(pres.errs) > 0 {
			t.Fatalf("%s: pull scan of PER_WINDOW: %v %v", name, err, pres)
		}
		counted := 0
		for _, r := range pres.rows {
			n, _ := strconv.Atoi(fmt.Sprint(r[2]))
			counted += n
		}
		if counted >= len(input) || ctx2.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.windows = map[string]string{}
	for _, r := range pres.rows {
		k := fmt.Sprintf("%v@%v", r[0], r[1])
		if _, dup := res.windows[k]; dup {
			t.Errorf("%s: PER_WINDOW scan returns %s twice", name, k)
		}
		res.windows[k] = fmt.Sprintf("%v,%v", r[2], r[3])
	}
	stage("pull scan")
	c.stop(t)
	stage("stop")
	for i, l := range logs {
		text := l.tail(1 << 30)
		n := strings.Count(text, "uncommitted output records from ")
		res.truncs += n
		if n > 0 && testing.Verbose() {
			var lines []string
			for _, ln := range strings.Split(text, "\n") {
				if strings.Contains(ln, "uncommitted output records from ") {
					lines = append(lines, ln[strings.Index(ln, "removed"):])
				}
			}
			t.Logf("%s: life %d recovery: %s", name, i+1, strings.Join(lines, "; "))
		}
	}

	// The join's sink, read from the log with the server down.
	res.enriched, res.extra = map[string]string{}, map[string][]string{}
	l, err := embedded.Open(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	info, err := l.DescribeTopic(context.Background(), "ENRICHED")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range info.Partitions {
		for off := p.StartOffset; off < p.EndOffset; {
			recs, err := l.Read(context.Background(), "ENRICHED", p.Partition, off, 10000, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				// Decoded into fixed fields, so unexpected ones count as a difference only
				// through the comparison with the crash-free run's identical bytes.
				var v struct {
					ORDERID, NAME string
					AMOUNT        int64
				}
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatalf("%s: ENRICHED %d/%d: value %q: %v", name, r.Partition, r.Offset, r.Value, err)
				}
				row := enrichedRow(string(r.Key), v.ORDERID, v.NAME, v.AMOUNT)
				if _, dup := res.enriched[v.ORDERID]; dup {
					res.extra[v.ORDERID] = append(res.extra[v.ORDERID], row)
				} else {
					res.enriched[v.ORDERID] = row
				}
				res.raw = append(res.raw, string(r.Key)+"|"+string(r.Value))
				res.records++
			}
			off = recs[len(recs)-1].Offset + 1
		}
	}
	stage("reading ENRICHED")
	return res
}

// writeOrders appends the input to the orders topic of the built-in log in logDir (the server
// is down), partitioned by key as INSERT would.
func writeOrders(t *testing.T, logDir string, input []bigOrder) {
	t.Helper()
	l, err := embedded.Open(logDir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	const batch = 5000
	recs := make([]storage.Record, 0, batch)
	flush := func() {
		if _, err := l.Append(context.Background(), "orders", recs); err != nil {
			t.Fatalf("writing orders: %v", err)
		}
		recs = recs[:0]
	}
	for _, o := range input {
		v := fmt.Sprintf(`{"CUSTOMERID":%q,"AMOUNT":%d}`, o.cust, o.amount)
		recs = append(recs, storage.Record{Key: []byte(o.id), Value: []byte(v), Timestamp: o.ts, Partition: -1})
		if len(recs) == batch {
			flush()
		}
	}
	if len(recs) > 0 {
		flush()
	}
}

// bigExpected computes the results from the input.
func bigExpected(input []bigOrder) bigResult {
	type agg struct{ n, total int64 }
	wins := map[string]*agg{}
	res := bigResult{windows: map[string]string{}, enriched: map[string]string{}}
	for _, o := range input {
		k := fmt.Sprintf("%s@%d", o.cust, o.ts-o.ts%bigWindowMs)
		if wins[k] == nil {
			wins[k] = &agg{}
		}
		wins[k].n++
		wins[k].total += o.amount
		res.enriched[o.id] = enrichedRow(o.cust, o.id, customerName(o.cust), o.amount)
		res.records++
	}
	for k, a := range wins {
		res.windows[k] = fmt.Sprintf("%d,%d", a.n, a.total)
	}
	return res
}

func compareWindows(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing window %s (want n,total %s)", k, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("window %s: n,total %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected window %s (n,total %s)", k, g))
		}
	}
	reportDiffs(t, fmt.Sprintf("PER_WINDOW, %s (%d windows, want %d)", what, len(got), len(want)), diffs)
}

// compareEnriched checks that every order has exactly one ENRICHED record, equal to want's, and
// that there is nothing else.
func compareEnriched(t *testing.T, what string, got, want bigResult) {
	t.Helper()
	var diffs []string
	missing := 0
	for id, w := range want.enriched {
		switch g, ok := got.enriched[id]; {
		case !ok:
			missing++
			diffs = append(diffs, fmt.Sprintf("%s missing", id))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s is %s, want %s", id, g, w))
		}
	}
	for id, g := range got.enriched {
		if _, ok := want.enriched[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %s", g))
		}
	}
	for id, more := range got.extra {
		diffs = append(diffs, fmt.Sprintf("%s %d times: %s, then %v", id, len(more)+1, got.enriched[id], more))
	}
	dups := len(got.extra)
	reportDiffs(t, fmt.Sprintf("ENRICHED, %s (%d records, want %d; %d orders missing, %d duplicated)",
		what, got.records, want.records, missing, dups), diffs)
}

// enrichedRow renders one ENRICHED record: key (customer), then the value's fields.
func enrichedRow(cust, id, name string, amount int64) string {
	return cust + "|" + id + "|" + name + "|" + strconv.FormatInt(amount, 10)
}

// compareRaw checks that two runs wrote the same records, byte for byte (as a multiset: the
// interleaving of partitions differs from run to run).
func compareRaw(t *testing.T, what string, got, want []string) {
	t.Helper()
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	var diffs []string
	i, j := 0, 0
	for i < len(g) || j < len(w) {
		switch {
		case j == len(w) || (i < len(g) && g[i] < w[j]):
			diffs = append(diffs, "extra "+g[i])
			i++
		case i == len(g) || w[j] < g[i]:
			diffs = append(diffs, "missing "+w[j])
			j++
		default:
			i++
			j++
		}
	}
	reportDiffs(t, fmt.Sprintf("ENRICHED bytes, %s (%d records, want %d)", what, len(got), len(want)), diffs)
}

func reportDiffs(t *testing.T, what string, diffs []string) {
	t.Helper()
	if len(diffs) == 0 {
		return
	}
	sort.Strings(diffs)
	n := len(diffs)
	if n > 10 {
		diffs = diffs[:10]
	}
	t.Errorf("%s: %d differences:\n  %s", what, n, strings.Join(diffs, "\n  "))
}
