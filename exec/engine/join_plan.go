package engine

import (
	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
)

// joinPlan is a (possibly n-way) join of the FROM clause.
type joinPlan struct {
	steps []*joinStep
}

// joinStep joins the accumulated left side with one more source.
type joinStep struct {
	typ       ast.JoinType
	within    *ast.Within
	leftKey   *eval.Expr
	rightKey  *eval.Expr
	right     *boundSource
	leftWidth int
	// keyName is the result key column name (join column or synthetic ROWKEY).
	keyName string
	kind    string // "SS" stream-stream, "ST" stream-table, "TT" table-table, "FK"
}

func (j *joinPlan) starName(c eval.Col) string {
	return c.Qualifier + "_" + c.Name
}

func (e *Engine) bindJoin(p *queryPlan, j *ast.Join) error {
	return errf("Joins are not supported yet.")
}

func (e *Engine) joinKey(p *queryPlan, persistent bool) error {
	return errf("Joins are not supported yet.")
}
