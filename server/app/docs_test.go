package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestArchitectureFileMap keeps docs/ARCHITECTURE.md honest: every path its file map names
// must exist, so the document cannot drift from the tree.
func TestArchitectureFileMap(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 10 {
		t.Fatalf("file map has %d rows; expected the table under '## File map'", len(rows))
	}
	for _, r := range rows {
		if _, err := os.Stat(filepath.Join(root, r[1])); err != nil {
			t.Errorf("docs/ARCHITECTURE.md names %s, which does not exist", r[1])
		}
	}
}
