package pgwire_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/server/pgwire"
)

// rawConn drives the server with hand-written frontend messages.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, fe: pgproto3.NewFrontend(pgproto3.NewChunkReader(nc), nc)}
}

func (r *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	r.t.Helper()
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			r.t.Fatal(err)
		}
	}
	if _, err := r.nc.Write(buf); err != nil {
		r.t.Fatal(err)
	}
}

// until reads messages up to and including one of type T and renders them one per line.
func (r *rawConn) until(stop string) string {
	r.t.Helper()
	var sb strings.Builder
	for {
		m, err := r.fe.Receive()
		if err != nil {
			r.t.Fatalf("receive after %q: %v", sb.String(), err)
		}
		line := render(m)
		sb.WriteString(line + "\n")
		if strings.HasPrefix(line, stop) {
			return sb.String()
		}
	}
}

func render(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.RowDescription:
		var f []string
		for _, fd := range m.Fields {
			f = append(f, fmt.Sprintf("%s:%d:%d", fd.Name, fd.DataTypeOID, fd.Format))
		}
		return "RowDescription " + strings.Join(f, ",")
	case *pgproto3.DataRow:
		var v []string
		for _, b := range m.Values {
			if b == nil {
				v = append(v, "NULL")
			} else {
				v = append(v, fmt.Sprintf("%q", b))
			}
		}
		return "DataRow " + strings.Join(v, ",")
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		s := fmt.Sprintf("ErrorResponse %s %s %s", m.Severity, m.Code, m.Message)
		if m.Position > 0 {
			s += fmt.Sprintf(" @%d", m.Position)
		}
		return s
	case *pgproto3.ParameterDescription:
		return fmt.Sprint("ParameterDescription ", m.ParameterOIDs)
	case *pgproto3.NoticeResponse:
		return "NoticeResponse " + m.Code
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
}

func (r *rawConn) startup() {
	r.t.Helper()
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice", "database": "sluice"}})
	r.until("ReadyForQuery")
}

func expect(t *testing.T, got, want string) {
	t.Helper()
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestProtoPortalSuspended(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	// pg-cursor: Parse/Bind/Describe P/Flush, then Execute(n)+Flush per read, no Sync.
	r.send(&pgproto3.Parse{Query: "SELECT * FROM pageviews EMIT CHANGES"}, &pgproto3.Bind{DestinationPortal: "C_1"},
		&pgproto3.Describe{ObjectType: 'P', Name: "C_1"}, &pgproto3.Flush{})
	expect(t, r.until("RowDescription"), `
ParseComplete
BindComplete
RowDescription VIEWTIME:20:0,USERID:25:0,PAGEID:25:0`)
	r.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 2}, &pgproto3.Flush{})
	expect(t, r.until("PortalSuspended"), `
DataRow "1","user1","page_1"
DataRow "2","user2","page_2"
PortalSuspended`)
	r.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 1}, &pgproto3.Flush{})
	expect(t, r.until("PortalSuspended"), `
DataRow "3","user0","page_3"
PortalSuspended`)
	r.send(&pgproto3.Close{ObjectType: 'P', Name: "C_1"}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), "CloseComplete\nReadyForQuery I")
	waitFor(t, "portal query closed", func() bool { return b.open.Load() == 0 })
}

func TestProtoPortalSurvivesSyncInTransaction(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	// JDBC with autocommit off and a fetch size.
	r.send(&pgproto3.Parse{Query: "BEGIN"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT id FROM users"}, &pgproto3.Bind{DestinationPortal: "C_2"},
		&pgproto3.Describe{ObjectType: 'P', Name: "C_2"}, &pgproto3.Execute{Portal: "C_2", MaxRows: 4}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), `
ParseComplete
BindComplete
CommandComplete BEGIN
ParseComplete
BindComplete
RowDescription ID:20:0
DataRow "1"
DataRow "2"
DataRow "3"
DataRow "4"
PortalSuspended
ReadyForQuery T`)
	r.send(&pgproto3.Execute{Portal: "C_2", MaxRows: 4}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), `
DataRow "5"
DataRow "6"
DataRow "7"
DataRow "8"
PortalSuspended
ReadyForQuery T`)
	r.send(&pgproto3.Execute{Portal: "C_2", MaxRows: 4}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), `
DataRow "9"
DataRow "10"
CommandComplete SELECT 10
ReadyForQuery T`)
	r.send(&pgproto3.Query{String: "COMMIT"})
	expect(t, r.until("ReadyForQuery"), "CommandComplete COMMIT\nReadyForQuery I")
}

func TestProtoErrorDiscardsUntilSync(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	r.send(&pgproto3.Parse{Query: "SELECT * FROM\n  boom WHERE x = $1"}, &pgproto3.Describe{ObjectType: 'S'},
		&pgproto3.Bind{Parameters: [][]byte{[]byte("1")}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	// Parse succeeds lexically; Describe asks the engine, which fails; the rest is skipped.
	expect(t, r.until("ReadyForQuery"), `
ParseComplete
ErrorResponse ERROR 42P01 BOOM does not exist
ReadyForQuery I`)
	// Parameter types inferred from the column (ID is BIGINT), parameters bound as text.
	r.send(&pgproto3.Parse{Name: "s1", Query: "SELECT name FROM users WHERE id = $1 LIMIT $2"}, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("x"), []byte("1")}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), `
ParseComplete
ParameterDescription [20 20]
RowDescription NAME:25:0
ErrorResponse ERROR 22P02 invalid input syntax for type bigint: "x"
ReadyForQuery I`)
	r.send(&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("6"), []byte("1")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	expect(t, r.until("ReadyForQuery"), `
BindComplete
DataRow "user6"
CommandComplete SELECT 1
ReadyForQuery I`)
}

func TestProtoSimpleQueries(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	r.send(&pgproto3.Query{String: " ; -- nothing\n"})
	expect(t, r.until("ReadyForQuery"), "EmptyQueryResponse\nReadyForQuery I")
	r.send(&pgproto3.Query{String: "BEGIN; SELECT 1 AS one, 'x'; SELECT * FROM boom; SELECT 2"})
	expect(t, r.until("ReadyForQuery"), `
CommandComplete BEGIN
RowDescription one:23:0,?column?:25:0
DataRow "1","x"
CommandComplete SELECT 1
ErrorResponse ERROR 42P01 BOOM does not exist @44
ReadyForQuery E`)
	r.send(&pgproto3.Query{String: "SELECT 3"})
	expect(t, r.until("ReadyForQuery"), "ErrorResponse ERROR 25P02 current transaction is aborted, commands ignored until end of transaction block\nReadyForQuery E")
	r.send(&pgproto3.Query{String: "ROLLBACK"})
	expect(t, r.until("ReadyForQuery"), "CommandComplete ROLLBACK\nReadyForQuery I")
	// Cursors: quoted names (psycopg2), FETCH with a timeout on a push cursor.
	r.send(&pgproto3.Query{String: `BEGIN; DECLARE "c" CURSOR WITHOUT HOLD FOR SELECT * FROM pageviews EMIT CHANGES; FETCH FORWARD 2 FROM "c"`})
	expect(t, r.until("ReadyForQuery"), `
CommandComplete BEGIN
CommandComplete DECLARE CURSOR
RowDescription VIEWTIME:20:0,USERID:25:0,PAGEID:25:0
DataRow "1","user1","page_1"
DataRow "2","user2","page_2"
CommandComplete FETCH 2
ReadyForQuery T`)
	r.send(&pgproto3.Query{String: `FETCH 100 c WITH (timeout = '30ms')`})
	out := r.until("ReadyForQuery")
	if !strings.Contains(out, "CommandComplete FETCH ") || strings.Contains(out, "FETCH 100") {
		t.Fatalf("timeout fetch: %s", out)
	}
	r.send(&pgproto3.Query{String: `CLOSE c; COMMIT; FETCH 1 FROM c`})
	expect(t, r.until("ReadyForQuery"), `
CommandComplete CLOSE CURSOR
CommandComplete COMMIT
ErrorResponse ERROR 34000 cursor "c" does not exist
ReadyForQuery I`)
}

func TestProtoCancelRequest(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}})
	var key *pgproto3.BackendKeyData
	for key == nil {
		m, err := r.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		key, _ = m.(*pgproto3.BackendKeyData)
	}
	r.until("ReadyForQuery")
	r.send(&pgproto3.Query{String: "SELECT * FROM pageviews EMIT CHANGES"})
	r.until("DataRow")
	cancel := func(secret uint32) {
		nc, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		buf, _ := (&pgproto3.CancelRequest{ProcessID: key.ProcessID, SecretKey: secret}).Encode(nil)
		nc.Write(buf)
		// No reply, ever: the server just closes.
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("cancel connection: %d %v", n, err)
		}
	}
	cancel(key.SecretKey + 1) // wrong secret: ignored
	time.Sleep(50 * time.Millisecond)
	cancel(key.SecretKey)
	out := r.until("ReadyForQuery")
	if !strings.HasSuffix(out, "ErrorResponse ERROR 57014 canceling statement due to user request\nReadyForQuery I\n") {
		t.Fatalf("got %s", out)
	}
	r.send(&pgproto3.Query{String: "SELECT 1"})
	expect(t, r.until("ReadyForQuery"), "RowDescription ?column?:23:0\nDataRow \"1\"\nCommandComplete SELECT 1\nReadyForQuery I")
}

func TestProtoOversizedMessage(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{MaxMessageSize: 1 << 16})
	r := dialRaw(t, srv.Addr)
	r.startup()
	var hdr [5]byte
	hdr[0] = 'Q'
	binary.BigEndian.PutUint32(hdr[1:], 1<<30)
	r.nc.Write(hdr[:])
	m, err := r.fe.Receive()
	e, ok := m.(*pgproto3.ErrorResponse)
	if err != nil || !ok || e.Severity != "FATAL" || e.Code != "08P01" {
		t.Fatalf("got %#v %v", m, err)
	}
	if _, err := r.fe.Receive(); err == nil {
		t.Fatal("connection should be closed")
	}
}

func TestProtoGarbageStartup(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	for _, garbage := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x00\x00\x00\x08\x00\x04\x00\x00",             // protocol 4.0
		"\x00\x00\x00\x09\x00\x03\x00\x00\x00",         // startup without terminator
		"\x7f\xff\xff\xff",                             // huge length
		"\x00\x00\x00\x08\x04\xd2\x16\x2f" + "garbage", // SSLRequest, then plaintext junk
	} {
		nc, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write([]byte(garbage))
		// The server answers (FATAL) or just closes; unread input may turn the close into a reset.
		if _, err := io.ReadAll(nc); err != nil && !strings.Contains(err.Error(), "reset by peer") {
			t.Fatalf("%q: %v (want the server to close)", garbage, err)
		}
		nc.Close()
	}
	// The server is still fine.
	r := dialRaw(t, srv.Addr)
	r.startup()
}

func TestServerCloseTerminatesSessions(t *testing.T) {
	srv, b := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	r.send(&pgproto3.Query{String: "SELECT * FROM pageviews EMIT CHANGES"})
	r.until("DataRow")
	srv.Close()
	var last string
	for {
		m, err := r.fe.Receive()
		if err != nil {
			break
		}
		last = render(m)
	}
	if last != "ErrorResponse FATAL 57P01 terminating connection due to administrator command" {
		t.Fatalf("last message %q", last)
	}
	waitFor(t, "push query closed", func() bool { return b.open.Load() == 0 })
}

// TestProtoBackendPanic: a panic behind one statement ends that client's connection with an
// internal error; the server and other sessions keep running.
func TestProtoBackendPanic(t *testing.T) {
	srv, _ := startTest(t, pgwire.Config{})
	r := dialRaw(t, srv.Addr)
	r.startup()
	r.send(&pgproto3.Query{String: "CREATE STREAM s PANIC_NOW"})
	out := r.until("ErrorResponse")
	if !strings.Contains(out, "ErrorResponse FATAL XX000 internal error: a backend bug") {
		t.Fatalf("after a backend panic: %s", out)
	}
	other := dialRaw(t, srv.Addr)
	other.startup()
	other.send(&pgproto3.Query{String: "SELECT 1 AS one"})
	expect(t, other.until("ReadyForQuery"), "RowDescription one:23:0\nDataRow \"1\"\nCommandComplete SELECT 1\nReadyForQuery I")
}
