package app_test

// Helpers shared by the end-to-end tests of this package: a real server started with app.Start
// on loopback ports and a temporary data dir, REST and psql clients, and condition waiting.
// Every test talks to the server over real sockets; nothing reaches into the engine except
// where a test says why.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/server/app"
)

// sluiceBin is the server binary built by TestMain for the crash tests ("" when the build
// failed; buildErr says why).
var (
	sluiceBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-app-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flag.Parse()
	if !testing.Short() {
		bin := filepath.Join(dir, "sluice")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/sluicedb/sluice/server/cmd/sluice")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build sluice: %v\n%s", err, out)
		} else {
			sluiceBin = bin
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer collects the server's log; tests print its tail when they fail. Writing to t.Logf
// from server goroutines would panic once the test has returned.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}

// lines returns the logged lines that contain sub.
func (l *logBuffer) lines(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// testServer is one running server.
type testServer struct {
	t       testing.TB
	dir     string
	app     *app.App
	logs    *logBuffer
	http    string // host:port
	pg      string // host:port
	closing *closeOnce
}

type closeOnce struct {
	mu     sync.Mutex
	closed bool
}

// on returns a view of s whose helpers report failures to t (use it in subtests: helpers that
// call FailNow must be given the goroutine's own t).
func (s *testServer) on(t testing.TB) *testServer {
	c := *s
	c.t = t
	return &c
}

// startServer starts a server on dir (a fresh temp dir when empty) and closes it when the test
// ends.
func startServer(t testing.TB, dir string) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", PGAddr: "127.0.0.1:0", Logf: logs.logf})
	if err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	s := &testServer{t: t, dir: dir, app: a, logs: logs, http: a.HTTPAddr(), pg: a.PGAddr(), closing: &closeOnce{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s):\n%s", dir, logs.tail(6000))
		}
		s.close()
	})
	return s
}

// close stops the server once; it reports an error from Close as a test failure.
func (s *testServer) close() {
	s.closing.mu.Lock()
	defer s.closing.mu.Unlock()
	if s.closing.closed {
		return
	}
	s.closing.closed = true
	if err := s.app.Close(); err != nil {
		s.t.Errorf("app.Close: %v", err)
	}
}

func (s *testServer) url(path string) string { return "http://" + s.http + path }

// pgURL is a libpq/pgx connection string for the server.
func (s *testServer) pgURL() string {
	host, port, _ := strings.Cut(s.pg, ":")
	return fmt.Sprintf("postgres://sluice@%s:%s/sluice?sslmode=disable", host, port)
}

// httpResult is a response read in full.
type httpResult struct {
	status int
	ctype  string
	body   []byte
}

func (r httpResult) String() string { return fmt.Sprintf("%d %s\n%s", r.status, r.ctype, r.body) }

// post sends body as JSON to path with the given Accept ("" for none) and reads the whole
// response.
func (s *testServer) post(ctx context.Context, path, accept string, body any) (httpResult, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return httpResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url(path), bytes.NewReader(b))
	if err != nil {
		return httpResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return httpResult{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: rb}, err
}

func (s *testServer) get(path string) httpResult {
	s.t.Helper()
	resp, err := http.Get(s.url(path))
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return httpResult{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: rb}
}

// ksql runs statements through POST /ksql and fails the test unless they all succeed. It
// returns the entities.
func (s *testServer) ksql(stmts string, props ...map[string]any) []map[string]any {
	s.t.Helper()
	ents, err := s.tryKsql(stmts, props...)
	if err != nil {
		s.t.Fatalf("POST /ksql %q: %v", stmts, err)
	}
	return ents
}

// ksqlError is a failed POST /ksql: the status and the decoded error body.
type ksqlError struct {
	status int
	body   map[string]any
}

func (e *ksqlError) Error() string {
	b, _ := json.Marshal(e.body)
	return fmt.Sprintf("HTTP %d: %s", e.status, b)
}

func (e *ksqlError) message() string { m, _ := e.body["message"].(string); return m }

func (s *testServer) tryKsql(stmts string, props ...map[string]any) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := map[string]any{"ksql": stmts}
	if len(props) > 0 {
		req["streamsProperties"] = props[0]
	}
	res, err := s.post(ctx, "/ksql", "", req)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		var body map[string]any
		if err := decodeJSON(res.body, &body); err != nil {
			return nil, fmt.Errorf("HTTP %d, undecodable body %q: %v", res.status, res.body, err)
		}
		return nil, &ksqlError{status: res.status, body: body}
	}
	var ents []map[string]any
	if err := decodeJSON(res.body, &ents); err != nil {
		return nil, fmt.Errorf("decoding %q: %v", res.body, err)
	}
	return ents, nil
}

// decodeJSON decodes with numbers kept as json.Number, so tests compare them exactly.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// streamResult is a finished /query-stream response in the delimited format.
type streamResult struct {
	meta map[string]any
	rows [][]any
	// errs holds in-band error objects (lines that are objects after the metadata).
	errs []map[string]any
}

// queryStream runs sql through POST /query-stream (delimited) and reads until the response ends
// or ctx is done. A non-200 answer is returned as *ksqlError.
func (s *testServer) queryStream(ctx context.Context, sql string, props map[string]any) (*streamResult, error) {
	req := map[string]any{"sql": sql}
	if props != nil {
		req["properties"] = props
	}
	res, err := s.post(ctx, "/query-stream", "application/vnd.ksqlapi.delimited.v1", req)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		var body map[string]any
		_ = decodeJSON(res.body, &body)
		return nil, &ksqlError{status: res.status, body: body}
	}
	return parseDelimited(res.body)
}

func parseDelimited(b []byte) (*streamResult, error) {
	out := &streamResult{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	first := true
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if first {
			first = false
			if err := decodeJSON(line, &out.meta); err != nil {
				return nil, fmt.Errorf("metadata line %q: %v", line, err)
			}
			continue
		}
		if line[0] == '{' {
			var e map[string]any
			if err := decodeJSON(line, &e); err != nil {
				return nil, fmt.Errorf("line %q: %v", line, err)
			}
			out.errs = append(out.errs, e)
			continue
		}
		var row []any
		if err := decodeJSON(line, &row); err != nil {
			return nil, fmt.Errorf("row line %q: %v", line, err)
		}
		out.rows = append(out.rows, row)
	}
	return out, sc.Err()
}

// pull runs a pull query over REST and returns its rows (fails the test on error).
func (s *testServer) pull(sql string) [][]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.queryStream(ctx, sql, nil)
	if err != nil {
		s.t.Fatalf("pull %q: %v", sql, err)
	}
	if len(res.errs) > 0 {
		s.t.Fatalf("pull %q: in-band errors %v", sql, res.errs)
	}
	return res.rows
}

// waitPull repeats a pull query until its rows, printed as JSON, equal want, or the deadline
// passes. Pull queries read committed state, which trails inserts by up to a commit interval.
func (s *testServer) waitPull(sql, want string, within time.Duration) {
	s.t.Helper()
	var got string
	err := waitFor(within, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := s.queryStream(ctx, sql, nil)
		if err != nil {
			got = err.Error()
			return false
		}
		b, _ := json.Marshal(res.rows)
		got = string(b)
		return got == want
	})
	if err != nil {
		s.t.Fatalf("pull %q: want %s, last answer %s", sql, want, got)
	}
}

// waitFor polls cond every 25ms until it holds or within elapses.
func waitFor(within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("condition not met before the deadline")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// psqlPath is the psql binary, or "" (tests that need it skip).
func psqlPath() string {
	p, err := exec.LookPath("psql")
	if err != nil {
		if _, err := os.Stat("/usr/bin/psql"); err == nil {
			return "/usr/bin/psql"
		}
		return ""
	}
	return p
}

func needPsql(t testing.TB) string {
	t.Helper()
	p := psqlPath()
	if p == "" {
		t.Skip("psql is not installed")
	}
	return p
}

// psqlCmd builds a psql command against the server: -X (no psqlrc), no password prompt.
func (s *testServer) psqlCmd(ctx context.Context, args ...string) *exec.Cmd {
	host, port, _ := strings.Cut(s.pg, ":")
	all := append([]string{"-X", "-w", "-h", host, "-p", port, "-U", "sluice", "-d", "sluice"}, args...)
	cmd := exec.CommandContext(ctx, psqlPath(), all...)
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5", "LANG=C.UTF-8", "PAGER=", "PSQL_PAGER=")
	return cmd
}

// psql runs psql with args and returns stdout, stderr and the exit error.
func (s *testServer) psql(ctx context.Context, args ...string) (string, string, error) {
	cmd := s.psqlCmd(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// mustPsql runs psql -v ON_ERROR_STOP=1 -c sql and returns stdout, failing the test on error.
func (s *testServer) mustPsql(sql string, extra ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append([]string{"-v", "ON_ERROR_STOP=1"}, extra...)
	args = append(args, "-c", sql)
	out, errOut, err := s.psql(ctx, args...)
	if err != nil {
		s.t.Fatalf("psql -c %q: %v\nstdout:\n%s\nstderr:\n%s", sql, err, out, errOut)
	}
	return out
}

// jsonEq reports whether got, marshalled, equals the JSON text want (compared structurally).
func jsonEq(t testing.TB, what string, got any, want string) {
	t.Helper()
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var g, w any
	if err := json.Unmarshal(gb, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, want)
	}
}

// field walks nested maps: field(m, "commandStatus", "status").
func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}
