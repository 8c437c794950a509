package parse

import (
	"strings"
	"sync"
	"testing"

	"github.com/sluicedb/sluice/sql/ast"
)

// TestTiDBErrorMapping checks that a syntax error found by TiDB in rewritten text is reported at
// the original token: the front end catches nearly everything first, so this path is otherwise
// hard to reach from SQL.
func TestTiDBErrorMapping(t *testing.T) {
	text := "SELECT a,\n  b c d FROM s;"
	p := newParser(text, newLineIndex(text), lex(text), nil)
	w := newRewriter()
	// "a , b c d": TiDB takes `b c` as an alias and fails on d.
	w.emit(identPH(w.add(side{kind: sIdent, name: "A"})), p.toks[1].off)
	w.emit(",", p.toks[2].off)
	for _, tok := range p.toks[3:6] {
		w.emit(identPH(w.add(side{kind: sIdent, name: tok.val})), tok.off)
	}
	txt, segs := w.assemble("main")
	if p.parseSelect("SELECT "+txt, shift(segs, 7)); p.err == nil {
		t.Fatal("want error")
	}
	if got := p.err.Error(); !strings.HasPrefix(got, "line 2:7: Syntax Error") {
		t.Fatalf("got %q", got)
	}
}

func shift(segs []seg, n int) []seg {
	out := []seg{{at: 0, off: 0}}
	for _, s := range segs {
		out = append(out, seg{at: s.at + n, off: s.off})
	}
	return out
}

// TestStatementText checks Text is the statement's own source, ';' included, and EXPLAIN's inner
// statement gets its own text.
func TestStatementText(t *testing.T) {
	sts, err := Parse("  -- c\n SHOW STREAMS ;EXPLAIN  SELECT * FROM s;\nSELECT 1 FROM s", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SHOW STREAMS ;", "EXPLAIN  SELECT * FROM s;", "SELECT 1 FROM s"}
	for i, st := range sts {
		if st.StmtText() != want[i] {
			t.Errorf("%d: %q, want %q", i, st.StmtText(), want[i])
		}
	}
	if got := sts[1].(*ast.Explain).Statement.StmtText(); got != "SELECT * FROM s;" {
		t.Errorf("inner: %q", got)
	}
	if p := sts[0].StmtPos(); p != (ast.Pos{Line: 2, Col: 2}) {
		t.Errorf("pos %v", p)
	}
}

// TestConcurrent parses from many goroutines: TiDB parsers come from a pool and must never be
// shared (run with -race).
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				sts, err := Parse("SELECT a->b, f(x) FROM s WHERE x > 1 EMIT CHANGES;", nil)
				if err != nil || len(sts) != 1 {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestErrorForms pins the three position formats ksqlDB uses and Brief.
func TestErrorForms(t *testing.T) {
	for _, c := range []struct {
		e           *Error
		full, brief string
	}{
		{&Error{Line: 2, Col: 74, Kind: Syntax, Msg: "missing ')' at ','"}, "line 2:74: Syntax Error\nmissing ')' at ','", "line 2:74: Syntax Error"},
		{&Error{Line: 1, Col: 3, Kind: Semantic, Msg: "m"}, "line 1:3: m", "line 1:3: m"},
		{&Error{Line: 1, Col: 22, Kind: Semantic, Msg: "m", style: styleNodeLocation}, "Line: 1, Col: 22: m", "Line: 1, Col: 22: m"},
		{&Error{Line: 2, Col: 39, Kind: Semantic, Msg: "m", style: styleShifted}, "Failed to prepare statement: line 2:40: m", "Failed to prepare statement: line 2:40: m"},
	} {
		if c.e.Error() != c.full || c.e.Brief() != c.brief {
			t.Errorf("%q / %q", c.e.Error(), c.e.Brief())
		}
	}
}

func BenchmarkParse(b *testing.B) {
	const q = "CREATE TABLE OUTPUT AS SELECT ID, COUNT(*) AS CNT, SUM(V->F[1]) FROM S1 JOIN S2 WITHIN 1 MINUTE ON S1.ID = S2.ID WINDOW TUMBLING (SIZE 1 SECOND) WHERE V > 10 AND NAME LIKE '%x' GROUP BY ID EMIT CHANGES;"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(q, nil); err != nil {
			b.Fatal(err)
		}
	}
}
