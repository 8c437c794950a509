package types

import (
	"math"
	"testing"
)

func TestArithType(t *testing.T) {
	cases := []struct {
		op   string
		l, r *Type
		want string
	}{
		{"+", IntType, IntType, "INTEGER"},
		{"+", IntType, BigintType, "BIGINT"},
		{"*", BigintType, DoubleType, "DOUBLE"},
		{"+", DecimalOf(4, 2), DecimalOf(4, 2), "DECIMAL(5, 2)"},
		{"-", DecimalOf(4, 2), DecimalOf(5, 3), "DECIMAL(6, 3)"},
		{"+", DecimalOf(4, 2), IntType, "DECIMAL(13, 2)"},
		{"*", DecimalOf(4, 2), DecimalOf(4, 2), "DECIMAL(9, 4)"},
		{"/", DecimalOf(4, 2), DecimalOf(4, 2), "DECIMAL(11, 7)"},
		{"/", DecimalOf(10, 0), DecimalOf(4, 2), "DECIMAL(18, 6)"},
		{"%", DecimalOf(4, 2), DecimalOf(4, 2), "DECIMAL(4, 2)"},
		{"%", DecimalOf(7, 5), DecimalOf(3, 0), "DECIMAL(7, 5)"},
		{"+", DecimalOf(4, 2), DoubleType, "DOUBLE"},
		{"+", StringType, StringType, "STRING"},
		{"||", StringType, StringType, "STRING"},
	}
	for _, c := range cases {
		got, err := ArithType(c.op, c.l, c.r)
		if err != nil || got.String() != c.want {
			t.Errorf("ArithType(%s %s %s) = %v, %v; want %s", c.l, c.op, c.r, got, err, c.want)
		}
	}
	for _, bad := range [][2]*Type{{StringType, IntType}, {BooleanType, IntType}, {nil, IntType}, {DateType, IntType}} {
		if _, err := ArithType("+", bad[0], bad[1]); err == nil {
			t.Errorf("ArithType(%s + %s) should fail", bad[0], bad[1])
		}
	}
	if _, err := ArithType("-", StringType, StringType); err == nil {
		t.Error("STRING - STRING should fail")
	}
}

func TestArith(t *testing.T) {
	d42 := DecimalOf(4, 2)
	cases := []struct {
		op   string
		l, r any
		lt   *Type
		rt   *Type
		want any
	}{
		{"+", int32(math.MaxInt32), int32(1), IntType, IntType, int32(math.MinInt32)},
		{"*", int64(math.MaxInt64), int64(2), BigintType, BigintType, int64(-2)},
		{"/", int32(7), int32(-2), IntType, IntType, int32(-3)},
		{"%", int32(-7), int32(2), IntType, IntType, int32(-1)},
		{"/", int32(1), int32(0), IntType, IntType, nil},
		{"%", int64(1), int64(0), BigintType, BigintType, nil},
		{"/", int32(math.MinInt32), int32(-1), IntType, IntType, int32(math.MinInt32)},
		{"/", 1.0, 0.0, DoubleType, DoubleType, math.Inf(1)},
		{"%", 5.5, 2.0, DoubleType, DoubleType, 1.5},
		{"+", int32(1), int64(2), IntType, BigintType, int64(3)},
		{"+", int32(1), 0.5, IntType, DoubleType, 1.5},
		{"+", dec("10.01"), dec("5.1"), d42, d42, dec("15.11")},
		{"-", dec("10.1"), dec("5.1"), d42, d42, dec("5.0")},
		{"*", dec("10.1"), dec("-2.0"), d42, d42, dec("-20.2")},
		{"/", dec("10.1"), dec("2.0"), d42, d42, dec("5.05")},
		{"/", dec("10.1"), dec("0.0"), d42, d42, nil},
		{"/", dec("1"), dec("3"), d42, d42, dec("0.3333333")},
		{"/", dec("2"), dec("3"), d42, d42, dec("0.6666667")},
		{"%", dec("10.1"), dec("-2.0"), d42, d42, dec("0.1")},
		{"%", dec("-10.1"), dec("2.0"), d42, d42, dec("-0.1")},
		{"%", dec("10.1"), dec("0"), d42, d42, nil},
		{"+", dec("10.01"), int32(5), d42, IntType, dec("15.01")},
		{"+", dec("10.01"), 5.1, d42, DoubleType, 15.11},
		{"+", "a", "b", StringType, StringType, "ab"},
		{"+", nil, int32(1), IntType, IntType, nil},
	}
	for _, c := range cases {
		rt, err := ArithType(c.op, c.lt, c.rt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Arith(c.op, c.l, c.r, c.lt, c.rt, rt)
		if err != nil {
			t.Errorf("Arith(%v %s %v): %v", c.l, c.op, c.r, err)
			continue
		}
		ok := valuesEqual(got, c.want)
		if !ok && !decimalValueEqual(got, c.want) {
			t.Errorf("Arith(%v %s %v) = %#v, want %#v", c.l, c.op, c.r, got, c.want)
		}
		f, frt, err := ArithFunc(c.op, c.lt, c.rt)
		if err != nil || !frt.Equal(rt) {
			t.Fatalf("ArithFunc: %v %v", frt, err)
		}
		got2, err := f(c.l, c.r)
		if err != nil || !(valuesEqual(got2, c.want) || decimalValueEqual(got2, c.want)) {
			t.Errorf("ArithFunc(%v %s %v) = %#v, %v want %#v", c.l, c.op, c.r, got2, err, c.want)
		}
	}
}

// decimalValueEqual compares decimals by value (the scale lives in the type).
func decimalValueEqual(a, b any) bool {
	x, ok1 := ToDecimal(a)
	y, ok2 := ToDecimal(b)
	_, f1 := a.(float64)
	_, f2 := b.(float64)
	return ok1 && ok2 && !f1 && !f2 && x.Equal(y)
}

func TestArithDecimalOverflow(t *testing.T) {
	// DECIMAL(2,1) * DECIMAL(2,1) is DECIMAL(5,2): 9.9*9.9 fits; result must round to scale.
	rt, _ := ArithType("*", DecimalOf(2, 1), DecimalOf(2, 1))
	got, err := Arith("*", dec("9.9"), dec("9.9"), DecimalOf(2, 1), DecimalOf(2, 1), rt)
	if err != nil || !decimalValueEqual(got, dec("98.01")) {
		t.Fatalf("9.9*9.9 = %v, %v", got, err)
	}
	// A value that does not fit its declared type is an error, not silent truncation.
	if _, err := Arith("+", dec("999"), dec("1"), DecimalOf(3, 0), DecimalOf(3, 0), DecimalOf(3, 0)); err == nil {
		t.Fatal("overflow not reported")
	}
}

func TestNegate(t *testing.T) {
	cases := []struct{ in, want any }{
		{int32(math.MinInt32), int32(math.MinInt32)}, {int64(5), int64(-5)}, {1.5, -1.5},
		{dec("10.12345"), dec("-10.12345")}, {nil, nil},
	}
	for _, c := range cases {
		got, err := Negate(c.in)
		if err != nil || !valuesEqual(got, c.want) {
			t.Errorf("Negate(%v) = %v, %v", c.in, got, err)
		}
	}
	if _, err := Negate("x"); err == nil {
		t.Error("Negate(string) should fail")
	}
}

func BenchmarkArithInt(b *testing.B) {
	f, _, _ := ArithFunc("+", IntType, BigintType)
	b.ReportAllocs()
	var x any = int32(7)
	var y any = int64(1000)
	for i := 0; i < b.N; i++ {
		_, _ = f(x, y)
	}
}

func BenchmarkArithDecimal(b *testing.B) {
	f, _, _ := ArithFunc("*", DecimalOf(10, 2), DecimalOf(10, 2))
	var x any = dec("1234.56")
	var y any = dec("7.25")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = f(x, y)
	}
}
