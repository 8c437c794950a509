package parse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	tparser "github.com/pingcap/tidb/pkg/parser"
	tast "github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal value implementation TiDB's parser needs

	"github.com/sluicedb/sluice/sql/ast"
)

// tidbPool holds TiDB parsers: one is not safe for concurrent use and building one allocates a
// lexer and yacc tables, so they are reused.
var tidbPool = sync.Pool{New: func() any {
	p := tparser.New()
	// ANSI_QUOTES and NO_BACKSLASH_ESCAPES keep TiDB from reinterpreting anything; our rewritten
	// text contains no user strings, but defensive modes cost nothing.
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes)
	return p
}}

// tidbErrRe matches TiDB's syntax errors: `line 1 column 23 near "rest of input"(total length N)`.
var tidbErrRe = regexp.MustCompile(`(?s)line \d+ column \d+ near "(.*)"(?:\(total length (\d+)\))?`)

// parseSelect runs TiDB over rewritten text and maps a failure back to the source position.
func (p *parser) parseSelect(text string, segs []seg) *tast.SelectStmt {
	// The returned tree may share memory with the TiDB parser, so the parser stays checked
	// out until the caller has converted the tree (releaseTiDB); returning it to the pool
	// earlier let a concurrent parse overwrite nodes still being read.
	p.releaseTiDB()
	tp := tidbPool.Get().(*tparser.Parser)
	p.tidb = tp
	stmt, err := tp.ParseOneStmt(text, "", "")
	if err != nil {
		at := len(text)
		if m := tidbErrRe.FindStringSubmatch(err.Error()); m != nil {
			rest := len(m[1])
			if m[2] != "" {
				if n, e := strconv.Atoi(m[2]); e == nil {
					rest = n
				}
			}
			at = len(text) - rest
		}
		off := p.peek().off
		if at < len(text) {
			off = srcOff(segs, at)
		} else if p.i > 0 {
			off = p.toks[p.i-1].end
		}
		p.failTok(off)
		return nil
	}
	sel, ok := stmt.(*tast.SelectStmt)
	if !ok {
		p.failTok(p.peek().off)
		return nil
	}
	return sel
}

// failTok reports a syntax error at the source token starting at (or containing) off.
func (p *parser) failTok(off int) {
	for _, t := range p.toks {
		if t.off <= off && off < t.end || t.off == off {
			p.syntaxErr(t)
			return
		}
	}
	p.failAt(off, Syntax, "Syntax error", styleLine)
}

// releaseTiDB returns the TiDB parser taken by parseSelect to the pool.
func (p *parser) releaseTiDB() {
	if p.tidb != nil {
		tidbPool.Put(p.tidb)
		p.tidb = nil
	}
}

// convertQuery fills qp.q from TiDB's parse of the synthetic statement.
func (p *parser) convertQuery(text string, segs []seg, w *rewriter, qp *queryParts) {
	defer p.releaseTiDB()
	sel := p.parseSelect(text, segs)
	if sel == nil {
		return
	}
	c := &converter{p: p, w: w, segs: segs}
	q := qp.q
	if sel.Fields != nil {
		for _, f := range sel.Fields.Fields {
			q.Select = append(q.Select, c.selectItem(f))
		}
	}
	if sel.From != nil && sel.From.TableRefs != nil {
		ons := c.joinOns(sel.From.TableRefs, nil)
		if len(ons) != len(qp.joins) {
			p.failAt(p.offOf(q.At), Syntax, "Syntax error", styleLine)
			return
		}
		for i, j := range qp.joins {
			j.On = c.expr(ons[i])
		}
	}
	if sel.Where != nil {
		q.Where = c.expr(sel.Where)
	}
	if qp.groupBy {
		q.GroupBy = []ast.Expr{}
		if sel.GroupBy != nil {
			for _, it := range sel.GroupBy.Items {
				q.GroupBy = append(q.GroupBy, c.expr(it.Expr))
			}
		}
	}
	if qp.partition {
		q.PartitionBy = []ast.Expr{}
		if sel.OrderBy != nil {
			for _, it := range sel.OrderBy.Items {
				q.PartitionBy = append(q.PartitionBy, c.expr(it.Expr))
			}
		}
	}
	if sel.Having != nil {
		q.Having = c.expr(sel.Having.Expr)
	}
}

// joinOns lists ON conditions of a left-deep TiDB join tree in textual order.
func (c *converter) joinOns(j *tast.Join, acc []tast.ExprNode) []tast.ExprNode {
	if l, ok := j.Left.(*tast.Join); ok {
		acc = c.joinOns(l, acc)
	}
	if r, ok := j.Right.(*tast.Join); ok {
		acc = c.joinOns(r, acc)
	}
	if j.On != nil {
		acc = append(acc, j.On.Expr)
	}
	return acc
}

// convertExprList converts the fields of `SELECT e1, e2, ...`.
func (p *parser) convertExprList(text string, segs []seg, w *rewriter) []ast.Expr {
	defer p.releaseTiDB()
	sel := p.parseSelect(text, segs)
	if sel == nil || sel.Fields == nil {
		return nil
	}
	c := &converter{p: p, w: w, segs: segs}
	var out []ast.Expr
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil || f.AsName.O != "" {
			c.fail(f.Offset)
			return nil
		}
		out = append(out, c.expr(f.Expr))
	}
	return out
}

// converter maps TiDB nodes (over placeholders) to our AST.
type converter struct {
	p    *parser
	w    *rewriter
	segs []seg
}

func (c *converter) pos(n tast.Node) ast.Pos {
	return c.p.li.pos(srcOff(c.segs, n.OriginTextPosition()))
}

func (c *converter) fail(at int) {
	c.p.failTok(srcOff(c.segs, at))
}

// sideOf returns the side entry a placeholder name (zi_N / zk_N) refers to.
func (c *converter) sideOf(name string, prefix string) (side, bool) {
	if !strings.HasPrefix(name, prefix) {
		return side{}, false
	}
	n, err := strconv.Atoi(name[len(prefix):])
	if err != nil || n < 0 || n >= len(c.w.side) {
		return side{}, false
	}
	return c.w.side[n], true
}

func (c *converter) ident(name string, at int) string {
	s, ok := c.sideOf(name, "zi_")
	if !ok || s.kind != sIdent {
		c.fail(at)
		return ""
	}
	return s.name
}

func (c *converter) selectItem(f *tast.SelectField) ast.SelectItem {
	at := c.p.li.pos(srcOff(c.segs, f.Offset))
	if f.WildCard != nil {
		it := ast.SelectItem{At: at, Star: true}
		if f.WildCard.Schema.O != "" {
			c.fail(f.Offset)
		}
		if f.WildCard.Table.O != "" {
			it.Qualifier = c.ident(f.WildCard.Table.O, f.Offset)
		}
		return it
	}
	it := ast.SelectItem{At: at}
	if f.AsName.O != "" {
		it.Alias = c.ident(f.AsName.O, f.Offset)
	}
	// s->* is a projection form, not an expression: it becomes a star item over Expr.
	if fc, ok := f.Expr.(*tast.FuncCallExpr); ok {
		if s, ok := c.sideOf(fc.FnName.O, "zk_"); ok && s.kind == sDerefAll && len(fc.Args) == 1 {
			if it.Alias != "" {
				c.fail(f.Offset)
			}
			it.Star = true
			it.Expr = c.expr(fc.Args[0])
			return it
		}
	}
	it.Expr = c.expr(f.Expr)
	return it
}

var binOps = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
	opcode.LogicAnd: "AND", opcode.LogicOr: "OR", opcode.Or: "||",
}

// expr converts one TiDB expression. Anything we never emit is reported as a syntax error at
// its position rather than trusted.
func (c *converter) expr(n tast.ExprNode) ast.Expr {
	if c.p.err != nil || n == nil {
		return nil
	}
	base := ast.ExprBase{At: c.pos(n)}
	switch x := n.(type) {
	case *tast.ParenthesesExpr:
		return c.expr(x.Expr)
	case *tast.ColumnNameExpr:
		cn := x.Name
		if cn.Schema.O != "" {
			c.fail(n.OriginTextPosition())
			return nil
		}
		s, ok := c.sideOf(cn.Name.O, "zi_")
		if !ok {
			c.fail(n.OriginTextPosition())
			return nil
		}
		ref := &ast.ColumnRef{ExprBase: base, Name: s.name}
		if cn.Table.O != "" {
			q, ok := c.sideOf(cn.Table.O, "zi_")
			if !ok {
				c.fail(n.OriginTextPosition())
				return nil
			}
			ref.At = q.at
			ref.Qualifier = q.name
		} else {
			ref.At = s.at
		}
		return ref
	case *tast.BinaryOperationExpr:
		if x.Op == opcode.NullEQ {
			fc, ok := x.R.(*tast.FuncCallExpr)
			if !ok {
				c.fail(n.OriginTextPosition())
				return nil
			}
			s, ok := c.sideOf(fc.FnName.O, "zk_")
			if !ok || s.kind != sDistinct || len(fc.Args) != 1 {
				c.fail(n.OriginTextPosition())
				return nil
			}
			return &ast.IsDistinct{ExprBase: base, L: c.expr(x.L), R: c.expr(fc.Args[0]), Not: s.not}
		}
		op, ok := binOps[x.Op]
		if !ok {
			c.fail(n.OriginTextPosition())
			return nil
		}
		return &ast.BinaryOp{ExprBase: base, Op: op, L: c.expr(x.L), R: c.expr(x.R)}
	case *tast.UnaryOperationExpr:
		var op string
		switch x.Op {
		case opcode.Minus:
			op = "-"
		case opcode.Plus:
			op = "+"
		case opcode.Not, opcode.Not2:
			op = "NOT"
		default:
			c.fail(n.OriginTextPosition())
			return nil
		}
		return &ast.UnaryOp{ExprBase: base, Op: op, X: c.expr(x.V)}
	case *tast.IsNullExpr:
		return &ast.IsNull{ExprBase: base, X: c.expr(x.Expr), Not: x.Not}
	case *tast.BetweenExpr:
		return &ast.Between{ExprBase: base, X: c.expr(x.Expr), Lo: c.expr(x.Left), Hi: c.expr(x.Right), Not: x.Not}
	case *tast.PatternInExpr:
		if x.Sel != nil {
			c.fail(n.OriginTextPosition())
			return nil
		}
		in := &ast.InList{ExprBase: base, X: c.expr(x.Expr), Not: x.Not}
		for _, e := range x.List {
			in.List = append(in.List, c.expr(e))
		}
		return in
	case *tast.PatternLikeOrIlikeExpr:
		fc, ok := x.Pattern.(*tast.FuncCallExpr)
		if !ok || !x.IsLike {
			c.fail(n.OriginTextPosition())
			return nil
		}
		s, ok := c.sideOf(fc.FnName.O, "zk_")
		if !ok || s.kind != sLike || len(fc.Args) != 1 {
			c.fail(n.OriginTextPosition())
			return nil
		}
		return &ast.Like{ExprBase: base, X: c.expr(x.Expr), Pattern: c.expr(fc.Args[0]), Escape: s.esc, Not: x.Not}
	case *tast.CaseExpr:
		ce := &ast.Case{ExprBase: base}
		if x.Value != nil {
			ce.Operand = c.expr(x.Value)
		}
		for _, wc := range x.WhenClauses {
			ce.Whens = append(ce.Whens, ast.When{Cond: c.expr(wc.Expr), Result: c.expr(wc.Result)})
		}
		if x.ElseClause != nil {
			ce.Else = c.expr(x.ElseClause)
		}
		return ce
	case *tast.FuncCallExpr:
		return c.call(x)
	}
	c.fail(n.OriginTextPosition())
	return nil
}

func (c *converter) args(in []tast.ExprNode) []ast.Expr {
	out := make([]ast.Expr, 0, len(in))
	for _, a := range in {
		out = append(out, c.expr(a))
	}
	return out
}

// call converts a placeholder call back into the ksql form it stands for.
func (c *converter) call(x *tast.FuncCallExpr) ast.Expr {
	s, ok := c.sideOf(x.FnName.O, "zk_")
	if !ok {
		c.fail(x.OriginTextPosition())
		return nil
	}
	base := ast.ExprBase{At: s.at}
	nargs := func(n int) bool {
		if len(x.Args) != n {
			c.fail(x.OriginTextPosition())
			return false
		}
		return true
	}
	switch s.kind {
	case sLit:
		if !nargs(0) {
			return nil
		}
		return s.lit
	case sUnit:
		if !nargs(0) {
			return nil
		}
		return &ast.IntervalUnit{ExprBase: base, Unit: s.name}
	case sFunc:
		return &ast.FuncCall{ExprBase: base, Name: s.name, Args: c.args(x.Args), Star: s.star}
	case sCast:
		if !nargs(1) {
			return nil
		}
		return &ast.Cast{ExprBase: base, X: c.expr(x.Args[0]), To: s.typ}
	case sDeref:
		if !nargs(1) {
			return nil
		}
		return &ast.Dereference{ExprBase: base, Base: c.expr(x.Args[0]), Field: s.name}
	case sSubscript:
		if !nargs(2) {
			return nil
		}
		return &ast.Subscript{ExprBase: base, Base: c.expr(x.Args[0]), Index: c.expr(x.Args[1])}
	case sArray:
		return &ast.ArrayCtor{ExprBase: base, Elems: c.args(x.Args)}
	case sMap:
		if len(x.Args)%2 != 0 {
			c.fail(x.OriginTextPosition())
			return nil
		}
		m := &ast.MapCtor{ExprBase: base}
		for i := 0; i < len(x.Args); i += 2 {
			m.Keys = append(m.Keys, c.expr(x.Args[i]))
			m.Vals = append(m.Vals, c.expr(x.Args[i+1]))
		}
		return m
	case sStruct:
		if !nargs(len(s.names)) {
			return nil
		}
		return &ast.StructCtor{ExprBase: base, Names: s.names, Vals: c.args(x.Args)}
	case sLambda:
		if !nargs(1) {
			return nil
		}
		return &ast.Lambda{ExprBase: base, Params: s.names, Body: c.expr(x.Args[0])}
	case sDerefAll:
		// Only valid as a whole projection item (handled in selectItem).
		c.p.failAt(c.p.offOf(s.opAt), Syntax, fmt.Sprintf("Syntax error at or near '*' at line %d:%d", s.opAt.Line, s.opAt.Col), styleLine)
		return nil
	}
	c.fail(x.OriginTextPosition())
	return nil
}
