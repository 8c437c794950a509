package pgwire_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/server/pgwire"
)

// FuzzFrontendMessages feeds arbitrary bytes to a session after a valid startup.
//
// Invariants: the server never panics (a panic in any server goroutine kills the fuzz
// process), and once the client has closed its end the connection's goroutine returns
// promptly: no input can wedge a session. Seeds are real message sequences: simple and
// extended queries, cursors, COPY, a push query, and oversized or truncated frames.
func FuzzFrontendMessages(f *testing.F) {
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var buf []byte
		for _, m := range msgs {
			buf, _ = m.Encode(buf)
		}
		return buf
	}
	f.Add(enc(&pgproto3.Query{String: "SELECT 1; SELECT * FROM users"}))
	f.Add(enc(&pgproto3.Parse{Name: "s", Query: "SELECT name FROM users WHERE id = $1"}, &pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}}, ParameterFormatCodes: []int16{1}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}))
	f.Add(enc(&pgproto3.Query{String: "BEGIN; DECLARE c CURSOR FOR SELECT * FROM pageviews EMIT CHANGES; FETCH 2 c; CLOSE c; COMMIT"}))
	f.Add(enc(&pgproto3.Query{String: "COPY (SELECT * FROM pageviews EMIT CHANGES LIMIT 2) TO STDOUT WITH (FORMAT csv)"}))
	f.Add(enc(&pgproto3.Parse{Query: "SELECT * FROM pageviews EMIT CHANGES"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Flush{}))
	f.Add(enc(&pgproto3.Query{String: `SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(users)$'`}))
	f.Add([]byte{'Q', 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{'P', 0, 0, 0, 4})
	f.Add([]byte{'B', 0, 0, 0, 9, 0, 0, 0xff, 0xff, 0})
	// Every frontend message type with an empty body: pgproto3's decoders panic on some
	// (an empty Query), which must cost the client its connection, never the server.
	for _, typ := range []byte("QPBDECHSXFpdcf") {
		f.Add([]byte{typ, 0, 0, 0, 4})
	}

	b := newTestBackend()
	b.interval.Store(int64(time.Millisecond))
	srv := pgwire.New(b, pgwire.Config{MaxMessageSize: 1 << 16})
	defer srv.Close()
	startup := enc(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "fuzz"}})

	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			srv.ServeConn(server)
			close(done)
		}()
		drained := make(chan struct{})
		go func() {
			io.Copy(io.Discard, client)
			close(drained)
		}()
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(startup)
		client.Write(data)
		time.Sleep(time.Millisecond)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("session did not end after the client closed; input %q", data)
		}
		<-drained
	})
}
