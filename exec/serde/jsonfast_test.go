package serde

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// fastTestTypes covers every kind the fast decoder converts itself, plus nested ones it hands
// to FromJSON.
var fastTestTypes = []*types.Type{
	types.BooleanType, types.IntType, types.BigintType, types.DoubleType, types.StringType,
	types.BytesType, types.DateType, types.TimeType, types.TimestampType,
	types.DecimalOf(10, 2), types.DecimalOf(4, 0),
	types.ArrayOf(types.IntType), types.MapOf(types.StringType, types.BigintType),
	types.StructOf(types.Field{Name: "A", Type: types.IntType}, types.Field{Name: "b", Type: types.StringType}),
}

var fastTestValues = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-12`, `123456789012`, `9223372036854775807`,
	`9223372036854775808`, `-9223372036854775809`, `1.5`, `-2.25e3`, `1e400`, `1E-2`, `12.345`,
	`3000000000`, `""`, `"abc"`, `" 42 "`, `"42"`, `"-7"`, `"1.5"`, `" TRUE "`, `"False"`,
	`"yes"`, `"aGVsbG8="`, `" aGVsbG8="`, `"not base64!"`, `"caf\u00e9"`, `"café"`, `"a\"b"`,
	`"\ud83d\ude00"`, `"\ud800"`, "\"bad \xff utf8\"", `"12345678901234567890"`, `"NaN"`,
	`"Infinity"`, `"0x10"`, `"1_000"`, `[1,2,"3"]`, `[]`, `{"A":1,"b":"x"}`, `{"a":"2","B":3}`,
	`{"k":1,"K":2}`, `{}`, `[[1]]`, `{"x":{"y":[1,{"z":null}]}}`, `"<&>"`, `99999999.999`,
	`123.456`, `-0.005`, `1e2`,
}

func colsOf(names ...string) []types.Column {
	var cols []types.Column
	for i, n := range names {
		cols = append(cols, types.Column{Name: n, Type: fastTestTypes[i%len(fastTestTypes)]})
	}
	return cols
}

// checkSame decodes b with the generic path and through Decode (fast path first) and fails
// when values or errors differ.
func checkSame(t *testing.T, c *jsonCodec, b []byte) {
	t.Helper()
	want := make([]any, len(c.cols))
	werr := c.decodeGeneric(b, want)
	got := make([]any, len(c.cols))
	gerr := c.Decode(b, got)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%q as %v: error %v, want %v", b, c.cols, gerr, werr)
	}
	if werr != nil {
		return
	}
	for i := range want {
		if !sameValue(got[i], want[i]) {
			t.Fatalf("%q column %s %s: got %#v, want %#v", b, c.cols[i].Name, c.cols[i].Type, got[i], want[i])
		}
	}
}

func sameValue(a, b any) bool {
	if da, ok := a.(decimal.Decimal); ok {
		db, ok := b.(decimal.Decimal)
		return ok && da.Equal(db) && da.Exponent() == db.Exponent()
	}
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || (fa != fa && fb != fb))
	}
	return reflect.DeepEqual(a, b)
}

func TestJSONFastMatchesGeneric(t *testing.T) {
	for _, typ := range fastTestTypes {
		for _, v := range fastTestValues {
			// Wrapped, with exact, case-folded and duplicate names, and unwrapped.
			cols := []types.Column{{Name: "V", Type: typ}, {Name: "W", Type: types.StringType}}
			c := &jsonCodec{cols: cols}
			for _, doc := range []string{
				`{"V":` + v + `}`, `{"v":` + v + `,"W":1}`, ` { "W" : ` + v + ` , "V" : ` + v + ` } `,
				`{"V":1,"V":` + v + `}`, `{"v":` + v + `,"V":null}`, `{"V":` + v + `} trailing`,
				`{"x":` + v + `}`, `{"V":` + v + `,}`, `{"V" ` + v + `}`, `{"V":` + v,
			} {
				checkSame(t, c, []byte(doc))
			}
			u := &jsonCodec{cols: cols[:1], unwrapped: true}
			checkSame(t, u, []byte(v))
			checkSame(t, u, []byte(" "+v+" "))
			checkSame(t, u, []byte(v+"x"))
			// A bare value for a one-column wrapped value.
			checkSame(t, &jsonCodec{cols: cols[:1]}, []byte(v))
		}
	}
	odd := []string{``, ` `, `{`, `}`, `[`, `{"V":01}`, `{"V":1.}`, `{"V":.5}`, `{"V":+1}`,
		`{"V":tru}`, `{"V":"\x"}`, "{\"V\":\"a\x01\"}", `{"V":"\u12"}`, `{V:1}`, `{"V":1}}`,
		`null`, `[1]`, `"s"`, `{"\u0056":7}`, `{"V\u0000":7}`, "{\"\xff\":1}", `{"Ｖ":1}`,
		`{"ſ":1}`, `{"K":1}`, "\ufeff{\"V\":1}", `{"V":[` + deep(600) + `]}`}
	for _, doc := range odd {
		for _, typ := range fastTestTypes {
			checkSame(t, &jsonCodec{cols: []types.Column{{Name: "V", Type: typ}, {Name: "S", Type: typ}, {Name: "K", Type: typ}}}, []byte(doc))
		}
	}
}

func deep(n int) string {
	s := "1"
	for i := 0; i < n; i++ {
		s = "[" + s + "]"
	}
	return s
}

func FuzzJSONFast(f *testing.F) {
	for _, v := range fastTestValues {
		f.Add([]byte(`{"V":` + v + `,"w":` + v + `}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range fastTestTypes {
			checkSame(t, &jsonCodec{cols: []types.Column{{Name: "V", Type: typ}, {Name: "W", Type: typ}}}, b)
			checkSame(t, &jsonCodec{cols: []types.Column{{Name: "V", Type: typ}}, unwrapped: true}, b)
		}
	})
}

// benchJSONRecords are the enginebench csas records.
func benchJSONRecords(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(`{"ID":` + strconv.Itoa(i) + `,"AMOUNT":` + strconv.Itoa(i%1000) + `.5,"NAME":"name-` + strconv.Itoa(i%977) + `"}`)
	}
	return out
}

var benchCols = []types.Column{{Name: "ID", Type: types.BigintType}, {Name: "AMOUNT", Type: types.DoubleType}, {Name: "NAME", Type: types.StringType}}

func BenchmarkJSONDecode(b *testing.B) {
	recs := benchJSONRecords(1024)
	c := &jsonCodec{cols: benchCols}
	vals := make([]any, 3)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.Decode(recs[i%len(recs)], vals); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONDecodeGeneric(b *testing.B) {
	recs := benchJSONRecords(1024)
	c := &jsonCodec{cols: benchCols}
	vals := make([]any, 3)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.decodeGeneric(recs[i%len(recs)], vals); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONEncode(b *testing.B) {
	c := &jsonCodec{cols: benchCols}
	rows := make([][]any, 1024)
	for i := range rows {
		rows[i] = []any{int64(i), float64(i%1000) + 0.5, fmt.Sprintf("NAME-%d", i%977)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Encode(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
}

// DecodeTypedArray gives, for every value and type of the fast decoder's tests, what the
// generic path (ParseJSON, then FromJSON per element) gives, or hands the array back to it.
func TestDecodeTypedArrayMatchesGeneric(t *testing.T) {
	for _, typ := range fastTestTypes {
		for _, v := range fastTestValues {
			b := []byte(`[ 17,-3 , ` + v + `,` + v + ` ]`)
			typs := []*types.Type{typ, types.StringType}
			head := make([]int64, 2)
			got := make([]any, 2)
			ok, gerr := DecodeTypedArray(b, head, typs, got)
			tree, perr := ParseJSON(b)
			if perr != nil {
				if ok {
					t.Fatalf("%s as %s: decoded, but ParseJSON fails: %v", b, typ, perr)
				}
				continue
			}
			if !ok {
				continue // the generic path decides
			}
			arr := tree.([]any)
			want, werr := FromJSON(arr[2], typ)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s as %s: error %v, generic %v", b, typ, gerr, werr)
			}
			if werr != nil {
				continue
			}
			want2, _ := FromJSON(arr[3], types.StringType)
			if head[0] != 17 || head[1] != -3 || !sameValue(got[0], want) || !sameValue(got[1], want2) {
				t.Fatalf("%s as %s: %v %#v, want [17 -3] %#v %#v", b, typ, head, got, want, want2)
			}
		}
	}
	for _, bad := range []string{`[1,2,"x"`, `[1,2]`, `[1,2,"x","y","z"]`, `{"a":1}`, `[1.5,2,"x","y"]`, `[1,2,"x","y"] x`} {
		if ok, _ := DecodeTypedArray([]byte(bad), make([]int64, 2), []*types.Type{types.StringType, types.StringType}, make([]any, 2)); ok {
			t.Errorf("%s: decoded, want the generic path", bad)
		}
	}
}
