package serde

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// The fast JSON decoder scans a record once, without building a map[string]any tree, and
// converts only the fields that match a column straight into typed values. It gives exactly
// the results of the generic path (ParseJSON then FromJSON) because it never decides anything
// unusual itself:
//
//   - The scanner accepts a subset of what encoding/json accepts (strict RFC 8259 grammar,
//     nesting depth up to maxFastDepth). Whatever it does not accept, it hands back to the
//     generic path, which then reports the same error or value as before.
//   - A field's value is converted in place only for the plain cases (a number into a numeric
//     or STRING column, a string into STRING, a boolean into BOOLEAN, ...). Anything else —
//     nested values, coercions that fail, strings with escapes or non-UTF-8 bytes — goes through
//     ParseJSON and FromJSON on that field's bytes alone, so errors and coercions are FromJSON's.
//   - Field names match as lookupField does: an exact match wins, else a case-insensitive one.
//     Duplicate names keep the last value, as decoding into a map does.

// maxFastDepth bounds the scanner's recursion; deeper documents take the generic path.
const maxFastDepth = 512

// fieldSpan is where a column's value lies in the record: b[start:end]; end 0 means absent.
type fieldSpan struct {
	start, end int
	exact      bool
}

// decodeFast decodes b into vals. ok false means the record needs the generic path (vals are
// then undefined); err is a conversion error of a column, as the generic path reports it.
func (c *jsonCodec) decodeFast(b []byte, vals []any) (ok bool, err error) {
	i := skipWS(b, 0)
	if i >= len(b) {
		return false, nil
	}
	if c.unwrapped {
		end, ok := skipValue(b, i, 0)
		if !ok {
			return false, nil
		}
		v, err := valueFromJSON(b[i:end], c.cols[0].Type)
		if err != nil {
			return true, columnError(c.cols[0].Name, err)
		}
		vals[0] = v
		return true, nil
	}
	if b[i] != '{' {
		return false, nil
	}
	var spanBuf [16]fieldSpan
	var spans []fieldSpan
	if len(c.cols) <= len(spanBuf) {
		spans = spanBuf[:len(c.cols)]
	} else {
		spans = make([]fieldSpan, len(c.cols))
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false, nil
		}
		ks := i
		kend, slow, ok := scanString(b, i)
		if !ok {
			return false, nil
		}
		key := b[ks+1 : kend-1]
		i = skipWS(b, kend)
		if i >= len(b) || b[i] != ':' {
			return false, nil
		}
		vs := skipWS(b, i+1)
		ve, ok := skipValue(b, vs, 1)
		if !ok {
			return false, nil
		}
		if slow {
			var s string
			if json.Unmarshal(b[ks:kend], &s) != nil {
				return false, nil
			}
			matchField(c.cols, spans, unsafe.Slice(unsafe.StringData(s), len(s)), vs, ve)
		} else {
			matchField(c.cols, spans, key, vs, ve)
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return false, nil
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			break
		}
		return false, nil
	}
	// Anything after the object is ignored, as json.Decoder.Decode ignores it.
	for j, col := range c.cols {
		sp := spans[j]
		if sp.end == 0 {
			continue
		}
		v, err := valueFromJSON(b[sp.start:sp.end], col.Type)
		if err != nil {
			return true, columnError(col.Name, err)
		}
		vals[j] = v
	}
	return true, nil
}

func matchField(cols []types.Column, spans []fieldSpan, key []byte, start, end int) {
	for j := range cols {
		name := cols[j].Name
		if string(key) == name {
			spans[j] = fieldSpan{start: start, end: end, exact: true}
		} else if !spans[j].exact && equalFoldBytes(key, name) {
			spans[j] = fieldSpan{start: start, end: end}
		}
	}
}

// equalFoldBytes is strings.EqualFold(string(b), s) without the conversion for ASCII.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		// Case folding can change UTF-8 lengths; only ASCII may be decided by length.
		if isASCII(b) && isASCIIString(s) {
			return false
		}
		return strings.EqualFold(string(b), s)
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.EqualFold(string(b), s)
		}
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func columnError(name string, err error) error {
	return &colError{name: name, err: err}
}

// colError formats as the generic path's "failed to deserialize column %s: %w".
type colError struct {
	name string
	err  error
}

func (e *colError) Error() string {
	return "failed to deserialize column " + e.name + ": " + e.err.Error()
}
func (e *colError) Unwrap() error { return e.err }

// valueFromJSON converts one JSON value (already validated by the scanner) into type t, with
// FromJSON's results.
func valueFromJSON(v []byte, t *types.Type) (any, error) {
	switch c := v[0]; {
	case c == 'n':
		return nil, nil
	case c == '"':
		if x, ok := fastString(v, t); ok {
			return x, nil
		}
	case c == 't' || c == 'f':
		switch t.Kind {
		case types.KindBoolean:
			return c == 't', nil
		case types.KindString:
			if c == 't' {
				return "true", nil
			}
			return "false", nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		if x, ok := fastNumber(v, t); ok {
			return x, nil
		}
	}
	tree, err := ParseJSON(v)
	if err != nil {
		return nil, err
	}
	return FromJSON(tree, t)
}

// fastNumber converts a JSON number literal; ok false leaves the case (and its error) to
// FromJSON.
func fastNumber(v []byte, t *types.Type) (any, bool) {
	s := unsafe.String(unsafe.SliceData(v), len(v)) // not retained
	switch t.Kind {
	case types.KindBigint:
		return numInt(s)
	case types.KindInt:
		if n, ok := numInt(s); ok {
			return int32(n.(int64)), true
		}
	case types.KindDouble:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	case types.KindString:
		return string(v), true
	case types.KindDecimal:
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, false
		}
		if r, err := FitDecimal(d, t); err == nil {
			return r, true
		}
	case types.KindDate:
		if n, ok := numInt(s); ok {
			return types.Date(n.(int64)), true
		}
	case types.KindTime:
		if n, ok := numInt(s); ok {
			return types.Time(n.(int64)), true
		}
	case types.KindTimestamp:
		if n, ok := numInt(s); ok {
			return types.Timestamp(n.(int64)), true
		}
	}
	return nil, false
}

// numInt is jsonInt for a number literal.
func numInt(s string) (any, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return int64(f), true
}

// fastString converts a JSON string without escapes or non-ASCII bytes (others go the
// generic way, which unescapes and replaces invalid UTF-8 as encoding/json does).
func fastString(v []byte, t *types.Type) (any, bool) {
	raw := v[1 : len(v)-1]
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			if t.Kind == types.KindString && c != '\\' && utf8.Valid(raw) && !hasByte(raw, '\\') {
				return string(raw), true
			}
			return nil, false
		}
	}
	switch t.Kind {
	case types.KindString:
		return string(raw), true
	}
	s := strings.TrimSpace(unsafe.String(unsafe.SliceData(raw), len(raw))) // not retained
	switch t.Kind {
	case types.KindBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, true
		case strings.EqualFold(s, "false"):
			return false, true
		}
	case types.KindBigint:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	case types.KindInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int32(n), true
		}
	case types.KindDouble:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	case types.KindDecimal:
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, false
		}
		if r, err := FitDecimal(d, t); err == nil {
			return r, true
		}
	case types.KindDate:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return types.Date(n), true
		}
	case types.KindTime:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return types.Time(n), true
		}
	case types.KindTimestamp:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return types.Timestamp(n), true
		}
	case types.KindBytes:
		if out, err := base64.StdEncoding.DecodeString(s); err == nil && len(s) == len(raw) {
			return out, true
		}
	}
	return nil, false
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString scans the string starting at b[i] == '"'; it returns the index after the closing
// quote and whether the string has escapes or non-ASCII bytes (so it needs unescaping or UTF-8
// repair to read).
func scanString(b []byte, i int) (end int, slow bool, ok bool) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, slow, true
		case c == '\\':
			slow = true
			if i+1 >= len(b) {
				return 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false, false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default:
			if c >= utf8.RuneSelf {
				slow = true
			}
			i++
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// scanNumber scans a JSON number starting at b[i]; it returns the index after it.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	return i, true
}

// skipValue scans the JSON value starting at b[i] (no leading space) and returns the index
// after it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '-' || ('0' <= c && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '{':
		if depth >= maxFastDepth {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			end, _, ok := scanString(b, i)
			if !ok {
				return 0, false
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			if i, ok = skipValue(b, skipWS(b, i+1), depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == '}' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == '[':
		if depth >= maxFastDepth {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	}
	return 0, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// DecodeTypedArray decodes b, a JSON array of len(head)+len(typs) elements, without building a
// tree: the leading integers into head, the rest into vals converted to typs as FromJSON
// converts them. ok false means b needs the generic path (ParseJSON, then FromJSON per
// element), which also reports what is wrong with it.
func DecodeTypedArray(b []byte, head []int64, typs []*types.Type, vals []any) (ok bool, err error) {
	n := len(head) + len(typs)
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false, nil
	}
	i = skipWS(b, i+1)
	for k := 0; k < n; k++ {
		end, ok := skipValue(b, i, 1)
		if !ok {
			return false, nil
		}
		if k < len(head) {
			x, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(b[i:end]), end-i), 10, 64) // not retained
			if err != nil {
				return false, nil
			}
			head[k] = x
		} else {
			v, err := valueFromJSON(b[i:end], typs[k-len(head)])
			if err != nil {
				return true, err
			}
			vals[k-len(head)] = v
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return false, nil
		}
		want := byte(',')
		if k == n-1 {
			want = ']'
		}
		if b[i] != want {
			return false, nil
		}
		i = skipWS(b, i+1)
	}
	return i == len(b), nil
}
