package engine

import (
	"context"

	"github.com/sluicedb/sluice/state"

	"github.com/sluicedb/sluice/storage"
)

// Config configures an Engine.
type Config struct {
	Log      storage.Log
	StateDir string // Badger state lives here
	// State opens per-query state stores; nil keeps state in memory (tests, transient use).
	State state.Manager
	// Deterministic is the conformance-test mode: no background goroutines run queries;
	// Quiesce drives every persistent query in statement order until no input is left, stream
	// time moves only with record timestamps, and every intermediate update is emitted.
	Deterministic     bool
	DefaultPartitions int               // partitions for topics the engine creates itself (default 1)
	ServiceID         string            // ksql.service.id (default "default_")
	Props             map[string]string // server-level ksql.* properties
	Logf              func(format string, args ...any)
}

// Prepared describes a statement without running it (pgwire Parse/Describe).
type Prepared struct {
	IsQuery bool // SELECT or PRINT: use Query
	Push    bool
	Columns []Column
	Tag     string
}

// Cursor is a running query: pull (finite) or push (until LIMIT, Close or error).
type Cursor struct {
	ID      string
	Columns []Column
	Push    bool

	sql   string
	next  func(ctx context.Context) (Row, error)
	final func() string
	close func()
}

// Next returns the next row, blocking for push queries; io.EOF when the query is complete.
func (c *Cursor) Next(ctx context.Context) (Row, error) { return c.next(ctx) }

// FinalMessage is ksqlDB's closing message once Next returned io.EOF: "Limit Reached",
// "Query Completed", or "" (table pull queries).
func (c *Cursor) FinalMessage() string {
	if c.final == nil {
		return ""
	}
	return c.final()
}

// Close stops the query and releases its resources; safe to call more than once.
func (c *Cursor) Close() {
	if c.close != nil {
		c.close()
	}
}

// NewCursor builds a cursor from functions; servers' tests use it to serve rows without an
// engine. next returns io.EOF at the end; final and close may be nil.
func NewCursor(id string, cols []Column, push bool, next func(ctx context.Context) (Row, error), final func() string, close func()) *Cursor {
	return &Cursor{ID: id, Columns: cols, Push: push, next: next, final: final, close: close}
}
