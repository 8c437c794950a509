package engine

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage/embedded"
)

func openTestEngine(t *testing.T, deterministic bool) (*Engine, func()) {
	t.Helper()
	dir := t.TempDir()
	lg, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(context.Background(), Config{Log: lg, Deterministic: deterministic})
	if err != nil {
		t.Fatal(err)
	}
	return e, func() { e.Close(); lg.Close() }
}

// openServerEngine starts a server-mode engine (background tasks) on a fresh embedded log and
// returns the log too, for tests that write or read records directly.
func openServerEngine(t *testing.T) (*Engine, *embedded.Log) {
	t.Helper()
	lg, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	e, err := Open(context.Background(), Config{Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, lg
}

func TestSmokeTextbook(t *testing.T) {
	e, done := openTestEngine(t, true)
	defer done()
	ctx := context.Background()
	s := NewSession()
	_, err := e.Execute(ctx, s, `CREATE STREAM orders (orderId STRING, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(ctx, s, `CREATE TABLE order_totals AS SELECT customerId, SUM(amount) AS total, COUNT(*) AS n FROM orders GROUP BY customerId EMIT CHANGES;`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(ctx, s, `CREATE STREAM big AS SELECT orderId, amount * 2 AS dbl FROM orders WHERE amount > 100;`); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"('o1','c1',150.0)", "('o2','c1',50.0)", "('o3','c2',200.0)"} {
		if _, err := e.Execute(ctx, s, "INSERT INTO orders (orderId, customerId, amount) VALUES "+v+";"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := e.Query(ctx, s, "SELECT * FROM order_totals WHERE customerId = 'c1';")
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		r, err := c.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 1 || rows[0].Values[0] != "c1" || rows[0].Values[1] != 200.0 || rows[0].Values[2] != int64(2) {
		t.Fatalf("pull rows = %+v cols=%+v", rows, c.Columns)
	}
	recs, err := e.ReadLogical(ctx, "BIG")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("BIG records = %+v", recs)
	}
	_ = time.Second
}
