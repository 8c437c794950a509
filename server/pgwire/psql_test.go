package pgwire_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/server/pgwire"
	"github.com/sluicedb/sluice/server/pgwire/pgwiretest"
)

const psqlPath = "/usr/bin/psql"

func needPsql(t *testing.T) {
	if _, err := os.Stat(psqlPath); err != nil {
		t.Skip("psql not installed")
	}
}

// runPsql runs psql against srv with args and returns stdout, stderr and the exit code.
func runPsql(t *testing.T, srv *pgwiretest.Server, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psqlPath, append([]string{"-X", srv.DSN("alice", "")}, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5", "LANG=C.UTF-8", "PAGER=", "PSQL_PAGER=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), rc
}

func TestPsql(t *testing.T) {
	needPsql(t)
	srv, _ := startTest(t, pgwire.Config{})
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"pull", []string{"-c", "SELECT id, name FROM users WHERE id = 3"}, []string{"ID | NAME", "3 | user3", "(1 row)"}},
		{"fetch_count push", []string{"-v", "FETCH_COUNT=1", "-c", "SELECT * FROM pageviews EMIT CHANGES LIMIT 3"},
			[]string{"VIEWTIME | USERID | PAGEID", "page_1", "page_3", "(3 rows)"}},
		{"copy", []string{"-c", "COPY (SELECT * FROM pageviews EMIT CHANGES LIMIT 3) TO STDOUT"},
			[]string{"1\tuser1\tpage_1\n2\tuser2\tpage_2\n3\tuser0\tpage_3\n"}},
		{"copy csv", []string{"-c", "COPY (SELECT id, name FROM users WHERE id = 2) TO STDOUT WITH (FORMAT csv, HEADER)"},
			[]string{"ID,NAME\n2,user2\n"}},
		{`\d`, []string{"-c", `\d`}, []string{"List of relations", "Name", "Topic", "FEED", "stream", "PAGEVIEWS", "USERS", "table", "(3 rows)"}},
		{`\dt`, []string{"-c", `\dt`}, []string{"USERS", "table", "(1 row)"}},
		{`\dv`, []string{"-c", `\dv`}, []string{"FEED", "PAGEVIEWS", "(2 rows)"}},
		{`\d name`, []string{"-c", `\d pageviews`}, []string{`View "public.PAGEVIEWS"`, "VIEWTIME", "BIGINT", "USERID", "STRING"}},
		{`\d+ name`, []string{"-c", `\d+ users`}, []string{`View "public.USERS"`, "not null", "KEY", "ARRAY<STRING>"}},
		{`\d missing`, []string{"-c", `\d nosuch`}, []string{}},
		{`\l`, []string{"-c", `\l`}, []string{"List of databases", "sluice", "UTF8"}},
		{`\dn`, []string{"-c", `\dn`}, []string{"public"}},
		{`\du`, []string{"-c", `\du`}, []string{"alice"}},
		{`\df`, []string{"-c", `\df`}, []string{"List of functions"}},
		{`\conninfo`, []string{"-c", `\conninfo`}, []string{`You are connected to database "sluice" as user "alice"`}},
		{"session", []string{"-c", "SET application_name = 'x'; SHOW application_name; SELECT version()"}, []string{"PostgreSQL 13.0.0", "Sluice"}},
		{"multi", []string{"-c", "CREATE STREAM s (a INT) WITH (kafka_topic='s', value_format='JSON'); INSERT INTO s (a) VALUES (1)"}, []string{"INSERT 0 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, rc := runPsql(t, srv, tc.args...)
			if tc.name == `\d missing` {
				if !strings.Contains(errOut, `Did not find any relation named "nosuch"`) {
					t.Fatalf("stderr %q", errOut)
				}
				return
			}
			if rc != 0 || strings.Contains(errOut, "ERROR") {
				t.Fatalf("rc=%d stderr=%s stdout=%s", rc, errOut, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPsqlPushNoticeAndCancel runs a push query without LIMIT, as a user would, and
// interrupts psql: psql sends a CancelRequest on a new connection and must print 57014's
// message and exit 1.
func TestPsqlPushNoticeAndCancel(t *testing.T) {
	needPsql(t)
	srv, b := startTest(t, pgwire.Config{})
	cmd := exec.Command(psqlPath, "-X", srv.DSN("alice", ""), "-c", "SELECT * FROM pageviews EMIT CHANGES")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "push query to start", func() bool { return b.open.Load() == 1 })
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("psql did not exit after SIGINT")
	}
	if rc := cmd.ProcessState.ExitCode(); rc != 1 {
		t.Fatalf("rc=%d stderr=%s", rc, errb.String())
	}
	if !strings.Contains(errb.String(), "canceling statement due to user request") {
		t.Fatalf("stderr: %s", errb.String())
	}
	if !strings.Contains(errb.String(), "FETCH_COUNT") {
		t.Fatalf("stderr lacks the push-query hint: %s", errb.String())
	}
	waitFor(t, "push query closed", func() bool { return b.open.Load() == 0 })
}

// TestPsqlFetchCountCancel interrupts psql while it drives a cursor (FETCH_COUNT): the
// FETCH fails with 57014, psql closes the cursor and rolls back, and exits 1.
func TestPsqlFetchCountCancel(t *testing.T) {
	needPsql(t)
	srv, b := startTest(t, pgwire.Config{})
	b.interval.Store(int64(time.Hour)) // no rows: the first FETCH blocks
	cmd := exec.Command(psqlPath, "-X", "-v", "FETCH_COUNT=2", srv.DSN("alice", ""), "-c", "SELECT * FROM pageviews EMIT CHANGES")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "cursor to start", func() bool { return b.open.Load() == 1 })
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if rc := cmd.ProcessState.ExitCode(); rc != 1 || !strings.Contains(errb.String(), "canceling statement due to user request") {
		t.Fatalf("rc=%d err=%v stderr=%s", rc, err, errb.String())
	}
	waitFor(t, "cursor closed", func() bool { return b.open.Load() == 0 })
}
