package pgwire

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/exec/engine"
)

// stmtKind classifies a statement by who answers it.
type stmtKind uint8

const (
	kEmpty   stmtKind = iota
	kLocal            // answered by the wire layer (session statements, catalog emulation)
	kQuery            // engine.Query: SELECT, PRINT
	kExec             // engine.Execute: everything else
	kDeclare          // DECLARE c CURSOR FOR <query>
	kFetch            // FETCH n FROM c
	kCopy             // COPY (<query>) TO STDOUT
)

// stmt is one analysed statement: a piece of a simple Query, or a Parse.
type stmt struct {
	name      string
	text      string
	toks      []token
	kind      stmtKind
	paramOIDs []uint32

	// kLocal: run answers the statement; it returns a result with rows, or only a tag.
	local     func(ctx context.Context) (*localResult, error)
	rowsLocal bool // local returns rows and has no side effects: Describe may run it
	// kDeclare, kFetch, kCopy.
	cursor *declareSpec
	fetch  *fetchSpec
	copy   *copySpec

	described bool
	cols      []engine.Column // result columns when known; nil: no rows (NoData)
}

// localResult is the answer of a statement the wire layer handles itself.
type localResult struct {
	cols []engine.Column
	rows [][]any
	tag  string      // without a row count for SELECT/SHOW: "SELECT" gets " n" appended
	ps   [][2]string // ParameterStatus to report after the command
	noti *pgproto3.NoticeResponse
}

// portal is a statement with its parameters bound, possibly half-way through its rows.
type portal struct {
	name    string
	st      *stmt  // the analysed bound text
	src     *stmt  // the prepared statement it came from (extended protocol)
	text    string // bound text (parameters substituted)
	formats []int16

	started bool
	rows    *stream
	cols    []engine.Column
	tag     string // "SELECT", "FETCH", "SHOW" ... ; a count is appended
	count   int
	done    bool   // CommandComplete was sent
	doneTag string // the tag to repeat if executed again
}

func (p *portal) close() {
	if p.rows != nil {
		p.rows.close()
		p.rows = nil
	}
}

// stream wraps Rows. Push queries get a pump goroutine so the connection can wait for a row,
// a CancelRequest, a vanished client or a FETCH timeout at the same time; pull queries are
// read directly.
type stream struct {
	rows   Rows
	cols   []engine.Column
	push   bool
	ch     chan streamItem
	cancel context.CancelFunc
	closed bool
}

type streamItem struct {
	row engine.Row
	err error
}

func newStream(parent context.Context, rows Rows) *stream {
	s := &stream{rows: rows, cols: rows.Columns(), push: rows.Push()}
	if !s.push {
		return s
	}
	ctx, cancel := context.WithCancel(parent)
	s.cancel = cancel
	s.ch = make(chan streamItem, 16)
	go func() {
		defer rows.Close()
		for {
			r, err := rows.Next(ctx)
			select {
			case s.ch <- streamItem{r, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

var errFetchTimeout = errors.New("fetch timeout")

// next returns the next row. ctx is the statement's (CancelRequest), gone the client's EOF,
// deadline an optional FETCH timeout.
func (s *stream) next(ctx context.Context, gone <-chan struct{}, deadline <-chan time.Time, nowait bool) (engine.Row, error) {
	if !s.push {
		return s.rows.Next(ctx)
	}
	if nowait {
		select {
		case it := <-s.ch:
			return it.row, it.err
		default:
			return engine.Row{}, errFetchTimeout
		}
	}
	select {
	case it := <-s.ch:
		return it.row, it.err
	case <-ctx.Done():
		return engine.Row{}, ctx.Err()
	case <-gone:
		return engine.Row{}, errConnGone
	case <-deadline:
		return engine.Row{}, errFetchTimeout
	}
}

// ready reports whether a row is waiting (push) so the writer can batch flushes.
func (s *stream) ready() bool { return s.push && len(s.ch) > 0 }

func (s *stream) close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.push {
		s.cancel() // the pump closes the Rows
	} else {
		s.rows.Close()
	}
}

// startRows starts an engine query.
func (c *conn) startRows(ctx context.Context, text string) (Rows, error) {
	if rq, ok := c.srv.backend.(RowsQuerier); ok {
		return rq.QueryRows(ctx, c.sess, text)
	}
	cur, err := c.srv.backend.Query(ctx, c.sess, text)
	if err != nil {
		return nil, err
	}
	return CursorRows(cur), nil
}

// execPortal runs (or resumes) p, sending at most maxRows rows (0: all). simple selects the
// simple protocol's framing: RowDescription before rows, no PortalSuspended.
func (c *conn) execPortal(p *portal, maxRows int, simple bool) error {
	if p.done {
		// PostgreSQL answers a re-executed, completed portal with an empty completion.
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.doneTag)})
		return nil
	}
	ctx, end := c.beginStatement()
	defer end()
	if !p.started {
		p.started = true
		if err := c.startPortal(ctx, p, simple); err != nil {
			return c.stmtErr(ctx, err)
		}
		if p.done {
			return nil
		}
	}
	return c.stmtErr(ctx, c.sendRows(ctx, p, maxRows, simple))
}

// startPortal does the statement's work up to the point where rows can be streamed. For
// statements without rows it sends CommandComplete and marks p done.
func (c *conn) startPortal(ctx context.Context, p *portal, simple bool) error {
	st := p.st
	if c.tx == 'E' && !isTxEnd(st) {
		return newErr(codeInFailedTxn, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch st.kind {
	case kEmpty:
		c.send(&pgproto3.EmptyQueryResponse{})
		p.done = true
		return nil
	case kLocal:
		res, err := st.local(ctx)
		if err != nil {
			return err
		}
		if res.noti != nil {
			c.send(res.noti)
		}
		if res.cols == nil {
			c.complete(p, res.tag)
			for _, kv := range res.ps {
				c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
			}
			return nil
		}
		p.rows = newStream(ctx, &sliceRows{cols: res.cols, rows: res.rows})
		p.cols, p.tag = res.cols, res.tag
	case kQuery:
		rows, err := c.startRows(c.ctx, p.text)
		if err != nil {
			return err
		}
		p.rows = newStream(c.ctx, rows)
		p.cols, p.tag = p.rows.cols, "SELECT"
		if !simple && p.st.described && p.st.cols != nil {
			if err := checkShape(p.st.cols, p.cols); err != nil {
				p.close()
				if p.src != nil {
					p.src.described, p.src.cols = false, nil
				}
				return err
			}
		}
		if p.rows.push && simple {
			c.send(pushNotice())
		}
	case kExec:
		results, err := c.srv.backend.Execute(ctx, c.sess, p.text)
		if err != nil {
			return err
		}
		var last *engine.Result
		for i := range results {
			r := &results[i]
			if len(r.Columns) > 0 && (simple || i == len(results)-1) {
				if i < len(results)-1 {
					// Earlier tabular results of a multi-statement text: simple mode only.
					sp := &portal{formats: nil}
					cols := fillTypes(r.Columns, r.Rows)
					sp.rows, sp.cols, sp.tag = newStream(ctx, &sliceRows{cols: cols, rows: r.Rows}), cols, tagOr(r.Tag, "SELECT")
					c.send(rowDescription(cols, nil))
					if err := c.sendRows(ctx, sp, 0, true); err != nil {
						return err
					}
					continue
				}
				last = r
				continue
			}
			if i < len(results)-1 && simple {
				c.send(&pgproto3.CommandComplete{CommandTag: []byte(fixTag(r.Tag, st))})
			} else if i == len(results)-1 {
				c.complete(p, fixTag(r.Tag, st))
			}
		}
		if len(results) == 0 {
			c.complete(p, fixTag("", st))
		}
		if last == nil {
			return nil
		}
		cols := fillTypes(last.Columns, last.Rows)
		p.rows = newStream(ctx, &sliceRows{cols: cols, rows: last.Rows})
		p.cols, p.tag = cols, tagOr(last.Tag, "SELECT")
	case kDeclare:
		return c.declare(ctx, p)
	case kFetch:
		return c.fetch(ctx, p, simple)
	case kCopy:
		return c.copyOut(ctx, p)
	}
	if simple && p.cols != nil {
		c.send(rowDescription(p.cols, p.formats))
	}
	return nil
}

func (c *conn) complete(p *portal, tag string) {
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	p.done, p.doneTag = true, tag
}

func tagOr(tag, def string) string {
	if tag == "" {
		return def
	}
	return tag
}

// fixTag makes sure engine command tags read as clients expect (INSERT needs "INSERT 0 n").
func fixTag(tag string, st *stmt) string {
	if tag == "" && len(st.toks) > 0 {
		tag = strings.ToUpper(st.toks[0].val)
		if len(st.toks) > 1 && (tag == "CREATE" || tag == "DROP") {
			w := strings.ToUpper(st.toks[1].val)
			if w == "OR" && len(st.toks) > 3 { // CREATE OR REPLACE X
				w = strings.ToUpper(st.toks[3].val)
			}
			if w == "SOURCE" || w == "SINK" {
				if len(st.toks) > 2 {
					w += " " + strings.ToUpper(st.toks[2].val)
				}
			}
			tag += " " + w
		}
	}
	if tag == "INSERT" {
		return "INSERT 0 1"
	}
	return tag
}

// sendRows streams rows of a started portal. Push rows are flushed as they arrive (batched
// only while more rows are already waiting).
func (c *conn) sendRows(ctx context.Context, p *portal, maxRows int, simple bool) error {
	if p.rows == nil {
		return nil
	}
	if p.rows.push {
		// A push query may wait a long time for its first row: let the client see the
		// descriptions (BindComplete, RowDescription, the hint notice) now.
		c.flush()
	}
	sent := 0
	var row pgproto3.DataRow
	for {
		if maxRows > 0 && sent >= maxRows && !simple {
			c.send(&pgproto3.PortalSuspended{})
			c.flush()
			return c.connErr()
		}
		r, err := p.rows.next(ctx, c.gone, nil, false)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.close()
			p.done, p.doneTag = true, p.tag+" "+strconv.Itoa(p.count)
			return err
		}
		if err := c.encodeRow(&row, p.cols, p.formats, r.Values); err != nil {
			p.close()
			p.done = true
			return err
		}
		c.send(&row)
		sent++
		p.count++
		if p.rows.push && !p.rows.ready() {
			c.flush()
		}
		if c.err != nil {
			return errConnGone
		}
	}
	p.close()
	tag := p.tag
	if tag == "SELECT" || tag == "FETCH" || tag == "MOVE" || tag == "COPY" {
		tag += " " + strconv.Itoa(p.count)
	}
	c.complete(p, tag)
	return nil
}

// encodeRow fills dr with vals encoded per column type and format. It reuses dr's buffers.
func (c *conn) encodeRow(dr *pgproto3.DataRow, cols []engine.Column, formats []int16, vals []any) error {
	if cap(dr.Values) < len(cols) {
		dr.Values = make([][]byte, len(cols))
	}
	dr.Values = dr.Values[:len(cols)]
	var arena []byte
	for i, col := range cols {
		var v any
		if i < len(vals) {
			v = vals[i]
		}
		if v == nil {
			dr.Values[i] = nil
			continue
		}
		start := len(arena)
		var err error
		arena, err = appendValue(arena, col.Type, formatFor(formats, i), v)
		if err != nil {
			return newErr(codeInternal, err.Error())
		}
		dr.Values[i] = arena[start:len(arena):len(arena)]
	}
	// Slices into arena stay valid even if it grew: each was cut from the array it lived in.
	return nil
}

// pushNotice is sent before a push query's rows in the simple protocol: psql buffers a
// result until CommandComplete, so without it users would stare at a silent terminal.
func pushNotice() *pgproto3.NoticeResponse {
	return &pgproto3.NoticeResponse{
		Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "01000",
		Message: "push query: rows stream until LIMIT is reached or the query is cancelled",
		Hint:    "psql shows rows only when a result is complete. To watch them live run \\set FETCH_COUNT 1 first, or use COPY (SELECT ... EMIT CHANGES) TO STDOUT, or add LIMIT n. Ctrl-C cancels.",
	}
}
