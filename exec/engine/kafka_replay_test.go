package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/kafka"
)

// kafkaLife is one run of an engine on an in-process Kafka cluster and a Badger state dir.
type kafkaLife struct {
	e    *Engine
	lg   *kafka.Log
	st   *badger.Manager
	logs *logLines
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) with(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			out = append(out, s)
		}
	}
	return out
}

func startKafkaLife(t *testing.T, addrs []string, dir string, commitMs int) *kafkaLife {
	t.Helper()
	ctx := context.Background()
	lg, err := kafka.Open(ctx, addrs)
	if err != nil {
		t.Fatal(err)
	}
	st, err := badger.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	e, err := Open(ctx, Config{Log: lg, State: st, Logf: logs.logf,
		Props: map[string]string{"ksql.streams.commit.interval.ms": fmt.Sprint(commitMs)}})
	if err != nil {
		t.Fatal(err)
	}
	return &kafkaLife{e: e, lg: lg, st: st, logs: logs}
}

func (l *kafkaLife) stop() {
	l.e.Close()
	l.st.Close()
	l.lg.Close()
}

// crash drops the engine where it stands: no final commit, the state store and the Kafka
// client closed under its tasks.
func (l *kafkaLife) crash() {
	l.st.Close()
	l.lg.Close()
}

func appendOrders(t *testing.T, lg storage.Log, from, to int) {
	t.Helper()
	var recs []storage.Record
	for i := from; i < to; i++ {
		recs = append(recs, storage.Record{Key: []byte(fmt.Sprintf("o%04d", i)), Partition: int32(i % 2),
			Value: []byte(fmt.Sprintf(`{"AMOUNT":%d}`, i)), Timestamp: int64(1_000 + i)})
	}
	if _, err := lg.Append(context.Background(), "orders", recs); err != nil {
		t.Fatal(err)
	}
}

func waitTopicSize(t *testing.T, lg storage.Log, topic string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int64
		if info, err := lg.DescribeTopic(context.Background(), topic); err == nil {
			for _, p := range info.Partitions {
				n += p.EndOffset - p.StartOffset
			}
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d records, want %d", topic, n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On Kafka a crash leaves the output written after the last commit in the sink (Kafka cannot
// cut it). Recovery reads it back, and the replay does not write again the results that
// equal it, so the sink holds every result once; a query whose replay differs (a
// processing-time column) keeps the old tail and writes its results again, losing nothing.
func TestKafkaReplaySkipsOutputAlreadyWritten(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		exact       bool
	}{
		{"same results", `CREATE STREAM big AS SELECT id, amount * 2 AS twice FROM orders WHERE amount % 3 <> 0;`, true},
		{"processing time", `CREATE STREAM big AS SELECT id, amount * 2 AS twice, UNIX_TIMESTAMP() AS seen FROM orders WHERE amount % 3 <> 0;`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			addrs, dir := c.ListenAddrs(), t.TempDir()
			qualifying := func(from, to int) (n int64) {
				for i := from; i < to; i++ {
					if i%3 != 0 {
						n++
					}
				}
				return n
			}

			// First life: the query commits the first 300 orders' results.
			l := startKafkaLife(t, addrs, dir, 50)
			execAll(t, l.e, NewSession(),
				`CREATE STREAM orders (id STRING KEY, amount BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);`,
				tc.query)
			appendOrders(t, l.lg, 0, 300)
			quiesce(t, l.e)
			l.stop()

			// Second life: a task commits after its first batch, then not for an hour; the
			// results of 290 more orders reach the sink, then the process dies.
			l = startKafkaLife(t, addrs, dir, 3_600_000)
			appendOrders(t, l.lg, 300, 310)
			waitTopicSize(t, l.lg, "BIG", qualifying(0, 310))
			time.Sleep(200 * time.Millisecond) // the first batch's commit is asynchronous
			appendOrders(t, l.lg, 310, 600)
			waitTopicSize(t, l.lg, "BIG", qualifying(0, 600))
			l.crash()

			// Third life: recovery and replay.
			l = startKafkaLife(t, addrs, dir, 50)
			defer l.stop()
			quiesce(t, l.e)
			if got := l.logs.with("were written after the last commit"); len(got) == 0 {
				t.Fatalf("recovery found no uncommitted output: %q", l.logs.lines)
			}
			recs := topicRecords(t, l.lg, "BIG")
			seen := map[string]int{}
			for _, r := range recs {
				seen[string(r.Key)]++
			}
			for i := 0; i < 600; i++ {
				if k := fmt.Sprintf("o%04d", i); (i%3 != 0) != (seen[k] > 0) {
					t.Fatalf("%s: %d records, qualifies %v", k, seen[k], i%3 != 0)
				}
			}
			want := qualifying(0, 600)
			differs := l.logs.with("a replayed result differs")
			if tc.exact {
				if int64(len(recs)) != want || len(differs) > 0 {
					t.Fatalf("BIG holds %d records for %d results (log: %q)", len(recs), want, differs)
				}
			} else if int64(len(recs)) != want+qualifying(310, 600) || len(differs) == 0 {
				t.Fatalf("BIG holds %d records, want %d results plus the %d of the old tail, and a warning (log: %q)",
					len(recs), want, qualifying(310, 600), differs)
			}
		})
	}
}

// On Kafka too, a repartition topic's records are deleted once its reader has committed past
// them. A crash and restart gives the exact counts, and so does a server rebuilding the query
// on a new data dir over the same cluster after another crash: its readers skip what the old
// run left in the topic (the records consumed since the last deletion), whose source offsets
// would otherwise make them skip the rewrites of the records already deleted.
func TestKafkaRepartitionRecordsDeleted(t *testing.T) {
	defer func(d int64) { repartPurgeEvery.Store(d) }(repartPurgeEvery.Load())
	repartPurgeEvery.Store(0)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	// Orders keyed by id, counted per customer: the counts go through a repartition topic.
	appendCustomerOrders := func(lg storage.Log, from, to int) {
		var recs []storage.Record
		for i := from; i < to; i++ {
			recs = append(recs, storage.Record{Key: []byte(fmt.Sprintf("o%05d", i)), Partition: int32(i % 2),
				Value: []byte(fmt.Sprintf(`{"CUST":"c%d"}`, i%5)), Timestamp: int64(i)})
		}
		if _, err := lg.Append(context.Background(), "orders", recs); err != nil {
			t.Fatal(err)
		}
	}
	checkCounts := func(l *kafkaLife, n int) {
		t.Helper()
		for c := 0; c < 5; c++ {
			want := int64(0)
			for i := c; i < n; i += 5 {
				want++
			}
			rows := pullAll(t, l.e, NewSession(), fmt.Sprintf(`SELECT N FROM counts WHERE cust = 'c%d';`, c))
			if len(rows) != 1 || rows[0].Values[0] != want {
				t.Fatalf("c%d: %v, want %d", c, rows, want)
			}
		}
	}
	deleted := func(l *kafkaLife) int64 {
		topics, err := l.lg.ListTopics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, ti := range topics {
			if strings.HasSuffix(ti.Name, "-repartition") {
				for _, p := range ti.Partitions {
					n += p.StartOffset
				}
			}
		}
		return n
	}

	dir := t.TempDir()
	l := startKafkaLife(t, addrs, dir, 20)
	execAll(t, l.e, NewSession(),
		`CREATE STREAM orders (id STRING KEY, cust STRING) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);`,
		`CREATE TABLE counts AS SELECT cust, COUNT(*) AS n FROM orders GROUP BY cust;`)
	for i := 0; i < 10; i++ {
		appendCustomerOrders(l.lg, i*200, (i+1)*200)
		quiesce(t, l.e)
	}
	for deadline := time.Now().Add(10 * time.Second); deleted(l) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no repartition record deleted after 2,000 orders")
		}
	}
	checkCounts(l, 2000)
	l.crash()

	// Deletions now wait an hour after each task's first, so what the next 500 orders leave
	// in the topic stays there through the crash.
	l = startKafkaLife(t, addrs, dir, 20)
	repartPurgeEvery.Store(int64(time.Hour))
	appendCustomerOrders(l.lg, 2000, 2500)
	quiesce(t, l.e)
	checkCounts(l, 2500)
	gone := deleted(l)
	l.crash()

	l = startKafkaLife(t, addrs, t.TempDir(), 20) // a new data dir: the query is rebuilt
	defer l.stop()
	quiesce(t, l.e)
	checkCounts(l, 2500)
	t.Logf("%d repartition records deleted before the rebuild", gone)
}
