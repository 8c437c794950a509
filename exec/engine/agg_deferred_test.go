package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// TestDeferredAggregateWritesSurviveCrash runs a windowed and a plain aggregation with a tiny
// pending bound, so that commits write chunks, write the oldest entries out to the aggregate
// table and delete chunks, all while pull queries read through the chunks. It crashes with
// chunks and written-out entries both in the store and checks that every result appears
// exactly once and the pull queries give every group's exact totals.
func TestDeferredAggregateWritesSurviveCrash(t *testing.T) {
	defer func(c int, s float64) { maxAggCacheEntries, pendingShare = c, s }(maxAggCacheEntries, pendingShare)
	maxAggCacheEntries, pendingShare = 2000, 0.1 // 100 pending entries per task
	const ids, windowMs = 300, 600
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (id INT KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=2);",
		fmt.Sprintf("CREATE TABLE w AS SELECT id, COUNT(*) AS n, SUM(v) AS total FROM s WINDOW TUMBLING (SIZE %d MILLISECONDS) GROUP BY id;", windowMs),
		"CREATE TABLE g AS SELECT id, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY id;",
	)
	type agg struct{ n, total int64 }
	want := map[[2]int64]agg{} // (id, window start) -> totals; window start -1: table g
	insert := func(e *Engine, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			id, ts := int64(i%ids), int64(i)
			fmt.Fprintf(&sb, "INSERT INTO s (ROWTIME, id, v) VALUES (%d, %d, %d);\n", ts, id, i)
			for _, k := range [][2]int64{{id, ts / windowMs * windowMs}, {id, -1}} {
				a := want[k]
				a.n++
				a.total += int64(i)
				want[k] = a
			}
		}
		execAll(t, e, s, sb.String())
	}
	check := func(e *Engine, s *Session, upTo int) {
		t.Helper()
		var wg sync.WaitGroup
		for id := int64(0); id < ids; id += 7 {
			wg.Add(1)
			go func() { // concurrent pull queries share the chunk index
				defer wg.Done()
				rows := pullAll(t, e, s, fmt.Sprintf("SELECT id, WINDOWSTART, n, total FROM w WHERE id = %d;", id))
				var got []string
				for _, r := range rows {
					got = append(got, fmt.Sprint(r.Values[1], ":", r.Values[2], "/", r.Values[3]))
				}
				var exp []string
				for ws := int64(0); ws*1 < int64(upTo); ws += windowMs {
					if a, ok := want[[2]int64{id, ws}]; ok {
						exp = append(exp, fmt.Sprint(ws, ":", a.n, "/", a.total))
					}
				}
				if strings.Join(got, " ") != strings.Join(exp, " ") {
					t.Errorf("w id %d: %v, want %v", id, got, exp)
				}
			}()
		}
		wg.Wait()
		windows, groups := 0, 0
		for k := range want {
			if k[1] >= 0 {
				windows++
			} else {
				groups++
			}
		}
		if rows := pullAll(t, e, s, "SELECT * FROM w;"); len(rows) != windows {
			t.Errorf("scan of w: %d rows, want %d", len(rows), windows)
		}
		rows := pullAll(t, e, s, "SELECT id, n, total FROM g;")
		if len(rows) != groups {
			t.Errorf("scan of g: %d rows, want %d", len(rows), groups)
		}
		for _, r := range rows {
			a := want[[2]int64{int64(r.Values[0].(int32)), -1}]
			if r.Values[1] != a.n || r.Values[2] != a.total {
				t.Errorf("g id %v: n=%v total=%v, want %d/%d", r.Values[0], r.Values[1], r.Values[2], a.n, a.total)
			}
		}
	}
	for from := 0; from < 900; from += 100 { // a commit per batch
		insert(e, from, from+100)
		quiesce(t, e)
		if from < 300 || from%300 == 200 {
			// Pull queries after each of the first commits, then after three at a time, so
			// that chunks come and go between two of them.
			check(e, s, from+100)
		}
	}
	for _, id := range []string{"CTAS_W_0", "CTAS_G_1"} {
		for _, tk := range queryTasks(e, id) {
			d := tk.pl.agg.deferred
			if d == nil {
				t.Fatalf("%s: deferred writes are off", id)
			}
			written, chunks := 0, 0
			r := tk.store.ReadCommitted()
			if err := r.Scan(aggTable, nil, nil, func(_, _ []byte) bool { written++; return true }); err != nil {
				t.Fatal(err)
			}
			if err := r.Scan(aggChunkTable, nil, nil, func(_, _ []byte) bool { chunks++; return true }); err != nil {
				t.Fatal(err)
			}
			if written == 0 || chunks == 0 || d.firstChunk == 0 || uint64(chunks) != d.nextChunk-d.firstChunk {
				t.Fatalf("%s partition %d: %d entries written out, %d chunks (live %d..%d): want both, and old chunks deleted", id, tk.only, written, chunks, d.firstChunk, d.nextChunk)
			}
			if d.pending > tk.pl.agg.pendingLimit()+maxPendingWrites {
				t.Errorf("%s partition %d: %d entries pending", id, tk.only, d.pending)
			}
		}
	}

	// Half the tasks process part of the next input and commit; the rest is in flight.
	insert(e, 900, 1500)
	ctx := context.Background()
	for _, id := range []string{"CTAS_W_0", "CTAS_G_1"} {
		for i, tk := range queryTasks(e, id) {
			processSome(t, ctx, lg, tk, 150)
			if i == 0 {
				if err := tk.commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	s = NewSession()
	insert(e, 1500, 1800)
	quiesce(t, e)
	check(e, s, 1800)
	for sink, perKey := range map[string]int{"W": 2, "G": 6} {
		for k, n := range checkCountChangelog(t, lg, sink, 1800) {
			if n != int64(perKey) {
				t.Errorf("%s key %x: %d updates, want %d", sink, k, n, perKey)
			}
		}
	}
}

// TestDeferredAggregatePullsDuringCommits runs pull queries while the run loop commits, writes
// entries out and deletes chunks: a key's count never goes backwards from one pull to the
// next, and the last pull sees every record.
func TestDeferredAggregatePullsDuringCommits(t *testing.T) {
	defer func(c int, s float64) { maxAggCacheEntries, pendingShare = c, s }(maxAggCacheEntries, pendingShare)
	maxAggCacheEntries, pendingShare = 2000, 0.1
	e, lg, _ := openBadgerEngine(t, t.TempDir(), false)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=2);",
		"CREATE TABLE c AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;",
	)
	const keys, rounds, perRound = 500, 40, 500
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for r := range rounds {
			var recs []storage.Record
			for i := range perRound {
				k := []byte(fmt.Sprintf("k%d", (r*perRound+i)%keys))
				recs = append(recs, storage.Record{Key: k, Value: []byte(`{"V":1}`), Timestamp: int64(r*perRound + i), Partition: storage.PartitionFor(k, 2)})
			}
			if _, err := lg.Append(ctx, "s", recs); err != nil {
				done <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		done <- nil
	}()
	last := map[string]int64{}
	pull := func() {
		for _, r := range pullAll(t, e, s, "SELECT k, n FROM c;") {
			k, n := r.Values[0].(string), r.Values[1].(int64)
			if n < last[k] {
				t.Fatalf("key %s: count went back from %d to %d", k, last[k], n)
			}
			last[k] = n
		}
	}
	for produced := false; !produced; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			produced = true
		default:
			pull()
			for _, k := range []string{"k1", "k250", "k499"} {
				pullAll(t, e, s, fmt.Sprintf("SELECT n FROM c WHERE k = '%s';", k))
			}
		}
	}
	quiesce(t, e)
	pull()
	for i := range keys {
		if n := last[fmt.Sprintf("k%d", i)]; n != rounds*perRound/keys {
			t.Fatalf("k%d: count %d, want %d", i, n, rounds*perRound/keys)
		}
	}
	wrote := false
	for _, tk := range queryTasks(e, "CTAS_C_0") {
		wrote = wrote || tk.pl.agg.deferred.firstChunk > 0
	}
	if !wrote {
		t.Fatal("no chunk was ever deleted: the test did not exercise write-out")
	}
}

// TestDeferredAggregateChunkLogStaysBounded: a group updated once, and never again, is written
// out once its chunk is maxLiveChunks old, so the chunk log does not grow behind it.
func TestDeferredAggregateChunkLogStaysBounded(t *testing.T) {
	defer func(m uint64) { maxLiveChunks = m }(maxLiveChunks)
	maxLiveChunks = 8
	dir := t.TempDir()
	e, _, _ := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE TABLE c AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY k;",
		"INSERT INTO s (k, v) VALUES ('lonely', 7);",
	)
	quiesce(t, e)
	for i := range 40 { // a commit each
		execAll(t, e, s, fmt.Sprintf("INSERT INTO s (k, v) VALUES ('busy', %d);", i))
		quiesce(t, e)
	}
	tk := queryTasks(e, "CTAS_C_0")[0]
	d := tk.pl.agg.deferred
	chunks := 0
	if err := tk.store.ReadCommitted().Scan(aggChunkTable, nil, nil, func(_, _ []byte) bool { chunks++; return true }); err != nil {
		t.Fatal(err)
	}
	if chunks > int(maxLiveChunks) || d.nextChunk < 40 {
		t.Fatalf("%d chunks live (%d..%d), want at most %d", chunks, d.firstChunk, d.nextChunk, maxLiveChunks)
	}
	if len(d.queue)-d.qhead > 2*int(maxLiveChunks) {
		t.Errorf("pending queue holds %d items", len(d.queue)-d.qhead)
	}
	if _, ok, _ := tk.store.ReadCommitted().Get(aggTable, encodeGroupKey([]any{"lonely"}, []*types.Type{types.StringType})); !ok {
		t.Error("the lonely group was not written out")
	}
	for k, want := range map[string]string{"lonely": "1/7", "busy": "40/780"} {
		rows := pullAll(t, e, s, fmt.Sprintf("SELECT n, total FROM c WHERE k = '%s';", k))
		if len(rows) != 1 || fmt.Sprint(rows[0].Values[0], "/", rows[0].Values[1]) != want {
			t.Errorf("%s: %v, want %s", k, rows, want)
		}
	}
}

// TestDeferredAggregateSwitchesMode: with every update on a new group, nothing is absorbed and
// the aggregation writes straight to the table (after writing out every pending entry and
// deleting every chunk); when updates come back to recent groups, it defers again. A crash
// after the switches loses and repeats nothing.
func TestDeferredAggregateSwitchesMode(t *testing.T) {
	defer func(c int) { maxAggCacheEntries = c }(maxAggCacheEntries)
	maxAggCacheEntries = 2000 // 1,000 pending entries
	dir := t.TempDir()
	e, lg, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE TABLE c AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY k;",
	)
	want := map[string][2]int64{}
	batch := func(e *Engine, s *Session, key func(i int) string, from int) {
		var sb strings.Builder
		for i := from; i < from+500; i++ {
			k := key(i)
			fmt.Fprintf(&sb, "INSERT INTO s (k, v) VALUES ('%s', %d);\n", k, i)
			w := want[k]
			want[k] = [2]int64{w[0] + 1, w[1] + int64(i)}
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	state := func(e *Engine) (*deferredWrites, int) {
		tk := queryTasks(e, "CTAS_C_0")[0]
		chunks := 0
		if err := tk.store.ReadCommitted().Scan(aggChunkTable, nil, nil, func(_, _ []byte) bool { chunks++; return true }); err != nil {
			t.Fatal(err)
		}
		return tk.pl.agg.deferred, chunks
	}
	fresh := func(i int) string { return fmt.Sprintf("new%d", i) }
	for b := range 10 {
		batch(e, s, fresh, b*500)
	}
	if d, chunks := state(e); !d.direct || chunks != 0 || d.pending != 0 {
		t.Fatalf("only new groups: direct=%v, %d chunks (%d..%d), %d pending (absorbed %.0f of %.0f); want direct, none", d.direct, chunks, d.firstChunk, d.nextChunk, d.pending, d.absorbed, d.updated)
	}
	hot := func(i int) string { return fmt.Sprintf("hot%d", i%500) }
	for b := range 10 {
		batch(e, s, hot, 5000+b*500)
	}
	if d, chunks := state(e); d.direct || chunks == 0 {
		t.Fatalf("the same groups again and again: direct=%v, %d chunks (absorbed %.0f of %.0f); want deferred", d.direct, chunks, d.absorbed, d.updated)
	}
	crash()

	e, lg, _ = openBadgerEngine(t, dir, true)
	s = NewSession()
	batch(e, s, hot, 10000)
	rows := pullAll(t, e, s, "SELECT k, n, total FROM c;")
	if len(rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if w := want[r.Values[0].(string)]; r.Values[1] != w[0] || r.Values[2] != w[1] {
			t.Fatalf("%v: n=%v total=%v, want %v", r.Values[0], r.Values[1], r.Values[2], w)
		}
	}
	if recs := topicRecords(t, lg, "C"); len(recs) != 10500 {
		t.Fatalf("C holds %d changelog records, want 10500", len(recs))
	}
}

// TestDeferredAggregateDrainThroughRedoLog: the commit that switches to direct writes every
// pending entry out at once; with a small memtable that commit is too large for one Badger
// transaction and goes through the store's redo log, which calls writeDirty twice. A crash
// right after it loses and repeats nothing.
func TestDeferredAggregateDrainThroughRedoLog(t *testing.T) {
	defer func(c int) { maxAggCacheEntries = c }(maxAggCacheEntries)
	maxAggCacheEntries = 4000 // 2,000 pending entries
	dir := t.TempDir()
	open := func() (*Engine, *embedded.Log, *badger.Manager) {
		lg, err := embedded.Open(filepath.Join(dir, "log"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := badger.Open(filepath.Join(dir, "state"), badger.WithMemTableSize(1<<20), badger.WithLogger(nil))
		if err != nil {
			t.Fatal(err)
		}
		e, err := Open(context.Background(), Config{Log: lg, State: st, Deterministic: true})
		if err != nil {
			t.Fatal(err)
		}
		return e, lg, st
	}
	e, lg, st := open()
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE TABLE c AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY k;",
	)
	total := 0
	for b := 0; ; b++ {
		var sb strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&sb, "INSERT INTO s (k, v) VALUES ('k%d-%d', %d);\n", b, i, i)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
		total += 1000
		d := queryTasks(e, "CTAS_C_0")[0].pl.agg.deferred
		if d.direct && d.pending == 0 {
			break // drained
		}
		if b == 20 {
			t.Fatalf("no switch to direct writes after %d records (absorbed %.0f of %.0f)", total, d.absorbed, d.updated)
		}
	}
	if redo := st.RedoCommits(); redo == 0 {
		t.Fatal("the draining commit fit one transaction: the test did not exercise the redo log")
	}
	st.Close() // crash: nothing buffered is committed
	lg.Close()

	e, lg, _ = open()
	defer func() { e.Close(); lg.Close() }()
	s = NewSession()
	rows := pullAll(t, e, s, "SELECT k, n, total FROM c;")
	if len(rows) != total {
		t.Fatalf("%d groups after the restart, want %d", len(rows), total)
	}
	for _, r := range rows {
		var b, i int
		fmt.Sscanf(r.Values[0].(string), "k%d-%d", &b, &i)
		if r.Values[1] != int64(1) || r.Values[2] != int64(i) {
			t.Fatalf("%v: n=%v total=%v, want 1/%d", r.Values[0], r.Values[1], r.Values[2], i)
		}
	}
}

// TestChunkRecordsBothForms: a chunk reads back the same records compressed (as commits write
// it) and uncompressed (as the first builds with deferred writes did).
func TestChunkRecordsBothForms(t *testing.T) {
	var raw []byte
	want := map[string]string{}
	for i := range 500 {
		k, v := fmt.Sprintf(`["k%d"]`, i), fmt.Sprintf(`[%d,[%d,%d]]`, 1700000000000+i, i%7, i)
		raw = binary.AppendUvarint(raw, uint64(len(k)))
		raw = append(raw, k...)
		raw = binary.AppendUvarint(raw, uint64(len(v)))
		raw = append(raw, v...)
		want[k] = v
	}
	stored := compressChunk(raw)
	if stored[0] != chunkS2 || len(stored) >= len(raw) {
		t.Fatalf("compressed chunk: %d bytes from %d, first byte %#x", len(stored), len(raw), stored[0])
	}
	for name, chunk := range map[string][]byte{"compressed": stored, "uncompressed": raw} {
		got := map[string]string{}
		if err := eachChunkRecord(chunk, func(k, v []byte) error { got[string(k)] = string(v); return nil }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}
	if err := eachChunkRecord(append([]byte{chunkS2}, "not s2"...), func(_, _ []byte) error { return nil }); err == nil {
		t.Fatal("a damaged compressed chunk read without error")
	}
}

// TestDeferredAggregateQueueStaysSmall: a group updated once stays at the front of the pending
// queue until its chunk is maxLiveChunks old; the dead items of the updates queued behind it
// meanwhile are dropped, so the queue stays near the number of pending entries.
func TestDeferredAggregateQueueStaysSmall(t *testing.T) {
	e, _, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE TABLE c AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;",
		"INSERT INTO s (k, v) VALUES ('lonely', 1);",
	)
	quiesce(t, e)
	const hot, commits = 500, 12
	for c := range commits {
		var sb strings.Builder
		for i := range hot {
			fmt.Fprintf(&sb, "INSERT INTO s (k, v) VALUES ('hot%d', %d);\n", i, c)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	d := queryTasks(e, "CTAS_C_0")[0].pl.agg.deferred
	if !d.queue[d.qhead].e.pending || string(d.queue[d.qhead].e.stateKey) != `["lonely"]` {
		t.Fatalf("front of the queue: %s, want the lonely group still pending", d.queue[d.qhead].e.stateKey)
	}
	if n := len(d.queue) - d.qhead; n > 4*d.pending+1024 {
		t.Fatalf("queue holds %d items for %d pending entries", n, d.pending)
	}
	for k, want := range map[string]int64{"lonely": 1, "hot7": commits} {
		if rows := pullAll(t, e, s, fmt.Sprintf("SELECT n FROM c WHERE k = '%s';", k)); len(rows) != 1 || rows[0].Values[0] != want {
			t.Fatalf("%s: %v, want %d", k, rows, want)
		}
	}
}

// TestDeferredAggregatePacesWriteOuts sends a burst of new windows, more than the pending
// bound has room for, in one commit. The write-outs it calls for are spread over the next
// commits at the rate entries have been joining: pending entries run past the bound, never by
// more than half of it, and are back under it a few commits later. Pull queries see every
// window's count throughout.
func TestDeferredAggregatePacesWriteOuts(t *testing.T) {
	defer func(c int) { maxAggCacheEntries = c }(maxAggCacheEntries)
	maxAggCacheEntries = 2000 // 1,000 pending entries
	e, _, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		"CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE TABLE w AS SELECT k, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1000 MILLISECONDS) GROUP BY k;",
	)
	want := map[string]int64{} // "window/key" -> count
	commit := func(window int64, keys []int) {
		t.Helper()
		var sb strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&sb, "INSERT INTO s (ROWTIME, k, v) VALUES (%d, 'k%d', 1);\n", window*1000+int64(k%1000), k)
			want[fmt.Sprintf("%d/k%d", window*1000, k)]++
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	span := func(from, to int) []int {
		var out []int
		for k := from; k < to; k++ {
			out = append(out, k)
		}
		return out
	}
	tk := queryTasks(e, "CTAS_W_0")[0]
	d, limit := tk.pl.agg.deferred, tk.pl.agg.pendingLimit()
	for c := range 3 { // 750 windows join, 250 a commit
		commit(0, span(c*250, c*250+250))
	}
	if d.pending != 750 {
		t.Fatalf("%d entries pending after 750 windows, want 750", d.pending)
	}
	commit(1, span(0, 1000)) // the burst: 1,750 would be pending
	if d.pending <= limit || d.pending > limit*3/2 {
		t.Fatalf("after the burst %d entries pending, want more than the bound (%d), by at most half of it", d.pending, limit)
	}
	backUnder := -1
	for c := range 10 { // then updates of windows already pending
		commit(1, span(c*10, c*10+10))
		if d.pending > limit*3/2 {
			t.Fatalf("commit %d after the burst: %d entries pending", c+1, d.pending)
		}
		if backUnder < 0 && d.pending <= limit {
			backUnder = c + 1
		}
	}
	if backUnder < 2 {
		t.Fatalf("pending entries back under the bound %d commits after the burst, want a pace spread over more than one", backUnder)
	}
	written := 0
	if err := tk.store.ReadCommitted().Scan(aggTable, nil, nil, func(_, _ []byte) bool { written++; return true }); err != nil {
		t.Fatal(err)
	}
	if written < 750 {
		t.Fatalf("%d entries written out, want at least the 750 first windows", written)
	}
	rows := pullAll(t, e, s, "SELECT k, WINDOWSTART, n FROM w;")
	if len(rows) != len(want) {
		t.Fatalf("%d windows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if k := fmt.Sprintf("%v/%v", r.Values[1], r.Values[0]); r.Values[2] != want[k] {
			t.Fatalf("window %s: count %v, want %d", k, r.Values[2], want[k])
		}
	}
}
