package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// TestPlanFiles runs testdata/plan/*.test: `statement` runs DDL (printing ok or the error),
// `explain` prints EXPLAIN's logical and execution plans, `plan` runs a statement and prints
// the command it appended to the command log (for a persistent query: its execution plan).
// Regenerate with -rewrite.
func TestPlanFiles(t *testing.T) {
	datadriven.Walk(t, filepath.Join("..", "..", "testdata", "plan"), func(t *testing.T, path string) {
		lg, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close()
		e, err := Open(context.Background(), Config{Log: lg, Deterministic: true})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		s := NewSession()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			ctx := context.Background()
			switch d.Cmd {
			case "statement":
				if _, err := e.Execute(ctx, s, d.Input); err != nil {
					return "error: " + errText(err) + "\n"
				}
				return "ok\n"
			case "plan":
				if _, err := e.Execute(ctx, s, d.Input); err != nil {
					return "error: " + errText(err) + "\n"
				}
				cmd, err := lastCommand(ctx, lg)
				if err != nil {
					t.Fatal(err)
				}
				return cmd
			case "explain":
				res, err := e.Execute(ctx, s, "EXPLAIN "+d.Input)
				if err != nil {
					return "error: " + errText(err) + "\n"
				}
				desc := res[0].Entity["queryDescription"].(map[string]any)
				return fmt.Sprint(desc["executionPlan"])
			}
			t.Fatalf("unknown directive %s", d.Cmd)
			return ""
		})
	})
}

// lastCommand returns the newest command-log entry, indented.
func lastCommand(ctx context.Context, lg storage.Log) (string, error) {
	var last []byte
	for off := int64(0); ; {
		recs, err := lg.Read(ctx, CommandTopic, 0, off, 1000, 0)
		if err != nil {
			return "", err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			last, off = r.Value, r.Offset+1
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, last, "", "  "); err != nil {
		return "", err
	}
	return out.String() + "\n", nil
}

func errText(err error) string {
	var ee *Error
	if errors.As(err, &ee) {
		return strings.ReplaceAll(ee.Msg, "\n", " | ")
	}
	return err.Error()
}

// TestExplainNamesSinks: EXPLAIN of a running query, and of a CSAS statement, names the sink
// in queryDescription.sinks, as ksqlDB's does; EXPLAIN of a SELECT names none.
func TestExplainNamesSinks(t *testing.T) {
	e, _, _ := openBadgerEngine(t, t.TempDir(), true)
	s := NewSession()
	execAll(t, e, s,
		`CREATE STREAM src (id STRING KEY, v INT) WITH (kafka_topic='src', value_format='JSON', partitions=1);`,
		`CREATE STREAM big AS SELECT id, v FROM src WHERE v > 10;`)
	for stmt, want := range map[string]string{
		"EXPLAIN CSAS_BIG_0;": "[BIG]",
		"EXPLAIN CREATE STREAM small AS SELECT id, v FROM src WHERE v < 10;": "[SMALL]",
		"EXPLAIN SELECT * FROM src EMIT CHANGES;":                            "[]",
	} {
		res, err := e.Execute(context.Background(), s, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		desc := res[0].Entity["queryDescription"].(map[string]any)
		if got := fmt.Sprint(desc["sinks"]); got != want {
			t.Errorf("%s: sinks %s, want %s", stmt, got, want)
		}
	}
}
