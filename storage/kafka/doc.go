// Package kafka is the storage.Log backed by an Apache Kafka cluster through franz-go. It owns
// the mapping of the Log contract onto Kafka: kadm for topic admin, offsets-for-time and group
// offsets, a synchronous producer with manual partitioning (placement is storage.PartitionFor,
// identical to the embedded log's), and a pool of single-partition consumers for Read. It does
// not run Kafka: tests use franz-go's in-process kfake cluster.
//
// Kafka cannot truncate a partition's tail, so TruncateTo returns an error wrapping
// errors.ErrUnsupported; exec's recovery then reads the tail back and skips replayed results
// equal to it.
package kafka
