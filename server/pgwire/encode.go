package pgwire

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// PostgreSQL type OIDs used on the wire. Never invent OIDs: drivers look unknown ones up in
// pg_type, which we do not have.
const (
	oidBool        = 16
	oidBytea       = 17
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOid         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// typeOID maps a SQL type to its wire OID. ARRAY, MAP and STRUCT travel as json: its binary
// form equals its text form, so every driver can read it.
func typeOID(t *types.Type) uint32 {
	if t == nil {
		return oidText
	}
	switch t.Kind {
	case types.KindBoolean:
		return oidBool
	case types.KindInt:
		return oidInt4
	case types.KindBigint:
		return oidInt8
	case types.KindDouble:
		return oidFloat8
	case types.KindDecimal:
		return oidNumeric
	case types.KindBytes:
		return oidBytea
	case types.KindDate:
		return oidDate
	case types.KindTime:
		return oidTime
	case types.KindTimestamp:
		return oidTimestamp
	case types.KindArray, types.KindMap, types.KindStruct:
		return oidJSON
	}
	return oidText
}

func typeSize(oid uint32) int16 {
	switch oid {
	case oidBool:
		return 1
	case oidInt2:
		return 2
	case oidInt4, oidDate, oidFloat4, oidOid:
		return 4
	case oidInt8, oidFloat8, oidTime, oidTimestamp, oidTimestamptz:
		return 8
	}
	return -1
}

// pgTypeName is format_type()'s answer, used by the catalog emulation.
func pgTypeName(t *types.Type) string {
	if t == nil {
		return "text"
	}
	switch t.Kind {
	case types.KindBoolean:
		return "boolean"
	case types.KindInt:
		return "integer"
	case types.KindBigint:
		return "bigint"
	case types.KindDouble:
		return "double precision"
	case types.KindDecimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case types.KindString:
		return "text"
	case types.KindBytes:
		return "bytea"
	case types.KindDate:
		return "date"
	case types.KindTime:
		return "time without time zone"
	case types.KindTimestamp:
		return "timestamp without time zone"
	}
	return "json"
}

// rowDescription builds the RowDescription for cols with the given result formats.
func rowDescription(cols []engine.Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		oid := typeOID(c.Type)
		mod := int32(-1)
		if c.Type != nil && c.Type.Kind == types.KindDecimal && c.Type.Precision > 0 {
			mod = int32(c.Type.Precision<<16|c.Type.Scale) + 4
		}
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(c.Name),
			DataTypeOID:  oid,
			DataTypeSize: typeSize(oid),
			TypeModifier: mod,
			Format:       formatFor(formats, i),
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// formatFor applies the protocol's format-code rule: none means text, one applies to all.
func formatFor(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	if i < len(formats) {
		return formats[i]
	}
	return 0
}

// epoch offsets between the Unix epoch and PostgreSQL's 2000-01-01.
const (
	pgEpochDays = 10957
	pgEpochMs   = 946684800000
)

// appendValue encodes v of column type t in format (0 text, 1 binary). v follows the value
// model of sql/types; mismatched Go types are converted where it is lossless.
func appendValue(buf []byte, t *types.Type, format int16, v any) ([]byte, error) {
	if format == 1 {
		return appendBinary(buf, t, v)
	}
	return appendText(buf, t, v), nil
}

func appendText(buf []byte, t *types.Type, v any) []byte {
	switch x := v.(type) {
	case bool:
		if x {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case int32:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case float64:
		return appendFloatText(buf, x)
	case float32:
		return appendFloatText(buf, float64(x))
	case decimal.Decimal:
		if t != nil && t.Kind == types.KindDecimal && t.Scale > 0 {
			return append(buf, x.StringFixed(int32(t.Scale))...)
		}
		return append(buf, x.String()...)
	case string:
		return append(buf, x...)
	case []byte:
		buf = append(buf, '\\', 'x')
		return hex.AppendEncode(buf, x)
	case types.Date:
		return time.UnixMilli(int64(x)*86400000).UTC().AppendFormat(buf, "2006-01-02")
	case types.Time:
		return appendTimeOfDay(buf, int64(x))
	case types.Timestamp:
		return appendTimestamp(buf, int64(x))
	case []any, *types.Map, *types.Struct:
		return appendJSON(buf, v)
	case nil:
		return buf
	}
	return fmt.Appendf(buf, "%v", v)
}

func appendFloatText(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64)
}

func appendTimeOfDay(buf []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 != 0 {
		return t.AppendFormat(buf, "15:04:05.000")
	}
	return t.AppendFormat(buf, "15:04:05")
}

func appendTimestamp(buf []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 != 0 {
		return t.AppendFormat(buf, "2006-01-02 15:04:05.000")
	}
	return t.AppendFormat(buf, "2006-01-02 15:04:05")
}

func appendBinary(buf []byte, t *types.Type, v any) ([]byte, error) {
	kind := types.KindUnknown
	if t != nil {
		kind = t.Kind
	}
	switch kind {
	case types.KindBoolean:
		if b, ok := v.(bool); ok {
			if b {
				return append(buf, 1), nil
			}
			return append(buf, 0), nil
		}
	case types.KindInt:
		if n, ok := types.ToInt64(v); ok {
			return binary.BigEndian.AppendUint32(buf, uint32(int32(n))), nil
		}
	case types.KindBigint:
		if n, ok := types.ToInt64(v); ok {
			return binary.BigEndian.AppendUint64(buf, uint64(n)), nil
		}
	case types.KindDouble:
		if f, ok := types.ToFloat(v); ok {
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
		}
	case types.KindDecimal:
		if d, ok := types.ToDecimal(v); ok {
			scale := -1
			if t.Scale > 0 {
				scale = t.Scale
			}
			return appendNumericBinary(buf, d, scale), nil
		}
	case types.KindDate:
		if d, ok := v.(types.Date); ok {
			return binary.BigEndian.AppendUint32(buf, uint32(int32(d)-pgEpochDays)), nil
		}
	case types.KindTime:
		if d, ok := v.(types.Time); ok {
			return binary.BigEndian.AppendUint64(buf, uint64(int64(d)*1000)), nil
		}
	case types.KindTimestamp:
		if d, ok := v.(types.Timestamp); ok {
			return binary.BigEndian.AppendUint64(buf, uint64((int64(d)-pgEpochMs)*1000)), nil
		}
	case types.KindBytes:
		if b, ok := v.([]byte); ok {
			return append(buf, b...), nil
		}
	default:
		// text, json and untyped columns: the binary form is the text form.
		return appendText(buf, t, v), nil
	}
	return nil, fmt.Errorf("cannot encode %T as binary %s", v, t)
}

// appendNumericBinary writes PostgreSQL's binary numeric: ndigits, weight, sign, dscale, then
// base-10000 digits. scale < 0 means "the value's own scale".
func appendNumericBinary(buf []byte, d decimal.Decimal, scale int) []byte {
	if scale < 0 {
		scale = 0
		if e := d.Exponent(); e < 0 {
			scale = int(-e)
		}
	}
	sign := uint16(0)
	if d.Sign() < 0 {
		sign = 0x4000
		d = d.Neg()
	}
	// Integer and fractional digit strings, the fraction padded to a multiple of 4.
	s := d.StringFixed(int32(scale))
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	for len(intPart)%4 != 0 {
		intPart = "0" + intPart
	}
	for len(frac)%4 != 0 {
		frac += "0"
	}
	var digits []int16
	for i := 0; i < len(intPart); i += 4 {
		n, _ := strconv.Atoi(intPart[i : i+4])
		digits = append(digits, int16(n))
	}
	weight := len(digits) - 1
	for i := 0; i < len(frac); i += 4 {
		n, _ := strconv.Atoi(frac[i : i+4])
		digits = append(digits, int16(n))
	}
	// Strip leading zero groups (adjusting weight) and trailing zero groups.
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight = 0
		sign = 0
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(digits)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale))
	for _, g := range digits {
		buf = binary.BigEndian.AppendUint16(buf, uint16(g))
	}
	return buf
}

// decodeNumericBinary reads a binary numeric parameter into its decimal text.
func decodeNumericBinary(src []byte) (string, error) {
	if len(src) < 8 {
		return "", fmt.Errorf("invalid numeric length %d", len(src))
	}
	ndigits := int(binary.BigEndian.Uint16(src))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	sign := binary.BigEndian.Uint16(src[4:])
	dscale := int(binary.BigEndian.Uint16(src[6:]))
	if len(src) != 8+2*ndigits {
		return "", fmt.Errorf("invalid numeric length %d", len(src))
	}
	if sign == 0xC000 {
		return "NaN", nil
	}
	n := new(big.Int)
	for i := 0; i < ndigits; i++ {
		n.Mul(n, big.NewInt(10000))
		n.Add(n, big.NewInt(int64(binary.BigEndian.Uint16(src[8+2*i:]))))
	}
	exp := 4 * (weight - ndigits + 1)
	d := decimal.NewFromBigInt(n, int32(exp))
	if sign == 0x4000 {
		d = d.Neg()
	}
	return d.StringFixed(int32(dscale)), nil
}

// appendJSON encodes a value as JSON, the text (and binary) form of ARRAY, MAP and STRUCT.
func appendJSON(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, x)
	case int32:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.AppendQuote(buf, string(appendFloatText(nil, x)))
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64)
	case decimal.Decimal:
		return append(buf, x.String()...)
	case string:
		return appendJSONString(buf, x)
	case []byte:
		return appendJSONString(buf, base64.StdEncoding.EncodeToString(x))
	case types.Date:
		return appendJSONString(buf, string(appendText(nil, nil, x)))
	case types.Time:
		return appendJSONString(buf, string(appendText(nil, nil, x)))
	case types.Timestamp:
		return appendJSONString(buf, time.UnixMilli(int64(x)).UTC().Format("2006-01-02T15:04:05.000"))
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, e)
		}
		return append(buf, ']')
	case *types.Map:
		if x == nil {
			return append(buf, "null"...)
		}
		buf = append(buf, '{')
		for i, k := range x.Keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			ks, ok := k.(string)
			if !ok {
				ks = string(appendText(nil, nil, k))
			}
			buf = appendJSONString(buf, ks)
			buf = append(buf, ':')
			buf = appendJSON(buf, x.Vals[i])
		}
		return append(buf, '}')
	case *types.Struct:
		if x == nil {
			return append(buf, "null"...)
		}
		buf = append(buf, '{')
		for i, name := range x.Names {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, name)
			buf = append(buf, ':')
			var fv any
			if i < len(x.Vals) {
				fv = x.Vals[i]
			}
			buf = appendJSON(buf, fv)
		}
		return append(buf, '}')
	}
	return appendJSONString(buf, fmt.Sprint(v))
}

const hexDigits = "0123456789abcdef"

func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}

// inferType guesses a column type from a value, for results whose columns carry no type.
func inferType(v any) *types.Type {
	switch v.(type) {
	case bool:
		return types.BooleanType
	case int32:
		return types.IntType
	case int64, int:
		return types.BigintType
	case float64:
		return types.DoubleType
	case decimal.Decimal:
		return types.DecimalOf(0, 0)
	case []byte:
		return types.BytesType
	case types.Date:
		return types.DateType
	case types.Time:
		return types.TimeType
	case types.Timestamp:
		return types.TimestampType
	case []any:
		return types.ArrayOf(types.StringType)
	case *types.Map:
		return types.MapOf(types.StringType, types.StringType)
	case *types.Struct:
		return types.StructOf()
	}
	return types.StringType
}

// fillTypes gives untyped columns of a finished result a type from the first non-NULL value.
func fillTypes(cols []engine.Column, rows [][]any) []engine.Column {
	out := cols
	for i, c := range cols {
		if c.Type != nil {
			continue
		}
		if &out[0] == &cols[0] {
			out = append([]engine.Column(nil), cols...)
		}
		out[i].Type = types.StringType
		for _, r := range rows {
			if i < len(r) && r[i] != nil {
				out[i].Type = inferType(r[i])
				break
			}
		}
	}
	return out
}

// copyText appends one value in COPY text format (\N for NULL, backslash escapes).
func appendCopyText(buf []byte, t *types.Type, v any) []byte {
	if v == nil {
		return append(buf, '\\', 'N')
	}
	raw := appendText(nil, t, v)
	for _, c := range raw {
		switch c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// appendCopyCSV appends one value in COPY CSV format: NULL is empty, "" is an empty string.
func appendCopyCSV(buf []byte, t *types.Type, v any) []byte {
	if v == nil {
		return buf
	}
	raw := appendText(nil, t, v)
	if len(raw) > 0 && !strings.ContainsAny(string(raw), ",\"\n\r") {
		return append(buf, raw...)
	}
	buf = append(buf, '"')
	for _, c := range raw {
		if c == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, c)
	}
	return append(buf, '"')
}
