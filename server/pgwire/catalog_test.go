package pgwire_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/server/pgwire"
)

var reLogStatement = regexp.MustCompile(`(?m)^\S+ \S+ UTC \[\d+\] LOG:  statement: `)

// TestCapturedCatalogQueries replays every catalog query psql 15 sent to a real PostgreSQL
// (testdata/pgwire/psql15-*.txt, from log_statement=all) and checks that each is answered
// without an error and never reaches the engine.
func TestCapturedCatalogQueries(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pgwire/psql15-*.txt")
	if len(files) == 0 {
		t.Skip("no captures")
	}
	srv, b := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range reLogStatement.Split(string(data), -1)[1:] {
			// A statement runs until the next "=== \cmd" header line.
			q := chunk
			if i := strings.Index(q, "\n=== "); i >= 0 {
				q = q[:i]
			}
			q = strings.ReplaceAll(q, "\n\t", "\n")
			q = strings.ReplaceAll(q, "16384", "999") // an oid we do not know: detail queries return no rows
			r.send(&pgproto3.Query{String: q})
			out := r.until("ReadyForQuery")
			if strings.Contains(out, "ErrorResponse") {
				t.Errorf("%s\n-> %s", q, out)
			}
			n++
		}
	}
	t.Logf("%d captured queries answered", n)
	if n < 20 {
		t.Fatalf("only %d captured queries", n)
	}
	if got := b.lastText(); got != "" {
		t.Fatalf("a catalog query reached the engine: %q", got)
	}
}
