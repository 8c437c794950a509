package types

import (
	"errors"
	"fmt"
	"math"

	"github.com/shopspring/decimal"
)

// Arithmetic follows the JVM, because ksqlDB compiles + - * / % to Java expressions:
// INT and BIGINT wrap on overflow, DOUBLE is IEEE 754 (x/0 is ±Infinity or NaN, % is fmod),
// DECIMAL is exact with the result type fixed at plan time by the SQL Server-style rules of
// ksqlDB's SqlDecimal. Integer or DECIMAL division (or %) by zero throws in Java; ksqlDB then
// logs the error and the expression yields NULL (decimal.json "division" / "mod"). The
// evaluation functions here return NULL directly for that case so that every caller agrees.

// Arithmetic operators accepted by ArithType, Arith and ArithFunc. "||" is string
// concatenation, as is "+" on two strings.
const (
	OpAdd    = "+"
	OpSub    = "-"
	OpMul    = "*"
	OpDiv    = "/"
	OpMod    = "%"
	OpConcat = "||"
)

// ErrNullArithmetic is returned by ArithType when an operand is an untyped NULL literal, which
// ksqlDB rejects at planning time.
var ErrNullArithmetic = errors.New("Arithmetic on types NULL is not supported")

// ArithType returns the result type of l op r, or an error naming the unsupported pair.
func ArithType(op string, l, r *Type) (*Type, error) {
	if l == nil || r == nil {
		return nil, ErrNullArithmetic
	}
	if op == OpConcat || (op == OpAdd && l.Kind == KindString && r.Kind == KindString) {
		if l.Kind == KindString && r.Kind == KindString {
			return StringType, nil
		}
		return nil, unsupported(op, l, r)
	}
	if !l.IsNumeric() || !r.IsNumeric() {
		return nil, unsupported(op, l, r)
	}
	switch op {
	case OpAdd, OpSub, OpMul, OpDiv, OpMod:
	default:
		return nil, fmt.Errorf("unknown arithmetic operator %q", op)
	}
	switch {
	case l.Kind == KindDouble || r.Kind == KindDouble:
		return DoubleType, nil
	case l.Kind == KindDecimal || r.Kind == KindDecimal:
		return DecimalArithType(op, AsDecimalType(l), AsDecimalType(r)), nil
	case l.Kind == KindBigint || r.Kind == KindBigint:
		return BigintType, nil
	}
	return IntType, nil
}

func unsupported(op string, l, r *Type) error {
	return fmt.Errorf("Error processing expression: unsupported arithmetic types. %s %s %s", l, op, r)
}

// DecimalArithType is ksqlDB's SqlDecimal.add/subtract/multiply/divide/modulus:
//
//   - -  scale = max(s1, s2), precision = max(p1-s1, p2-s2) + scale + 1
//   - scale = s1 + s2,     precision = p1 + p2 + 1
//     /    scale = max(6, s1 + p2 + 1), precision = p1 - s1 + s2 + scale
//     %    scale = max(s1, s2), precision = min(p1-s1, p2-s2) + scale
func DecimalArithType(op string, a, b *Type) *Type {
	p1, s1, p2, s2 := a.Precision, a.Scale, b.Precision, b.Scale
	switch op {
	case OpMul:
		return DecimalOf(p1+p2+1, s1+s2)
	case OpDiv:
		s := max(6, s1+p2+1)
		return DecimalOf(p1-s1+s2+s, s)
	case OpMod:
		s := max(s1, s2)
		return DecimalOf(min(p1-s1, p2-s2)+s, s)
	}
	s := max(s1, s2)
	return DecimalOf(max(p1-s1, p2-s2)+s+1, s)
}

// Arith evaluates l op r where lt and rt are the operand types and result is ArithType's
// answer. NULL operands give NULL.
func Arith(op string, l, r any, lt, rt, result *Type) (any, error) {
	if l == nil || r == nil {
		return nil, nil
	}
	f, err := arithFor(op, result)
	if err != nil {
		return nil, err
	}
	a, err := toKind(l, result)
	if err != nil {
		return nil, err
	}
	b, err := toKind(r, result)
	if err != nil {
		return nil, err
	}
	return f(a, b)
}

// toKind widens an operand to the representation of the result kind.
func toKind(v any, result *Type) (any, error) {
	switch result.Kind {
	case KindInt:
		if x, ok := v.(int32); ok {
			return x, nil
		}
	case KindBigint:
		if x, ok := ToInt64(v); ok {
			return x, nil
		}
	case KindDouble:
		if x, ok := ToFloat(v); ok {
			return x, nil
		}
	case KindDecimal:
		if x, ok := ToDecimal(v); ok {
			return x, nil
		}
	case KindString:
		if x, ok := v.(string); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("arithmetic: operand %T does not fit %s", v, result)
}

// ArithFunc returns a closure specialised for the operand types, plus the result type. The
// closure accepts NULLs (returning NULL) and values of exactly the operand types.
func ArithFunc(op string, l, r *Type) (func(a, b any) (any, error), *Type, error) {
	rt, err := ArithType(op, l, r)
	if err != nil {
		return nil, nil, err
	}
	core, err := arithFor(op, rt)
	if err != nil {
		return nil, nil, err
	}
	if l.Kind == rt.Kind && r.Kind == rt.Kind && rt.Kind != KindDecimal {
		// Same representation on both sides: no widening step.
		return func(a, b any) (any, error) {
			if a == nil || b == nil {
				return nil, nil
			}
			return core(a, b)
		}, rt, nil
	}
	wl, wr := widener(l, rt), widener(r, rt)
	return func(a, b any) (any, error) {
		if a == nil || b == nil {
			return nil, nil
		}
		return core(wl(a), wr(b))
	}, rt, nil
}

func widener(from, to *Type) func(any) any {
	switch to.Kind {
	case KindBigint:
		if from.Kind == KindInt {
			return func(v any) any { return int64(v.(int32)) }
		}
	case KindDouble:
		switch from.Kind {
		case KindInt:
			return func(v any) any { return float64(v.(int32)) }
		case KindBigint:
			return func(v any) any { return float64(v.(int64)) }
		case KindDecimal:
			return func(v any) any { f, _ := v.(decimal.Decimal).Float64(); return f }
		}
	case KindDecimal:
		switch from.Kind {
		case KindInt:
			return func(v any) any { return decimal.NewFromInt(int64(v.(int32))) }
		case KindBigint:
			return func(v any) any { return decimal.NewFromInt(v.(int64)) }
		}
	}
	return func(v any) any { return v }
}

// arithFor returns the core operation on operands already in the result representation.
func arithFor(op string, rt *Type) (func(a, b any) (any, error), error) {
	switch rt.Kind {
	case KindString:
		return func(a, b any) (any, error) { return a.(string) + b.(string), nil }, nil
	case KindInt:
		switch op {
		case OpAdd:
			return func(a, b any) (any, error) { return a.(int32) + b.(int32), nil }, nil
		case OpSub:
			return func(a, b any) (any, error) { return a.(int32) - b.(int32), nil }, nil
		case OpMul:
			return func(a, b any) (any, error) { return a.(int32) * b.(int32), nil }, nil
		case OpDiv:
			return func(a, b any) (any, error) {
				y := b.(int32)
				if y == 0 {
					return nil, nil
				}
				return a.(int32) / y, nil
			}, nil
		case OpMod:
			return func(a, b any) (any, error) {
				y := b.(int32)
				if y == 0 {
					return nil, nil
				}
				return a.(int32) % y, nil
			}, nil
		}
	case KindBigint:
		switch op {
		case OpAdd:
			return func(a, b any) (any, error) { return a.(int64) + b.(int64), nil }, nil
		case OpSub:
			return func(a, b any) (any, error) { return a.(int64) - b.(int64), nil }, nil
		case OpMul:
			return func(a, b any) (any, error) { return a.(int64) * b.(int64), nil }, nil
		case OpDiv:
			return func(a, b any) (any, error) {
				y := b.(int64)
				if y == 0 {
					return nil, nil
				}
				return a.(int64) / y, nil
			}, nil
		case OpMod:
			return func(a, b any) (any, error) {
				y := b.(int64)
				if y == 0 {
					return nil, nil
				}
				return a.(int64) % y, nil
			}, nil
		}
	case KindDouble:
		switch op {
		case OpAdd:
			return func(a, b any) (any, error) { return a.(float64) + b.(float64), nil }, nil
		case OpSub:
			return func(a, b any) (any, error) { return a.(float64) - b.(float64), nil }, nil
		case OpMul:
			return func(a, b any) (any, error) { return a.(float64) * b.(float64), nil }, nil
		case OpDiv:
			return func(a, b any) (any, error) { return a.(float64) / b.(float64), nil }, nil
		case OpMod:
			return func(a, b any) (any, error) { return math.Mod(a.(float64), b.(float64)), nil }, nil
		}
	case KindDecimal:
		scale := int32(rt.Scale)
		fit := func(d decimal.Decimal) (any, error) {
			r, err := ToDecimalType(d, rt)
			if err != nil {
				return nil, err
			}
			return r, nil
		}
		switch op {
		case OpAdd:
			return func(a, b any) (any, error) { return fit(a.(decimal.Decimal).Add(b.(decimal.Decimal))) }, nil
		case OpSub:
			return func(a, b any) (any, error) { return fit(a.(decimal.Decimal).Sub(b.(decimal.Decimal))) }, nil
		case OpMul:
			return func(a, b any) (any, error) { return fit(a.(decimal.Decimal).Mul(b.(decimal.Decimal))) }, nil
		case OpDiv:
			return func(a, b any) (any, error) {
				y := b.(decimal.Decimal)
				if y.IsZero() {
					return nil, nil
				}
				// DivRound rounds half away from zero, which is Java's HALF_UP.
				return fit(a.(decimal.Decimal).DivRound(y, scale))
			}, nil
		case OpMod:
			return func(a, b any) (any, error) {
				y := b.(decimal.Decimal)
				if y.IsZero() {
					return nil, nil
				}
				// BigDecimal.remainder: truncated quotient, sign of the dividend.
				_, rem := a.(decimal.Decimal).QuoRem(y, 0)
				return fit(rem)
			}, nil
		}
	}
	return nil, fmt.Errorf("unsupported arithmetic %s on %s", op, rt)
}

// Negate is unary minus: Java semantics (INT/BIGINT wrap, so -MIN_VALUE is MIN_VALUE).
func Negate(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int32:
		return -x, nil
	case int64:
		return -x, nil
	case float64:
		return -x, nil
	case decimal.Decimal:
		return x.Neg(), nil
	}
	return nil, fmt.Errorf("unary minus is not supported for %T", v)
}
