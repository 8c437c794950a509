package engine

import (
	"errors"
	"fmt"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/parse"
	"github.com/sluicedb/sluice/sql/plan"
)

// buildQuery turns an execution plan into a runnable queryPlan. It reads only the document:
// sources come from their snapshots and expressions compile against the recorded layouts,
// so nothing in the catalog (an altered or replaced source, a dropped type) and no planning
// rule of this release can change what a persisted query computes. It returns the sink the
// query writes as recorded in the plan.
func buildQuery(doc *plan.Query) (*queryPlan, *source, error) {
	sink, err := sourceFromDoc(doc.Sink)
	if err != nil {
		return nil, nil, err
	}
	root, ok := doc.Root.(*plan.SinkStep)
	if !ok || root == nil {
		return nil, nil, fmt.Errorf("plan %s: the root step is %s, want %s", doc.ID, stepType(doc.Root), plan.TypeSink)
	}
	props := doc.Config
	if props == nil {
		props = map[string]string{}
	}
	b := &planBuilder{p: &queryPlan{
		q: &ast.Query{Limit: -1}, sinkName: sink.Name, cfg: functions.Config(props), persistent: doc.Kind != "CST",
	}, props: props}
	if err := b.sink(root); err != nil {
		return nil, nil, fmt.Errorf("plan %s: %w", doc.ID, err)
	}
	return b.p, sink, nil
}

func stepType(s plan.Step) string {
	if s == nil {
		return "nothing"
	}
	return s.StepType()
}

type planBuilder struct {
	p     *queryPlan
	props map[string]string
}

func (b *planBuilder) expr(text string, scope *eval.Scope) (ast.Expr, *eval.Expr, error) {
	x, err := parse.ParseExpr(text)
	if err != nil {
		return nil, nil, fmt.Errorf("expression %q: %w", text, err)
	}
	c, err := eval.Compile(x, scope)
	if err != nil {
		return nil, nil, fmt.Errorf("expression %q: %w", text, err)
	}
	return x, c, nil
}

// input builds the steps below a select and returns the scope its expressions see.
func (b *planBuilder) input(s plan.Step) (*eval.Scope, error) {
	p := b.p
	switch st := s.(type) {
	case *plan.SourceStep:
		src, err := sourceFromDoc(st.Source)
		if err != nil {
			return nil, err
		}
		p.sources = []*boundSource{{src: src, alias: st.Alias, ncols: len(src.Schema.Columns)}}
		for _, c := range src.Schema.Columns {
			p.inCols = append(p.inCols, eval.Col{Qualifier: st.Alias, Name: c.Name, Type: c.Type})
		}
		p.tableSource = src.Kind == ast.Table
		p.windowedSource = src.windowed()
		return &eval.Scope{Cols: p.inCols, Pseudo: true, Windowed: p.windowedSource, Config: b.props}, nil
	case *plan.JoinStep:
		if err := b.join(st); err != nil {
			return nil, err
		}
		return &eval.Scope{Cols: p.inCols, Pseudo: true, Config: b.props}, nil
	case *plan.FilterStep:
		scope, err := b.input(st.Input)
		if err != nil {
			return nil, err
		}
		x, c, err := b.expr(st.Condition, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", plan.TypeFilter, err)
		}
		p.q.Where, p.where = x, c
		return scope, nil
	case *plan.PartitionByStep:
		scope, err := b.input(st.Input)
		if err != nil {
			return nil, err
		}
		pp := &partitionPlan{null: st.Null, take: st.Take}
		if pp.outCols, err = layoutFromDoc(st.Layout); err != nil {
			return nil, err
		}
		if err := checkSlots(plan.TypePartitionBy, st.Take, len(scope.Cols)); err != nil {
			return nil, err
		}
		if len(st.Keys)+len(st.Take) != len(pp.outCols) {
			return nil, fmt.Errorf("%s: %d keys and %d taken columns for a layout of %d", plan.TypePartitionBy, len(st.Keys), len(st.Take), len(pp.outCols))
		}
		for _, k := range st.Keys {
			x, c, err := b.expr(k.Expr, scope)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", plan.TypePartitionBy, err)
			}
			p.q.PartitionBy = append(p.q.PartitionBy, x)
			pp.exprs = append(pp.exprs, c)
			pp.pseudo = append(pp.pseudo, readsPseudo(x))
			pp.keyNames = append(pp.keyNames, k.Name)
			pp.exprKeys = append(pp.exprKeys, eval.Key(x))
		}
		if pp.null {
			p.q.PartitionBy = []ast.Expr{&ast.NullLit{}}
		}
		p.partition = pp
		return pp.scope(b.props), nil
	case *plan.AggregateStep:
		return b.aggregate(st)
	}
	return nil, fmt.Errorf("step %s cannot feed a select", stepType(s))
}

func (b *planBuilder) join(st *plan.JoinStep) error {
	p := b.p
	layout, err := layoutFromDoc(st.Layout)
	if err != nil {
		return err
	}
	if st.KeySlot < 0 || st.KeySlot >= len(layout) {
		return fmt.Errorf("%s: key slot %d outside a layout of %d", plan.TypeJoin, st.KeySlot, len(layout))
	}
	offset := 0
	for _, ss := range st.Sources {
		src, err := sourceFromDoc(ss.Source)
		if err != nil {
			return err
		}
		p.sources = append(p.sources, &boundSource{src: src, alias: ss.Alias, offset: offset, ncols: len(src.Schema.Columns)})
		offset += len(src.Schema.Columns)
	}
	jp := &joinPlan{width: len(layout), keySlot: st.KeySlot, synthetic: st.SyntheticKey, table: st.Table}
	if jp.keyType, err = typeFromDoc(st.KeyType); err != nil {
		return err
	}
	for _, ps := range st.Pseudo {
		if ps.Slot < 0 || ps.Slot >= len(layout) || ps.Source < 0 || ps.Source >= len(p.sources) {
			return fmt.Errorf("%s: pseudo column slot %d of source %d is outside the layout", plan.TypeJoin, ps.Slot, ps.Source)
		}
		jp.pseudo = append(jp.pseudo, pseudoSlot{src: ps.Source, name: ps.Name, idx: ps.Slot})
	}
	// Join expressions were compiled before the key slot existed.
	scope := &eval.Scope{Cols: layout[:st.KeySlot], Pseudo: true, Config: b.props}
	for i, c := range st.Clauses {
		if c.Right <= 0 || c.Right >= len(p.sources) {
			return fmt.Errorf("%s: clause %d joins source %d of %d", plan.TypeJoin, i, c.Right, len(p.sources))
		}
		js := &joinStep{kind: c.Kind, rightIdx: c.Right, right: p.sources[c.Right], leftTable: c.LeftTable, rightTable: c.RightTable,
			windowed: c.Windowed, leftSlots: c.LeftSlots, rightSlots: c.RightSlots, leftRef: colIDFromDoc(c.LeftRef), rightRef: colIDFromDoc(c.RightRef)}
		if err := checkSlots(plan.TypeJoin, append(append([]int{}, c.LeftSlots...), c.RightSlots...), len(layout)); err != nil {
			return err
		}
		for _, ref := range []*colID{js.leftRef, js.rightRef} {
			if ref != nil && (ref.src < 0 || ref.src >= len(p.sources)) {
				return fmt.Errorf("%s: column reference to source %d of %d", plan.TypeJoin, ref.src, len(p.sources))
			}
		}
		switch c.Kind {
		case joinSS, joinST, joinTT, joinFK:
		default:
			return fmt.Errorf("%s: unknown join kind %q", plan.TypeJoin, c.Kind)
		}
		if js.typ, err = joinTypeFromDoc(c.Type); err != nil {
			return err
		}
		if w := c.Within; w != nil {
			js.within = &ast.Within{BeforeMs: w.BeforeMs, AfterMs: w.AfterMs, GraceMs: w.GraceMs}
		}
		if js.keyType, err = typeFromDoc(c.KeyType); err != nil {
			return err
		}
		if js.leftAst, js.leftKey, err = b.expr(c.LeftKey, scope); err != nil {
			return fmt.Errorf("%s: %w", plan.TypeJoin, err)
		}
		if js.rightAst, js.rightKey, err = b.expr(c.RightKey, scope); err != nil {
			return fmt.Errorf("%s: %w", plan.TypeJoin, err)
		}
		// The plan names the source of the left side only when it is a bare column; the
		// layout decisions (which task can route a record) need it for any expression.
		if lsrc := p.onlySource(p.sourcesOf(js.leftAst), nil, c.Right); lsrc >= 0 {
			js.leftSrc = lsrc
		}
		jp.steps = append(jp.steps, js)
	}
	if len(jp.steps) == 0 {
		return fmt.Errorf("%s: no join clauses", plan.TypeJoin)
	}
	p.inCols = layout
	p.join = jp
	p.tableSource = jp.table
	return nil
}

// checkSlots rejects layout indices outside a row of width n: a damaged plan must fail to
// build, not index out of range while running.
func checkSlots(step string, slots []int, n int) error {
	for _, i := range slots {
		if i < 0 || i >= n {
			return fmt.Errorf("%s: slot %d outside a row of %d columns", step, i, n)
		}
	}
	return nil
}

func colIDFromDoc(c *plan.ColumnID) *colID {
	if c == nil {
		return nil
	}
	return &colID{src: c.Source, name: c.Name}
}

func joinTypeFromDoc(t string) (ast.JoinType, error) {
	for _, j := range []ast.JoinType{ast.InnerJoin, ast.LeftJoin, ast.RightJoin, ast.FullJoin} {
		if j.String() == t {
			return j, nil
		}
	}
	return 0, fmt.Errorf("%s: unknown join type %q", plan.TypeJoin, t)
}

// aggregate builds GROUP BY and returns the aggregated scope SELECT and HAVING compile in.
func (b *planBuilder) aggregate(st *plan.AggregateStep) (*eval.Scope, error) {
	p := b.p
	in, err := b.input(st.Input)
	if err != nil {
		return nil, err
	}
	a := &aggPlan{}
	if w := st.Window; w != nil {
		wt, err := windowTypeFromDoc(w.Type)
		if err != nil {
			return nil, err
		}
		a.window = &ast.Window{Type: wt, SizeMs: w.SizeMs, AdvanceMs: w.AdvanceMs, RetentionMs: w.RetentionMs, GraceMs: w.GraceMs}
	}
	for _, g := range st.GroupBy {
		x, c, err := b.expr(g, in)
		if err != nil {
			return nil, fmt.Errorf("%s: GROUP BY %w", plan.TypeAggregate, err)
		}
		p.q.GroupBy = append(p.q.GroupBy, x)
		a.groups = append(a.groups, c)
		a.groupKeys = append(a.groupKeys, eval.Key(x))
		a.keyTypes = append(a.keyTypes, orStringType(c.Type))
	}
	for _, text := range st.Aggregates {
		x, err := parse.ParseExpr(text)
		if err != nil {
			return nil, fmt.Errorf("%s: aggregate %q: %w", plan.TypeAggregate, text, err)
		}
		fc, ok := isAggregateCall(x)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not an aggregate call", plan.TypeAggregate, text)
		}
		c, err := bindAggCall(fc, in, b.props)
		if err != nil {
			return nil, fmt.Errorf("%s: aggregate %q: %w", plan.TypeAggregate, text, err)
		}
		c.key = eval.Key(fc)
		a.calls = append(a.calls, c)
	}
	if len(a.calls) == 0 {
		return nil, fmt.Errorf("%s: no aggregates", plan.TypeAggregate)
	}
	p.agg, p.window, p.emitFinal = a, a.window, st.EmitFinal
	p.q.Window = a.window
	if st.EmitFinal {
		p.q.Emit = ast.EmitFinal
	}
	var nonAgg []string
	out := aggregatedScope(a, a.window != nil, b.props, in, func(name string) { nonAgg = append(nonAgg, name) })
	if st.Having != "" {
		x, c, err := b.expr(st.Having, out)
		if err != nil {
			return nil, fmt.Errorf("%s: HAVING %w", plan.TypeAggregate, err)
		}
		p.q.Having, a.having = x, c
	}
	if len(nonAgg) > 0 {
		return nil, fmt.Errorf("%s: HAVING references %v outside the aggregated row", plan.TypeAggregate, nonAgg)
	}
	return out, nil
}

// sink builds the select below the sink and checks that it still produces the recorded
// schema: a plan that no longer type-checks the same way must not run with another meaning.
func (b *planBuilder) sink(root *plan.SinkStep) error {
	p := b.p
	sel, ok := root.Input.(*plan.SelectStep)
	if !ok {
		return fmt.Errorf("%s must read a %s, not %s", plan.TypeSink, plan.TypeSelect, stepType(root.Input))
	}
	scope, err := b.input(sel.Input)
	if err != nil {
		return err
	}
	for _, it := range sel.Items {
		x, err := parse.ParseExpr(it.Expr)
		if err != nil {
			return fmt.Errorf("%s: column %s: %w", plan.TypeSelect, it.Name, err)
		}
		item := projItem{name: it.Name, ast: x, joinKey: it.JoinKey}
		if it.TableFunction {
			fc, f := tableFnIn(x)
			if fc == nil {
				return fmt.Errorf("%s: column %s: %q holds no table function call", plan.TypeSelect, it.Name, it.Expr)
			}
			if item.tableFn, item.tableFnPost, item.tableFnCur, err = compileTableFnItem(x, fc, f, scope); err != nil {
				return fmt.Errorf("%s: column %s: %w", plan.TypeSelect, it.Name, err)
			}
			p.hasTableFns = true
		} else {
			if item.expr, err = eval.Compile(x, scope); err != nil {
				return fmt.Errorf("%s: column %s: %w", plan.TypeSelect, it.Name, err)
			}
			if it.JoinKey {
				if p.join == nil {
					return fmt.Errorf("%s: column %s reads a join key without a join", plan.TypeSelect, it.Name)
				}
				slot, typ := p.join.keySlot, item.expr.Type
				item.expr = &eval.Expr{Type: typ, Eval: func(r *eval.Rec) (any, error) { return r.Vals[slot], nil }}
			}
		}
		p.proj = append(p.proj, item)
	}
	for _, k := range sel.KeyOrder {
		if k < 0 || k >= len(p.proj) {
			return fmt.Errorf("%s: key column %d of %d", plan.TypeSelect, k, len(p.proj))
		}
		p.proj[k].isKey = true
	}
	p.keyIdx = append([]int{}, sel.KeyOrder...)
	if p.outKind, err = kindFromDoc(root.Kind); err != nil {
		return err
	}
	cols, err := columnsFromDoc(root.Schema)
	if err != nil {
		return err
	}
	if err := p.finishSchema(false); err != nil {
		return err
	}
	if !sameColumns(p.outSchema.Columns, cols) {
		return fmt.Errorf("%w: recorded %v, builds %v", errSchemaDrift, columnsDoc(cols), columnsDoc(p.outSchema.Columns))
	}
	return nil
}

var errSchemaDrift = errors.New("the plan no longer produces its recorded schema")
