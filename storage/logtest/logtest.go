// Package logtest is the conformance suite every storage.Log implementation must pass. It owns
// the executable meaning of the storage.Log contract; implementations own nothing here but the
// function that opens a fresh log.
//
// Optional behaviour is detected, not configured: a log (or a test wrapper around one) that
// implements RetentionEnforcer gets the retention tests, one that implements Compactor gets the
// compaction test, and a TruncateTo that returns errors.ErrUnsupported skips the truncation
// test. That keeps one suite for backends whose maintenance runs on their own schedule.
package logtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// RetentionEnforcer applies retention now instead of on a background schedule.
type RetentionEnforcer interface {
	EnforceRetention(ctx context.Context) error
}

// Compactor runs log compaction now.
type Compactor interface {
	Compact(ctx context.Context) error
}

// Run runs the whole suite. open must return a new, empty log for each call; Run closes it.
func Run(t *testing.T, open func(t *testing.T) storage.Log) {
	tests := []struct {
		name string
		fn   func(t *testing.T, l storage.Log)
	}{
		{"AppendRead", testAppendRead},
		{"AppendKeepsNoBuffers", testAppendKeepsNoBuffers},
		{"DenseOffsets", testDenseOffsets},
		{"PlacementByKey", testPlacementByKey},
		{"NullAndEmpty", testNullAndEmpty},
		{"BadPartition", testBadPartition},
		{"OffsetOutOfRange", testOffsetOutOfRange},
		{"SeekByTime", testSeekByTime},
		{"LongPollWakes", testLongPollWakes},
		{"LongPollTimesOut", testLongPollTimesOut},
		{"ConcurrentReaders", testConcurrentReaders},
		{"TopicAdmin", testTopicAdmin},
		{"ConsumerOffsets", testConsumerOffsets},
		{"TruncateTo", testTruncateTo},
		{"RetentionByTime", testRetentionByTime},
		{"RetentionBySize", testRetentionBySize},
		{"Compaction", testCompaction},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t)
			t.Cleanup(func() { l.Close() })
			tc.fn(t, l)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var topicSeq sync.Map

// topicName gives each test its own topic, so a backend shared across subtests (one cluster)
// cannot leak state between them.
func topicName(t *testing.T) string {
	n, _ := topicSeq.LoadOrStore(t.Name(), 0)
	return fmt.Sprintf("lt-%d-%s", n, sanitize(t.Name()))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

func create(t *testing.T, l storage.Log, cfg storage.TopicConfig) string {
	t.Helper()
	name := topicName(t)
	if err := l.CreateTopic(ctxT(t), name, cfg); err != nil {
		t.Fatalf("CreateTopic(%s): %v", name, err)
	}
	return name
}

func appendOK(t *testing.T, l storage.Log, topic string, recs []storage.Record) []int64 {
	t.Helper()
	offs, err := l.Append(ctxT(t), topic, recs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(offs) != len(recs) {
		t.Fatalf("Append returned %d offsets for %d records", len(offs), len(recs))
	}
	return offs
}

// readAll reads a partition from offset up to its end offset.
func readAll(t *testing.T, l storage.Log, topic string, p int32, from int64) []storage.Record {
	t.Helper()
	info, err := l.DescribeTopic(ctxT(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	end := info.Partitions[p].EndOffset
	var out []storage.Record
	for from < end {
		recs, err := l.Read(ctxT(t), topic, p, from, 100, 2*time.Second)
		if err != nil {
			t.Fatalf("Read(%s/%d @%d): %v", topic, p, from, err)
		}
		if len(recs) == 0 {
			t.Fatalf("Read(%s/%d @%d) returned nothing before end %d", topic, p, from, end)
		}
		for _, r := range recs {
			if r.Offset < from || r.Partition != p {
				t.Fatalf("record at %d/%d while reading %d/@%d", r.Partition, r.Offset, p, from)
			}
			from = r.Offset + 1
		}
		out = append(out, recs...)
	}
	return out
}

func rec(key, value string, ts int64) storage.Record {
	return storage.Record{Key: []byte(key), Value: []byte(value), Timestamp: ts, Partition: 0}
}

func testAppendRead(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	now := time.Now().UnixMilli()
	in := []storage.Record{rec("a", "1", now), rec("b", "2", now+1), rec("a", "3", now+2)}
	offs := appendOK(t, l, topic, in)
	if offs[0] != 0 || offs[1] != 1 || offs[2] != 2 {
		t.Fatalf("offsets %v, want 0 1 2", offs)
	}
	got, err := l.Read(ctxT(t), topic, 0, 0, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("read %d records", len(got))
	}
	for i, r := range got {
		if r.Offset != int64(i) || r.Partition != 0 || string(r.Key) != string(in[i].Key) ||
			string(r.Value) != string(in[i].Value) || r.Timestamp != in[i].Timestamp {
			t.Fatalf("record %d = %+v, want %+v", i, r, in[i])
		}
	}
	// max bounds the result; reading mid-partition starts exactly there.
	got, err = l.Read(ctxT(t), topic, 0, 1, 1, time.Second)
	if err != nil || len(got) != 1 || got[0].Offset != 1 || string(got[0].Value) != "2" {
		t.Fatalf("Read(@1, max 1) = %+v, %v", got, err)
	}
}

// testAppendKeepsNoBuffers: callers reuse the buffers of appended records (a task encodes
// its output batch into one), so a log must have copied what it needs before Append returns.
func testAppendKeepsNoBuffers(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	buf := []byte("k1v1k2v2")
	hv := []byte("h")
	recs := []storage.Record{
		{Key: buf[0:2], Value: buf[2:4], Partition: 0, Timestamp: 1, Headers: []storage.Header{{Key: "x", Value: hv}}},
		{Key: buf[4:6], Value: buf[6:8], Partition: 0, Timestamp: 2},
	}
	appendOK(t, l, topic, recs)
	copy(buf, "XXXXXXXX")
	hv[0] = 'Z'
	recs[0].Key, recs[1].Value = nil, nil
	got := readAll(t, l, topic, 0, 0)
	if len(got) != 2 || string(got[0].Key) != "k1" || string(got[0].Value) != "v1" ||
		string(got[1].Key) != "k2" || string(got[1].Value) != "v2" ||
		len(got[0].Headers) != 1 || string(got[0].Headers[0].Value) != "h" {
		t.Fatalf("records changed with the caller's buffers: %+v", got)
	}
}

func testDenseOffsets(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	next := int64(0)
	for _, n := range []int{1, 7, 50, 3, 200} {
		recs := make([]storage.Record, n)
		for i := range recs {
			recs[i] = rec(fmt.Sprint("k", i), fmt.Sprintf("v%d-%d", next, i), time.Now().UnixMilli())
		}
		for i, o := range appendOK(t, l, topic, recs) {
			if o != next+int64(i) {
				t.Fatalf("batch of %d: record %d got offset %d, want %d", n, i, o, next+int64(i))
			}
		}
		next += int64(n)
	}
	info, err := l.DescribeTopic(ctxT(t), topic)
	if err != nil || info.Partitions[0].EndOffset != next || info.Partitions[0].StartOffset != 0 {
		t.Fatalf("describe %+v, %v; want end %d", info, err, next)
	}
	all := readAll(t, l, topic, 0, 0)
	for i, r := range all {
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
	}
	if int64(len(all)) != next {
		t.Fatalf("read %d of %d", len(all), next)
	}
}

func testPlacementByKey(t *testing.T, l storage.Log) {
	const parts = 4
	topic := create(t, l, storage.TopicConfig{Partitions: parts})
	var recs []storage.Record
	for i := 0; i < 60; i++ {
		recs = append(recs, storage.Record{Key: []byte(fmt.Sprint("user-", i)), Value: []byte(fmt.Sprint(i)),
			Timestamp: time.Now().UnixMilli(), Partition: -1})
	}
	nulls := []storage.Record{
		{Value: []byte("n1"), Partition: -1, Timestamp: time.Now().UnixMilli()},
		{Value: []byte("n2"), Partition: -1, Timestamp: time.Now().UnixMilli()},
	}
	offs := appendOK(t, l, topic, append(recs, nulls...))
	perPart := map[int32]int{}
	for _, r := range recs {
		perPart[storage.PartitionFor(r.Key, parts)]++
	}
	seenNull := 0
	for p := int32(0); p < parts; p++ {
		got := readAll(t, l, topic, p, 0)
		keyed := 0
		for _, r := range got {
			if r.Key == nil {
				seenNull++
				continue
			}
			keyed++
			if want := storage.PartitionFor(r.Key, parts); want != p {
				t.Fatalf("key %s on partition %d, default partitioner says %d", r.Key, p, want)
			}
			// The offset Append returned must be where the record is.
			i := 0
			fmt.Sscan(string(r.Value), &i)
			if offs[i] != r.Offset {
				t.Fatalf("key %s: Append said offset %d, found at %d", r.Key, offs[i], r.Offset)
			}
		}
		if keyed != perPart[p] {
			t.Fatalf("partition %d holds %d keyed records, want %d", p, keyed, perPart[p])
		}
	}
	if seenNull != 2 {
		t.Fatalf("found %d of 2 null-key records", seenNull)
	}
	if len(perPart) < 2 {
		t.Fatalf("60 keys all hashed to one partition: %v", perPart)
	}
}

func testNullAndEmpty(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	ts := time.Now().UnixMilli()
	in := []storage.Record{
		{Key: nil, Value: nil, Timestamp: ts},
		{Key: []byte{}, Value: []byte{}, Timestamp: ts},
		{Key: []byte("k"), Value: nil, Timestamp: ts},
		{Key: nil, Value: []byte("v"), Timestamp: ts, Headers: []storage.Header{
			{Key: "null", Value: nil}, {Key: "empty", Value: []byte{}}, {Key: "x", Value: []byte("1")}, {Key: "x", Value: []byte("2")},
		}},
	}
	appendOK(t, l, topic, in)
	got := readAll(t, l, topic, 0, 0)
	if len(got) != len(in) {
		t.Fatalf("read %d of %d", len(got), len(in))
	}
	for i := range in {
		w, g := in[i], got[i]
		if (w.Key == nil) != (g.Key == nil) || !bytes.Equal(w.Key, g.Key) {
			t.Errorf("record %d key: want %q (null=%v), got %q (null=%v)", i, w.Key, w.Key == nil, g.Key, g.Key == nil)
		}
		if (w.Value == nil) != (g.Value == nil) || !bytes.Equal(w.Value, g.Value) {
			t.Errorf("record %d value: want %q (null=%v), got %q (null=%v)", i, w.Value, w.Value == nil, g.Value, g.Value == nil)
		}
		if len(w.Headers) != len(g.Headers) {
			t.Fatalf("record %d headers %v, want %v", i, g.Headers, w.Headers)
		}
		for j, h := range w.Headers {
			gh := g.Headers[j]
			if gh.Key != h.Key || (gh.Value == nil) != (h.Value == nil) || !bytes.Equal(gh.Value, h.Value) {
				t.Errorf("record %d header %d: got %q=%q (null=%v), want %q=%q (null=%v)",
					i, j, gh.Key, gh.Value, gh.Value == nil, h.Key, h.Value, h.Value == nil)
			}
		}
	}
}

func testBadPartition(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 2})
	_, err := l.Append(ctxT(t), topic, []storage.Record{{Value: []byte("x"), Partition: 2}})
	if !errors.Is(err, storage.ErrBadPartition) {
		t.Fatalf("Append to partition 2 of 2: %v, want ErrBadPartition", err)
	}
	if _, err := l.Read(ctxT(t), topic, 5, 0, 1, 0); !errors.Is(err, storage.ErrBadPartition) {
		t.Fatalf("Read partition 5: %v, want ErrBadPartition", err)
	}
	if _, err := l.OffsetForTime(ctxT(t), topic, -1, 0); !errors.Is(err, storage.ErrBadPartition) {
		t.Fatalf("OffsetForTime partition -1: %v, want ErrBadPartition", err)
	}
}

func testOffsetOutOfRange(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	appendOK(t, l, topic, []storage.Record{rec("a", "1", time.Now().UnixMilli())})
	if _, err := l.Read(ctxT(t), topic, 0, 5, 10, 0); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("Read past end: %v, want ErrOffsetOutRange", err)
	}
	got, err := l.Read(ctxT(t), topic, 0, 1, 10, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("Read at end: %v %v, want nothing and no error", got, err)
	}
}

func testSeekByTime(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	base := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < 10; i++ { // one batch per record so backends with per-batch indexes are exercised
		appendOK(t, l, topic, []storage.Record{rec("k", fmt.Sprint(i), base+int64(i)*1000)})
	}
	cases := []struct {
		ts   int64
		want int64
	}{{base - 5000, 0}, {base, 0}, {base + 1, 1}, {base + 4500, 5}, {base + 9000, 9}, {base + 9001, 10}}
	for _, c := range cases {
		got, err := l.OffsetForTime(ctxT(t), topic, 0, c.ts)
		if err != nil || got != c.want {
			t.Errorf("OffsetForTime(base%+d) = %d, %v; want %d", c.ts-base, got, err, c.want)
		}
	}
	if _, err := l.OffsetForTime(ctxT(t), "no-such-topic-x", 0, base); !errors.Is(err, storage.ErrUnknownTopic) {
		t.Errorf("OffsetForTime on unknown topic: %v", err)
	}
}

func testLongPollWakes(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	type result struct {
		recs    []storage.Record
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		recs, err := l.Read(ctxT(t), topic, 0, 0, 10, 20*time.Second)
		done <- result{recs, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond) // let the reader block: the wake-up path is what is tested
	select {
	case r := <-done:
		t.Fatalf("Read returned before any append: %+v", r)
	default:
	}
	appendOK(t, l, topic, []storage.Record{rec("k", "woken", time.Now().UnixMilli())})
	select {
	case r := <-done:
		if r.err != nil || len(r.recs) != 1 || string(r.recs[0].Value) != "woken" {
			t.Fatalf("woken read: %+v", r)
		}
		if r.elapsed > 10*time.Second {
			t.Fatalf("reader woke after %v: append did not wake it", r.elapsed)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("reader not woken by append")
	}
}

func testLongPollTimesOut(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	start := time.Now()
	recs, err := l.Read(ctxT(t), topic, 0, 0, 10, 300*time.Millisecond)
	elapsed := time.Since(start)
	if err != nil || len(recs) != 0 {
		t.Fatalf("timed-out read: %v, %v", recs, err)
	}
	if elapsed < 250*time.Millisecond || elapsed > 10*time.Second {
		t.Fatalf("wait of 300ms took %v", elapsed)
	}
	// A cancelled context ends the wait early.
	ctx, cancel := context.WithCancel(ctxT(t))
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start = time.Now()
	recs, err = l.Read(ctx, topic, 0, 0, 10, 20*time.Second)
	if len(recs) != 0 || (err != nil && !errors.Is(err, context.Canceled)) || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled read: %v, %v after %v", recs, err, time.Since(start))
	}
}

func testConcurrentReaders(t *testing.T, l storage.Log) {
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	const readers, total = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := int64(0)
			for next < total {
				recs, err := l.Read(ctxT(t), topic, 0, next, 50, 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				for _, rc := range recs {
					if rc.Offset != next || string(rc.Value) != fmt.Sprint(next) {
						errs <- fmt.Errorf("reader got offset %d value %q, want %d", rc.Offset, rc.Value, next)
						return
					}
					next++
				}
				if len(recs) == 0 {
					errs <- fmt.Errorf("long-poll ended empty at %d", next)
					return
				}
			}
		}()
	}
	for i := 0; i < total; i += 10 {
		var batch []storage.Record
		for j := i; j < i+10; j++ {
			batch = append(batch, rec("k", fmt.Sprint(j), time.Now().UnixMilli()))
		}
		appendOK(t, l, topic, batch)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testTopicAdmin(t *testing.T, l storage.Log) {
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 3, RetentionMs: 3600_000})
	if err := l.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: 1}); !errors.Is(err, storage.ErrTopicExists) {
		t.Fatalf("second CreateTopic: %v, want ErrTopicExists", err)
	}
	info, err := l.DescribeTopic(ctx, topic)
	if err != nil || info.Name != topic || len(info.Partitions) != 3 || info.Config.Partitions != 3 ||
		info.Config.RetentionMs != 3600_000 {
		t.Fatalf("DescribeTopic = %+v, %v", info, err)
	}
	for i, p := range info.Partitions {
		if p.Partition != int32(i) || p.StartOffset != 0 || p.EndOffset != 0 {
			t.Fatalf("new partition %+v", p)
		}
	}
	list, err := l.ListTopics(ctx)
	if err != nil || !containsTopic(list, topic) {
		t.Fatalf("ListTopics = %v, %v; missing %s", list, err, topic)
	}
	missing := topic + "-missing"
	for what, err := range map[string]error{
		"Describe": func() error { _, err := l.DescribeTopic(ctx, missing); return err }(),
		"Append":   func() error { _, err := l.Append(ctx, missing, []storage.Record{{Partition: -1}}); return err }(),
		"Read":     func() error { _, err := l.Read(ctx, missing, 0, 0, 1, 0); return err }(),
		"Delete":   l.DeleteTopic(ctx, missing),
	} {
		if !errors.Is(err, storage.ErrUnknownTopic) {
			t.Errorf("%s on unknown topic: %v, want ErrUnknownTopic", what, err)
		}
	}
	appendOK(t, l, topic, []storage.Record{{Key: []byte("k"), Value: []byte("old"), Partition: -1, Timestamp: time.Now().UnixMilli()}})
	if err := l.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DescribeTopic(ctx, topic); !errors.Is(err, storage.ErrUnknownTopic) {
		t.Fatalf("Describe after delete: %v", err)
	}
	list, _ = l.ListTopics(ctx)
	if containsTopic(list, topic) {
		t.Fatalf("deleted topic still listed")
	}
	// Recreating the name yields an empty topic, not the old data.
	if err := recreate(ctx, l, topic); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	info, err = l.DescribeTopic(ctx, topic)
	if err != nil || len(info.Partitions) != 1 || info.Partitions[0].EndOffset != 0 {
		t.Fatalf("recreated topic %+v, %v", info, err)
	}
}

// recreate retries briefly: a cluster may finish deleting a topic asynchronously.
func recreate(ctx context.Context, l storage.Log, topic string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = l.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: 1}); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func containsTopic(list []storage.TopicInfo, name string) bool {
	for _, ti := range list {
		if ti.Name == name {
			return true
		}
	}
	return false
}

func testConsumerOffsets(t *testing.T, l storage.Log) {
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 2})
	group := "g-" + topic
	got, err := l.FetchOffsets(ctx, group)
	if err != nil || len(got) != 0 {
		t.Fatalf("FetchOffsets of a new group = %v, %v", got, err)
	}
	a, b := storage.TopicPartition{Topic: topic, Partition: 0}, storage.TopicPartition{Topic: topic, Partition: 1}
	if err := l.CommitOffsets(ctx, group, map[storage.TopicPartition]int64{a: 5, b: 7}); err != nil {
		t.Fatal(err)
	}
	if err := l.CommitOffsets(ctx, group, map[storage.TopicPartition]int64{a: 9}); err != nil {
		t.Fatal(err)
	}
	got, err = l.FetchOffsets(ctx, group)
	if err != nil || len(got) != 2 || got[a] != 9 || got[b] != 7 {
		t.Fatalf("FetchOffsets = %v, %v; want %v:9 %v:7", got, err, a, b)
	}
	other, err := l.FetchOffsets(ctx, group+"-other")
	if err != nil || len(other) != 0 {
		t.Fatalf("groups leak into each other: %v, %v", other, err)
	}
}

func testTruncateTo(t *testing.T, l storage.Log) {
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	for i := 0; i < 4; i++ {
		batch := []storage.Record{rec("k", fmt.Sprint(3*i), time.Now().UnixMilli()),
			rec("k", fmt.Sprint(3*i+1), time.Now().UnixMilli()), rec("k", fmt.Sprint(3*i+2), time.Now().UnixMilli())}
		appendOK(t, l, topic, batch)
	}
	err := l.TruncateTo(ctx, topic, 0, 7) // inside the third batch
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("backend cannot truncate: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	info, _ := l.DescribeTopic(ctx, topic)
	if info.Partitions[0].EndOffset != 7 {
		t.Fatalf("end after truncate %d, want 7", info.Partitions[0].EndOffset)
	}
	got := readAll(t, l, topic, 0, 0)
	if len(got) != 7 || string(got[6].Value) != "6" {
		t.Fatalf("after truncate read %d records", len(got))
	}
	offs := appendOK(t, l, topic, []storage.Record{rec("k", "new", time.Now().UnixMilli())})
	if offs[0] != 7 {
		t.Fatalf("append after truncate got offset %d, want 7", offs[0])
	}
	if err := l.TruncateTo(ctx, topic, 0, 100); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("truncate past end: %v", err)
	}
}

func testRetentionByTime(t *testing.T, l storage.Log) {
	re, ok := l.(RetentionEnforcer)
	if !ok {
		t.Skip("log does not implement RetentionEnforcer")
	}
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 1, RetentionMs: 10 * 60 * 1000})
	old := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < 30; i++ {
		appendOK(t, l, topic, []storage.Record{rec("k", fmt.Sprintf("old-%03d-%s", i, pad), old),
			rec("k", "old", old)})
	}
	firstNew := int64(60)
	for i := 0; i < 5; i++ {
		appendOK(t, l, topic, []storage.Record{rec("k", fmt.Sprintf("new-%d-%s", i, pad), time.Now().UnixMilli())})
	}
	if err := re.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := l.DescribeTopic(ctx, topic)
	p := info.Partitions[0]
	if p.StartOffset == 0 || p.StartOffset > firstNew || p.EndOffset != firstNew+5 {
		t.Fatalf("after retention start %d end %d; want 0 < start <= %d, end %d", p.StartOffset, p.EndOffset, firstNew, firstNew+5)
	}
	if _, err := l.Read(ctx, topic, 0, 0, 1, 0); !errors.Is(err, storage.ErrOffsetOutRange) {
		t.Fatalf("read of expired offset: %v, want ErrOffsetOutRange", err)
	}
	got := readAll(t, l, topic, 0, firstNew)
	if len(got) != 5 || got[0].Offset != firstNew {
		t.Fatalf("young records: %d", len(got))
	}
}

var pad = string(bytes.Repeat([]byte("p"), 200))

func testRetentionBySize(t *testing.T, l storage.Log) {
	re, ok := l.(RetentionEnforcer)
	if !ok {
		t.Skip("log does not implement RetentionEnforcer")
	}
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 1, RetentionBytes: 4096})
	for i := 0; i < 60; i++ {
		appendOK(t, l, topic, []storage.Record{rec("k", fmt.Sprintf("%03d-%s", i, pad), time.Now().UnixMilli())})
	}
	if err := re.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := l.DescribeTopic(ctx, topic)
	p := info.Partitions[0]
	if p.StartOffset == 0 || p.EndOffset != 60 {
		t.Fatalf("after size retention start %d end %d", p.StartOffset, p.EndOffset)
	}
	got := readAll(t, l, topic, 0, p.StartOffset)
	if len(got) == 0 || got[len(got)-1].Offset != 59 {
		t.Fatalf("newest records lost: %d left", len(got))
	}
}

func testCompaction(t *testing.T, l storage.Log) {
	c, ok := l.(Compactor)
	if !ok {
		t.Skip("log does not implement Compactor")
	}
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 1, Compact: true})
	latest := map[string]string{}
	total := 0
	for i := 0; i < 80; i++ {
		k := fmt.Sprint("key-", i%5)
		v := fmt.Sprintf("v%03d-%s", i, pad)
		r := rec(k, v, time.Now().UnixMilli())
		if i == 70 {
			r.Value, v = nil, "" // tombstone for key-0
		}
		if i > 70 && k == "key-0" {
			continue
		}
		appendOK(t, l, topic, []storage.Record{r})
		latest[k] = v
		total++
	}
	if err := c.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := l.DescribeTopic(ctx, topic)
	got := readAll(t, l, topic, 0, info.Partitions[0].StartOffset)
	if len(got) >= total {
		t.Fatalf("compaction kept all %d records", len(got))
	}
	last := map[string]storage.Record{}
	for _, r := range got {
		last[string(r.Key)] = r
	}
	for k, v := range latest {
		r, ok := last[k]
		if k == "key-0" { // the tombstone may be kept (within its delay) or dropped, never undone
			if ok && r.Value != nil {
				t.Fatalf("key-0 resurrected as %.10q after its tombstone", r.Value)
			}
			continue
		}
		if !ok || string(r.Value) != v {
			t.Fatalf("%s: latest value %.10q, want %.10q", k, r.Value, v)
		}
	}
}

func testClosed(t *testing.T, l storage.Log) {
	ctx := ctxT(t)
	topic := create(t, l, storage.TopicConfig{Partitions: 1})
	done := make(chan error, 1)
	go func() {
		_, err := l.Read(ctx, topic, 0, 0, 1, 20*time.Second)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-done: // woken by Close; the error may be ErrClosed or nil (timed out/empty)
	case <-time.After(15 * time.Second):
		t.Fatal("Close did not end a long-poll")
	}
	if _, err := l.Append(ctx, topic, []storage.Record{{Partition: 0}}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := l.Read(ctx, topic, 0, 0, 1, 0); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if _, err := l.ListTopics(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("ListTopics after Close: %v", err)
	}
	if err := l.CommitOffsets(ctx, "g", nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("CommitOffsets after Close: %v", err)
	}
}
