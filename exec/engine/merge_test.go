package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// TestInputMergeOrder: records of several inputs are handed out in timestamp order, a run of
// one input at a time, and an input that may still hold older records is waited for.
func TestInputMergeOrder(t *testing.T) {
	a, b := &taskInput{topic: "a"}, &taskInput{topic: "b"}
	inputs := []*taskInput{a, b}
	recs := func(ts ...int64) []storage.Record {
		out := make([]storage.Record, len(ts))
		for i, x := range ts {
			out[i] = storage.Record{Timestamp: x, Offset: int64(i)}
		}
		return out
	}
	var m inputMerge
	m.add(a, recs(1, 2, 5, 6), false)
	if _, _, ok := m.next(inputs); ok {
		t.Fatal("went ahead without knowing what b holds")
	}
	m.add(b, recs(3, 4, 7), true)
	var got []string
	for {
		in, run, ok := m.next(inputs)
		if !ok {
			break
		}
		var ts []string
		for _, r := range run {
			ts = append(ts, fmt.Sprint(r.Timestamp))
		}
		got = append(got, in.topic+":"+strings.Join(ts, ","))
	}
	// a's batch ended without reaching a's end: after it, the merge waits for a's next batch
	// before b's 7 can go.
	if want := "a:1,2 b:3,4 a:5,6"; strings.Join(got, " ") != want {
		t.Fatalf("order = %s, want %s", strings.Join(got, " "), want)
	}
	m.add(a, nil, true) // a has nothing more
	in, run, ok := m.next(inputs)
	if !ok || in != b || len(run) != 1 || run[0].Timestamp != 7 {
		t.Fatalf("after a went idle: %v %v %v", in, run, ok)
	}
}

// TestJoinCatchesUpInTimestampOrder: a stream-table join started over existing data reads the
// table rows that precede each order before the order, as Kafka Streams does, instead of
// joining the orders against a half-loaded table.
func TestJoinCatchesUpInTimestampOrder(t *testing.T) {
	ctx := context.Background()
	e, _ := openServerEngine(t)
	s := NewSession()
	s.Props["auto.offset.reset"] = "earliest"
	const n = 2000
	var sb strings.Builder
	sb.WriteString(`CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
		CREATE STREAM orders (oid STRING KEY, uid STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=1);`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "INSERT INTO users (id, name, ROWTIME) VALUES ('u%d', 'n%d', %d);\n", i, i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "INSERT INTO orders (oid, uid, ROWTIME) VALUES ('o%d', 'u%d', %d);\n", i, i, n+i)
	}
	if _, err := e.Execute(ctx, s, sb.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(ctx, s, `CREATE STREAM enriched AS SELECT o.uid AS uid, u.name AS name FROM orders o LEFT JOIN users u ON o.uid = u.id;`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var recs []LogicalRecord
	for time.Now().Before(deadline) {
		recs, _ = e.ReadLogical(ctx, "ENRICHED")
		if len(recs) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(recs) != n {
		t.Fatalf("ENRICHED has %d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if v, ok := r.Value.(map[string]any); !ok || v["NAME"] == nil {
			t.Fatalf("order joined before its user was read: %+v", r)
		}
	}
}
