package app_test

// The client compatibility matrix (PGWIRE.md section 6): real drivers, in their own runtimes,
// over real sockets against a real server. Every client runs the same scenario on a fresh
// server: CREATE STREAM + CREATE TABLE AS, six INSERTs, pull queries with a bound parameter
// against the CTAS table (polled until the committed state is complete: no fixed sleeps),
// then push queries with LIMIT read the way that driver streams (named cursor and COPY for
// psycopg2, pg-cursor for node, fetch size for JDBC, rows.Next for pgx), with
// auto.offset.reset=earliest so the rows inserted before the query are delivered.
//
// The client programs live in testdata/clients. A client whose runtime is missing is skipped
// with the reason, unless SLUICE_REQUIRE_CLIENTS is set (.ci/run sets it: CI installs them
// all, so a skip there would hide a broken install).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// clientsDir is testdata/clients, relative to this package.
const clientsDir = "../../testdata/clients"

// Debian's interpreter: python3-psycopg2 installs there, not into a pyenv python3 that may
// come first on PATH.
const debianPython = "/usr/bin/python3"

const jdbcJar = "/usr/share/java/postgresql.jar"

// missingClient skips the test (or fails it when SLUICE_REQUIRE_CLIENTS is set).
func missingClient(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("SLUICE_REQUIRE_CLIENTS") != "" {
		t.Fatalf("SLUICE_REQUIRE_CLIENTS is set but %s", msg)
	}
	t.Skip(msg)
}

// clientEnv is the environment the client programs read their connection from.
func clientEnv(s *testServer, extra ...string) []string {
	host, port, _ := strings.Cut(s.pg, ":")
	env := append(os.Environ(), "SLUICE_PG_HOST="+host, "SLUICE_PG_PORT="+port)
	return append(env, extra...)
}

// runClient runs cmd (its env already set) and returns stdout; a failure or a timeout fails
// the test with both outputs.
func runClient(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		t.Fatalf("%s: %v (after %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), err, time.Since(start).Round(time.Millisecond), stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(cmd.Args[0]), stderr.String())
	}
	return stdout.String()
}

// diffLines reports got != want line by line, so a mismatch says which result differs.
func diffLines(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		mark := "  "
		if gl != wl {
			mark = "! "
		}
		fmt.Fprintf(&b, "%sgot  %q\n%swant %q\n", mark, gl, mark, wl)
	}
	t.Errorf("%s output differs:\n%s", what, b.String())
}

func clientCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestClientPsycopg2: psycopg2 (simple protocol only) with %s parameters, implicit BEGIN /
// ROLLBACK, a named cursor with itersize=2 over a push query (DECLARE "push_cur" ... / FETCH
// FORWARD 2) and copy_expert over COPY (push query) TO STDOUT.
func TestClientPsycopg2(t *testing.T) {
	needPsycopg2(t)
	s := startServer(t, "")
	diffLines(t, "psycopg2", runPsycopg2(t, s), psycopg2Want)
	s.waitPushQueries(0, 5*time.Second)
}

func needPsycopg2(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		missingClient(t, "%s is missing (apt-get install python3-psycopg2)", debianPython)
	}
	if out, err := exec.Command(debianPython, "-c", "import psycopg2").CombinedOutput(); err != nil {
		missingClient(t, "psycopg2 is not importable by %s (apt-get install python3-psycopg2): %v %s", debianPython, err, bytes.TrimSpace(out))
	}
}

// runPsycopg2 runs testdata/clients/psycopg2_client.py against s; env adds credentials/TLS.
func runPsycopg2(t *testing.T, s *testServer, env ...string) string {
	cmd := exec.CommandContext(clientCtx(t), debianPython, filepath.Join(clientsDir, "psycopg2_client.py"))
	cmd.Env = clientEnv(s, append([]string{"PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH=", "PYTHONHOME="}, env...)...)
	return runClient(t, cmd)
}

const psycopg2Want = `ddl: CREATE STREAM
ddl: CREATE TABLE
inserted: 6
pull u1: [('u1', 3, 42)]
pull u2: [('u2', 2, 21)]
pull u3: [('u3', 1, 5)]
pull nobody: []
cursor: ('u1', 'home', 10)
cursor: ('u2', 'cart', 20)
cursor: ('u1', 'shop', 30)
cursor: ('u3', 'home', 5)
cursor rows: 4
copy: 'u1\thome\t10\nu2\tcart\t20\n'
copy rowcount: 2
ok
`

// TestClientNodePg: node-postgres with $n parameters (extended protocol, text results) and
// pg-cursor read(2) over a push query: Execute(maxRows=2) + Flush, PortalSuspended, resume,
// then CommandComplete at the LIMIT.
func TestClientNodePg(t *testing.T) {
	node := needNode(t)
	s := startServer(t, "")
	diffLines(t, "node pg", runNode(t, s, node), nodeWant)
	s.waitPushQueries(0, 5*time.Second)
}

func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingClient(t, "node is not installed (apt-get install nodejs npm)")
	}
	for _, mod := range []string{"pg", "pg-cursor"} {
		if _, err := os.Stat(filepath.Join(clientsDir, "node_modules", mod, "package.json")); err != nil {
			missingClient(t, "node module %s is missing: run `npm ci` in testdata/clients", mod)
		}
	}
	return node
}

// runNode runs testdata/clients/node_client.js against s; env adds credentials/TLS.
func runNode(t *testing.T, s *testServer, node string, env ...string) string {
	cmd := exec.CommandContext(clientCtx(t), node, "node_client.js")
	cmd.Dir = clientsDir
	cmd.Env = clientEnv(s, env...)
	return runClient(t, cmd)
}

const nodeWant = `ddl: CREATE
ddl: CREATE
inserted: 6
pull u1: [{"USERID":"u1","CNT":"3","TOTAL":42}] ["USERID","CNT","TOTAL"]
pull u2: [{"USERID":"u2","CNT":"2","TOTAL":21}] ["USERID","CNT","TOTAL"]
pull u3: [{"USERID":"u3","CNT":"1","TOTAL":5}] ["USERID","CNT","TOTAL"]
pull nobody: [] ["USERID","CNT","TOTAL"]
cursor read 1: [{"USERID":"u1","PAGE":"home","N":10},{"USERID":"u2","PAGE":"cart","N":20}]
cursor read 2: [{"USERID":"u1","PAGE":"shop","N":30},{"USERID":"u3","PAGE":"home","N":5}]
cursor read 3: []
after cursor: [{"USERID":"u3","CNT":"1","TOTAL":5}]
ok
`

// needJava returns javac and java, or skips.
func needJava(t *testing.T) (javac, java string) {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		missingClient(t, "javac is not installed (apt-get install default-jdk-headless)")
	}
	java, err = exec.LookPath("java")
	if err != nil {
		missingClient(t, "java is not installed (apt-get install default-jdk-headless)")
	}
	if _, err := os.Stat(jdbcJar); err != nil {
		missingClient(t, "%s is missing (apt-get install libpostgresql-jdbc-java)", jdbcJar)
	}
	return javac, java
}

// compileJdbcClient compiles testdata/clients/JdbcClient.java into a temp dir and returns the
// classpath to run it with.
func compileJdbcClient(t *testing.T, javac string) string {
	t.Helper()
	classes := t.TempDir()
	cmd := exec.CommandContext(clientCtx(t), javac, "-cp", jdbcJar, "-d", classes, filepath.Join(clientsDir, "JdbcClient.java"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return jdbcJar + string(os.PathListSeparator) + classes
}

// TestClientJDBC: the PostgreSQL JDBC driver. Its startup (SET extra_float_digits,
// application_name), a PreparedStatement executed 6 times (past prepareThreshold=5 it uses a
// named statement and binary results), and setAutoCommit(false) + setFetchSize(2) over a push
// query with LIMIT 5: BEGIN, then Execute(maxRows=2) + Sync on a portal that survives Sync.
func TestClientJDBC(t *testing.T) {
	javac, java := needJava(t)
	cp := compileJdbcClient(t, javac)
	s := startServer(t, "")
	diffLines(t, "JDBC", runJdbc(t, s, java, cp), jdbcWant)
	s.waitPushQueries(0, 5*time.Second)
}

// runJdbc runs the compiled JdbcClient against s; env adds credentials/TLS.
func runJdbc(t *testing.T, s *testServer, java, cp string, env ...string) string {
	cmd := exec.CommandContext(clientCtx(t), java, "-cp", cp, "JdbcClient")
	cmd.Env = clientEnv(s, env...)
	return runClient(t, cmd)
}

const jdbcWant = `ddl: stream
ddl: table
inserted: 6
pull #1 u1: [USERID=u1, CNT=3, TOTAL=42] cnt=3 total=42
pull #2 u2: [USERID=u2, CNT=2, TOTAL=21] cnt=2 total=21
pull #3 u3: [USERID=u3, CNT=1, TOTAL=5] cnt=1 total=5
pull #4 u1: [USERID=u1, CNT=3, TOTAL=42] cnt=3 total=42
pull #5 u2: [USERID=u2, CNT=2, TOTAL=21] cnt=2 total=21
pull #6 u3: [USERID=u3, CNT=1, TOTAL=5] cnt=1 total=5
server prepared: true
push: [USERID=u1, PAGE=home, N=10]
push: [USERID=u2, PAGE=cart, N=20]
push: [USERID=u1, PAGE=shop, N=30]
push: [USERID=u3, PAGE=home, N=5]
push: [USERID=u2, PAGE=home, N=1]
push rows: 5
after push: [USERID=u3, CNT=1, TOTAL=5]
ok
`

// TestClientPgx: pgx v5 in its default mode (statement cache: Parse/Describe once, binary
// parameters and results) against the real engine, covering what ctas_test.go does not: DDL
// and INSERT with parameters over pgwire, and a push query with LIMIT read with rows.Next.
func TestClientPgx(t *testing.T) {
	s := startServer(t, "")
	ctx := clientCtx(t)
	conn, err := pgx.Connect(ctx, s.pgURL())
	if err != nil {
		t.Fatalf("pgx.Connect: %v", err)
	}
	defer conn.Close(context.Background())
	for _, ddl := range []string{
		`CREATE STREAM clicks (userId STRING, page STRING, n INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1)`,
		`CREATE TABLE click_stats AS SELECT userId, COUNT(*) AS cnt, SUM(n) AS total FROM clicks GROUP BY userId EMIT CHANGES`,
	} {
		if _, err := conn.Exec(ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	for _, r := range clickRows {
		tag, err := conn.Exec(ctx, `INSERT INTO clicks (userId, page, n) VALUES ($1, $2, $3)`, r.user, r.page, r.n)
		if err != nil || tag.String() != "INSERT 0 1" {
			t.Fatalf("INSERT %v: %v %v", r, tag, err)
		}
	}
	const pull = `SELECT userId, cnt, total FROM click_stats WHERE userId = $1`
	type stat struct {
		user  string
		cnt   int64
		total int32
	}
	read := func(user string) (stat, error) {
		var st stat
		err := conn.QueryRow(ctx, pull, user).Scan(&st.user, &st.cnt, &st.total)
		return st, err
	}
	want := map[string]stat{"u1": {"u1", 3, 42}, "u2": {"u2", 2, 21}, "u3": {"u3", 1, 5}}
	var last string
	if err := waitFor(15*time.Second, func() bool {
		last = ""
		for u, w := range want {
			got, err := read(u)
			if err != nil || got != w {
				last = fmt.Sprintf("%s: %v %v", u, got, err)
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("pull queries never complete: %s", last)
	}
	if _, err := read("nobody"); err != pgx.ErrNoRows {
		t.Errorf("missing key: %v, want pgx.ErrNoRows", err)
	}

	if _, err := conn.Exec(ctx, `SET 'auto.offset.reset'='earliest'`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT userId, page, n FROM clicks EMIT CHANGES LIMIT 4`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var u, p string
		var n int32
		if err := rows.Scan(&u, &p, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s/%d", u, p, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("push query: %v", err)
	}
	if tag := rows.CommandTag().String(); tag != "SELECT 4" {
		t.Errorf("push query tag %q, want SELECT 4", tag)
	}
	if g := strings.Join(got, " "); g != "u1/home/10 u2/cart/20 u1/shop/30 u3/home/5" {
		t.Errorf("push rows %q", g)
	}
	s.waitPushQueries(0, 5*time.Second)
}

type clickRow struct {
	user, page string
	n          int32
}

var clickRows = []clickRow{{"u1", "home", 10}, {"u2", "cart", 20}, {"u1", "shop", 30}, {"u3", "home", 5}, {"u2", "home", 1}, {"u1", "cart", 2}}
