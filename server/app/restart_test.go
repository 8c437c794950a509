package app_test

// A clean restart on the same data dir: the catalog, the persistent queries and the data come
// back, and the queries resume where they committed.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestRestartKeepsCatalogQueriesAndData(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	s.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE totals AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;
		CREATE STREAM big AS SELECT orderId, amount FROM orders WHERE amount >= 10;`)
	insert := func(s *testServer, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&sb, "INSERT INTO orders (orderId, customerId, amount) VALUES ('o%d', 'c%d', %d.0);\n", i, i%3, i)
		}
		s.ksql(sb.String())
	}
	insert(s, 0, 30)
	// Sums over i in [0,n) by i%3: c0 = 0+3+...; computed, not hard-coded.
	want := func(n int) string {
		var rows []string
		for c := 0; c < 3; c++ {
			cnt, sum := 0, 0
			for i := 0; i < n; i++ {
				if i%3 == c {
					cnt++
					sum += i
				}
			}
			rows = append(rows, fmt.Sprintf(`[["c%d",%d,%d.0]]`, c, cnt, sum))
		}
		return strings.Join(rows, "|")
	}
	pullAll := func(s *testServer, wantAll string) {
		for c, w := range strings.Split(wantAll, "|") {
			s.waitPull(fmt.Sprintf(`SELECT * FROM totals WHERE customerId = 'c%d';`, c), w, 15*time.Second)
		}
	}
	pullAll(s, want(30))
	queriesBefore := sourceNames(s.ksql(`SHOW QUERIES;`), "queries")
	s.close()

	s2 := startServer(t, dir)
	if got := sourceNames(s2.ksql(`SHOW STREAMS;`), "streams"); strings.Join(got, ",") != "BIG,ORDERS,SLUICE_PROCESSING_LOG" {
		t.Errorf("SHOW STREAMS after restart: %v", got)
	}
	if got := sourceNames(s2.ksql(`SHOW TABLES;`), "tables"); strings.Join(got, ",") != "TOTALS" {
		t.Errorf("SHOW TABLES after restart: %v", got)
	}
	queriesAfter := sourceNames(s2.ksql(`SHOW QUERIES;`), "queries")
	sort.Strings(queriesBefore)
	sort.Strings(queriesAfter)
	if len(queriesBefore) != 2 || strings.Join(queriesAfter, ",") != strings.Join(queriesBefore, ",") {
		t.Errorf("SHOW QUERIES: before restart %v, after %v", queriesBefore, queriesAfter)
	}
	// The state is there before any new input.
	pullAll(s2, want(30))
	// The queries resume: rows inserted after the restart are added exactly once.
	insert(s2, 30, 60)
	pullAll(s2, want(60))

	// The CSAS sink holds every qualifying row exactly once (amount >= 10: o10..o59).
	if err := waitFor(15*time.Second, func() bool { return topicRecords(t, s2, "BIG") >= 50 }); err != nil {
		t.Fatalf("BIG has %d records, want 50", topicRecords(t, s2, "BIG"))
	}
	recs, err := s2.app.Engine.ReadLogical(t.Context(), "BIG")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		k, _ := json.Marshal(r.Key)
		seen[string(k)]++
	}
	for i := 10; i < 60; i++ {
		if n := seen[fmt.Sprintf(`"o%d"`, i)]; n != 1 {
			t.Errorf("BIG has o%d %d times, want once", i, n)
		}
	}
	if len(recs) != 50 {
		t.Errorf("BIG has %d records, want 50", len(recs))
	}
}
