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
