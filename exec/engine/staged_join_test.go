package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/storage"
)

// TestStagedJoinsMatchOneTask: n-way joins whose steps change key, or mix stream-stream and
// stream-table steps, run in join stages with a repartition topic in front of each, and give
// what one task gives: WHERE on a later source, outer steps with and without a grace period,
// tables with the sink's partition count and with another, and an aggregation on top.
func TestStagedJoinsMatchOneTask(t *testing.T) {
	queries := []struct {
		sink, sql string
		writers   int // side writers with the partitions of run's second call
		stages    int
	}{
		{"SEEN", `CREATE STREAM seen WITH (partitions=%d) AS SELECT o.cust AS cust, o.item AS item, s.carrier AS carrier, v.page AS page
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref LEFT JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust
		  WHERE v.page IS NULL OR v.page <> '/p0';`, 3 + 2 + 2, 2},
		{"BUSY", `CREATE STREAM busy WITH (partitions=%d) AS SELECT o.cust AS cust, o.item AS item, v.page AS page, c.mins AS mins
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust
		  LEFT JOIN calls c WITHIN (5 SECONDS, 1 MINUTE) GRACE PERIOD 1 MINUTE ON o.cust = c.who;`, 3 + 2 + 2 + 3, 2},
		// A FULL OUTER step on the second key: rows of either side alone, keyed by the
		// synthetic key.
		{"EITHER", `CREATE STREAM either WITH (partitions=%d) AS SELECT ROWKEY AS k, o.item AS item, c.mins AS mins
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref FULL OUTER JOIN calls c WITHIN 1 MINUTE GRACE PERIOD 1 MINUTE ON o.cust = c.who;`, 3 + 2 + 3, 2},
		// A stream-stream step, then a table on another key (the table's 2 partitions are
		// not the sink's 3: every task reads it whole and keeps its keys).
		{"RICH", `CREATE STREAM rich WITH (partitions=%d) AS SELECT o.cust AS cust, o.item AS item, s.carrier AS carrier, u.tier AS tier
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref LEFT JOIN custs u ON o.cust = u.id;`, 3 + 2, 2},
		// A table (3 partitions, as the stage's tasks: each reads its own), then streams on
		// another key.
		{"PRICED", `CREATE STREAM priced WITH (partitions=%d) AS SELECT o.cust AS cust, i.price AS price, v.page AS page
		  FROM orders o LEFT JOIN items i ON o.item = i.id JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust;`, 3 + 2, 2},
		// A table and a stream on one key.
		{"TIERED", `CREATE STREAM tiered WITH (partitions=%d) AS SELECT o.cust AS cust, u.tier AS tier, v.page AS page
		  FROM orders o LEFT JOIN custs u ON o.cust = u.id JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust;`, 3 + 2, 1},
		// An aggregation of a join that changes key, grouped by neither key.
		{"CARRIERS", `CREATE TABLE carriers WITH (partitions=%d) AS SELECT s.carrier AS carrier, COUNT(*) AS n, SUM(c.mins) AS mins
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref JOIN calls c WITHIN 1 MINUTE ON o.cust = c.who
		  GROUP BY s.carrier;`, 3 + 2 + 3, 3},
	}
	run := func(parts [6]int, sinkParts int) map[string][]string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, item STRING, cust STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, parts[0]),
			fmt.Sprintf(`CREATE STREAM ships (sid STRING KEY, ref STRING, carrier STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=%d);`, parts[1]),
			fmt.Sprintf(`CREATE STREAM visits (vid STRING KEY, cust STRING, page STRING) WITH (kafka_topic='visits', value_format='JSON', partitions=%d);`, parts[2]),
			fmt.Sprintf(`CREATE STREAM calls (cid STRING KEY, who STRING, mins INT) WITH (kafka_topic='calls', value_format='JSON', partitions=%d);`, parts[3]),
			fmt.Sprintf(`CREATE TABLE custs (id STRING PRIMARY KEY, tier STRING) WITH (kafka_topic='custs', value_format='JSON', partitions=%d);`, parts[4]),
			fmt.Sprintf(`CREATE TABLE items (id STRING PRIMARY KEY, price INT) WITH (kafka_topic='items', value_format='JSON', partitions=%d);`, parts[5]))
		for _, q := range queries {
			execAll(t, e, s, fmt.Sprintf(q.sql, sinkParts))
		}
		// An INSERT INTO of SEEN's query runs staged too (whatever the partitions), its
		// last stage feeding copiers that append through MERGED's owners.
		execAll(t, e, s,
			fmt.Sprintf(`CREATE STREAM merged (cust STRING KEY, item STRING, carrier STRING, page STRING) WITH (kafka_topic='MERGED', value_format='JSON', partitions=%d);`, sinkParts),
			`INSERT INTO merged SELECT o.cust AS cust, o.item AS item, s.carrier AS carrier, v.page AS page
			  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref LEFT JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust
			  WHERE v.page IS NULL OR v.page <> '/p0';`)
		insertID := e.cat.order[len(queries)]
		// Side writers, stage 1's join tasks, stage 2's join tasks writing the copy topic,
		// and the copiers.
		writers := parts[0] + parts[1] + parts[2]
		if tasks := describeTasks(queryTasks(e, insertID)); len(tasks) != writers+3*sinkParts {
			t.Fatalf("%s: %d tasks, want %d: %s", insertID, len(tasks), writers+3*sinkParts, tasks)
		}
		for i, id := range e.cat.order[:len(queries)] {
			q := queries[i]
			if sinkParts == 1 {
				if got := e.cat.queries[id].doc.Tasks; got != plan.TasksSingle {
					t.Fatalf("%s: layout %q, want %q", id, got, plan.TasksSingle)
				}
				continue
			}
			// Side writers of every partition of every stream it joins, a join task per
			// sink partition in each stage, and an aggregation task per sink partition.
			want := q.writers + q.stages*sinkParts
			tasks := describeTasks(queryTasks(e, id))
			if got := e.cat.queries[id].doc.Tasks; got != plan.TasksRepartition || len(tasks) != want {
				t.Fatalf("%s: layout %q with %d tasks, want %q with %d: %s", id, got, len(tasks), plan.TasksRepartition, want, tasks)
			}
			// The sink's writers read the last stage's topic (the aggregation's, behind
			// the join stages), and the tables they join.
			topic := "-repartition-stage1/"
			switch {
			case q.stages == 1:
				topic = "-repartition/"
			case strings.HasPrefix(id, "CTAS"):
				topic = "-repartition-group/"
			}
			for _, d := range tasks[len(tasks)-sinkParts:] {
				if !strings.HasPrefix(d, "p") || !strings.Contains(d, topic) {
					t.Fatalf("%s: the sink's writers should read %s: %s", id, topic, tasks)
				}
			}
		}
		var sb strings.Builder
		for k := 0; k < 6; k++ { // c6 has no row until an update below
			fmt.Fprintf(&sb, "INSERT INTO custs (ROWTIME, id, tier) VALUES (%d, 'c%d', 't%d');\n", 5_000+k, k, k%3)
		}
		for k := 0; k < 30; k += 2 {
			fmt.Fprintf(&sb, "INSERT INTO items (ROWTIME, id, price) VALUES (%d, 'i%d', %d);\n", 5_000+k, k, 10*k)
		}
		for i := 0; i < 90; i++ {
			ts := 10_000 + i*1000
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item, cust) VALUES (%d, 'o%d', 'i%d', 'c%d');\n", ts, i, i%30, i%7)
			if i%4 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref, carrier) VALUES (%d, 's%d', 'i%d', 'k%d');\n", ts+300, i, (i*7)%30, i%3)
			}
			if i%3 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO visits (ROWTIME, vid, cust, page) VALUES (%d, 'v%d', 'c%d', '/p%d');\n", ts+600, i, (i*5)%7, i%4)
			}
			if i%2 == 0 {
				fmt.Fprintf(&sb, "INSERT INTO calls (ROWTIME, cid, who, mins) VALUES (%d, 'k%d', 'c%d', %d);\n", ts+900, i, (i*3)%7, i)
			}
			switch i % 10 {
			case 5: // tables change as the streams go on
				fmt.Fprintf(&sb, "INSERT INTO custs (ROWTIME, id, tier) VALUES (%d, 'c%d', 'up%d');\n", ts+500, i%5, i)
			case 7:
				fmt.Fprintf(&sb, "INSERT INTO items (ROWTIME, id, price) VALUES (%d, 'i%d', %d);\n", ts+500, i%30, i)
			}
		}
		// Stream time moves on in every join task, so that the LEFT join with a grace period
		// emits its unmatched rows.
		for k := 0; k < 30; k++ {
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item, cust) VALUES (%d, 'late%d', 'i%d', 'c%d');\n", 10_000_000, k, k, k%7)
			fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref, carrier) VALUES (%d, 'late%d', 'i%d', 'k0');\n", 10_000_100, k, k)
			fmt.Fprintf(&sb, "INSERT INTO visits (ROWTIME, vid, cust, page) VALUES (%d, 'late%d', 'c%d', '/late');\n", 10_000_200, k, k%7)
			fmt.Fprintf(&sb, "INSERT INTO calls (ROWTIME, cid, who, mins) VALUES (%d, 'late%d', 'c%d', 0);\n", 20_000_000, k, k%7)
		}
		// And once more, past the late calls' windows and grace, for every customer (so in
		// every task).
		for k := 0; k < 7; k++ {
			fmt.Fprintf(&sb, "INSERT INTO calls (ROWTIME, cid, who, mins) VALUES (%d, 'end%d', 'c%d', 0);\n", 30_000_000, k, k)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		out := map[string][]string{}
		for _, q := range append(queries, struct {
			sink, sql string
			writers   int
			stages    int
		}{sink: "MERGED"}) {
			// A table's changelog depends on the order its partitions' changes meet in;
			// its final rows do not.
			table := strings.HasPrefix(q.sql, "CREATE TABLE")
			final := map[string]string{}
			for _, r := range topicRecords(t, lg, q.sink) {
				if sinkParts > 1 {
					if p := storage.PartitionFor(r.Key, sinkParts); r.Partition != p {
						t.Errorf("%s: key %s in partition %d, want %d", q.sink, r.Key, r.Partition, p)
					}
				}
				if table {
					final[string(r.Key)] = string(r.Value)
				} else {
					out[q.sink] = append(out[q.sink], fmt.Sprintf("%s %d %s", r.Key, r.Timestamp, r.Value))
				}
			}
			for k, v := range final {
				out[q.sink] = append(out[q.sink], k+" "+v)
			}
			sort.Strings(out[q.sink])
		}
		return out
	}
	one, many := run([6]int{1, 1, 1, 1, 1, 1}, 1), run([6]int{3, 2, 2, 3, 2, 3}, 3)
	for _, out := range []map[string][]string{one, many} {
		if a, b := strings.Join(out["SEEN"], "\n"), strings.Join(out["MERGED"], "\n"); a != b {
			t.Errorf("SEEN (%d records):\n%s\nthe INSERT INTO of its query (%d records):\n%s", len(out["SEEN"]), a, len(out["MERGED"]), b)
		}
	}
	for _, q := range queries {
		a, b := strings.Join(one[q.sink], "\n"), strings.Join(many[q.sink], "\n")
		if len(one[q.sink]) < 3 {
			t.Errorf("%s: one task wrote %d records; the test needs more", q.sink, len(one[q.sink]))
		}
		if a != b {
			t.Errorf("%s: one task (%d records):\n%s\nstaged (%d records):\n%s", q.sink, len(one[q.sink]), a, len(many[q.sink]), b)
		}
	}
	for _, q := range queries {
		t.Logf("%s: %d records", q.sink, len(one[q.sink]))
	}
	all := fmt.Sprint(one)
	for _, want := range []string{`"MINS":null`, `"TIER":null`, `"TIER":"up`, `"PRICE":null`, `"ITEM":null`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s in the results; the test needs one", want)
		}
	}
}

// TestStagedJoinExactlyOnceAfterCrash: a crash while the side writers and both join stages of
// a join that changes key are part way through, some committed and some not, leaves every
// joined row in the output exactly once after the restart.
func TestStagedJoinExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM orders (oid STRING KEY, item STRING, cust STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM ships (sid STRING KEY, ref STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=2);`,
		`CREATE STREAM visits (vid STRING KEY, cust STRING) WITH (kafka_topic='visits', value_format='JSON', partitions=2);`,
		`CREATE TABLE custs (id STRING PRIMARY KEY, tier STRING) WITH (kafka_topic='custs', value_format='JSON', partitions=2);`,
		`CREATE STREAM seen WITH (partitions=3) AS SELECT o.cust AS cust, o.oid AS oid, s.sid AS sid, v.vid AS vid, u.tier AS tier
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust
		  JOIN custs u ON o.cust = u.id;`)
	const q = "CSAS_SEEN_0"
	if got := e.cat.queries[q].doc.Tasks; got != plan.TasksRepartition {
		t.Fatalf("layout %q", got)
	}
	// The table is loaded first: processHalfCommitted reads every input alike, whatever the
	// timestamps, so a stream row could otherwise meet a table not yet read.
	var sb strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&sb, "INSERT INTO custs (ROWTIME, id, tier) VALUES (%d, 'c%d', 't%d');\n", 500, i, i%3)
	}
	execAll(t, e, s, sb.String())
	quiesce(t, e)
	execAll(t, e, s, orderShipVisitInserts(300))
	ctx := context.Background()
	processHalfCommitted(t, ctx, lg, queryTasks(e, q), 3, 25)
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	seen, _ := countRows(t, e, "SEEN", func(_ any, v map[string]any) string {
		return fmt.Sprint(v["OID"], "/", v["SID"], "/", v["VID"], "/", v["TIER"])
	})
	for i := 0; i < 300; i++ {
		if n := seen[fmt.Sprintf("o%d/s%d/v%d/t%d", i, i, i, i%3)]; n != 1 {
			t.Errorf("row o%d/s%d/v%d/t%d appears %d times", i, i, i, i%3, n)
		}
	}
	if len(seen) != 300 {
		t.Errorf("%d distinct rows, want 300", len(seen))
	}
}

// TestStagedJoinInsertIntoExactlyOnceAfterCrash: an INSERT INTO query of a join that changes
// key runs staged, its last stage feeding copiers that append through the target's owners.
// After a crash with every stage part way through, each joined row is in the target once, in
// the partition of its key.
func TestStagedJoinInsertIntoExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (cust STRING KEY, oid STRING, sid STRING, vid STRING) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM orders (oid STRING KEY, item STRING, cust STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=2);",
		"CREATE STREAM ships (sid STRING KEY, ref STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=3);",
		"CREATE STREAM visits (vid STRING KEY, cust STRING) WITH (kafka_topic='visits', value_format='JSON', partitions=2);",
		"CREATE STREAM seen AS SELECT cust, oid, sid, vid FROM src;",
		`INSERT INTO seen SELECT o.cust AS cust, o.oid AS oid, s.sid AS sid, v.vid AS vid
		  FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref JOIN visits v WITHIN 1 MINUTE ON o.cust = v.cust;`)
	execAll(t, e, s, orderShipVisitInserts(120))
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 2+3+2+3*3 {
		t.Fatalf("INSERT INTO runs as %v; want 7 side writers, two stages of 3 join tasks and 3 copiers", got)
	}
	leaveInsertPartWay(t, ctx, lg, ins, queryTasks(e, e.cat.order[0]))
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	seen, n := countRows(t, e, "SEEN", func(key any, v map[string]any) string {
		return fmt.Sprintf("%v %v %v %v", key, v["OID"], v["SID"], v["VID"])
	})
	for i := 0; i < 120; i++ {
		if n := seen[fmt.Sprintf("c%d o%d s%d v%d", i, i, i, i)]; n != 1 {
			t.Errorf("row %d appears %d times", i, n)
		}
	}
	if n != 120 {
		t.Errorf("SEEN holds %d rows, want 120", n)
	}
	for _, r := range topicRecords(t, lg, "SEEN") {
		if p := storage.PartitionFor(r.Key, 3); r.Partition != p {
			t.Errorf("key %s in partition %d, want %d", r.Key, r.Partition, p)
		}
	}
}

// countRows reads sink's rows (ReadLogical) and counts them by label(key, value); it also
// returns how many there are.
func countRows(t *testing.T, e *Engine, sink string, label func(key any, value map[string]any) string) (map[string]int, int) {
	t.Helper()
	recs, err := e.ReadLogical(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		v, _ := r.Value.(map[string]any)
		seen[label(r.Key, v)]++
	}
	return seen, len(recs)
}

// orderShipVisitInserts is n INSERT statements each into orders, ships and visits: order i
// (item i, customer i) is shipped once and its customer visits once, a little later each.
func orderShipVisitInserts(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item, cust) VALUES (%d, 'o%d', 'i%d', 'c%d');\n", 1000+i*10, i, i, i)
		fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref) VALUES (%d, 's%d', 'i%d');\n", 1003+i*10, i, i)
		fmt.Fprintf(&sb, "INSERT INTO visits (ROWTIME, vid, cust) VALUES (%d, 'v%d', 'c%d');\n", 1006+i*10, i, i)
	}
	return sb.String()
}
