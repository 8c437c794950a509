package functions

import (
	"fmt"
	"strconv"

	"github.com/sluicedb/sluice/sql/types"
)

// TOPK and TOPKDISTINCT.
//
// TOPK(x, k) returns the k largest non-NULL values of x, largest first, duplicates kept.
// TOPK(x, c0, c1, ..., k) returns ARRAY<STRUCT<sort_col, col0, col1, ...>> ordered by sort_col
// (x), carrying the other columns of the same rows. TOPKDISTINCT(x, k) returns the k largest
// distinct non-NULL values. Ties keep arrival order and a value equal to the current k-th does not
// displace it, as in ksqlDB.

func init() {
	Register(&Function{
		Name:     "TOPK",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Returns the top k values of a column, largest first; NULLs are ignored. With " +
			"extra columns, returns structs (sort_col, col0, ...) of the top k rows. Streams only.",
		Signatures: append(aggComparableSigs("val", ", k INT", "ARRAY<T>", "Top k values."),
			aggSig("val T, other1 T1, ..., k INT", "ARRAY<STRUCT<sort_col T, col0 T1, ...>>", "Top k rows by val, with other columns.")),
		ResolveAggregate: resolveTopK,
	})
	Register(&Function{
		Name:        "TOPKDISTINCT",
		Kind:        Aggregate,
		Category:    aggCategory,
		Description: "Returns the top k distinct values of a column, largest first; NULLs are ignored. Streams only.",
		Signatures:  aggComparableSigs("val", ", k INT", "ARRAY<T>", "Top k distinct values."),
		ResolveAggregate: func(args []*types.Type, initArgs []any, _ Config) (*AggregateImpl, error) {
			return resolveTopKDistinct(args, initArgs)
		},
	})
}

// aggTopKParam reads k, the last literal argument.
func aggTopKParam(name string, args []*types.Type, params []any) (int, error) {
	if len(params) == 0 {
		return 0, aggArgError(name, args)
	}
	k, ok := aggIntParam(params[len(params)-1])
	if !ok {
		return 0, aggArgError(name, args)
	}
	if k <= 0 {
		return 0, fmt.Errorf("%s: k must be 1 or greater, got %d", name, k)
	}
	return int(min(k, int64(1<<31-1))), nil
}

func resolveTopK(args []*types.Type, initArgs []any, _ Config) (*AggregateImpl, error) {
	// args ends with k's type (see agg_common.go); every argument before it is a column.
	if len(args) < 2 {
		return nil, aggArgError("TOPK", args)
	}
	cols, params, err := aggSplitParams("TOPK", args, initArgs, len(args)-1)
	if err != nil {
		return nil, err
	}
	k, err := aggTopKParam("TOPK", args, params)
	if err != nil {
		return nil, err
	}
	if !aggIsComparable(cols[0]) {
		return nil, aggArgError("TOPK", args)
	}
	for _, c := range cols[1:] {
		if c == nil {
			return nil, aggArgError("TOPK", args)
		}
	}
	var elem *types.Type
	if len(cols) == 1 {
		elem = cols[0]
	} else {
		fields := []types.Field{{Name: "sort_col", Type: cols[0]}}
		for i, c := range cols[1:] {
			fields = append(fields, types.Field{Name: "col" + strconv.Itoa(i), Type: c})
		}
		elem = types.StructOf(fields...)
	}
	arr := types.ArrayOf(elem)
	mk := func() *topKAcc {
		return &topKAcc{name: "TOPK", k: k, ncols: len(cols), elem: elem}
	}
	return &AggregateImpl{
		ArgTypes: append([]*types.Type(nil), cols...),
		Return:   arr,
		State:    arr,
		New:      func() Accumulator { return mk() },
		Restore: func(s any) (Accumulator, error) {
			a := mk()
			if s == nil {
				return a, nil
			}
			list, ok := s.([]any)
			if !ok {
				return nil, aggRestoreError("TOPK", s)
			}
			for _, e := range list {
				if a.sortKey(e) == nil {
					return nil, aggRestoreError("TOPK", s)
				}
				a.insert(aggCopyValue(e))
			}
			return a, nil
		},
	}, nil
}

func resolveTopKDistinct(args []*types.Type, initArgs []any) (*AggregateImpl, error) {
	cols, params, err := aggSplitParams("TOPKDISTINCT", args, initArgs, 1)
	if err != nil {
		return nil, err
	}
	if len(params) != 1 || !aggIsComparable(cols[0]) {
		return nil, aggArgError("TOPKDISTINCT", args)
	}
	k, err := aggTopKParam("TOPKDISTINCT", args, params)
	if err != nil {
		return nil, err
	}
	t := cols[0]
	arr := types.ArrayOf(t)
	mk := func() *topKAcc {
		return &topKAcc{name: "TOPKDISTINCT", k: k, ncols: 1, elem: t, distinct: true}
	}
	return &AggregateImpl{
		ArgTypes: []*types.Type{t},
		Return:   arr,
		State:    arr,
		New:      func() Accumulator { return mk() },
		Restore: func(s any) (Accumulator, error) {
			a := mk()
			if s == nil {
				return a, nil
			}
			list, ok := s.([]any)
			if !ok {
				return nil, aggRestoreError("TOPKDISTINCT", s)
			}
			for _, e := range list {
				if e == nil {
					return nil, aggRestoreError("TOPKDISTINCT", s)
				}
				a.insert(aggCopyValue(e))
			}
			return a, nil
		},
	}, nil
}

// topKAcc keeps at most k elements sorted descending by sort key. Elements are the values
// themselves (single column) or STRUCTs whose first field is the sort key.
type topKAcc struct {
	name     string
	k        int
	ncols    int
	elem     *types.Type
	distinct bool
	items    []any
}

func (a *topKAcc) sortKey(e any) any {
	if a.ncols == 1 {
		return e
	}
	s, ok := e.(*types.Struct)
	if !ok || s == nil || len(s.Vals) == 0 {
		return nil
	}
	return s.Vals[0]
}

// insert places e after every element that is not smaller (stable for ties), dropping it if the
// list is full and e is not larger than the smallest kept element.
func (a *topKAcc) insert(e any) {
	key := a.sortKey(e)
	n := len(a.items)
	if n >= a.k && aggCompare(key, a.sortKey(a.items[n-1])) <= 0 {
		return
	}
	pos := n
	for i, it := range a.items {
		c := aggCompare(key, a.sortKey(it))
		// The list is descending, so an equal element is met before the insertion point.
		if a.distinct && c == 0 {
			return
		}
		if c > 0 {
			pos = i
			break
		}
	}
	if n >= a.k {
		a.items = a.items[:n-1]
	}
	a.items = append(a.items, nil)
	copy(a.items[pos+1:], a.items[pos:])
	a.items[pos] = e
}

func (a *topKAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, a.ncols); err != nil {
		return err
	}
	if args[0] == nil {
		return nil
	}
	if a.ncols == 1 {
		a.insert(aggCopyValue(args[0]))
		return nil
	}
	vals := make([]any, a.ncols)
	for i := range vals {
		vals[i] = aggCopyValue(args[i])
	}
	a.insert(aggStructOf(a.elem, vals...))
	return nil
}

func (a *topKAcc) Undo([]any) error { return aggStreamOnlyUndo(a.name) }

// Merge interleaves the two descending lists, taking the left element on ties, up to k
// elements (and skipping duplicates for TOPKDISTINCT) — the same result ksqlDB's merger gives.
func (a *topKAcc) Merge(other Accumulator) error {
	o, ok := other.(*topKAcc)
	if !ok || o.distinct != a.distinct || o.ncols != a.ncols {
		return aggMergeError(a.name, other)
	}
	merged := make([]any, 0, min(a.k, len(a.items)+len(o.items)))
	i, j := 0, 0
	for len(merged) < a.k && (i < len(a.items) || j < len(o.items)) {
		var next any
		switch {
		case j >= len(o.items):
			next = a.items[i]
			i++
		case i >= len(a.items):
			next = aggCopyValue(o.items[j])
			j++
		default:
			c := aggCompare(a.sortKey(a.items[i]), a.sortKey(o.items[j]))
			if c >= 0 {
				next = a.items[i]
				i++
				if c == 0 && a.distinct {
					j++
				}
			} else {
				next = aggCopyValue(o.items[j])
				j++
			}
		}
		if a.distinct && len(merged) > 0 && aggCompare(a.sortKey(merged[len(merged)-1]), a.sortKey(next)) == 0 {
			continue
		}
		merged = append(merged, next)
	}
	a.items = merged
	return nil
}

func (a *topKAcc) Result() any {
	if a.items == nil {
		return []any{}
	}
	return aggCopyValue(a.items)
}

func (a *topKAcc) Snapshot() any { return a.Result() }
