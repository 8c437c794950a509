package qtt

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/storage"
)

type storageHeader = storage.Header

// Render prints an expected or actual value compactly and unambiguously: JSON-like, with
// decimals printed at their scale (5.40), doubles marked with a 'd' suffix when they would
// otherwise look like integers, and bytes as b64"...".
func Render(v any) string {
	var sb strings.Builder
	render(&sb, v)
	return sb.String()
}

func render(sb *strings.Builder, v any) {
	switch x := normalizeActual(v).(type) {
	case nil:
		sb.WriteString("null")
	case string:
		sb.WriteString(strconv.Quote(x))
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += "d"
		}
		sb.WriteString(s)
	case decimal.Decimal:
		sb.WriteString(renderDecimal(x))
	case json.Number:
		sb.WriteString(string(x))
	case []byte:
		sb.WriteString(`b64"` + base64.StdEncoding.EncodeToString(x) + `"`)
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			render(sb, e)
		}
		sb.WriteByte(']')
	case map[string]any:
		sb.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(strconv.Quote(k) + ": ")
			render(sb, x[k])
		}
		sb.WriteByte('}')
	case *fieldsOf:
		sb.WriteByte('{')
		for i, k := range x.names {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(strconv.Quote(k) + ": ")
			render(sb, x.vals[i])
		}
		sb.WriteByte('}')
	default:
		fmt.Fprintf(sb, "%v(%T)", x, x)
	}
}

// renderDecimal prints a decimal with exactly its scale (shopspring's String trims zeros).
func renderDecimal(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	if d.Exponent() == 0 {
		return d.Coefficient().String()
	}
	return d.Coefficient().String() + "E+" + strconv.Itoa(int(d.Exponent()))
}

func renderWindow(start, end int64, typ string) string {
	return fmt.Sprintf("%s[%d,%d]", strings.ToLower(typ), start, end)
}

func renderHeaders(hs []Header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = renderHeader(h.Key, h.Value)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func renderStorageHeaders(hs []storage.Header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = renderHeader(h.Key, h.Value)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func renderHeader(k string, v []byte) string {
	if v == nil {
		return strconv.Quote(k) + "=null"
	}
	return strconv.Quote(k) + "=" + base64.StdEncoding.EncodeToString(v)
}

// RenderExpected prints an expected record on one line.
func RenderExpected(r Record) string {
	var sb strings.Builder
	sb.WriteString("key=" + Render(r.Key))
	if r.Value == nil {
		sb.WriteString(" value=<tombstone>")
	} else {
		sb.WriteString(" value=" + Render(r.Value))
	}
	if r.Window != nil {
		sb.WriteString(" window=" + renderWindow(r.Window.Start, r.Window.End, r.Window.Type))
	}
	if r.HasTimestamp {
		sb.WriteString(" ts=" + strconv.FormatInt(r.Timestamp, 10))
	}
	if len(r.Headers) > 0 {
		sb.WriteString(" headers=" + renderHeaders(r.Headers))
	}
	return sb.String()
}

// RenderActual prints an actual record on one line.
func RenderActual(r engine.LogicalRecord) string {
	var sb strings.Builder
	sb.WriteString("key=" + Render(r.Key))
	if r.ValueNull || normalizeActual(r.Value) == nil {
		sb.WriteString(" value=<tombstone>")
	} else {
		sb.WriteString(" value=" + Render(r.Value))
	}
	if r.Window != nil {
		sb.WriteString(" window=" + renderWindow(r.Window.Start, r.Window.End, r.Window.Type))
	}
	sb.WriteString(" ts=" + strconv.FormatInt(r.Timestamp, 10))
	if len(r.Headers) > 0 {
		sb.WriteString(" headers=" + renderStorageHeaders(r.Headers))
	}
	return sb.String()
}
