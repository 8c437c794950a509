package parse

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// dumpTree prints a node with every field and position, one node per line, for golden tests
// that must pin down more than Format shows (positions, literal kinds, empty vs absent lists).
func dumpTree(v any) string {
	var sb strings.Builder
	dumpValue(&sb, reflect.ValueOf(v), 0, "")
	return sb.String()
}

var posType = reflect.TypeOf(ast.Pos{})
var typeType = reflect.TypeOf(&types.Type{})

func dumpValue(sb *strings.Builder, v reflect.Value, depth int, label string) {
	indent := strings.Repeat("  ", depth)
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		if v.Type() == typeType {
			fmt.Fprintf(sb, "%s%s%s\n", indent, label, FormatType(v.Interface().(*types.Type)))
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		var scalars []string
		type child struct {
			name string
			v    reflect.Value
		}
		var children []child
		collectFields(v, &scalars, func(name string, fv reflect.Value) { children = append(children, child{name, fv}) })
		fmt.Fprintf(sb, "%s%s%s %s\n", indent, label, v.Type().Name(), strings.Join(scalars, " "))
		for _, c := range children {
			dumpValue(sb, c.v, depth+1, c.name+": ")
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		if v.Len() == 0 {
			fmt.Fprintf(sb, "%s%s[]\n", indent, label)
			return
		}
		for i := 0; i < v.Len(); i++ {
			dumpValue(sb, v.Index(i), depth, fmt.Sprintf("%s[%d] ", strings.TrimSuffix(label, ": "), i))
		}
	default:
		fmt.Fprintf(sb, "%s%s%v\n", indent, label, v.Interface())
	}
}

// collectFields splits a struct's fields into inline scalars and child nodes, flattening
// embedded bases (StmtBase, ExprBase) and skipping zero scalars and statement text.
func collectFields(v reflect.Value, scalars *[]string, child func(string, reflect.Value)) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		fv := v.Field(i)
		if f.Anonymous {
			collectFields(fv, scalars, child)
			continue
		}
		if f.Name == "Text" && v.Type().Name() == "StmtBase" {
			continue
		}
		switch {
		case f.Type == posType:
			p := fv.Interface().(ast.Pos)
			*scalars = append(*scalars, fmt.Sprintf("@%d:%d", p.Line, p.Col))
		case f.Type == typeType:
			if !fv.IsNil() {
				*scalars = append(*scalars, f.Name+"="+FormatType(fv.Interface().(*types.Type)))
			}
		case fv.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			if !fv.IsNil() {
				*scalars = append(*scalars, fmt.Sprintf("%s=%q", f.Name, fv.Interface()))
			}
		case fv.Kind() == reflect.Interface, fv.Kind() == reflect.Pointer, fv.Kind() == reflect.Slice, fv.Kind() == reflect.Struct:
			child(f.Name, fv)
		case fv.Kind() == reflect.String:
			if fv.String() != "" || f.Name == "Val" {
				*scalars = append(*scalars, fmt.Sprintf("%s=%q", f.Name, fv.String()))
			}
		default:
			if !fv.IsZero() || f.Name == "Limit" || f.Name == "Val" {
				*scalars = append(*scalars, fmt.Sprintf("%s=%v", f.Name, fv.Interface()))
			}
		}
	}
}
