package functions

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/sql/types"
)

func tableResolve(t *testing.T, name string, args ...*types.Type) *TableImpl {
	t.Helper()
	f, ok := Lookup(name)
	if !ok || f.Kind != TableFunc || f.Category != "TABLE" || f.ResolveTable == nil {
		t.Fatalf("%s is not a registered table function", name)
	}
	impl, err := f.ResolveTable(args)
	if err != nil {
		t.Fatalf("resolve %s: %v", name, err)
	}
	return impl
}

// Vectors from explode.json, cube.json and table-functions.json.
func TestTableExplode(t *testing.T) {
	impl := tableResolve(t, "explode", types.ArrayOf(types.BigintType))
	if !impl.Return.Equal(types.BigintType) {
		t.Fatalf("return %s", impl.Return)
	}
	for _, c := range []struct {
		in   any
		want []any
	}{
		{[]any{int64(1), int64(2)}, []any{int64(1), int64(2)}},
		{[]any{int64(5)}, []any{int64(5)}},
		{[]any{}, []any{}},
		{nil, []any{}},
		{[]any{int64(10), nil, int64(12)}, []any{int64(10), nil, int64(12)}},
	} {
		got, err := impl.Eval([]any{c.in})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !aggValuesEqual(got, c.want) {
			t.Fatalf("EXPLODE(%v) = %s", c.in, aggShow(got))
		}
	}
	// Element types pass through: structs, decimals.
	st := types.StructOf(types.Field{Name: "F1", Type: types.BigintType})
	if r := tableResolve(t, "EXPLODE", types.ArrayOf(st)).Return; !r.Equal(st) {
		t.Fatalf("struct return %s", r)
	}
	d := types.DecimalOf(20, 10)
	out, _ := tableResolve(t, "EXPLODE", types.ArrayOf(d)).Eval([]any{[]any{decimal.RequireFromString("123.456")}})
	if len(out) != 1 || !out[0].(decimal.Decimal).Equal(decimal.RequireFromString("123.456")) {
		t.Fatalf("decimal explode %v", out)
	}
	// Output rows must not alias the input array.
	in := []any{int64(1)}
	out, _ = impl.Eval([]any{in})
	in[0] = int64(99)
	if out[0] != int64(1) {
		t.Fatal("EXPLODE output aliases its input")
	}
}

func TestTableExplodeRejectsMap(t *testing.T) {
	f, _ := Lookup("EXPLODE")
	_, err := f.ResolveTable([]*types.Type{types.MapOf(types.StringType, types.IntType)})
	want := "Function 'explode' does not accept parameters (MAP<STRING, INTEGER>).\nValid alternatives are:\nexplode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v", err)
	}
	if _, err := f.ResolveTable(nil); err == nil {
		t.Fatal("EXPLODE() resolved")
	}
	// A wrong runtime value is an error, not a panic.
	impl := tableResolve(t, "EXPLODE", types.ArrayOf(types.IntType))
	if _, err := impl.Eval([]any{"oops"}); err == nil {
		t.Fatal("expected error")
	}
	if rows, err := impl.Eval(nil); err != nil || len(rows) != 0 {
		t.Fatalf("Eval(nil) = %v, %v", rows, err)
	}
}

func TestTableCubeExplode(t *testing.T) {
	impl := tableResolve(t, "CUBE_EXPLODE", types.ArrayOf(types.IntType))
	if !impl.Return.Equal(types.ArrayOf(types.IntType)) {
		t.Fatalf("return %s", impl.Return)
	}
	one, two := int32(1), int32(2)
	for _, c := range []struct {
		name string
		in   any
		want []any
	}{
		{"cube two int columns", []any{one, two}, []any{
			[]any{nil, nil}, []any{nil, two}, []any{one, nil}, []any{one, two}}},
		{"cube with null input", []any{one, nil}, []any{
			[]any{nil, nil}, []any{one, nil}}},
		{"cube three columns", []any{"one", "two", "three"}, []any{
			[]any{nil, nil, nil}, []any{nil, nil, "three"}, []any{nil, "two", nil}, []any{nil, "two", "three"},
			[]any{"one", nil, nil}, []any{"one", nil, "three"}, []any{"one", "two", nil}, []any{"one", "two", "three"}}},
		{"cube all nulls (own)", []any{nil, nil}, []any{[]any{nil, nil}}},
		{"cube empty (own)", []any{}, []any{[]any{}}},
	} {
		got, err := impl.Eval([]any{c.in})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !aggValuesEqual(got, c.want) {
			t.Fatalf("%s: got %s", c.name, aggShow(got))
		}
	}
	if rows, err := impl.Eval([]any{nil}); err != nil || len(rows) != 0 {
		t.Fatalf("NULL array: %v %v", rows, err)
	}
	big := make([]any, cubeMaxElems+1)
	if _, err := impl.Eval([]any{big}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized cube: %v", err)
	}
	f, _ := Lookup("CUBE_EXPLODE")
	if _, err := f.ResolveTable([]*types.Type{types.IntType}); err == nil {
		t.Fatal("CUBE_EXPLODE(INT) resolved")
	}
}
