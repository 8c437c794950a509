package badger

import (
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
