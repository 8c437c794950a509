package engine

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// A record that cannot be decoded is skipped and logged; the query keeps going, and the
// processing log can be read with SQL.
func TestProcessingLogIsQueryable(t *testing.T) {
	ctx := context.Background()
	e, lg := openServerEngine(t)
	s := NewSession()
	for _, stmt := range []string{
		"CREATE STREAM s (id INT KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
		"CREATE STREAM out AS SELECT id, v FROM s;",
	} {
		if _, err := e.Execute(ctx, s, stmt); err != nil {
			t.Fatal(err)
		}
	}
	key := []byte{0, 0, 0, 1}
	if _, err := lg.Append(ctx, "s", []storage.Record{
		{Key: key, Value: []byte(`{not json`), Partition: 0, Timestamp: 1},
		{Key: key, Value: []byte(`{"V": 7}`), Partition: 0, Timestamp: 2},
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := e.ReadLogical(ctx, "OUT")
		if err != nil {
			t.Fatal(err)
		}
		logRows := pullAll(t, e, s, "SELECT MESSAGE->QUERYID AS Q, MESSAGE->MESSAGE AS M FROM "+ProcessingLogStream+";")
		if len(recs) == 1 && len(logRows) == 1 {
			if logRows[0].Values[0] != "CSAS_OUT_0" {
				t.Fatalf("processing log names query %v, want CSAS_OUT_0 (%v)", logRows[0].Values[0], logRows[0].Values[1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("want 1 output record and 1 logged error, got %d and %d", len(recs), len(logRows))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pullAll(t *testing.T, e *Engine, s *Session, sql string) []Row {
	t.Helper()
	c, err := e.Query(context.Background(), s, sql)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rows []Row
	for {
		r, err := c.Next(context.Background())
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
}

var _ = types.StringType
