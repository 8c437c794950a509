package app_test

// Statements end to end over REST: DDL with keys, formats and partitions, INSERT VALUES,
// CSAS/CTAS, SHOW, DESCRIBE, TERMINATE, DROP [DELETE TOPIC] and PRINT.

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

var earliest = map[string]any{"auto.offset.reset": "earliest"}

// pushRows runs a push query with LIMIT from the beginning of its input and returns the rows
// as JSON text.
func (s *testServer) pushRows(sql string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := s.queryStream(ctx, sql, earliest)
	if err != nil {
		s.t.Fatalf("push %q: %v", sql, err)
	}
	if len(res.errs) > 0 {
		s.t.Fatalf("push %q: in-band errors %v", sql, res.errs)
	}
	b, _ := json.Marshal(res.rows)
	return string(b)
}

// printLines runs PRINT through /query-stream and returns its output lines (the record text,
// whether the server wraps it in a JSON array or not).
func (s *testServer) printLines(sql string) []string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := s.post(ctx, "/query-stream", "application/vnd.ksqlapi.delimited.v1", map[string]any{"sql": sql})
	if err != nil || res.status != 200 {
		s.t.Fatalf("%s: %v %s", sql, err, res)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(res.body)), "\n") {
		var arr []string
		if err := json.Unmarshal([]byte(l), &arr); err == nil && len(arr) == 1 {
			l = arr[0]
		}
		if strings.HasPrefix(l, "rowtime: ") {
			out = append(out, l)
		}
	}
	return out
}

func sourceNames(ents []map[string]any, key string) []string {
	var out []string
	list, _ := ents[0][key].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		if n, ok := m["name"].(string); ok {
			out = append(out, n)
		} else if id, ok := m["id"].(string); ok {
			out = append(out, id)
		}
	}
	return out
}

func TestStatementsDDLFormats(t *testing.T) {
	s := startServer(t, "")

	s.ksql(`CREATE STREAM clicks (user STRING KEY, url STRING, ms INT) WITH (KAFKA_TOPIC='clicks', KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED', PARTITIONS=3);
		CREATE TABLE users (uid STRING PRIMARY KEY, name STRING, age INT) WITH (KAFKA_TOPIC='users', KEY_FORMAT='JSON', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE STREAM counts (k STRING KEY, n BIGINT) WITH (KAFKA_TOPIC='counts', VALUE_FORMAT='KAFKA');`)

	// DESCRIBE: fields with the key marked, formats, partitions.
	d := s.ksql(`DESCRIBE clicks;`)[0]
	if d["@type"] != "sourceDescription" {
		t.Fatalf("DESCRIBE: %v", d)
	}
	sd := d["sourceDescription"].(map[string]any)
	if sd["name"] != "CLICKS" || sd["type"] != "STREAM" || sd["topic"] != "clicks" || sd["keyFormat"] != "KAFKA" ||
		sd["valueFormat"] != "DELIMITED" || sd["partitions"] != json.Number("3") {
		t.Errorf("DESCRIBE clicks: %v", sd)
	}
	jsonEq(t, "DESCRIBE clicks fields", sd["fields"], `[
		{"name":"USER","schema":{"type":"STRING","fields":null,"memberSchema":null},"type":"KEY"},
		{"name":"URL","schema":{"type":"STRING","fields":null,"memberSchema":null}},
		{"name":"MS","schema":{"type":"INTEGER","fields":null,"memberSchema":null}}]`)
	sd = s.ksql(`DESCRIBE users;`)[0]["sourceDescription"].(map[string]any)
	if sd["type"] != "TABLE" || sd["keyFormat"] != "JSON" || sd["partitions"] != json.Number("2") {
		t.Errorf("DESCRIBE users: %v", sd)
	}

	// INSERT VALUES into each format, read back with PRINT (bytes as stored) and a push query
	// from the beginning (decoded).
	s.ksql(`INSERT INTO clicks (user, url, ms) VALUES ('ann', '/a', 7);
		INSERT INTO users (uid, name, age) VALUES ('u1', 'Ann', 30);
		INSERT INTO counts (k, n) VALUES ('a', 5);`)
	lines := s.printLines(`PRINT 'clicks' FROM BEGINNING LIMIT 1;`)
	// CSV quotes a record's first field when it does not start with a letter or digit.
	if len(lines) != 1 || !regexp.MustCompile(`^rowtime: \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3} UTC, key: ann, value: "/a",7, partition: [0-2]$`).MatchString(lines[0]) {
		t.Errorf("PRINT clicks: %q", lines)
	}
	lines = s.printLines(`PRINT 'users' FROM BEGINNING LIMIT 1;`)
	if len(lines) != 1 || !strings.Contains(lines[0], `value: {"NAME":"Ann","AGE":30}`) {
		t.Errorf("PRINT users: %q", lines)
	}
	if got := s.pushRows(`SELECT * FROM clicks EMIT CHANGES LIMIT 1;`); got != `[["ann","/a",7]]` {
		t.Errorf("clicks: %s", got)
	}
	if got := s.pushRows(`SELECT * FROM users EMIT CHANGES LIMIT 1;`); got != `[["u1","Ann",30]]` {
		t.Errorf("users: %s", got)
	}
	if got := s.pushRows(`SELECT k, n FROM counts EMIT CHANGES LIMIT 1;`); got != `[["a",5]]` {
		t.Errorf("counts (KAFKA value format): %s", got)
	}

	// SHOW STREAMS / TABLES / TOPICS.
	if got := sourceNames(s.ksql(`SHOW STREAMS;`), "streams"); strings.Join(got, ",") != "CLICKS,COUNTS,SLUICE_PROCESSING_LOG" {
		t.Errorf("SHOW STREAMS: %v", got)
	}
	if got := sourceNames(s.ksql(`SHOW TABLES;`), "tables"); strings.Join(got, ",") != "USERS" {
		t.Errorf("SHOW TABLES: %v", got)
	}
	topics := s.ksql(`SHOW TOPICS;`)[0]
	if topics["@type"] != "kafka_topics" {
		t.Errorf("SHOW TOPICS: %v", topics)
	}
	jsonEq(t, "SHOW TOPICS", topics["topics"], `[{"name":"clicks","replicaInfo":[1,1,1]},{"name":"counts","replicaInfo":[1]},{"name":"users","replicaInfo":[1,1]}]`)
}

func TestStatementsPersistentQueries(t *testing.T) {
	s := startServer(t, "")
	s.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE STREAM big AS SELECT orderId, customerId, amount * 2 AS dbl FROM orders WHERE amount > 100;
		CREATE TABLE stats AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean,
			MIN(amount) AS lo, MAX(amount) AS hi FROM orders GROUP BY customerId EMIT CHANGES;`)
	s.ksql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o1', 'c1', 50.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o2', 'c1', 150.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o3', 'c2', 300.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o4', 'c1', 250.0);`)

	// CTAS aggregates, read with pull queries.
	s.waitPull(`SELECT * FROM stats WHERE customerId = 'c1';`, `[["c1",3,450.0,150.0,50.0,250.0]]`, 10*time.Second)
	s.waitPull(`SELECT * FROM stats WHERE customerId = 'c2';`, `[["c2",1,300.0,300.0,300.0,300.0]]`, 10*time.Second)

	// CSAS: the sink holds the filtered, projected rows (order across partitions is not
	// defined, so compare as a set).
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := s.queryStream(ctx, `SELECT orderId, dbl FROM big EMIT CHANGES LIMIT 3;`, earliest)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.rows {
		got[r[0].(string)] = r[1].(json.Number).String()
	}
	jsonEq(t, "BIG", got, `{"o2":"300.0","o3":"600.0","o4":"500.0"}`)
	jsonEq(t, "BIG columns", res.meta["columnNames"], `["ORDERID","DBL"]`)

	// SHOW QUERIES lists both persistent queries with their sinks.
	qs := s.ksql(`SHOW QUERIES;`)[0]["queries"].([]any)
	var ids []string
	for _, q := range qs {
		m := q.(map[string]any)
		if m["queryType"] != "PERSISTENT" || m["state"] != "RUNNING" {
			t.Errorf("query %v", m)
		}
		ids = append(ids, m["id"].(string))
	}
	if len(ids) != 2 || !strings.HasPrefix(ids[0], "CSAS_BIG_") || !strings.HasPrefix(ids[1], "CTAS_STATS_") {
		t.Fatalf("SHOW QUERIES ids %v", ids)
	}

	// TERMINATE stops the CSAS: later inserts no longer reach BIG.
	term := s.ksql(`TERMINATE ` + ids[0] + `;`)[0]
	if term["@type"] != "currentStatus" || field(term, "commandStatus", "status") != "SUCCESS" {
		t.Errorf("TERMINATE: %v", term)
	}
	if got := sourceNames(s.ksql(`SHOW QUERIES;`), "queries"); len(got) != 1 || got[0] != ids[1] {
		t.Errorf("SHOW QUERIES after TERMINATE: %v", got)
	}
	s.ksql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o5', 'c2', 500.0);`)
	s.waitPull(`SELECT n, total FROM stats WHERE customerId = 'c2';`, `[[2,800.0]]`, 10*time.Second)
	info := topicRecords(t, s, "BIG")
	if info != 3 {
		t.Errorf("BIG has %d records after TERMINATE and one more qualifying insert, want 3", info)
	}

	// DROP STREAM keeps the topic; DROP TABLE ... DELETE TOPIC removes it (and its query).
	drop := s.ksql(`DROP STREAM big;`)[0]
	if drop["commandId"] != "stream/BIG/drop" || field(drop, "commandStatus", "status") != "SUCCESS" {
		t.Errorf("DROP STREAM: %v", drop)
	}
	s.ksql(`DROP TABLE stats DELETE TOPIC;`)
	// The built-in processing log stream is always listed.
	if got := sourceNames(s.ksql(`SHOW STREAMS;`), "streams"); strings.Join(got, ",") != "ORDERS,SLUICE_PROCESSING_LOG" {
		t.Errorf("SHOW STREAMS after drops: %v", got)
	}
	if got := sourceNames(s.ksql(`SHOW TABLES;`), "tables"); len(got) != 0 {
		t.Errorf("SHOW TABLES after drops: %v", got)
	}
	if got := sourceNames(s.ksql(`SHOW QUERIES;`), "queries"); len(got) != 0 {
		t.Errorf("SHOW QUERIES after drops: %v", got)
	}
	if got := sourceNames(s.ksql(`SHOW TOPICS;`), "topics"); strings.Join(got, ",") != "BIG,orders" {
		t.Errorf("SHOW TOPICS after drops: %v (want BIG kept, STATS deleted)", got)
	}

	// PRINT a topic from the beginning with LIMIT.
	lines := s.printLines(`PRINT 'BIG' FROM BEGINNING LIMIT 2;`)
	if len(lines) != 2 {
		t.Errorf("PRINT BIG LIMIT 2: %q", lines)
	}
	for _, l := range lines {
		if !regexp.MustCompile(`key: o[234], value: \{"CUSTOMERID":"c[12]","DBL":\d+\.0\}, partition: [01]$`).MatchString(l) {
			t.Errorf("PRINT line %q", l)
		}
	}
}

// topicRecords counts a topic's records through the engine: REST has no way to read a topic
// to its current end (PRINT and push queries wait for more).
func topicRecords(t *testing.T, s *testServer, topic string) int {
	t.Helper()
	info, err := s.app.Engine.ReadLogical(context.Background(), topic)
	if err != nil {
		t.Fatalf("reading %s: %v", topic, err)
	}
	return len(info)
}
