package eval

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// textOf prints e the way ksqlDB prints expressions in messages: upper-case names, back-quoted
// only when needed.
func textOf(e ast.Expr) string {
	switch n := e.(type) {
	case nil:
		return ""
	case *ast.NullLit:
		return "null"
	case *ast.BoolLit:
		if n.Val {
			return "true"
		}
		return "false"
	case *ast.IntLit:
		return strconv.FormatInt(n.Val, 10)
	case *ast.DecimalLit:
		return n.Text
	case *ast.DoubleLit:
		return strconv.FormatFloat(n.Val, 'E', -1, 64)
	case *ast.StringLit:
		return "'" + strings.ReplaceAll(n.Val, "'", "''") + "'"
	case *ast.ColumnRef:
		if n.Qualifier != "" {
			return n.Qualifier + "." + n.Name
		}
		return n.Name
	case *ast.Dereference:
		return textOf(n.Base) + "->" + n.Field
	case *ast.Subscript:
		return textOf(n.Base) + "[" + textOf(n.Index) + "]"
	case *ast.BinaryOp:
		return "(" + textOf(n.L) + " " + n.Op + " " + textOf(n.R) + ")"
	case *ast.UnaryOp:
		if n.Op == "NOT" {
			return "(NOT " + textOf(n.X) + ")"
		}
		return n.Op + textOf(n.X)
	case *ast.IsNull:
		if n.Not {
			return "(" + textOf(n.X) + " IS NOT NULL)"
		}
		return "(" + textOf(n.X) + " IS NULL)"
	case *ast.IsDistinct:
		op := " IS DISTINCT FROM "
		if n.Not {
			op = " IS NOT DISTINCT FROM "
		}
		return "(" + textOf(n.L) + op + textOf(n.R) + ")"
	case *ast.Between:
		not := ""
		if n.Not {
			not = "NOT "
		}
		return "(" + textOf(n.X) + " " + not + "BETWEEN " + textOf(n.Lo) + " AND " + textOf(n.Hi) + ")"
	case *ast.InList:
		var parts []string
		for _, x := range n.List {
			parts = append(parts, textOf(x))
		}
		not := ""
		if n.Not {
			not = "NOT "
		}
		return "(" + textOf(n.X) + " " + not + "IN (" + strings.Join(parts, ", ") + "))"
	case *ast.Like:
		not := ""
		if n.Not {
			not = "NOT "
		}
		return "(" + textOf(n.X) + " " + not + "LIKE " + textOf(n.Pattern) + ")"
	case *ast.Case:
		var sb strings.Builder
		sb.WriteString("(CASE")
		if n.Operand != nil {
			sb.WriteString(" " + textOf(n.Operand))
		}
		for _, w := range n.Whens {
			sb.WriteString(" WHEN " + textOf(w.Cond) + " THEN " + textOf(w.Result))
		}
		if n.Else != nil {
			sb.WriteString(" ELSE " + textOf(n.Else))
		}
		sb.WriteString(" END)")
		return sb.String()
	case *ast.Cast:
		return "CAST(" + textOf(n.X) + " AS " + n.To.String() + ")"
	case *ast.FuncCall:
		if n.Star {
			return n.Name + "(*)"
		}
		var parts []string
		for _, a := range n.Args {
			parts = append(parts, textOf(a))
		}
		d := ""
		if n.Distinct {
			d = "DISTINCT "
		}
		return n.Name + "(" + d + strings.Join(parts, ", ") + ")"
	case *ast.Lambda:
		return "(" + strings.Join(n.Params, ", ") + ") => " + textOf(n.Body)
	case *ast.ArrayCtor:
		var parts []string
		for _, a := range n.Elems {
			parts = append(parts, textOf(a))
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]"
	case *ast.MapCtor:
		var parts []string
		for i := range n.Keys {
			parts = append(parts, textOf(n.Keys[i])+":="+textOf(n.Vals[i]))
		}
		return "MAP(" + strings.Join(parts, ", ") + ")"
	case *ast.StructCtor:
		var parts []string
		for i := range n.Names {
			parts = append(parts, n.Names[i]+":="+textOf(n.Vals[i]))
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case *ast.IntervalUnit:
		return n.Unit
	}
	return "?"
}

// Key returns a canonical string for structural equality of expressions (GROUP BY matching).
func Key(e ast.Expr) string { return textOf(e) }

var _ = types.StringType
