package parse

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedCorpus adds the conformance statements (when present) and a few hand-written ones.
func seedCorpus(f *testing.F, expr bool) {
	for _, s := range loadCorpus(f) {
		if expr {
			// Seed expressions with the WHERE clauses and projections of corpus queries.
			u := strings.ToUpper(s.text)
			if i := strings.Index(u, " WHERE "); i > 0 {
				f.Add(strings.TrimSuffix(s.text[i+7:], ";"))
			}
			continue
		}
		f.Add(s.text)
	}
	for _, s := range []string{
		"SELECT a->b[1], MAP('k' := ARRAY[1]), STRUCT(F := x) FROM s WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY a EMIT CHANGES;",
		"SELECT * FROM a LEFT JOIN b WITHIN (1 SECOND, 2 SECONDS) GRACE PERIOD 1 SECOND ON a.x = b.x PARTITION BY a.x EMIT CHANGES LIMIT 1;",
		"TRANSFORM(m, (k, v) => k, (k, v) => v + 1) IS NOT DISTINCT FROM NULL",
		"CAST(x AS ARRAY<STRUCT<A INT, `b` MAP<STRING, DECIMAL(4,2)>>>)",
		"x NOT LIKE 'a' ESCAPE '!' OR y NOT BETWEEN 1 AND 2 OR z NOT IN (1, 2)",
		"DEFINE v = 'x'; PRINT '${v}' FROM BEGINNING LIMIT 2; SET 'a'='b'; ASSERT TOPIC t TIMEOUT 1 SECOND;",
	} {
		f.Add(s)
	}
}

// checkErr asserts the invariants every error obeys: it is an *Error with a position inside the
// input, and its message names that position.
func checkErr(t *testing.T, in string, err error) {
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("%q: error %T is not *Error: %v", in, err, err)
	}
	if strings.Contains(pe.Msg, "internal parser error") {
		t.Fatalf("%q: recovered panic: %v", in, pe)
	}
	lines := strings.Count(in, "\n") + 1
	if pe.Line < 1 || pe.Line > lines || pe.Col < 1 {
		t.Fatalf("%q: position %d:%d outside input", in, pe.Line, pe.Col)
	}
	line := strings.Split(in, "\n")[pe.Line-1]
	if pe.Col > utf8.RuneCountInString(line)+1 {
		t.Fatalf("%q: column %d beyond line %q", in, pe.Col, line)
	}
	if !strings.Contains(pe.Error(), "line ") && !strings.Contains(pe.Error(), "Line: ") {
		t.Fatalf("%q: message without position: %q", in, pe.Error())
	}
}

// FuzzParse: Parse never panics, every error carries a position inside the input, and any
// statement that parses formats to text that parses again to the same text.
func FuzzParse(f *testing.F) {
	seedCorpus(f, false)
	f.Fuzz(func(t *testing.T, in string) {
		sts, err := Parse(in, map[string]string{"v": "1"})
		if err != nil {
			checkErr(t, in, err)
			return
		}
		for _, st := range sts {
			out := Format(st)
			again, err := Parse(out, nil)
			if err != nil {
				t.Fatalf("%q: canonical %q does not parse: %v", in, out, err)
			}
			if len(again) != 1 || Format(again[0]) != out {
				t.Fatalf("%q: canonical %q is not stable", in, out)
			}
		}
	})
}

// FuzzParseExpr: ParseExpr never panics, errors carry positions, and FormatExpr round-trips.
func FuzzParseExpr(f *testing.F) {
	seedCorpus(f, true)
	f.Fuzz(func(t *testing.T, in string) {
		e, err := ParseExpr(in)
		if err != nil {
			checkErr(t, in, err)
			return
		}
		out := FormatExpr(e)
		again, err := ParseExpr(out)
		if err != nil {
			t.Fatalf("%q: canonical %q does not parse: %v", in, out, err)
		}
		if FormatExpr(again) != out {
			t.Fatalf("%q: canonical %q is not stable", in, out)
		}
	})
}
