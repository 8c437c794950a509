package eval

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
)

// Compile type-checks e in scope s and returns its closure.
func Compile(e ast.Expr, s *Scope) (*Expr, error) {
	if s.Resolve != nil {
		if x, ok, err := s.Resolve(e); err != nil {
			return nil, err
		} else if ok {
			return x, nil
		}
	}
	switch n := e.(type) {
	case *ast.NullLit:
		return constExpr(nil, nil), nil
	case *ast.BoolLit:
		return constExpr(types.BooleanType, n.Val), nil
	case *ast.IntLit:
		if n.Val >= math.MinInt32 && n.Val <= math.MaxInt32 {
			return constExpr(types.IntType, int32(n.Val)), nil
		}
		return constExpr(types.BigintType, n.Val), nil
	case *ast.DecimalLit:
		d, err := decimal.NewFromString(n.Text)
		if err != nil {
			return nil, errAt(n, "Invalid decimal literal: %s", n.Text)
		}
		return constExpr(decimalLitType(n.Text), d), nil
	case *ast.DoubleLit:
		return constExpr(types.DoubleType, n.Val), nil
	case *ast.StringLit:
		return constExpr(types.StringType, n.Val), nil
	case *ast.ColumnRef:
		return compileColumn(n, s)
	case *ast.Dereference:
		return compileDeref(n, s)
	case *ast.Subscript:
		return compileSubscript(n, s)
	case *ast.BinaryOp:
		return compileBinary(n, s)
	case *ast.UnaryOp:
		return compileUnary(n, s)
	case *ast.IsNull:
		x, err := Compile(n.X, s)
		if err != nil {
			return nil, err
		}
		not := n.Not
		f := x.Eval
		return &Expr{Type: types.BooleanType, Eval: func(r *Rec) (any, error) {
			v, err := f(r)
			if err != nil {
				return nil, err
			}
			return (v == nil) != not, nil
		}}, nil
	case *ast.IsDistinct:
		return compileDistinct(n, s)
	case *ast.Between:
		return compileBetween(n, s)
	case *ast.InList:
		return compileIn(n, s)
	case *ast.Like:
		return compileLike(n, s)
	case *ast.Case:
		return compileCase(n, s)
	case *ast.Cast:
		return compileCast(n, s)
	case *ast.FuncCall:
		return compileCall(n, s)
	case *ast.ArrayCtor:
		return compileArray(n, s)
	case *ast.MapCtor:
		return compileMap(n, s)
	case *ast.StructCtor:
		return compileStruct(n, s)
	case *ast.IntervalUnit:
		// Time-unit arguments (DATEADD(DAYS, ...)) reach functions as the unit's name.
		return constExpr(types.StringType, n.Unit), nil
	case *ast.Lambda:
		return nil, errAt(n, "Lambda expressions are only allowed as arguments of TRANSFORM, FILTER and REDUCE")
	}
	return nil, errAt(e, "unsupported expression %T", e)
}

func decimalLitType(text string) *types.Type {
	t := strings.TrimLeft(text, "+-")
	intPart, frac, _ := strings.Cut(t, ".")
	intPart = strings.TrimLeft(intPart, "0")
	p := len(intPart) + len(frac)
	if p == 0 {
		p = 1
	}
	if p < len(frac) {
		p = len(frac)
	}
	return types.DecimalOf(p, len(frac))
}

func compileColumn(n *ast.ColumnRef, s *Scope) (*Expr, error) {
	if n.Qualifier == "" {
		for i := len(s.lambdas) - 1; i >= 0; i-- {
			if s.lambdas[i].name == n.Name {
				slot := s.lambdas[i].slot
				return &Expr{Type: s.lambdas[i].typ, Eval: func(r *Rec) (any, error) { return r.Env[slot], nil }}, nil
			}
		}
	}
	idx, t, err := s.lookup(n)
	if err != nil {
		return nil, err
	}
	if idx >= 0 {
		return &Expr{Type: t, Eval: func(r *Rec) (any, error) { return r.Vals[idx], nil }}, nil
	}
	switch n.Name {
	case RowTime:
		if s.Pseudo {
			return &Expr{Type: types.BigintType, Eval: func(r *Rec) (any, error) { return r.Ts, nil }}, nil
		}
	case RowPartition:
		if s.Pseudo {
			return &Expr{Type: types.IntType, Eval: func(r *Rec) (any, error) { return r.Partition, nil }}, nil
		}
	case RowOffset:
		if s.Pseudo {
			return &Expr{Type: types.BigintType, Eval: func(r *Rec) (any, error) { return r.Offset, nil }}, nil
		}
	case WindowStart:
		if s.Windowed {
			return &Expr{Type: types.BigintType, Eval: func(r *Rec) (any, error) { return r.WinStart, nil }}, nil
		}
	case WindowEnd:
		if s.Windowed {
			return &Expr{Type: types.BigintType, Eval: func(r *Rec) (any, error) { return r.WinEnd, nil }}, nil
		}
	}
	name := n.Name
	if n.Qualifier != "" {
		name = n.Qualifier + "." + n.Name
	}
	return nil, errAt(n, "%s cannot be resolved.", name)
}

func compileDeref(n *ast.Dereference, s *Scope) (*Expr, error) {
	base, err := Compile(n.Base, s)
	if err != nil {
		return nil, err
	}
	if base.Type == nil || base.Type.Kind != types.KindStruct {
		return nil, errAt(n, "Expected STRUCT type, got: %s", typeName(base.Type))
	}
	idx := base.Type.FieldIndex(n.Field)
	if idx < 0 {
		for i, f := range base.Type.Fields {
			if strings.EqualFold(f.Name, n.Field) {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		return nil, errAt(n, "Could not find field '%s' in '%s'.", n.Field, exprName(n.Base))
	}
	f := base.Eval
	name := base.Type.Fields[idx].Name
	return &Expr{Type: base.Type.Fields[idx].Type, Eval: func(r *Rec) (any, error) {
		v, err := f(r)
		if err != nil || v == nil {
			return nil, err
		}
		st := v.(*types.Struct)
		if idx < len(st.Vals) && idx < len(st.Names) && st.Names[idx] == name {
			return st.Vals[idx], nil
		}
		fv, _ := st.Get(name)
		return fv, nil
	}}, nil
}

func exprName(e ast.Expr) string {
	switch n := e.(type) {
	case *ast.ColumnRef:
		return n.Name
	case *ast.Dereference:
		return exprName(n.Base) + "->" + n.Field
	}
	return "expression"
}

func typeName(t *types.Type) string {
	if t == nil {
		return "NULL"
	}
	return t.String()
}

func compileSubscript(n *ast.Subscript, s *Scope) (*Expr, error) {
	base, err := Compile(n.Base, s)
	if err != nil {
		return nil, err
	}
	idx, err := Compile(n.Index, s)
	if err != nil {
		return nil, err
	}
	if base.Type == nil {
		return constExpr(nil, nil), nil
	}
	bf, xf := base.Eval, idx.Eval
	switch base.Type.Kind {
	case types.KindArray:
		if idx.Type == nil || (idx.Type.Kind != types.KindInt && idx.Type.Kind != types.KindBigint) {
			return nil, errAt(n.Index, "Array index must be an INTEGER, got %s", typeName(idx.Type))
		}
		return &Expr{Type: base.Type.Elem, Eval: func(r *Rec) (any, error) {
			b, err := bf(r)
			if err != nil || b == nil {
				return nil, err
			}
			i, err := xf(r)
			if err != nil || i == nil {
				return nil, err
			}
			arr := b.([]any)
			k, _ := types.ToInt64(i)
			if k > 0 && int(k) <= len(arr) {
				return arr[k-1], nil
			}
			if k < 0 && int(-k) <= len(arr) {
				return arr[len(arr)+int(k)], nil
			}
			return nil, nil
		}}, nil
	case types.KindMap:
		ix := idx
		if idx.Type != nil && !idx.Type.Equal(base.Type.Key) {
			if ix, err = castTo(idx, base.Type.Key, n.Index); err != nil {
				return nil, err
			}
		}
		xf = ix.Eval
		return &Expr{Type: base.Type.Elem, Eval: func(r *Rec) (any, error) {
			b, err := bf(r)
			if err != nil || b == nil {
				return nil, err
			}
			k, err := xf(r)
			if err != nil || k == nil {
				return nil, err
			}
			v, _ := b.(*types.Map).Get(k)
			return v, nil
		}}, nil
	}
	return nil, errAt(n, "Subscript expressions can only be used on ARRAY or MAP types, got %s", base.Type)
}

// castTo wraps x in an implicit or explicit cast to t.
func castTo(x *Expr, t *types.Type, at ast.Expr) (*Expr, error) {
	if x.Type == nil {
		return &Expr{Type: t, Eval: x.Eval, Const: x.Const}, nil
	}
	if x.Type.Equal(t) {
		return x, nil
	}
	if !types.CanCast(x.Type, t) {
		return nil, errAt(at, "Cast of %s to %s is not supported", x.Type, t)
	}
	from, f := x.Type, x.Eval
	out := &Expr{Type: t, Eval: func(r *Rec) (any, error) {
		v, err := f(r)
		if err != nil || v == nil {
			return nil, err
		}
		return types.Cast(v, from, t)
	}}
	if x.Const {
		v, err := types.Cast(x.ConstVal, from, t)
		if err == nil {
			return constExpr(t, v), nil
		}
	}
	return out, nil
}

func compileBinary(n *ast.BinaryOp, s *Scope) (*Expr, error) {
	l, err := Compile(n.L, s)
	if err != nil {
		return nil, err
	}
	r, err := Compile(n.R, s)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case "AND", "OR":
		return compileLogic(n, l, r)
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		var err error
		if l, r, err = magicTimestamps(n.L, n.R, l, r); err != nil {
			return nil, err
		}
		return compareExprs(n, n.Op, l, r)
	case "||":
		return concatExpr(l, r), nil
	}
	if n.Op == "+" && l.Type != nil && r.Type != nil && l.Type.Kind == types.KindString && r.Type.Kind == types.KindString {
		return concatExpr(l, r), nil
	}
	if l.Type == nil || r.Type == nil {
		return nil, errAt(n, "Error processing expression: %s. Arithmetic on types %s and %s are not supported.", Text(n), nullName(l.Type), nullName(r.Type))
	}
	fn, rt, err := types.ArithFunc(n.Op, l.Type, r.Type)
	if err != nil {
		return nil, errAt(n, "Error processing expression: %s. Unsupported arithmetic types. %s %s", Text(n), kindName(l.Type), kindName(r.Type))
	}
	lf, rf := l.Eval, r.Eval
	// A lambda argument is a boxed Java value in ksqlDB: arithmetic on a NULL one throws, and
	// the whole expression (not just this element) becomes NULL with a processing-log entry.
	lNull, rNull := isLambdaVar(n.L, s), isLambdaVar(n.R, s)
	return &Expr{Type: rt, Eval: func(rec *Rec) (any, error) {
		a, err := lf(rec)
		if err != nil || a == nil {
			if err == nil && lNull {
				err = errNullLambdaArg(n)
			}
			return nil, err
		}
		b, err := rf(rec)
		if err != nil || b == nil {
			if err == nil && rNull {
				err = errNullLambdaArg(n)
			}
			return nil, err
		}
		return fn(a, b)
	}}, nil
}

// isLambdaVar reports whether x names a lambda argument in s.
func isLambdaVar(x ast.Expr, s *Scope) bool {
	c, ok := x.(*ast.ColumnRef)
	if !ok || c.Qualifier != "" {
		return false
	}
	for _, l := range s.lambdas {
		if l.name == c.Name {
			return true
		}
	}
	return false
}

func errNullLambdaArg(n *ast.BinaryOp) error {
	return fmt.Errorf("Error processing expression %s: a lambda argument is NULL", Text(n))
}

// kindName is a type's name without parameters (DECIMAL, not DECIMAL(2, 1)).
func kindName(t *types.Type) string {
	s := nullName(t)
	if i := strings.IndexAny(s, "(<"); i > 0 {
		return s[:i]
	}
	return s
}

func nullName(t *types.Type) string {
	if t == nil {
		return "null"
	}
	return t.String()
}

func concatExpr(l, r *Expr) *Expr {
	lf, rf := l.Eval, r.Eval
	return &Expr{Type: types.StringType, Eval: func(rec *Rec) (any, error) {
		a, err := lf(rec)
		if err != nil || a == nil {
			return nil, err
		}
		b, err := rf(rec)
		if err != nil || b == nil {
			return nil, err
		}
		return a.(string) + b.(string), nil
	}}
}

func compileLogic(n *ast.BinaryOp, l, r *Expr) (*Expr, error) {
	for _, x := range []*Expr{l, r} {
		if x.Type != nil && x.Type.Kind != types.KindBoolean {
			return nil, errAt(n, "Logical operator %s requires BOOLEAN operands, got %s", n.Op, x.Type)
		}
	}
	lf, rf := l.Eval, r.Eval
	if n.Op == "AND" {
		return &Expr{Type: types.BooleanType, Eval: func(rec *Rec) (any, error) {
			a, err := lf(rec)
			if err != nil {
				return nil, err
			}
			if a == false {
				return false, nil
			}
			b, err := rf(rec)
			if err != nil {
				return nil, err
			}
			if b == false {
				return false, nil
			}
			if a == nil || b == nil {
				return nil, nil
			}
			return true, nil
		}}, nil
	}
	return &Expr{Type: types.BooleanType, Eval: func(rec *Rec) (any, error) {
		a, err := lf(rec)
		if err != nil {
			return nil, err
		}
		if a == true {
			return true, nil
		}
		b, err := rf(rec)
		if err != nil {
			return nil, err
		}
		if b == true {
			return true, nil
		}
		if a == nil || b == nil {
			return nil, nil
		}
		return false, nil
	}}, nil
}

// magicTimestamps lets ROWTIME, WINDOWSTART and WINDOWEND be compared with ISO-8601 strings,
// as ksqlDB does: the string literal becomes epoch milliseconds at compile time.
func magicTimestamps(la, ra ast.Expr, l, r *Expr) (*Expr, *Expr, error) {
	isTimeCol := func(e ast.Expr) bool {
		c, ok := e.(*ast.ColumnRef)
		return ok && (c.Name == RowTime || c.Name == WindowStart || c.Name == WindowEnd)
	}
	conv := func(e ast.Expr) (*Expr, error) {
		lit := e.(*ast.StringLit)
		ts, err := types.ParseTimestamp(lit.Val)
		if err != nil {
			return nil, errAt(e, "Failed to parse timestamp '%s': %v", lit.Val, err)
		}
		return constExpr(types.BigintType, int64(ts)), nil
	}
	var err error
	if _, ok := ra.(*ast.StringLit); ok && isTimeCol(la) {
		r, err = conv(ra)
	} else if _, ok := la.(*ast.StringLit); ok && isTimeCol(ra) {
		l, err = conv(la)
	}
	return l, r, err
}

// comparable checks the operand types of a comparison and returns how to compare them.
func checkComparable(at ast.Expr, op string, l, r *Expr) error {
	if l.Type == nil || r.Type == nil {
		return nil
	}
	lt, rt := l.Type, r.Type
	if lt.IsNumeric() && rt.IsNumeric() {
		return nil
	}
	if lt.Kind == rt.Kind {
		switch lt.Kind {
		case types.KindArray, types.KindMap, types.KindStruct:
			if op != "=" && op != "<>" && op != "!=" && op != "IS DISTINCT FROM" && op != "IN" {
				return errAt(at, "Cannot compare %s (%s) to %s (%s) with %s.", exprText(at, 0), lt, exprText(at, 1), rt, opName(op))
			}
		}
		return nil
	}
	// Timestamps, dates and times compare with strings (parsed) as ksqlDB allows.
	if isTemporal(lt) && rt.Kind == types.KindString || isTemporal(rt) && lt.Kind == types.KindString {
		return nil
	}
	if lt.Kind == types.KindTimestamp && rt.Kind == types.KindDate || lt.Kind == types.KindDate && rt.Kind == types.KindTimestamp {
		return nil
	}
	return errAt(at, "Cannot compare %s (%s) to %s (%s) with %s.", exprText(at, 0), lt, exprText(at, 1), rt, opName(op))
}

// opName is ksqlDB's name for a comparison operator in error messages.
func opName(op string) string {
	switch op {
	case "=":
		return "EQUAL"
	case "<>", "!=":
		return "NOT_EQUAL"
	case "<":
		return "LESS_THAN"
	case "<=":
		return "LESS_THAN_OR_EQUAL"
	case ">":
		return "GREATER_THAN"
	case ">=":
		return "GREATER_THAN_OR_EQUAL"
	case "IS DISTINCT FROM":
		return "IS_DISTINCT_FROM"
	}
	return op
}

func isTemporal(t *types.Type) bool {
	return t.Kind == types.KindTimestamp || t.Kind == types.KindDate || t.Kind == types.KindTime
}

func exprText(at ast.Expr, side int) string {
	var l, r ast.Expr
	switch b := at.(type) {
	case *ast.BinaryOp:
		l, r = b.L, b.R
	case *ast.IsDistinct:
		l, r = b.L, b.R
	default:
		return Text(at)
	}
	if side == 0 {
		return Text(l)
	}
	return Text(r)
}

// alignTemporal converts a string operand compared with a temporal one into that type, so the
// comparison itself stays a plain value comparison.
func alignTemporal(l, r *Expr, at ast.Expr) (*Expr, *Expr, error) {
	if l.Type == nil || r.Type == nil {
		return l, r, nil
	}
	var err error
	switch {
	case isTemporal(l.Type) && r.Type.Kind == types.KindString:
		r, err = castTo(r, l.Type, at)
	case isTemporal(r.Type) && l.Type.Kind == types.KindString:
		l, err = castTo(l, r.Type, at)
	case l.Type.Kind == types.KindTimestamp && r.Type.Kind == types.KindDate:
		r, err = castTo(r, l.Type, at)
	case l.Type.Kind == types.KindDate && r.Type.Kind == types.KindTimestamp:
		l, err = castTo(l, r.Type, at)
	}
	return l, r, err
}

func compareExprs(at ast.Expr, op string, l, r *Expr) (*Expr, error) {
	if err := checkComparable(at, op, l, r); err != nil {
		return nil, err
	}
	l, r, err := alignTemporal(l, r, at)
	if err != nil {
		return nil, err
	}
	var test func(c int) bool
	switch op {
	case "=":
		test = func(c int) bool { return c == 0 }
	case "<>", "!=":
		test = func(c int) bool { return c != 0 }
	case "<":
		test = func(c int) bool { return c < 0 }
	case "<=":
		test = func(c int) bool { return c <= 0 }
	case ">":
		test = func(c int) bool { return c > 0 }
	case ">=":
		test = func(c int) bool { return c >= 0 }
	}
	lf, rf := l.Eval, r.Eval
	// ksqlDB compares with Java semantics: a comparison with a NULL operand is false, not
	// NULL (so NOT (a = b) is true when a is NULL).
	return &Expr{Type: types.BooleanType, Eval: func(rec *Rec) (any, error) {
		a, err := lf(rec)
		if err != nil {
			return nil, err
		}
		b, err := rf(rec)
		if err != nil {
			return nil, err
		}
		if a == nil || b == nil {
			return false, nil
		}
		c, ok := types.Compare(a, b)
		if !ok {
			return false, nil
		}
		return test(c), nil
	}}, nil
}

func compileUnary(n *ast.UnaryOp, s *Scope) (*Expr, error) {
	x, err := Compile(n.X, s)
	if err != nil {
		return nil, err
	}
	f := x.Eval
	switch n.Op {
	case "NOT":
		if x.Type != nil && x.Type.Kind != types.KindBoolean {
			return nil, errAt(n, "NOT requires a BOOLEAN operand, got %s", x.Type)
		}
		return &Expr{Type: types.BooleanType, Eval: func(r *Rec) (any, error) {
			v, err := f(r)
			if err != nil || v == nil {
				return nil, err
			}
			return !v.(bool), nil
		}}, nil
	case "+":
		return x, nil
	case "-":
		if x.Type != nil && !x.Type.IsNumeric() {
			return nil, errAt(n, "Unary minus requires a numeric operand, got %s", x.Type)
		}
		neg := func(v any) any {
			switch y := v.(type) {
			case int32:
				return -y
			case int64:
				return -y
			case float64:
				return -y
			case decimal.Decimal:
				return y.Neg()
			}
			return nil
		}
		if x.Const {
			return constExpr(x.Type, neg(x.ConstVal)), nil
		}
		return &Expr{Type: x.Type, Eval: func(r *Rec) (any, error) {
			v, err := f(r)
			if err != nil || v == nil {
				return nil, err
			}
			return neg(v), nil
		}}, nil
	}
	return nil, errAt(n, "unknown operator %s", n.Op)
}

func compileDistinct(n *ast.IsDistinct, s *Scope) (*Expr, error) {
	l, err := Compile(n.L, s)
	if err != nil {
		return nil, err
	}
	r, err := Compile(n.R, s)
	if err != nil {
		return nil, err
	}
	if err := checkComparable(n, "IS DISTINCT FROM", l, r); err != nil {
		return nil, err
	}
	lf, rf, not := l.Eval, r.Eval, n.Not
	return &Expr{Type: types.BooleanType, Eval: func(rec *Rec) (any, error) {
		a, err := lf(rec)
		if err != nil {
			return nil, err
		}
		b, err := rf(rec)
		if err != nil {
			return nil, err
		}
		var distinct bool
		switch {
		case a == nil && b == nil:
			distinct = false
		case a == nil || b == nil:
			distinct = true
		default:
			distinct = !types.Equal(a, b)
		}
		return distinct != not, nil
	}}, nil
}

func compileBetween(n *ast.Between, s *Scope) (*Expr, error) {
	x, err := Compile(n.X, s)
	if err != nil {
		return nil, err
	}
	lo, err := Compile(n.Lo, s)
	if err != nil {
		return nil, err
	}
	hi, err := Compile(n.Hi, s)
	if err != nil {
		return nil, err
	}
	if _, lo, err = magicTimestamps(n.X, n.Lo, x, lo); err != nil {
		return nil, err
	}
	if _, hi, err = magicTimestamps(n.X, n.Hi, x, hi); err != nil {
		return nil, err
	}
	// Errors name the failing bound comparison (V0 >= 10), as ksqlDB's rewrite does.
	ge, err := compareExprs(&ast.BinaryOp{ExprBase: n.ExprBase, Op: ">=", L: n.X, R: n.Lo}, ">=", x, lo)
	if err != nil {
		return nil, err
	}
	le, err := compareExprs(&ast.BinaryOp{ExprBase: n.ExprBase, Op: "<=", L: n.X, R: n.Hi}, "<=", x, hi)
	if err != nil {
		return nil, err
	}
	gf, lf, not := ge.Eval, le.Eval, n.Not
	return &Expr{Type: types.BooleanType, Eval: func(r *Rec) (any, error) {
		a, err := gf(r)
		if err != nil {
			return nil, err
		}
		b, err := lf(r)
		if err != nil {
			return nil, err
		}
		if a == nil || b == nil {
			return nil, nil
		}
		return (a.(bool) && b.(bool)) != not, nil
	}}, nil
}

func compileIn(n *ast.InList, s *Scope) (*Expr, error) {
	x, err := Compile(n.X, s)
	if err != nil {
		return nil, err
	}
	// Numeric operands are compared in the type widened by the numeric items, and errors
	// name that type, as ksqlDB does (DECIMAL(4,2) IN (10, ...) compares as DECIMAL(12,2)).
	target := x.Type
	compiled := make([]*Expr, len(n.List))
	for i, e := range n.List {
		it, err := Compile(e, s)
		if err != nil {
			return nil, err
		}
		compiled[i] = it
		if target != nil && target.IsNumeric() && it.Type != nil && it.Type.IsNumeric() {
			if w, werr := types.CommonType(target, it.Type); werr == nil && w != nil {
				target = w
			}
		}
	}
	var items []*Expr
	for i, e := range n.List {
		it, err := coerceToOperand(e, compiled[i], target, s)
		if err != nil {
			return nil, err
		}
		if _, it, err = alignTemporal(x, it, e); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	xf, not := x.Eval, n.Not
	return &Expr{Type: types.BooleanType, Eval: func(r *Rec) (any, error) {
		v, err := xf(r)
		if err != nil || v == nil {
			return nil, err
		}
		sawNull := false
		for _, it := range items {
			w, err := it.Eval(r)
			if err != nil {
				return nil, err
			}
			if w == nil {
				sawNull = true
				continue
			}
			if types.Equal(v, w) {
				return !not, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return not, nil
	}}, nil
}

func compileLike(n *ast.Like, s *Scope) (*Expr, error) {
	x, err := Compile(n.X, s)
	if err != nil {
		return nil, err
	}
	p, err := Compile(n.Pattern, s)
	if err != nil {
		return nil, err
	}
	if x.Type != nil && x.Type.Kind != types.KindString {
		return nil, errAt(n, "The column type for Like condition must be VARCHAR. The column type is %s", x.Type)
	}
	var esc rune
	if n.Escape != nil {
		lit, ok := n.Escape.(*ast.StringLit)
		if !ok || len([]rune(lit.Val)) != 1 {
			return nil, errAt(n.Escape, "ESCAPE must be a single character")
		}
		esc = []rune(lit.Val)[0]
	}
	xf, pf, not := x.Eval, p.Eval, n.Not
	var fixed *regexp.Regexp
	if p.Const && p.ConstVal != nil {
		fixed = likeRegexp(p.ConstVal.(string), esc)
	}
	return &Expr{Type: types.BooleanType, Eval: func(r *Rec) (any, error) {
		v, err := xf(r)
		if err != nil || v == nil {
			return nil, err
		}
		re := fixed
		if re == nil {
			pv, err := pf(r)
			if err != nil || pv == nil {
				return nil, err
			}
			re = likeRegexp(pv.(string), esc)
		}
		return re.MatchString(v.(string)) != not, nil
	}}, nil
}

func likeRegexp(pattern string, esc rune) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("(?s)^")
	escaped := false
	for _, c := range pattern {
		switch {
		case escaped:
			sb.WriteString(regexp.QuoteMeta(string(c)))
			escaped = false
		case esc != 0 && c == esc:
			escaped = true
		case c == '%':
			sb.WriteString(".*")
		case c == '_':
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}

func compileCase(n *ast.Case, s *Scope) (*Expr, error) {
	var operand *Expr
	var err error
	if n.Operand != nil {
		if operand, err = Compile(n.Operand, s); err != nil {
			return nil, err
		}
	}
	conds := make([]*Expr, len(n.Whens))
	results := make([]*Expr, len(n.Whens))
	var resTypes []*types.Type
	for i, w := range n.Whens {
		c, err := Compile(w.Cond, s)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = compareExprs(w.Cond, "=", operand, c); err != nil {
				return nil, err
			}
		} else if c.Type != nil && c.Type.Kind != types.KindBoolean {
			return nil, errAt(w.Cond, "WHEN operand type should be boolean.\nType for '%s' is %s", Text(w.Cond), c.Type)
		}
		conds[i] = c
		if results[i], err = Compile(w.Result, s); err != nil {
			return nil, err
		}
		resTypes = append(resTypes, results[i].Type)
	}
	var elseE *Expr
	if n.Else != nil {
		if elseE, err = Compile(n.Else, s); err != nil {
			return nil, err
		}
		resTypes = append(resTypes, elseE.Type)
	}
	rt, err := types.CommonType(resTypes...)
	if err != nil {
		return nil, errAt(n, "Invalid Case expression. Type for all 'THEN' clauses should be the same.\n%s", err.Error())
	}
	if rt == nil {
		return nil, errAt(n, "Invalid Case expression. All case branches have NULL type")
	}
	for i := range results {
		if rt != nil {
			if results[i], err = castTo(results[i], rt, n.Whens[i].Result); err != nil {
				return nil, err
			}
		}
	}
	if elseE != nil && rt != nil {
		if elseE, err = castTo(elseE, rt, n.Else); err != nil {
			return nil, err
		}
	}
	return &Expr{Type: rt, Eval: func(r *Rec) (any, error) {
		for i, c := range conds {
			v, err := c.Eval(r)
			if err != nil {
				return nil, err
			}
			if v == true {
				return results[i].Eval(r)
			}
		}
		if elseE != nil {
			return elseE.Eval(r)
		}
		return nil, nil
	}}, nil
}

func compileCast(n *ast.Cast, s *Scope) (*Expr, error) {
	x, err := Compile(n.X, s)
	if err != nil {
		return nil, err
	}
	if x.Type == nil {
		return constExpr(n.To, nil), nil
	}
	if !types.CanCast(x.Type, n.To) {
		return nil, errAt(n, "Cast of %s to %s is not supported", x.Type, n.To)
	}
	return castTo(x, n.To, n)
}

func compileArray(n *ast.ArrayCtor, s *Scope) (*Expr, error) {
	elems := make([]*Expr, len(n.Elems))
	var ts []*types.Type
	for i, e := range n.Elems {
		x, err := Compile(e, s)
		if err != nil {
			return nil, err
		}
		elems[i] = x
		ts = append(ts, x.Type)
	}
	et, err := types.CommonType(ts...)
	if err != nil {
		if elems, et, err = coerceToFirst(n.Elems, elems, s); err != nil {
			return nil, err
		}
		if et == nil {
			return nil, errAt(n, "invalid input syntax for type %s: array elements have incompatible types", typeName(ts[0]))
		}
	}
	if et == nil {
		if len(n.Elems) == 0 {
			return nil, errAt(n, "Array constructor cannot be empty. Please supply at least one element (which can be NULL).")
		}
		et = types.StringType
	}
	for i := range elems {
		if elems[i], err = castTo(elems[i], et, n.Elems[i]); err != nil {
			return nil, err
		}
	}
	return arrayOf(types.ArrayOf(et), elems), nil
}

// arrayOf, mapOf and structOf build constructor expressions from compiled parts. An element
// whose evaluation fails becomes NULL, as in ksqlDB, rather than failing the whole value.
func arrayOf(t *types.Type, elems []*Expr) *Expr {
	return &Expr{Type: t, Eval: func(r *Rec) (any, error) {
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := e.Eval(r)
			if err != nil {
				v = nil
			}
			out[i] = v
		}
		return out, nil
	}}
}

func mapOf(t *types.Type, keys, vals []*Expr) *Expr {
	return &Expr{Type: t, Eval: func(r *Rec) (any, error) {
		m := &types.Map{}
		for i := range keys {
			k, err := keys[i].Eval(r)
			if err != nil {
				k = nil
			}
			v, err := vals[i].Eval(r)
			if err != nil {
				v = nil
			}
			m.Put(k, v)
		}
		return m, nil
	}}
}

func structOf(t *types.Type, names []string, fields []*Expr) *Expr {
	return &Expr{Type: t, Eval: func(r *Rec) (any, error) {
		out := &types.Struct{Names: names, Vals: make([]any, len(fields))}
		for i, f := range fields {
			v, err := f.Eval(r)
			if err != nil {
				v = nil
			}
			out.Vals[i] = v
		}
		return out, nil
	}}
}

func compileMap(n *ast.MapCtor, s *Scope) (*Expr, error) {
	keys := make([]*Expr, len(n.Keys))
	vals := make([]*Expr, len(n.Vals))
	var kts, vts []*types.Type
	for i := range n.Keys {
		k, err := Compile(n.Keys[i], s)
		if err != nil {
			return nil, err
		}
		v, err := Compile(n.Vals[i], s)
		if err != nil {
			return nil, err
		}
		keys[i], vals[i] = k, v
		kts, vts = append(kts, k.Type), append(vts, v.Type)
	}
	if len(n.Keys) == 0 {
		return nil, errAt(n, "Map constructor cannot be empty. Please supply at least one key value pair (see https://github.com/confluentinc/ksql/issues/4239).")
	}
	kt, err := types.CommonType(kts...)
	if err != nil {
		if keys, kt, err = coerceToFirst(n.Keys, keys, s); err != nil {
			return nil, err
		}
		if kt == nil {
			return nil, errAt(n, "invalid map constructor: keys have incompatible types")
		}
	}
	vt, err := types.CommonType(vts...)
	if err != nil {
		if vals, vt, err = coerceToFirst(n.Vals, vals, s); err != nil {
			return nil, err
		}
		if vt == nil {
			return nil, errAt(n, "invalid map constructor: values have incompatible types")
		}
	}
	if kt == nil {
		return nil, errAt(n, "Cannot construct a map with all NULL keys (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL key to the desired type.")
	}
	if vt == nil {
		return nil, errAt(n, "Cannot construct a map with all NULL values (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.")
	}
	for i := range keys {
		if keys[i], err = castTo(keys[i], kt, n.Keys[i]); err != nil {
			return nil, err
		}
		if vals[i], err = castTo(vals[i], vt, n.Vals[i]); err != nil {
			return nil, err
		}
	}
	return mapOf(types.MapOf(kt, vt), keys, vals), nil
}

func compileStruct(n *ast.StructCtor, s *Scope) (*Expr, error) {
	vals := make([]*Expr, len(n.Vals))
	fields := make([]types.Field, len(n.Vals))
	seen := map[string]bool{}
	for _, name := range n.Names {
		if seen[name] {
			return nil, errAt(n, "Duplicate field names found in STRUCT: '%s'", Text(n))
		}
		seen[name] = true
	}
	for i, e := range n.Vals {
		x, err := Compile(e, s)
		if err != nil {
			return nil, err
		}
		t := x.Type
		if t == nil {
			t = types.StringType
		}
		vals[i] = x
		fields[i] = types.Field{Name: n.Names[i], Type: t}
	}
	st := types.StructOf(fields...)
	names := append([]string(nil), n.Names...)
	return structOf(st, names, vals), nil
}

// compileCall resolves a scalar function (aggregates are handled by the planner's Resolve hook;
// reaching one here means it was used where aggregates are not allowed).
func compileCall(n *ast.FuncCall, s *Scope) (*Expr, error) {
	switch n.Name {
	case "TRANSFORM", "FILTER", "REDUCE":
		return compileLambdaCall(n, s)
	}
	f, ok := functions.Lookup(n.Name)
	if !ok {
		return nil, errAt(n, "Can't find any functions with the name '%s'", n.Name)
	}
	switch f.Kind {
	case functions.Aggregate:
		return nil, errAt(n, "Aggregate functions can not be used in this context: %s", Text(n))
	case functions.TableFunc:
		return nil, errAt(n, "Table functions can only be used in the SELECT clause: %s", Text(n))
	}
	args := make([]*Expr, len(n.Args))
	argTypes := make([]*types.Type, len(n.Args))
	for i, a := range n.Args {
		x, err := Compile(a, s)
		if err != nil {
			return nil, err
		}
		args[i] = x
		argTypes[i] = x.Type
	}
	impl, err := f.ResolveScalar(argTypes)
	if err != nil {
		return nil, errAt(n, "%s", err.Error())
	}
	for i := range args {
		if i < len(impl.ArgTypes) && impl.ArgTypes[i] != nil && args[i].Type != nil && !args[i].Type.Equal(impl.ArgTypes[i]) {
			if args[i], err = castTo(args[i], impl.ArgTypes[i], n.Args[i]); err != nil {
				return nil, err
			}
		}
	}
	eval, nullOnNull := impl.Eval, impl.NullOnNull
	return &Expr{Type: impl.Return, Eval: func(r *Rec) (any, error) {
		vals := make([]any, len(args))
		for i, a := range args {
			v, err := a.Eval(r)
			if err != nil {
				return nil, err
			}
			if v == nil && nullOnNull {
				return nil, nil
			}
			vals[i] = v
		}
		return eval(vals)
	}}, nil
}

// Text prints an expression back as SQL for error messages and generated names.
func Text(e ast.Expr) string { return fmt.Sprint(textOf(e)) }
