package pgwire

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/exec/engine"
)

type noticeMsg = pgproto3.NoticeResponse

// SQL cursors carry push queries to clients that otherwise buffer whole results: psql ≤16
// implements FETCH_COUNT as BEGIN; DECLARE _psql_cursor NO SCROLL CURSOR FOR ...; FETCH
// FORWARD n ... until a FETCH returns fewer than n rows. So FETCH n on a push cursor blocks
// until n rows have arrived or the stream ended (strict PostgreSQL semantics); FETCH ... WITH
// (timeout='1s') returns whatever arrived by the deadline instead.

type declareSpec struct {
	name   string
	query  string
	hold   bool
	binary bool
}

type fetchSpec struct {
	name    string
	count   int // -1: ALL
	move    bool
	timeout time.Duration
	hasTO   bool
}

type copySpec struct {
	query  string
	csv    bool
	header bool
}

type sqlCursor struct {
	name   string
	p      *portal
	hold   bool
	eof    bool
	cols   []engine.Column
	binary bool
}

// cursorName folds a bare name to lower case, as PostgreSQL does.
func cursorName(t token) string {
	if t.kind == tkIdent {
		return strings.ToLower(t.val)
	}
	return t.val
}

// parseDeclare reads DECLARE name [BINARY] [INSENSITIVE] [[NO] SCROLL] CURSOR
// [{WITH|WITHOUT} HOLD] FOR query.
func parseDeclare(text string, toks []token) (*declareSpec, error) {
	bad := func() (*declareSpec, error) {
		return nil, newErr(codeSyntax, "syntax error in DECLARE: expected DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query")
	}
	if len(toks) < 4 || (toks[1].kind != tkIdent && toks[1].kind != tkQIdent) {
		return bad()
	}
	spec := &declareSpec{name: cursorName(toks[1])}
	i := 2
	for ; i < len(toks) && !toks[i].is("CURSOR"); i++ {
		switch {
		case toks[i].is("BINARY"):
			spec.binary = true
		case toks[i].is("NO"), toks[i].is("SCROLL"), toks[i].is("INSENSITIVE"), toks[i].is("ASENSITIVE"):
		default:
			return bad()
		}
	}
	for i++; i < len(toks) && !toks[i].is("FOR"); i++ {
		switch {
		case toks[i].is("WITH"):
			spec.hold = true
		case toks[i].is("WITHOUT"):
			spec.hold = false
		case toks[i].is("HOLD"):
		default:
			return bad()
		}
	}
	if i+1 >= len(toks) {
		return bad()
	}
	spec.query = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(text[toks[i+1].start:]), ";"))
	return spec, nil
}

// parseFetch reads FETCH|MOVE [NEXT | FORWARD [n|ALL] | n | ALL] [FROM|IN] name
// [WITH (timeout = '1s')].
func parseFetch(toks []token) (*fetchSpec, error) {
	spec := &fetchSpec{count: 1, move: toks[0].is("MOVE")}
	t := toks[1:]
	// Trailing WITH (timeout = '...').
	for i := range t {
		if t[i].is("WITH") {
			opts := t[i+1:]
			t = t[:i]
			for j := 0; j+2 < len(opts); j++ {
				if opts[j].is("timeout") && opts[j+1].isP("=") {
					d, err := parseTimeout(opts[j+2].val)
					if err != nil {
						return nil, newErr(codeSyntax, err.Error())
					}
					spec.timeout, spec.hasTO = d, true
				}
			}
			break
		}
	}
	if len(t) == 0 {
		return nil, newErr(codeSyntax, "syntax error at end of input")
	}
	switch {
	case t[0].is("NEXT"):
		t = t[1:]
	case t[0].is("FORWARD"):
		t = t[1:]
		if len(t) > 1 && t[0].kind == tkNumber {
			n, err := strconv.Atoi(t[0].val)
			if err != nil {
				return nil, newErr(codeSyntax, "invalid FETCH count")
			}
			spec.count, t = n, t[1:]
		} else if len(t) > 1 && t[0].is("ALL") {
			spec.count, t = -1, t[1:]
		}
	case t[0].kind == tkNumber && len(t) > 1:
		n, err := strconv.Atoi(t[0].val)
		if err != nil {
			return nil, newErr(codeSyntax, "invalid FETCH count")
		}
		spec.count, t = n, t[1:]
	case t[0].is("ALL") && len(t) > 1:
		spec.count, t = -1, t[1:]
	case t[0].is("PRIOR"), t[0].is("FIRST"), t[0].is("LAST"), t[0].is("ABSOLUTE"), t[0].is("RELATIVE"), t[0].is("BACKWARD"):
		return nil, newErr("55000", "cursor can only scan forward")
	}
	if len(t) > 0 && (t[0].is("FROM") || t[0].is("IN")) {
		t = t[1:]
	}
	if len(t) != 1 || (t[0].kind != tkIdent && t[0].kind != tkQIdent) {
		return nil, newErr(codeSyntax, "syntax error in FETCH: expected a cursor name")
	}
	spec.name = cursorName(t[0])
	return spec, nil
}

func parseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	f := strings.Fields(s)
	if len(f) == 2 {
		n, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			unit := map[string]time.Duration{"ms": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
				"s": time.Second, "second": time.Second, "seconds": time.Second, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute}[strings.ToLower(f[1])]
			if unit > 0 {
				return time.Duration(n * float64(unit)), nil
			}
		}
	}
	return 0, fmt.Errorf("invalid timeout %q", s)
}

// startInner starts the query of a DECLARE or COPY: one the wire layer answers itself
// (SELECT version(), a catalog query) or an engine query.
func (c *conn) startInner(ctx context.Context, query string) (*stream, error) {
	inner, err := c.analyze(query)
	if err != nil {
		return nil, err
	}
	switch inner.kind {
	case kLocal:
		res, err := inner.local(ctx)
		if err != nil {
			return nil, err
		}
		if res.cols == nil {
			return nil, newErr(codeSyntax, "cursor and COPY queries must return rows")
		}
		return newStream(c.ctx, &sliceRows{cols: res.cols, rows: res.rows}), nil
	case kQuery:
		rows, err := c.startRows(c.ctx, inner.text)
		if err != nil {
			return nil, err
		}
		return newStream(c.ctx, rows), nil
	}
	return nil, newErr(codeSyntax, "expected a SELECT query")
}

func (c *conn) declare(ctx context.Context, p *portal) error {
	spec := p.st.cursor
	if _, dup := c.cursors[spec.name]; dup {
		return &pgError{code: codeDuplicateCursor, msg: fmt.Sprintf("cursor %q already exists", spec.name)}
	}
	s, err := c.startInner(ctx, spec.query)
	if err != nil {
		return err
	}
	cur := &sqlCursor{
		name: spec.name, hold: spec.hold || c.tx == 'I', binary: spec.binary, cols: fillTypes(s.cols, nil),
		p: &portal{rows: s, started: true},
	}
	c.cursors[spec.name] = cur
	c.complete(p, "DECLARE CURSOR")
	return nil
}

// fetch sends up to count rows of a cursor. It completes p itself.
func (c *conn) fetch(ctx context.Context, p *portal, simple bool) error {
	spec := p.st.fetch
	cur := c.cursors[spec.name]
	if cur == nil {
		return &pgError{code: codeInvalidCursorName, msg: fmt.Sprintf("cursor %q does not exist", spec.name)}
	}
	var formats []int16
	if cur.binary {
		formats = []int16{1}
	} else if !simple {
		formats = p.formats
	}
	if simple && !spec.move {
		c.send(rowDescription(cur.cols, formats))
	}
	var deadline <-chan time.Time
	if spec.hasTO && spec.timeout > 0 {
		t := time.NewTimer(spec.timeout)
		defer t.Stop()
		deadline = t.C
	}
	nowait := spec.hasTO && spec.timeout <= 0
	n := 0
	var dr pgproto3.DataRow
	s := cur.p.rows
	for !cur.eof && (spec.count < 0 || n < spec.count) {
		r, err := s.next(ctx, c.gone, deadline, nowait)
		if err == io.EOF {
			cur.eof = true
			break
		}
		if err == errFetchTimeout {
			break
		}
		if err != nil {
			if ctx.Err() == nil && err != errConnGone {
				cur.eof = true // the query failed; the cursor stays until CLOSE
			}
			return err
		}
		n++
		if spec.move {
			continue
		}
		if err := c.encodeRow(&dr, cur.cols, formats, r.Values); err != nil {
			return err
		}
		c.send(&dr)
		if s.push && !s.ready() {
			c.flush()
		}
		if c.err != nil {
			return errConnGone
		}
	}
	tag := "FETCH "
	if spec.move {
		tag = "MOVE "
	}
	c.complete(p, tag+strconv.Itoa(n))
	return nil
}

func (c *conn) closeCursor(toks []token) func(context.Context) (*localResult, error) {
	return func(context.Context) (*localResult, error) {
		if len(toks) != 2 {
			return nil, newErr(codeSyntax, "syntax error in CLOSE: expected CLOSE name | ALL")
		}
		if toks[1].is("ALL") {
			for name, cur := range c.cursors {
				cur.p.close()
				delete(c.cursors, name)
			}
			return &localResult{tag: "CLOSE CURSOR ALL"}, nil
		}
		name := cursorName(toks[1])
		cur := c.cursors[name]
		if cur == nil {
			return nil, &pgError{code: codeInvalidCursorName, msg: fmt.Sprintf("cursor %q does not exist", name)}
		}
		cur.p.close()
		delete(c.cursors, name)
		return &localResult{tag: "CLOSE CURSOR"}, nil
	}
}

// parseCopy reads COPY (query) TO STDOUT [[WITH] (FORMAT text|csv [, HEADER [bool]]) | CSV
// [HEADER]]. COPY FROM and COPY of a bare table are not supported.
func parseCopy(text string, toks []token) (*copySpec, error) {
	unsupported := newErr(codeFeatureNotSupp, "only COPY (query) TO STDOUT is supported")
	if len(toks) < 5 || !toks[1].isP("(") {
		return nil, unsupported
	}
	depth, end := 0, -1
	for i := 1; i < len(toks); i++ {
		if toks[i].isP("(") {
			depth++
		} else if toks[i].isP(")") {
			depth--
			if depth == 0 {
				end = i
				break
			}
		}
	}
	if end < 0 || end+2 >= len(toks) || !toks[end+1].is("TO") || !toks[end+2].is("STDOUT") {
		return nil, unsupported
	}
	spec := &copySpec{query: strings.TrimSpace(text[toks[1].end:toks[end].start])}
	opts := toks[end+3:]
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		switch {
		case o.is("CSV"):
			spec.csv = true
		case o.is("HEADER"):
			spec.header = !(i+1 < len(opts) && (opts[i+1].is("false") || opts[i+1].is("off") || opts[i+1].val == "0"))
		case o.is("FORMAT") && i+1 < len(opts):
			i++
			switch strings.ToLower(opts[i].val) {
			case "csv":
				spec.csv = true
			case "text":
			default:
				return nil, newErr(codeFeatureNotSupp, fmt.Sprintf("COPY format %q is not supported: use text or csv", opts[i].val))
			}
		case o.is("BINARY"):
			return nil, newErr(codeFeatureNotSupp, "COPY format binary is not supported: use text or csv")
		}
	}
	return spec, nil
}

// copyOut streams a query as COPY text or CSV: one CopyData per row, flushed as push rows
// arrive, then CopyDone and COPY n. On error or cancel no CopyDone is sent.
func (c *conn) copyOut(ctx context.Context, p *portal) error {
	spec := p.st.copy
	s, err := c.startInner(ctx, spec.query)
	if err != nil {
		return err
	}
	defer s.close()
	cols := fillTypes(s.cols, nil)
	codes := make([]uint16, len(cols))
	c.send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: codes})
	c.flush()
	var line []byte
	if spec.csv && spec.header {
		for i, col := range cols {
			if i > 0 {
				line = append(line, ',')
			}
			line = appendCopyCSV(line, nil, col.Name)
		}
		line = append(line, '\n')
		c.send(&pgproto3.CopyData{Data: line})
	}
	n := 0
	for {
		r, err := s.next(ctx, c.gone, nil, false)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line = line[:0]
		for i, col := range cols {
			var v any
			if i < len(r.Values) {
				v = r.Values[i]
			}
			if spec.csv {
				if i > 0 {
					line = append(line, ',')
				}
				line = appendCopyCSV(line, col.Type, v)
			} else {
				if i > 0 {
					line = append(line, '\t')
				}
				line = appendCopyText(line, col.Type, v)
			}
		}
		line = append(line, '\n')
		c.send(&pgproto3.CopyData{Data: line})
		n++
		if s.push && !s.ready() {
			c.flush()
		}
		if c.err != nil {
			return errConnGone
		}
	}
	c.send(&pgproto3.CopyDone{})
	c.complete(p, "COPY "+strconv.Itoa(n))
	return nil
}
