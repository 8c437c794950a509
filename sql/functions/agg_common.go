package functions

// Shared plumbing for the built-in aggregate (agg_*.go) and table (table_*.go) functions.
//
// Argument convention for ResolveAggregate, which every aggregate here follows:
//
//   - args holds the type of every argument of the call, in order (nil for a NULL literal), so
//     len(args) is the call's arity. COUNT(*) and COUNT() arrive with no arguments.
//   - initArgs holds the values of the trailing constant arguments, aligned to the end of args:
//     initArgs[i] is the value of argument len(args)-len(initArgs)+i.
//   - The returned AggregateImpl.ArgTypes are the column arguments: exec evaluates the first
//     len(ArgTypes) arguments for every row and passes them to Accumulator.Add in that order.
//     Parameters such as TOPK's k or LATEST_BY_OFFSET's n/ignoreNulls are read from initArgs only.

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/sql/types"
)

// Category names shown by SHOW FUNCTIONS / DESCRIBE FUNCTION.
const (
	aggCategory   = "AGGREGATE"
	tableCategory = "TABLE"
)

// aggTableCapable lists the aggregates that may run over a table source (KSQL_FACTS part D "T"):
// table aggregations retract the previous row with Undo before adding the new one, so only
// aggregates with a real Undo qualify. The others return an error from Undo.
var aggTableCapable = map[string]bool{
	"AVG":           true,
	"COLLECT_LIST":  true,
	"CORRELATION":   true,
	"COUNT":         true,
	"HISTOGRAM":     true,
	"STDDEV_SAMP":   true,
	"STDDEV_SAMPLE": true,
	"SUM":           true,
	"SUM_LIST":      true,
	"ATTR":          true,
}

// AggregateSupportsTables reports whether the named built-in aggregate can aggregate a table
// source (it implements Undo). The binder uses it to reject e.g. MIN over a table with ksqlDB's
// "The aggregation functions ... cannot be applied to a table source, only to a stream source."
func AggregateSupportsTables(name string) bool {
	return aggTableCapable[strings.ToUpper(name)]
}

// aggStreamOnlyUndo is the Undo error of stream-only aggregates; reaching it means the binder let
// a stream-only aggregate run over a table.
func aggStreamOnlyUndo(name string) error {
	return fmt.Errorf("the aggregation function %s cannot be applied to a table source, only to a stream source", name)
}

// aggTypeList renders argument types the way ksqlDB does in "does not accept parameters" errors.
func aggTypeList(args []*types.Type) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String() // nil prints NULL
	}
	return strings.Join(parts, ", ")
}

// aggArgError is the resolution failure for unsupported argument types.
func aggArgError(name string, args []*types.Type) error {
	return fmt.Errorf("Function '%s' does not accept parameters (%s).", name, aggTypeList(args))
}

// aggMergeError reports a Merge between accumulators of different implementations.
func aggMergeError(name string, other Accumulator) error {
	return fmt.Errorf("%s: cannot merge with %T", name, other)
}

// aggRestoreError reports a snapshot that is not a value of the implementation's State type.
func aggRestoreError(name string, snap any) error {
	return fmt.Errorf("%s: invalid state snapshot of type %T", name, snap)
}

// aggArgCount makes Add fail instead of panicking when exec passes too few values.
func aggArgCount(name string, args []any, n int) error {
	if len(args) < n {
		return fmt.Errorf("%s: expected %d argument(s), got %d", name, n, len(args))
	}
	return nil
}

// aggBadArg reports a row value whose Go type does not match the resolved argument type.
func aggBadArg(name string, v any) error {
	return fmt.Errorf("%s: unexpected argument value of type %T", name, v)
}

// aggSplitParams separates the column argument types from the trailing literal parameters for
// aggregates of the form F(col..., param...), where cols is the number of column arguments.
// Following the convention above, the parameters are the values of args[cols:], which must all be
// literals (a column argument that happens to be a literal, as in LATEST_BY_OFFSET(5), also shows
// up in initArgs and is correctly left out). A non-literal parameter is ksqlDB's "must be a literal
// constant" error.
func aggSplitParams(name string, args []*types.Type, initArgs []any, cols int) ([]*types.Type, []any, error) {
	if len(args) < cols {
		return nil, nil, aggArgError(name, args)
	}
	trailing := len(args) - cols
	if trailing > len(initArgs) {
		// The first non-literal parameter is args[cols]; ksqlDB counts positions from 1.
		return nil, nil, fmt.Errorf("Parameter %d passed to function %s must be a literal constant",
			cols+1, name)
	}
	return args[:cols], initArgs[len(initArgs)-trailing:], nil
}

// aggIntParam reads an integer literal parameter.
func aggIntParam(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// aggParseLimit reads a collect limit property: unset or negative means unlimited, as in ksqlDB.
func aggParseLimit(cfg Config, key string) (int, error) {
	s, ok := cfg[key]
	if !ok || strings.TrimSpace(s) == "" {
		return math.MaxInt, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid value for %s: %q", key, s)
	}
	if n < 0 {
		return math.MaxInt, nil
	}
	return int(n), nil
}

// aggI64 reads an INT or BIGINT argument.
func aggI64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	}
	return 0, false
}

// aggF64 reads any numeric argument as a DOUBLE, which is how ksqlDB's DOUBLE overloads see INT,
// BIGINT and DECIMAL arguments after implicit widening.
func aggF64(v any) (float64, bool) {
	if f, ok := v.(float64); ok {
		return f, true
	}
	return types.ToFloat(v)
}

// aggIsComparable reports whether values of t have a total order usable by MIN/MAX/TOPK.
func aggIsComparable(t *types.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case types.KindInt, types.KindBigint, types.KindDouble, types.KindDecimal, types.KindString,
		types.KindBytes, types.KindDate, types.KindTime, types.KindTimestamp:
		return true
	}
	return false
}

// aggCompare orders two non-NULL values of one comparable type; values that cannot be compared
// (which a correct binder never produces) sort as equal rather than panicking.
func aggCompare(a, b any) int {
	c, ok := types.Compare(a, b)
	if !ok {
		return 0
	}
	return c
}

// Keys for hashing SQL values. aggKeyOf maps a value to a comparable Go value such that two SQL
// values get equal keys exactly when they are equal in the Java sense ksqlDB uses for sets and
// maps (Objects.equals): NULL equals NULL, NaN equals NaN, 0.0 and -0.0 differ, arrays compare
// element-wise, maps ignore entry order. Numbers of one column always share a Go type, so no
// cross-type folding is needed.
type (
	aggNullKey      struct{}
	aggFloatKey     uint64
	aggDecKey       string
	aggBytesKey     string
	aggCompositeKey string
)

func aggFloatBits(f float64) uint64 {
	if math.IsNaN(f) {
		return 0x7ff8000000000000 // Java's canonical NaN, so every NaN is one key
	}
	return math.Float64bits(f)
}

func aggKeyOf(v any) any {
	switch x := v.(type) {
	case nil:
		return aggNullKey{}
	case bool, int32, int64, string, types.Date, types.Time, types.Timestamp:
		return x
	case float64:
		return aggFloatKey(aggFloatBits(x))
	case decimal.Decimal:
		return aggDecKey(x.String()) // String trims trailing zeros: 9.80 and 9.8 are one key
	case []byte:
		return aggBytesKey(x)
	default:
		var sb strings.Builder
		aggEncode(&sb, v)
		return aggCompositeKey(sb.String())
	}
}

// aggEncode writes an unambiguous, type-tagged encoding of v; it is the canonical form behind
// composite keys and the COUNT_DISTINCT hash.
func aggEncode(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		sb.WriteByte('N')
	case bool:
		if x {
			sb.WriteString("T")
		} else {
			sb.WriteString("F")
		}
	case int32:
		sb.WriteString("i")
		sb.WriteString(strconv.FormatInt(int64(x), 10))
		sb.WriteByte(';')
	case int64:
		sb.WriteString("l")
		sb.WriteString(strconv.FormatInt(x, 10))
		sb.WriteByte(';')
	case float64:
		sb.WriteString("d")
		sb.WriteString(strconv.FormatUint(aggFloatBits(x), 16))
		sb.WriteByte(';')
	case decimal.Decimal:
		sb.WriteString("m")
		sb.WriteString(x.String())
		sb.WriteByte(';')
	case string:
		sb.WriteString("s")
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte(':')
		sb.WriteString(x)
	case []byte:
		sb.WriteString("b")
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte(':')
		sb.Write(x)
	case types.Date:
		sb.WriteString("D")
		sb.WriteString(strconv.FormatInt(int64(x), 10))
		sb.WriteByte(';')
	case types.Time:
		sb.WriteString("t")
		sb.WriteString(strconv.FormatInt(int64(x), 10))
		sb.WriteByte(';')
	case types.Timestamp:
		sb.WriteString("P")
		sb.WriteString(strconv.FormatInt(int64(x), 10))
		sb.WriteByte(';')
	case []any:
		sb.WriteString("A")
		sb.WriteString(strconv.Itoa(len(x)))
		sb.WriteByte('[')
		for _, e := range x {
			aggEncode(sb, e)
		}
		sb.WriteByte(']')
	case *types.Map:
		if x == nil {
			sb.WriteByte('N')
			return
		}
		// Entry order does not matter for map equality, so encode entries sorted.
		entries := make([]string, len(x.Keys))
		for i := range x.Keys {
			var e strings.Builder
			aggEncode(&e, x.Keys[i])
			if i < len(x.Vals) {
				aggEncode(&e, x.Vals[i])
			}
			entries[i] = e.String()
		}
		sort.Strings(entries)
		sb.WriteString("M")
		sb.WriteString(strconv.Itoa(len(entries)))
		sb.WriteByte('{')
		for _, e := range entries {
			sb.WriteString(e)
		}
		sb.WriteByte('}')
	case *types.Struct:
		if x == nil {
			sb.WriteByte('N')
			return
		}
		sb.WriteString("S")
		sb.WriteString(strconv.Itoa(len(x.Vals)))
		sb.WriteByte('(')
		for _, e := range x.Vals {
			aggEncode(sb, e)
		}
		sb.WriteByte(')')
	default:
		fmt.Fprintf(sb, "?%T:%v;", v, v)
	}
}

// aggHash is a stable 64-bit hash of a value (stable across processes, since HLL registers
// derived from it are persisted in snapshots).
func aggHash(v any) uint64 {
	var sb strings.Builder
	aggEncode(&sb, v)
	h := fnv.New64a()
	_, _ = h.Write([]byte(sb.String()))
	// FNV's high bits mix poorly for short inputs; HLL takes its register index from them, so
	// finish with the splitmix64 avalanche.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// aggCopyValue deep-copies mutable containers so values handed out by Result/Snapshot never
// alias accumulator state (and state never aliases caller-owned input rows).
func aggCopyValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = aggCopyValue(e)
		}
		return out
	case []byte:
		return append([]byte(nil), x...)
	case *types.Map:
		if x == nil {
			return x
		}
		m := &types.Map{Keys: make([]any, len(x.Keys)), Vals: make([]any, len(x.Vals))}
		for i := range x.Keys {
			m.Keys[i] = aggCopyValue(x.Keys[i])
		}
		for i := range x.Vals {
			m.Vals[i] = aggCopyValue(x.Vals[i])
		}
		return m
	case *types.Struct:
		if x == nil {
			return x
		}
		s := &types.Struct{Names: x.Names, Vals: make([]any, len(x.Vals))}
		for i := range x.Vals {
			s.Vals[i] = aggCopyValue(x.Vals[i])
		}
		return s
	}
	return v
}

// aggStructOf builds a STRUCT value of type t from field values (names shared with the type).
func aggStructOf(t *types.Type, vals ...any) *types.Struct {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return &types.Struct{Names: names, Vals: vals}
}

// aggStructFields reads a STRUCT snapshot with exactly n fields.
func aggStructFields(snap any, n int) ([]any, bool) {
	s, ok := snap.(*types.Struct)
	if !ok || s == nil || len(s.Vals) != n {
		return nil, false
	}
	return s.Vals, true
}

// aggSig is a Signature literal helper.
func aggSig(args, returns, desc string) Signature {
	return Signature{Args: args, Returns: returns, Description: desc}
}
