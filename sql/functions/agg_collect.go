package functions

import (
	"github.com/sluicedb/sluice/sql/types"
)

// COLLECT_LIST, COLLECT_SET and HISTOGRAM.
//
// As in ksqlDB, COLLECT_LIST and COLLECT_SET keep NULL values (a NULL is one more element),
// and both stop growing silently at their configured limit
// (ksql.functions.collect_list.limit / ksql.functions.collect_set.limit; unset or negative means
// unlimited). On a session merge the left window's values come first, then the right's.

const (
	collectListLimitKey = "ksql.functions.collect_list.limit"
	collectSetLimitKey  = "ksql.functions.collect_set.limit"
	histogramLimit      = 1000
)

func init() {
	Register(&Function{
		Name:     "COLLECT_LIST",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Gathers all the values of a column in a group into an ARRAY, in arrival order. " +
			"The size is capped by " + collectListLimitKey + "; values beyond it are ignored.",
		Signatures: []Signature{
			aggSig("val T", "ARRAY<T>", "All values, NULLs included."),
		},
		ResolveAggregate: func(args []*types.Type, _ []any, cfg Config) (*AggregateImpl, error) {
			return resolveCollect("COLLECT_LIST", false, args, cfg)
		},
	})
	Register(&Function{
		Name:     "COLLECT_SET",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Gathers the distinct values of a column in a group into an ARRAY, in order of " +
			"first appearance. The size is capped by " + collectSetLimitKey + ". Streams only.",
		Signatures: []Signature{
			aggSig("val T", "ARRAY<T>", "Distinct values, NULL included once if present."),
		},
		ResolveAggregate: func(args []*types.Type, _ []any, cfg Config) (*AggregateImpl, error) {
			return resolveCollect("COLLECT_SET", true, args, cfg)
		},
	})
	Register(&Function{
		Name:     "HISTOGRAM",
		Kind:     Aggregate,
		Category: aggCategory,
		Description: "Returns a MAP of each distinct STRING value of a column to the number of times " +
			"it occurs in the group. At most 1000 distinct values are counted; further ones are ignored.",
		Signatures: []Signature{
			aggSig("val STRING", "MAP<STRING, BIGINT>", "Value-to-count histogram; NULLs are ignored."),
		},
		ResolveAggregate: resolveHistogram,
	})
}

func resolveCollect(name string, distinct bool, args []*types.Type, cfg Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil {
		return nil, aggArgError(name, args)
	}
	key := collectListLimitKey
	if distinct {
		key = collectSetLimitKey
	}
	limit, err := aggParseLimit(cfg, key)
	if err != nil {
		return nil, err
	}
	t := args[0]
	mk := func() *collectAcc {
		a := &collectAcc{name: name, distinct: distinct, limit: limit}
		if distinct {
			a.seen = map[any]struct{}{}
		}
		return a
	}
	return &AggregateImpl{
		ArgTypes: []*types.Type{t},
		Return:   types.ArrayOf(t),
		State:    types.ArrayOf(t),
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
			for _, v := range list {
				a.add(aggCopyValue(v))
			}
			return a, nil
		},
	}, nil
}

type collectAcc struct {
	name     string
	distinct bool
	limit    int
	vals     []any
	seen     map[any]struct{} // COLLECT_SET only
}

func (a *collectAcc) add(v any) {
	if len(a.vals) >= a.limit {
		return
	}
	if a.distinct {
		k := aggKeyOf(v)
		if _, dup := a.seen[k]; dup {
			return
		}
		a.seen[k] = struct{}{}
	}
	a.vals = append(a.vals, v)
}

func (a *collectAcc) Add(args []any) error {
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	a.add(aggCopyValue(args[0]))
	return nil
}

// Undo removes the last occurrence of the value (ksqlDB does the same: it cannot tell which
// occurrence the retracted row added). A value that is absent was dropped by the limit.
func (a *collectAcc) Undo(args []any) error {
	if a.distinct {
		return aggStreamOnlyUndo(a.name)
	}
	if err := aggArgCount(a.name, args, 1); err != nil {
		return err
	}
	k := aggKeyOf(args[0])
	for i := len(a.vals) - 1; i >= 0; i-- {
		if aggKeyOf(a.vals[i]) == k {
			a.vals = append(a.vals[:i], a.vals[i+1:]...)
			return nil
		}
	}
	return nil
}

func (a *collectAcc) Merge(other Accumulator) error {
	o, ok := other.(*collectAcc)
	if !ok || o.distinct != a.distinct {
		return aggMergeError(a.name, other)
	}
	for _, v := range o.vals {
		a.add(aggCopyValue(v))
	}
	return nil
}

func (a *collectAcc) Result() any { return aggCopyValue(a.vals) }

func (a *collectAcc) Snapshot() any {
	if a.vals == nil {
		return []any{}
	}
	return aggCopyValue(a.vals)
}

// ---- HISTOGRAM -------------------------------------------------------------------------------

var histogramType = types.MapOf(types.StringType, types.BigintType)

func resolveHistogram(args []*types.Type, _ []any, _ Config) (*AggregateImpl, error) {
	if len(args) != 1 || args[0] == nil || args[0].Kind != types.KindString {
		return nil, aggArgError("HISTOGRAM", args)
	}
	return &AggregateImpl{
		ArgTypes: []*types.Type{types.StringType},
		Return:   histogramType,
		State:    histogramType,
		New:      func() Accumulator { return newHistogram() },
		Restore: func(s any) (Accumulator, error) {
			a := newHistogram()
			if s == nil {
				return a, nil
			}
			m, ok := s.(*types.Map)
			if !ok || m == nil || len(m.Keys) != len(m.Vals) {
				return nil, aggRestoreError("HISTOGRAM", s)
			}
			for i, k := range m.Keys {
				ks, ok1 := k.(string)
				n, ok2 := aggI64(m.Vals[i])
				if !ok1 || !ok2 {
					return nil, aggRestoreError("HISTOGRAM", s)
				}
				a.bump(ks, n)
			}
			return a, nil
		},
	}, nil
}

// histogramAcc counts per string in first-seen order (the output MAP is insertion ordered).
type histogramAcc struct {
	counts map[string]int64
	order  []string
}

func newHistogram() *histogramAcc { return &histogramAcc{counts: map[string]int64{}} }

// bump adds delta to k's count, honouring the 1000-entry cap for new keys and dropping keys whose
// count reaches zero (ksqlDB removes them, so a retracted value disappears from the map).
func (a *histogramAcc) bump(k string, delta int64) {
	c, present := a.counts[k]
	if !present {
		if delta <= 0 || len(a.counts) >= histogramLimit {
			return
		}
		a.order = append(a.order, k)
	}
	c += delta
	if c < 1 {
		delete(a.counts, k)
		for i, o := range a.order {
			if o == k {
				a.order = append(a.order[:i], a.order[i+1:]...)
				break
			}
		}
		return
	}
	a.counts[k] = c
}

func (a *histogramAcc) arg(args []any) (string, bool, error) {
	if err := aggArgCount("HISTOGRAM", args, 1); err != nil {
		return "", false, err
	}
	if args[0] == nil {
		return "", false, nil // a NULL key cannot be serialized in a MAP<STRING, ...>
	}
	s, ok := args[0].(string)
	if !ok {
		return "", false, aggBadArg("HISTOGRAM", args[0])
	}
	return s, true, nil
}

func (a *histogramAcc) Add(args []any) error {
	s, ok, err := a.arg(args)
	if ok {
		a.bump(s, 1)
	}
	return err
}

func (a *histogramAcc) Undo(args []any) error {
	s, ok, err := a.arg(args)
	if ok {
		a.bump(s, -1)
	}
	return err
}

func (a *histogramAcc) Merge(other Accumulator) error {
	o, ok := other.(*histogramAcc)
	if !ok {
		return aggMergeError("HISTOGRAM", other)
	}
	for _, k := range o.order {
		a.bump(k, o.counts[k])
	}
	return nil
}

func (a *histogramAcc) Result() any {
	m := &types.Map{Keys: make([]any, len(a.order)), Vals: make([]any, len(a.order))}
	for i, k := range a.order {
		m.Keys[i] = k
		m.Vals[i] = a.counts[k]
	}
	return m
}

func (a *histogramAcc) Snapshot() any { return a.Result() }
