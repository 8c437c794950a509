package embedded

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

const (
	crashDirEnv   = "SLUICE_CRASH_CHILD_DIR"
	crashFsyncEnv = "SLUICE_CRASH_CHILD_FSYNC"
	crashTopic    = "crash"
	crashParts    = 2
)

// crashValue is the only value a record at (partition, offset) may ever have: the verifier can
// then check every surviving record, acknowledged or not, for damage.
func crashValue(p int32, off int64) []byte {
	n := 16 + int(crc32.ChecksumIEEE([]byte(fmt.Sprint(p, off)))%200)
	b := make([]byte, 0, n+24)
	b = fmt.Appendf(b, "%d/%d:", p, off)
	for len(b) < n {
		b = append(b, byte('a'+(off+int64(len(b)))%26))
	}
	return b
}

// TestCrashChild is the writer that TestCrashRecovery kills. It does nothing unless started by
// it. It appends until killed and prints "ACK partition first count" after each acknowledged
// Append, so the parent knows exactly what must survive.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashRecovery")
	}
	policy, err := ParseFsyncPolicy(os.Getenv(crashFsyncEnv))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, WithFsync(policy), WithSegmentBytes(64<<10), WithMaintenanceInterval(0))
	if err != nil {
		fmt.Println("OPEN-ERROR", err)
		os.Exit(3)
	}
	ctx := context.Background()
	if err := l.CreateTopic(ctx, crashTopic, storage.TopicConfig{Partitions: crashParts}); err != nil && !errors.Is(err, storage.ErrTopicExists) {
		t.Fatal(err)
	}
	out := bufio.NewWriterSize(os.Stdout, 0)
	for i := 0; ; i++ {
		p := int32(i % crashParts)
		info, err := l.DescribeTopic(ctx, crashTopic)
		if err != nil {
			t.Fatal(err)
		}
		base := info.Partitions[p].EndOffset
		n := 1 + rand.IntN(40)
		recs := make([]storage.Record, n)
		for j := range recs {
			off := base + int64(j)
			recs[j] = storage.Record{Key: []byte(strconv.FormatInt(off, 10)), Value: crashValue(p, off),
				Timestamp: off, Partition: p, Headers: []storage.Header{{Key: "p", Value: []byte{byte(p)}}}}
		}
		offs, err := l.Append(ctx, crashTopic, recs)
		if err != nil {
			t.Fatal(err)
		}
		if offs[0] != base {
			panic(fmt.Sprintf("offset %d, predicted %d", offs[0], base))
		}
		// One write(2) per line: a kill cannot interleave a torn line with a complete one.
		os.Stdout.WriteString(fmt.Sprintf("ACK %d %d %d\n", p, base, n))
		out.Flush()
		if rand.IntN(3) == 0 {
			time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		}
	}
}

// TestCrashRecovery kills a writer with SIGKILL at random moments and checks after each kill that
// every acknowledged record is readable, intact and in order, with dense offsets.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := make([]int64, crashParts) // end offset of the acknowledged prefix per partition
	policies := []string{"interval", "always", "never"}
	deadline := time.Now().Add(15 * time.Second)
	rounds := 0
	for ; rounds < 20 || (rounds < 60 && time.Now().Before(deadline)); rounds++ {
		if rounds >= 20 && time.Now().After(deadline) {
			break
		}
		policy := policies[rounds%len(policies)]
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashFsyncEnv+"="+policy)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Wait for the first ack so every round kills a writer in full flight, then a bit more.
		var got []string
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: child produced nothing", rounds)
		}
		time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for l := range lines {
			got = append(got, l)
		}
		cmd.Wait()
		for _, line := range got {
			var p int32
			var base, n int64
			if _, err := fmt.Sscanf(line, "ACK %d %d %d", &p, &base, &n); err != nil {
				if strings.HasPrefix(line, "ACK") {
					continue // a line cut by the kill was never a complete acknowledgement
				}
				t.Fatalf("round %d: unexpected child output %q", rounds, line)
			}
			if base > acked[p] {
				t.Fatalf("round %d: partition %d acked %d but %d..%d were never acknowledged", rounds, p, base, acked[p], base)
			}
			acked[p] = max(acked[p], base+n)
		}
		verifyCrashLog(t, dir, acked, rounds)
	}
	t.Logf("%d rounds, acknowledged offsets per partition %v", rounds, acked)
}

func verifyCrashLog(t *testing.T, dir string, acked []int64, round int) {
	t.Helper()
	var recovery bytes.Buffer
	l, err := Open(dir, WithFsync(FsyncNever), WithMaintenanceInterval(0),
		WithLogger(func(f string, a ...any) { fmt.Fprintf(&recovery, f+"\n", a...) }))
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer l.Close()
	ctx := context.Background()
	for p := int32(0); p < crashParts; p++ {
		info, err := l.DescribeTopic(ctx, crashTopic)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		end := info.Partitions[p].EndOffset
		if end < acked[p] {
			t.Fatalf("round %d: partition %d ends at %d, but %d were acknowledged (recovery: %s)", round, p, end, acked[p], recovery.String())
		}
		next := int64(0)
		for next < end {
			recs, err := l.Read(ctx, crashTopic, p, next, 5000, 0)
			if err != nil || len(recs) == 0 {
				t.Fatalf("round %d: read %d/%d: %v (%d records)", round, p, next, err, len(recs))
			}
			for _, r := range recs {
				if r.Offset != next {
					t.Fatalf("round %d: partition %d: offset %d where %d expected", round, p, r.Offset, next)
				}
				if !bytes.Equal(r.Value, crashValue(p, r.Offset)) || string(r.Key) != strconv.FormatInt(r.Offset, 10) ||
					r.Timestamp != r.Offset || len(r.Headers) != 1 {
					t.Fatalf("round %d: partition %d offset %d damaged: %q", round, p, r.Offset, r.Value)
				}
				next++
			}
		}
		// Unacknowledged but whole batches may survive; the acked prefix must grow from there.
		acked[p] = end
	}
}

// TestCorruptionRecovery damages a single-segment partition at every byte position, by
// truncation and by flipping a byte, and checks that Open keeps exactly the batches that end
// before the damage, that they read back intact, and that appends continue at the new end.
func TestCorruptionRecovery(t *testing.T) {
	src := t.TempDir()
	l, err := Open(src, WithFsync(FsyncNever), WithMaintenanceInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.CreateTopic(ctx, "c", storage.TopicConfig{Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	var ends []int64   // file size after each batch
	var counts []int64 // end offset after each batch
	for i := 0; i < 8; i++ {
		n := 1 + i%4
		recs := make([]storage.Record, n)
		for j := range recs {
			off := int64(0)
			if len(counts) > 0 {
				off = counts[len(counts)-1]
			}
			recs[j] = storage.Record{Key: []byte("k"), Value: crashValue(0, off+int64(j))[:20], Timestamp: int64(i)}
		}
		if _, err := l.Append(ctx, "c", recs); err != nil {
			t.Fatal(err)
		}
		info, _ := l.DescribeTopic(ctx, "c")
		ends = append(ends, info.Partitions[0].SizeBytes)
		counts = append(counts, info.Partitions[0].EndOffset)
	}
	l.Close()
	segPath := filepath.Join(src, "topics", "c", "0", "00000000000000000000.log")
	orig, err := os.ReadFile(segPath)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(orig)) != ends[len(ends)-1] {
		t.Fatalf("segment is %d bytes, partition reported %d", len(orig), ends[len(ends)-1])
	}
	meta, _ := os.ReadFile(filepath.Join(src, "topics", "c", "topic.json"))

	expectEnd := func(pos int) int64 {
		var end int64
		for i, e := range ends {
			if e <= int64(pos) {
				end = counts[i]
			}
		}
		return end
	}
	check := func(kind string, pos int, data []byte) {
		dir := t.TempDir()
		pdir := filepath.Join(dir, "topics", "c", "0")
		os.MkdirAll(pdir, 0o755)
		os.WriteFile(filepath.Join(dir, "topics", "c", "topic.json"), meta, 0o644)
		os.WriteFile(filepath.Join(pdir, "00000000000000000000.log"), data, 0o644)
		l, err := Open(dir, WithFsync(FsyncNever), WithMaintenanceInterval(0))
		if err != nil {
			t.Fatalf("%s at %d: open: %v", kind, pos, err)
		}
		defer l.Close()
		info, _ := l.DescribeTopic(ctx, "c")
		end := info.Partitions[0].EndOffset
		if want := expectEnd(pos); end != want {
			t.Fatalf("%s at %d: recovered end %d, want %d (recovery %v)", kind, pos, end, want, l.Recovery())
		}
		// A cut exactly at a batch boundary leaves a valid, shorter log with nothing to repair;
		// every other damage must be reported.
		clean := kind == "truncate" && (pos == 32 || slices.Contains(ends, int64(pos)))
		if !clean && len(l.Recovery()) == 0 {
			t.Fatalf("%s at %d: damage repaired without a recovery report", kind, pos)
		}
		recs, err := l.Read(ctx, "c", 0, 0, 0, 0)
		if err != nil || int64(len(recs)) != end {
			t.Fatalf("%s at %d: read %d of %d: %v", kind, pos, len(recs), end, err)
		}
		for i, r := range recs {
			if r.Offset != int64(i) || !bytes.Equal(r.Value, crashValue(0, int64(i))[:20]) {
				t.Fatalf("%s at %d: record %d damaged", kind, pos, i)
			}
		}
		offs, err := l.Append(ctx, "c", []storage.Record{{Value: []byte("after")}})
		if err != nil || offs[0] != end {
			t.Fatalf("%s at %d: append after recovery: %v %v", kind, pos, offs, err)
		}
		got, err := l.Read(ctx, "c", 0, end, 1, 0)
		if err != nil || len(got) != 1 || string(got[0].Value) != "after" {
			t.Fatalf("%s at %d: read back the new append: %v %v", kind, pos, got, err)
		}
	}
	for pos := 0; pos < len(orig); pos++ {
		check("truncate", pos, orig[:pos])
		flipped := bytes.Clone(orig)
		flipped[pos] ^= 0x10
		check("flip", pos, flipped)
	}
	// Garbage appended after whole batches (a torn write of a later batch) is cut off.
	check("garbage tail", len(orig), append(bytes.Clone(orig), bytes.Repeat([]byte{0xab}, 37)...))
}
