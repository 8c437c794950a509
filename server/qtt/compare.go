package qtt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

var bigTen = big.NewInt(10)

// DoubleTolerance is how far an actual DOUBLE may be from the expected number.
const DoubleTolerance = 1e-6

// MatchValue compares an expected logical value (decoded from the test file: json.Number,
// string, bool, nil, map[string]any, []any) with an actual value as the engine decoded it,
// following the Java harness's ExpectedRecordComparator (FORMAT.md §6). It returns nil on a
// match, otherwise an error naming the path of the first difference.
//
// Actual values may be the engine's runtime values (int32, int64, float64, decimal.Decimal,
// []byte, types.Date/Time/Timestamp, *types.Struct, *types.Map) or JSON-like values
// (json.Number, map[string]any, []any). A DECIMAL must be a decimal.Decimal whose exponent is
// the column's scale (-scale): 1.10 and 1.1 are different expected values.
func MatchValue(expected, actual any) error {
	return matchValue("", expected, actual)
}

type mismatch struct {
	path string
	msg  string
}

func (m *mismatch) Error() string {
	if m.path == "" {
		return m.msg
	}
	return m.path + ": " + m.msg
}

func diff(path, format string, args ...any) error {
	return &mismatch{path: path, msg: fmt.Sprintf(format, args...)}
}

func matchValue(path string, exp, act any) error {
	act = normalizeActual(act)
	switch e := exp.(type) {
	case nil:
		if act != nil {
			return diff(path, "expected null, got %s", Render(act))
		}
		return nil
	case map[string]any:
		return matchObject(path, e, act)
	case []any:
		a, ok := act.([]any)
		if !ok {
			return diff(path, "expected array %s, got %s", Render(e), Render(act))
		}
		if len(a) != len(e) {
			return diff(path, "expected %d elements, got %d: expected %s, got %s", len(e), len(a), Render(e), Render(a))
		}
		for i := range e {
			if err := matchValue(fmt.Sprintf("%s[%d]", path, i), e[i], a[i]); err != nil {
				return err
			}
		}
		return nil
	case json.Number:
		return matchNumber(path, e, act)
	case float64: // expected values built in Go code rather than decoded from a file
		return matchNumber(path, json.Number(strconv.FormatFloat(e, 'f', -1, 64)), act)
	case int:
		return matchNumber(path, json.Number(strconv.Itoa(e)), act)
	case string:
		return matchText(path, e, act)
	case bool:
		if a, ok := act.(bool); !ok || a != e {
			return diff(path, "expected %v, got %s", e, Render(act))
		}
		return nil
	}
	return diff(path, "unsupported expected value %T", exp)
}

// fieldsOf is an actual struct or map as ordered name/value pairs.
type fieldsOf struct {
	names []string
	vals  []any
}

func (f *fieldsOf) get(name string) (any, bool) {
	for i, n := range f.names {
		if n == name {
			return f.vals[i], true
		}
	}
	return nil, false
}

func matchObject(path string, e map[string]any, act any) error {
	var fs fieldsOf
	switch a := act.(type) {
	case map[string]any:
		for _, k := range sortedKeys(a) {
			fs.names = append(fs.names, k)
			fs.vals = append(fs.vals, a[k])
		}
	case *fieldsOf:
		fs = *a
	default:
		return diff(path, "expected object %s, got %s", Render(e), Render(act))
	}
	if len(fs.names) != len(e) {
		return diff(path, "expected %d fields %v, got %d fields %v", len(e), sortedKeys(e), len(fs.names), fs.names)
	}
	for _, name := range sortedKeys(e) {
		v, ok := fs.get(name)
		if !ok {
			v, ok = fs.get(strings.ToUpper(name))
		}
		sub := path + "." + name
		if path == "" {
			sub = name
		}
		if !ok {
			return diff(sub, "field missing (actual fields %v)", fs.names)
		}
		if err := matchValue(sub, e[name], v); err != nil {
			return err
		}
	}
	return nil
}

// matchNumber compares an expected number literal.
func matchNumber(path string, e json.Number, act any) error {
	lit := string(e)
	switch a := act.(type) {
	case int64:
		// Numeric equality: 3.0 matches an INT 3 (Java compares intValue()), 3.5 does not.
		d, err := decimal.NewFromString(lit)
		if err != nil || !d.Equal(decimal.NewFromInt(a)) {
			return diff(path, "expected %s, got %d", lit, a)
		}
		return nil
	case float64:
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil || math.Abs(f-a) >= DoubleTolerance && !(math.IsInf(f, 0) && f == a) {
			return diff(path, "expected %s, got double %s", lit, strconv.FormatFloat(a, 'g', -1, 64))
		}
		return nil
	case decimal.Decimal:
		if isIntegerLiteral(lit) {
			// An integer literal only matches a scale-0 decimal.
			d, _ := decimal.NewFromString(lit)
			if a.Exponent() != 0 || !a.Equal(d) {
				return diff(path, "expected %s, got decimal %s", lit, renderDecimal(a))
			}
			return nil
		}
		d, err := decimal.NewFromString(lit)
		if err != nil || !decimalIdentical(d, a) {
			return diff(path, "expected %s (scale %d), got decimal %s (scale %d)", lit, -d.Exponent(), renderDecimal(a), -a.Exponent())
		}
		return nil
	case json.Number:
		// The engine did not say which SQL type this is: accept exact text or numeric
		// equality within the DOUBLE tolerance.
		if lit == string(a) {
			return nil
		}
		ed, err1 := decimal.NewFromString(lit)
		ad, err2 := decimal.NewFromString(string(a))
		if err1 == nil && err2 == nil && ed.Sub(ad).Abs().LessThan(decimal.NewFromFloat(DoubleTolerance)) {
			return nil
		}
		return diff(path, "expected %s, got %s", lit, a)
	}
	return diff(path, "expected number %s, got %s", lit, Render(act))
}

// matchText compares an expected string.
func matchText(path string, e string, act any) error {
	switch a := act.(type) {
	case string:
		if a != e {
			return diff(path, "expected %q, got %q", e, a)
		}
		return nil
	case decimal.Decimal:
		d, err := decimal.NewFromString(e)
		if err != nil || !decimalIdentical(d, a) {
			return diff(path, "expected decimal %q (scale %d), got %s (scale %d)", e, -d.Exponent(), renderDecimal(a), -a.Exponent())
		}
		return nil
	case []byte:
		if got := base64.StdEncoding.EncodeToString(a); got != e {
			return diff(path, "expected bytes %q, got %q", e, got)
		}
		return nil
	}
	return diff(path, "expected string %q, got %s", e, Render(act))
}

// decimalIdentical is BigDecimal.equals: same unscaled value and same scale.
func decimalIdentical(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

func isIntegerLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

// normalizeActual maps engine runtime values to a small set of shapes: int64, float64,
// decimal.Decimal, string, bool, []byte, json.Number, []any, map[string]any, *fieldsOf, nil.
func normalizeActual(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return json.Number(strconv.FormatUint(x, 10))
	case float32:
		return float64(x)
	case types.Date:
		return int64(x)
	case types.Time:
		return int64(x)
	case types.Timestamp:
		return int64(x)
	case *decimal.Decimal:
		if x == nil {
			return nil
		}
		return *x
	case *big.Int:
		if x == nil {
			return nil
		}
		return decimal.NewFromBigInt(x, 0)
	case *types.Struct:
		if x == nil {
			return nil
		}
		return &fieldsOf{names: x.Names, vals: x.Vals}
	case *types.Map:
		if x == nil {
			return nil
		}
		fs := &fieldsOf{}
		for i, k := range x.Keys {
			fs.names = append(fs.names, mapKeyText(k))
			fs.vals = append(fs.vals, x.Vals[i])
		}
		return fs
	case map[string]any, []any, string, bool, []byte, json.Number, decimal.Decimal, float64, *fieldsOf:
		return x
	}
	// Typed nils, other slices and maps (e.g. []string, map[string]int64).
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalizeActual(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		fs := &fieldsOf{}
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return mapKeyText(keys[i].Interface()) < mapKeyText(keys[j].Interface()) })
		for _, k := range keys {
			fs.names = append(fs.names, mapKeyText(k.Interface()))
			fs.vals = append(fs.vals, rv.MapIndex(k).Interface())
		}
		return fs
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	return v
}

// mapKeyText is how a non-string MAP key is named in the expected JSON object.
func mapKeyText(k any) string {
	switch x := normalizeActual(k).(type) {
	case nil:
		return "null"
	case string:
		return x
	case decimal.Decimal:
		return renderDecimal(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// MatchRecord compares one expected output record with an actual one: key, value (null is a
// tombstone), window, timestamp (unless absent, or 0 in a case without inputs) and headers (an
// absent list means "no headers").
func MatchRecord(exp Record, act engine.LogicalRecord, noInputs bool) error {
	if err := matchValue("key", exp.Key, act.Key); err != nil {
		return err
	}
	if exp.Value == nil {
		if !act.ValueNull && normalizeActual(act.Value) != nil {
			return diff("value", "expected tombstone, got %s", Render(act.Value))
		}
	} else {
		if act.ValueNull {
			return diff("value", "expected %s, got tombstone", Render(exp.Value))
		}
		if err := matchValue("value", exp.Value, act.Value); err != nil {
			return err
		}
	}
	switch {
	case exp.Window == nil && act.Window != nil:
		return diff("window", "expected no window, got %s", renderWindow(act.Window.Start, act.Window.End, act.Window.Type))
	case exp.Window != nil && act.Window == nil:
		return diff("window", "expected %s, got no window", renderWindow(exp.Window.Start, exp.Window.End, exp.Window.Type))
	case exp.Window != nil:
		w := act.Window
		if w.Start != exp.Window.Start || w.End != exp.Window.End || !strings.EqualFold(w.Type, exp.Window.Type) {
			return diff("window", "expected %s, got %s", renderWindow(exp.Window.Start, exp.Window.End, exp.Window.Type),
				renderWindow(w.Start, w.End, w.Type))
		}
	}
	if exp.HasTimestamp && !(noInputs && exp.Timestamp == 0) && exp.Timestamp != act.Timestamp {
		return diff("timestamp", "expected %d, got %d", exp.Timestamp, act.Timestamp)
	}
	var want []Header
	if exp.HasHeaders {
		want = exp.Headers
	}
	if !headersEqual(want, act.Headers) {
		return diff("headers", "expected %s, got %s", renderHeaders(want), renderStorageHeaders(act.Headers))
	}
	return nil
}

func headersEqual(exp []Header, act []storageHeader) bool {
	if len(exp) != len(act) {
		return false
	}
	for i := range exp {
		if exp[i].Key != act[i].Key || (exp[i].Value == nil) != (act[i].Value == nil) || !bytes.Equal(exp[i].Value, act[i].Value) {
			return false
		}
	}
	return true
}
