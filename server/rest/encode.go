package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// This file prints SQL values as ksqlDB's REST object mapper (Jackson, ApiJsonMapper) does, so
// that rows compare equal to the RQTT corpus and to what ksqlDB clients parse:
//
//	INT, BIGINT    JSON integers
//	DOUBLE         Java's Double.toString: 10.0, 0.001, 1.0E7, 1.0E-4; NaN and the
//	               infinities as the strings "NaN", "Infinity", "-Infinity"
//	DECIMAL        a plain JSON number with its scale kept: DECIMAL(4, 2) 1.1 prints 1.10
//	BYTES          standard base64 in a string ("IQ==")
//	DATE           "2021-03-04" (LocalDate.toString)
//	TIME           "10:15" or "10:15:30" (LocalTime of whole seconds: ksqlDB drops millis)
//	TIMESTAMP      "2021-03-04T10:15:30.123" in UTC
//	ARRAY          JSON array; MAP: JSON object (keys as text); STRUCT: object by field name
//
// Strings are escaped as Jackson does: only '"', '\\' and control characters; '<', '>', '&'
// and non-ASCII runes go out as they are.

// appendValue appends the JSON form of v. t is v's SQL type when known (nil otherwise); it
// supplies the DECIMAL scale and names STRUCT fields when the value lacks them.
func appendValue(b []byte, v any, t *types.Type) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return appendDouble(b, x)
	case float32:
		return appendDouble(b, float64(x))
	case decimal.Decimal:
		return appendDecimal(b, x, t)
	case *decimal.Decimal:
		if x == nil {
			return append(b, "null"...)
		}
		return appendDecimal(b, *x, t)
	case string:
		return appendString(b, x)
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"')
	case types.Date:
		return appendString(b, formatDate(x))
	case types.Time:
		return appendString(b, formatTime(x))
	case types.Timestamp:
		return appendString(b, formatTimestamp(x))
	case []any:
		var elem *types.Type
		if t != nil && t.Kind == types.KindArray {
			elem = t.Elem
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e, elem)
		}
		return append(b, ']')
	case *types.Map:
		if x == nil {
			return append(b, "null"...)
		}
		var val *types.Type
		if t != nil && t.Kind == types.KindMap {
			val = t.Elem
		}
		b = append(b, '{')
		for i, k := range x.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, mapKeyText(k))
			b = append(b, ':')
			b = appendValue(b, x.Vals[i], val)
		}
		return append(b, '}')
	case *types.Struct:
		if x == nil {
			return append(b, "null"...)
		}
		b = append(b, '{')
		for i, fv := range x.Vals {
			if i > 0 {
				b = append(b, ',')
			}
			var name string
			var ft *types.Type
			if t != nil && t.Kind == types.KindStruct && i < len(t.Fields) {
				name, ft = t.Fields[i].Name, t.Fields[i].Type
			}
			if i < len(x.Names) {
				name = x.Names[i]
			}
			b = appendString(b, name)
			b = append(b, ':')
			b = appendValue(b, fv, ft)
		}
		return append(b, '}')
	case json.Number:
		return append(b, x...)
	case json.RawMessage:
		return append(b, x...)
	}
	// Anything else (a value type this encoder does not know yet) falls back to encoding/json
	// so that a row is never dropped; the output is still valid JSON.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return appendString(b, fmt.Sprint(v))
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// appendRow appends a row's values as a JSON array, using the column types.
func appendRow(b []byte, vals []any, cols []columnInfo) []byte {
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var t *types.Type
		if i < len(cols) {
			t = cols[i].typ
		}
		b = appendValue(b, v, t)
	}
	return append(b, ']')
}

// appendDouble prints f as Java's Double.toString, which Jackson uses: at least one digit after
// the point, plain notation for 1e-3 <= |f| < 1e7 and "d.dddE±n" outside it. Non-finite values
// are strings because Jackson quotes them by default (QUOTE_NON_NUMERIC_NUMBERS).
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		start := len(b)
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
		if bytes.IndexByte(b[start:], '.') < 0 {
			b = append(b, ".0"...)
		}
		return b
	}
	// Shortest digits in Go's 'e' form ("1.2345e+07", "1e-05"), rewritten as Java's.
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	e := bytes.IndexByte(s, 'e')
	mant, exp := s[:e], s[e+1:]
	b = append(b, mant...)
	if bytes.IndexByte(mant, '.') < 0 {
		b = append(b, ".0"...)
	}
	b = append(b, 'E')
	if exp[0] == '-' {
		b = append(b, '-')
	}
	exp = bytes.TrimLeft(exp[1:], "0")
	if len(exp) == 0 {
		exp = []byte("0")
	}
	return append(b, exp...)
}

// appendDecimal prints d in plain notation with the column's scale (or, without a type, the
// value's own exponent), as BigDecimal.toPlainString does: DECIMAL(4, 2) 1.1 -> 1.10.
func appendDecimal(b []byte, d decimal.Decimal, t *types.Type) []byte {
	scale := int32(0)
	if t != nil && t.Kind == types.KindDecimal {
		scale = int32(t.Scale)
	} else if e := d.Exponent(); e < 0 {
		scale = -e
	}
	return append(b, d.StringFixed(scale)...)
}

// mapKeyText is a MAP key as JSON object key. ksqlDB maps always have STRING keys; other key
// types are printed as their JSON text without quotes.
func mapKeyText(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	if k == nil {
		return "null"
	}
	out := appendValue(nil, k, nil)
	if len(out) >= 2 && out[0] == '"' {
		var s string
		if json.Unmarshal(out, &s) == nil {
			return s
		}
	}
	return string(out)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as Jackson does. Invalid UTF-8 becomes
// U+FFFD so that the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// formatDate prints days since the epoch as java.time.LocalDate.toString: "yyyy-MM-dd", with a
// sign and more digits only outside years 0..9999.
func formatDate(d types.Date) string {
	t := time.Unix(int64(d)*86400, 0).UTC()
	y := t.Year()
	switch {
	case y > 9999:
		return fmt.Sprintf("+%d-%02d-%02d", y, int(t.Month()), t.Day())
	case y < 0:
		return fmt.Sprintf("-%04d-%02d-%02d", -y, int(t.Month()), t.Day())
	}
	return t.Format("2006-01-02")
}

// formatTime prints milliseconds of the day as ksqlDB's SqlTimeTypes.formatTime does:
// LocalTime.ofSecondOfDay(ms/1000).toString(), i.e. "HH:mm" when the seconds are zero and
// "HH:mm:ss" otherwise; milliseconds are dropped.
func formatTime(t types.Time) string {
	secs := int64(t) / 1000
	secs %= 86400
	if secs < 0 {
		secs += 86400
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	if s == 0 {
		return fmt.Sprintf("%02d:%02d", h, m)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// formatTimestamp prints epoch milliseconds as "yyyy-MM-dd'T'HH:mm:ss.SSS" in UTC
// (KsqlConstants.DATE_TIME_PATTERN).
func formatTimestamp(ts types.Timestamp) string {
	return time.UnixMilli(int64(ts)).UTC().Format("2006-01-02T15:04:05.000")
}

// marshalJSON encodes an arbitrary JSON-able value (entities, error bodies) without HTML
// escaping, as Jackson does, and without encoding/json's trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
