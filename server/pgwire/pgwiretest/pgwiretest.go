// Package pgwiretest starts a pgwire server on loopback for tests, so that tests of other
// packages (end-to-end tests against the real engine) can drive it with pgx, psql or raw
// pgproto3 without repeating the plumbing.
package pgwiretest

import (
	"fmt"
	"net"
	"testing"

	"github.com/sluicedb/sluice/server/pgwire"
)

// Server is a running test server.
type Server struct {
	*pgwire.Server
	Addr string // host:port
	Host string
	Port int
}

// Start serves backend on 127.0.0.1:0 until the test ends.
func Start(tb testing.TB, backend pgwire.Backend, cfg pgwire.Config) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("pgwiretest: listen: %v", err)
	}
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	srv := pgwire.New(backend, cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		srv.Close()
		<-done
	})
	addr := ln.Addr().(*net.TCPAddr)
	return &Server{Server: srv, Addr: addr.String(), Host: addr.IP.String(), Port: addr.Port}
}

// DSN returns a libpq keyword/value connection string for user (no TLS).
func (s *Server) DSN(user, password string) string {
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=sluice sslmode=disable", s.Host, s.Port, user)
	if password != "" {
		dsn += " password=" + password
	}
	return dsn
}

// URL returns a postgres:// URL for user (no TLS).
func (s *Server) URL(user string) string {
	return fmt.Sprintf("postgres://%s@%s/sluice?sslmode=disable", user, s.Addr)
}
