package qtt

import (
	"encoding/json"
	"testing"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// TestTypedComparison checks that JSON-like actual values are typed by the sink's schema
// before comparison, as the Java harness's deserialiser does.
func TestTypedComparison(t *testing.T) {
	schema := &types.Schema{Columns: []types.Column{
		{Name: "ID", Type: types.BigintType, Namespace: types.KeyColumn},
		{Name: "SUM", Type: types.DecimalOf(4, 1)},
		{Name: "AVG", Type: types.DoubleType},
		{Name: "D2", Type: types.DecimalOf(3, 2)},
		{Name: "S", Type: types.StructOf(types.Field{Name: "X", Type: types.DecimalOf(5, 2)})},
		{Name: "L", Type: types.ArrayOf(types.DoubleType)},
	}}
	act := engine.LogicalRecord{
		Key: json.Number("0"),
		Value: map[string]any{
			"SUM": json.Number("5.4"), "AVG": json.Number("0.30000000000000004"), "D2": json.Number("1.1"),
			"S": map[string]any{"X": "2"}, "L": []any{json.Number("1")},
		},
	}
	typed := typeRecord(act, schema)
	for _, tc := range []struct {
		exp string
		ok  bool
	}{
		{`{"SUM": "005.4", "AVG": 0.3, "D2": 1.10, "S": {"X": 2.00}, "L": [1.0]}`, true},
		{`{"SUM": 5.4, "AVG": 0.3, "D2": 1.10, "S": {"X": "2.00"}, "L": [1]}`, true},
		{`{"SUM": "5.40", "AVG": 0.3, "D2": 1.10, "S": {"X": 2.00}, "L": [1]}`, false}, // scale 2 vs column scale 1
		{`{"SUM": 5.4, "AVG": 0.3, "D2": 1.1, "S": {"X": 2.00}, "L": [1]}`, false},     // DECIMAL(3, 2) holds 1.10
		{`{"SUM": 5.4, "AVG": 0.31, "D2": 1.10, "S": {"X": 2.00}, "L": [1]}`, false},
	} {
		err := MatchValue(parse(t, tc.exp), typed.Value)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.exp, err, tc.ok)
		}
	}
	if err := MatchValue(json.Number("0"), typed.Key); err != nil {
		t.Errorf("key: %v", err)
	}
	// A scalar (unwrapped or KAFKA) value stands for the only value column.
	one := &types.Schema{Columns: []types.Column{{Name: "V", Type: types.DecimalOf(5, 3)}}}
	if err := MatchValue(json.Number("1.500"), typeRecord(engine.LogicalRecord{Value: json.Number("1.5")}, one).Value); err != nil {
		t.Errorf("unwrapped: %v", err)
	}
	// A tombstone stays a tombstone; a decimal with more digits than the scale is not rounded.
	if r := typeRecord(engine.LogicalRecord{ValueNull: true}, one); !r.ValueNull || r.Value != nil {
		t.Errorf("tombstone: %+v", r)
	}
	if err := MatchValue(json.Number("1.500"), typeRecord(engine.LogicalRecord{Value: json.Number("1.5004")}, one).Value); err == nil {
		t.Error("extra digits must not be rounded away")
	}
}
