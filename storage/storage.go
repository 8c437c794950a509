// Package storage defines the partitioned log that is the source of truth for every stream,
// table, changelog and the catalog's command log. It owns the record model (Kafka's: key, value,
// timestamp, headers, partition, offset) and the Log contract; the built-in implementation lives
// in storage/embedded and the Kafka one in storage/kafka. It knows nothing about SQL, formats or
// state: values are bytes.
package storage

import (
	"context"
	"errors"
	"time"
)

// Header is one Kafka record header. Value nil means a null header value.
type Header struct {
	Key   string
	Value []byte
}

// Record is one log record. On Append, Partition < 0 asks the log to choose the partition with
// the Kafka default partitioner (murmur2 of the key; null keys spread); Offset is ignored.
// On Read, Partition and Offset say where the record lives.
type Record struct {
	Key       []byte
	Value     []byte // nil is a tombstone for tables and changelogs
	Timestamp int64  // epoch milliseconds
	Headers   []Header
	Partition int32
	Offset    int64
}

// TopicConfig is what a topic is created with. Zero retention values mean "keep forever".
type TopicConfig struct {
	Partitions     int
	RetentionMs    int64
	RetentionBytes int64 // per partition
	Compact        bool  // keep the latest value per key; tombstones removed after a delay
}

// PartitionInfo describes one partition's live range.
type PartitionInfo struct {
	Partition   int32
	StartOffset int64 // first readable offset
	EndOffset   int64 // next offset to be written (high-water mark)
	SizeBytes   int64
}

// TopicInfo describes a topic.
type TopicInfo struct {
	Name       string
	Config     TopicConfig
	Partitions []PartitionInfo
}

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Sentinel errors every Log implementation returns (wrapped is fine; test with errors.Is).
var (
	ErrTopicExists    = errors.New("topic already exists")
	ErrUnknownTopic   = errors.New("unknown topic")
	ErrBadPartition   = errors.New("partition out of range")
	ErrOffsetOutRange = errors.New("offset out of range")
	ErrClosed         = errors.New("log closed")
)

// Log is a set of topics, each an ordered set of partitions of records with dense offsets.
//
// Operations: topic admin, Append, Read (long-polling), OffsetForTime, consumer-group offsets,
// TruncateTo (used by exactly-once recovery to remove output written after the last commit).
//
// Guarantees: offsets within a partition are dense and increasing; records appended in one
// Append call to one partition are contiguous and become visible together; an Append that
// returned nil survives a process crash (power loss: per the implementation's fsync policy).
// Read never returns a partially written batch.
//
// Non-guarantees: Append is not idempotent: a retried Append after an error may duplicate.
// Ordering across partitions is not defined. Retention and compaction may remove records a slow
// reader has not yet read; Read then returns ErrOffsetOutRange.
//
// Failure: after Close every call returns ErrClosed. Implementations are safe for concurrent use.
type Log interface {
	CreateTopic(ctx context.Context, name string, cfg TopicConfig) error
	DeleteTopic(ctx context.Context, name string) error
	ListTopics(ctx context.Context) ([]TopicInfo, error)
	DescribeTopic(ctx context.Context, name string) (TopicInfo, error)

	// Append writes records to topic. Each record goes to rec.Partition, or to the default
	// partitioner's choice when rec.Partition < 0. It returns the offset given to each record,
	// in input order. Append does not keep recs or the slices they hold once it returns, so
	// callers may reuse their buffers.
	Append(ctx context.Context, topic string, recs []Record) ([]int64, error)

	// Read returns up to max records of one partition starting at offset. If none are
	// available it waits until some are, wait elapses, or ctx is done, and then returns what it
	// has (possibly none, with a nil error). offset == EndOffset is valid (nothing yet).
	//
	// Aliasing: the returned slice and the records in it belong to the caller, who may keep
	// them for as long as it likes. Their Key, Value and header Value byte slices may be
	// sub-slices of a buffer shared with other records of the same call (the embedded log
	// reads each call's bytes into buffers allocated for that call alone, usually one, and
	// never reuses or writes them afterwards), so a later Read never changes them. Callers must
	// treat them as read-only: write into a copy, never in place, and do not append to them
	// (the embedded log caps each slice's capacity at its length so an append reallocates, but
	// other implementations need not). Keeping any one record keeps the whole buffer it was
	// read into reachable: copy what must outlive a large read.
	Read(ctx context.Context, topic string, partition int32, offset int64, max int, wait time.Duration) ([]Record, error)

	// OffsetForTime returns the first offset whose timestamp is >= ts, or EndOffset if none.
	OffsetForTime(ctx context.Context, topic string, partition int32, ts int64) (int64, error)

	// TruncateTo removes every record at or after offset in one partition. Used only by
	// exactly-once recovery; implementations that cannot truncate return an error.
	TruncateTo(ctx context.Context, topic string, partition int32, offset int64) error

	// CommitOffsets stores consumer-group positions (the next offset to read).
	CommitOffsets(ctx context.Context, group string, offsets map[TopicPartition]int64) error
	// FetchOffsets returns a group's committed positions; missing partitions are absent.
	FetchOffsets(ctx context.Context, group string) (map[TopicPartition]int64, error)

	Close() error
}

// AppendReader is a Log that can read into a slice the caller passes back: ReadAppend is
// Read with the records appended to dst[:0]. The caller must be done with the records it
// got in dst before (their Key and Value bytes stay valid: only the slice is reused).
type AppendReader interface {
	ReadAppend(ctx context.Context, topic string, partition int32, offset int64, max int, wait time.Duration, dst []Record) ([]Record, error)
}
