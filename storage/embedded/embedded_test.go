package embedded_test

import (
	"testing"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
	"github.com/sluicedb/sluice/storage/logtest"
)

// Small segments make retention and compaction, which work on closed segments, observable with a
// few kilobytes of data, and put segment boundaries inside every other test as well.
func TestConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) storage.Log {
		l, err := embedded.Open(t.TempDir(), embedded.WithSegmentBytes(1024), embedded.WithIndexInterval(256),
			embedded.WithLogger(t.Logf), embedded.WithMaintenanceInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}
