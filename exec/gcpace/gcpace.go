// Package gcpace sets how hard the Go garbage collector works in a process that runs the
// engine: its target percentage (GOGC) and a soft memory limit (debug.SetMemoryLimit) that
// keeps the total bounded, making the collector work harder only as the heap nears it.
//
// The server ran at GOGC=200 while the engine allocated about 1.9 objects per aggregated
// record: marking then took a fifth of a windowed aggregation's CPU at Go's default pace
// (BenchmarkWindowedAggregate: 5,950 CPU ns per record at GOGC=100, 4,970 at 200). Since the
// hot paths stopped allocating per record, the default pace costs no more CPU (3,250 against
// 3,369 ns, medians of 3) and is as fast or faster end to end, with a quarter to two fifths
// less memory (enginebench window, one partition: 368,271-396,964 against 355,063-368,895
// records/s in alternating pairs, peak RSS 330-340 MB against 410-470 MB; csas 2.05-2.18
// million against 1.87-1.91 million records/s; join and join-agg within the noise), so
// DefaultPercent is Go's own 100 again. The price is in the scenarios that still allocate per
// record: join-repart and join-staged run 8-10% slower at 100 than at 200 (225,392 against
// 246,162 and 64,052 against 71,403 records/s, medians of 3), with a third less memory
// (287 against 447 MB, 873 against 1,175 MB); --gc-percent 200 buys that back.
//
// Go's own GOGC and GOMEMLIMIT environment variables win over both settings.
package gcpace

import (
	"os"
	"runtime/debug"
)

// DefaultPercent is the GOGC the server runs with unless told otherwise.
const DefaultPercent = 100

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
