package pgwire_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/server/pgwire"
	"github.com/sluicedb/sluice/server/pgwire/pgwiretest"
)

func startTest(t testing.TB, cfg pgwire.Config) (*pgwiretest.Server, *testBackend) {
	b := newTestBackend()
	return pgwiretest.Start(t, b, cfg), b
}

func pgxConnect(t testing.TB, url string, mod func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPgxQueryRowParams(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), nil)
	ctx := context.Background()
	// Default mode: named statement, Describe S, binary int8 parameter; the second call is a
	// statement-cache hit (Bind + Execute only).
	for i := 0; i < 2; i++ {
		var name string
		if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", int64(7)).Scan(&name); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if name != "user7" {
			t.Fatalf("round %d: got %q", i, name)
		}
	}
	if got := b.lastText(); got != "SELECT name FROM users WHERE id = 7" {
		t.Fatalf("engine saw %q", got)
	}
	// Parameter type inferred from the column: pgx must be able to send a string as text.
	var n string
	if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE name = $1 AND id = $2", "o'hara", int32(3)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got := b.lastText(); got != "SELECT name FROM users WHERE name = 'o''hara' AND id = 3" {
		t.Fatalf("engine saw %q", got)
	}
}

func TestPgxBinaryTypes(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), nil)
	var (
		id     int64
		name   string
		score  float64
		bal    decimal.Decimal
		active bool
		joined time.Time
		age    int32
		tags   []string
		seen   time.Time
		raw    []byte
	)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		var balText string
		err := conn.QueryRow(context.Background(), "SELECT * FROM users WHERE id = $1", mode, int64(4)).
			Scan(&id, &name, &score, &balText, &active, &joined, &age, &tags, &seen, &raw)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		bal = decimal.RequireFromString(balText)
		if id != 4 || name != "user4" || score != 4.5 || !bal.Equal(decimal.RequireFromString("49.36")) || !active ||
			joined.Format("2006-01-02") != "2022-01-12" || age != 24 || strings.Join(tags, ",") != "a,4" ||
			seen.UTC().Format(time.RFC3339) != "2023-11-14T22:13:24Z" || len(raw) != 2 || raw[1] != 0xff {
			t.Fatalf("mode %v: got %v %v %v %v %v %v %v %v %v %v", mode, id, name, score, bal, active, joined, age, tags, seen, raw)
		}
	}
	// numeric in binary (pgx asks for binary numeric in the default mode).
	var d float64
	if err := conn.QueryRow(context.Background(), "SELECT bal FROM users WHERE id = 5").Scan(&d); err != nil {
		t.Fatal(err)
	}
	if d != 61.70 {
		t.Fatalf("bal = %v", d)
	}
}

func TestPgxSimpleProtocolAndCommands(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), func(c *pgx.ConnConfig) {
		c.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	})
	ctx := context.Background()
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM users WHERE id = $1", 9).Scan(&name); err != nil || name != "user9" {
		t.Fatalf("got %q, %v", name, err)
	}
	tag, err := conn.Exec(ctx, "CREATE STREAM s (a INT) WITH (kafka_topic='s', value_format='JSON')")
	if err != nil || tag.String() != "CREATE STREAM" {
		t.Fatalf("tag %q, %v", tag, err)
	}
	tag, err = conn.Exec(ctx, "INSERT INTO s (a) VALUES (1)")
	if err != nil || tag.String() != "INSERT 0 1" {
		t.Fatalf("tag %q, %v", tag, err)
	}
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil || v != "13.0.0" {
		t.Fatalf("server_version %q, %v", v, err)
	}
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&v); err != nil || v != "sluice" {
		t.Fatalf("current_database %q, %v", v, err)
	}
	// An engine error keeps its SQLSTATE and gets a Position in the query string.
	_, err = conn.Exec(ctx, "SELECT 1 FROM users;\nSELECT * FROM boom")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Position != 36 {
		t.Fatalf("err = %#v", err)
	}
	// The session still works, and a transaction reports its status.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'T' {
		t.Fatalf("tx status %c", conn.PgConn().TxStatus())
	}
	if _, err := tx.Exec(ctx, "SELECT * FROM boom"); err == nil {
		t.Fatal("expected error")
	}
	if conn.PgConn().TxStatus() != 'E' {
		t.Fatalf("tx status %c", conn.PgConn().TxStatus())
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'I' {
		t.Fatalf("tx status %c", conn.PgConn().TxStatus())
	}
}

func TestPgxPushLive(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each row must reach the client before the next one is even produced (pgx's Query
	// itself returns only once the first row is there).
	ack := make(chan struct{})
	go func() {
		for i := int64(1); i <= 3; i++ {
			b.feed <- engine.Row{Values: []any{i, "u", "p"}}
			if _, ok := <-ack; !ok {
				return
			}
		}
	}()
	defer close(ack)
	rows, err := conn.Query(ctx, "SELECT * FROM feed EMIT CHANGES")
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		if !rows.Next() {
			t.Fatalf("row %d: %v", i, rows.Err())
		}
		var vt int64
		var u, p string
		if err := rows.Scan(&vt, &u, &p); err != nil || vt != i {
			t.Fatalf("row %d: %v %v", i, vt, err)
		}
		if i < 3 {
			ack <- struct{}{}
		}
	}
	// A push query never completes by itself: pgx's rows.Close would wait for CommandComplete.
	cancel()
	rows.Close()
}

func TestPgxContextCancelClosesQuery(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	rows, err := conn.Query(ctx, "SELECT * FROM pageviews EMIT CHANGES")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	cancel()
	for rows.Next() {
	}
	rows.Close()
	// pgx closes the socket on cancel; the server must notice EOF and stop the query.
	waitFor(t, "push query closed", func() bool { return b.open.Load() == 0 })
	if !conn.IsClosed() {
		t.Fatal("pgx conn should be closed")
	}
}

func TestPgxCancelRequest(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	conn := pgxConnect(t, srv.URL("alice"), func(c *pgx.ConnConfig) {
		c.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rows, _ := conn.Query(ctx, "SELECT * FROM pageviews EMIT CHANGES")
	for rows.Next() {
	}
	var pe *pgconn.PgError
	if !errors.As(rows.Err(), &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
		t.Fatalf("err = %v", rows.Err())
	}
	waitFor(t, "push query closed", func() bool { return b.open.Load() == 0 })
	var name string
	if err := conn.QueryRow(context.Background(), "SELECT name FROM users WHERE id = $1", int64(2)).Scan(&name); err != nil || name != "user2" {
		t.Fatalf("after cancel: %q %v", name, err)
	}
}

func TestPgxSCRAM(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{Users: map[string]string{"alice": "s3cret"}})
	conn := pgxConnect(t, "postgres://alice:s3cret@"+srv.Addr+"/sluice?sslmode=disable", nil)
	var v string
	if err := conn.QueryRow(context.Background(), "SELECT current_user").Scan(&v); err != nil || v != "alice" {
		t.Fatalf("%q %v", v, err)
	}
	for _, url := range []string{
		"postgres://alice:wrong@" + srv.Addr + "/sluice?sslmode=disable",
		"postgres://mallory:s3cret@" + srv.Addr + "/sluice?sslmode=disable",
	} {
		_, err := pgx.Connect(context.Background(), url)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" {
			t.Fatalf("%s: err = %v", url, err)
		}
	}
}
