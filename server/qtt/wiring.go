package qtt

import (
	"net/http"

	"github.com/sluicedb/sluice/server/rest"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// NewRunner returns a runner with Sluice's production wiring: the embedded log (one directory
// per case) and server/rest's handler for RQTT cases.
func NewRunner() *Runner {
	return &Runner{OpenLog: OpenEmbeddedLog, RESTHandler: RESTHandler}
}

// OpenEmbeddedLog opens the built-in log in dir, tuned for throw-away test data: no fsync and
// no background retention or compaction.
func OpenEmbeddedLog(dir string) (storage.Log, error) {
	return embedded.Open(dir, embedded.WithFsync(embedded.FsyncNever), embedded.WithMaintenanceInterval(0))
}

// RESTHandler is the production HTTP API over eng, as RQTT cases exercise it.
func RESTHandler(eng Engine) http.Handler {
	return rest.New(eng, rest.Config{})
}

var _ rest.Backend = Engine(nil)
