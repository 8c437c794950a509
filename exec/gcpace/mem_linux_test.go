package gcpace

import (
	"os"
	"testing"
)

func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		content string
		want    int64
		ok      bool
	}{{"max\n", 0, false}, {"2147483648\n", 2 << 30, true}, {"", 0, false}} {
		f := dir + "/limit"
		if err := os.WriteFile(f, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := readLimit(f); got != c.want || ok != c.ok {
			t.Errorf("readLimit(%q) = %d, %v; want %d, %v", c.content, got, ok, c.want, c.ok)
		}
	}
	if _, ok := readLimit(dir + "/missing"); ok {
		t.Error("readLimit of a missing file reported a limit")
	}
}
