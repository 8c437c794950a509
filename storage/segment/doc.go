// Package segment stores one partition as a sequence of segment files: append-only, CRC-framed,
// versioned batches with a sparse offset index and a time index per file. It owns the on-disk
// format (see format.go for the format and its migration guide), durability (the fsync policy),
// crash recovery (cutting a torn tail back to the last whole batch), truncation, and the
// mechanics of deleting and compacting whole segments.
//
// It does not know about topics, partition counts, retention policies or consumer groups;
// storage/embedded decides when to roll, delete and compact, and calls in here to do it.
//
// # Files
//
// A partition directory holds, per segment, <base>.log and, once the segment is closed,
// <base>.index and <base>.timeindex. The base offset in the name is zero-padded to 20 digits so
// that lexical order is offset order. Index files are caches: they are rebuilt from the log file
// whenever they are missing, stale or damaged.
//
// # Concurrency
//
// One writer at a time (Append, TruncateTo) and any number of readers. Readers never take the
// writer's lock: they read below a published size with positional reads, holding a reference
// count on the segment so that retention or compaction can unlink the file underneath them.
// Long-polling readers wait on Changed, a channel closed at every append.
//
// # Reads
//
// Read (read.go) reads whole frames with one pread per window into a freshly allocated buffer,
// verifies each frame's CRC32C, and decodes records whose keys and values are sub-slices of
// that buffer: no per-record copy or allocation, and no buffer is ever written after its pread,
// so the records are the caller's to keep (the aliasing rule on storage.Log.Read). A read that
// stops inside a window (its limit reached) leaves the window with the segment for the next
// read, which usually resumes inside the same frame; readers share such windows read-only.
package segment
