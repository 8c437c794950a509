package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// runJoin executes statements, quiescing after each INSERT so that records are processed in
// statement order (as the conformance harness feeds them), and returns the records of topic
// rendered as "key value @ts" (value "null" for tombstones).
func runJoin(t *testing.T, topic string, stmts ...string) []string {
	t.Helper()
	e, done := openTestEngine(t, true)
	defer done()
	ctx := context.Background()
	s := NewSession()
	for _, st := range stmts {
		if _, err := e.Execute(ctx, s, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		if err := e.Quiesce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := e.ReadLogical(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		k, _ := json.Marshal(r.Key)
		v := []byte("null")
		if !r.ValueNull {
			v, _ = json.Marshal(r.Value)
		}
		out = append(out, fmt.Sprintf("%s %s @%d", k, v, r.Timestamp))
	}
	return out
}

func expectRecords(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestJoinStreamTableLeft(t *testing.T) {
	got := runJoin(t, "OUT",
		`CREATE STREAM S (ID BIGINT KEY, NAME STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE T (ID BIGINT PRIMARY KEY, F1 STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM OUT AS SELECT S.ID, NAME, F1 FROM S LEFT JOIN T ON S.ID = T.ID;`,
		`INSERT INTO T (ID, F1, ROWTIME) VALUES (1, 'one', 5);`,
		`INSERT INTO S (ID, NAME, ROWTIME) VALUES (1, 'a', 10);`,
		`INSERT INTO S (ID, NAME, ROWTIME) VALUES (2, 'b', 11);`,
		// Table updates alone emit nothing; the next stream record sees the new row.
		`INSERT INTO T (ID, F1, ROWTIME) VALUES (1, 'uno', 20);`,
		`INSERT INTO S (ID, NAME, ROWTIME) VALUES (1, 'c', 15);`,
	)
	expectRecords(t, got, []string{
		`1 {"F1":"one","NAME":"a"} @10`,
		`2 {"F1":null,"NAME":"b"} @11`,
		`1 {"F1":"uno","NAME":"c"} @15`,
	})
}

func TestJoinStreamStreamWindow(t *testing.T) {
	got := runJoin(t, "OUT",
		`CREATE STREAM L (ID BIGINT KEY, A STRING) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM R (ID BIGINT KEY, B STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM OUT AS SELECT L.ID, A, B FROM L LEFT JOIN R WITHIN 10 SECONDS ON L.ID = R.ID;`,
		`INSERT INTO L (ID, A, ROWTIME) VALUES (1, 'l1', 1000);`,  // no match yet: eager NULL-padded row
		`INSERT INTO R (ID, B, ROWTIME) VALUES (1, 'r1', 5000);`,  // joins l1, ts = max
		`INSERT INTO R (ID, B, ROWTIME) VALUES (1, 'r2', 30000);`, // outside l1's window: nothing
		`INSERT INTO L (ID, A, ROWTIME) VALUES (1, 'l2', 25000);`, // joins r2 only (r1 is 20 s away)
	)
	expectRecords(t, got, []string{
		`1 {"A":"l1","B":null} @1000`,
		`1 {"A":"l1","B":"r1"} @5000`,
		`1 {"A":"l2","B":"r2"} @30000`,
	})
}

func TestJoinStreamStreamOuterGrace(t *testing.T) {
	got := runJoin(t, "OUT",
		`CREATE STREAM L (ID BIGINT KEY, A STRING) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM R (ID BIGINT KEY, B STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE STREAM OUT AS SELECT ROWKEY AS ID, A, B FROM L FULL OUTER JOIN R WITHIN 1 SECOND GRACE PERIOD 1 SECOND ON L.ID = R.ID;`,
		`INSERT INTO L (ID, A, ROWTIME) VALUES (1, 'l1', 0);`,
		`INSERT INTO R (ID, B, ROWTIME) VALUES (2, 'r2', 500);`,
		// Stream time passes both windows + grace: the unmatched rows come out, oldest first.
		`INSERT INTO L (ID, A, ROWTIME) VALUES (3, 'l3', 5000);`,
	)
	expectRecords(t, got, []string{
		`1 {"A":"l1","B":null} @0`,
		`2 {"A":null,"B":"r2"} @500`,
	})
}

func TestJoinTableTable(t *testing.T) {
	got := runJoin(t, "OUT",
		`CREATE TABLE A (ID BIGINT PRIMARY KEY, X STRING) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE B (ID BIGINT PRIMARY KEY, Y STRING) WITH (KAFKA_TOPIC='b', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE OUT AS SELECT A.ID, X, Y FROM A JOIN B ON A.ID = B.ID;`,
		`INSERT INTO A (ID, X, ROWTIME) VALUES (1, 'x1', 10);`, // no B row: nothing
		`INSERT INTO B (ID, Y, ROWTIME) VALUES (1, 'y1', 20);`,
		`INSERT INTO A (ID, X, ROWTIME) VALUES (1, 'x2', 15);`, // ts = max(15, 20)
	)
	expectRecords(t, got, []string{
		`1 {"X":"x1","Y":"y1"} @20`,
		`1 {"X":"x2","Y":"y1"} @20`,
	})
}

func TestJoinForeignKey(t *testing.T) {
	got := runJoin(t, "OUT",
		`CREATE TABLE O (OID BIGINT PRIMARY KEY, CID BIGINT) WITH (KAFKA_TOPIC='o', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE C (CID BIGINT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE OUT AS SELECT OID, NAME FROM O LEFT JOIN C ON O.CID = C.CID;`,
		`INSERT INTO O (OID, CID, ROWTIME) VALUES (1, 7, 1);`,
		`INSERT INTO O (OID, CID, ROWTIME) VALUES (2, 7, 2);`,
		`INSERT INTO C (CID, NAME, ROWTIME) VALUES (7, 'ann', 3);`, // re-joins both orders
	)
	expectRecords(t, got, []string{
		`1 {"NAME":null} @1`,
		`2 {"NAME":null} @2`,
		`1 {"NAME":"ann"} @3`,
		`2 {"NAME":"ann"} @3`,
	})
}

func TestJoinValidation(t *testing.T) {
	e, done := openTestEngine(t, true)
	defer done()
	ctx := context.Background()
	s := NewSession()
	for _, st := range []string{
		`CREATE STREAM S (ID BIGINT KEY, V BIGINT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		`CREATE TABLE T (ID BIGINT PRIMARY KEY, W BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1);`,
	} {
		if _, err := e.Execute(ctx, s, st); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]string{
		`CREATE STREAM O AS SELECT * FROM S JOIN T ON S.ID = T.W;`:                            "stream-table joins require to join on the table's primary key. Got S.ID = T.W.",
		`CREATE STREAM O AS SELECT * FROM S FULL JOIN T ON S.ID = T.ID;`:                      "full-outer join not supported for stream-table join",
		`CREATE TABLE O AS SELECT * FROM T JOIN S ON S.ID = T.ID;`:                            "table-stream joins are not supported",
		`CREATE STREAM O AS SELECT * FROM S JOIN T ON S.ID = 0;`:                              "Invalid comparison expression '0' in join '(S.ID = 0)'",
		`CREATE STREAM O AS SELECT S.V, T.W FROM S JOIN T ON S.ID = T.ID;`:                    "must include the join expressions S.ID or T.ID in its projection",
		`CREATE STREAM O AS SELECT S.V FROM S JOIN T ON ABS(S.ID) = T.ID;`:                    "must include the join expression T.ID in its projection",
		`CREATE STREAM O AS SELECT T.W FROM S JOIN T ON S.ID = T.ID AND S.V = T.W;`:           "joins on multiple conditions are not yet supported",
		`CREATE STREAM O AS SELECT * FROM S AS A JOIN S AS B WITHIN 1 SECOND ON A.ID = B.ID;`: "self joins are not yet supported",
	} {
		_, err := e.Execute(ctx, s, q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", q, err, want)
		}
	}
}

// TestStreamJoinBuffersArePurged: a stream-stream join keeps only the records its window and
// grace period can still match (plus those buffered since the last purge), also after a
// restart, when it no longer knows how old its oldest buffered record is.
func TestStreamJoinBuffersArePurged(t *testing.T) {
	dir := t.TempDir()
	e, _, crash := openBadgerEngine(t, dir, true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM a (id STRING KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);`,
		`CREATE STREAM b (id STRING KEY, v INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);`,
		`CREATE STREAM ab AS SELECT a.id AS id, a.v AS av, b.v AS bv FROM a JOIN b WITHIN 1 SECOND GRACE PERIOD 1 SECOND ON a.id = b.id;`)
	insert := func(e *Engine, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			// 100 ms apart: a purge every 10,000 records finds almost all of them expired.
			fmt.Fprintf(&sb, "INSERT INTO a (ROWTIME, id, v) VALUES (%d, 'k%d', %d);\n", 1000+i*100, i%50, i)
			fmt.Fprintf(&sb, "INSERT INTO b (ROWTIME, id, v) VALUES (%d, 'k%d', %d);\n", 1050+i*100, i%50, i)
		}
		execAll(t, e, s, sb.String())
		quiesce(t, e)
	}
	buffered := func(e *Engine) (n [2]int) {
		tk := queryTasks(e, "CSAS_AB_0")[0]
		for side, table := range []string{"j0L", "j0R"} {
			if err := tk.store.Scan(table, nil, nil, func(k, v []byte) bool { n[side]++; return true }); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	insert(e, 0, 25_000)
	// Each side buffered 25,000 records; purges ran after 10,001 and 20,002 of them, so
	// at most the last 5,000 or so (and the 30 in retention) remain.
	if n := buffered(e); n[0] > 6_000 || n[1] > 6_000 || n[0] == 0 || n[1] == 0 {
		t.Fatalf("buffered records per side: %v, want at most 6,000 each", n)
	}
	if err := queryTasks(e, "CSAS_AB_0")[0].commit(); err != nil {
		t.Fatal(err)
	}
	crash()
	e, _, _ = openBadgerEngine(t, dir, true)
	insert(e, 25_000, 40_000)
	if n := buffered(e); n[0] > 6_000 || n[1] > 6_000 {
		t.Fatalf("buffered records per side after a restart: %v, want at most 6,000 each", n)
	}
}
