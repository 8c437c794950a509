package qtt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// parse decodes an expected value the way the loader does (numbers as json.Number).
func parse(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestMatchValue(t *testing.T) {
	for _, tc := range []struct {
		name     string
		expected string
		actual   any
		ok       bool
	}{
		// DECIMAL: scale-sensitive.
		{"decimal same scale", `1.10`, dec("1.10"), true},
		{"decimal other scale", `1.1`, dec("1.10"), false},
		{"decimal other scale 2", `1.10`, dec("1.1"), false},
		{"decimal string leading zeros", `"005.4"`, dec("5.4"), true},
		{"decimal string scale differs", `"5.40"`, dec("5.4"), false},
		{"decimal integer literal scale 0", `12`, dec("12"), true},
		{"decimal integer literal vs scale 1", `12`, dec("12.0"), false},
		{"decimal value differs", `1.20`, dec("1.10"), false},
		{"decimal negative", `-0.50`, dec("-0.50"), true},
		// DOUBLE: within 1e-6.
		{"double exact", `1.5`, 1.5, true},
		{"double within tolerance", `0.3`, 0.1 + 0.2, true},
		{"double just outside", `1.0`, 1.0000011, false},
		{"double integer literal", `2`, 2.0, true},
		// INT / BIGINT: exact.
		{"int", `42`, int32(42), true},
		{"bigint", `1271678417736`, int64(1271678417736), true},
		{"int differs", `42`, int64(43), false},
		{"int vs fraction", `42.5`, int64(42), false},
		{"int vs integral decimal literal", `42.0`, int32(42), true},
		{"date as days", `19000`, types.Date(19000), true},
		{"timestamp as ms", `1000`, types.Timestamp(1000), true},
		// Strings, booleans, null, bytes.
		{"string", `"a"`, "a", true},
		{"string differs", `"a"`, "A", false},
		{"number vs string", `1`, "1", false},
		{"bool", `true`, true, true},
		{"bool differs", `false`, true, false},
		{"null", `null`, nil, true},
		{"null vs value", `null`, int64(0), false},
		{"value vs null", `0`, nil, false},
		{"typed nil", `null`, (*types.Struct)(nil), true},
		{"bytes base64", `"IQ=="`, []byte("!"), true},
		{"bytes differ", `"IQ=="`, []byte("?"), false},
		// Objects: same field count, exact then upper-case lookup.
		{"object exact", `{"A": 1}`, map[string]any{"A": int64(1)}, true},
		{"object upper-case lookup", `{"name": "bob"}`, map[string]any{"NAME": "bob"}, true},
		{"object lower actual not found", `{"NAME": "bob"}`, map[string]any{"name": "bob"}, false},
		{"object exact wins over upper", `{"c1": 1}`, map[string]any{"c1": int64(1), "C1": int64(2)}, false},
		{"object field count", `{"A": 1}`, map[string]any{"A": int64(1), "B": nil}, false},
		{"object nested", `{"S": {"f": [1, 2.5]}}`, map[string]any{"S": map[string]any{"F": []any{int32(1), 2.5}}}, true},
		{"struct value", `{"f1": 1, "F2": "x"}`, &types.Struct{Names: []string{"F1", "F2"}, Vals: []any{int32(1), "x"}}, true},
		{"map value", `{"1": "a", "2": "b"}`, &types.Map{Keys: []any{int32(1), int32(2)}, Vals: []any{"a", "b"}}, true},
		{"map null key", `{"null": 1}`, &types.Map{Keys: []any{nil}, Vals: []any{int32(1)}}, true},
		{"go map", `{"a": 1}`, map[string]int64{"a": 1}, true},
		{"object vs scalar", `{"A": 1}`, int64(1), false},
		// Arrays.
		{"array", `[1, "a", null]`, []any{int64(1), "a", nil}, true},
		{"array typed slice", `["a", "b"]`, []string{"a", "b"}, true},
		{"array length", `[1]`, []any{int64(1), int64(2)}, false},
		{"array element", `[1, 2]`, []any{int64(1), int64(3)}, false},
		// JSON-like actual numbers (type unknown): exact text or within tolerance.
		{"json number same", `1.50`, json.Number("1.50"), true},
		{"json number close", `1.5`, json.Number("1.5000000001"), true},
		{"json number far", `1.5`, json.Number("1.6"), false},
	} {
		err := MatchValue(parse(t, tc.expected), tc.actual)
		if (err == nil) != tc.ok {
			t.Errorf("%s: MatchValue(%s, %s) = %v, want ok=%v", tc.name, tc.expected, Render(tc.actual), err, tc.ok)
		}
	}
}

func TestMatchValuePath(t *testing.T) {
	err := MatchValue(parse(t, `{"A": {"B": [1, 1.10]}}`), map[string]any{"A": map[string]any{"B": []any{int64(1), dec("1.1")}}})
	if err == nil || !strings.HasPrefix(err.Error(), "A.B[1]: ") || !strings.Contains(err.Error(), "scale 2") {
		t.Fatalf("error should name the path and the scale: %v", err)
	}
}

func TestMatchRecord(t *testing.T) {
	exp := func(s string) Record {
		t.Helper()
		recs, err := buildRecords([]map[string]any{parse(t, s).(map[string]any)}, "outputs")
		if err != nil {
			t.Fatal(err)
		}
		return recs[0]
	}
	win := &engine.WindowBounds{Start: 0, End: 30000, Type: "time"}
	for _, tc := range []struct {
		name     string
		exp      string
		act      engine.LogicalRecord
		noInputs bool
		ok       bool
	}{
		{"plain", `{"topic": "T", "key": 1, "value": {"V": "x"}, "timestamp": 5}`,
			engine.LogicalRecord{Key: int32(1), Value: map[string]any{"V": "x"}, Timestamp: 5}, false, true},
		{"absent key is null", `{"topic": "T", "value": {"V": "x"}}`,
			engine.LogicalRecord{Key: nil, Value: map[string]any{"V": "x"}}, false, true},
		{"absent key vs actual key", `{"topic": "T", "value": {"V": "x"}}`,
			engine.LogicalRecord{Key: "k", Value: map[string]any{"V": "x"}}, false, false},
		{"absent timestamp not checked", `{"topic": "T", "key": 1, "value": {"V": "x"}}`,
			engine.LogicalRecord{Key: int64(1), Value: map[string]any{"V": "x"}, Timestamp: 99}, false, true},
		{"timestamp differs", `{"topic": "T", "key": 1, "value": {"V": "x"}, "timestamp": 5}`,
			engine.LogicalRecord{Key: int64(1), Value: map[string]any{"V": "x"}, Timestamp: 6}, false, false},
		{"timestamp 0 without inputs matches anything", `{"topic": "T", "key": 1, "value": {"V": "x"}, "timestamp": 0}`,
			engine.LogicalRecord{Key: int64(1), Value: map[string]any{"V": "x"}, Timestamp: 1234}, true, true},
		{"timestamp 0 with inputs is checked", `{"topic": "T", "key": 1, "value": {"V": "x"}, "timestamp": 0}`,
			engine.LogicalRecord{Key: int64(1), Value: map[string]any{"V": "x"}, Timestamp: 1234}, false, false},
		{"tombstone", `{"topic": "T", "key": 1, "value": null}`,
			engine.LogicalRecord{Key: int64(1), ValueNull: true}, false, true},
		{"tombstone vs value", `{"topic": "T", "key": 1, "value": null}`,
			engine.LogicalRecord{Key: int64(1), Value: map[string]any{"V": nil}}, false, false},
		{"value vs tombstone", `{"topic": "T", "key": 1, "value": {"V": null}}`,
			engine.LogicalRecord{Key: int64(1), ValueNull: true}, false, false},
		{"window", `{"topic": "T", "key": 1, "value": "101", "window": {"start": 0, "end": 30000, "type": "time"}}`,
			engine.LogicalRecord{Key: int64(1), Value: "101", Window: win}, false, true},
		{"window type case", `{"topic": "T", "key": 1, "value": "101", "window": {"start": 0, "end": 30000, "type": "TIME"}}`,
			engine.LogicalRecord{Key: int64(1), Value: "101", Window: win}, false, true},
		{"window end differs", `{"topic": "T", "key": 1, "value": "101", "window": {"start": 0, "end": 60000, "type": "time"}}`,
			engine.LogicalRecord{Key: int64(1), Value: "101", Window: win}, false, false},
		{"session vs time", `{"topic": "T", "key": 1, "value": "101", "window": {"start": 0, "end": 30000, "type": "session"}}`,
			engine.LogicalRecord{Key: int64(1), Value: "101", Window: win}, false, false},
		{"missing window", `{"topic": "T", "key": 1, "value": "101", "window": {"start": 0, "end": 30000, "type": "time"}}`,
			engine.LogicalRecord{Key: int64(1), Value: "101"}, false, false},
		{"unexpected window", `{"topic": "T", "key": 1, "value": "101"}`,
			engine.LogicalRecord{Key: int64(1), Value: "101", Window: win}, false, false},
		{"headers exact", `{"topic": "T", "value": "v", "headers": [{"KEY": "a", "VALUE": "IQ=="}, {"KEY": "b", "VALUE": null}]}`,
			engine.LogicalRecord{Value: "v", Headers: []storage.Header{{Key: "a", Value: []byte("!")}, {Key: "b"}}}, false, true},
		{"headers order", `{"topic": "T", "value": "v", "headers": [{"KEY": "a", "VALUE": "IQ=="}, {"KEY": "b", "VALUE": null}]}`,
			engine.LogicalRecord{Value: "v", Headers: []storage.Header{{Key: "b"}, {Key: "a", Value: []byte("!")}}}, false, false},
		{"null header vs empty", `{"topic": "T", "value": "v", "headers": [{"KEY": "b", "VALUE": null}]}`,
			engine.LogicalRecord{Value: "v", Headers: []storage.Header{{Key: "b", Value: []byte{}}}}, false, false},
		{"absent headers means none", `{"topic": "T", "value": "v"}`,
			engine.LogicalRecord{Value: "v", Headers: []storage.Header{{Key: "a", Value: []byte("!")}}}, false, false},
	} {
		err := MatchRecord(exp(tc.exp), tc.act, tc.noInputs)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCompareTopic(t *testing.T) {
	exp := []Record{{Topic: "T", Key: json.Number("1"), Value: "a"}, {Topic: "T", Key: json.Number("2"), Value: "b"}}
	act := []engine.LogicalRecord{{Key: int64(1), Value: "a"}}
	if msg := compareTopic("T", exp, act, false); !strings.Contains(msg, "expected 2 records, got 1") || !strings.Contains(msg, `key=2 value="b"`) {
		t.Fatalf("missing-record diff: %s", msg)
	}
	act = append(act, engine.LogicalRecord{Key: int64(2), Value: "b"}, engine.LogicalRecord{Key: int64(3), Value: "c"})
	if msg := compareTopic("T", exp, act, false); !strings.Contains(msg, "first extra") || !strings.Contains(msg, `key=3 value="c"`) {
		t.Fatalf("extra-record diff: %s", msg)
	}
	if msg := compareTopic("T", exp, act[:2], false); msg != "" {
		t.Fatalf("equal topics: %s", msg)
	}
	act[1].Value = "B"
	if msg := compareTopic("T", exp, act[:2], false); !strings.HasPrefix(msg, `T[1]: value: expected "b", got "B"`) {
		t.Fatalf("value diff: %s", msg)
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{dec("5.40"), "5.40"},
		{dec("12"), "12"},
		{2.0, "2d"},
		{2.5, "2.5"},
		{[]byte("!"), `b64"IQ=="`},
		{&types.Struct{Names: []string{"B", "A"}, Vals: []any{int32(1), nil}}, `{"B": 1, "A": null}`},
		{map[string]any{"b": true, "a": "x"}, `{"a": "x", "b": true}`},
	} {
		if got := Render(tc.v); got != tc.want {
			t.Errorf("Render(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestNormalizeSchema(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"ID INT KEY, NAME STRING", "`ID` INTEGER KEY, `NAME` STRING", true},
		{"ID INT KEY, NAME VARCHAR", "`ID` INTEGER KEY, `NAME` STRING", true},
		{"ID INT PRIMARY KEY, V INT", "`ID` INTEGER KEY, `V` INTEGER", true},
		{"`id` INT KEY, `c1` INT", "`id` INTEGER KEY, `c1` INTEGER", true},
		{"`id` INT KEY", "`ID` INTEGER KEY", false},
		{"id INT KEY", "`ID` INTEGER KEY", true},
		{"S STRUCT<FOO VARCHAR, `foo` VARCHAR>", "`S` STRUCT<`FOO` STRING, `foo` STRING>", true},
		{"S STRUCT< >", "`S` STRUCT<>", true},
		{"K DECIMAL(2, 1) KEY", "`K` DECIMAL(2,1) KEY", true},
		{"M MAP<STRING, ARRAY<INT>>", "`M` MAP<STRING, ARRAY<INTEGER>>", true},
		{"S_A INTEGER , S_B STRING", "`S_A` INTEGER, `S_B` STRING", true},
		{"H BYTES HEADER('abc')", "`H` BYTES HEADER('abc')", true},
		{"H BYTES HEADER('abc')", "`H` BYTES HEADER('ABC')", false},
		{"A INT, B INT", "`B` INTEGER, `A` INTEGER", false},
		{"A INT KEY", "`A` INTEGER", false},
	} {
		if got := NormalizeSchema(tc.a) == NormalizeSchema(tc.b); got != tc.same {
			t.Errorf("%q vs %q: same=%v (%q vs %q)", tc.a, tc.b, got, NormalizeSchema(tc.a), NormalizeSchema(tc.b))
		}
	}
}

func TestCheckSource(t *testing.T) {
	schema := &types.Schema{Columns: []types.Column{
		{Name: "ID", Type: types.IntType, Namespace: types.KeyColumn},
		{Name: "COUNT", Type: types.BigintType},
	}}
	got := &engine.SourceSummary{Name: "OUT", Kind: "TABLE", Schema: schema, KeyFormat: "KAFKA", ValueFormat: "JSON",
		WindowType: "SESSION", KeyFeatures: []string{"UNWRAP_SINGLES"}}
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	for _, tc := range []struct {
		name string
		want PostSource
		ok   bool
	}{
		{"match", PostSource{Name: "OUT", Type: "table", Schema: s("ID INT KEY, COUNT BIGINT"),
			KeyFormat: &PostKeyFormat{Format: "KAFKA", WindowType: "SESSION"}, ValueFormat: "JSON",
			KeyFeatures: &[]string{"unwrap_singles"}, IsSource: b(false)}, true},
		{"type", PostSource{Type: "stream"}, false},
		{"schema", PostSource{Schema: s("ID INT KEY, COUNT INT")}, false},
		{"un-windowed expected", PostSource{KeyFormat: &PostKeyFormat{Format: "KAFKA"}}, false},
		{"value format", PostSource{ValueFormat: "DELIMITED"}, false},
		{"features", PostSource{ValueFeatures: &[]string{"WRAP_SINGLES"}}, false},
		{"is source", PostSource{IsSource: b(true)}, false},
	} {
		if err := checkSource(tc.want, got); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCheckException(t *testing.T) {
	c := func(typ, msg, causeMsg string) *Case {
		return &Case{Name: "x", ExpectedException: &ExpectedException{Type: typ, Message: msg, CauseMessage: causeMsg}}
	}
	stmtErr := &engine.Error{Kind: engine.StatementError, Msg: "Stream TEST does not exist\nStatement: ..."}
	parseErr := &engine.Error{Kind: engine.ParseError, Msg: "line 1:8: mismatched input 'FOO'"}
	rtErr := &engine.Error{Kind: engine.RuntimeError, Msg: "Numeric field overflow: value 1000.1"}
	for _, tc := range []struct {
		name string
		c    *Case
		err  error
		cat  string // "" = pass
	}{
		{"statement", c("io.confluent.ksql.util.KsqlStatementException", "does not exist", ""), stmtErr, ""},
		{"parse as statement exception", c("io.confluent.ksql.util.KsqlStatementException", "mismatched input", ""), parseErr, ""},
		{"parse", c("io.confluent.ksql.parser.exception.ParseFailedException", "mismatched", ""), parseErr, ""},
		{"parse wanted, statement got", c("io.confluent.ksql.parser.exception.ParseFailedException", "does not exist", ""), stmtErr, CatExceptionType},
		{"ksql exception", c("io.confluent.ksql.util.KsqlException", "does not exist", ""), stmtErr, ""},
		{"message mismatch", c("io.confluent.ksql.util.KsqlStatementException", "Table TEST does not exist", ""), stmtErr, CatExceptionMsg},
		{"streams", c("org.apache.kafka.streams.errors.StreamsException", "Exception caught in process", "Numeric field overflow"), rtErr, ""},
		{"streams cause mismatch", c("org.apache.kafka.streams.errors.StreamsException", "Exception caught in process", "Unable to serialize"), rtErr, CatExceptionMsg},
		{"streams wanted, statement got", c("org.apache.kafka.streams.errors.StreamsException", "Exception caught in process", "does not exist"), stmtErr, CatExceptionType},
		{"wrapped engine error", c("io.confluent.ksql.util.KsqlStatementException", "does not exist", ""), wrap(stmtErr), ""},
		{"non-engine error", c("io.confluent.ksql.util.KsqlStatementException", "x", ""), errString("boom"), CatExceptionType},
	} {
		res := checkException(tc.c, tc.err)
		switch {
		case tc.cat == "" && res.Status != Pass:
			t.Errorf("%s: want pass, got %s [%s] %s", tc.name, res.Status, res.Category, res.Reason)
		case tc.cat != "" && (res.Status != Fail || res.Category != tc.cat):
			t.Errorf("%s: want fail [%s], got %s [%s] %s", tc.name, tc.cat, res.Status, res.Category, res.Reason)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

type wrapped struct{ err error }

func (w wrapped) Error() string { return "produce input 0: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func wrap(err error) error { return wrapped{err} }
