package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/server/pgwire"
	"github.com/sluicedb/sluice/sql/types"
)

// testBackend is a protocol-test double, not an engine: it knows three sources.
//
//	USERS      pull; 10 rows of every primitive type; WHERE ID = n filters
//	PAGEVIEWS  push; a row every interval; LIMIT n ends it
//	FEED       push; rows come from the feed channel, so tests control arrival
//
// Statements mentioning BOOM fail with an engine error positioned at BOOM.
type testBackend struct {
	interval atomic.Int64 // nanoseconds between PAGEVIEWS rows
	feed     chan engine.Row
	open     atomic.Int32 // push queries not yet closed
	started  atomic.Int32 // push queries started

	mu    sync.Mutex
	texts []string // statements seen by Query/Execute
}

func newTestBackend() *testBackend {
	b := &testBackend{feed: make(chan engine.Row)}
	b.interval.Store(int64(20 * time.Millisecond))
	return b
}

var _ pgwire.RowsQuerier = (*testBackend)(nil)

var (
	usersCols = []engine.Column{
		{Name: "ID", Type: types.BigintType, Key: true},
		{Name: "NAME", Type: types.StringType},
		{Name: "SCORE", Type: types.DoubleType},
		{Name: "BAL", Type: types.DecimalOf(10, 2)},
		{Name: "ACTIVE", Type: types.BooleanType},
		{Name: "JOINED", Type: types.DateType},
		{Name: "AGE", Type: types.IntType},
		{Name: "TAGS", Type: types.ArrayOf(types.StringType)},
		{Name: "SEEN", Type: types.TimestampType},
		{Name: "RAW", Type: types.BytesType},
	}
	pvCols = []engine.Column{
		{Name: "VIEWTIME", Type: types.BigintType},
		{Name: "USERID", Type: types.StringType},
		{Name: "PAGEID", Type: types.StringType},
	}
)

func userRow(i int) []any {
	return []any{
		int64(i), fmt.Sprintf("user%d", i), float64(i) + 0.5, decimal.New(int64(i)*1234, -2), i%2 == 0,
		types.Date(19000 + i), int32(20 + i), []any{"a", fmt.Sprint(i)}, types.Timestamp(1700000000000 + int64(i)*1000), []byte{byte(i), 0xff},
	}
}

func (b *testBackend) Sources() []*engine.SourceSummary {
	schema := func(cols []engine.Column) *types.Schema {
		s := &types.Schema{}
		for _, c := range cols {
			ns := types.ValueColumn
			if c.Key {
				ns = types.KeyColumn
			}
			s.Columns = append(s.Columns, types.Column{Name: c.Name, Type: c.Type, Namespace: ns})
		}
		return s
	}
	return []*engine.SourceSummary{
		{Name: "USERS", Kind: "TABLE", Topic: "users", Schema: schema(usersCols), KeyFormat: "KAFKA", ValueFormat: "JSON"},
		{Name: "PAGEVIEWS", Kind: "STREAM", Topic: "pageviews", Schema: schema(pvCols), KeyFormat: "KAFKA", ValueFormat: "JSON"},
		{Name: "FEED", Kind: "STREAM", Topic: "feed", Schema: schema(pvCols), KeyFormat: "KAFKA", ValueFormat: "AVRO"},
	}
}

func (b *testBackend) record(text string) {
	b.mu.Lock()
	b.texts = append(b.texts, text)
	b.mu.Unlock()
}

func (b *testBackend) lastText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.texts) == 0 {
		return ""
	}
	return b.texts[len(b.texts)-1]
}

func boom(text string) error {
	i := strings.Index(strings.ToUpper(text), "BOOM")
	if i < 0 {
		return nil
	}
	line := 1 + strings.Count(text[:i], "\n")
	col := i - strings.LastIndex(text[:i], "\n")
	return &engine.Error{Code: 40001, SQLState: "42P01", Msg: "BOOM does not exist", Line: line, Col: col, Statement: text}
}

var (
	reWhereID = regexp.MustCompile(`(?i)\bid\s*=\s*'?(-?\d+)'?`)
	reLimit   = regexp.MustCompile(`(?i)\blimit\s+(\d+)`)
)

func (b *testBackend) Execute(ctx context.Context, s *engine.Session, text string) ([]engine.Result, error) {
	b.record(text)
	if err := boom(text); err != nil {
		return nil, err
	}
	if strings.Contains(text, "PANIC_NOW") {
		panic("a backend bug")
	}
	up := strings.ToUpper(strings.TrimSpace(text))
	switch {
	case strings.HasPrefix(up, "CREATE STREAM"):
		return []engine.Result{{Tag: "CREATE STREAM"}}, nil
	case strings.HasPrefix(up, "CREATE TABLE"):
		return []engine.Result{{Tag: "CREATE TABLE"}}, nil
	case strings.HasPrefix(up, "INSERT"):
		return []engine.Result{{Tag: "INSERT 0 1"}}, nil
	case strings.HasPrefix(up, "SHOW STREAMS"):
		return []engine.Result{{Tag: "SHOW STREAMS",
			Columns: []engine.Column{{Name: "Stream Name"}, {Name: "Kafka Topic"}, {Name: "Format"}},
			Rows:    [][]any{{"PAGEVIEWS", "pageviews", "JSON"}, {"FEED", "feed", "AVRO"}}}}, nil
	case strings.HasPrefix(up, "SET '"):
		return []engine.Result{{Tag: "SET"}}, nil
	case strings.HasPrefix(up, "SELECT"):
		return nil, &engine.Error{SQLState: "42000", Msg: "use Query for SELECT"}
	}
	return []engine.Result{{Tag: strings.Fields(up)[0]}}, nil
}

func (b *testBackend) Query(ctx context.Context, s *engine.Session, text string) (*engine.Cursor, error) {
	return nil, errors.New("testBackend implements QueryRows")
}

func (b *testBackend) Prepare(ctx context.Context, s *engine.Session, text string) (*engine.Prepared, error) {
	if err := boom(text); err != nil {
		return nil, err
	}
	up := strings.ToUpper(text)
	if !strings.HasPrefix(strings.TrimSpace(up), "SELECT") {
		if strings.HasPrefix(strings.TrimSpace(up), "SHOW STREAMS") {
			return &engine.Prepared{Columns: []engine.Column{{Name: "Stream Name", Type: types.StringType}, {Name: "Kafka Topic", Type: types.StringType}, {Name: "Format", Type: types.StringType}}}, nil
		}
		return &engine.Prepared{Tag: strings.Fields(up)[0]}, nil
	}
	push := strings.Contains(up, "EMIT CHANGES")
	cols, _ := project(text, usersCols)
	if strings.Contains(up, "PAGEVIEWS") || strings.Contains(up, "FEED") {
		cols = pvCols
	}
	return &engine.Prepared{IsQuery: true, Push: push, Columns: cols}, nil
}

func (b *testBackend) QueryRows(ctx context.Context, s *engine.Session, text string) (pgwire.Rows, error) {
	b.record(text)
	if err := boom(text); err != nil {
		return nil, err
	}
	up := strings.ToUpper(text)
	limit := -1
	if m := reLimit.FindStringSubmatch(text); m != nil {
		limit, _ = strconv.Atoi(m[1])
	}
	switch {
	case strings.Contains(up, "FROM PAGEVIEWS") || strings.Contains(up, "FROM FEED"):
		if !strings.Contains(up, "EMIT CHANGES") {
			return nil, &engine.Error{SQLState: "0A000", Msg: "pull queries on streams are not supported: add EMIT CHANGES"}
		}
		b.open.Add(1)
		b.started.Add(1)
		n := 0
		feed := strings.Contains(up, "FROM FEED")
		var once sync.Once
		return &testRows{
			cols: pvCols, push: true,
			next: func(ctx context.Context) (engine.Row, error) {
				if limit >= 0 && n >= limit {
					return engine.Row{}, io.EOF
				}
				if feed {
					select {
					case r := <-b.feed:
						n++
						return r, nil
					case <-ctx.Done():
						return engine.Row{}, ctx.Err()
					}
				}
				select {
				case <-time.After(time.Duration(b.interval.Load())):
				case <-ctx.Done():
					return engine.Row{}, ctx.Err()
				}
				n++
				return engine.Row{Values: []any{int64(n), fmt.Sprintf("user%d", n%3), fmt.Sprintf("page_%d", n)}}, nil
			},
			close: func() { once.Do(func() { b.open.Add(-1) }) },
		}, nil
	case strings.Contains(up, "FROM USERS"):
		var rows [][]any
		want := -1
		if m := reWhereID.FindStringSubmatch(text); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		for i := 1; i <= 10; i++ {
			if want < 0 || want == i {
				rows = append(rows, userRow(i))
			}
		}
		if limit >= 0 && len(rows) > limit {
			rows = rows[:limit]
		}
		cols, idx := project(text, usersCols)
		i := 0
		return &testRows{cols: cols, next: func(context.Context) (engine.Row, error) {
			if i >= len(rows) {
				return engine.Row{}, io.EOF
			}
			i++
			vals := make([]any, len(idx))
			for j, k := range idx {
				vals[j] = rows[i-1][k]
			}
			return engine.Row{Values: vals}, nil
		}}, nil
	}
	return nil, &engine.Error{SQLState: "42P01", Msg: "unknown source in: " + text}
}

var reSelectList = regexp.MustCompile(`(?is)^\s*SELECT\s+(.*?)\s+FROM\s`)

// project picks the columns named in the select list (all for *).
func project(text string, all []engine.Column) ([]engine.Column, []int) {
	m := reSelectList.FindStringSubmatch(text)
	var cols []engine.Column
	var idx []int
	if m == nil || strings.TrimSpace(m[1]) == "*" {
		for i := range all {
			idx = append(idx, i)
		}
		return all, idx
	}
	for _, name := range strings.Split(m[1], ",") {
		name = strings.TrimSpace(name)
		for i, c := range all {
			if strings.EqualFold(c.Name, name) {
				cols, idx = append(cols, c), append(idx, i)
			}
		}
	}
	return cols, idx
}

type testRows struct {
	cols  []engine.Column
	push  bool
	next  func(context.Context) (engine.Row, error)
	close func()
}

func (r *testRows) Columns() []engine.Column                     { return r.cols }
func (r *testRows) Push() bool                                   { return r.push }
func (r *testRows) Next(ctx context.Context) (engine.Row, error) { return r.next(ctx) }
func (r *testRows) Close() {
	if r.close != nil {
		r.close()
	}
}
