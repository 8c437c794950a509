package engine

import (
	"context"
	"fmt"
	"testing"
)

// TestAggregateStateFormats checks that an aggregate entry reads back from the stored form
// (group and window only in the key), and that the older form, which repeated them in the
// value, still reads the same: stores written by earlier releases stay usable.
func TestAggregateStateFormats(t *testing.T) {
	e, done := openTestEngine(t, true)
	defer done()
	s := NewSession()
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE STREAM ev (k STRING KEY, v BIGINT) WITH (KAFKA_TOPIC='ev', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE w AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY k;`,
		`CREATE TABLE u AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k;`,
	} {
		if _, err := e.Execute(ctx, s, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, sink := range []string{"W", "U"} {
		var q *queryInfo
		var id string
		for qid, qi := range e.cat.queries {
			if qi.Sink == sink {
				q, id = qi, qid
			}
		}
		if q == nil || q.task == nil || q.task.pl.agg == nil {
			t.Fatalf("%s is not a running aggregation", id)
		}
		an := q.task.pl.agg
		group := []any{"k1"}
		key := appendGroupKey(nil, group, an.a.keyTypes)
		start, end := int64(0), int64(0)
		if an.a.window != nil {
			start, end = 60_000, 120_000
			key = appendWindow(key, start, end)
		}
		e1 := an.newEntry(group, key)
		e1.start, e1.end, e1.ts = start, end, 61_000
		for _, v := range []int64{3, 4} {
			// COUNT(*) and SUM(v), fed directly.
			if err := e1.accs[0].Add(nil); err != nil {
				t.Fatal(err)
			}
			if err := e1.accs[1].Add([]any{v}); err != nil {
				t.Fatal(err)
			}
		}
		want := fmt.Sprint(an.rec(e1).Vals, e1.ts, e1.start, e1.end)
		older := fmt.Sprintf(`[%d,%d,%d,["k1"],[2,7]]`, e1.ts, start, end)
		for name, stored := range map[string][]byte{"current": an.encodeEntry(e1), "older": []byte(older)} {
			got, err := an.decodeEntry(key, stored)
			if err != nil {
				t.Fatalf("%s: %s form %s: %v", id, name, stored, err)
			}
			if g := fmt.Sprint(an.rec(got).Vals, got.ts, got.start, got.end); g != want {
				t.Errorf("%s: %s form %s reads as %s, want %s", id, name, stored, g, want)
			}
		}
	}
}
