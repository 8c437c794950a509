package engine

import (
	"context"
	"fmt"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Rows that an INSERT VALUES or an INSERT INTO query appends to a persistent query's sink
// survive the sink owner's exactly-once recovery, which cuts each partition back to the
// owner's last committed mark: the appends go through the owner and move its mark.
func TestForeignAppendsToASinkSurviveRecovery(t *testing.T) {
	for _, partitions := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d partitions", partitions), func(t *testing.T) {
			dir := t.TempDir()
			e, lg, crash := openBadgerEngine(t, dir, true)
			s := NewSession()
			execAll(t, e, s,
				fmt.Sprintf("CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=%d);", partitions),
				fmt.Sprintf("CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=%d);", partitions),
				"CREATE STREAM big AS SELECT id, v FROM src;",
				"INSERT INTO big SELECT id, v FROM other;")
			// The INSERT INTO query runs one task per partition too.
			if ins := queryTasks(e, e.cat.order[1]); len(ins) != partitions {
				t.Fatalf("%s runs as %s", e.cat.order[1], describeTasks(ins))
			}
			var sb strings.Builder
			for i := 0; i < 20; i++ {
				fmt.Fprintf(&sb, "INSERT INTO src (id, v) VALUES (%d, %d);\n", i, i)
			}
			execAll(t, e, s, sb.String())
			quiesce(t, e)
			sb.Reset()
			for i := 100; i < 110; i++ {
				fmt.Fprintf(&sb, "INSERT INTO big (id, v) VALUES (%d, %d);\n", i, i)
				fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i+100, i+100)
			}
			execAll(t, e, s, sb.String())
			quiesce(t, e)
			// Some more source rows processed but never committed: recovery must cut those,
			// and only those.
			execAll(t, e, s, "INSERT INTO src (id, v) VALUES (50, 50);")
			ctx := context.Background()
			for _, tk := range queryTasks(e, "CSAS_BIG_0") {
				processSome(t, ctx, lg, tk, 10)
				if err := tk.flushOutput(ctx); err != nil {
					t.Fatal(err)
				}
			}
			crash()

			e, lg, _ = openBadgerEngine(t, dir, true)
			quiesce(t, e)
			var ids []string
			for _, r := range topicRecords(t, lg, "BIG") {
				ids = append(ids, string(r.Value))
			}
			sort.Strings(ids)
			if len(ids) != 20+10+10+1 {
				t.Fatalf("BIG holds %d rows, want 41 (each once):\n%s", len(ids), strings.Join(ids, "\n"))
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] == ids[i-1] {
					t.Errorf("BIG holds %s twice", ids[i])
				}
			}
		})
	}
}

// An INSERT INTO query running one task per partition is exactly once: its rows and the input
// offsets that produced them are committed together by the target's owner, so a crash before
// the query's own commit repeats nothing.
func TestInsertIntoPartitionTasksExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=3);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		"INSERT INTO big SELECT id, v FROM other;")
	var sb strings.Builder
	for i := 0; i < 90; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if len(ins) != 3 {
		t.Fatalf("INSERT INTO runs as %s", describeTasks(ins))
	}
	for _, tk := range ins {
		processSome(t, ctx, lg, tk, 20) // appended through the owner, never committed itself
	}
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	checkEachOnce(t, "BIG", valueCounts(t, lg, "BIG"), 90)
}

// TestRepartitionedInsertIntoExactlyOnceAfterCrash: an INSERT INTO query whose source has
// another partition count than its target runs as writers and copiers, the copiers appending
// through the target partitions' owners. A crash with writers and copiers part way through,
// some committed and some not, leaves every row in the target exactly once, in the partition
// its key belongs to. One task over every partition (the old layout) appended through three
// owners at once and repeated rows.
func TestRepartitionedInsertIntoExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		"INSERT INTO big SELECT id, v * 10 AS v FROM other WHERE v <> 7;")
	var sb strings.Builder
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 5 || got[0][:2] != "r:" || got[1][:2] != "r:" || got[2][:3] != "p0:" {
		t.Fatalf("INSERT INTO runs as %v; want 2 writers and 3 copiers", got)
	}
	// Writers and copiers alternate between committing and only appending; the target's
	// owners commit (with the copiers' positions) or not; then all append some more without
	// committing.
	processHalfCommitted(t, ctx, lg, ins, 3, 15)
	for i, owner := range queryTasks(e, e.cat.order[0]) {
		if i%2 == 0 {
			commitLocked(t, owner)
		}
	}
	for _, tk := range ins {
		processSome(t, ctx, lg, tk, 15)
		if err := tk.flushOutput(ctx); err != nil {
			t.Fatal(err)
		}
	}
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	seen := map[string]int{}
	info, err := lg.DescribeTopic(ctx, "BIG")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range topicRecords(t, lg, "BIG") {
		seen[string(r.Value)]++
		if want := storage.PartitionFor(r.Key, len(info.Partitions)); r.Partition != want {
			t.Errorf("row %s in partition %d, want %d", r.Value, r.Partition, want)
		}
	}
	checkEachOnce(t, "BIG", seen, 119)
	if _, ok := seen[`{"V":70}`]; ok {
		t.Error("the filtered row is in BIG")
	}
}

// TestSinglePartitionInsertIntoExactlyOnceAfterCrash: an INSERT INTO query from a
// one-partition stream into a one-partition target owns partition 0, so its rows go through
// the one owner together with its input offsets.
func TestSinglePartitionInsertIntoExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=1);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=1);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		"INSERT INTO big SELECT id, v FROM other;")
	var sb strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 1 || got[0] != "p0:other/0" {
		t.Fatalf("INSERT INTO runs as %v; want one task owning partition 0", got)
	}
	processSome(t, ctx, lg, ins[0], 25) // appended through the owner, never committed itself
	if err := ins[0].flushOutput(ctx); err != nil {
		t.Fatal(err)
	}
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	checkEachOnce(t, "BIG", valueCounts(t, lg, "BIG"), 40)
}

// TestJoinInsertIntoExactlyOnceAfterCrash: an INSERT INTO query of a stream-table join whose
// stream is not partitioned like the target runs as writers (each reading the table whole)
// and copiers through the target's owners: after a crash part way through, every joined row
// is in the target once.
func TestJoinInsertIntoExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE TABLE names (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='names', value_format='JSON', partitions=2);",
		"CREATE STREAM src (id INT KEY, name STRING) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM other (oid INT KEY, id INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);",
		"CREATE STREAM named AS SELECT id, name FROM src;",
		"INSERT INTO named SELECT o.id AS id, n.name AS name FROM other o JOIN names n ON o.id = n.id;")
	var sb strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "INSERT INTO names (ROWTIME, id, name) VALUES (%d, %d, 'n%d');\n", i, i, i)
	}
	execAll(t, e, s, sb.String())
	quiesce(t, e) // the writers hold the names before the test drives them input by input
	sb.Reset()
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (ROWTIME, oid, id) VALUES (%d, %d, %d);\n", 100+i, i, i%12) // ids 10, 11 have no name
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 5 || !strings.HasPrefix(got[0], "r:other/0,names/0,names/1") {
		t.Fatalf("INSERT INTO runs as %v; want 2 writers reading names whole and 3 copiers", got)
	}
	processHalfCommitted(t, ctx, lg, ins, 3, 15)
	for _, tk := range ins {
		processSome(t, ctx, lg, tk, 15)
		if err := tk.flushOutput(ctx); err != nil {
			t.Fatal(err)
		}
	}
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "NAMED")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[fmt.Sprintf("%v %v", r.Key, r.Value)]++
	}
	want := map[string]int{}
	for i := 0; i < 100; i++ {
		if id := i % 12; id < 10 {
			want[fmt.Sprintf("%d map[NAME:n%d]", id, id)]++
		}
	}
	if len(counts) != len(want) {
		t.Errorf("NAMED holds %d distinct rows, want %d: %v", len(counts), len(want), counts)
	}
	for row, n := range want {
		if counts[row] != n {
			t.Errorf("NAMED holds %s %d times, want %d", row, counts[row], n)
		}
	}
}

// TestCoPartitionedJoinInsertIntoKeepsStateAfterCrash: an INSERT INTO query of a join whose
// inputs are partitioned like the target keeps its join state in writers that commit it with
// their own positions. It used to run one task per partition whose positions the target's
// owner committed with the rows: after a crash the task resumed past table rows whose state it
// had never committed, and later orders joined nothing (9 of 18 rows).
func TestCoPartitionedJoinInsertIntoKeepsStateAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE TABLE names (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='names', value_format='JSON', partitions=3);",
		"CREATE STREAM src (id INT KEY, name STRING) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM other (id INT KEY, x INT) WITH (kafka_topic='other', value_format='JSON', partitions=3);",
		"CREATE STREAM named AS SELECT id, name FROM src;",
		"INSERT INTO named SELECT o.id AS id, n.name AS name FROM other o JOIN names n ON o.id = n.id;")
	insertOthers := func(e *Engine, ts int) {
		var sb strings.Builder
		for i := 0; i < 9; i++ {
			fmt.Fprintf(&sb, "INSERT INTO other (ROWTIME, id, x) VALUES (%d, %d, %d);\n", ts+i, i, ts+i)
		}
		execAll(t, e, s, sb.String())
	}
	var sb strings.Builder
	for i := 0; i < 9; i++ {
		fmt.Fprintf(&sb, "INSERT INTO names (ROWTIME, id, name) VALUES (%d, %d, 'n%d');\n", i, i, i)
	}
	execAll(t, e, s, sb.String())
	insertOthers(e, 100)
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 6 || !strings.HasPrefix(got[0], "r:other/0,names/0") {
		t.Fatalf("INSERT INTO runs as %v; want 3 writers, each reading its partition of names, and 3 copiers", got)
	}
	for _, tk := range ins {
		if tk.repart != nil {
			// A writer: the names first, so that the orders join; then it commits.
			processTablesFirst(t, ctx, lg, tk)
			if err := tk.commit(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// A copier: appends through the owner, which commits its positions; never commits
		// itself.
		processSome(t, ctx, lg, tk, 100)
		if err := tk.flushOutput(ctx); err != nil {
			t.Fatal(err)
		}
	}
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	insertOthers(e, 200)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "NAMED")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[fmt.Sprintf("%v %v", r.Key, r.Value)]++
	}
	if len(recs) != 18 || len(counts) != 9 {
		t.Errorf("NAMED holds %d rows (%d distinct), want 18 (9 distinct, each twice): %v", len(recs), len(counts), counts)
	}
	for row, n := range counts {
		if n != 2 {
			t.Errorf("NAMED holds %s %d times, want 2", row, n)
		}
	}
}

// TestInsertIntoPositionsCommitWithOwner: a stateless INSERT INTO task's rows and positions
// become durable at its owner's next commit, not at every append, and the task itself commits
// no positions that could get ahead of them.
func TestInsertIntoPositionsCommitWithOwner(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=2);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		"INSERT INTO big SELECT id, v FROM other;")
	var sb strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	owners := queryTasks(e, e.cat.order[0])
	if len(ins) != 2 || len(owners) != 2 || !ins[0].positionsInOwner {
		t.Fatalf("INSERT INTO runs as %v (positions in owner: %v), BIG as %v", describeTasks(ins), len(ins) > 0 && ins[0].positionsInOwner, describeTasks(owners))
	}
	tk, owner := ins[0], owners[0]
	key := insertOffsetKey(tk.id, tk.inputs[0].id())
	committedAt := func(st state.Store) (int64, bool) {
		offs, err := st.Offsets()
		if err != nil {
			t.Fatal(err)
		}
		v, ok := offs[key]
		if !ok {
			v, ok = offs[tk.inputs[0].id()]
		}
		return v, ok
	}
	processSome(t, ctx, lg, tk, 100)
	if err := tk.flushOutput(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tk.commit(); err != nil {
		t.Fatal(err)
	}
	if v, ok := committedAt(owner.store); ok {
		t.Errorf("the owner committed the task's position %d at the append; want at its next commit", v)
	}
	if v, ok := committedAt(tk.store); ok {
		t.Errorf("the task committed its own position %d while its owner had not committed its rows", v)
	}
	commitLocked(t, owner)
	if v, ok := committedAt(owner.store); !ok || v != tk.inputs[0].offset {
		t.Errorf("after the owner's commit: position %d (%v), want %d", v, ok, tk.inputs[0].offset)
	}
}

// TestStreamJoinInsertIntoExactlyOnceAfterCrash: an INSERT INTO query of a stream-stream join
// whose streams are not keyed by the join key runs in three stages (side writers, join
// writers keeping the join's state, copiers through the target's owners; it used to run as
// one task, at-least-once). After a crash with every stage part way through, each joined pair
// is in the target once, in the partition of its key.
func TestStreamJoinInsertIntoExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (item STRING KEY, oid STRING, sid STRING) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM orders (oid STRING KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=2);",
		"CREATE STREAM ships (sid STRING KEY, ref STRING) WITH (kafka_topic='ships', value_format='JSON', partitions=3);",
		"CREATE STREAM shipped AS SELECT item, oid, sid FROM src;",
		"INSERT INTO shipped SELECT o.item AS item, o.oid AS oid, s.sid AS sid FROM orders o JOIN ships s WITHIN 1 MINUTE ON o.item = s.ref;")
	var sb strings.Builder
	for i := 0; i < 120; i++ {
		// Item i is ordered once and shipped once, a little later.
		fmt.Fprintf(&sb, "INSERT INTO orders (ROWTIME, oid, item) VALUES (%d, 'o%d', 'i%d');\n", 1000+i*10, i, i)
		fmt.Fprintf(&sb, "INSERT INTO ships (ROWTIME, sid, ref) VALUES (%d, 's%d', 'i%d');\n", 1005+i*10, i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	ins := queryTasks(e, e.cat.order[1])
	if got := describeTasks(ins); len(got) != 2+3+3+3 {
		t.Fatalf("INSERT INTO runs as %v; want 5 side writers, 3 join writers and 3 copiers", got)
	}
	leaveInsertPartWay(t, ctx, lg, ins, queryTasks(e, e.cat.order[0]))
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "SHIPPED")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		v, _ := r.Value.(map[string]any)
		seen[fmt.Sprintf("%v %v %v", r.Key, v["OID"], v["SID"])]++
	}
	for i := 0; i < 120; i++ {
		if n := seen[fmt.Sprintf("i%d o%d s%d", i, i, i)]; n != 1 {
			t.Errorf("pair %d appears %d times", i, n)
		}
	}
	if len(recs) != 120 {
		t.Errorf("SHIPPED holds %d rows, want 120", len(recs))
	}
	for _, r := range topicRecords(t, lg, "SHIPPED") {
		if p := storage.PartitionFor(r.Key, 3); r.Partition != p {
			t.Errorf("key %s in partition %d, want %d", r.Key, r.Partition, p)
		}
	}
}

// TestFilteredInsertIntoPositionsReachOwner: input an INSERT INTO task filters out entirely
// appends nothing, yet the task's positions still reach its owner's next commit, so a restart
// does not read that input again.
func TestFilteredInsertIntoPositionsReachOwner(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=2);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		"INSERT INTO big SELECT id, v FROM other WHERE v < 0;")
	var sb strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	tk, owner := queryTasks(e, e.cat.order[1])[0], queryTasks(e, e.cat.order[0])[0]
	processSome(t, ctx, lg, tk, 100)
	if tk.inputs[0].offset == 0 {
		t.Fatal("the task read nothing")
	}
	if err := tk.commit(); err != nil {
		t.Fatal(err)
	}
	commitLocked(t, owner)
	offs, err := owner.store.Offsets()
	if err != nil {
		t.Fatal(err)
	}
	if got := offs[insertOffsetKey(tk.id, tk.inputs[0].id())]; got != tk.inputs[0].offset {
		t.Errorf("the owner committed position %d, want %d", got, tk.inputs[0].offset)
	}
}

// TestLegacyJoinInsertIntoPartitionTasksLoseNothing: an INSERT INTO query of a co-partitioned
// join that an earlier release started as one task per partition keeps that layout (its state
// is in those tasks' stores), but no longer lets the target's owner commit its positions: the
// owner cannot commit the task's join state with them, and after a crash the task resumed past
// table rows it had never stored. It is at-least-once instead: every joined row survives.
func TestLegacyJoinInsertIntoPartitionTasksLoseNothing(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE TABLE names (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='names', value_format='JSON', partitions=3);",
		"CREATE STREAM src (id INT KEY, name STRING) WITH (kafka_topic='src', value_format='JSON', partitions=3);",
		"CREATE STREAM other (id INT KEY, x INT) WITH (kafka_topic='other', value_format='JSON', partitions=3);",
		"CREATE STREAM named AS SELECT id, name FROM src;")
	// What an earlier release left: partition task 0's store with a committed source offset.
	legacy, err := e.states.Open("INSERTQUERY_1-p0")
	if err != nil {
		t.Fatal(err)
	}
	if err := legacy.Commit(map[string]int64{"in:other/0": 0}); err != nil {
		t.Fatal(err)
	}
	legacy.Close()
	execAll(t, e, s, "INSERT INTO named SELECT o.id AS id, n.name AS name FROM other o JOIN names n ON o.id = n.id;")
	ins := queryTasks(e, "INSERTQUERY_1")
	if got := describeTasks(ins); len(got) != 3 || got[0] != "p0:other/0,names/0" || ins[0].positionsInOwner {
		t.Fatalf("INSERT INTO runs as %v (positions in owner: %v); want the earlier release's partition tasks, keeping their own positions", got, len(ins) > 0 && ins[0].positionsInOwner)
	}
	var sb strings.Builder
	for i := 0; i < 9; i++ {
		fmt.Fprintf(&sb, "INSERT INTO names (ROWTIME, id, name) VALUES (%d, %d, 'n%d');\n", i, i, i)
		fmt.Fprintf(&sb, "INSERT INTO other (ROWTIME, id, x) VALUES (%d, %d, %d);\n", 100+i, i, i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	for _, tk := range ins {
		processTablesFirst(t, ctx, lg, tk)          // names first, then others
		if err := tk.flushOutput(ctx); err != nil { // appended through the owner; never committed itself
			t.Fatal(err)
		}
	}
	crash()

	e, _, _ = openBadgerEngine(t, dir, true)
	sb.Reset()
	for i := 0; i < 9; i++ {
		fmt.Fprintf(&sb, "INSERT INTO other (ROWTIME, id, x) VALUES (%d, %d, %d);\n", 200+i, i, 200+i)
	}
	execAll(t, e, s, sb.String())
	quiesce(t, e)
	recs, err := e.ReadLogical(ctx, "NAMED")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[fmt.Sprintf("%v %v", r.Key, r.Value)]++
	}
	for i := 0; i < 9; i++ {
		if n := counts[fmt.Sprintf("%d map[NAME:n%d]", i, i)]; n < 2 {
			t.Errorf("NAMED holds id %d %d times, want at least 2 (one per order)", i, n)
		}
	}
}

// processTablesFirst processes what each of tk's inputs holds (up to 100 records), last input
// first: a join task's tables come after its stream, and reading them first lets the stream's
// records join, as the timestamp order of the run loop would.
func processTablesFirst(t *testing.T, ctx context.Context, lg *embedded.Log, tk *task) {
	t.Helper()
	for k := len(tk.inputs) - 1; k >= 0; k-- {
		in := tk.inputs[k]
		recs, err := lg.Read(ctx, in.topic, in.partition, in.offset, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tk.process(in, recs); err != nil {
			t.Fatal(err)
		}
	}
}

// commitLocked commits tk under its lock, as its run loop would.
// leaveInsertPartWay leaves an INSERT INTO query's tasks (ins) part way through, as a crash
// finds them: a few rounds processed, half of them committed; every other owner of the target
// committed; then one more round appended through the owners and never committed.
func leaveInsertPartWay(t *testing.T, ctx context.Context, lg *embedded.Log, ins, owners []*task) {
	t.Helper()
	processHalfCommitted(t, ctx, lg, ins, 4, 20)
	for i, owner := range owners {
		if i%2 == 1 {
			commitLocked(t, owner)
		}
	}
	for _, tk := range ins {
		processSome(t, ctx, lg, tk, 20)
		if err := tk.flushOutput(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func commitLocked(t *testing.T, tk *task) {
	t.Helper()
	tk.mu.Lock()
	err := tk.commit()
	tk.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTerminatedInsertIntoForgetsItsPositions: an INSERT INTO query keeps its positions in its
// target's owner; once terminated, a new query given the same QUERY_ID reads its source as a
// new query does (here from the earliest offset), not from where the old one stopped.
func TestTerminatedInsertIntoForgetsItsPositions(t *testing.T) {
	dir := t.TempDir()
	e, lg, _ := openBadgerEngine(t, dir, true)
	s := NewSession()
	s.Props["auto.offset.reset"] = "earliest"
	insert := "INSERT INTO big WITH (QUERY_ID='copy') SELECT id, v FROM other;"
	execAll(t, e, s,
		"CREATE STREAM src (id INT KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=2);",
		"CREATE STREAM other (id INT KEY, v INT) WITH (kafka_topic='other', value_format='JSON', partitions=2);",
		"CREATE STREAM big AS SELECT id, v FROM src;",
		insert)
	rows := func(from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&sb, "INSERT INTO other (id, v) VALUES (%d, %d);\n", i, i)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	rows(0, 10)
	if ins := queryTasks(e, "COPY"); len(ins) != 2 || !ins[0].positionsInOwner {
		t.Fatalf("INSERT INTO runs as %s, positions in owner %v", describeTasks(ins), len(ins) > 0 && ins[0].positionsInOwner)
	}
	execAll(t, e, s, "TERMINATE copy;")
	rows(10, 15)
	execAll(t, e, s, insert)
	quiesce(t, e)
	if n := len(topicRecords(t, lg, "BIG")); n != 25 {
		t.Fatalf("BIG holds %d rows, want 25: 10 from the first query, all 15 again from the second", n)
	}
}

// TestInsertIntoPlainStreamExactlyOnceAfterCrash: a stream no query writes gets standalone
// owners while INSERT INTO queries write it, so their rows (and INSERT VALUES rows) are
// committed with the queries' positions before they count, and an append the crash left
// uncommitted is cut on restart. After a clean TERMINATE the owners stop: rows inserted
// afterwards, without an owner, survive a crash and a restart.
func TestInsertIntoPlainStreamExactlyOnceAfterCrash(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=3);",
		"CREATE STREAM b (id INT KEY, v INT) WITH (kafka_topic='b', value_format='JSON', partitions=2);",
		"CREATE STREAM merged (id INT KEY, v INT) WITH (kafka_topic='merged', value_format='JSON', partitions=3);",
		"INSERT INTO merged SELECT id, v FROM a;", // one task per partition
		"INSERT INTO merged SELECT id, v FROM b;") // writers and copiers
	var sb strings.Builder
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&sb, "INSERT INTO a (id, v) VALUES (%d, %d);\n", i, i)
		fmt.Fprintf(&sb, "INSERT INTO b (id, v) VALUES (%d, %d);\n", 1000+i, 1000+i)
	}
	execAll(t, e, s, sb.String())
	ctx := context.Background()
	var tasks []*task
	for _, id := range e.cat.order {
		tasks = append(tasks, queryTasks(e, id)...)
	}
	processHalfCommitted(t, ctx, lg, tasks, 3, 15)
	execAll(t, e, s, "INSERT INTO merged (id, v) VALUES (5000, 5000);")
	// An append the crash caught between the log and the owner's commit.
	if _, err := lg.Append(ctx, "merged", []storage.Record{{Key: []byte(`7`), Value: []byte(`{"V":-1}`), Partition: 1}}); err != nil {
		t.Fatal(err)
	}
	crash()

	e, lg, crash = openBadgerEngine(t, dir, true)
	s = NewSession()
	quiesce(t, e)
	seen := valueCounts(t, lg, "merged")
	for i := 0; i < 120; i++ {
		for _, v := range []int{i, 1000 + i} {
			if n := seen[fmt.Sprintf(`{"V":%d}`, v)]; n != 1 {
				t.Errorf("row %d appears %d times", v, n)
			}
		}
	}
	if n := seen[`{"V":5000}`]; n != 1 {
		t.Errorf("the INSERT VALUES row appears %d times", n)
	}
	if n := seen[`{"V":-1}`]; n != 0 {
		t.Errorf("the uncommitted append survived the restart")
	}
	if len(seen) != 241 {
		t.Errorf("merged holds %d distinct rows, want 241", len(seen))
	}

	// Both queries end: the owners stop cleanly, rows inserted afterwards go straight to the
	// log, and a crash must not cut them.
	for _, id := range append([]string(nil), e.cat.order...) {
		execAll(t, e, s, "TERMINATE "+id+";")
	}
	execAll(t, e, s, "INSERT INTO merged (id, v) VALUES (6000, 6000);")
	crash()
	e, lg, _ = openBadgerEngine(t, dir, true)
	s = NewSession()
	// A new INSERT INTO query opens the owners again, from the clean stop: nothing to cut.
	execAll(t, e, s, "INSERT INTO merged SELECT id, v FROM a;")
	quiesce(t, e)
	if n := valueCounts(t, lg, "merged")[`{"V":6000}`]; n != 1 {
		t.Errorf("a row inserted after the INSERT INTO queries ended appears %d times after a crash", n)
	}
}

// TestPlainStreamOwnerSweptAtStartup: an owner that committed itself running, for a stream no
// INSERT INTO query writes after the restart (its query ended in the crash), has its partition
// cut back to its mark at startup, and is marked stopped, before anyone appends there again.
func TestPlainStreamOwnerSweptAtStartup(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM merged (id INT KEY, v INT) WITH (kafka_topic='merged', value_format='JSON', partitions=1);",
		"INSERT INTO merged (id, v) VALUES (1, 1);")
	// As a crashed owner leaves it: running, its mark after the first row.
	st, err := e.states.Open(plainStoreID("merged", 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(map[string]int64{plainLiveKey: 1, "out:0": 1}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	if _, err := lg.Append(context.Background(), "merged", []storage.Record{{Key: []byte(`2`), Value: []byte(`{"V":2}`), Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	crash()

	e, lg, crash = openBadgerEngine(t, dir, true)
	s = NewSession()
	if recs := topicRecords(t, lg, "merged"); len(recs) != 1 || string(recs[0].Value) != `{"V":1}` {
		t.Fatalf("after the sweep merged holds %d rows, want the committed one", len(recs))
	}
	execAll(t, e, s, "INSERT INTO merged (id, v) VALUES (3, 3);")
	crash()
	_, lg, _ = openBadgerEngine(t, dir, true)
	if recs := topicRecords(t, lg, "merged"); len(recs) != 2 {
		t.Fatalf("a row inserted after the sweep was cut by the next restart: %d rows", len(recs))
	}
}

// TestDropStreamDropsPlainOwnerStores: dropping a stream that INSERT INTO queries wrote ends
// them, stops its owners and deletes their stores.
func TestDropStreamDropsPlainOwnerStores(t *testing.T) {
	e, _, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);",
		"CREATE STREAM merged (id INT KEY, v INT) WITH (kafka_topic='merged', value_format='JSON', partitions=2);",
		"INSERT INTO merged SELECT id, v FROM a;",
		"INSERT INTO merged (id, v) VALUES (1, 1);")
	if n := len(e.plainOwners["merged"]); n != 2 {
		t.Fatalf("%d owners for merged, want 2", n)
	}
	execAll(t, e, s, "DROP STREAM merged;")
	if n := len(e.plainOwners["merged"]); n != 0 {
		t.Fatalf("%d owners left after DROP", n)
	}
	for p := int32(0); p < 2; p++ {
		st, err := e.states.Open(plainStoreID("merged", p))
		if err != nil {
			t.Fatal(err)
		}
		offs, err := st.Offsets()
		_ = st.Close()
		if err != nil || len(offs) != 0 {
			t.Errorf("partition %d's owner store after DROP: %v %v", p, offs, err)
		}
	}
}

// TestPlainStreamOwnersUnderConcurrentInserts: in server mode, INSERT VALUES from several
// goroutines and a running INSERT INTO query append to a plain stream through its owners
// while the query is terminated part way; every row lands once.
func TestPlainStreamOwnersUnderConcurrentInserts(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), false)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);",
		"CREATE STREAM merged (id INT KEY, v INT) WITH (kafka_topic='merged', value_format='JSON', partitions=2);",
		"INSERT INTO merged SELECT id, v FROM a;")
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := NewSession()
			for i := 0; i < 40; i++ {
				v := 10_000*(w+1) + i
				if _, err := e.Execute(context.Background(), s, fmt.Sprintf("INSERT INTO merged (id, v) VALUES (%d, %d);", v, v)); err != nil {
					t.Error(err)
					return
				}
				if w == 0 {
					if _, err := e.Execute(context.Background(), s, fmt.Sprintf("INSERT INTO a (id, v) VALUES (%d, %d);", i, i)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(w)
	}
	time.Sleep(20 * time.Millisecond)
	quiesce(t, e)
	execAll(t, e, s, "TERMINATE "+e.cat.order[0]+";")
	wg.Wait()
	seen := valueCounts(t, lg, "merged")
	for w := 0; w < 3; w++ {
		for i := 0; i < 40; i++ {
			if n := seen[fmt.Sprintf(`{"V":%d}`, 10_000*(w+1)+i)]; n != 1 {
				t.Errorf("inserted row %d appears %d times", 10_000*(w+1)+i, n)
			}
		}
	}
	checkEachOnce(t, "merged", seen, -1)
}

// TestCSASIntoPlainOwnersTopicTakesOver: a CSAS into the topic of a plain stream that an
// INSERT INTO query writes takes the partitions over; the standalone owners stop, so that only
// one owner cuts each partition after a crash, and rows inserted since survive one.
func TestCSASIntoPlainOwnersTopicTakesOver(t *testing.T) {
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);",
		"CREATE STREAM merged (id INT KEY, v INT) WITH (kafka_topic='merged', value_format='JSON', partitions=2);",
		"INSERT INTO merged SELECT id, v FROM a;")
	if n := len(e.plainOwners["merged"]); n != 2 {
		t.Fatalf("%d owners for merged, want 2", n)
	}
	execAll(t, e, s, "CREATE STREAM c WITH (kafka_topic='merged') AS SELECT id, v FROM a;")
	if n := len(e.plainOwners["merged"]); n != 0 {
		t.Fatalf("%d standalone owners left after the CSAS took the topic", n)
	}
	execAll(t, e, s, "INSERT INTO merged (id, v) VALUES (7, 7);")
	crash()
	_, lg, _ = openBadgerEngine(t, dir, true)
	n := 0
	for _, r := range topicRecords(t, lg, "merged") {
		if string(r.Value) == `{"V":7}` {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the inserted row appears %d times after a crash", n)
	}
}

// TestCSASIntoAnotherSinksTopicIsRefused: two queries writing one topic would cut each
// other's rows on recovery, so a CSAS into the topic of another query's sink is refused
// (INSERT INTO is the way to add rows there); CREATE OR REPLACE of the same sink is not.
func TestCSASIntoAnotherSinksTopicIsRefused(t *testing.T) {
	e, lg, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);",
		"CREATE STREAM big AS SELECT id, v FROM a WHERE v > 10;")
	_, err := e.Execute(context.Background(), s, "CREATE STREAM other WITH (kafka_topic='BIG') AS SELECT id, v FROM a;")
	if err == nil || !strings.Contains(err.Error(), "already written by query CSAS_BIG_0") {
		t.Fatalf("CSAS into BIG's topic: %v", err)
	}
	// The replacing query reopens the replaced one's stores: it goes on from its positions.
	execAll(t, e, s, "INSERT INTO a (id, v) VALUES (1, 30);")
	quiesce(t, e)
	execAll(t, e, s, "CREATE OR REPLACE STREAM big AS SELECT id, v FROM a WHERE v > 20;",
		"INSERT INTO a (id, v) VALUES (2, 15);", "INSERT INTO a (id, v) VALUES (3, 25);")
	quiesce(t, e)
	var got []string
	for _, r := range topicRecords(t, lg, "BIG") {
		got = append(got, string(r.Value))
	}
	sort.Strings(got)
	if fmt.Sprint(got) != `[{"V":25} {"V":30}]` {
		t.Errorf("BIG after CREATE OR REPLACE: %v", got)
	}
	execAll(t, e, s, "TERMINATE CSAS_BIG_0;", "CREATE STREAM other WITH (kafka_topic='BIG') AS SELECT id, v FROM a;")
}

// valueCounts counts topic's records by value.
func valueCounts(t *testing.T, lg storage.Log, topic string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range topicRecords(t, lg, topic) {
		seen[string(r.Value)]++
	}
	return seen
}

// checkEachOnce reports every value that topic holds other than once (seen: valueCounts), and
// a number of distinct values other than distinct (-1: any number).
func checkEachOnce(t *testing.T, topic string, seen map[string]int, distinct int) {
	t.Helper()
	if distinct >= 0 && len(seen) != distinct {
		t.Errorf("%s holds %d distinct rows, want %d", topic, len(seen), distinct)
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("%s holds %s %d times", topic, v, n)
		}
	}
}
