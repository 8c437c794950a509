package app_test

// One conformance suite, two logs: the same SQL scenario runs against the built-in log and
// against a Kafka cluster (franz-go's in-process kfake, reached through storage/kafka exactly as
// `sluice --kafka-brokers` does), and every assertion is shared. Only the way the test looks at
// the log from outside differs: the built-in log's topic directories, or the Kafka cluster
// through kadm.
//
// What the Kafka backend cannot do is truncate a partition's tail, which exactly-once recovery
// on the built-in log does after a crash (exec/engine/task.go). On Kafka, recovery reads the
// uncommitted tail back and the replay skips the results equal to it. So the suite asserts
// exactly-once across a CLEAN restart for both backends, and TestKafkaCrashExactlyOnce what a
// SIGKILL gives on Kafka for a query whose replay repeats its results.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedb/sluice/server/app"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/kafka"
)

// logBackend is one storage.Log the scenario runs against.
type logBackend struct {
	name string
	// openLog is app.Config.OpenLog (nil: the built-in log in the data dir).
	openLog func(ctx context.Context) (storage.Log, error)
	// topics lists the topics as the backend itself holds them, bypassing Sluice.
	topics func(t testing.TB, dataDir string) map[string]int
	// createExternal creates a topic behind Sluice's back (nil when the backend cannot while the
	// server runs).
	createExternal func(t testing.TB, name string, partitions int)
	// logIsExternal: the log (and so the command log) lives outside the data dir.
	logIsExternal bool
}

func builtinBackend() *logBackend {
	return &logBackend{
		name: "builtin",
		topics: func(t testing.TB, dataDir string) map[string]int {
			ents, err := os.ReadDir(filepath.Join(dataDir, "log", "topics"))
			if err != nil {
				t.Fatalf("listing the built-in log's topics: %v", err)
			}
			out := map[string]int{}
			for _, e := range ents {
				if !e.IsDir() {
					continue
				}
				parts, _ := filepath.Glob(filepath.Join(dataDir, "log", "topics", e.Name(), "[0-9]*"))
				out[e.Name()] = len(parts)
			}
			return out
		},
	}
}

// newKfake starts an in-process Kafka cluster that lives until the test ends (after the
// servers, which are closed by cleanups registered later).
func newKfake(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// kafkaClient is a franz-go client on the cluster, closed when the test ends.
func kafkaClient(t testing.TB, addrs []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func kafkaBackend(t testing.TB) *logBackend {
	c := newKfake(t)
	addrs := c.ListenAddrs()
	cl := kafkaClient(t, addrs)
	adm := kadm.NewClient(cl)
	return &logBackend{
		name:          "kafka",
		logIsExternal: true,
		openLog: func(ctx context.Context) (storage.Log, error) {
			return kafka.Open(ctx, addrs)
		},
		topics: func(t testing.TB, _ string) map[string]int {
			// A raw Metadata request: kadm.ListTopics answers from franz-go's metadata cache,
			// which still shows a topic for a while after it was deleted.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			if err != nil {
				t.Fatalf("kafka Metadata: %v", err)
			}
			out := map[string]int{}
			for _, tp := range resp.Topics {
				if tp.Topic != nil && !tp.IsInternal && tp.ErrorCode == 0 {
					out[*tp.Topic] = len(tp.Partitions)
				}
			}
			return out
		},
		createExternal: func(t testing.TB, name string, partitions int) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, name)
			if err == nil {
				err = resp.Err
			}
			if err != nil {
				t.Fatalf("kadm CreateTopic %s: %v", name, err)
			}
		},
	}
}

// startServerOn starts a server on dir with the backend's log and closes it when the test ends.
func startServerOn(t testing.TB, b *logBackend, dir string) *testServer {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", PGAddr: "127.0.0.1:0",
		OpenLog: b.openLog, Logf: logs.logf})
	if err != nil {
		t.Fatalf("app.Start (%s): %v", b.name, err)
	}
	s := &testServer{t: t, dir: dir, app: a, logs: logs, http: a.HTTPAddr(), pg: a.PGAddr(), closing: &closeOnce{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s, %s):\n%s", b.name, dir, logs.tail(6000))
		}
		s.close()
	})
	return s
}

// TestKafkaConformance runs the SQL scenario on both logs.
func TestKafkaConformance(t *testing.T) {
	t.Run("builtin", func(t *testing.T) { conformanceScenario(t, builtinBackend()) })
	t.Run("kafka", func(t *testing.T) { conformanceScenario(t, kafkaBackend(t)) })
}

var customerNames = []string{"Ann", "Bob", "Cy"}

// scenarioOrder is order i of the scenario: customer c(i%3), amount i, ROWTIME i*4000 (so ten
// second windows hold two or three orders).
func scenarioOrder(i int) (id, cust string, amount, rowtime int) {
	return fmt.Sprintf("o%d", i), fmt.Sprintf("c%d", i%3), i, i * 4000
}

func insertScenarioOrders(s *testServer, from, to int) {
	s.t.Helper()
	var sb strings.Builder
	for i := from; i < to; i++ {
		id, cust, amount, ts := scenarioOrder(i)
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, orderId, customerId, amount) VALUES (%d, '%s', '%s', %d);\n", ts, id, cust, amount)
	}
	s.ksql(sb.String())
}

// wantTotals is TOTALS for customer cust after orders [0,n): [[cust,count,sum]].
func wantTotals(cust string, n int) string {
	cnt, sum := 0, 0
	for i := 0; i < n; i++ {
		if _, c, a, _ := scenarioOrder(i); c == cust {
			cnt++
			sum += a
		}
	}
	return fmt.Sprintf(`[["%s",%d,%d]]`, cust, cnt, sum)
}

// wantWindows is the pull query on PER_WINDOW for cust after orders [0,n), restricted to
// windows starting in [lo,hi): [[cust,WINDOWSTART,WINDOWEND,N,TOTAL]...] by window start.
func wantWindows(cust string, n, lo, hi int) string {
	type agg struct{ n, total int }
	wins := map[int]*agg{}
	for i := 0; i < n; i++ {
		if _, c, a, ts := scenarioOrder(i); c == cust {
			ws := ts - ts%10000
			if wins[ws] == nil {
				wins[ws] = &agg{}
			}
			wins[ws].n++
			wins[ws].total += a
		}
	}
	var starts []int
	for ws := range wins {
		if ws >= lo && ws < hi {
			starts = append(starts, ws)
		}
	}
	sort.Ints(starts)
	rows := []string{}
	for _, ws := range starts {
		rows = append(rows, fmt.Sprintf(`["%s",%d,%d,%d,%d]`, cust, ws, ws+10000, wins[ws].n, wins[ws].total))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// userSources drops the built-in processing-log stream from a SHOW STREAMS/TABLES list.
func userSources(names []string) string {
	var out []string
	for _, n := range names {
		if n != "SLUICE_PROCESSING_LOG" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// shownTopics is SHOW TOPICS as name -> partitions, without the processing log.
func shownTopics(s *testServer) map[string]int {
	s.t.Helper()
	ent := s.ksql(`SHOW TOPICS;`)[0]
	if ent["@type"] != "kafka_topics" {
		s.t.Fatalf("SHOW TOPICS: %v", ent)
	}
	out := map[string]int{}
	list, _ := ent["topics"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		name := m["name"].(string)
		if name == "SLUICE_PROCESSING_LOG" {
			continue
		}
		ri, _ := m["replicaInfo"].([]any)
		out[name] = len(ri)
	}
	return out
}

func topicSet(m map[string]int) string {
	var out []string
	for n, p := range m {
		out = append(out, fmt.Sprintf("%s:%d", n, p))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// waitProcessed waits until DESCRIBE <sink> EXTENDED reports at least n messages processed by
// the query writing sink (in this server's life).
func waitProcessed(s *testServer, sink string, n int, within time.Duration) {
	s.t.Helper()
	re := regexp.MustCompile(`messages-processed: (\d+)`)
	last := -1
	err := waitFor(within, func() bool {
		ents, err := s.tryKsql(`DESCRIBE ` + sink + ` EXTENDED;`)
		if err != nil || len(ents) != 1 {
			return false
		}
		stats, _ := field(ents[0], "sourceDescription", "statistics").(string)
		if m := re.FindStringSubmatch(stats); m != nil {
			last, _ = strconv.Atoi(m[1])
		}
		return last >= n
	})
	if err != nil {
		s.t.Fatalf("the query writing %s processed %d messages, want %d", sink, last, n)
	}
}

// processedSoFar is the messages-processed statistic of the query writing sink, or -1.
func processedSoFar(s *testServer, sink string) int {
	ents, err := s.tryKsql(`DESCRIBE ` + sink + ` EXTENDED;`)
	if err != nil || len(ents) != 1 {
		return -1
	}
	stats, _ := field(ents[0], "sourceDescription", "statistics").(string)
	if m := regexp.MustCompile(`messages-processed: (\d+)`).FindStringSubmatch(stats); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return -1
}

// checkSinkOnce reads a stream with a pull query (a scan to the current end) and checks that it
// holds exactly want (orderId -> row rendered by render), each once. It retries while rows are
// missing (the query may trail) and fails at once on a duplicate or an unexpected row.
func checkSinkOnce(s *testServer, what, sql string, want map[string]string, render func([]any) string) {
	s.t.Helper()
	var problems []string
	err := waitFor(20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := s.queryStream(ctx, sql, nil)
		if err != nil {
			problems = []string{err.Error()}
			return false
		}
		seen := map[string]int{}
		problems = nil
		for _, r := range res.rows {
			id, _ := r[0].(string)
			seen[id]++
			if w, ok := want[id]; !ok {
				problems = append(problems, fmt.Sprintf("unexpected row %v", r))
			} else if got := render(r); got != w {
				problems = append(problems, fmt.Sprintf("row %s, want %s", got, w))
			}
		}
		missing := 0
		for id := range want {
			switch n := seen[id]; {
			case n == 0:
				missing++
			case n > 1:
				problems = append(problems, fmt.Sprintf("%s appears %d times", id, n))
			}
		}
		if len(problems) > 0 {
			return true // wrong rows do not go away by waiting
		}
		if missing > 0 {
			problems = []string{fmt.Sprintf("%d of %d rows missing (%d read)", missing, len(want), len(res.rows))}
			return false
		}
		return true
	})
	if err != nil || len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... %d more", len(problems)-10))
		}
		s.t.Errorf("%s: %s", what, strings.Join(problems, "; "))
	}
}

func bigWant(n int) map[string]string {
	want := map[string]string{}
	for i := 0; i < n; i++ {
		if id, cust, amount, _ := scenarioOrder(i); amount%2 == 0 {
			want[id] = fmt.Sprintf(`["%s","%s",%d]`, id, cust, amount*10)
		}
	}
	return want
}

func enrichedWant(n int) map[string]string {
	want := map[string]string{}
	for i := 0; i < n; i++ {
		id, cust, amount, _ := scenarioOrder(i)
		want[id] = fmt.Sprintf(`["%s","%s","%s",%d]`, id, cust, customerNames[i%3], amount)
	}
	return want
}

func renderRow(r []any) string { b, _ := json.Marshal(r); return string(b) }

// checkScenarioResults checks every derived source after orders [0,n).
func checkScenarioResults(s *testServer, n int) {
	s.t.Helper()
	for c := 0; c < 3; c++ {
		cust := fmt.Sprintf("c%d", c)
		s.waitPull(`SELECT * FROM totals WHERE customerId = '`+cust+`';`, wantTotals(cust, n), 20*time.Second)
		s.waitPull(`SELECT customerId, WINDOWSTART, WINDOWEND, n, total FROM per_window WHERE customerId = '`+cust+`';`,
			wantWindows(cust, n, 0, 1<<62), 20*time.Second)
	}
	// A window range on WINDOWSTART.
	s.waitPull(`SELECT customerId, WINDOWSTART, WINDOWEND, n, total FROM per_window WHERE customerId = 'c1' AND WINDOWSTART >= 10000 AND WINDOWSTART < 30000;`,
		wantWindows("c1", n, 10000, 30000), 20*time.Second)
	checkSinkOnce(s, "CSAS BIG", `SELECT orderId, customerId, amount10 FROM big;`, bigWant(n), renderRow)
	checkSinkOnce(s, "join ENRICHED", `SELECT orderId, customerId, name, amount FROM enriched;`, enrichedWant(n), renderRow)
}

const scenarioDDL = `CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE customers (customerId STRING PRIMARY KEY, name STRING) WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE STREAM big AS SELECT orderId, customerId, amount * 10 AS amount10 FROM orders WHERE amount % 2 = 0;
CREATE TABLE totals AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;
CREATE TABLE per_window AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY customerId EMIT CHANGES;
CREATE STREAM enriched AS SELECT o.customerId AS customerId, o.orderId, c.name, o.amount FROM orders o JOIN customers c ON o.customerId = c.customerId;`

var scenarioTopics = map[string]int{"orders": 2, "customers": 2, "BIG": 2, "TOTALS": 2, "PER_WINDOW": 2, "ENRICHED": 2}

func conformanceScenario(t *testing.T, b *logBackend) {
	dir := t.TempDir()
	s := startServerOn(t, b, dir)

	ents := s.ksql(scenarioDDL)
	if len(ents) != 6 {
		t.Fatalf("DDL: %d entities", len(ents))
	}
	for _, e := range ents {
		if field(e, "commandStatus", "status") != "SUCCESS" {
			t.Fatalf("DDL entity %v", e)
		}
	}
	if got := userSources(sourceNames(s.ksql(`SHOW STREAMS;`), "streams")); got != "BIG,ENRICHED,ORDERS" {
		t.Errorf("SHOW STREAMS: %s", got)
	}
	if got := userSources(sourceNames(s.ksql(`SHOW TABLES;`), "tables")); got != "CUSTOMERS,PER_WINDOW,TOTALS" {
		t.Errorf("SHOW TABLES: %s", got)
	}
	queriesBefore := sourceNames(s.ksql(`SHOW QUERIES;`), "queries")
	sort.Strings(queriesBefore)
	if len(queriesBefore) != 4 {
		t.Errorf("SHOW QUERIES: %v", queriesBefore)
	}

	// The customers first, and processed by the join before any order: the join reads both
	// topics concurrently, so an order read before its customer would find no match.
	s.ksql(`INSERT INTO customers (customerId, name) VALUES ('c0', 'Ann');
		INSERT INTO customers (customerId, name) VALUES ('c1', 'Bob');
		INSERT INTO customers (customerId, name) VALUES ('c2', 'Cy');`)
	waitProcessed(s, "enriched", 3, 20*time.Second)

	const firstLife, secondLife = 12, 24
	insertScenarioOrders(s, 0, firstLife)
	checkScenarioResults(s, firstLife)

	// A push query from the beginning over /query-stream with LIMIT: every joined row.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.queryStream(ctx, fmt.Sprintf(`SELECT orderId, customerId, name, amount FROM enriched EMIT CHANGES LIMIT %d;`, firstLife), earliest)
	if err != nil {
		t.Fatalf("push FROM BEGINNING on ENRICHED: %v", err)
	}
	if len(res.rows) != firstLife {
		t.Fatalf("push FROM BEGINNING on ENRICHED: %d rows, want %d: %v", len(res.rows), firstLife, res.rows)
	}
	pushed := map[string]string{}
	for _, r := range res.rows {
		pushed[r[0].(string)] = renderRow(r)
	}
	jsonEq(t, "push ENRICHED", pushed, mustJSON(enrichedWant(firstLife)))
	jsonEq(t, "push ENRICHED columns", res.meta["columnNames"], `["ORDERID","CUSTOMERID","NAME","AMOUNT"]`)

	// SHOW TOPICS shows what the log holds (internal "_" topics hidden), and the backend itself
	// holds the topics with the declared partitions.
	if got, want := topicSet(shownTopics(s)), topicSet(scenarioTopics); got != want {
		t.Errorf("SHOW TOPICS: %s, want %s", got, want)
	}
	held := b.topics(t, dir)
	for name, parts := range scenarioTopics {
		if held[name] != parts {
			t.Errorf("%s log: topic %s has %d partitions, want %d (topics: %v)", b.name, name, held[name], parts, held)
		}
	}
	if _, ok := held["_sluice_commands"]; !ok {
		t.Errorf("%s log: no command log topic (topics: %v)", b.name, held)
	}
	if b.createExternal != nil {
		// A topic made by another Kafka client shows up in SHOW TOPICS.
		b.createExternal(t, "external_events", 3)
		want := map[string]int{"external_events": 3}
		for n, p := range scenarioTopics {
			want[n] = p
		}
		var got string
		if err := waitFor(10*time.Second, func() bool { got = topicSet(shownTopics(s)); return got == topicSet(want) }); err != nil {
			t.Errorf("SHOW TOPICS after an external CreateTopic: %s, want %s", got, topicSet(want))
		}
	}

	// A clean restart on the same data dir (and, for Kafka, the same cluster).
	s.close()
	s = startServerOn(t, b, dir)
	if got := userSources(sourceNames(s.ksql(`SHOW STREAMS;`), "streams")); got != "BIG,ENRICHED,ORDERS" {
		t.Errorf("SHOW STREAMS after restart: %s", got)
	}
	if got := userSources(sourceNames(s.ksql(`SHOW TABLES;`), "tables")); got != "CUSTOMERS,PER_WINDOW,TOTALS" {
		t.Errorf("SHOW TABLES after restart: %s", got)
	}
	queriesAfter := sourceNames(s.ksql(`SHOW QUERIES;`), "queries")
	sort.Strings(queriesAfter)
	if strings.Join(queriesAfter, ",") != strings.Join(queriesBefore, ",") {
		t.Errorf("SHOW QUERIES: before restart %v, after %v", queriesBefore, queriesAfter)
	}
	// The state is there before any new input, and the sinks were not re-written.
	checkScenarioResults(s, firstLife)

	// A live push query (not from the beginning) over /query-stream with LIMIT sees only rows
	// produced after it started.
	pctx, pcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer pcancel()
	type pushResult struct {
		res *streamResult
		err error
	}
	live := make(chan pushResult, 1)
	go func() {
		r, err := s.queryStream(pctx, `SELECT orderId, amount10 FROM big EMIT CHANGES LIMIT 2;`, nil)
		live <- pushResult{r, err}
	}()
	s.waitPushQueries(1, 10*time.Second)
	insertScenarioOrders(s, firstLife, secondLife)
	pr := <-live
	if pr.err != nil {
		t.Fatalf("live push on BIG: %v", pr.err)
	}
	jsonEq(t, "live push on BIG (LIMIT 2)", len(pr.res.rows), "2")
	for _, r := range pr.res.rows {
		if n, _ := strconv.Atoi(strings.TrimPrefix(r[0].(string), "o")); n < firstLife {
			t.Errorf("live push on BIG returned %v, inserted before the query started", r)
		}
	}
	// Results hold the orders from before and after the restart, each once.
	checkScenarioResults(s, secondLife)

	// DROP ... DELETE TOPIC removes the topic from the log; plain DROP keeps it.
	s.ksql(`DROP STREAM enriched DELETE TOPIC;`)
	s.ksql(`DROP TABLE per_window;`)
	wantTopics := map[string]int{}
	for n, p := range scenarioTopics {
		if n != "ENRICHED" {
			wantTopics[n] = p
		}
	}
	if b.createExternal != nil {
		wantTopics["external_events"] = 3
	}
	var shown string
	if err := waitFor(10*time.Second, func() bool { shown = topicSet(shownTopics(s)); return shown == topicSet(wantTopics) }); err != nil {
		t.Errorf("SHOW TOPICS after DROP ... DELETE TOPIC: %s, want %s", shown, topicSet(wantTopics))
	}
	held = b.topics(t, dir)
	if _, ok := held["ENRICHED"]; ok {
		t.Errorf("%s log still holds ENRICHED after DROP STREAM ... DELETE TOPIC (topics %v)", b.name, held)
	}
	if _, ok := held["PER_WINDOW"]; !ok {
		t.Errorf("%s log lost PER_WINDOW after a DROP TABLE without DELETE TOPIC (topics %v)", b.name, held)
	}
	if got := userSources(sourceNames(s.ksql(`SHOW STREAMS;`), "streams")); got != "BIG,ORDERS" {
		t.Errorf("SHOW STREAMS after DROP: %s", got)
	}
	if got := sourceNames(s.ksql(`SHOW QUERIES;`), "queries"); len(got) != 2 {
		t.Errorf("SHOW QUERIES after the DROPs: %v, want the CSAS BIG and the CTAS TOTALS", got)
	}

	// The drops survive a restart too.
	s.close()
	s = startServerOn(t, b, dir)
	if got := userSources(sourceNames(s.ksql(`SHOW STREAMS;`), "streams")); got != "BIG,ORDERS" {
		t.Errorf("SHOW STREAMS after DROP and restart: %s", got)
	}
	if got := userSources(sourceNames(s.ksql(`SHOW TABLES;`), "tables")); got != "CUSTOMERS,TOTALS" {
		t.Errorf("SHOW TABLES after DROP and restart: %s", got)
	}
	for c := 0; c < 3; c++ {
		cust := fmt.Sprintf("c%d", c)
		s.waitPull(`SELECT * FROM totals WHERE customerId = '`+cust+`';`, wantTotals(cust, secondLife), 20*time.Second)
	}
	checkSinkOnce(s, "CSAS BIG after DROP and restart", `SELECT orderId, customerId, amount10 FROM big;`, bigWant(secondLife), renderRow)

	if !b.logIsExternal {
		return
	}
	// Kafka only: the command log is on the cluster, so a server with a FRESH data dir gets the
	// catalog back. Its query state (Badger, with the committed offsets) is gone, so the queries
	// start over from the earliest offsets: tables are rebuilt exactly, but a stream sink gets
	// its rows a second time, since nothing records what was already written.
	s.close()
	s = startServerOn(t, b, t.TempDir())
	if got := userSources(sourceNames(s.ksql(`SHOW STREAMS;`), "streams")); got != "BIG,ORDERS" {
		t.Errorf("fresh data dir: SHOW STREAMS %s", got)
	}
	if got := userSources(sourceNames(s.ksql(`SHOW TABLES;`), "tables")); got != "CUSTOMERS,TOTALS" {
		t.Errorf("fresh data dir: SHOW TABLES %s", got)
	}
	for c := 0; c < 3; c++ {
		cust := fmt.Sprintf("c%d", c)
		s.waitPull(`SELECT * FROM totals WHERE customerId = '`+cust+`';`, wantTotals(cust, secondLife), 20*time.Second)
	}
	want := len(bigWant(secondLife))
	var rows int
	_ = waitFor(10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := s.queryStream(ctx, `SELECT orderId FROM big;`, nil)
		if err == nil {
			rows = len(res.rows)
		}
		return rows >= 2*want
	})
	t.Logf("fresh data dir on Kafka: TOTALS rebuilt exactly; BIG holds %d rows for %d qualifying orders (re-emitted: state and offsets lived in the old data dir)", rows, want)
	if rows < want {
		t.Errorf("fresh data dir: BIG lost rows: %d, want at least %d", rows, want)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestKafkaCrashExactlyOnce SIGKILLs the real binary running on Kafka (the in-process cluster,
// through --kafka-brokers' environment variable) while its queries work through their input.
// Query state and input offsets are committed together in Badger, so tables stay exactly
// once. Recovery cannot cut a sink's uncommitted tail on Kafka (TruncateTo is unsupported);
// it reads the tail back instead, and the replay does not write again the results equal to
// it. BIG's replay repeats its results exactly (one input partition per task, no
// processing-time column), so the sink holds every row once.
func TestKafkaCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: not in -short mode")
	}
	c := newKfake(t)
	addrs := c.ListenAddrs()
	t.Setenv("SLUICE_KAFKA_BROKERS", strings.Join(addrs, ","))
	const n, custs, parts, kills = 400_000, 7, 2, 4

	child := startChild(t, t.TempDir())
	dir := child.dir
	child.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE totals AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;
		CREATE STREAM big AS SELECT orderId, amount FROM orders WHERE amount % 2 = 0;`)
	child.stop(t)

	// The input, produced straight to Kafka while the server is down: n orders, then one
	// sentinel per partition (customer "sentinel"), after which everything was processed.
	ctx := context.Background()
	l, err := kafka.Open(ctx, addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var recs []storage.Record
	for i := 0; i < n; i++ {
		recs = append(recs, storage.Record{Key: []byte(fmt.Sprintf("o%d", i)), Partition: -1, Timestamp: int64(i),
			Value: []byte(fmt.Sprintf(`{"CUSTOMERID":"c%d","AMOUNT":%d}`, i%custs, i))})
	}
	for p, j := 0, 0; p < parts; j++ {
		if id := fmt.Sprintf("s%d", j); storage.PartitionFor([]byte(id), parts) == int32(p) {
			recs = append(recs, storage.Record{Key: []byte(id), Partition: -1, Timestamp: n, Value: []byte(`{"CUSTOMERID":"sentinel","AMOUNT":1}`)})
			p++
		}
	}
	for i := 0; i < len(recs); i += 5000 {
		if _, err := l.Append(ctx, "orders", recs[i:min(i+5000, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	began := time.Now()
	var delays []time.Duration
	var progress []int // messages BIG's query processed in each killed life (read just before the kill)
	var lives []*childServer
	for k := 0; k < kills; k++ {
		child = startChild(t, dir)
		lives = append(lives, child)
		d := 100*time.Millisecond + time.Duration(rng.Int63n(int64(400*time.Millisecond)))
		delays = append(delays, d)
		time.Sleep(d)
		progress = append(progress, processedSoFar(child.testServer, "big"))
		child.kill(t)
	}
	child = startChild(t, dir)
	lives = append(lives, child)
	child.waitPull(`SELECT n FROM totals WHERE customerId = 'sentinel';`, fmt.Sprintf(`[[%d]]`, parts), 90*time.Second)
	took := time.Since(began)

	// Tables: exactly once. Both sentinels land in the aggregation partition of the customer
	// "sentinel", so the other partition may still be catching up: on a loaded 2-core machine
	// (three of these tests at once) it took another 30 s, at a steady pace, to reach the
	// exact totals. The deadline is a ceiling, not a wait.
	deadline := time.Now().Add(120 * time.Second)
	for cst := 0; cst < custs; cst++ {
		cnt, sum := 0, 0
		for i := cst; i < n; i += custs {
			cnt++
			sum += i
		}
		child.waitPull(fmt.Sprintf(`SELECT * FROM totals WHERE customerId = 'c%d';`, cst), fmt.Sprintf(`[["c%d",%d,%d]]`, cst, cnt, sum), max(time.Until(deadline), time.Second))
	}
	// The stream sink, read straight from Kafka until every qualifying row is there (the CSAS
	// is a separate query from the CTAS whose sentinel said it had caught up).
	want := n / 2
	var seen map[string]int
	var total int
	if err := waitFor(30*time.Second, func() bool {
		seen, total = map[string]int{}, 0
		info, err := l.DescribeTopic(ctx, "BIG")
		if err != nil {
			return false
		}
		for _, p := range info.Partitions {
			for off := p.StartOffset; off < p.EndOffset; {
				rs, err := l.Read(ctx, "BIG", p.Partition, off, 10000, 0)
				if err != nil || len(rs) == 0 {
					break
				}
				for _, r := range rs {
					seen[string(r.Key)]++
					total++
				}
				off = rs[len(rs)-1].Offset + 1
			}
		}
		for i := 0; i < n; i += 2 {
			if seen[fmt.Sprintf("o%d", i)] == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		missing := 0
		for i := 0; i < n; i += 2 {
			if seen[fmt.Sprintf("o%d", i)] == 0 {
				missing++
			}
		}
		t.Fatalf("BIG on Kafka lost rows: %d of %d missing", missing, want)
	}
	child.stop(t)
	dups := 0
	for id, c := range seen {
		if i, err := strconv.Atoi(strings.TrimPrefix(id, "o")); err != nil || i%2 != 0 || !strings.HasPrefix(id, "o") {
			t.Errorf("BIG holds %q, which does not qualify", id)
		}
		dups += c - 1
	}
	// TOTALS's replay need not repeat itself (its aggregation merges four repartition
	// partitions as they arrive); a table's changelog may repeat an update, so only BIG's
	// replays must match.
	tails, differs := 0, []string(nil)
	for _, l := range lives {
		tails += len(l.logs.lines("were written after the last commit"))
		for _, line := range l.logs.lines("a replayed result differs") {
			if strings.Contains(line, "CSAS_BIG") {
				differs = append(differs, line)
			}
		}
	}
	t.Logf("Kafka, %d records, %d SIGKILLs after %v (seed %d; BIG's query had processed %v records in those lives), caught up after %v: TOTALS exact; BIG has %d records for %d rows, %d duplicates; %d uncommitted partition tails read back",
		n, kills, roundAll(delays), seed, progress, took.Round(time.Millisecond), total, want, dups, tails)
	if dups > 0 || len(differs) > 0 {
		t.Fatalf("BIG on Kafka: %d duplicates; replays that differed: %q", dups, differs)
	}
}

// TestStagedJoinOnBothLogs: a join that changes key (a stream-stream step on the item, then a
// table on the customer) runs in join stages behind repartition topics on either log, and its
// results are the joined rows.
func TestStagedJoinOnBothLogs(t *testing.T) {
	for _, b := range []func(testing.TB) *logBackend{func(testing.TB) *logBackend { return builtinBackend() }, kafkaBackend} {
		b := b(t)
		t.Run(b.name, func(t *testing.T) {
			s := startServerOn(t, b, t.TempDir())
			s.ksql(`CREATE STREAM orders (oid STRING KEY, item STRING, cust STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);
				CREATE STREAM ships (sid STRING KEY, ref STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=2);
				CREATE TABLE custs (id STRING PRIMARY KEY, tier STRING) WITH (kafka_topic='custs', value_format='JSON', partitions=2);
				CREATE STREAM rich WITH (partitions=3) AS SELECT o.cust AS cust, o.oid AS oid, s.sid AS sid, u.tier AS tier
				  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref LEFT JOIN custs u ON o.cust = u.id;`)
			plan := field(s.ksql(`EXPLAIN CSAS_RICH_0;`)[0], "queryDescription", "executionPlan")
			if !strings.Contains(fmt.Sprint(plan), "Tasks: repartition (11 running)") {
				t.Fatalf("EXPLAIN: %v", plan)
			}
			var sb strings.Builder
			for c := 0; c < 4; c++ {
				fmt.Fprintf(&sb, "INSERT INTO custs (ROWTIME, id, tier) VALUES (1000, 'c%d', 't%d');\n", c, c)
			}
			s.ksql(sb.String())
			// Every task of the last stage reads both table partitions (2, not the sink's 3)
			// whole: the rows are in before any order is.
			waitProcessed(s, "rich", 3*4, 20*time.Second)
			sb.Reset()
			want := map[string]string{}
			for i := 0; i < 30; i++ {
				// Customer c4 has no row: its orders join with a NULL tier.
				fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item, cust) VALUES (%d, 'o%d', 'i%d', 'c%d');\n", 60_000+i*10, i, i, i%5)
				fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref) VALUES (%d, 's%d', 'i%d');\n", 60_005+i*10, i, i)
				tier := "null"
				if i%5 < 4 {
					tier = fmt.Sprintf(`"t%d"`, i%5)
				}
				want[fmt.Sprintf("o%d", i)] = fmt.Sprintf(`["c%d","o%d","s%d",%s]`, i%5, i, i, tier)
			}
			s.ksql(sb.String())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := s.queryStream(ctx, `SELECT cust, oid, sid, tier FROM rich EMIT CHANGES LIMIT 30;`, earliest)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range res.rows {
				got[r[1].(string)] = renderRow(r)
			}
			jsonEq(t, "RICH", got, mustJSON(want))
			// The query's input, once: 30 orders, 30 shipments, and the table rows each
			// last-stage task read; not again what the stages passed through their topics.
			if n := processedSoFar(s, "rich"); n != 30+30+3*4 {
				t.Errorf("messages-processed %d, want %d", n, 30+30+3*4)
			}
		})
	}
}
