package functions

import (
	"github.com/sluicedb/sluice/sql/types"
)

// MIN, MAX and ATTR.

func init() {
	for _, fn := range []struct {
		name, desc string
		want       int // comparison result that makes a new value replace the current one
	}{
		{"MAX", "Returns the maximum non-NULL value of a column (NULL if there is none).", 1},
		{"MIN", "Returns the minimum non-NULL value of a column (NULL if there is none).", -1},
	} {
		name, want := fn.name, fn.want
		Register(&Function{
			Name:        name,
			Kind:        Aggregate,
			Category:    aggCategory,
			Description: fn.desc,
			Signatures:  aggComparableSigs("val", "", "T", "Same type as val."),
			ResolveAggregate: func(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
				return resolveMinMax(name, want, args)
			},
		})
	}
	Register(&Function{
		Name:     "ATTR",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Returns the single value of a column when every row of the group has the same " +
			"value, otherwise NULL. Use it to state that a column is expected to be unique per group.",
		Signatures: []Signature{
			aggSig("val T", "T", "The value shared by all rows, or NULL."),
		},
		ResolveAggregate: resolveAttr,
	})
}

// aggComparableSigs documents an aggregate over the types MIN/MAX/TOPK accept; rest is appended
// to the argument list (", k INT" for TOPK).
func aggComparableSigs(arg, rest, returns, desc string) []Signature {
	var out []Signature
	for _, t := range []string{"INT", "BIGINT", "DOUBLE", "DECIMAL", "STRING", "BYTES", "DATE", "TIME", "TIMESTAMP"} {
		r := returns
		switch returns {
		case "T":
			r = t
		case "ARRAY<T>":
			r = "ARRAY<" + t + ">"
		}
		out = append(out, aggSig(arg+" "+t+rest, r, desc))
	}
	return out
}

func resolveMinMax(name string, want int, args []*types.Type) (*AggregateImpl, error) {
	if len(args) != 1 || !aggIsComparable(args[0]) {
		return nil, aggArgError(name, args)
	}
	t := args[0]
	return &AggregateImpl{
		ArgTypes: []*types.Type{t},
		Return:   t,
		State:    t,
		New:      func() Accumulator { return &minMaxAcc{name: name, want: want} },
		Restore: func(s any) (Accumulator, error) {
			return &minMaxAcc{name: name, want: want, cur: aggCopyValue(s)}, nil
		},
	}, nil
}

// minMaxAcc keeps the extreme non-NULL value. Storing the argument's interface value does not
// allocate; BYTES are copied because the caller may reuse its buffers.
type minMaxAcc struct {
	name string
	want int
	cur  any
}

func (a *minMaxAcc) offer(v any) {
	if v == nil {
		return
	}
	if a.cur == nil || aggCompare(v, a.cur) == a.want {
		if b, ok := v.([]byte); ok {
			v = append([]byte(nil), b...)
		}
		a.cur = v
	}
}

func (a *minMaxAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	a.offer(args[0])
	return nil
}

func (a *minMaxAcc) Undo([]any) error { return aggStreamOnlyUndo(a.name) }

func (a *minMaxAcc) Merge(other Accumulator) error {
	o, ok := other.(*minMaxAcc)
	if !ok || o.want != a.want {
		return aggMergeError(a.name, other)
	}
	a.offer(o.cur)
	return nil
}

func (a *minMaxAcc) Result() any   { return aggCopyValue(a.cur) }
func (a *minMaxAcc) Snapshot() any { return aggCopyValue(a.cur) }

// ---- ATTR ------------------------------------------------------------------------------------

func resolveAttr(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil {
		return nil, aggArgError("ATTR", args)
	}
	t := args[0]
	entry := types.StructOf(
		types.Field{Name: "VALUE", Type: t},
		types.Field{Name: "COUNT", Type: types.IntType},
	)
	state := types.ArrayOf(entry)
	return &AggregateImpl{
		ArgTypes: []*types.Type{t},
		Return:   t,
		State:    state,
		New:      func() Accumulator { return &attrAcc{entry: entry} },
		Restore: func(s any) (Accumulator, error) {
			a := &attrAcc{entry: entry}
			if s == nil {
				return a, nil
			}
			list, ok := s.([]any)
			if !ok {
				return nil, aggRestoreError("ATTR", s)
			}
			for _, e := range list {
				f, ok := aggStructFields(e, 2)
				if !ok {
					return nil, aggRestoreError("ATTR", s)
				}
				n, ok := aggI64(f[1])
				if !ok {
					return nil, aggRestoreError("ATTR", s)
				}
				a.update(aggCopyValue(f[0]), n)
			}
			return a, nil
		},
	}, nil
}

// attrAcc counts occurrences per distinct value (NULL is a value too, as in ksqlDB). A correct
// use has one entry, so a linear scan beats a map.
type attrAcc struct {
	entry  *types.Type
	keys   []any
	vals   []any
	counts []int64
}

func (a *attrAcc) update(v any, delta int64) {
	k := aggKeyOf(v)
	for i, key := range a.keys {
		if key == k {
			a.counts[i] = max(0, a.counts[i]+delta)
			return
		}
	}
	if delta > 0 {
		a.keys = append(a.keys, k)
		a.vals = append(a.vals, v)
		a.counts = append(a.counts, delta)
	}
}

func (a *attrAcc) Add(args []any) error {
	if err := aggArgCount("ATTR", args, 1); err != nil {
		return err
	}
	a.update(aggCopyValue(args[0]), 1)
	return nil
}

func (a *attrAcc) Undo(args []any) error {
	if err := aggArgCount("ATTR", args, 1); err != nil {
		return err
	}
	a.update(args[0], -1)
	return nil
}

func (a *attrAcc) Merge(other Accumulator) error {
	o, ok := other.(*attrAcc)
	if !ok {
		return aggMergeError("ATTR", other)
	}
	for i, v := range o.vals {
		a.update(aggCopyValue(v), o.counts[i])
	}
	return nil
}

func (a *attrAcc) Result() any {
	var found any
	n := 0
	for i, c := range a.counts {
		if c > 0 {
			n++
			found = a.vals[i]
		}
	}
	if n != 1 {
		return nil
	}
	return aggCopyValue(found)
}

func (a *attrAcc) Snapshot() any {
	out := make([]any, len(a.vals))
	for i, v := range a.vals {
		out[i] = aggStructOf(a.entry, aggCopyValue(v), int32(a.counts[i]))
	}
	return out
}
