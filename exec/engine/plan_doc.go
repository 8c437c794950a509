package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/parse"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
)

// This file turns the planner's decisions (a queryPlan bound against the catalog) into the
// execution plan document the command log persists. plan_build.go is the way back.

// planDoc describes a planned persistent query as an execution plan.
func (p *queryPlan) planDoc(id, kind string, sink *source, config map[string]string) *plan.Query {
	q := &plan.Query{Version: plan.Version, ID: id, Kind: kind, Sink: sourceDoc(sink), Config: config, Root: p.rootStep()}
	if kind == "CSAS" || kind == "CTAS" {
		q.Tasks = p.taskLayout(sink)
	}
	return q
}

// taskLayout decides how a CSAS/CTAS runs (see plan.Query.Tasks).
func (p *queryPlan) taskLayout(sink *source) string {
	switch {
	case p.repartitionable(sink):
		return plan.TasksRepartition
	case p.partitionParallel(sink) || p.aggPartitionParallel(sink) || p.joinPartitionParallel(sink):
		return plan.TasksPerPartition
	}
	return plan.TasksSingle
}

func (p *queryPlan) rootStep() plan.Step {
	var in plan.Step
	if p.join != nil {
		in = p.joinStep()
	} else {
		bs := p.sources[0]
		in = &plan.SourceStep{Alias: bs.alias, Source: sourceDoc(bs.src)}
	}
	if p.where != nil {
		in = &plan.FilterStep{Input: in, Condition: parse.FormatExpr(p.q.Where)}
	}
	if pp := p.partition; pp != nil {
		st := &plan.PartitionByStep{Input: in, Null: pp.null, Layout: layoutDoc(pp.outCols), Take: pp.take}
		for i, name := range pp.keyNames {
			st.Keys = append(st.Keys, plan.NamedExpr{Name: name, Expr: parse.FormatExpr(p.q.PartitionBy[i])})
		}
		in = st
	}
	if a := p.agg; a != nil {
		st := &plan.AggregateStep{Input: in, EmitFinal: p.emitFinal, Window: windowDoc(a.window)}
		for _, g := range p.q.GroupBy {
			st.GroupBy = append(st.GroupBy, parse.FormatExpr(g))
		}
		for _, c := range a.calls {
			st.Aggregates = append(st.Aggregates, parse.FormatExpr(c.call))
		}
		if p.q.Having != nil {
			st.Having = parse.FormatExpr(p.q.Having)
		}
		in = st
	}
	sel := &plan.SelectStep{Input: in, KeyOrder: append([]int{}, p.keyIdx...)}
	for _, it := range p.proj {
		sel.Items = append(sel.Items, plan.SelectItem{Name: it.name, Expr: parse.FormatExpr(it.ast), TableFunction: it.tableFn != nil, JoinKey: it.joinKey})
	}
	return &plan.SinkStep{Input: sel, Kind: kindDoc(p.outKind), Schema: columnsDoc(p.outSchema.Columns)}
}

func (p *queryPlan) joinStep() *plan.JoinStep {
	jp := p.join
	st := &plan.JoinStep{Layout: layoutDoc(p.inCols), KeySlot: jp.keySlot, KeyType: typeDoc(jp.keyType), SyntheticKey: jp.synthetic, Table: jp.table}
	for _, bs := range p.sources {
		st.Sources = append(st.Sources, &plan.SourceStep{Alias: bs.alias, Source: sourceDoc(bs.src)})
	}
	for _, ps := range jp.pseudo {
		st.Pseudo = append(st.Pseudo, plan.PseudoSlot{Source: ps.src, Name: ps.name, Slot: ps.idx})
	}
	for _, js := range jp.steps {
		c := plan.JoinClause{
			Type: js.typ.String(), Kind: js.kind, LeftKey: parse.FormatExpr(js.leftAst), RightKey: parse.FormatExpr(js.rightAst),
			LeftRef: colIDDoc(js.leftRef), RightRef: colIDDoc(js.rightRef), Right: js.rightIdx, KeyType: typeDoc(js.keyType),
			LeftTable: js.leftTable, RightTable: js.rightTable, Windowed: js.windowed, LeftSlots: js.leftSlots, RightSlots: js.rightSlots,
		}
		if w := js.within; w != nil {
			c.Within = &plan.Within{BeforeMs: w.BeforeMs, AfterMs: w.AfterMs, GraceMs: w.GraceMs}
		}
		st.Clauses = append(st.Clauses, c)
	}
	return st
}

func colIDDoc(c *colID) *plan.ColumnID {
	if c == nil {
		return nil
	}
	return &plan.ColumnID{Source: c.src, Name: c.name}
}

func windowDoc(w *ast.Window) *plan.Window {
	if w == nil {
		return nil
	}
	return &plan.Window{Type: w.Type.String(), SizeMs: w.SizeMs, AdvanceMs: w.AdvanceMs, RetentionMs: w.RetentionMs, GraceMs: w.GraceMs}
}

func kindDoc(k ast.SourceKind) string {
	if k == ast.Table {
		return "TABLE"
	}
	return "STREAM"
}

func typeDoc(t *types.Type) string {
	if t == nil {
		return ""
	}
	return parse.FormatType(t)
}

func layoutDoc(cols []eval.Col) []plan.LayoutColumn {
	out := make([]plan.LayoutColumn, len(cols))
	for i, c := range cols {
		out[i] = plan.LayoutColumn{Qualifier: c.Qualifier, Name: c.Name, Type: typeDoc(c.Type)}
	}
	return out
}

var namespaceNames = map[types.Namespace]string{types.KeyColumn: "KEY", types.ValueColumn: "VALUE", types.HeaderColumn: "HEADER"}

func columnsDoc(cols []types.Column) []plan.Column {
	out := make([]plan.Column, len(cols))
	for i, c := range cols {
		out[i] = plan.Column{Name: c.Name, Type: typeDoc(c.Type), Namespace: namespaceNames[c.Namespace], HeaderKey: c.HeaderKey}
	}
	return out
}

func formatDoc(f serde.Format) plan.Format {
	d := plan.Format{Name: f.Name, Unwrapped: f.Unwrapped}
	if f.Delimiter != 0 {
		d.Delimiter = string(f.Delimiter)
	}
	return d
}

// sourceDoc snapshots a catalog source.
func sourceDoc(s *source) *plan.Source {
	d := &plan.Source{
		Name: s.Name, Kind: kindDoc(s.Kind), Topic: s.Topic, Columns: columnsDoc(s.Schema.Columns),
		Key: formatDoc(s.KeyFormat), Value: formatDoc(s.ValueFormat),
		TimestampColumn: s.TimestampCol, TimestampFormat: s.TimestampFormat,
		IsSource: s.IsSource, Partitions: s.Partitions,
	}
	if s.windowed() {
		d.WindowType, d.WindowSizeMs = s.WindowType.String(), s.WindowSizeMs
	}
	return d
}

// sourceFromDoc rebuilds a catalog source from its snapshot.
func sourceFromDoc(d *plan.Source) (*source, error) {
	if d == nil {
		return nil, fmt.Errorf("plan: missing source")
	}
	cols, err := columnsFromDoc(d.Columns)
	if err != nil {
		return nil, fmt.Errorf("plan: source %s: %w", d.Name, err)
	}
	kind, err := kindFromDoc(d.Kind)
	if err != nil {
		return nil, err
	}
	s := &source{
		Name: d.Name, Kind: kind, Topic: d.Topic, Schema: &types.Schema{Columns: cols},
		TimestampCol: d.TimestampColumn, TimestampFormat: d.TimestampFormat,
		IsSource: d.IsSource, Partitions: d.Partitions,
	}
	if s.KeyFormat, err = formatFromDoc(d.Key); err != nil {
		return nil, err
	}
	if s.ValueFormat, err = formatFromDoc(d.Value); err != nil {
		return nil, err
	}
	if d.WindowType != "" {
		if s.WindowType, err = windowTypeFromDoc(d.WindowType); err != nil {
			return nil, err
		}
		s.WindowSizeMs = d.WindowSizeMs
	}
	return s, nil
}

func kindFromDoc(k string) (ast.SourceKind, error) {
	switch k {
	case "STREAM":
		return ast.Stream, nil
	case "TABLE":
		return ast.Table, nil
	}
	return 0, fmt.Errorf("plan: unknown source kind %q", k)
}

func windowTypeFromDoc(w string) (ast.WindowType, error) {
	for _, t := range []ast.WindowType{ast.Tumbling, ast.Hopping, ast.Session} {
		if t.String() == w {
			return t, nil
		}
	}
	return 0, fmt.Errorf("plan: unknown window type %q", w)
}

func formatFromDoc(d plan.Format) (serde.Format, error) {
	f := serde.Format{Name: d.Name, Unwrapped: d.Unwrapped}
	switch len(d.Delimiter) {
	case 0:
	case 1:
		f.Delimiter = d.Delimiter[0]
	default:
		return f, fmt.Errorf("plan: delimiter %q is not one byte", d.Delimiter)
	}
	return f, nil
}

func typeFromDoc(s string) (*types.Type, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parse.ParseType(s)
	if err != nil {
		return nil, fmt.Errorf("plan: type %q: %w", s, err)
	}
	return t, nil
}

func columnsFromDoc(cols []plan.Column) ([]types.Column, error) {
	out := make([]types.Column, len(cols))
	for i, c := range cols {
		t, err := typeFromDoc(c.Type)
		if err != nil {
			return nil, err
		}
		out[i] = types.Column{Name: c.Name, Type: t, HeaderKey: c.HeaderKey}
		switch c.Namespace {
		case "KEY":
			out[i].Namespace = types.KeyColumn
		case "VALUE":
			out[i].Namespace = types.ValueColumn
		case "HEADER":
			out[i].Namespace = types.HeaderColumn
		default:
			return nil, fmt.Errorf("plan: column %s: unknown namespace %q", c.Name, c.Namespace)
		}
	}
	return out, nil
}

func layoutFromDoc(cols []plan.LayoutColumn) ([]eval.Col, error) {
	out := make([]eval.Col, len(cols))
	for i, c := range cols {
		t, err := typeFromDoc(c.Type)
		if err != nil {
			return nil, err
		}
		out[i] = eval.Col{Qualifier: c.Qualifier, Name: c.Name, Type: t}
	}
	return out, nil
}

// planConfig keeps the properties a plan's meaning depends on: function settings
// (ksql.functions.*), where a new query starts reading (auto.offset.reset) and whether a bad
// timestamp stops it (ksql.timestamp.throw.on.invalid).
func planConfig(props map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, "ksql.functions.") || k == "auto.offset.reset" || k == "ksql.streams.auto.offset.reset" || k == "ksql.timestamp.throw.on.invalid" {
			out[k] = v
		}
	}
	return out
}

// sameColumns reports whether two schemas have the same columns: names, types, namespaces.
func sameColumns(a, b []types.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Namespace != y.Namespace || x.HeaderKey != y.HeaderKey || (x.Type == nil) != (y.Type == nil) || (x.Type != nil && !x.Type.Equal(y.Type)) {
			return false
		}
	}
	return true
}

// queryNumber is the counter suffix of a generated query id (CSAS_X_3 → 3), -1 for ids
// users chose (INSERT ... WITH (QUERY_ID=...)).
func queryNumber(id string) int {
	i := strings.LastIndexByte(id, '_')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return -1
	}
	return n
}
