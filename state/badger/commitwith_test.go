package badger

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestCommitWith checks writes handed straight to a commit: they commit atomically with the
// buffered writes and the offsets, on both the one-transaction and the redo-log path, survive
// a reopen, and stay out of the write buffer and the cache.
func TestCommitWith(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	// direct writes n keys of table "agg" in one reused buffer region per call, deleting every
	// tenth key of a previous round, and counts its calls.
	calls := 0
	direct := func(n int, round int) func(put func(table string, key, value []byte, deleted bool)) {
		return func(put func(table string, key, value []byte, deleted bool)) {
			calls++
			var arena []byte
			for i := range n {
				key := fmt.Appendf(nil, "k%06d", i)
				if round > 0 && i%10 == 0 {
					put("agg", key, nil, true)
					continue
				}
				start := len(arena)
				arena = fmt.Appendf(arena, "v%d-%d", round, i)
				put("agg", key, arena[start:len(arena):len(arena)], false)
			}
		}
	}
	s.Put("mat", []byte("row"), []byte("buffered"))
	if err := s.CommitWith(map[string]int64{"p": 1}, direct(1000, 0)); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || m.redoCommits.Load() != 0 {
		t.Fatalf("small commit: %d calls, %d redo commits; want 1 and 0", calls, m.redoCommits.Load())
	}
	aggPrefix := string(tablePrefix(s.prefix, "agg"))
	for k := range s.wb.m {
		if strings.HasPrefix(k, aggPrefix) {
			t.Fatalf("a direct write reached the write buffer or cache: %q", k)
		}
	}
	// 100,000 entries do not fit one transaction: the redo path calls the writes function
	// again to apply them.
	calls = 0
	if err := s.CommitWith(map[string]int64{"p": 2}, direct(100_000, 1)); err != nil {
		t.Fatal(err)
	}
	if calls < 2 || m.redoCommits.Load() != 1 {
		t.Fatalf("large commit: %d calls, %d redo commits; want >= 2 and 1", calls, m.redoCommits.Load())
	}
	m.Close()

	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s = storeFor(t, m, "q")
	offs, err := s.Offsets()
	if err != nil || offs["p"] != 2 {
		t.Fatalf("offsets after reopen: %v, %v; want p=2", offs, err)
	}
	r := s.ReadCommitted()
	for _, c := range []struct {
		table, key, want string
		present          bool
	}{
		{"mat", "row", "buffered", true},
		{"agg", "k000000", "", false},
		{"agg", "k000001", "v1-1", true},
		{"agg", "k099999", "v1-99999", true},
		{"agg", "k050000", "", false},
	} {
		v, ok, err := r.Get(c.table, []byte(c.key))
		if err != nil || ok != c.present || string(v) != c.want {
			t.Errorf("%s/%s = %q, %v, %v; want %q, %v", c.table, c.key, v, ok, err, c.want, c.present)
		}
	}
	n := 0
	if err := r.Scan("agg", nil, nil, func(_, _ []byte) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	if n != 90_000 {
		t.Fatalf("agg holds %d keys after the commits; want 90,000", n)
	}
}

// TestCommitWithAsync checks a commit handed to Badger without waiting: a read taken while it
// is in flight already sees it (Badger makes the read wait), the next commit waits for it, one
// too large for a transaction is done synchronously through the redo log, and one still in
// flight when the manager closes is durable after a reopen.
func TestCommitWithAsync(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	write := func(n, round int) func(put func(table string, key, value []byte, deleted bool)) {
		return func(put func(table string, key, value []byte, deleted bool)) {
			for i := range n {
				put("agg", fmt.Appendf(nil, "k%06d", i), fmt.Appendf(nil, "v%d-%d", round, i), false)
			}
		}
	}
	s.Put("mat", []byte("row"), []byte("buffered"))
	if err := s.CommitWithAsync(map[string]int64{"p": 1}, write(1000, 1)); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.ReadCommitted().Get("agg", []byte("k000999")); err != nil || !ok || string(v) != "v1-999" {
		t.Fatalf("read during the commit in flight: %q, %v, %v; want v1-999", v, ok, err)
	}
	if v, ok, err := s.Get("mat", []byte("row")); err != nil || !ok || string(v) != "buffered" {
		t.Fatalf("own buffered write after the hand-over: %q, %v, %v", v, ok, err)
	}
	// Too large for one transaction: synchronous, through the redo log.
	if err := s.CommitWithAsync(map[string]int64{"p": 2}, write(100_000, 2)); err != nil {
		t.Fatal(err)
	}
	if s.inflight != nil || m.redoCommits.Load() != 1 {
		t.Fatalf("large commit: in flight %v, %d redo commits; want none in flight and 1", s.inflight != nil, m.redoCommits.Load())
	}
	if err := s.CommitWithAsync(map[string]int64{"p": 3}, write(10, 3)); err != nil {
		t.Fatal(err)
	}
	// Closed with the last commit possibly still in flight: Close waits for it.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s = storeFor(t, m, "q")
	if offs, err := s.Offsets(); err != nil || offs["p"] != 3 {
		t.Fatalf("offsets after reopen: %v, %v; want p=3", offs, err)
	}
	r := s.ReadCommitted()
	for key, want := range map[string]string{"k000009": "v3-9", "k000010": "v2-10", "k099999": "v2-99999"} {
		if v, ok, err := r.Get("agg", []byte(key)); err != nil || !ok || string(v) != want {
			t.Errorf("agg/%s after reopen = %q, %v, %v; want %q", key, v, ok, err, want)
		}
	}
}

// TestFailedAsyncCommitSticks checks that once a commit failed in flight, every later commit
// fails too: the owner's state went on from a commit that did not happen, so committing on top
// of it would make a state that never existed durable.
func TestFailedAsyncCommitSticks(t *testing.T) {
	m, err := Open(t.TempDir(), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := storeFor(t, m, "q")
	failed := make(chan error, 1)
	failed <- errors.New("disk full")
	s.inflight = failed // as CommitWithAsync leaves it when Badger's write then fails
	for name, commit := range map[string]func() error{
		"WaitCommit":      s.WaitCommit,
		"Commit":          func() error { return s.Commit(map[string]int64{"p": 1}) },
		"CommitWithAsync": func() error { return s.CommitWithAsync(map[string]int64{"p": 1}, nil) },
	} {
		if err := commit(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s after a failed commit in flight: %v; want the failure", name, err)
		}
	}
	if offs, err := s.Offsets(); err != nil || len(offs) != 0 {
		t.Fatalf("offsets: %v, %v; want none committed", offs, err)
	}
}
