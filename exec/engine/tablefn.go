package engine

import (
	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
)

// tableFnCall is a table function in a SELECT list (EXPLODE, CUBE_EXPLODE).
type tableFnCall struct {
	args []*eval.Expr
	impl *functions.TableImpl
}

func compileTableFn(fc *ast.FuncCall, f *functions.Function, s *eval.Scope) (*tableFnCall, error) {
	tf := &tableFnCall{}
	var ts []*types.Type
	for _, a := range fc.Args {
		x, err := eval.Compile(a, s)
		if err != nil {
			return nil, wrapExprErr("SELECT", err)
		}
		tf.args = append(tf.args, x)
		ts = append(ts, x.Type)
	}
	impl, err := f.ResolveTable(ts)
	if err != nil {
		return nil, errf("%s", err.Error())
	}
	tf.impl = impl
	return tf, nil
}

// tableFnIn finds the table function call of a SELECT item: the item itself or the first one
// inside it, as in EXPLODE(ARR)->F1. Nil when there is none.
func tableFnIn(x ast.Expr) (*ast.FuncCall, *functions.Function) {
	var fc *ast.FuncCall
	var fn *functions.Function
	walkExpr(x, func(e ast.Expr) {
		if c, ok := e.(*ast.FuncCall); ok && fc == nil {
			if f, ok := functions.Lookup(c.Name); ok && f.Kind == functions.TableFunc {
				fc, fn = c, f
			}
		}
	})
	return fc, fn
}

// compileTableFnItem compiles a SELECT item holding a table function. When the call is inside
// an expression, post computes the item from each generated value, which the caller stores in
// *cur before evaluating post.
func compileTableFnItem(x ast.Expr, fc *ast.FuncCall, f *functions.Function, s *eval.Scope) (tf *tableFnCall, post *eval.Expr, cur *any, err error) {
	if tf, err = compileTableFn(fc, f, s); err != nil {
		return nil, nil, nil, err
	}
	if x == ast.Expr(fc) {
		return tf, nil, nil, nil
	}
	cur = new(any)
	key := eval.Key(fc)
	inner := *s
	outer := s.Resolve
	inner.Resolve = func(e ast.Expr) (*eval.Expr, bool, error) {
		if c, ok := e.(*ast.FuncCall); ok && eval.Key(c) == key {
			return &eval.Expr{Type: tf.impl.Return, Eval: func(*eval.Rec) (any, error) { return *cur, nil }}, true, nil
		}
		if outer != nil {
			return outer(e)
		}
		return nil, false, nil
	}
	if post, err = eval.Compile(x, &inner); err != nil {
		return nil, nil, nil, wrapExprErr("SELECT", err)
	}
	return tf, post, cur, nil
}

func (tf *tableFnCall) eval(r *eval.Rec) ([]any, error) {
	args := make([]any, len(tf.args))
	for i, a := range tf.args {
		v, err := a.Eval(r)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return tf.impl.Eval(args)
}
