package functions

import (
	"math"

	"github.com/sluicedb/sluice/sql/types"
)

// STDDEV_SAMP, STDDEV_SAMPLE and CORRELATION.
//
// The arithmetic mirrors ksqlDB's step for step (Youngs-Cramer updates, the same operand order)
// so results match the corpus to the last bit (standarddeviation.json, correlation-udaf.json).
// Two deliberate deviations, both only where Java overflows or truncates: counts and integer
// deltas are computed in 64 bits (Java uses int32 and wraps for large groups), and merging
// session windows divides sums by counts in floating point (Java uses integer division for INT
// and BIGINT inputs, which loses the fraction of the means).

func init() {
	stdSigs := func(ret string) []Signature {
		return []Signature{
			aggSig("val INT", "DOUBLE", ret+" of INT values."),
			aggSig("val BIGINT", "DOUBLE", ret+" of BIGINT values."),
			aggSig("val DOUBLE", "DOUBLE", ret+" of DOUBLE values (DECIMAL arguments are widened to DOUBLE)."),
		}
	}
	Register(&Function{
		Name:     "STDDEV_SAMP",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Returns the sample variance of a column (ksqlDB's STDDEV_SAMP returns the " +
			"variance despite its name); 0.0 for fewer than two non-NULL values.",
		Signatures: stdSigs("Sample variance"),
		ResolveAggregate: func(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
			return resolveStddev("STDDEV_SAMP", false, args)
		},
	})
	Register(&Function{
		Name:        "STDDEV_SAMPLE",
		Kind:        Aggregate,
		Category:    aggCategory,
		Description: "Returns the sample standard deviation of a column; 0.0 for fewer than two non-NULL values.",
		Signatures:  stdSigs("Sample standard deviation"),
		ResolveAggregate: func(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
			return resolveStddev("STDDEV_SAMPLE", true, args)
		},
	})
	Register(&Function{
		Name:     "CORRELATION",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Computes the Pearson correlation coefficient between two columns; rows where " +
			"either is NULL are ignored. NaN when it is undefined (fewer than two rows, or a constant column).",
		Signatures: []Signature{
			aggSig("x DOUBLE, y DOUBLE", "DOUBLE", "Pearson correlation of x and y (numeric arguments are widened to DOUBLE)."),
		},
		ResolveAggregate: resolveCorrelation,
	})
}

func resolveStddev(name string, sqrt bool, args []*types.Type) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil || !args[0].IsNumeric() {
		return nil, aggArgError(name, args)
	}
	in := args[0]
	integral := in.Kind == types.KindInt || in.Kind == types.KindBigint
	if in.Kind == types.KindDecimal {
		in = types.DoubleType
	}
	sumType := types.DoubleType
	if integral {
		sumType = types.BigintType
	}
	state := types.StructOf(
		types.Field{Name: "SUM", Type: sumType},
		types.Field{Name: "COUNT", Type: types.BigintType},
		types.Field{Name: "M2", Type: types.DoubleType},
	)
	mk := func() *stddevAcc { return &stddevAcc{name: name, sqrt: sqrt, integral: integral, state: state} }
	return &AggregateImpl{
		ArgTypes: []*types.Type{in},
		Return:   types.DoubleType,
		State:    state,
		New:      func() Accumulator { return mk() },
		Restore: func(s any) (Accumulator, error) {
			a := mk()
			if s == nil {
				return a, nil
			}
			f, ok := aggStructFields(s, 3)
			if !ok {
				return nil, aggRestoreError(name, s)
			}
			var okSum, okCount, okM2 bool
			if integral {
				a.isum, okSum = aggI64(f[0])
			} else {
				a.fsum, okSum = f[0].(float64)
			}
			a.count, okCount = aggI64(f[1])
			a.m2, okM2 = f[2].(float64)
			if !okSum || !okCount || !okM2 {
				return nil, aggRestoreError(name, s)
			}
			return a, nil
		},
	}, nil
}

type stddevAcc struct {
	name     string
	sqrt     bool
	integral bool
	isum     int64
	fsum     float64
	count    int64
	m2       float64
	state    *types.Type
}

// delta is ksqlDB's createDelta: x*(count+1) - (sum+x), i.e. (count+1) times the distance of x
// from the mean that includes it.
func (a *stddevAcc) delta(x any) (float64, bool) {
	if a.integral {
		i, ok := aggI64(x)
		if !ok {
			return 0, false
		}
		return float64(i*(a.count+1) - (a.isum + i)), true
	}
	f, ok := aggF64(x)
	if !ok {
		return 0, false
	}
	return f*float64(a.count+1) - (a.fsum + f), true
}

func (a *stddevAcc) addSum(x any, sign int64) {
	if a.integral {
		i, _ := aggI64(x)
		a.isum += sign * i
		return
	}
	f, _ := aggF64(x)
	if sign > 0 {
		a.fsum += f
	} else {
		a.fsum -= f
	}
}

func (a *stddevAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	x := args[0]
	if x == nil {
		return nil
	}
	d, ok := a.delta(x)
	if !ok {
		return aggBadArg(a.name, x)
	}
	n := a.count + 1
	inc := 0.0
	if n > 1 {
		inc = d * d / float64(n*(n-1))
	}
	a.m2 = inc + a.m2
	a.count = n
	a.addSum(x, 1)
	return nil
}

func (a *stddevAcc) Undo(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	x := args[0]
	if x == nil {
		return nil
	}
	d, ok := a.delta(x)
	if !ok {
		return aggBadArg(a.name, x)
	}
	n := a.count - 1
	dec := 0.0
	if n > 0 {
		dec = d * d / float64(n*(n+1))
	}
	a.m2 -= dec
	a.count = n
	a.addSum(x, -1)
	return nil
}

func (a *stddevAcc) mean() float64 {
	if a.integral {
		return float64(a.isum) / float64(a.count)
	}
	return a.fsum / float64(a.count)
}

func (a *stddevAcc) Merge(other Accumulator) error {
	o, ok := other.(*stddevAcc)
	if !ok || o.integral != a.integral || o.sqrt != a.sqrt {
		return aggMergeError(a.name, other)
	}
	n := a.count + o.count
	if a.count == 0 || o.count == 0 {
		a.m2 += o.m2
	} else {
		inner := a.mean() - o.mean()
		a.m2 = a.m2 + o.m2 + float64(a.count)*float64(o.count)*inner*inner/float64(n)
	}
	a.count = n
	a.isum += o.isum
	a.fsum += o.fsum
	return nil
}

func (a *stddevAcc) Result() any {
	if a.count < 2 {
		return 0.0
	}
	v := a.m2 / float64(a.count-1)
	if a.sqrt {
		return math.Sqrt(v)
	}
	return v
}

func (a *stddevAcc) Snapshot() any {
	if a.integral {
		return aggStructOf(a.state, a.isum, a.count, a.m2)
	}
	return aggStructOf(a.state, a.fsum, a.count, a.m2)
}

// ---- CORRELATION -----------------------------------------------------------------------------

var corrState = types.StructOf(
	types.Field{Name: "X_SUM", Type: types.DoubleType},
	types.Field{Name: "Y_SUM", Type: types.DoubleType},
	types.Field{Name: "X_SQUARED_SUM", Type: types.DoubleType},
	types.Field{Name: "Y_SQUARED_SUM", Type: types.DoubleType},
	types.Field{Name: "XY_SUM", Type: types.DoubleType},
	types.Field{Name: "COUNT", Type: types.BigintType},
)

func resolveCorrelation(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 2 || args[0] == nil || args[1] == nil || !args[0].IsNumeric() || !args[1].IsNumeric() {
		return nil, aggArgError("CORRELATION", args)
	}
	return &AggregateImpl{
		// ksqlDB has only the DOUBLE overload; INT, BIGINT and DECIMAL widen to it.
		ArgTypes: []*types.Type{types.DoubleType, types.DoubleType},
		Return:   types.DoubleType,
		State:    corrState,
		New:      func() Accumulator { return &corrAcc{} },
		Restore: func(s any) (Accumulator, error) {
			a := &corrAcc{}
			if s == nil {
				return a, nil
			}
			f, ok := aggStructFields(s, 6)
			if !ok {
				return nil, aggRestoreError("CORRELATION", s)
			}
			dst := []*float64{&a.x, &a.y, &a.xx, &a.yy, &a.xy}
			for i, p := range dst {
				v, ok := f[i].(float64)
				if !ok {
					return nil, aggRestoreError("CORRELATION", s)
				}
				*p = v
			}
			if a.n, ok = aggI64(f[5]); !ok {
				return nil, aggRestoreError("CORRELATION", s)
			}
			return a, nil
		},
	}, nil
}

type corrAcc struct {
	x, y, xx, yy, xy float64
	n                int64
}

func (a *corrAcc) pair(args []any) (x, y float64, ok bool, err error) {
	if err := aggArgCount("CORRELATION", args, 2); err != nil {
		return 0, 0, false, err
	}
	if args[0] == nil || args[1] == nil {
		return 0, 0, false, nil
	}
	x, okx := aggF64(args[0])
	y, oky := aggF64(args[1])
	if !okx {
		return 0, 0, false, aggBadArg("CORRELATION", args[0])
	}
	if !oky {
		return 0, 0, false, aggBadArg("CORRELATION", args[1])
	}
	return x, y, true, nil
}

func (a *corrAcc) Add(args []any) error {
	x, y, ok, err := a.pair(args)
	if !ok {
		return err
	}
	a.x += x
	a.y += y
	a.xx += x * x
	a.yy += y * y
	a.xy += x * y
	a.n++
	return nil
}

func (a *corrAcc) Undo(args []any) error {
	x, y, ok, err := a.pair(args)
	if !ok {
		return err
	}
	a.x -= x
	a.y -= y
	a.xx -= x * x
	a.yy -= y * y
	a.xy -= x * y
	a.n--
	return nil
}

func (a *corrAcc) Merge(other Accumulator) error {
	o, ok := other.(*corrAcc)
	if !ok {
		return aggMergeError("CORRELATION", other)
	}
	a.x += o.x
	a.y += o.y
	a.xx += o.xx
	a.yy += o.yy
	a.xy += o.xy
	a.n += o.n
	return nil
}

// Result is the single-pass Pearson formula; 0/0 yields NaN for degenerate groups, which is
// what ksqlDB emits.
func (a *corrAcc) Result() any {
	n := float64(a.n)
	num := n*a.xy - a.x*a.y
	dx := n*a.xx - a.x*a.x
	dy := n*a.yy - a.y*a.y
	return num / math.Sqrt(dx*dy)
}

func (a *corrAcc) Snapshot() any {
	return aggStructOf(corrState, a.x, a.y, a.xx, a.yy, a.xy, a.n)
}
