package engine

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
)

// aggCall is one distinct aggregate call of a query.
type aggCall struct {
	key  string
	call *ast.FuncCall
	args []*eval.Expr
	impl *functions.AggregateImpl
}

// aggPlan is GROUP BY [WINDOW] with its aggregates and HAVING. The aggregated row layout is
// [group values..., aggregate results...].
type aggPlan struct {
	groups    []*eval.Expr
	groupKeys []string // eval.Key of each GROUP BY expression
	calls     []*aggCall
	having    *eval.Expr
	window    *ast.Window
	keyTypes  []*types.Type
}

func (a *aggPlan) width() int { return len(a.groups) + len(a.calls) }

// planAggregate plans GROUP BY: compiles grouping expressions and aggregate arguments in the
// input scope, then the projection and HAVING in the aggregated scope.
func (e *Engine) planAggregate(p *queryPlan, in *eval.Scope, names []string, props map[string]string) error {
	q := p.q
	a := &aggPlan{window: q.Window}
	// A windowed aggregation of a join has no window bounds to select, as in ksqlDB (its
	// joined schema has no WINDOWSTART column to resolve them against); a bound qualified with
	// a windowed source is that source's column and is checked with the join.
	if q.Window != nil && p.join != nil {
		for _, it := range q.Select {
			var bad *ast.ColumnRef
			walkExpr(it.Expr, func(x ast.Expr) {
				if c, ok := x.(*ast.ColumnRef); ok && bad == nil && c.Qualifier == "" && (c.Name == eval.WindowStart || c.Name == eval.WindowEnd) {
					bad = c
				}
			})
			if bad != nil {
				return errAtf(bad, "SELECT column '%s' cannot be resolved.", bad.Name)
			}
		}
	}
	// Without a window, window bounds in the projection are just reserved names.
	if q.Window == nil && !p.windowedSource {
		for _, it := range q.Select {
			if b := windowBoundIn(it.Expr); b != "" {
				return errf("Reserved column name in select: `%s`. Please remove or alias the column.", b)
			}
		}
	}
	for _, g := range q.GroupBy {
		var aggName string
		walkExpr(g, func(x ast.Expr) {
			if fc, ok := isAggregateCall(x); ok && aggName == "" {
				aggName = fc.Name
			}
		})
		if aggName != "" {
			return errf("GROUP BY does not support aggregate functions: %s is an aggregate function.", aggName)
		}
		if err := checkNoWindowBounds(g); err != nil {
			return err
		}
		x, err := eval.Compile(g, in)
		if err != nil {
			return wrapExprErr("GROUP BY", err)
		}
		a.groups = append(a.groups, x)
		a.groupKeys = append(a.groupKeys, eval.Key(g))
		a.keyTypes = append(a.keyTypes, orStringType(x.Type))
	}
	// HAVING sees no window bounds at all; ksqlDB reports those before any inside aggregates.
	if b := windowBoundIn(q.Having); b != "" {
		return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", b)
	}
	if err := checkDuplicateGroups(q.GroupBy, in); err != nil {
		return err
	}
	// Window bounds exist only on the aggregated row, never inside an aggregate's arguments.
	for _, root := range append(selectExprs(q), q.Having) {
		var bad string
		walkExpr(root, func(x ast.Expr) {
			if fc, ok := isAggregateCall(x); ok && bad == "" {
				for _, arg := range fc.Args {
					if b := windowBoundIn(arg); b != "" {
						bad = b
					}
				}
			}
		})
		if bad != "" {
			return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", bad)
		}
	}
	// Collect aggregate calls from SELECT and HAVING.
	collect := func(root ast.Expr) error {
		var err error
		walkExpr(root, func(x ast.Expr) {
			fc, ok := isAggregateCall(x)
			if !ok || err != nil {
				return
			}
			k := eval.Key(fc)
			for _, c := range a.calls {
				if c.key == k {
					return
				}
			}
			for _, arg := range fc.Args {
				nested := ""
				walkExpr(arg, func(y ast.Expr) {
					if _, ok := isAggregateCall(y); ok && nested == "" {
						nested = eval.Text(fc)
					}
				})
				if nested != "" {
					err = errf("Aggregate functions can not be nested: %s", nested)
					return
				}
			}
			c, cerr := bindAggCall(fc, in, props)
			if cerr != nil {
				err = cerr
				return
			}
			c.key = k
			a.calls = append(a.calls, c)
		})
		return err
	}
	for _, it := range q.Select {
		if it.Star {
			continue
		}
		if err := collect(it.Expr); err != nil {
			return err
		}
	}
	if q.Having != nil {
		if err := collect(q.Having); err != nil {
			return err
		}
	}
	if err := checkFunctionsExist(q); err != nil {
		return err
	}
	// Window bounds exist only on the aggregated row of a windowed aggregation.
	for _, c := range a.calls {
		for _, arg := range c.call.Args {
			if b := windowBoundIn(arg); b != "" {
				return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", b)
			}
		}
	}
	if b := windowBoundIn(q.Having); b != "" {
		return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", b)
	}
	for _, it := range q.Select {
		if fc, ok := it.Expr.(*ast.FuncCall); ok {
			if f, ok := functions.Lookup(fc.Name); ok && f.Kind == functions.TableFunc {
				return errf("Table functions cannot be used with aggregations.")
			}
		}
	}
	if p.tableSource {
		var streamOnly []string
		for _, c := range a.calls {
			if !functions.AggregateSupportsTables(c.call.Name) {
				streamOnly = append(streamOnly, c.call.Name)
			}
		}
		if len(streamOnly) > 0 {
			return errf("The aggregation functions %s cannot be applied to a table source, only to a stream source.", joinNames(dedupe(streamOnly)))
		}
	}
	for _, c := range a.calls {
		if vf := p.sources[0].src.ValueFormat.Name; (vf == "DELIMITED" || vf == "KAFKA") && !c.impl.State.IsPrimitive() {
			return errf("One of the functions used in the statement has an intermediate type that the value format can not handle. Please remove the function or change the format.")
		}
	}
	for _, bs := range p.sources {
		if bs.src.ValueFormat.Name == "KAFKA" {
			return errf("Source(s) %s are using the 'KAFKA' value format. This format does not yet support GROUP BY.", bs.src.Name)
		}
	}
	if len(a.calls) == 0 {
		return errf("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
	}
	p.agg = a
	var nonAgg []string
	out := aggregatedScope(a, q.Window != nil, props, in, func(name string) { nonAgg = append(nonAgg, name) })
	var badItems []string
	var starItems []ast.SelectItem
	for _, it := range q.Select {
		if !it.Star {
			starItems = append(starItems, it)
			continue
		}
		for _, c := range p.expandStar(it, in.Cols) {
			starItems = append(starItems, ast.SelectItem{Expr: &ast.ColumnRef{Name: c.Name}})
		}
	}
	if len(starItems) != len(q.Select) {
		cp := *q
		cp.Select = starItems
		q = &cp
		p.q = q
		var err error
		if names, err = projectionNames(q, nil); err != nil {
			return err
		}
	}
	for i, it := range q.Select {
		nonAgg = nil
		x, err := eval.Compile(it.Expr, out)
		if err != nil {
			return wrapExprErr("SELECT", err)
		}
		if len(nonAgg) > 0 {
			badItems = append(badItems, eval.Text(it.Expr))
		}
		p.proj = append(p.proj, projItem{name: names[i], expr: x, ast: it.Expr})
	}
	if len(badItems) > 0 {
		return errf("Non-aggregate SELECT expression(s) not part of GROUP BY: %s\nEither add the column(s) to the GROUP BY or remove them from the SELECT.", strings.Join(dedupe(badItems), ", "))
	}
	if q.Having != nil {
		nonAgg = nil
		h, err := eval.Compile(q.Having, out)
		if err != nil {
			return p.joinedNames(wrapExprErr("HAVING", err))
		}
		if len(nonAgg) > 0 {
			return errf("Non-aggregate HAVING expression not part of GROUP BY: %s", strings.Join(dedupe(nonAgg), ", "))
		}
		a.having = h
	}
	for _, it := range p.proj {
		if eval.IsPseudo(it.name) && p.persistent {
			return errf("Reserved column name in select: `%s`. Please remove or alias the column.", it.name)
		}
	}
	// Key columns: each grouping expression must appear in the projection.
	p.outKind = ast.Table
	p.keyIdx = nil
	var missing []string
	for _, gk := range a.groupKeys {
		found := -1
		for i, it := range p.proj {
			if !it.isKey && eval.Key(it.ast) == gk {
				if found >= 0 {
					return errf("The projection contains a key column more than once: `%s` and `%s`.", p.proj[found].name, it.name)
				}
				found = i
			}
		}
		if found < 0 {
			missing = append(missing, groupDisplay(gk))
			continue
		}
		p.proj[found].isKey = true
		p.keyIdx = append(p.keyIdx, found)
	}
	if len(missing) > 0 && p.persistent {
		return errf("The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).",
			p.sinkName, pluralize("grouping expression", len(missing)), joinNames(missing), strings.Join(missing, ", "))
	}
	return p.finishSchema(p.persistent)
}

// checkDuplicateGroups rejects a GROUP BY naming the same expression twice, including one
// column referenced with and without its qualifier.
func checkDuplicateGroups(groups []ast.Expr, in *eval.Scope) error {
	seen := map[string]bool{}
	for _, g := range groups {
		k, text := eval.Key(g), eval.Text(g)
		if ref, ok := g.(*ast.ColumnRef); ok {
			for i, c := range in.Cols {
				if c.Name == ref.Name && (ref.Qualifier == "" || strings.EqualFold(ref.Qualifier, c.Qualifier)) {
					k, text = fmt.Sprintf("column %d", i), c.Qualifier+"."+c.Name
					break
				}
			}
		}
		if seen[k] {
			return errf("Duplicate GROUP BY expression: %s", text)
		}
		seen[k] = true
	}
	return nil
}

// onlyAggregates reports whether every SELECT item is an aggregate call.
func onlyAggregates(q *ast.Query) bool {
	for _, it := range q.Select {
		if it.Star {
			return false
		}
		if _, ok := isAggregateCall(it.Expr); !ok {
			return false
		}
	}
	return len(q.Select) > 0
}

// aggregateTexts lists the aggregate calls of q's SELECT as ksqlDB prints them (COUNT(*)
// counts ROWTIME).
func aggregateTexts(q *ast.Query) []string {
	var out []string
	for _, root := range selectExprs(q) {
		walkExpr(root, func(x ast.Expr) {
			if fc, ok := isAggregateCall(x); ok {
				if fc.Star {
					out = append(out, fc.Name+"(ROWTIME)")
					return
				}
				out = append(out, eval.Text(fc))
			}
		})
	}
	return out
}

// aggregatedScope is what SELECT and HAVING see after GROUP BY: each GROUP BY expression and
// aggregate call, matched by its canonical text, reads its slot of the aggregated row, and
// window bounds stay available in windowed aggregations. Any other column is not part of
// the aggregated row: nonAgg hears of it and it reads as NULL.
//
// in, when set, types such a column as it is in the input, so that an expression over it
// still type-checks and the error names the expression as not part of GROUP BY.
func aggregatedScope(a *aggPlan, windowed bool, props map[string]string, in *eval.Scope, nonAgg func(string)) *eval.Scope {
	out := &eval.Scope{Pseudo: false, Windowed: windowed, Config: props}
	out.Resolve = func(x ast.Expr) (*eval.Expr, bool, error) {
		k := eval.Key(x)
		for i, gk := range a.groupKeys {
			if gk == k {
				idx, t := i, a.groups[i].Type
				return &eval.Expr{Type: t, Eval: func(r *eval.Rec) (any, error) { return r.Vals[idx], nil }}, true, nil
			}
		}
		if fc, ok := isAggregateCall(x); ok {
			for i, c := range a.calls {
				if c.key == eval.Key(fc) {
					idx := len(a.groups) + i
					return &eval.Expr{Type: c.impl.Return, Eval: func(r *eval.Rec) (any, error) { return r.Vals[idx], nil }}, true, nil
				}
			}
		}
		if c, ok := x.(*ast.ColumnRef); ok {
			if windowed && (c.Name == eval.WindowStart || c.Name == eval.WindowEnd) {
				return nil, false, nil
			}
			nonAgg(c.Name)
			t := types.StringType
			if in != nil {
				for _, col := range in.Cols {
					if col.Name == c.Name && (c.Qualifier == "" || strings.EqualFold(c.Qualifier, col.Qualifier)) {
						t = col.Type
						break
					}
				}
			}
			return &eval.Expr{Type: t, Eval: func(*eval.Rec) (any, error) { return nil, nil }}, true, nil
		}
		return nil, false, nil
	}
	return out
}

// checkFunctionsExist reports the first call to an unknown function, before other checks
// that would otherwise hide it.
func checkFunctionsExist(q *ast.Query) error {
	var missing string
	visit := func(e ast.Expr) {
		walkExpr(e, func(x ast.Expr) {
			if fc, ok := x.(*ast.FuncCall); ok && missing == "" {
				if _, found := functions.Lookup(fc.Name); !found {
					missing = fc.Name
				}
			}
		})
	}
	for _, it := range q.Select {
		visit(it.Expr)
	}
	for _, g := range q.GroupBy {
		visit(g)
	}
	visit(q.Having)
	visit(q.Where)
	if missing != "" {
		return errf("Can't find any functions with the name '%s'", missing)
	}
	return nil
}

func selectExprs(q *ast.Query) []ast.Expr {
	var out []ast.Expr
	for _, it := range q.Select {
		if it.Expr != nil {
			out = append(out, it.Expr)
		}
	}
	return out
}

func groupDisplay(k string) string { return strings.Trim(k, "()") }

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func orStringType(t *types.Type) *types.Type {
	if t == nil {
		return types.StringType
	}
	return t
}

// bindAggCall resolves one aggregate call: the first argument is always a column argument;
// trailing literal arguments are the aggregate's initial arguments (TOPK's k, ...).
func bindAggCall(fc *ast.FuncCall, in *eval.Scope, props map[string]string) (*aggCall, error) {
	f, _ := functions.Lookup(fc.Name)
	c := &aggCall{call: fc}
	args := fc.Args
	if len(args) == 0 && !fc.Star && fc.Name != "COUNT" {
		args = []ast.Expr{&ast.ColumnRef{Name: eval.RowTime}}
	}
	if fc.Star && fc.Name != "COUNT" {
		args = []ast.Expr{&ast.ColumnRef{Name: eval.RowTime}}
	}
	// Every argument's type goes to the resolver; trailing literals are also passed as values
	// (TOPK's k, LATEST_BY_OFFSET's n). impl.ArgTypes says how many leading arguments are
	// evaluated per row.
	var argTypes []*types.Type
	var compiled []*eval.Expr
	for _, a := range args {
		x, err := eval.Compile(a, in)
		if err != nil {
			return nil, wrapExprErr("SELECT", err)
		}
		compiled = append(compiled, x)
		argTypes = append(argTypes, x.Type)
	}
	var initArgs []any
	for i := len(compiled) - 1; i >= 1 && compiled[i].Const; i-- {
		initArgs = append([]any{compiled[i].ConstVal}, initArgs...)
	}
	impl, err := f.ResolveAggregate(argTypes, initArgs, functions.Config(props))
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "must be a literal constant") {
			for i := len(initArgs) + 1; i < len(args); i++ {
				if !compiled[i].Const {
					msg += fmt.Sprintf(", but was expression: '%s'", eval.Text(args[i]))
					break
				}
			}
		}
		return nil, errf("%s", msg)
	}
	if len(impl.ArgTypes) <= len(compiled) {
		c.args = compiled[:len(impl.ArgTypes)]
	} else {
		c.args = compiled
	}
	c.impl = impl
	for i := range c.args {
		if i < len(impl.ArgTypes) && impl.ArgTypes[i] != nil && c.args[i].Type != nil && !c.args[i].Type.Equal(impl.ArgTypes[i]) && types.CanCast(c.args[i].Type, impl.ArgTypes[i]) {
			from, to, fn := c.args[i].Type, impl.ArgTypes[i], c.args[i].Eval
			c.args[i] = &eval.Expr{Type: to, Eval: func(r *eval.Rec) (any, error) {
				v, err := fn(r)
				if err != nil || v == nil {
					return nil, err
				}
				return types.Cast(v, from, to)
			}}
		}
	}
	return c, nil
}
