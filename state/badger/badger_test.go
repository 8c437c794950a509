package badger

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/state/statetest"
)

func opener(opts ...Option) statetest.Opener {
	return func(t testing.TB, dir string) state.Manager {
		m, err := Open(dir, append([]Option{WithLogger(nil)}, opts...)...)
		if err != nil {
			t.Fatalf("Open(%s): %v", dir, err)
		}
		return m
	}
}

func TestConformance(t *testing.T) {
	t.Run("default", func(t *testing.T) { statetest.Run(t, opener()) })
	// A 1 MiB memtable limits a transaction to ~157 KB, so the crash test's batches and the
	// large-commit test go through the redo-log path.
	t.Run("smallTxn", func(t *testing.T) { statetest.Run(t, opener(WithMemTableSize(1<<20))) })
	t.Run("noCache", func(t *testing.T) { statetest.Run(t, opener(WithCacheSize(0))) })
}

// TestWriteBackMatchesModel checks the lazily linked skiplist's order and seek against a sorted
// slice, under random puts, overwrites, tombstones, cache loads and commits.
func TestWriteBackMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	w := newWriteBack(1 << 20)
	model := map[string]string{}
	for round := range 3 {
		for i := range 5000 {
			k := fmt.Sprintf("%x", r.IntN(3000))
			if i%5 == 0 {
				w.load([]byte(k), []byte("committed"), true) // clean entries must not be linked
				continue
			}
			v := fmt.Sprint(i)
			w.write([]byte(k), []byte(v), i%7 == 0)
			model[k] = v
			if i%500 == 0 {
				w.seek(nil) // link in several rounds
			}
		}
		keys := slices.Sorted(maps.Keys(model))
		var got []string
		for n := w.seek(nil); n != nil; n = n.next[0] {
			got = append(got, n.key)
			if !n.dirty || string(n.value) != model[n.key] {
				t.Fatalf("round %d: %s = %s (dirty %v); want %s", round, n.key, n.value, n.dirty, model[n.key])
			}
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("round %d: skiplist order differs from sorted keys", round)
		}
		if len(w.dirty) != len(keys) {
			t.Fatalf("round %d: %d dirty entries; want %d", round, len(w.dirty), len(keys))
		}
		for range 200 {
			probe := fmt.Sprintf("%x", r.IntN(4000))
			i, _ := slices.BinarySearch(keys, probe)
			n := w.seek([]byte(probe))
			if (i == len(keys)) != (n == nil) || (n != nil && n.key != keys[i]) {
				t.Fatalf("seek(%s) wrong", probe)
			}
		}
		w.committed()
		clear(model)
		if w.seek(nil) != nil || len(w.dirty) != 0 {
			t.Fatal("commit left buffered entries")
		}
		if e := w.get([]byte(keys[0])); e == nil || !e.loaded || e.dirty {
			t.Fatal("commit did not turn the write into a cached value")
		}
	}
}

func TestWriteBackEvictsWithinBudget(t *testing.T) {
	w := newWriteBack(100_000)
	for i := range 10_000 {
		w.load(fmt.Append(nil, i), make([]byte, 10), true)
		if w.cacheSize > w.limit {
			t.Fatalf("cache holds %d bytes over its %d budget", w.cacheSize, w.limit)
		}
	}
	// Dirty entries survive eviction; only their cached values go.
	for i := range 10_000 {
		w.write(fmt.Append(nil, "d", i), []byte("v"), false)
		w.load(fmt.Append(nil, "d", i), make([]byte, 10), true)
	}
	if len(w.dirty) != 10_000 || w.cacheSize > w.limit {
		t.Fatalf("%d dirty entries, cache %d bytes", len(w.dirty), w.cacheSize)
	}
	for _, e := range w.dirty {
		if w.get([]byte(e.key)) != e {
			t.Fatal("a dirty entry was evicted")
		}
	}
}

func TestRedoRecordsRoundTrip(t *testing.T) {
	var chunk []byte
	type rec struct {
		k, v string
		del  bool
	}
	want := []rec{{"a", "1", false}, {"b", "", true}, {"", "x", false}, {"c\x00", "", false}}
	for _, r := range want {
		chunk = appendRedo(chunk, []byte(r.k), []byte(r.v), r.del)
	}
	var got []rec
	err := readRedo(chunk, func(k, v []byte, del bool) error {
		got = append(got, rec{string(k), string(v), del})
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("readRedo = %v, %v; want %v", got, err, want)
	}
	for i := 1; i < len(chunk); i++ {
		// Truncations either decode a prefix of the records or report corruption; none panic.
		_ = readRedo(chunk[:i], func(k, v []byte, del bool) error { return nil })
	}
}

// TestRecoveryAfterCommitPoint simulates a crash between the redo commit point and the end of
// the apply: chunks and marker on disk, state and offsets not yet applied. Open must replay.
func TestRecoveryAfterCommitPoint(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	s.Put("t", []byte("old"), []byte("1"))
	s.Put("t", []byte("gone"), []byte("1"))
	if err := s.Commit(map[string]int64{"p": 1}); err != nil {
		t.Fatal(err)
	}
	tp := tablePrefix(s.prefix, "t")
	var chunk []byte
	chunk = appendRedo(chunk, append(bytes.Clone(tp), "new"...), []byte("2"), false)
	chunk = appendRedo(chunk, append(bytes.Clone(tp), "gone"...), nil, true)
	err = m.db.Update(func(txn *bdg.Txn) error {
		return firstErr(
			txn.Set(redoKey(s.prefix, 0), chunk),
			txn.Set(redoKey(s.prefix, 1), appendRedo(nil, append(bytes.Clone(tp), "old"...), []byte("2"), false)),
			txn.Set(redoKey(s.prefix, 7), []byte("stale chunk of an older attempt")),
			txn.Set(tagPrefix(s.prefix, tagMarker), []byte{2}),
			txn.Set(offsetKey(s.prefix, "p"), encodeOffset(2)),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()

	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s = storeFor(t, m, "q")
	for k, want := range map[string]string{"old": "2", "new": "2", "gone": ""} {
		v, ok, err := s.Get("t", []byte(k))
		if err != nil || string(v) != want || ok != (want != "") {
			t.Errorf("Get(%s) = %q, %v, %v; want %q", k, v, ok, err, want)
		}
	}
	if n := countPrefix(t, m, tagPrefix(s.prefix, tagRedo)) + countPrefix(t, m, tagPrefix(s.prefix, tagMarker)); n != 0 {
		t.Errorf("%d redo keys left after recovery", n)
	}
}

// TestRecoveryBeforeCommitPoint: chunks without a marker are an unfinished commit and must
// not be applied.
func TestRecoveryBeforeCommitPoint(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	tp := tablePrefix(s.prefix, "t")
	err = m.db.Update(func(txn *bdg.Txn) error {
		return txn.Set(redoKey(s.prefix, 0), appendRedo(nil, append(tp, "k"...), []byte("v"), false))
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s = storeFor(t, m, "q")
	if _, ok, _ := s.Get("t", []byte("k")); ok {
		t.Error("a redo chunk without marker was applied")
	}
	if n := countPrefix(t, m, tagPrefix(s.prefix, tagRedo)); n != 0 {
		t.Errorf("%d orphan chunks left", n)
	}
}

// TestInterruptedDropFinishes: a drop marker left by a crash makes Open drop the prefix.
func TestInterruptedDropFinishes(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	s.Put("t", []byte("k"), []byte("v"))
	if err := s.Commit(map[string]int64{"p": 1}); err != nil {
		t.Fatal(err)
	}
	err = m.db.Update(func(txn *bdg.Txn) error { return txn.Set(dropMarkerKey(s.prefix), nil) })
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s = storeFor(t, m, "q")
	if _, ok, _ := s.Get("t", []byte("k")); ok {
		t.Error("data survived an interrupted Drop")
	}
	if n := countPrefix(t, m, []byte{nsManager, mgrDrop}); n != 0 {
		t.Errorf("%d drop markers left", n)
	}
}

func TestOpenTwiceFails(t *testing.T) {
	m, err := Open(t.TempDir(), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	storeFor(t, m, "q")
	if _, err := m.Open("q"); err == nil {
		t.Fatal("second Open of an open store succeeded")
	}
}

func storeFor(t *testing.T, m *Manager, id string) *Store {
	t.Helper()
	s, err := m.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Store)
}

func countPrefix(t *testing.T, m *Manager, p []byte) int {
	t.Helper()
	n := 0
	err := m.db.View(func(txn *bdg.Txn) error {
		it := txn.NewIterator(bdg.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestCommitPaths checks which path commits of different sizes take: the statetest suite proves
// both correct but cannot see which one ran.
func TestCommitPaths(t *testing.T) {
	m, err := Open(t.TempDir(), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := storeFor(t, m, "q")
	put := func(n int) {
		for i := range n {
			s.Put("t", fmt.Appendf(nil, "k%06d", i), []byte("value"))
		}
		if err := s.Commit(map[string]int64{"p": int64(n)}); err != nil {
			t.Fatal(err)
		}
	}
	put(10_000)
	if got := m.redoCommits.Load(); got != 0 {
		t.Fatalf("a 10,000-entry commit took the redo path (%d)", got)
	}
	put(100_000)
	if got := m.redoCommits.Load(); got != 1 {
		t.Fatalf("a 100,000-entry commit did not take the redo path (%d)", got)
	}
	if n := countPrefix(t, m, tagPrefix(s.prefix, tagRedo)); n != 0 {
		t.Fatalf("%d redo chunks left after a redo commit", n)
	}
}

// TestOpenSkipsEmptyMemtable reproduces dgraph-io/badger#2207: a 0-byte .mem file left by a
// kill between creating and sizing a memtable file must not make Open fail.
func TestOpenSkipsEmptyMemtable(t *testing.T) {
	dir := t.TempDir()
	m, err := Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(t, m, "q")
	s.Put("t", []byte("k"), []byte("v"))
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := os.WriteFile(filepath.Join(dir, "00099.mem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err = Open(dir, WithLogger(nil))
	if err != nil {
		t.Fatalf("Open with an empty memtable file: %v", err)
	}
	defer m.Close()
	if v, ok, err := storeFor(t, m, "q").Get("t", []byte("k")); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
}

// A store whose cache is turned off keeps no committed values in memory and still reads them
// (from Badger), before and after further writes.
func TestSetCacheBytesZero(t *testing.T) {
	m, err := Open(t.TempDir(), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := storeFor(t, m, "q")
	s.Put("t", []byte("a"), []byte("1"))
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if len(s.wb.m) != 1 {
		t.Fatalf("with the default cache, %d entries after a commit, want 1", len(s.wb.m))
	}
	s.SetCacheBytes(0)
	if len(s.wb.m) != 0 {
		t.Fatalf("SetCacheBytes(0) kept %d entries", len(s.wb.m))
	}
	s.Put("t", []byte("b"), []byte("2"))
	if v, ok, err := s.Get("t", []byte("b")); err != nil || !ok || string(v) != "2" {
		t.Fatalf("buffered b: %q %v %v", v, ok, err)
	}
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if len(s.wb.m) != 0 {
		t.Fatalf("%d entries cached after a commit without cache", len(s.wb.m))
	}
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		if v, ok, err := s.Get("t", []byte(k)); err != nil || !ok || string(v) != want {
			t.Fatalf("%s: %q %v %v, want %s", k, v, ok, err, want)
		}
	}
	if len(s.wb.m) != 0 {
		t.Fatalf("reads cached %d entries", len(s.wb.m))
	}
}

// TestReaderScanKeys: ScanKeys lists a table's committed keys in [from, to), in order, without
// other tables' keys or the owner's uncommitted writes.
func TestReaderScanKeys(t *testing.T) {
	m, err := Open(t.TempDir(), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := storeFor(t, m, "q")
	for _, k := range []string{"d", "a", "c", "b"} {
		s.Put("t", []byte(k), bytes.Repeat([]byte(k), 100_000))
	}
	s.Put("u", []byte("b2"), []byte("other table"))
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
	s.Put("t", []byte("bb"), []byte("uncommitted"))
	ks := s.ReadCommitted().(state.KeyScanner)
	var got []string
	if err := ks.ScanKeys("t", []byte("b"), []byte("d"), func(k []byte) bool { got = append(got, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "b,c" {
		t.Fatalf("ScanKeys [b, d) = %v, want [b c]", got)
	}
	got = nil
	if err := ks.ScanKeys("t", nil, nil, func(k []byte) bool { got = append(got, string(k)); return len(got) < 3 }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("ScanKeys stopped after 3 = %v, want [a b c]", got)
	}
}
