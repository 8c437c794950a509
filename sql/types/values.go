package types

import (
	"bytes"
	"math"

	"github.com/shopspring/decimal"
)

// Equal reports SQL equality of two non-NULL values of the same type, and false if either is
// NULL. Numbers of different Go types compare by value, so INT 1 equals BIGINT 1.
func Equal(a, b any) bool {
	c, ok := Compare(a, b)
	return ok && c == 0
}

// Compare orders two values of comparable types: -1, 0 or 1. ok is false when either is NULL or
// the values cannot be compared (different, non-numeric kinds; ARRAY/MAP/STRUCT other than
// equality-by-contents).
func Compare(a, b any) (int, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		default:
			return 1, true
		}
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case []byte:
		y, ok := b.([]byte)
		if !ok {
			return 0, false
		}
		return bytes.Compare(x, y), true
	case Date:
		y, ok := b.(Date)
		if !ok {
			return 0, false
		}
		return cmpInt(int64(x), int64(y)), true
	case Time:
		y, ok := b.(Time)
		if !ok {
			return 0, false
		}
		return cmpInt(int64(x), int64(y)), true
	case Timestamp:
		y, ok := b.(Timestamp)
		if !ok {
			return 0, false
		}
		return cmpInt(int64(x), int64(y)), true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return 0, false
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if x[i] == nil || y[i] == nil {
				if x[i] == nil && y[i] == nil {
					continue
				}
				if x[i] == nil {
					return -1, true
				}
				return 1, true
			}
			c, ok := Compare(x[i], y[i])
			if !ok {
				return 0, false
			}
			if c != 0 {
				return c, true
			}
		}
		return cmpInt(int64(len(x)), int64(len(y))), true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return 1, ok
		}
		for i, k := range x.Keys {
			v, present := y.Get(k)
			if !present || !nullSafeEqual(x.Vals[i], v) {
				return 1, true
			}
		}
		return 0, true
	case *Struct:
		y, ok := b.(*Struct)
		if !ok || len(x.Vals) != len(y.Vals) {
			return 1, ok
		}
		for i := range x.Vals {
			if i < len(x.Names) && i < len(y.Names) && x.Names[i] != y.Names[i] {
				return 1, true
			}
			if !nullSafeEqual(x.Vals[i], y.Vals[i]) {
				return 1, true
			}
		}
		return 0, true
	}
	return compareNumbers(a, b)
}

func nullSafeEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return Equal(a, b)
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func compareNumbers(a, b any) (int, bool) {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return cmpInt(int64(x), int64(y)), true
		case int64:
			return cmpInt(int64(x), y), true
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return cmpInt(x, int64(y)), true
		case int64:
			return cmpInt(x, y), true
		}
	}
	_, aDec := a.(decimal.Decimal)
	_, bDec := b.(decimal.Decimal)
	if aDec || bDec {
		da, ok1 := ToDecimal(a)
		db, ok2 := ToDecimal(b)
		if ok1 && ok2 {
			if _, isF := a.(float64); !isF {
				if _, isF := b.(float64); !isF {
					return da.Cmp(db), true
				}
			}
		}
	}
	fa, ok1 := ToFloat(a)
	fb, ok2 := ToFloat(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	case fa == fb:
		return 0, true
	}
	// NaN: Java's Double.compare puts NaN above everything and equal to itself.
	switch {
	case math.IsNaN(fa) && math.IsNaN(fb):
		return 0, true
	case math.IsNaN(fa):
		return 1, true
	}
	return -1, true
}

// ToFloat converts any numeric value to float64.
func ToFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case decimal.Decimal:
		f, _ := x.Float64()
		return f, true
	}
	return 0, false
}

// ToInt64 converts an INT or BIGINT value to int64.
func ToInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// ToDecimal converts an exact or floating numeric value to a decimal.
func ToDecimal(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case int32:
		return decimal.NewFromInt(int64(x)), true
	case int64:
		return decimal.NewFromInt(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal.Decimal{}, false
		}
		return decimal.NewFromFloat(x), true
	case decimal.Decimal:
		return x, true
	}
	return decimal.Decimal{}, false
}
