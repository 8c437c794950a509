package types

import (
	"testing"
)

func TestFormatValue(t *testing.T) {
	st := StructOf(Field{"A", IntType}, Field{"B", StringType}, Field{"C", DoubleType})
	cases := []struct {
		v    any
		t    *Type
		want string
	}{
		{nil, IntType, "null"},
		{true, BooleanType, "true"},
		{int64(-4294967297), BigintType, "-4294967297"},
		{1.23, DoubleType, "1.23"},
		{0.0, DoubleType, "0.0"},
		{dec("123.45"), DecimalOf(5, 2), "123.45"},
		{dec("10"), DecimalOf(6, 4), "10.0000"},
		{dec("0.00000001"), DecimalOf(10, 8), "0.00000001"},
		{dec("12345678987654320"), DecimalOf(33, 16), "12345678987654320.0000000000000000"},
		{[]byte("hi"), BytesType, "aGk="},
		{Date(18993), DateType, "2022-01-01"},
		{Time(60220000), TimeType, "16:43:40"},
		{Time(60220123), TimeType, "16:43:40.123"},
		{Timestamp(60220000000), TimestampType, "1971-11-28T23:46:40.000"},
		{Timestamp(-1), TimestampType, "1969-12-31T23:59:59.999"},
		{[]any{true, nil, false}, ArrayOf(BooleanType), "[true, null, false]"},
		{[]any{1.0, 2.5}, ArrayOf(DoubleType), "[1.0, 2.5]"},
		{&Map{Keys: []any{"a", "b"}, Vals: []any{int32(1), nil}}, MapOf(StringType, IntType), "{a=1, b=null}"},
		{&Struct{Names: []string{"A", "B", "C"}, Vals: []any{int32(1), nil, 2.0}}, st, "Struct{A=1,C=2.0}"},
	}
	for _, c := range cases {
		if got := FormatValue(c.v, c.t); got != c.want {
			t.Errorf("FormatValue(%#v, %s) = %q, want %q", c.v, c.t, got, c.want)
		}
	}
}

func TestParseDecimalWithScale(t *testing.T) {
	cases := []struct {
		in   string
		p, s int
		want string
		err  bool
	}{
		{"10.1234512345123451234", 21, 19, "10.1234512345123451234", false},
		{" 1.5 ", 4, 2, "1.50", false},
		{"1.005", 4, 2, "1.01", false},
		{"-1.005", 4, 2, "-1.01", false},
		{"1e2", 5, 2, "100.00", false},
		{"100", 4, 2, "", true},
		{"abc", 4, 2, "", true},
		{"", 4, 2, "", true},
	}
	for _, c := range cases {
		d, err := ParseDecimalWithScale(c.in, c.p, c.s)
		if (err != nil) != c.err {
			t.Errorf("ParseDecimalWithScale(%q): err %v", c.in, err)
			continue
		}
		if !c.err && DecimalString(d, c.s) != c.want {
			t.Errorf("ParseDecimalWithScale(%q) = %s, want %s", c.in, DecimalString(d, c.s), c.want)
		}
	}
}

func TestDecimalTypeOfLiteral(t *testing.T) {
	for in, want := range map[string]string{"1.5": "DECIMAL(2, 1)", "0.08": "DECIMAL(2, 2)", "12.50": "DECIMAL(4, 2)", "10": "DECIMAL(2, 0)", "-0.5": "DECIMAL(1, 1)"} {
		got, err := DecimalTypeOfLiteral(in)
		if err != nil || got.String() != want {
			t.Errorf("DecimalTypeOfLiteral(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

func TestParseTemporal(t *testing.T) {
	if d, err := ParseDate("1970-01-02"); err != nil || d != 1 {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"1970-01-32", "x", "1970-01-01T00:00"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) should fail", bad)
		}
	}
	for in, want := range map[string]Timestamp{
		"2017-11-17T04:53:45":      1510894425000,
		"2017-11-17T04:53":         1510894380000,
		"2017-11-17":               1510876800000,
		"2017-11":                  1509494400000,
		"2017-11-17T04:53:45Z":     1510894425000,
		"2017-11-17T04:53:45.5":    1510894425500,
		"2017-11-17T04:53:45-0100": 1510898025000,
		"2017-11-17T24":            1510963200000, // the end of the day: the 18th's midnight
		"2017-11-17T24:00":         1510963200000,
	} {
		if got, err := ParseTimestamp(in); err != nil || got != want {
			t.Errorf("ParseTimestamp(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2017-13-01", "2017-11-17T25:00", "2017-11-17T24:01", "abc", "2017-11-17T04:53:45.1234567891"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) should fail", bad)
		}
	}
}
