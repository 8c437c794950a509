// Package state defines the stores that persistent queries keep their state in: keyed
// aggregates, windows, sessions, join buffers, materialized tables for pull queries, and the
// input offsets committed with them. Implementations live in state/badger. Stores deal in bytes:
// exec encodes keys (with state/keys for ordered encodings) and values.
package state

import "errors"

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("state store closed")

// Store is one query's state: a set of named tables (namespaces) of ordered byte keys, plus the
// offsets committed with them.
//
// Operations: Get and Scan read committed data merged with the uncommitted writes of the current
// Batch (read-your-writes); Put and Delete buffer writes in memory; Commit makes every buffered
// write and the given offsets durable in one atomic Badger write batch.
//
// Guarantees: after a crash, state and offsets are exactly as of the last successful Commit;
// never a mix. Scan returns keys in byte order within a table.
//
// Non-guarantees: buffered writes are lost on crash (by design: the query re-processes from the
// committed offsets). Concurrent writers on one Store are not supported: a Store belongs to one
// task; concurrent readers (pull queries) see committed data only.
//
// Failure: Commit errors leave the buffer intact so the caller may retry or abort.
type Store interface {
	Get(table string, key []byte) ([]byte, bool, error)
	// Put buffers value under key; it copies both, so the caller may reuse them.
	Put(table string, key, value []byte)
	Delete(table string, key []byte)
	// Scan calls fn for each key in [from, to) (to nil = to the end of the table) in order
	// until fn returns false.
	Scan(table string, from, to []byte, fn func(key, value []byte) bool) error
	// Commit atomically persists buffered writes with offsets (opaque source position id ->
	// next offset to read).
	Commit(offsets map[string]int64) error
	// Offsets returns the committed offsets.
	Offsets() (map[string]int64, error)
	// ReadCommitted returns a reader over committed data, safe to use from other goroutines
	// (pull queries).
	ReadCommitted() Reader
	// Drop deletes all of this store's data (DROP / TERMINATE).
	Drop() error
	Close() error
}

// Reader reads committed state concurrently with the owning task.
type Reader interface {
	Get(table string, key []byte) ([]byte, bool, error)
	Scan(table string, from, to []byte, fn func(key, value []byte) bool) error
}

// CommitCounter is a Reader that counts the commits it can see, so that a caller that derives
// something from committed state can tell that nothing changed since it last looked.
type CommitCounter interface {
	Commits() uint64
}

// KeyScanner is a Reader that can list keys in [from, to) without reading their values, for
// callers that need only the keys of large values.
type KeyScanner interface {
	ScanKeys(table string, from, to []byte, fn func(key []byte) bool) error
}

// Manager opens per-query stores that share one database.
type Manager interface {
	Open(storeID string) (Store, error)
	Close() error
}
