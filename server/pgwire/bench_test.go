package pgwire_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/server/pgwire"
)

// The benchmarks measure protocol overhead over loopback: the test backend answers from
// memory, so the time is pgx + the wire layer + the kernel.

func BenchmarkSimpleQuery(b *testing.B) {
	srv, _ := startTest(b, pgwire.Config{})
	conn := pgxConnect(b, srv.URL("bench"), func(c *pgx.ConnConfig) {
		c.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	})
	ctx := context.Background()
	var name string
	b.ReportAllocs()
	for b.Loop() {
		if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = 7").Scan(&name); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtendedQuery(b *testing.B) {
	srv, _ := startTest(b, pgwire.Config{})
	conn := pgxConnect(b, srv.URL("bench"), nil)
	ctx := context.Background()
	var name string
	b.ReportAllocs()
	for b.Loop() {
		if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", int64(7)).Scan(&name); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPushRows(b *testing.B) {
	srv, tb := startTest(b, pgwire.Config{})
	tb.interval.Store(0)
	conn := pgxConnect(b, srv.URL("bench"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows, err := conn.Query(ctx, "SELECT * FROM pageviews EMIT CHANGES")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !rows.Next() {
			b.Fatal(rows.Err())
		}
	}
	cancel()
	rows.Close()
}
