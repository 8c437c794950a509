package engine

import (
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
)

// partitionPlan is PARTITION BY: new key expressions, evaluated before the projection. The
// re-keyed row layout is [new keys..., old value columns not promoted..., old keys...].
type partitionPlan struct {
	exprs    []*eval.Expr
	keyNames []string
	exprKeys []string // eval.Key of each PARTITION BY expression
	outCols  []eval.Col
	// take[i] is the index in the input layout of output column len(exprs)+i.
	take []int
	null bool // PARTITION BY NULL: keyless result
	// pseudo[i]: expression i reads a pseudo column (ROWTIME, ...). ksqlDB carries those in
	// the record value, so for a tombstone they are NULL.
	pseudo []bool
}

func (e *Engine) planPartition(p *queryPlan, in *eval.Scope, names []string) error {
	if p.tableSource {
		return errf("Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	pp := &partitionPlan{}
	promoted := map[int]bool{}
	gen := 0
	if len(p.q.PartitionBy) == 0 {
		return errf("PARTITION BY requires at least one expression")
	}
	for _, pe := range p.q.PartitionBy {
		if _, isNull := pe.(*ast.NullLit); isNull && len(p.q.PartitionBy) > 1 {
			return errf("Cannot PARTITION BY multiple columns including NULL")
		}
	}
	for _, pe := range p.q.PartitionBy {
		if _, ok := pe.(*ast.NullLit); ok && len(p.q.PartitionBy) == 1 {
			pp.null = true
			break
		}
		if err := checkNoWindowBounds(pe); err != nil {
			return err
		}
		x, err := eval.Compile(pe, in)
		if err != nil {
			return wrapExprErr("PARTITION BY", err)
		}
		name, qualifier := "", ""
		switch r := pe.(type) {
		case *ast.ColumnRef:
			name = r.Name
			for i, c := range in.Cols {
				if c.Name == r.Name && (r.Qualifier == "" || r.Qualifier == c.Qualifier) {
					promoted[i] = true
					// The key keeps its source's qualifier: in a join, R.K must not
					// resolve to the new key L.K.
					qualifier = c.Qualifier
					break
				}
			}
		case *ast.Dereference:
			name = r.Field
		default:
			// An aliased projection of the same expression names the key.
			k := eval.Key(pe)
			for i, it := range p.q.Select {
				if !it.Star && it.Expr != nil && eval.Key(it.Expr) == k {
					name = names[i]
					break
				}
			}
			if name == "" {
				name = fmt.Sprintf("KSQL_COL_%d", gen)
				gen++
			}
		}
		pp.exprs = append(pp.exprs, x)
		pp.pseudo = append(pp.pseudo, readsPseudo(pe))
		pp.keyNames = append(pp.keyNames, name)
		pp.exprKeys = append(pp.exprKeys, eval.Key(pe))
		pp.outCols = append(pp.outCols, eval.Col{Qualifier: qualifier, Name: name, Type: orStringType(x.Type)})
	}
	take := func(i int) {
		if !promoted[i] {
			pp.take = append(pp.take, i)
			pp.outCols = append(pp.outCols, eval.Col{Qualifier: in.Cols[i].Qualifier, Name: in.Cols[i].Name, Type: in.Cols[i].Type})
		}
	}
	if p.join != nil {
		// Each source's values, then its pseudo columns, then its old keys, as ksqlDB lays out
		// a joined row it re-keys; the join's key slot last.
		for si, bs := range p.sources {
			nk := len(bs.src.keyCols())
			for i := bs.offset + nk; i < bs.offset+bs.ncols; i++ {
				take(i)
			}
			for _, ps := range p.join.pseudo {
				if ps.src == si {
					take(ps.idx)
				}
			}
			for i := bs.offset; i < bs.offset+nk; i++ {
				take(i)
			}
		}
		take(p.join.keySlot)
		p.partition = pp
		return nil
	}
	nkeys := len(p.sources[0].src.keyCols())
	// value columns (not promoted) then old key columns
	for i := nkeys; i < len(in.Cols); i++ {
		take(i)
	}
	for i := 0; i < nkeys; i++ {
		take(i)
	}
	p.partition = pp
	return nil
}

// scope is the layout after re-keying; a projection that repeats a PARTITION BY expression
// refers to the new key column.
func (pp *partitionPlan) scope(props map[string]string) *eval.Scope {
	return &eval.Scope{Cols: pp.outCols, Pseudo: true, Config: props, Resolve: func(x ast.Expr) (*eval.Expr, bool, error) {
		if _, isCol := x.(*ast.ColumnRef); isCol {
			return nil, false, nil
		}
		k := eval.Key(x)
		for i, ek := range pp.exprKeys {
			if ek == k {
				idx, t := i, pp.outCols[i].Type
				return &eval.Expr{Type: t, Eval: func(r *eval.Rec) (any, error) { return r.Vals[idx], nil }}, true, nil
			}
		}
		return nil, false, nil
	}}
}

// readsPseudo reports whether e references a pseudo column.
func readsPseudo(e ast.Expr) bool {
	found := false
	walkExpr(e, func(x ast.Expr) {
		if c, ok := x.(*ast.ColumnRef); ok && eval.IsPseudo(c.Name) {
			found = true
		}
	})
	return found
}

// rekey applies the partition plan to one row; tomb says the row is a tombstone.
func (pp *partitionPlan) rekey(r *eval.Rec, tomb bool) (*eval.Rec, error) {
	out := *r
	out.Vals = make([]any, 0, len(pp.outCols))
	for i, x := range pp.exprs {
		v, err := x.Eval(r)
		if err != nil || tomb && i < len(pp.pseudo) && pp.pseudo[i] {
			v = nil
		}
		out.Vals = append(out.Vals, v)
	}
	for _, i := range pp.take {
		out.Vals = append(out.Vals, r.Vals[i])
	}
	return &out, nil
}
