package qtt

import (
	"encoding/json"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// The Java harness deserialises output records with the schema of the sink, so a DECIMAL(4, 2)
// column holds a BigDecimal of scale 2 and a DOUBLE a Double, whatever the bytes looked like.
// ReadLogical may instead return JSON-like trees (json.Number for every number). typeRecord
// restores the types from the schema of the source on the topic, so that the comparator can
// apply the DECIMAL (scale-sensitive) and DOUBLE (tolerance) rules. Values it cannot type are
// left as they are.

// schemaForTopic returns the schema of a stream or table on topic, or nil.
func schemaForTopic(eng Engine, topic string) *types.Schema {
	for _, s := range eng.Sources() {
		if s != nil && s.Topic == topic && s.Schema != nil {
			return s.Schema
		}
	}
	return nil
}

func typeRecord(rec engine.LogicalRecord, schema *types.Schema) engine.LogicalRecord {
	if schema == nil {
		return rec
	}
	rec.Key = typeColumns(rec.Key, schema.Key())
	if !rec.ValueNull {
		rec.Value = typeColumns(rec.Value, schema.Value())
	}
	return rec
}

// typeColumns types a key or value: an object is matched to the columns by name
// (case-insensitively); a scalar stands for the only column.
func typeColumns(v any, cols []types.Column) any {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		if len(cols) == 1 && cols[0].Type.Kind == types.KindStruct {
			if _, named := lookupColumn(x, cols[0].Name); !named {
				return typeValue(x, cols[0].Type) // an unwrapped STRUCT
			}
		}
		out := make(map[string]any, len(x))
		for k, fv := range x {
			out[k] = fv
			for _, c := range cols {
				if strings.EqualFold(c.Name, k) {
					out[k] = typeValue(fv, c.Type)
					break
				}
			}
		}
		return out
	default:
		if len(cols) == 1 {
			return typeValue(v, cols[0].Type)
		}
		return v
	}
}

func lookupColumn(m map[string]any, name string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// typeValue converts a JSON-like value to the runtime shape of type t when it is not already.
func typeValue(v any, t *types.Type) any {
	if v == nil || t == nil {
		return v
	}
	switch t.Kind {
	case types.KindDecimal:
		var d decimal.Decimal
		var err error
		switch x := v.(type) {
		case json.Number:
			d, err = decimal.NewFromString(string(x))
		case string:
			d, err = decimal.NewFromString(strings.TrimSpace(x))
		default:
			return v
		}
		if err != nil {
			return v
		}
		// Pad to the column's scale as the Java deserialiser does; never drop digits.
		if int(-d.Exponent()) < t.Scale {
			d = rescale(d, t.Scale)
		}
		return d
	case types.KindDouble:
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				return f
			}
		}
	case types.KindInt, types.KindBigint, types.KindDate, types.KindTime, types.KindTimestamp:
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i
			}
		}
	case types.KindArray:
		if l, ok := v.([]any); ok {
			out := make([]any, len(l))
			for i, e := range l {
				out[i] = typeValue(e, t.Elem)
			}
			return out
		}
	case types.KindMap:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				out[k] = typeValue(e, t.Elem)
			}
			return out
		}
	case types.KindStruct:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				out[k] = e
				for _, f := range t.Fields {
					if strings.EqualFold(f.Name, k) {
						out[k] = typeValue(e, f.Type)
						break
					}
				}
			}
			return out
		}
	}
	return v
}

// rescale returns d with exactly scale digits after the point (d must have fewer).
func rescale(d decimal.Decimal, scale int) decimal.Decimal {
	coef := d.Coefficient()
	exp := int(d.Exponent())
	for exp > -scale {
		coef.Mul(coef, bigTen)
		exp--
	}
	return decimal.NewFromBigInt(coef, int32(exp))
}
