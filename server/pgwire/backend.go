package pgwire

import (
	"context"
	"io"

	"github.com/sluicedb/sluice/exec/engine"
)

// Backend is everything the wire layer needs from the SQL engine. *engine.Engine satisfies it;
// tests use small fakes. The server never calls it concurrently for one session, but calls it
// concurrently for different sessions.
type Backend interface {
	// Execute runs one non-query statement (DDL, INSERT, SHOW STREAMS, SET 'ksql.x'=...).
	Execute(ctx context.Context, s *engine.Session, text string) ([]engine.Result, error)
	// Query starts a SELECT (pull or push) or PRINT.
	Query(ctx context.Context, s *engine.Session, text string) (*engine.Cursor, error)
	// Prepare describes a statement without running it (Describe in the extended protocol).
	Prepare(ctx context.Context, s *engine.Session, text string) (*engine.Prepared, error)
	// Sources lists streams and tables for the pg_catalog emulation psql's \d uses.
	Sources() []*engine.SourceSummary
}

var _ Backend = (*engine.Engine)(nil)

// Rows is the server's view of a running query. CursorRows adapts an *engine.Cursor.
type Rows interface {
	Columns() []engine.Column
	// Push reports an unbounded (EMIT CHANGES) query: rows are flushed one by one.
	Push() bool
	// Next blocks for the next row; io.EOF ends the query.
	Next(ctx context.Context) (engine.Row, error)
	// Close stops the query; it is called exactly once, from the goroutine that calls Next.
	Close()
}

// RowsQuerier is an optional Backend extension. When the backend implements it, the server
// calls QueryRows instead of Query. It exists because *engine.Cursor has no exported
// constructor, so backends other than the engine (test fakes, proxies) could not otherwise
// stream rows.
type RowsQuerier interface {
	QueryRows(ctx context.Context, s *engine.Session, text string) (Rows, error)
}

// StatementSplitter is an optional Backend extension that splits a simple-protocol Query
// string into statements. Without it the server uses engine.SplitStatements, falling back to
// its own quote- and comment-aware splitter when that reports a non-SQL error.
type StatementSplitter interface {
	SplitStatements(text string) ([]string, error)
}

// CursorRows adapts an engine cursor to Rows.
func CursorRows(c *engine.Cursor) Rows { return cursorRows{c} }

type cursorRows struct{ c *engine.Cursor }

func (r cursorRows) Columns() []engine.Column                     { return r.c.Columns }
func (r cursorRows) Push() bool                                   { return r.c.Push }
func (r cursorRows) Next(ctx context.Context) (engine.Row, error) { return r.c.Next(ctx) }
func (r cursorRows) Close()                                       { r.c.Close() }

// sliceRows is a finished result (intercepted statements, engine tabular results).
type sliceRows struct {
	cols []engine.Column
	rows [][]any
	i    int
}

func (r *sliceRows) Columns() []engine.Column { return r.cols }
func (r *sliceRows) Push() bool               { return false }
func (r *sliceRows) Close()                   {}
func (r *sliceRows) Next(context.Context) (engine.Row, error) {
	if r.i >= len(r.rows) {
		return engine.Row{}, io.EOF
	}
	r.i++
	return engine.Row{Values: r.rows[r.i-1]}, nil
}
