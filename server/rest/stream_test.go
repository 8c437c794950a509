package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/exec/engine"
)

const waitLimit = 10 * time.Second

func post(t *testing.T, ctx context.Context, c *http.Client, url, accept, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readLineTimeout reads one line or fails the test after waitLimit.
func readLineTimeout(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := br.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("reading line: %v (got %q)", r.err, r.s)
		}
		return strings.TrimRight(r.s, "\n")
	case <-time.After(waitLimit):
		t.Fatal("no line within the time limit")
	}
	return ""
}

func waitPush(t *testing.T, b *fakeBackend, id string) *pushQuery {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if pq := b.push(id); pq != nil {
			return pq
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("push query %s never started", id)
	return nil
}

func sendRow(t *testing.T, pq *pushQuery, r engine.Row) {
	t.Helper()
	select {
	case pq.rows <- r:
	case <-time.After(waitLimit):
		t.Fatal("server did not take the row")
	}
}

func waitClosed(t *testing.T, pq *pushQuery) {
	t.Helper()
	select {
	case <-pq.closed:
	case <-time.After(waitLimit):
		t.Fatal("cursor was not closed")
	}
}

// TestQueryPushStreams checks that /query rows reach the client while the push query runs
// (chunked, flushed per row), tombstones are marked, and LIMIT ends with "Limit Reached".
func TestQueryPushStreams(t *testing.T) {
	b := newFakeBackend()
	ts := startServer(t, b, Config{})
	resp := post(t, context.Background(), ts.Client(), ts.URL+"/query", "",
		`{"ksql":"SELECT * FROM PUSH EMIT CHANGES LIMIT 2;"}`)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("status %d, transfer encoding %v", resp.StatusCode, resp.TransferEncoding)
	}
	br := bufio.NewReader(resp.Body)
	if got, want := readLineTimeout(t, br), `[{"header":{"queryId":"transient_S1_1","schema":"`+"`ID` STRING, `COUNT` BIGINT"+`"}},`; got != want {
		t.Fatalf("header %q, want %q", got, want)
	}
	pq := waitPush(t, b, "transient_S1_1")
	sendRow(t, pq, engine.Row{Values: []any{"a", int64(1)}})
	// The header line ends with ",\n" only once the next element exists; read the row itself
	// before sending the next one: it must arrive while the query is still running.
	sendRow(t, pq, engine.Row{Values: []any{"a", nil}, Tombstone: true})
	if got, want := readLineTimeout(t, br), `{"row":{"columns":["a",1]}},`; got != want {
		t.Fatalf("row %q, want %q", got, want)
	}
	close(pq.rows)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(rest), `{"row":{"columns":["a",null],"tombstone":true}},`+"\n"+`{"finalMessage":"Limit Reached"}]`; got != want {
		t.Fatalf("rest %q, want %q", got, want)
	}
}

// TestQueryStreamPushDelimited checks the delimited form row by row over HTTP/1.1 and h2c.
func TestQueryStreamPushDelimited(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(*testing.T, string) *http.Client
		proto  int
	}{
		{"http1", func(*testing.T, string) *http.Client { return http.DefaultClient }, 1},
		{"h2c", func(*testing.T, string) *http.Client { return h2cClient() }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBackend()
			ts := startServer(t, b, Config{})
			resp := post(t, context.Background(), tc.client(t, ts.URL), ts.URL+"/query-stream", "",
				`{"sql":"SELECT * FROM PUSH EMIT CHANGES;"}`)
			defer resp.Body.Close()
			if resp.ProtoMajor != tc.proto {
				t.Fatalf("protocol %s, want major %d", resp.Proto, tc.proto)
			}
			if ct := resp.Header.Get("Content-Type"); ct != mediaDelimited {
				t.Fatalf("content type %q", ct)
			}
			br := bufio.NewReader(resp.Body)
			var meta struct {
				QueryID     string   `json:"queryId"`
				ColumnNames []string `json:"columnNames"`
				ColumnTypes []string `json:"columnTypes"`
			}
			if err := json.Unmarshal([]byte(readLineTimeout(t, br)), &meta); err != nil {
				t.Fatal(err)
			}
			if meta.QueryID != "transient_S1_1" || strings.Join(meta.ColumnTypes, ",") != "STRING,BIGINT" {
				t.Fatalf("metadata %+v", meta)
			}
			pq := waitPush(t, b, meta.QueryID)
			for i := range 3 {
				sendRow(t, pq, engine.Row{Values: []any{"k", int64(i)}})
				if got, want := readLineTimeout(t, br), `["k",`+string(rune('0'+i))+`]`; got != want {
					t.Fatalf("row %d: %q, want %q", i, got, want)
				}
			}
			// Tombstones are not representable in this format and are dropped.
			sendRow(t, pq, engine.Row{Values: []any{"k", nil}, Tombstone: true})
			// /close-query ends the query; the response then ends cleanly.
			cr := post(t, context.Background(), tc.client(t, ts.URL), ts.URL+"/close-query", "",
				`{"queryId":"`+meta.QueryID+`"}`)
			cr.Body.Close()
			if cr.StatusCode != 200 {
				t.Fatalf("close-query status %d", cr.StatusCode)
			}
			rest, err := io.ReadAll(br)
			if err != nil || len(rest) != 0 {
				t.Fatalf("after close: %q, %v", rest, err)
			}
		})
	}
}

// TestClientDisconnectStopsCursor checks that a client going away closes the cursor, over
// HTTP/1.1 and h2c, while the cursor is blocked waiting for rows.
func TestClientDisconnectStopsCursor(t *testing.T) {
	for _, tc := range []struct {
		name, path, body string
		h2c              bool
	}{
		{"query", "/query", `{"ksql":"SELECT * FROM PUSH EMIT CHANGES;"}`, false},
		{"query-stream", "/query-stream", `{"sql":"SELECT * FROM PUSH EMIT CHANGES;"}`, false},
		{"query-stream-h2c", "/query-stream", `{"sql":"SELECT * FROM PUSH EMIT CHANGES;"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBackend()
			ts := startServer(t, b, Config{})
			client := ts.Client()
			if tc.h2c {
				client = h2cClient()
			}
			ctx, cancel := context.WithCancel(context.Background())
			resp := post(t, ctx, client, ts.URL+tc.path, "", tc.body)
			br := bufio.NewReader(resp.Body)
			readLineTimeout(t, br)
			pq := waitPush(t, b, "transient_S1_1")
			cancel()
			resp.Body.Close()
			waitClosed(t, pq)
		})
	}
}

// TestInsertsStreamFullDuplex sends rows one at a time and reads each ack before sending the
// next, over HTTP/1.1 (chunked both ways) and h2c.
func TestInsertsStreamFullDuplex(t *testing.T) {
	for _, tc := range []struct {
		name string
		h2c  bool
	}{{"http1", false}, {"h2c", true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBackend()
			ts := startServer(t, b, Config{})
			client := ts.Client()
			if tc.h2c {
				client = h2cClient()
			}
			pr, pw := io.Pipe()
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/inserts-stream", pr)
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				resp *http.Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := client.Do(req)
				done <- result{resp, err}
			}()
			if _, err := io.WriteString(pw, `{"target":"s1"}`+"\n"); err != nil {
				t.Fatal(err)
			}
			var res result
			select {
			case res = <-done:
			case <-time.After(waitLimit):
				t.Fatal("no response headers")
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			defer res.resp.Body.Close()
			if res.resp.StatusCode != 200 {
				t.Fatalf("status %d", res.resp.StatusCode)
			}
			br := bufio.NewReader(res.resp.Body)
			rows := []string{`{"ID":"a","V":12345678901234567890}`, `{"bad":1}`, `{"ID":"b","D":1.50}`}
			want := []string{`{"status":"ok","seq":0}`,
				`{"status":"error","seq":1,"error_code":40000,"message":"Failed to insert values into 'S1'. Column BAD does not exist"}`,
				`{"status":"ok","seq":2}`}
			for i, row := range rows {
				if _, err := io.WriteString(pw, row+"\n"); err != nil {
					t.Fatal(err)
				}
				if got := readLineTimeout(t, br); got != want[i] {
					t.Fatalf("ack %d: %q, want %q", i, got, want[i])
				}
			}
			pw.Close()
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Fatalf("after end: %q, %v", rest, err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.inserted) != 2 || b.inserted[0]["V"] != json.Number("12345678901234567890") ||
				b.inserted[1]["D"] != json.Number("1.50") {
				t.Fatalf("inserted %v", b.inserted)
			}
		})
	}
}

// TestSessionProperties checks that request properties and variables reach the engine.
func TestSessionProperties(t *testing.T) {
	b := newFakeBackend()
	ts := startServer(t, b, Config{})
	resp := post(t, context.Background(), ts.Client(), ts.URL+"/ksql", "",
		`{"ksql":"SHOW STREAMS;","streamsProperties":{"auto.offset.reset":"earliest","n":3,"b":true,"l":["x",1]},`+
			`"requestProperties":{"n":4},"sessionVariables":{"topic":"t1"}}`)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if got := b.props; got["auto.offset.reset"] != "earliest" || got["n"] != "4" || got["b"] != "true" || got["l"] != "x,1" {
		t.Fatalf("props %v", got)
	}
	if b.vars["topic"] != "t1" {
		t.Fatalf("vars %v", b.vars)
	}
}

// TestBodyLimit checks 413 for bodies over MaxBodyBytes on every body-reading endpoint.
func TestBodyLimit(t *testing.T) {
	ts := startServer(t, newFakeBackend(), Config{MaxBodyBytes: 64})
	big := `{"ksql":"` + strings.Repeat("x", 100) + `"}`
	for _, path := range []string{"/ksql", "/query", "/query-stream", "/close-query", "/inserts-stream"} {
		resp := post(t, context.Background(), ts.Client(), ts.URL+path, "", big)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"error_code":41300`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// Just under the limit is fine.
	resp := post(t, context.Background(), ts.Client(), ts.URL+"/ksql", "", `{"ksql":"SHOW STREAMS;"}`)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("small body: %d", resp.StatusCode)
	}
}

// TestStaticConsole checks that Config.Static serves / and unclaimed GET paths while API routes
// and unknown non-GET requests keep their answers.
func TestStaticConsole(t *testing.T) {
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/app.js" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "console "+r.URL.Path)
	})
	ts := startServer(t, newFakeBackend(), Config{Static: static})
	for path, want := range map[string]string{"/": "200 console /", "/app.js": "200 console /app.js",
		"/nope": "404 404 page not found\n", "/info": "200 {\"KsqlServerInfo\""} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strconv.Itoa(resp.StatusCode) + " " + string(body); !strings.HasPrefix(got, want) {
			t.Errorf("GET %s: %q, want prefix %q", path, got, want)
		}
	}
}

// TestClusterStatus checks the single-node /clusterStatus shape.
func TestClusterStatus(t *testing.T) {
	ts := startServer(t, newFakeBackend(), Config{})
	resp, err := ts.Client().Get(ts.URL + "/clusterStatus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ClusterStatus map[string]struct {
			HostAlive             bool           `json:"hostAlive"`
			LastStatusUpdateMs    int64          `json:"lastStatusUpdateMs"`
			ActiveStandbyPerQuery map[string]any `json:"activeStandbyPerQuery"`
			HostStoreLags         struct {
				StateStoreLags map[string]any `json:"stateStoreLags"`
				UpdateTimeMs   int64          `json:"updateTimeMs"`
			} `json:"hostStoreLags"`
		} `json:"clusterStatus"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	st, ok := body.ClusterStatus[host]
	if !ok || !st.HostAlive || st.LastStatusUpdateMs == 0 || st.ActiveStandbyPerQuery == nil || st.HostStoreLags.StateStoreLags == nil {
		t.Fatalf("cluster status %+v", body)
	}
}

// TestStatusList checks GET /status after a /ksql request.
func TestStatusList(t *testing.T) {
	ts := startServer(t, newFakeBackend(), Config{})
	resp := post(t, context.Background(), ts.Client(), ts.URL+"/ksql", "", `{"ksql":"CREATE STREAM S1 (A INT) WITH (kafka_topic='s1', value_format='JSON');"}`)
	resp.Body.Close()
	resp, err := ts.Client().Get(ts.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), `{"commandStatuses":{"stream/S1/create":"SUCCESS"}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestPushClosedStaysValidJSON checks that a StreamedRow-form push query ended by /close-query
// (no final message from the engine) is still one valid JSON array, with each element on its
// own line as soon as it exists.
func TestPushClosedStaysValidJSON(t *testing.T) {
	b := newFakeBackend()
	ts := startServer(t, b, Config{})
	resp := post(t, context.Background(), ts.Client(), ts.URL+"/query-stream", mediaKsqlV1,
		`{"sql":"SELECT * FROM PUSH EMIT CHANGES;"}`)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	header := readLineTimeout(t, br)
	pq := waitPush(t, b, "transient_S1_1")
	sendRow(t, pq, engine.Row{Values: []any{"a", int64(1)}})
	row := readLineTimeout(t, br)
	if !b.CloseQuery("transient_S1_1") {
		t.Fatal("close failed")
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	all := header + "\n" + row + "\n" + string(rest)
	want := "[{\"header\":{\"queryId\":\"transient_S1_1\",\"schema\":\"`ID` STRING, `COUNT` BIGINT\"}},\n" +
		`{"row":{"columns":["a",1]}},` + "\n" + `{"finalMessage":"Query Completed"}]`
	if all != want || !json.Valid([]byte(all)) {
		t.Fatalf("got\n%s\nwant\n%s", all, want)
	}
}
