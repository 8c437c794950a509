// Package app wires a Sluice server together: it opens the partitioned log (built-in or
// Kafka), the Badger state stores and the engine, then serves REST, the web console and the
// Postgres wire protocol, and shuts all of it down in reverse order. It holds no SQL logic.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/server/pgwire"
	"github.com/sluicedb/sluice/server/rest"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
	"github.com/sluicedb/sluice/web"
)

// Config is the server's configuration; zero values take the documented defaults.
type Config struct {
	DataDir  string // default ./data
	HTTPAddr string // default 127.0.0.1:8088
	PGAddr   string // default 127.0.0.1:5433
	// Fsync is the built-in log's durability policy: always, interval (default) or never.
	Fsync string
	// OpenLog, when set, replaces the built-in log (the Kafka backend sets it).
	OpenLog func(ctx context.Context) (storage.Log, error)
	// Users enables password authentication on pgwire (SCRAM-SHA-256) and REST (HTTP Basic).
	Users           map[string]string
	TLSCert, TLSKey string
	Partitions      int // default partitions of topics the server creates
	Props           map[string]string
	Logf            func(format string, args ...any)
}

// App is a running server.
type App struct {
	cfg    Config
	log    storage.Log
	states *badger.Manager
	Engine *engine.Engine
	http   *http.Server
	httpLn net.Listener
	pg     *pgwire.Server
	pgLn   net.Listener
	done   chan struct{}
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8088"
	}
	if c.PGAddr == "" {
		c.PGAddr = "127.0.0.1:5433"
	}
	if c.Fsync == "" {
		c.Fsync = "interval"
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Start opens storage and state, replays the catalog and starts the listeners.
func Start(ctx context.Context, cfg Config) (*App, error) {
	cfg.defaults()
	a := &App{cfg: cfg, done: make(chan struct{})}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if cfg.OpenLog != nil {
		a.log, err = cfg.OpenLog(ctx)
	} else {
		policy, perr := embedded.ParseFsyncPolicy(cfg.Fsync)
		if perr != nil {
			return nil, perr
		}
		a.log, err = embedded.Open(filepath.Join(cfg.DataDir, "log"), embedded.WithFsync(policy), embedded.WithLogger(cfg.Logf))
	}
	if err != nil {
		return nil, fmt.Errorf("opening the log: %w", err)
	}
	a.states, err = badger.Open(filepath.Join(cfg.DataDir, "state"))
	if err != nil {
		a.log.Close()
		return nil, fmt.Errorf("opening state: %w", err)
	}
	a.Engine, err = engine.Open(ctx, engine.Config{Log: a.log, State: a.states, DefaultPartitions: cfg.Partitions, Props: cfg.Props, Logf: cfg.Logf})
	if err != nil {
		a.states.Close()
		a.log.Close()
		return nil, fmt.Errorf("starting the engine: %w", err)
	}
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("loading TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	handler := rest.New(a.Engine, rest.Config{Users: cfg.Users, Logf: cfg.Logf, Static: web.Handler()})
	a.httpLn, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listening for HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	a.http = rest.NewServer(cfg.HTTPAddr, handler)
	go func() {
		var err error
		if tlsCfg != nil {
			a.http.TLSConfig = tlsCfg
			err = a.http.ServeTLS(a.httpLn, "", "")
		} else {
			err = a.http.Serve(a.httpLn)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logf("http server: %v", err)
		}
	}()
	a.pgLn, err = net.Listen("tcp", cfg.PGAddr)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listening for Postgres wire on %s: %w", cfg.PGAddr, err)
	}
	a.pg = pgwire.New(a.Engine, pgwire.Config{Users: cfg.Users, TLS: tlsCfg, Logf: cfg.Logf})
	go func() {
		if err := a.pg.Serve(a.pgLn); err != nil && !errors.Is(err, net.ErrClosed) {
			cfg.Logf("pgwire server: %v", err)
		}
	}()
	return a, nil
}

// HTTPAddr is the address REST listens on (useful with port 0).
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// PGAddr is the address the Postgres wire protocol listens on.
func (a *App) PGAddr() string { return a.pgLn.Addr().String() }

// Close stops the listeners, then the engine (committing query state), then state and log.
func (a *App) Close() error {
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.http.Shutdown(ctx)
		cancel()
	}
	if a.pg != nil {
		_ = a.pg.Close()
	}
	var errs []error
	if a.Engine != nil {
		errs = append(errs, a.Engine.Close())
	} else if a.states != nil {
		errs = append(errs, a.states.Close())
	}
	if a.log != nil {
		errs = append(errs, a.log.Close())
	}
	return errors.Join(errs...)
}
