package app_test

// The walking skeleton's CTAS example: the error case against a stream without customerId,
// then a working CTAS read back with pull queries through REST, psql and pgx.

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const orderTotalsCTAS = `CREATE TABLE order_totals AS SELECT customerId, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;`

// TestCTASUnknownColumn: the CTAS against a stream without customerId fails with a statement
// error naming the column.
func TestCTASUnknownColumn(t *testing.T) {
	s := startServer(t, "")
	s.ksql(ordersDDL)
	_, err := s.tryKsql(orderTotalsCTAS)
	ke, ok := err.(*ksqlError)
	if !ok || ke.status != 400 || ke.body["@type"] != "statement_error" || ke.body["error_code"] != json.Number("40001") {
		t.Fatalf("CTAS without customerId: want a 400 statement_error 40001, got %v", err)
	}
	if !strings.Contains(ke.message(), "CUSTOMERID") {
		t.Errorf("message %q does not name CUSTOMERID", ke.message())
	}
	if ke.body["statementText"] != orderTotalsCTAS {
		t.Errorf("statementText = %q", ke.body["statementText"])
	}
	// Nothing was created.
	if got := sourceNames(s.ksql(`SHOW TABLES;`), "tables"); len(got) != 0 {
		t.Errorf("SHOW TABLES after the failed CTAS: %v", got)
	}
}

// TestCTASUnknownColumnPosition: the same error carries the position of an occurrence of
// customerId: line 1, column 37 (the select list) or 91 (GROUP BY).
func TestCTASUnknownColumnPosition(t *testing.T) {
	s := startServer(t, "")
	s.ksql(ordersDDL)
	_, err := s.tryKsql(orderTotalsCTAS)
	ke, ok := err.(*ksqlError)
	if !ok {
		t.Fatalf("want a statement error, got %v", err)
	}
	if !regexp.MustCompile(`^Line: 1, Col: (37|91): .*CUSTOMERID`).MatchString(ke.message()) {
		t.Errorf("message %q does not start with Line: 1, Col: 37 or 91 and name CUSTOMERID", ke.message())
	}
}

func TestCTASPullQueryRESTPsqlPgx(t *testing.T) {
	s := startServer(t, "")
	s.ksql(`CREATE STREAM orders (orderId STRING, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');`)
	ents := s.ksql(orderTotalsCTAS)
	if field(ents[0], "commandStatus", "status") != "SUCCESS" {
		t.Fatalf("CTAS: %v", ents)
	}
	s.ksql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o1', 'c1', 100.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o2', 'c2', 7.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o3', 'c1', 25.5);`)
	const pull = `SELECT * FROM order_totals WHERE customerId = 'c1';`
	s.waitPull(pull, `[["c1",125.5]]`, 10*time.Second)

	t.Run("psql", func(t *testing.T) {
		needPsql(t)
		s := s.on(t)
		want := ` CUSTOMERID | TOTAL 
------------+-------
 c1         | 125.5
(1 row)

`
		if got := s.mustPsql(pull); got != want {
			t.Errorf("psql pull:\n%s\nwant:\n%s", got, want)
		}
		// A further insert, made through psql, shows up once committed.
		s.mustPsql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o4', 'c1', 0.5);`)
		var got string
		if err := waitFor(10*time.Second, func() bool {
			got = s.mustPsql(pull, "-A", "-t")
			return got == "c1|126\n"
		}); err != nil {
			t.Errorf("psql pull after insert: %q, want %q", got, "c1|126\n")
		}
	})

	t.Run("pgx", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.pgURL())
		if err != nil {
			t.Fatalf("pgx.Connect: %v", err)
		}
		defer conn.Close(context.Background())
		want := 125.5
		if s.pullTotal(t, "c1") != 125.5 {
			want = 126 // the psql subtest inserted 0.5
		}
		// Twice: the second run takes pgx's prepared-statement cache path.
		for i := 0; i < 2; i++ {
			var cust string
			var total float64
			err := conn.QueryRow(ctx, `SELECT * FROM order_totals WHERE customerId = $1`, "c1").Scan(&cust, &total)
			if err != nil {
				t.Fatalf("pgx QueryRow #%d: %v", i+1, err)
			}
			if cust != "c1" || total != want {
				t.Errorf("pgx #%d: (%q, %v), want (c1, %v)", i+1, cust, total, want)
			}
		}
		var total float64
		if err := conn.QueryRow(ctx, `SELECT total FROM order_totals WHERE customerId = $1`, "c2").Scan(&total); err != nil || total != 7 {
			t.Errorf("pgx c2: %v, %v", total, err)
		}
		// A key with no row: no rows, not an error of another kind.
		err = conn.QueryRow(ctx, `SELECT total FROM order_totals WHERE customerId = $1`, "nobody").Scan(&total)
		if err != pgx.ErrNoRows {
			t.Errorf("pgx missing key: %v, want pgx.ErrNoRows", err)
		}
	})
}

// pullTotal reads order_totals.total for one customer over REST.
func (s *testServer) pullTotal(t testing.TB, cust string) float64 {
	rows := s.on(t).pull(`SELECT total FROM order_totals WHERE customerId = '` + cust + `';`)
	if len(rows) != 1 {
		t.Fatalf("pull total for %s: %v", cust, rows)
	}
	f, err := strconv.ParseFloat(rows[0][0].(json.Number).String(), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
