package engine

import (
	"fmt"

	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Session is one client's statement context: property overrides (SET) and variables (DEFINE).
// REST creates one per request; pgwire one per connection. Not safe for concurrent use.
type Session struct {
	Props map[string]string
	Vars  map[string]string
}

// NewSession returns an empty session.
func NewSession() *Session {
	return &Session{Props: map[string]string{}, Vars: map[string]string{}}
}

// Result is the outcome of one non-query statement, in two renderings: Entity is ksqlDB's REST
// entity (a JSON object with "@type", "statementText", "warnings", ...), and Tag/Columns/Rows is
// the tabular form pgwire sends (Tag is the command tag, e.g. "CREATE STREAM"; Columns and Rows
// are empty for statements that return no table).
type Result struct {
	Text    string
	Entity  map[string]any
	Tag     string
	Columns []Column
	Rows    [][]any
}

// Column is one column of a query or tabular result.
type Column struct {
	Name string
	Type *types.Type
	Key  bool // a key column (pull-query headers mark keys; push headers do not)
}

// Row is one query result row. Tombstone marks a delete in a table push query; Values then
// holds the key columns and NULLs.
type Row struct {
	Values    []any
	Tombstone bool
}

// Error is every user-facing error the engine returns. Code is ksqlDB's error_code (HTTP status
// x 100 + sub-code), SQLState the Postgres code, Line/Col the position in the statement (0 when
// unknown). Kind classifies the error as the conformance runner needs (parse, statement,
// runtime).
type Error struct {
	Code     int
	SQLState string
	Kind     ErrorKind
	Msg      string
	Line     int
	Col      int
	// Context, when set, is printed before the position: ksqlDB words some errors
	// "<context>: Line: L, Col: C: <message>".
	Context string
	// Statement is the text of the failing statement; Done holds results of statements of the
	// same request that succeeded before it.
	Statement string
	Done      []Result
	// SyntaxBrief, for a syntax error, is its message without the parser's detail line
	// ("line 1:24: Syntax Error"): ksqlDB's REST API answers with that form.
	SyntaxBrief string
}

// ErrorKind classifies errors the way ksqlDB's exception types do.
type ErrorKind uint8

// Error kinds: ParseError (ParseFailedException), StatementError (KsqlStatementException),
// RuntimeError (StreamsException / processing failures), ServerError (anything else).
const (
	StatementError ErrorKind = iota
	ParseError
	RuntimeError
	ServerError
)

func (e *Error) Error() string { return e.Msg }

// errf builds a statement error.
func errf(format string, args ...any) *Error {
	return &Error{Code: 40001, SQLState: "42000", Kind: StatementError, Msg: fmt.Sprintf(format, args...)}
}

// SourceSummary describes a stream or table for tools and the conformance runner.
type SourceSummary struct {
	Name        string
	Kind        string // "STREAM" or "TABLE"
	Topic       string
	Schema      *types.Schema
	KeyFormat   string
	ValueFormat string
	KeyFeatures []string
	ValFeatures []string
	WindowType  string // "", "TUMBLING", "HOPPING", "SESSION"
	WindowSize  int64  // ms, 0 when not windowed or SESSION
	IsSource    bool
	Partitions  int
}

// LogicalRecord is a record in the conformance corpus's logical form: Key and Value are
// JSON-decoded values (numbers as json.Number) as QTT writes them, independent of the
// topic's byte format.
type LogicalRecord struct {
	Topic     string
	Key       any
	Value     any // nil with ValueNull true is a tombstone
	ValueNull bool
	Timestamp int64
	Window    *WindowBounds
	Headers   []storage.Header
	Partition int32
	Offset    int64
}

// WindowBounds is a windowed key's window. Type is "time" or "session".
type WindowBounds struct {
	Start, End int64
	Type       string
}
