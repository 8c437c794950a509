package engine

import (
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
)

// statementText prints a planned CREATE ... AS SELECT the way ksqlDB quotes a statement in
// some errors ("Statement: CREATE TABLE OUTPUT AS SELECT\n  TEST.F2 F2, ..."): every column
// qualified, every item aliased with its output name, the FROM source with its alias, and the
// EMIT CHANGES it implies. It qualifies the query's expressions in place, so call it only on
// a statement that is failing.
func statementText(n *ast.CreateAsSelect, p *queryPlan) string {
	var sb strings.Builder
	sb.WriteString("CREATE " + n.Kind.String() + " " + n.Name)
	if len(n.With) > 0 {
		var ps []string
		for _, pr := range n.With {
			ps = append(ps, pr.Key+"="+eval.Text(pr.Value))
		}
		sb.WriteString(" WITH (" + strings.Join(ps, ", ") + ")")
	}
	sb.WriteString(" AS SELECT\n")
	last := len(p.sources) - 1
	var items []string
	for _, it := range p.proj {
		p.qualifyRefs(it.ast, last)
		items = append(items, "  "+eval.Text(it.ast)+" "+it.name)
	}
	sb.WriteString(strings.Join(items, ",\n"))
	if p.join == nil {
		bs := p.sources[0]
		sb.WriteString("\nFROM " + bs.src.Name + " " + bs.alias)
	}
	if p.q.Where != nil {
		p.qualifyRefs(p.q.Where, last)
		sb.WriteString("\nWHERE " + eval.Text(p.q.Where))
	}
	if len(p.q.GroupBy) > 0 {
		var gs []string
		for _, g := range p.q.GroupBy {
			p.qualifyRefs(g, last)
			gs = append(gs, eval.Text(g))
		}
		sb.WriteString("\nGROUP BY " + strings.Join(gs, ", "))
	}
	if p.q.Having != nil {
		p.qualifyRefs(p.q.Having, last)
		sb.WriteString("\nHAVING " + eval.Text(p.q.Having))
	}
	sb.WriteString("\nEMIT CHANGES")
	return sb.String()
}
