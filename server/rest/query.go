package rest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// streamFormat is the shape of a query response.
type streamFormat uint8

const (
	// formatStreamedRows is /query's JSON array of StreamedRow objects:
	// [{"header":{...}},\n{"row":{"columns":[...]}},\n{"finalMessage":"..."}]
	formatStreamedRows streamFormat = iota
	// formatJSONArray is /query-stream with Accept application/json: [{meta},\n[row],\n[row]]
	formatJSONArray
	// formatDelimited is application/vnd.ksqlapi.delimited.v1: {meta}\n[row]\n[row]\n
	formatDelimited
)

var (
	queryTypes       = []string{mediaKsqlV1, mediaJSON, mediaDelimited}
	queryStreamTypes = []string{mediaDelimited, mediaJSON, mediaKsqlV1}
)

// columnInfo is a result column with its printed type, computed once per query.
type columnInfo struct {
	name     string
	typ      *types.Type
	typeText string
	key      bool
}

func columnsOf(cols []engine.Column) []columnInfo {
	out := make([]columnInfo, len(cols))
	for i, c := range cols {
		out[i] = columnInfo{name: c.Name, typ: c.Type, typeText: c.Type.String(), key: c.Key}
	}
	return out
}

// schemaString is the "schema" of a /query header: "`ID` STRING KEY, `COUNT` BIGINT". Only pull
// queries mark key columns; push-query headers carry no KEY markers (as ksqlDB's do).
func schemaString(cols []columnInfo, markKeys bool) string {
	var sb strings.Builder
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(types.QuoteIdent(c.name))
		sb.WriteByte(' ')
		sb.WriteString(c.typeText)
		if markKeys && c.key {
			sb.WriteString(" KEY")
		}
	}
	return sb.String()
}

// queryCounter numbers transient queries whose cursor came without an id.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) next() string { return "transient_QUERY_" + strconv.FormatInt(q.n.Add(1), 10) }

// handleQuery serves POST /query (KSQL_FACTS A.2): body {"ksql": ...}, response a chunked JSON
// array of StreamedRow objects, or the /query-stream delimited form when asked for.
func (s *server) handleQuery(w http.ResponseWriter, r *http.Request) {
	mt := negotiate(r.Header.Get("Accept"), queryTypes)
	if mt == "" {
		writeError(w, mediaJSON, notAcceptable(queryTypes))
		return
	}
	body, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	req, e := parseKsqlRequest(body)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	sess, e := newSession(req.SessionVariables, req.StreamsProperties, req.RequestProperties)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	format := formatStreamedRows
	if mt == mediaDelimited {
		format = formatDelimited
	}
	s.runQuery(w, r, sess, *req.Ksql, mt, format)
}

// handleQueryStream serves POST /query-stream (KSQL_FACTS A.3) over HTTP/1.1 (chunked) or
// HTTP/2: body {"sql": ...}, response delimited by default.
func (s *server) handleQueryStream(w http.ResponseWriter, r *http.Request) {
	mt := negotiate(r.Header.Get("Accept"), queryStreamTypes)
	if mt == "" {
		writeError(w, mediaJSON, notAcceptable(queryStreamTypes))
		return
	}
	body, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	req, e := parseQueryStreamRequest(body)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	sess, e := newSession(req.SessionVariables, req.Properties)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	var format streamFormat
	switch mt {
	case mediaDelimited:
		format = formatDelimited
	case mediaJSON:
		format = formatJSONArray
	default:
		format = formatStreamedRows
	}
	if format != formatDelimited && isPrint(*req.SQL) {
		writeError(w, mt, &apiError{status: http.StatusNotAcceptable, code: codeNotAcceptable,
			msg: "PRINT output is only available as " + mediaDelimited})
		return
	}
	s.runQuery(w, r, sess, *req.SQL, mt, format)
}

// isPrint reports whether text is a PRINT statement.
func isPrint(text string) bool {
	t := strings.TrimSpace(text)
	if len(t) < 6 || !strings.EqualFold(t[:5], "PRINT") {
		return false
	}
	c := t[5]
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\'' || c == '`' || c == '"'
}

// runQuery starts the query and streams its result in this goroutine until the cursor ends,
// fails, or the client goes away (request context done; the deferred Close stops the query).
// Errors before the first byte get an HTTP status; later ones are written in-band.
func (s *server) runQuery(w http.ResponseWriter, r *http.Request, sess *engine.Session, text, mt string, format streamFormat) {
	ctx := r.Context()
	cur, err := s.b.Query(ctx, sess, text)
	if err != nil {
		ae := fromError(err, text)
		s.logServerError(r, ae)
		writeError(w, mt, ae)
		return
	}
	defer cur.Close()

	if isPrint(text) {
		s.streamPrint(w, r, cur, mt)
		return
	}
	id := cur.ID
	if id == "" {
		id = s.queries.next()
	}
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), format: format,
		cols: columnsOf(cur.Columns), push: cur.Push}
	h := w.Header()
	h.Set("Content-Type", mt)
	h.Set("X-Accel-Buffering", "no") // let reverse proxies stream too
	w.WriteHeader(http.StatusOK)
	if sw.header(id) != nil {
		return
	}
	for {
		row, err := cur.Next(ctx)
		if err == io.EOF {
			if sw.final(cur.FinalMessage()) != nil {
				return
			}
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return // client gone: nobody to tell
			}
			ae := fromError(err, text)
			s.logServerError(r, ae)
			if sw.inbandError(ae) != nil {
				return
			}
			break
		}
		if sw.row(row) != nil {
			return
		}
	}
	_ = sw.end()
}

// streamPrint writes PRINT output as ksqlDB does: one plain text line per record
// ("rowtime: ..., key: ..., value: ..., partition: ..."), no header, each flushed at once; an
// error ends the output with a JSON error line.
func (s *server) streamPrint(w http.ResponseWriter, r *http.Request, cur *engine.Cursor, mt string) {
	ctx := r.Context()
	w.Header().Set("Content-Type", mt)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if flush(rc) != nil {
		return
	}
	var buf []byte
	for {
		row, err := cur.Next(ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				ae := fromError(err, "")
				s.logServerError(r, ae)
				if b, merr := marshalJSON(ae.body()); merr == nil {
					_, _ = w.Write(append(b, '\n'))
					_ = flush(rc)
				}
			}
			return
		}
		buf = buf[:0]
		for i, v := range row.Values {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			if str, ok := v.(string); ok {
				buf = append(buf, str...)
			} else {
				buf = appendValue(buf, v, nil)
			}
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return
		}
		if flush(rc) != nil {
			return
		}
	}
}

// streamWriter writes one query response in one of the three formats.
//
// Push-query elements are flushed one by one so that they reach the client as they happen;
// pull-query elements go through the server's write buffer and are flushed at the end.
//
// The StreamedRow form follows ksqlDB's byte layout, which line-oriented clients (the ksql CLI)
// depend on: every element is followed at once by ",\n", so the header line is complete before
// the first row exists, and the last element is followed by "]". Since a pull query's last row
// is only known at the end, pull elements are held back by one. A push query that ends without
// a final message (closed by /close-query) gets "Query Completed" so that the array stays valid
// JSON. The application/json form of /query-stream puts ",\n" before each element instead; it
// is read as one document, not by lines.
type streamWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	format streamFormat
	cols   []columnInfo
	push   bool

	buf      []byte // the element being built
	pending  []byte // StreamedRow form, pull: the last element, not yet written
	spare    []byte // a buffer to build the next element in while one is pending
	dangling bool   // StreamedRow form: the last written element ended with ",\n"
	closed   bool   // the closing element and "]" are written
	count    int    // elements written (application/json form)
}

// put writes elem, which is sw.buf. last marks the closing element (final message, error).
func (sw *streamWriter) put(elem []byte, last, doFlush bool) error {
	var err error
	switch sw.format {
	case formatDelimited:
		sw.buf = append(elem, '\n')
		err = sw.write(sw.buf)
	case formatJSONArray:
		if sw.count == 0 {
			err = sw.write(openArray)
		} else {
			err = sw.write(separator)
		}
		sw.count++
		if err == nil {
			err = sw.write(elem)
		}
	default:
		if sw.pending != nil {
			if err = sw.write(sw.pending); err == nil {
				err = sw.write(separator)
			}
			sw.spare, sw.pending = sw.pending[:0], nil
		}
		switch {
		case err != nil:
		case last:
			if err = sw.write(elem); err == nil {
				err = sw.write(closeArray)
			}
			sw.closed = true
		case sw.push:
			if err = sw.write(elem); err == nil {
				err = sw.write(separator)
			}
			sw.dangling = true
		default:
			// Hold elem back; build the next element in the spare buffer.
			sw.pending, sw.buf = elem, sw.spare
		}
	}
	if err != nil {
		return err
	}
	if doFlush || last {
		return flush(sw.rc)
	}
	return nil
}

var (
	openArray  = []byte{'['}
	closeArray = []byte{']'}
	separator  = []byte(",\n")
)

func (sw *streamWriter) write(b []byte) error {
	_, err := sw.w.Write(b)
	return err
}

func (sw *streamWriter) header(queryID string) error {
	b := sw.buf[:0]
	if sw.format == formatStreamedRows {
		b = append(b, `[{"header":{"queryId":`...)
		b = appendString(b, queryID)
		b = append(b, `,"schema":`...)
		b = appendString(b, schemaString(sw.cols, !sw.push))
		b = append(b, "}}"...)
	} else {
		b = append(b, `{"queryId":`...)
		b = appendString(b, queryID)
		b = append(b, `,"columnNames":[`...)
		for i, c := range sw.cols {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c.name)
		}
		b = append(b, `],"columnTypes":[`...)
		for i, c := range sw.cols {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c.typeText)
		}
		b = append(b, "]}"...)
	}
	sw.buf = b
	// The response headers always go out at once: they tell the client the query started.
	return sw.put(b, false, true)
}

// row writes one result row. Tombstones exist only in the StreamedRow form; the new API's
// formats drop them as ksqlDB does (a delete is not representable as a value array).
func (sw *streamWriter) row(row engine.Row) error {
	b := sw.buf[:0]
	if sw.format == formatStreamedRows {
		b = append(b, `{"row":{"columns":`...)
		b = appendRow(b, row.Values, sw.cols)
		if row.Tombstone {
			b = append(b, `,"tombstone":true`...)
		}
		b = append(b, "}}"...)
	} else {
		if row.Tombstone {
			return nil
		}
		b = appendRow(b, row.Values, sw.cols)
	}
	sw.buf = b
	return sw.put(b, false, sw.push)
}

// final writes ksqlDB's closing message ("Limit Reached", "Query Completed"); only the
// StreamedRow form carries one.
func (sw *streamWriter) final(msg string) error {
	if msg == "" || sw.format != formatStreamedRows {
		return nil
	}
	b := append(sw.buf[:0], `{"finalMessage":`...)
	b = appendString(b, msg)
	sw.buf = append(b, '}')
	return sw.put(sw.buf, true, true)
}

// inbandError reports an error after the header was sent; it ends the response.
func (sw *streamWriter) inbandError(e *apiError) error {
	body, err := marshalJSON(e.body())
	if err != nil {
		return err
	}
	b := sw.buf[:0]
	if sw.format == formatStreamedRows {
		b = append(b, `{"errorMessage":`...)
		b = append(b, body...)
		b = append(b, '}')
	} else {
		b = append(b, body...)
	}
	sw.buf = b
	return sw.put(b, true, true)
}

// end completes the response: the held-back element and "]" where the format needs them.
func (sw *streamWriter) end() error {
	var err error
	switch sw.format {
	case formatJSONArray:
		if sw.count == 0 {
			err = sw.write(openArray)
		}
		if err == nil {
			err = sw.write(closeArray)
		}
	case formatStreamedRows:
		switch {
		case sw.closed:
		case sw.pending != nil:
			if err = sw.write(sw.pending); err == nil {
				err = sw.write(closeArray)
			}
			sw.pending = nil
		case sw.dangling:
			err = sw.write([]byte(`{"finalMessage":"Query Completed"}]`))
		}
		sw.closed = true
	}
	if err != nil {
		return err
	}
	return flush(sw.rc)
}

// handleCloseQuery serves POST /close-query: {"queryId": "..."} stops a push query.
func (s *server) handleCloseQuery(w http.ResponseWriter, r *http.Request) {
	mt := s.jsonType(r)
	body, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	var req closeQueryRequest
	if e := decodeStrict(body, &req, []string{"queryId"}); e != nil {
		writeError(w, mt, e)
		return
	}
	if req.QueryID == nil || *req.QueryID == "" {
		writeError(w, mt, badRequest(`Request body is missing the "queryId" field`))
		return
	}
	if !s.b.CloseQuery(*req.QueryID) {
		writeError(w, mt, badRequest("No query with id "+*req.QueryID))
		return
	}
	w.WriteHeader(http.StatusOK)
}
