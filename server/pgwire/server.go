package pgwire

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/xdg-go/scram"
)

// Config configures a Server. The zero value is a plaintext server with trust authentication.
type Config struct {
	// Users maps user names to passwords. Empty means trust: any user may connect. Otherwise
	// every connection authenticates with SCRAM-SHA-256; only derived keys are kept.
	Users map[string]string
	// TLS, when set, lets clients upgrade with SSLRequest. Plaintext connections (and
	// plaintext CancelRequests, which psql always sends) are still accepted.
	TLS *tls.Config
	// Logf receives connection-level diagnostics. Nil discards them.
	Logf func(format string, args ...any)
	// Database is the name reported by current_database() and \l (default "sluice").
	Database string
	// MaxMessageSize bounds a frontend message after authentication (default 64 MiB); before
	// authentication the bound is 1 MiB.
	MaxMessageSize int
	// ShutdownGrace is how long Close waits for connections to finish after cancelling their
	// queries before closing their sockets (default 5s).
	ShutdownGrace time.Duration
}

// Server speaks the PostgreSQL v3 protocol on top of a Backend.
type Server struct {
	backend Backend
	cfg     Config
	creds   map[string]scram.StoredCredentials

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	netConns  map[net.Conn]*conn // nil value until startup completes
	byPID     map[uint32]*conn
	cancelBad map[string]*failWindow
	closed    bool
	closing   chan struct{}
	wg        sync.WaitGroup
}

type failWindow struct {
	start time.Time
	n     int
}

const (
	preAuthMaxMessage  = 1 << 20
	defaultMaxMessage  = 64 << 20
	startupTimeout     = 30 * time.Second
	cancelFailLimit    = 20 // failed CancelRequests per IP per minute before we ignore them
	scramIterations    = 4096
	sslRequestCode     = 80877103
	cancelRequestCode  = 80877102
	gssEncRequestCode  = 80877104
	maxStartupPacket   = 10000
	serverVersion      = "13.0.0"
	defaultDatabase    = "sluice"
	versionDescription = "PostgreSQL 13.0.0 on x86_64-pc-linux-gnu (Sluice streaming SQL, ksqlDB dialect)"
)

// New returns a server for backend. It does not listen; call Serve.
func New(backend Backend, cfg Config) *Server {
	if cfg.Database == "" {
		cfg.Database = defaultDatabase
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = defaultMaxMessage
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	s := &Server{
		backend:   backend,
		cfg:       cfg,
		listeners: map[net.Listener]struct{}{},
		netConns:  map[net.Conn]*conn{},
		byPID:     map[uint32]*conn{},
		cancelBad: map[string]*failWindow{},
		closing:   make(chan struct{}),
	}
	if len(cfg.Users) > 0 {
		s.creds = make(map[string]scram.StoredCredentials, len(cfg.Users))
		for user, pass := range cfg.Users {
			client, err := scram.SHA256.NewClient(user, pass, "")
			if err != nil {
				s.logf("pgwire: user %q: %v", user, err)
				continue
			}
			salt := make([]byte, 16)
			_, _ = rand.Read(salt)
			s.creds[user] = client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
		}
	}
	return s
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Serve accepts connections on ln until Close. It always returns a non-nil error;
// ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.closing:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.netConns[nc] = nil
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
			nc.Close()
			s.mu.Lock()
			delete(s.netConns, nc)
			s.mu.Unlock()
		}()
	}
}

// ServeConn serves one already-accepted connection and returns when it ends. Serve uses it;
// tests use it with net.Pipe.
func (s *Server) ServeConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.netConns[nc] = nil
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.netConns, nc)
		s.mu.Unlock()
		s.wg.Done()
	}()
	s.serveConn(nc)
}

// Close stops accepting, cancels running queries, tells clients the server is going away
// (FATAL 57P01) and closes every connection. Connections get ShutdownGrace to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	var lns []net.Listener
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	var ready []*conn
	for nc, c := range s.netConns {
		if c == nil {
			nc.Close() // still in startup: nothing to say goodbye to
		} else {
			ready = append(ready, c)
		}
	}
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range ready {
		c.cancel() // stops the running statement; the conn loop sees s.closing
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownGrace):
		s.mu.Lock()
		for nc := range s.netConns {
			nc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return nil
}

// serveConn runs the startup phase (SSL negotiation, CancelRequest, StartupMessage,
// authentication), then the connection's message loop.
func (s *Server) serveConn(nc net.Conn) {
	_ = nc.SetDeadline(time.Now().Add(startupTimeout))
	raw := nc
	tlsDone := false
	for attempt := 0; ; attempt++ {
		msg, err := readStartupPacket(nc)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.logf("pgwire: %s: startup: %v", raw.RemoteAddr(), err)
				writeFatal(nc, codeProtocolViolation, err.Error())
			}
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if tlsDone || attempt > 2 {
				writeFatal(nc, codeProtocolViolation, "unexpected SSLRequest")
				return
			}
			if s.cfg.TLS == nil {
				if _, err := nc.Write([]byte{'N'}); err != nil {
					return
				}
				continue
			}
			if _, err := nc.Write([]byte{'S'}); err != nil {
				return
			}
			// The packet was read unbuffered, so no plaintext byte the client pipelined after
			// the SSLRequest can leak into the TLS session (CVE-2021-23214): the handshake
			// would fail on it instead.
			tc := tls.Server(nc, s.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				s.logf("pgwire: %s: TLS handshake: %v", raw.RemoteAddr(), err)
				return
			}
			nc, tlsDone = tc, true
		case *pgproto3.GSSEncRequest:
			if attempt > 2 {
				return
			}
			if _, err := nc.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			s.handleCancel(raw, m.ProcessID, m.SecretKey)
			return
		case *pgproto3.StartupMessage:
			s.startSession(raw, nc, m, tlsDone)
			return
		}
	}
}

// readStartupPacket reads one untyped startup-phase packet directly from r, without buffering.
func readStartupPacket(r io.Reader) (pgproto3.FrontendMessage, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if n < 8 || n > maxStartupPacket {
		return nil, fmt.Errorf("invalid length of startup packet: %d", n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	var msg interface{ Decode([]byte) error }
	switch code := binary.BigEndian.Uint32(body); code {
	case pgproto3.ProtocolVersionNumber:
		msg = &pgproto3.StartupMessage{}
	case sslRequestCode:
		msg = &pgproto3.SSLRequest{}
	case cancelRequestCode:
		msg = &pgproto3.CancelRequest{}
	case gssEncRequestCode:
		msg = &pgproto3.GSSEncRequest{}
	default:
		if code>>16 == 3 {
			return nil, fmt.Errorf("unsupported frontend protocol %d.%d: server supports 3.0", code>>16, code&0xFFFF)
		}
		return nil, fmt.Errorf("unsupported frontend protocol %d.%d", code>>16, code&0xFFFF)
	}
	if err := msg.Decode(body); err != nil {
		return nil, err
	}
	return msg.(pgproto3.FrontendMessage), nil
}

// writeFatal writes a FATAL ErrorResponse on a connection that has no Backend yet.
func writeFatal(w io.Writer, code, msg string) {
	buf, _ := (&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg}).Encode(nil)
	_, _ = w.Write(buf)
}

// handleCancel serves a CancelRequest: no reply, ever. Secrets are compared in constant time
// and failures are rate-limited per client IP, because a 32-bit secret can be brute-forced.
func (s *Server) handleCancel(nc net.Conn, pid, secret uint32) {
	ip := nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	s.mu.Lock()
	fw := s.cancelBad[ip]
	if fw != nil && time.Since(fw.start) > time.Minute {
		delete(s.cancelBad, ip)
		fw = nil
	}
	if fw != nil && fw.n >= cancelFailLimit {
		s.mu.Unlock()
		return
	}
	c := s.byPID[pid]
	ok := false
	if c != nil {
		var a, b [4]byte
		binary.BigEndian.PutUint32(a[:], c.secret)
		binary.BigEndian.PutUint32(b[:], secret)
		ok = subtle.ConstantTimeCompare(a[:], b[:]) == 1
	}
	if !ok {
		if fw == nil {
			fw = &failWindow{start: time.Now()}
			s.cancelBad[ip] = fw
		}
		fw.n++
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c.cancelStatement()
}

// register assigns c a unique pid and secret and makes it cancellable.
func (s *Server) register(nc net.Conn, c *conn) bool {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return false
		}
		pid := binary.BigEndian.Uint32(b[:4]) & 0x7fffffff
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return false
		}
		if _, dup := s.byPID[pid]; pid == 0 || dup {
			s.mu.Unlock()
			continue
		}
		c.pid, c.secret = pid, binary.BigEndian.Uint32(b[4:])
		s.byPID[pid] = c
		s.netConns[nc] = c
		s.mu.Unlock()
		return true
	}
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.byPID, c.pid)
	s.mu.Unlock()
}

// startSession authenticates and then runs the connection.
func (s *Server) startSession(raw, nc net.Conn, sm *pgproto3.StartupMessage, tlsOn bool) {
	c := newConn(s, nc)
	params := sm.Parameters
	c.user = params["user"]
	c.database = params["database"]
	if c.database == "" {
		c.database = c.user
	}
	c.appName = params["application_name"]
	if c.user == "" {
		c.fatal(codeInvalidAuth, "no PostgreSQL user name specified in startup packet")
		return
	}
	if r := params["replication"]; r != "" && r != "false" && r != "off" && r != "0" {
		c.fatal(codeFeatureNotSupp, "replication connections are not supported")
		return
	}
	applyStartupOptions(c, params["options"])
	for _, k := range []string{"DateStyle", "TimeZone", "extra_float_digits", "search_path", "IntervalStyle"} {
		if v, ok := params[k]; ok {
			c.params[strings.ToLower(k)] = v
		}
	}
	if err := c.authenticate(); err != nil {
		if !errors.Is(err, errConnGone) {
			s.logf("pgwire: %s: authentication for %q failed: %v", raw.RemoteAddr(), c.user, err)
		}
		return
	}
	_ = raw.SetDeadline(time.Time{})
	if tlsOn {
		_ = nc.SetDeadline(time.Time{})
	}
	c.cr.limit = s.cfg.MaxMessageSize
	if !s.register(raw, c) {
		c.fatal(codeAdminShutdown, "the database system is shutting down")
		return
	}
	defer s.unregister(c)
	c.run()
}

// applyStartupOptions reads "-c name=value" pairs from the startup options parameter.
func applyStartupOptions(c *conn, opts string) {
	f := strings.Fields(opts)
	for i := 0; i < len(f); i++ {
		kv := ""
		switch {
		case f[i] == "-c" && i+1 < len(f):
			kv = f[i+1]
			i++
		case strings.HasPrefix(f[i], "-c"):
			kv = f[i][2:]
		case strings.HasPrefix(f[i], "--"):
			kv = f[i][2:]
		}
		if k, v, ok := strings.Cut(kv, "="); ok {
			c.params[strings.ToLower(strings.ReplaceAll(k, "-", "_"))] = v
		}
	}
}
