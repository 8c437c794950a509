package parse

import (
	"github.com/sluicedb/sluice/sql/ast"
)

// queryParts collects what the front end learns about a query while it writes the TiDB text;
// the expressions themselves are filled in from TiDB's tree afterwards.
type queryParts struct {
	q         *ast.Query
	joins     []*ast.Join // in textual order, to receive the ON expressions
	groupBy   bool        // GROUP BY present (possibly empty)
	partition bool        // PARTITION BY present (possibly empty)
}

// query parses SELECT ... [EMIT ...] [LIMIT n]. The clause shell is ours; the projection and
// every expression go to TiDB as one synthetic statement:
//
//	SELECT <items> FROM zq_0 [JOIN zq_1 ON <on> ...] [WHERE ..] [GROUP BY ..] [HAVING ..] [ORDER BY <partition by>]
//
// WINDOW, WITHIN, EMIT and LIMIT are cut out and parsed here; PARTITION BY rides in ORDER BY
// (ksql has no ORDER BY, so the slot is free and TiDB parses a plain expression list there).
func (p *parser) query() *ast.Query {
	sel := p.expect("SELECT")
	qp := &queryParts{q: &ast.Query{At: p.pos(sel), Limit: -1}}
	w := newRewriter()
	w.section("select")
	w.emit("SELECT", sel.off)
	p.selectItems(w)
	if p.err != nil {
		return nil
	}
	from := p.expect("FROM")
	w.section("from")
	w.emit("FROM", from.off)
	qp.q.From = p.relation(w, qp)

	if t := p.peek(); t.is("WINDOW") {
		qp.q.Window = p.window()
	}
	if t := p.peek(); t.is("WHERE") {
		p.next()
		w.section("where")
		w.emit("WHERE", t.off)
		p.rwOperandExpr(w, modeFull)
	}
	if t := p.peek(); t.is("GROUP") {
		p.next()
		p.expect("BY")
		qp.groupBy = true
		w.section("groupby")
		w.emit("GROUP BY", t.off)
		p.byList(w, func(k int) bool {
			return p.isPartitionBy(k) || p.peekN(k).is("HAVING") || p.isEmit(k) || p.peekN(k).is("LIMIT")
		})
	}
	if p.isPartitionBy(0) {
		t := p.next()
		p.next()
		qp.partition = true
		w.section("partitionby")
		w.emit("ORDER BY", t.off)
		p.byList(w, func(k int) bool { return p.peekN(k).is("HAVING") || p.isEmit(k) || p.peekN(k).is("LIMIT") })
	}
	if t := p.peek(); t.is("HAVING") {
		p.next()
		w.section("having")
		w.emit("HAVING", t.off)
		p.rwOperandExpr(w, modeFull)
	}
	if p.isEmit(0) {
		p.next()
		if p.next().val == "FINAL" {
			qp.q.Emit = ast.EmitFinal
		} else {
			qp.q.Emit = ast.EmitChanges
		}
	}
	if p.accept("LIMIT") {
		qp.q.Limit = p.smallInt()
	}
	if p.err != nil {
		return nil
	}
	text, segs := w.assemble("select", "from", "where", "groupby", "having", "partitionby")
	p.convertQuery(text, segs, w, qp)
	if p.err != nil {
		return nil
	}
	return qp.q
}

// isPartitionBy reports PARTITION BY at lookahead k (PARTITION alone is a valid name).
func (p *parser) isPartitionBy(k int) bool {
	return p.peekN(k).is("PARTITION") && p.peekN(k+1).is("BY")
}

// isEmit reports EMIT CHANGES|FINAL at lookahead k (EMIT alone is a valid name).
func (p *parser) isEmit(k int) bool {
	return p.peekN(k).is("EMIT") && (p.peekN(k+1).is("CHANGES") || p.peekN(k+1).is("FINAL"))
}

// selectItems emits the projection: *, t.*, expr [[AS] alias], s->*.
func (p *parser) selectItems(w *rewriter) {
	for i := 0; p.err == nil; i++ {
		if i > 0 {
			if t := p.peek(); t.is(",") {
				p.next()
				w.emit(",", t.off)
			} else {
				return
			}
		}
		t := p.peek()
		switch {
		case t.is("*"):
			p.next()
			w.emit("*", t.off)
			continue
		case isName(t) && p.peekN(1).is(".") && p.peekN(2).is("*"):
			p.next()
			p.next()
			p.next()
			n := w.add(side{kind: sIdent, at: p.pos(t), name: identName(t)})
			w.emit(identPH(n)+".*", t.off)
			continue
		}
		p.rwOperandExpr(w, modeFull)
		if p.i >= 2 && p.toks[p.i-1].is("*") && p.toks[p.i-2].is("->") {
			continue // s->* takes no alias
		}
		a := p.peek()
		switch {
		case a.is("AS"):
			p.next()
			w.emit("AS", a.off)
			name, nt := p.name()
			n := w.add(side{kind: sIdent, at: p.pos(nt), name: name})
			w.emit(identPH(n), nt.off)
		case isName(a) && !p.isEmit(0) && !p.isPartitionBy(0):
			p.next()
			n := w.add(side{kind: sIdent, at: p.pos(a), name: identName(a)})
			w.emit(identPH(n), a.off)
		}
	}
}

// byList emits the GROUP BY / PARTITION BY expressions: `e, ...` or `( [e, ...] )`. isEnd
// reports whether lookahead k starts the next clause, which is how `(a, b)` as the whole list is
// told from a parenthesized first expression such as `(a + 1) * 2`.
func (p *parser) byList(w *rewriter, isEnd func(k int) bool) {
	if p.peek().is("(") {
		if close := p.matching(0); close > 0 && (p.peekN(close+1).kind == tEOF || isEnd(close+1)) {
			p.next()
			if p.peek().is(")") {
				// An explicitly empty list: recorded as present-but-empty for the binder, which
				// owns the "requires at least one expression" error.
				p.next()
				w.cur.out, w.cur.segs = nil, nil
				return
			}
			p.rwList(w, modeValue, ")")
			p.expect(")")
			return
		}
	}
	p.rwList(w, modeValue, "")
}

// matching returns the lookahead distance of the bracket closing the one at lookahead k, or -1.
func (p *parser) matching(k int) int {
	depth := 0
	for j := k; ; j++ {
		t := p.peekN(j)
		switch {
		case t.kind == tEOF:
			return -1
		case t.is("(") || t.is("["):
			depth++
		case t.is(")") || t.is("]"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
}

// relation parses `source [AS alias] {join}` and emits the TiDB join skeleton with ON texts.
func (p *parser) relation(w *rewriter, qp *queryParts) ast.Relation {
	var rel ast.Relation = p.aliasedRelation()
	w.emit("zq_0", p.peek().off)
	for k := 1; p.err == nil; k++ {
		t := p.peek()
		var jt ast.JoinType
		switch {
		case t.is("JOIN"):
			jt = ast.InnerJoin
		case t.is("INNER"):
			p.next()
			jt = ast.InnerJoin
		case t.is("LEFT"):
			p.next()
			p.accept("OUTER")
			jt = ast.LeftJoin
		case t.is("RIGHT"):
			p.next()
			p.accept("OUTER")
			jt = ast.RightJoin
		case t.is("FULL"):
			p.next()
			p.accept("OUTER")
			jt = ast.FullJoin
		default:
			return rel
		}
		p.expect("JOIN")
		j := &ast.Join{At: p.pos(t), Type: jt, Left: rel}
		j.Right = p.aliasedRelation()
		if wt := p.peek(); wt.is("WITHIN") {
			j.Within = p.within()
		}
		on := p.expect("ON")
		w.emit("JOIN zq_"+itoa(k)+" ON", on.off)
		p.rwOperandExpr(w, modeFull)
		qp.joins = append(qp.joins, j)
		rel = j
	}
	return rel
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// aliasedRelation parses `name [[AS] alias]`.
func (p *parser) aliasedRelation() *ast.SourceRef {
	name, nt := p.name()
	ref := &ast.SourceRef{At: p.pos(nt), Name: name}
	if p.accept("AS") {
		ref.Alias, _ = p.name()
		return ref
	}
	// A bare alias must not swallow the non-reserved words that start the next clause.
	if t := p.peek(); isName(t) && !p.isPartitionBy(0) && !p.isEmit(0) {
		p.next()
		ref.Alias = identName(t)
	}
	return ref
}

// within parses WITHIN n unit | WITHIN (before unit, after unit), then [GRACE PERIOD n unit].
func (p *parser) within() *ast.Within {
	t := p.expect("WITHIN")
	wi := &ast.Within{At: p.pos(t), GraceMs: -1}
	if p.accept("(") {
		wi.BeforeMs = p.duration()
		p.expect(",")
		wi.AfterMs = p.duration()
		p.expect(")")
	} else {
		wi.BeforeMs = p.duration()
		wi.AfterMs = wi.BeforeMs
	}
	if p.accept("GRACE") {
		p.expect("PERIOD")
		wi.GraceMs = p.duration()
	}
	return wi
}

// window parses WINDOW [name] TUMBLING|HOPPING|SESSION ( ... ).
func (p *parser) window() *ast.Window {
	t := p.expect("WINDOW")
	win := &ast.Window{At: p.pos(t), SizeMs: -1, AdvanceMs: -1, RetentionMs: -1, GraceMs: -1}
	if n := p.peek(); n.kind == tWord && !keywords[n.val] {
		p.next() // ksql's optional window name, unused
	}
	kt := p.next()
	switch kt.val {
	case "TUMBLING":
		win.Type = ast.Tumbling
	case "HOPPING":
		win.Type = ast.Hopping
	case "SESSION":
		win.Type = ast.Session
	default:
		p.syntaxErr(kt)
		return nil
	}
	if kt.kind != tWord {
		p.syntaxErr(kt)
		return nil
	}
	p.expect("(")
	if win.Type == ast.Session {
		win.SizeMs = p.duration()
	} else {
		p.expect("SIZE")
		win.SizeMs = p.duration()
		if win.Type == ast.Hopping {
			p.expect(",")
			p.expect("ADVANCE")
			p.expect("BY")
			win.AdvanceMs = p.duration()
		}
	}
	if p.peek().is(",") && p.peekN(1).is("RETENTION") {
		p.next()
		p.next()
		win.RetentionMs = p.duration()
	}
	if p.peek().is(",") && p.peekN(1).is("GRACE") {
		p.next()
		p.next()
		p.expect("PERIOD")
		win.GraceMs = p.duration()
	}
	p.expect(")")
	return win
}

// parseExprs parses n (or, with n < 0, one or more comma-separated) expressions through TiDB.
func (p *parser) parseExprs(mode exprMode, n int) []ast.Expr {
	w := newRewriter()
	w.emit("SELECT", p.peek().off)
	if n == 1 {
		p.rwOperandExpr(w, mode)
	} else {
		p.rwList(w, mode, ")")
	}
	if p.err != nil {
		return nil
	}
	text, segs := w.assemble("main")
	return p.convertExprList(text, segs, w)
}
