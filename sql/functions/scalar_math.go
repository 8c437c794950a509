package functions

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// Numeric scalar functions (KSQL_FACTS part D, "Scalar – numeric"). Java's java.lang.Math is
// the reference: Go's math package agrees with it on the special values the corpus checks
// (NaN for sqrt(-1), -Infinity for ln(0), ...).

const catMath = "MATHEMATICAL"

var (
	tInt     = types.IntType
	tBigint  = types.BigintType
	tDouble  = types.DoubleType
	tString  = types.StringType
	tBool    = types.BooleanType
	tBytes   = types.BytesType
	tDate    = types.DateType
	tTime    = types.TimeType
	tTS      = types.TimestampType
	numTypes = []*types.Type{tInt, tBigint, tDouble}
)

// toF converts INT/BIGINT/DOUBLE/DECIMAL to float64.
func toF(v any) float64 {
	f, _ := types.ToFloat(v)
	return f
}

// doubleFn registers f(x) over INT, BIGINT and DOUBLE returning DOUBLE (the shape of most of
// java.lang.Math that ksqlDB exposes).
func doubleFn(name, desc string, f func(float64) float64) {
	var ovs []*overload
	for _, t := range numTypes {
		ovs = append(ovs, ov(tDouble, p("value", t)).strict().fn(func(a []any) (any, error) {
			return f(toF(a[0])), nil
		}))
	}
	registerScalar(name, catMath, desc, ovs...)
}

func doubleFn2(name, desc, a1, a2 string, f func(x, y float64) float64) {
	var ovs []*overload
	for _, t := range numTypes {
		ovs = append(ovs, ov(tDouble, p(a1, t), p(a2, t)).strict().fn(func(a []any) (any, error) {
			return f(toF(a[0]), toF(a[1])), nil
		}))
	}
	registerScalar(name, catMath, desc, ovs...)
}

// decimalUnscaled is DECIMAL(p - s, 0): the type of ROUND/TRUNC of a DECIMAL without a scale.
func decimalUnscaled(args []*types.Type) (*types.Type, error) {
	d := args[0]
	return types.DecimalOf(max(d.Precision-d.Scale, 1), 0), nil
}

// roundJava rounds d to n places the way ksqlDB's Round does: HALF_UP for positive values and
// HALF_DOWN otherwise, which together reproduce Math.round's "ties toward +Infinity".
func roundJava(d decimal.Decimal, n int32) decimal.Decimal {
	if d.Sign() > 0 {
		return d.Round(n)
	}
	neg := d.Neg()
	shifted := neg.Shift(n)
	frac := shifted.Sub(shifted.Truncate(0))
	if frac.Equal(decimal.NewFromFloat(0.5)) {
		return truncDecimal(neg, n).Neg()
	}
	return neg.Round(n).Neg()
}

// truncDecimal drops digits beyond n places (n may be negative: tens, hundreds...), toward 0.
func truncDecimal(d decimal.Decimal, n int32) decimal.Decimal {
	return d.Shift(n).Truncate(0).Shift(-n)
}

func decimalFromDouble(f float64) (decimal.Decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal.Decimal{}, false
	}
	return decimal.NewFromFloat(f), true
}

func init() {
	registerScalar("ABS", catMath, "Returns the absolute value of its argument. If the argument is not negative, the argument is returned. If the argument is negative, the negation of the argument is returned.",
		ov(tInt, p("num", tInt)).strict().fn(func(a []any) (any, error) {
			x := a[0].(int32)
			if x < 0 {
				return -x, nil // Math.abs(Integer.MIN_VALUE) stays negative, as here
			}
			return x, nil
		}),
		ov(tBigint, p("num", tBigint)).strict().fn(func(a []any) (any, error) {
			x := a[0].(int64)
			if x < 0 {
				return -x, nil
			}
			return x, nil
		}),
		ov(tDouble, p("num", tDouble)).strict().fn(func(a []any) (any, error) { return math.Abs(a[0].(float64)), nil }),
		ov(nil, p("num", anyDecimal)).retFn(retSame(0)).strict().fn(func(a []any) (any, error) {
			return a[0].(decimal.Decimal).Abs(), nil
		}),
	)

	doubleFn("ACOS", "Returns the inverse (arc) cosine of an INT, BIGINT, or DOUBLE value. The returned value is in radians.", math.Acos)
	doubleFn("ASIN", "Returns the inverse (arc) sine of an INT, BIGINT, or DOUBLE value. The returned value is in radians.", math.Asin)
	doubleFn("ATAN", "Returns the inverse (arc) tangent of an INT, BIGINT, or DOUBLE value. The returned value is in radians.", math.Atan)
	doubleFn2("ATAN2", "Returns the inverse (arc) tangent of y / x. This is equivalent to the angle theta when Cartesian coordinates (x, y) are converted to polar coordinates (radius, theta). The returned value is in radians.",
		"y", "x", math.Atan2)
	doubleFn("CBRT", "Returns the cube root of an INT, BIGINT, or DOUBLE value.", math.Cbrt)
	doubleFn("COS", "Returns the cosine of an INT, BIGINT, or DOUBLE value. The value is in radians.", math.Cos)
	doubleFn("COSH", "Returns the hyperbolic cosine of an INT, BIGINT, or DOUBLE value.", math.Cosh)
	doubleFn("COT", "Returns the cotangent of an INT, BIGINT, or DOUBLE value. The value is in radians.",
		func(x float64) float64 { return 1.0 / math.Tan(x) })
	doubleFn("DEGREES", "Converts an INT, BIGINT, or DOUBLE value in radians to degrees.",
		func(x float64) float64 { return x * (180.0 / math.Pi) }) // Math.toDegrees multiplies by a constant
	doubleFn("EXP", "Returns the exponential of an INT, BIGINT, or DOUBLE value, i.e. Euler's number e raised to the power of the value.", math.Exp)
	doubleFn("LN", "Returns the natural logarithm of an INT, BIGINT, or DOUBLE value.", math.Log)
	doubleFn("RADIANS", "Converts an INT, BIGINT, or DOUBLE value in degrees to radians.",
		func(x float64) float64 { return x * (math.Pi / 180.0) })
	doubleFn("SIN", "Returns the sine of an INT, BIGINT, or DOUBLE value. The value is in radians.", math.Sin)
	doubleFn("SINH", "Returns the hyperbolic sine of an INT, BIGINT, or DOUBLE value.", math.Sinh)
	doubleFn("SQRT", "Returns the positive square root of an INT, BIGINT, or DOUBLE value.", math.Sqrt)
	doubleFn("TAN", "Returns the tangent of an INT, BIGINT, or DOUBLE value. The value is in radians.", math.Tan)
	doubleFn("TANH", "Returns the hyperbolic tangent of an INT, BIGINT, or DOUBLE value.", math.Tanh)

	ceilFloor := func(name, desc string, f func(float64) float64, dround func(decimal.Decimal) decimal.Decimal) {
		registerScalar(name, catMath, desc,
			ov(tInt, p("num", tInt)).strict().fn(func(a []any) (any, error) { return a[0], nil }),
			ov(tBigint, p("num", tBigint)).strict().fn(func(a []any) (any, error) { return a[0], nil }),
			ov(tDouble, p("num", tDouble)).strict().fn(func(a []any) (any, error) { return f(a[0].(float64)), nil }),
			// The DECIMAL keeps its declared type; the value loses its fraction.
			ov(nil, p("num", anyDecimal)).retFn(retSame(0)).strict().fn(func(a []any) (any, error) {
				return dround(a[0].(decimal.Decimal)), nil
			}),
		)
	}
	ceilFloor("CEIL", "Returns the smallest integer value that is greater than or equal to the argument.", math.Ceil,
		func(d decimal.Decimal) decimal.Decimal { return d.Ceil() })
	ceilFloor("FLOOR", "Returns the largest integer value that is less than or equal to the argument.", math.Floor,
		func(d decimal.Decimal) decimal.Decimal { return d.Floor() })

	var logOvs []*overload
	for _, t := range numTypes {
		// One argument is the natural logarithm, whatever the docs say: math.json "log-base-10"
		// expects LOG(13) = 2.5649493574615367 = ln 13.
		logOvs = append(logOvs, ov(tDouble, p("value", t)).strict().describe("Returns the natural logarithm of the value.").
			fn(func(a []any) (any, error) { return math.Log(toF(a[0])), nil }))
	}
	for _, t := range numTypes {
		logOvs = append(logOvs, ov(tDouble, p("base", t), p("value", t)).strict().describe("Returns the logarithm of the value in the given base.").
			fn(func(a []any) (any, error) {
				b, v := toF(a[0]), toF(a[1])
				// ksqlDB rejects bases that make the quotient meaningless (log.json: base 0, 1,
				// negative) and negative values with NaN rather than ±0/±Infinity.
				if b <= 0 || b == 1 || v < 0 || math.IsNaN(b) || math.IsNaN(v) {
					return math.NaN(), nil
				}
				return math.Log(v) / math.Log(b), nil
			}))
	}
	registerScalar("LOG", catMath, "Returns the logarithm of a value: the natural logarithm with one argument, or the logarithm in the given base.", logOvs...)

	registerScalar("PI", catMath, "Returns an approximate value of pi.",
		ov(tDouble).fn(func([]any) (any, error) { return math.Pi, nil }))

	doubleFn2("POWER", "Returns the value of the first argument raised to the power of the second argument.", "base", "exponent", math.Pow)

	registerScalar("RANDOM", catMath, "Returns a random DOUBLE value between 0.0 and 1.0.",
		ov(tDouble).fn(func([]any) (any, error) { return rand.Float64(), nil }))

	registerScalar("ROUND", catMath, "Round a value to the number of decimal places as specified by scale to the right of the decimal point. If scale is negative then value is rounded to the right of the decimal point. Numbers equidistant to the nearest value are rounded up (in the positive direction). If the number of decimal places is not provided it defaults to zero.",
		ov(tBigint, p("val", tInt)).strict().fn(func(a []any) (any, error) { return int64(a[0].(int32)), nil }),
		ov(tBigint, p("val", tBigint)).strict().fn(func(a []any) (any, error) { return a[0], nil }),
		ov(tBigint, p("val", tDouble)).strict().fn(func(a []any) (any, error) { return types.JavaRound(a[0].(float64)), nil }),
		ov(tDouble, p("val", tDouble), p("decimalPlaces", tInt)).strict().fn(func(a []any) (any, error) {
			d, ok := decimalFromDouble(a[0].(float64))
			if !ok {
				return a[0], nil
			}
			f, _ := roundJava(d, a[1].(int32)).Float64()
			return f, nil
		}),
		ov(nil, p("val", anyDecimal)).retFn(decimalUnscaled).strict().fn(func(a []any) (any, error) {
			return roundJava(a[0].(decimal.Decimal), 0), nil
		}),
		ov(nil, p("val", anyDecimal), p("decimalPlaces", tInt)).retFn(retSame(0)).strict().fn(func(a []any) (any, error) {
			return roundJava(a[0].(decimal.Decimal), a[1].(int32)), nil
		}),
	)

	registerScalar("SIGN", catMath, "Returns the sign of an INT, BIGINT, DOUBLE or DECIMAL value as an INT: -1 if the argument is negative, 0 if it is zero, 1 if it is positive.",
		ov(tInt, p("value", tInt)).strict().fn(func(a []any) (any, error) { return sign64(int64(a[0].(int32))), nil }),
		ov(tInt, p("value", tBigint)).strict().fn(func(a []any) (any, error) { return sign64(a[0].(int64)), nil }),
		ov(tInt, p("value", tDouble)).strict().fn(func(a []any) (any, error) {
			x := a[0].(float64)
			switch {
			case x > 0:
				return int32(1), nil
			case x < 0:
				return int32(-1), nil
			}
			return int32(0), nil // (int) Math.signum(NaN) is 0 too
		}),
		ov(tInt, p("value", anyDecimal)).strict().fn(func(a []any) (any, error) { return int32(a[0].(decimal.Decimal).Sign()), nil }),
	)

	registerScalar("TRUNC", catMath, "Truncates a value to the number of decimal places as specified by scale to the right of the decimal point. If scale is negative then value is truncated to the right of the decimal point. If the number of decimal places is not provided it defaults to zero.",
		ov(tBigint, p("val", tInt)).strict().fn(func(a []any) (any, error) { return int64(a[0].(int32)), nil }),
		ov(tBigint, p("val", tBigint)).strict().fn(func(a []any) (any, error) { return a[0], nil }),
		ov(tBigint, p("val", tDouble)).strict().fn(func(a []any) (any, error) {
			v, _ := types.Cast(a[0], tDouble, tBigint) // (long) cast: toward zero, saturating
			return v, nil
		}),
		ov(tDouble, p("val", tDouble), p("decimalPlaces", tInt)).strict().fn(func(a []any) (any, error) {
			d, ok := decimalFromDouble(a[0].(float64))
			if !ok {
				return a[0], nil
			}
			f, _ := truncDecimal(d, a[1].(int32)).Float64()
			return f, nil
		}),
		ov(nil, p("val", anyDecimal)).retFn(decimalUnscaled).strict().fn(func(a []any) (any, error) {
			return truncDecimal(a[0].(decimal.Decimal), 0), nil
		}),
		ov(nil, p("val", anyDecimal), p("decimalPlaces", tInt)).retFn(retSame(0)).strict().fn(func(a []any) (any, error) {
			return truncDecimal(a[0].(decimal.Decimal), a[1].(int32)), nil
		}),
	)

	greatestLeast("GREATEST", "Returns the highest non-null value among a variable number of comparable columns. If comparing columns of different numerical types, use CAST to first cast them to be of the same type.", 1)
	greatestLeast("LEAST", "Returns the lowest non-null value among a variable number of comparable columns. If comparing columns of different numerical types, use CAST to first cast them to be of the same type.", -1)

	registerScalar("GEO_DISTANCE", catMath, "Compute the distance between two points on the surface of the earth, according to the Haversine formula for \"great circle distance\". The 5th, optional, parameter specifies the unit of measure: 'KM' (the default) or 'MI'.",
		ov(tDouble, p("lat1", tDouble), p("lon1", tDouble), p("lat2", tDouble), p("lon2", tDouble)).strict().fn(func(a []any) (any, error) {
			return geoDistance(a[0].(float64), a[1].(float64), a[2].(float64), a[3].(float64), "KM")
		}),
		ov(tDouble, p("lat1", tDouble), p("lon1", tDouble), p("lat2", tDouble), p("lon2", tDouble), p("units", tString)).fn(func(a []any) (any, error) {
			for _, x := range a[:4] {
				if x == nil {
					return nil, nil
				}
			}
			unit := "KM"
			if a[4] != nil {
				unit = a[4].(string)
			}
			return geoDistance(a[0].(float64), a[1].(float64), a[2].(float64), a[3].(float64), unit)
		}),
	)

	registerScalar("GENERATE_SERIES", "ARRAY", "Constructs an array of values between start and end (inclusive), stepping by step (default 1 or -1).",
		ov(types.ArrayOf(tInt), p("start", tInt), p("end", tInt)).strict().fn(func(a []any) (any, error) {
			s, e := int64(a[0].(int32)), int64(a[1].(int32))
			return series(s, e, defaultStep(s, e), func(x int64) any { return int32(x) })
		}),
		ov(types.ArrayOf(tInt), p("start", tInt), p("end", tInt), p("step", tInt)).strict().fn(func(a []any) (any, error) {
			return series(int64(a[0].(int32)), int64(a[1].(int32)), int64(a[2].(int32)), func(x int64) any { return int32(x) })
		}),
		ov(types.ArrayOf(tBigint), p("start", tBigint), p("end", tBigint)).strict().fn(func(a []any) (any, error) {
			s, e := a[0].(int64), a[1].(int64)
			return series(s, e, defaultStep(s, e), func(x int64) any { return x })
		}),
		ov(types.ArrayOf(tBigint), p("start", tBigint), p("end", tBigint), p("step", tInt)).strict().fn(func(a []any) (any, error) {
			return series(a[0].(int64), a[1].(int64), int64(a[2].(int32)), func(x int64) any { return x })
		}),
	)

	registerScalar("AS_VALUE", "OTHER", "Used exclusively in the projection of a query to allow a key column to be copied into the value schema. Has no effect if used anywhere else.",
		ov(nil, p("source", tT)).retFn(retSame(0)).fn(func(a []any) (any, error) { return a[0], nil }))
}

func sign64(x int64) int32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func defaultStep(s, e int64) int64 {
	if e < s {
		return -1
	}
	return 1
}

// maxSeries bounds GENERATE_SERIES so that a typo cannot exhaust memory.
const maxSeries = 10_000_000

func series(start, end, step int64, box func(int64) any) (any, error) {
	if step == 0 {
		return nil, fmt.Errorf("GENERATE_SERIES step cannot be zero")
	}
	if (end-start > 0 && step < 0) || (end-start < 0 && step > 0) {
		return nil, fmt.Errorf("GENERATE_SERIES step has wrong sign")
	}
	n := (end-start)/step + 1
	if n > maxSeries || n < 0 {
		return nil, fmt.Errorf("GENERATE_SERIES would produce %d values, more than the limit of %d", n, maxSeries)
	}
	out := make([]any, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, box(start+i*step))
	}
	return out, nil
}

func geoDistance(lat1, lon1, lat2, lon2 float64, unit string) (any, error) {
	var radius float64
	switch strings.ToUpper(strings.TrimSpace(unit)) {
	case "KM", "KILOMETER", "KILOMETERS", "KILOMETRE", "KILOMETRES":
		radius = 6371
	case "MI", "MILE", "MILES":
		radius = 3959
	default:
		return nil, fmt.Errorf("GeoDistance function fourth parameter must be 'MI', 'MILES', 'KM', or 'KILOMETERS'. Values are case-insensitive.")
	}
	if lat1 < -90 || lat1 > 90 || lat2 < -90 || lat2 > 90 {
		return nil, fmt.Errorf("valid latitude values for GeoDistance function are in the range of -90 to 90 decimal degrees")
	}
	if lon1 < -180 || lon1 > 180 || lon2 < -180 || lon2 > 180 {
		return nil, fmt.Errorf("valid longitude values for GeoDistance function are in the range of -180 to +180 decimal degrees")
	}
	// x*Pi/180 (not x*(Pi/180)) reproduces the corpus's last digits best; Go's sin/cos/asin
	// may still differ from the JVM's in the last ulp.
	rad := func(x float64) float64 { return x * math.Pi / 180 }
	dLat := rad(lat2 - lat1)
	dLon := rad(lon2 - lon1)
	rl1, rl2 := rad(lat1), rad(lat2)
	hl, ho := math.Sin(dLat/2), math.Sin(dLon/2)
	a := hl*hl + ho*ho*math.Cos(rl1)*math.Cos(rl2)
	return 2 * math.Asin(math.Sqrt(a)) * radius, nil
}

// greatestLeast registers GREATEST or LEAST: one variadic overload per comparable type, as
// ksqlDB declares them, so that mixed INT/BIGINT arguments are ambiguous exactly as there.
func greatestLeast(name, desc string, dir int) {
	pick := func(a []any) (any, error) {
		var best any
		for _, v := range a {
			if v == nil {
				continue
			}
			if best == nil || compareVals(v, best)*dir > 0 {
				best = v
			}
		}
		return best, nil
	}
	var ovs []*overload
	for _, t := range []*types.Type{tInt, tBigint, tDouble, tString, tBytes, tDate, tTime, tTS} {
		ovs = append(ovs, ov(t, p("val", t), p("vals", t)).vararg().fn(pick))
	}
	dec := ov(nil, p("val", anyDecimal), p("vals", anyDecimal)).vararg().retFn(func(args []*types.Type) (*types.Type, error) {
		for _, a := range args {
			if a != nil {
				return a, nil
			}
		}
		return nil, fmt.Errorf("no DECIMAL argument")
	}).fn(pick)
	dec.widenDecimals = true
	ovs = append(ovs, dec)
	registerScalar(name, catMath, desc, ovs...)
}

// compareVals orders two non-NULL values of the same SQL type.
func compareVals(a, b any) int {
	if x, ok := a.([]byte); ok {
		if y, ok := b.([]byte); ok {
			return bytes.Compare(x, y)
		}
	}
	c, _ := types.Compare(a, b)
	return c
}
