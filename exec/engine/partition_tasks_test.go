package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// A stateless query over a partitioned stream runs one task per source partition, and each
// result stays in its record's partition.
func TestStatelessQueryRunsOneTaskPerPartition(t *testing.T) {
	ctx := context.Background()
	e, lg := openServerEngine(t)
	s := NewSession()
	for _, stmt := range []string{
		"CREATE STREAM s (id INT KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=4);",
		"CREATE STREAM big AS SELECT id, v * 10 AS v10 FROM s WHERE v >= 0;",
		"CREATE TABLE counts AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;",
	} {
		if _, err := e.Execute(ctx, s, stmt); err != nil {
			t.Fatal(err)
		}
	}
	e.mu.Lock()
	csasTasks := len(e.cat.queries["CSAS_BIG_0"].allTasks())
	ctasTasks := len(e.cat.queries["CTAS_COUNTS_1"].allTasks())
	e.mu.Unlock()
	if csasTasks != 4 || ctasTasks != 4 {
		t.Fatalf("tasks: CSAS %d, CTAS %d (want 4 each, one per partition)", csasTasks, ctasTasks)
	}
	for i := 0; i < 200; i++ {
		if _, err := e.Execute(ctx, s, fmt.Sprintf("INSERT INTO s (id, v) VALUES (%d, %d);", i%37, i)); err != nil {
			t.Fatal(err)
		}
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.Quiesce(qctx); err != nil {
		t.Fatal(err)
	}
	in, out := partitionOf(t, lg, "s"), partitionOf(t, lg, "BIG")
	if len(out) != 37 {
		t.Fatalf("BIG has keys in %d partitions map entries, want 37 keys", len(out))
	}
	total := 0
	for key, p := range in {
		if out[key] != p {
			t.Errorf("key %x: source partition %d, sink partition %d", key, p, out[key])
		}
	}
	info, _ := lg.DescribeTopic(ctx, "BIG")
	for _, p := range info.Partitions {
		total += int(p.EndOffset)
	}
	if total != 200 {
		t.Errorf("BIG holds %d records, want 200", total)
	}
}

// partitionOf maps each record key of a topic to its partition (failing if a key is in two).
func partitionOf(t *testing.T, lg storage.Log, topic string) map[string]int32 {
	t.Helper()
	info, err := lg.DescribeTopic(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int32{}
	for _, p := range info.Partitions {
		recs, err := lg.Read(context.Background(), topic, p.Partition, p.StartOffset, 10000, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if prev, ok := m[string(r.Key)]; ok && prev != p.Partition {
				t.Fatalf("%s: key %x in partitions %d and %d", topic, r.Key, prev, p.Partition)
			}
			m[string(r.Key)] = p.Partition
		}
	}
	return m
}

// openBadgerEngine opens an engine on the embedded log in dir/log and Badger state in
// dir/state (reopening what a previous engine left there). The returned crash function
// closes the state without committing anything the tasks still buffer and closes the log,
// as a process crash would leave them; the engine is abandoned.
func openBadgerEngine(t *testing.T, dir string, deterministic bool, logOpts ...embedded.Option) (e *Engine, lg *embedded.Log, crash func()) {
	t.Helper()
	lg, err := embedded.Open(filepath.Join(dir, "log"), logOpts...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := badger.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	e, err = Open(context.Background(), Config{Log: lg, State: st, Deterministic: deterministic})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			e.Close()
			lg.Close()
		}
	})
	return e, lg, func() {
		closed = true
		st.Close()
		lg.Close()
	}
}

func execAll(t *testing.T, e *Engine, s *Session, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := e.Execute(context.Background(), s, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func quiesce(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkCountChangelog checks that sink holds want changelog records (one per input) and that
// each key's N counts 1, 2, 3, ... in order, with no gap or repeat; it returns each key's
// number of updates.
func checkCountChangelog(t *testing.T, lg storage.Log, sink string, want int) map[string]int64 {
	t.Helper()
	recs := topicRecords(t, lg, sink)
	if len(recs) != want {
		t.Errorf("%s holds %d changelog records, want %d (one per input)", sink, len(recs), want)
	}
	next := map[string]int64{}
	for _, r := range recs {
		var v struct{ N int64 }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		next[string(r.Key)]++
		if v.N != next[string(r.Key)] {
			t.Fatalf("%s key %x: count %d after %d", sink, r.Key, v.N, next[string(r.Key)]-1)
		}
	}
	return next
}

// queryTasks returns a query's tasks: repartition writers (repart set) first.
func queryTasks(e *Engine, id string) []*task {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cat.queries[id].allTasks()
}

// describeTasks summarizes tasks as "r:<inputs>" for repartition writers and "p<only>:<inputs>"
// for the others, inputs as topic/partition.
func describeTasks(ts []*task) []string {
	var out []string
	for _, t := range ts {
		kind := fmt.Sprintf("p%d", t.only)
		if t.repart != nil {
			kind = "r"
		}
		var ins []string
		for _, in := range t.inputs {
			ins = append(ins, fmt.Sprintf("%s/%d", in.topic, in.partition))
		}
		out = append(out, kind+":"+strings.Join(ins, ","))
	}
	return out
}

// topicRecords reads every record of a topic, partition by partition.
func topicRecords(t *testing.T, lg storage.Log, topic string) []storage.Record {
	t.Helper()
	info, err := lg.DescribeTopic(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.Record
	for _, p := range info.Partitions {
		for off := p.StartOffset; off < p.EndOffset; {
			recs, err := lg.Read(context.Background(), topic, p.Partition, off, 10000, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			out = append(out, recs...)
			off = recs[len(recs)-1].Offset + 1
		}
	}
	return out
}

// An aggregation grouped by the source's key runs one task per source partition, each with
// its own store; every result lands in the partition the sink's partitioner picks for its key;
// pull queries (point lookups and scans) and push queries read the right partitions.
func TestKeyGroupedAggregationRunsOneTaskPerPartition(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), false)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (id INT KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=4);",
		"CREATE TABLE w AS SELECT id, COUNT(*) AS n, SUM(v) AS total FROM s WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id;",
		"CREATE TABLE c AS SELECT id, COUNT(*) AS n FROM s GROUP BY id HAVING COUNT(*) > 1;",
	)
	for _, id := range []string{"CTAS_W_0", "CTAS_C_1"} {
		got := strings.Join(describeTasks(queryTasks(e, id)), " ")
		if want := "p0:s/0 p1:s/1 p2:s/2 p3:s/3"; got != want {
			t.Fatalf("%s tasks: %s, want %s", id, got, want)
		}
	}
	// 40 keys; key k gets k%3+1 records in minute 0 and one in minute 1.
	want := map[int]int{}
	for k := 0; k < 40; k++ {
		for i := 0; i <= k%3; i++ {
			execAll(t, e, s, fmt.Sprintf("INSERT INTO s (ROWTIME, id, v) VALUES (%d, %d, %d);", 1000+i, k, i))
			want[k]++
		}
		execAll(t, e, s, fmt.Sprintf("INSERT INTO s (ROWTIME, id, v) VALUES (61000, %d, 100);", k))
	}
	quiesce(t, e)
	in := partitionOf(t, lg, "s")
	kc, _, _ := e.cat.sources["W"].codecs()
	for _, sink := range []string{"W", "C"} {
		for _, r := range topicRecords(t, lg, sink) {
			key := r.Key
			if sink == "W" {
				key = key[:len(key)-8] // without the window start
			}
			if r.Partition != in[string(key)] || r.Partition != storage.PartitionFor(key, 4) {
				t.Fatalf("%s: key %x in partition %d; source partition %d, partitioner's %d", sink, key, r.Partition, in[string(key)], storage.PartitionFor(key, 4))
			}
		}
	}
	// Each partition's store holds its keys' aggregates only; the tasks share the query's
	// cache bound.
	for _, tk := range queryTasks(e, "CTAS_C_1") {
		if got := tk.pl.agg.cacheLimit(); got != maxAggCacheEntries/4 {
			t.Errorf("partition %d: cache limit %d, want %d", tk.only, got, maxAggCacheEntries/4)
		}
		n := 0
		err := tk.readCommitted().Scan(aggTable, nil, nil, func(k, v []byte) bool {
			n++
			var id int64
			fmt.Sscanf(string(k), "[%d]", &id)
			kb, _ := kc.Encode([]any{int32(id)})
			if p := storage.PartitionFor(kb, 4); p != tk.only {
				t.Errorf("store of partition %d holds key %s of partition %d", tk.only, k, p)
			}
			return true
		})
		if err != nil || n == 0 {
			t.Fatalf("store of partition %d: %d entries, %v", tk.only, n, err)
		}
	}
	// Point lookups, IN lists and scans, windowed and not.
	for k := 0; k < 40; k++ {
		rows := pullAll(t, e, s, fmt.Sprintf("SELECT id, WINDOWSTART, n FROM w WHERE id = %d;", k))
		if len(rows) != 2 || rows[0].Values[2] != int64(want[k]) || rows[1].Values[2] != int64(1) {
			t.Fatalf("W id=%d: %v, want counts %d then 1", k, rows, want[k])
		}
		rows = pullAll(t, e, s, fmt.Sprintf("SELECT n FROM c WHERE id = %d;", k))
		if wantN := want[k] + 1; len(rows) != 1 || rows[0].Values[0] != int64(wantN) {
			t.Fatalf("C id=%d: %v, want %d", k, rows, wantN)
		}
	}
	rows := pullAll(t, e, s, "SELECT id, n FROM c WHERE id IN (3, 4, 5, 400);")
	var vals [][]any
	for _, r := range rows {
		vals = append(vals, r.Values)
	}
	if fmt.Sprint(vals) != "[[3 2] [4 3] [5 4]]" {
		t.Fatalf("C IN lookup: %v", rows)
	}
	rows = pullAll(t, e, s, "SELECT id, WINDOWSTART, n FROM w;")
	if len(rows) != 80 {
		t.Fatalf("W scan: %d rows, want 80", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		// One state-key order across partitions, as a single store gives.
		a, b := rows[i-1].Values, rows[i].Values
		ka := appendWindow(encodeGroupKey(a[:1], []*types.Type{types.IntType}), a[1].(int64), a[1].(int64)+60000)
		kb := appendWindow(encodeGroupKey(b[:1], []*types.Type{types.IntType}), b[1].(int64), b[1].(int64)+60000)
		if bytes.Compare(ka, kb) >= 0 {
			t.Fatalf("W scan out of key order at %d: %v then %v", i, a, b)
		}
	}
	rows = pullAll(t, e, s, "SELECT id, n FROM c WHERE n > 3;")
	if len(rows) != 13 {
		t.Fatalf("C scan with WHERE: %d rows, want 13 (keys 2, 5, ..., 38): %v", len(rows), rows)
	}
	// A push query over the table reads its changelog from every partition.
	s.Props["auto.offset.reset"] = "earliest"
	changes := len(topicRecords(t, lg, "C"))
	cur, err := e.Query(context.Background(), s, fmt.Sprintf("SELECT id, n FROM c EMIT CHANGES LIMIT %d;", changes))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := map[int32]int64{}
	for i := 0; i < changes; i++ {
		r, err := cur.Next(ctx)
		if err != nil {
			t.Fatalf("push query row %d: %v", i, err)
		}
		last[r.Values[0].(int32)] = r.Values[1].(int64)
	}
	for k := 0; k < 40; k++ {
		if last[int32(k)] != int64(want[k]+1) {
			t.Fatalf("push query: key %d ends at %d, want %d", k, last[int32(k)], want[k]+1)
		}
	}
}

// An aggregation grouped by a value column runs behind a repartition stage: one writer task
// per source partition, one aggregation task per sink partition, each sink partition written
// by one task with the keys the sink's partitioner puts there. DROP deletes the topic.
func TestRepartitionedAggregation(t *testing.T) {
	ctx := context.Background()
	e, lg, _ := openBadgerEngine(t, t.TempDir(), false)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (id INT KEY, region STRING, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=2);",
		"CREATE TABLE r WITH (partitions=3) AS SELECT region, COUNT(*) AS n, SUM(v) AS total, MAX(ROWPARTITION) AS maxpart FROM s WHERE v >= 0 GROUP BY region;",
	)
	topic := "_sluice_default_query_CTAS_R_0-repartition"
	got := strings.Join(describeTasks(queryTasks(e, "CTAS_R_0")), " ")
	want := "r:s/0 r:s/1 p0:" + topic + "/0," + topic + "/3 p1:" + topic + "/1," + topic + "/4 p2:" + topic + "/2," + topic + "/5"
	if got != want {
		t.Fatalf("tasks:\n got %s\nwant %s", got, want)
	}
	counts, totals := map[string]int64{}, map[string]int64{}
	for i := 0; i < 300; i++ {
		region := fmt.Sprintf("region-%d", i%17)
		v := int64(i % 10)
		if i%25 == 0 {
			v = -1 // filtered out
		} else {
			counts[region]++
			totals[region] += v
		}
		execAll(t, e, s, fmt.Sprintf("INSERT INTO s (id, region, v) VALUES (%d, '%s', %d);", i, region, v))
	}
	quiesce(t, e)
	info, err := lg.DescribeTopic(ctx, topic)
	if err != nil || len(info.Partitions) != 6 {
		t.Fatalf("repartition topic: %v, %v", info, err)
	}
	rep := 0
	for _, p := range info.Partitions {
		rep += int(p.EndOffset)
	}
	if rep != 288 {
		t.Fatalf("repartition topic holds %d records, want the 288 that pass WHERE", rep)
	}
	kc, _, _ := e.cat.sources["R"].codecs()
	n := 0
	for _, r := range topicRecords(t, lg, "R") {
		n++
		if p := storage.PartitionFor(r.Key, 3); r.Partition != p {
			t.Fatalf("R: key %s in partition %d, the partitioner's is %d", r.Key, r.Partition, p)
		}
	}
	if n != 288 {
		t.Fatalf("R holds %d changelog records, want 288 (one per aggregated row)", n)
	}
	for region, c := range counts {
		rows := pullAll(t, e, s, fmt.Sprintf("SELECT n, total, maxpart FROM r WHERE region = '%s';", region))
		if len(rows) != 1 || rows[0].Values[0] != c || rows[0].Values[1] != totals[region] || rows[0].Values[2] != int32(1) {
			t.Fatalf("region %s: %v, want n=%d total=%d maxpart=1 (ROWPARTITION is the source's)", region, rows, c, totals[region])
		}
		kb, _ := kc.Encode([]any{region})
		tk := queryTasks(e, "CTAS_R_0")[2+storage.PartitionFor(kb, 3)]
		if _, ok, _ := tk.readCommitted().Get(aggTable, encodeGroupKey([]any{region}, []*types.Type{types.StringType})); !ok {
			t.Fatalf("region %s is not in the store of partition %d", region, tk.only)
		}
	}
	if rows := pullAll(t, e, s, "SELECT region, n FROM r;"); len(rows) != 17 {
		t.Fatalf("scan: %d rows, want 17", len(rows))
	}
	execAll(t, e, s, "DROP TABLE r;")
	if _, err := lg.DescribeTopic(ctx, topic); err == nil {
		t.Fatalf("the repartition topic survived DROP TABLE")
	}
}

// Joins of co-partitioned sources on their keys run one task per partition reading partition p
// of every side: stream-table, table-table (with pull queries on the result) and stream-stream.
// Sources with different partition counts still meet in one task.
func TestCoPartitionedJoinsRunOneTaskPerPartition(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), false)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM orders (uid STRING KEY, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);",
		"CREATE STREAM clicks (uid STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=3);",
		"CREATE TABLE users (uid STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=3);",
		"CREATE TABLE prefs (uid STRING PRIMARY KEY, color STRING) WITH (kafka_topic='prefs', value_format='JSON', partitions=3);",
		"CREATE TABLE one (uid STRING PRIMARY KEY, x INT) WITH (kafka_topic='one', value_format='JSON', partitions=1);",
		"CREATE STREAM enriched AS SELECT o.uid AS uid, o.amount, u.name FROM orders o JOIN users u ON o.uid = u.uid;",
		"CREATE TABLE profile AS SELECT u.uid AS uid, u.name, p.color FROM users u LEFT JOIN prefs p ON u.uid = p.uid;",
		"CREATE STREAM paths AS SELECT o.uid AS uid, o.amount, c.page FROM orders o JOIN clicks c WITHIN 1 HOUR ON o.uid = c.uid;",
		"CREATE STREAM mixed AS SELECT o.uid AS uid, o.amount, x.x FROM orders o JOIN one x ON o.uid = x.uid;",
	)
	for id, want := range map[string]string{
		"CSAS_ENRICHED_0": "p0:orders/0,users/0 p1:orders/1,users/1 p2:orders/2,users/2",
		"CTAS_PROFILE_1":  "p0:users/0,prefs/0 p1:users/1,prefs/1 p2:users/2,prefs/2",
		"CSAS_PATHS_2":    "p0:orders/0,clicks/0 p1:orders/1,clicks/1 p2:orders/2,clicks/2",
		// The one-partition table is read whole by one join task per sink partition, each
		// keeping its keys' rows; the orders reach them through a repartition stage.
		"CSAS_MIXED_3": "r:orders/0 r:orders/1 r:orders/2 " +
			"p0:one/0,_sluice_default_query_CSAS_MIXED_3-repartition/0,_sluice_default_query_CSAS_MIXED_3-repartition/3,_sluice_default_query_CSAS_MIXED_3-repartition/6 " +
			"p1:one/0,_sluice_default_query_CSAS_MIXED_3-repartition/1,_sluice_default_query_CSAS_MIXED_3-repartition/4,_sluice_default_query_CSAS_MIXED_3-repartition/7 " +
			"p2:one/0,_sluice_default_query_CSAS_MIXED_3-repartition/2,_sluice_default_query_CSAS_MIXED_3-repartition/5,_sluice_default_query_CSAS_MIXED_3-repartition/8",
	} {
		if got := strings.Join(describeTasks(queryTasks(e, id)), " "); got != want {
			t.Errorf("%s tasks: %s, want %s", id, got, want)
		}
	}
	const users = 30
	for i := 0; i < users; i++ {
		execAll(t, e, s, fmt.Sprintf("INSERT INTO users (uid, name) VALUES ('u%d', 'name-%d');", i, i),
			fmt.Sprintf("INSERT INTO one (uid, x) VALUES ('u%d', %d);", i, i))
		if i%2 == 0 {
			execAll(t, e, s, fmt.Sprintf("INSERT INTO prefs (uid, color) VALUES ('u%d', 'c%d');", i, i))
		}
	}
	quiesce(t, e)
	for i := 0; i < 90; i++ {
		execAll(t, e, s, fmt.Sprintf("INSERT INTO orders (ROWTIME, uid, amount) VALUES (%d, 'u%d', %d);", 1000+i, i%users, i))
		if i < users {
			execAll(t, e, s, fmt.Sprintf("INSERT INTO clicks (ROWTIME, uid, page) VALUES (%d, 'u%d', 'p%d');", 2000+i, i, i))
		}
	}
	quiesce(t, e)
	in := partitionOf(t, lg, "users")
	for sink, n := range map[string]int{"ENRICHED": 90, "PATHS": 90, "MIXED": 90, "PROFILE": users} {
		recs := topicRecords(t, lg, sink)
		if sink != "PROFILE" && len(recs) != n {
			t.Errorf("%s holds %d records, want %d", sink, len(recs), n)
		}
		for _, r := range recs {
			if r.Partition != in[string(r.Key)] {
				t.Errorf("%s: key %s in partition %d, its users partition is %d", sink, r.Key, r.Partition, in[string(r.Key)])
			}
		}
	}
	for i := 0; i < users; i++ {
		color := any(nil)
		if i%2 == 0 {
			color = fmt.Sprintf("c%d", i)
		}
		rows := pullAll(t, e, s, fmt.Sprintf("SELECT name, color FROM profile WHERE uid = 'u%d';", i))
		if len(rows) != 1 || rows[0].Values[0] != fmt.Sprintf("name-%d", i) || rows[0].Values[1] != color {
			t.Fatalf("PROFILE u%d: %v", i, rows)
		}
	}
	if rows := pullAll(t, e, s, "SELECT uid FROM profile;"); len(rows) != users {
		t.Fatalf("PROFILE scan: %d rows, want %d", len(rows), users)
	}
}

// A crash loses the aggregations' uncommitted state and offsets and leaves uncommitted output
// in the sinks (and in the repartition topic); after the restart every input is counted once:
// nothing missing, nothing duplicated, in the state and in the sinks.
func TestPartitionedAggregationExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (id INT KEY, region STRING, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=3);",
		"CREATE TABLE by_id AS SELECT id, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY id;",
		"CREATE TABLE by_region AS SELECT region, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY region;",
	)
	insert := func(e *Engine, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&sb, "INSERT INTO s (id, region, v) VALUES (%d, 'r%d', %d);\n", i%50, i%7, i)
		}
		execAll(t, e, s, sb.String())
	}
	layout := map[string]string{}
	for _, id := range []string{"CTAS_BY_ID_0", "CTAS_BY_REGION_1"} {
		layout[id] = strings.Join(describeTasks(queryTasks(e, id)), " ")
	}
	if !strings.HasPrefix(layout["CTAS_BY_ID_0"], "p0:s/0 p1") || !strings.HasPrefix(layout["CTAS_BY_REGION_1"], "r:s/0 r:s/1 r:s/2 p0:") {
		t.Fatalf("tasks: %v", layout)
	}
	insert(e, 0, 300)
	quiesce(t, e)
	insert(e, 300, 600)
	// Part of the new input is processed and its output appended: the repartition writers and
	// half of the partition tasks handle one read's worth of each input; of those, the
	// partition tasks commit (having read only what the writers committed), the writers not.
	ctx := context.Background()
	var commit []*task
	for _, id := range []string{"CTAS_BY_ID_0", "CTAS_BY_REGION_1"} {
		for i, tk := range queryTasks(e, id) {
			if tk.repart == nil && i%2 == 1 {
				continue
			}
			if tk.repart == nil {
				commit = append(commit, tk)
			}
			processSome(t, ctx, lg, tk, 40)
		}
	}
	for _, tk := range commit {
		if err := tk.commit(); err != nil {
			t.Fatal(err)
		}
	}
	before := len(topicRecords(t, lg, "BY_ID")) + len(topicRecords(t, lg, "BY_REGION"))
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	s = NewSession()
	for id, want := range layout {
		if got := strings.Join(describeTasks(queryTasks(e, id)), " "); got != want {
			t.Fatalf("%s after the restart runs as %s, before as %s", id, got, want)
		}
	}
	insert(e, 600, 900)
	// The partition tasks run before the writers have redone their uncommitted output (as
	// they may in server mode).
	for _, id := range []string{"CTAS_BY_ID_0", "CTAS_BY_REGION_1"} {
		for _, tk := range queryTasks(e, id) {
			if tk.repart == nil {
				if _, err := tk.pump(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	quiesce(t, e)
	if after := len(topicRecords(t, lg, "BY_ID")) + len(topicRecords(t, lg, "BY_REGION")); before <= 600 {
		t.Fatalf("the crash left no uncommitted output to cut (%d records before, %d after)", before, after)
	}
	for sink, groups := range map[string]int{"BY_ID": 50, "BY_REGION": 7} {
		next := checkCountChangelog(t, lg, sink, 900)
		if len(next) != groups {
			t.Errorf("%s has %d groups, want %d", sink, len(next), groups)
		}
	}
	wantN, wantTotal := map[int]int64{}, map[int]int64{}
	for i := 0; i < 900; i++ {
		wantN[i%7]++
		wantTotal[i%7] += int64(i)
	}
	for r := 0; r < 7; r++ {
		rows := pullAll(t, e, s, fmt.Sprintf("SELECT n, total FROM by_region WHERE region = 'r%d';", r))
		if len(rows) != 1 || rows[0].Values[0] != wantN[r] || rows[0].Values[1] != wantTotal[r] {
			t.Fatalf("BY_REGION r%d: %v, want %d, %d", r, rows, wantN[r], wantTotal[r])
		}
	}
	rows := pullAll(t, e, s, "SELECT id, n FROM by_id;")
	if len(rows) != 50 {
		t.Fatalf("BY_ID: %d rows, want 50", len(rows))
	}
	for _, r := range rows {
		if r.Values[1] != int64(18) {
			t.Fatalf("BY_ID %v: want n=18", r.Values)
		}
	}
}

// sameTablesAt1And3 runs the same queries over the same inserts with a source of one partition
// (one task) and of three (one task per partition, or a repartition stage), checks that each
// layout is what it should be and that every table is non-empty and the same in both, and
// returns the one-partition tables' pull results. source is the CREATE statement with a %d
// for the partition count.
func sameTablesAt1And3(t *testing.T, source string, queries, tables []string, inserts string) map[string][]string {
	t.Helper()
	run := func(partitions int) map[string][]string {
		e, _, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s, fmt.Sprintf(source, partitions))
		execAll(t, e, s, queries...)
		for _, id := range e.cat.order {
			if ts := queryTasks(e, id); (partitions > 1) != (len(ts) > 1) {
				t.Fatalf("%d partitions: %s runs as %s", partitions, id, describeTasks(ts))
			}
		}
		execAll(t, e, s, inserts)
		quiesce(t, e)
		out := map[string][]string{}
		for _, tb := range tables {
			for _, r := range pullAll(t, e, s, "SELECT * FROM "+tb+";") {
				out[tb] = append(out[tb], fmt.Sprint(r.Values))
			}
		}
		return out
	}
	one, three := run(1), run(3)
	for _, tb := range tables {
		if len(one[tb]) == 0 {
			t.Fatalf("%s: empty", tb)
		}
		t.Logf("%s: %d rows, first %s", tb, len(one[tb]), one[tb][0])
		if strings.Join(one[tb], "\n") != strings.Join(three[tb], "\n") {
			t.Errorf("%s differs:\none partition:\n%s\nthree partitions:\n%s", tb, strings.Join(one[tb], "\n"), strings.Join(three[tb], "\n"))
		}
	}
	return one
}

// The same aggregations over the same records give the same tables whether the source has one
// partition (one task) or three (one task per partition, or a repartition stage).
func TestPartitionedAggregationsMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE t_key AS SELECT id, COUNT(*) AS n, SUM(v) AS s, COLLECT_LIST(v) AS vs FROM src GROUP BY id;",
		"CREATE TABLE t_tumble AS SELECT region, COUNT(*) AS n, MAX(v) AS mx FROM src WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY region;",
		"CREATE TABLE t_hop AS SELECT id, COUNT(*) AS n FROM src WINDOW HOPPING (SIZE 20 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY id HAVING COUNT(*) > 1;",
		"CREATE TABLE t_session AS SELECT region, COUNT(*) AS n, MIN(v) AS lo FROM src WINDOW SESSION (3 SECONDS) GROUP BY region;",
		"CREATE TABLE t_multi WITH (key_format='JSON') AS SELECT region, v % 3 AS m, COUNT(*) AS n FROM src WHERE v <> 7 GROUP BY region, v % 3;",
	}
	var sb strings.Builder
	for i := 0; i < 400; i++ {
		// Timestamps mostly increase, with some records late by up to 4 s.
		ts := int64(i)*250 - int64(i%5)*1000
		fmt.Fprintf(&sb, "INSERT INTO src (ROWTIME, id, region, v) VALUES (%d, %d, 'r%d', %d);\n", max(ts, 0), i%23, i%6, i%11)
	}
	sameTablesAt1And3(t, "CREATE STREAM src (id INT KEY, region STRING, v BIGINT) WITH (kafka_topic='src', value_format='JSON', partitions=%d);",
		queries, []string{"t_key", "t_tumble", "t_hop", "t_session", "t_multi"}, sb.String())
}

// TestPartitionedTableAggregationsMatchOneTask: aggregations of a table run behind a
// repartition stage of table changes (an update that moves a row retracts it from its old
// group's partition and adds it to the new one's) and give the tables one task gives.
func TestPartitionedTableAggregationsMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE by_region AS SELECT region, COUNT(*) AS n, SUM(v) AS s FROM users GROUP BY region;",
		"CREATE TABLE by_v WITH (key_format='JSON') AS SELECT v % 4 AS m, region, COUNT(*) AS n FROM users WHERE v <> 5 GROUP BY v % 4, region HAVING COUNT(*) > 1;",
	}
	var sb strings.Builder
	for i := 0; i < 300; i++ {
		// 40 users, each updated about 7 times: most updates move them to another region or
		// value.
		fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, region, v) VALUES (%d, %d, 'r%d', %d);\n", i*100, i%40, (i*7)%5, i%9)
	}
	one := sameTablesAt1And3(t, "CREATE TABLE users (id INT PRIMARY KEY, region STRING, v BIGINT) WITH (kafka_topic='users', value_format='JSON', partitions=%d);",
		queries, []string{"by_region", "by_v"}, sb.String())
	// Pull queries see only the rows HAVING keeps.
	for _, row := range one["by_v"] {
		if strings.HasSuffix(row, " 0]") || strings.HasSuffix(row, " 1]") {
			t.Errorf("by_v holds %s, which HAVING COUNT(*) > 1 excludes", row)
		}
	}
}

// TestRepartitionedJoinMatchesOneTask: a stream joined to a table on a column other than the
// stream's key runs behind a repartition stage of the stream, one join task per table
// partition, and writes the records one task writes.
func TestRepartitionedJoinMatchesOneTask(t *testing.T) {
	run := func(partitions int) []string {
		e, _, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s, fmt.Sprintf(`CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=%d);`, partitions),
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, uid STRING, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, partitions),
			`CREATE STREAM enriched AS SELECT o.uid AS uid, o.oid AS oid, u.name AS name, o.amount AS amount FROM orders o LEFT JOIN users u ON o.uid = u.id;`,
			`CREATE STREAM big AS SELECT o.uid AS uid, u.name AS name FROM orders o JOIN users u ON o.uid = u.id WHERE o.amount > 5;`)
		for _, id := range e.cat.order {
			ts := queryTasks(e, id)
			if (partitions > 1) != (len(ts) > 1) {
				t.Fatalf("%d partitions: %s runs as %s", partitions, id, describeTasks(ts))
			}
			if q := e.cat.queries[id]; partitions > 1 && q.doc.Tasks != plan.TasksRepartition {
				t.Fatalf("%s recorded layout %q, want repartition", id, q.doc.Tasks)
			}
		}
		var sb strings.Builder
		for i := 0; i < 60; i++ {
			fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, name) VALUES (%d, 'u%d', 'n%d');\n", i*10, i%20, i)
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid, amount) VALUES (%d, 'o%d', 'u%d', %d);\n", i*10+5, i, i%25, i%10)
		}
		sb.WriteString("INSERT INTO orders (ROWTIME, oid, uid, amount) VALUES (1000, 'onull', NULL, 9);\n")
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		var out []string
		for _, topic := range []string{"ENRICHED", "BIG"} {
			recs, err := e.ReadLogical(context.Background(), topic)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				out = append(out, fmt.Sprintf("%s %v %v %d", topic, r.Key, r.Value, r.Timestamp))
			}
		}
		sort.Strings(out)
		return out
	}
	one, three := run(1), run(3)
	if len(one) < 70 {
		t.Fatalf("only %d results", len(one))
	}
	if strings.Join(one, "\n") != strings.Join(three, "\n") {
		t.Fatalf("results differ:\none partition:\n%s\nthree partitions:\n%s", strings.Join(one, "\n"), strings.Join(three, "\n"))
	}
}

// processSome has tk process up to max records of each of its inputs (no further than a
// read-committed input allows), without committing: a crash then finds output past the
// committed marks.
func processSome(t *testing.T, ctx context.Context, lg *embedded.Log, tk *task, max int) {
	t.Helper()
	for _, in := range tk.inputs {
		n := max
		if in.limit != nil {
			n = int(min(int64(n), in.limit()-in.offset))
		}
		if n <= 0 {
			continue
		}
		recs, err := lg.Read(ctx, in.topic, in.partition, in.offset, n, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tk.process(in, recs); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRegionTotals checks BY_REGION's rows (region, n, total) against the counts and sums
// expected for its four regions.
func checkRegionTotals(t *testing.T, e *Engine, s *Session, wantN, wantTotal map[string]int64) {
	t.Helper()
	rows := pullAll(t, e, s, "SELECT region, n, total FROM by_region;")
	if len(rows) != 4 {
		t.Fatalf("BY_REGION: %v", rows)
	}
	for _, r := range rows {
		reg := r.Values[0].(string)
		if fmt.Sprint(r.Values[1], " ", r.Values[2]) != fmt.Sprint(wantN[reg], " ", wantTotal[reg]) {
			t.Errorf("%s: n=%v total=%v, want %d, %d", reg, r.Values[1], r.Values[2], wantN[reg], wantTotal[reg])
		}
	}
}

// processHalfCommitted leaves a query part way through, as a crash finds it: for some rounds,
// each task processes up to n more records of every input, then every other task commits and
// the rest only write their output.
func processHalfCommitted(t *testing.T, ctx context.Context, lg *embedded.Log, tasks []*task, rounds, n int) {
	t.Helper()
	for round := 0; round < rounds; round++ {
		for i, tk := range tasks {
			processSome(t, ctx, lg, tk, n)
			if (i+round)%2 == 0 {
				if err := tk.commit(); err != nil {
					t.Fatal(err)
				}
			} else if err := tk.flushOutput(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRepartitionedJoinExactlyOnceAfterCrash: a crash while the writers and join tasks of a
// repartitioned join are part way through, some committed and some not, leaves every order in
// the output exactly once after the restart.
func TestRepartitionedJoinExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=3);`,
		`CREATE STREAM orders (oid STRING KEY, uid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM enriched AS SELECT o.uid AS uid, o.oid AS oid, u.name AS name FROM orders o LEFT JOIN users u ON o.uid = u.id;`)
	insert := func(e *Engine, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			if i < 30 {
				fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, name) VALUES (%d, 'u%d', 'n%d');\n", i, i, i)
			}
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid) VALUES (%d, 'o%d', 'u%d');\n", 100+i, i, i%30)
		}
		execAll(t, e, s, sb.String())
	}
	const q = "CSAS_ENRICHED_0"
	if e.cat.queries[q].doc.Tasks != plan.TasksRepartition {
		t.Fatalf("layout %q", e.cat.queries[q].doc.Tasks)
	}
	insert(e, 0, 150)
	quiesce(t, e)
	insert(e, 150, 300)
	ctx := context.Background()
	for i, tk := range queryTasks(e, q) {
		processSome(t, ctx, lg, tk, 25)
		if i%2 == 0 {
			if err := tk.commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "ENRICHED")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		v, _ := r.Value.(map[string]any)
		seen[fmt.Sprint(v["OID"])]++
		if v["NAME"] == nil {
			t.Errorf("order %v joined no user", v["OID"])
		}
	}
	for i := 0; i < 300; i++ {
		if n := seen[fmt.Sprintf("o%d", i)]; n != 1 {
			t.Errorf("order o%d appears %d times", i, n)
		}
	}
}

// TestPartitionedTableFiltersMatchOneTask: stateless queries over a table (filters whose rows
// stop matching, projections, a header column) run one task per partition, each materializing
// its partition of the table for old rows, and give the tables one task gives.
func TestPartitionedTableFiltersMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE rich AS SELECT id, region, v * 2 AS v2 FROM users WHERE v > 3;",
		"CREATE TABLE tagged AS SELECT id, UCASE(region) AS r, h FROM users WHERE region <> 'r2';",
	}
	var sb strings.Builder
	for i := 0; i < 300; i++ {
		// 40 users updated about 7 times each: rows move in and out of the filters.
		fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, region, v) VALUES (%d, %d, 'r%d', %d);\n", i*100, i%40, (i*7)%5, i%9)
	}
	one := sameTablesAt1And3(t, "CREATE TABLE users (id INT PRIMARY KEY, region STRING, v BIGINT, h BYTES HEADER('h')) WITH (kafka_topic='users', value_format='JSON', partitions=%d);",
		queries, []string{"rich", "tagged"}, sb.String())
	for _, row := range one["tagged"] {
		if strings.Contains(row, " R2 ") {
			t.Errorf("tagged holds %s, which its filter excludes", row)
		}
	}
}

// TestRepartitionedTableAggregationKeepsHeaders: a table with a header column, grouped by a
// value column, runs behind a repartition stage whose changes keep the record's headers, and
// its aggregates of the header equal those of one task.
func TestRepartitionedTableAggregationKeepsHeaders(t *testing.T) {
	run := func(partitions int) []string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s, fmt.Sprintf("CREATE TABLE users (id STRING PRIMARY KEY, region STRING, h BYTES HEADER('h')) WITH (kafka_topic='users', value_format='JSON', partitions=%d);", partitions),
			"CREATE TABLE by_region AS SELECT region, COUNT(*) AS n, SUM(INT_FROM_BYTES(h)) AS hs FROM users GROUP BY region;")
		if ts := queryTasks(e, "CTAS_BY_REGION_0"); (partitions > 1) != (len(ts) > 1) {
			t.Fatalf("%d partitions: runs as %s", partitions, describeTasks(ts))
		}
		var recs []storage.Record
		for i := 0; i < 200; i++ {
			// 30 users, each moving between 4 regions; the header changes with every update.
			h := make([]byte, 4)
			h[3] = byte(i % 50)
			recs = append(recs, storage.Record{
				Key:       []byte(fmt.Sprintf("u%d", i%30)),
				Value:     []byte(fmt.Sprintf(`{"REGION":"r%d"}`, (i*7)%4)),
				Timestamp: int64(i) * 10,
				Headers:   []storage.Header{{Key: "h", Value: h}},
				Partition: -1,
			})
		}
		if _, err := lg.Append(context.Background(), "users", recs); err != nil {
			t.Fatal(err)
		}
		quiesce(t, e)
		var out []string
		for _, r := range pullAll(t, e, s, "SELECT * FROM by_region;") {
			out = append(out, fmt.Sprint(r.Values))
		}
		return out
	}
	one, three := run(1), run(3)
	if len(one) != 4 || strings.Contains(strings.Join(one, ""), "nil") || strings.Join(one, "\n") != strings.Join(three, "\n") {
		t.Fatalf("one partition:\n%s\nthree partitions:\n%s", strings.Join(one, "\n"), strings.Join(three, "\n"))
	}
}

// TestForeignKeyJoinsMatchOneTask: foreign-key joins run one task per partition of the left
// table, each reading the whole right table (which may have another partition count), and give
// the tables and sink records one task gives, through right-side updates that re-join rows and
// left rows that move to another foreign key.
func TestForeignKeyJoinsMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE named AS SELECT i.id AS id, i.qty, p.name FROM items i JOIN products p ON i.pid = p.pid;",
		"CREATE TABLE maybe AS SELECT i.id AS id, i.qty, p.name FROM items i LEFT JOIN products p ON i.pid = p.pid WHERE i.qty > 1;",
		"CREATE TABLE stocked AS SELECT i.id AS id, p.name, s.n FROM items i JOIN products p ON i.pid = p.pid LEFT JOIN stock s ON i.id = s.id;",
	}
	run := func(partitions int) (map[string][]string, map[string][]string) {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf("CREATE TABLE items (id STRING PRIMARY KEY, pid STRING, qty INT) WITH (kafka_topic='items', value_format='JSON', partitions=%d);", partitions),
			fmt.Sprintf("CREATE TABLE stock (id STRING PRIMARY KEY, n INT) WITH (kafka_topic='stock', value_format='JSON', partitions=%d);", partitions),
			"CREATE TABLE products (pid STRING PRIMARY KEY, name STRING) WITH (kafka_topic='products', value_format='JSON', partitions=2);")
		execAll(t, e, s, queries...)
		for _, id := range e.cat.order {
			ts := queryTasks(e, id)
			if (partitions > 1) != (len(ts) > 1) {
				t.Fatalf("%d partitions: %s runs as %s", partitions, id, describeTasks(ts))
			}
			if partitions > 1 && !strings.Contains(strings.Join(describeTasks(ts), " "), "p0:items/0,products/0,products/1") {
				t.Fatalf("%s: task 0 does not read the whole products table: %s", id, describeTasks(ts))
			}
		}
		for i := 0; i < 240; i++ {
			ts := 1000 + i*10
			switch i % 6 {
			case 0, 3:
				execAll(t, e, s, fmt.Sprintf("INSERT INTO products (ROWTIME, pid, name) VALUES (%d, 'p%d', 'name-%d');", ts, i%7, i))
			case 5:
				execAll(t, e, s, fmt.Sprintf("INSERT INTO stock (ROWTIME, id, n) VALUES (%d, 'i%d', %d);", ts, i%25, i))
			default:
				// 25 items, each moving between the 7 products (some not yet present).
				execAll(t, e, s, fmt.Sprintf("INSERT INTO items (ROWTIME, id, pid, qty) VALUES (%d, 'i%d', 'p%d', %d);", ts, i%25, (i*3)%8, i%4))
			}
		}
		quiesce(t, e)
		tables, sinks := map[string][]string{}, map[string][]string{}
		for _, tb := range []string{"NAMED", "MAYBE", "STOCKED"} {
			for _, r := range pullAll(t, e, s, "SELECT * FROM "+tb+";") {
				tables[tb] = append(tables[tb], fmt.Sprint(r.Values))
			}
			// Each key's records, in order (partitions interleave keys differently).
			byKey := map[string][]string{}
			for _, r := range topicRecords(t, lg, tb) {
				byKey[string(r.Key)] = append(byKey[string(r.Key)], fmt.Sprintf("%d:%s", r.Timestamp, r.Value))
			}
			for k, vs := range byKey {
				sinks[tb] = append(sinks[tb], k+" "+strings.Join(vs, " "))
			}
			sort.Strings(sinks[tb])
		}
		return tables, sinks
	}
	oneT, oneS := run(1)
	threeT, threeS := run(3)
	for _, tb := range []string{"NAMED", "MAYBE", "STOCKED"} {
		if len(oneT[tb]) == 0 || len(oneS[tb]) == 0 {
			t.Fatalf("%s: empty", tb)
		}
		if strings.Join(oneT[tb], "\n") != strings.Join(threeT[tb], "\n") {
			t.Errorf("%s table differs:\none partition:\n%s\nthree partitions:\n%s", tb, strings.Join(oneT[tb], "\n"), strings.Join(threeT[tb], "\n"))
		}
		if strings.Join(oneS[tb], "\n") != strings.Join(threeS[tb], "\n") {
			t.Errorf("%s sink differs:\none partition:\n%s\nthree partitions:\n%s", tb, strings.Join(oneS[tb], "\n"), strings.Join(threeS[tb], "\n"))
		}
	}
}

// TestForeignKeyJoinExactlyOnceAfterCrash: a crash while the partition tasks of a foreign-key
// join are part way through, some committed and some not, leaves the sink with exactly the
// records of a run without the crash.
func TestForeignKeyJoinExactlyOnceAfterCrash(t *testing.T) {
	run := func(crashMidway bool) []string {
		dir := t.TempDir()
		e, lg, crash := openBadgerEngine(t, dir, true)
		s := NewSession()
		execAll(t, e, s,
			"CREATE TABLE items (id STRING PRIMARY KEY, pid STRING, qty INT) WITH (kafka_topic='items', value_format='JSON', partitions=3);",
			"CREATE TABLE products (pid STRING PRIMARY KEY, name STRING) WITH (kafka_topic='products', value_format='JSON', partitions=2);",
			"CREATE TABLE named AS SELECT i.id AS id, i.qty, p.name FROM items i LEFT JOIN products p ON i.pid = p.pid;")
		var sb strings.Builder
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&sb, "INSERT INTO products (ROWTIME, pid, name) VALUES (%d, 'p%d', 'name-%d');\n", i, i, i)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		sb.Reset()
		for i := 0; i < 300; i++ {
			fmt.Fprintf(&sb, "INSERT INTO items (ROWTIME, id, pid, qty) VALUES (%d, 'i%d', 'p%d', %d);\n", 100+i, i%40, (i*3)%12, i)
		}
		execAll(t, e, s, sb.String())
		if crashMidway {
			ctx := context.Background()
			ts := queryTasks(e, "CTAS_NAMED_0")
			if len(ts) != 3 {
				t.Fatalf("runs as %s", describeTasks(ts))
			}
			for i, tk := range ts {
				processSome(t, ctx, lg, tk, 40)
				if i != 1 {
					if err := tk.commit(); err != nil {
						t.Fatal(err)
					}
				}
				processSome(t, ctx, lg, tk, 20) // processed, written, never committed
				if err := tk.flushOutput(ctx); err != nil {
					t.Fatal(err)
				}
			}
			crash()
			e, lg, _ = openBadgerEngine(t, dir, true)
		}
		quiesce(t, e)
		var out []string
		for _, r := range topicRecords(t, lg, "NAMED") {
			out = append(out, fmt.Sprintf("%d %s %d %s", r.Partition, r.Key, r.Timestamp, r.Value))
		}
		sort.Strings(out)
		return out
	}
	clean, crashed := run(false), run(true)
	if len(clean) < 300 || strings.Join(clean, "\n") != strings.Join(crashed, "\n") {
		t.Fatalf("without the crash (%d records):\n%s\nwith it (%d records):\n%s", len(clean), strings.Join(clean, "\n"), len(crashed), strings.Join(crashed, "\n"))
	}
}

// TestRepartitionedJoinIntoSinkOfOtherPartitionCount: a stream-table join whose sink has more
// partitions than the table runs one join task per sink partition, each keeping the table rows
// of its partition; every order is joined once with its user's name at that time, in the
// partition the sink's partitioner picks for its key.
func TestRepartitionedJoinIntoSinkOfOtherPartitionCount(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=2);`,
		`CREATE STREAM orders (oid STRING KEY, uid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM enriched WITH (partitions=4) AS SELECT o.uid AS uid, o.oid AS oid, u.name AS name FROM orders o JOIN users u ON o.uid = u.id;`)
	const q = "CSAS_ENRICHED_0"
	if got := e.cat.queries[q].doc.Tasks; got != plan.TasksRepartition {
		t.Fatalf("layout %q", got)
	}
	if n := len(queryTasks(e, q)); n != 3+4 {
		t.Fatalf("%d tasks (want 3 writers and 4 join tasks): %s", n, describeTasks(queryTasks(e, q)))
	}
	want := map[string]string{}
	for round := 0; round < 3; round++ {
		var sb strings.Builder
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, name) VALUES (%d, 'u%d', 'n%d-%d');\n", round*1000+i, i, i, round)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		sb.Reset()
		for i := 0; i < 60; i++ {
			oid := fmt.Sprintf("o%d-%d", round, i)
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid) VALUES (%d, '%s', 'u%d');\n", round*1000+100+i, oid, i%20)
			want[oid] = fmt.Sprintf("u%d n%d-%d", i%20, i%20, round)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	recs := topicRecords(t, lg, "ENRICHED")
	if len(recs) != len(want) {
		t.Errorf("ENRICHED holds %d records, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		var v struct{ OID, NAME string }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if got := string(r.Key) + " " + v.NAME; got != want[v.OID] {
			t.Errorf("order %s: %s, want %s", v.OID, got, want[v.OID])
		}
		if p := storage.PartitionFor(r.Key, 4); r.Partition != p {
			t.Errorf("order %s (key %s) in partition %d, want %d", v.OID, r.Key, r.Partition, p)
		}
	}
}

// TestRepartitionedMultiJoin: a stream enriched from two tables on two of its columns runs
// behind a repartition stage routed by the last join's key: every join task reads the whole
// first table and its share of the last one. Every order is joined once, with the names at
// that time (a missing product leaves the LEFT JOIN's column NULL), in the partition the
// sink's partitioner picks for the product key.
func TestRepartitionedMultiJoin(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=2);`,
		`CREATE TABLE products (pid STRING PRIMARY KEY, title STRING) WITH (kafka_topic='products', value_format='JSON', partitions=3);`,
		`CREATE STREAM orders (oid STRING KEY, uid STRING, pid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM enriched AS SELECT o.oid AS oid, u.name AS name, p.pid AS pid, p.title AS title FROM orders o JOIN users u ON o.uid = u.id LEFT JOIN products p ON o.pid = p.pid;`)
	const q = "CSAS_ENRICHED_0"
	if got := e.cat.queries[q].doc.Tasks; got != plan.TasksRepartition {
		t.Fatalf("layout %q", got)
	}
	tasks := strings.Join(describeTasks(queryTasks(e, q)), " ")
	if !strings.Contains(tasks, "p1:users/0,users/1,products/1,") {
		t.Fatalf("join task 1 should read all of users and partition 1 of products: %s", tasks)
	}
	want := map[string]string{}
	for round := 0; round < 3; round++ {
		var sb strings.Builder
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, id, name) VALUES (%d, 'u%d', 'n%d-%d');\n", round*1000+i, i, i, round)
			if i < 7 {
				fmt.Fprintf(&sb, "INSERT INTO products (ROWTIME, pid, title) VALUES (%d, 'p%d', 't%d-%d');\n", round*1000+i, i, i, round)
			}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		sb.Reset()
		for i := 0; i < 60; i++ {
			oid := fmt.Sprintf("o%d-%d", round, i)
			u, p := i%11, i%9 // u10 has no user: the inner join drops it; p7, p8 have no product
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid, pid) VALUES (%d, '%s', 'u%d', 'p%d');\n", round*1000+100+i, oid, u, p)
			if u < 10 {
				title := "<nil>"
				if p < 7 {
					title = fmt.Sprintf("t%d-%d", p, round)
				}
				want[oid] = fmt.Sprintf("p%d n%d-%d %s", p, u, round, title)
			}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	recs := topicRecords(t, lg, "ENRICHED")
	if len(recs) != len(want) {
		t.Errorf("ENRICHED holds %d records, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		var v struct {
			OID, NAME string
			TITLE     *string
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		title := "<nil>"
		if v.TITLE != nil {
			title = *v.TITLE
		}
		if got := string(r.Key) + " " + v.NAME + " " + title; got != want[v.OID] {
			t.Errorf("order %s: %s, want %s", v.OID, got, want[v.OID])
		}
		if p := storage.PartitionFor(r.Key, 3); r.Partition != p {
			t.Errorf("order %s (key %s) in partition %d, want %d", v.OID, r.Key, r.Partition, p)
		}
	}
}

// TestWindowedSourcesRunOneTaskPerPartition: an aggregation grouping a windowed stream by its
// key and a join of two windowed streams on their keys run one task per partition (windowed
// keys are placed by their key alone) and give the tables and sink records one task gives.
func TestWindowedSourcesRunOneTaskPerPartition(t *testing.T) {
	run := func(partitions int) []string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf("CREATE STREAM a (k STRING KEY, v INT) WITH (kafka_topic='a', value_format='JSON', window_type='TUMBLING', window_size='10 SECONDS', partitions=%d);", partitions),
			fmt.Sprintf("CREATE STREAM b (k STRING KEY, w INT) WITH (kafka_topic='b', value_format='JSON', window_type='TUMBLING', window_size='10 SECONDS', partitions=%d);", partitions),
			"CREATE TABLE per_key AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM a GROUP BY k;",
			"CREATE STREAM both_ab AS SELECT a.k AS k, a.v, b.w FROM a JOIN b WITHIN 1 MINUTE ON a.k = b.k;")
		for _, id := range e.cat.order {
			if ts := queryTasks(e, id); (partitions > 1) != (len(ts) > 1) {
				t.Fatalf("%d partitions: %s runs as %s", partitions, id, describeTasks(ts))
			}
		}
		for _, topic := range []string{"a", "b"} {
			var recs []storage.Record
			for i := 0; i < 150; i++ {
				key := fmt.Sprintf("k%d", i%13)
				ws := int64(i/20) * 10_000
				recs = append(recs, storage.Record{
					Key:       serde.WindowedKey([]byte(key), false, ws, ws+10_000),
					Value:     []byte(fmt.Sprintf(`{"V":%d,"W":%d}`, i, i*2)),
					Timestamp: ws + int64(i%20)*100,
					Partition: storage.PartitionFor([]byte(key), partitions),
				})
			}
			if _, err := lg.Append(context.Background(), topic, recs); err != nil {
				t.Fatal(err)
			}
		}
		quiesce(t, e)
		var out []string
		for _, r := range pullAll(t, e, s, "SELECT * FROM per_key;") {
			out = append(out, fmt.Sprint(r.Values))
		}
		var joined []string
		for _, r := range topicRecords(t, lg, "BOTH_AB") {
			joined = append(joined, fmt.Sprintf("%x %d %s", r.Key, r.Timestamp, r.Value))
		}
		sort.Strings(joined)
		return append(out, joined...)
	}
	one, three := run(1), run(3)
	if len(one) < 13+150 || strings.Join(one, "\n") != strings.Join(three, "\n") {
		t.Fatalf("one partition (%d):\n%s\nthree partitions (%d):\n%s", len(one), strings.Join(one, "\n"), len(three), strings.Join(three, "\n"))
	}
}

// TestJoinAggregationsMatchOneTask: aggregations of co-partitioned joins run as one join
// writer per partition feeding one aggregation task per sink partition through the
// repartition topic, and give the tables one task gives: stream-table and windowed, table-table
// (updates that move rows between groups retract them) and foreign-key joins.
func TestJoinAggregationsMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE by_region AS SELECT u.region AS region, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN users u ON o.uid = u.uid GROUP BY u.region;",
		"CREATE TABLE by_region_min AS SELECT u.region AS region, COUNT(*) AS n FROM orders o LEFT JOIN users u ON o.uid = u.uid WINDOW TUMBLING (SIZE 1 SECOND) WHERE o.amount > 2 GROUP BY u.region;",
		"CREATE TABLE by_color AS SELECT p.color AS color, COUNT(*) AS n, SUM(LEN(u.region)) AS chars FROM users u JOIN prefs p ON u.uid = p.uid GROUP BY p.color;",
		"CREATE TABLE by_label AS SELECT l.label AS label, COUNT(*) AS n FROM users u JOIN labels l ON u.region = l.region GROUP BY l.label;",
	}
	tables := []string{"BY_REGION", "BY_REGION_MIN", "BY_COLOR", "BY_LABEL"}
	run := func(partitions int) map[string][]string {
		e, _, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf("CREATE STREAM orders (uid STRING KEY, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);", partitions),
			fmt.Sprintf("CREATE TABLE users (uid STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=%d);", partitions),
			fmt.Sprintf("CREATE TABLE prefs (uid STRING PRIMARY KEY, color STRING) WITH (kafka_topic='prefs', value_format='JSON', partitions=%d);", partitions),
			"CREATE TABLE labels (region STRING PRIMARY KEY, label STRING) WITH (kafka_topic='labels', value_format='JSON', partitions=2);")
		execAll(t, e, s, queries...)
		for _, id := range e.cat.order {
			ts := queryTasks(e, id)
			if (partitions > 1) != (len(ts) > 1) {
				t.Fatalf("%d partitions: %s runs as %s", partitions, id, describeTasks(ts))
			}
			if partitions > 1 && e.cat.queries[id].doc.Tasks != plan.TasksRepartition {
				t.Fatalf("%s: layout %q", id, e.cat.queries[id].doc.Tasks)
			}
		}
		var sb strings.Builder
		for i := 0; i < 400; i++ {
			ts := 1000 + i*10
			switch i % 8 {
			case 0:
				// 20 users moving between 5 regions.
				fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, uid, region) VALUES (%d, 'u%d', 'r%d');\n", ts, i%20, (i/8)%5)
			case 1:
				fmt.Fprintf(&sb, "INSERT INTO prefs (ROWTIME, uid, color) VALUES (%d, 'u%d', 'c%d');\n", ts, (i/8)%20, i%3)
			case 2:
				fmt.Fprintf(&sb, "INSERT INTO labels (ROWTIME, region, label) VALUES (%d, 'r%d', 'l%d');\n", ts, (i/8)%5, (i/16)%3)
			default:
				fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, uid, amount) VALUES (%d, 'u%d', %d);\n", ts, i%23, i%7)
			}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		out := map[string][]string{}
		for _, tb := range tables {
			for _, r := range pullAll(t, e, s, "SELECT * FROM "+tb+";") {
				out[tb] = append(out[tb], fmt.Sprint(r.Values))
			}
		}
		return out
	}
	one, three := run(1), run(3)
	for _, tb := range tables {
		if len(one[tb]) == 0 {
			t.Fatalf("%s: empty", tb)
		}
		t.Logf("%s: %d rows, first %s", tb, len(one[tb]), one[tb][0])
		if strings.Join(one[tb], "\n") != strings.Join(three[tb], "\n") {
			t.Errorf("%s differs:\none partition:\n%s\nthree partitions:\n%s", tb, strings.Join(one[tb], "\n"), strings.Join(three[tb], "\n"))
		}
	}
}

// TestJoinAggregationExactlyOnceAfterCrash: a crash while the join writers and aggregation
// tasks of an aggregated join are part way through, some committed and some not, still counts
// every order once after the restart.
func TestJoinAggregationExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE users (uid STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=3);`,
		`CREATE STREAM orders (uid STRING KEY, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE TABLE by_region AS SELECT u.region AS region, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN users u ON o.uid = u.uid GROUP BY u.region;`)
	var sb strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, uid, region) VALUES (%d, 'u%d', 'r%d');\n", i, i, i%4)
	}
	execAll(t, e, s, sb.String())
	quiesce(t, e)
	sb.Reset()
	wantN, wantTotal := map[string]int64{}, map[string]int64{}
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, uid, amount) VALUES (%d, 'u%d', %d);\n", 100+i, i%30, i)
		r := fmt.Sprintf("r%d", (i%30)%4)
		wantN[r]++
		wantTotal[r] += int64(i)
	}
	execAll(t, e, s, sb.String())
	const q = "CTAS_BY_REGION_0"
	ctx := context.Background()
	processHalfCommitted(t, ctx, lg, queryTasks(e, q), 2, 40)
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	checkRegionTotals(t, e, s, wantN, wantTotal)
}

// TestRepartitionedStreamJoinMatchesOneTask: a stream-stream join of two streams keyed by
// something else than the join key runs behind repartition stages of both streams, one join
// task per sink partition, and writes the records one task writes, each in the partition the
// sink's partitioner picks for its key. (With an explicit GRACE PERIOD the two would differ,
// as they do in Kafka Streams: each join task keeps its own stream time, so late records and
// closing windows depend on which keys share a partition.)
func TestRepartitionedStreamJoinMatchesOneTask(t *testing.T) {
	run := func(orderParts, shipParts, sinkParts int) []string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, orderParts),
			fmt.Sprintf(`CREATE STREAM ships (sid STRING KEY, ref STRING, carrier STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=%d);`, shipParts),
			fmt.Sprintf(`CREATE STREAM shipped WITH (partitions=%d) AS SELECT o.item AS item, s.ref AS ref, s.carrier AS carrier FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref;`, sinkParts),
			fmt.Sprintf(`CREATE STREAM maybe WITH (partitions=%d) AS SELECT o.item AS item, s.carrier AS carrier FROM orders o LEFT JOIN ships s WITHIN (10 SECONDS, 1 MINUTE) ON o.item = s.ref;`, sinkParts))
		want := plan.TasksSingle
		if sinkParts > 1 {
			want = plan.TasksRepartition
		}
		for _, id := range e.cat.order {
			if got := e.cat.queries[id].doc.Tasks; got != want {
				t.Fatalf("%s: layout %q (%s), want %q", id, got, describeTasks(queryTasks(e, id)), want)
			}
		}
		var sb strings.Builder
		for i := 0; i < 120; i++ {
			ts := 10_000 + i*1000
			// 40 items; each ordered 3 times, shipped about twice (some before the order,
			// some after, some too late for the window). Timestamps increase in every
			// partition: with records out of order, what a LEFT join emits depends on the
			// order the partitions are merged in, in one task as in Kafka Streams.
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'o%d', 'i%d');\n", ts, i, i%40)
			if i%5 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref, carrier) VALUES (%d, 's%d', 'i%d', 'c%d');\n", ts+500, i, (i*3)%40, i%4)
			}
		}
		// Stream time moves on in every join task (each keeps its own), so that the windows
		// close and the LEFT join emits its unmatched rows.
		for k := 0; k < 40; k++ {
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'late%d', 'i%d');\n", 10_000_000, k, k)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		var out []string
		for _, sink := range []string{"SHIPPED", "MAYBE"} {
			for _, r := range topicRecords(t, lg, sink) {
				if sinkParts > 1 {
					if p := storage.PartitionFor(r.Key, int(sinkParts)); r.Partition != p {
						t.Errorf("%s: key %s in partition %d, want %d", sink, r.Key, r.Partition, p)
					}
				}
				out = append(out, fmt.Sprintf("%s %s %d %s", sink, r.Key, r.Timestamp, r.Value))
			}
		}
		sort.Strings(out)
		return out
	}
	one, many := run(1, 1, 1), run(3, 2, 3)
	if len(one) < 100 || strings.Join(one, "\n") != strings.Join(many, "\n") {
		t.Fatalf("one task (%d records):\n%s\nrepartitioned (%d records):\n%s", len(one), strings.Join(one, "\n"), len(many), strings.Join(many, "\n"))
	}
}

// TestRepartitionedStreamJoinExactlyOnceAfterCrash: a crash while both streams' writers and
// the join tasks are part way through, some committed and some not, leaves every joined pair
// in the output exactly once after the restart.
func TestRepartitionedStreamJoinExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM orders (oid STRING KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM ships (sid STRING KEY, ref STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=2);`,
		`CREATE STREAM shipped AS SELECT o.item AS item, o.oid AS oid, s.sid AS sid FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref;`)
	const q = "CSAS_SHIPPED_0"
	if got := e.cat.queries[q].doc.Tasks; got != plan.TasksRepartition {
		t.Fatalf("layout %q", got)
	}
	var sb strings.Builder
	for i := 0; i < 300; i++ {
		// Item i is ordered once and shipped once, a little later.
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'o%d', 'i%d');\n", 1000+i*10, i, i)
		fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref) VALUES (%d, 's%d', 'i%d');\n", 1005+i*10, i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	processHalfCommitted(t, ctx, lg, queryTasks(e, q), 2, 30)
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "SHIPPED")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		v, _ := r.Value.(map[string]any)
		seen[fmt.Sprint(v["OID"], "/", v["SID"])]++
	}
	for i := 0; i < 300; i++ {
		if n := seen[fmt.Sprintf("o%d/s%d", i, i)]; n != 1 {
			t.Errorf("pair o%d/s%d appears %d times", i, i, n)
		}
	}
	if len(seen) != 300 {
		t.Errorf("%d distinct pairs, want 300", len(seen))
	}
}

// TestTwoStageJoinAggregationsMatchOneTask: aggregations of stream-table joins whose stream is
// keyed by something else run behind two repartition stages (stream writers, join tasks per
// table partition, aggregation tasks per sink partition) and give the tables one task gives.
func TestTwoStageJoinAggregationsMatchOneTask(t *testing.T) {
	queries := []string{
		"CREATE TABLE by_region AS SELECT u.region AS region, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN users u ON o.uid = u.uid GROUP BY u.region;",
		"CREATE TABLE by_tier WITH (partitions=3) AS SELECT t.tier AS tier, COUNT(*) AS n FROM orders o LEFT JOIN users u ON o.uid = u.uid JOIN tiers t ON o.sku = t.sku WHERE o.amount > 1 GROUP BY t.tier;",
	}
	tables := []string{"BY_REGION", "BY_TIER"}
	run := func(orderParts, userParts int) map[string][]string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf("CREATE STREAM orders (oid STRING KEY, uid STRING, sku STRING, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);", orderParts),
			fmt.Sprintf("CREATE TABLE users (uid STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=%d);", userParts),
			"CREATE TABLE tiers (sku STRING PRIMARY KEY, tier STRING) WITH (kafka_topic='tiers', value_format='JSON', partitions=1);")
		execAll(t, e, s, queries...)
		for _, id := range e.cat.order {
			want := plan.TasksSingle
			if orderParts > 1 {
				want = plan.TasksRepartition
			}
			if got := e.cat.queries[id].doc.Tasks; got != want {
				t.Fatalf("%s: layout %q (%s), want %q", id, got, describeTasks(queryTasks(e, id)), want)
			}
		}
		var sb strings.Builder
		for i := 0; i < 400; i++ {
			ts := 1000 + i*10
			switch i % 8 {
			case 0:
				// 20 users moving between 5 regions; 6 skus in 3 tiers.
				fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, uid, region) VALUES (%d, 'u%d', 'r%d');\n", ts, i%20, (i/8)%5)
			case 1:
				fmt.Fprintf(&sb, "INSERT INTO tiers (ROWTIME, sku, tier) VALUES (%d, 'k%d', 't%d');\n", ts, (i/8)%6, (i/8)%3)
			default:
				fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid, sku, amount) VALUES (%d, 'o%d', 'u%d', 'k%d', %d);\n", ts, i, i%23, i%7, i%5)
			}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		out := map[string][]string{}
		for _, tb := range tables {
			for _, r := range pullAll(t, e, s, "SELECT * FROM "+tb+";") {
				out[tb] = append(out[tb], fmt.Sprint(r.Values))
			}
		}
		if orderParts > 1 {
			if len(topicRecords(t, lg, "_sluice_default_query_CTAS_BY_REGION_0-repartition-group")) == 0 {
				t.Error("the second repartition topic is empty")
			}
		}
		return out
	}
	one, many := run(1, 1), run(3, 2)
	for _, tb := range tables {
		if len(one[tb]) == 0 {
			t.Fatalf("%s: empty", tb)
		}
		t.Logf("%s: %d rows, first %s", tb, len(one[tb]), one[tb][0])
		if strings.Join(one[tb], "\n") != strings.Join(many[tb], "\n") {
			t.Errorf("%s differs:\none task:\n%s\nrepartitioned:\n%s", tb, strings.Join(one[tb], "\n"), strings.Join(many[tb], "\n"))
		}
	}
}

// TestTwoStageJoinAggregationExactlyOnceAfterCrash: a crash while the writers, join tasks and
// aggregation tasks of a two-stage join aggregation are part way through, some committed and
// some not, still counts every order once after the restart.
func TestTwoStageJoinAggregationExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE users (uid STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=2);`,
		`CREATE STREAM orders (oid STRING KEY, uid STRING, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE TABLE by_region AS SELECT u.region AS region, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o JOIN users u ON o.uid = u.uid GROUP BY u.region;`)
	const q = "CTAS_BY_REGION_0"
	if got := e.cat.queries[q].doc.Tasks; got != plan.TasksRepartition {
		t.Fatalf("layout %q", got)
	}
	var sb strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&sb, "INSERT INTO users (ROWTIME, uid, region) VALUES (%d, 'u%d', 'r%d');\n", i, i, i%4)
	}
	execAll(t, e, s, sb.String())
	quiesce(t, e)
	sb.Reset()
	wantN, wantTotal := map[string]int64{}, map[string]int64{}
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, uid, amount) VALUES (%d, 'o%d', 'u%d', %d);\n", 100+i, i, i%30, i)
		r := fmt.Sprintf("r%d", (i%30)%4)
		wantN[r]++
		wantTotal[r] += int64(i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	processHalfCommitted(t, ctx, lg, queryTasks(e, q), 3, 40)
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	checkRegionTotals(t, e, s, wantN, wantTotal)
}

// TestTwoStageStreamJoinAggregationsMatchOneTask: aggregations of stream-stream joins of
// streams keyed otherwise run behind repartition stages of both streams and of the joined
// rows, and give the tables one task gives.
func TestTwoStageStreamJoinAggregationsMatchOneTask(t *testing.T) {
	run := func(orderParts, shipParts int) []string {
		e, _, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, item STRING, qty INT) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, orderParts),
			fmt.Sprintf(`CREATE STREAM ships (sid STRING KEY, ref STRING, carrier STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=%d);`, shipParts),
			`CREATE TABLE per_carrier AS SELECT s.carrier AS carrier, COUNT(*) AS n, SUM(o.qty) AS qty FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref WHERE o.qty > 0 GROUP BY s.carrier;`)
		want := plan.TasksSingle
		if orderParts > 1 {
			want = plan.TasksRepartition
		}
		if got := e.cat.queries["CTAS_PER_CARRIER_0"].doc.Tasks; got != want {
			t.Fatalf("layout %q, want %q", got, want)
		}
		var sb strings.Builder
		for i := 0; i < 200; i++ {
			ts := 10_000 + i*1000
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item, qty) VALUES (%d, 'o%d', 'i%d', %d);\n", ts, i, i%40, i%5)
			if i%5 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref, carrier) VALUES (%d, 's%d', 'i%d', 'c%d');\n", ts+500, i, (i*3)%40, i%4)
			}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		var out []string
		for _, r := range pullAll(t, e, s, "SELECT * FROM per_carrier;") {
			out = append(out, fmt.Sprint(r.Values))
		}
		return out
	}
	one, many := run(1, 1), run(3, 2)
	if len(one) != 4 || strings.Join(one, "\n") != strings.Join(many, "\n") {
		t.Fatalf("one task:\n%s\nrepartitioned:\n%s", strings.Join(one, "\n"), strings.Join(many, "\n"))
	}
	t.Logf("%s", strings.Join(one, " "))
}

// TestRekeyedStreamMatchesOneTask: PARTITION BY over a partitioned stream runs as one writer
// per source partition and one copier per sink partition, and writes, partition by partition
// and in order, the records one task writes: re-keyed rows, NULL keys and tombstones. A crash
// part way through, with writers and copiers committed or not, loses or repeats nothing.
func TestRekeyedStreamMatchesOneTask(t *testing.T) {
	run := func(partitions int, crashMidway bool) []string {
		dir := t.TempDir()
		e, lg, crash := openBadgerEngine(t, dir, true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf("CREATE STREAM src (id INT KEY, region STRING, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=%d);", partitions),
			"CREATE STREAM by_region WITH (partitions=3) AS SELECT region, id, v * 2 AS v2 FROM src PARTITION BY region;")
		want := plan.TasksSingle
		if partitions > 1 {
			want = plan.TasksRepartition
		}
		if got := e.cat.queries["CSAS_BY_REGION_0"].doc.Tasks; got != want {
			t.Fatalf("layout %q, want %q", got, want)
		}
		var recs []storage.Record
		for i := 0; i < 300; i++ {
			key := []byte{0, 0, 0, byte(i % 37)}
			val := []byte(fmt.Sprintf(`{"REGION":"r%d","V":%d}`, i%7, i))
			switch {
			case i%50 == 49:
				val = nil // a tombstone, forwarded re-keyed to a NULL key
			case i%23 == 0:
				val = []byte(fmt.Sprintf(`{"V":%d}`, i)) // a NULL region
			}
			recs = append(recs, storage.Record{Key: key, Value: val, Timestamp: int64(1000 + i), Partition: storage.PartitionFor(key, partitions)})
		}
		if _, err := lg.Append(context.Background(), "src", recs); err != nil {
			t.Fatal(err)
		}
		if crashMidway {
			ctx := context.Background()
			processHalfCommitted(t, ctx, lg, queryTasks(e, "CSAS_BY_REGION_0"), 2, 30)
			crash()
			e, lg, _ = openBadgerEngine(t, dir, true)
		}
		quiesce(t, e)
		// Keyed records in partition order; NULL-key ones stay in their source row's
		// partition (modulo the sink's count), which differs with the source's partition
		// count, so they compare as a set.
		var out, nullKeys []string
		for _, r := range topicRecords(t, lg, "BY_REGION") {
			if r.Key == nil {
				nullKeys = append(nullKeys, fmt.Sprintf("* null %d %s", r.Timestamp, r.Value))
				continue
			}
			out = append(out, fmt.Sprintf("%d %q %d %s", r.Partition, r.Key, r.Timestamp, r.Value))
		}
		sort.Strings(nullKeys)
		return append(out, nullKeys...)
	}
	one := run(1, false)
	if len(one) != 300 {
		t.Fatalf("one task wrote %d records, want 300", len(one))
	}
	if got := run(3, false); strings.Join(got, "\n") != strings.Join(one, "\n") {
		t.Errorf("repartitioned (%d records):\n%s\none task (%d records):\n%s", len(got), strings.Join(got, "\n"), len(one), strings.Join(one, "\n"))
	}
	// After a crash the copiers may interleave the writers' records otherwise (rows of one
	// sink partition come from several source partitions, whose relative order Kafka does
	// not define either): the same records, each once.
	got := run(3, true)
	sort.Strings(got)
	sorted := append([]string(nil), one...)
	sort.Strings(sorted)
	if strings.Join(got, "\n") != strings.Join(sorted, "\n") {
		t.Errorf("after a crash (%d records):\n%s\none task (%d records):\n%s", len(got), strings.Join(got, "\n"), len(sorted), strings.Join(sorted, "\n"))
	}
}

// TestBroadcastJoinWritersMatchOneTask: stream-table joins that cannot route a stream record
// to its last table's partition (the last join key comes from an earlier table; the result is
// re-keyed by PARTITION BY) run as one writer per stream partition, each reading the tables
// whole, and copiers into the sink. Their output is the one-task output, row for row, each
// row in the partition its key belongs to.
func TestBroadcastJoinWritersMatchOneTask(t *testing.T) {
	queries := []struct{ name, sql string }{
		{"BY_REGION", `CREATE STREAM by_region AS SELECT r.id AS rid, o.oid AS oid, c.name AS name, r.label AS label FROM orders o JOIN customers c ON o.cid = c.id LEFT JOIN regions r ON c.rid = r.id;`},
		{"BY_NAME", `CREATE STREAM by_name AS SELECT c.name AS name, o.oid AS oid, o.cid AS cid FROM orders o JOIN customers c ON o.cid = c.id PARTITION BY c.name;`},
	}
	run := func(streamParts int) (map[string]string, map[string][]string) {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			`CREATE TABLE customers (id STRING PRIMARY KEY, name STRING, rid STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=2);`,
			`CREATE TABLE regions (id STRING PRIMARY KEY, label STRING) WITH (kafka_topic='regions', value_format='JSON', partitions=3);`,
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, cid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, streamParts))
		for _, q := range queries {
			execAll(t, e, s, q.sql)
		}
		layouts := map[string][]string{}
		for _, id := range e.cat.order {
			layouts[id] = describeTasks(queryTasks(e, id))
		}
		for round := 0; round < 3; round++ {
			var sb strings.Builder
			for i := 0; i < 8; i++ {
				fmt.Fprintf(&sb, "INSERT INTO customers (ROWTIME, id, name, rid) VALUES (%d, 'c%d', 'n%d', 'r%d');\n", round*1000+i, i, (i+round)%5, (i+round)%4)
			}
			for i := 0; i < 3; i++ { // r3 has no region: the LEFT JOIN keeps NULLs
				fmt.Fprintf(&sb, "INSERT INTO regions (ROWTIME, id, label) VALUES (%d, 'r%d', 'l%d-%d');\n", round*1000+i, i, i, round)
			}
			execAll(t, e, s, sb.String())
			quiesce(t, e)
			sb.Reset()
			for i := 0; i < 40; i++ { // c8 and c9 have no customer: the inner join drops them
				fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, cid) VALUES (%d, 'o%d-%d', 'c%d');\n", round*1000+100+i, round, i, i%10)
			}
			execAll(t, e, s, sb.String())
			quiesce(t, e)
		}
		out := map[string]string{}
		for _, q := range queries {
			info, err := lg.DescribeTopic(context.Background(), q.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range topicRecords(t, lg, q.name) {
				var v struct{ OID string }
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatal(err)
				}
				k := q.name + " " + v.OID
				if _, dup := out[k]; dup {
					t.Errorf("%s: order %s twice", q.name, v.OID)
				}
				out[k] = string(r.Key) + " " + string(r.Value)
				if r.Key != nil {
					if p := storage.PartitionFor(r.Key, len(info.Partitions)); r.Partition != p {
						t.Errorf("%s: key %s in partition %d, want %d", q.name, r.Key, r.Partition, p)
					}
				}
			}
		}
		return out, layouts
	}
	want, oneLayouts := run(1)
	got, layouts := run(3)
	for id, l := range layouts {
		writers := 0
		for _, d := range l {
			if strings.HasPrefix(d, "r:orders/") {
				writers++
				if !strings.Contains(d, "customers/0,customers/1") {
					t.Errorf("%s: writer %s does not read customers whole", id, d)
				}
			}
		}
		if writers != 3 {
			t.Errorf("%s runs as %v; want 3 writers and copiers (one task: %v)", id, l, oneLayouts[id])
		}
	}
	if len(want) != 2*3*32 {
		t.Errorf("one task wrote %d rows, want %d", len(want), 2*3*32)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
}

// TestBroadcastJoinExactlyOnceAfterCrash: a crash while the writers (each reading the tables
// whole) and copiers of a chained-key join are part way through, some committed and some not,
// leaves every order in the output exactly once, joined to its region, after the restart.
func TestBroadcastJoinExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE TABLE customers (id STRING PRIMARY KEY, rid STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=2);`,
		`CREATE TABLE regions (id STRING PRIMARY KEY, label STRING) WITH (kafka_topic='regions', value_format='JSON', partitions=3);`,
		`CREATE STREAM orders (oid STRING KEY, cid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=3);`,
		`CREATE STREAM by_region AS SELECT r.id AS rid, o.oid AS oid, r.label AS label FROM orders o JOIN customers c ON o.cid = c.id JOIN regions r ON c.rid = r.id;`)
	insert := func(e *Engine, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			if i < 20 {
				fmt.Fprintf(&sb, "INSERT INTO customers (ROWTIME, id, rid) VALUES (%d, 'c%d', 'r%d');\n", i, i, i%5)
				fmt.Fprintf(&sb, "INSERT INTO regions (ROWTIME, id, label) VALUES (%d, 'r%d', 'l%d');\n", i, i, i)
			}
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, cid) VALUES (%d, 'o%d', 'c%d');\n", 100+i, i, i%20)
		}
		execAll(t, e, s, sb.String())
	}
	const q = "CSAS_BY_REGION_0"
	if e.cat.queries[q].doc.Tasks != plan.TasksRepartition {
		t.Fatalf("layout %q", e.cat.queries[q].doc.Tasks)
	}
	insert(e, 0, 150)
	quiesce(t, e)
	insert(e, 150, 300)
	ctx := context.Background()
	processHalfCommitted(t, ctx, lg, queryTasks(e, q), 2, 25)
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "BY_REGION")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		v, _ := r.Value.(map[string]any)
		seen[fmt.Sprint(v["OID"])]++
		i, _ := strconv.Atoi(strings.TrimPrefix(fmt.Sprint(v["OID"]), "o"))
		if want := fmt.Sprintf("l%d", i%20%5); v["LABEL"] != want {
			t.Errorf("order %v joined label %v, want %s", v["OID"], v["LABEL"], want)
		}
	}
	for i := 0; i < 300; i++ {
		if n := seen[fmt.Sprintf("o%d", i)]; n != 1 {
			t.Errorf("order o%d appears %d times", i, n)
		}
	}
}

// TestRepartitionedThreeWayStreamJoinMatchesOneTask: a join of three streams on one key of
// the first (a JOIN b ON a.k = b.k JOIN c ON a.k = c.k), none keyed by it, runs behind
// repartition stages of all three streams, and so does an aggregation of it (then behind a
// second stage for the groups). The sink records are the one-task records, each in the
// partition of its key.
func TestRepartitionedThreeWayStreamJoinMatchesOneTask(t *testing.T) {
	run := func(parts [3]int, sinkParts int) []string {
		e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
		s := NewSession()
		execAll(t, e, s,
			fmt.Sprintf(`CREATE STREAM orders (oid STRING KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=%d);`, parts[0]),
			fmt.Sprintf(`CREATE STREAM ships (sid STRING KEY, ref STRING, carrier STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=%d);`, parts[1]),
			fmt.Sprintf(`CREATE STREAM bills (bid STRING KEY, ref STRING, amount INT) WITH (kafka_topic='bills', value_format='JSON', partitions=%d);`, parts[2]),
			fmt.Sprintf(`CREATE STREAM all3 WITH (partitions=%d) AS SELECT o.item AS item, s.carrier AS carrier, b.amount AS amount FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref LEFT JOIN bills b WITHIN 1 MINUTE ON o.item = b.ref;`, sinkParts),
			fmt.Sprintf(`CREATE TABLE billed WITH (partitions=%d) AS SELECT o.item AS item, COUNT(*) AS n, SUM(b.amount) AS total FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref JOIN bills b WITHIN 1 MINUTE ON o.item = b.ref GROUP BY o.item;`, sinkParts))
		want := plan.TasksSingle
		if sinkParts > 1 {
			want = plan.TasksRepartition
		}
		for _, id := range e.cat.order {
			if got := e.cat.queries[id].doc.Tasks; got != want {
				t.Fatalf("%s: layout %q (%s), want %q", id, got, describeTasks(queryTasks(e, id)), want)
			}
		}
		var sb strings.Builder
		for i := 0; i < 90; i++ {
			ts := 10_000 + i*1000
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'o%d', 'i%d');\n", ts, i, i%30)
			if i%4 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref, carrier) VALUES (%d, 's%d', 'i%d', 'c%d');\n", ts+300, i, (i*7)%30, i%3)
			}
			if i%3 != 0 {
				fmt.Fprintf(&sb, "INSERT INTO bills (ROWTIME, bid, ref, amount) VALUES (%d, 'b%d', 'i%d', %d);\n", ts+600, i, (i*11)%30, i)
			}
		}
		// Stream time moves on in every join task, so that the LEFT join emits unmatched rows.
		for k := 0; k < 30; k++ {
			fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'late%d', 'i%d');\n", 10_000_000, k, k)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		var out []string
		for _, sink := range []string{"ALL3", "BILLED"} {
			for _, r := range topicRecords(t, lg, sink) {
				if sinkParts > 1 {
					if p := storage.PartitionFor(r.Key, sinkParts); r.Partition != p {
						t.Errorf("%s: key %s in partition %d, want %d", sink, r.Key, r.Partition, p)
					}
				}
				out = append(out, fmt.Sprintf("%s %s %d %s", sink, r.Key, r.Timestamp, r.Value))
			}
		}
		sort.Strings(out)
		return out
	}
	one, many := run([3]int{1, 1, 1}, 1), run([3]int{3, 2, 2}, 3)
	if n := strings.Count(strings.Join(one, "\n"), "BILLED "); n < 50 || len(one)-n < 50 {
		t.Fatalf("one task wrote %d BILLED and %d ALL3 records; the test needs both", n, len(one)-n)
	}
	if strings.Join(one, "\n") != strings.Join(many, "\n") {
		t.Fatalf("one task (%d records):\n%s\nrepartitioned (%d records):\n%s", len(one), strings.Join(one, "\n"), len(many), strings.Join(many, "\n"))
	}
}

// TestConsumedRepartitionRecordsAreDeleted: a repartition topic's reader deletes the records
// below its durably committed positions (whole segments), so the topic does not only grow; a
// restart resumes past them, and the results are unchanged.
func TestConsumedRepartitionRecordsAreDeleted(t *testing.T) {
	defer func(d int64) { repartPurgeEvery.Store(d) }(repartPurgeEvery.Load())
	repartPurgeEvery.Store(0)
	dir := t.TempDir()
	small := embedded.WithSegmentBytes(2048)
	e, lg, crash := openBadgerEngine(t, dir, true, small)
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM clicks (id STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=3);`,
		`CREATE TABLE per_page WITH (partitions=2) AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page;`)
	insert := func(e *Engine, from, to int) {
		// In rounds, so that the writers append many batches and the segments roll.
		for r := from; r < to; r += 50 {
			var sb strings.Builder
			for i := r; i < min(r+50, to); i++ {
				fmt.Fprintf(&sb, "INSERT INTO clicks (id, page) VALUES ('u%d', 'p%d');\n", i, i%7)
			}
			execAll(t, e, s, sb.String())
			quiesce(t, e)
		}
	}
	insert(e, 0, 600)
	parts, deleted := trimmedPartitions(t, lg, e.repartitionTopic("CTAS_PER_PAGE_0"))
	for _, p := range parts {
		if p.StartOffset > p.EndOffset {
			t.Fatalf("partition %d: start %d past end %d", p.Partition, p.StartOffset, p.EndOffset)
		}
	}
	if deleted == 0 {
		t.Fatalf("no repartition partition had consumed segments deleted: %+v", parts)
	}
	crash()
	e, _, _ = openBadgerEngine(t, dir, true, small)
	s = NewSession()
	insert(e, 600, 700)
	total := int64(0)
	for _, r := range pullAll(t, e, s, "SELECT * FROM per_page;") {
		n, _ := r.Values[1].(int64)
		total += n
	}
	if total != 700 {
		t.Fatalf("the counts add up to %d after the restart, want 700", total)
	}
}

// TestConsumedRepartitionRecordsAreDeletedByCopiers: an INSERT INTO query's copiers, whose
// positions their target's owners commit, delete what those commits hold as consumed.
func TestConsumedRepartitionRecordsAreDeletedByCopiers(t *testing.T) {
	defer func(d int64) { repartPurgeEvery.Store(d) }(repartPurgeEvery.Load())
	repartPurgeEvery.Store(0)
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true, embedded.WithSegmentBytes(2048))
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=3);`,
		`CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);`,
		`CREATE STREAM big AS SELECT id, v FROM other;`,
		`INSERT INTO big SELECT id, v FROM src;`)
	for r := 0; r < 600; r += 50 {
		var sb strings.Builder
		for i := r; i < r+50; i++ {
			fmt.Fprintf(&sb, "INSERT INTO src (id, v) VALUES (%d, %d);\n", i, i)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		for _, owner := range queryTasks(e, "CSAS_BIG_0") {
			commitLocked(t, owner) // the copiers' positions become durable with the owners
		}
	}
	parts, deleted := trimmedPartitions(t, lg, e.repartitionTopic(e.cat.order[1]))
	if deleted == 0 {
		t.Fatalf("no copier input had consumed segments deleted: %+v", parts)
	}
	if n := len(topicRecords(t, lg, "BIG")); n != 600 {
		t.Fatalf("BIG holds %d rows, want 600", n)
	}
}

// trimmedPartitions describes topic's partitions and counts those whose start moved past 0.
func trimmedPartitions(t *testing.T, lg *embedded.Log, topic string) ([]storage.PartitionInfo, int) {
	t.Helper()
	info, err := lg.DescribeTopic(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range info.Partitions {
		if p.StartOffset > 0 {
			n++
		}
	}
	return info.Partitions, n
}
