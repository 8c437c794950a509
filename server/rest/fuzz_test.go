package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzKsqlRequest feeds arbitrary bodies to the decoders of /ksql (and /query, same body) and
// /query-stream, and to the full handlers. Invariants:
//   - nothing panics;
//   - a decoding error is a 400 (or 413 for an oversized body) whose body is a well-formed
//     generic_error with error_code status x 100;
//   - a body the decoder accepts has the required field, and the handler answers 200 with
//     valid JSON (/ksql) or a stream (/query-stream), or the engine's 4xx.
func FuzzKsqlRequest(f *testing.F) {
	for _, s := range []string{
		`{"ksql": "SHOW STREAMS;"}`,
		`{"ksql": "CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='JSON');", "streamsProperties": {"auto.offset.reset": "earliest"}}`,
		`{"ksql": "SELECT * FROM PULL;", "sessionVariables": {"a": 1, "b": [1, "x"], "c": null}, "commandSequenceNumber": 3}`,
		`{"sql": "SELECT * FROM PULL;", "properties": {"x": true}}`,
		`{"sql": "SELECT * FROM TYPES;"}`,
		`{"ksql": "x", "unknown": 1}`,
		`{"ksql": 1}`,
		`[]`, `null`, ``, `{`, `{"ksql": "a"} trailing`, "\xff\xfe", `{"ksql": "\ud800"}`,
		`{"streamsProperties": {"a": {"b": 1}}, "ksql": ""}`,
	} {
		f.Add([]byte(s))
	}
	be := newFakeBackend()
	be.noPush = true
	h := New(be, Config{MaxBodyBytes: 4096})
	f.Fuzz(func(t *testing.T, body []byte) {
		if req, e := parseKsqlRequest(body); e != nil {
			checkDecodeError(t, e)
		} else if req.Ksql == nil {
			t.Fatal("accepted /ksql body without ksql")
		}
		if req, e := parseQueryStreamRequest(body); e != nil {
			checkDecodeError(t, e)
		} else if req.SQL == nil {
			t.Fatal("accepted /query-stream body without sql")
		}
		for _, path := range []string{"/ksql", "/query-stream"} {
			ctx, cancel := context.WithCancel(context.Background())
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			cancel()
			res := w.Result()
			out, _ := io.ReadAll(res.Body)
			switch {
			case res.StatusCode == 200:
				if path == "/ksql" && !json.Valid(out) {
					t.Fatalf("%s: 200 with invalid JSON %q", path, out)
				}
			case res.StatusCode >= 400 && res.StatusCode < 500:
				var eb errorBody
				if err := json.Unmarshal(out, &eb); err != nil || eb.ErrorCode/100 != res.StatusCode ||
					!strings.HasSuffix(eb.Type, "_error") || eb.Message == "" {
					t.Fatalf("%s: %d with bad error body %q", path, res.StatusCode, out)
				}
			default:
				// The fake backend fails "BOOM" statements with a plain error: a 500 by design.
				if !bytes.Contains(bytes.ToUpper(body), []byte("BOOM")) {
					t.Fatalf("%s: unexpected status %d: %s", path, res.StatusCode, out)
				}
			}
		}
	})
}

func checkDecodeError(t *testing.T, e *apiError) {
	t.Helper()
	if e.status != http.StatusBadRequest || e.code != codeBadRequest || e.msg == "" || e.statement {
		t.Fatalf("decode error %+v, want a 400 generic_error with a message", e)
	}
	b, err := marshalJSON(e.body())
	if err != nil || !json.Valid(b) {
		t.Fatalf("error body %q: %v", b, err)
	}
}
