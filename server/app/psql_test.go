package app_test

// The walking skeleton's textbook example, driven through the real psql binary.

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const ordersDDL = `CREATE STREAM orders (orderId STRING, amount DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');`

// waitPushQueries waits until SHOW QUERIES lists n running push queries. A push query fixes its
// start offsets before it is listed, so rows inserted after this returns reach it.
func (s *testServer) waitPushQueries(n int, within time.Duration) {
	s.t.Helper()
	var last int
	err := waitFor(within, func() bool {
		ents, err := s.tryKsql("SHOW QUERIES;")
		if err != nil || len(ents) != 1 {
			return false
		}
		qs, _ := ents[0]["queries"].([]any)
		last = 0
		for _, q := range qs {
			if m, ok := q.(map[string]any); ok && m["queryType"] == "PUSH" {
				last++
			}
		}
		return last == n
	})
	if err != nil {
		s.t.Fatalf("waiting for %d push queries: SHOW QUERIES lists %d", n, last)
	}
}

// startPsql starts psql in the background, returning a wait function that yields stdout,
// stderr and the exit error.
func (s *testServer) startPsql(ctx context.Context, args ...string) (*exec.Cmd, func() (string, string, error)) {
	s.t.Helper()
	cmd := s.psqlCmd(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting psql: %v", err)
	}
	return cmd, func() (string, string, error) {
		err := cmd.Wait()
		return stdout.String(), stderr.String(), err
	}
}

// TestPsqlTextbookPush runs the first example in psql: a push query with LIMIT under
// FETCH_COUNT=1 (psql 15 drives it with DECLARE/FETCH), fed by INSERTs from another psql.
func TestPsqlTextbookPush(t *testing.T) {
	needPsql(t)
	s := startServer(t, "")
	s.mustPsql(ordersDDL)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, wait := s.startPsql(ctx, "-v", "ON_ERROR_STOP=1", "-v", "FETCH_COUNT=1",
		"-c", "SELECT orderId, amount FROM orders WHERE amount > 100 EMIT CHANGES LIMIT 2;")
	s.waitPushQueries(1, 10*time.Second)
	s.mustPsql(`INSERT INTO orders (orderId, amount) VALUES ('o1', 50.0);`)
	s.mustPsql(`INSERT INTO orders (orderId, amount) VALUES ('o2', 150.5);`)
	s.mustPsql(`INSERT INTO orders (orderId, amount) VALUES ('o3', 200.0);`)
	out, errOut, err := wait()
	if err != nil {
		t.Fatalf("psql push query: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	want := ` ORDERID | AMOUNT 
---------+--------
 o2      |  150.5
 o3      |    200
(2 rows)

`
	if out != want {
		t.Errorf("psql output:\n%s\nwant:\n%s\nstderr:\n%s", out, want, errOut)
	}
	// The push query ended with its LIMIT: nothing is left running.
	s.waitPushQueries(0, 5*time.Second)
}

// TestPsqlCopyPush runs the push query as COPY (...) TO STDOUT, the other psql path.
func TestPsqlCopyPush(t *testing.T) {
	needPsql(t)
	s := startServer(t, "")
	s.mustPsql(ordersDDL)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, wait := s.startPsql(ctx, "-v", "ON_ERROR_STOP=1",
		"-c", "COPY (SELECT orderId, amount FROM orders WHERE amount > 100 EMIT CHANGES LIMIT 2) TO STDOUT")
	s.waitPushQueries(1, 10*time.Second)
	for _, v := range []string{"('o1', 50.0)", "('o2', 150.5)", "('o3', 200.0)"} {
		s.mustPsql(`INSERT INTO orders (orderId, amount) VALUES ` + v + `;`)
	}
	out, errOut, err := wait()
	if err != nil {
		t.Fatalf("psql COPY: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if want := "o2\t150.5\no3\t200\n"; out != want {
		t.Errorf("COPY output %q, want %q (stderr %q)", out, want, errOut)
	}
}

// TestPsqlCancelPush sends Ctrl-C (SIGINT) to psql running an endless push query: psql sends a
// CancelRequest, prints the 57014 error and exits 1; the server forgets the query and keeps
// answering.
func TestPsqlCancelPush(t *testing.T) {
	needPsql(t)
	s := startServer(t, "")
	s.mustPsql(ordersDDL)

	for _, mode := range []struct {
		name string
		args []string
	}{
		{"fetch_count", []string{"-v", "FETCH_COUNT=1", "-c", "SELECT orderId, amount FROM orders EMIT CHANGES;"}},
		{"plain", []string{"-c", "SELECT orderId, amount FROM orders EMIT CHANGES;"}},
		{"copy", []string{"-c", "COPY (SELECT orderId, amount FROM orders EMIT CHANGES) TO STDOUT"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			s := s.on(t)
			// With FETCH_COUNT, psql runs a FETCH per row; a SIGINT that lands between two
			// FETCHes (no statement running) ends the loop quietly with exit 0, as it would
			// against PostgreSQL. So no rows are inserted in that mode (psql stays blocked in
			// its first FETCH), and an attempt that still lost the race is retried.
			for attempt := 1; ; attempt++ {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				cmd, wait := s.startPsql(ctx, mode.args...)
				s.waitPushQueries(1, 10*time.Second)
				if mode.name != "fetch_count" {
					s.mustPsql(`INSERT INTO orders (orderId, amount) VALUES ('x', 1.0);`)
				}
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				out, errOut, err := wait()
				cancel()
				if err == nil && attempt < 3 && strings.Contains(errOut, "Cancel request sent") {
					t.Logf("attempt %d: the cancel landed between statements; retrying", attempt)
					s.waitPushQueries(0, 5*time.Second)
					continue
				}
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Fatalf("psql exit: %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
				}
				if !strings.Contains(errOut, "canceling statement due to user request") {
					t.Errorf("stderr %q lacks the cancel message", errOut)
				}
				break
			}
			s.waitPushQueries(0, 5*time.Second)
			if got := s.mustPsql("SHOW STREAMS;", "-A", "-t"); !strings.Contains(got, "ORDERS") {
				t.Errorf("SHOW STREAMS after cancel: %q", got)
			}
		})
	}
}
