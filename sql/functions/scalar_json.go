package functions

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// JSON helpers over STRING values holding JSON text. ksqlDB uses Jackson, so output is compact
// ({"a":1,"b":[1,2]}), object key order is preserved, integers keep their digits and
// floating-point numbers are re-rendered with Double.toString. We parse into a small ordered
// tree because map[string]any would lose key order.

const catJSON = "JSON"

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

type jnode struct {
	kind jkind
	b    bool
	s    string // string value, or number text
	arr  []*jnode
	keys []string
	vals []*jnode
}

// parseJSON parses exactly one JSON value (surrounding whitespace allowed).
func parseJSON(text string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return nodeFrom(dec, tok)
}

func nodeFrom(dec *json.Decoder, tok json.Token) (*jnode, error) {
	switch t := tok.(type) {
	case nil:
		return &jnode{kind: jNull}, nil
	case bool:
		return &jnode{kind: jBool, b: t}, nil
	case json.Number:
		return &jnode{kind: jNum, s: string(t)}, nil
	case string:
		return &jnode{kind: jStr, s: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &jnode{kind: jArr, arr: []*jnode{}}
			for dec.More() {
				e, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '{':
			n := &jnode{kind: jObj}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

func (n *jnode) get(key string) *jnode {
	for i := len(n.keys) - 1; i >= 0; i-- { // Jackson keeps the last duplicate
		if n.keys[i] == key {
			return n.vals[i]
		}
	}
	return nil
}

// String serialises the node compactly, as Jackson's JsonNode.toString does.
func (n *jnode) String() string {
	var sb strings.Builder
	n.write(&sb)
	return sb.String()
}

func (n *jnode) write(sb *strings.Builder) {
	switch n.kind {
	case jNull:
		sb.WriteString("null")
	case jBool:
		sb.WriteString(strconv.FormatBool(n.b))
	case jNum:
		sb.WriteString(jsonNumber(n.s))
	case jStr:
		writeJSONString(sb, n.s)
	case jArr:
		sb.WriteByte('[')
		for i, e := range n.arr {
			if i > 0 {
				sb.WriteByte(',')
			}
			e.write(sb)
		}
		sb.WriteByte(']')
	case jObj:
		sb.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(sb, k)
			sb.WriteByte(':')
			n.vals[i].write(sb)
		}
		sb.WriteByte('}')
	}
}

// text is Jackson's asText for textual nodes and toString otherwise.
func (n *jnode) text() string {
	if n.kind == jStr {
		return n.s
	}
	return n.String()
}

func jsonNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return types.JavaDouble(f)
}

// writeJSONString escapes like Jackson: quote, backslash and control characters; everything
// else (including non-ASCII) is written as is.
func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				sb.WriteString("\ufffd")
			} else {
				sb.WriteString(s[i : i+w])
			}
			i += w
			continue
		}
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		default:
			fmt.Fprintf(sb, `\u%04X`, c)
		}
		i++
	}
	sb.WriteByte('"')
}

// jsonPath evaluates the subset of JSONPath ksqlDB's EXTRACTJSONFIELD accepts: $ followed by
// .name, ['name'] / ["name"] and [index] steps.
func jsonPath(root *jnode, path string) (*jnode, error) {
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("Invalid JsonPath: %s", path)
	}
	p = p[1:]
	cur := root
	for p != "" {
		if cur == nil {
			return nil, nil
		}
		switch p[0] {
		case '.':
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			name := p[:end]
			p = p[end:]
			if name == "" {
				return nil, fmt.Errorf("Invalid JsonPath: %s", path)
			}
			if cur.kind != jObj {
				return nil, nil
			}
			cur = cur.get(name)
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, fmt.Errorf("Invalid JsonPath: %s", path)
			}
			inner := strings.TrimSpace(p[1:end])
			p = p[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				if cur.kind != jObj {
					return nil, nil
				}
				cur = cur.get(inner[1 : len(inner)-1])
				continue
			}
			idx, err := strconv.Atoi(inner)
			if err != nil {
				return nil, fmt.Errorf("Invalid JsonPath: %s", path)
			}
			if cur.kind != jArr || idx < 0 || idx >= len(cur.arr) {
				return nil, nil
			}
			cur = cur.arr[idx]
		default:
			return nil, fmt.Errorf("Invalid JsonPath: %s", path)
		}
	}
	return cur, nil
}

// toJSON serialises a SQL value the way TO_JSON_STRING does.
func toJSON(sb *strings.Builder, v any, t *types.Type) {
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case int32:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case float64:
		sb.WriteString(types.JavaDouble(x))
	case decimal.Decimal:
		sb.WriteString(types.FormatValue(x, t))
	case string:
		writeJSONString(sb, x)
	case []byte:
		writeJSONString(sb, base64.StdEncoding.EncodeToString(x))
	case types.Date, types.Time, types.Timestamp:
		writeJSONString(sb, types.FormatValue(x, t))
	case []any:
		var et *types.Type
		if t != nil {
			et = t.Elem
		}
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			toJSON(sb, e, et)
		}
		sb.WriteByte(']')
	case *types.Map:
		var kt, vt *types.Type
		if t != nil {
			kt, vt = t.Key, t.Elem
		}
		sb.WriteByte('{')
		for i := range x.Keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(sb, types.FormatValue(x.Keys[i], kt))
			sb.WriteByte(':')
			toJSON(sb, x.Vals[i], vt)
		}
		sb.WriteByte('}')
	case *types.Struct:
		sb.WriteByte('{')
		for i, val := range x.Vals {
			if i > 0 {
				sb.WriteByte(',')
			}
			name := ""
			var ft *types.Type
			if i < len(x.Names) {
				name = x.Names[i]
			}
			if t != nil && i < len(t.Fields) {
				name, ft = t.Fields[i].Name, t.Fields[i].Type
			}
			writeJSONString(sb, name)
			sb.WriteByte(':')
			toJSON(sb, val, ft)
		}
		sb.WriteByte('}')
	default:
		writeJSONString(sb, fmt.Sprint(v))
	}
}

func init() {
	registerScalar("EXTRACTJSONFIELD", catJSON, "Given a STRING that contains JSON data, extract the value at the specified JSONPath or NULL if the specified path does not exist.",
		ov(tString, p("input", tString), p("path", tString)).strict().fn(func(a []any) (any, error) {
			root, err := parseJSON(a[0].(string))
			if err != nil {
				return nil, nil
			}
			n, err := jsonPath(root, a[1].(string))
			if err != nil {
				return nil, err
			}
			if n == nil || n.kind == jNull {
				return nil, nil
			}
			return n.text(), nil
		}))

	registerScalar("IS_JSON_STRING", catJSON, "Given a STRING, returns true if it can be parsed as a valid JSON value, false otherwise.",
		ov(tBool, p("json", tString)).fn(func(a []any) (any, error) {
			s, ok := a[0].(string)
			if !ok {
				return false, nil
			}
			_, err := parseJSON(s)
			return err == nil, nil
		}))

	registerScalar("JSON_ARRAY_CONTAINS", catJSON, "Given a STRING containing a JSON array, checks if a search value is contained in the array. Returns false if the first parameter does not contain a JSON array.",
		ov(tBool, p("jsonArray", tString), p("val", tT)).fn(func(a []any) (any, error) {
			s, ok := a[0].(string)
			if !ok {
				return false, nil
			}
			root, err := parseJSON(s)
			if err != nil || root.kind != jArr {
				return false, nil
			}
			for _, e := range root.arr {
				if jsonElemEquals(e, a[1]) {
					return true, nil
				}
			}
			return false, nil
		}))

	registerScalar("JSON_ARRAY_LENGTH", catJSON, "Given a STRING containing a JSON array, returns the number of elements, or NULL if the input is not a JSON array.",
		ov(tInt, p("json", tString)).strict().fn(func(a []any) (any, error) {
			root, err := parseJSON(a[0].(string))
			if err != nil || root.kind != jArr {
				return nil, nil
			}
			return int32(len(root.arr)), nil
		}))

	registerScalar("JSON_CONCAT", catJSON, "Given N STRINGs containing JSON, merges them following PostgreSQL's || rules: objects are merged (later keys win), anything else is concatenated as arrays. Returns NULL if any input is NULL or not JSON.",
		ov(tString, p("jsonStrings", tString)).vararg().fn(func(a []any) (any, error) {
			if len(a) == 0 {
				return nil, nil
			}
			nodes := make([]*jnode, len(a))
			allObj := true
			for i, x := range a {
				s, ok := x.(string)
				if !ok {
					return nil, nil
				}
				n, err := parseJSON(s)
				if err != nil {
					return nil, nil
				}
				nodes[i] = n
				allObj = allObj && n.kind == jObj
			}
			if allObj {
				out := &jnode{kind: jObj}
				for _, n := range nodes {
					for i, k := range n.keys {
						replaced := false
						for j, ok := range out.keys {
							if ok == k {
								out.vals[j] = n.vals[i]
								replaced = true
							}
						}
						if !replaced {
							out.keys = append(out.keys, k)
							out.vals = append(out.vals, n.vals[i])
						}
					}
				}
				return out.String(), nil
			}
			out := &jnode{kind: jArr, arr: []*jnode{}}
			for _, n := range nodes {
				if n.kind == jArr {
					out.arr = append(out.arr, n.arr...)
				} else {
					out.arr = append(out.arr, n)
				}
			}
			return out.String(), nil
		}))

	registerScalar("JSON_ITEMS", catJSON, "Given a STRING containing a JSON array, returns an array of the array's items serialised as JSON strings, or NULL if the input is not a JSON array.",
		ov(arrString, p("jsonArray", tString)).strict().fn(func(a []any) (any, error) {
			root, err := parseJSON(a[0].(string))
			if err != nil || root.kind != jArr {
				return nil, nil
			}
			out := make([]any, len(root.arr))
			for i, e := range root.arr {
				out[i] = e.String()
			}
			return out, nil
		}))

	registerScalar("JSON_KEYS", catJSON, "Given a STRING containing a JSON object, returns an array of its top-level keys, or NULL if the input is not a JSON object.",
		ov(arrString, p("jsonObj", tString)).strict().fn(func(a []any) (any, error) {
			root, err := parseJSON(a[0].(string))
			if err != nil || root.kind != jObj {
				return nil, nil
			}
			out := make([]any, len(root.keys))
			for i, k := range root.keys {
				out[i] = k
			}
			return out, nil
		}))

	registerScalar("JSON_RECORDS", catJSON, "Given a STRING containing a JSON object, returns a map of its top-level keys to their values (strings as text, other values as JSON), or NULL if the input is not a JSON object.",
		ov(types.MapOf(tString, tString), p("jsonObj", tString)).strict().fn(func(a []any) (any, error) {
			root, err := parseJSON(a[0].(string))
			if err != nil || root.kind != jObj {
				return nil, nil
			}
			m := &types.Map{}
			for i, k := range root.keys {
				m.Put(k, root.vals[i].text())
			}
			return m, nil
		}))

	registerScalar("TO_JSON_STRING", catJSON, "Given any ksqlDB type, returns the equivalent JSON string. NULL becomes the string 'null'.",
		ov(tString, p("input", tT)).builder(func(args []*types.Type, _ *types.Type) func([]any) (any, error) {
			t := args[0]
			return func(a []any) (any, error) {
				var sb strings.Builder
				toJSON(&sb, a[0], t)
				return sb.String(), nil
			}
		}))
}

// jsonElemEquals compares a top-level JSON array element with a SQL value by kind, as
// JSON_ARRAY_CONTAINS does: integers with INT/BIGINT, floats with DOUBLE, text with STRING.
func jsonElemEquals(e *jnode, v any) bool {
	switch x := v.(type) {
	case nil:
		return e.kind == jNull
	case bool:
		return e.kind == jBool && e.b == x
	case string:
		return e.kind == jStr && e.s == x
	case int32, int64:
		if e.kind != jNum || strings.ContainsAny(e.s, ".eE") {
			return false
		}
		n, err := strconv.ParseInt(e.s, 10, 64)
		want, _ := asInt(v)
		return err == nil && n == want
	case float64:
		if e.kind != jNum || !strings.ContainsAny(e.s, ".eE") {
			return false
		}
		f, err := strconv.ParseFloat(e.s, 64)
		return err == nil && f == x
	case decimal.Decimal:
		if e.kind != jNum {
			return false
		}
		d, err := decimal.NewFromString(e.s)
		return err == nil && d.Equal(x)
	}
	return false
}
