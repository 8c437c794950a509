package parse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// qttDir is the ksqlDB conformance corpus, kept outside the repository (licence); tests that
// need it skip when it is absent.
const qttDir = "/work/shared/qtt"

type corpusStmt struct {
	file, test string
	text       string
	negative   bool // the case expects an exception (of any kind)
	parseFail  bool // ... and that exception is ParseFailedException
	message    string
	rest       bool // from RQTT, whose runner sends statements one by one
}

// stripJSONComments removes // and /* */ comments outside JSON strings (the corpus is read
// leniently by ksqlDB's Jackson).
func stripJSONComments(s string) string {
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			b.WriteByte(c)
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if i < len(s) {
				b.WriteByte('\n')
			}
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				i = len(s)
			} else {
				i += 2 + j + 1
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// loadCorpus returns every statement of the QTT and RQTT files, or nil when absent.
func loadCorpus(t testing.TB) []corpusStmt {
	t.Helper()
	var files []string
	for _, d := range []string{"query-validation-tests", "rest-query-validation-tests"} {
		m, _ := filepath.Glob(filepath.Join(qttDir, d, "*.json"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil
	}
	sort.Strings(files)
	var out []corpusStmt
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []struct {
				Name       string   `json:"name"`
				Statements []string `json:"statements"`
				Expected   *struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"expectedException"`
				ExpectedError *struct {
					Message string `json:"message"`
				} `json:"expectedError"` // RQTT
			} `json:"tests"`
		}
		if err := json.Unmarshal([]byte(stripJSONComments(string(raw))), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range doc.Tests {
			for _, s := range tc.Statements {
				cs := corpusStmt{file: filepath.Base(f), test: tc.Name, text: strings.ReplaceAll(s, "{FORMAT}", "JSON"),
					rest: strings.Contains(f, "rest-query-validation-tests")}
				if tc.Expected != nil {
					cs.negative = true
					cs.parseFail = strings.HasSuffix(tc.Expected.Type, "ParseFailedException")
					cs.message = tc.Expected.Message
				}
				if tc.ExpectedError != nil {
					cs.negative = true
					// RQTT errors carry the REST form: the brief message, then the statement.
					msg, _, _ := strings.Cut(tc.ExpectedError.Message, "\n\nStatement: ")
					cs.parseFail = strings.Contains(msg, "Syntax Error")
					cs.message = msg
				}
				out = append(out, cs)
			}
		}
	}
	return out
}

// TestCorpus parses every statement of positive corpus cases; ksqlDB accepts all of them.
func TestCorpus(t *testing.T) {
	stmts := loadCorpus(t)
	if stmts == nil {
		t.Skip("corpus not found at " + qttDir)
	}
	total, ok := 0, 0
	var byDir [2][2]int // [rest][total, ok]
	var failures []string
	for _, s := range stmts {
		if s.negative {
			continue
		}
		total++
		d := 0
		if s.rest {
			d = 1
		}
		byDir[d][0]++
		if _, err := Parse(s.text, nil); err != nil {
			failures = append(failures, s.file+" / "+s.test+"\n  "+s.text+"\n  "+strings.ReplaceAll(err.Error(), "\n", " | "))
			continue
		}
		ok++
		byDir[d][1]++
	}
	t.Logf("corpus: %d/%d statements of positive cases parse (QTT %d/%d, RQTT %d/%d)",
		ok, total, byDir[0][1], byDir[0][0], byDir[1][1], byDir[1][0])
	for i, f := range failures {
		if i == 40 {
			t.Logf("... %d more", len(failures)-40)
			break
		}
		t.Log(f)
	}
	// Statements of cases that fail later (binding, planning, runtime) must parse too.
	semTotal, semOK := 0, 0
	for _, s := range stmts {
		if !s.negative || s.parseFail {
			continue
		}
		semTotal++
		if _, err := Parse(s.text, nil); err != nil {
			failures = append(failures, s.file+" / "+s.test+" (negative case, not a parse error)\n  "+s.text+"\n  "+err.Error())
			continue
		}
		semOK++
	}
	t.Logf("corpus: %d/%d statements of cases expecting non-parse errors parse", semOK, semTotal)
	if ok*100 < total*99 {
		t.Fatalf("parse rate %d/%d below 99%%", ok, total)
	}
	if len(failures) > 0 {
		t.Errorf("%d corpus statements failed to parse", len(failures))
	}
}

// TestCorpusParseFailures checks the negative cases ksqlDB rejects while parsing: some statement
// of the case must fail here, and our message must contain ksqlDB's (a substring match, as in the
// QTT runner), either in full or in its brief REST form.
func TestCorpusParseFailures(t *testing.T) {
	stmts := loadCorpus(t)
	if stmts == nil {
		t.Skip("corpus not found at " + qttDir)
	}
	type key struct{ file, test string }
	var order []key
	cases := map[key][]corpusStmt{}
	for _, s := range stmts {
		if !s.parseFail {
			continue
		}
		k := key{s.file, s.test}
		if _, ok := cases[k]; !ok {
			order = append(order, k)
		}
		cases[k] = append(cases[k], s)
	}
	for _, k := range order {
		ss := cases[k]
		var texts []string
		for _, s := range ss {
			texts = append(texts, s.text)
		}
		// The QTT runner hands the statements to ksqlDB as one script, one per line; the RQTT
		// runner sends them one at a time.
		var err error
		if ss[0].rest {
			for _, s := range texts {
				if _, err = Parse(s, nil); err != nil {
					break
				}
			}
		} else {
			_, err = Parse(strings.Join(texts, "\n"), nil)
		}
		if err == nil {
			t.Errorf("%s / %s: parsed, want error %q", k.file, k.test, ss[0].message)
			continue
		}
		pe := err.(*Error)
		if !strings.Contains(pe.Error(), ss[0].message) && !strings.Contains(pe.Brief(), ss[0].message) {
			t.Errorf("%s / %s:\n got  %q\n want %q", k.file, k.test, pe.Error(), ss[0].message)
		}
	}
	t.Logf("%d parse-failure cases checked", len(order))
}

// TestCorpusRoundTrip checks Format against the parser over the corpus: the canonical text of a
// statement parses again, to the same canonical text.
func TestCorpusRoundTrip(t *testing.T) {
	stmts := loadCorpus(t)
	if stmts == nil {
		t.Skip("corpus not found at " + qttDir)
	}
	bad := 0
	for _, s := range stmts {
		if s.negative {
			continue
		}
		sts, err := Parse(s.text, nil)
		if err != nil {
			continue // reported by TestCorpus
		}
		for _, st := range sts {
			f1 := Format(st)
			again, err := Parse(f1, nil)
			if err != nil || len(again) != 1 {
				bad++
				if bad < 20 {
					t.Errorf("%s\n  formatted: %s\n  reparse: %v", s.text, f1, err)
				}
				continue
			}
			if f2 := Format(again[0]); f2 != f1 {
				bad++
				if bad < 20 {
					t.Errorf("%s\n  first:  %s\n  second: %s", s.text, f1, f2)
				}
			}
		}
	}
}
