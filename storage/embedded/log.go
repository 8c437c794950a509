package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/segment"
)

// FsyncPolicy is segment.FsyncPolicy, re-exported so callers need not import segment.
type FsyncPolicy = segment.FsyncPolicy

// The fsync policies; see segment.FsyncPolicy for what each one promises.
const (
	FsyncInterval = segment.FsyncInterval
	FsyncAlways   = segment.FsyncAlways
	FsyncNever    = segment.FsyncNever
)

// ParseFsyncPolicy parses "always", "interval" or "never" (for flags and config files).
func ParseFsyncPolicy(s string) (FsyncPolicy, error) { return segment.ParseFsyncPolicy(s) }

type options struct {
	fsync              FsyncPolicy
	fsyncEvery         time.Duration
	segmentBytes       int64
	segmentAge         time.Duration
	indexInterval      int64
	maintenanceEvery   time.Duration
	tombstoneRetention time.Duration
	readMax            int
	logf               func(format string, args ...any)
	now                func() time.Time
}

// Option configures Open.
type Option func(*options)

// WithFsync sets the durability policy (default FsyncInterval).
func WithFsync(p FsyncPolicy) Option { return func(o *options) { o.fsync = p } }

// WithFsyncInterval sets how often FsyncInterval syncs (default 200ms).
func WithFsyncInterval(d time.Duration) Option { return func(o *options) { o.fsyncEvery = d } }

// WithSegmentBytes sets the size at which a partition rolls to a new segment (default 64 MiB).
// Retention and compaction work on whole closed segments, so smaller segments make them finer.
func WithSegmentBytes(n int64) Option { return func(o *options) { o.segmentBytes = n } }

// WithSegmentAge rolls a segment on the first append after it is d old (default 7 days).
func WithSegmentAge(d time.Duration) Option { return func(o *options) { o.segmentAge = d } }

// WithIndexInterval sets the sparse index spacing in bytes (default 4 KiB).
func WithIndexInterval(n int64) Option { return func(o *options) { o.indexInterval = n } }

// WithMaintenanceInterval sets how often the background goroutine applies retention and
// compaction (default 30s). Zero disables it; EnforceRetention and Compact still work.
func WithMaintenanceInterval(d time.Duration) Option {
	return func(o *options) { o.maintenanceEvery = d }
}

// WithTombstoneRetention sets how long compaction keeps a tombstone after its segment was
// rolled (default 24h, Kafka's delete.retention.ms).
func WithTombstoneRetention(d time.Duration) Option {
	return func(o *options) { o.tombstoneRetention = d }
}

// WithLogger receives recovery reports and background maintenance messages (default: dropped).
func WithLogger(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithClock replaces time.Now for retention, segment age and tombstone delays (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// defaultReadMax bounds a Read called with max <= 0, so a careless caller cannot pull a whole
// partition into memory in one call.
const defaultReadMax = 10000

var _ storage.Log = (*Log)(nil)

// Log is the built-in storage.Log: topics of partitions stored with storage/segment under one
// directory.
//
// Operations: everything in storage.Log, plus EnforceRetention and Compact (which the background
// maintenance goroutine also runs) and Recovery.
//
// Guarantees: those of storage.Log. An Append is acknowledged only after its batch was written to
// the file; with FsyncAlways also after fsync. Topic creation and deletion are atomic on disk
// (built aside, then renamed). Committed group offsets are written atomically and, unless
// FsyncNever, synced before CommitOffsets returns. Retention and compaction never hold a lock an
// Append or Read waits on for longer than swapping a segment pointer.
//
// Non-guarantees: retention deletes whole closed segments, so a partition may keep up to one
// segment more than RetentionBytes and records older than RetentionMs while they share a segment
// with newer ones; the active segment is never deleted. Null-keyed records of one Append call go
// to one partition (sticky, as Kafka's producer does), not one partition each.
//
// Failure: I/O errors are returned unchanged; the partition stays usable when the error was
// transient. Open repairs torn tails and reports each repair through WithLogger and Recovery.
type Log struct {
	dir  string
	opts options

	mu     sync.RWMutex // guards topics and closed
	topics map[string]*topic
	closed bool

	done chan struct{} // closed by Close: stops maintenance, wakes long-polls
	wg   sync.WaitGroup

	groupsMu sync.Mutex // serialises group offset commits; guards groups
	groups   map[string]map[storage.TopicPartition]int64

	recovery []segment.RecoveryEvent
	nullKey  atomic.Uint32
}

type topic struct {
	name    string
	dir     string
	cfg     storage.TopicConfig
	parts   []*segment.Partition
	deleted chan struct{} // closed when the topic is deleted, so its long-polls end
}

// topicMeta is the on-disk topic description (<topic>/topic.json). Version 1; add fields with
// omitempty defaults and bump the version only for incompatible changes.
type topicMeta struct {
	Version        int    `json:"version"`
	Name           string `json:"name"`
	Partitions     int    `json:"partitions"`
	RetentionMs    int64  `json:"retention_ms,omitempty"`
	RetentionBytes int64  `json:"retention_bytes,omitempty"`
	Compact        bool   `json:"compact,omitempty"`
}

// Kafka's legal topic names; keeping to them means a topic can move to a Kafka cluster unchanged
// and its name is always a safe directory name.
var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Open opens or creates a log in dir and recovers every partition.
func Open(dir string, opts ...Option) (*Log, error) {
	o := options{
		fsync:              FsyncInterval,
		fsyncEvery:         200 * time.Millisecond,
		segmentBytes:       64 << 20,
		segmentAge:         7 * 24 * time.Hour,
		indexInterval:      4 << 10,
		maintenanceEvery:   30 * time.Second,
		tombstoneRetention: 24 * time.Hour,
		readMax:            defaultReadMax,
		logf:               func(string, ...any) {},
		now:                time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	l := &Log{dir: dir, opts: o, topics: map[string]*topic{}, done: make(chan struct{}),
		groups: map[string]map[storage.TopicPartition]int64{}}
	for _, d := range []string{l.topicsDir(), l.stagingDir(), l.groupsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Staging holds topics half-created or half-deleted when the process died: neither was ever
	// visible under topics/, so removing them finishes or undoes the operation.
	if err := clearDir(l.stagingDir()); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(l.topicsDir())
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t, err := l.openTopic(filepath.Join(l.topicsDir(), e.Name()))
		if err != nil {
			l.closeTopics()
			return nil, err
		}
		l.topics[t.name] = t
	}
	for _, ev := range l.recovery {
		o.logf("storage: recovery: %s", ev)
	}
	if o.maintenanceEvery > 0 {
		l.wg.Add(1)
		go l.maintain()
	}
	return l, nil
}

func (l *Log) topicsDir() string  { return filepath.Join(l.dir, "topics") }
func (l *Log) stagingDir() string { return filepath.Join(l.dir, "staging") }
func (l *Log) groupsDir() string  { return filepath.Join(l.dir, "groups") }

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) segmentOptions(partition int) []segment.Option {
	return []segment.Option{
		segment.PartitionID(int32(partition)),
		segment.Fsync(l.opts.fsync),
		segment.FsyncEvery(l.opts.fsyncEvery),
		segment.MaxBytes(l.opts.segmentBytes),
		segment.MaxAge(l.opts.segmentAge),
		segment.IndexInterval(l.opts.indexInterval),
		segment.Clock(l.opts.now),
	}
}

func (l *Log) openTopic(dir string) (*topic, error) {
	b, err := os.ReadFile(filepath.Join(dir, "topic.json"))
	if err != nil {
		return nil, fmt.Errorf("storage: topic %s: %w", dir, err)
	}
	var m topicMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("storage: topic %s: bad metadata: %w", dir, err)
	}
	if m.Version != 1 || m.Partitions <= 0 || m.Name != filepath.Base(dir) {
		return nil, fmt.Errorf("storage: topic %s: unsupported metadata %+v", dir, m)
	}
	t := &topic{name: m.Name, dir: dir, deleted: make(chan struct{}), cfg: storage.TopicConfig{
		Partitions: m.Partitions, RetentionMs: m.RetentionMs, RetentionBytes: m.RetentionBytes, Compact: m.Compact}}
	for i := 0; i < m.Partitions; i++ {
		p, err := segment.Open(filepath.Join(dir, strconv.Itoa(i)), l.segmentOptions(i)...)
		if err != nil {
			t.close()
			return nil, err
		}
		l.recovery = append(l.recovery, p.Recovery()...)
		t.parts = append(t.parts, p)
	}
	return t, nil
}

func (t *topic) close() error {
	var first error
	for _, p := range t.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Recovery lists the repairs made while opening; the server prints them at startup.
func (l *Log) Recovery() []segment.RecoveryEvent { return l.recovery }

func (l *Log) getTopic(name string) (*topic, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, storage.ErrClosed
	}
	t, ok := l.topics[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, name)
	}
	return t, nil
}

func (l *Log) getPartition(name string, partition int32) (*topic, *segment.Partition, error) {
	t, err := l.getTopic(name)
	if err != nil {
		return nil, nil, err
	}
	if partition < 0 || int(partition) >= len(t.parts) {
		return nil, nil, fmt.Errorf("%w: %s/%d of %d", storage.ErrBadPartition, name, partition, len(t.parts))
	}
	return t, t.parts[partition], nil
}

// CreateTopic builds the topic in the staging directory and renames it into place, so a crash
// never leaves a topic with a partial set of partitions.
func (l *Log) CreateTopic(ctx context.Context, name string, cfg storage.TopicConfig) error {
	if !topicNameRE.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("storage: invalid topic name %q", name)
	}
	if cfg.Partitions <= 0 {
		return fmt.Errorf("storage: topic %s: partitions must be positive, got %d", name, cfg.Partitions)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.ErrClosed
	}
	if _, ok := l.topics[name]; ok {
		return fmt.Errorf("%w: %s", storage.ErrTopicExists, name)
	}
	sync := l.opts.fsync != FsyncNever
	stage := filepath.Join(l.stagingDir(), fmt.Sprintf("create-%s-%d", name, time.Now().UnixNano()))
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	meta, _ := json.MarshalIndent(topicMeta{Version: 1, Name: name, Partitions: cfg.Partitions,
		RetentionMs: cfg.RetentionMs, RetentionBytes: cfg.RetentionBytes, Compact: cfg.Compact}, "", "  ")
	if err := segment.WriteFileAtomic(filepath.Join(stage, "topic.json"), meta, sync); err != nil {
		os.RemoveAll(stage)
		return err
	}
	final := filepath.Join(l.topicsDir(), name)
	if err := os.Rename(stage, final); err != nil {
		os.RemoveAll(stage)
		return err
	}
	if sync {
		if err := segment.SyncDir(l.topicsDir()); err != nil {
			return err
		}
	}
	t, err := l.openTopic(final)
	if err != nil {
		return err
	}
	l.topics[name] = t
	return nil
}

// DeleteTopic renames the topic out of topics/ first (atomic), then removes its files and its
// committed group offsets, so a topic recreated under the same name starts clean.
func (l *Log) DeleteTopic(ctx context.Context, name string) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return storage.ErrClosed
	}
	t, ok := l.topics[name]
	if !ok {
		l.mu.Unlock()
		return fmt.Errorf("%w: %s", storage.ErrUnknownTopic, name)
	}
	delete(l.topics, name)
	l.mu.Unlock()

	close(t.deleted)
	t.close()
	gone := filepath.Join(l.stagingDir(), fmt.Sprintf("delete-%s-%d", name, time.Now().UnixNano()))
	if err := os.Rename(t.dir, gone); err != nil {
		return err
	}
	if l.opts.fsync != FsyncNever {
		_ = segment.SyncDir(l.topicsDir())
	}
	if err := os.RemoveAll(gone); err != nil {
		return err
	}
	return l.forgetTopicOffsets(name)
}

func (l *Log) ListTopics(ctx context.Context) ([]storage.TopicInfo, error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, storage.ErrClosed
	}
	ts := make([]*topic, 0, len(l.topics))
	for _, t := range l.topics {
		ts = append(ts, t)
	}
	l.mu.RUnlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
	out := make([]storage.TopicInfo, len(ts))
	for i, t := range ts {
		out[i] = t.info()
	}
	return out, nil
}

func (l *Log) DescribeTopic(ctx context.Context, name string) (storage.TopicInfo, error) {
	t, err := l.getTopic(name)
	if err != nil {
		return storage.TopicInfo{}, err
	}
	return t.info(), nil
}

func (t *topic) info() storage.TopicInfo {
	info := storage.TopicInfo{Name: t.name, Config: t.cfg, Partitions: make([]storage.PartitionInfo, len(t.parts))}
	for i, p := range t.parts {
		info.Partitions[i] = storage.PartitionInfo{Partition: int32(i), StartOffset: p.StartOffset(),
			EndOffset: p.EndOffset(), SizeBytes: p.SizeBytes()}
	}
	return info
}

// Append groups recs by partition and writes one batch per partition. The common case, every
// record bound for one partition, appends the caller's slice as is; otherwise a counting sort
// builds the per-partition batches with two allocations, whatever the number of partitions.
func (l *Log) Append(ctx context.Context, topicName string, recs []storage.Record) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := l.getTopic(topicName)
	if err != nil {
		return nil, err
	}
	offsets := make([]int64, len(recs))
	if len(recs) == 0 {
		return offsets, nil
	}
	n := len(t.parts)
	parts := make([]int32, len(recs))
	nullPart := int32(-1)
	single := true
	for i := range recs {
		p := recs[i].Partition
		if p < 0 {
			if recs[i].Key == nil {
				// Sticky per call, like Kafka's producer: one batch instead of n tiny ones.
				if nullPart < 0 {
					nullPart = int32(l.nullKey.Add(1) % uint32(n))
				}
				p = nullPart
			} else {
				p = storage.PartitionFor(recs[i].Key, n)
			}
		}
		if int(p) >= n {
			return nil, fmt.Errorf("%w: %s/%d of %d", storage.ErrBadPartition, topicName, p, n)
		}
		parts[i] = p
		single = single && p == parts[0]
	}
	if single {
		base, err := t.parts[parts[0]].Append(recs)
		if err != nil {
			return nil, l.mapClosed(t, err)
		}
		for i := range offsets {
			offsets[i] = base + int64(i)
		}
		return offsets, nil
	}
	counts := make([]int, n+1)
	for _, p := range parts {
		counts[p+1]++
	}
	for i := 1; i <= n; i++ {
		counts[i] += counts[i-1]
	}
	starts := slices.Clone(counts[:n])
	grouped := make([]storage.Record, len(recs))
	slot := make([]int, len(recs)) // slot[i]: position of recs[i] within its partition's batch
	for i, p := range parts {
		grouped[counts[p]] = recs[i]
		slot[i] = counts[p] - starts[p]
		counts[p]++
	}
	bases := make([]int64, n)
	for p := 0; p < n; p++ {
		batch := grouped[starts[p]:counts[p]]
		if len(batch) == 0 {
			continue
		}
		if bases[p], err = t.parts[p].Append(batch); err != nil {
			return nil, l.mapClosed(t, err)
		}
	}
	for i, p := range parts {
		offsets[i] = bases[p] + int64(slot[i])
	}
	return offsets, nil
}

// mapClosed turns a partition's ErrClosed into ErrUnknownTopic when the topic was deleted
// underneath the call, which is what the caller can act on.
func (l *Log) mapClosed(t *topic, err error) error {
	if errors.Is(err, storage.ErrClosed) {
		select {
		case <-t.deleted:
			return fmt.Errorf("%w: %s", storage.ErrUnknownTopic, t.name)
		default:
		}
	}
	return err
}

// Read long-polls on the partition's change channel: no goroutine, timer or lock is held per
// waiting reader beyond the select itself, so thousands of idle readers cost nothing per append.
func (l *Log) Read(ctx context.Context, topicName string, partition int32, offset int64, max int, wait time.Duration) ([]storage.Record, error) {
	return l.ReadAppend(ctx, topicName, partition, offset, max, wait, nil)
}

// ReadAppend is Read appending to dst[:0] (storage.AppendReader).
func (l *Log) ReadAppend(ctx context.Context, topicName string, partition int32, offset int64, max int, wait time.Duration, dst []storage.Record) ([]storage.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, p, err := l.getPartition(topicName, partition)
	if err != nil {
		return nil, err
	}
	if max <= 0 {
		max = l.opts.readMax
	}
	var timer *time.Timer
	for {
		changed := p.Changed()
		recs, err := p.ReadAppend(offset, max, dst)
		if err != nil {
			return nil, l.mapClosed(t, err)
		}
		if len(recs) > 0 {
			return recs, nil // the partition stamps Record.Partition while decoding
		}
		if wait <= 0 {
			return nil, nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		case <-t.deleted:
			return nil, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topicName)
		case <-l.done:
			return nil, storage.ErrClosed
		}
	}
}

func (l *Log) OffsetForTime(ctx context.Context, topicName string, partition int32, ts int64) (int64, error) {
	t, p, err := l.getPartition(topicName, partition)
	if err != nil {
		return 0, err
	}
	off, err := p.OffsetForTime(ts)
	return off, l.mapClosed(t, err)
}

// DeleteBefore deletes the closed segments of one partition whose records are all below
// offset (whole segments only, as retention does): a repartition topic's reader calls it once
// it has durably consumed them. Readers of offsets below the new start get ErrOffsetOutRange.
func (l *Log) DeleteBefore(ctx context.Context, topicName string, partition int32, offset int64) error {
	t, p, err := l.getPartition(topicName, partition)
	if err != nil {
		return err
	}
	_, err = p.DeleteSegmentsBefore(offset)
	return l.mapClosed(t, err)
}

// CutsTails reports that TruncateTo works here (it does not on Kafka), for exactly-once
// schemes that cut uncommitted output.
func (l *Log) CutsTails() bool { return true }

func (l *Log) TruncateTo(ctx context.Context, topicName string, partition int32, offset int64) error {
	t, p, err := l.getPartition(topicName, partition)
	if err != nil {
		return err
	}
	return l.mapClosed(t, p.TruncateTo(offset))
}

// Close stops maintenance, wakes long-polls with ErrClosed and closes every partition (syncing
// them unless FsyncNever).
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()
	l.wg.Wait()
	return l.closeTopics()
}

func (l *Log) closeTopics() error {
	var first error
	for _, t := range l.topics {
		if err := t.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
