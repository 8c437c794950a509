package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestAggCacheEviction runs aggregations with a tiny entry cache, so that entries are evicted
// after every commit and reloaded from the store (past the fresh-store filter), and checks the
// results are those of an unbounded cache.
func TestAggCacheEviction(t *testing.T) {
	run := func(limit int) string {
		old := maxAggCacheEntries
		maxAggCacheEntries = limit
		defer func() { maxAggCacheEntries = old }()
		e, done := openTestEngine(t, true)
		defer done()
		ctx := context.Background()
		s := NewSession()
		for _, st := range []string{
			`CREATE STREAM S (K STRING KEY, V BIGINT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);`,
			`CREATE TABLE T AS SELECT K, COUNT(*) AS N, SUM(V) AS SV FROM S GROUP BY K HAVING COUNT(*) <> 2;`,
			`CREATE TABLE W AS SELECT K, COUNT(*) AS N, SUM(V) AS SV FROM S WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY K;`,
			`CREATE TABLE H AS SELECT K, COUNT(*) AS N FROM S WINDOW HOPPING (SIZE 20 MILLISECONDS, ADVANCE BY 10 MILLISECONDS) GROUP BY K;`,
		} {
			if _, err := e.Execute(ctx, s, st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
		for round := 0; round < 5; round++ {
			for k := 0; k < 12; k++ {
				st := fmt.Sprintf(`INSERT INTO S (K, V, ROWTIME) VALUES ('k%d', %d, %d);`, k%7, round*k, round*6+k)
				if _, err := e.Execute(ctx, s, st); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Quiesce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for _, topic := range []string{"T", "W", "H"} {
			recs, err := e.ReadLogical(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				k, _ := json.Marshal(r.Key)
				v := []byte("null")
				if !r.ValueNull {
					v, _ = json.Marshal(r.Value)
				}
				out = append(out, fmt.Sprintf("%s %s %s @%d", topic, k, v, r.Timestamp))
			}
		}
		return strings.Join(out, "\n")
	}
	want := run(1 << 30)
	if got := run(4); got != want {
		t.Fatalf("with evictions:\n%s\nwant:\n%s", got, want)
	}
	if len(want) == 0 {
		t.Fatal("no output")
	}
}
