package functions

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/sql/types"
)

// Vectors below are taken from the ksqlDB conformance corpus
// (/work/shared/qtt/query-validation-tests/*.json; the file is named per case) unless marked
// "own". Each step adds ('a') or undoes ('u') one row and states the expected result after it;
// a table update is an undo of the old row followed by an add of the new one.

type aggStep struct {
	op      byte // 'a' add, 'u' undo
	args    []any
	want    any
	wantErr string // non-empty: the step must fail with an error containing this
}

func aAdd(want any, args ...any) aggStep  { return aggStep{op: 'a', args: args, want: want} }
func aUndo(want any, args ...any) aggStep { return aggStep{op: 'u', args: args, want: want} }
func aAddErr(msg string, args ...any) aggStep {
	return aggStep{op: 'a', args: args, wantErr: msg}
}

type aggCase struct {
	name  string
	fn    string
	args  []*types.Type
	init  []any
	cfg   Config
	ret   *types.Type // expected Return type (optional)
	steps []aggStep
}

var (
	aInt   = types.IntType
	aBig   = types.BigintType
	aDbl   = types.DoubleType
	aStr   = types.StringType
	aBool  = types.BooleanType
	aBytes = types.BytesType
	aDate  = types.DateType
	aTime  = types.TimeType
	aTs    = types.TimestampType
	aI32   = func(v int32) any { return v }
	aDec   = func(s string) any { return decimal.RequireFromString(s) }
	aArr   = func(v ...any) []any { return append([]any{}, v...) }
	aMap   = func(kv ...any) *types.Map {
		m := &types.Map{}
		for i := 0; i < len(kv); i += 2 {
			m.Put(kv[i], kv[i+1])
		}
		return m
	}
	aNaN     = math.NaN()
	aMinInt  = int64(math.MinInt64)
	aMaxLong = int64(math.MaxInt64)
)

func aggCases() []aggCase {
	return []aggCase{
		// ---- sum.json
		{name: "sum int", fn: "SUM", args: []*types.Type{aInt}, ret: aInt, steps: []aggStep{
			aAdd(aI32(0), aI32(0)), aAdd(aI32(100), aI32(100)), aAdd(aI32(100), nil),
		}},
		{name: "sum int wraps like java (own)", fn: "SUM", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(aI32(math.MaxInt32), aI32(math.MaxInt32)), aAdd(aI32(math.MinInt32), aI32(1)),
		}},
		{name: "sum int left join of table", fn: "SUM", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(aI32(0), nil), aUndo(aI32(0), nil), aAdd(aI32(5), aI32(5)), aUndo(aI32(0), aI32(5)),
			aAdd(aI32(20), aI32(20)), aUndo(aI32(0), aI32(20)),
		}},
		{name: "sum long", fn: "SUM", args: []*types.Type{aBig}, ret: aBig, steps: []aggStep{
			aAdd(int64(2147483648), int64(2147483648)), aAdd(int64(2147483748), int64(100)),
		}},
		{name: "sum double", fn: "SUM", args: []*types.Type{aDbl}, ret: aDbl, steps: []aggStep{
			aAdd(5.4, 5.4), aAdd(105.5, 100.1),
		}},
		{name: "sum double 2", fn: "SUM", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(500.9, 500.9), aAdd(801.7, 300.8),
		}},
		{name: "sum constant double arg", fn: "SUM", args: []*types.Type{aDbl}, init: []any{1.0}, steps: []aggStep{
			aAdd(1.0, 1.0), aAdd(2.0, 1.0), aAdd(3.0, 1.0),
		}},
		{name: "sum decimal", fn: "SUM", args: []*types.Type{types.DecimalOf(4, 1)}, ret: types.DecimalOf(4, 1), steps: []aggStep{
			aAdd(aDec("5.4"), aDec("5.4")), aAdd(aDec("105.5"), aDec("100.1")),
		}},
		{name: "sum decimal with overflow", fn: "SUM", args: []*types.Type{types.DecimalOf(4, 1)}, steps: []aggStep{
			aAdd(aDec("500.9"), aDec("500.9")), aAdd(aDec("801.7"), aDec("300.8")),
			aAddErr("Numeric field overflow", aDec("400.8")),
		}},
		{name: "sum decimal cast to higher precision", fn: "SUM", args: []*types.Type{types.DecimalOf(6, 2)}, steps: []aggStep{
			aAdd(aDec("500.90"), aDec("500.90")), aAdd(aDec("801.70"), aDec("300.80")), aAdd(aDec("1202.50"), aDec("400.80")),
		}},
		{name: "sum decimal cast to lower precision", fn: "SUM", args: []*types.Type{types.DecimalOf(3, 1)}, steps: []aggStep{
			aAdd(aDec("50.9"), aDec("50.9")), aAddErr("Numeric field overflow", aDec("50.8")),
		}},
		{name: "sum decimal aUndo (own)", fn: "SUM", args: []*types.Type{types.DecimalOf(4, 1)}, steps: []aggStep{
			aAdd(aDec("5.4"), aDec("5.4")), aUndo(aDec("0.0"), aDec("5.4")), aAdd(aDec("0"), nil),
		}},
		// sum_list (sum.json)
		{name: "sum list of doubles", fn: "SUM_LIST", args: []*types.Type{types.ArrayOf(aDbl)}, ret: aDbl, steps: []aggStep{
			aAdd(2.0, aArr(1.0, 1.0)), aAdd(6.0, aArr(2.0, 2.0)), aAdd(922337203692.0, aArr(922337203685.0, 1.0)),
			aAdd(922337203694.0, aArr(1.0, 1.0, nil)), aUndo(922337203692.0, aArr(1.0, 1.0)), aAdd(922337203692.0, nil),
		}},
		{name: "sum list of ints", fn: "SUM_LIST", args: []*types.Type{types.ArrayOf(aInt)}, ret: aInt, steps: []aggStep{
			aAdd(aI32(2), aArr(aI32(1), aI32(1))), aAdd(aI32(6), aArr(aI32(2), aI32(2))), aAdd(aI32(206), aArr(aI32(100), aI32(100))),
			aAdd(aI32(406), aArr(aI32(100), aI32(100), nil)),
		}},
		{name: "sum list of longs", fn: "SUM_LIST", args: []*types.Type{types.ArrayOf(aBig)}, ret: aBig, steps: []aggStep{
			aAdd(int64(2), aArr(int64(1), int64(1))), aAdd(int64(6), aArr(int64(2), int64(2))),
			aAdd(int64(206), aArr(int64(100), int64(100))), aAdd(int64(406), aArr(int64(100), int64(100), nil)),
		}},

		// ---- average-udaf.json
		{name: "average int alice", fn: "AVG", args: []*types.Type{aInt}, ret: aDbl, steps: []aggStep{
			aAdd(1.0, aI32(1)), aAdd(1.5, aI32(2)), aAdd(1.6666666666666667, aI32(2)), aAdd(1.6666666666666667, nil),
		}},
		{name: "average int bob", fn: "AVG", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(2.0, aI32(2)), aAdd(2.0, aI32(2)), aAdd(1.3333333333333333, aI32(0)),
		}},
		{name: "average long alice", fn: "AVG", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(-1.0, int64(-1)), aAdd(4.611686018427388e+18, aMaxLong), aAdd(3.0744573456182584e+18, int64(1)),
			aAdd(3.0744573456182584e+18, nil),
		}},
		{name: "average long bob", fn: "AVG", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(2.0, int64(2)), aAdd(0.0, int64(-2)), aAdd(0.0, int64(0)),
		}},
		{name: "average double alice", fn: "AVG", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(-1.8, -1.8), aAdd(4611686018426.487, 9223372036854.775), aAdd(3074457345651.058, 100.2), aAdd(3074457345651.058, nil),
		}},
		{name: "average double bob", fn: "AVG", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(2.3, 2.3), aAdd(-99999.15000000001, -200000.6), aAdd(-66666.1, 0.0),
		}},
		{name: "average udaf with table", fn: "AVG", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(1.0, aI32(1)), aAdd(1.5, aI32(2)), aUndo(2.0, aI32(1)), aAdd(2.0, nil), aUndo(2.0, nil), aAdd(3.0, aI32(4)),
		}},
		{name: "average empty is 0.0 (own)", fn: "AVG", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, nil),
		}},
		{name: "average decimal widens to double (own)", fn: "AVG", args: []*types.Type{types.DecimalOf(4, 1)}, ret: aDbl, steps: []aggStep{
			aAdd(1.5, 1.5), aAdd(2.0, 2.5),
		}},

		// ---- count.json
		{name: "count()", fn: "COUNT", ret: aBig, steps: []aggStep{aAdd(int64(1)), aAdd(int64(2))}},
		{name: "count literal", fn: "COUNT", args: []*types.Type{aInt}, init: []any{aI32(1)}, steps: []aggStep{
			aAdd(int64(1), aI32(1)), aAdd(int64(2), aI32(1)),
		}},
		{name: "count table bob", fn: "COUNT", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(int64(1), aI32(1)), aUndo(int64(0), aI32(1)),
		}},
		{name: "count table john", fn: "COUNT", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(int64(1), aI32(1)), aAdd(int64(2), aI32(1)), aUndo(int64(1), aI32(1)),
		}},
		{name: "should count back to zero", fn: "COUNT", steps: []aggStep{
			aAdd(int64(1)), aAdd(int64(2)), aUndo(int64(1)), aUndo(int64(0)),
		}},
		{name: "count col skips nulls (own)", fn: "COUNT", args: []*types.Type{aStr}, steps: []aggStep{
			aAdd(int64(1), "a"), aAdd(int64(1), nil), aUndo(int64(1), nil), aUndo(int64(0), "a"),
		}},

		// ---- count-distinct.json
		{name: "count distinct", fn: "COUNT_DISTINCT", args: []*types.Type{aStr}, ret: aBig, steps: []aggStep{
			aAdd(int64(1), "one"), aAdd(int64(2), "two"), aAdd(int64(2), "one"), aAdd(int64(2), "two"), aAdd(int64(2), nil),
		}},
		{name: "count distinct doubles aNaN and zeros (own)", fn: "COUNT_DISTINCT", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(int64(1), aNaN), aAdd(int64(1), aNaN), aAdd(int64(2), 0.0), aAdd(int64(3), math.Copysign(0, -1)),
		}},

		// ---- standarddeviation.json
		{name: "stddev_sample int 0", fn: "STDDEV_SAMPLE", args: []*types.Type{aInt}, ret: aDbl, steps: []aggStep{
			aAdd(0.0, aI32(0)), aAdd(7.0710678118654755, aI32(10)), aAdd(5.131601439446884, aI32(7)), aAdd(4.193248541803041, aI32(6)),
		}},
		{name: "stddev_sample int 100", fn: "STDDEV_SAMPLE", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(0.0, aI32(50)), aAdd(28.284271247461902, aI32(10)), aAdd(25.357444666211933, aI32(3)), aAdd(25.357444666211933, nil),
		}},
		{name: "stddev_sample long 0", fn: "STDDEV_SAMPLE", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(0.0, int64(2147483648)), aAdd(1518500179.2773468, int64(100)), aAdd(1239850233.9629574, int64(-2)), aAdd(1239850233.9629574, nil),
		}},
		{name: "stddev_sample long 100", fn: "STDDEV_SAMPLE", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(0.0, int64(500)), aAdd(282.842712474619, int64(100)), aAdd(264.5751311064591, int64(0)), aAdd(239.32335169528832, int64(-6)),
		}},
		{name: "stddev_sample double 0", fn: "STDDEV_SAMPLE", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, -1.8), aAdd(2.899137802864845, 2.3), aAdd(57.74256084841869, 100.2), aAdd(57.74256084841869, nil),
		}},
		{name: "stddev_sample double 100", fn: "STDDEV_SAMPLE", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, 9223372036854.775), aAdd(6521908912453.693, 300.8), aAdd(5325116385962.54, -200000.6), aAdd(4611686051710.689, 0.0),
		}},
		{name: "stddev_sample double map", fn: "STDDEV_SAMPLE", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, 10.0), aAdd(1.4142135623730951, 12.0), aAdd(1.5275252316519465, 13.0), aAdd(1.707825127659933, 14.0), aAdd(2.23606797749979, 16.0),
		}},
		{name: "stddev_samp int 0", fn: "STDDEV_SAMP", args: []*types.Type{aInt}, ret: aDbl, steps: []aggStep{
			aAdd(0.0, aI32(0)), aAdd(50.0, aI32(10)), aAdd(26.333333333333332, aI32(7)), aAdd(17.583333333333332, aI32(6)),
		}},
		{name: "stddev_samp int 100", fn: "STDDEV_SAMP", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(0.0, aI32(50)), aAdd(800.0, aI32(10)), aAdd(643.0, aI32(3)), aAdd(643.0, nil),
		}},
		{name: "stddev_samp long 0", fn: "STDDEV_SAMP", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(0.0, int64(2147483648)), aAdd(2.3058427944653343e+18, int64(100)), aAdd(1.5372286026580004e+18, int64(-2)),
		}},
		{name: "stddev_samp long 100", fn: "STDDEV_SAMP", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(0.0, int64(500)), aAdd(80000.0, int64(100)), aAdd(70000.0, int64(0)), aAdd(57275.666666666664, int64(-6)),
		}},
		{name: "stddev_samp double 0", fn: "STDDEV_SAMP", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, -1.8), aAdd(8.405, 2.3), aAdd(3334.2033333333347, 100.2), aAdd(3334.2033333333347, nil),
		}},
		{name: "stddev_samp double 100", fn: "STDDEV_SAMP", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, 9223372036854.775), aAdd(4.253529586234292e+25, 300.8), aAdd(2.835686452404674e+25, -200000.6), aAdd(2.1267648239542927e+25, 0.0),
		}},
		{name: "stddev_samp double map", fn: "STDDEV_SAMP", args: []*types.Type{aDbl}, steps: []aggStep{
			aAdd(0.0, 10.0), aAdd(2.0, 12.0), aAdd(2.333333333333333, 13.0), aAdd(2.9166666666666665, 14.0), aAdd(5.0, 16.0),
		}},
		{name: "stddev_samp aUndo restores (own)", fn: "STDDEV_SAMP", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(0.0, aI32(0)), aAdd(50.0, aI32(10)), aAdd(26.333333333333332, aI32(7)), aUndo(50.0, aI32(7)), aUndo(0.0, aI32(10)),
		}},

		// ---- correlation-udaf.json
		{name: "correlation double alice", fn: "CORRELATION", args: []*types.Type{aDbl, aDbl}, ret: aDbl, steps: []aggStep{
			aAdd(aNaN, 1.5, 8.0), aAdd(1.0, -1.0, -2.0), aAdd(0.7580764521133173, -4.5, -1.0), aAdd(0.7580764521133173, nil, -6.0),
		}},
		{name: "correlation double bob", fn: "CORRELATION", args: []*types.Type{aDbl, aDbl}, steps: []aggStep{
			aAdd(aNaN, -3.5, -2.0), aAdd(aNaN, 13.1, nil), aAdd(1.0, 3.0, 11.0),
		}},
		{name: "correlation int alice", fn: "CORRELATION", args: []*types.Type{aInt, aInt}, steps: []aggStep{
			aAdd(aNaN, 1.0, 8.0), aAdd(1.0, -1.0, -2.0), aAdd(0.7455284088780169, -4.0, -1.0), aAdd(0.7455284088780169, nil, -6.0),
		}},
		{name: "correlation udaf with table", fn: "CORRELATION", args: []*types.Type{aDbl, aDbl}, steps: []aggStep{
			aAdd(aNaN, 1.5, 8.0), aAdd(1.0, -3.5, -2.0), aUndo(aNaN, 1.5, 8.0), aAdd(aNaN, -1.0, -2.0), aAdd(-0.7205766921228921, -4.5, -1.0),
		}},

		// ---- latest-offset-udaf.json / udaf.json
		{name: "latest by offset struct", fn: "LATEST_BY_OFFSET", args: []*types.Type{types.StructOf(types.Field{Name: "A", Type: aStr})}, steps: []aggStep{
			aAdd(&types.Struct{Names: []string{"A"}, Vals: []any{"Early0"}}, &types.Struct{Names: []string{"A"}, Vals: []any{"Early0"}}),
			aAdd(&types.Struct{Names: []string{"A"}, Vals: []any{"Later0"}}, &types.Struct{Names: []string{"A"}, Vals: []any{"Later0"}}),
		}},
		{name: "latest by offset map", fn: "LATEST_BY_OFFSET", args: []*types.Type{types.MapOf(aStr, aDbl)}, steps: []aggStep{
			aAdd(aMap("Early0", 1.234), aMap("Early0", 1.234)), aAdd(aMap("Later0", 3.6789), aMap("Later0", 3.6789)),
		}},
		{name: "latest by offset bytes", fn: "LATEST_BY_OFFSET", args: []*types.Type{aBytes}, steps: []aggStep{
			aAdd([]byte("a"), []byte("a")), aAdd([]byte("b"), []byte("b")),
		}},
		{name: "latest by offset decimals", fn: "LATEST_BY_OFFSET", args: []*types.Type{types.DecimalOf(3, 2), aBool}, init: []any{true}, ret: types.DecimalOf(3, 2), steps: []aggStep{
			aAdd(aDec("3.40"), aDec("3.40")), aAdd(aDec("8.90"), aDec("8.90")),
		}},
		{name: "latest nulls ignored - single", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aBool}, init: []any{true}, steps: []aggStep{
			aAdd(aI32(12), aI32(12)), aAdd(aI32(12), nil), aAdd(aI32(13), aI32(13)),
		}},
		{name: "latest nulls ignored - multiple", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aInt, aBool}, init: []any{aI32(2), true}, ret: types.ArrayOf(aInt), steps: []aggStep{
			aAdd(aArr(aI32(12)), aI32(12)), aAdd(aArr(aI32(12)), nil), aAdd(aArr(aI32(12), aI32(13)), aI32(13)),
		}},
		{name: "latest nulls not ignored - single", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aBool}, init: []any{false}, steps: []aggStep{
			aAdd(aI32(12), aI32(12)), aAdd(nil, nil), aAdd(aI32(13), aI32(13)),
		}},
		{name: "latest nulls not ignored - multiple", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aInt, aBool}, init: []any{aI32(2), false}, steps: []aggStep{
			aAdd(aArr(aI32(12)), aI32(12)), aAdd(aArr(aI32(12), nil), nil), aAdd(aArr(nil, aI32(13)), aI32(13)),
		}},
		{name: "latest by offset with all nulls", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(nil, nil), aAdd(nil, nil),
		}},
		{name: "latest n by offset", fn: "LATEST_BY_OFFSET", args: []*types.Type{aStr, aInt}, init: []any{aI32(2)}, steps: []aggStep{
			aAdd(aArr("foo"), "foo"), aAdd(aArr("foo", "bar"), "bar"), aAdd(aArr("bar", "baz"), "baz"),
		}},
		{name: "latest n by offset with nulls", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aInt}, init: []any{aI32(2)}, steps: []aggStep{
			aAdd(aArr(aI32(12)), aI32(12)), aAdd(aArr(aI32(12)), nil),
		}},
		{name: "latest n by offset with all nulls", fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aInt}, init: []any{aI32(2)}, steps: []aggStep{
			aAdd(aArr(), nil), aAdd(aArr(), nil),
		}},
		{name: "earliest support more than one literal param", fn: "EARLIEST_BY_OFFSET", args: []*types.Type{aInt, aInt, aBool}, init: []any{aI32(2), true}, steps: []aggStep{
			aAdd(aArr(aI32(1)), aI32(1)), aAdd(aArr(aI32(1), aI32(2)), aI32(2)), aAdd(aArr(aI32(1), aI32(2)), aI32(3)),
		}},
		{name: "earliest single (own)", fn: "EARLIEST_BY_OFFSET", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(nil, nil), aAdd(aI32(5), aI32(5)), aAdd(aI32(5), aI32(6)),
		}},
		{name: "earliest keeps leading null when not ignored (own)", fn: "EARLIEST_BY_OFFSET", args: []*types.Type{aInt, aBool}, init: []any{false}, steps: []aggStep{
			aAdd(nil, nil), aAdd(nil, aI32(5)),
		}},

		// ---- histogram.json
		{name: "histogram string", fn: "HISTOGRAM", args: []*types.Type{aStr}, ret: types.MapOf(aStr, aBig), steps: []aggStep{
			aAdd(aMap("foo", int64(1)), "foo"), aAdd(aMap("foo", int64(1), "bar", int64(1)), "bar"), aAdd(aMap("foo", int64(1), "bar", int64(1)), nil),
		}},
		{name: "histogram on a table east", fn: "HISTOGRAM", args: []*types.Type{aStr}, steps: []aggStep{
			aAdd(aMap("alice", int64(1)), "alice"), aAdd(aMap("alice", int64(1), "bob", int64(1)), "bob"), aUndo(aMap("alice", int64(1)), "bob"),
		}},
		{name: "histogram on a table west", fn: "HISTOGRAM", args: []*types.Type{aStr}, steps: []aggStep{
			aAdd(aMap("carol", int64(1)), "carol"), aAdd(aMap("carol", int64(1), "dave", int64(1)), "dave"),
			aAdd(aMap("carol", int64(1), "dave", int64(1), "bob", int64(1)), "bob"), aUndo(aMap("carol", int64(1), "dave", int64(1)), "bob"),
		}},

		// ---- topk-distinct.json
		{name: "topk distinct integer", fn: "TOPKDISTINCT", args: []*types.Type{aInt, aInt}, init: []any{aI32(3)}, ret: types.ArrayOf(aInt), steps: []aggStep{
			aAdd(aArr(aI32(0)), aI32(0)), aAdd(aArr(aI32(100), aI32(0)), aI32(100)), aAdd(aArr(aI32(100), aI32(99), aI32(0)), aI32(99)),
			aAdd(aArr(aI32(100), aI32(99), aI32(7)), aI32(7)), aAdd(aArr(aI32(100), aI32(99), aI32(7)), aI32(100)),
		}},
		{name: "topk distinct long", fn: "TOPKDISTINCT", args: []*types.Type{aBig, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr(int64(2147483648)), int64(2147483648)), aAdd(aArr(int64(2147483648), int64(100)), int64(100)),
			aAdd(aArr(int64(2147483648), int64(100), int64(99)), int64(99)), aAdd(aArr(int64(2147483648), int64(100), int64(99)), int64(7)),
			aAdd(aArr(int64(2147483648), int64(100), int64(99)), int64(100)),
		}},
		{name: "topk distinct string", fn: "TOPKDISTINCT", args: []*types.Type{aStr, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr("a"), "a"), aAdd(aArr("b", "a"), "b"), aAdd(aArr("c", "b", "a"), "c"), aAdd(aArr("c", "b", "a"), "b"), aAdd(aArr("d", "c", "b"), "d"),
		}},
		{name: "topk distinct decimal", fn: "TOPKDISTINCT", args: []*types.Type{types.DecimalOf(2, 1), aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr(aDec("9.8")), aDec("9.8")), aAdd(aArr(aDec("9.8"), aDec("8.9")), aDec("8.9")), aAdd(aArr(aDec("9.8"), aDec("8.9")), nil),
			aAdd(aArr(aDec("9.8"), aDec("8.9"), aDec("7.8")), aDec("7.8")), aAdd(aArr(aDec("9.8"), aDec("8.9"), aDec("7.8")), aDec("6.5")),
			aAdd(aArr(aDec("9.9"), aDec("9.8"), aDec("8.9")), aDec("9.9")),
		}},
		{name: "topk distinct bytes", fn: "TOPKDISTINCT", args: []*types.Type{aBytes, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr([]byte("B")), []byte("B")), aAdd(aArr([]byte("F"), []byte("B")), []byte("F")),
			aAdd(aArr([]byte("G"), []byte("F"), []byte("B")), []byte("G")), aAdd(aArr([]byte("G"), []byte("F"), []byte("B")), nil),
			aAdd(aArr([]byte("G"), []byte("F"), []byte("B")), []byte("A")), aAdd(aArr([]byte("G"), []byte("F"), []byte("B")), []byte("F")),
		}},
		{name: "topk distinct date", fn: "TOPKDISTINCT", args: []*types.Type{aDate, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr(types.Date(0)), types.Date(0)), aAdd(aArr(types.Date(100), types.Date(0)), types.Date(100)),
			aAdd(aArr(types.Date(100), types.Date(99), types.Date(0)), types.Date(99)), aAdd(aArr(types.Date(100), types.Date(99), types.Date(0)), nil),
			aAdd(aArr(types.Date(100), types.Date(99), types.Date(0)), types.Date(-7)), aAdd(aArr(types.Date(100), types.Date(99), types.Date(0)), types.Date(100)),
		}},
		{name: "topk distinct time", fn: "TOPKDISTINCT", args: []*types.Type{aTime, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr(types.Time(0)), types.Time(0)), aAdd(aArr(types.Time(100), types.Time(0)), types.Time(100)),
			aAdd(aArr(types.Time(100), types.Time(99), types.Time(0)), types.Time(99)), aAdd(aArr(types.Time(100), types.Time(99), types.Time(0)), nil),
			aAdd(aArr(types.Time(100), types.Time(99), types.Time(7)), types.Time(7)), aAdd(aArr(types.Time(100), types.Time(99), types.Time(7)), types.Time(100)),
		}},
		{name: "topk distinct timestamp", fn: "TOPKDISTINCT", args: []*types.Type{aTs, aInt}, init: []any{aI32(3)}, steps: []aggStep{
			aAdd(aArr(types.Timestamp(0)), types.Timestamp(0)), aAdd(aArr(types.Timestamp(100), types.Timestamp(0)), types.Timestamp(100)),
			aAdd(aArr(types.Timestamp(100), types.Timestamp(99), types.Timestamp(0)), types.Timestamp(99)),
			aAdd(aArr(types.Timestamp(100), types.Timestamp(99), types.Timestamp(0)), types.Timestamp(-7)),
		}},

		// ---- TOPK (own; ksqlDB semantics: duplicates kept, ties keep arrival order)
		{name: "topk int (own)", fn: "TOPK", args: []*types.Type{aInt, aInt}, init: []any{aI32(3)}, ret: types.ArrayOf(aInt), steps: []aggStep{
			aAdd(aArr(aI32(5)), aI32(5)), aAdd(aArr(aI32(5), aI32(3)), aI32(3)), aAdd(aArr(aI32(5), aI32(5), aI32(3)), aI32(5)),
			aAdd(aArr(aI32(5), aI32(5), aI32(3)), aI32(1)), aAdd(aArr(aI32(7), aI32(5), aI32(5)), aI32(7)), aAdd(aArr(aI32(7), aI32(5), aI32(5)), nil),
		}},
		{name: "topk struct form (own)", fn: "TOPK", args: []*types.Type{aDbl, aStr, aInt}, init: []any{aI32(2)},
			ret: types.ArrayOf(types.StructOf(types.Field{Name: "sort_col", Type: aDbl}, types.Field{Name: "col0", Type: aStr})),
			steps: []aggStep{
				aAdd(aArr(&types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{1.5, "a"}}), 1.5, "a"),
				aAdd(aArr(&types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{2.5, "b"}}, &types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{1.5, "a"}}), 2.5, "b"),
				aAdd(aArr(&types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{2.5, "b"}}, &types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{1.5, "a"}}), 1.5, "c"),
				aAdd(aArr(&types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{2.5, "b"}}, &types.Struct{Names: []string{"sort_col", "col0"}, Vals: []any{1.5, "a"}}), nil, "d"),
			}},

		// ---- COLLECT_LIST (create-struct.json) / COLLECT_SET (own)
		{name: "collect list in aggregate", fn: "COLLECT_LIST", args: []*types.Type{aInt}, ret: types.ArrayOf(aInt), steps: []aggStep{
			aAdd(aArr(aI32(1)), aI32(1)), aAdd(aArr(aI32(1), aI32(2)), aI32(2)),
		}},
		{name: "collect list nulls, limit and aUndo (own)", fn: "COLLECT_LIST", args: []*types.Type{aStr}, cfg: Config{collectListLimitKey: "3"}, steps: []aggStep{
			aAdd(aArr("a"), "a"), aAdd(aArr("a", nil), nil), aAdd(aArr("a", nil, "a"), "a"), aAdd(aArr("a", nil, "a"), "b"),
			aUndo(aArr("a", nil, "a"), "b"), aUndo(aArr("a", nil), "a"), aAdd(aArr("a", nil, "c"), "c"),
		}},
		{name: "collect set (own)", fn: "COLLECT_SET", args: []*types.Type{types.ArrayOf(aInt)}, cfg: Config{collectSetLimitKey: "2"}, steps: []aggStep{
			aAdd(aArr(aArr(aI32(1))), aArr(aI32(1))), aAdd(aArr(aArr(aI32(1))), aArr(aI32(1))), aAdd(aArr(aArr(aI32(1)), nil), nil), aAdd(aArr(aArr(aI32(1)), nil), aArr(aI32(2))),
		}},

		// ---- MIN / MAX (case-expression.json, session-windows.json; own)
		{name: "min buy price", fn: "MIN", args: []*types.Type{aInt}, ret: aInt, steps: []aggStep{
			aAdd(aI32(120125102), aI32(120125102)), aAdd(aI32(120125102), nil),
		}},
		{name: "min sell price", fn: "MIN", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(nil, nil), aAdd(aI32(100125102), aI32(100125102)),
		}},
		{name: "max bigint", fn: "MAX", args: []*types.Type{aBig}, steps: []aggStep{
			aAdd(int64(0), int64(0)), aAdd(int64(1), int64(1)), aAdd(int64(1), aMinInt), aAdd(int64(6), int64(6)),
		}},
		{name: "max string and min bytes (own)", fn: "MAX", args: []*types.Type{aStr}, steps: []aggStep{
			aAdd("b", "b"), aAdd("b", "a"), aAdd("c", "c"),
		}},
		{name: "min decimal (own)", fn: "MIN", args: []*types.Type{types.DecimalOf(4, 2)}, steps: []aggStep{
			aAdd(aDec("1.50"), aDec("1.50")), aAdd(aDec("-1.00"), aDec("-1.00")), aAdd(aDec("-1.00"), aDec("3.00")),
		}},
		{name: "min timestamp (own)", fn: "MIN", args: []*types.Type{aTs}, steps: []aggStep{
			aAdd(types.Timestamp(5), types.Timestamp(5)), aAdd(types.Timestamp(3), types.Timestamp(3)),
		}},

		// ---- ATTR (own)
		{name: "attr", fn: "ATTR", args: []*types.Type{aStr}, ret: aStr, steps: []aggStep{
			aAdd("a", "a"), aAdd("a", "a"), aAdd(nil, "b"), aUndo("a", "b"), aUndo("a", "a"), aUndo(nil, "a"), aAdd("c", "c"),
		}},
		{name: "attr null is a value (own)", fn: "ATTR", args: []*types.Type{aInt}, steps: []aggStep{
			aAdd(nil, nil), aAdd(nil, aI32(1)), aUndo(aI32(1), nil),
		}},
	}
}

// aggResolve resolves fn for the case's argument types.
func aggResolve(t testing.TB, fn string, args []*types.Type, init []any, cfg Config) *AggregateImpl {
	t.Helper()
	f, ok := Lookup(fn)
	if !ok || f.Kind != Aggregate || f.ResolveAggregate == nil {
		t.Fatalf("%s is not a registered aggregate", fn)
	}
	impl, err := f.ResolveAggregate(args, init, cfg)
	if err != nil {
		t.Fatalf("resolve %s(%s): %v", fn, aggTypeList(args), err)
	}
	return impl
}

func TestAggCorpusVectors(t *testing.T) {
	for _, c := range aggCases() {
		t.Run(c.name, func(t *testing.T) {
			impl := aggResolve(t, c.fn, c.args, c.init, c.cfg)
			if c.ret != nil && !impl.Return.Equal(c.ret) {
				t.Fatalf("return type %s, want %s", impl.Return, c.ret)
			}
			// plain runs the steps on one accumulator; rt is replaced by Restore(Snapshot()) after
			// every step, so snapshots must carry the complete state.
			plain, rt := impl.New(), impl.New()
			for i, s := range c.steps {
				for _, acc := range []*Accumulator{&plain, &rt} {
					var err error
					if s.op == 'a' {
						err = (*acc).Add(s.args)
					} else {
						err = (*acc).Undo(s.args)
					}
					if s.wantErr != "" {
						if err == nil || !strings.Contains(err.Error(), s.wantErr) {
							t.Fatalf("step %d: error %v, want %q", i, err, s.wantErr)
						}
						return
					}
					if err != nil {
						t.Fatalf("step %d (%c %v): %v", i, s.op, s.args, err)
					}
					if got := (*acc).Result(); !aggValuesEqual(got, s.want) {
						t.Fatalf("step %d (%c %v): result %s, want %s", i, s.op, s.args, aggShow(got), aggShow(s.want))
					}
					if got := (*acc).Result(); !aggValueOfType(got, impl.Return) {
						t.Fatalf("step %d: result %s is not a %s", i, aggShow(got), impl.Return)
					}
				}
				snap := rt.Snapshot()
				if !aggValueOfType(snap, impl.State) {
					t.Fatalf("step %d: snapshot %s is not a %s", i, aggShow(snap), impl.State)
				}
				restored, err := impl.Restore(snap)
				if err != nil {
					t.Fatalf("step %d: restore: %v", i, err)
				}
				if got := restored.Result(); !aggValuesEqual(got, s.want) {
					t.Fatalf("step %d: restored result %s, want %s", i, aggShow(got), aggShow(s.want))
				}
				rt = restored
			}
		})
	}
}

// TestAggEveryAggregateCovered makes sure the round-trip vectors above exercise every registered
// aggregate, so a new aggregate cannot skip the Snapshot/Restore test.
func TestAggEveryAggregateCovered(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range aggCases() {
		covered[c.fn] = true
	}
	for _, f := range All() {
		if f.Kind != Aggregate || !strings.HasPrefix(f.Category, aggCategory) || f.ResolveAggregate == nil {
			continue
		}
		if !covered[f.Name] {
			t.Errorf("aggregate %s has no test vectors", f.Name)
		}
		if f.Description == "" || len(f.Signatures) == 0 {
			t.Errorf("aggregate %s lacks a description or signatures", f.Name)
		}
	}
}

func TestAggRegistryMetadata(t *testing.T) {
	for _, name := range []string{"COUNT", "COUNT_DISTINCT", "SUM", "SUM_LIST", "AVG", "MIN", "MAX",
		"LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET", "COLLECT_LIST", "COLLECT_SET", "HISTOGRAM", "TOPK",
		"TOPKDISTINCT", "STDDEV_SAMP", "STDDEV_SAMPLE", "CORRELATION", "ATTR"} {
		f, ok := Lookup(strings.ToLower(name))
		if !ok {
			t.Errorf("%s not registered", name)
			continue
		}
		if f.Kind != Aggregate || f.Category != "AGGREGATE" {
			t.Errorf("%s: kind %s category %q", name, f.Kind, f.Category)
		}
	}
	for name, table := range map[string]bool{"SUM": true, "count": true, "MIN": false, "LATEST_BY_OFFSET": false, "COLLECT_SET": false, "COLLECT_LIST": true} {
		if AggregateSupportsTables(name) != table {
			t.Errorf("AggregateSupportsTables(%s) = %v", name, !table)
		}
	}
}

func TestAggStreamOnlyUndoFails(t *testing.T) {
	for _, c := range []struct {
		fn   string
		args []*types.Type
		init []any
	}{
		{"MIN", []*types.Type{aInt}, nil},
		{"MAX", []*types.Type{aInt}, nil},
		{"LATEST_BY_OFFSET", []*types.Type{aInt}, nil},
		{"EARLIEST_BY_OFFSET", []*types.Type{aInt, aInt}, []any{aI32(2)}},
		{"COLLECT_SET", []*types.Type{aInt}, nil},
		{"COUNT_DISTINCT", []*types.Type{aInt}, nil},
		{"TOPK", []*types.Type{aInt, aInt}, []any{aI32(2)}},
		{"TOPKDISTINCT", []*types.Type{aInt, aInt}, []any{aI32(2)}},
	} {
		acc := aggResolve(t, c.fn, c.args, c.init, nil).New()
		if err := acc.Undo([]any{aI32(1)}); err == nil || !strings.Contains(err.Error(), "table source") {
			t.Errorf("%s: Undo error %v", c.fn, err)
		}
	}
}

func TestAggResolveErrors(t *testing.T) {
	for _, c := range []struct {
		fn   string
		args []*types.Type
		init []any
		want string
	}{
		{"SUM", []*types.Type{aStr}, nil, "Function 'SUM' does not accept parameters (STRING)."},
		{"AVG", []*types.Type{aBool}, nil, "does not accept parameters (BOOLEAN)"},
		{"MAX", []*types.Type{types.ArrayOf(aInt)}, nil, "does not accept parameters (ARRAY<INTEGER>)"},
		{"HISTOGRAM", []*types.Type{aInt}, nil, "does not accept"},
		{"EARLIEST_BY_OFFSET", []*types.Type{aInt, aInt}, nil, "Parameter 2 passed to function EARLIEST_BY_OFFSET must be a literal constant"},
		{"LATEST_BY_OFFSET", []*types.Type{aInt, aInt}, []any{aI32(0)}, "latestN must be 1 or greater"},
		{"TOPK", []*types.Type{aInt, aInt}, []any{aI32(0)}, "k must be 1 or greater"},
		{"TOPKDISTINCT", []*types.Type{aInt}, nil, "does not accept"},
		{"COLLECT_LIST", []*types.Type{aInt}, nil, ""},
		{"CORRELATION", []*types.Type{aDbl}, nil, "does not accept"},
		{"SUM_LIST", []*types.Type{types.ArrayOf(aStr)}, nil, "does not accept"},
	} {
		f, _ := Lookup(c.fn)
		cfg := Config{}
		if c.fn == "COLLECT_LIST" {
			cfg[collectListLimitKey] = "lots"
			c.want = "invalid value for " + collectListLimitKey
		}
		_, err := f.ResolveAggregate(c.args, c.init, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s(%s): error %v, want %q", c.fn, aggTypeList(c.args), err, c.want)
		}
	}
}

// TestAggBadInputNeverPanics feeds wrong-typed and short argument lists to every aggregate.
func TestAggBadInputNeverPanics(t *testing.T) {
	for _, c := range aggCases() {
		impl := aggResolve(t, c.fn, c.args, c.init, c.cfg)
		acc := impl.New()
		for _, args := range [][]any{nil, {}, {struct{}{}}, {"x", "y", "z"}, {[]any{struct{}{}}}} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: Add(%v) panicked: %v", c.name, args, r)
					}
				}()
				_ = acc.Add(args)
				_ = acc.Undo(args)
				_ = acc.Result()
				_ = acc.Snapshot()
			}()
		}
		for _, snap := range []any{"bogus", 42, []any{"x"}, &types.Struct{Vals: []any{"a"}}} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: Restore(%v) panicked: %v", c.name, snap, r)
					}
				}()
				if a, err := impl.Restore(snap); err == nil && a != nil {
					_ = a.Result()
				}
			}()
		}
	}
}

// ---- Merge (session windows) -----------------------------------------------------------------

func aggRun(t *testing.T, impl *AggregateImpl, rows ...[]any) Accumulator {
	t.Helper()
	acc := impl.New()
	for _, r := range rows {
		if err := acc.Add(r); err != nil {
			t.Fatalf("add %v: %v", r, err)
		}
	}
	return acc
}

func aRow(v ...any) []any { return v }

// Session merges as Kafka Streams performs them: a fresh aggregate merges the existing
// sessions in order, then the new record is added (latest-offset-udaf.json "merging session
// windows" cases).
func TestAggMergeSessionByOffset(t *testing.T) {
	for _, c := range []struct {
		name       string
		args       []*types.Type
		init       []any
		a, b, next []any
		wantA      any
		wantB      any
		want       any
		skipNext   bool
	}{
		{"merging session windows", []*types.Type{aInt}, nil, aRow(aI32(1)), aRow(aI32(3)), aRow(aI32(2)), aI32(1), aI32(3), aI32(2), false},
		{"with nulls ignored", []*types.Type{aInt}, nil, aRow(aI32(1)), aRow(nil), aRow(aI32(2)), aI32(1), nil, aI32(2), false},
		{"with nulls ignored when merging", []*types.Type{aInt}, nil, aRow(aI32(1)), aRow(nil), nil, aI32(1), nil, aI32(1), true},
		{"with nulls not ignored", []*types.Type{aInt, aBool}, []any{false}, aRow(aI32(1)), aRow(nil), aRow(aI32(2)), aI32(1), nil, aI32(2), false},
		{"with nulls not ignored when merging", []*types.Type{aInt, aBool}, []any{false}, aRow(aI32(1)), aRow(nil), nil, aI32(1), nil, nil, true},
		{"all nulls", []*types.Type{aInt, aBool}, []any{false}, aRow(nil), aRow(nil), aRow(nil), nil, nil, nil, false},
		{"with nulls ignored - N", []*types.Type{aInt, aInt, aBool}, []any{aI32(2), true}, aRow(aI32(1)), aRow(nil), aRow(aI32(2)), aArr(aI32(1)), aArr(), aArr(aI32(1), aI32(2)), false},
		{"with nulls not ignored - N", []*types.Type{aInt, aInt, aBool}, []any{aI32(2), false}, aRow(aI32(1)), aRow(nil), aRow(aI32(2)), aArr(aI32(1)), aArr(nil), aArr(nil, aI32(2)), false},
		{"all nulls - N", []*types.Type{aInt, aInt, aBool}, []any{aI32(2), false}, aRow(nil), aRow(nil), aRow(nil), aArr(nil), aArr(nil), aArr(nil, nil), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			impl := aggResolve(t, "LATEST_BY_OFFSET", c.args, c.init, nil)
			a, b := aggRun(t, impl, c.a), aggRun(t, impl, c.b)
			if !aggValuesEqual(a.Result(), c.wantA) || !aggValuesEqual(b.Result(), c.wantB) {
				t.Fatalf("sessions %s %s", aggShow(a.Result()), aggShow(b.Result()))
			}
			m := impl.New()
			if err := m.Merge(a); err != nil {
				t.Fatal(err)
			}
			if err := m.Merge(b); err != nil {
				t.Fatal(err)
			}
			if !c.skipNext {
				if err := m.Add(c.next); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.Result(); !aggValuesEqual(got, c.want) {
				t.Fatalf("merged %s, want %s", aggShow(got), aggShow(c.want))
			}
		})
	}
}

// TestAggMergeMatchesSequential checks that merging two accumulators equals feeding all rows to
// one, for every mergeable aggregate.
func TestAggMergeMatchesSequential(t *testing.T) {
	ints := func(vs ...int32) [][]any {
		out := make([][]any, len(vs))
		for i, v := range vs {
			out[i] = aRow(v)
		}
		return out
	}
	dbls := func(vs ...float64) [][]any {
		out := make([][]any, len(vs))
		for i, v := range vs {
			out[i] = aRow(v)
		}
		return out
	}
	for _, c := range []struct {
		fn     string
		args   []*types.Type
		init   []any
		left   [][]any
		right  [][]any
		approx bool
	}{
		{fn: "COUNT", left: [][]any{{}, {}}, right: [][]any{{}}},
		{fn: "COUNT", args: []*types.Type{aInt}, left: ints(1, 2), right: [][]any{{nil}, {aI32(3)}}},
		{fn: "SUM", args: []*types.Type{aInt}, left: ints(1, 2), right: ints(3)},
		{fn: "SUM", args: []*types.Type{types.DecimalOf(5, 2)}, left: [][]any{{aDec("1.25")}}, right: [][]any{{aDec("2.50")}}},
		{fn: "SUM_LIST", args: []*types.Type{types.ArrayOf(aBig)}, left: [][]any{{aArr(int64(1), int64(2))}}, right: [][]any{{aArr(int64(3))}}},
		{fn: "AVG", args: []*types.Type{aDbl}, left: dbls(1, 2), right: dbls(4)},
		{fn: "AVG", args: []*types.Type{aBig}, left: [][]any{{int64(1)}}, right: [][]any{{int64(4)}, {nil}}},
		{fn: "MIN", args: []*types.Type{aInt}, left: ints(5, 2), right: ints(3)},
		{fn: "MAX", args: []*types.Type{aStr}, left: [][]any{{"a"}}, right: [][]any{{"c"}, {"b"}}},
		{fn: "STDDEV_SAMP", args: []*types.Type{aDbl}, left: dbls(1, 2, 3), right: dbls(10, 20), approx: true},
		{fn: "STDDEV_SAMPLE", args: []*types.Type{aInt}, left: ints(1, 3), right: ints(10, 20, 40), approx: true},
		{fn: "STDDEV_SAMP", args: []*types.Type{aInt}, left: nil, right: ints(10, 20), approx: true},
		{fn: "CORRELATION", args: []*types.Type{aDbl, aDbl}, left: [][]any{{1.0, 2.0}, {2.0, 3.5}}, right: [][]any{{3.0, 7.0}}, approx: true},
		{fn: "COUNT_DISTINCT", args: []*types.Type{aStr}, left: [][]any{{"a"}, {"b"}}, right: [][]any{{"b"}, {"c"}}},
		{fn: "COLLECT_LIST", args: []*types.Type{aInt}, left: ints(1, 2), right: ints(2, 3)},
		{fn: "COLLECT_SET", args: []*types.Type{aInt}, left: ints(1, 2), right: ints(2, 3)},
		{fn: "HISTOGRAM", args: []*types.Type{aStr}, left: [][]any{{"a"}, {"b"}}, right: [][]any{{"b"}, {"c"}}},
		{fn: "TOPK", args: []*types.Type{aInt, aInt}, init: []any{aI32(3)}, left: ints(5, 1, 4), right: ints(4, 2, 9)},
		{fn: "TOPKDISTINCT", args: []*types.Type{aInt, aInt}, init: []any{aI32(3)}, left: ints(5, 1, 4), right: ints(4, 2, 9)},
		{fn: "TOPKDISTINCT", args: []*types.Type{aInt, aInt}, init: []any{aI32(4)}, left: ints(5, 4), right: ints(5, 4)},
		{fn: "ATTR", args: []*types.Type{aStr}, left: [][]any{{"x"}}, right: [][]any{{"x"}}},
		{fn: "EARLIEST_BY_OFFSET", args: []*types.Type{aInt}, left: ints(1, 2), right: ints(3)},
		{fn: "EARLIEST_BY_OFFSET", args: []*types.Type{aInt, aInt}, init: []any{aI32(2)}, left: ints(1), right: ints(3, 4)},
		{fn: "LATEST_BY_OFFSET", args: []*types.Type{aInt, aInt}, init: []any{aI32(3)}, left: ints(1, 2), right: ints(3, 4)},
	} {
		t.Run(c.fn, func(t *testing.T) {
			impl := aggResolve(t, c.fn, c.args, c.init, nil)
			seq := aggRun(t, impl, append(append([][]any{}, c.left...), c.right...)...)
			l, r := aggRun(t, impl, c.left...), aggRun(t, impl, c.right...)
			if err := l.Merge(r); err != nil {
				t.Fatal(err)
			}
			got, want := l.Result(), seq.Result()
			if c.approx {
				g, _ := got.(float64)
				w, _ := want.(float64)
				if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
					t.Fatalf("merged %v, sequential %v", g, w)
				}
				return
			}
			if !aggValuesEqual(got, want) {
				t.Fatalf("merged %s, sequential %s", aggShow(got), aggShow(want))
			}
			// Merging a different implementation is an error, never a panic.
			if err := l.Merge(&countAcc{}); c.fn != "COUNT" && err == nil {
				t.Fatalf("merge with foreign accumulator succeeded")
			}
		})
	}
}

func TestAggCollectListSessionLimit(t *testing.T) {
	// Own: the limit applies to left window first, then the right one (ksqlDB docs).
	impl := aggResolve(t, "COLLECT_LIST", []*types.Type{aInt}, nil, Config{collectListLimitKey: "3"})
	l := aggRun(t, impl, aRow(aI32(1)), aRow(aI32(2)))
	r := aggRun(t, impl, aRow(aI32(3)), aRow(aI32(4)))
	if err := l.Merge(r); err != nil {
		t.Fatal(err)
	}
	if got := l.Result(); !aggValuesEqual(got, aArr(aI32(1), aI32(2), aI32(3))) {
		t.Fatalf("got %s", aggShow(got))
	}
}

func TestAggCountDistinctSketch(t *testing.T) {
	impl := aggResolve(t, "COUNT_DISTINCT", []*types.Type{aBig}, nil, nil)
	acc := impl.New()
	const n = 50000
	for i := 0; i < n; i++ {
		if err := acc.Add(aRow(int64(i % n))); err != nil {
			t.Fatal(err)
		}
		if i < aggDistinctExactLimit && acc.Result() != int64(i+1) {
			t.Fatalf("exact phase: %v after %d values", acc.Result(), i+1)
		}
	}
	for i := 0; i < n; i += 7 { // duplicates do not move the estimate
		_ = acc.Add(aRow(int64(i)))
	}
	got := acc.Result().(int64)
	if rel := math.Abs(float64(got-n)) / n; rel > 0.03 {
		t.Fatalf("estimate %d for %d distinct (%.2f%% off)", got, n, rel*100)
	}
	snap := acc.Snapshot()
	restored, err := impl.Restore(snap)
	if err != nil || restored.Result() != acc.Result() {
		t.Fatalf("restore: %v %v", err, restored)
	}
	// Merging an exact accumulator into a sketch folds its values into the registers.
	small := aggRun(t, impl, aRow(int64(-1)), aRow(int64(-2)))
	if err := restored.Merge(small); err != nil {
		t.Fatal(err)
	}
	if r := restored.Result().(int64); r < got {
		t.Fatalf("merge lowered the estimate: %d < %d", r, got)
	}
}

// TestAggNoAllocPerAdd guards the numeric aggregates' hot path.
func TestAggNoAllocPerAdd(t *testing.T) {
	for _, c := range []struct {
		fn   string
		args []*types.Type
		row  []any
	}{
		{"SUM", []*types.Type{aBig}, aRow(int64(12345))},
		{"SUM", []*types.Type{aInt}, aRow(aI32(12345))},
		{"SUM", []*types.Type{aDbl}, aRow(1.5)},
		{"AVG", []*types.Type{aDbl}, aRow(1.5)},
		{"AVG", []*types.Type{aInt}, aRow(aI32(7))},
		{"COUNT", nil, aRow()},
		{"COUNT", []*types.Type{aStr}, aRow("x")},
		{"MIN", []*types.Type{aBig}, aRow(int64(12345))},
		{"MAX", []*types.Type{aDbl}, aRow(1.5)},
		{"STDDEV_SAMP", []*types.Type{aDbl}, aRow(1.5)},
		{"CORRELATION", []*types.Type{aDbl, aDbl}, aRow(1.5, 2.5)},
	} {
		acc := aggResolve(t, c.fn, c.args, nil, nil).New()
		if n := testing.AllocsPerRun(100, func() { _ = acc.Add(c.row) }); n != 0 {
			t.Errorf("%s(%s).Add allocates %.1f times", c.fn, aggTypeList(c.args), n)
		}
	}
}

// ---- helpers ---------------------------------------------------------------------------------

// aggValuesEqual is exact structural equality with NaN equal to NaN and decimals compared by
// value; maps compare in entry order (histograms are insertion ordered).
func aggValuesEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !aggValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *types.Map:
		y, ok := b.(*types.Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := range x.Keys {
			if !aggValuesEqual(x.Keys[i], y.Keys[i]) || !aggValuesEqual(x.Vals[i], y.Vals[i]) {
				return false
			}
		}
		return true
	case *types.Struct:
		y, ok := b.(*types.Struct)
		if !ok || len(x.Vals) != len(y.Vals) || strings.Join(x.Names, ",") != strings.Join(y.Names, ",") {
			return false
		}
		for i := range x.Vals {
			if !aggValuesEqual(x.Vals[i], y.Vals[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func aggShow(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = aggShow(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *types.Map:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = aggShow(x.Keys[i]) + ":" + aggShow(x.Vals[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *types.Struct:
		parts := make([]string, len(x.Vals))
		for i := range x.Vals {
			parts[i] = x.Names[i] + "=" + aggShow(x.Vals[i])
		}
		return "Struct{" + strings.Join(parts, ", ") + "}"
	case decimal.Decimal:
		return x.String()
	}
	return fmt.Sprintf("%#v", v)
}

// aggValueOfType checks that v is a valid runtime value of SQL type t (types.go's value model).
func aggValueOfType(v any, t *types.Type) bool {
	if v == nil {
		return true
	}
	switch t.Kind {
	case types.KindBoolean:
		_, ok := v.(bool)
		return ok
	case types.KindInt:
		_, ok := v.(int32)
		return ok
	case types.KindBigint:
		_, ok := v.(int64)
		return ok
	case types.KindDouble:
		_, ok := v.(float64)
		return ok
	case types.KindDecimal:
		_, ok := v.(decimal.Decimal)
		return ok
	case types.KindString:
		_, ok := v.(string)
		return ok
	case types.KindBytes:
		_, ok := v.([]byte)
		return ok
	case types.KindDate:
		_, ok := v.(types.Date)
		return ok
	case types.KindTime:
		_, ok := v.(types.Time)
		return ok
	case types.KindTimestamp:
		_, ok := v.(types.Timestamp)
		return ok
	case types.KindArray:
		x, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range x {
			if !aggValueOfType(e, t.Elem) {
				return false
			}
		}
		return true
	case types.KindMap:
		x, ok := v.(*types.Map)
		if !ok || len(x.Keys) != len(x.Vals) {
			return false
		}
		for i := range x.Keys {
			if !aggValueOfType(x.Keys[i], t.Key) || !aggValueOfType(x.Vals[i], t.Elem) {
				return false
			}
		}
		return true
	case types.KindStruct:
		x, ok := v.(*types.Struct)
		if !ok || len(x.Vals) != len(t.Fields) || len(x.Names) != len(t.Fields) {
			return false
		}
		for i, f := range t.Fields {
			if x.Names[i] != f.Name || !aggValueOfType(x.Vals[i], f.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// TestAggLiteralColumnArguments checks the argument convention (agg_common.go): a column
// argument that is a literal also arrives in initArgs and must not be taken for a parameter.
func TestAggLiteralColumnArguments(t *testing.T) {
	impl := aggResolve(t, "LATEST_BY_OFFSET", []*types.Type{aInt}, []any{aI32(5)}, nil)
	if !impl.Return.Equal(aInt) || len(impl.ArgTypes) != 1 {
		t.Fatalf("LATEST_BY_OFFSET(5) resolved to %s", impl.Return)
	}
	impl = aggResolve(t, "LATEST_BY_OFFSET", []*types.Type{aInt, aInt}, []any{aI32(5), aI32(2)}, nil)
	if !impl.Return.Equal(types.ArrayOf(aInt)) {
		t.Fatalf("LATEST_BY_OFFSET(5, 2) resolved to %s", impl.Return)
	}
	impl = aggResolve(t, "TOPK", []*types.Type{aDbl, aStr, aInt}, []any{"lit", aI32(2)}, nil)
	if len(impl.ArgTypes) != 2 || impl.Return.Elem.Kind != types.KindStruct {
		t.Fatalf("TOPK(x, 'lit', 2) resolved to %s", impl.Return)
	}
	f, _ := Lookup("TOPK")
	if _, err := f.ResolveAggregate([]*types.Type{aInt, aInt}, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "Parameter 2 passed to function TOPK must be a literal constant") {
		t.Fatalf("TOPK(x, y): %v", err)
	}
	if _, err := f.ResolveAggregate([]*types.Type{aInt}, []any{aI32(3)}, nil); err == nil {
		t.Fatal("TOPK with a single argument resolved")
	}
}
