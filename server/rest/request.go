package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/engine"
)

// ksqlRequest is the body of POST /ksql and POST /query (ksqlDB's KsqlRequest).
type ksqlRequest struct {
	Ksql                  *string        `json:"ksql"`
	StreamsProperties     map[string]any `json:"streamsProperties"`
	RequestProperties     map[string]any `json:"requestProperties"`
	SessionVariables      map[string]any `json:"sessionVariables"`
	CommandSequenceNumber *int64         `json:"commandSequenceNumber"`
}

var ksqlRequestFields = []string{"ksql", "streamsProperties", "requestProperties", "sessionVariables", "commandSequenceNumber"}

// queryStreamRequest is the body of POST /query-stream (ksqlDB's QueryStreamArgs).
type queryStreamRequest struct {
	SQL              *string        `json:"sql"`
	Properties       map[string]any `json:"properties"`
	SessionVariables map[string]any `json:"sessionVariables"`
}

var queryStreamFields = []string{"sql", "properties", "sessionVariables"}

// closeQueryRequest is the body of POST /close-query.
type closeQueryRequest struct {
	QueryID *string `json:"queryId"`
}

// insertsHeader is the first object of a POST /inserts-stream body.
type insertsHeader struct {
	Target     *string        `json:"target"`
	Properties map[string]any `json:"properties"`
}

// readBody reads the whole request body, at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: codeBodyTooLarge,
				msg: fmt.Sprintf("Request body is larger than the limit of %d bytes", mbe.Limit)}
		}
		return nil, badRequest("Failed to read request body: " + err.Error())
	}
	return body, nil
}

// decodeStrict decodes one JSON object from body into dst. Unknown top-level fields, trailing
// data and values of the wrong type are errors with a message naming the problem; fields lists
// the accepted names for the message. Numbers decode as json.Number.
func decodeStrict(body []byte, dst any, fields []string) *apiError {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badRequest("Request body is empty; expected a JSON object with fields: " + strings.Join(fields, ", "))
	}
	if trimmed[0] != '{' {
		return badRequest("Invalid JSON in request body: expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return badRequest(describeJSONError(err, fields, "request body"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("Invalid JSON in request body: unexpected data after the JSON object")
	}
	return nil
}

// describeJSONError turns encoding/json's errors into messages for API users; where names what
// was being decoded ("request body").
func describeJSONError(err error, fields []string, where string) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("Invalid JSON in %s at offset %d: %s", where, se.Offset, se.Error())
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("Invalid %s: field %q cannot be a JSON %s", where, te.Field, te.Value)
		}
		return fmt.Sprintf("Invalid %s: expected a JSON object, got a JSON %s", where, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "Invalid JSON in " + where + ": unexpected end of input"
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("Unrecognized field %s in %s; accepted fields: %s", name, where, strings.Join(fields, ", "))
	}
	return "Invalid JSON in " + where + ": " + strings.TrimPrefix(msg, "json: ")
}

// parseKsqlRequest decodes a /ksql or /query body; the "ksql" field is required.
func parseKsqlRequest(body []byte) (*ksqlRequest, *apiError) {
	var req ksqlRequest
	if e := decodeStrict(body, &req, ksqlRequestFields); e != nil {
		return nil, e
	}
	if req.Ksql == nil {
		return nil, badRequest(`Request body is missing the "ksql" field`)
	}
	return &req, nil
}

// parseQueryStreamRequest decodes a /query-stream body; the "sql" field is required.
func parseQueryStreamRequest(body []byte) (*queryStreamRequest, *apiError) {
	var req queryStreamRequest
	if e := decodeStrict(body, &req, queryStreamFields); e != nil {
		return nil, e
	}
	if req.SQL == nil {
		return nil, badRequest(`Request body is missing the "sql" field`)
	}
	return &req, nil
}

// newSession builds the per-request session: property overrides (later maps win) and
// variables for ${name} substitution, all as strings.
func newSession(vars map[string]any, props ...map[string]any) (*engine.Session, *apiError) {
	s := engine.NewSession()
	for _, m := range props {
		for _, k := range sortedKeys(m) {
			v, err := propertyText(m[k])
			if err != nil {
				return nil, badRequest(fmt.Sprintf("Invalid value for property %q: %v", k, err))
			}
			if v != nil {
				s.Props[k] = *v
			}
		}
	}
	for _, k := range sortedKeys(vars) {
		v, err := propertyText(vars[k])
		if err != nil {
			return nil, badRequest(fmt.Sprintf("Invalid value for session variable %q: %v", k, err))
		}
		if v != nil {
			s.Vars[k] = *v
		}
	}
	return s, nil
}

// propertyText renders a JSON property value as ksqlDB does before parsing it: strings as is,
// numbers and booleans as their text, lists joined by ',', null as absent.
func propertyText(v any) (*string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			p, err := propertyText(e)
			if err != nil {
				return nil, err
			}
			if p != nil {
				parts = append(parts, *p)
			}
		}
		s = strings.Join(parts, ",")
	default:
		return nil, errors.New("must be a string, number, boolean or list")
	}
	return &s, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
