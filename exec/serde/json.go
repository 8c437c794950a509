package serde

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

type jsonCodec struct {
	cols      []types.Column
	unwrapped bool
	// sizeHint is the largest encoding seen so far (capped), so that Encode allocates its
	// buffer once instead of growing it. Codecs are shared between goroutines, hence atomic.
	sizeHint atomic.Int32
}

func (c *jsonCodec) Encode(vals []any) ([]byte, error) {
	hint := int(c.sizeHint.Load())
	if hint < 64 {
		hint = 64
	}
	buf, _, err := c.AppendEncode(make([]byte, 0, hint), vals)
	c.noteSize(len(buf), hint)
	return buf, err
}

// AppendEncode implements Appender; JSON has no null encoding (NULL is the text null).
func (c *jsonCodec) AppendEncode(buf []byte, vals []any) ([]byte, bool, error) {
	if c.unwrapped {
		return AppendJSON(buf, vals[0], c.cols[0].Type), false, nil
	}
	buf = append(buf, '{')
	for i, col := range c.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, col.Name)
		buf = append(buf, ':')
		buf = AppendJSON(buf, vals[i], col.Type)
	}
	return append(buf, '}'), false, nil
}

func (c *jsonCodec) noteSize(n, hint int) {
	if n > hint && n <= 4096 {
		c.sizeHint.Store(int32(n))
	}
}

func (c *jsonCodec) Decode(b []byte, vals []any) error {
	for i := range vals {
		vals[i] = nil
	}
	if b == nil {
		return nil
	}
	if ok, err := c.decodeFast(b, vals); ok {
		return err
	}
	for i := range vals {
		vals[i] = nil
	}
	return c.decodeGeneric(b, vals)
}

// decodeGeneric decodes through a map[string]any tree and FromJSON: the reference semantics,
// used for whatever decodeFast hands back.
func (c *jsonCodec) decodeGeneric(b []byte, vals []any) error {
	tree, err := ParseJSON(b)
	if err != nil {
		return err
	}
	if c.unwrapped {
		v, err := FromJSON(tree, c.cols[0].Type)
		if err != nil {
			return fmt.Errorf("failed to deserialize column %s: %w", c.cols[0].Name, err)
		}
		vals[0] = v
		return nil
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		if tree == nil {
			return nil
		}
		// A bare value for a one-column value is accepted, as ksqlDB does for anonymous values.
		if len(c.cols) == 1 {
			v, err := FromJSON(tree, c.cols[0].Type)
			if err != nil {
				return err
			}
			vals[0] = v
			return nil
		}
		return fmt.Errorf("Can't convert type. sourceType: %s, requiredType: STRUCT", jsonTypeName(tree))
	}
	for i, col := range c.cols {
		raw, present := lookupField(obj, col.Name)
		if !present {
			continue
		}
		v, err := FromJSON(raw, col.Type)
		if err != nil {
			return fmt.Errorf("failed to deserialize column %s: %w", col.Name, err)
		}
		vals[i] = v
	}
	return nil
}

// lookupField finds a JSON object field by exact name, then case-insensitively.
func lookupField(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// ParseJSON decodes JSON keeping numbers exact (json.Number).
func ParseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "OBJECT"
	case []any:
		return "ARRAY"
	case string:
		return "STRING"
	case json.Number:
		return "NUMBER"
	case bool:
		return "BOOLEAN"
	}
	return "NULL"
}

// FromJSON converts a decoded JSON tree into a value of type t, with ksqlDB's JSON coercions
// (numeric strings into numbers, any scalar into STRING, case-insensitive struct fields).
func FromJSON(v any, t *types.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.Kind {
	case types.KindBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
	case types.KindInt:
		n, err := jsonInt(v)
		if err != nil {
			return nil, err
		}
		return int32(n), nil
	case types.KindBigint:
		return jsonInt(v)
	case types.KindDouble:
		switch x := v.(type) {
		case json.Number:
			return strconv.ParseFloat(string(x), 64)
		case string:
			return strconv.ParseFloat(strings.TrimSpace(x), 64)
		}
	case types.KindDecimal:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = string(x)
		case string:
			s = strings.TrimSpace(x)
		default:
			return nil, fmt.Errorf("Can't convert type. sourceType: %s, requiredType: %s", jsonTypeName(v), t)
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, fmt.Errorf("Can't convert type. sourceType: %s, requiredType: %s", jsonTypeName(v), t)
		}
		return FitDecimal(d, t)
	case types.KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return string(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		default:
			b, _ := json.Marshal(x)
			return string(b), nil
		}
	case types.KindBytes:
		if s, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	case types.KindDate:
		n, err := jsonInt(v)
		if err != nil {
			return nil, err
		}
		return types.Date(n), nil
	case types.KindTime:
		n, err := jsonInt(v)
		if err != nil {
			return nil, err
		}
		return types.Time(n), nil
	case types.KindTimestamp:
		n, err := jsonInt(v)
		if err != nil {
			return nil, err
		}
		return types.Timestamp(n), nil
	case types.KindArray:
		arr, ok := v.([]any)
		if !ok {
			break
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			ev, err := FromJSON(e, t.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case types.KindMap:
		obj, ok := v.(map[string]any)
		if !ok {
			break
		}
		m := &types.Map{}
		for _, k := range sortedKeys(obj) {
			kv, err := FromJSON(k, t.Key)
			if err != nil {
				return nil, err
			}
			vv, err := FromJSON(obj[k], t.Elem)
			if err != nil {
				return nil, err
			}
			m.Keys = append(m.Keys, kv)
			m.Vals = append(m.Vals, vv)
		}
		return m, nil
	case types.KindStruct:
		obj, ok := v.(map[string]any)
		if !ok {
			break
		}
		s := &types.Struct{Names: StructNames(t), Vals: make([]any, len(t.Fields))}
		for i, f := range t.Fields {
			raw, present := lookupField(obj, f.Name)
			if !present {
				continue
			}
			fv, err := FromJSON(raw, f.Type)
			if err != nil {
				return nil, err
			}
			s.Vals[i] = fv
		}
		return s, nil
	}
	return nil, fmt.Errorf("Can't convert type. sourceType: %s, requiredType: %s", jsonTypeName(v), t)
}

// StructNames returns the field names of a STRUCT type (shared with its values).
func StructNames(t *types.Type) []string {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return names
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Go maps lose the document order; sorting keeps output deterministic.
	sortStrings(keys)
	return keys
}

func jsonInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, err
		}
		return int64(f), nil
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	return 0, fmt.Errorf("Can't convert type. sourceType: %s, requiredType: INTEGER", jsonTypeName(v))
}

// FitDecimal rescales d to t's scale (HALF_UP) and checks precision.
func FitDecimal(d decimal.Decimal, t *types.Type) (decimal.Decimal, error) {
	r := d.Round(int32(t.Scale))
	digits := len(strings.TrimLeft(r.Coefficient().String(), "-"))
	intDigits := digits - int(-r.Exponent())
	if r.Exponent() > 0 {
		intDigits = digits + int(r.Exponent())
	}
	if t.Precision > 0 && intDigits > t.Precision-t.Scale && !r.IsZero() {
		return decimal.Decimal{}, fmt.Errorf("Cannot fit decimal '%s' into DECIMAL(%d, %d) without rounding.", d.String(), t.Precision, t.Scale)
	}
	return r, nil
}

// AppendJSON appends the JSON encoding of v (of type t) to buf.
func AppendJSON(buf []byte, v any, t *types.Type) []byte {
	if v == nil {
		return append(buf, "null"...)
	}
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(buf, x)
	case int32:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendJSONString(buf, javaSpecial(x))
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			buf = strconv.AppendFloat(buf, x, 'f', -1, 64)
			return append(buf, ".0"...)
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64)
	case decimal.Decimal:
		scale := int32(0)
		if t != nil && t.Kind == types.KindDecimal {
			scale = int32(t.Scale)
		} else if x.Exponent() < 0 {
			scale = -x.Exponent()
		}
		return append(buf, x.StringFixed(scale)...)
	case string:
		return appendJSONString(buf, x)
	case []byte:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, x)
		return append(buf, '"')
	case types.Date:
		return strconv.AppendInt(buf, int64(x), 10)
	case types.Time:
		return strconv.AppendInt(buf, int64(x), 10)
	case types.Timestamp:
		return strconv.AppendInt(buf, int64(x), 10)
	case []any:
		var et *types.Type
		if t != nil {
			et = t.Elem
		}
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendJSON(buf, e, et)
		}
		return append(buf, ']')
	case *types.Map:
		var vt *types.Type
		if t != nil {
			vt = t.Elem
		}
		buf = append(buf, '{')
		for i, k := range x.Keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			ks, ok := k.(string)
			if !ok {
				if k == nil {
					ks = "null"
				} else {
					ks = string(AppendJSON(nil, k, nil))
				}
			}
			buf = appendJSONString(buf, ks)
			buf = append(buf, ':')
			buf = AppendJSON(buf, x.Vals[i], vt)
		}
		return append(buf, '}')
	case *types.Struct:
		buf = append(buf, '{')
		for i, n := range x.Names {
			if i > 0 {
				buf = append(buf, ',')
			}
			var ft *types.Type
			if t != nil && i < len(t.Fields) {
				ft = t.Fields[i].Type
			}
			buf = appendJSONString(buf, n)
			buf = append(buf, ':')
			buf = AppendJSON(buf, x.Vals[i], ft)
		}
		return append(buf, '}')
	}
	return appendJSONString(buf, fmt.Sprint(v))
}

func javaSpecial(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	}
	return "-Infinity"
}

const hexDigits = "0123456789abcdef"

func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
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
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
