package eval

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// coerceToOperand converts an IN-list item to the operand's type the way ksqlDB does: literals
// (also inside ARRAY/MAP/STRUCT constructors) are parsed or widened into the operand's type;
// other expressions must already have a comparable type.
func coerceToOperand(item ast.Expr, x *Expr, target *types.Type, s *Scope) (*Expr, error) {
	out, err := coerceInner(item, x, target, s)
	if e, ok := err.(*Error); ok && strings.Contains(e.Msg, "operator does not exist") {
		switch item.(type) {
		case *ast.ArrayCtor, *ast.MapCtor, *ast.StructCtor:
			return nil, errAt(item, "Invalid Predicate: operator does not exist: %s = %s (%s)\nHint: You might need to add explicit type casts.", target, x.Type, Text(item))
		}
	}
	return out, err
}

func coerceInner(item ast.Expr, x *Expr, target *types.Type, s *Scope) (*Expr, error) {
	if target == nil || x.Type == nil {
		return x, nil
	}
	switch n := item.(type) {
	case *ast.StringLit:
		v, err := parseLiteral(n.Val, target)
		if err != nil {
			return nil, err
		}
		return constExpr(target, v), nil
	case *ast.IntLit, *ast.DecimalLit, *ast.DoubleLit, *ast.BoolLit:
		if target.Kind == types.KindString {
			return constExpr(types.StringType, literalText(item)), nil
		}
		if compatible(target, x.Type) {
			return x, nil
		}
	case *ast.ArrayCtor:
		if target.Kind == types.KindArray {
			elems := make([]*Expr, len(n.Elems))
			for i, el := range n.Elems {
				ex, err := Compile(el, s)
				if err != nil {
					return nil, err
				}
				if elems[i], err = coerceInner(el, ex, target.Elem, s); err != nil {
					return nil, err
				}
			}
			return arrayOf(target, elems), nil
		}
	case *ast.MapCtor:
		if target.Kind == types.KindMap {
			keys := make([]*Expr, len(n.Keys))
			vals := make([]*Expr, len(n.Vals))
			for i := range n.Keys {
				k, err := Compile(n.Keys[i], s)
				if err != nil {
					return nil, err
				}
				if keys[i], err = coerceInner(n.Keys[i], k, target.Key, s); err != nil {
					return nil, err
				}
				v, err := Compile(n.Vals[i], s)
				if err != nil {
					return nil, err
				}
				if vals[i], err = coerceInner(n.Vals[i], v, target.Elem, s); err != nil {
					return nil, err
				}
			}
			return mapOf(target, keys, vals), nil
		}
	case *ast.StructCtor:
		if target.Kind == types.KindStruct && len(n.Names) <= len(target.Fields) {
			fields := make([]*Expr, len(target.Fields))
			ok := true
			for _, name := range n.Names {
				if target.FieldIndex(name) < 0 {
					ok = false
				}
			}
			for i, f := range target.Fields {
				if !ok {
					break
				}
				j := -1
				for k, name := range n.Names {
					if name == f.Name {
						j = k
					}
				}
				if j < 0 {
					// A field the constructor leaves out is NULL, as in a cast.
					fields[i] = constExpr(f.Type, nil)
					continue
				}
				v, err := Compile(n.Vals[j], s)
				if err != nil {
					return nil, err
				}
				if fields[i], err = coerceInner(n.Vals[j], v, f.Type, s); err != nil {
					return nil, err
				}
			}
			if ok {
				names := make([]string, len(target.Fields))
				for i, f := range target.Fields {
					names[i] = f.Name
				}
				return structOf(target, names, fields), nil
			}
		}
	case *ast.NullLit:
		return constExpr(target, nil), nil
	}
	if compatible(target, x.Type) {
		return x, nil
	}
	return nil, errAt(item, "Invalid Predicate: operator does not exist: %s = %s (%s)\nHint: You might need to add explicit type casts.", target, x.Type, Text(item))
}

// coerceToFirst is ksqlDB's fallback for constructor elements of different types: the first
// typed element decides the type and literals are converted to it ('true' to BOOLEAN, 10 to
// '10'). It returns a nil type when a non-literal element still does not fit, and the
// conversion error of a literal that cannot be read as that type.
func coerceToFirst(items []ast.Expr, xs []*Expr, s *Scope) ([]*Expr, *types.Type, error) {
	var target *types.Type
	for _, x := range xs {
		if x.Type != nil {
			target = x.Type
			break
		}
	}
	if u := unionStruct(xs); u != nil {
		// STRUCT constructors with different fields: one struct of all their fields, each
		// constructor's missing fields NULL.
		target = u
	}
	out := make([]*Expr, len(xs))
	for i, x := range xs {
		c, err := coerceInner(items[i], x, target, s)
		if err != nil {
			if e, ok := err.(*Error); ok && strings.HasPrefix(e.Msg, "Invalid Predicate: invalid input syntax") {
				return nil, nil, errAt(items[i], "%s", strings.TrimPrefix(e.Msg, "Invalid Predicate: "))
			}
			return xs, nil, nil
		}
		if c.Type != nil && !c.Type.Equal(target) && !(c.Type.IsNumeric() && target.IsNumeric()) {
			return xs, nil, nil
		}
		out[i] = c
	}
	return out, target, nil
}

// unionStruct is the struct type holding every field of xs's struct types (fields in order of
// first appearance, each of its values' common type), or nil when they are not all structs or
// a field's types have no common type.
func unionStruct(xs []*Expr) *types.Type {
	var fields []types.Field
	index := map[string]int{}
	n := 0
	for _, x := range xs {
		if x.Type == nil {
			continue
		}
		if x.Type.Kind != types.KindStruct {
			return nil
		}
		n++
		for _, f := range x.Type.Fields {
			i, ok := index[f.Name]
			if !ok {
				index[f.Name] = len(fields)
				fields = append(fields, f)
				continue
			}
			c, err := types.CommonType(fields[i].Type, f.Type)
			if err != nil || c == nil {
				return nil
			}
			fields[i].Type = c
		}
	}
	if n < 2 {
		return nil
	}
	return types.StructOf(fields...)
}

// compatible reports whether values of a and b compare meaningfully: numbers with numbers,
// otherwise the same kind with compatible elements and identical struct field names.
func compatible(a, b *types.Type) bool {
	if a == nil || b == nil {
		return true
	}
	if a.IsNumeric() && b.IsNumeric() {
		return true
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case types.KindArray:
		return compatible(a.Elem, b.Elem)
	case types.KindMap:
		return compatible(a.Key, b.Key) && compatible(a.Elem, b.Elem)
	case types.KindStruct:
		// Structs with other field sets are comparable; they are simply never equal. Fields
		// present in both must have comparable types.
		for _, f := range a.Fields {
			if i := b.FieldIndex(f.Name); i >= 0 && !compatible(f.Type, b.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

func literalText(e ast.Expr) string {
	switch n := e.(type) {
	case *ast.IntLit:
		return strconv.FormatInt(n.Val, 10)
	case *ast.DecimalLit:
		return n.Text
	case *ast.DoubleLit:
		return types.JavaDouble(n.Val)
	case *ast.BoolLit:
		return strconv.FormatBool(n.Val)
	}
	return Text(e)
}

// parseLiteral converts a string literal to t, with ksqlDB's "invalid input syntax" error.
func parseLiteral(s string, t *types.Type) (any, error) {
	bad := func() error {
		name := t.String()
		if t.Kind == types.KindDecimal {
			name = "DECIMAL"
		}
		return &Error{Msg: fmt.Sprintf("Invalid Predicate: invalid input syntax for type %s: \"%s\".", name, s)}
	}
	trimmed := strings.TrimSpace(s)
	switch t.Kind {
	case types.KindString:
		return s, nil
	case types.KindBoolean:
		l := strings.ToLower(trimmed)
		if l != "" && (strings.HasPrefix("true", l) || strings.HasPrefix("yes", l)) {
			return true, nil
		}
		if l != "" && (strings.HasPrefix("false", l) || strings.HasPrefix("no", l)) {
			return false, nil
		}
		return nil, bad()
	case types.KindInt, types.KindBigint:
		d, err := decimal.NewFromString(trimmed)
		if err != nil || !d.Equal(d.Truncate(0)) {
			return nil, bad()
		}
		n := d.IntPart()
		if t.Kind == types.KindInt && (n < -1<<31 || n > 1<<31-1) {
			return n, nil
		}
		if t.Kind == types.KindInt {
			return int32(n), nil
		}
		return n, nil
	case types.KindDouble:
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	case types.KindDecimal:
		d, err := decimal.NewFromString(trimmed)
		if err != nil {
			return nil, bad()
		}
		return d, nil
	}
	v, err := types.Cast(s, types.StringType, t)
	if err != nil {
		return nil, bad()
	}
	return v, nil
}
