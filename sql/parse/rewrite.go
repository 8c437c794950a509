package parse

import (
	"sort"
	"strconv"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// The rewriter turns ksql expression tokens into text the TiDB parser accepts, so that TiDB does
// the operator-precedence work while everything ksql-specific survives in a side table:
//
//   - every identifier becomes zi_N and every literal zk_N(): TiDB never sees user spelling, so
//     case, quoting, digit-first names and TiDB keywords cannot interfere;
//   - functions and ksql-only forms become calls zk_N(args...): name(args), COUNT(*), CAST(x AS
//     ksqlType), a->f, a[i], ARRAY[...], MAP(k:=v), STRUCT(f:=v), lambdas, LIKE patterns (which
//     carry ESCAPE) and the right operand of IS [NOT] DISTINCT FROM (written as TiDB's <=>);
//   - `||` becomes `|`: ksql ranks || below + and -, exactly where MySQL ranks bitwise OR, while
//     MySQL's own || (PIPES_AS_CONCAT) binds tighter than `*` and would regroup `a || b + c`.
//
// Every emitted piece remembers the source offset it came from (segs), so a TiDB node offset or
// a TiDB syntax error maps back to the original line:column.

// sideKind says what a placeholder stands for.
type sideKind uint8

const (
	sIdent sideKind = iota
	sLit
	sFunc
	sCast
	sDeref
	sDerefAll
	sSubscript
	sArray
	sMap
	sStruct
	sLambda
	sLike
	sDistinct
	sUnit
)

type side struct {
	kind  sideKind
	at    ast.Pos
	name  string   // identifier, function name, field, unit
	lit   ast.Expr // sLit
	typ   *types.Type
	names []string // struct fields, lambda params
	star  bool     // COUNT(*)
	not   bool     // IS NOT DISTINCT FROM
	esc   ast.Expr // sLike: ESCAPE literal or nil
	opAt  ast.Pos  // sDerefAll: where the '*' is, for the error when used as an expression
}

// seg maps rewritten text from offset at onwards to source offset off.
type seg struct{ at, off int }

type rbuf struct {
	out  []byte
	segs []seg
}

// rewriter accumulates rewritten text in named sections, assembled in TiDB clause order.
type rewriter struct {
	side []side
	secs map[string]*rbuf
	cur  *rbuf
}

func newRewriter() *rewriter {
	w := &rewriter{secs: map[string]*rbuf{}}
	w.section("main")
	return w
}

func (w *rewriter) section(name string) {
	b := w.secs[name]
	if b == nil {
		b = &rbuf{}
		w.secs[name] = b
	}
	w.cur = b
}

// emit appends s, located at source offset off.
func (w *rewriter) emit(s string, off int) {
	w.cur.segs = append(w.cur.segs, seg{at: len(w.cur.out), off: off})
	w.cur.out = append(w.cur.out, s...)
	w.cur.out = append(w.cur.out, ' ')
}

func (w *rewriter) add(s side) int {
	w.side = append(w.side, s)
	return len(w.side) - 1
}

func placeholder(n int) string { return "zk_" + strconv.Itoa(n) + "(" }
func identPH(n int) string     { return "zi_" + strconv.Itoa(n) }

// mark is a position in the current section, used to wrap an already emitted operand.
type mark struct{ out, seg int }

func (w *rewriter) mark() mark { return mark{len(w.cur.out), len(w.cur.segs)} }

// wrap inserts prefix (located at off) before the text emitted since m.
func (w *rewriter) wrap(m mark, prefix string, off int) {
	b := w.cur
	b.out = append(b.out[:m.out], append([]byte(prefix+" "), b.out[m.out:]...)...)
	shift := len(prefix) + 1
	for i := m.seg; i < len(b.segs); i++ {
		b.segs[i].at += shift
	}
	b.segs = append(b.segs[:m.seg], append([]seg{{at: m.out, off: off}}, b.segs[m.seg:]...)...)
}

// assemble concatenates sections in order into the text handed to TiDB.
func (w *rewriter) assemble(order ...string) (string, []seg) {
	var out []byte
	var segs []seg
	for _, name := range order {
		b := w.secs[name]
		if b == nil {
			continue
		}
		for _, s := range b.segs {
			segs = append(segs, seg{at: s.at + len(out), off: s.off})
		}
		out = append(out, b.out...)
	}
	return string(out), segs
}

// srcOff maps an offset in assembled text back to a source offset.
func srcOff(segs []seg, at int) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].at > at }) - 1
	if i < 0 {
		if len(segs) > 0 {
			return segs[0].off
		}
		return 0
	}
	return segs[i].off
}

// exprMode restricts what an expression may contain.
type exprMode uint8

const (
	// modeFull is ksql's `expression` (boolean operators and predicates allowed).
	modeFull exprMode = iota
	// modeValue is ksql's `valueExpression`: arithmetic and || only (GROUP BY, PARTITION BY,
	// VALUES, BETWEEN bounds, comparison and LIKE right sides, subscripts).
	modeValue
)

// rwExpr emits one expression starting at the current token. It stops, without consuming, at
// the first token that can neither continue nor start an operand, leaving the caller to decide
// whether that token is legal there.
func (p *parser) rwExpr(w *rewriter, mode exprMode) {
	wantOperand := true
	// ksql allows one predicate per operand of AND/OR (`predicated: valueExpression
	// predicate?`), so `a = b = c` and `x LIKE 'a' LIKE 'b'` are errors, though TiDB takes them.
	predicated := false
	predicate := func(t token) bool {
		if predicated {
			p.syntaxErr(t)
			return false
		}
		predicated = true
		return true
	}
	for p.err == nil {
		t := p.peek()
		if wantOperand {
			switch {
			case t.is("-") && isNumber(p.peekN(1)):
				// ksql's `number: MINUS? INTEGER_VALUE`: a minus in operand position belongs to
				// the literal, which is what lets -9223372036854775808 be a BIGINT.
				p.next()
				n := p.next()
				p.emitLit(w, p.numberLit(n, t, true), t)
			case t.is("-"), t.is("+"):
				p.next()
				w.emit(t.val, t.off)
				continue
			case t.is("NOT") && mode == modeFull:
				p.next()
				w.emit("NOT", t.off)
				continue
			default:
				m := w.mark()
				p.rwPrimary(w)
				p.rwPostfix(w, m)
			}
			wantOperand = false
			continue
		}
		switch {
		case t.is("+"), t.is("-"), t.is("*"), t.is("/"), t.is("%"):
			p.next()
			w.emit(t.val, t.off)
		case t.is("||"):
			p.next()
			w.emit("|", t.off)
		case mode == modeValue:
			return
		case t.is("="), t.is("<>"), t.is("!="), t.is("<"), t.is("<="), t.is(">"), t.is(">="):
			if !predicate(t) {
				return
			}
			p.next()
			w.emit(t.val, t.off)
			p.rwExpr(w, modeValue)
			continue
		case t.is("AND"), t.is("OR"):
			p.next()
			w.emit(t.val, t.off)
			predicated = false
		case t.is("IS"):
			if !predicate(t) {
				return
			}
			p.rwIs(w)
			continue
		case t.is("NOT") && (p.peekN(1).is("BETWEEN") || p.peekN(1).is("IN") || p.peekN(1).is("LIKE")):
			if !predicate(t) {
				return
			}
			predicated = false // the predicate keyword that follows counts it
			p.next()
			w.emit("NOT", t.off)
			continue
		case t.is("BETWEEN"):
			if !predicate(t) {
				return
			}
			p.next()
			w.emit("BETWEEN", t.off)
			p.rwExpr(w, modeValue)
			a := p.expect("AND")
			w.emit("AND", a.off)
			p.rwExpr(w, modeValue)
			continue
		case t.is("IN"):
			if !predicate(t) {
				return
			}
			p.next()
			w.emit("IN", t.off)
			o := p.expect("(")
			w.emit("(", o.off)
			p.rwList(w, modeFull, ")")
			c := p.expect(")")
			w.emit(")", c.off)
			continue
		case t.is("LIKE"):
			if !predicate(t) {
				return
			}
			p.next()
			w.emit("LIKE", t.off)
			n := w.add(side{kind: sLike, at: p.pos(t)})
			w.emit(placeholder(n), p.peek().off)
			p.rwExpr(w, modeValue)
			if e := p.peek(); e.is("ESCAPE") {
				p.next()
				s := p.peek()
				if s.kind != tString {
					p.syntaxErr(s)
					return
				}
				p.next()
				w.side[n].esc = &ast.StringLit{ExprBase: ast.ExprBase{At: p.pos(s)}, Val: s.val}
			}
			w.emit(")", p.peek().off)
			continue
		case t.is("AT"):
			p.fail(t, Semantic, "AT TIME ZONE is not supported")
			return
		default:
			return
		}
		wantOperand = true
	}
}

// rwList emits a comma-separated, non-empty list of expressions, up to (not including) close.
func (p *parser) rwList(w *rewriter, mode exprMode, close string) {
	if t := p.peek(); t.is(close) {
		p.syntaxErr(t)
		return
	}
	for p.err == nil {
		p.rwOperandExpr(w, mode)
		t := p.peek()
		if !t.is(",") {
			return
		}
		p.next()
		w.emit(",", t.off)
	}
}

// rwOperandExpr emits an expression that must not be empty.
func (p *parser) rwOperandExpr(w *rewriter, mode exprMode) {
	before := len(w.cur.out)
	p.rwExpr(w, mode)
	if p.err == nil && len(w.cur.out) == before {
		p.syntaxErr(p.peek())
	}
}

// rwIs handles IS [NOT] NULL and IS [NOT] DISTINCT FROM.
func (p *parser) rwIs(w *rewriter) {
	is := p.next()
	not := p.accept("NOT")
	switch t := p.peek(); {
	case t.is("NULL"):
		p.next()
		if not {
			w.emit("IS NOT NULL", is.off)
		} else {
			w.emit("IS NULL", is.off)
		}
	case t.is("DISTINCT"):
		p.next()
		p.expect("FROM")
		w.emit("<=>", is.off)
		n := w.add(side{kind: sDistinct, at: p.pos(is), not: not})
		w.emit(placeholder(n), p.peek().off)
		p.rwOperandExpr(w, modeValue)
		w.emit(")", p.peek().off)
	default:
		p.syntaxErr(t)
	}
}

// emitLit emits a literal placeholder located at tok.
func (p *parser) emitLit(w *rewriter, lit ast.Expr, tok token) {
	if lit == nil {
		return
	}
	n := w.add(side{kind: sLit, at: p.pos(tok), lit: lit})
	w.emit(placeholder(n)+")", tok.off)
}

// rwPrimary emits one primary expression (ksql's primaryExpression without postfix forms).
func (p *parser) rwPrimary(w *rewriter) {
	t := p.peek()
	at := ast.ExprBase{At: p.pos(t)}
	switch {
	case isNumber(t):
		p.next()
		p.emitLit(w, p.numberLit(t, t, false), t)
	case t.kind == tString:
		p.next()
		p.emitLit(w, &ast.StringLit{ExprBase: at, Val: t.val}, t)
	case t.is("TRUE"), t.is("FALSE"):
		p.next()
		p.emitLit(w, &ast.BoolLit{ExprBase: at, Val: t.val == "TRUE"}, t)
	case t.is("NULL"):
		p.next()
		p.emitLit(w, &ast.NullLit{ExprBase: at}, t)
	case t.is("CASE"):
		p.rwCase(w)
	case t.is("CAST") && p.peekN(1).is("("):
		p.next()
		p.next()
		n := w.add(side{kind: sCast, at: at.At})
		w.emit(placeholder(n), t.off)
		p.rwOperandExpr(w, modeFull)
		p.expect("AS")
		w.side[n].typ = p.parseType()
		c := p.expect(")")
		w.emit(")", c.off)
	case t.is("ARRAY") && p.peekN(1).is("["):
		p.next()
		p.next()
		n := w.add(side{kind: sArray, at: at.At})
		w.emit(placeholder(n), t.off)
		if !p.peek().is("]") {
			p.rwList(w, modeFull, "]")
		}
		c := p.expect("]")
		w.emit(")", c.off)
	case t.is("MAP") && p.peekN(1).is("("):
		p.next()
		p.next()
		n := w.add(side{kind: sMap, at: at.At})
		w.emit(placeholder(n), t.off)
		for i := 0; p.err == nil && !p.peek().is(")"); i++ {
			if i > 0 {
				c := p.expect(",")
				w.emit(",", c.off)
			}
			p.rwOperandExpr(w, modeFull)
			a := p.expect(":=")
			w.emit(",", a.off)
			p.rwOperandExpr(w, modeFull)
		}
		c := p.expect(")")
		w.emit(")", c.off)
	case t.is("STRUCT") && p.peekN(1).is("("):
		p.next()
		p.next()
		n := w.add(side{kind: sStruct, at: at.At})
		w.emit(placeholder(n), t.off)
		for i := 0; p.err == nil && !p.peek().is(")"); i++ {
			if i > 0 {
				c := p.expect(",")
				w.emit(",", c.off)
			}
			name, _ := p.name()
			w.side[n].names = append(w.side[n].names, name)
			p.expect(":=")
			p.rwOperandExpr(w, modeFull)
		}
		c := p.expect(")")
		w.emit(")", c.off)
	case t.is("("):
		p.next()
		w.emit("(", t.off)
		p.rwOperandExpr(w, modeFull)
		if c := p.peek(); c.is(",") {
			// ksql has no row values: `(a, b)` is where ANTLR reports the missing ')'.
			p.fail(c, Syntax, "missing ')' at ','")
			return
		}
		c := p.expect(")")
		w.emit(")", c.off)
	case isName(t) && p.peekN(1).is("("):
		p.rwCall(w)
	case isName(t):
		p.next()
		q := w.add(side{kind: sIdent, at: at.At, name: identName(t)})
		if p.peek().is(".") && isName(p.peekN(1)) {
			p.next()
			c := p.next()
			n := w.add(side{kind: sIdent, at: p.pos(c), name: identName(c)})
			w.emit(identPH(q)+"."+identPH(n), t.off)
			return
		}
		w.emit(identPH(q), t.off)
	default:
		p.syntaxErr(t)
	}
}

// rwPostfix applies `->field`, `->*` and `[index]` to the operand emitted since m.
func (p *parser) rwPostfix(w *rewriter, m mark) {
	for p.err == nil {
		t := p.peek()
		base := p.posAtMark(w, m)
		switch {
		case t.is("->") && p.peekN(1).is("*"):
			p.next()
			star := p.next()
			n := w.add(side{kind: sDerefAll, at: base, opAt: p.pos(star)})
			w.wrap(m, placeholder(n), p.offAtMark(w, m))
			w.emit(")", t.off)
		case t.is("->"):
			p.next()
			name, _ := p.name()
			n := w.add(side{kind: sDeref, at: base, name: name})
			w.wrap(m, placeholder(n), p.offAtMark(w, m))
			w.emit(")", t.off)
		case t.is("["):
			p.next()
			n := w.add(side{kind: sSubscript, at: base})
			w.wrap(m, placeholder(n), p.offAtMark(w, m))
			w.emit(",", t.off)
			p.rwOperandExpr(w, modeValue)
			c := p.expect("]")
			w.emit(")", c.off)
		default:
			return
		}
	}
}

// offAtMark is the source offset of the first piece emitted since m.
func (p *parser) offAtMark(w *rewriter, m mark) int {
	if m.seg < len(w.cur.segs) {
		return w.cur.segs[m.seg].off
	}
	return p.peek().off
}

func (p *parser) posAtMark(w *rewriter, m mark) ast.Pos { return p.li.pos(p.offAtMark(w, m)) }

// rwCase emits CASE [operand] WHEN c THEN r ... [ELSE e] END.
func (p *parser) rwCase(w *rewriter) {
	t := p.next()
	w.emit("CASE", t.off)
	if !p.peek().is("WHEN") {
		p.rwOperandExpr(w, modeValue)
	}
	if !p.peek().is("WHEN") {
		p.syntaxErr(p.peek())
		return
	}
	for p.err == nil && p.peek().is("WHEN") {
		wt := p.next()
		w.emit("WHEN", wt.off)
		p.rwOperandExpr(w, modeFull)
		th := p.expect("THEN")
		w.emit("THEN", th.off)
		p.rwOperandExpr(w, modeFull)
	}
	if e := p.peek(); e.is("ELSE") {
		p.next()
		w.emit("ELSE", e.off)
		p.rwOperandExpr(w, modeFull)
	}
	end := p.expect("END")
	w.emit("END", end.off)
}

// rwCall emits name(args) including COUNT(*), lambdas and interval-unit arguments.
func (p *parser) rwCall(w *rewriter) {
	t := p.next()
	p.next() // (
	n := w.add(side{kind: sFunc, at: p.pos(t), name: identName(t)})
	w.emit(placeholder(n), t.off)
	if p.peek().is("*") && p.peekN(1).is(")") {
		p.next()
		w.side[n].star = true
	}
	for i := 0; p.err == nil && !p.peek().is(")"); i++ {
		if i > 0 {
			c := p.expect(",")
			w.emit(",", c.off)
		}
		p.rwArg(w)
	}
	c := p.expect(")")
	w.emit(")", c.off)
}

// rwArg emits one function argument: a lambda, an interval unit or an expression.
func (p *parser) rwArg(w *rewriter) {
	t := p.peek()
	if params, ok := p.lambdaParams(); ok {
		n := w.add(side{kind: sLambda, at: p.pos(t), names: params})
		w.emit(placeholder(n), t.off)
		p.rwOperandExpr(w, modeFull)
		w.emit(")", p.peek().off)
		return
	}
	// Only the reserved unit words: DAY..SECOND are non-reserved, and ksqlDB's grammar then
	// prefers reading them as column names (the corpus has a column called SECOND).
	if t.kind == tWord && durationUnits[t.val] != 0 && isReserved(t.val) {
		if nx := p.peekN(1); nx.is(",") || nx.is(")") {
			p.next()
			n := w.add(side{kind: sUnit, at: p.pos(t), name: t.val})
			w.emit(placeholder(n)+")", t.off)
			return
		}
	}
	p.rwOperandExpr(w, modeFull)
}

// lambdaParams consumes `x =>` or `(x, y) =>` if that is what follows.
func (p *parser) lambdaParams() ([]string, bool) {
	t := p.peek()
	if isName(t) && p.peekN(1).is("=>") {
		p.next()
		p.next()
		return []string{identName(t)}, true
	}
	if !t.is("(") {
		return nil, false
	}
	var names []string
	k := 1
	for {
		nt := p.peekN(k)
		if !isName(nt) {
			return nil, false
		}
		names = append(names, identName(nt))
		k++
		if p.peekN(k).is(",") {
			k++
			continue
		}
		if p.peekN(k).is(")") && p.peekN(k+1).is("=>") {
			p.i += k + 2
			return names, true
		}
		return nil, false
	}
}
