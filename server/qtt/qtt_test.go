package qtt

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestQTT runs the ksqlDB corpus ($QTT_DIR, default ../../../shared/qtt) and fails if any case
// listed in testdata/qtt/passing.txt does not pass. Only the listed cases run, unless
// QTT_ALL=1, which runs everything and logs the report (failures outside the list are logged,
// not fatal). QTT_RUN=regex narrows the cases further.
func TestQTT(t *testing.T) {
	dir := os.Getenv("QTT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "qtt")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("QTT corpus not found at %s (set QTT_DIR)", dir)
	}
	guard, err := ReadNameList(filepath.Join("..", "..", "testdata", "qtt", "passing.txt"))
	if err != nil {
		t.Fatal(err)
	}
	all := os.Getenv("QTT_ALL") == "1"
	if len(guard) == 0 && !all {
		t.Skip("testdata/qtt/passing.txt is empty; set QTT_ALL=1 to run the whole corpus")
	}
	var paths []string
	for _, sub := range []string{"query-validation-tests", "rest-query-validation-tests"} {
		if p := filepath.Join(dir, sub); dirExists(p) {
			paths = append(paths, p)
		}
	}
	cases, errs := LoadPaths(paths...)
	for _, err := range errs {
		t.Errorf("load: %v", err)
	}
	keep := map[string]bool{}
	for _, n := range guard {
		keep[n] = true
	}
	var filter *regexp.Regexp
	if re := os.Getenv("QTT_RUN"); re != "" {
		filter = regexp.MustCompile(re)
	}
	selected := cases[:0]
	for _, c := range cases {
		if (all || keep[c.Name]) && (filter == nil || filter.MatchString(c.Name)) {
			selected = append(selected, c)
		}
	}
	results := NewRunner().Run(context.Background(), selected)
	if all || testing.Verbose() {
		var sb strings.Builder
		WriteReport(&sb, results)
		t.Log("\n" + sb.String())
	}
	var ran func(string) bool
	if filter != nil {
		ran = filter.MatchString
	}
	for _, v := range GuardViolations(guard, results, ran) {
		t.Error(v)
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
