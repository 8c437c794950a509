package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
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
	if csasTasks != 4 || ctasTasks != 1 {
		t.Fatalf("tasks: CSAS %d (want 4, one per partition), CTAS %d (want 1)", csasTasks, ctasTasks)
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
