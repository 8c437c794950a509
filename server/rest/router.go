package rest

import (
	"crypto/subtle"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
)

// DefaultMaxBodyBytes is the default limit on request bodies of /ksql, /query, /query-stream
// and /close-query, and on each line of an /inserts-stream body.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the REST handler. The zero value is usable: open access, default limits,
// no console.
type Config struct {
	// MaxBodyBytes limits request bodies (default DefaultMaxBodyBytes). Larger bodies get 413.
	MaxBodyBytes int64
	// Users enables HTTP Basic auth when non-empty: user name -> password. Every route,
	// including the console, then requires credentials.
	Users map[string]string
	// ServerInfo is reported by GET /info.
	ServerInfo ServerInfo
	// Logf receives server-side errors (5xx, panics); nil discards them.
	Logf func(format string, args ...any)
	// Static serves the browser console: GET / and any GET path no API route claims. When nil,
	// GET / redirects to /info as ksqlDB does.
	Static http.Handler
}

// ServerInfo is the body of GET /info. Empty fields get defaults: Version "0.29.0" (the
// ksqlDB API version Sluice speaks), KafkaClusterID "sluice", ServiceID "default_".
type ServerInfo struct {
	Version        string
	KafkaClusterID string
	ServiceID      string
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ServerInfo.Version == "" {
		c.ServerInfo.Version = "0.29.0"
	}
	if c.ServerInfo.KafkaClusterID == "" {
		c.ServerInfo.KafkaClusterID = "sluice"
	}
	if c.ServerInfo.ServiceID == "" {
		c.ServerInfo.ServiceID = "default_"
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// server holds the handler's state; one per New.
type server struct {
	b        Backend
	cfg      Config
	statuses *statusRegistry
	queries  *queryCounter
}

// New returns the ksqlDB-compatible HTTP API for backend. See the package documentation for
// routes; serve it with NewServer to get cleartext HTTP/2 as well as HTTP/1.1.
func New(backend Backend, cfg Config) http.Handler {
	s := &server{b: backend, cfg: cfg.withDefaults(), statuses: newStatusRegistry(), queries: &queryCounter{}}
	r := chi.NewRouter()
	r.Use(s.recoverPanics)
	if len(s.cfg.Users) > 0 {
		r.Use(s.basicAuth)
	}
	r.Post("/ksql", s.handleKsql)
	r.Post("/query", s.handleQuery)
	r.Post("/query-stream", s.handleQueryStream)
	r.Post("/inserts-stream", s.handleInsertsStream)
	r.Post("/close-query", s.handleCloseQuery)
	r.Get("/info", s.handleInfo)
	r.Get("/healthcheck", s.handleHealthcheck)
	r.Get("/status", s.handleStatuses)
	r.Get("/status/{type}/{entity}/{action}", s.handleStatus)
	r.Get("/clusterStatus", s.handleClusterStatus)
	r.Get("/is_valid_property/{name}", s.handleIsValidProperty)
	if s.cfg.Static != nil {
		r.Get("/", s.cfg.Static.ServeHTTP)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				s.cfg.Static.ServeHTTP(w, r)
				return
			}
			notFound(w, r)
		})
	} else {
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/info", http.StatusTemporaryRedirect)
		})
		r.NotFound(notFound)
	}
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	})
	return r
}

// Protocols returns the protocol set the API is meant to be served with: HTTP/1.1 and
// cleartext HTTP/2 (prior knowledge), as ksqlDB's /query-stream and /inserts-stream expect.
func Protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// NewServer returns an http.Server for h on addr with Protocols() and a header read timeout.
// It sets no write timeout: push queries stream for as long as the client stays.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		Protocols:         Protocols(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
}

// notFound answers unknown routes as ksqlDB does: 404 with a plain "Not Found".
func notFound(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "Not Found", http.StatusNotFound)
}

// recoverPanics turns a handler panic into a 500 error body (when nothing was written yet) and
// a log line, instead of a dropped connection.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			s.cfg.Logf("rest: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, rec, debug.Stack())
			writeError(w, mediaJSON, &apiError{status: http.StatusInternalServerError, code: codeServerError,
				msg: "internal server error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// basicAuth checks HTTP Basic credentials against Config.Users in constant time per user.
func (s *server) basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			want, known := s.cfg.Users[user]
			if !known {
				want = "\x00not a password" // compare anyway so timing does not reveal user names
			}
			if subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 && known {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice", charset="UTF-8"`)
		writeError(w, negotiate(r.Header.Get("Accept"), jsonTypes), &apiError{
			status: http.StatusUnauthorized, code: codeUnauthorized, msg: "Unauthorized"})
	})
}

// jsonTypes are the response types of the plain JSON endpoints.
var jsonTypes = []string{mediaKsqlV1, mediaJSON}
