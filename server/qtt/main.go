package qtt

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

const usage = `usage: sluice test-qtt PATH... [flags]

Runs ksqlDB query-validation tests (QTT and RQTT JSON files, or directories of them) against
Sluice and prints one line per failing case, per-file totals and "N passed, N failed, N skipped".

flags:
`

// Main is the `sluice test-qtt` command. args are the command's arguments (a leading
// "test-qtt" is ignored); flags and paths may be interleaved. Exit status: 0, or 1 when a
// guarded case did not pass (--guard) or, without --guard, when any case failed; 2 on usage or
// load errors.
func Main(args []string, stdout, stderr io.Writer) int {
	return NewRunner().Main(args, stdout, stderr)
}

// Main is the command with this runner's log and REST wiring; see the package-level Main.
func (r *Runner) Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "test-qtt" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("test-qtt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	jsonOut := fs.String("json", "", "write per-case results (name, file, status, reason, area) as JSON to `FILE`")
	guard := fs.String("guard", "", "exit 1 if any case named in `FILE` (one per line) did not pass")
	writePassing := fs.String("write-passing", "", "write the sorted names of passing cases to `FILE`")
	conformance := fs.String("conformance", "", "write the per-area conformance table (markdown) to `FILE`")
	run := fs.String("run", "", "only run cases whose name matches `REGEX`")
	timeout := fs.Duration("timeout", 10*time.Second, "per-case timeout")
	workers := fs.Int("workers", 0, "cases run in parallel (default GOMAXPROCS)")
	feed := fs.String("feed", "per-record", "input feeding: per-record (produce, quiesce, repeat) or all (produce all, quiesce once)")
	proto := fs.Bool("proto", false, "run testPullWithProtoFormat RQTT cases and check their PROTOBUF responses")
	logKind := fs.String("log", "embedded", "storage log per case: embedded (on disk, in a temp dir) or mem (in memory)")
	stateKind := fs.String("state", "badger", "query state per case: badger (on disk, in a temp dir) or mem (in memory)")
	verbose := fs.Bool("v", false, "print every case's outcome as it finishes")

	var paths []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	runner := *r
	runner.Timeout, runner.Workers, runner.Proto = *timeout, *workers, *proto
	switch *feed {
	case "per-record":
		runner.Feed = FeedPerRecord
	case "all":
		runner.Feed = FeedAll
	default:
		fmt.Fprintf(stderr, "test-qtt: bad --feed %q (per-record or all)\n", *feed)
		return 2
	}
	switch *logKind {
	case "embedded":
		if runner.OpenLog == nil {
			runner.OpenLog = OpenEmbeddedLog
		}
	case "mem":
		runner.OpenLog = nil
	default:
		fmt.Fprintf(stderr, "test-qtt: bad --log %q (embedded or mem)\n", *logKind)
		return 2
	}
	switch *stateKind {
	case "badger":
		if runner.OpenEngine == nil {
			runner.OpenEngine = OpenBadgerEngine
		}
	case "mem":
		runner.OpenEngine = nil
	default:
		fmt.Fprintf(stderr, "test-qtt: bad --state %q (badger or mem)\n", *stateKind)
		return 2
	}
	var filter *regexp.Regexp
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "test-qtt: bad --run: %v\n", err)
			return 2
		}
		filter = re
	}
	var guardNames []string
	if *guard != "" {
		names, err := ReadNameList(*guard)
		if err != nil {
			fmt.Fprintf(stderr, "test-qtt: %v\n", err)
			return 2
		}
		guardNames = names
	}

	cases, errs := LoadPaths(paths...)
	for _, err := range errs {
		fmt.Fprintf(stderr, "test-qtt: %v\n", err)
	}
	if len(errs) > 0 {
		return 2
	}
	if filter != nil {
		kept := cases[:0]
		for _, c := range cases {
			if filter.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	if *verbose {
		runner.Progress = func(res Result) {
			fmt.Fprintf(stderr, "%-4s %s (%s)\n", strings.ToUpper(string(res.Status)), res.Name, res.Duration.Round(time.Millisecond))
		}
	}

	results := runner.Run(context.Background(), cases)
	WriteReport(stdout, results)

	status := 0
	writeFile := func(path string, write func(io.Writer) error) {
		f, err := os.Create(path)
		if err == nil {
			err = write(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "test-qtt: %v\n", err)
			status = 2
		}
	}
	if *jsonOut != "" {
		writeFile(*jsonOut, func(w io.Writer) error { return WriteJSON(w, results) })
	}
	if *writePassing != "" {
		writeFile(*writePassing, func(w io.Writer) error {
			for _, n := range PassingNames(results) {
				if _, err := fmt.Fprintln(w, n); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if *conformance != "" {
		writeFile(*conformance, func(w io.Writer) error { return WriteConformanceMarkdown(w, results) })
	}
	if status != 0 {
		return status
	}
	if *guard != "" {
		var ran func(string) bool
		if filter != nil {
			ran = filter.MatchString
		}
		violations := GuardViolations(guardNames, results, ran)
		for _, v := range violations {
			fmt.Fprintln(stderr, "test-qtt: "+v)
		}
		if len(violations) > 0 {
			return 1
		}
		return 0
	}
	if Tally(results).Failed > 0 {
		return 1
	}
	return 0
}
