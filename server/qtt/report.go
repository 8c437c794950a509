package qtt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Totals counts results.
type Totals struct {
	Passed, Failed, Skipped int
}

func (t *Totals) add(r Result) {
	switch r.Status {
	case Pass:
		t.Passed++
	case Fail:
		t.Failed++
	case Skip:
		t.Skipped++
	}
}

// Total is the number of cases counted.
func (t Totals) Total() int { return t.Passed + t.Failed + t.Skipped }

// String is the closing line of a report: "N passed, N failed, N skipped".
func (t Totals) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", t.Passed, t.Failed, t.Skipped)
}

// Tally counts results.
func Tally(results []Result) Totals {
	var t Totals
	for _, r := range results {
		t.add(r)
	}
	return t
}

// WriteReport prints the text report: one line per failing case,
// "FAIL <name>: [<category>] <detail>" (a multi-line detail is joined with " | "), then
// per-file totals, failure categories and skip reasons, and finally the line
// "N passed, N failed, N skipped".
func WriteReport(w io.Writer, results []Result) {
	for _, r := range results {
		if r.Status == Fail {
			fmt.Fprintf(w, "FAIL %s: [%s] %s\n", r.Name, r.Category, joinLines(r.Reason))
		}
	}
	files := map[string]*Totals{}
	var order []string
	for _, r := range results {
		key := r.File
		if r.REST {
			key = "rest/" + r.File
		}
		if files[key] == nil {
			files[key] = &Totals{}
			order = append(order, key)
		}
		files[key].add(r)
	}
	sort.Strings(order)
	if len(order) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "per file:")
		for _, f := range order {
			fmt.Fprintf(w, "  %-60s %s\n", f, files[f])
		}
	}
	writeCounts(w, "failures by category:", results, Fail, func(r Result) string { return r.Category })
	writeCounts(w, "skips by reason:", results, Skip, func(r Result) string { return r.Reason })
	fmt.Fprintln(w)
	fmt.Fprintln(w, Tally(results))
}

func writeCounts(w io.Writer, title string, results []Result, st Status, key func(Result) string) {
	counts := map[string]int{}
	for _, r := range results {
		if r.Status == st {
			counts[key(r)]++
		}
	}
	if len(counts) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, title)
	for _, k := range sortedByCount(counts) {
		fmt.Fprintf(w, "  %6d  %s\n", counts[k], k)
	}
}

func sortedByCount(counts map[string]int) []string {
	keys := sortedKeys(counts)
	sort.SliceStable(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	return keys
}

// WriteJSON writes the per-case results as a JSON array.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if results == nil {
		results = []Result{}
	}
	return enc.Encode(results)
}

// PassingNames returns the sorted names of passing cases.
func PassingNames(results []Result) []string {
	var out []string
	for _, r := range results {
		if r.Status == Pass {
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// ReadNameList reads a list of case names, one per line; blank lines and lines starting with
// '#' are ignored.
func ReadNameList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		// Names are kept exactly: some corpus case names end in a space.
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

// GuardViolations returns one message per guarded name that did not pass. Names for which
// ran reports false (filtered out of this run) are ignored; names absent from the results are
// violations.
func GuardViolations(guard []string, results []Result, ran func(name string) bool) []string {
	byName := make(map[string]Result, len(results))
	for _, r := range results {
		byName[r.Name] = r
	}
	var out []string
	for _, name := range guard {
		r, ok := byName[name]
		switch {
		case !ok && ran != nil && !ran(name):
		case !ok:
			out = append(out, fmt.Sprintf("guarded case not found: %s", name))
		case r.Status != Pass:
			out = append(out, fmt.Sprintf("guarded case %s: %s (%s)", r.Status, name, firstLine(r.Reason)))
		}
	}
	return out
}

// joinLines puts a multi-line detail on one line.
func joinLines(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " | ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// WriteConformanceMarkdown prints the conformance summary for docs/conformance.md: pass rate
// per feature area (passed / run, where run excludes skips), then skips by reason.
func WriteConformanceMarkdown(w io.Writer, results []Result) error {
	bw := bufio.NewWriter(w)
	areas := map[string]*Totals{}
	for _, r := range results {
		a := r.Area
		if a == "" {
			a = AreaOther
		}
		if areas[a] == nil {
			areas[a] = &Totals{}
		}
		areas[a].add(r)
	}
	order := append([]string{}, Areas...)
	for _, a := range sortedKeys(areas) {
		if !contains(order, a) {
			order = append(order, a)
		}
	}
	total := Tally(results)
	fmt.Fprintln(bw, "| Area | Cases | Passed | Failed | Skipped | Pass rate (of run) |")
	fmt.Fprintln(bw, "|---|---:|---:|---:|---:|---:|")
	for _, a := range order {
		t := areas[a]
		if t == nil {
			continue
		}
		fmt.Fprintf(bw, "| %s | %d | %d | %d | %d | %s |\n", a, t.Total(), t.Passed, t.Failed, t.Skipped, rate(*t))
	}
	fmt.Fprintf(bw, "| **total** | %d | %d | %d | %d | %s |\n", total.Total(), total.Passed, total.Failed, total.Skipped, rate(total))

	skips := map[string]int{}
	for _, r := range results {
		if r.Status == Skip {
			skips[r.Reason]++
		}
	}
	if len(skips) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "| Skip reason | Cases |")
		fmt.Fprintln(bw, "|---|---:|")
		for _, k := range sortedByCount(skips) {
			fmt.Fprintf(bw, "| %s | %d |\n", strings.ReplaceAll(k, "|", `\|`), skips[k])
		}
	}
	return bw.Flush()
}

func rate(t Totals) string {
	run := t.Passed + t.Failed
	if run == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(t.Passed)/float64(run))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
