package parse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sluicedb/sluice/sql/ast"
)

// TestDataDriven runs testdata/parse/*.test. Directives:
//
//	parse [tree] [vars=(NAME=value,...)]  statements → Format of each (or the full tree)
//	error [vars=(...)]                   statements → the error Parse returns
//	expr [tree]                          one expression → FormatExpr (or tree), or its error
//	type                                 one type → FormatType, or its error
//	split                                text → the pieces Split finds
//
// Regenerate expected output with: go test ./sql/parse -rewrite
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "../../testdata/parse", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			vars := map[string]string{}
			for _, a := range d.CmdArgs {
				if a.Key == "vars" {
					for _, kv := range a.Vals {
						k, v, _ := strings.Cut(kv, "=")
						vars[k] = v
					}
				}
			}
			switch d.Cmd {
			case "parse":
				sts, err := Parse(d.Input, vars)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var sb strings.Builder
				for _, st := range sts {
					if d.HasArg("tree") {
						sb.WriteString(dumpTree(st))
					} else {
						sb.WriteString(Format(st) + "\n")
					}
					checkRoundTrip(t, d.Pos, st)
				}
				return sb.String()
			case "error":
				_, err := Parse(d.Input, vars)
				if err == nil {
					return "no error\n"
				}
				return err.Error() + "\n"
			case "expr":
				e, err := ParseExpr(d.Input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				if d.HasArg("tree") {
					return dumpTree(e)
				}
				out := FormatExpr(e)
				if again, err := ParseExpr(out); err != nil || FormatExpr(again) != out {
					t.Errorf("%s: round trip of %q failed: %v", d.Pos, out, err)
				}
				return out + "\n"
			case "type":
				ty, err := ParseType(d.Input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				return FormatType(ty) + "\n"
			case "split":
				var sb strings.Builder
				for _, p := range Split(d.Input) {
					fmt.Fprintf(&sb, "%d:%d @%d %q\n", p.Line, p.Col, p.Offset, p.Text)
				}
				return sb.String()
			}
			t.Fatalf("%s: unknown directive %q", d.Pos, d.Cmd)
			return ""
		})
	})
}

// checkRoundTrip asserts the canonical text of st parses to the same canonical text.
func checkRoundTrip(t *testing.T, where string, st ast.Statement) {
	t.Helper()
	out := Format(st)
	again, err := Parse(out, nil)
	if err != nil || len(again) != 1 {
		t.Errorf("%s: canonical text %q does not parse: %v", where, out, err)
		return
	}
	if out2 := Format(again[0]); out2 != out {
		t.Errorf("%s: round trip changed\n  %s\n  %s", where, out, out2)
	}
}
