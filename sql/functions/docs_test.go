package functions

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDocsUpToDate keeps docs/functions.md in step with the registry. Regenerate it with
// functions.WriteMarkdown (the lead's make target) after changing a function.
func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "functions.md")
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skip("docs/functions.md not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteMarkdown(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("%s is stale: regenerate it from functions.WriteMarkdown", path)
	}
}
