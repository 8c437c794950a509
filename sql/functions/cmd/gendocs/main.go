// Command gendocs writes docs/functions.md from the function registry, so the reference can
// never drift from the code.
package main

import (
	"fmt"
	"os"

	"github.com/sluicedb/sluice/sql/functions"
)

func main() {
	if err := functions.WriteMarkdown(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
