package engine

import (
	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// pullKeys returns the encoded record keys a pull query's WHERE pins down (see
// pullKeyValues), or ok=false when the query must scan.
func pullKeys(where ast.Expr, src *source) (keys [][]byte, ok bool) {
	vals, ok := pullKeyValues(where, src)
	if !ok {
		return nil, false
	}
	kc, _, err := src.codecs()
	if err != nil {
		return nil, false
	}
	for _, v := range vals {
		b, err := kc.Encode([]any{v})
		if err != nil {
			return nil, false
		}
		keys = append(keys, b)
	}
	return keys, true
}

// pullKeyValues finds the key values a pull query's WHERE pins down: `k = literal` or
// `k IN (literals)` as a conjunct, for a source with one key column, converted to the key's
// type.
func pullKeyValues(where ast.Expr, src *source) (vals []any, ok bool) {
	kcols := src.keyCols()
	if where == nil || len(kcols) != 1 {
		return nil, false
	}
	key := kcols[0]
	var lits []ast.Expr
	var visit func(e ast.Expr) bool
	visit = func(e ast.Expr) bool {
		switch n := e.(type) {
		case *ast.BinaryOp:
			if n.Op == "AND" {
				return visit(n.L) || visit(n.R)
			}
			if n.Op != "=" {
				return false
			}
			if isKeyRef(n.L, key.Name) && isLiteral(n.R) {
				lits = []ast.Expr{n.R}
				return true
			}
			if isKeyRef(n.R, key.Name) && isLiteral(n.L) {
				lits = []ast.Expr{n.L}
				return true
			}
		case *ast.InList:
			if n.Not || !isKeyRef(n.X, key.Name) {
				return false
			}
			for _, x := range n.List {
				if !isLiteral(x) {
					return false
				}
			}
			lits = n.List
			return true
		}
		return false
	}
	if !visit(where) {
		return nil, false
	}
	for _, l := range lits {
		x, err := eval.Compile(l, &eval.Scope{})
		if err != nil || x.Type == nil {
			return nil, false
		}
		v, err := x.Eval(&eval.Rec{})
		if err != nil || v == nil {
			return nil, false
		}
		if !x.Type.Equal(key.Type) {
			if !types.CanCast(x.Type, key.Type) {
				return nil, false
			}
			if v, err = types.Cast(v, x.Type, key.Type); err != nil {
				return nil, false
			}
		}
		vals = append(vals, v)
	}
	return vals, true
}

func isKeyRef(e ast.Expr, name string) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == name
}

func isLiteral(e ast.Expr) bool {
	switch e.(type) {
	case *ast.IntLit, *ast.StringLit, *ast.DecimalLit, *ast.DoubleLit, *ast.BoolLit:
		return true
	}
	return false
}

// windowedKeyRange is the store key range holding every window of one record key.
func windowedKeyRange(key []byte, session bool) ([]byte, []byte) {
	n := 8
	if session {
		n = 16
	}
	to := append(append([]byte(nil), key...), make([]byte, n+1)...)
	for i := len(key); i < len(to); i++ {
		to[i] = 0xff
	}
	return key, to
}

var _ = serde.WindowedKey
