package functions

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/sql/types"
)

// ARRAY and MAP functions, NULL handling functions, byte conversions and the lambda
// placeholders. Element equality is SQL value equality (types.Equal) except that NULL equals
// NULL, as Java's List.contains/equals treat null.

const (
	catArray = "ARRAY"
	catMap   = "MAP"
	catNulls = "NULLS"
	catConv  = "CONVERSIONS"
	catOther = "OTHER"
)

func nullEq(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return types.Equal(a, b)
}

func containsVal(list []any, v any) bool {
	for _, x := range list {
		if nullEq(x, v) {
			return true
		}
	}
	return false
}

func distinct(list []any) []any {
	out := make([]any, 0, len(list))
	for _, x := range list {
		if !containsVal(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func retArrayOfElem(args []*types.Type) (*types.Type, error) { return args[0], nil }

func init() {
	registerScalar("ARRAY_CONCAT", catArray, "Returns an array representing the concatenation of both input arrays. Returns NULL if both input arrays are NULL. If only one argument is NULL, the result is the other argument.",
		ov(arrT, p("left", arrT), p("right", arrT)).retFn(retArrayOfElem).fn(func(a []any) (any, error) {
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			var out []any
			for _, x := range a {
				if l, ok := x.([]any); ok {
					out = append(out, l...)
				}
			}
			if out == nil {
				out = []any{}
			}
			return out, nil
		}))

	registerScalar("ARRAY_CONTAINS", catArray, "Returns true if the array is non-null and contains the supplied value.",
		ov(tBool, p("array", arrT), p("val", tT)).fn(func(a []any) (any, error) {
			l, ok := a[0].([]any)
			if !ok {
				return false, nil
			}
			return containsVal(l, a[1]), nil
		}))

	registerScalar("ARRAY_DISTINCT", catArray, "Returns an array of all the distinct values, including NULL if present, from the input array. The output array elements will be in order of their first occurrence in the input.",
		ov(arrT, p("input", arrT)).retFn(retArrayOfElem).strict().fn(func(a []any) (any, error) {
			return distinct(a[0].([]any)), nil
		}))

	registerScalar("ARRAY_EXCEPT", catArray, "Returns an array of all the distinct elements from an array, except for those also present in a second array. The order of entries in the first array is preserved. Returns NULL if either input is NULL.",
		ov(arrT, p("left", arrT), p("right", arrT)).retFn(retArrayOfElem).strict().fn(func(a []any) (any, error) {
			right := a[1].([]any)
			out := []any{}
			for _, x := range distinct(a[0].([]any)) {
				if !containsVal(right, x) {
					out = append(out, x)
				}
			}
			return out, nil
		}))

	registerScalar("ARRAY_INTERSECT", catArray, "Returns an array of all the distinct elements from the intersection of both input arrays. The order of entries in the output is the same as in the first input array. Returns NULL if either input is NULL.",
		ov(arrT, p("left", arrT), p("right", arrT)).retFn(retArrayOfElem).strict().fn(func(a []any) (any, error) {
			right := a[1].([]any)
			out := []any{}
			for _, x := range distinct(a[0].([]any)) {
				if containsVal(right, x) {
					out = append(out, x)
				}
			}
			return out, nil
		}))

	joinBuild := func(args []*types.Type, _ *types.Type) func([]any) (any, error) {
		et := args[0].Elem
		return func(a []any) (any, error) {
			l, ok := a[0].([]any)
			if !ok {
				return nil, nil
			}
			delim := ","
			if len(a) > 1 {
				delim, _ = a[1].(string) // a NULL delimiter joins with nothing (arrayjoin.json)
			}
			parts := make([]string, len(l))
			for i, x := range l {
				parts[i] = types.FormatValue(x, et)
			}
			return strings.Join(parts, delim), nil
		}
	}
	checkPrimitiveElem := func(args []*types.Type) (*types.Type, error) {
		if args[0] != nil && args[0].Elem != nil && !args[0].Elem.IsPrimitive() {
			return nil, fmt.Errorf("ARRAY_JOIN is only supported for arrays of primitive types, got %s", patternString(args[0]))
		}
		return tString, nil
	}
	registerScalar("ARRAY_JOIN", catArray, "Creates a flat string representation of all the primitive elements contained in the given array. The elements are separated by the delimiter, ',' by default.",
		ov(tString, p("array", arrT)).retFn(checkPrimitiveElem).builder(joinBuild),
		ov(tString, p("array", arrT), p("delimiter", tString)).retFn(checkPrimitiveElem).builder(joinBuild),
	)

	registerScalar("ARRAY_LENGTH", catArray, "Returns the length of an array. Returns NULL if the array is NULL.",
		ov(tInt, p("array", arrT)).strict().fn(func(a []any) (any, error) { return int32(len(a[0].([]any))), nil }))

	arrayExtreme := func(dir int) func([]any) (any, error) {
		return func(a []any) (any, error) {
			var best any
			for _, x := range a[0].([]any) {
				if x == nil {
					continue
				}
				if best == nil || compareVals(x, best)*dir > 0 {
					best = x
				}
			}
			return best, nil
		}
	}
	elemType := func(args []*types.Type) (*types.Type, error) {
		if args[0].Elem == nil || !args[0].Elem.IsPrimitive() {
			return nil, fmt.Errorf("only arrays of primitive types are supported")
		}
		return args[0].Elem, nil
	}
	registerScalar("ARRAY_MAX", catArray, "Return the maximum value from within an array of primitive values, according to their natural sort order. Ignores any NULL values in the array.",
		ov(nil, p("array", arrT)).retFn(elemType).strict().fn(arrayExtreme(1)))
	registerScalar("ARRAY_MIN", catArray, "Return the minimum value from within an array of primitive values, according to their natural sort order. Ignores any NULL values in the array.",
		ov(nil, p("array", arrT)).retFn(elemType).strict().fn(arrayExtreme(-1)))

	registerScalar("ARRAY_REMOVE", catArray, "Removes all elements from the input array equal to the given value, NULL included.",
		ov(arrT, p("array", arrT), p("victim", tT)).retFn(retArrayOfElem).fn(func(a []any) (any, error) {
			l, ok := a[0].([]any)
			if !ok {
				return nil, nil
			}
			out := []any{}
			for _, x := range l {
				if !nullEq(x, a[1]) {
					out = append(out, x)
				}
			}
			return out, nil
		}))

	sortFn := func(a []any) (any, error) {
		l, ok := a[0].([]any)
		if !ok {
			return nil, nil
		}
		desc := false
		if len(a) > 1 {
			d, ok := a[1].(string)
			if !ok {
				return nil, nil
			}
			switch strings.ToUpper(d) {
			case "ASC":
			case "DESC":
				desc = true
			default:
				return nil, nil
			}
		}
		out := append([]any{}, l...)
		sort.SliceStable(out, func(i, j int) bool {
			x, y := out[i], out[j]
			if x == nil || y == nil {
				return y == nil && x != nil // NULLs last in either order
			}
			c := compareVals(x, y)
			if desc {
				return c > 0
			}
			return c < 0
		})
		return out, nil
	}
	registerScalar("ARRAY_SORT", catArray, "Sorts an array of primitive values, according to their natural sort order. Any NULLs in the array are placed at the end. The direction is 'ASC' (default) or 'DESC'.",
		ov(arrT, p("array", arrT)).retFn(retArrayOfElem).fn(sortFn),
		ov(arrT, p("array", arrT), p("direction", tString)).retFn(retArrayOfElem).fn(sortFn),
	)

	registerScalar("ARRAY_UNION", catArray, "Returns an array of all the distinct elements from both input arrays, in the order they're encountered. Returns NULL if either input is NULL.",
		ov(arrT, p("left", arrT), p("right", arrT)).retFn(retArrayOfElem).strict().fn(func(a []any) (any, error) {
			return distinct(append(append([]any{}, a[0].([]any)...), a[1].([]any)...)), nil
		}))

	registerScalar("AS_MAP", catMap, "Construct a map from a list of keys and a list of values. Keys beyond the number of values map to NULL.",
		ov(types.MapOf(tString, tT), p("keys", arrString), p("values", arrT)).retFn(func(args []*types.Type) (*types.Type, error) {
			return types.MapOf(tString, args[1].Elem), nil
		}).strict().fn(func(a []any) (any, error) {
			keys, vals := a[0].([]any), a[1].([]any)
			m := &types.Map{}
			for i, k := range keys {
				var v any
				if i < len(vals) {
					v = vals[i]
				}
				m.Put(k, v)
			}
			return m, nil
		}))

	registerScalar("ELT", catString, "ELT(n, str1, str2, ...) returns the nth string in the list, or NULL if n is less than 1 or greater than the number of strings.",
		ov(tString, p("n", tInt), p("args", tString)).vararg().fn(func(a []any) (any, error) {
			n, ok := a[0].(int32)
			if !ok || n < 1 || int(n) >= len(a) {
				return nil, nil
			}
			return a[n], nil
		}))

	registerScalar("FIELD", catString, "FIELD(str, str1, str2, ...) returns the 1-based index of str in the list, or 0 if not found. NULL is never found.",
		ov(tInt, p("str", tString), p("args", tString)).vararg().fn(func(a []any) (any, error) {
			if a[0] == nil {
				return int32(0), nil
			}
			for i, x := range a[1:] {
				if x != nil && x.(string) == a[0].(string) {
					return int32(i + 1), nil
				}
			}
			return int32(0), nil
		}))

	registerScalar("ENTRIES", catMap, "Construct an array of structs (K, V) from the entries of a map, optionally sorted by key.",
		ov(nil, p("map", types.MapOf(tString, tT)), p("sorted", tBool)).retFn(func(args []*types.Type) (*types.Type, error) {
			return types.ArrayOf(types.StructOf(types.Field{Name: "K", Type: tString}, types.Field{Name: "V", Type: args[0].Elem})), nil
		}).strict().fn(func(a []any) (any, error) {
			m := a[0].(*types.Map)
			idx := make([]int, m.Len())
			for i := range idx {
				idx[i] = i
			}
			if a[1].(bool) {
				sort.SliceStable(idx, func(i, j int) bool {
					return compareVals(m.Keys[idx[i]], m.Keys[idx[j]]) < 0
				})
			}
			names := []string{"K", "V"}
			out := make([]any, len(idx))
			for i, j := range idx {
				out[i] = &types.Struct{Names: names, Vals: []any{m.Keys[j], m.Vals[j]}}
			}
			return out, nil
		}))

	registerScalar("MAP_KEYS", catMap, "Returns an array that contains all of the keys from the specified map.",
		ov(nil, p("map", mapKV)).retFn(func(args []*types.Type) (*types.Type, error) {
			return types.ArrayOf(args[0].Key), nil
		}).strict().fn(func(a []any) (any, error) {
			return append([]any{}, a[0].(*types.Map).Keys...), nil
		}))
	registerScalar("MAP_VALUES", catMap, "Returns an array that contains all of the values from the specified map.",
		ov(nil, p("map", mapKV)).retFn(func(args []*types.Type) (*types.Type, error) {
			return types.ArrayOf(args[0].Elem), nil
		}).strict().fn(func(a []any) (any, error) {
			return append([]any{}, a[0].(*types.Map).Vals...), nil
		}))
	registerScalar("MAP_UNION", catMap, "Returns a new map containing the union of all entries from both input maps. If a key is present in both input maps, the corresponding value from the second map is returned.",
		ov(nil, p("map1", mapKV), p("map2", mapKV)).retFn(retSame(0)).fn(func(a []any) (any, error) {
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			out := &types.Map{}
			for _, x := range a {
				if m, ok := x.(*types.Map); ok {
					for i := range m.Keys {
						out.Put(m.Keys[i], m.Vals[i])
					}
				}
			}
			return out, nil
		}))

	registerScalar("SLICE", catArray, "Returns a subset of the array from 'from' to 'to' (1-based, inclusive). A NULL 'from' starts at the beginning and a NULL 'to' runs to the end; out-of-range bounds give NULL.",
		ov(arrT, p("list", arrT), p("from", tInt), p("to", tInt)).retFn(retArrayOfElem).fn(func(a []any) (any, error) {
			l, ok := a[0].([]any)
			if !ok {
				return nil, nil
			}
			start, end := 0, len(l)
			if f, ok := a[1].(int32); ok {
				start = int(f) - 1
			}
			if t, ok := a[2].(int32); ok {
				end = int(t)
			}
			if start < 0 || end > len(l) || start > end {
				return nil, nil
			}
			return append([]any{}, l[start:end]...), nil
		}))

	// NULL handling.
	coalesceRet := func(args []*types.Type) (*types.Type, error) { return args[0], nil }
	registerScalar("COALESCE", catNulls, "Returns the first parameter that is not NULL. All parameters must be of the same type.",
		ov(nil, p("first", tT), p("others", tT)).vararg().retFn(coalesceRet).fn(func(a []any) (any, error) {
			for _, x := range a {
				if x != nil {
					return x, nil
				}
			}
			return nil, nil
		}))
	registerScalar("IFNULL", catNulls, "Returns expression if it is not NULL, otherwise altValue.",
		ov(nil, p("expression", tT), p("altValue", tT)).retFn(coalesceRet).fn(func(a []any) (any, error) {
			if a[0] != nil {
				return a[0], nil
			}
			return a[1], nil
		}))
	registerScalar("NULLIF", catNulls, "Returns NULL if expr1 is equal to expr2; otherwise it returns expr1.",
		ov(nil, p("expr1", tT), p("expr2", tT)).retFn(coalesceRet).fn(func(a []any) (any, error) {
			if a[0] != nil && a[1] != nil && types.Equal(a[0], a[1]) {
				return nil, nil
			}
			return a[0], nil
		}))

	// Byte conversions: fixed widths; a wrong length gives NULL.
	byteOrder := func(a []any) (binary.ByteOrder, error) {
		if len(a) < 2 {
			return binary.BigEndian, nil
		}
		switch strings.ToUpper(a[1].(string)) {
		case "BIG_ENDIAN":
			return binary.BigEndian, nil
		case "LITTLE_ENDIAN":
			return binary.LittleEndian, nil
		}
		return nil, fmt.Errorf("Byte order must be BIG_ENDIAN or LITTLE_ENDIAN. Unknown byte order '%s'.", a[1])
	}
	fromBytes := func(name, desc string, ret *types.Type, width int, conv func(binary.ByteOrder, []byte) any) {
		f := func(a []any) (any, error) {
			b := a[0].([]byte)
			bo, err := byteOrder(a)
			if err != nil {
				return nil, err
			}
			if len(b) != width {
				return nil, nil
			}
			return conv(bo, b), nil
		}
		registerScalar(name, catConv, desc,
			ov(ret, p("value", tBytes)).strict().fn(f),
			ov(ret, p("value", tBytes), p("byteOrder", tString)).strict().fn(f),
		)
	}
	fromBytes("INT_FROM_BYTES", "Converts a 4-byte BYTES value to an INT, big-endian unless 'LITTLE_ENDIAN' is given.", tInt, 4,
		func(bo binary.ByteOrder, b []byte) any { return int32(bo.Uint32(b)) })
	fromBytes("BIGINT_FROM_BYTES", "Converts an 8-byte BYTES value to a BIGINT, big-endian unless 'LITTLE_ENDIAN' is given.", tBigint, 8,
		func(bo binary.ByteOrder, b []byte) any { return int64(bo.Uint64(b)) })
	fromBytes("DOUBLE_FROM_BYTES", "Converts an 8-byte BYTES value to a DOUBLE, big-endian unless 'LITTLE_ENDIAN' is given.", tDouble, 8,
		func(bo binary.ByteOrder, b []byte) any { return math.Float64frombits(bo.Uint64(b)) })

	// Lambda functions are compiled by exec/eval, which owns lambda scope; they are listed so
	// that SHOW FUNCTIONS and DESCRIBE FUNCTION know them.
	lambda := func(name, desc string, sigs ...Signature) {
		Register(&Function{
			Name: name, Kind: Scalar, Category: "LAMBDA", Description: desc, Signatures: sigs,
			ResolveScalar: func([]*types.Type) (*ScalarImpl, error) {
				return nil, fmt.Errorf("lambda functions are compiled by the expression compiler")
			},
		})
	}
	lambda("TRANSFORM", "Apply a function to each element of an array, or to each key and value of a map.",
		Signature{Args: "array ARRAY<T>, function T => R", Returns: "ARRAY<R>", Description: "Apply the lambda to each element of the array."},
		Signature{Args: "map MAP<K, V>, keyFunction (K, V) => K2, valueFunction (K, V) => V2", Returns: "MAP<K2, V2>", Description: "Apply the lambdas to each entry of the map."})
	lambda("FILTER", "Filter an array or a map with a lambda returning BOOLEAN.",
		Signature{Args: "array ARRAY<T>, function T => BOOLEAN", Returns: "ARRAY<T>", Description: "Keep the elements for which the lambda returns true."},
		Signature{Args: "map MAP<K, V>, function (K, V) => BOOLEAN", Returns: "MAP<K, V>", Description: "Keep the entries for which the lambda returns true."})
	lambda("REDUCE", "Reduce an array or a map to a single value, starting from an initial state.",
		Signature{Args: "array ARRAY<T>, initialState S, function (S, T) => S", Returns: "S", Description: "Fold the elements into the state."},
		Signature{Args: "map MAP<K, V>, initialState S, function (S, K, V) => S", Returns: "S", Description: "Fold the entries into the state."})
}
