package qtt

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMatchQueryResponse(t *testing.T) {
	exp := parse(t, `[{"header": {"schema": "`+"`ID` STRING KEY, `C` BIGINT"+`", "queryId|starts_with": "transient_"}},
	                  {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 2.50]}}]`).([]any)
	act := func(s string) queryResult { return queryResult{elems: parse(t, s).([]any)} }
	hdr := `{"header": {"queryId": "transient_AGG_1", "schema": "` + "`ID` STRING KEY, `C` BIGINT" + `"}}`
	for _, tc := range []struct {
		name        string
		act         string
		verifyOrder bool
		ok          bool
	}{
		{"same order", `[` + hdr + `, {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 2.5]}}]`, true, true},
		{"other order as multiset", `[` + hdr + `, {"row": {"columns": ["11", 2.5]}}, {"row": {"columns": ["10", 1]}}]`, false, true},
		{"other order verified", `[` + hdr + `, {"row": {"columns": ["11", 2.5]}}, {"row": {"columns": ["10", 1]}}]`, true, false},
		{"row count", `[` + hdr + `, {"row": {"columns": ["10", 1]}}]`, false, false},
		{"row value", `[` + hdr + `, {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 3]}}]`, false, false},
		{"unexpected final message", `[` + hdr + `, {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 2.5]}}, {"finalMessage": "Query Completed"}]`, false, false},
		{"tombstone false tolerated", `[` + hdr + `, {"row": {"columns": ["10", 1], "tombstone": false}}, {"row": {"columns": ["11", 2.5]}}]`, false, true},
		{"query id prefix", `[{"header": {"queryId": "CTAS_1", "schema": "` + "`ID` STRING KEY, `C` BIGINT" + `"}}, {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 2.5]}}]`, false, false},
		{"schema", `[{"header": {"queryId": "transient_1", "schema": "` + "`ID` STRING, `C` BIGINT" + `"}}, {"row": {"columns": ["10", 1]}}, {"row": {"columns": ["11", 2.5]}}]`, false, false},
	} {
		msg := matchQueryResponse(exp, act(tc.act), tc.verifyOrder)
		if (msg == "") != tc.ok {
			t.Errorf("%s: %q, want ok=%v", tc.name, msg, tc.ok)
		}
	}
}

func TestRestClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ksql", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaKsqlJSON)
		fmt.Fprint(w, `[{"@type": "currentStatus", "commandStatus": {"status": "SUCCESS"}}]`)
	})
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 1<<10)
		n, _ := r.Body.Read(body)
		switch {
		case strings.Contains(string(body[:n]), "MISSING"):
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"@type": "statement_error", "error_code": 40001, "message": "MISSING does not exist", "statementText": "x", "entities": []}`)
		case strings.Contains(string(body[:n]), "FOREVER"):
			// An unbounded push query: header and one row, then nothing.
			fmt.Fprint(w, "[{\"header\":{\"queryId\":\"q\",\"schema\":\"`A` INTEGER\"}},\n{\"row\":{\"columns\":[1]}},\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case strings.Contains(string(body[:n]), "INBAND"):
			fmt.Fprint(w, "[{\"header\":{\"queryId\":\"q\",\"schema\":\"`A` INTEGER\"}},\n{\"errorMessage\":{\"@type\":\"generic_error\",\"error_code\":50000,\"message\":\"boom\"}}]")
		default:
			fmt.Fprint(w, "[{\"header\":{\"queryId\":\"q\",\"schema\":\"`A` INTEGER\"}},\n{\"row\":{\"columns\":[1]}},\n{\"finalMessage\":\"Limit Reached\"}]")
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cl := &restClient{base: srv.URL, http: srv.Client(), props: map[string]string{"p": "1"}}
	ctx := context.Background()

	ents, rerr, err := cl.ksql(ctx, "CREATE STREAM X;")
	if err != nil || rerr != nil || len(ents) != 1 {
		t.Fatalf("ksql: %v %v %v", ents, rerr, err)
	}
	res := cl.query(ctx, "SELECT * FROM X EMIT CHANGES LIMIT 1;", mediaKsqlJSON, 0, 2*time.Second, nil)
	if res.err != nil || len(res.elems) != 3 || res.timedOut {
		t.Fatalf("query: %+v", res)
	}
	res = cl.query(ctx, "SELECT * FROM FOREVER EMIT CHANGES;", mediaKsqlJSON, 2, 2*time.Second, nil)
	if res.err != nil || len(res.elems) != 2 || res.timedOut {
		t.Fatalf("bounded read of a push query: %+v", res)
	}
	res = cl.query(ctx, "SELECT * FROM FOREVER EMIT CHANGES;", mediaKsqlJSON, 3, 200*time.Millisecond, nil)
	if !res.timedOut || len(res.elems) != 2 {
		t.Fatalf("push query waiting for more rows: %+v", res)
	}
	res = cl.query(ctx, "SELECT * FROM MISSING;", mediaKsqlJSON, 0, 2*time.Second, nil)
	if res.err == nil || res.err.Status != 400 || res.err.message() != "MISSING does not exist" {
		t.Fatalf("error answer: %+v", res.err)
	}
	res = cl.query(ctx, "SELECT * FROM INBAND;", mediaKsqlJSON, 0, 2*time.Second, nil)
	if res.err == nil || res.err.Status != 500 || res.err.message() != "boom" {
		t.Fatalf("in-band error: %+v", res.err)
	}

	r := &Runner{}
	c := &Case{Name: "e", ExpectedError: &ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage", Message: "does not exist", Status: 400}}
	stmtErr := &restError{Status: 400, Body: map[string]any{"@type": "statement_error", "message": "MISSING does not exist", "statementText": "x"}}
	if got := r.restErrorResult(c, stmtErr); got.Status != Pass {
		t.Fatalf("expected error should pass: %+v", got)
	}
	generic := &restError{Status: 400, Body: map[string]any{"@type": "generic_error", "message": "MISSING does not exist"}}
	if got := r.restErrorResult(c, generic); got.Status != Fail || got.Category != CatRESTErrorMatch {
		t.Fatalf("generic error for a statement error: %+v", got)
	}
	c.ExpectedError.Status = 404
	if got := r.restErrorResult(c, stmtErr); got.Status != Fail {
		t.Fatalf("status mismatch should fail: %+v", got)
	}
}
