package parse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// Format prints a statement as canonical ksql text ending in ';': keywords upper-case, names
// back-quoted only when they need it, every operator application parenthesized, durations in
// the largest exact unit. Parse(Format(s)) yields an equivalent statement; EXPLAIN and the
// parse golden tests use this form.
func Format(s ast.Statement) string {
	var f formatter
	f.stmt(s)
	f.b.WriteString(";")
	return f.b.String()
}

// FormatExpr prints an expression in the canonical form used by Format.
func FormatExpr(e ast.Expr) string {
	var f formatter
	f.expr(e)
	return f.b.String()
}

// FormatType prints a type in ksql syntax, quoting names only where needed.
func FormatType(t *types.Type) string {
	var f formatter
	f.typ(t)
	return f.b.String()
}

type formatter struct{ b strings.Builder }

func (f *formatter) w(parts ...string) {
	for _, s := range parts {
		f.b.WriteString(s)
	}
}

// needsQuote reports whether name would not read back as itself unquoted. Beyond reserved words,
// a few non-reserved ones are quoted because they start constructs (MAP(, ARRAY[, EMIT CHANGES).
func needsQuote(name string) bool {
	if name == "" {
		return true
	}
	c := name[0]
	if !(c >= 'A' && c <= 'Z' || c == '_') {
		return true
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '@') {
			return true
		}
	}
	switch name {
	case "ARRAY", "MAP", "STRUCT", "EMIT", "PARTITION", "TABLES", "STREAMS", "FUNCTION", "CONNECTOR":
		return true
	}
	return isReserved(name)
}

// Ident prints a name as ksql source: bare when it reads back unchanged, else back-quoted.
func Ident(name string) string {
	if needsQuote(name) {
		return types.QuoteIdent(name)
	}
	return name
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (f *formatter) stmt(s ast.Statement) {
	switch s := s.(type) {
	case *ast.CreateSource:
		f.w("CREATE ")
		if s.OrReplace {
			f.w("OR REPLACE ")
		}
		if s.IsSource {
			f.w("SOURCE ")
		}
		f.w(s.Kind.String(), " ")
		if s.IfNotExists {
			f.w("IF NOT EXISTS ")
		}
		f.w(Ident(s.Name))
		if s.Columns != nil {
			f.w(" (")
			f.columns(s.Columns)
			f.w(")")
		}
		f.with(s.With)
	case *ast.CreateAsSelect:
		f.w("CREATE ")
		if s.OrReplace {
			f.w("OR REPLACE ")
		}
		f.w(s.Kind.String(), " ")
		if s.IfNotExists {
			f.w("IF NOT EXISTS ")
		}
		f.w(Ident(s.Name))
		f.with(s.With)
		f.w(" AS ")
		f.query(s.Query)
	case *ast.InsertSelect:
		f.w("INSERT INTO ", Ident(s.Target))
		f.with(s.With)
		f.w(" ")
		f.query(s.Query)
	case *ast.InsertValues:
		f.w("INSERT INTO ", Ident(s.Target))
		if s.Columns != nil {
			f.w(" (")
			for i, c := range s.Columns {
				if i > 0 {
					f.w(", ")
				}
				f.w(Ident(c))
			}
			f.w(")")
		}
		f.w(" VALUES (")
		f.exprs(s.Values)
		f.w(")")
	case *ast.Select:
		f.query(s.Query)
	case *ast.Show:
		f.w("SHOW ")
		if s.All {
			f.w("ALL ")
		}
		f.w(s.What)
		if s.Extended {
			f.w(" EXTENDED")
		}
	case *ast.Describe:
		f.w("DESCRIBE ")
		switch {
		case s.Function:
			f.w("FUNCTION ", Ident(s.Name))
		case s.What != "":
			f.w(s.What)
		default:
			f.w(Ident(s.Name))
		}
		if s.Extended {
			f.w(" EXTENDED")
		}
	case *ast.Explain:
		f.w("EXPLAIN ")
		if s.Statement != nil {
			f.stmt(s.Statement)
		} else {
			f.w(Ident(s.QueryID))
		}
	case *ast.Drop:
		f.w("DROP ", s.Kind.String(), " ")
		if s.IfExists {
			f.w("IF EXISTS ")
		}
		f.w(Ident(s.Name))
		if s.DeleteTopic {
			f.w(" DELETE TOPIC")
		}
	case *ast.Terminate:
		f.w("TERMINATE ")
		if s.All {
			f.w("ALL")
		} else {
			f.w(Ident(s.QueryID))
		}
	case *ast.PauseResume:
		if s.Resume {
			f.w("RESUME ")
		} else {
			f.w("PAUSE ")
		}
		if s.All {
			f.w("ALL")
		} else {
			f.w(Ident(s.QueryID))
		}
	case *ast.Print:
		f.w("PRINT ", quoteString(s.Topic))
		if s.FromBeginning {
			f.w(" FROM BEGINNING")
		}
		if s.Interval != 0 {
			f.w(" INTERVAL ", strconv.Itoa(s.Interval))
		}
		if s.Limit >= 0 {
			f.w(" LIMIT ", strconv.Itoa(s.Limit))
		}
	case *ast.SetProperty:
		f.w("SET ", quoteString(s.Name), "=", quoteString(s.Value))
	case *ast.UnsetProperty:
		f.w("UNSET ", quoteString(s.Name))
	case *ast.Define:
		f.w("DEFINE ", s.Name, " = ", quoteString(s.Value))
	case *ast.Undefine:
		f.w("UNDEFINE ", s.Name)
	case *ast.CreateType:
		f.w("CREATE TYPE ")
		if s.IfNotExists {
			f.w("IF NOT EXISTS ")
		}
		f.w(Ident(s.Name), " AS ")
		f.typ(s.Type)
	case *ast.DropType:
		f.w("DROP TYPE ")
		if s.IfExists {
			f.w("IF EXISTS ")
		}
		f.w(Ident(s.Name))
	case *ast.AlterSource:
		f.w("ALTER ", s.Kind.String(), " ", Ident(s.Name), " ")
		for i, c := range s.Columns {
			if i > 0 {
				f.w(", ")
			}
			f.w("ADD COLUMN ", Ident(c.Name), " ")
			f.typ(c.Type)
		}
	case *ast.Assert:
		f.w("ASSERT ")
		if s.NotExists {
			f.w("NOT EXISTS ")
		}
		if s.Subject != "" || s.SchemaID >= 0 || s.Topic == "" {
			f.w("SCHEMA")
			if s.Subject != "" {
				f.w(" SUBJECT ", quoteString(s.Subject))
			}
			if s.SchemaID >= 0 {
				f.w(" ID ", strconv.Itoa(s.SchemaID))
			}
		} else {
			f.w("TOPIC ", quoteString(s.Topic))
			f.with(s.With)
		}
		if s.TimeoutMs >= 0 {
			f.w(" TIMEOUT ", formatDuration(s.TimeoutMs))
		}
	case nil:
		f.w("<nil>")
	default:
		f.w(fmt.Sprintf("<%T>", s))
	}
}

func (f *formatter) columns(cols []ast.ColumnDef) {
	for i, c := range cols {
		if i > 0 {
			f.w(", ")
		}
		f.w(Ident(c.Name), " ")
		f.typ(c.Type)
		switch {
		case c.Key && c.Primary:
			f.w(" PRIMARY KEY")
		case c.Key:
			f.w(" KEY")
		case c.Headers && c.HeaderKey != "":
			f.w(" HEADER(", quoteString(c.HeaderKey), ")")
		case c.Headers:
			f.w(" HEADERS")
		}
	}
}

func (f *formatter) with(ps ast.Properties) {
	if ps == nil {
		return
	}
	f.w(" WITH (")
	for i, p := range ps {
		if i > 0 {
			f.w(", ")
		}
		if needsQuote(p.Key) {
			f.w(quoteString(p.Key))
		} else {
			f.w(p.Key)
		}
		f.w("=")
		f.expr(p.Value)
	}
	f.w(")")
}

func (f *formatter) query(q *ast.Query) {
	if q == nil {
		f.w("<nil>")
		return
	}
	f.w("SELECT ")
	for i, it := range q.Select {
		if i > 0 {
			f.w(", ")
		}
		switch {
		case it.Star && it.Expr != nil:
			f.expr(it.Expr)
			f.w("->*")
		case it.Star && it.Qualifier != "":
			f.w(Ident(it.Qualifier), ".*")
		case it.Star:
			f.w("*")
		default:
			f.expr(it.Expr)
			if it.Alias != "" {
				f.w(" AS ", Ident(it.Alias))
			}
		}
	}
	f.w(" FROM ")
	f.relation(q.From)
	if w := q.Window; w != nil {
		f.w(" WINDOW ", w.Type.String(), " (")
		if w.Type == ast.Session {
			f.w(formatDuration(w.SizeMs))
		} else {
			f.w("SIZE ", formatDuration(w.SizeMs))
		}
		if w.Type == ast.Hopping {
			f.w(", ADVANCE BY ", formatDuration(w.AdvanceMs))
		}
		if w.RetentionMs >= 0 {
			f.w(", RETENTION ", formatDuration(w.RetentionMs))
		}
		if w.GraceMs >= 0 {
			f.w(", GRACE PERIOD ", formatDuration(w.GraceMs))
		}
		f.w(")")
	}
	if q.Where != nil {
		f.w(" WHERE ")
		f.expr(q.Where)
	}
	if q.GroupBy != nil {
		f.w(" GROUP BY ")
		f.byList(q.GroupBy)
	}
	if q.PartitionBy != nil {
		f.w(" PARTITION BY ")
		f.byList(q.PartitionBy)
	}
	if q.Having != nil {
		f.w(" HAVING ")
		f.expr(q.Having)
	}
	switch q.Emit {
	case ast.EmitChanges:
		f.w(" EMIT CHANGES")
	case ast.EmitFinal:
		f.w(" EMIT FINAL")
	}
	if q.Limit >= 0 {
		f.w(" LIMIT ", strconv.Itoa(q.Limit))
	}
}

func (f *formatter) byList(es []ast.Expr) {
	if len(es) == 0 {
		f.w("()")
		return
	}
	f.exprs(es)
}

func (f *formatter) relation(r ast.Relation) {
	switch r := r.(type) {
	case *ast.SourceRef:
		f.w(Ident(r.Name))
		if r.Alias != "" {
			f.w(" AS ", Ident(r.Alias))
		}
	case *ast.Join:
		f.relation(r.Left)
		f.w(" ", r.Type.String(), " JOIN ")
		f.relation(r.Right)
		if wi := r.Within; wi != nil {
			if wi.BeforeMs == wi.AfterMs {
				f.w(" WITHIN ", formatDuration(wi.BeforeMs))
			} else {
				f.w(" WITHIN (", formatDuration(wi.BeforeMs), ", ", formatDuration(wi.AfterMs), ")")
			}
			if wi.GraceMs >= 0 {
				f.w(" GRACE PERIOD ", formatDuration(wi.GraceMs))
			}
		}
		f.w(" ON ")
		f.expr(r.On)
	default:
		f.w("<nil>")
	}
}

// formatDuration prints milliseconds in the largest unit that divides them exactly.
func formatDuration(ms int64) string {
	units := []struct {
		n    int64
		name string
	}{{86400000, "DAY"}, {3600000, "HOUR"}, {60000, "MINUTE"}, {1000, "SECOND"}, {1, "MILLISECOND"}}
	for _, u := range units {
		if ms%u.n == 0 && (ms != 0 || u.n == 1) {
			v := ms / u.n
			if v == 1 {
				return "1 " + u.name
			}
			return strconv.FormatInt(v, 10) + " " + u.name + "S"
		}
	}
	return strconv.FormatInt(ms, 10) + " MILLISECONDS"
}

func (f *formatter) exprs(es []ast.Expr) {
	for i, e := range es {
		if i > 0 {
			f.w(", ")
		}
		f.expr(e)
	}
}

func (f *formatter) expr(e ast.Expr) {
	switch e := e.(type) {
	case nil:
		f.w("<nil>")
	case *ast.NullLit:
		f.w("NULL")
	case *ast.BoolLit:
		if e.Val {
			f.w("TRUE")
		} else {
			f.w("FALSE")
		}
	case *ast.IntLit:
		f.w(strconv.FormatInt(e.Val, 10))
	case *ast.DecimalLit:
		f.w(e.Text)
	case *ast.DoubleLit:
		f.w(strconv.FormatFloat(e.Val, 'E', -1, 64))
	case *ast.StringLit:
		f.w(quoteString(e.Val))
	case *ast.ColumnRef:
		if e.Qualifier != "" {
			f.w(Ident(e.Qualifier), ".")
		}
		f.w(Ident(e.Name))
	case *ast.Dereference:
		f.expr(e.Base)
		f.w("->", Ident(e.Field))
	case *ast.Subscript:
		f.expr(e.Base)
		f.w("[")
		f.expr(e.Index)
		f.w("]")
	case *ast.BinaryOp:
		f.w("(")
		f.expr(e.L)
		f.w(" ", e.Op, " ")
		f.expr(e.R)
		f.w(")")
	case *ast.UnaryOp:
		f.w("(", e.Op)
		if e.Op == "NOT" {
			f.w(" ")
		}
		// Keep -(5) a unary minus: "-5" would read back as a negative literal.
		if isNumLit(e.X) {
			f.w("(")
			f.expr(e.X)
			f.w(")")
		} else {
			f.expr(e.X)
		}
		f.w(")")
	case *ast.IsNull:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" IS NOT NULL)")
		} else {
			f.w(" IS NULL)")
		}
	case *ast.IsDistinct:
		f.w("(")
		f.expr(e.L)
		if e.Not {
			f.w(" IS NOT DISTINCT FROM ")
		} else {
			f.w(" IS DISTINCT FROM ")
		}
		f.expr(e.R)
		f.w(")")
	case *ast.Between:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		f.w(" BETWEEN ")
		f.expr(e.Lo)
		f.w(" AND ")
		f.expr(e.Hi)
		f.w(")")
	case *ast.InList:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		f.w(" IN (")
		f.exprs(e.List)
		f.w("))")
	case *ast.Like:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		f.w(" LIKE ")
		f.expr(e.Pattern)
		if e.Escape != nil {
			f.w(" ESCAPE ")
			f.expr(e.Escape)
		}
		f.w(")")
	case *ast.Case:
		f.w("CASE")
		if e.Operand != nil {
			f.w(" ")
			f.expr(e.Operand)
		}
		for _, wh := range e.Whens {
			f.w(" WHEN ")
			f.expr(wh.Cond)
			f.w(" THEN ")
			f.expr(wh.Result)
		}
		if e.Else != nil {
			f.w(" ELSE ")
			f.expr(e.Else)
		}
		f.w(" END")
	case *ast.Cast:
		f.w("CAST(")
		f.expr(e.X)
		f.w(" AS ")
		f.typ(e.To)
		f.w(")")
	case *ast.FuncCall:
		f.w(Ident(e.Name), "(")
		if e.Distinct {
			f.w("DISTINCT ")
		}
		if e.Star {
			f.w("*")
		}
		f.exprs(e.Args)
		f.w(")")
	case *ast.Lambda:
		if len(e.Params) == 1 {
			f.w(Ident(e.Params[0]))
		} else {
			f.w("(")
			for i, p := range e.Params {
				if i > 0 {
					f.w(", ")
				}
				f.w(Ident(p))
			}
			f.w(")")
		}
		f.w(" => ")
		f.expr(e.Body)
	case *ast.ArrayCtor:
		f.w("ARRAY[")
		f.exprs(e.Elems)
		f.w("]")
	case *ast.MapCtor:
		f.w("MAP(")
		for i := range e.Keys {
			if i > 0 {
				f.w(", ")
			}
			f.expr(e.Keys[i])
			f.w(":=")
			if i < len(e.Vals) {
				f.expr(e.Vals[i])
			}
		}
		f.w(")")
	case *ast.StructCtor:
		f.w("STRUCT(")
		for i, n := range e.Names {
			if i > 0 {
				f.w(", ")
			}
			f.w(Ident(n), ":=")
			if i < len(e.Vals) {
				f.expr(e.Vals[i])
			}
		}
		f.w(")")
	case *ast.IntervalUnit:
		f.w(e.Unit)
	default:
		f.w(fmt.Sprintf("<%T>", e))
	}
}

func isNumLit(e ast.Expr) bool {
	switch e.(type) {
	case *ast.IntLit, *ast.DecimalLit, *ast.DoubleLit:
		return true
	}
	return false
}

func (f *formatter) typ(t *types.Type) {
	if t == nil {
		f.w("<nil>")
		return
	}
	switch t.Kind {
	case types.KindDecimal:
		f.w(fmt.Sprintf("DECIMAL(%d, %d)", t.Precision, t.Scale))
	case types.KindArray:
		f.w("ARRAY<")
		f.typ(t.Elem)
		f.w(">")
	case types.KindMap:
		f.w("MAP<")
		f.typ(t.Key)
		f.w(", ")
		f.typ(t.Elem)
		f.w(">")
	case types.KindStruct:
		f.w("STRUCT<")
		for i, fl := range t.Fields {
			if i > 0 {
				f.w(", ")
			}
			f.w(Ident(fl.Name), " ")
			f.typ(fl.Type)
		}
		f.w(">")
	case types.KindNamed:
		f.w(Ident(t.Name))
	default:
		f.w(t.String())
	}
}
