// Package gcpace sets how hard the Go garbage collector works in a process that runs the
// engine. The engine keeps a large heap that lives long (aggregate caches, join state, read
// buffers) and allocates fast; at Go's default pace (GOGC=100) marking that heap took about a
// fifth of the CPU of a windowed aggregation (BenchmarkWindowedAggregate: 5,950 CPU ns per
// record at GOGC=100, 4,970 at 200, 4,500 at 400). A higher GOGC lets the heap grow further
// between collections; a soft memory limit (debug.SetMemoryLimit) then keeps the total
// bounded, making the collector work harder only as the heap nears it.
//
// Go's own GOGC and GOMEMLIMIT environment variables win over both settings.
package gcpace

import (
	"os"
	"runtime/debug"
)

// DefaultPercent is the GOGC the server runs with unless told otherwise.
const DefaultPercent = 200

// Apply sets the collector's target percentage (GOGC) to percent and the soft memory limit
// to limit bytes (0: half of the machine's memory, when it can be read), each unless the
// corresponding environment variable is set. It returns the percentage and limit in force
// afterwards (limit -1: none), for the log.
func Apply(percent int, limit int64) (int, int64) {
	if _, set := os.LookupEnv("GOGC"); !set && percent > 0 {
		debug.SetGCPercent(percent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		if limit <= 0 {
			limit = physicalMemory() / 2
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
	gcPercent := debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	memLimit := debug.SetMemoryLimit(-1)
	if memLimit == 1<<63-1 {
		memLimit = -1
	}
	return gcPercent, memLimit
}
