package statetest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/state"
)

// The crash test re-executes the test binary (os.Args[0]) restricted to the crash subtest,
// with crashDirEnv naming the database directory. In that child, Run starts committing
// batches forever and prints an acknowledgement line after each Commit returns; the parent
// SIGKILLs it at a random moment, reopens the directory and checks that state and offsets are
// those of exactly one batch, and of a batch no older than the last acknowledged one.
const (
	crashDirEnv = "STATETEST_CRASH_DIR"
	ackPrefix   = "statetest-committed "
	crashStore  = "crash"
	crashKeys   = 2000 // per batch; 2000 x ~80 bytes exceeds small write-transaction limits
	crashRounds = 10
)

// A batch c writes table "t" keys k0000..k1999 = c, and table "x" keys x000..x099 = c when c is
// even and deletes them when c is odd, with offset "src" = c. Any mix of two batches shows as
// unequal values, a wrong presence of x keys, or an offset that disagrees.
func crashBatch(s state.Store, c int64) error {
	v := fmt.Appendf(nil, "%060d", c) // padded so batches have some volume
	for i := range crashKeys {
		s.Put("t", fmt.Appendf(nil, "k%04d", i), v)
	}
	for i := range 100 {
		k := fmt.Appendf(nil, "x%03d", i)
		if c%2 == 0 {
			s.Put("x", k, v)
		} else {
			s.Delete("x", k)
		}
	}
	return s.Commit(map[string]int64{"src": c})
}

// runCrashChild runs the child side when this process is the re-executed child, and reports
// whether it did (then the caller runs nothing else).
func runCrashChild(t *testing.T, open Opener) bool {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return false
	}
	t.Run("CrashAtomicity", func(t *testing.T) {
		m := open(t, dir)
		s := openStore(t, m, crashStore)
		off, err := s.Offsets()
		if err != nil {
			t.Fatal(err)
		}
		for c := off["src"] + 1; ; c++ {
			if err := crashBatch(s, c); err != nil {
				t.Fatal(err)
			}
			// os.Stdout is unbuffered, so the parent sees the line as soon as Commit returns.
			fmt.Fprintf(os.Stdout, "%s%d\n", ackPrefix, c)
		}
	})
	return true
}

// testPattern turns a (sub)test name into a -test.run pattern matching exactly it.
func testPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func testCrashAtomicity(t *testing.T, open Opener) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var acked int64
	for round := range crashRounds {
		cmd := exec.Command(os.Args[0], "-test.run="+testPattern(t.Name()), "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let the child acknowledge a random number of commits, then kill it at a random
		// point inside a later one.
		want := 1 + r.IntN(8)
		sc := bufio.NewScanner(out)
		for n := 0; n < want && sc.Scan(); {
			if c, ok := strings.CutPrefix(sc.Text(), ackPrefix); ok {
				v, err := strconv.ParseInt(c, 10, 64)
				if err != nil {
					t.Fatalf("bad ack %q", sc.Text())
				}
				acked = max(acked, v)
				n++
			}
		}
		time.Sleep(time.Duration(r.IntN(10000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatalf("round %d: child exited before the kill (its output is above): %v", round, err)
		}
		// Acks already in the pipe when the kill landed still count: those commits returned.
		for sc.Scan() {
			if c, ok := strings.CutPrefix(sc.Text(), ackPrefix); ok {
				if v, err := strconv.ParseInt(c, 10, 64); err == nil {
					acked = max(acked, v)
				}
			}
		}
		_ = cmd.Wait()

		got := checkCrashState(t, open, dir)
		t.Logf("round %d: killed after ack %d; recovered batch %d", round, acked, got)
		if got < acked {
			t.Fatalf("round %d: recovered batch %d, but batch %d was acknowledged", round, got, acked)
		}
		acked = got
	}
}

// checkCrashState reopens dir and returns the batch number that state and offsets agree on.
func checkCrashState(t *testing.T, open Opener, dir string) int64 {
	t.Helper()
	m := open(t, dir)
	defer closeManager(t, m)
	s := openStore(t, m, crashStore)
	off, err := s.Offsets()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := off["src"]
	if !ok {
		t.Fatalf("no committed offset after crash (the child acknowledged at least one commit)")
	}
	want := fmt.Sprintf("%060d", c)
	n := 0
	err = s.Scan("t", nil, nil, func(k, v []byte) bool {
		if string(v) != want {
			t.Errorf("offset says batch %d but %s holds batch %s", c, k, strings.TrimLeft(string(v), "0"))
			return false
		}
		n++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != crashKeys {
		t.Fatalf("batch %d: %d keys in table t; want %d", c, n, crashKeys)
	}
	x := scanAll(t, s, "x", nil, nil)
	if wantX := map[bool]int{true: 100, false: 0}[c%2 == 0]; len(x) != wantX {
		t.Fatalf("batch %d: %d keys in table x; want %d", c, len(x), wantX)
	}
	for _, e := range x {
		if e.v != want {
			t.Fatalf("batch %d: %s holds %q", c, e.k, e.v)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return c
}
