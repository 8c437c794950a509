package functions

import (
	"testing"

	"github.com/sluicedb/sluice/sql/types"
)

// Add per op on the numeric hot paths; each must report 0 allocs/op.

func benchAggAdd(b *testing.B, fn string, args []*types.Type, row []any) {
	acc := aggResolve(b, fn, args, nil, nil).New()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := acc.Add(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSumBigint(b *testing.B) {
	benchAggAdd(b, "SUM", []*types.Type{types.BigintType}, []any{int64(123456789)})
}

func BenchmarkAvgDouble(b *testing.B) {
	benchAggAdd(b, "AVG", []*types.Type{types.DoubleType}, []any{3.25})
}

func BenchmarkCountStar(b *testing.B) {
	benchAggAdd(b, "COUNT", nil, []any{})
}
