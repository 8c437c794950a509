package rest

import (
	"context"

	"github.com/sluicedb/sluice/exec/engine"
)

// Backend is what the REST layer needs from the engine. *engine.Engine implements it; tests use
// a small fake. All methods must be safe for concurrent use: every HTTP request runs in its own
// goroutine with its own Session.
type Backend interface {
	// Execute runs non-query statements (POST /ksql). On failure it returns an *engine.Error
	// whose Done holds the results of the statements that succeeded before the failing one.
	Execute(ctx context.Context, s *engine.Session, text string) ([]engine.Result, error)
	// Query starts one SELECT or PRINT (POST /query, /query-stream). The cursor's Next must
	// return when ctx is done.
	Query(ctx context.Context, s *engine.Session, text string) (*engine.Cursor, error)
	// InsertJSON inserts one row given as column name -> JSON value (numbers as json.Number).
	InsertJSON(ctx context.Context, s *engine.Session, target string, row map[string]any) error
	// CloseQuery stops a transient push query by id; false if no such query runs.
	CloseQuery(id string) bool
	// Source looks a stream or table up by its stored name.
	Source(name string) (*engine.SourceSummary, bool)
}

var _ Backend = (*engine.Engine)(nil)
