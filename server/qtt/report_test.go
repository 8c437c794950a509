package qtt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleResults() []Result {
	return []Result{
		{Name: "joins - a", File: "joins", Status: Pass, Area: AreaJoins},
		{Name: "joins - b", File: "joins", Status: Fail, Category: CatOutput, Reason: "T[0]: value: x\n    expected: a\n    actual:   b", Area: AreaJoins},
		{Name: "sum - c - AVRO", File: "sum", Status: Skip, Reason: SkipRegistryPrefix + "AVRO", Area: AreaAggregation},
		{Name: "push-queries - d", File: "push-queries", Status: Pass, Area: AreaRESTPush, REST: true},
	}
}

func TestWriteReport(t *testing.T) {
	var buf bytes.Buffer
	WriteReport(&buf, sampleResults())
	out := buf.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "2 passed, 1 failed, 1 skipped" {
		t.Fatalf("closing line %q\n%s", last, out)
	}
	if !strings.Contains(out, "FAIL joins - b: [output mismatch] T[0]: value: x | expected: a | actual:   b\n") {
		t.Fatalf("failure line missing or not on one line:\n%s", out)
	}
	for _, want := range []string{"rest/push-queries", "joins", "1  " + SkipRegistryPrefix + "AVRO", "1  " + CatOutput} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestConformanceMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteConformanceMarkdown(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"| joins | 2 | 1 | 1 | 0 | 50.0% |",
		"| aggregation | 1 | 0 | 0 | 1 | n/a |",
		"| REST push | 1 | 1 | 0 | 0 | 100.0% |",
		"| **total** | 4 | 2 | 1 | 1 | 66.7% |",
		"| " + SkipRegistryPrefix + "AVRO | 1 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestGuardAndJSON(t *testing.T) {
	res := sampleResults()
	v := GuardViolations([]string{"joins - a", "joins - b", "gone", "sum - c - AVRO"}, res, nil)
	if len(v) != 3 || !strings.Contains(v[0], "joins - b") || !strings.Contains(v[1], "not found: gone") || !strings.Contains(v[2], "skip") {
		t.Fatalf("violations: %q", v)
	}
	// Cases filtered out of the run are not violations.
	v = GuardViolations([]string{"gone"}, res, func(n string) bool { return strings.HasPrefix(n, "joins") })
	if len(v) != 0 {
		t.Fatalf("filtered guard: %q", v)
	}
	if got := PassingNames(res); strings.Join(got, ",") != "joins - a,push-queries - d" {
		t.Fatalf("passing: %v", got)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back) != 4 {
		t.Fatalf("json: %v %s", err, buf.String())
	}
	for _, k := range []string{"name", "file", "status", "reason", "area"} {
		if _, ok := back[1][k]; !ok {
			t.Errorf("json result lacks %q: %v", k, back[1])
		}
	}
}

// TestMainSkipsOnly drives the command on cases that are all skipped, so it needs no engine.
func TestMainSkipsOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "query-validation-tests/x.json", `{"tests": [
	  {"name": "off", "enabled": false, "statements": ["S;"], "inputs": []},
	  // comments are fine
	  {"name": "sr", "format": ["AVRO", "PROTOBUF"], "statements": ["CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='{FORMAT}');"], "inputs": []},
	  {"name": "udf", "statements": ["CREATE STREAM O AS SELECT TEST_UDF(A) FROM S;"], "inputs": []}
	]}`)
	guard := writeFile(t, dir, "guard.txt", "# comment\n\nx - off\n")
	jsonPath := filepath.Join(dir, "out.json")
	passing := filepath.Join(dir, "passing.txt")
	md := filepath.Join(dir, "conf.md")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"test-qtt", filepath.Join(dir, "query-validation-tests"), "--json", jsonPath,
		"--write-passing", passing, "--conformance", md, "--run", "x - (off|sr|udf)"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.HasSuffix(stdout.String(), "0 passed, 0 failed, 4 skipped\n") {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
	for _, p := range []string{jsonPath, passing, md} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("output file: %v", err)
		}
	}
	// A guarded case that was skipped did not pass: exit 1.
	stdout.Reset()
	stderr.Reset()
	code = Main([]string{filepath.Join(dir, "query-validation-tests"), "--guard", guard}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "x - off") {
		t.Fatalf("guard: exit %d, stderr %s", code, stderr.String())
	}
	if code := Main([]string{"--run", "("}, &stdout, &stderr); code != 2 {
		t.Fatalf("bad usage: exit %d", code)
	}
}
