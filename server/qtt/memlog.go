package qtt

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// memLog is a minimal in-memory storage.Log: the runner's default when no OpenLog is given,
// which keeps a conformance run free of disk I/O. No retention, no compaction.
type memLog struct {
	mu      sync.Mutex
	topics  map[string]*memTopic                        // guarded by mu
	groups  map[string]map[storage.TopicPartition]int64 // guarded by mu
	closed  bool                                        // guarded by mu
	changed chan struct{}                               // closed and replaced on every Append; guarded by mu
}

type memTopic struct {
	cfg   storage.TopicConfig
	parts [][]storage.Record
}

var _ storage.Log = (*memLog)(nil)

// NewMemLog returns an empty in-memory log.
func NewMemLog() storage.Log {
	return &memLog{
		topics:  map[string]*memTopic{},
		groups:  map[string]map[storage.TopicPartition]int64{},
		changed: make(chan struct{}),
	}
}

func (l *memLog) CreateTopic(_ context.Context, name string, cfg storage.TopicConfig) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.ErrClosed
	}
	if _, ok := l.topics[name]; ok {
		return fmt.Errorf("%w: %s", storage.ErrTopicExists, name)
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	l.topics[name] = &memTopic{cfg: cfg, parts: make([][]storage.Record, cfg.Partitions)}
	return nil
}

func (l *memLog) DeleteTopic(_ context.Context, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.ErrClosed
	}
	if _, ok := l.topics[name]; !ok {
		return fmt.Errorf("%w: %s", storage.ErrUnknownTopic, name)
	}
	delete(l.topics, name)
	return nil
}

func (l *memLog) info(name string, t *memTopic) storage.TopicInfo {
	ti := storage.TopicInfo{Name: name, Config: t.cfg}
	for p, recs := range t.parts {
		ti.Partitions = append(ti.Partitions, storage.PartitionInfo{Partition: int32(p), EndOffset: int64(len(recs))})
	}
	return ti
}

func (l *memLog) ListTopics(_ context.Context) ([]storage.TopicInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, storage.ErrClosed
	}
	out := make([]storage.TopicInfo, 0, len(l.topics))
	for _, name := range sortedKeys(l.topics) {
		out = append(out, l.info(name, l.topics[name]))
	}
	return out, nil
}

func (l *memLog) DescribeTopic(_ context.Context, name string) (storage.TopicInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.TopicInfo{}, storage.ErrClosed
	}
	t, ok := l.topics[name]
	if !ok {
		return storage.TopicInfo{}, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, name)
	}
	return l.info(name, t), nil
}

func (l *memLog) Append(_ context.Context, topic string, recs []storage.Record) ([]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, storage.ErrClosed
	}
	t, ok := l.topics[topic]
	if !ok {
		return nil, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topic)
	}
	offs := make([]int64, len(recs))
	for i, r := range recs {
		p := r.Partition
		if p < 0 {
			p = storage.PartitionFor(r.Key, len(t.parts))
		}
		if int(p) >= len(t.parts) {
			return nil, fmt.Errorf("%w: %s/%d", storage.ErrBadPartition, topic, p)
		}
		r.Partition, r.Offset = p, int64(len(t.parts[p]))
		r.Key, r.Value, r.Headers = cloneBytes(r.Key), cloneBytes(r.Value), cloneHeaders(r.Headers)
		t.parts[p] = append(t.parts[p], r)
		offs[i] = r.Offset
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return offs, nil
}

func (l *memLog) Read(ctx context.Context, topic string, partition int32, offset int64, max int, wait time.Duration) ([]storage.Record, error) {
	var timer <-chan time.Time
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, storage.ErrClosed
		}
		t, ok := l.topics[topic]
		if !ok {
			l.mu.Unlock()
			return nil, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topic)
		}
		if partition < 0 || int(partition) >= len(t.parts) {
			l.mu.Unlock()
			return nil, fmt.Errorf("%w: %s/%d", storage.ErrBadPartition, topic, partition)
		}
		recs := t.parts[partition]
		if offset < 0 || offset > int64(len(recs)) {
			l.mu.Unlock()
			return nil, fmt.Errorf("%w: %s/%d@%d", storage.ErrOffsetOutRange, topic, partition, offset)
		}
		if offset < int64(len(recs)) || wait <= 0 {
			end := int64(len(recs))
			if max > 0 && offset+int64(max) < end {
				end = offset + int64(max)
			}
			out := make([]storage.Record, end-offset)
			copy(out, recs[offset:end])
			l.mu.Unlock()
			return out, nil
		}
		changed := l.changed
		l.mu.Unlock()
		if timer == nil {
			tm := time.NewTimer(wait)
			defer tm.Stop()
			timer = tm.C
		}
		select {
		case <-changed:
		case <-timer:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}

func (l *memLog) OffsetForTime(_ context.Context, topic string, partition int32, ts int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.topics[topic]
	if !ok {
		return 0, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topic)
	}
	if partition < 0 || int(partition) >= len(t.parts) {
		return 0, fmt.Errorf("%w: %s/%d", storage.ErrBadPartition, topic, partition)
	}
	recs := t.parts[partition]
	return int64(sort.Search(len(recs), func(i int) bool { return recs[i].Timestamp >= ts })), nil
}

func (l *memLog) TruncateTo(_ context.Context, topic string, partition int32, offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.topics[topic]
	if !ok {
		return fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topic)
	}
	if partition < 0 || int(partition) >= len(t.parts) {
		return fmt.Errorf("%w: %s/%d", storage.ErrBadPartition, topic, partition)
	}
	if offset < 0 || offset > int64(len(t.parts[partition])) {
		return fmt.Errorf("%w: %s/%d@%d", storage.ErrOffsetOutRange, topic, partition, offset)
	}
	t.parts[partition] = t.parts[partition][:offset]
	return nil
}

func (l *memLog) CommitOffsets(_ context.Context, group string, offsets map[storage.TopicPartition]int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.ErrClosed
	}
	g := l.groups[group]
	if g == nil {
		g = map[storage.TopicPartition]int64{}
		l.groups[group] = g
	}
	for tp, o := range offsets {
		g[tp] = o
	}
	return nil
}

func (l *memLog) FetchOffsets(_ context.Context, group string) (map[storage.TopicPartition]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, storage.ErrClosed
	}
	out := map[storage.TopicPartition]int64{}
	for tp, o := range l.groups[group] {
		out[tp] = o
	}
	return out, nil
}

func (l *memLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.changed)
	}
	return nil
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func cloneHeaders(hs []storage.Header) []storage.Header {
	if hs == nil {
		return nil
	}
	out := make([]storage.Header, len(hs))
	for i, h := range hs {
		out[i] = storage.Header{Key: h.Key, Value: cloneBytes(h.Value)}
	}
	return out
}
