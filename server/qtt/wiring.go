package qtt

import (
	"context"
	"net/http"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/server/rest"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// NewRunner returns a runner with Sluice's production wiring: the embedded log and Badger
// state (one directory per case), and server/rest's handler for RQTT cases.
func NewRunner() *Runner {
	return &Runner{OpenLog: OpenEmbeddedLog, OpenEngine: OpenBadgerEngine, RESTHandler: RESTHandler}
}

// OpenBadgerEngine opens an engine whose persistent queries keep their state in Badger under
// cfg.StateDir, as the server's do; the engine closes it.
func OpenBadgerEngine(ctx context.Context, cfg engine.Config) (Engine, error) {
	st, err := badger.Open(cfg.StateDir, badger.WithLogger(nil))
	if err != nil {
		return nil, err
	}
	cfg.State = st
	e, err := engine.Open(ctx, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return e, nil
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
