package engine

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
)

// boundSource is a FROM item: a catalog source under an alias, placed at offset in the joined
// row layout.
type boundSource struct {
	src    *source
	alias  string
	offset int
	ncols  int
}

// projItem is one output column of a query.
type projItem struct {
	name    string
	expr    *eval.Expr
	ast     ast.Expr
	tableFn *tableFnCall
	// tableFnPost, for a table function inside an expression (EXPLODE(A)->F1), computes the
	// column from the generated value, which is put in *tableFnCur first.
	tableFnPost *eval.Expr
	tableFnCur  *any
	isKey       bool
	// joinKey: the column reads the join result's key slot rather than its own expression.
	joinKey bool
}

// queryPlan is a bound, type-checked query ready to be instantiated as operators.
type queryPlan struct {
	q        *ast.Query
	sinkName string
	sources  []*boundSource
	join     *joinPlan
	// joinFrom is the first join step this plan's pipelines run; the steps before it ran in
	// other tasks, which routed their joined rows here (startStagedJoin). 0 when the
	// pipeline runs the whole join.
	joinFrom int
	inCols   []eval.Col // layout after FROM/JOIN
	where    *eval.Expr
	// partition (PARTITION BY) re-keys stream rows; its layout replaces inCols downstream.
	partition   *partitionPlan
	agg         *aggPlan
	proj        []projItem
	outKind     ast.SourceKind
	outSchema   *types.Schema
	keyIdx      []int // indices into proj that are key columns (in key order)
	window      *ast.Window
	emitFinal   bool
	hasTableFns bool
	// tableSource: the (single) source is a table, so changes carry old and new rows.
	tableSource bool
	cfg         functions.Config
	// pushMode: results keep SELECT order (transient push queries).
	pushMode bool
	// windowedSource: the single source has windowed keys, so WINDOWSTART/WINDOWEND exist.
	windowedSource bool
	persistent     bool
}

// planQuery binds q against the catalog. sinkName names the result for messages.
func (e *Engine) planQuery(q *ast.Query, sinkName string, props map[string]string, persistent bool) (*queryPlan, error) {
	p := &queryPlan{q: q, sinkName: sinkName, window: q.Window, emitFinal: q.Emit == ast.EmitFinal, cfg: functions.Config(props)}
	if err := e.bindFrom(p, q.From); err != nil {
		return nil, err
	}
	windowedSrc := len(p.sources) == 1 && p.sources[0].src.windowed()
	if persistent && windowedSrc && p.sources[0].src.Kind == ast.Table {
		return nil, errf("KSQL does not support persistent queries on windowed tables.")
	}
	p.windowedSource = windowedSrc
	scope := &eval.Scope{Cols: p.inCols, Pseudo: true, Windowed: windowedSrc, Config: props}
	if q.Where != nil {
		if b := windowBoundIn(q.Where); b != "" && !windowedSrc {
			return nil, errf("Error in WHERE expression: Unknown column %s.", b)
		}
		w, err := eval.Compile(q.Where, scope)
		if err != nil {
			return nil, p.joinedNames(wrapExprErr("WHERE", err))
		}
		if w.Type != nil && w.Type.Kind != types.KindBoolean {
			return nil, errf("Type error in WHERE expression: Should evaluate to boolean but is %s (%s) instead.", eval.Text(q.Where), w.Type)
		}
		p.where = w
	}
	if q.Emit == ast.EmitFinal && q.Window == nil {
		return nil, errf("EMIT FINAL is only supported for windowed aggregations.")
	}
	if q.Window != nil && len(q.GroupBy) == 0 {
		if hasAggregate(q) {
			return nil, errf("Non-aggregate SELECT expression(s) not part of GROUP BY")
		}
		return nil, errf("WINDOW clause requires a GROUP BY clause.")
	}
	if !persistent && len(q.GroupBy) == 0 && hasAggregate(q) {
		// A push query may aggregate over the whole stream: one group for every row.
		cp := *q
		cp.GroupBy = []ast.Expr{&ast.BoolLit{Val: true}}
		q = &cp
		p.q = q
	}
	p.persistent = persistent
	names, err := projectionNames(q, p.inCols)
	if err != nil {
		if p.join != nil {
			// In joins ksqlDB reports a pseudo-column name in the projection this way, even
			// when it is an explicit alias.
			for _, it := range q.Select {
				if eval.IsPseudo(it.Alias) {
					return nil, errf("Reserved column name in select: `%s`. Please remove or alias the column.", it.Alias)
				}
			}
		}
		return nil, err
	}
	switch {
	case len(q.GroupBy) > 0:
		if err := e.planAggregate(p, scope, names, props); err != nil {
			return nil, err
		}
	default:
		if q.Having != nil {
			return nil, errf("HAVING clause requires a GROUP BY clause.")
		}
		if hasAggregate(q) {
			var plain []string
			for _, it := range q.Select {
				if it.Star {
					continue
				}
				if _, isAgg := isAggregateCall(it.Expr); !isAgg {
					plain = append(plain, eval.Text(it.Expr))
				}
			}
			if len(plain) > 0 {
				return nil, errf("Non-aggregate SELECT expression(s) not part of GROUP BY: %s\nEither add the column(s) to the GROUP BY or remove them from the SELECT.", strings.Join(plain, ", "))
			}
			return nil, errf("Use of aggregate function %s requires a GROUP BY clause.", firstAggregate(q))
		}
		if q.PartitionBy != nil {
			if err := e.planPartition(p, scope, names); err != nil {
				return nil, err
			}
			scope = p.partition.scope(props)
		}
		if err := e.planProjection(p, scope, names, persistent); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func wrapExprErr(clause string, err error) error {
	if ee, ok := err.(*eval.Error); ok {
		msg := ee.Msg
		if (strings.HasPrefix(msg, "Cannot compare") || strings.HasPrefix(msg, "Error processing expression")) && (clause == "WHERE" || clause == "HAVING") {
			msg = "Error in " + clause + " expression: " + msg
		}
		if name, ok := strings.CutSuffix(msg, " cannot be resolved."); ok && !strings.Contains(name, " ") {
			msg = fmt.Sprintf("%s column '%s' cannot be resolved.", clause, name)
			if clause == "PARTITION BY" {
				msg += fmt.Sprintf(" '%s' must be a column in the source schema since PARTITION BY is applied on the input.", name)
			}
		}
		return &Error{Code: 40001, SQLState: "42000", Kind: StatementError, Msg: msg, Line: ee.Pos.Line, Col: ee.Pos.Col}
	}
	return err
}

// joinedNames words a comparison error of a join the way ksqlDB does: its joined schema
// names each column ALIAS_COLUMN, so I1.BAR reads I1_BAR.
func (p *queryPlan) joinedNames(err error) error {
	ee, ok := err.(*Error)
	if !ok || p.join == nil || !strings.Contains(ee.Msg, ": Cannot compare ") {
		return err
	}
	for _, c := range p.inCols {
		if c.Qualifier != "" && c.Qualifier != hiddenQualifier {
			ee.Msg = strings.ReplaceAll(ee.Msg, c.Qualifier+"."+c.Name, c.Qualifier+"_"+c.Name)
		}
	}
	return ee
}

// bindFrom resolves the FROM clause.
func (e *Engine) bindFrom(p *queryPlan, rel ast.Relation) error {
	switch r := rel.(type) {
	case *ast.SourceRef:
		src, err := e.lookupSource(r.Name)
		if err != nil {
			return err
		}
		alias := r.Alias
		if alias == "" {
			alias = src.Name
		}
		bs := &boundSource{src: src, alias: alias, ncols: len(src.Schema.Columns)}
		p.sources = append(p.sources, bs)
		for _, c := range src.Schema.Columns {
			p.inCols = append(p.inCols, eval.Col{Qualifier: alias, Name: c.Name, Type: c.Type})
		}
		p.tableSource = src.Kind == ast.Table
		return nil
	case *ast.Join:
		return e.bindJoin(p, r)
	}
	return errf("unsupported FROM clause")
}

func (e *Engine) lookupSource(name string) (*source, error) {
	src, ok := e.cat.sources[name]
	if !ok {
		return nil, &Error{Code: 40001, SQLState: "42P01", Kind: StatementError, Msg: fmt.Sprintf("%s does not exist.", name)}
	}
	return src, nil
}

// projectionNames assigns every select item its output name: the alias, a column's name, a
// struct field's name, or KSQL_COL_<n> numbered over the generated names in order.
func projectionNames(q *ast.Query, inCols []eval.Col) ([]string, error) {
	used := map[string]bool{}
	for _, c := range inCols {
		used[c.Name] = true
	}
	for _, it := range q.Select {
		if it.Alias != "" {
			used[it.Alias] = true
		}
	}
	names := make([]string, len(q.Select))
	gen := 0
	for i, it := range q.Select {
		if it.Star {
			continue
		}
		switch {
		case it.Alias != "":
			names[i] = it.Alias
		default:
			switch x := it.Expr.(type) {
			case *ast.ColumnRef:
				// In joins a qualified column shared by several sources is named ALIAS_COL.
				names[i] = joinProjectionName(x, inCols)
			case *ast.Dereference:
				names[i] = x.Field
			default:
				for {
					n := fmt.Sprintf("KSQL_COL_%d", gen)
					gen++
					if !used[n] {
						names[i] = n
						break
					}
				}
			}
		}
		if eval.IsPseudo(names[i]) && it.Alias != "" {
			return nil, errf("`%s` is a reserved column name. You cannot use it as an alias for a column.", names[i])
		}
	}
	return names, nil
}

// isPartitionKey reports whether name is a PARTITION BY key (which may be a pseudo column).
func (p *queryPlan) isPartitionKey(name string) bool {
	if p.partition == nil {
		return false
	}
	for _, k := range p.partition.keyNames {
		if k == name {
			return true
		}
	}
	return false
}

// keepsSourceWindow reports whether results keep the windowed keys of a windowed source.
func (p *queryPlan) keepsSourceWindow() bool {
	return p.windowedSource && p.agg == nil && p.partition == nil && p.join == nil
}

// joinedWindow returns the windowed source whose windows a join of windowed sources keeps
// in its results (joins of windowed sources are on their keys, windows included), or nil.
func (p *queryPlan) joinedWindow() *source {
	if p.join == nil || p.agg != nil || p.partition != nil {
		return nil
	}
	for _, st := range p.join.steps {
		if st.windowed {
			return p.sources[0].src
		}
	}
	return nil
}

func (p *queryPlan) hasQualifier(q string) bool {
	for _, bs := range p.sources {
		if strings.EqualFold(bs.alias, q) || strings.EqualFold(bs.src.Name, q) {
			return true
		}
	}
	return false
}

// expandStar returns the columns a `*` (or `q.*`) stands for. In joins value columns are
// prefixed with their source alias (L_B) as ksqlDB does.
func (p *queryPlan) expandStar(it ast.SelectItem, cols []eval.Col) []eval.Col {
	if p.join != nil && p.partition == nil {
		return p.expandJoinStar(it)
	}
	var out []eval.Col
	for _, c := range cols {
		if it.Qualifier != "" && !strings.EqualFold(c.Qualifier, it.Qualifier) {
			continue
		}
		if p.join != nil && p.join.hidden(c) && (p.partition == nil || c.Qualifier == hiddenQualifier) {
			// After PARTITION BY the joined row is a value: its pseudo columns are columns.
			continue
		}
		out = append(out, c)
	}
	return out
}

// expandJoinStar is `*` over a join: each selected source's key columns, its window bounds
// when it is windowed, then its other columns; then a synthetic join key.
func (p *queryPlan) expandJoinStar(it ast.SelectItem) []eval.Col {
	var out []eval.Col
	for si, bs := range p.sources {
		if it.Qualifier != "" && !strings.EqualFold(bs.alias, it.Qualifier) {
			continue
		}
		cols := p.inCols[bs.offset : bs.offset+bs.ncols]
		nk := len(bs.src.keyCols())
		out = append(out, cols[:nk]...)
		for _, name := range []string{eval.WindowStart, eval.WindowEnd} {
			for _, ps := range p.join.pseudo {
				if bs.src.windowed() && ps.src == si && ps.name == name {
					out = append(out, p.inCols[ps.idx])
				}
			}
		}
		out = append(out, cols[nk:]...)
	}
	if it.Qualifier == "" {
		for _, c := range p.inCols[p.join.width-1:] {
			if !p.join.hidden(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// planProjection compiles the SELECT list of a non-aggregating query and decides the key.
func (e *Engine) planProjection(p *queryPlan, scope *eval.Scope, names []string, persistent bool) error {
	q := p.q
	for i, it := range q.Select {
		if it.Star && it.Expr != nil {
			// s->* expands to one column per struct field.
			base, err := eval.Compile(it.Expr, scope)
			if err != nil {
				return wrapExprErr("SELECT", err)
			}
			if base.Type == nil || base.Type.Kind != types.KindStruct {
				return errf("Cannot use '->*' on a non-STRUCT column: %s", eval.Text(it.Expr))
			}
			for _, f := range base.Type.Fields {
				d := &ast.Dereference{Base: it.Expr, Field: f.Name}
				x, err := eval.Compile(d, scope)
				if err != nil {
					return err
				}
				p.proj = append(p.proj, projItem{name: f.Name, expr: x, ast: d})
			}
			continue
		}
		if it.Star {
			if it.Qualifier != "" && !p.hasQualifier(it.Qualifier) {
				return errf("'%s' is not a valid stream/table name or alias.", it.Qualifier)
			}
			nkeys := 0
			if len(p.sources) == 1 {
				nkeys = len(p.sources[0].src.keyCols())
			}
			for ci, c := range p.expandStar(it, scope.Cols) {
				if ci == nkeys && p.windowedSource && !persistent && p.partition == nil {
					// Push queries over windowed sources show the window after the key.
					for _, wn := range []string{eval.WindowStart, eval.WindowEnd} {
						ref := &ast.ColumnRef{Name: wn}
						x, err := eval.Compile(ref, scope)
						if err != nil {
							return err
						}
						p.proj = append(p.proj, projItem{name: wn, expr: x, ast: ref})
					}
				}
				ref := &ast.ColumnRef{Qualifier: c.Qualifier, Name: c.Name}
				x, err := eval.Compile(ref, scope)
				if err != nil {
					return err
				}
				name := c.Name
				if p.join != nil {
					name = p.join.starName(c)
				}
				p.proj = append(p.proj, projItem{name: name, expr: x, ast: ref})
			}
			continue
		}
		if fc, f := tableFnIn(it.Expr); fc != nil {
			if p.tableSource {
				return errf("Table source is not supported with table functions")
			}
			tf, post, cur, err := compileTableFnItem(it.Expr, fc, f, scope)
			if err != nil {
				return err
			}
			p.proj = append(p.proj, projItem{name: names[i], tableFn: tf, tableFnPost: post, tableFnCur: cur, ast: it.Expr})
			p.hasTableFns = true
			continue
		}
		if err := p.checkNoWindowBounds(it.Expr); err != nil {
			return err
		}
		x, err := eval.Compile(it.Expr, scope)
		if err != nil {
			return wrapExprErr("SELECT", err)
		}
		p.proj = append(p.proj, projItem{name: names[i], expr: x, ast: it.Expr})
	}
	if persistent {
		for _, it := range p.proj {
			if eval.IsPseudo(it.name) && !p.isPartitionKey(it.name) {
				return errf("Reserved column name in select: `%s`. Please remove or alias the column.", it.name)
			}
		}
	}
	// Decide the key columns.
	p.outKind = ast.Stream
	if p.tableSource && p.join == nil {
		p.outKind = ast.Table
	}
	var keyNames []string
	switch {
	case p.partition != nil:
		keyNames = p.partition.keyNames
	case p.join != nil:
		return e.joinKey(p, persistent)
	default:
		for _, c := range p.sources[0].src.keyCols() {
			keyNames = append(keyNames, c.Name)
		}
	}
	return p.assignKeys(keyNames, persistent, "key column")
}

// assignKeys marks, for each key name, the projection item that carries it. A key column is
// found by a bare column reference to it (possibly aliased).
func (p *queryPlan) assignKeys(keyNames []string, persistent bool, what string) error {
	p.keyIdx = nil
	var missing []string
	for _, kn := range keyNames {
		found := -1
		for i, it := range p.proj {
			if it.isKey {
				continue
			}
			if ref, ok := it.ast.(*ast.ColumnRef); ok && ref.Name == kn {
				found = i
				break
			}
			if p.partition != nil && it.ast != nil {
				k := eval.Key(it.ast)
				for j, ek := range p.partition.exprKeys {
					if ek == k && p.partition.keyNames[j] == kn {
						found = i
					}
				}
				if found >= 0 {
					break
				}
			}
		}
		if found < 0 {
			missing = append(missing, kn)
			continue
		}
		p.proj[found].isKey = true
		p.keyIdx = append(p.keyIdx, found)
		if persistent {
			for i, it := range p.proj {
				if i == found {
					continue
				}
				if ref, ok := it.ast.(*ast.ColumnRef); ok && ref.Name == kn {
					if p.join != nil {
						// In a join, R.K is another column than the key L.K.
						a, b := p.resolveRef(ref), p.resolveRef(p.proj[found].ast)
						if a == nil || b == nil || *a != *b {
							continue
						}
					}
					return errf("The projection contains a key column (`%s`) more than once, aliased as: %s and %s.", kn, p.proj[found].name, it.name)
				}
			}
		}
	}
	if len(missing) > 0 && persistent && p.partition != nil && !p.partition.null {
		// ksqlDB names every partitioning expression, qualified, when any is missing. The
		// statement fails here, so qualifying its expressions in place is harmless.
		var exprs []string
		for _, pe := range p.q.PartitionBy {
			p.qualifyRefs(pe, len(p.sources)-1)
			exprs = append(exprs, eval.Text(pe))
		}
		return errf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).",
			p.sinkName, pluralize("partitioning expression", len(exprs)), joinNames(exprs), strings.Join(exprs, ", "))
	}
	if len(missing) > 0 && persistent && p.partition == nil {
		// ksqlDB names every key column when any is missing.
		missing = keyNames
	}
	if len(missing) > 0 && persistent {
		return errf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).",
			p.sinkName, pluralize(what, len(missing)), joinNames(missing), strings.Join(missing, ", "))
	}
	return p.finishSchema(persistent)
}

func pluralize(w string, n int) string {
	if n > 1 {
		return w + "s"
	}
	return w
}

func joinNames(ns []string) string {
	if len(ns) <= 1 {
		return strings.Join(ns, "")
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// finishSchema builds the output schema: key columns first (in key order), then values.
func (p *queryPlan) finishSchema(persistent bool) error {
	s := &types.Schema{}
	seen := map[string]bool{}
	for _, i := range p.keyIdx {
		it := p.proj[i]
		seen[it.name] = true
		if persistent {
			if err := checkKeyType(it.name, it.typ()); err != nil {
				return err
			}
		}
		s.Columns = append(s.Columns, types.Column{Name: it.name, Type: it.typ(), Namespace: types.KeyColumn})
	}
	nvals := 0
	for _, it := range p.proj {
		if it.isKey {
			continue
		}
		if seen[it.name] {
			return errf("Duplicate value columns found in schema: `%s` %s", it.name, it.typ())
		}
		seen[it.name] = true
		s.Columns = append(s.Columns, types.Column{Name: it.name, Type: it.typ(), Namespace: types.ValueColumn})
		nvals++
	}
	if persistent && nvals == 0 {
		return errf("The projection contains no value columns.")
	}
	p.outSchema = s
	return nil
}

// checkKeyType rejects key columns containing maps: map serialization order is not stable, so
// equal keys could land in different partitions.
func checkKeyType(name string, t *types.Type) error {
	if containsMap(t) {
		return errf("Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more.", name, t)
	}
	return nil
}

func (it projItem) typ() *types.Type {
	if it.tableFnPost != nil && it.tableFnPost.Type != nil {
		return it.tableFnPost.Type
	}
	if it.tableFn != nil {
		return it.tableFn.impl.Return
	}
	if it.expr.Type == nil {
		return types.StringType
	}
	return it.expr.Type
}

// checkNoWindowBounds rejects WINDOWSTART/WINDOWEND outside a windowed aggregation's SELECT,
// unless the source itself is windowed (then they are ordinary key columns of each row).
func (p *queryPlan) checkNoWindowBounds(e ast.Expr) error {
	if p.windowedSource {
		return nil
	}
	if p.join != nil {
		// In a join, a window bound qualified with a windowed source (l.WINDOWSTART) is that
		// source's window: a column of its rows.
		var bad string
		walkExpr(e, func(x ast.Expr) {
			c, ok := x.(*ast.ColumnRef)
			if !ok || bad != "" || (c.Name != eval.WindowStart && c.Name != eval.WindowEnd) {
				return
			}
			if i := p.sourceByAlias(c.Qualifier); c.Qualifier == "" || i < 0 || !p.sources[i].src.windowed() {
				bad = c.Name
			}
		})
		if bad != "" {
			return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", bad)
		}
		return nil
	}
	return checkNoWindowBounds(e)
}

// windowBoundIn returns the first WINDOWSTART/WINDOWEND reference in e, or "".
func windowBoundIn(e ast.Expr) string {
	bad := ""
	walkExpr(e, func(x ast.Expr) {
		if c, ok := x.(*ast.ColumnRef); ok && (c.Name == eval.WindowStart || c.Name == eval.WindowEnd) && bad == "" {
			bad = c.Name
		}
	})
	return bad
}

func checkNoWindowBounds(e ast.Expr) error {
	var bad string
	walkExpr(e, func(x ast.Expr) {
		if c, ok := x.(*ast.ColumnRef); ok && (c.Name == eval.WindowStart || c.Name == eval.WindowEnd) && bad == "" {
			bad = c.Name
		}
	})
	if bad != "" {
		return errf("Window bounds column %s can only be used in the SELECT clause of windowed aggregations", bad)
	}
	return nil
}

// walkExpr visits e and every sub-expression.
func walkExpr(e ast.Expr, fn func(ast.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch n := e.(type) {
	case *ast.Dereference:
		walkExpr(n.Base, fn)
	case *ast.Subscript:
		walkExpr(n.Base, fn)
		walkExpr(n.Index, fn)
	case *ast.BinaryOp:
		walkExpr(n.L, fn)
		walkExpr(n.R, fn)
	case *ast.UnaryOp:
		walkExpr(n.X, fn)
	case *ast.IsNull:
		walkExpr(n.X, fn)
	case *ast.IsDistinct:
		walkExpr(n.L, fn)
		walkExpr(n.R, fn)
	case *ast.Between:
		walkExpr(n.X, fn)
		walkExpr(n.Lo, fn)
		walkExpr(n.Hi, fn)
	case *ast.InList:
		walkExpr(n.X, fn)
		for _, x := range n.List {
			walkExpr(x, fn)
		}
	case *ast.Like:
		walkExpr(n.X, fn)
		walkExpr(n.Pattern, fn)
	case *ast.Case:
		walkExpr(n.Operand, fn)
		for _, w := range n.Whens {
			walkExpr(w.Cond, fn)
			walkExpr(w.Result, fn)
		}
		walkExpr(n.Else, fn)
	case *ast.Cast:
		walkExpr(n.X, fn)
	case *ast.FuncCall:
		for _, a := range n.Args {
			walkExpr(a, fn)
		}
	case *ast.Lambda:
		walkExpr(n.Body, fn)
	case *ast.ArrayCtor:
		for _, x := range n.Elems {
			walkExpr(x, fn)
		}
	case *ast.MapCtor:
		for i := range n.Keys {
			walkExpr(n.Keys[i], fn)
			walkExpr(n.Vals[i], fn)
		}
	case *ast.StructCtor:
		for _, x := range n.Vals {
			walkExpr(x, fn)
		}
	}
}

func isAggregateCall(e ast.Expr) (*ast.FuncCall, bool) {
	fc, ok := e.(*ast.FuncCall)
	if !ok {
		return nil, false
	}
	f, ok := functions.Lookup(fc.Name)
	return fc, ok && f.Kind == functions.Aggregate
}

func hasAggregate(q *ast.Query) bool { return firstAggregate(q) != "" }

func firstAggregate(q *ast.Query) string {
	name := ""
	for _, it := range q.Select {
		walkExpr(it.Expr, func(x ast.Expr) {
			if fc, ok := isAggregateCall(x); ok && name == "" {
				name = fc.Name
			}
		})
	}
	return name
}
