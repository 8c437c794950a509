package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/sluicedb/sluice/storage/embedded"
)

// TestPlanFiles runs testdata/plan/*.test: `statement` runs DDL (printing ok or the error),
// `explain` prints EXPLAIN's logical and execution plans. Regenerate with -rewrite.
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

func errText(err error) string {
	var ee *Error
	if errors.As(err, &ee) {
		return strings.ReplaceAll(ee.Msg, "\n", " | ")
	}
	return err.Error()
}
