package functions

import (
	"fmt"
	"math/bits"

	"github.com/sluicedb/sluice/sql/types"
)

// Table functions EXPLODE and CUBE_EXPLODE. A NULL or empty input array produces no rows (the
// input row disappears, explode.json); exec zips several table functions of one SELECT.

// cubeMaxElems bounds CUBE_EXPLODE's 2^n output rows so one bad record cannot exhaust memory.
const cubeMaxElems = 20

func init() {
	Register(&Function{
		Name:        "EXPLODE",
		Kind:        TableFunc,
		Category:    tableCategory,
		Description: "Explodes an array into one output row per element; a NULL or empty array produces no rows.",
		Signatures: []Signature{
			aggSig("list ARRAY<T>", "T", "One row per element."),
		},
		ResolveTable: resolveExplode,
	})
	Register(&Function{
		Name:     "CUBE_EXPLODE",
		Kind:     TableFunc,
		Category: tableCategory,
		Description: "Produces every combination of the array's elements with each element either kept " +
			"or replaced by NULL (2^n rows), without duplicate rows when the input holds NULLs.",
		Signatures: []Signature{
			aggSig("list ARRAY<T>", "ARRAY<T>", "All NULL-masked combinations of the elements."),
		},
		ResolveTable: resolveCubeExplode,
	})
}

// explodeArgError reproduces ksqlDB's message, which lists its two EXPLODE overloads.
func explodeArgError(args []*types.Type) error {
	return fmt.Errorf("Function 'explode' does not accept parameters (%s).\n"+
		"Valid alternatives are:\nexplode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)", aggTypeList(args))
}

func resolveExplode(args []*types.Type) (*TableImpl, error) {
	if len(args) != 1 || args[0] == nil || args[0].Kind != types.KindArray || args[0].Elem == nil {
		return nil, explodeArgError(args)
	}
	return &TableImpl{
		ArgTypes: []*types.Type{args[0]},
		Return:   args[0].Elem,
		Eval: func(in []any) ([]any, error) {
			if len(in) < 1 || in[0] == nil {
				return nil, nil
			}
			arr, ok := in[0].([]any)
			if !ok {
				return nil, fmt.Errorf("EXPLODE: unexpected argument value of type %T", in[0])
			}
			// Copy so the output rows do not alias the input array's backing store.
			return append([]any(nil), arr...), nil
		},
	}, nil
}

func resolveCubeExplode(args []*types.Type) (*TableImpl, error) {
	if len(args) != 1 || args[0] == nil || args[0].Kind != types.KindArray || args[0].Elem == nil {
		return nil, aggArgError("cube_explode", args)
	}
	return &TableImpl{
		ArgTypes: []*types.Type{args[0]},
		Return:   args[0],
		Eval:     cubeExplode,
	}, nil
}

// cubeExplode emits combination i (0 <= i < 2^n) with element j kept when bit n-1-j of i is set,
// so the all-NULL row comes first and the full row last, as in ksqlDB. A combination equal to an
// earlier one (a kept NULL looks like a masked one) is skipped.
func cubeExplode(in []any) ([]any, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, nil
	}
	arr, ok := in[0].([]any)
	if !ok {
		return nil, fmt.Errorf("CUBE_EXPLODE: unexpected argument value of type %T", in[0])
	}
	n := len(arr)
	if n > cubeMaxElems {
		return nil, fmt.Errorf("CUBE_EXPLODE: array of %d elements exceeds the limit of %d", n, cubeMaxElems)
	}
	// Only positions holding NULL can make two combinations equal; remember which.
	nullMask := 0
	for j, v := range arr {
		if v == nil {
			nullMask |= 1 << (n - 1 - j)
		}
	}
	out := make([]any, 0, 1<<(n-bits.OnesCount(uint(nullMask))))
	for i := 0; i < 1<<n; i++ {
		// Combination i duplicates combination i&^nullMask (which comes earlier) whenever it
		// keeps a NULL element.
		if i&nullMask != 0 {
			continue
		}
		row := make([]any, n)
		for j := range arr {
			if i&(1<<(n-1-j)) != 0 {
				row[j] = arr[j]
			}
		}
		out = append(out, row)
	}
	return out, nil
}
