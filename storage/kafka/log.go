package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedb/sluice/storage"
)

type options struct {
	clientOpts  []kgo.Opt
	replication int16
	logf        func(format string, args ...any)
	idleReaders int
	fetchWait   time.Duration
}

// Option configures Open.
type Option func(*options)

// WithClientOpts adds franz-go options (TLS, SASL, timeouts, ...) to every client the log
// creates. Options that conflict with the log's own (partitioner, consumed partitions) lose.
func WithClientOpts(opts ...kgo.Opt) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// WithReplicationFactor sets the replication factor of created topics (default -1: the broker's
// default.replication.factor).
func WithReplicationFactor(rf int16) Option { return func(o *options) { o.replication = rf } }

// WithLogger receives warnings the log cannot return, e.g. a reader client that failed to close.
func WithLogger(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithIdleReaders sets how many idle partition readers are kept per partition (default 2).
func WithIdleReaders(n int) Option { return func(o *options) { o.idleReaders = n } }

var _ storage.Log = (*Log)(nil)

// Log is a storage.Log backed by a Kafka cluster through franz-go: one producing client for
// appends and admin, and a pool of single-partition consuming clients for reads.
//
// Operations: those of storage.Log. Topic admin goes through kadm; Append is a synchronous
// produce to explicit partitions; Read fetches one partition from an exact offset; group offsets
// use Kafka's offset commit API with no group membership (as an admin tool would).
//
// Guarantees: records are placed with storage.PartitionFor, so keys land where the embedded log
// and Java producers put them. Append returns only after the broker acknowledged every record
// (acks=all, idempotent producer). A reader client is private to one Read at a time, so a
// long-poll on one partition never delays reads of another (Kafka serves requests on a
// connection in order; shared connections would make one idle partition stall the rest).
//
// Non-guarantees: TruncateTo is not supported (Kafka can only delete a prefix). DescribeTopic's
// SizeBytes is 0 when the cluster does not answer DescribeLogDirs. Topics created or deleted by
// other clients are seen on the next metadata refresh, not instantly.
//
// Failure: broker errors are mapped to the storage sentinels where one fits
// (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_ALREADY_EXISTS, OFFSET_OUT_OF_RANGE) and returned wrapped
// otherwise. After Close every call returns storage.ErrClosed.
type Log struct {
	brokers []string
	opts    options
	cl      *kgo.Client
	adm     *kadm.Client

	mu      sync.Mutex // guards closed, parts, readers
	closed  bool
	parts   map[string]int // partition counts of known topics
	readers map[storage.TopicPartition][]*reader
	done    chan struct{}
}

// Open connects to the cluster at brokers and checks that it answers.
func Open(ctx context.Context, brokers []string, opts ...Option) (*Log, error) {
	o := options{replication: -1, logf: func(string, ...any) {}, idleReaders: 2, fetchWait: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	copts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.UnknownTopicRetries(2),
	}, o.clientOpts...)
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return nil, err
	}
	l := &Log{brokers: brokers, opts: o, cl: cl, adm: kadm.NewClient(cl), parts: map[string]int{},
		readers: map[storage.TopicPartition][]*reader{}, done: make(chan struct{})}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka: cannot reach %v: %w", brokers, err)
	}
	return l, nil
}

func (l *Log) checkOpen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return storage.ErrClosed
	}
	return nil
}

// partitions returns a topic's partition count, asking the cluster on a cache miss.
func (l *Log) partitions(ctx context.Context, topic string) (int, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, storage.ErrClosed
	}
	n, ok := l.parts[topic]
	l.mu.Unlock()
	if ok {
		return n, nil
	}
	md, err := l.metadata(ctx, topic)
	if err != nil {
		return 0, err
	}
	n, ok = md[topic]
	if !ok {
		return 0, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, topic)
	}
	l.mu.Lock()
	l.parts[topic] = n
	l.mu.Unlock()
	return n, nil
}

func (l *Log) checkPartition(ctx context.Context, topic string, p int32) error {
	n, err := l.partitions(ctx, topic)
	if err != nil {
		return err
	}
	if p < 0 || int(p) >= n {
		return fmt.Errorf("%w: %s/%d of %d", storage.ErrBadPartition, topic, p, n)
	}
	return nil
}

// metadata asks the cluster for the partition counts of topics (all topics when none are
// named), bypassing franz-go's metadata cache: kadm answers from a cache up to 5s old, which
// would show a topic this log just deleted, or hide one it just created.
func (l *Log) metadata(ctx context.Context, topics ...string) (map[string]int, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	if len(topics) == 0 {
		req.Topics = nil // all topics
	}
	resp, err := req.RequestWith(ctx, l.cl)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[string]int, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				continue
			}
			return nil, mapErr(err)
		}
		out[*t.Topic] = len(t.Partitions)
	}
	return out, nil
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("%w: %v", storage.ErrUnknownTopic, err)
	case errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("%w: %v", storage.ErrTopicExists, err)
	case errors.Is(err, kerr.OffsetOutOfRange):
		return fmt.Errorf("%w: %v", storage.ErrOffsetOutRange, err)
	case errors.Is(err, kgo.ErrClientClosed):
		return storage.ErrClosed
	}
	return err
}

func (l *Log) CreateTopic(ctx context.Context, name string, cfg storage.TopicConfig) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	if cfg.Partitions <= 0 {
		return fmt.Errorf("kafka: topic %s: partitions must be positive, got %d", name, cfg.Partitions)
	}
	// Zero means "keep forever" in storage.TopicConfig but "broker default" (7 days) in Kafka,
	// so the unlimited values are spelled out.
	retMs, retBytes := int64(-1), int64(-1)
	if cfg.RetentionMs > 0 {
		retMs = cfg.RetentionMs
	}
	if cfg.RetentionBytes > 0 {
		retBytes = cfg.RetentionBytes
	}
	policy := "delete"
	if cfg.Compact {
		policy = "compact"
	}
	configs := map[string]*string{
		"retention.ms":    kadm.StringPtr(strconv.FormatInt(retMs, 10)),
		"retention.bytes": kadm.StringPtr(strconv.FormatInt(retBytes, 10)),
		"cleanup.policy":  kadm.StringPtr(policy),
	}
	resp, err := l.adm.CreateTopic(ctx, int32(cfg.Partitions), l.opts.replication, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return mapErr(err)
	}
	l.mu.Lock()
	l.parts[name] = cfg.Partitions
	l.mu.Unlock()
	return nil
}

func (l *Log) DeleteTopic(ctx context.Context, name string) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	resp, err := l.adm.DeleteTopic(ctx, name)
	if err == nil {
		err = resp.Err
	}
	l.mu.Lock()
	delete(l.parts, name)
	var stale []*reader
	for tp, rs := range l.readers {
		if tp.Topic == name {
			stale = append(stale, rs...)
			delete(l.readers, tp)
		}
	}
	l.mu.Unlock()
	for _, r := range stale {
		r.cl.Close()
	}
	l.cl.PurgeTopicsFromClient(name)
	return mapErr(err)
}

func (l *Log) ListTopics(ctx context.Context) ([]storage.TopicInfo, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	md, err := l.metadata(ctx)
	if err != nil {
		return nil, err
	}
	return l.describe(ctx, md)
}

func (l *Log) DescribeTopic(ctx context.Context, name string) (storage.TopicInfo, error) {
	if err := l.checkOpen(); err != nil {
		return storage.TopicInfo{}, err
	}
	md, err := l.metadata(ctx, name)
	if err != nil {
		return storage.TopicInfo{}, err
	}
	if _, ok := md[name]; !ok {
		return storage.TopicInfo{}, fmt.Errorf("%w: %s", storage.ErrUnknownTopic, name)
	}
	infos, err := l.describe(ctx, md)
	if err != nil {
		return storage.TopicInfo{}, err
	}
	return infos[0], nil
}

// describe fills in offsets, configs and sizes for the listed topics with one request of each
// kind, not one per topic.
func (l *Log) describe(ctx context.Context, md map[string]int) ([]storage.TopicInfo, error) {
	names := make([]string, 0, len(md))
	for name := range md {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]storage.TopicInfo, 0, len(names))
	if len(names) == 0 {
		return out, nil
	}
	starts, err := l.adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, mapErr(err)
	}
	ends, err := l.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, mapErr(err)
	}
	configs, err := l.adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, mapErr(err)
	}
	sizes := map[storage.TopicPartition]int64{}
	if dirs, err := l.adm.DescribeAllLogDirs(ctx, nil); err == nil {
		dirs.Each(func(d kadm.DescribedLogDir) {
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
				sizes[storage.TopicPartition{Topic: p.Topic, Partition: p.Partition}] += p.Size
			})
		})
	}
	for _, name := range names {
		info := storage.TopicInfo{Name: name, Config: storage.TopicConfig{Partitions: md[name]}}
		if rc, err := configs.On(name, nil); err == nil {
			for _, c := range rc.Configs {
				v := c.MaybeValue()
				switch c.Key {
				case "retention.ms":
					if n, _ := strconv.ParseInt(v, 10, 64); n > 0 {
						info.Config.RetentionMs = n
					}
				case "retention.bytes":
					if n, _ := strconv.ParseInt(v, 10, 64); n > 0 {
						info.Config.RetentionBytes = n
					}
				case "cleanup.policy":
					info.Config.Compact = v == "compact" || v == "compact,delete" || v == "delete,compact"
				}
			}
		}
		for p := int32(0); p < int32(md[name]); p++ {
			pi := storage.PartitionInfo{Partition: p,
				SizeBytes: sizes[storage.TopicPartition{Topic: name, Partition: p}]}
			if o, ok := starts.Lookup(name, p); ok && o.Err == nil {
				pi.StartOffset = o.Offset
			}
			if o, ok := ends.Lookup(name, p); ok && o.Err == nil {
				pi.EndOffset = o.Offset
			}
			info.Partitions = append(info.Partitions, pi)
		}
		out = append(out, info)
	}
	return out, nil
}

// Append produces recs synchronously. Partitions are computed here, not by franz-go, so that
// placement is storage.PartitionFor's; null keys of one call share one partition, as they do in
// the embedded log.
func (l *Log) Append(ctx context.Context, topic string, recs []storage.Record) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, err := l.partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	krs := make([]*kgo.Record, len(recs))
	backing := make([]kgo.Record, len(recs))
	nullPart := int32(-1)
	for i := range recs {
		r := &recs[i]
		p := r.Partition
		if p < 0 {
			if r.Key == nil {
				if nullPart < 0 {
					nullPart = storage.PartitionFor(nil, n)
				}
				p = nullPart
			} else {
				p = storage.PartitionFor(r.Key, n)
			}
		}
		if int(p) >= n {
			return nil, fmt.Errorf("%w: %s/%d of %d", storage.ErrBadPartition, topic, p, n)
		}
		kr := &backing[i]
		kr.Topic, kr.Partition, kr.Key, kr.Value = topic, p, r.Key, r.Value
		kr.Timestamp = time.UnixMilli(r.Timestamp)
		if len(r.Headers) > 0 {
			kr.Headers = make([]kgo.RecordHeader, len(r.Headers))
			for j, h := range r.Headers {
				kr.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
		krs[i] = kr
	}
	// Results come back in completion order, not input order; franz-go writes each record's
	// offset into the record itself, so read them from there.
	if err := l.cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return nil, mapErr(err)
	}
	offsets := make([]int64, len(recs))
	for i := range backing {
		offsets[i] = backing[i].Offset
	}
	return offsets, nil
}

func (l *Log) OffsetForTime(ctx context.Context, topic string, partition int32, ts int64) (int64, error) {
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return 0, err
	}
	lo, err := l.adm.ListOffsetsAfterMilli(ctx, ts, topic)
	if err != nil {
		return 0, mapErr(err)
	}
	o, ok := lo.Lookup(topic, partition)
	if !ok {
		return 0, fmt.Errorf("%w: %s/%d", storage.ErrBadPartition, topic, partition)
	}
	if o.Err != nil {
		return 0, mapErr(o.Err)
	}
	if o.Offset >= 0 {
		return o.Offset, nil
	}
	// Kafka answers -1 when no record is that new; the contract asks for the end offset.
	ends, err := l.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, mapErr(err)
	}
	e, _ := ends.Lookup(topic, partition)
	return e.Offset, mapErr(e.Err)
}

// DeleteBefore deletes the records of one partition below offset (Kafka's DeleteRecords):
// exec deletes the repartition records its readers have consumed and committed.
func (l *Log) DeleteBefore(ctx context.Context, topic string, partition int32, offset int64) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	os := make(kadm.Offsets)
	os.AddOffset(topic, partition, offset, -1)
	resp, err := l.adm.DeleteRecords(ctx, os)
	if err != nil {
		return mapErr(err)
	}
	r, ok := resp.Lookup(topic, partition)
	if !ok {
		return fmt.Errorf("kafka: no DeleteRecords answer for %s/%d", topic, partition)
	}
	return mapErr(r.Err)
}

// TruncateTo always fails: Kafka's DeleteRecords removes a prefix of a partition, never a
// suffix. exec's recovery reads the uncommitted tail back instead and skips the replayed
// results equal to it.
func (l *Log) TruncateTo(ctx context.Context, topic string, partition int32, offset int64) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	return fmt.Errorf("kafka: cannot truncate %s/%d to %d: %w (DeleteRecords only deletes a prefix)",
		topic, partition, offset, errors.ErrUnsupported)
}

func (l *Log) CommitOffsets(ctx context.Context, group string, offsets map[storage.TopicPartition]int64) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	if len(offsets) == 0 {
		return nil
	}
	os := make(kadm.Offsets)
	for tp, o := range offsets {
		os.AddOffset(tp.Topic, tp.Partition, o, -1)
	}
	resp, err := l.adm.CommitOffsets(ctx, group, os)
	if err != nil {
		return mapErr(err)
	}
	return mapErr(resp.Error())
}

func (l *Log) FetchOffsets(ctx context.Context, group string) (map[storage.TopicPartition]int64, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	resp, err := l.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return map[storage.TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if err := resp.Error(); err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, mapErr(err)
	}
	out := map[storage.TopicPartition]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			out[storage.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.At
		}
	})
	return out, nil
}

// Close closes every client. Long-polling reads end with storage.ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	var all []*reader
	for _, rs := range l.readers {
		all = append(all, rs...)
	}
	l.readers = nil
	l.mu.Unlock()
	for _, r := range all {
		r.cl.Close()
	}
	l.cl.Close()
	return nil
}
