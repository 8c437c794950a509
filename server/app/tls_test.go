package app_test

// TLS and authentication end to end: a server started with a self-signed certificate and
// users, reached by psql and pgx with sslmode=require and SCRAM-SHA-256, by the client matrix
// (psycopg2, node pg, JDBC) over TLS, and by REST over HTTPS with HTTP Basic auth.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/server/app"
)

const (
	tlsUser     = "alice"
	tlsPassword = "s3cret pass"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and localhost, and its key,
// into dir. It returns the paths and the parsed certificate.
func writeSelfSigned(t testing.TB, dir string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "sluice test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

// tlsServer is a server with TLS and users, plus what clients need to reach it.
type tlsServer struct {
	*testServer
	cert  *x509.Certificate
	https *http.Client // trusts the test certificate
}

// startTLSServer starts a server with a fresh self-signed certificate and the user
// tlsUser/tlsPassword; it mirrors startServer otherwise.
func startTLSServer(t *testing.T) *tlsServer {
	t.Helper()
	dir := t.TempDir()
	certPath, keyPath, cert := writeSelfSigned(t, t.TempDir())
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.Start(ctx, app.Config{
		DataDir: dir, HTTPAddr: "127.0.0.1:0", PGAddr: "127.0.0.1:0", Logf: logs.logf,
		Users:   map[string]string{tlsUser: tlsPassword},
		TLSCert: certPath, TLSKey: keyPath,
	})
	if err != nil {
		t.Fatalf("app.Start with TLS: %v", err)
	}
	s := &testServer{t: t, dir: dir, app: a, logs: logs, http: a.HTTPAddr(), pg: a.PGAddr(), closing: &closeOnce{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s):\n%s", dir, logs.tail(6000))
		}
		s.close()
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(hc.CloseIdleConnections)
	return &tlsServer{testServer: s, cert: cert, https: hc}
}

// pgURL is a pgx URL with the given password and sslmode.
func (s *tlsServer) pgURLWith(password, sslmode string) string {
	host, port, _ := strings.Cut(s.pg, ":")
	return fmt.Sprintf("postgres://%s:%s@%s:%s/sluice?sslmode=%s", tlsUser, strings.ReplaceAll(password, " ", "%20"), host, port, sslmode)
}

// pgxTLS connects with pgx over TLS (sslmode=require; the certificate is not verified, as
// with libpq's require).
func (s *tlsServer) pgxTLS(ctx context.Context, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.pgURLWith(password, "require"))
	if err != nil {
		return nil, err
	}
	if cfg.TLSConfig == nil {
		return nil, errors.New("sslmode=require gave no TLS config")
	}
	cfg.TLSConfig.InsecureSkipVerify = true
	return pgx.ConnectConfig(ctx, cfg)
}

// psqlTLS runs psql with sslmode=require and PGPASSWORD.
func (s *tlsServer) psqlTLS(ctx context.Context, password string, args ...string) (string, string, error) {
	host, port, _ := strings.Cut(s.pg, ":")
	conn := fmt.Sprintf("host=%s port=%s user=%s dbname=sluice sslmode=require connect_timeout=5", host, port, tlsUser)
	cmd := exec.CommandContext(ctx, psqlPath(), append([]string{"-X", "-w", "-v", "ON_ERROR_STOP=1", "-d", conn}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=", "LANG=C.UTF-8", "PAGER=", "PSQL_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestTLSPgx(t *testing.T) {
	s := startTLSServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := s.pgxTLS(ctx, tlsPassword)
	if err != nil {
		t.Fatalf("pgx over TLS: %v", err)
	}
	defer conn.Close(context.Background())
	tc, ok := conn.PgConn().Conn().(*tls.Conn)
	if !ok {
		t.Fatalf("pgx connection is %T, not TLS", conn.PgConn().Conn())
	}
	if st := tc.ConnectionState(); st.Version < tls.VersionTLS12 || len(st.PeerCertificates) == 0 || !st.PeerCertificates[0].Equal(s.cert) {
		t.Errorf("TLS state: version %x, %d peer certificates", st.Version, len(st.PeerCertificates))
	}
	if _, err := conn.Exec(ctx, `CREATE STREAM secure_events (id INT, what STRING) WITH (KAFKA_TOPIC='secure_events', VALUE_FORMAT='JSON', PARTITIONS=1)`); err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"a", "b", "c"} {
		if _, err := conn.Exec(ctx, `INSERT INTO secure_events (id, what) VALUES ($1, $2)`, int32(i+1), w); err != nil {
			t.Fatal(err)
		}
	}
	var user string
	if err := conn.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != tlsUser {
		t.Errorf("current_user = %q, %v; want %q", user, err, tlsUser)
	}
	// A push query streams over TLS (flushes go through the TLS writer).
	if _, err := conn.Exec(ctx, `SET 'auto.offset.reset'='earliest'`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT id, what FROM secure_events EMIT CHANGES LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int32
		var w string
		if err := rows.Scan(&id, &w); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", id, w))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, " "); g != "1:a 2:b 3:c" {
		t.Errorf("push over TLS: %q", g)
	}

	// Wrong password: 28P01, over TLS and over plaintext (the server still accepts plaintext
	// connections, but not without the password).
	_, err = s.pgxTLS(ctx, "wrong")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("wrong password over TLS: %v, want SQLSTATE 28P01", err)
	}
	_, err = pgx.Connect(ctx, s.pgURLWith("wrong", "disable"))
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("wrong password over plaintext: %v, want SQLSTATE 28P01", err)
	}
	// An unknown user fails the same way.
	host, port, _ := strings.Cut(s.pg, ":")
	_, err = pgx.Connect(ctx, fmt.Sprintf("postgres://mallory:%s@%s:%s/sluice?sslmode=disable", "x", host, port))
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("unknown user: %v, want SQLSTATE 28P01", err)
	}
}

func TestTLSPsql(t *testing.T) {
	needPsql(t)
	s := startTLSServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, err := s.psqlTLS(ctx, tlsPassword,
		"-c", `CREATE STREAM secure_events (id INT, what STRING) WITH (KAFKA_TOPIC='secure_events', VALUE_FORMAT='JSON', PARTITIONS=1);`,
		"-c", `INSERT INTO secure_events (id, what) VALUES (1, 'tls');`,
		"-c", `\conninfo`,
		"-c", `SET 'auto.offset.reset'='earliest';`,
		"-A", "-t", "-c", `SELECT id, what FROM secure_events EMIT CHANGES LIMIT 1;`)
	if err != nil {
		t.Fatalf("psql sslmode=require: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	for _, want := range []string{"CREATE STREAM", "INSERT 0 1", `as user "alice"`, "SSL connection (protocol: TLSv1.", "\n1|tls\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}

	out, errOut, err = s.psqlTLS(ctx, "wrong", "-c", "SELECT 1")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("psql with a wrong password: %v, want exit status 2\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if !strings.Contains(errOut, `password authentication failed for user "alice"`) {
		t.Errorf("psql stderr %q lacks the authentication failure", errOut)
	}
}

// TestTLSClients runs the client matrix (clients_test.go) over TLS with SCRAM: each client's
// full scenario on a fresh TLS server.
func TestTLSClients(t *testing.T) {
	env := []string{"SLUICE_PG_USER=" + tlsUser, "SLUICE_PG_PASSWORD=" + tlsPassword, "SLUICE_PG_SSL=1"}
	t.Run("psycopg2", func(t *testing.T) {
		needPsycopg2(t)
		s := startTLSServer(t)
		diffLines(t, "psycopg2 over TLS", runPsycopg2(t, s.testServer, env...), "ssl: True\n"+psycopg2Want)
	})
	t.Run("node", func(t *testing.T) {
		node := needNode(t)
		s := startTLSServer(t)
		diffLines(t, "node pg over TLS", runNode(t, s.testServer, node, env...), "ssl: true\n"+nodeWant)
	})
	t.Run("jdbc", func(t *testing.T) {
		javac, java := needJava(t)
		cp := compileJdbcClient(t, javac)
		s := startTLSServer(t)
		diffLines(t, "JDBC over TLS", runJdbc(t, s.testServer, java, cp, env...), jdbcWant)
	})
}

func TestTLSRESTBasicAuth(t *testing.T) {
	s := startTLSServer(t)
	base := "https://" + s.http
	do := func(method, path, user, pass string, body any) (int, http.Header, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := s.https.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if resp.TLS == nil {
			t.Errorf("%s %s: response not over TLS", method, path)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}

	stmt := map[string]any{"ksql": "SHOW STREAMS;"}
	for _, c := range []struct {
		name, user, pass string
	}{{"no credentials", "", ""}, {"wrong password", tlsUser, "wrong"}, {"unknown user", "mallory", tlsPassword}} {
		code, hdr, body := do(http.MethodPost, "/ksql", c.user, c.pass, stmt)
		if code != http.StatusUnauthorized {
			t.Errorf("POST /ksql with %s: %d %s, want 401", c.name, code, body)
		}
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("POST /ksql with %s: WWW-Authenticate %q", c.name, hdr.Get("WWW-Authenticate"))
		}
	}
	if code, _, body := do(http.MethodGet, "/info", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /info without credentials: %d %s, want 401", code, body)
	}

	code, _, body := do(http.MethodPost, "/ksql", tlsUser, tlsPassword, map[string]any{
		"ksql": `CREATE STREAM secure_events (id INT, what STRING) WITH (KAFKA_TOPIC='secure_events', VALUE_FORMAT='JSON', PARTITIONS=1);`})
	if code != http.StatusOK {
		t.Fatalf("POST /ksql CREATE STREAM with credentials: %d %s", code, body)
	}
	code, _, body = do(http.MethodPost, "/ksql", tlsUser, tlsPassword, stmt)
	if code != http.StatusOK || !strings.Contains(string(body), "SECURE_EVENTS") {
		t.Errorf("POST /ksql SHOW STREAMS with credentials: %d %s", code, body)
	}
	if code, _, body := do(http.MethodGet, "/info", tlsUser, tlsPassword, nil); code != http.StatusOK || !strings.Contains(string(body), "KsqlServerInfo") {
		t.Errorf("GET /info with credentials: %d %s", code, body)
	}
	// A push query over HTTPS with LIMIT ends by itself.
	code, _, body = do(http.MethodPost, "/ksql", tlsUser, tlsPassword, map[string]any{
		"ksql": `INSERT INTO secure_events (id, what) VALUES (7, 'https');`})
	if code != http.StatusOK {
		t.Fatalf("INSERT: %d %s", code, body)
	}
	code, _, body = do(http.MethodPost, "/query-stream", tlsUser, tlsPassword, map[string]any{
		"sql": `SELECT id, what FROM secure_events EMIT CHANGES LIMIT 1;`, "properties": map[string]any{"auto.offset.reset": "earliest"}})
	if code != http.StatusOK || !strings.Contains(string(body), `[7,"https"]`) {
		t.Errorf("POST /query-stream over HTTPS: %d %s", code, body)
	}

	// Plain HTTP to the HTTPS listener is refused.
	resp, err := http.Get("http://" + s.http + "/info")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d, want 400", resp.StatusCode)
		}
	}
}
