package badger

import (
	"log"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Option configures Open.
type Option func(*config)

type config struct {
	syncWrites   bool
	memTableSize int64
	cacheBytes   int
	compression  bool
	logger       bdg.Logger
	tune         []func(*bdg.Options)
}

// Defaults sized for a small machine (2 cores, a few GB of RAM shared with the log and the
// server): Badger's own defaults assume a dedicated large server (64 MiB memtables x5, 256 MiB
// block cache, 4 compactors).
const (
	defaultMemTableSize = 16 << 20
	defaultCacheBytes   = 16 << 20
)

func defaultConfig() config {
	return config{
		memTableSize: defaultMemTableSize,
		cacheBytes:   defaultCacheBytes,
		logger:       warnLogger{},
	}
}

// WithSyncWrites makes every Commit msync Badger's write-ahead log before returning, so that
// commits survive power loss and kernel crashes, not only process crashes. Off by default.
func WithSyncWrites(on bool) Option { return func(c *config) { c.syncWrites = on } }

// WithMemTableSize sets Badger's memtable size (default 16 MiB). It also bounds a single
// transaction to 15% of it; commits above that take the slower redo-log path.
func WithMemTableSize(bytes int64) Option { return func(c *config) { c.memTableSize = bytes } }

// WithCacheSize sets the read cache budget of each store in bytes (default 16 MiB); 0 disables
// the cache.
func WithCacheSize(bytes int) Option { return func(c *config) { c.cacheBytes = bytes } }

// WithCompression turns on Snappy block compression (off by default: state values are small
// and mostly numeric, and without compression Badger reads blocks straight from its mmaped
// tables and needs no block cache).
func WithCompression(on bool) Option { return func(c *config) { c.compression = on } }

// WithLogger replaces the default logger (warnings and errors to the standard log package).
// nil silences Badger.
func WithLogger(l bdg.Logger) Option { return func(c *config) { c.logger = l } }

// WithBadgerOptions applies fn to the Badger options after every other option, as an escape
// hatch for tuning not covered here.
func WithBadgerOptions(fn func(*bdg.Options)) Option {
	return func(c *config) { c.tune = append(c.tune, fn) }
}

func (c config) badgerOptions(dir string) bdg.Options {
	o := bdg.DefaultOptions(dir).
		WithMemTableSize(c.memTableSize).
		WithNumMemtables(3).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithNumCompactors(2). // Badger's minimum when compacting at all
		WithValueLogFileSize(64 << 20).
		WithSyncWrites(c.syncWrites).
		WithMetricsEnabled(false).
		// One writer per key prefix (the owning task), so Badger's conflict detection is
		// pure overhead.
		WithDetectConflicts(false).
		WithLogger(c.logger).
		WithCompression(options.None).
		WithBlockCacheSize(0)
	if c.compression {
		o = o.WithCompression(options.Snappy).WithBlockCacheSize(16 << 20)
	}
	// Badger requires ValueThreshold <= max batch size (15% of the memtable); keep values
	// inline in the LSM tree up to 1 MiB, so that no value log GC is needed for state.
	o = o.WithValueThreshold(min(1<<20, c.memTableSize*15/100/2))
	for _, fn := range c.tune {
		fn(&o)
	}
	return o
}

// warnLogger passes Badger's warnings and errors to the standard logger and drops the chatty
// info and debug lines it prints on every open and compaction.
type warnLogger struct{}

func (warnLogger) Errorf(f string, a ...any)   { log.Printf("badger: ERROR: "+f, a...) }
func (warnLogger) Warningf(f string, a ...any) { log.Printf("badger: WARNING: "+f, a...) }
func (warnLogger) Infof(string, ...any)        {}
func (warnLogger) Debugf(string, ...any)       {}
