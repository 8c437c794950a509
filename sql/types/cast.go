package types

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Implicit DECIMAL widths of the integer types (ksqlDB's DecimalUtil.toSqlDecimal).
var (
	IntAsDecimal    = DecimalOf(10, 0)
	BigintAsDecimal = DecimalOf(19, 0)
)

// AsDecimalType returns the DECIMAL type an exact numeric type widens to: INT -> DECIMAL(10,0),
// BIGINT -> DECIMAL(19,0), DECIMAL -> itself; nil for other types.
func AsDecimalType(t *Type) *Type {
	if t == nil {
		return nil
	}
	switch t.Kind {
	case KindInt:
		return IntAsDecimal
	case KindBigint:
		return BigintAsDecimal
	case KindDecimal:
		return t
	}
	return nil
}

// CastError is returned when a value cannot be converted at run time (e.g. 'abc' to INT).
// ksqlDB logs such failures to the processing log and yields NULL; exec decides which.
type CastError struct {
	Value string
	From  *Type
	To    *Type
	Cause string
}

func (e *CastError) Error() string {
	msg := fmt.Sprintf("Cannot cast %s value '%s' to %s", e.From, e.Value, e.To)
	if e.Cause != "" {
		msg += ": " + e.Cause
	}
	return msg
}

// CanCast reports whether CAST(x AS to) is legal for x of type from (nil = NULL literal, which
// casts to anything). Rules of KSQL_FACTS part C: anything but BYTES to STRING; STRING to every
// primitive except BYTES; numerics among themselves; TIMESTAMP to DATE/TIME; DATE to
// TIMESTAMP; containers element-wise (STRUCT fields matched by name).
func CanCast(from, to *Type) bool {
	if from == nil || to == nil {
		return to != nil
	}
	if from.Equal(to) {
		return true
	}
	switch to.Kind {
	case KindString:
		return from.Kind != KindBytes && from.Kind != KindNamed
	case KindBoolean:
		return from.Kind == KindString
	case KindInt, KindBigint, KindDouble, KindDecimal:
		return from.IsNumeric() || from.Kind == KindString
	case KindDate:
		return from.Kind == KindString || from.Kind == KindTimestamp
	case KindTime:
		return from.Kind == KindString || from.Kind == KindTimestamp
	case KindTimestamp:
		return from.Kind == KindString || from.Kind == KindDate
	case KindBytes:
		return false
	case KindArray:
		return from.Kind == KindArray && CanCast(from.Elem, to.Elem)
	case KindMap:
		return from.Kind == KindMap && CanCast(from.Key, to.Key) && CanCast(from.Elem, to.Elem)
	case KindStruct:
		if from.Kind != KindStruct {
			return false
		}
		for _, f := range to.Fields {
			if i := from.FieldIndex(f.Name); i >= 0 && !CanCast(from.Fields[i].Type, f.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// CanImplicitlyCast reports whether a value of type from may be used where to is expected
// without an explicit CAST: identical types, NULL, numeric widening INT -> BIGINT -> DECIMAL ->
// DOUBLE (a DECIMAL target must hold the source's integer digits and scale), and containers
// whose elements widen.
func CanImplicitlyCast(from, to *Type) bool {
	if from == nil {
		return to != nil
	}
	if to == nil {
		return false
	}
	if from.Equal(to) {
		return true
	}
	switch to.Kind {
	case KindBigint:
		return from.Kind == KindInt
	case KindDecimal:
		fd := AsDecimalType(from)
		if fd == nil {
			return false
		}
		return fd.Scale <= to.Scale && fd.Precision-fd.Scale <= to.Precision-to.Scale
	case KindDouble:
		return from.Kind == KindInt || from.Kind == KindBigint || from.Kind == KindDecimal
	case KindArray:
		return from.Kind == KindArray && CanImplicitlyCast(from.Elem, to.Elem)
	case KindMap:
		return from.Kind == KindMap && CanImplicitlyCast(from.Key, to.Key) &&
			CanImplicitlyCast(from.Elem, to.Elem)
	case KindStruct:
		if from.Kind != KindStruct || len(from.Fields) != len(to.Fields) {
			return false
		}
		for i, f := range to.Fields {
			if from.Fields[i].Name != f.Name || !CanImplicitlyCast(from.Fields[i].Type, f.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// CommonType is the type every one of ts implicitly casts to: the result type of CASE
// branches, COALESCE/IFNULL arguments, IN lists and ARRAY/MAP constructor elements. nil entries
// (NULL literals) are skipped; if every entry is nil the result is nil with no error (the
// caller decides whether an all-NULL expression is legal).
func CommonType(ts ...*Type) (*Type, error) {
	var out *Type
	for _, t := range ts {
		if t == nil {
			continue
		}
		if out == nil {
			out = t
			continue
		}
		c, ok := commonPair(out, t)
		if !ok {
			return nil, fmt.Errorf("incompatible types: %s and %s", out, t)
		}
		out = c
	}
	return out, nil
}

func commonPair(a, b *Type) (*Type, bool) {
	if a.Equal(b) {
		return a, true
	}
	if a.IsNumeric() && b.IsNumeric() {
		switch {
		case a.Kind == KindDouble || b.Kind == KindDouble:
			return DoubleType, true
		case a.Kind == KindDecimal || b.Kind == KindDecimal:
			return WidenDecimal(AsDecimalType(a), AsDecimalType(b)), true
		case a.Kind == KindBigint || b.Kind == KindBigint:
			return BigintType, true
		}
		return IntType, true
	}
	if a.Kind != b.Kind {
		return nil, false
	}
	switch a.Kind {
	case KindArray:
		e, ok := commonPair(a.Elem, b.Elem)
		if !ok {
			return nil, false
		}
		return ArrayOf(e), true
	case KindMap:
		k, ok1 := commonPair(a.Key, b.Key)
		v, ok2 := commonPair(a.Elem, b.Elem)
		if !ok1 || !ok2 {
			return nil, false
		}
		return MapOf(k, v), true
	case KindStruct:
		if len(a.Fields) != len(b.Fields) {
			return nil, false
		}
		fs := make([]Field, len(a.Fields))
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name {
				return nil, false
			}
			ft, ok := commonPair(a.Fields[i].Type, b.Fields[i].Type)
			if !ok {
				return nil, false
			}
			fs[i] = Field{Name: a.Fields[i].Name, Type: ft}
		}
		return StructOf(fs...), true
	}
	return nil, false
}

// WidenDecimal is the smallest DECIMAL holding both a and b: max scale, max integer digits.
func WidenDecimal(a, b *Type) *Type {
	s := max(a.Scale, b.Scale)
	ints := max(a.Precision-a.Scale, b.Precision-b.Scale)
	return DecimalOf(ints+s, s)
}

// Cast converts v from type from to type to with ksqlDB's CAST semantics. NULL stays NULL.
// Conversions that cannot succeed for any value return an error as well; use CanCast at plan
// time to reject them early.
func Cast(v any, from, to *Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if from == nil || to == nil {
		return nil, fmt.Errorf("cast: missing type")
	}
	switch to.Kind {
	case KindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		if from.Kind == KindBytes {
			return nil, fmt.Errorf("Cast of BYTES to STRING is not supported")
		}
		return FormatValue(v, from), nil
	case KindBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return strings.EqualFold(strings.TrimSpace(x), "true"), nil
		}
	case KindInt:
		return castToInt(v, from, to)
	case KindBigint:
		return castToBigint(v, from, to)
	case KindDouble:
		return castToDouble(v, from, to)
	case KindDecimal:
		return castToDecimal(v, from, to)
	case KindBytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case KindDate:
		switch x := v.(type) {
		case Date:
			return x, nil
		case Timestamp:
			return Date(floorDiv(int64(x), msPerDay)), nil
		case string:
			d, err := ParseDate(x)
			if err != nil {
				return nil, &CastError{Value: x, From: from, To: to, Cause: err.Error()}
			}
			return d, nil
		}
	case KindTime:
		switch x := v.(type) {
		case Time:
			return x, nil
		case Timestamp:
			return Time(floorMod(int64(x), msPerDay)), nil
		case string:
			t, err := ParseTime(x)
			if err != nil {
				return nil, &CastError{Value: x, From: from, To: to, Cause: err.Error()}
			}
			return t, nil
		}
	case KindTimestamp:
		switch x := v.(type) {
		case Timestamp:
			return x, nil
		case Date:
			return Timestamp(int64(x) * msPerDay), nil
		case string:
			ts, err := ParseTimestamp(x)
			if err != nil {
				return nil, &CastError{Value: x, From: from, To: to, Cause: err.Error()}
			}
			return ts, nil
		}
	case KindArray:
		arr, ok := v.([]any)
		if !ok || from.Kind != KindArray {
			break
		}
		if from.Elem.Equal(to.Elem) {
			return arr, nil
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			c, err := Cast(e, from.Elem, to.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case KindMap:
		m, ok := v.(*Map)
		if !ok || from.Kind != KindMap {
			break
		}
		if from.Key.Equal(to.Key) && from.Elem.Equal(to.Elem) {
			return m, nil
		}
		out := &Map{Keys: make([]any, 0, m.Len()), Vals: make([]any, 0, m.Len())}
		for i := range m.Keys {
			k, err := Cast(m.Keys[i], from.Key, to.Key)
			if err != nil {
				return nil, err
			}
			val, err := Cast(m.Vals[i], from.Elem, to.Elem)
			if err != nil {
				return nil, err
			}
			out.Put(k, val)
		}
		return out, nil
	case KindStruct:
		s, ok := v.(*Struct)
		if !ok || from.Kind != KindStruct {
			break
		}
		names := make([]string, len(to.Fields))
		vals := make([]any, len(to.Fields))
		for i, f := range to.Fields {
			names[i] = f.Name
			j := from.FieldIndex(f.Name)
			if j < 0 || j >= len(s.Vals) {
				continue
			}
			c, err := Cast(s.Vals[j], from.Fields[j].Type, f.Type)
			if err != nil {
				return nil, err
			}
			vals[i] = c
		}
		return &Struct{Names: names, Vals: vals}, nil
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
}

func castToInt(v any, from, to *Type) (any, error) {
	switch x := v.(type) {
	case int32:
		return x, nil
	case int64:
		return int32(x), nil // Java (int) narrowing keeps the low 32 bits
	case float64:
		return saturateInt32(x), nil // Java (int) of a double truncates and saturates
	case decimal.Decimal:
		return int32(decimalLow64(x)), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
		if err != nil {
			return nil, &CastError{Value: x, From: from, To: to, Cause: "For input string: \"" + x + "\""}
		}
		return int32(n), nil
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
}

func castToBigint(v any, from, to *Type) (any, error) {
	switch x := v.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		return saturateInt64(x), nil
	case decimal.Decimal:
		return decimalLow64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, &CastError{Value: x, From: from, To: to, Cause: "For input string: \"" + x + "\""}
		}
		return n, nil
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
}

// decimalLow64 is BigDecimal.longValue(): truncate toward zero, keep the low 64 bits.
func decimalLow64(d decimal.Decimal) int64 {
	t := d.Truncate(0)
	c := t.Coefficient()
	if e := t.Exponent(); e > 0 {
		c.Mul(c, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil))
	}
	if c.IsInt64() {
		return c.Int64()
	}
	m := new(big.Int).And(c, new(big.Int).SetUint64(math.MaxUint64)) // two's complement low bits
	return int64(m.Uint64())
}

func castToDouble(v any, from, to *Type) (any, error) {
	switch x := v.(type) {
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case decimal.Decimal:
		f, _ := x.Float64()
		return f, nil
	case string:
		f, err := ParseJavaDouble(x)
		if err != nil {
			return nil, &CastError{Value: x, From: from, To: to, Cause: err.Error()}
		}
		return f, nil
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
}

// ParseJavaDouble parses text like Java's Double.parseDouble: surrounding whitespace ignored,
// optional f/F/d/D suffix, "NaN", "Infinity" with optional sign; Go-only spellings such as
// "inf" or "1_000" are rejected.
func ParseJavaDouble(s string) (float64, error) {
	t := strings.TrimSpace(s)
	body := strings.TrimLeft(t, "+-")
	switch body {
	case "NaN":
		if len(t)-len(body) > 1 {
			break
		}
		return math.NaN(), nil
	case "Infinity":
		if len(t)-len(body) > 1 {
			break
		}
		if t[0] == '-' {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if n := len(t); n > 1 && strings.ContainsRune("fFdD", rune(t[n-1])) && !strings.HasPrefix(strings.ToLower(body), "0x") {
		t = t[:n-1]
	}
	lb := strings.ToLower(t)
	if t == "" || strings.Contains(lb, "inf") || strings.Contains(lb, "nan") || strings.Contains(t, "_") {
		return 0, fmt.Errorf("For input string: \"%s\"", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil // Java returns ±Infinity or 0 on range errors, as does ParseFloat
		}
		return 0, fmt.Errorf("For input string: \"%s\"", s)
	}
	return f, nil
}

func castToDecimal(v any, from, to *Type) (any, error) {
	var d decimal.Decimal
	switch x := v.(type) {
	case int32:
		d = decimal.NewFromInt(int64(x))
	case int64:
		d = decimal.NewFromInt(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &CastError{Value: JavaDouble(x), From: from, To: to}
		}
		// BigDecimal.valueOf(double) goes through Double.toString, i.e. the shortest repr.
		d = decimal.NewFromFloat(x)
	case decimal.Decimal:
		d = x
	case string:
		r, err := ParseDecimalWithScale(x, to.Precision, to.Scale)
		if err != nil {
			return nil, &CastError{Value: x, From: from, To: to, Cause: err.Error()}
		}
		return r, nil
	default:
		return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
	}
	r, err := ToDecimalType(d, to)
	if err != nil {
		return nil, &CastError{Value: FormatValue(v, from), From: from, To: to, Cause: err.Error()}
	}
	return r, nil
}

// CastFunc returns a conversion specialised for the (from, to) pair so that compiled
// expressions do not re-dispatch on types per row. It fails if CanCast(from, to) is false.
func CastFunc(from, to *Type) (func(any) (any, error), error) {
	if !CanCast(from, to) {
		return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
	}
	if from == nil {
		return func(any) (any, error) { return nil, nil }, nil
	}
	if from.Equal(to) {
		return func(v any) (any, error) { return v, nil }, nil
	}
	switch {
	case from.Kind == KindInt && to.Kind == KindBigint:
		return func(v any) (any, error) {
			if x, ok := v.(int32); ok {
				return int64(x), nil
			}
			return Cast(v, from, to)
		}, nil
	case from.Kind == KindInt && to.Kind == KindDouble:
		return func(v any) (any, error) {
			if x, ok := v.(int32); ok {
				return float64(x), nil
			}
			return Cast(v, from, to)
		}, nil
	case from.Kind == KindBigint && to.Kind == KindDouble:
		return func(v any) (any, error) {
			if x, ok := v.(int64); ok {
				return float64(x), nil
			}
			return Cast(v, from, to)
		}, nil
	case from.Kind == KindDouble && to.Kind == KindInt:
		return func(v any) (any, error) {
			if x, ok := v.(float64); ok {
				return saturateInt32(x), nil
			}
			return Cast(v, from, to)
		}, nil
	case from.Kind == KindDouble && to.Kind == KindBigint:
		return func(v any) (any, error) {
			if x, ok := v.(float64); ok {
				return saturateInt64(x), nil
			}
			return Cast(v, from, to)
		}, nil
	}
	return func(v any) (any, error) { return Cast(v, from, to) }, nil
}
