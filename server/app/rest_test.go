package app_test

// The ksqlDB-compatible REST API over net/http against the real server: shapes per
// KSQL_FACTS part A.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRESTInfoAndHealth(t *testing.T) {
	s := startServer(t, "")

	info := s.get("/info")
	if info.status != 200 || !strings.HasPrefix(info.ctype, "application/") {
		t.Fatalf("GET /info: %s", info)
	}
	var body map[string]map[string]any
	if err := decodeJSON(info.body, &body); err != nil {
		t.Fatalf("GET /info body %q: %v", info.body, err)
	}
	si := body["KsqlServerInfo"]
	if len(body) != 1 || si == nil {
		t.Fatalf("GET /info: want one KsqlServerInfo object, got %s", info.body)
	}
	for _, k := range []string{"version", "kafkaClusterId", "ksqlServiceId", "serverStatus"} {
		if v, _ := si[k].(string); v == "" {
			t.Errorf("GET /info: KsqlServerInfo.%s missing or empty in %s", k, info.body)
		}
	}
	if si["serverStatus"] != "RUNNING" || si["ksqlServiceId"] != "default_" {
		t.Errorf("GET /info: %s", info.body)
	}

	hc := s.get("/healthcheck")
	if hc.status != 200 {
		t.Fatalf("GET /healthcheck: %s", hc)
	}
	var h any
	if err := decodeJSON(hc.body, &h); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "GET /healthcheck", h, `{"isHealthy":true,"details":{"metastore":{"isHealthy":true},"kafka":{"isHealthy":true}},"serverState":"RUNNING"}`)

	if nf := s.get("/no/such/route"); nf.status != 404 {
		t.Errorf("GET unknown route: %s", nf)
	}
}

func TestRESTKsqlEntities(t *testing.T) {
	s := startServer(t, "")

	ents := s.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE totals AS SELECT customerId, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;
		SHOW STREAMS;
		SHOW TABLES;`)
	if len(ents) != 4 {
		t.Fatalf("want 4 entities, got %d: %v", len(ents), ents)
	}
	// CREATE STREAM: currentStatus.
	e := ents[0]
	if e["@type"] != "currentStatus" || e["commandId"] != "stream/ORDERS/create" ||
		field(e, "commandStatus", "status") != "SUCCESS" || field(e, "commandStatus", "message") != "Stream created" {
		t.Errorf("CREATE STREAM entity: %v", e)
	}
	if _, ok := e["commandSequenceNumber"].(json.Number); !ok {
		t.Errorf("CREATE STREAM entity lacks a numeric commandSequenceNumber: %v", e)
	}
	if st, _ := e["statementText"].(string); !strings.HasPrefix(st, "CREATE STREAM orders") {
		t.Errorf("statementText = %q", st)
	}
	if w, ok := e["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings = %v, want []", e["warnings"])
	}
	// CTAS: currentStatus naming the query.
	e = ents[1]
	qid, _ := field(e, "commandStatus", "queryId").(string)
	if e["@type"] != "currentStatus" || e["commandId"] != "table/TOTALS/create" ||
		!regexp.MustCompile(`^CTAS_TOTALS_\d+$`).MatchString(qid) ||
		field(e, "commandStatus", "message") != "Created query with ID "+qid {
		t.Errorf("CTAS entity: %v", e)
	}
	// SHOW STREAMS / SHOW TABLES.
	jsonEq(t, "SHOW STREAMS", ents[2]["streams"],
		`[{"type":"STREAM","name":"ORDERS","topic":"orders","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":false},`+
			`{"type":"STREAM","name":"SLUICE_PROCESSING_LOG","topic":"_sluice_processing_log","keyFormat":"NONE","valueFormat":"JSON","isWindowed":false}]`)
	if ents[2]["@type"] != "streams" {
		t.Errorf("SHOW STREAMS @type = %v", ents[2]["@type"])
	}
	jsonEq(t, "SHOW TABLES", ents[3]["tables"],
		`[{"type":"TABLE","name":"TOTALS","topic":"TOTALS","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":false}]`)

	// INSERT INTO ... VALUES: ksqlDB answers with an empty array.
	if got := s.ksql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o1', 'c1', 10.5);`); len(got) != 0 {
		t.Errorf("INSERT entities = %v, want []", got)
	}
}

func TestRESTKsqlErrors(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()

	// A failing statement after a good one: statement_error with the earlier entity.
	_, err := s.tryKsql(`CREATE STREAM a (x INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', PARTITIONS=1); CREATE STREAM b AS SELECT nope FROM a;`)
	ke, ok := err.(*ksqlError)
	if !ok || ke.status != 400 {
		t.Fatalf("want HTTP 400, got %v", err)
	}
	if ke.body["@type"] != "statement_error" || ke.body["error_code"] != json.Number("40001") ||
		ke.body["statementText"] != "CREATE STREAM b AS SELECT nope FROM a;" || !strings.Contains(ke.message(), "NOPE") {
		t.Errorf("error body: %v", ke.body)
	}
	if ents, _ := ke.body["entities"].([]any); len(ents) != 1 || field(ents[0].(map[string]any), "commandId") != "stream/A/create" {
		t.Errorf("entities of the statements before the failure: %v", ke.body["entities"])
	}

	// A syntax error names line and column.
	_, err = s.tryKsql("CREATE STREAM x AS SELECT * FRM a;")
	ke, ok = err.(*ksqlError)
	if !ok || ke.status != 400 || ke.body["error_code"] != json.Number("40001") {
		t.Fatalf("syntax error: %v", err)
	}
	if !strings.HasPrefix(ke.message(), "line 1:29: ") {
		t.Errorf("syntax error message %q does not start with line 1:29", ke.message())
	}

	// SELECT belongs on /query: 40002.
	_, err = s.tryKsql(`SELECT * FROM a EMIT CHANGES;`)
	if ke, ok := err.(*ksqlError); !ok || ke.status != 400 || ke.body["error_code"] != json.Number("40002") {
		t.Errorf("SELECT on /ksql: %v", err)
	}

	// Unknown source on /query.
	res, err := s.post(ctx, "/query", "", map[string]any{"ksql": "SELECT * FROM nosuch EMIT CHANGES;"})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := decodeJSON(res.body, &body); err != nil || res.status != 400 || body["@type"] != "statement_error" ||
		body["error_code"] != json.Number("40001") || !strings.Contains(body["message"].(string), "NOSUCH") {
		t.Errorf("/query unknown source: %s", res)
	}

	// Malformed request bodies: generic_error 40000.
	for _, raw := range []string{`{"ksql": `, `{}`, `[1]`} {
		req, _ := http.NewRequest(http.MethodPost, s.url("/ksql"), strings.NewReader(raw))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb map[string]any
		if err := decodeJSON(b, &eb); err != nil || resp.StatusCode != 400 || eb["@type"] != "generic_error" ||
			eb["error_code"] != json.Number("40000") || eb["message"] == "" {
			t.Errorf("body %q: HTTP %d %s", raw, resp.StatusCode, b)
		}
	}
}

// openStream starts a streaming POST and returns the response once the headers are in.
func (s *testServer) openStream(ctx context.Context, path, accept string, body any) *http.Response {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url(path), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.t.Fatalf("POST %s: HTTP %d %s", path, resp.StatusCode, b)
	}
	return resp
}

func TestRESTQueryPushChunked(t *testing.T) {
	s := startServer(t, "")
	s.ksql(ordersDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	resp := s.openStream(ctx, "/query", "application/vnd.ksql.v1+json",
		map[string]any{"ksql": "SELECT orderId, amount FROM orders WHERE amount > 100 EMIT CHANGES LIMIT 2;"})
	defer resp.Body.Close()
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding = %v, want chunked", resp.TransferEncoding)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.ksql.v1+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The header arrives before any row exists.
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the header line: %v", err)
	}
	s.ksql(`INSERT INTO orders (orderId, amount) VALUES ('o1', 50.0);
		INSERT INTO orders (orderId, amount) VALUES ('o2', 150.5);
		INSERT INTO orders (orderId, amount) VALUES ('o3', 200.0);`)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := decodeJSON([]byte(first+string(rest)), &items); err != nil {
		t.Fatalf("response is not one JSON array: %v\n%s%s", err, first, rest)
	}
	if len(items) != 4 {
		t.Fatalf("want header, 2 rows, finalMessage; got %d items: %s%s", len(items), first, rest)
	}
	qid, _ := field(items[0], "header", "queryId").(string)
	if !strings.HasPrefix(qid, "transient_") {
		t.Errorf("header queryId = %q", qid)
	}
	jsonEq(t, "header schema", field(items[0], "header", "schema"), "\"`ORDERID` STRING, `AMOUNT` DOUBLE\"")
	jsonEq(t, "rows", items[1:3], `[{"row":{"columns":["o2",150.5]}},{"row":{"columns":["o3",200.0]}}]`)
	jsonEq(t, "final", items[3], `{"finalMessage":"Limit Reached"}`)
	s.waitPushQueries(0, 5*time.Second)
}

func TestRESTQueryStream(t *testing.T) {
	s := startServer(t, "")
	s.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);
		CREATE TABLE totals AS SELECT customerId, SUM(amount) AS total, COUNT(*) AS n FROM orders GROUP BY customerId EMIT CHANGES;`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Push query, delimited: metadata line, then one array per row, streamed.
	resp := s.openStream(ctx, "/query-stream", "application/vnd.ksqlapi.delimited.v1",
		map[string]any{"sql": "SELECT orderId, amount FROM orders EMIT CHANGES LIMIT 2;"})
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.ksqlapi.delimited.v1" {
		t.Errorf("Content-Type = %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	metaLine, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := decodeJSON([]byte(metaLine), &meta); err != nil {
		t.Fatalf("metadata %q: %v", metaLine, err)
	}
	if id, _ := meta["queryId"].(string); id == "" {
		t.Errorf("metadata without queryId: %s", metaLine)
	}
	jsonEq(t, "columnNames", meta["columnNames"], `["ORDERID","AMOUNT"]`)
	jsonEq(t, "columnTypes", meta["columnTypes"], `["STRING","DOUBLE"]`)
	s.ksql(`INSERT INTO orders (orderId, customerId, amount) VALUES ('o1', 'c1', 10.0);
		INSERT INTO orders (orderId, customerId, amount) VALUES ('o2', 'c1', 2.5);`)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(rest), "[\"o1\",10.0]\n[\"o2\",2.5]\n"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}

	// Pull query on the CTAS: retried until the committed state has both rows.
	s.waitPull("SELECT * FROM totals WHERE customerId = 'c1';", `[["c1",12.5,2]]`, 10*time.Second)

	// Accept application/json: the same items as one JSON array.
	res, err := s.post(ctx, "/query-stream", "application/json", map[string]any{"sql": "SELECT * FROM totals WHERE customerId = 'c1';"})
	if err != nil {
		t.Fatal(err)
	}
	var arr []any
	if err := decodeJSON(res.body, &arr); err != nil || res.status != 200 || len(arr) != 2 {
		t.Fatalf("application/json: %s (%v)", res, err)
	}
	jsonEq(t, "application/json columnNames", arr[0].(map[string]any)["columnNames"], `["CUSTOMERID","TOTAL","N"]`)
	jsonEq(t, "application/json row", arr[1], `["c1",12.5,2]`)

	// /query on a table pull query: the header marks the key, no finalMessage.
	res, err = s.post(ctx, "/query", "", map[string]any{"ksql": "SELECT * FROM totals WHERE customerId = 'c1';"})
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := decodeJSON(res.body, &items); err != nil || res.status != 200 || len(items) != 2 {
		t.Fatalf("/query pull: %s (%v)", res, err)
	}
	jsonEq(t, "/query pull schema", field(items[0], "header", "schema"), "\"`CUSTOMERID` STRING KEY, `TOTAL` DOUBLE, `N` BIGINT\"")
	jsonEq(t, "/query pull row", items[1], `{"row":{"columns":["c1",12.5,2]}}`)

	// /inserts-stream: one ack per row.
	body := `{"target":"orders"}` + "\n" + `{"ORDERID":"o3","CUSTOMERID":"c2","AMOUNT":1.0}` + "\n" + `{"orderId":"o4","customerId":"c2","amount":2.0}` + "\n"
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/inserts-stream"), strings.NewReader(body))
	ir, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := io.ReadAll(ir.Body)
	ir.Body.Close()
	if ir.StatusCode != 200 {
		t.Fatalf("/inserts-stream: HTTP %d %s", ir.StatusCode, ib)
	}
	var acks []string
	for _, l := range strings.Split(strings.TrimSpace(string(ib)), "\n") {
		acks = append(acks, strings.TrimSpace(l))
	}
	if strings.Join(acks, "|") != `{"status":"ok","seq":0}|{"status":"ok","seq":1}` {
		t.Errorf("/inserts-stream acks: %q", ib)
	}
	s.waitPull("SELECT * FROM totals WHERE customerId = 'c2';", `[["c2",3.0,2]]`, 10*time.Second)
}

func TestRESTCloseQuery(t *testing.T) {
	s := startServer(t, "")
	s.ksql(ordersDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp := s.openStream(ctx, "/query-stream", "", map[string]any{"sql": "SELECT * FROM orders EMIT CHANGES;"})
	defer resp.Body.Close()
	metaLine, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := decodeJSON([]byte(metaLine), &meta); err != nil {
		t.Fatal(err)
	}
	s.waitPushQueries(1, 5*time.Second)
	res, err := s.post(ctx, "/close-query", "", map[string]any{"queryId": meta["queryId"]})
	if err != nil || res.status != 200 {
		t.Fatalf("/close-query: %v %s", err, res)
	}
	s.waitPushQueries(0, 5*time.Second)
	// The response ends once the query is closed.
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Errorf("/query-stream response still open 5s after /close-query")
	}
}

// TestRESTSyntaxErrorLineInRequest: in a multi-statement request, the position in the message
// must count lines from the start of the request (ksqlDB parses the request as one text), as
// engine.Error.Line already does.
func TestRESTSyntaxErrorLineInRequest(t *testing.T) {
	s := startServer(t, "")
	_, err := s.tryKsql("SHOW STREAMS;\nCREATE STREAM x AS SELECT * FRM a;")
	ke, ok := err.(*ksqlError)
	if !ok || ke.status != 400 {
		t.Fatalf("syntax error: %v", err)
	}
	if !regexp.MustCompile(`line 2:29\b`).MatchString(ke.message()) {
		t.Errorf("syntax error message %q does not name line 2:29", ke.message())
	}
}
