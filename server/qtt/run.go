package qtt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/storage"
)

// Status is a case's outcome.
type Status string

// Case outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Failure categories (Result.Category), counted in the summary.
const (
	CatSetup          = "setup"                                  // log or engine failed to start
	CatStatement      = "statement error"                        // a statement failed unexpectedly
	CatRuntime        = "runtime error"                          // produce/quiesce/read failed unexpectedly
	CatOutput         = "output mismatch"                        // records differ
	CatPost           = "post-condition"                         // post.sources / post.topics
	CatNotThrown      = "expected exception not thrown"          // negative test ran clean
	CatExceptionType  = "exception type mismatch"                // error of the wrong kind
	CatExceptionMsg   = "exception type ok but message mismatch" // right kind, wrong text
	CatResponse       = "REST response mismatch"                 // RQTT responses differ
	CatRESTError      = "REST error"                             // unexpected HTTP error
	CatRESTErrorMatch = "REST expected error mismatch"           // expectedError not met
	CatTimeout        = "timeout"
	CatPanic          = "panic"
)

// Result is the outcome of one case.
type Result struct {
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Status   Status        `json:"status"`
	Reason   string        `json:"reason,omitempty"` // skip reason, or failure detail
	Category string        `json:"category,omitempty"`
	Area     string        `json:"area"`
	REST     bool          `json:"rest,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	index    int
}

// Feed says how inputs are fed to the engine.
type Feed int

const (
	// FeedPerRecord produces one input record, then quiesces, for every input (the default).
	FeedPerRecord Feed = iota
	// FeedAll produces every input, then quiesces once. Because Quiesce drives the queries in
	// statement order, this is the Java harness's "one query at a time" order (FORMAT.md §4).
	FeedAll
)

// Runner runs cases. The zero value is usable: in-memory log, 10 s per case, GOMAXPROCS
// workers, per-record feeding, no REST handler (RQTT cases then fail with a setup error).
// NewRunner wires the embedded log and server/rest.
type Runner struct {
	// OpenLog opens a fresh, empty log in dir (which exists); the runner closes it. Default:
	// an in-memory log (NewMemLog).
	OpenLog func(dir string) (storage.Log, error)
	// OpenEngine opens the engine of one case. Default: engine.Open.
	OpenEngine func(ctx context.Context, cfg engine.Config) (Engine, error)
	// RESTHandler builds the HTTP API over an engine for RQTT cases (server/rest's New).
	RESTHandler func(eng Engine) http.Handler
	// Timeout bounds one case; a case that hangs fails. Default 10 s.
	Timeout time.Duration
	// Workers is the number of cases run at once. Default GOMAXPROCS.
	Workers int
	// Feed selects per-record or all-at-once input feeding.
	Feed Feed
	// Proto runs RQTT cases with testPullWithProtoFormat and checks their PROTOBUF responses;
	// when false they are skipped.
	Proto bool
	// TempDir is where per-case directories go (a fresh root under it). Default os.TempDir.
	TempDir string
	// Progress, when set, is called after every case (from worker goroutines, serialised).
	Progress func(r Result)
}

// Run runs every case and returns the results in input order.
func (r *Runner) Run(ctx context.Context, cases []*Case) []Result {
	root, err := os.MkdirTemp(r.TempDir, "sluice-qtt-")
	if err != nil {
		out := make([]Result, len(cases))
		for i, c := range cases {
			out[i] = failResult(c, CatSetup, "temp dir: "+err.Error())
		}
		return out
	}
	defer os.RemoveAll(root)

	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]Result, len(cases))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var progressMu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res := r.runOne(ctx, cases[i], filepath.Join(root, fmt.Sprintf("case%05d", i)))
				res.index = i
				results[i] = res
				if r.Progress != nil {
					progressMu.Lock()
					r.Progress(res)
					progressMu.Unlock()
				}
			}
		}()
	}
	for i := range cases {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

// RunCase runs one case in a fresh engine under dir (created and removed here).
func (r *Runner) RunCase(ctx context.Context, c *Case, dir string) Result {
	return r.runOne(ctx, c, dir)
}

func (r *Runner) runOne(ctx context.Context, c *Case, dir string) Result {
	start := time.Now()
	if reason := SkipReason(c, r.Proto); reason != "" {
		return Result{Name: c.Name, File: c.File, Status: Skip, Reason: reason, Area: c.Area, REST: c.REST}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	done := make(chan Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- failResult(c, CatPanic, fmt.Sprintf("panic: %v\n%s", p, panicSite(debug.Stack(), 3)))
			}
		}()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			done <- failResult(c, CatSetup, err.Error())
			return
		}
		defer os.RemoveAll(dir)
		if c.REST {
			done <- r.runRQTT(cctx, c, dir)
		} else {
			done <- r.runQTT(cctx, c, dir)
		}
	}()
	var res Result
	select {
	case res = <-done:
	case <-cctx.Done():
		// Give the case a moment to notice the cancelled context and report its own state.
		select {
		case res = <-done:
		case <-time.After(500 * time.Millisecond):
			res = failResult(c, CatTimeout, fmt.Sprintf("timed out after %s", timeout))
		}
	}
	if res.Status == Fail && cctx.Err() != nil && res.Category != CatTimeout && ctx.Err() == nil {
		res.Category = CatTimeout
		res.Reason = fmt.Sprintf("timed out after %s (%s)", timeout, res.Reason)
	}
	res.Duration = time.Since(start)
	return res
}

func failResult(c *Case, cat, reason string) Result {
	return Result{Name: c.Name, File: c.File, Status: Fail, Category: cat, Reason: reason, Area: c.Area, REST: c.REST}
}

func passResult(c *Case) Result {
	return Result{Name: c.Name, File: c.File, Status: Pass, Area: c.Area, REST: c.REST}
}

// panicSite keeps the n stack frames below the panic call: where the panic happened.
func panicSite(stack []byte, n int) string {
	lines := strings.Split(string(stack), "\n")
	start := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			start = i + 2 // skip the panic function and its file line
		}
	}
	var out []string
	for i := start; i+1 < len(lines) && len(out) < n; i += 2 {
		fn := strings.TrimSpace(lines[i])
		file := strings.TrimSpace(lines[i+1])
		if j := strings.LastIndex(file, " +0x"); j >= 0 {
			file = file[:j]
		}
		out = append(out, fn+" at "+file)
	}
	return strings.Join(out, "\n")
}

func (r *Runner) openLog(dir string) (storage.Log, error) {
	if r.OpenLog != nil {
		d := filepath.Join(dir, "log")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		return r.OpenLog(d)
	}
	return NewMemLog(), nil
}

// startEngine opens the log, creates the topics the Java harness creates up front and opens a
// deterministic engine on them.
func (r *Runner) startEngine(ctx context.Context, c *Case, dir string) (storage.Log, Engine, error) {
	log, err := r.openLog(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open log: %w", err)
	}
	for _, t := range topicsToCreate(c) {
		err := log.CreateTopic(ctx, t.Name, storage.TopicConfig{Partitions: t.Partitions})
		if err != nil && !errors.Is(err, storage.ErrTopicExists) {
			log.Close()
			return nil, nil, fmt.Errorf("create topic %s: %w", t.Name, err)
		}
	}
	props := map[string]string{}
	for k, v := range baseProps {
		props[k] = v
	}
	if c.REST {
		for k, v := range restBaseProps {
			props[k] = v
		}
	}
	for k, v := range c.Properties {
		props[k] = v
	}
	open := r.OpenEngine
	if open == nil {
		open = openEngine
	}
	eng, err := open(ctx, engine.Config{
		Log:               log,
		StateDir:          filepath.Join(dir, "state"),
		Deterministic:     true,
		DefaultPartitions: 1,
		ServiceID:         "some.ksql.service.id",
		Props:             props,
	})
	if err != nil {
		log.Close()
		return nil, nil, fmt.Errorf("open engine: %w", err)
	}
	return log, eng, nil
}

func openEngine(ctx context.Context, cfg engine.Config) (Engine, error) {
	return engine.Open(ctx, cfg)
}

// Engine is what the runner needs from exec/engine; *engine.Engine implements it. Its REST
// subset (Execute, Query, InsertJSON, CloseQuery, Source) is server/rest's Backend.
type Engine interface {
	Execute(ctx context.Context, s *engine.Session, text string) ([]engine.Result, error)
	Query(ctx context.Context, s *engine.Session, text string) (*engine.Cursor, error)
	InsertJSON(ctx context.Context, s *engine.Session, target string, row map[string]any) error
	CloseQuery(id string) bool
	Source(name string) (*engine.SourceSummary, bool)
	Sources() []*engine.SourceSummary
	Quiesce(ctx context.Context) error
	ProduceLogical(ctx context.Context, rec engine.LogicalRecord) error
	ReadLogical(ctx context.Context, topic string) ([]engine.LogicalRecord, error)
	Close() error
}

var _ Engine = (*engine.Engine)(nil)

// baseProps is the Java harness's base configuration (FORMAT.md §4): read every topic from the
// start, headers columns on. Case properties override it.
var baseProps = map[string]string{
	"auto.offset.reset":            "earliest",
	"ksql.headers.columns.enabled": "true",
}

// restBaseProps is the RQTT server's extra configuration (FORMAT.md §8): table scans and
// scalable push queries enabled.
var restBaseProps = map[string]string{
	"ksql.query.pull.table.scan.enabled": "true",
	"ksql.query.push.v2.enabled":         "true",
}

// newSession returns a session carrying the case's properties.
func newSession(c *Case) *engine.Session {
	s := engine.NewSession()
	for k, v := range c.Properties {
		s.Props[k] = v
	}
	return s
}

// produce feeds the case's inputs: one record then Quiesce each (FeedPerRecord), or all then
// one Quiesce (FeedAll). It always quiesces at least once, so that records written by INSERT
// INTO ... VALUES are processed in cases without inputs.
func (r *Runner) produce(ctx context.Context, eng Engine, c *Case) error {
	for i, in := range c.Inputs {
		if err := eng.ProduceLogical(ctx, toLogical(in)); err != nil {
			return fmt.Errorf("produce input %d to %s: %w", i, in.Topic, err)
		}
		if r.Feed == FeedPerRecord {
			if err := eng.Quiesce(ctx); err != nil {
				return fmt.Errorf("quiesce after input %d: %w", i, err)
			}
		}
	}
	if r.Feed == FeedAll || len(c.Inputs) == 0 {
		if err := eng.Quiesce(ctx); err != nil {
			return fmt.Errorf("quiesce: %w", err)
		}
	}
	return nil
}

func toLogical(in Record) engine.LogicalRecord {
	rec := engine.LogicalRecord{
		Topic:     in.Topic,
		Key:       in.Key,
		Value:     in.Value,
		ValueNull: in.Value == nil,
		Timestamp: in.Timestamp, // a missing input timestamp means 0
	}
	if in.Window != nil {
		rec.Window = &engine.WindowBounds{Start: in.Window.Start, End: in.Window.End, Type: in.Window.Type}
	}
	for _, h := range in.Headers {
		rec.Headers = append(rec.Headers, storage.Header{Key: h.Key, Value: h.Value})
	}
	return rec
}

// topicsToCreate lists the topics the Java harness creates before running statements: the
// explicit `topics`, the topics of CREATE STREAM/TABLE statements (not CREATE ... AS SELECT),
// and the topics of inputs. Output topics are left to the queries that write them.
func topicsToCreate(c *Case) []Topic {
	seen := map[string]bool{}
	var out []Topic
	add := func(t Topic) {
		if t.Name == "" || seen[t.Name] {
			return
		}
		if t.Partitions <= 0 {
			t.Partitions = 1
		}
		seen[t.Name] = true
		out = append(out, t)
	}
	for _, t := range c.Topics {
		add(t)
	}
	for _, s := range c.Statements {
		if t, ok := sourceTopic(s); ok {
			add(t)
		}
	}
	for _, in := range c.Inputs {
		add(Topic{Name: in.Topic})
	}
	return out
}
