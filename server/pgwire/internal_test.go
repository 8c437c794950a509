package pgwire

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestNumericBinaryRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "12.34", "-0.0001", "10000", "123456789.123456789", "0.5", "99999999999999999999.01"} {
		d := decimal.RequireFromString(s)
		got, err := decodeNumericBinary(appendNumericBinary(nil, d, -1))
		if err != nil {
			t.Fatal(err)
		}
		if !decimal.RequireFromString(got).Equal(d) {
			t.Errorf("%s: got %s", s, got)
		}
	}
}

func TestSplitLexical(t *testing.T) {
	pieces, err := splitLexical("SELECT ';' ; /* ; */ SELECT E'\\';' -- ;\n; SELECT `a;b`, \"c;d\", $$;$$")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT ';' ;", "SELECT E'\\';' -- ;\n;", "SELECT `a;b`, \"c;d\", $$;$$"}
	if len(pieces) != len(want) {
		t.Fatalf("got %v", pieces)
	}
	for i, p := range pieces {
		if p.text != want[i] {
			t.Errorf("piece %d: %q want %q", i, p.text, want[i])
		}
	}
}

func TestSubstituteParams(t *testing.T) {
	text := "SELECT '$1', $1, $2 FROM t WHERE a = $2 -- $3"
	toks, _ := lex(text)
	got, err := substituteParams(text, toks, []string{"'x''y'", "42"})
	if err != nil || got != "SELECT '$1', 'x''y', 42 FROM t WHERE a = 42 -- $3" {
		t.Fatalf("%q %v", got, err)
	}
}
