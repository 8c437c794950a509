package qtt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

func TestMemLog(t *testing.T) {
	ctx := context.Background()
	l := NewMemLog()
	if err := l.CreateTopic(ctx, "t", storage.TopicConfig{Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateTopic(ctx, "t", storage.TopicConfig{}); !errors.Is(err, storage.ErrTopicExists) {
		t.Fatalf("duplicate topic: %v", err)
	}
	offs, err := l.Append(ctx, "t", []storage.Record{{Key: []byte("a"), Value: []byte("1"), Partition: 1}, {Value: nil, Partition: 1}})
	if err != nil || offs[0] != 0 || offs[1] != 1 {
		t.Fatalf("append: %v %v", offs, err)
	}
	recs, err := l.Read(ctx, "t", 1, 0, 10, 0)
	if err != nil || len(recs) != 2 || string(recs[0].Value) != "1" || recs[1].Value != nil || recs[1].Offset != 1 {
		t.Fatalf("read: %+v %v", recs, err)
	}
	// A waiting read wakes up on append.
	got := make(chan []storage.Record, 1)
	go func() {
		r, _ := l.Read(ctx, "t", 0, 0, 10, 5*time.Second)
		got <- r
	}()
	time.Sleep(10 * time.Millisecond)
	if _, err := l.Append(ctx, "t", []storage.Record{{Value: []byte("x"), Partition: 0}}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if len(r) != 1 {
			t.Fatalf("woken read: %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting read not woken")
	}
	if _, err := l.Read(ctx, "nope", 0, 0, 1, 0); !errors.Is(err, storage.ErrUnknownTopic) {
		t.Fatalf("unknown topic: %v", err)
	}
	infos, err := l.ListTopics(ctx)
	if err != nil || len(infos) != 1 || len(infos[0].Partitions) != 2 || infos[0].Partitions[1].EndOffset != 2 {
		t.Fatalf("list: %+v %v", infos, err)
	}
	if err := l.TruncateTo(ctx, "t", 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.CommitOffsets(ctx, "g", map[storage.TopicPartition]int64{{Topic: "t", Partition: 1}: 1}); err != nil {
		t.Fatal(err)
	}
	if m, _ := l.FetchOffsets(ctx, "g"); m[storage.TopicPartition{Topic: "t", Partition: 1}] != 1 {
		t.Fatalf("offsets: %v", m)
	}
	l.Close()
	if _, err := l.Append(ctx, "t", nil); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
