package qtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Media types the RQTT client sends.
const (
	mediaKsqlJSON  = "application/vnd.ksql.v1+json"
	mediaKsqlProto = "application/vnd.ksql.v1+protobuf"
)

var selectRE = regexp.MustCompile(`(?is)^\s*SELECT\b`)

// restError is an error answer from the server: an HTTP error status with a KsqlErrorMessage
// body, or an in-band {"errorMessage": {...}} element of a query stream.
type restError struct {
	Status int
	Body   map[string]any
	Where  string
}

func (e *restError) message() string { return scalarText(e.Body["message"]) }

func (e *restError) String() string {
	return fmt.Sprintf("%s: HTTP %d %s %q", e.Where, e.Status, scalarText(e.Body["@type"]), e.message())
}

// queryResult is one /query response: the streamed elements, or an error.
type queryResult struct {
	elems    []any
	err      *restError
	timedOut bool
}

// runRQTT runs one REST query-validation-test case against the HTTP API on a loopback server.
func (r *Runner) runRQTT(ctx context.Context, c *Case, dir string) Result {
	if r.RESTHandler == nil {
		return failResult(c, CatSetup, "no REST handler configured (Runner.RESTHandler is nil)")
	}
	admin, queries, err := splitRESTStatements(c.Statements)
	if err != nil {
		return failResult(c, CatSetup, err.Error())
	}
	log, eng, err := r.startEngine(ctx, c, dir)
	if err != nil {
		return failResult(c, CatSetup, err.Error())
	}
	defer log.Close()
	defer eng.Close()
	srv := httptest.NewServer(r.RESTHandler(eng))
	defer srv.Close()
	cl := &restClient{base: srv.URL, http: srv.Client(), props: c.Properties}

	var entities []any
	if len(admin) > 0 {
		ents, rerr, err := cl.ksql(ctx, strings.Join(admin, "\n"))
		if err != nil {
			return failResult(c, CatRESTError, "POST /ksql: "+err.Error())
		}
		if rerr != nil {
			return r.restErrorResult(c, rerr)
		}
		entities = ents
	}
	if err := eng.Quiesce(ctx); err != nil {
		return failResult(c, CatRuntime, "quiesce after /ksql: "+describeErr(err))
	}

	// A push query that must be running before the inputs arrive is started first.
	results := make([]queryResult, len(queries))
	var early chan queryResult
	if c.WaitForActivePushQuery && len(queries) > 0 {
		early = make(chan queryResult, 1)
		started := make(chan struct{})
		go func() {
			early <- cl.query(ctx, queries[0], mediaKsqlJSON, expectedElems(c, 0), r.queryTimeout(), started)
		}()
		select {
		case <-started:
		case <-ctx.Done():
		}
	}
	if err := r.produce(ctx, eng, c); err != nil {
		return failResult(c, CatRuntime, describeErr(err))
	}
	for i, q := range queries {
		if i == 0 && early != nil {
			results[0] = <-early
		} else {
			results[i] = cl.query(ctx, q, mediaKsqlJSON, expectedElems(c, i), r.queryTimeout(), nil)
		}
		if results[i].err != nil {
			return r.restErrorResult(c, results[i].err)
		}
	}
	var protoResults []queryResult
	if c.TestPullWithProtoFormat && r.Proto {
		for _, q := range queries {
			res := cl.query(ctx, q, mediaKsqlProto, 0, r.queryTimeout(), nil)
			if res.err != nil {
				return r.restErrorResult(c, res.err)
			}
			protoResults = append(protoResults, res)
		}
	}
	if c.ExpectedError != nil {
		return failResult(c, CatRESTErrorMatch, fmt.Sprintf("expected %s (HTTP %d) %q, but every request succeeded",
			shortClass(c.ExpectedError.Type), c.ExpectedError.Status, c.ExpectedError.Message))
	}
	if msg := compareResponses(c, entities, results, protoResults); msg != "" {
		return failResult(c, CatResponse, msg)
	}
	if res, failed := checkOutputs(ctx, eng, c); failed {
		return res
	}
	return passResult(c)
}

// queryTimeout bounds one /query read, so that a push query waiting for rows that never come
// is reported as a response mismatch instead of eating the whole case.
func (r *Runner) queryTimeout() time.Duration {
	t := r.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	return t / 3
}

// splitRESTStatements separates the leading non-SELECT statements (sent together to /ksql)
// from the SELECTs (each sent to /query). A non-SELECT after the first SELECT is an error in
// the test file, as in the Java harness.
func splitRESTStatements(stmts []string) (admin, queries []string, err error) {
	for i, s := range stmts {
		if selectRE.MatchString(s) {
			queries = append(queries, s)
			continue
		}
		if len(queries) > 0 {
			return nil, nil, fmt.Errorf("statement %d is not a SELECT but follows one: %s", i+1, oneLine(s))
		}
		admin = append(admin, s)
	}
	return admin, queries, nil
}

// expectedElems is how many elements the i-th query's expected response has, when that
// response does not end with a finalMessage (an unbounded push query): reading stops there.
// 0 means "read to the end of the response".
func expectedElems(c *Case, i int) int {
	n := 0
	for _, resp := range c.Responses {
		if !resp.IsQuery || resp.IsProto {
			continue
		}
		if n == i {
			for _, e := range resp.Query {
				if m, ok := e.(map[string]any); ok && m["finalMessage"] != nil {
					return 0
				}
			}
			return len(resp.Query)
		}
		n++
	}
	return 0
}

// restErrorResult decides a case given an error answer from the server.
func (r *Runner) restErrorResult(c *Case, e *restError) Result {
	want := c.ExpectedError
	if want == nil {
		return failResult(c, CatRESTError, "unexpected error: "+e.String())
	}
	var problems []string
	if want.Status != 0 && want.Status != e.Status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", e.Status, want.Status))
	}
	if class := shortClass(want.Type); class == "KsqlStatementErrorMessage" {
		if _, ok := e.Body["statementText"]; !ok && scalarText(e.Body["@type"]) != "statement_error" {
			problems = append(problems, fmt.Sprintf("body is %s, want statement_error", scalarText(e.Body["@type"])))
		}
	}
	if !strings.Contains(e.message(), want.Message) {
		problems = append(problems, fmt.Sprintf("message %q does not contain %q", e.message(), want.Message))
	}
	if len(problems) > 0 {
		return failResult(c, CatRESTErrorMatch, e.Where+": "+strings.Join(problems, "; "))
	}
	return passResult(c)
}

// compareResponses matches the expected responses against the /ksql entities (admin, in
// order) and the /query results (in order). Only keys present in an expected admin object are
// compared.
func compareResponses(c *Case, entities []any, results, protoResults []queryResult) string {
	ai, qi, pi := 0, 0, 0
	for n, exp := range c.Responses {
		switch {
		case exp.Admin != nil:
			if ai >= len(entities) {
				return fmt.Sprintf("responses[%d]: expected admin %s, but /ksql returned %d entities", n, Render(exp.Admin), len(entities))
			}
			act, _ := entities[ai].(map[string]any)
			for _, k := range sortedKeys(exp.Admin) {
				if !jsonEqual(exp.Admin[k], act[k]) {
					return fmt.Sprintf("responses[%d] (admin %d): %s: expected %s, got %s", n, ai, k, Render(exp.Admin[k]), Render(act[k]))
				}
			}
			ai++
		case exp.IsProto:
			if pi >= len(protoResults) {
				return fmt.Sprintf("responses[%d]: expected a PROTOBUF query response, but only %d ran", n, len(protoResults))
			}
			if msg := matchQueryResponse(exp.QueryProto, protoResults[pi], c.VerifyOrder); msg != "" {
				return fmt.Sprintf("responses[%d] (proto query %d): %s", n, pi, msg)
			}
			pi++
		default:
			if qi >= len(results) {
				return fmt.Sprintf("responses[%d]: expected a query response, but only %d queries ran", n, len(results))
			}
			if msg := matchQueryResponse(exp.Query, results[qi], c.VerifyOrder); msg != "" {
				return fmt.Sprintf("responses[%d] (query %d): %s", n, qi, msg)
			}
			qi++
		}
	}
	return ""
}

// matchQueryResponse compares one streamed query response: header (only expected keys;
// "key|starts_with" is a prefix match), rows (a multiset unless verifyOrder), finalMessage.
func matchQueryResponse(exp []any, act queryResult, verifyOrder bool) string {
	eh, er, ef := splitElems(exp)
	ah, ar, af := splitElems(act.elems)
	note := ""
	if act.timedOut {
		note = " (response still open when the read timed out)"
	}
	switch {
	case eh == nil && ah != nil:
		return "unexpected header " + Render(ah) + note
	case eh != nil && ah == nil:
		return "missing header; got " + Render(act.elems) + note
	case eh != nil:
		for _, k := range sortedKeys(eh) {
			key, prefix := strings.CutSuffix(k, "|starts_with")
			got := ah[key]
			if prefix {
				if s, ok := got.(string); !ok || !strings.HasPrefix(s, scalarText(eh[k])) {
					return fmt.Sprintf("header %s: expected prefix %q, got %s", key, scalarText(eh[k]), Render(got))
				}
				continue
			}
			if !jsonEqual(eh[k], got) {
				return fmt.Sprintf("header %s: expected %s, got %s", key, Render(eh[k]), Render(got))
			}
		}
	}
	if len(er) != len(ar) {
		return fmt.Sprintf("expected %d rows, got %d%s\n    expected: %s\n    actual:   %s", len(er), len(ar), note, Render(er), Render(ar))
	}
	if verifyOrder {
		for i := range er {
			if !jsonEqual(er[i], ar[i]) {
				return fmt.Sprintf("row %d: expected %s, got %s", i, Render(er[i]), Render(ar[i]))
			}
		}
	} else {
		used := make([]bool, len(ar))
	next:
		for _, e := range er {
			for j, a := range ar {
				if !used[j] && jsonEqual(e, a) {
					used[j] = true
					continue next
				}
			}
			var extra []any
			for j, a := range ar {
				if !used[j] {
					extra = append(extra, a)
				}
			}
			return fmt.Sprintf("expected row %s not found; unmatched actual rows: %s", Render(e), Render(extra))
		}
	}
	if !jsonEqual(ef, af) {
		return fmt.Sprintf("expected final message %s, got %s%s", Render(ef), Render(af), note)
	}
	return ""
}

// splitElems splits a query response into header object, row values and final messages.
func splitElems(elems []any) (header map[string]any, rows []any, finals []any) {
	finals = []any{}
	for _, e := range elems {
		m, _ := e.(map[string]any)
		switch {
		case m["header"] != nil:
			header, _ = m["header"].(map[string]any)
		case m["row"] != nil:
			rows = append(rows, m["row"])
		case m["finalMessage"] != nil:
			finals = append(finals, m["finalMessage"])
		default:
			rows = append(rows, e) // unknown element: counted, so it shows up in the diff
		}
	}
	return header, rows, finals
}

// jsonEqual compares two JSON values decoded with UseNumber: numbers by value (1.50 == 1.5),
// objects by keys (an actual key the expectation lacks is tolerated when its value is null or
// false, e.g. "tombstone": false), arrays element-wise.
func jsonEqual(exp, act any) bool {
	switch e := exp.(type) {
	case nil:
		return act == nil
	case json.Number:
		a, ok := act.(json.Number)
		if !ok {
			return false
		}
		if e == a {
			return true
		}
		ed, err1 := decimal.NewFromString(string(e))
		ad, err2 := decimal.NewFromString(string(a))
		return err1 == nil && err2 == nil && ed.Equal(ad)
	case map[string]any:
		a, ok := act.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range e {
			if !jsonEqual(v, a[k]) {
				return false
			}
		}
		for k, v := range a {
			if _, ok := e[k]; !ok && v != nil && v != false {
				return false
			}
		}
		return true
	case []any:
		a, ok := act.([]any)
		if !ok || len(a) != len(e) {
			return false
		}
		for i := range e {
			if !jsonEqual(e[i], a[i]) {
				return false
			}
		}
		return true
	default:
		return exp == act
	}
}

// restClient talks to the API under test.
type restClient struct {
	base  string
	http  *http.Client
	props map[string]string
}

func (cl *restClient) body(sql string) []byte {
	props := map[string]any{}
	for k, v := range cl.props {
		props[k] = v
	}
	b, _ := json.Marshal(map[string]any{"ksql": sql, "streamsProperties": props})
	return b
}

// ksql posts statements to /ksql and returns the entity list, or the error answer.
func (cl *restClient) ksql(ctx context.Context, sql string) ([]any, *restError, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.base+"/ksql", bytes.NewReader(cl.body(sql)))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaKsqlJSON)
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorAnswer("/ksql", resp.StatusCode, raw), nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("bad JSON (%v): %.300s", err, raw)
	}
	ents, ok := v.([]any)
	if !ok {
		return nil, nil, fmt.Errorf("expected a JSON array of entities, got %.300s", raw)
	}
	return ents, nil, nil
}

// query posts one SELECT to /query and reads the streamed JSON array. It stops after want
// elements when want > 0, after a finalMessage or errorMessage, at the end of the array, or
// when timeout elapses. started, when not nil, is closed once the response header arrived.
func (cl *restClient) query(ctx context.Context, sql, accept string, want int, timeout time.Duration, started chan struct{}) queryResult {
	startOnce := func() {
		if started != nil {
			close(started)
			started = nil
		}
	}
	defer startOnce()
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(qctx, http.MethodPost, cl.base+"/query", bytes.NewReader(cl.body(sql)))
	if err != nil {
		return queryResult{err: &restError{Where: "/query", Body: map[string]any{"message": err.Error()}}}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := cl.http.Do(req)
	if err != nil {
		return queryResult{err: &restError{Where: "/query", Body: map[string]any{"message": "request failed: " + err.Error()}}}
	}
	defer resp.Body.Close()
	startOnce()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return queryResult{err: errorAnswer("/query", resp.StatusCode, raw)}
	}
	var res queryResult
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		res.elems = append(res.elems, map[string]any{"unreadable": fmt.Sprintf("expected a JSON array, got %v (%v)", tok, err)})
		return res
	}
	for dec.More() {
		var e any
		if err := dec.Decode(&e); err != nil {
			if qctx.Err() != nil {
				res.timedOut = true
			} else {
				res.elems = append(res.elems, map[string]any{"unreadable": err.Error()})
			}
			return res
		}
		if m, ok := e.(map[string]any); ok {
			if em, ok := m["errorMessage"].(map[string]any); ok {
				status := http.StatusBadRequest
				if code, ok := toInt64(em["error_code"]); ok && code >= 10000 {
					status = int(code / 100)
				}
				return queryResult{err: &restError{Where: "/query (in-band)", Status: status, Body: em}}
			}
			if m["finalMessage"] != nil {
				res.elems = append(res.elems, e)
				return res
			}
		}
		res.elems = append(res.elems, e)
		if want > 0 && len(res.elems) >= want {
			return res
		}
	}
	if qctx.Err() != nil {
		res.timedOut = true
	}
	return res
}

// errorAnswer decodes an error response body.
func errorAnswer(where string, status int, raw []byte) *restError {
	e := &restError{Where: where, Status: status}
	v, err := decodeJSON(raw)
	if m, ok := v.(map[string]any); err == nil && ok {
		e.Body = m
	} else {
		e.Body = map[string]any{"message": string(raw)}
	}
	return e
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}
