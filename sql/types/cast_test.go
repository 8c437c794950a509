package types

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestCast(t *testing.T) {
	d42 := DecimalOf(4, 2)
	cases := []struct {
		name     string
		v        any
		from, to *Type
		want     any
		wantErr  bool
	}{
		{"null", nil, IntType, StringType, nil, false},
		{"int to bigint", int32(5), IntType, BigintType, int64(5), false},
		{"bigint to int wraps", int64(1) << 32, BigintType, IntType, int32(0), false},
		{"bigint to int low bits", int64(2147483648), BigintType, IntType, int32(math.MinInt32), false},
		{"double to int truncates", -1.9, DoubleType, IntType, int32(-1), false},
		{"double to int saturates", 1e20, DoubleType, IntType, int32(math.MaxInt32), false},
		{"NaN to int is 0", math.NaN(), DoubleType, IntType, int32(0), false},
		{"double to bigint", 1.0, DoubleType, BigintType, int64(1), false},
		{"decimal to int truncates", dec("-12.99"), d42, IntType, int32(-12), false},
		{"decimal to double", dec("10.25"), d42, DoubleType, 10.25, false},
		{"int to decimal", int32(12), IntType, d42, dec("12.00"), false},
		{"int to decimal overflow", int32(123), IntType, d42, nil, true},
		{"double to decimal half up", 1.005, DoubleType, d42, dec("1.01"), false},
		{"double to decimal negative half up", -1.125, DoubleType, DecimalOf(4, 2), dec("-1.13"), false},
		{"decimal rescale", dec("1.2345"), DecimalOf(5, 4), DecimalOf(3, 2), dec("1.23"), false},
		{"NaN to decimal", math.NaN(), DoubleType, d42, nil, true},
		{"string to int trimmed", " 42 ", StringType, IntType, int32(42), false},
		{"string to int bad", "4x", StringType, IntType, nil, true},
		{"string to int overflow", "3000000000", StringType, IntType, nil, true},
		{"string to bigint", "10", StringType, BigintType, int64(10), false},
		{"string to double", "1e3", StringType, DoubleType, 1000.0, false},
		{"string to double suffix", "1.5d", StringType, DoubleType, 1.5, false},
		{"string to double inf rejected", "inf", StringType, DoubleType, nil, true},
		{"string to double Infinity", "-Infinity", StringType, DoubleType, math.Inf(-1), false},
		{"string to decimal", "1.005", StringType, d42, dec("1.01"), false},
		{"string to decimal bad", "abc", StringType, d42, nil, true},
		{"string to boolean", "TRUE", StringType, BooleanType, true, false},
		{"string to boolean other", "yes", StringType, BooleanType, false, false},
		{"boolean to string", true, BooleanType, StringType, "true", false},
		{"int to string", int32(-7), IntType, StringType, "-7", false},
		{"double to string", 1e10, DoubleType, StringType, "1.0E10", false},
		{"decimal to string keeps scale", dec("1.5"), d42, StringType, "1.50", false},
		{"time to string", Time(5000), TimeType, StringType, "00:00:05", false},
		{"timestamp to string", Timestamp(10), TimestampType, StringType, "1970-01-01T00:00:00.010", false},
		{"date to string", Date(-1), DateType, StringType, "1969-12-31", false},
		{"string to date", "2022-06-14", StringType, DateType, Date(19157), false},
		{"string to date bad", "2022-6-14", StringType, DateType, nil, true},
		{"string to time", "09:16:00", StringType, TimeType, Time(33360000), false},
		{"string to time millis", "09:16:00.5", StringType, TimeType, Time(33360500), false},
		{"string to timestamp", "2022-06-14", StringType, TimestampType, Timestamp(1655164800000), false},
		{"string to timestamp zone", "2017-11-17T04:53:45+01:00", StringType, TimestampType, Timestamp(1510890825000), false},
		{"string to timestamp millis", "1970-01-01T00:00:00.010", StringType, TimestampType, Timestamp(10), false},
		{"timestamp to date", Timestamp(-1), TimestampType, DateType, Date(-1), false},
		{"timestamp to time", Timestamp(-1), TimestampType, TimeType, Time(86399999), false},
		{"date to timestamp", Date(1), DateType, TimestampType, Timestamp(86400000), false},
		{"bytes to string unsupported", []byte("a"), BytesType, StringType, nil, true},
		{"bool to int unsupported", true, BooleanType, IntType, nil, true},
	}
	for _, c := range cases {
		got, err := Cast(c.v, c.from, c.to)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", c.name, err, c.wantErr)
			continue
		}
		if c.wantErr {
			continue
		}
		if !valuesEqual(got, c.want) {
			t.Errorf("%s: Cast = %#v, want %#v", c.name, got, c.want)
		}
	}
}

// valuesEqual is strict equality for tests: same Go type, decimals compared exactly.
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.(decimal.Decimal); ok {
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y) && x.String() == y.String()
	}
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	}
	switch a.(type) {
	case []any, *Map, *Struct, []byte:
		return FormatValue(a, nil) == FormatValue(b, nil)
	}
	return a == b
}

func TestCastContainers(t *testing.T) {
	from := ArrayOf(IntType)
	got, err := Cast([]any{int32(1), nil}, from, ArrayOf(StringType))
	if err != nil || FormatValue(got, ArrayOf(StringType)) != "[1, null]" {
		t.Fatalf("array cast = %v, %v", got, err)
	}
	m := &Map{Keys: []any{"a"}, Vals: []any{int32(1)}}
	got, err = Cast(m, MapOf(StringType, IntType), MapOf(StringType, DoubleType))
	if err != nil || FormatValue(got, nil) != "{a=1.0}" {
		t.Fatalf("map cast = %v, %v", got, err)
	}
	st := StructOf(Field{"A", IntType}, Field{"B", StringType})
	s := &Struct{Names: []string{"A", "B"}, Vals: []any{int32(1), "x"}}
	to := StructOf(Field{"B", StringType}, Field{"C", IntType}, Field{"A", BigintType})
	got, err = Cast(s, st, to)
	if err != nil {
		t.Fatal(err)
	}
	gs := got.(*Struct)
	if gs.Vals[0] != "x" || gs.Vals[1] != nil || gs.Vals[2] != int64(1) {
		t.Fatalf("struct cast = %#v", gs.Vals)
	}
}

func TestCanCast(t *testing.T) {
	yes := [][2]*Type{{IntType, StringType}, {StringType, DateType}, {TimestampType, TimeType}, {DateType, TimestampType},
		{DoubleType, DecimalOf(2, 1)}, {nil, BytesType}, {ArrayOf(IntType), ArrayOf(StringType)}, {StringType, BooleanType}}
	no := [][2]*Type{{BytesType, StringType}, {BooleanType, IntType}, {TimeType, TimestampType}, {DateType, TimeType},
		{StringType, BytesType}, {ArrayOf(IntType), MapOf(StringType, IntType)}, {IntType, DateType}}
	for _, c := range yes {
		if !CanCast(c[0], c[1]) {
			t.Errorf("CanCast(%s, %s) = false", c[0], c[1])
		}
	}
	for _, c := range no {
		if CanCast(c[0], c[1]) {
			t.Errorf("CanCast(%s, %s) = true", c[0], c[1])
		}
	}
}

func TestImplicitAndCommon(t *testing.T) {
	imp := []struct {
		from, to *Type
		want     bool
	}{
		{IntType, BigintType, true}, {IntType, DoubleType, true}, {BigintType, IntType, false},
		{IntType, DecimalOf(10, 0), true}, {IntType, DecimalOf(9, 0), false}, {BigintType, DecimalOf(20, 1), true},
		{DecimalOf(4, 2), DecimalOf(5, 3), true}, {DecimalOf(4, 2), DecimalOf(4, 3), false}, {DecimalOf(4, 2), DoubleType, true},
		{DoubleType, DecimalOf(38, 10), false}, {StringType, DateType, false}, {nil, IntType, true},
		{ArrayOf(IntType), ArrayOf(BigintType), true},
	}
	for _, c := range imp {
		if got := CanImplicitlyCast(c.from, c.to); got != c.want {
			t.Errorf("CanImplicitlyCast(%s, %s) = %v", c.from, c.to, got)
		}
	}
	common := []struct {
		in   []*Type
		want string
	}{
		{[]*Type{IntType, BigintType}, "BIGINT"},
		{[]*Type{IntType, nil, DecimalOf(4, 2)}, "DECIMAL(12, 2)"},
		{[]*Type{DecimalOf(9, 2), DecimalOf(7, 6)}, "DECIMAL(13, 6)"},
		{[]*Type{BigintType, DecimalOf(4, 2), DoubleType}, "DOUBLE"},
		{[]*Type{ArrayOf(IntType), ArrayOf(BigintType)}, "ARRAY<BIGINT>"},
		{[]*Type{MapOf(StringType, IntType), MapOf(StringType, DoubleType)}, "MAP<STRING, DOUBLE>"},
		{[]*Type{nil, nil}, "NULL"},
	}
	for _, c := range common {
		got, err := CommonType(c.in...)
		if err != nil || got.String() != c.want {
			t.Errorf("CommonType(%v) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	if _, err := CommonType(IntType, StringType); err == nil {
		t.Error("CommonType(INT, STRING) should fail")
	}
	if _, err := CommonType(StructOf(Field{"A", IntType}), StructOf(Field{"B", IntType})); err == nil {
		t.Error("CommonType of structs with different fields should fail")
	}
}

func BenchmarkCast(b *testing.B) {
	f, _ := CastFunc(IntType, BigintType)
	g, _ := CastFunc(StringType, IntType)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = f(int32(i))
		_, _ = g("12345")
	}
}

func BenchmarkCastDecimal(b *testing.B) {
	f, _ := CastFunc(DoubleType, DecimalOf(10, 2))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = f(1234.5678)
	}
}
