package functions

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/sql/types"
)

// SUM, SUM_LIST and AVG.
//
// Result types follow the corpus (sum.json, average-udaf.json): SUM keeps the argument type
// (INT -> INT, BIGINT -> BIGINT, DOUBLE -> DOUBLE, DECIMAL(p,s) -> DECIMAL(p,s), failing with
// "Numeric field overflow" when the sum no longer fits p), starts at 0 so a group without
// non-NULL values sums to 0, and skips NULLs. INT and BIGINT sums wrap on overflow like Java's.
// AVG returns DOUBLE, 0.0 for a group without non-NULL values.

func init() {
	Register(&Function{
		Name:        "SUM",
		Kind:        Aggregate,
		Category:    aggCategory,
		Description: "Sums the values of a column; NULLs are ignored. The result has the type of the column.",
		Signatures: []Signature{
			aggSig("val INT", "INT", "Sum of INT values."),
			aggSig("val BIGINT", "BIGINT", "Sum of BIGINT values."),
			aggSig("val DOUBLE", "DOUBLE", "Sum of DOUBLE values."),
			aggSig("val DECIMAL", "DECIMAL", "Sum of DECIMAL values, keeping the column's precision and scale."),
		},
		ResolveAggregate: resolveSum,
	})
	Register(&Function{
		Name:        "SUM_LIST",
		Kind:        Aggregate,
		Category:    aggCategory,
		Description: "Returns the sum of the elements of the arrays of a group; NULL elements and NULL arrays are ignored.",
		Signatures: []Signature{
			aggSig("list ARRAY<INT>", "INT", "Sum INT elements into a single INT."),
			aggSig("list ARRAY<BIGINT>", "BIGINT", "Sum BIGINT elements into a single BIGINT."),
			aggSig("list ARRAY<DOUBLE>", "DOUBLE", "Sum DOUBLE elements into a single DOUBLE."),
		},
		ResolveAggregate: resolveSumList,
	})
	Register(&Function{
		Name:     "AVG",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Returns the average of a column computed as the sum divided by the count of " +
			"non-NULL values, as a DOUBLE (0.0 for no values).",
		Signatures: []Signature{
			aggSig("val INT", "DOUBLE", "Average of INT values."),
			aggSig("val BIGINT", "DOUBLE", "Average of BIGINT values."),
			aggSig("val DOUBLE", "DOUBLE", "Average of DOUBLE values (DECIMAL arguments are widened to DOUBLE)."),
		},
		ResolveAggregate: resolveAvg,
	})
}

// ---- SUM -------------------------------------------------------------------------------------

func resolveSum(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil {
		return nil, aggArgError("SUM", args)
	}
	t := args[0]
	impl := &AggregateImpl{ArgTypes: []*types.Type{t}, Return: t, State: t}
	switch t.Kind {
	case types.KindInt:
		impl.New = func() Accumulator { return &sumIntAcc{} }
		impl.Restore = func(s any) (Accumulator, error) {
			a := &sumIntAcc{}
			if s != nil {
				v, ok := s.(int32)
				if !ok {
					return nil, aggRestoreError("SUM", s)
				}
				a.sum = v
			}
			return a, nil
		}
	case types.KindBigint:
		impl.New = func() Accumulator { return &sumBigintAcc{} }
		impl.Restore = func(s any) (Accumulator, error) {
			a := &sumBigintAcc{}
			if s != nil {
				v, ok := aggI64(s)
				if !ok {
					return nil, aggRestoreError("SUM", s)
				}
				a.sum = v
			}
			return a, nil
		}
	case types.KindDouble:
		impl.New = func() Accumulator { return &sumDoubleAcc{} }
		impl.Restore = func(s any) (Accumulator, error) {
			a := &sumDoubleAcc{}
			if s != nil {
				v, ok := s.(float64)
				if !ok {
					return nil, aggRestoreError("SUM", s)
				}
				a.sum = v
			}
			return a, nil
		}
	case types.KindDecimal:
		limit := decimal.New(1, int32(t.Precision-t.Scale))
		impl.New = func() Accumulator { return &sumDecimalAcc{t: t, limit: limit} }
		impl.Restore = func(s any) (Accumulator, error) {
			a := &sumDecimalAcc{t: t, limit: limit}
			if s != nil {
				v, ok := s.(decimal.Decimal)
				if !ok {
					return nil, aggRestoreError("SUM", s)
				}
				a.sum = v
			}
			return a, nil
		}
	default:
		return nil, aggArgError("SUM", args)
	}
	return impl, nil
}

// sumIntAcc sums in int32 and wraps on overflow, as ksqlDB's Integer sum does.
type sumIntAcc struct{ sum int32 }

func (a *sumIntAcc) Add(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggI64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum += int32(v)
	return nil
}

func (a *sumIntAcc) Undo(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggI64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum -= int32(v)
	return nil
}

func (a *sumIntAcc) Merge(other Accumulator) error {
	o, ok := other.(*sumIntAcc)
	if !ok {
		return aggMergeError("SUM", other)
	}
	a.sum += o.sum
	return nil
}

func (a *sumIntAcc) Result() any   { return a.sum }
func (a *sumIntAcc) Snapshot() any { return a.sum }

type sumBigintAcc struct{ sum int64 }

func (a *sumBigintAcc) Add(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggI64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum += v
	return nil
}

func (a *sumBigintAcc) Undo(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggI64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum -= v
	return nil
}

func (a *sumBigintAcc) Merge(other Accumulator) error {
	o, ok := other.(*sumBigintAcc)
	if !ok {
		return aggMergeError("SUM", other)
	}
	a.sum += o.sum
	return nil
}

func (a *sumBigintAcc) Result() any   { return a.sum }
func (a *sumBigintAcc) Snapshot() any { return a.sum }

type sumDoubleAcc struct{ sum float64 }

func (a *sumDoubleAcc) Add(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggF64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum += v
	return nil
}

func (a *sumDoubleAcc) Undo(args []any) error {
	if len(args) < 1 || args[0] == nil {
		return aggArgCount("SUM", args, 1)
	}
	v, ok := aggF64(args[0])
	if !ok {
		return aggBadArg("SUM", args[0])
	}
	a.sum -= v
	return nil
}

func (a *sumDoubleAcc) Merge(other Accumulator) error {
	o, ok := other.(*sumDoubleAcc)
	if !ok {
		return aggMergeError("SUM", other)
	}
	a.sum += o.sum
	return nil
}

func (a *sumDoubleAcc) Result() any   { return a.sum }
func (a *sumDoubleAcc) Snapshot() any { return a.sum }

// sumDecimalAcc keeps the exact sum; a sum whose integer part needs more than p-s digits cannot
// be represented in DECIMAL(p,s), which ksqlDB reports as "Numeric field overflow".
type sumDecimalAcc struct {
	t     *types.Type
	limit decimal.Decimal // 10^(p-s)
	sum   decimal.Decimal // zero value is 0
}

func (a *sumDecimalAcc) check(v decimal.Decimal) error {
	if v.Abs().Cmp(a.limit) >= 0 {
		return fmt.Errorf("Numeric field overflow: A field with precision %d and scale %d must round to an absolute value less than 10^%d. Got %s",
			a.t.Precision, a.t.Scale, a.t.Precision-a.t.Scale, v.StringFixed(int32(a.t.Scale)))
	}
	return nil
}

func (a *sumDecimalAcc) arg(args []any) (decimal.Decimal, bool, error) {
	if err := aggArgCount("SUM", args, 1); err != nil {
		return decimal.Decimal{}, false, err
	}
	if args[0] == nil {
		return decimal.Decimal{}, false, nil
	}
	d, ok := args[0].(decimal.Decimal)
	if !ok {
		if d, ok = types.ToDecimal(args[0]); !ok {
			return decimal.Decimal{}, false, aggBadArg("SUM", args[0])
		}
	}
	return d, true, nil
}

func (a *sumDecimalAcc) Add(args []any) error {
	d, ok, err := a.arg(args)
	if !ok {
		return err
	}
	s := a.sum.Add(d)
	if err := a.check(s); err != nil {
		return err // state unchanged: the failed row is not folded in
	}
	a.sum = s
	return nil
}

func (a *sumDecimalAcc) Undo(args []any) error {
	d, ok, err := a.arg(args)
	if !ok {
		return err
	}
	a.sum = a.sum.Sub(d)
	return nil
}

func (a *sumDecimalAcc) Merge(other Accumulator) error {
	o, ok := other.(*sumDecimalAcc)
	if !ok {
		return aggMergeError("SUM", other)
	}
	s := a.sum.Add(o.sum)
	if err := a.check(s); err != nil {
		return err
	}
	a.sum = s
	return nil
}

// Result rounds to the type's scale so the value carries the declared scale even after sums of
// differently scaled inputs.
func (a *sumDecimalAcc) Result() any   { return a.sum.Round(int32(a.t.Scale)) }
func (a *sumDecimalAcc) Snapshot() any { return a.sum }

// ---- SUM_LIST --------------------------------------------------------------------------------

func resolveSumList(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil || args[0].Kind != types.KindArray || args[0].Elem == nil {
		return nil, aggArgError("SUM_LIST", args)
	}
	elem := args[0].Elem
	switch elem.Kind {
	case types.KindInt, types.KindBigint, types.KindDouble:
	default:
		return nil, aggArgError("SUM_LIST", args)
	}
	return &AggregateImpl{
		ArgTypes: []*types.Type{args[0]},
		Return:   elem,
		State:    elem,
		New:      func() Accumulator { return &sumListAcc{kind: elem.Kind} },
		Restore: func(s any) (Accumulator, error) {
			a := &sumListAcc{kind: elem.Kind}
			if s == nil {
				return a, nil
			}
			switch elem.Kind {
			case types.KindDouble:
				f, ok := s.(float64)
				if !ok {
					return nil, aggRestoreError("SUM_LIST", s)
				}
				a.f = f
			default:
				i, ok := aggI64(s)
				if !ok {
					return nil, aggRestoreError("SUM_LIST", s)
				}
				a.i = i
			}
			return a, nil
		},
	}, nil
}

// sumListAcc sums integers in int64 and narrows to int32 for INT (same wrapping as Java's int
// arithmetic, since two's-complement addition commutes with truncation).
type sumListAcc struct {
	kind types.Kind
	i    int64
	f    float64
}

func (a *sumListAcc) fold(args []any, sign int64) error {
	if err := aggArgCount("SUM_LIST", args, 1); err != nil {
		return err
	}
	if args[0] == nil {
		return nil
	}
	list, ok := args[0].([]any)
	if !ok {
		return aggBadArg("SUM_LIST", args[0])
	}
	for _, e := range list {
		if e == nil {
			continue
		}
		if a.kind == types.KindDouble {
			f, ok := aggF64(e)
			if !ok {
				return aggBadArg("SUM_LIST", e)
			}
			a.f += float64(sign) * f
			continue
		}
		i, ok := aggI64(e)
		if !ok {
			return aggBadArg("SUM_LIST", e)
		}
		a.i += sign * i
	}
	return nil
}

func (a *sumListAcc) Add(args []any) error  { return a.fold(args, 1) }
func (a *sumListAcc) Undo(args []any) error { return a.fold(args, -1) }

func (a *sumListAcc) Merge(other Accumulator) error {
	o, ok := other.(*sumListAcc)
	if !ok {
		return aggMergeError("SUM_LIST", other)
	}
	a.i += o.i
	a.f += o.f
	return nil
}

func (a *sumListAcc) Result() any {
	switch a.kind {
	case types.KindInt:
		return int32(a.i)
	case types.KindBigint:
		return a.i
	}
	return a.f
}

func (a *sumListAcc) Snapshot() any { return a.Result() }

// ---- AVG -------------------------------------------------------------------------------------

func resolveAvg(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil || !args[0].IsNumeric() {
		return nil, aggArgError("AVG", args)
	}
	in := args[0]
	integral := in.Kind == types.KindInt || in.Kind == types.KindBigint
	if in.Kind == types.KindDecimal {
		// ksqlDB has no DECIMAL overload; DECIMAL widens to DOUBLE.
		in = types.DoubleType
	}
	sumType := types.DoubleType
	if integral {
		// INT sums are kept in 64 bits: our state format is our own, and this avoids Java's
		// int32 wrap-around for AVG of large INT columns (identical results otherwise).
		sumType = types.BigintType
	}
	state := types.StructOf(
		types.Field{Name: "SUM", Type: sumType},
		types.Field{Name: "COUNT", Type: types.BigintType},
	)
	return &AggregateImpl{
		ArgTypes: []*types.Type{in},
		Return:   types.DoubleType,
		State:    state,
		New:      func() Accumulator { return &avgAcc{integral: integral, state: state} },
		Restore: func(s any) (Accumulator, error) {
			a := &avgAcc{integral: integral, state: state}
			if s == nil {
				return a, nil
			}
			f, ok := aggStructFields(s, 2)
			if !ok {
				return nil, aggRestoreError("AVG", s)
			}
			var okSum, okCount bool
			if integral {
				a.isum, okSum = aggI64(f[0])
			} else {
				a.fsum, okSum = f[0].(float64)
			}
			a.count, okCount = aggI64(f[1])
			if !okSum || !okCount {
				return nil, aggRestoreError("AVG", s)
			}
			return a, nil
		},
	}, nil
}

type avgAcc struct {
	integral bool
	isum     int64
	fsum     float64
	count    int64
	state    *types.Type
}

func (a *avgAcc) fold(args []any, sign int64) error {
	if err := aggArgCount("AVG", args, 1); err != nil {
		return err
	}
	v := args[0]
	if v == nil {
		return nil
	}
	if a.integral {
		i, ok := aggI64(v)
		if !ok {
			return aggBadArg("AVG", v)
		}
		a.isum += sign * i
	} else {
		f, ok := aggF64(v)
		if !ok {
			return aggBadArg("AVG", v)
		}
		if sign > 0 {
			a.fsum += f
		} else {
			a.fsum -= f
		}
	}
	a.count += sign
	return nil
}

func (a *avgAcc) Add(args []any) error  { return a.fold(args, 1) }
func (a *avgAcc) Undo(args []any) error { return a.fold(args, -1) }

func (a *avgAcc) Merge(other Accumulator) error {
	o, ok := other.(*avgAcc)
	if !ok || o.integral != a.integral {
		return aggMergeError("AVG", other)
	}
	a.isum += o.isum
	a.fsum += o.fsum
	a.count += o.count
	return nil
}

func (a *avgAcc) Result() any {
	if a.count == 0 {
		return 0.0
	}
	if a.integral {
		return float64(a.isum) / float64(a.count)
	}
	return a.fsum / float64(a.count)
}

func (a *avgAcc) Snapshot() any {
	if a.integral {
		return aggStructOf(a.state, a.isum, a.count)
	}
	return aggStructOf(a.state, a.fsum, a.count)
}
