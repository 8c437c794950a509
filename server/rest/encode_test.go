package rest

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

func TestAppendValue(t *testing.T) {
	dec := decimal.RequireFromString
	for _, tc := range []struct {
		v    any
		t    *types.Type
		want string
	}{
		{nil, types.StringType, `null`},
		{true, nil, `true`},
		{int32(-7), nil, `-7`},
		{int64(math.MaxInt64), nil, `9223372036854775807`},
		// DOUBLE as Java's Double.toString.
		{10.0, nil, `10.0`},
		{0.0, nil, `0.0`},
		{math.Copysign(0, -1), nil, `-0.0`},
		{1.5, nil, `1.5`},
		{0.001, nil, `0.001`},
		{0.0001, nil, `1.0E-4`},
		{9999999.0, nil, `9999999.0`},
		{1e7, nil, `1.0E7`},
		{12345678.9, nil, `1.23456789E7`},
		{-1.25e-10, nil, `-1.25E-10`},
		{1e21, nil, `1.0E21`},
		{math.NaN(), nil, `"NaN"`},
		{math.Inf(1), nil, `"Infinity"`},
		{math.Inf(-1), nil, `"-Infinity"`},
		// DECIMAL keeps the column's scale, or the value's own.
		{dec("1.1"), types.DecimalOf(4, 2), `1.10`},
		{dec("-0.5"), types.DecimalOf(2, 1), `-0.5`},
		{dec("2"), types.DecimalOf(3, 1), `2.0`},
		{dec("1.10"), nil, `1.10`},
		{dec("12345678901234567890.12"), types.DecimalOf(22, 2), `12345678901234567890.12`},
		{dec("1E+3"), nil, `1000`},
		// Strings: Jackson escapes only quotes, backslash and control characters.
		{"a\"b\\c\n\t\x01<>&é😀", nil, `"a\"b\\c\n\t\u0001<>&é😀"`},
		{"bad\xffutf8", nil, `"bad\ufffdutf8"`},
		{[]byte("hi!"), types.BytesType, `"aGkh"`},
		{types.Date(0), nil, `"1970-01-01"`},
		{types.Date(-1), nil, `"1969-12-31"`},
		{types.Date(2932897), nil, `"+10000-01-01"`},
		{types.Time(0), nil, `"00:00"`},
		{types.Time(3600500), nil, `"01:00"`},
		{types.Time(86399999), nil, `"23:59:59"`},
		{types.Timestamp(0), nil, `"1970-01-01T00:00:00.000"`},
		{types.Timestamp(-1), nil, `"1969-12-31T23:59:59.999"`},
		{[]any{int32(1), nil, "x"}, types.ArrayOf(types.IntType), `[1,null,"x"]`},
		{[]any{}, nil, `[]`},
		{&types.Map{}, nil, `{}`},
		{&types.Map{Keys: []any{"a", "b"}, Vals: []any{dec("1.5"), nil}}, types.MapOf(types.StringType, types.DecimalOf(3, 2)), `{"a":1.50,"b":null}`},
		{&types.Map{Keys: []any{int32(1)}, Vals: []any{1.0}}, nil, `{"1":1.0}`},
		{(*types.Map)(nil), nil, `null`},
		// STRUCT: names from the value, else from the type.
		{&types.Struct{Names: []string{"F1"}, Vals: []any{"x"}}, nil, `{"F1":"x"}`},
		{&types.Struct{Vals: []any{int32(1), []any{2.0}}},
			types.StructOf(types.Field{Name: "A", Type: types.IntType}, types.Field{Name: "B", Type: types.ArrayOf(types.DoubleType)}),
			`{"A":1,"B":[2.0]}`},
		{json.Number("1.50"), nil, `1.50`},
		{struct{ X int }{3}, nil, `{"X":3}`},
	} {
		got := string(appendValue(nil, tc.v, tc.t))
		if got != tc.want {
			t.Errorf("appendValue(%#v, %v) = %s, want %s", tc.v, tc.t, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("appendValue(%#v) = %s is not valid JSON", tc.v, got)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		accept  string
		offered []string
		want    string
	}{
		{"", queryStreamTypes, mediaDelimited},
		{"*/*", queryStreamTypes, mediaDelimited},
		{"application/json", queryStreamTypes, mediaJSON},
		{"application/json, */*", queryStreamTypes, mediaJSON},
		{"application/*", queryStreamTypes, mediaDelimited},
		{"application/vnd.ksql.v1+json", queryStreamTypes, mediaKsqlV1},
		{"application/vnd.ksql+json", queryStreamTypes, mediaKsqlV1},
		{"application/json;q=0.5, application/vnd.ksql.v1+json;q=0.9", jsonTypes, mediaKsqlV1},
		{"application/vnd.ksql.v1+json;q=0.1, application/json", jsonTypes, mediaJSON},
		{"application/json;q=0, */*", jsonTypes, mediaKsqlV1},
		{"text/html", jsonTypes, ""},
		{"application/json;q=0", jsonTypes, ""},
		{"text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", jsonTypes, mediaKsqlV1},
		{";;;, ,", jsonTypes, ""},
	} {
		if got := negotiate(tc.accept, tc.offered); got != tc.want {
			t.Errorf("negotiate(%q, %v) = %q, want %q", tc.accept, tc.offered, got, tc.want)
		}
	}
}
