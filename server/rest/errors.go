package rest

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/engine"
)

// ksqlDB error codes this package produces itself (HTTP status x 100 + sub-code, KSQL_FACTS A.0).
// Engine errors carry their own code in engine.Error.Code.
const (
	codeBadRequest    = 40000
	codeQueryEndpoint = 40002
	codeUnauthorized  = 40100
	codeNotFound      = 40400
	codeNotAcceptable = 40600
	codeBodyTooLarge  = 41300
	codeServerError   = 50000
)

// QueryEndpointMessage is ksqlDB's text for a SELECT or PRINT sent to /ksql (error_code 40002).
const QueryEndpointMessage = "The following statement types should be issued to the websocket endpoint '/query':\n" +
	"\t* PRINT\n" +
	"\t* SELECT"

// apiError is an error response: HTTP status plus ksqlDB's error body. statement selects
// "statement_error" (with statementText and entities) over "generic_error".
type apiError struct {
	status    int
	code      int
	msg       string
	statement bool
	stmtText  string
	entities  []map[string]any
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: msg}
}

// errorBody is ksqlDB's KsqlErrorMessage ("generic_error").
type errorBody struct {
	Type      string `json:"@type"`
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// statementErrorBody is ksqlDB's KsqlStatementErrorMessage ("statement_error").
type statementErrorBody struct {
	Type          string           `json:"@type"`
	ErrorCode     int              `json:"error_code"`
	Message       string           `json:"message"`
	StatementText string           `json:"statementText"`
	Entities      []map[string]any `json:"entities"`
}

// body returns the JSON object for the error, as sent in a response body or in-band.
func (e *apiError) body() any {
	if e.statement {
		ents := e.entities
		if ents == nil {
			ents = []map[string]any{}
		}
		return statementErrorBody{"statement_error", e.code, e.msg, e.stmtText, ents}
	}
	return errorBody{"generic_error", e.code, e.msg}
}

// fromError converts an error from the Backend into a response. text is the request's SQL, used
// as statementText when the engine did not name the failing statement.
func fromError(err error, text string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return &apiError{status: http.StatusInternalServerError, code: codeServerError, msg: err.Error()}
	}
	code := ee.Code
	status := code / 100
	if status < 400 || status > 599 {
		status, code = http.StatusInternalServerError, codeServerError
	}
	out := &apiError{status: status, code: code, msg: ee.Msg}
	if code == codeQueryEndpoint {
		out.msg = QueryEndpointMessage
	}
	if ee.SyntaxBrief != "" && ee.Statement != "" {
		// ksqlDB's REST syntax errors read "line L:C: Syntax Error", an empty line, then the
		// statement; clients match on that. The parser's detail (what was expected where),
		// which ksqlDB leaves out, follows on its own line.
		out.msg = ee.SyntaxBrief + "\n\nStatement: " + ee.Statement
		if detail, ok := strings.CutPrefix(ee.Msg, ee.SyntaxBrief+"\n"); ok && detail != "" {
			out.msg += "\n" + detail
		}
	}
	if ee.Kind == engine.StatementError || ee.Kind == engine.ParseError || ee.Statement != "" || len(ee.Done) > 0 {
		out.statement = true
		out.stmtText = ee.Statement
		if out.stmtText == "" {
			out.stmtText = text
		}
		out.entities = entities(ee.Done)
	}
	return out
}

// writeError sends e as the whole response. mediaType is the negotiated response type; error
// bodies are JSON, so a non-JSON type (delimited) falls back to application/json.
func writeError(w http.ResponseWriter, mediaType string, e *apiError) {
	if mediaType != mediaKsqlV1 {
		mediaType = mediaJSON
	}
	b, err := marshalJSON(e.body())
	if err != nil { // cannot happen for these types; keep the response well-formed anyway
		b = []byte(`{"@type":"generic_error","error_code":50000,"message":"error encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Del("Transfer-Encoding")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}
