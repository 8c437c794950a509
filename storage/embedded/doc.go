// Package embedded is Sluice's built-in storage.Log: a directory of topics, each a fixed set of
// partitions stored by storage/segment. It owns the directory layout, topic metadata, record
// placement (storage.PartitionFor), long-polling reads, retention, compaction scheduling and
// consumer-group offsets. The bytes on disk, recovery and fsync belong to storage/segment.
//
// # Layout
//
//	<dir>/topics/<topic>/topic.json        topic config, version 1, written atomically
//	<dir>/topics/<topic>/<partition>/...   one storage/segment partition directory
//	<dir>/groups/<hex(group)>.json         committed offsets of one consumer group
//	<dir>/staging/                         topics being created or deleted; emptied at Open
//
// # Lifecycle
//
// Open recovers every partition (torn tails are cut and reported through WithLogger and
// Recovery) and starts one maintenance goroutine that applies retention and compaction every
// WithMaintenanceInterval. Close stops it, wakes long-polling readers with storage.ErrClosed and
// syncs every partition.
package embedded
