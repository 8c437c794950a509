package rest

import (
	"maps"
	"net/http"
	"strconv"

	"github.com/sluicedb/sluice/exec/engine"
)

// handleKsql serves POST /ksql: every statement of the request through Backend.Execute, the
// response one JSON array with one entity per statement (KSQL_FACTS A.1). SELECT and PRINT fail
// with 40002 from the engine; the message is ksqlDB's (QueryEndpointMessage).
func (s *server) handleKsql(w http.ResponseWriter, r *http.Request) {
	mt := negotiate(r.Header.Get("Accept"), jsonTypes)
	if mt == "" {
		writeError(w, mediaJSON, notAcceptable(jsonTypes))
		return
	}
	body, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	req, e := parseKsqlRequest(body)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	sess, e := newSession(req.SessionVariables, req.StreamsProperties, req.RequestProperties)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	results, err := s.b.Execute(r.Context(), sess, *req.Ksql)
	if err != nil {
		ae := fromError(err, *req.Ksql)
		s.statuses.record(ae.entities)
		s.logServerError(r, ae)
		writeError(w, mt, ae)
		return
	}
	ents := entities(results)
	s.statuses.record(ents)
	writeJSON(w, mt, http.StatusOK, ents)
}

// entities returns the REST entities of results, skipping statements that produce none (SET,
// UNSET). Each entity is a shallow copy of the engine's with "statementText" and "warnings"
// filled in when the engine left them out.
func entities(results []engine.Result) []map[string]any {
	out := make([]map[string]any, 0, len(results))
	for _, res := range results {
		if res.Entity == nil {
			continue
		}
		ent := maps.Clone(res.Entity)
		if _, ok := ent["statementText"]; !ok {
			ent["statementText"] = res.Text
		}
		if _, ok := ent["warnings"]; !ok {
			ent["warnings"] = []any{}
		}
		out = append(out, ent)
	}
	return out
}

// writeJSON sends v as a complete JSON response.
func writeJSON(w http.ResponseWriter, mediaType string, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		writeError(w, mediaType, &apiError{status: http.StatusInternalServerError, code: codeServerError,
			msg: "failed to encode response: " + err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func notAcceptable(offered []string) *apiError {
	msg := "Not Acceptable: this endpoint produces "
	for i, o := range offered {
		if i > 0 {
			msg += ", "
		}
		msg += o
	}
	return &apiError{status: http.StatusNotAcceptable, code: codeNotAcceptable, msg: msg}
}

// logServerError logs 5xx responses, which mean a bug or an outage rather than a bad request.
func (s *server) logServerError(r *http.Request, e *apiError) {
	if e.status >= 500 {
		s.cfg.Logf("rest: %s %s: %d %s", r.Method, r.URL.Path, e.code, e.msg)
	}
}
