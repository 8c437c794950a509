package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// Join kinds of one step.
const (
	joinSS = "SS" // stream-stream (windowed)
	joinST = "ST" // stream-table (table lookup)
	joinTT = "TT" // table-table on the right table's primary key
	joinFK = "FK" // table-table on a foreign key of the left table
)

// hiddenQualifier marks layout columns no query can name: the join-key slot when the key is
// a join column. eval only matches a qualified reference against an equal qualifier, and no
// identifier can contain NUL.
const hiddenQualifier = "\x00JOIN"

// joinPlan is a (possibly n-way) join of the FROM clause. Every row flowing through the join
// operators has the full joined layout (p.inCols): each source's columns at its offset, then
// hidden per-source pseudo columns (ROWTIME, ... referenced qualified, e.g. L.ROWTIME), then
// the join-key slot. Columns of sources not (yet) joined are NULL.
type joinPlan struct {
	steps []*joinStep
	width int
	// keySlot holds the result key of the last step that produced the row: the join
	// expression's value (ksqlDB keys join results by the join expression, whichever side's
	// column the projection names it by).
	keySlot int
	keyType *types.Type
	// synthetic is the name of the synthetic key column (ROWKEY, ROWKEY_1, ...) when the last
	// step is a FULL OUTER join or joins on expressions only; "" otherwise.
	synthetic string
	pseudo    []pseudoSlot
	// table: the result is a table (table-table joins); changes then carry old rows.
	table bool
}

// pseudoSlot is a hidden column holding one source's pseudo column.
type pseudoSlot struct {
	src  int
	name string
	idx  int
}

// colID names one source column: the bound source index and the column name.
type colID struct {
	src  int
	name string
}

// joinStep joins the accumulated left side (sources 0..rightIdx-1) with source rightIdx.
type joinStep struct {
	typ      ast.JoinType
	within   *ast.Within
	kind     string
	leftKey  *eval.Expr
	rightKey *eval.Expr
	leftAst  ast.Expr // qualified, oriented so that rightAst references the right source
	rightAst ast.Expr
	// leftRef/rightRef are set when that side of ON is a bare column.
	leftRef  *colID
	rightRef *colID
	right    *boundSource
	rightIdx int
	// leftSrc is the one source the left side of ON references.
	leftSrc int
	keyType *types.Type
	// leftTable/rightTable: the kinds of the two inputs.
	leftTable, rightTable bool
	// windowed: the inputs are windowed streams, whose keys include the window.
	windowed bool
	// leftSlots/rightSlots are the layout indices each side contributes to a joined row.
	leftSlots, rightSlots []int
}

// starName names a column selected by `*` in a join: ALIAS_COL (synthetic keys keep their name).
func (j *joinPlan) starName(c eval.Col) string {
	if c.Qualifier == "" {
		return c.Name
	}
	return c.Qualifier + "_" + c.Name
}

// hidden reports whether c is an internal layout column that `*` must not expand to.
func (j *joinPlan) hidden(c eval.Col) bool {
	return c.Qualifier == hiddenQualifier || eval.IsPseudo(c.Name)
}

// starCovers reports whether a `*` of the query (bare, or qualified with the source) selects
// bs's columns.
func (p *queryPlan) starCovers(bs *boundSource) bool {
	for _, it := range p.q.Select {
		if it.Star && it.Expr == nil && (it.Qualifier == "" || strings.EqualFold(it.Qualifier, bs.alias) || strings.EqualFold(it.Qualifier, bs.src.Name)) {
			return true
		}
	}
	return false
}

// joinStepNames prints a join the way ksqlDB's join validation messages do.
func joinTypeText(t ast.JoinType) string {
	switch t {
	case ast.LeftJoin:
		return "LEFT [OUTER] JOIN"
	case ast.RightJoin:
		return "RIGHT [OUTER] JOIN"
	case ast.FullJoin:
		return "[FULL] OUTER JOIN"
	}
	return "[INNER] JOIN"
}

// flattenJoin turns the left-deep join tree into its sources and join clauses in order:
// joins[i] joins rels[0..i] with rels[i+1].
func flattenJoin(r ast.Relation) ([]*ast.SourceRef, []*ast.Join, error) {
	switch x := r.(type) {
	case *ast.SourceRef:
		return []*ast.SourceRef{x}, nil, nil
	case *ast.Join:
		rels, joins, err := flattenJoin(x.Left)
		if err != nil {
			return nil, nil, err
		}
		right, ok := x.Right.(*ast.SourceRef)
		if !ok {
			return nil, nil, errf("Invalid join: the right side of a JOIN must be a stream or table.")
		}
		return append(rels, right), append(joins, x), nil
	}
	return nil, nil, errf("unsupported FROM clause")
}

func (e *Engine) bindJoin(p *queryPlan, j *ast.Join) error {
	rels, joins, err := flattenJoin(j)
	if err != nil {
		return err
	}
	jp := &joinPlan{}
	seen := map[string]bool{}
	var kafka []string
	for _, r := range rels {
		src, err := e.lookupSource(r.Name)
		if err != nil {
			return err
		}
		if seen[src.Name] {
			return errf("Can not join '%s' to '%s': self joins are not yet supported.", src.Name, src.Name)
		}
		seen[src.Name] = true
		alias := r.Alias
		if alias == "" {
			alias = src.Name
		}
		bs := &boundSource{src: src, alias: alias, offset: len(p.inCols), ncols: len(src.Schema.Columns)}
		p.sources = append(p.sources, bs)
		for _, c := range src.Schema.Columns {
			p.inCols = append(p.inCols, eval.Col{Qualifier: alias, Name: c.Name, Type: c.Type})
		}
		if strings.EqualFold(src.ValueFormat.Name, "KAFKA") {
			kafka = append(kafka, src.Name)
		}
	}
	if len(kafka) > 0 {
		return errf("Source(s) %s are using the 'KAFKA' value format. This format does not yet support JOIN.", strings.Join(kafka, ", "))
	}
	if err := p.checkQualifiers(joins); err != nil {
		return err
	}
	// Hidden slots for qualified pseudo columns (L.ROWTIME): every source has its own.
	for _, ref := range p.qualifiedPseudoRefs(joins) {
		i := p.sourceByAlias(ref.Qualifier)
		if i < 0 {
			continue
		}
		dup := false
		for _, ps := range jp.pseudo {
			dup = dup || (ps.src == i && ps.name == ref.Name)
		}
		if dup {
			continue
		}
		jp.pseudo = append(jp.pseudo, pseudoSlot{src: i, name: ref.Name, idx: len(p.inCols)})
		p.inCols = append(p.inCols, eval.Col{Qualifier: p.sources[i].alias, Name: ref.Name, Type: pseudoType(ref.Name)})
	}
	// `*` over a windowed source includes its window bounds, ALIAS_WINDOWSTART and
	// ALIAS_WINDOWEND, as ksqlDB's joined schema does, and after PARTITION BY (which reads the
	// joined rows as values) its ROWTIME, ROWPARTITION and ROWOFFSET too: they need slots.
	for i, bs := range p.sources {
		if !p.starCovers(bs) {
			continue
		}
		var names []string
		if bs.src.windowed() {
			names = append(names, eval.WindowStart, eval.WindowEnd)
		}
		if len(p.q.PartitionBy) > 0 {
			names = append(names, eval.RowTime, eval.RowPartition, eval.RowOffset)
		}
		for _, name := range names {
			dup := false
			for _, ps := range jp.pseudo {
				dup = dup || (ps.src == i && ps.name == name)
			}
			if !dup {
				jp.pseudo = append(jp.pseudo, pseudoSlot{src: i, name: name, idx: len(p.inCols)})
				p.inCols = append(p.inCols, eval.Col{Qualifier: bs.alias, Name: name, Type: pseudoType(name)})
			}
		}
	}
	scope := &eval.Scope{Cols: p.inCols, Pseudo: true, Config: p.cfg}
	// keyRefs are the columns equal to the current key of the accumulated left side.
	keyRefs := map[colID]bool{}
	if kc := p.sources[0].src.keyCols(); len(kc) == 1 {
		keyRefs[colID{0, kc[0].Name}] = true
	}
	leftTable := p.sources[0].src.Kind == ast.Table
	for i, jn := range joins {
		st, err := p.bindStep(jn, i, scope, leftTable, keyRefs)
		if err != nil {
			return err
		}
		jp.steps = append(jp.steps, st)
		leftTable = st.kind == joinTT || st.kind == joinFK
		keyRefs = map[colID]bool{}
		if st.kind == joinFK {
			if kc := p.sources[0].src.keyCols(); len(kc) == 1 {
				keyRefs[colID{0, kc[0].Name}] = true
			}
		} else {
			if st.leftRef != nil {
				keyRefs[*st.leftRef] = true
			}
			if st.rightRef != nil {
				keyRefs[*st.rightRef] = true
			}
		}
	}
	jp.table = leftTable
	last := jp.steps[len(jp.steps)-1]
	jp.keyType = last.keyType
	if last.kind != joinFK && (last.typ == ast.FullJoin || (last.leftRef == nil && last.rightRef == nil)) {
		jp.synthetic = p.syntheticKeyName()
	}
	jp.keySlot = len(p.inCols)
	if jp.synthetic != "" {
		p.inCols = append(p.inCols, eval.Col{Name: jp.synthetic, Type: jp.keyType})
	} else {
		p.inCols = append(p.inCols, eval.Col{Qualifier: hiddenQualifier, Name: "\x00KEY", Type: jp.keyType})
	}
	jp.width = len(p.inCols)
	// Which layout slots each step's sides contribute.
	for _, st := range jp.steps {
		for si, bs := range p.sources {
			var slots []int
			for k := 0; k < bs.ncols; k++ {
				slots = append(slots, bs.offset+k)
			}
			for _, ps := range jp.pseudo {
				if ps.src == si {
					slots = append(slots, ps.idx)
				}
			}
			switch {
			case si < st.rightIdx:
				st.leftSlots = append(st.leftSlots, slots...)
			case si == st.rightIdx:
				st.rightSlots = append(st.rightSlots, slots...)
			}
		}
	}
	p.join = jp
	p.tableSource = jp.table
	return nil
}

// bindStep validates and compiles join clause i (joining source i+1).
func (p *queryPlan) bindStep(jn *ast.Join, i int, scope *eval.Scope, leftTable bool, keyRefs map[colID]bool) (*joinStep, error) {
	right := p.sources[i+1]
	st := &joinStep{typ: jn.Type, within: jn.Within, right: right, rightIdx: i + 1, leftTable: leftTable, rightTable: right.src.Kind == ast.Table}
	on, ok := jn.On.(*ast.BinaryOp)
	if !ok || on.Op != "=" {
		if ok && strings.EqualFold(on.Op, "AND") {
			p.qualifyRefs(jn.On, i+1)
			return nil, errf("Invalid join condition: joins on multiple conditions are not yet supported. Got %s.", eval.Text(jn.On))
		}
		p.qualifyRefs(jn.On, i+1)
		return nil, errf("Unsupported join expression: %s. Only equality conditions are supported.", eval.Text(jn.On))
	}
	for _, side := range []ast.Expr{on.L, on.R} {
		if err := p.resolveOnRefs(side, i+1); err != nil {
			return nil, err
		}
	}
	p.qualifyRefs(on, i+1)
	ls, rs := p.sourcesOf(on.L), p.sourcesOf(on.R)
	for _, side := range []struct {
		x    ast.Expr
		srcs map[int]bool
	}{{on.L, ls}, {on.R, rs}} {
		if len(side.srcs) != 1 {
			return nil, errf("Invalid comparison expression '%s' in join '%s'. Each side of the join comparision must contain references from exactly one source.", eval.Text(side.x), eval.Text(on))
		}
	}
	la, ra := on.L, on.R
	if ls[i+1] && !rs[i+1] {
		la, ra = on.R, on.L
	} else if !rs[i+1] || ls[i+1] {
		return nil, errf("Invalid comparison expression '%s' in join '%s'. Each side of the join comparision must contain references from exactly one source.", eval.Text(on.R), eval.Text(on))
	}
	st.leftAst, st.rightAst = la, ra
	st.leftRef, st.rightRef = p.bareColumn(la), p.bareColumn(ra)
	var err error
	if st.leftKey, err = eval.Compile(la, scope); err != nil {
		return nil, wrapExprErr("JOIN ON", err)
	}
	if st.rightKey, err = eval.Compile(ra, scope); err != nil {
		return nil, wrapExprErr("JOIN ON", err)
	}
	got := fmt.Sprintf("%s = %s", eval.Text(la), eval.Text(ra))
	if st.leftKey.Type == nil || st.rightKey.Type == nil || !st.leftKey.Type.Equal(st.rightKey.Type) {
		return nil, errf("Invalid join condition: types don't match. Got %s{%s} = %s{%s}.", eval.Text(la), typeText(st.leftKey.Type), eval.Text(ra), typeText(st.rightKey.Type))
	}
	st.keyType = st.leftKey.Type
	leftName := p.sources[0].src.Name
	if lsrc := p.onlySource(ls, rs, i+1); lsrc >= 0 {
		leftName = p.sources[lsrc].src.Name
		st.leftSrc = lsrc
	}
	pair := fmt.Sprintf("%s %s %s", leftName, joinTypeText(st.typ), right.src.Name)
	rightIsKey := st.rightRef != nil && isKeyOf(right.src, st.rightRef.name)
	leftIsKey := st.leftRef != nil && keyRefs[*st.leftRef]
	switch {
	case leftTable && !st.rightTable:
		return nil, errf("Invalid join order: table-stream joins are not supported; only stream-table joins. Got %s.", pair)
	case !leftTable && st.rightTable:
		st.kind = joinST
		if st.typ == ast.FullJoin {
			return nil, errf("Invalid join type: full-outer join not supported for stream-table join. Got %s.", pair)
		}
		if st.typ == ast.RightJoin {
			return nil, errf("Invalid join type: right-outer join not supported for stream-table join. Got %s.", pair)
		}
		if jn.Within != nil {
			return nil, errf("A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to execute your Stream-Table join again.")
		}
		if !rightIsKey {
			return nil, errf("Invalid join condition: stream-table joins require to join on the table's primary key. Got %s.", got)
		}
	case leftTable && st.rightTable:
		st.kind = joinTT
		if jn.Within != nil {
			return nil, errf("A window definition was provided for a Table-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to execute your Table-Table join again.")
		}
		if !rightIsKey {
			return nil, errf("Invalid join condition: table-table joins require to join on the primary key of the right input table. Got %s.", got)
		}
		if !leftIsKey {
			if i > 0 {
				return nil, errf("Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got %s.", got)
			}
			switch st.typ {
			case ast.RightJoin:
				return nil, errf("RIGHT OUTER JOIN on a foreign key is not supported")
			case ast.FullJoin:
				return nil, errf("FULL OUTER JOIN on a foreign key is not supported")
			}
			st.kind = joinFK
		}
	default:
		st.kind = joinSS
		if jn.Within == nil {
			return nil, errf("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
		}
	}
	// Windowed sources: keys include the window, so both sides must be windowed alike and be
	// joined on their keys (ksqlDB cannot repartition windowed data).
	lw := p.sources[0].src
	if lsrc := p.onlySource(ls, rs, i+1); lsrc >= 0 {
		lw = p.sources[lsrc].src
	}
	rw := right.src
	if lw.windowed() || rw.windowed() {
		if st.kind == joinFK {
			return nil, errf("Foreign-key table-table joins are not supported on windowed tables.")
		}
		switch {
		case !lw.windowed() || !rw.windowed():
			w, n := lw, rw
			if !w.windowed() {
				w, n = rw, lw
			}
			return nil, errf("Can not join windowed source to non-windowed source.\n`%s` is %s windowed\n`%s` is not windowed", w.Name, w.WindowType, n.Name)
		case (lw.WindowType == ast.Session) != (rw.WindowType == ast.Session):
			return nil, errf("Incompatible windowed sources.\nLeft source: %s\nRight source: %s\nSession windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\nHopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources", lw.WindowType, rw.WindowType)
		case !leftIsKey || !rightIsKey || lw.WindowSizeMs != rw.WindowSizeMs:
			return nil, errf("Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
		}
		st.windowed = true
	}
	if containsMap(st.keyType) {
		name := "ROWKEY"
		if st.leftRef != nil {
			name = p.sources[st.leftRef.src].alias + "_" + st.leftRef.name
		}
		return nil, errf("Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more.", name, st.keyType)
	}
	// No co-partitioning check: one task reads every partition of all inputs into one state,
	// so inputs with different partition counts still meet (the corpus joins a 4-partition
	// table with a 1-partition one and expects results).
	return st, nil
}

func typeText(t *types.Type) string {
	if t == nil {
		return "NULL"
	}
	return t.String()
}

func containsMap(t *types.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case types.KindMap:
		return true
	case types.KindArray:
		return containsMap(t.Elem)
	case types.KindStruct:
		for _, f := range t.Fields {
			if containsMap(f.Type) {
				return true
			}
		}
	}
	return false
}

func isKeyOf(s *source, col string) bool {
	kc := s.keyCols()
	return len(kc) == 1 && kc[0].Name == col
}

func pseudoType(name string) *types.Type {
	if name == eval.RowPartition {
		return types.IntType
	}
	return types.BigintType
}

// onlySource returns the single left source referenced by the non-right side of ON.
func (p *queryPlan) onlySource(ls, rs map[int]bool, right int) int {
	m := ls
	if ls[right] {
		m = rs
	}
	for k := range m {
		return k
	}
	return -1
}

// sourceByAlias finds a bound source by alias (case-insensitively), -1 if none.
func (p *queryPlan) sourceByAlias(alias string) int {
	for i, bs := range p.sources {
		if strings.EqualFold(bs.alias, alias) {
			return i
		}
	}
	return -1
}

// queryExprs returns every expression of the query plus the join conditions.
func queryExprs(q *ast.Query, joins []*ast.Join) []ast.Expr {
	var xs []ast.Expr
	for _, it := range q.Select {
		if it.Expr != nil {
			xs = append(xs, it.Expr)
		}
	}
	xs = append(xs, q.Where, q.Having)
	xs = append(xs, q.GroupBy...)
	xs = append(xs, q.PartitionBy...)
	for _, j := range joins {
		xs = append(xs, j.On)
	}
	return xs
}

// checkQualifiers rejects qualifiers that name no source of the join.
func (p *queryPlan) checkQualifiers(joins []*ast.Join) error {
	bad := ""
	for _, it := range p.q.Select {
		if it.Star && it.Qualifier != "" && p.sourceByAlias(it.Qualifier) < 0 && bad == "" {
			bad = it.Qualifier
		}
	}
	for _, x := range queryExprs(p.q, joins) {
		walkExpr(x, func(n ast.Expr) {
			if c, ok := n.(*ast.ColumnRef); ok && c.Qualifier != "" && p.sourceByAlias(c.Qualifier) < 0 && bad == "" {
				bad = c.Qualifier
			}
		})
	}
	if bad != "" {
		return errf("Failed to prepare statement: '%s' is not a valid stream/table name or alias.", bad)
	}
	return nil
}

func (p *queryPlan) qualifiedPseudoRefs(joins []*ast.Join) []*ast.ColumnRef {
	var out []*ast.ColumnRef
	for _, x := range queryExprs(p.q, joins) {
		walkExpr(x, func(n ast.Expr) {
			if c, ok := n.(*ast.ColumnRef); ok && c.Qualifier != "" && eval.IsPseudo(c.Name) {
				out = append(out, c)
			}
		})
	}
	return out
}

// sourceHas reports whether source i has a column (or pseudo column) name.
func (p *queryPlan) sourceHas(i int, name string) bool {
	if eval.IsPseudo(name) {
		return true
	}
	return p.sources[i].src.Schema.Find(name) >= 0
}

// resolveOnRefs checks that every column of an ON side exists among the first n+1 sources and
// is unambiguous.
func (p *queryPlan) resolveOnRefs(x ast.Expr, upto int) error {
	var err error
	walkExpr(x, func(n ast.Expr) {
		c, ok := n.(*ast.ColumnRef)
		if !ok || err != nil {
			return
		}
		if c.Qualifier != "" {
			i := p.sourceByAlias(c.Qualifier)
			if i < 0 || i > upto || !p.sourceHas(i, c.Name) {
				err = errAtf(c, "JOIN ON column '%s.%s' cannot be resolved.", c.Qualifier, c.Name)
			}
			return
		}
		if eval.IsPseudo(c.Name) {
			return
		}
		var found []int
		for i := 0; i <= upto; i++ {
			if p.sourceHas(i, c.Name) {
				found = append(found, i)
			}
		}
		switch {
		case len(found) == 0:
			err = errAtf(c, "JOIN ON column '%s' cannot be resolved.", c.Name)
		case len(found) > 1:
			var names []string
			for _, i := range found {
				names = append(names, p.sources[i].alias+"."+c.Name)
			}
			e := errAtf(c, "Column '%s' is ambiguous. Could be %s.", c.Name, joinOr(names))
			e.Context = "Exception while preparing statement"
			err = e
		}
	})
	return err
}

// errAtf is a statement error positioned at x (the engine names the position in the message).
func errAtf(x ast.Expr, format string, args ...any) *Error {
	e := errf(format, args...)
	pos := x.ExprPos()
	e.Line, e.Col = pos.Line, pos.Col
	return e
}

func joinOr(ns []string) string {
	if len(ns) <= 1 {
		return strings.Join(ns, "")
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " or " + ns[len(ns)-1]
}

// qualifyRefs sets the qualifier of unqualified ON columns to their (unique) source, so that
// messages print them as ksqlDB does (T.ID) and compilation cannot pick another source.
func (p *queryPlan) qualifyRefs(x ast.Expr, upto int) {
	walkExpr(x, func(n ast.Expr) {
		c, ok := n.(*ast.ColumnRef)
		if !ok || eval.IsPseudo(c.Name) {
			return
		}
		if c.Qualifier != "" {
			if i := p.sourceByAlias(c.Qualifier); i >= 0 {
				c.Qualifier = p.sources[i].alias
			}
			return
		}
		for i := 0; i <= upto && i < len(p.sources); i++ {
			if p.sourceHas(i, c.Name) {
				c.Qualifier = p.sources[i].alias
				return
			}
		}
	})
}

// sourcesOf returns the sources an expression references.
func (p *queryPlan) sourcesOf(x ast.Expr) map[int]bool {
	out := map[int]bool{}
	walkExpr(x, func(n ast.Expr) {
		if c, ok := n.(*ast.ColumnRef); ok && c.Qualifier != "" {
			if i := p.sourceByAlias(c.Qualifier); i >= 0 {
				out[i] = true
			}
		}
	})
	return out
}

// bareColumn returns the column x is, when x is a plain (qualified) source column.
func (p *queryPlan) bareColumn(x ast.Expr) *colID {
	c, ok := x.(*ast.ColumnRef)
	if !ok || c.Qualifier == "" {
		return nil
	}
	i := p.sourceByAlias(c.Qualifier)
	if i < 0 {
		return nil
	}
	return &colID{i, c.Name}
}

// resolveRef finds the source column a projection reference names, nil when it is not a
// plain source column.
func (p *queryPlan) resolveRef(x ast.Expr) *colID {
	c, ok := x.(*ast.ColumnRef)
	if !ok || (c.Qualifier == "" && eval.IsPseudo(c.Name)) {
		return nil
	}
	if c.Qualifier != "" {
		i := p.sourceByAlias(c.Qualifier)
		if i < 0 || !p.sourceHas(i, c.Name) {
			return nil
		}
		return &colID{i, c.Name}
	}
	for i := range p.sources {
		if p.sourceHas(i, c.Name) {
			return &colID{i, c.Name}
		}
	}
	return nil
}

// syntheticKeyName picks ROWKEY, or ROWKEY_<n> when a source already has that column.
func (p *queryPlan) syntheticKeyName() string {
	used := map[string]bool{}
	for _, bs := range p.sources {
		for _, c := range bs.src.Schema.Columns {
			used[c.Name] = true
		}
	}
	name := "ROWKEY"
	for n := 1; used[name]; n++ {
		name = fmt.Sprintf("ROWKEY_%d", n)
	}
	return name
}

// joinColumnName is a join column's name in ksqlDB's joined schema (ALIAS_COL).
func (p *queryPlan) joinColumnName(c colID) string {
	return p.sources[c.src].alias + "_" + c.name
}

// joinKey decides the key of a (non-aggregated, non-repartitioned) join result: the join
// expression (named by the first projection item referencing either side's join column),
// the synthetic ROWKEY, or, for foreign-key joins, the left table's primary key.
func (e *Engine) joinKey(p *queryPlan, persistent bool) error {
	jp := p.join
	p.outKind = ast.Stream
	if jp.table {
		p.outKind = ast.Table
	}
	p.keyIdx = nil
	last := jp.steps[len(jp.steps)-1]
	if last.kind == joinFK {
		return p.fkKey(persistent)
	}
	var cands []colID
	if jp.synthetic == "" {
		if last.leftRef != nil {
			cands = append(cands, *last.leftRef)
		}
		if last.rightRef != nil {
			cands = append(cands, *last.rightRef)
		}
	}
	matches := func(it projItem) (colID, bool) {
		if jp.synthetic != "" {
			c, ok := it.ast.(*ast.ColumnRef)
			return colID{-1, jp.synthetic}, ok && c.Qualifier == "" && c.Name == jp.synthetic
		}
		r := p.resolveRef(it.ast)
		if r == nil {
			return colID{}, false
		}
		for _, c := range cands {
			if c == *r {
				return c, true
			}
		}
		return colID{}, false
	}
	// ksqlDB names the key after the left join column when the projection has it, else after
	// the right one.
	found := -1
	var keyCol colID
	var aliases []string
	for pass := 0; pass < 2 && found < 0; pass++ {
		for i, it := range p.proj {
			if it.tableFn != nil {
				continue
			}
			c, ok := matches(it)
			if !ok || (pass == 0 && len(cands) > 1 && c != cands[0]) {
				continue
			}
			if found < 0 {
				found, keyCol = i, c
				aliases = append(aliases, it.name)
			} else if c == keyCol {
				aliases = append(aliases, it.name)
			}
		}
	}
	if len(aliases) > 1 {
		sort.Strings(aliases)
		name := jp.synthetic
		if name == "" {
			name = p.joinColumnName(keyCol)
		}
		return errf("The projection contains a key column (`%s`) more than once, aliased as: %s.", name, joinNames(aliases))
	}
	if found < 0 {
		if !persistent {
			return p.finishSchema(persistent)
		}
		if jp.synthetic != "" {
			return errf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the join expression %s in its projection (eg, SELECT %s...).\n%s was added as a synthetic key column because the join criteria did not match any source column. This expression must be included in the projection and may be aliased.",
				p.sinkName, jp.synthetic, jp.synthetic, jp.synthetic)
		}
		var names []string
		for _, c := range cands {
			names = append(names, p.sources[c.src].alias+"."+c.name)
		}
		what := "join expression"
		if len(names) > 1 {
			what = "join expressions"
		}
		return errf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).",
			p.sinkName, what, joinOr(names), names[0])
	}
	// The key is the join expression's value, not the named column's: in an outer join the
	// named side may be missing while the key is still set from the other side.
	slot, typ := jp.keySlot, p.proj[found].expr.Type
	p.proj[found].expr = &eval.Expr{Type: typ, Eval: func(r *eval.Rec) (any, error) { return r.Vals[slot], nil }}
	p.proj[found].isKey, p.proj[found].joinKey = true, true
	p.keyIdx = []int{found}
	return p.finishSchema(persistent)
}

// fkKey keys a foreign-key join result by the left table's primary key columns.
func (p *queryPlan) fkKey(persistent bool) error {
	left := p.sources[0]
	var missing []string
	for _, kc := range left.src.keyCols() {
		found := -1
		var aliases []string
		for i, it := range p.proj {
			if it.tableFn != nil {
				continue
			}
			if r := p.resolveRef(it.ast); r != nil && r.src == 0 && r.name == kc.Name {
				if found < 0 {
					found = i
				}
				aliases = append(aliases, it.name)
			}
		}
		if len(aliases) > 1 {
			sort.Strings(aliases)
			return errf("The projection contains a key column (`%s`) more than once, aliased as: %s.", p.joinColumnName(colID{0, kc.Name}), joinNames(aliases))
		}
		if found < 0 {
			missing = append(missing, "`"+kc.Name+"`")
			continue
		}
		p.proj[found].isKey = true
		p.keyIdx = append(p.keyIdx, found)
	}
	if len(missing) > 0 && persistent {
		if len(missing) == 1 {
			return errf("Primary key column missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`%s`). Missing column: %s.", left.alias, missing[0])
		}
		return errf("Primary key columns missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`%s`). Missing columns: %s.", left.alias, strings.Join(missing, ", "))
	}
	return p.finishSchema(persistent)
}

// joinProjectionName names an unaliased qualified column reference in a join: ALIAS_COL when
// the column name occurs in more than one source (pseudo columns always do), else COL.
func joinProjectionName(x *ast.ColumnRef, inCols []eval.Col) string {
	if x.Qualifier == "" {
		return x.Name
	}
	quals := map[string]bool{}
	alias := x.Qualifier
	for _, c := range inCols {
		if c.Qualifier == "" || c.Qualifier == hiddenQualifier {
			continue
		}
		quals[strings.ToUpper(c.Qualifier)] = true
		if strings.EqualFold(c.Qualifier, x.Qualifier) {
			alias = c.Qualifier
		}
	}
	if len(quals) < 2 {
		return x.Name
	}
	if eval.IsPseudo(x.Name) {
		return alias + "_" + x.Name
	}
	n := map[string]bool{}
	for _, c := range inCols {
		if c.Name == x.Name && c.Qualifier != "" && c.Qualifier != hiddenQualifier {
			n[strings.ToUpper(c.Qualifier)] = true
		}
	}
	if len(n) > 1 {
		return alias + "_" + x.Name
	}
	return x.Name
}
