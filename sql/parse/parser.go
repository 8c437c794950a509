package parse

import (
	"fmt"
	tparser "github.com/pingcap/tidb/pkg/parser"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// Parse splits text into statements and parses each. vars are the session variables for
// ${name} substitution (nil ok); DEFINE and UNDEFINE statements in text change them for the
// statements that follow, as ksqlDB does within one request. Names match case-insensitively and
// unknown references are left alone (and then usually fail to parse).
//
// A final statement without ';' is accepted. The first error stops parsing.
func Parse(text string, vars map[string]string) (stmts []ast.Statement, err error) {
	defer func() {
		// Last resort only: the parser is written not to panic, and the fuzz targets check it.
		if r := recover(); r != nil {
			stmts, err = nil, &Error{Line: 1, Col: 1, Kind: Syntax, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	toks := lex(text)
	li := newLineIndex(text)
	cur := make(map[string]string, len(vars))
	for k, v := range vars {
		cur[strings.ToUpper(k)] = v
	}
	for _, r := range splitTokens(toks) {
		st, perr := parseStatement(text, li, toks[r[0]:r[1]], cur)
		if perr != nil {
			return nil, perr
		}
		switch s := st.(type) {
		case *ast.Define:
			cur[strings.ToUpper(s.Name)] = s.Value
		case *ast.Undefine:
			delete(cur, strings.ToUpper(s.Name))
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}

// ParseExpr parses a single expression.
func ParseExpr(text string) (e ast.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, &Error{Line: 1, Col: 1, Kind: Syntax, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	p := newParser(text, newLineIndex(text), lex(text), nil)
	if p.err != nil {
		return nil, p.err
	}
	x := p.parseExprs(modeFull, 1)
	if p.err == nil && p.peek().kind != tEOF {
		p.syntaxErr(p.peek())
	}
	if p.err != nil {
		return nil, p.err
	}
	return x[0], nil
}

// ParseType parses a type such as ARRAY<STRUCT<A INT, `b` MAP<STRING, DECIMAL(4,2)>>>.
func ParseType(text string) (t *types.Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Line: 1, Col: 1, Kind: Syntax, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	p := newParser(text, newLineIndex(text), lex(text), nil)
	if p.err != nil {
		return nil, p.err
	}
	t = p.parseType()
	if p.err == nil && p.peek().kind != tEOF {
		p.syntaxErr(p.peek())
	}
	if p.err != nil {
		return nil, p.err
	}
	return t, nil
}

// parser is the recursive-descent front end for one statement. Errors are sticky: the first
// one is kept in err and from then on peek returns EOF, so every loop ends and callers can
// check err once instead of after every call.
type parser struct {
	tidb *tparser.Parser // checked out by parseSelect until releaseTiDB
	text string
	li   *lineIndex
	toks []token // ends with a tEOF token
	i    int
	err  *Error
	// semi is the offset of the statement's ';' (or -1), shown as the token at EOF.
	semi int
}

// newParser prepares toks (one statement, with or without ';' and trailing EOF) for parsing,
// substituting variables first.
func newParser(text string, li *lineIndex, toks []token, vars map[string]string) *parser {
	p := &parser{text: text, li: li, semi: -1}
	end := len(text)
	if n := len(toks); n > 0 && toks[n-1].kind == tEOF {
		toks = toks[:n-1]
	}
	if n := len(toks); n > 0 && toks[n-1].is(";") {
		p.semi = toks[n-1].off
		end = toks[n-1].off
		toks = toks[:n-1]
	} else if n > 0 {
		end = toks[n-1].end
	}
	// Copy: toks aliases the caller's token array and we append our own EOF.
	p.toks = append(make([]token, 0, len(toks)+1), substitute(toks, vars)...)
	p.toks = append(p.toks, token{kind: tEOF, off: end, end: end})
	for _, t := range p.toks {
		if t.kind == tError {
			p.lexError(t)
			break
		}
	}
	return p
}

func (p *parser) lexError(t token) {
	switch t.val {
	case "unterminated quoted string", "unterminated quoted identifier", "unterminated comment":
		p.fail(t, Syntax, t.val)
	default:
		p.fail(t, Syntax, fmt.Sprintf("token recognition error at: '%s'", t.val))
	}
}

var eofToken = token{kind: tEOF}

func (p *parser) peek() token {
	if p.err != nil {
		return eofToken
	}
	return p.toks[p.i]
}

// peekN looks n tokens ahead (0 = peek).
func (p *parser) peekN(n int) token {
	if p.err != nil || p.i+n >= len(p.toks) {
		return eofToken
	}
	return p.toks[p.i+n]
}

func (p *parser) next() token {
	t := p.peek()
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// accept consumes the word or operator s if it is next.
func (p *parser) accept(s string) bool {
	if p.peek().is(s) {
		p.i++
		return true
	}
	return false
}

// expect consumes s or records a syntax error.
func (p *parser) expect(s string) token {
	t := p.peek()
	if t.is(s) {
		p.i++
		return t
	}
	p.syntaxErr(t)
	return t
}

func (p *parser) pos(t token) ast.Pos { return p.li.pos(t.off) }

// fail records the first error at t.
func (p *parser) fail(t token, kind ErrorKind, msg string) {
	p.failAt(t.off, kind, msg, styleLine)
}

func (p *parser) failAt(off int, kind ErrorKind, msg string, style errStyle) {
	if p.err != nil {
		return
	}
	ps := p.li.pos(off)
	p.err = &Error{Line: ps.Line, Col: ps.Col, Kind: kind, Msg: msg, style: style}
}

// tokText is how a token is shown in messages.
func (p *parser) tokText(t token) string {
	if t.kind == tEOF {
		if t.off == p.semi && p.semi >= 0 {
			return ";"
		}
		return "<EOF>"
	}
	return p.text[t.off:t.end]
}

// syntaxErr reports an unexpected token the way ksqlDB words it.
func (p *parser) syntaxErr(t token) {
	if p.err != nil {
		return
	}
	ps := p.li.pos(t.off)
	if t.kind == tError {
		p.lexError(t)
		return
	}
	msg := fmt.Sprintf("Syntax error at or near '%s' at line %d:%d", p.tokText(t), ps.Line, ps.Col)
	if t.kind == tVariable {
		msg += fmt.Sprintf(" (variable '%s' is not defined)", t.val)
	}
	p.fail(t, Syntax, msg)
}

// isName reports whether t can be used as an identifier.
func isName(t token) bool {
	switch t.kind {
	case tQuoted, tBackquoted, tDigitIdent:
		return true
	case tWord:
		return !isReserved(t.val)
	}
	return false
}

// identName applies ksql's case rule: unquoted names are upper-cased, quoted ones kept.
func identName(t token) string { return t.val }

// name consumes an identifier and returns its name.
func (p *parser) name() (string, token) {
	t := p.peek()
	if !isName(t) {
		p.syntaxErr(t)
		return "", t
	}
	p.i++
	return identName(t), t
}

// parseStatement parses one statement's tokens (which may end in ';').
func parseStatement(text string, li *lineIndex, toks []token, vars map[string]string) (ast.Statement, *Error) {
	p := newParser(text, li, toks, vars)
	if p.err != nil {
		return nil, p.err
	}
	first := p.peek()
	stmtEnd := len(text)
	if n := len(toks); n > 0 {
		stmtEnd = toks[n-1].end
	}
	base := ast.StmtBase{At: p.pos(first), Text: text[first.off:stmtEnd]}
	st := p.statement(base)
	if p.err == nil && p.peek().kind != tEOF {
		p.syntaxErr(p.peek())
	}
	if p.err != nil {
		return nil, p.err
	}
	return st, nil
}

// statement dispatches on the leading keyword(s).
func (p *parser) statement(base ast.StmtBase) ast.Statement {
	t := p.peek()
	if t.kind != tWord {
		p.syntaxErr(t)
		return nil
	}
	switch t.val {
	case "SELECT":
		q := p.query()
		return &ast.Select{StmtBase: base, Query: q}
	case "CREATE":
		return p.create(base)
	case "INSERT":
		return p.insert(base)
	case "SHOW", "LIST":
		return p.show(base)
	case "DESCRIBE":
		return p.describe(base)
	case "EXPLAIN":
		return p.explain(base)
	case "DROP":
		return p.drop(base)
	case "TERMINATE":
		p.next()
		st := &ast.Terminate{StmtBase: base}
		if p.accept("ALL") {
			st.All = true
		} else {
			st.QueryID, _ = p.name()
		}
		return st
	case "PAUSE", "RESUME":
		p.next()
		st := &ast.PauseResume{StmtBase: base, Resume: t.val == "RESUME"}
		if p.accept("ALL") {
			st.All = true
		} else {
			st.QueryID, _ = p.name()
		}
		return st
	case "PRINT":
		return p.print(base)
	case "SET":
		p.next()
		st := &ast.SetProperty{StmtBase: base}
		st.Name = p.quoted()
		p.expect("=")
		st.Value = p.quoted()
		return st
	case "UNSET":
		p.next()
		return &ast.UnsetProperty{StmtBase: base, Name: p.quoted()}
	case "DEFINE":
		p.next()
		st := &ast.Define{StmtBase: base}
		st.Name = p.variableName()
		p.expect("=")
		v := p.peek()
		if v.kind != tString {
			p.syntaxErr(v)
			return nil
		}
		p.next()
		st.Value = v.val
		return st
	case "UNDEFINE":
		p.next()
		return &ast.Undefine{StmtBase: base, Name: p.variableName()}
	case "ALTER":
		return p.alter(base)
	case "ASSERT":
		return p.assert(base)
	}
	p.fail(t, Syntax, fmt.Sprintf("Unknown statement '%s'", p.tokText(t)))
	return nil
}

// quoted reads a single-quoted string (SET/UNSET names and values; variables are already
// substituted by then).
func (p *parser) quoted() string {
	t := p.peek()
	if t.kind != tString {
		p.syntaxErr(t)
		return ""
	}
	p.next()
	return t.val
}

// variableName is an unquoted identifier (ksql's variableName: IDENTIFIER), kept as written.
func (p *parser) variableName() string {
	t := p.peek()
	if t.kind != tWord {
		p.syntaxErr(t)
		return ""
	}
	p.next()
	return p.text[t.off:t.end]
}

func (p *parser) sourceKind() (ast.SourceKind, bool) {
	switch {
	case p.accept("STREAM"):
		return ast.Stream, true
	case p.accept("TABLE"):
		return ast.Table, true
	}
	p.syntaxErr(p.peek())
	return ast.Stream, false
}

func (p *parser) create(base ast.StmtBase) ast.Statement {
	p.expect("CREATE")
	orReplace := false
	if p.accept("OR") {
		p.expect("REPLACE")
		orReplace = true
	}
	if p.peek().is("TYPE") {
		p.next()
		st := &ast.CreateType{StmtBase: base}
		if p.accept("IF") {
			p.expect("NOT")
			p.expect("EXISTS")
			st.IfNotExists = true
		}
		st.Name, _ = p.name()
		p.expect("AS")
		st.Type = p.parseType()
		return st
	}
	isSource := false
	if t := p.peek(); t.is("SOURCE") || t.is("SINK") {
		if n := p.peekN(1); n.is("CONNECTOR") {
			p.fail(t, Semantic, "Connector statements are not supported")
			return nil
		}
		if t.is("SINK") {
			p.syntaxErr(t)
			return nil
		}
		p.next()
		isSource = true
	}
	kind, ok := p.sourceKind()
	if !ok {
		return nil
	}
	ifNotExists := false
	if p.accept("IF") {
		p.expect("NOT")
		p.expect("EXISTS")
		ifNotExists = true
	}
	name, _ := p.name()
	var cols []ast.ColumnDef
	hasCols := false
	if p.peek().is("(") {
		hasCols = true
		cols = p.tableElements(kind)
	}
	var with ast.Properties
	if p.accept("WITH") {
		with = p.properties()
	}
	if t := p.peek(); t.is("AS") {
		if isSource || hasCols {
			p.syntaxErr(t)
			return nil
		}
		p.next()
		q := p.query()
		return &ast.CreateAsSelect{StmtBase: base, Kind: kind, OrReplace: orReplace, IfNotExists: ifNotExists,
			Name: name, With: with, Query: q}
	}
	if p.err != nil {
		return nil
	}
	p.checkWindowedSource(with)
	return &ast.CreateSource{StmtBase: base, Kind: kind, OrReplace: orReplace, IfNotExists: ifNotExists,
		IsSource: isSource, Name: name, Columns: cols, With: with}
}

// checkWindowedSource reproduces ksqlDB's parse-time check of WINDOW_SIZE on SESSION sources.
func (p *parser) checkWindowedSource(with ast.Properties) {
	wt, ok := with.Get("WINDOW_TYPE")
	if !ok {
		return
	}
	s, ok := wt.Value.(*ast.StringLit)
	if !ok || !strings.EqualFold(s.Val, "SESSION") {
		return
	}
	if ws, ok := with.Get("WINDOW_SIZE"); ok {
		p.failAt(p.offOf(ws.At), Semantic, "'WINDOW_SIZE' should not be set for SESSION windows.", styleLine)
	}
}

// offOf finds the byte offset of a position we produced (used only for error reporting).
func (p *parser) offOf(ps ast.Pos) int {
	if ps.Line < 1 || ps.Line > len(p.li.starts) {
		return 0
	}
	off := p.li.starts[ps.Line-1]
	for c := 1; c < ps.Col && off < len(p.text); c++ {
		_, size := utf8.DecodeRuneInString(p.text[off:])
		off += size
	}
	return off
}

// tableElements parses (col type [KEY|PRIMARY KEY|HEADERS|HEADER('k')], ...).
func (p *parser) tableElements(kind ast.SourceKind) []ast.ColumnDef {
	p.expect("(")
	var cols []ast.ColumnDef
	for p.err == nil {
		name, nt := p.name()
		col := ast.ColumnDef{At: p.pos(nt), Name: name}
		col.Type = p.parseType()
		switch t := p.peek(); {
		case t.is("PRIMARY"):
			p.next()
			p.expect("KEY")
			col.Key, col.Primary = true, true
			if kind == ast.Stream {
				p.failAt(nt.off, Semantic, fmt.Sprintf("Column %s is a 'PRIMARY KEY' column: please use 'KEY' for streams.",
					types.QuoteIdent(name)), styleNodeLocation)
			}
		case t.is("KEY"):
			p.next()
			col.Key = true
			if kind == ast.Table {
				p.failAt(nt.off, Semantic, fmt.Sprintf("Column %s is a 'KEY' column: please use 'PRIMARY KEY' for tables.",
					types.QuoteIdent(name)), styleNodeLocation)
			}
		case t.is("HEADERS"):
			p.next()
			col.Headers = true
		case t.is("HEADER"):
			p.next()
			p.expect("(")
			k := p.peek()
			if k.kind != tString {
				p.syntaxErr(k)
				return nil
			}
			p.next()
			p.expect(")")
			col.Headers, col.HeaderKey = true, k.val
		}
		cols = append(cols, col)
		if !p.accept(",") {
			break
		}
	}
	p.expect(")")
	return cols
}

// properties parses (KEY = literal, ...); keys are upper-cased.
func (p *parser) properties() ast.Properties {
	p.expect("(")
	var props ast.Properties
	for p.err == nil {
		kt := p.peek()
		var key string
		switch {
		case kt.kind == tString:
			key = strings.ToUpper(kt.val)
			p.next()
		case isName(kt):
			key = strings.ToUpper(kt.val)
			p.next()
		default:
			p.syntaxErr(kt)
			return nil
		}
		p.expect("=")
		v := p.literal()
		props = append(props, ast.Property{At: p.pos(kt), Key: key, Value: v})
		if !p.accept(",") {
			break
		}
	}
	p.expect(")")
	return props
}

// literal parses a literal for WITH clauses: string, [-]number, TRUE/FALSE or NULL.
func (p *parser) literal() ast.Expr {
	t := p.peek()
	at := ast.ExprBase{At: p.pos(t)}
	switch {
	case t.kind == tString:
		p.next()
		return &ast.StringLit{ExprBase: at, Val: t.val}
	case t.is("TRUE"), t.is("FALSE"):
		p.next()
		return &ast.BoolLit{ExprBase: at, Val: t.val == "TRUE"}
	case t.is("NULL"):
		p.next()
		return &ast.NullLit{ExprBase: at}
	case t.is("-") && isNumber(p.peekN(1)):
		p.next()
		n := p.next()
		return p.numberLit(n, t, true)
	case isNumber(t):
		p.next()
		return p.numberLit(t, t, false)
	}
	p.syntaxErr(t)
	return nil
}

func isNumber(t token) bool { return t.kind == tInt || t.kind == tDecimal || t.kind == tFloat }

// numberLit types a numeric literal as ksqlDB does: integers (IntLit, error past int64),
// decimals kept as text, exponents as DOUBLE (error when infinite). from is the first token
// (the '-' when neg), which is where the literal and its errors are located.
func (p *parser) numberLit(t, from token, neg bool) ast.Expr {
	at := ast.ExprBase{At: p.pos(from)}
	txt := t.val
	if neg {
		txt = "-" + txt
	}
	switch t.kind {
	case tInt:
		v, err := strconv.ParseInt(txt, 10, 64)
		if err != nil {
			p.failAt(from.off, Semantic, "Invalid numeric literal: "+txt, styleShifted)
			return nil
		}
		return &ast.IntLit{ExprBase: at, Val: v}
	case tDecimal:
		return &ast.DecimalLit{ExprBase: at, Text: txt}
	default:
		// Underflow silently gives 0 as in Java; only a literal that rounds to infinity fails.
		v, _ := strconv.ParseFloat(txt, 64)
		if math.IsInf(v, 0) {
			p.failAt(from.off, Semantic, "Number overflows DOUBLE: "+txt, styleShifted)
			return nil
		}
		return &ast.DoubleLit{ExprBase: at, Val: v}
	}
}

// intNumber reads an integer (optionally negative) for LIMIT, INTERVAL and similar clauses.
func (p *parser) intNumber() int64 {
	t := p.peek()
	neg := false
	if t.is("-") {
		neg = true
		p.next()
	}
	n := p.peek()
	if n.kind != tInt {
		p.syntaxErr(n)
		return 0
	}
	p.next()
	txt := n.val
	if neg {
		txt = "-" + txt
	}
	v, err := strconv.ParseInt(txt, 10, 64)
	if err != nil {
		p.failAt(t.off, Semantic, "Invalid numeric literal: "+txt, styleShifted)
		return 0
	}
	return v
}

// smallInt reads an integer that must fit an int (LIMIT n, INTERVAL n).
func (p *parser) smallInt() int {
	t := p.peek()
	v := p.intNumber()
	if v > math.MaxInt32 || v < math.MinInt32 {
		p.failAt(t.off, Semantic, fmt.Sprintf("Value %d out of range", v), styleLine)
		return 0
	}
	return int(v)
}

// duration reads `n unit` and returns milliseconds.
func (p *parser) duration() int64 {
	t := p.peek()
	n := p.intNumber()
	u := p.peek()
	ms, ok := durationUnits[u.val]
	if u.kind != tWord || !ok {
		p.syntaxErr(u)
		return 0
	}
	p.next()
	if n != 0 && (n > math.MaxInt64/ms || n < math.MinInt64/ms) {
		p.fail(t, Semantic, fmt.Sprintf("Duration overflows: %d %s", n, u.val))
		return 0
	}
	return n * ms
}

func (p *parser) insert(base ast.StmtBase) ast.Statement {
	p.expect("INSERT")
	p.expect("INTO")
	target, _ := p.name()
	switch t := p.peek(); {
	case t.is("(") || t.is("VALUES"):
		st := &ast.InsertValues{StmtBase: base, Target: target}
		if p.accept("(") {
			st.Columns = []string{}
			for p.err == nil {
				c, _ := p.name()
				st.Columns = append(st.Columns, c)
				if !p.accept(",") {
					break
				}
			}
			p.expect(")")
		}
		p.expect("VALUES")
		st.Values = p.valuesList()
		return st
	default:
		st := &ast.InsertSelect{StmtBase: base, Target: target}
		if p.accept("WITH") {
			st.With = p.properties()
		}
		if !p.peek().is("SELECT") {
			p.syntaxErr(p.peek())
			return nil
		}
		st.Query = p.query()
		return st
	}
}

// valuesList parses '(' [valueExpression {, valueExpression}] ')'.
func (p *parser) valuesList() []ast.Expr {
	p.expect("(")
	if p.accept(")") {
		return []ast.Expr{}
	}
	vals := p.parseExprs(modeValue, -1)
	p.expect(")")
	return vals
}

func (p *parser) show(base ast.StmtBase) ast.Statement {
	p.next() // SHOW | LIST
	st := &ast.Show{StmtBase: base}
	t := p.peek()
	switch {
	case t.is("ALL"):
		p.next()
		st.All = true
		p.expect("TOPICS")
		st.What = "TOPICS"
		st.Extended = p.accept("EXTENDED")
	case t.is("STREAMS"), t.is("TABLES"), t.is("TOPICS"), t.is("QUERIES"):
		p.next()
		st.What = t.val
		st.Extended = p.accept("EXTENDED")
	case t.is("PROPERTIES"), t.is("FUNCTIONS"), t.is("TYPES"), t.is("VARIABLES"), t.is("CONNECTORS"):
		p.next()
		st.What = t.val
	case t.is("SOURCE"), t.is("SINK"):
		p.next()
		p.expect("CONNECTORS")
		st.What = "CONNECTORS"
	case t.is("CONNECTOR"):
		p.fail(t, Semantic, "Connector statements are not supported")
		return nil
	default:
		p.syntaxErr(t)
		return nil
	}
	return st
}

func (p *parser) describe(base ast.StmtBase) ast.Statement {
	p.expect("DESCRIBE")
	st := &ast.Describe{StmtBase: base}
	t := p.peek()
	switch {
	case (t.is("STREAMS") || t.is("TABLES")) && (p.peekN(1).kind == tEOF || p.peekN(1).is("EXTENDED")):
		// ksqlDB's grammar: DESCRIBE STREAMS is a keyword form; TABLES is non-reserved and the
		// AST builder treats an unquoted TABLES as the list form too.
		p.next()
		st.What = t.val
		st.Extended = p.accept("EXTENDED")
		return st
	case t.is("FUNCTION") && p.peekN(1).kind != tEOF && !p.peekN(1).is("EXTENDED"):
		p.next()
		st.Function = true
		st.Name, _ = p.name()
		return st
	case t.is("CONNECTOR") && p.peekN(1).kind != tEOF:
		p.fail(t, Semantic, "Connector statements are not supported")
		return nil
	}
	st.Name, _ = p.name()
	st.Extended = p.accept("EXTENDED")
	return st
}

func (p *parser) explain(base ast.StmtBase) ast.Statement {
	p.expect("EXPLAIN")
	st := &ast.Explain{StmtBase: base}
	t := p.peek()
	// EXPLAIN <identifier> is a query id unless the identifier starts a statement.
	if isName(t) && p.peekN(1).kind == tEOF {
		st.QueryID, _ = p.name()
		return st
	}
	inner := ast.StmtBase{At: p.pos(t), Text: base.Text[min(len(base.Text), max(0, t.off-p.toks[0].off)):]}
	st.Statement = p.statement(inner)
	return st
}

func (p *parser) drop(base ast.StmtBase) ast.Statement {
	p.expect("DROP")
	t := p.peek()
	if t.is("TYPE") {
		p.next()
		st := &ast.DropType{StmtBase: base}
		if p.accept("IF") {
			p.expect("EXISTS")
			st.IfExists = true
		}
		st.Name, _ = p.name()
		return st
	}
	if t.is("CONNECTOR") {
		p.fail(t, Semantic, "Connector statements are not supported")
		return nil
	}
	kind, ok := p.sourceKind()
	if !ok {
		return nil
	}
	st := &ast.Drop{StmtBase: base, Kind: kind}
	if p.accept("IF") {
		p.expect("EXISTS")
		st.IfExists = true
	}
	st.Name, _ = p.name()
	if p.accept("DELETE") {
		p.expect("TOPIC")
		st.DeleteTopic = true
	}
	return st
}

func (p *parser) print(base ast.StmtBase) ast.Statement {
	p.expect("PRINT")
	st := &ast.Print{StmtBase: base, Limit: -1}
	t := p.peek()
	switch {
	case t.kind == tString:
		st.Topic = t.val
	case t.kind == tWord || t.kind == tDigitIdent:
		// Topic names are case-sensitive, so an unquoted name is kept as written.
		if !isName(t) {
			p.syntaxErr(t)
			return nil
		}
		st.Topic = p.text[t.off:t.end]
	case t.kind == tQuoted || t.kind == tBackquoted:
		st.Topic = t.val
	default:
		p.syntaxErr(t)
		return nil
	}
	p.next()
	if p.accept("FROM") {
		p.expect("BEGINNING")
		st.FromBeginning = true
	}
	if p.accept("INTERVAL") || p.accept("SAMPLE") {
		st.Interval = p.smallInt()
	}
	if p.accept("LIMIT") {
		st.Limit = p.smallInt()
	}
	return st
}

func (p *parser) alter(base ast.StmtBase) ast.Statement {
	at := p.expect("ALTER")
	if p.peek().is("SYSTEM") {
		p.fail(at, Semantic, "ALTER SYSTEM is not supported")
		return nil
	}
	kind, ok := p.sourceKind()
	if !ok {
		return nil
	}
	st := &ast.AlterSource{StmtBase: base, Kind: kind}
	st.Name, _ = p.name()
	for p.err == nil {
		p.expect("ADD")
		p.accept("COLUMN")
		name, nt := p.name()
		st.Columns = append(st.Columns, ast.ColumnDef{At: p.pos(nt), Name: name, Type: p.parseType()})
		if !p.accept(",") {
			break
		}
	}
	return st
}

func (p *parser) assert(base ast.StmtBase) ast.Statement {
	p.expect("ASSERT")
	st := &ast.Assert{StmtBase: base, SchemaID: -1, TimeoutMs: -1}
	if p.accept("NOT") {
		p.expect("EXISTS")
		st.NotExists = true
	}
	switch t := p.peek(); {
	case t.is("TOPIC"):
		p.next()
		st.Topic = p.resourceName()
		if p.accept("WITH") {
			st.With = p.properties()
		}
	case t.is("SCHEMA"):
		p.next()
		if p.accept("SUBJECT") {
			st.Subject = p.resourceName()
		}
		if p.accept("ID") {
			st.SchemaID = p.smallInt()
		}
	default:
		p.syntaxErr(t)
		return nil
	}
	if p.accept("TIMEOUT") {
		st.TimeoutMs = p.duration()
	}
	return st
}

// resourceName is an identifier (ksql case rules) or a string (exact).
func (p *parser) resourceName() string {
	t := p.peek()
	if t.kind == tString {
		p.next()
		return t.val
	}
	n, _ := p.name()
	return n
}
