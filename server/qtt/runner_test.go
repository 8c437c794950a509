package qtt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// fakeEngine stands in for exec/engine so the runner's flow is tested without it. Statements:
// "CREATE STREAM OUT ..." starts a query copying topic "in" to "OUT" (upper-casing value field
// names); statements containing FAIL_PARSE / FAIL_STMT fail; PANIC panics; HANG makes Quiesce
// block without looking at its context. A record whose value has "boom" fails processing.
type fakeEngine struct {
	mu       sync.Mutex
	topics   map[string][]engine.LogicalRecord
	copying  bool
	copied   int
	hang     chan struct{}
	quiesces int
}

func (f *fakeEngine) Execute(_ context.Context, _ *engine.Session, text string) ([]engine.Result, error) {
	switch {
	case strings.Contains(text, "FAIL_PARSE"):
		return nil, &engine.Error{Kind: engine.ParseError, Msg: "line 1:1: mismatched input 'FAIL_PARSE'"}
	case strings.Contains(text, "FAIL_STMT"):
		return nil, &engine.Error{Kind: engine.StatementError, Msg: "Stream FAIL_STMT does not exist"}
	case strings.Contains(text, "PANIC"):
		panic("fake engine panic")
	case strings.Contains(text, "HANG"):
		f.mu.Lock()
		f.hang = make(chan struct{})
		f.mu.Unlock()
	case strings.HasPrefix(text, "CREATE STREAM OUT"):
		f.copying = true
	}
	return []engine.Result{{Text: text}}, nil
}

func (f *fakeEngine) Query(context.Context, *engine.Session, string) (*engine.Cursor, error) {
	return nil, fmt.Errorf("no queries")
}
func (f *fakeEngine) InsertJSON(context.Context, *engine.Session, string, map[string]any) error {
	return nil
}
func (f *fakeEngine) CloseQuery(string) bool { return false }
func (f *fakeEngine) Close() error           { return nil }

func (f *fakeEngine) Source(name string) (*engine.SourceSummary, bool) {
	if name != "OUT" || !f.copying {
		return nil, false
	}
	return &engine.SourceSummary{Name: "OUT", Kind: "STREAM", KeyFormat: "KAFKA", ValueFormat: "JSON",
		Schema: &types.Schema{Columns: []types.Column{{Name: "K", Type: types.StringType, Namespace: types.KeyColumn}, {Name: "V", Type: types.BigintType}}}}, true
}

func (f *fakeEngine) Sources() []*engine.SourceSummary {
	if s, ok := f.Source("OUT"); ok {
		return []*engine.SourceSummary{s}
	}
	return nil
}

func (f *fakeEngine) ProduceLogical(_ context.Context, rec engine.LogicalRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topics[rec.Topic] = append(f.topics[rec.Topic], rec)
	return nil
}

func (f *fakeEngine) Quiesce(context.Context) error {
	f.mu.Lock()
	f.quiesces++
	hang := f.hang
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.copying {
		return nil
	}
	for ; f.copied < len(f.topics["in"]); f.copied++ {
		in := f.topics["in"][f.copied]
		out := in
		out.Topic = "OUT"
		if m, ok := in.Value.(map[string]any); ok {
			up := map[string]any{}
			for k, v := range m {
				if v == "boom" {
					return &engine.Error{Kind: engine.RuntimeError, Msg: "Numeric field overflow"}
				}
				if n, ok := v.(json.Number); ok {
					i, _ := n.Int64()
					v = i
				}
				up[strings.ToUpper(k)] = v
			}
			out.Value = up
		}
		f.topics["OUT"] = append(f.topics["OUT"], out)
	}
	return nil
}

func (f *fakeEngine) ReadLogical(_ context.Context, topic string) ([]engine.LogicalRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.LogicalRecord(nil), f.topics[topic]...), nil
}

func loadCases(t *testing.T, rest bool, text string) []*Case {
	t.Helper()
	sub := "query-validation-tests"
	if rest {
		sub = "rest-query-validation-tests"
	}
	p := writeFile(t, t.TempDir(), sub+"/fake.json", text)
	cases, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestRunnerWithFakeEngine(t *testing.T) {
	cases := loadCases(t, false, `{"tests": [
	  {"name": "copy", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": 1}, "timestamp": 5}, {"topic": "in", "key": "b", "value": {"v": 2}}],
	   "outputs": [{"topic": "OUT", "key": "a", "value": {"V": 1}, "timestamp": 5}, {"topic": "OUT", "key": "b", "value": {"V": 2}, "timestamp": 0}],
	   "post": {"sources": [{"name": "OUT", "type": "stream", "schema": "K STRING KEY, V BIGINT", "keyFormat": {"format": "KAFKA"}}],
	            "topics": {"blacklist": ".*-repartition"}}},
	  {"name": "mismatch", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": 1}}],
	   "outputs": [{"topic": "OUT", "key": "a", "value": {"V": 2}}]},
	  {"name": "missing output", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [], "outputs": [{"topic": "OUT", "key": "a", "value": {"V": 2}}]},
	  {"name": "post schema", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [], "outputs": [], "post": {"sources": [{"name": "OUT", "type": "stream", "schema": "K STRING KEY, V INT"}]}},
	  {"name": "post missing source", "statements": ["CREATE STREAM X AS SELECT * FROM IN;"],
	   "inputs": [], "outputs": [], "post": {"sources": [{"name": "OUT", "type": "stream"}]}},
	  {"name": "statement error", "statements": ["CREATE STREAM FAIL_STMT;"], "inputs": []},
	  {"name": "expected", "statements": ["CREATE STREAM FAIL_STMT;"],
	   "expectedException": {"type": "io.confluent.ksql.util.KsqlStatementException", "message": "does not exist"}},
	  {"name": "expected wrong message", "statements": ["CREATE STREAM FAIL_STMT;"],
	   "expectedException": {"type": "io.confluent.ksql.util.KsqlStatementException", "message": "Table"}},
	  {"name": "expected parse", "statements": ["FAIL_PARSE;"],
	   "expectedException": {"type": "io.confluent.ksql.parser.exception.ParseFailedException", "message": "mismatched input"}},
	  {"name": "expected not thrown", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "expectedException": {"type": "io.confluent.ksql.util.KsqlStatementException", "message": "x"}},
	  {"name": "expected runtime", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": "boom"}}],
	   "expectedException": {"type": "org.apache.kafka.streams.errors.StreamsException", "message": "Exception caught in process",
	                         "cause": "io.confluent.ksql.function.KsqlFunctionException", "causeMessage": "Numeric field overflow"}},
	  {"name": "unexpected runtime", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": "boom"}}], "outputs": []},
	  {"name": "panic", "statements": ["PANIC;"], "inputs": []},
	  {"name": "hang", "statements": ["HANG;"], "inputs": [{"topic": "in", "value": {}}]},
	  {"name": "avro", "statements": ["CREATE STREAM S WITH (kafka_topic='in', value_format='AVRO');"], "inputs": []}
	]}`)
	var engines []*fakeEngine
	var mu sync.Mutex
	r := &Runner{
		Timeout: 300 * time.Millisecond,
		OpenEngine: func(context.Context, engine.Config) (Engine, error) {
			f := &fakeEngine{topics: map[string][]engine.LogicalRecord{}}
			mu.Lock()
			engines = append(engines, f)
			mu.Unlock()
			return f, nil
		},
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range engines {
			f.mu.Lock()
			if f.hang != nil {
				close(f.hang)
			}
			f.mu.Unlock()
		}
	})
	results := r.Run(context.Background(), cases)
	want := map[string]string{ // case name -> "pass", "skip" or the failure category
		"copy":                   "pass",
		"mismatch":               CatOutput,
		"missing output":         CatOutput,
		"post schema":            CatPost,
		"post missing source":    CatPost,
		"statement error":        CatStatement,
		"expected":               "pass",
		"expected wrong message": CatExceptionMsg,
		"expected parse":         "pass",
		"expected not thrown":    CatNotThrown,
		"expected runtime":       "pass",
		"unexpected runtime":     CatRuntime,
		"panic":                  CatPanic,
		"hang":                   CatTimeout,
		"avro":                   "skip",
	}
	for i, res := range results {
		name := strings.TrimPrefix(res.Name, "fake - ")
		if res.Name != cases[i].Name {
			t.Fatalf("results out of order: %s vs %s", res.Name, cases[i].Name)
		}
		got := string(res.Status)
		if res.Status == Fail {
			got = res.Category
		}
		if got != want[name] {
			t.Errorf("%s: got %s (%s), want %s", name, got, res.Reason, want[name])
		}
	}
	if t.Failed() {
		var sb strings.Builder
		WriteReport(&sb, results)
		t.Log("\n" + sb.String())
	}
}

func TestFeedModes(t *testing.T) {
	cases := loadCases(t, false, `{"tests": [
	  {"name": "copy", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": 1}}, {"topic": "in", "key": "b", "value": {"v": 2}}, {"topic": "in", "key": "c", "value": {"v": 3}}],
	   "outputs": [{"topic": "OUT", "key": "a", "value": {"V": 1}}, {"topic": "OUT", "key": "b", "value": {"V": 2}}, {"topic": "OUT", "key": "c", "value": {"V": 3}}]}
	]}`)
	for _, tc := range []struct {
		feed     Feed
		quiesces int
	}{{FeedPerRecord, 3}, {FeedAll, 1}} {
		f := &fakeEngine{topics: map[string][]engine.LogicalRecord{}}
		r := &Runner{Feed: tc.feed, OpenEngine: func(context.Context, engine.Config) (Engine, error) { return f, nil }}
		res := r.RunCase(context.Background(), cases[0], t.TempDir()+"/case")
		if res.Status != Pass || f.quiesces != tc.quiesces {
			t.Errorf("feed %d: %s %s, %d quiesces (want %d)", tc.feed, res.Status, res.Reason, f.quiesces, tc.quiesces)
		}
	}
}

func TestRQTTWithFakeServer(t *testing.T) {
	cases := loadCases(t, true, `{"tests": [
	  {"name": "pull", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;", "SELECT * FROM OUT;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": 1}}],
	   "outputs": [{"topic": "OUT", "key": "a", "value": {"V": 1}}],
	   "responses": [{"admin": {"@type": "currentStatus"}},
	                 {"query": [{"header": {"schema": "`+"`K` STRING KEY, `V` BIGINT"+`"}}, {"row": {"columns": ["a", 1]}}]}]},
	  {"name": "wrong row", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;", "SELECT * FROM OUT;"],
	   "inputs": [{"topic": "in", "key": "a", "value": {"v": 1}}],
	   "responses": [{"admin": {"@type": "currentStatus"}},
	                 {"query": [{"header": {"schema": "`+"`K` STRING KEY, `V` BIGINT"+`"}}, {"row": {"columns": ["a", 2]}}]}]},
	  {"name": "error", "statements": ["CREATE STREAM OUT AS SELECT * FROM IN;", "SELECT * FROM MISSING;"],
	   "expectedError": {"type": "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage", "message": "MISSING does not exist", "status": 400}}
	]}`)
	handler := func(eng Engine) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /ksql", func(w http.ResponseWriter, r *http.Request) {
			var req struct{ Ksql string }
			_ = json.NewDecoder(r.Body).Decode(&req)
			if _, err := eng.Execute(r.Context(), engine.NewSession(), req.Ksql); err != nil {
				w.WriteHeader(400)
				return
			}
			fmt.Fprint(w, `[{"@type": "currentStatus"}]`)
		})
		mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
			var req struct{ Ksql string }
			_ = json.NewDecoder(r.Body).Decode(&req)
			if strings.Contains(req.Ksql, "MISSING") {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"@type": "statement_error", "error_code": 40001, "message": "MISSING does not exist", "statementText": "x", "entities": []}`)
				return
			}
			recs, _ := eng.ReadLogical(r.Context(), "OUT")
			fmt.Fprint(w, "[{\"header\":{\"queryId\":\"q\",\"schema\":\"`K` STRING KEY, `V` BIGINT\"}}")
			for _, rec := range recs {
				fmt.Fprintf(w, ",\n{\"row\":{\"columns\":[%q,%d]}}", rec.Key, rec.Value.(map[string]any)["V"])
			}
			fmt.Fprint(w, "]")
		})
		return mux
	}
	r := &Runner{
		OpenEngine: func(context.Context, engine.Config) (Engine, error) {
			return &fakeEngine{topics: map[string][]engine.LogicalRecord{}}, nil
		},
		RESTHandler: handler,
	}
	results := r.Run(context.Background(), cases)
	want := []string{"pass", CatResponse, "pass"}
	for i, res := range results {
		got := string(res.Status)
		if res.Status == Fail {
			got = res.Category
		}
		if got != want[i] {
			t.Errorf("%s: got %s (%s), want %s", res.Name, got, res.Reason, want[i])
		}
	}
}
