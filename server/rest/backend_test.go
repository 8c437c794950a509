package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// fakeBackend is the Backend of these tests: fixed entities for /ksql, cursors chosen by a
// keyword in the query text, and a push cursor fed through a channel so that tests decide when
// rows happen. It is a real Backend, not a protocol mock: requests go over loopback HTTP.
//
// Query keywords: PULL (table pull: one row, no final message), STREAMPULL (stream pull, "Query
// Completed"), TYPES (one row with every value type), MANY (pullRows rows), MIDERR (a row, then
// an error), PUSH (the channel-fed push cursor), BADQ (a 40001 statement error).
type fakeBackend struct {
	mu       sync.Mutex // guards the fields below
	props    map[string]string
	vars     map[string]string
	inserted []map[string]any
	pushes   map[string]*pushQuery
	nextPush int

	pullRows int
	noPush   bool // PUSH is an error (the fuzzer must not block)
}

// pushQuery is one running PUSH cursor: tests send rows on rows, close rows to end it with
// "Limit Reached", and wait on closed to see that the server stopped it.
type pushQuery struct {
	rows      chan engine.Row
	closed    chan struct{}
	closeOnce sync.Once
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{pushes: map[string]*pushQuery{}, pullRows: 1000}
}

func (b *fakeBackend) remember(s *engine.Session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.props, b.vars = s.Props, s.Vars
}

func currentStatus(kind, name string, seq int) map[string]any {
	msg := "Stream created"
	if kind == "table" {
		msg = "Table created"
	}
	return map[string]any{
		"@type":                 "currentStatus",
		"commandId":             kind + "/" + name + "/create",
		"commandStatus":         map[string]any{"status": "SUCCESS", "message": msg},
		"commandSequenceNumber": seq,
	}
}

func (b *fakeBackend) Execute(ctx context.Context, s *engine.Session, text string) ([]engine.Result, error) {
	b.remember(s)
	var out []engine.Result
	for i, stmt := range strings.Split(text, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		stmt += ";"
		up := strings.ToUpper(stmt)
		switch {
		case strings.HasPrefix(up, "SELECT") || strings.HasPrefix(up, "PRINT"):
			return nil, &engine.Error{Code: 40002, Msg: "use /query", Statement: stmt, Done: out}
		case strings.HasPrefix(up, "FAIL"):
			return nil, &engine.Error{Code: 40001, Msg: "line 1:6: mismatched input 'x'", Line: 1, Col: 6,
				Statement: stmt, Done: out}
		case strings.HasPrefix(up, "BOOM"):
			return nil, errors.New("disk on fire")
		case strings.HasPrefix(up, "SET"):
			out = append(out, engine.Result{Text: stmt}) // no entity, like ksqlDB
		case strings.HasPrefix(up, "SHOW STREAMS"):
			out = append(out, engine.Result{Text: stmt, Entity: map[string]any{
				"@type":         "streams",
				"statementText": stmt,
				"warnings":      []any{},
				"streams": []any{map[string]any{"type": "STREAM", "name": "S1", "topic": "s1",
					"keyFormat": "KAFKA", "valueFormat": "JSON", "isWindowed": false}},
			}})
		case strings.HasPrefix(up, "CREATE TABLE"):
			out = append(out, engine.Result{Text: stmt, Entity: currentStatus("table", "T1", i)})
		default:
			out = append(out, engine.Result{Text: stmt, Entity: currentStatus("stream", "S1", i)})
		}
	}
	return out, nil
}

var (
	pullCols = []engine.Column{{Name: "ID", Type: types.StringType, Key: true}, {Name: "COUNT", Type: types.BigintType}}
	typeCols = []engine.Column{
		{Name: "I", Type: types.IntType}, {Name: "B", Type: types.BigintType},
		{Name: "D", Type: types.DoubleType}, {Name: "DEC", Type: types.DecimalOf(4, 2)},
		{Name: "S", Type: types.StringType}, {Name: "BY", Type: types.BytesType},
		{Name: "DT", Type: types.DateType}, {Name: "TM", Type: types.TimeType},
		{Name: "TS", Type: types.TimestampType}, {Name: "BO", Type: types.BooleanType},
		{Name: "A", Type: types.ArrayOf(types.IntType)},
		{Name: "M", Type: types.MapOf(types.StringType, types.DoubleType)},
		{Name: "ST", Type: types.StructOf(types.Field{Name: "F1", Type: types.StringType},
			types.Field{Name: "F2", Type: types.DecimalOf(3, 1)})},
		{Name: "N", Type: types.StringType},
	}
	typeRow = []any{int32(7), int64(9007199254740993), 10.0, decimal.RequireFromString("1.1"),
		"a\"<b>\n", []byte{0x21}, types.Date(18690), types.Time(3723000), types.Timestamp(1614852930123), true,
		[]any{int32(1), nil}, &types.Map{Keys: []any{"k"}, Vals: []any{1e7}},
		&types.Struct{Names: []string{"F1", "F2"}, Vals: []any{"x", decimal.RequireFromString("2")}}, nil}
)

func (b *fakeBackend) Query(ctx context.Context, s *engine.Session, text string) (*engine.Cursor, error) {
	b.remember(s)
	up := strings.ToUpper(text)
	switch {
	case strings.HasPrefix(strings.TrimSpace(up), "PRINT"):
		return sliceCursor("print_1", []engine.Column{{Name: "RECORD", Type: types.StringType}}, true, [][]any{
			{"rowtime: 2021/03/04 10:15:30.123 Z, key: a, value: {\"V\":1}, partition: 0"},
			{"rowtime: 2021/03/04 10:15:31.000 Z, key: b, value: <null>, partition: 0"}}, ""), nil
	case strings.Contains(up, "BADQ"):
		return nil, &engine.Error{Code: 40001, Msg: "line 1:15: SELECT column 'X' cannot be resolved."}
	case strings.Contains(up, "STREAMPULL"):
		return sliceCursor("query_1", pullCols, false, [][]any{{"10", int64(1)}}, "Query Completed"), nil
	case strings.Contains(up, "PULL"):
		return sliceCursor("query_2", pullCols, false, [][]any{{"10", int64(1)}}, ""), nil
	case strings.Contains(up, "TYPES"):
		return sliceCursor("query_3", typeCols, false, [][]any{typeRow}, ""), nil
	case strings.Contains(up, "MANY"):
		rows := make([][]any, b.pullRows)
		for i := range rows {
			rows[i] = []any{"key-" + string(rune('a'+i%26)), int64(i)}
		}
		return sliceCursor("query_4", pullCols, false, rows, ""), nil
	case strings.Contains(up, "MIDERR"):
		i := 0
		return newCursor("transient_S1_9", pullCols, true, func(ctx context.Context) (engine.Row, error) {
			i++
			if i == 1 {
				return engine.Row{Values: []any{"10", int64(1)}}, nil
			}
			return engine.Row{}, &engine.Error{Code: 50000, Kind: engine.RuntimeError, Msg: "state store gone"}
		}, nil, nil), nil
	case strings.Contains(up, "PUSH") && !b.noPush:
		b.mu.Lock()
		b.nextPush++
		id := "transient_S1_" + string(rune('0'+b.nextPush))
		pq := &pushQuery{rows: make(chan engine.Row), closed: make(chan struct{})}
		b.pushes[id] = pq
		b.mu.Unlock()
		limit := false
		return newCursor(id, pullCols, true, func(ctx context.Context) (engine.Row, error) {
			select {
			case <-ctx.Done():
				return engine.Row{}, ctx.Err()
			case <-pq.closed:
				return engine.Row{}, io.EOF
			case r, ok := <-pq.rows:
				if !ok {
					limit = true
					return engine.Row{}, io.EOF
				}
				return r, nil
			}
		}, func() string {
			if limit {
				return "Limit Reached"
			}
			return ""
		}, func() { pq.closeOnce.Do(func() { close(pq.closed) }) }), nil
	}
	return nil, &engine.Error{Code: 40001, Msg: "not a query: " + text}
}

// push returns the running push query with the given id (waiting is the caller's business).
func (b *fakeBackend) push(id string) *pushQuery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pushes[id]
}

func (b *fakeBackend) InsertJSON(ctx context.Context, s *engine.Session, target string, row map[string]any) error {
	if _, bad := row["bad"]; bad {
		return &engine.Error{Code: 40000, Msg: "Failed to insert values into '" + target + "'. Column BAD does not exist"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inserted = append(b.inserted, row)
	return nil
}

func (b *fakeBackend) CloseQuery(id string) bool {
	pq := b.push(id)
	if pq == nil {
		return false
	}
	pq.closeOnce.Do(func() { close(pq.closed) })
	return true
}

func (b *fakeBackend) Source(name string) (*engine.SourceSummary, bool) {
	switch name {
	case "S1":
		return &engine.SourceSummary{Name: "S1", Kind: "STREAM", Topic: "s1"}, true
	case "W1":
		return &engine.SourceSummary{Name: "W1", Kind: "TABLE", Topic: "w1", WindowType: "TUMBLING"}, true
	}
	return nil, false
}

// newCursor builds an *engine.Cursor from functions. engine.Cursor keeps its behaviour in
// unexported fields and the engine exports no constructor yet, so this test helper sets them by
// reflection. If the engine renames the fields, the panic below says so; replace this helper by
// engine.NewCursor once it exists.
func newCursor(id string, cols []engine.Column, push bool,
	next func(context.Context) (engine.Row, error), final func() string, closeFn func()) *engine.Cursor {
	c := &engine.Cursor{ID: id, Columns: cols, Push: push}
	v := reflect.ValueOf(c).Elem()
	set := func(name string, fn any) {
		f := v.FieldByName(name)
		if !f.IsValid() {
			panic("engine.Cursor has no field " + name + "; update newCursor in backend_test.go")
		}
		fv := reflect.ValueOf(fn)
		if fv.IsNil() {
			return
		}
		reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(fv)
	}
	set("next", next)
	set("final", final)
	set("close", closeFn)
	return c
}

// sliceCursor is a pull cursor over fixed rows.
func sliceCursor(id string, cols []engine.Column, push bool, rows [][]any, final string) *engine.Cursor {
	i := 0
	return newCursor(id, cols, push, func(ctx context.Context) (engine.Row, error) {
		if err := ctx.Err(); err != nil {
			return engine.Row{}, err
		}
		if i == len(rows) {
			return engine.Row{}, io.EOF
		}
		i++
		return engine.Row{Values: rows[i-1]}, nil
	}, func() string { return final }, nil)
}

// startServer serves New(b, cfg) on loopback with HTTP/1.1 and cleartext HTTP/2 enabled.
func startServer(t testing.TB, b Backend, cfg Config) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(New(b, cfg))
	ts.Config.Protocols = Protocols()
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// h2cClient speaks cleartext HTTP/2 with prior knowledge.
func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}
