package app_test

// Exactly-once across crashes: the real binary is SIGKILLed several times while persistent
// queries are still working through their input, restarted on the same data dir, and at the
// end every input row is counted exactly once in the CTAS state and in the CSAS sink.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childServer is the sluice binary running as a child process.
type childServer struct {
	cmd  *exec.Cmd
	logs *logBuffer
	*testServer
}

func startChild(t *testing.T, dir string) *childServer {
	t.Helper()
	if sluiceBin == "" {
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		t.Skip("the sluice binary is not built in -short mode")
	}
	cmd := exec.Command(sluiceBin, "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logs.logf("%s", strings.TrimRight(string(p), "\n")); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan [2]string, 1)
	go func() {
		var httpAddr string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			logs.logf("stdout: %s", line)
			if a, ok := strings.CutPrefix(line, "REST API and console: http://"); ok {
				httpAddr = a
			}
			if a, ok := strings.CutPrefix(line, "Postgres wire:"); ok {
				addrs <- [2]string{httpAddr, strings.TrimSpace(a)}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	c := &childServer{cmd: cmd, logs: logs}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child log:\n%s", logs.tail(4000))
		}
	})
	select {
	case a := <-addrs:
		c.testServer = &testServer{t: t, dir: dir, logs: logs, http: a[0], pg: a[1], closing: &closeOnce{closed: true}}
	case <-time.After(20 * time.Second):
		t.Fatalf("sluice did not report its addresses within 20s:\n%s", logs.tail(4000))
	}
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *childServer) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

// TestCrashRestartExactlyOnce runs the crash test on a one-partition source. The first life
// ends with SIGTERM (a clean shutdown, which commits), the later ones with SIGKILL while the
// queries are still processing: see TestCrashBeforeFirstCommit for why.
// stop shuts the server down cleanly (SIGTERM) and waits for it to exit.
func (c *childServer) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("sluice after SIGTERM: %v", err)
	}
}

func TestCrashRestartExactlyOnce(t *testing.T) { crashTest(t, 1, true) }

// TestCrashBeforeFirstCommit SIGKILLs the server in every life, including the first, where
// the kill usually lands before the queries' first commit, and uses two partitions.
func TestCrashBeforeFirstCommit(t *testing.T) {
	crashTest(t, 2, false)
}

func crashTest(t *testing.T, partitions int, gracefulFirst bool) {
	if testing.Short() {
		t.Skip("crash test: not in -short mode")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	c.ksql(`CREATE STREAM orders (orderId STRING KEY, customerId STRING, amount BIGINT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=` + strconv.Itoa(partitions) + `);
		CREATE TABLE totals AS SELECT customerId, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customerId EMIT CHANGES;
		CREATE STREAM odd AS SELECT orderId, customerId, amount FROM orders WHERE amount % 2 = 1;`)

	const customers, batch, batchesPerLife, lives = 7, 150, 3, 4
	next := 0
	insertBatch := func(c *childServer) {
		var sb strings.Builder
		for i := 0; i < batch; i++ {
			fmt.Fprintf(&sb, "INSERT INTO orders (orderId, customerId, amount) VALUES ('o%d', 'c%d', %d);\n", next, next%customers, next)
			next++
		}
		c.ksql(sb.String())
	}
	for life := 0; life < lives; life++ {
		for b := 0; b < batchesPerLife; b++ {
			insertBatch(c)
		}
		if life == lives-1 {
			break
		}
		if life == 0 && gracefulFirst {
			c.stop(t)
		} else {
			// Kill while the queries are still processing what was just acknowledged.
			c.kill(t)
		}
		c = startChild(t, dir)
	}
	total := next

	// The input itself: every acknowledged row exactly once (stream pull query: a scan to the
	// current end).
	checkOnce := func(what, sql string, want func(i int) bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := c.queryStream(ctx, sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		seen := map[int]int{}
		for _, r := range res.rows {
			id, err := strconv.Atoi(strings.TrimPrefix(r[0].(string), "o"))
			if err != nil {
				t.Fatalf("%s: row %v", what, r)
			}
			seen[id]++
		}
		bad := 0
		for i := 0; i < total; i++ {
			n := seen[i]
			if (want(i) && n != 1) || (!want(i) && n != 0) {
				if bad++; bad <= 10 {
					t.Errorf("%s: o%d appears %d times", what, i, n)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d ids wrong (%d rows read)", what, bad, total, len(res.rows))
		}
	}
	checkOnce("input ORDERS", `SELECT orderId FROM orders;`, func(int) bool { return true })

	// CTAS state: per customer count and sum of exactly the inputs.
	for cust := 0; cust < customers; cust++ {
		n, sum := 0, 0
		for i := cust; i < total; i += customers {
			n++
			sum += i
		}
		c.waitPull(fmt.Sprintf(`SELECT * FROM totals WHERE customerId = 'c%d';`, cust),
			fmt.Sprintf(`[["c%d",%d,%d]]`, cust, n, sum), 20*time.Second)
	}

	// CSAS sink: every odd amount exactly once. Wait until the sink has caught up (its count
	// reaches the expected one), then check for duplicates and gaps.
	if err := waitFor(20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := c.queryStream(ctx, `SELECT orderId FROM odd;`, nil)
		return err == nil && len(res.rows) >= total/2
	}); err != nil {
		t.Errorf("ODD did not reach %d rows", total/2)
	}
	checkOnce("sink ODD", `SELECT orderId FROM odd;`, func(i int) bool { return i%2 == 1 })

	// The same sink read as a push query from the beginning with LIMIT: the first rows arrive.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.queryStream(ctx, fmt.Sprintf(`SELECT orderId, amount FROM odd EMIT CHANGES LIMIT %d;`, total/2),
		map[string]any{"auto.offset.reset": "earliest"})
	if err != nil || len(res.rows) != total/2 {
		t.Fatalf("push FROM BEGINNING on ODD: %v, %d rows", err, len(res.rows))
	}
	for _, r := range res.rows {
		if a, _ := r[1].(json.Number).Int64(); a%2 != 1 {
			t.Errorf("ODD row %v has an even amount", r)
		}
	}
}
