package functions

import (
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/sluicedb/sluice/sql/types"
)

// LATEST_BY_OFFSET and EARLIEST_BY_OFFSET, in all four shapes: (x), (x, ignoreNulls), (x, n),
// (x, n, ignoreNulls). ignoreNulls defaults to true; the n-forms return ARRAY<T> (empty, never
// NULL, when nothing was kept).
//
// Add is called in offset order, so within one accumulator "latest" is simply the last value
// added. Merging session windows needs an order across accumulators, so every kept value is
// stamped with a process-wide sequence number, as ksqlDB does; Restore advances the counter past
// restored stamps so values added after a restart still order after restored ones (ksqlDB's
// in-memory counter restarts at zero, which can invert a merge after a restart).

var aggOffsetSeq atomic.Int64

func aggNextSeq() int64 { return aggOffsetSeq.Add(1) }

// aggSeenSeq makes future stamps larger than s.
func aggSeenSeq(s int64) {
	for {
		cur := aggOffsetSeq.Load()
		if cur >= s || aggOffsetSeq.CompareAndSwap(cur, s) {
			return
		}
	}
}

func init() {
	for _, latest := range []bool{true, false} {
		name, word := "EARLIEST_BY_OFFSET", "earliest"
		if latest {
			name, word = "LATEST_BY_OFFSET", "latest"
		}
		latest := latest
		Register(&Function{
			Name:     name,
			Kind:     Aggregate,
			Category: aggCategory,
			Description: fmt.Sprintf("Returns the %s value of a column by offset, or the %s N values "+
				"as an ARRAY. NULLs are ignored unless ignoreNulls is false. Streams only.", word, word),
			Signatures: []Signature{
				aggSig("val T", "T", fmt.Sprintf("The %s non-NULL value.", word)),
				aggSig("val T, ignoreNulls BOOLEAN", "T", fmt.Sprintf("The %s value, NULLs included unless ignoreNulls.", word)),
				aggSig("val T, n INT", "ARRAY<T>", fmt.Sprintf("The %s n non-NULL values, oldest first.", word)),
				aggSig("val T, n INT, ignoreNulls BOOLEAN", "ARRAY<T>", fmt.Sprintf("The %s n values, oldest first, NULLs included unless ignoreNulls.", word)),
			},
			ResolveAggregate: func(args []*types.Type, initArgs []any, _ Config) (*AggregateImpl, error) {
				return resolveByOffset(name, latest, args, initArgs)
			},
		})
	}
}

func resolveByOffset(name string, latest bool, args []*types.Type, initArgs []any) (*AggregateImpl, error) {
	cols, params, err := aggSplitParams(name, args, initArgs, 1)
	if err != nil {
		return nil, err
	}
	t := cols[0]
	if t == nil {
		return nil, aggArgError(name, args)
	}
	word := "earliest"
	if latest {
		word = "latest"
	}
	ignoreNulls, n := true, int64(0)
	switch len(params) {
	case 0:
	case 1:
		if b, ok := params[0].(bool); ok {
			ignoreNulls = b
		} else if v, ok := aggIntParam(params[0]); ok {
			n = v
			if n <= 0 {
				return nil, fmt.Errorf("%s: %sN must be 1 or greater", name, word)
			}
		} else {
			return nil, aggArgError(name, args)
		}
	case 2:
		v, ok1 := aggIntParam(params[0])
		b, ok2 := params[1].(bool)
		if !ok1 || !ok2 {
			return nil, aggArgError(name, args)
		}
		if v <= 0 {
			return nil, fmt.Errorf("%s: %sN must be 1 or greater", name, word)
		}
		n, ignoreNulls = v, b
	default:
		return nil, aggArgError(name, args)
	}
	entry := types.StructOf(
		types.Field{Name: "SEQ", Type: types.BigintType},
		types.Field{Name: "VAL", Type: t},
	)
	if n == 0 {
		mk := func() *byOffsetAcc {
			return &byOffsetAcc{name: name, latest: latest, ignoreNulls: ignoreNulls, entry: entry}
		}
		return &AggregateImpl{
			ArgTypes: []*types.Type{t},
			Return:   t,
			State:    entry,
			New:      func() Accumulator { return mk() },
			Restore: func(s any) (Accumulator, error) {
				a := mk()
				if s == nil {
					return a, nil
				}
				f, ok := aggStructFields(s, 2)
				if !ok {
					return nil, aggRestoreError(name, s)
				}
				if f[0] == nil { // nothing kept yet
					return a, nil
				}
				seq, ok := aggI64(f[0])
				if !ok {
					return nil, aggRestoreError(name, s)
				}
				aggSeenSeq(seq)
				a.set, a.seq, a.val = true, seq, aggCopyValue(f[1])
				return a, nil
			},
		}, nil
	}
	limit := int(min(n, int64(1<<31-1)))
	mk := func() *byOffsetNAcc {
		return &byOffsetNAcc{name: name, latest: latest, ignoreNulls: ignoreNulls, n: limit, entry: entry}
	}
	return &AggregateImpl{
		ArgTypes: []*types.Type{t},
		Return:   types.ArrayOf(t),
		State:    types.ArrayOf(entry),
		New:      func() Accumulator { return mk() },
		Restore: func(s any) (Accumulator, error) {
			a := mk()
			if s == nil {
				return a, nil
			}
			list, ok := s.([]any)
			if !ok {
				return nil, aggRestoreError(name, s)
			}
			for _, e := range list {
				f, ok := aggStructFields(e, 2)
				if !ok {
					return nil, aggRestoreError(name, s)
				}
				seq, ok := aggI64(f[0])
				if !ok {
					return nil, aggRestoreError(name, s)
				}
				aggSeenSeq(seq)
				a.items = append(a.items, offsetItem{seq: seq, val: aggCopyValue(f[1])})
			}
			a.sortAndTrim()
			return a, nil
		},
	}, nil
}

// byOffsetAcc is the single-value form. set distinguishes "nothing kept" from a kept NULL
// (possible when ignoreNulls is false).
type byOffsetAcc struct {
	name        string
	latest      bool
	ignoreNulls bool
	entry       *types.Type
	set         bool
	seq         int64
	val         any
}

func (a *byOffsetAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	v := args[0]
	if v == nil && a.ignoreNulls {
		return nil
	}
	if !a.latest && a.set {
		return nil
	}
	a.set, a.seq, a.val = true, aggNextSeq(), aggCopyValue(v)
	return nil
}

func (a *byOffsetAcc) Undo([]any) error { return aggStreamOnlyUndo(a.name) }

// Merge keeps the value with the later (latest) or earlier (earliest) stamp; a side that kept
// nothing never wins, which is how ksqlDB's ignore-nulls comparator treats its NULL side.
func (a *byOffsetAcc) Merge(other Accumulator) error {
	o, ok := other.(*byOffsetAcc)
	if !ok || o.latest != a.latest {
		return aggMergeError(a.name, other)
	}
	if !o.set {
		return nil
	}
	if !a.set || (a.latest && o.seq > a.seq) || (!a.latest && o.seq < a.seq) {
		a.set, a.seq, a.val = true, o.seq, aggCopyValue(o.val)
	}
	return nil
}

func (a *byOffsetAcc) Result() any { return aggCopyValue(a.val) }

func (a *byOffsetAcc) Snapshot() any {
	if !a.set {
		return aggStructOf(a.entry, nil, nil)
	}
	return aggStructOf(a.entry, a.seq, aggCopyValue(a.val))
}

type offsetItem struct {
	seq int64
	val any
}

// byOffsetNAcc keeps at most n stamped values in stamp order.
type byOffsetNAcc struct {
	name        string
	latest      bool
	ignoreNulls bool
	n           int
	entry       *types.Type
	items       []offsetItem
}

func (a *byOffsetNAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	v := args[0]
	if v == nil && a.ignoreNulls {
		return nil
	}
	if !a.latest && len(a.items) >= a.n {
		return nil // the earliest n are already kept
	}
	a.items = append(a.items, offsetItem{seq: aggNextSeq(), val: aggCopyValue(v)})
	if len(a.items) > a.n {
		// Shift in place rather than reslicing so the backing array does not grow forever.
		copy(a.items, a.items[len(a.items)-a.n:])
		a.items = a.items[:a.n]
	}
	return nil
}

func (a *byOffsetNAcc) Undo([]any) error { return aggStreamOnlyUndo(a.name) }

func (a *byOffsetNAcc) sortAndTrim() {
	sort.SliceStable(a.items, func(i, j int) bool { return a.items[i].seq < a.items[j].seq })
	if len(a.items) > a.n {
		if a.latest {
			a.items = append([]offsetItem(nil), a.items[len(a.items)-a.n:]...)
		} else {
			a.items = a.items[:a.n]
		}
	}
}

func (a *byOffsetNAcc) Merge(other Accumulator) error {
	o, ok := other.(*byOffsetNAcc)
	if !ok || o.latest != a.latest {
		return aggMergeError(a.name, other)
	}
	for _, it := range o.items {
		a.items = append(a.items, offsetItem{seq: it.seq, val: aggCopyValue(it.val)})
	}
	a.sortAndTrim()
	return nil
}

func (a *byOffsetNAcc) Result() any {
	out := make([]any, len(a.items))
	for i, it := range a.items {
		out[i] = aggCopyValue(it.val)
	}
	return out
}

func (a *byOffsetNAcc) Snapshot() any {
	out := make([]any, len(a.items))
	for i, it := range a.items {
		out[i] = aggStructOf(a.entry, it.seq, aggCopyValue(it.val))
	}
	return out
}
