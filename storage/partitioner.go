package storage

import "sync/atomic"

// nullKeyCounter spreads records with a null key. A process-wide counter is enough: Kafka only
// promises that null keys are spread, not where any one record lands.
var nullKeyCounter atomic.Uint32

// PartitionFor returns the partition Kafka's Java default partitioner picks for key among
// numPartitions: murmur2 (Kafka's variant, seed 0x9747b28c), sign bit cleared, modulo n. Both
// the embedded and the Kafka log place keyed records with it, so a table's key lands on the same
// partition whichever backend (or external Java producer) wrote it; co-partitioned joins rely on
// that.
//
// A nil key has no hash; it gets the next partition of a process-wide round robin. An empty,
// non-nil key is hashed like any other key. numPartitions <= 0 returns 0.
func PartitionFor(key []byte, numPartitions int) int32 {
	if numPartitions <= 0 {
		return 0
	}
	if key == nil {
		return int32(nullKeyCounter.Add(1) % uint32(numPartitions))
	}
	return int32((Murmur2(key) & 0x7fffffff) % uint32(numPartitions))
}

// Murmur2 is the 32-bit hash Kafka's clients use for key placement
// (org.apache.kafka.common.utils.Utils.murmur2). It reads 4-byte little-endian words and treats
// tail bytes as unsigned, exactly as the Java code does after its `& 0xff` masks; a signed tail
// would silently place about half of all keys on a different partition than Java clients do.
func Murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		b = b[4:]
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
