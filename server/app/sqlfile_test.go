package app_test

// TestSQLFiles runs the end-to-end cases in testdata/exec/*.test against a real server over
// REST, one fresh server (and data dir) per file. Regenerate expectations with
//
//	go test ./server/app -run TestSQLFiles -rewrite
//
// and review the diff. Directives:
//
//	statement          runs the input through POST /ksql; prints "ok", or
//	                   "error <error_code>: <message>" for a failure
//	insert             runs the input (INSERT statements, or anything /ksql takes) and expects
//	                   success; prints nothing
//	query [within=10s] a pull query through POST /query-stream; prints the column names, then
//	                   one JSON array per row. Pull queries read committed state, so it is
//	                   retried until the output matches three times in a row, or the deadline
//	                   passes. Errors print as for statement.
//	push limit=N [from=beginning]
//	                   the input's first statement is a push query; once the server lists it,
//	                   the remaining statements run through /ksql; then N rows are collected
//	                   (the query is closed after N rows) and printed as for query

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

func TestSQLFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/exec/*.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/exec/*.test files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s := startServer(t, "")
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				s := s.on(t)
				switch d.Cmd {
				case "statement":
					return s.fileStatement(d.Input)
				case "insert":
					if _, err := s.tryKsql(d.Input); err != nil {
						t.Fatalf("%s: insert failed: %v", d.Pos, err)
					}
					return ""
				case "query":
					within := 10 * time.Second
					if d.HasArg("within") {
						var w string
						d.ScanArgs(t, "within", &w)
						if within, err = time.ParseDuration(w); err != nil {
							t.Fatalf("%s: within=%q: %v", d.Pos, w, err)
						}
					}
					return d.RetryFor(t, within, func() string { return s.fileQuery(d.Input) })
				case "push":
					var limit int
					d.ScanArgs(t, "limit", &limit)
					var from string
					d.MaybeScanArgs(t, "from", &from)
					return s.filePush(t, d, limit, from == "beginning")
				default:
					t.Fatalf("%s: unknown directive %q", d.Pos, d.Cmd)
					return ""
				}
			})
		})
	}
}

func formatError(err error) string {
	if ke, ok := err.(*ksqlError); ok {
		return fmt.Sprintf("error %v: %s", ke.body["error_code"], ke.message())
	}
	return "error: " + err.Error()
}

func (s *testServer) fileStatement(sql string) string {
	if _, err := s.tryKsql(sql); err != nil {
		return formatError(err)
	}
	return "ok"
}

// formatRows prints column names then one JSON array per row.
func formatRows(meta map[string]any, rows [][]any) string {
	var sb strings.Builder
	var names []string
	if cols, ok := meta["columnNames"].([]any); ok {
		for _, c := range cols {
			names = append(names, fmt.Sprint(c))
		}
	}
	sb.WriteString(strings.Join(names, ", "))
	sb.WriteByte('\n')
	for _, r := range rows {
		b, _ := json.Marshal(r)
		sb.Write(b)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func (s *testServer) fileQuery(sql string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.queryStream(ctx, sql, nil)
	if err != nil {
		return formatError(err)
	}
	out := formatRows(res.meta, res.rows)
	for _, e := range res.errs {
		out += fmt.Sprintf("error %v: %v\n", e["error_code"], e["message"])
	}
	return out
}

// splitFirst separates the first statement (up to the first line ending in ';') from the rest.
func splitFirst(input string) (string, string) {
	lines := strings.Split(input, "\n")
	for i, l := range lines {
		if strings.HasSuffix(strings.TrimSpace(l), ";") {
			return strings.Join(lines[:i+1], "\n"), strings.Join(lines[i+1:], "\n")
		}
	}
	return input, ""
}

func (s *testServer) filePush(t *testing.T, d *datadriven.TestData, limit int, fromBeginning bool) string {
	query, rest := splitFirst(d.Input)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := map[string]any{"sql": query}
	if fromBeginning {
		req["properties"] = earliest
	}
	b, _ := json.Marshal(req)
	hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/query-stream"), strings.NewReader(string(b)))
	hr.Header.Set("Accept", "application/vnd.ksqlapi.delimited.v1")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s: %v", d.Pos, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		var eb map[string]any
		_ = decodeJSON(body, &eb)
		return formatError(&ksqlError{status: resp.StatusCode, body: eb})
	}
	br := bufio.NewReader(resp.Body)
	metaLine, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: reading the metadata: %v", d.Pos, err)
	}
	var meta map[string]any
	if err := decodeJSON([]byte(metaLine), &meta); err != nil {
		t.Fatalf("%s: metadata %q: %v", d.Pos, metaLine, err)
	}
	if strings.TrimSpace(rest) != "" {
		if _, err := s.tryKsql(rest); err != nil {
			t.Fatalf("%s: statements after the push query: %v", d.Pos, err)
		}
	}
	var rows [][]any
	var extra string
	for len(rows) < limit {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: after %d of %d rows: %v", d.Pos, len(rows), limit, err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line[0] == '{' {
			extra += line + "\n"
			break
		}
		var row []any
		if err := decodeJSON([]byte(line), &row); err != nil {
			t.Fatalf("%s: row %q: %v", d.Pos, line, err)
		}
		rows = append(rows, row)
	}
	return formatRows(meta, rows) + extra
}
