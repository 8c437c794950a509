// Package engine runs Sluice's statements: it owns the catalog (streams, tables, types,
// persistent queries), persists every catalog change to the command log in the partitioned log
// and replays it at start, plans queries into operator pipelines and runs them as tasks with
// exactly-once commits, and serves pull and push queries. The servers (REST, pgwire) call it
// through Execute and Query.
//
// # Lifecycle
//
// Open replays the command topic: each command is re-executed in order with replay set, which
// rebuilds the catalog and restarts persistent queries from the offsets committed in their state
// stores. New statements are appended to the command topic before they take effect, so a crash
// after the append replays them and a crash before loses nothing that was acknowledged.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/parse"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// CommandTopic is the internal topic holding the command log.
const CommandTopic = "_sluice_commands"

// ProcessingLogStream is the built-in stream over the processing log, and
// ProcessingLogTopic its internal topic: one record per bad input record or failed expression.
const (
	ProcessingLogStream = "SLUICE_PROCESSING_LOG"
	ProcessingLogTopic  = "_sluice_processing_log"
)

// Engine owns the catalog, the command log and every running query. Safe for concurrent use.
type Engine struct {
	cfg    Config
	log    storage.Log
	states state.Manager

	mu  sync.Mutex // serializes statements (catalog changes)
	cat *catalog

	owners sinkOwners // the tasks that are exclusive writers of sink partitions
	// plainOwners are the standalone owners of plain streams that INSERT INTO queries write,
	// by topic (plain_owner.go).
	plainOwners map[string][]*task

	ctx    context.Context
	cancel context.CancelFunc

	replaying bool
	cmdSeq    int64
	transient sync.Map // id -> *Cursor
	nextTrans atomic.Int64
	procErrs  atomic.Int64
}

// Open starts an engine on cfg.Log: it replays the command log to rebuild the catalog and
// restarts persistent queries from their committed offsets.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Log == nil {
		return nil, errors.New("engine: Config.Log is required")
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.ServiceID == "" {
		cfg.ServiceID = "default_"
	}
	if cfg.Props == nil {
		cfg.Props = map[string]string{}
	}
	e := &Engine{cfg: cfg, log: cfg.Log, cat: newCatalog(), states: cfg.State}
	if e.states == nil {
		e.states = &memManager{}
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if err := e.ensureTopic(ctx, CommandTopic, 1); err != nil {
		return nil, err
	}
	e.plainOwners = map[string][]*task{}
	if err := e.replay(ctx); err != nil {
		return nil, err
	}
	if err := e.sweepPlainOwners(ctx); err != nil {
		return nil, err
	}
	if !cfg.Deterministic {
		if err := e.registerProcessingLog(ctx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// registerProcessingLog makes the processing log a stream users can query with SQL, as
// ksqlDB's KSQL_PROCESSING_LOG is. It is built in, so it is not part of the command log.
func (e *Engine) registerProcessingLog(ctx context.Context) error {
	if _, ok := e.cat.sources[ProcessingLogStream]; ok {
		return nil
	}
	if err := e.ensureTopic(ctx, ProcessingLogTopic, 1); err != nil {
		return err
	}
	msg := types.StructOf(
		types.Field{Name: "TYPE", Type: types.StringType},
		types.Field{Name: "QUERYID", Type: types.StringType},
		types.Field{Name: "MESSAGE", Type: types.StringType},
		types.Field{Name: "PARTITION", Type: types.IntType},
		types.Field{Name: "OFFSET", Type: types.BigintType},
	)
	e.cat.sources[ProcessingLogStream] = &source{
		Name: ProcessingLogStream, Kind: ast.Stream, Topic: ProcessingLogTopic, Partitions: 1,
		Schema: &types.Schema{Columns: []types.Column{
			{Name: "LOGGER", Type: types.StringType}, {Name: "LEVEL", Type: types.StringType},
			{Name: "TIME", Type: types.BigintType}, {Name: "MESSAGE", Type: msg},
		}},
		KeyFormat: serde.Format{Name: "KAFKA"}, ValueFormat: serde.Format{Name: "JSON"},
		SQL: "CREATE STREAM " + ProcessingLogStream + " (built in)",
	}
	return nil
}

func (e *Engine) logf(format string, args ...any) {
	if e.cfg.Logf != nil {
		e.cfg.Logf(format, args...)
	}
}

// Close stops every query, commits their state and closes state stores. It does not close
// cfg.Log, which the caller owns.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.transient.Range(func(k, v any) bool {
		v.(*Cursor).Close()
		return true
	})
	for _, id := range e.cat.order {
		for _, t := range e.cat.queries[id].allTasks() {
			t.stop()
		}
	}
	e.closeAllPlainOwners()
	e.cancel()
	return e.states.Close()
}

func (e *Engine) ensureTopic(ctx context.Context, name string, partitions int) error {
	if _, err := e.log.DescribeTopic(ctx, name); err == nil {
		return nil
	}
	err := e.log.CreateTopic(ctx, name, storage.TopicConfig{Partitions: partitions})
	if err != nil && !errors.Is(err, storage.ErrTopicExists) {
		return err
	}
	return nil
}

// command is one command-log entry. Statements that create streams, tables or persistent
// queries are persisted as what was decided (v2): Source is the stream or table a CREATE
// made, Query the execution plan of a persistent query, and SQL is kept for display only.
// Other statements (DROP, TERMINATE, types, ALTER) are their text (v1), re-executed on
// replay with the session's properties and variables.
type command struct {
	V      int               `json:"v"`
	SQL    string            `json:"sql"`
	Props  map[string]string `json:"props,omitempty"`
	Vars   map[string]string `json:"vars,omitempty"`
	Source *plan.Source      `json:"source,omitempty"`
	Query  *plan.Query       `json:"query,omitempty"`
}

func (e *Engine) appendCommand(ctx context.Context, sql string, s *Session) error {
	if e.replaying {
		return nil
	}
	b, _ := json.Marshal(command{V: 1, SQL: sql, Props: s.Props, Vars: s.Vars})
	_, err := e.log.Append(ctx, CommandTopic, []storage.Record{{Value: b, Timestamp: time.Now().UnixMilli(), Partition: 0}})
	if err == nil {
		e.cmdSeq++
	}
	return err
}

func (e *Engine) replay(ctx context.Context) error {
	e.replaying = true
	defer func() { e.replaying = false }()
	var off int64
	for {
		recs, err := e.log.Read(ctx, CommandTopic, 0, off, 1000, 0)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, r := range recs {
			off = r.Offset + 1
			var c command
			if err := json.Unmarshal(r.Value, &c); err != nil {
				e.logf("command log: skipping unreadable command at offset %d: %v", r.Offset, err)
				continue
			}
			if c.Source != nil || c.Query != nil {
				if err := e.applyCommand(ctx, &c); err != nil {
					e.logf("command log: command at offset %d (%q) not applied: %v", r.Offset, c.SQL, err)
				}
				e.cmdSeq++
				continue
			}
			s := &Session{Props: c.Props, Vars: c.Vars}
			if s.Props == nil {
				s.Props = map[string]string{}
			}
			if _, err := e.Execute(ctx, s, c.SQL); err != nil {
				e.logf("command log: replaying %q failed: %v", c.SQL, err)
			}
			e.cmdSeq++
		}
	}
}

// SplitStatements splits a script into statement texts (each with its ';').
func SplitStatements(text string) ([]string, error) {
	var out []string
	for _, p := range parse.Split(text) {
		out = append(out, p.Text)
	}
	return out, nil
}

// parseOne parses one statement text with the session's variables.
func (e *Engine) parseOne(p parse.Piece, s *Session) (ast.Statement, error) {
	vars := s.Vars
	if v, ok := s.Props["ksql.variable.substitution.enable"]; ok && strings.EqualFold(v, "false") {
		vars = nil
	}
	stmts, err := parse.Parse(p.Text, vars)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			// Positions are relative to the statement; report them in the whole request.
			shifted := *pe
			if pe.Line == 1 {
				shifted.Col += p.Col - 1
			}
			shifted.Line += p.Line - 1
			out := &Error{Code: 40001, SQLState: "42601", Kind: ParseError, Msg: shifted.Error(), Line: shifted.Line, Col: shifted.Col, Statement: p.Text}
			if pe.Kind == parse.Syntax {
				out.SyntaxBrief = shifted.Brief()
			}
			return nil, out
		}
		return nil, &Error{Code: 40001, SQLState: "42601", Kind: ParseError, Msg: err.Error(), Statement: p.Text}
	}
	if len(stmts) != 1 {
		return nil, &Error{Code: 40001, SQLState: "42601", Kind: ParseError, Msg: "expected exactly one statement", Statement: p.Text}
	}
	return stmts[0], nil
}

// locate turns a planning error's statement-relative position into a request-relative one
// and names it in the message, so every client shows where the problem is.
func locate(ee *Error, p parse.Piece) {
	if ee.Kind == ParseError || ee.Line <= 0 {
		if ee.Context != "" {
			ee.Msg, ee.Context = ee.Context+": "+ee.Msg, ""
		}
		return
	}
	if ee.Line == 1 {
		ee.Col += p.Col - 1
	}
	ee.Line += p.Line - 1
	// ksqlDB words semantic-error positions this way (syntax errors use "line L:C:").
	ee.Msg = fmt.Sprintf("Line: %d, Col: %d: %s", ee.Line, ee.Col, ee.Msg)
	if ee.Context != "" {
		ee.Msg, ee.Context = ee.Context+": "+ee.Msg, ""
	}
}

// Execute runs every statement in text that is not a query (SELECT, PRINT give a 40002 error:
// use Query). It returns one Result per statement; on failure an *Error whose Done holds the
// results of the statements before the failing one.
func (e *Engine) Execute(ctx context.Context, s *Session, text string) ([]Result, error) {
	if s == nil {
		s = NewSession()
	}
	var done []Result
	pieces := parse.Split(text)
	for _, p := range pieces {
		st, err := e.parseOne(p, s)
		if err == nil {
			var res *Result
			res, err = e.execStmt(ctx, s, st)
			if err == nil {
				if res.Entity != nil {
					if _, ok := res.Entity["statementText"]; !ok {
						res.Entity["statementText"] = strings.TrimSpace(p.Text)
					}
					if _, ok := res.Entity["warnings"]; !ok {
						res.Entity["warnings"] = []any{}
					}
				}
				res.Text = p.Text
				done = append(done, *res)
				continue
			}
		}
		var ee *Error
		if !errors.As(err, &ee) {
			ee = &Error{Code: 50000, SQLState: "XX000", Kind: ServerError, Msg: err.Error()}
		}
		locate(ee, p)
		ee.Statement = p.Text
		ee.Done = done
		return done, ee
	}
	return done, nil
}

// execStmt runs one parsed statement under the engine lock.
func (e *Engine) execStmt(ctx context.Context, s *Session, st ast.Statement) (*Result, error) {
	switch n := st.(type) {
	case *ast.Select:
		return nil, &Error{Code: 40002, SQLState: "42000", Kind: StatementError, Msg: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"}
	case *ast.Print:
		return nil, &Error{Code: 40002, SQLState: "42000", Kind: StatementError, Msg: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"}
	case *ast.SetProperty:
		s.Props[n.Name] = n.Value
		return &Result{Tag: "SET", Entity: nil}, nil
	case *ast.UnsetProperty:
		delete(s.Props, n.Name)
		return &Result{Tag: "UNSET"}, nil
	case *ast.Define:
		s.Vars[n.Name] = n.Value
		return &Result{Tag: "DEFINE"}, nil
	case *ast.Undefine:
		if _, ok := s.Vars[n.Name]; !ok {
			return &Result{Tag: "UNDEFINE", Entity: map[string]any{"@type": "warning_entity", "message": fmt.Sprintf("Cannot undefine variable '%s' which was never defined", n.Name)}}, nil
		}
		delete(s.Vars, n.Name)
		return &Result{Tag: "UNDEFINE"}, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch n := st.(type) {
	case *ast.CreateSource:
		return e.createSource(ctx, s, n)
	case *ast.CreateAsSelect:
		return e.createAsSelect(ctx, s, n)
	case *ast.InsertSelect:
		return e.insertSelect(ctx, s, n)
	case *ast.InsertValues:
		return e.insertValues(ctx, s, n)
	case *ast.Drop:
		return e.drop(ctx, s, n)
	case *ast.Terminate:
		return e.terminate(ctx, s, n)
	case *ast.Show:
		return e.show(ctx, s, n)
	case *ast.Describe:
		return e.describe(ctx, s, n)
	case *ast.Explain:
		return e.explain(ctx, s, n)
	case *ast.CreateType:
		return e.createType(ctx, s, n)
	case *ast.DropType:
		return e.dropType(ctx, s, n)
	case *ast.PauseResume:
		return &Result{Tag: "PAUSE", Entity: statusEntity("query/"+n.QueryID+"/pause", "Query paused.", "", e.cmdSeq)}, nil
	case *ast.Assert:
		return e.assert(ctx, n)
	case *ast.AlterSource:
		return e.alterSource(ctx, s, n)
	}
	return nil, errf("Statement type %T is not supported", st)
}

func statusEntity(commandID, msg, queryID string, seq int64) map[string]any {
	status := map[string]any{"status": "SUCCESS", "message": msg}
	if queryID != "" {
		status["queryId"] = queryID
	} else {
		status["queryId"] = nil
	}
	return map[string]any{"@type": "currentStatus", "commandId": commandID, "commandStatus": status, "commandSequenceNumber": seq}
}

// Quiesce drives (Deterministic mode) or waits for (server mode) every persistent query until it
// has consumed all input currently in the log.
func (e *Engine) Quiesce(ctx context.Context) error {
	if e.cfg.Deterministic {
		for {
			e.mu.Lock()
			var tasks []*task
			for _, id := range e.cat.order {
				tasks = append(tasks, e.cat.queries[id].allTasks()...)
			}
			e.mu.Unlock()
			progress := false
			for _, t := range tasks {
				p, err := t.pump(ctx)
				if err != nil {
					return err
				}
				progress = progress || p
			}
			if !progress {
				return nil
			}
		}
	}
	for {
		e.mu.Lock()
		var busy bool
		for _, id := range e.cat.order {
			for _, t := range e.cat.queries[id].allTasks() {
				if t.lagged(ctx) {
					busy = true
				}
			}
		}
		e.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (e *Engine) commitInterval() time.Duration {
	if v, ok := e.cfg.Props["ksql.streams.commit.interval.ms"]; ok {
		var ms int
		if _, err := fmt.Sscan(v, &ms); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 100 * time.Millisecond
}

// processingLog records a bad record or failed expression for a query; it never fails the query.
func (e *Engine) processingLog(queryID string, err error, rec *storage.Record) {
	e.procErrs.Add(1)
	msg := map[string]any{"TYPE": "RECORD_PROCESSING_ERROR", "QUERYID": queryID, "MESSAGE": err.Error()}
	if rec != nil {
		msg["PARTITION"] = rec.Partition
		msg["OFFSET"] = rec.Offset
	}
	b, _ := json.Marshal(map[string]any{"LOGGER": "processing." + queryID, "LEVEL": "ERROR", "TIME": time.Now().UnixMilli(), "MESSAGE": msg})
	_ = e.ensureTopic(context.Background(), ProcessingLogTopic, 1)
	_, _ = e.log.Append(context.Background(), ProcessingLogTopic, []storage.Record{{Value: b, Timestamp: time.Now().UnixMilli(), Partition: 0}})
}

// Source describes a stream or table by name (exact, as stored: upper-case unless quoted).
func (e *Engine) Source(name string) (*SourceSummary, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.cat.sources[name]
	if !ok {
		return nil, false
	}
	return summarize(s), true
}

// Sources lists every stream and table.
func (e *Engine) Sources() []*SourceSummary {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*SourceSummary
	for _, s := range e.cat.sources {
		out = append(out, summarize(s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func summarize(s *source) *SourceSummary {
	sum := &SourceSummary{Name: s.Name, Kind: s.kindName(), Topic: s.Topic, Schema: s.Schema,
		KeyFormat: keyFormatName(s), ValueFormat: s.ValueFormat.Name, IsSource: s.IsSource, Partitions: s.Partitions}
	if s.windowed() {
		sum.WindowType = s.WindowType.String()
		if s.WindowType != ast.Session {
			sum.WindowSize = s.WindowSizeMs
		}
	}
	if len(s.keyCols()) == 1 && s.KeyFormat.Name != "KAFKA" && s.KeyFormat.Name != "DELIMITED" && s.KeyFormat.Name != "NONE" {
		sum.KeyFeatures = []string{"UNWRAP_SINGLES"}
	}
	if len(s.valueCols()) == 1 && s.ValueFormat.Unwrapped && s.ValueFormat.Name == "JSON" {
		sum.ValFeatures = []string{"UNWRAP_SINGLES"}
	}
	return sum
}

func keyFormatName(s *source) string {
	if len(s.keyCols()) == 0 {
		return "NONE"
	}
	return s.KeyFormat.Name
}

// CloseQuery stops a transient push query by id (REST /close-query); false if unknown.
func (e *Engine) CloseQuery(id string) bool {
	v, ok := e.transient.Load(id)
	if !ok {
		return false
	}
	v.(*Cursor).Close()
	return true
}

var _ = io.EOF
