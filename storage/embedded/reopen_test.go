package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// Topics, their configs, records and committed offsets all survive a close and reopen, and a
// clean shutdown reports no recovery.
func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := Open(dir, WithSegmentBytes(512))
	if err != nil {
		t.Fatal(err)
	}
	cfg := storage.TopicConfig{Partitions: 3, RetentionMs: 1234, RetentionBytes: 99999, Compact: true}
	if err := l.CreateTopic(ctx, "a.b_c-1", cfg); err != nil {
		t.Fatal(err)
	}
	var recs []storage.Record
	for i := 0; i < 90; i++ {
		recs = append(recs, storage.Record{Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint(i)), Partition: -1})
	}
	if _, err := l.Append(ctx, "a.b_c-1", recs); err != nil {
		t.Fatal(err)
	}
	tp := storage.TopicPartition{Topic: "a.b_c-1", Partition: 2}
	if err := l.CommitOffsets(ctx, "group/with odd:chars", map[storage.TopicPartition]int64{tp: 17}); err != nil {
		t.Fatal(err)
	}
	before, _ := l.DescribeTopic(ctx, "a.b_c-1")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l, err = Open(dir, WithSegmentBytes(512))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if len(l.Recovery()) != 0 {
		t.Fatalf("clean reopen reported %v", l.Recovery())
	}
	after, err := l.DescribeTopic(ctx, "a.b_c-1")
	if err != nil || after.Config != cfg {
		t.Fatalf("config after reopen %+v, %v", after.Config, err)
	}
	for i := range before.Partitions {
		if before.Partitions[i] != after.Partitions[i] {
			t.Fatalf("partition %d: %+v before, %+v after", i, before.Partitions[i], after.Partitions[i])
		}
	}
	offs, err := l.FetchOffsets(ctx, "group/with odd:chars")
	if err != nil || offs[tp] != 17 {
		t.Fatalf("offsets after reopen %v, %v", offs, err)
	}
	if err := l.CreateTopic(ctx, "../escape", storage.TopicConfig{Partitions: 1}); err == nil {
		t.Fatal("a topic name with a path separator was accepted")
	}
	// Deleting a topic also forgets its committed offsets, so a new topic of that name starts clean.
	if err := l.DeleteTopic(ctx, "a.b_c-1"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := l.FetchOffsets(ctx, "group/with odd:chars"); len(offs) != 0 {
		t.Fatalf("offsets of a deleted topic survive: %v", offs)
	}
	if _, err := os.Stat(filepath.Join(dir, "topics", "a.b_c-1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("deleted topic directory still there: %v", err)
	}
}

// The background goroutine applies retention without being asked.
func TestBackgroundRetention(t *testing.T) {
	var logged []string
	l, err := Open(t.TempDir(), WithSegmentBytes(256), WithMaintenanceInterval(20*time.Millisecond),
		WithLogger(func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.CreateTopic(ctx, "r", storage.TopicConfig{Partitions: 1, RetentionMs: 1000}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < 20; i++ {
		if _, err := l.Append(ctx, "r", []storage.Record{{Value: make([]byte, 100), Timestamp: old}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := l.DescribeTopic(ctx, "r")
		if info.Partitions[0].StartOffset > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background retention never deleted an expired segment")
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.Close() // waits for the maintenance goroutine, so logged is stable
	if len(logged) == 0 {
		t.Fatal("retention deleted segments without logging it")
	}
}
