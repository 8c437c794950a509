package pgwire

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/exec/engine"
)

// SQLSTATE codes the wire layer produces itself. Engine errors carry their own.
const (
	codeInternal           = "XX000"
	codeProtocolViolation  = "08P01"
	codeFeatureNotSupp     = "0A000"
	codeSyntax             = "42601"
	codeQueryCanceled      = "57014"
	codeAdminShutdown      = "57P01"
	codeInvalidPassword    = "28P01"
	codeInvalidAuth        = "28000"
	codeInFailedTxn        = "25P02"
	codeNoActiveTxn        = "25P01"
	codeActiveTxn          = "25001"
	codeInvalidCursorName  = "34000"
	codeDuplicateCursor    = "42P03"
	codeUndefinedStatement = "26000"
	codeDuplicateStatement = "42P05"
	codeUndefinedObject    = "42704"
	codeTooBig             = "54000"
)

// pgError is an error the wire layer raises, already in PostgreSQL's terms.
type pgError struct {
	severity string // "" means ERROR
	code     string
	msg      string
	detail   string
	hint     string
	routine  string
	pos      int // 1-based character position in the query string, 0 if none
}

func (e *pgError) Error() string { return e.msg }

func newErr(code, msg string) *pgError { return &pgError{code: code, msg: msg} }

var errCanceled = newErr(codeQueryCanceled, "canceling statement due to user request")

// errConnGone ends a connection: the client went away or the server is shutting down.
var errConnGone = errors.New("connection closed")

// errorResponse converts err into an ErrorResponse. query is the whole Query (or Parse) text
// and offset the byte offset in it of the statement the engine saw, used to turn an engine
// Line/Col into the protocol's 1-based character Position.
func errorResponse(err error, query string, offset int) *pgproto3.ErrorResponse {
	r := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: codeInternal, Message: err.Error()}
	var pe *pgError
	var ee *engine.Error
	switch {
	case errors.As(err, &pe):
		if pe.severity != "" {
			r.Severity, r.SeverityUnlocalized = pe.severity, pe.severity
		}
		r.Code, r.Message, r.Detail, r.Hint, r.Routine = pe.code, pe.msg, pe.detail, pe.hint, pe.routine
		r.Position = int32(pe.pos)
	case errors.As(err, &ee):
		r.Message = ee.Msg
		if ee.SQLState != "" {
			r.Code = ee.SQLState
		} else {
			r.Code = "42000"
		}
		if ee.Line > 0 && offset >= 0 && offset <= len(query) {
			stmt := query[offset:]
			if ee.Statement != "" && !strings.HasPrefix(stmt, ee.Statement) {
				// The engine saw a rewritten statement (parameters substituted): positions are
				// relative to that text and cannot be mapped back reliably.
				if i := strings.Index(query, ee.Statement); i >= 0 {
					offset, stmt = i, ee.Statement
				} else {
					break
				}
			}
			if b, ok := lineColOffset(stmt, ee.Line, ee.Col); ok {
				r.Position = int32(utf8.RuneCountInString(query[:offset+b]) + 1)
			}
		}
	case errors.Is(err, context.Canceled):
		r.Code, r.Message = codeQueryCanceled, errCanceled.msg
	}
	return r
}

// lineColOffset returns the byte offset of 1-based line and column (in characters) in s.
func lineColOffset(s string, line, col int) (int, bool) {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	if col < 1 {
		col = 1
	}
	for c := 1; c < col; c++ {
		if off >= len(s) || s[off] == '\n' {
			return off, true
		}
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off, true
}
