package functions

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMarkdown renders the function reference (docs/functions.md) from the registry, so that
// the documentation cannot drift from what DESCRIBE FUNCTION reports. Functions are grouped by
// kind and category, each with its description and one line per overload.
func WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# Built-in functions")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "<!-- Generated from the function registry by functions.WriteMarkdown; do not edit. -->")
	fmt.Fprintln(bw)

	all := All()
	groups := map[string][]*Function{}
	var keys []string
	for _, f := range all {
		k := f.Kind.String() + " / " + f.Category
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(bw, "## %s\n\n", titleCase(k))
		for _, f := range groups[k] {
			fmt.Fprintf(bw, "### %s\n\n%s\n\n", f.Name, mdEscape(f.Description))
			for _, s := range f.Signatures {
				fmt.Fprintf(bw, "- `%s(%s)` → `%s`", f.Name, s.Args, s.Returns)
				if s.Description != "" && s.Description != f.Description {
					fmt.Fprintf(bw, ": %s", mdEscape(s.Description))
				}
				fmt.Fprintln(bw)
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}

func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if w != "/" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// mdEscape keeps descriptions on one paragraph and stops stray markup characters from
// rendering.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.NewReplacer("*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;").Replace(s)
}
