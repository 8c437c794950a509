package qtt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestStripComments(t *testing.T) {
	in := `{
  // a line comment with "quotes"
  "url": "https://cnfl.io/x", /* block
  comment */ "s": "a /* not a comment */ b",
  "esc": "quote \" // still string", "n": 1 // trailing
}`
	out := StripComments([]byte(in))
	if len(out) != len(in) {
		t.Fatalf("length changed: %d -> %d", len(in), len(out))
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("not JSON after stripping: %v\n%s", err, out)
	}
	want := map[string]any{
		"url": "https://cnfl.io/x",
		"s":   "a /* not a comment */ b",
		"esc": `quote " // still string`,
		"n":   float64(1),
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got %v, want %v", v, want)
	}
	// Newlines survive so that decoder offsets keep their line numbers.
	if got, want := countLines(out), countLines([]byte(in)); got != want {
		t.Fatalf("lines %d, want %d", got, want)
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadExpansion(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "query-validation-tests/elements.json", `{
  "comments": ["ignored"],
  "tests": [
    {"name": "plain", "statements": ["CREATE STREAM S (K INT KEY) WITH (kafka_topic='t', value_format='JSON');"],
     "inputs": [{"topic": "t", "key": 1, "value": {"A": 1.50}, "N4": "typo, ignored"}],
     "outputs": [{"topic": "OUT", "key": 1, "value": null, "timestamp": 7, "window": {"start": 0, "end": 10, "type": "TIME"},
                  "headers": [{"KEY": "h", "VALUE": "IQ=="}, {"KEY": "n", "VALUE": null}]}]},
    {"name": "fmt", "format": ["DELIMITED", "KAFKA"],
     "statements": ["CREATE STREAM S (V STRING) WITH (kafka_topic='t', value_format='{FORMAT}');"],
     "inputs": [{"topic": "t", "value": "x"}]},
    {"name": "cfg", "format": ["JSON"], "config": ["true", "false"],
     "properties": {"ksql.new.query.planner.enabled": "{CONFIG}", "ksql.other": 5, "flag": true},
     "statements": ["CREATE STREAM S WITH (kafka_topic='t', value_format='FOO');"],
     "expectedException": {"type": "io.confluent.ksql.util.KsqlStatementException", "message": "Unknown format: FOO"}},
    {"name": "off", "enabled": false, "statements": ["X;"], "outputs": []}
  ]
}`)
	cases, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cases {
		names = append(names, c.Name)
	}
	want := []string{
		"elements - plain",
		"elements - fmt - DELIMITED",
		"elements - fmt - KAFKA",
		"elements - cfg - JSON - ksql.new.query.planner.enabled=true",
		"elements - cfg - JSON - ksql.new.query.planner.enabled=false",
		"elements - off",
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names:\n got %q\nwant %q", names, want)
	}
	if got := cases[2].Statements[0]; got != "CREATE STREAM S (V STRING) WITH (kafka_topic='t', value_format='KAFKA');" {
		t.Fatalf("FORMAT not substituted: %s", got)
	}
	if got := cases[1].Statements[0]; got != "CREATE STREAM S (V STRING) WITH (kafka_topic='t', value_format='DELIMITED');" {
		t.Fatalf("FORMAT not substituted per variant: %s", got)
	}
	if got := cases[4].Properties; got["ksql.new.query.planner.enabled"] != "false" || got["ksql.other"] != "5" || got["flag"] != "true" {
		t.Fatalf("properties: %v", got)
	}
	if cases[3].Properties["ksql.new.query.planner.enabled"] != "true" {
		t.Fatalf("config variants share properties: %v", cases[3].Properties)
	}
	if cases[5].Enabled || !cases[0].Enabled {
		t.Fatalf("enabled flags wrong")
	}
	if cases[0].REST || cases[0].File != "elements" || cases[0].Area != AreaFormats {
		t.Fatalf("file info: %+v", cases[0])
	}

	in := cases[0].Inputs[0]
	if in.HasTimestamp || in.Key != json.Number("1") {
		t.Fatalf("input: %+v", in)
	}
	if v := in.Value.(map[string]any)["A"]; v != json.Number("1.50") {
		t.Fatalf("decimal literal not kept exactly: %#v", v)
	}
	out := cases[0].Outputs[0]
	if out.Value != nil || !out.HasTimestamp || out.Timestamp != 7 {
		t.Fatalf("output: %+v", out)
	}
	if out.Window == nil || *out.Window != (Window{Start: 0, End: 10, Type: "time"}) {
		t.Fatalf("window: %+v", out.Window)
	}
	wantH := []Header{{Key: "h", Value: []byte("!")}, {Key: "n"}}
	if !out.HasHeaders || !reflect.DeepEqual(out.Headers, wantH) {
		t.Fatalf("headers: %+v", out.Headers)
	}
	if e := cases[3].ExpectedException; e == nil || e.Message != "Unknown format: FOO" {
		t.Fatalf("expectedException: %+v", e)
	}
}

func TestLoadRQTT(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "rest-query-validation-tests/push-queries.json", `{"tests": [
  {"name": "q", "statements": ["CREATE STREAM I (K STRING KEY, ID INT) WITH (kafka_topic='t', value_format='JSON');",
                               "SELECT * FROM I EMIT CHANGES LIMIT 1;"],
   "inputs": [{"topic": "t", "key": "a", "value": {"id": 1}}],
   "outputConditions": {"verifyOrder": true},
   "responses": [{"admin": {"@type": "currentStatus"}},
                 {"query": [{"header": {"schema": "`+"`K` STRING, `ID` INTEGER"+`"}}, {"row": {"columns": ["a", 1]}}, {"finalMessage": "Limit Reached"}]}]},
  {"name": "e", "statements": ["SELECT * FROM X;"],
   "expectedError": {"type": "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage", "message": "X does not exist", "status": 400}}
]}`)
	cases, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || !cases[0].REST || cases[0].Area != AreaRESTPush {
		t.Fatalf("cases: %+v", cases)
	}
	c := cases[0]
	if !c.VerifyOrder || len(c.Responses) != 2 || c.Responses[0].Admin == nil || !c.Responses[1].IsQuery || len(c.Responses[1].Query) != 3 {
		t.Fatalf("responses: %+v", c.Responses)
	}
	if e := cases[1].ExpectedError; e == nil || e.Status != 400 {
		t.Fatalf("expectedError: %+v", e)
	}
	admin, queries, err := splitRESTStatements(c.Statements)
	if err != nil || len(admin) != 1 || len(queries) != 1 {
		t.Fatalf("split: %v %v %v", admin, queries, err)
	}
	if _, _, err := splitRESTStatements([]string{"SELECT 1;", "CREATE STREAM X;"}); err == nil {
		t.Fatal("a statement after a SELECT must be rejected")
	}
	if n := expectedElems(c, 0); n != 0 {
		t.Fatalf("a response with finalMessage is read to the end, got want=%d", n)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.json", `{"tests": [{"name": "x", "statements": []}]}`)
	writeFile(t, dir, "b.json", `{"tests": [{"name": "y", "statements": ["S;"], "inputs": []}]}`)
	cases, errs := LoadPaths(dir)
	if len(errs) != 1 || len(cases) != 1 || cases[0].Name != "b - y" {
		t.Fatalf("cases %v, errs %v", cases, errs)
	}
}

func TestSourceTopic(t *testing.T) {
	for _, tc := range []struct {
		stmt string
		want Topic
		ok   bool
	}{
		{"CREATE STREAM S (K INT KEY) WITH (kafka_topic='in', value_format='JSON');", Topic{Name: "in"}, true},
		{"create or replace table T (K INT PRIMARY KEY) with (KAFKA_TOPIC = 'x''y', PARTITIONS=4);", Topic{Name: "x'y", Partitions: 4}, true},
		{"CREATE SOURCE TABLE T (K INT PRIMARY KEY) WITH (kafka_topic='t', format='JSON');", Topic{Name: "t"}, true},
		{"CREATE STREAM S WITH (kafka_topic='o') AS SELECT * FROM I;", Topic{}, false},
		{"INSERT INTO S VALUES (1);", Topic{}, false},
	} {
		got, ok := sourceTopic(tc.stmt)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.stmt, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSkipReason(t *testing.T) {
	mk := func(stmts ...string) *Case {
		return &Case{Enabled: true, Statements: stmts, Properties: map[string]string{}}
	}
	for _, tc := range []struct {
		c    *Case
		want string
	}{
		{mk("CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='JSON');"), ""},
		{mk("CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='avro');"), SkipRegistryPrefix + "AVRO"},
		{mk("CREATE STREAM S (A INT) WITH (kafka_topic='t', key_format='JSON_SR', value_format='JSON');"), SkipRegistryPrefix + "JSON_SR"},
		{mk("CREATE STREAM S (A INT) WITH (kafka_topic='t', format = 'PROTOBUF');"), SkipRegistryPrefix + "PROTOBUF"},
		{mk("CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='PROTOBUF_NOSR');"), ""},
		{mk("CREATE STREAM O AS SELECT test_udf(A) FROM S;"), SkipTestUDF},
		{mk("CREATE STREAM O AS SELECT GENERIC_VAR_ARG (A) FROM S;"), SkipTestUDF},
		{mk("CREATE STREAM O AS SELECT MY_VAR_ARGS(A) FROM S;"), ""},
		{&Case{Enabled: false, Statements: []string{"X;"}}, SkipDisabled},
		{&Case{Enabled: true, Statements: []string{"X;"}, Properties: map[string]string{"ksql.persistence.default.format.value": "AVRO"}}, SkipRegistryPrefix + "AVRO"},
		{&Case{Enabled: true, Statements: []string{"X;"}, Topics: []Topic{{Name: "t", ValueFormat: "JSON_SR"}}}, SkipRegistryPrefix + "JSON_SR"},
		{&Case{Enabled: true, Statements: []string{"X;"}, REST: true, TestPullWithProtoFormat: true}, SkipProtoPull},
	} {
		if got := SkipReason(tc.c, false); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.c.Statements, got, tc.want)
		}
	}
	if got := SkipReason(&Case{Enabled: true, Statements: []string{"X;"}, TestPullWithProtoFormat: true}, true); got != "" {
		t.Errorf("proto enabled: got %q", got)
	}
}
