package serde

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func pbCodec(t testing.TB, cols []types.Column, isKey bool) Codec {
	t.Helper()
	c, err := NewCodec(Format{Name: "protobuf_nosr"}, cols, isKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cols(specs ...any) []types.Column {
	var out []types.Column
	for i := 0; i < len(specs); i += 2 {
		out = append(out, types.Column{Name: specs[i].(string), Type: specs[i+1].(*types.Type)})
	}
	return out
}

// render prints a row as JSON, decimals at their own scale, so that scale differences show.
func render(vals []any) string {
	var sb strings.Builder
	for i, v := range vals {
		if i > 0 {
			sb.WriteString(" | ")
		}
		sb.WriteString(renderVal(v))
	}
	return sb.String()
}

func renderVal(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case decimal.Decimal:
		return fmt.Sprintf("dec(%s,scale=%d)", x.String(), -x.Exponent())
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderVal(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.Map:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = renderVal(x.Keys[i]) + ":" + renderVal(x.Vals[i])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case *types.Struct:
		parts := make([]string, len(x.Vals))
		for i := range x.Vals {
			parts[i] = x.Names[i] + "=" + renderVal(x.Vals[i])
		}
		return "struct{" + strings.Join(parts, ",") + "}"
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func roundTrip(t *testing.T, c Codec, n int, vals []any) []any {
	t.Helper()
	b, err := c.Encode(vals)
	if err != nil {
		t.Fatalf("encode %s: %v", render(vals), err)
	}
	if b == nil {
		t.Fatalf("encode %s: nil bytes", render(vals))
	}
	out := make([]any, n)
	if err := c.Decode(b, out); err != nil {
		t.Fatalf("decode %x: %v", b, err)
	}
	return out
}

var nested = types.StructOf(
	types.Field{Name: "A", Type: types.StringType},
	types.Field{Name: "B", Type: types.IntType},
	types.Field{Name: "INNER", Type: types.StructOf(types.Field{Name: "X", Type: types.DoubleType})},
)

func allTypeCols() []types.Column {
	return cols(
		"B", types.BooleanType,
		"I", types.IntType,
		"L", types.BigintType,
		"D", types.DoubleType,
		"DEC", types.DecimalOf(10, 3),
		"S", types.StringType,
		"Y", types.BytesType,
		"DT", types.DateType,
		"TM", types.TimeType,
		"TS", types.TimestampType,
		"AI", types.ArrayOf(types.IntType),
		"AS", types.ArrayOf(types.StringType),
		"M", types.MapOf(types.StringType, types.BigintType),
		"ST", nested,
		"AST", types.ArrayOf(nested),
		"AA", types.ArrayOf(types.ArrayOf(types.BigintType)),
		"MA", types.MapOf(types.StringType, types.ArrayOf(types.DoubleType)),
		"MS", types.MapOf(types.IntType, nested),
		"ADEC", types.ArrayOf(types.DecimalOf(4, 2)),
	)
}

func mkNested(a string, b int32, x float64) *types.Struct {
	inner := &types.Struct{Names: []string{"X"}, Vals: []any{x}}
	return &types.Struct{Names: []string{"A", "B", "INNER"}, Vals: []any{a, b, inner}}
}

func TestProtobufRoundTripAllTypes(t *testing.T) {
	cs := allTypeCols()
	c := pbCodec(t, cs, false)
	vals := []any{
		true, int32(-7), int64(1) << 40, 3.25,
		decimal.RequireFromString("-12.345"), "héllo", []byte{0, 1, 0xff},
		types.Date(19000), types.Time(45296789), types.Timestamp(1700000000123),
		[]any{int32(1), int32(-2), int32(0)}, []any{"a", "", "c"},
		&types.Map{Keys: []any{"k1", "k2"}, Vals: []any{int64(5), int64(-6)}},
		mkNested("n", 3, 1.5),
		[]any{mkNested("x", 1, 0), mkNested("", 0, -2)},
		[]any{[]any{int64(1), int64(2)}, []any{}, []any{int64(3)}},
		&types.Map{Keys: []any{"p"}, Vals: []any{[]any{1.0, 2.5}}},
		&types.Map{Keys: []any{int32(9)}, Vals: []any{mkNested("v", 9, 9)}},
		[]any{decimal.RequireFromString("1.5"), decimal.RequireFromString("-0.01")},
	}
	got := roundTrip(t, c, len(cs), vals)
	want := render(vals)
	// DECIMALs come back at the column scale.
	wantVals := append([]any(nil), vals...)
	wantVals[4] = decimal.RequireFromString("-12.345")
	wantVals[18] = []any{decimal.New(150, -2), decimal.New(-1, -2)}
	want = render(wantVals)
	if g := render(got); g != want {
		t.Errorf("round trip:\n got %s\nwant %s", g, want)
	}
	// Go types are the value model's.
	if _, ok := got[1].(int32); !ok {
		t.Errorf("INT decoded as %T", got[1])
	}
	if _, ok := got[7].(types.Date); !ok {
		t.Errorf("DATE decoded as %T", got[7])
	}
}

func TestProtobufDecimalScale(t *testing.T) {
	for _, tc := range []struct {
		typ  *types.Type
		in   string
		want string // value and scale as read back
	}{
		{types.DecimalOf(6, 4), "10", "dec(10,scale=4)"},
		{types.DecimalOf(6, 4), "1.0", "dec(1,scale=4)"},
		{types.DecimalOf(21, 19), "10.123451234512345", "dec(10.123451234512345,scale=19)"},
		{types.DecimalOf(4, 2), "-0.5", "dec(-0.5,scale=2)"},
		{types.DecimalOf(4, 2), "0", "dec(0,scale=2)"},
		{types.DecimalOf(5, 0), "-128", "dec(-128,scale=0)"},
		{types.DecimalOf(5, 0), "128", "dec(128,scale=0)"},
		{types.DecimalOf(38, 2), "-123456789012345678901234567890123456.78", "dec(-123456789012345678901234567890123456.78,scale=2)"},
	} {
		cs := cols("D", tc.typ)
		c := pbCodec(t, cs, false)
		got := roundTrip(t, c, 1, []any{decimal.RequireFromString(tc.in)})
		if g := renderVal(got[0]); g != tc.want {
			t.Errorf("%s %s: got %s want %s", tc.typ, tc.in, g, tc.want)
		}
	}
}

func TestProtobufDecimalWire(t *testing.T) {
	// DECIMAL(6,4) 10.0 -> confluent.type.Decimal{value=0x0186a0 (100000), precision=6, scale=4}.
	c := pbCodec(t, cols("D", types.DecimalOf(6, 4)), false)
	b, err := c.Encode([]any{decimal.RequireFromString("10.0")})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x0a, 9, 0x0a, 3, 0x01, 0x86, 0xa0, 0x10, 6, 0x18, 4}
	if !bytes.Equal(b, want) {
		t.Errorf("got % x want % x", b, want)
	}
}

func TestTwosComplement(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "00"}, {1, "01"}, {127, "7f"}, {128, "0080"}, {255, "00ff"}, {256, "0100"},
		{-1, "ff"}, {-128, "80"}, {-129, "ff7f"}, {-256, "ff00"}, {-257, "feff"},
		{math.MinInt64, "8000000000000000"}, {math.MaxInt64, "7fffffffffffffff"},
	} {
		got := hex.EncodeToString(twosComplement(big.NewInt(tc.n)))
		if got != tc.want {
			t.Errorf("%d: got %s want %s", tc.n, got, tc.want)
		}
		if back := fromTwosComplement(twosComplement(big.NewInt(tc.n))); back.Int64() != tc.n {
			t.Errorf("%d: back %s", tc.n, back)
		}
	}
}

// NULLs: scalars, arrays and maps read back as their proto3 defaults; message-typed columns
// (STRUCT, DECIMAL, DATE, TIME, TIMESTAMP) read back as NULL.
func TestProtobufNulls(t *testing.T) {
	cs := allTypeCols()
	c := pbCodec(t, cs, false)
	vals := make([]any, len(cs))
	b, err := c.Encode(vals)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil || len(b) != 0 {
		t.Fatalf("all-NULL row: got %v, want empty non-nil bytes", b)
	}
	got := make([]any, len(cs))
	if err := c.Decode(b, got); err != nil {
		t.Fatal(err)
	}
	want := `bool(false) | int32(0) | int64(0) | float64(0) | null | "" | 0x | null | null | null | [] | [] | {} | null | [] | [] | {} | {} | []`
	if g := render(got); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}

	// NULLs nested in a struct follow the same rules; NULL elements of repeated fields are
	// written as defaults.
	st := &types.Struct{Names: []string{"A", "B", "INNER"}, Vals: []any{nil, nil, nil}}
	vals[13] = st
	vals[10] = []any{int32(1), nil}
	vals[11] = []any{nil, "x"}
	vals[12] = &types.Map{Keys: []any{"k"}, Vals: []any{nil}}
	vals[17] = &types.Map{Keys: []any{int32(1)}, Vals: []any{nil}}
	got = roundTrip(t, c, len(cs), vals)
	if g := renderVal(got[13]); g != `struct{A="",B=int32(0),INNER=null}` {
		t.Errorf("struct of NULLs: %s", g)
	}
	if g := renderVal(got[10]); g != `[int32(1),int32(0)]` {
		t.Errorf("array with NULL: %s", g)
	}
	if g := renderVal(got[11]); g != `["","x"]` {
		t.Errorf("string array with NULL: %s", g)
	}
	if g := renderVal(got[12]); g != `{"k":int64(0)}` {
		t.Errorf("map with NULL value: %s", g)
	}
	if g := renderVal(got[17]); g != `{int32(1):struct{A="",B=int32(0),INNER=null}}` {
		t.Errorf("map with NULL struct value: %s", g)
	}

	// A nil input is a null key; empty bytes are a message of defaults.
	k := pbCodec(t, cols("K", types.StringType), true)
	out := []any{"junk"}
	if err := k.Decode(nil, out); err != nil || out[0] != nil {
		t.Errorf("nil key: %v %v", out, err)
	}
	if err := k.Decode([]byte{}, out); err != nil || out[0] != "" {
		t.Errorf("empty key: %v %v", out, err)
	}
}

func TestProtobufKeyWrapped(t *testing.T) {
	k := pbCodec(t, cols("K", types.StringType), true)
	b, err := k.Encode([]any{"ab"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x0a, 2, 'a', 'b'}; !bytes.Equal(b, want) {
		t.Errorf("single key: got % x want % x", b, want)
	}
	k2 := pbCodec(t, cols("A", types.IntType, "B", types.StringType), true)
	got := roundTrip(t, k2, 2, []any{int32(-1), "z"})
	if g := render(got); g != `int32(-1) | "z"` {
		t.Errorf("multi key: %s", g)
	}
}

func TestProtobufScalarWire(t *testing.T) {
	c := pbCodec(t, cols("ID", types.BigintType, "NAME", types.StringType, "V", types.IntType, "D", types.DoubleType, "F", types.BooleanType), false)
	b, err := c.Encode([]any{int64(150), "x", int32(-1), 1.0, true})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0x08, 0x96, 0x01, // 1: varint 150
		0x12, 1, 'x', // 2: "x"
		0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // 3: int32 -1 sign-extended
		0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 4: double 1.0
		0x28, 1, // 5: true
	}
	if !bytes.Equal(b, want) {
		t.Errorf("got  % x\nwant % x", b, want)
	}
}

func TestProtobufDecodeLenient(t *testing.T) {
	c := pbCodec(t, cols("A", types.IntType, "B", types.ArrayOf(types.IntType), "S", nested), false)
	var b []byte
	// unknown field 9, wrong wire type for A (skipped), unpacked repeated ints, A set twice
	// (last wins), S set twice (merged).
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	b = protowire.AppendString(b, "ignored")
	b = protowire.AppendTag(b, 1, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 77)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, 4)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, 5)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 2)
	s1 := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a")
	s2 := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 3)
	b = protowire.AppendBytes(protowire.AppendTag(b, 3, protowire.BytesType), s1)
	b = protowire.AppendBytes(protowire.AppendTag(b, 3, protowire.BytesType), s2)
	out := make([]any, 3)
	if err := c.Decode(b, out); err != nil {
		t.Fatal(err)
	}
	if g := render(out); g != `int32(2) | [int32(4),int32(5)] | struct{A="a",B=int32(3),INNER=null}` {
		t.Errorf("got %s", g)
	}
	// Truncated input is an error, not a panic.
	if err := c.Decode(b[:len(b)-1], out); err == nil {
		t.Error("truncated: want error")
	}
}

func TestProtobufLogicalTypesWire(t *testing.T) {
	c := pbCodec(t, cols("DT", types.DateType, "TM", types.TimeType, "TS", types.TimestampType), false)
	// 1970-01-02, 00:00:01.5, -1 ms (= {seconds: -1, nanos: 999000000}); the exact fields are
	// checked against the reference parser in TestProtobufMatchesReferenceParser.
	vals := []any{types.Date(1), types.Time(1500), types.Timestamp(-1)}
	if got := roundTrip(t, c, 3, vals); render(got) != render(vals) {
		t.Errorf("got %s want %s", render(got), render(vals))
	}
	// Dates before the epoch and far away survive.
	for _, d := range []types.Date{-719162, -1, 0, 2932896} {
		got := roundTrip(t, c, 3, []any{d, nil, nil})
		if got[0] != d {
			t.Errorf("date %d: got %v", d, got[0])
		}
	}
	// Invalid logical values read as errors.
	bad := protowire.AppendTag(nil, 1, protowire.BytesType)
	bad = protowire.AppendBytes(bad, protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 13))
	if err := c.Decode(bad, make([]any, 3)); err == nil {
		t.Error("month 13: want error")
	}
}

// ---------------------------------------------------------------------------------------------
// Cross-check against the reference protobuf implementation with a hand-built descriptor of
// the schema ksqlDB derives.

func refDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	s := proto.String
	i32 := proto.Int32
	lbl := func(l descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto_Label { return &l }
	typ := func(x descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto_Type { return &x }
	opt, rep := lbl(descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL), lbl(descriptorpb.FieldDescriptorProto_LABEL_REPEATED)
	field := func(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, ty descriptorpb.FieldDescriptorProto_Type, msg string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: s(name), Number: i32(num), Label: l, Type: typ(ty), JsonName: s(name)}
		if msg != "" {
			f.TypeName = s(".t." + msg)
		}
		return f
	}
	const (
		BOOL   = descriptorpb.FieldDescriptorProto_TYPE_BOOL
		INT32  = descriptorpb.FieldDescriptorProto_TYPE_INT32
		INT64  = descriptorpb.FieldDescriptorProto_TYPE_INT64
		UINT32 = descriptorpb.FieldDescriptorProto_TYPE_UINT32
		DOUBLE = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		STRING = descriptorpb.FieldDescriptorProto_TYPE_STRING
		BYTES  = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		MSG    = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	msg := func(name string, fs ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: s(name), Field: fs}
	}
	entry := msg("MEntry", field("key", 1, opt, STRING, ""), field("value", 2, opt, INT64, ""))
	entry.Options = &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}
	row := msg("Row",
		field("B", 1, opt, BOOL, ""),
		field("I", 2, opt, INT32, ""),
		field("L", 3, opt, INT64, ""),
		field("D", 4, opt, DOUBLE, ""),
		field("DEC", 5, opt, MSG, "Decimal"),
		field("S", 6, opt, STRING, ""),
		field("Y", 7, opt, BYTES, ""),
		field("DT", 8, opt, MSG, "Date"),
		field("TM", 9, opt, MSG, "TimeOfDay"),
		field("TS", 10, opt, MSG, "Timestamp"),
		field("AI", 11, rep, INT32, ""),
		field("AS", 12, rep, STRING, ""),
		field("M", 13, rep, MSG, "Row.MEntry"),
		field("ST", 14, opt, MSG, "Nested"),
		field("AST", 15, rep, MSG, "Nested"),
	)
	row.NestedType = []*descriptorpb.DescriptorProto{entry}
	fd := &descriptorpb.FileDescriptorProto{
		Name:    s("t.proto"),
		Package: s("t"),
		Syntax:  s("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			msg("Decimal", field("value", 1, opt, BYTES, ""), field("precision", 2, opt, UINT32, ""), field("scale", 3, opt, INT32, "")),
			msg("Date", field("year", 1, opt, INT32, ""), field("month", 2, opt, INT32, ""), field("day", 3, opt, INT32, "")),
			msg("TimeOfDay", field("hours", 1, opt, INT32, ""), field("minutes", 2, opt, INT32, ""), field("seconds", 3, opt, INT32, ""), field("nanos", 4, opt, INT32, "")),
			msg("Timestamp", field("seconds", 1, opt, INT64, ""), field("nanos", 2, opt, INT32, "")),
			msg("Inner", field("X", 1, opt, DOUBLE, "")),
			msg("Nested", field("A", 1, opt, STRING, ""), field("B", 2, opt, INT32, ""), field("INNER", 3, opt, MSG, "Inner")),
			row,
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Messages().ByName("Row")
}

func TestProtobufMatchesReferenceParser(t *testing.T) {
	md := refDescriptor(t)
	cs := allTypeCols()[:15]
	c := pbCodec(t, cs, false)
	vals := []any{
		true, int32(-7), int64(1) << 40, 3.25,
		decimal.RequireFromString("-12.345"), "héllo", []byte{0, 1, 0xff},
		types.Date(19000), types.Time(45296789), types.Timestamp(-1),
		[]any{int32(1), int32(-2), int32(0)}, []any{"a", "", "c"},
		&types.Map{Keys: []any{"k1"}, Vals: []any{int64(5)}},
		mkNested("n", 3, 1.5),
		[]any{mkNested("x", 1, 0), mkNested("", 0, -2)},
	}
	b, err := c.Encode(vals)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatalf("reference parser rejects our bytes: %v", err)
	}
	f := md.Fields()
	get := func(name string) protoreflect.Value { return m.Get(f.ByName(protoreflect.Name(name))) }
	sub := func(v protoreflect.Value, name string) protoreflect.Value {
		mm := v.Message()
		return mm.Get(mm.Descriptor().Fields().ByName(protoreflect.Name(name)))
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v want %v", what, got, want)
		}
	}
	check("B", get("B").Bool(), true)
	check("I", get("I").Int(), -7)
	check("L", get("L").Int(), int64(1)<<40)
	check("D", get("D").Float(), 3.25)
	check("DEC.value", hex.EncodeToString(sub(get("DEC"), "value").Bytes()), "cfc7") // -12345
	check("DEC.precision", sub(get("DEC"), "precision").Uint(), 5)
	check("DEC.scale", sub(get("DEC"), "scale").Int(), 3)
	check("S", get("S").String(), "héllo")
	check("Y", get("Y").Bytes(), []byte{0, 1, 0xff})
	// 19000 days = 2022-01-08
	check("DT", fmt.Sprint(sub(get("DT"), "year").Int(), sub(get("DT"), "month").Int(), sub(get("DT"), "day").Int()), "2022 1 8")
	// 45296789 ms = 12:34:56.789
	check("TM", fmt.Sprint(sub(get("TM"), "hours").Int(), sub(get("TM"), "minutes").Int(), sub(get("TM"), "seconds").Int(), sub(get("TM"), "nanos").Int()), "12 34 56 789000000")
	check("TS", fmt.Sprint(sub(get("TS"), "seconds").Int(), sub(get("TS"), "nanos").Int()), "-1 999000000")
	ai := get("AI").List()
	check("AI", fmt.Sprint(ai.Len(), ai.Get(0).Int(), ai.Get(1).Int(), ai.Get(2).Int()), "3 1 -2 0")
	as := get("AS").List()
	check("AS", fmt.Sprintf("%d %q %q %q", as.Len(), as.Get(0).String(), as.Get(1).String(), as.Get(2).String()), `3 "a" "" "c"`)
	mp := get("M").Map()
	check("M", mp.Get(protoreflect.ValueOfString("k1").MapKey()).Int(), 5)
	check("ST.A", sub(get("ST"), "A").String(), "n")
	check("ST.INNER.X", sub(sub(get("ST"), "INNER"), "X").Float(), 1.5)
	check("AST", get("AST").List().Len(), 2)

	// And the other way: what the reference writes, we read.
	ref, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]any, len(cs))
	if err := c.Decode(ref, got); err != nil {
		t.Fatal(err)
	}
	if render(got) != render(vals) {
		t.Errorf("reference bytes:\n got %s\nwant %s", render(got), render(vals))
	}

	// A message from the reference writer with nothing set reads as defaults / NULLs.
	empty, _ := proto.Marshal(dynamicpb.NewMessage(md))
	if err := c.Decode(empty, got); err != nil {
		t.Fatal(err)
	}
	if g := render(got); g != `bool(false) | int32(0) | int64(0) | float64(0) | null | "" | 0x | null | null | null | [] | [] | {} | null | []` {
		t.Errorf("empty reference message: %s", g)
	}
}

func TestProtobufLogicalJSON(t *testing.T) {
	cs := cols("ID", types.BigintType, "NAME", types.StringType, "DEC", types.DecimalOf(6, 4), "B", types.BytesType)
	tree, err := ParseJSON([]byte(`{"id": 5, "name": "x", "DEC": 10.0, "b": "AAE="}`))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := RowFromJSON(tree, cs)
	if err != nil {
		t.Fatal(err)
	}
	c := pbCodec(t, cs, false)
	got := roundTrip(t, c, len(cs), vals)
	back := RowToJSON(got, cs)
	if g := fmt.Sprint(back); g != "map[B:AAE= DEC:10.0000 ID:5 NAME:x]" {
		t.Errorf("logical: %s", g)
	}
	// A bare value stands for a single column.
	vals, err = RowFromJSON("k", cols("K", types.StringType))
	if err != nil || vals[0] != "k" {
		t.Errorf("bare: %v %v", vals, err)
	}
}

func TestProtobufSupported(t *testing.T) {
	if !Supported("PROTOBUF_NOSR") || !Supported("protobuf_nosr") {
		t.Error("PROTOBUF_NOSR not supported")
	}
	if Supported("PROTOBUF") {
		t.Error("PROTOBUF needs a registry")
	}
}

func FuzzProtobufDecode(f *testing.F) {
	cs := allTypeCols()
	c := pbCodec(f, cs, false)
	seed, err := c.Encode([]any{
		true, int32(-7), int64(1) << 40, 3.25,
		decimal.RequireFromString("-12.345"), "héllo", []byte{0, 1, 0xff},
		types.Date(19000), types.Time(45296789), types.Timestamp(1700000000123),
		[]any{int32(1)}, []any{"a"},
		&types.Map{Keys: []any{"k1"}, Vals: []any{int64(5)}},
		mkNested("n", 3, 1.5),
		[]any{mkNested("x", 1, 0)},
		[]any{[]any{int64(1)}},
		&types.Map{Keys: []any{"p"}, Vals: []any{[]any{1.0}}},
		&types.Map{Keys: []any{int32(9)}, Vals: []any{mkNested("v", 9, 9)}},
		[]any{decimal.RequireFromString("1.5")},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x2a, 0x05, 0x0a, 0x01, 0x80, 0x18, 0xff})
	f.Add([]byte{0x2a, 0x04, 0x18, 0xe8, 0x07, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		vals := make([]any, len(cs))
		if err := c.Decode(b, vals); err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same thing.
		b2, err := c.Encode(vals)
		if err != nil {
			t.Fatalf("re-encode of %s: %v", render(vals), err)
		}
		vals2 := make([]any, len(cs))
		if err := c.Decode(b2, vals2); err != nil {
			t.Fatalf("decode of re-encoded %x: %v", b2, err)
		}
		if render(vals) != render(vals2) {
			t.Fatalf("unstable:\n%s\n%s", render(vals), render(vals2))
		}
	})
}

func TestProtobufMapDuplicatesAndSize(t *testing.T) {
	c := pbCodec(t, cols("M", types.MapOf(types.StringType, types.IntType)), false)
	var b []byte
	entry := func(k string, v uint64) {
		e := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), k)
		e = protowire.AppendVarint(protowire.AppendTag(e, 2, protowire.VarintType), v)
		b = protowire.AppendBytes(protowire.AppendTag(b, 1, protowire.BytesType), e)
	}
	entry("a", 1)
	entry("b", 2)
	entry("a", 3)
	out := make([]any, 1)
	if err := c.Decode(b, out); err != nil {
		t.Fatal(err)
	}
	if g := renderVal(out[0]); g != `{"a":int32(3),"b":int32(2)}` {
		t.Errorf("duplicates: %s", g)
	}
	// Many entries decode in linear time.
	b = b[:0]
	for i := 0; i < 200000; i++ {
		entry(fmt.Sprint(i%100000), uint64(i))
	}
	if err := c.Decode(b, out); err != nil {
		t.Fatal(err)
	}
	if n := out[0].(*types.Map).Len(); n != 100000 {
		t.Errorf("got %d entries", n)
	}
}
