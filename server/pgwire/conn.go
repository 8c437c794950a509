package pgwire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/chunkreader/v2"
	"github.com/jackc/pgproto3/v2"
	"github.com/xdg-go/scram"

	"github.com/sluicedb/sluice/exec/engine"
)

// conn is one client session. Its goroutine (run) owns all writes and all session state; the
// reader goroutine (readLoop) owns Receive and hands deep copies of messages over c.in.
type conn struct {
	srv *Server
	nc  net.Conn
	cr  *limitReader
	be  *pgproto3.Backend
	bw  *bufio.Writer
	buf []byte // encode scratch
	err error  // first write error; the connection is dead once set

	// ctx lives as long as the connection; Close cancels it. Statements derive from it.
	ctx    context.Context
	cancel context.CancelFunc
	in     chan inMsg
	gone   chan struct{} // closed by the reader on EOF, read error or Terminate
	done   chan struct{} // closed when run returns: stops the reader

	pid, secret             uint32
	user, database, appName string
	sess                    *engine.Session
	params                  map[string]string // PostgreSQL session variables, lower-case names
	tx                      byte              // 'I', 'T' or 'E'
	stmts                   map[string]*stmt
	portals                 map[string]*portal
	cursors                 map[string]*sqlCursor
	ignoreTillSync          bool

	mu         sync.Mutex
	stmtCancel context.CancelFunc // guarded by mu: cancels the running statement
}

type inMsg struct {
	msg pgproto3.FrontendMessage
	err error
}

// writeTimeout bounds how long one write may block. A client that stops reading (a stalled
// push subscriber) fills its socket buffer; without a deadline the session would hold its
// goroutine, socket and buffered rows forever. Past it the connection is closed.
const writeTimeout = 30 * time.Second

// deadlineWriter sets a write deadline before every write to the client.
type deadlineWriter struct{ nc net.Conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	_ = w.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.nc.Write(p)
}

// inQueue bounds how many pipelined messages the reader buffers while a statement runs.
const inQueue = 128

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		bw:      bufio.NewWriterSize(deadlineWriter{nc}, 16<<10),
		in:      make(chan inMsg, inQueue),
		gone:    make(chan struct{}),
		done:    make(chan struct{}),
		sess:    engine.NewSession(),
		params:  map[string]string{},
		tx:      'I',
		stmts:   map[string]*stmt{},
		portals: map[string]*portal{},
		cursors: map[string]*sqlCursor{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.cr = &limitReader{cr: chunkreader.New(nc), limit: preAuthMaxMessage}
	c.be = pgproto3.NewBackend(c.cr, c.bw)
	return c
}

// limitReader is a pgproto3.ChunkReader that refuses to allocate for oversized messages:
// pgproto3/v2 trusts the 4-byte length a client sends.
type limitReader struct {
	cr    *chunkreader.ChunkReader
	limit int
}

type tooBigError struct{ n, limit int }

func (e *tooBigError) Error() string {
	return fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", e.n, e.limit)
}

func (r *limitReader) Next(n int) ([]byte, error) {
	if n > r.limit {
		return nil, &tooBigError{n, r.limit}
	}
	return r.cr.Next(n)
}

// send encodes msg into the write buffer. Errors stick in c.err.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.err != nil {
		return
	}
	var err error
	c.buf, err = msg.Encode(c.buf[:0])
	if err == nil {
		_, err = c.bw.Write(c.buf)
	}
	if err != nil {
		c.err = err
	}
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
}

func (c *conn) flush() {
	if c.err != nil {
		return
	}
	if err := c.bw.Flush(); err != nil {
		c.err = err
	}
}

func (c *conn) fatal(code, msg string) {
	c.send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	c.flush()
}

func (c *conn) readyForQuery() {
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.tx})
	c.flush()
}

// sendError reports err for a statement (see errorResponse for query/offset) and flushes:
// clients read the error before they send Sync.
func (c *conn) sendError(err error, query string, offset int) {
	c.send(errorResponse(err, query, offset))
	c.flush()
}

// authenticate runs trust or SCRAM-SHA-256 and then sends the startup ParameterStatus set.
// BackendKeyData and ReadyForQuery follow in run, once the connection is registered.
func (c *conn) authenticate() error {
	if c.srv.creds != nil {
		if err := c.scramAuth(); err != nil {
			return err
		}
	}
	c.send(&pgproto3.AuthenticationOk{})
	for _, kv := range [][2]string{
		{"server_version", serverVersion},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"IntervalStyle", "postgres"},
		{"TimeZone", "UTC"},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"},
		{"is_superuser", "off"},
		{"session_authorization", c.user},
		{"application_name", c.appName},
	} {
		c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
	}
	return c.err
}

func (c *conn) scramAuth() error {
	failed := func(reason error) error {
		c.fatal(codeInvalidPassword, fmt.Sprintf("password authentication failed for user %q", c.user))
		return reason
	}
	user := c.user
	// The user name inside SCRAM messages is empty (libpq, pgx) or "*" (JDBC, node); the
	// StartupMessage user is the one that counts.
	server, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) {
		cred, ok := c.srv.creds[user]
		if !ok {
			return scram.StoredCredentials{}, errors.New("unknown user")
		}
		return cred, nil
	})
	if err != nil {
		return failed(err)
	}
	conv := server.NewConversation()
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := c.receive()
	if err != nil {
		return errConnGone
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		c.fatal(codeProtocolViolation, "expected SASL initial response for SCRAM-SHA-256")
		return errors.New("bad SASL initial response")
	}
	out, err := conv.Step(string(first.Data))
	if err != nil {
		return failed(err)
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(out)})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, err = c.receive()
	if err != nil {
		return errConnGone
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		c.fatal(codeProtocolViolation, "expected SASL response")
		return errors.New("bad SASL response")
	}
	out, err = conv.Step(string(final.Data))
	if err != nil || !conv.Valid() {
		return failed(fmt.Errorf("SCRAM proof rejected: %v", err))
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(out)})
	_ = c.be.SetAuthType(pgproto3.AuthTypeOk)
	return c.err
}

// receive is Backend.Receive, with a decoder panic on a malformed message (pgproto3 panics on
// some, such as a Query whose body is empty) turned into an error: one broken client must not
// stop the server.
func (c *conn) receive() (msg pgproto3.FrontendMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("malformed message: %v", r)
		}
	}()
	return c.be.Receive()
}

// readLoop owns Receive. pgproto3 reuses message structs ("flyweights"), so each message is
// deep-copied before it crosses the channel. On EOF, a read error or Terminate it closes
// c.gone, which is how a streaming statement notices a vanished client without writing.
func (c *conn) readLoop() {
	defer close(c.gone)
	for {
		msg, err := c.receive()
		if err != nil {
			select {
			case c.in <- inMsg{err: err}:
			case <-c.done:
			}
			return
		}
		cp, err := copyMessage(msg)
		select {
		case c.in <- inMsg{msg: cp, err: err}:
		case <-c.done:
			return
		}
		if _, ok := msg.(*pgproto3.Terminate); ok || err != nil {
			return
		}
	}
}

// copyMessage deep-copies a frontend message by re-encoding it into a fresh struct.
func copyMessage(msg pgproto3.FrontendMessage) (pgproto3.FrontendMessage, error) {
	switch msg.(type) {
	case *pgproto3.Sync:
		return &pgproto3.Sync{}, nil
	case *pgproto3.Flush:
		return &pgproto3.Flush{}, nil
	case *pgproto3.Terminate:
		return &pgproto3.Terminate{}, nil
	case *pgproto3.Query:
		return &pgproto3.Query{String: msg.(*pgproto3.Query).String}, nil // strings are immutable
	}
	buf, err := msg.Encode(nil)
	if err != nil {
		return nil, err
	}
	cp := reflect.New(reflect.TypeOf(msg).Elem()).Interface().(pgproto3.FrontendMessage)
	if err := cp.Decode(buf[5:]); err != nil {
		return nil, err
	}
	return cp, nil
}

// run sends BackendKeyData and the first ReadyForQuery, then processes messages until the
// client leaves or the server closes.
func (c *conn) run() {
	defer c.cleanup()
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.readyForQuery()
	go c.readLoop()
	for c.err == nil {
		var im inMsg
		select {
		case im = <-c.in:
		case <-c.srv.closing:
			c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
			return
		}
		if im.err != nil {
			var tb *tooBigError
			if errors.As(im.err, &tb) {
				c.fatal(codeProtocolViolation, "invalid message: "+tb.Error())
			} else if !isEOF(im.err) {
				c.fatal(codeProtocolViolation, "invalid frontend message: "+im.err.Error())
			}
			return
		}
		if _, ok := im.msg.(*pgproto3.Terminate); ok {
			return
		}
		if err := c.safeHandle(im.msg); err != nil {
			if errors.Is(err, errConnGone) {
				select {
				case <-c.srv.closing:
					c.fatal(codeAdminShutdown, "terminating connection due to administrator command")
				default:
				}
				return
			}
			c.srv.logf("pgwire: pid %d: %v", c.pid, err)
			return
		}
	}
}

// safeHandle is handle with a panic (a bug behind one statement) turned into an internal error
// for this client, which is then disconnected: the server and its other sessions keep running.
func (c *conn) safeHandle(msg pgproto3.FrontendMessage) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.logf("pgwire: pid %d: internal error: %v\n%s", c.pid, r, debug.Stack())
			c.fatal(codeInternal, fmt.Sprintf("internal error: %v", r))
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return c.handle(msg)
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// cleanup closes every running query of the session.
func (c *conn) cleanup() {
	close(c.done)
	c.cancel()
	for _, p := range c.portals {
		p.close()
	}
	for _, cur := range c.cursors {
		cur.p.close()
	}
	c.portals, c.cursors = nil, nil
	c.nc.Close()
}

// handle dispatches one frontend message. A returned error ends the connection.
func (c *conn) handle(msg pgproto3.FrontendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.ignoreTillSync = false
		return c.handleSimple(m.String)
	case *pgproto3.Sync:
		c.ignoreTillSync = false
		c.handleSync()
		return c.connErr()
	case *pgproto3.Flush:
		c.flush()
		return c.connErr()
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
		if c.ignoreTillSync {
			return nil
		}
		if err := c.handleExtended(msg); err != nil {
			if errors.Is(err, errConnGone) {
				return err
			}
			c.sendError(err, "", -1)
			c.failTx()
			c.ignoreTillSync = true
		}
		return c.connErr()
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		return nil // not in COPY FROM mode: ignore, as PostgreSQL does
	case *pgproto3.FunctionCall:
		c.sendError(newErr(codeFeatureNotSupp, "function call protocol is not supported"), "", -1)
		c.readyForQuery()
		return c.connErr()
	}
	c.fatal(codeProtocolViolation, fmt.Sprintf("unexpected message %T", msg))
	return errConnGone
}

func (c *conn) connErr() error {
	if c.err != nil {
		return errConnGone
	}
	return nil
}

// failTx moves an explicit transaction to the failed state after an error.
func (c *conn) failTx() {
	if c.tx == 'T' {
		c.tx = 'E'
	}
}

// beginStatement returns the context of a statement that a CancelRequest can cancel.
func (c *conn) beginStatement() (context.Context, func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	c.stmtCancel = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.stmtCancel = nil
		c.mu.Unlock()
		cancel()
	}
}

// cancelStatement is called from a CancelRequest's goroutine.
func (c *conn) cancelStatement() {
	c.mu.Lock()
	if c.stmtCancel != nil {
		c.stmtCancel()
	}
	c.mu.Unlock()
}

// stmtErr turns a context error of a statement into the protocol's answer: 57014 when the
// client cancelled, errConnGone when the connection or server is going away.
func (c *conn) stmtErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if c.ctx.Err() != nil {
		return errConnGone
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || err == errCanceled) {
		return errCanceled
	}
	return err
}
