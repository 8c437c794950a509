package rest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

var insertsTypes = []string{mediaDelimited, mediaJSON}

// handleInsertsStream serves POST /inserts-stream (KSQL_FACTS A.4). The body is newline-delimited
// JSON: first {"target": ..., "properties": ...}, then one object per row. Each row is inserted
// as it arrives and acknowledged at once with {"status":"ok","seq":n} (or an error ack), so the
// request and the response stream at the same time: HTTP/2, or HTTP/1.1 chunked in both
// directions (full duplex).
//
// Problems with the header line get an HTTP error status. After that, a row the engine rejects
// gets an error ack and the stream goes on; a line that is not a JSON object ends the stream
// after its error ack, since the rest of the body cannot be trusted to line up.
func (s *server) handleInsertsStream(w http.ResponseWriter, r *http.Request) {
	mt := negotiate(r.Header.Get("Accept"), insertsTypes)
	if mt == "" {
		writeError(w, mediaJSON, notAcceptable(insertsTypes))
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.cfg.Logf("rest: inserts-stream: enable full duplex: %v", err)
	}
	br := bufio.NewReader(r.Body)
	limit := s.cfg.MaxBodyBytes

	line, err := readLine(br, limit)
	if err != nil {
		writeError(w, mt, lineError(err, limit, "the inserts-stream header"))
		return
	}
	var hdr insertsHeader
	if e := decodeStrict(line, &hdr, []string{"target", "properties"}); e != nil {
		writeError(w, mt, e)
		return
	}
	if hdr.Target == nil || *hdr.Target == "" {
		writeError(w, mt, badRequest(`Inserts-stream header is missing the "target" field`))
		return
	}
	target, e := s.resolveTarget(*hdr.Target)
	if e != nil {
		writeError(w, mt, e)
		return
	}
	sess, e := newSession(nil, hdr.Properties)
	if e != nil {
		writeError(w, mt, e)
		return
	}

	ctx := r.Context()
	aw := &ackWriter{w: w, rc: rc, json: mt == mediaJSON}
	w.Header().Set("Content-Type", mt)
	w.WriteHeader(http.StatusOK)
	if aw.start() != nil {
		return
	}
	for seq := int64(0); ; seq++ {
		line, err := readLine(br, limit)
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() == nil {
				_ = aw.ack(seq, lineError(err, limit, "row"))
			}
			break
		}
		row, e := decodeRow(line)
		if e != nil {
			_ = aw.ack(seq, e)
			break
		}
		var ae *apiError
		if err := s.b.InsertJSON(ctx, sess, target, row); err != nil {
			if ctx.Err() != nil {
				return
			}
			ae = fromError(err, "")
			s.logServerError(r, ae)
		}
		if aw.ack(seq, ae) != nil {
			return
		}
	}
	_ = aw.end()
}

// resolveTarget finds the stream or table to insert into: the name as given, else upper-cased
// (unquoted identifiers are stored upper-case). Windowed tables cannot take inserts.
func (s *server) resolveTarget(name string) (string, *apiError) {
	src, ok := s.b.Source(name)
	if !ok {
		src, ok = s.b.Source(strings.ToUpper(name))
	}
	if !ok {
		return "", badRequest("Cannot insert into " + name + ": no such stream or table")
	}
	if src.WindowType != "" {
		return "", badRequest("Cannot insert into " + src.Name + ": inserting into windowed sources is not supported")
	}
	return src.Name, nil
}

// errLineTooLong reports a line over the body limit.
var errLineTooLong = errors.New("line too long")

// readLine returns the next non-blank line of br without its line ending; io.EOF at the end.
func readLine(br *bufio.Reader, limit int64) ([]byte, error) {
	for {
		var line []byte
		for {
			frag, err := br.ReadSlice('\n')
			if int64(len(line)+len(frag)) > limit+2 { // +2: the line ending is not content
				return nil, errLineTooLong
			}
			line = append(line, frag...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && (err != io.EOF || len(line) == 0) {
				return nil, err
			}
			break
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			return t, nil
		}
	}
}

func lineError(err error, limit int64, what string) *apiError {
	switch {
	case errors.Is(err, errLineTooLong):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: codeBodyTooLarge,
			msg: fmt.Sprintf("The %s is larger than the limit of %d bytes", what, limit)}
	case err == io.EOF:
		return badRequest("Request body is empty; expected " + what)
	}
	return badRequest(fmt.Sprintf("Failed to read %s: %v", what, err))
}

// decodeRow parses one row object, numbers kept exact as json.Number.
func decodeRow(line []byte) (map[string]any, *apiError) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var row map[string]any
	if err := dec.Decode(&row); err != nil {
		return nil, badRequest(describeJSONError(err, nil, "inserts-stream row"))
	}
	if row == nil {
		return nil, badRequest("Invalid inserts-stream row: expected a JSON object, got null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("Invalid JSON in inserts-stream row: unexpected data after the row object")
	}
	return row, nil
}

// ackWriter streams insert acks, newline-delimited or as one JSON array.
type ackWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	json  bool
	count int
	buf   []byte
}

func (aw *ackWriter) start() error {
	if aw.json {
		if _, err := aw.w.Write([]byte{'['}); err != nil {
			return err
		}
	}
	return flush(aw.rc)
}

// ack writes {"status":"ok","seq":n}, or the error form when e is not nil.
func (aw *ackWriter) ack(seq int64, e *apiError) error {
	b := aw.buf[:0]
	if aw.json && aw.count > 0 {
		b = append(b, ",\n"...)
	}
	if e == nil {
		b = append(b, `{"status":"ok","seq":`...)
		b = strconv.AppendInt(b, seq, 10)
		b = append(b, '}')
	} else {
		b = append(b, `{"status":"error","seq":`...)
		b = strconv.AppendInt(b, seq, 10)
		b = append(b, `,"error_code":`...)
		b = strconv.AppendInt(b, int64(e.code), 10)
		b = append(b, `,"message":`...)
		b = appendString(b, e.msg)
		b = append(b, '}')
	}
	if !aw.json {
		b = append(b, '\n')
	}
	aw.buf = b
	aw.count++
	if _, err := aw.w.Write(b); err != nil {
		return err
	}
	return flush(aw.rc)
}

func (aw *ackWriter) end() error {
	if aw.json {
		if _, err := aw.w.Write([]byte{']'}); err != nil {
			return err
		}
	}
	return flush(aw.rc)
}

func flush(rc *http.ResponseController) error {
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
