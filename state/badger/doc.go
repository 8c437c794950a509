// Package badger implements state.Manager on one Badger v4 database shared by every query of a
// server. It owns the on-disk key layout (layout.go), the per-store write-back buffer and read
// cache, and atomic commits of state with offsets. It does not know what the bytes mean: exec
// encodes keys (with state/keys) and values, and exec/runtime decides when to Commit.
//
// # Layers
//
// A Store keeps a writeBack: one map from key to an entry holding the key's buffered
// (uncommitted) write, its cached committed value, or both. Get and Put are one map lookup
// each, so the hot path of an aggregation (Get, then Put, of the same keys over and over)
// touches Badger only on a cache miss and at Commit, never once per record. Scan needs the
// buffered writes in key order to merge them with Badger's: a skiplist is threaded through the
// dirty entries lazily, on the first Scan after they were written, so unscanned tables never
// pay for it. Commit writes the dirty entries and the offsets in one Badger transaction, then
// turns each buffered write into the entry's cached value in place.
//
// # Atomicity
//
// A Badger transaction is atomic across process crashes: its entries reach the write-ahead log
// with a commit marker, and replay drops a transaction whose marker is missing. Transactions
// are limited in size (15% of the memtable; with the 16 MiB default about 2.4 MB or 26,000
// entries), and WriteBatch would silently split a larger commit into several transactions. So
// Commit tries one transaction first, and when Badger answers ErrTxnTooBig it falls back to a
// redo log: the buffered writes are written as chunks under the store's reserved redo keys
// (not visible to Get or Scan), then one small transaction writes the commit marker and the
// offsets (the commit point), then the writes are applied in as many transactions as needed,
// and the marker and chunks are deleted. Opening a store replays a marker left by a crash and
// discards chunks without a marker. Concurrent readers are held off from the commit point to
// the end of the apply, so they never see half of a large commit either. Large commits cost
// two to three times the writes (chunks, apply, cleanup); exec/runtime keeps commits small by
// committing every few thousand records.
//
// # Durability
//
// Commit returns after Badger has written the transaction to its write-ahead log, which is a
// memory-mapped file: the bytes are in the kernel's page cache, so a killed process (kill -9,
// panic, OOM kill) loses nothing that Commit acknowledged. A power loss or kernel crash can
// lose the last commits that the kernel had not yet written back (Badger never writes a torn
// transaction, so state and offsets still match each other: the query re-processes from older
// offsets). WithSyncWrites(true) msyncs the log before Commit returns, for power-loss
// durability at the price of a disk flush per commit.
//
// # Lifecycle
//
// Open removes empty memtable files a crash can leave (dgraph-io/badger#2207), opens the
// database, finishes any Drop interrupted by a crash, and returns a Manager.
// Manager.Open(id) opens the store of one query (once at a time), replaying its redo log if
// needed. Store.Close discards uncommitted writes; Manager.Close closes every store and waits
// for in-flight reads before closing Badger.
//
// # Concurrency
//
// A Store belongs to one task goroutine; its buffer and cache have no locks. Readers from
// ReadCommitted run on other goroutines and read Badger directly through their own read
// transactions (snapshots). Drop uses Badger's DropPrefix, which blocks every write to the
// database while it runs, so the Manager's dropMu keeps all commits out during a Drop.
// Lock order: Manager.mu, then dropMu, then Store.applyMu.
package badger
