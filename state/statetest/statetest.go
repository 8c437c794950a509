package statetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicedb/sluice/state"
)

// Opener opens a Manager over the data in dir. The suite calls it again with the same dir
// after closing (or killing) the previous Manager and expects the committed data back.
type Opener func(t testing.TB, dir string) state.Manager

// Run runs the conformance suite. Subtests run sequentially: implementations share one machine
// and the crash test measures timing-sensitive behaviour.
func Run(t *testing.T, open Opener) {
	if runCrashChild(t, open) {
		return
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"ReadYourWrites", testReadYourWrites},
		{"ScanMergesBufferInOrder", testScanMerge},
		{"RandomOpsMatchModel", testRandomOps},
		{"NamespacesDoNotCollide", testNamespaces},
		{"CommitPersists", testCommitPersists},
		{"UncommittedLostOnReopen", testUncommittedLost},
		{"OffsetsMerge", testOffsetsMerge},
		{"LargeCommit", testLargeCommit},
		{"Drop", testDrop},
		{"ReadCommittedIsolation", testReadCommittedIsolation},
		{"ConcurrentReaders", testConcurrentReaders},
		{"Closed", testClosed},
		{"CrashAtomicity", testCrashAtomicity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func openStore(t testing.TB, m state.Manager, id string) state.Store {
	t.Helper()
	s, err := m.Open(id)
	if err != nil {
		t.Fatalf("Open(%q): %v", id, err)
	}
	return s
}

func mustGet(t testing.TB, r state.Reader, table, key string) (string, bool) {
	t.Helper()
	v, ok, err := r.Get(table, []byte(key))
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", table, key, err)
	}
	return string(v), ok
}

func expectGet(t testing.TB, r state.Reader, table, key, want string, wantOK bool) {
	t.Helper()
	got, ok := mustGet(t, r, table, key)
	if ok != wantOK || got != want {
		t.Fatalf("Get(%q, %q) = %q, %v; want %q, %v", table, key, got, ok, want, wantOK)
	}
}

type kv struct{ k, v string }

func scanAll(t testing.TB, r state.Reader, table string, from, to []byte) []kv {
	t.Helper()
	var out []kv
	err := r.Scan(table, from, to, func(k, v []byte) bool {
		out = append(out, kv{string(k), string(v)})
		return true
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", table, err)
	}
	return out
}

func commit(t testing.TB, s state.Store, offsets map[string]int64) {
	t.Helper()
	if err := s.Commit(offsets); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func closeManager(t testing.TB, m state.Manager) {
	t.Helper()
	if err := m.Close(); err != nil {
		t.Fatalf("Manager.Close: %v", err)
	}
}

func testReadYourWrites(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	s := openStore(t, m, "q1")

	expectGet(t, s, "t", "a", "", false)
	s.Put("t", []byte("a"), []byte("1"))
	expectGet(t, s, "t", "a", "1", true)
	s.Put("t", []byte("a"), []byte("2"))
	expectGet(t, s, "t", "a", "2", true)
	s.Put("t", []byte("empty"), []byte{})
	expectGet(t, s, "t", "empty", "", true)
	expectGet(t, s, "other", "a", "", false)

	commit(t, s, nil)
	expectGet(t, s, "t", "a", "2", true)
	expectGet(t, s, "t", "empty", "", true)

	s.Delete("t", []byte("a"))
	expectGet(t, s, "t", "a", "", false)
	s.Put("t", []byte("a"), []byte("3"))
	expectGet(t, s, "t", "a", "3", true)
	s.Delete("t", []byte("a"))
	commit(t, s, nil)
	expectGet(t, s, "t", "a", "", false)

	// Callers may reuse their key and value buffers after Put.
	k, v := []byte("reused"), []byte("x")
	s.Put("t", k, v)
	k[0], v[0] = 'R', 'y'
	expectGet(t, s, "t", "reused", "x", true)
	expectGet(t, s, "t", "Reused", "", false)
	// A value read with Get may be kept across a later Put of the same key (aggregates keep
	// the old row to emit a retraction).
	old, _, _ := s.Get("t", []byte("reused"))
	s.Put("t", []byte("reused"), []byte("z"))
	if string(old) != "x" {
		t.Fatalf("value returned by Get changed to %q after a Put", old)
	}
}

func testScanMerge(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	s := openStore(t, m, "q1")
	for _, k := range []string{"a", "c", "e", "g", "i"} {
		s.Put("t", []byte(k), []byte("old-"+k))
	}
	commit(t, s, nil)
	s.Put("t", []byte("b"), []byte("new-b")) // between committed keys
	s.Put("t", []byte("c"), []byte("new-c")) // shadows a committed key
	s.Delete("t", []byte("e"))               // hides a committed key
	s.Put("t", []byte("z"), []byte("new-z")) // after all committed keys
	s.Delete("t", []byte("f"))               // deletes a key that never existed
	s.Put("u", []byte("d"), []byte("other")) // another table

	want := []kv{{"a", "old-a"}, {"b", "new-b"}, {"c", "new-c"}, {"g", "old-g"}, {"i", "old-i"}, {"z", "new-z"}}
	if got := scanAll(t, s, "t", nil, nil); !slices.Equal(got, want) {
		t.Fatalf("Scan all = %v; want %v", got, want)
	}
	if got := scanAll(t, s, "t", []byte("b"), []byte("g")); !slices.Equal(got, want[1:3]) {
		t.Fatalf("Scan [b, g) = %v; want %v", got, want[1:3])
	}
	if got := scanAll(t, s, "t", []byte("bb"), nil); !slices.Equal(got, want[2:]) {
		t.Fatalf("Scan [bb, end) = %v; want %v", got, want[2:])
	}
	var n int
	_ = s.Scan("t", nil, nil, func(k, v []byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("Scan did not stop when fn returned false: %d calls", n)
	}
	commit(t, s, nil)
	if got := scanAll(t, s, "t", nil, nil); !slices.Equal(got, want) {
		t.Fatalf("Scan after Commit = %v; want %v", got, want)
	}
	if got := scanAll(t, s.ReadCommitted(), "t", nil, nil); !slices.Equal(got, want) {
		t.Fatalf("ReadCommitted Scan after Commit = %v; want %v", got, want)
	}
}

// testRandomOps drives a store with random operations and checks every read against a model:
// committed and buffered maps, merged as the contract says.
func testRandomOps(t *testing.T, open Opener) {
	dir := t.TempDir()
	m := open(t, dir)
	s := openStore(t, m, "q1")
	r := rand.New(rand.NewPCG(42, 7))
	committed := map[string]string{}
	type write struct {
		v   string
		del bool
	}
	buffered := map[string]write{}
	merged := func() map[string]string {
		out := maps.Clone(committed)
		for k, w := range buffered {
			if w.del {
				delete(out, k)
			} else {
				out[k] = w.v
			}
		}
		return out
	}
	key := func() string {
		// Keys share prefixes and contain 0x00 and 0xFF to stress ordering.
		b := make([]byte, 1+r.IntN(3))
		for i := range b {
			b[i] = []byte{0x00, 'a', 'b', 0xFF}[r.IntN(4)]
		}
		return string(b)
	}
	for i := range 3000 {
		switch op := r.IntN(100); {
		case op < 40:
			k, v := key(), fmt.Sprint(i)
			s.Put("t", []byte(k), []byte(v))
			buffered[k] = write{v: v}
		case op < 55:
			k := key()
			s.Delete("t", []byte(k))
			buffered[k] = write{del: true}
		case op < 75:
			k := key()
			want, ok := merged()[k]
			expectGet(t, s, "t", k, want, ok)
		case op < 90:
			from, to := []byte(key()), []byte(key())
			if r.IntN(4) == 0 {
				to = nil
			}
			var want []kv
			for k, v := range merged() {
				if k >= string(from) && (to == nil || k < string(to)) {
					want = append(want, kv{k, v})
				}
			}
			slices.SortFunc(want, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
			if got := scanAll(t, s, "t", from, to); !slices.Equal(got, want) {
				t.Fatalf("op %d: Scan [%q, %q) = %q; want %q", i, from, to, got, want)
			}
		case op < 98:
			commit(t, s, map[string]int64{"p": int64(i)})
			committed = merged()
			clear(buffered)
		default:
			// Reopen: the buffer is lost, committed data stays.
			closeManager(t, m)
			m = open(t, dir)
			s = openStore(t, m, "q1")
			clear(buffered)
		}
	}
	closeManager(t, m)
}

func testNamespaces(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	// Store and table names that would collide under naive concatenation.
	a, b := openStore(t, m, "x"), openStore(t, m, "xy")
	a.Put("yt", []byte("k"), []byte("a"))
	a.Put("y", []byte("tk"), []byte("a2"))
	b.Put("t", []byte("k"), []byte("b"))
	a.Put("", []byte("k"), []byte("empty-table"))
	commit(t, a, map[string]int64{"s": 1})
	commit(t, b, map[string]int64{"s": 2})
	expectGet(t, b, "t", "k", "b", true)
	expectGet(t, a, "t", "k", "", false)
	expectGet(t, a, "yt", "k", "a", true)
	expectGet(t, a, "", "k", "empty-table", true)
	if got := scanAll(t, a, "y", nil, nil); !slices.Equal(got, []kv{{"tk", "a2"}}) {
		t.Fatalf("Scan table y = %v; want only its own key", got)
	}
	if got := scanAll(t, b, "t", nil, nil); !slices.Equal(got, []kv{{"k", "b"}}) {
		t.Fatalf("Scan store xy = %v; want only its own key", got)
	}
	for s, want := range map[state.Store]int64{a: 1, b: 2} {
		if off, err := s.Offsets(); err != nil || off["s"] != want || len(off) != 1 {
			t.Fatalf("Offsets = %v, %v; want s=%d", off, err, want)
		}
	}
}

func testCommitPersists(t *testing.T, open Opener) {
	dir := t.TempDir()
	m := open(t, dir)
	s := openStore(t, m, "q1")
	s.Put("t", []byte("a"), []byte("1"))
	s.Put("t", []byte("b"), []byte("2"))
	commit(t, s, map[string]int64{"topic/0": 10, "topic/1": 20})
	s.Delete("t", []byte("b"))
	commit(t, s, map[string]int64{"topic/0": 11})
	closeManager(t, m)

	m = open(t, dir)
	defer closeManager(t, m)
	s = openStore(t, m, "q1")
	expectGet(t, s, "t", "a", "1", true)
	expectGet(t, s, "t", "b", "", false)
	off, err := s.Offsets()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"topic/0": 11, "topic/1": 20}; !maps.Equal(off, want) {
		t.Fatalf("Offsets = %v; want %v", off, want)
	}
}

func testUncommittedLost(t *testing.T, open Opener) {
	dir := t.TempDir()
	m := open(t, dir)
	s := openStore(t, m, "q1")
	s.Put("t", []byte("a"), []byte("committed"))
	commit(t, s, map[string]int64{"p": 1})
	s.Put("t", []byte("a"), []byte("buffered"))
	s.Put("t", []byte("b"), []byte("buffered"))
	closeManager(t, m)

	m = open(t, dir)
	defer closeManager(t, m)
	s = openStore(t, m, "q1")
	expectGet(t, s, "t", "a", "committed", true)
	expectGet(t, s, "t", "b", "", false)
}

func testOffsetsMerge(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	s := openStore(t, m, "q1")
	if off, err := s.Offsets(); err != nil || len(off) != 0 {
		t.Fatalf("Offsets before any Commit = %v, %v; want empty", off, err)
	}
	commit(t, s, map[string]int64{"a": 1, "b": 2})
	commit(t, s, map[string]int64{"a": 3})
	commit(t, s, nil)
	off, err := s.Offsets()
	if want := map[string]int64{"a": 3, "b": 2}; err != nil || !maps.Equal(off, want) {
		t.Fatalf("Offsets = %v, %v; want %v (sources not named keep their offset)", off, err, want)
	}
}

// testLargeCommit commits more than fits one write transaction of a typical engine, which is
// where atomicity is hardest to keep.
func testLargeCommit(t *testing.T, open Opener) {
	dir := t.TempDir()
	m := open(t, dir)
	s := openStore(t, m, "q1")
	const n = 60000
	val := bytes.Repeat([]byte("v"), 100)
	for i := range n {
		s.Put("t", fmt.Appendf(nil, "k%06d", i), val)
	}
	commit(t, s, map[string]int64{"p": 1})
	for i := 0; i < n; i += 2 {
		s.Delete("t", fmt.Appendf(nil, "k%06d", i))
	}
	commit(t, s, map[string]int64{"p": 2})
	closeManager(t, m)

	m = open(t, dir)
	defer closeManager(t, m)
	s = openStore(t, m, "q1")
	got := scanAll(t, s, "t", nil, nil)
	if len(got) != n/2 {
		t.Fatalf("Scan after large commits: %d keys; want %d", len(got), n/2)
	}
	for i, e := range got {
		if want := fmt.Sprintf("k%06d", 2*i+1); e.k != want || e.v != string(val) {
			t.Fatalf("key %d = %q; want %q", i, e.k, want)
		}
	}
	if off, _ := s.Offsets(); off["p"] != 2 {
		t.Fatalf("Offsets = %v; want p=2", off)
	}
}

func testDrop(t *testing.T, open Opener) {
	dir := t.TempDir()
	m := open(t, dir)
	s, keep := openStore(t, m, "dropme"), openStore(t, m, "keep")
	s.Put("t", []byte("a"), []byte("1"))
	keep.Put("t", []byte("a"), []byte("kept"))
	commit(t, s, map[string]int64{"p": 5})
	commit(t, keep, map[string]int64{"p": 6})
	s.Put("t", []byte("b"), []byte("buffered"))
	if err := s.Drop(); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	check := func(s, keep state.Store) {
		t.Helper()
		expectGet(t, s.ReadCommitted(), "t", "a", "", false)
		if got := scanAll(t, s.ReadCommitted(), "t", nil, nil); len(got) != 0 {
			t.Fatalf("Scan after Drop = %v; want nothing", got)
		}
		if off, err := s.Offsets(); err != nil || len(off) != 0 {
			t.Fatalf("Offsets after Drop = %v, %v; want empty", off, err)
		}
		expectGet(t, keep, "t", "a", "kept", true)
		if off, _ := keep.Offsets(); off["p"] != 6 {
			t.Fatalf("other store's offsets = %v; want p=6", off)
		}
	}
	check(s, keep)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closeManager(t, m)
	m = open(t, dir)
	defer closeManager(t, m)
	s, keep = openStore(t, m, "dropme"), openStore(t, m, "keep")
	check(s, keep)
	expectGet(t, s, "t", "b", "", false)
}

func testReadCommittedIsolation(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	s := openStore(t, m, "q1")
	r := s.ReadCommitted()
	s.Put("t", []byte("a"), []byte("1"))
	expectGet(t, r, "t", "a", "", false)
	if got := scanAll(t, r, "t", nil, nil); len(got) != 0 {
		t.Fatalf("reader sees buffered writes: %v", got)
	}
	commit(t, s, nil)
	expectGet(t, r, "t", "a", "1", true)
	s.Put("t", []byte("a"), []byte("2"))
	s.Delete("t", []byte("a"))
	s.Put("t", []byte("b"), []byte("2"))
	expectGet(t, r, "t", "a", "1", true)
	if got := scanAll(t, r, "t", nil, nil); !slices.Equal(got, []kv{{"a", "1"}}) {
		t.Fatalf("reader Scan = %v; want only committed a=1", got)
	}
	commit(t, s, nil)
	expectGet(t, r, "t", "a", "", false)
	expectGet(t, r, "t", "b", "2", true)
}

// testConcurrentReaders commits batches in which every key holds the batch number while
// readers scan: a Scan must see one batch (all values equal, all keys present), never a mix.
// Run it with -race.
func testConcurrentReaders(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	defer closeManager(t, m)
	s := openStore(t, m, "q1")
	const keys = 200
	put := func(c int) {
		for i := range keys {
			s.Put("t", fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "%d", c))
		}
	}
	put(0)
	commit(t, s, nil)

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			r := s.ReadCommitted()
			for !stop.Load() {
				var first string
				n := 0
				err := r.Scan("t", nil, nil, func(k, v []byte) bool {
					if n == 0 {
						first = string(v)
					} else if string(v) != first {
						errs <- fmt.Errorf("Scan mixes batches: %s=%s after %s", k, v, first)
						return false
					}
					n++
					return true
				})
				if err == nil && n != keys {
					err = fmt.Errorf("Scan saw %d keys; want %d", n, keys)
				}
				if _, _, gerr := r.Get("t", []byte("k007")); err == nil {
					err = gerr
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for c := 1; c <= 100; c++ {
		put(c)
		if c%3 == 0 {
			s.Delete("t", []byte("absent"))
		}
		commit(t, s, map[string]int64{"p": int64(c)})
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testClosed(t *testing.T, open Opener) {
	m := open(t, t.TempDir())
	s := openStore(t, m, "q1")
	r := s.ReadCommitted()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("t", []byte("a")); !errors.Is(err, state.ErrClosed) {
		t.Errorf("Get after Close: %v; want ErrClosed", err)
	}
	if err := s.Commit(nil); !errors.Is(err, state.ErrClosed) {
		t.Errorf("Commit after Close: %v; want ErrClosed", err)
	}
	if err := r.Scan("t", nil, nil, func(k, v []byte) bool { return true }); !errors.Is(err, state.ErrClosed) {
		t.Errorf("reader Scan after Close: %v; want ErrClosed", err)
	}
	// The id is free again, and closing the manager closes its stores.
	s = openStore(t, m, "q1")
	closeManager(t, m)
	if _, _, err := s.Get("t", []byte("a")); !errors.Is(err, state.ErrClosed) {
		t.Errorf("Get after Manager.Close: %v; want ErrClosed", err)
	}
	if _, err := m.Open("q2"); !errors.Is(err, state.ErrClosed) {
		t.Errorf("Open after Manager.Close: %v; want ErrClosed", err)
	}
}
