package pgwire

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// Session statements are answered here, before the engine sees anything: transaction
// control, PostgreSQL SET/SHOW/RESET, DISCARD, DEALLOCATE, cursors, COPY, the scalar SELECTs
// drivers send on connect, and psql's catalog queries (catalog.go).

// analyze classifies text. It never runs anything.
func (c *conn) analyze(text string) (*stmt, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, &pgError{code: codeSyntax, msg: err.Error()}
	}
	toks = stripSemi(toks)
	st := &stmt{text: text, toks: toks}
	if len(toks) == 0 {
		st.kind = kEmpty
		return st, nil
	}
	st.kind = kLocal
	first := strings.ToUpper(toks[0].val)
	if toks[0].kind != tkIdent {
		first = ""
	}
	tagOnly := func(tag string) func(context.Context) (*localResult, error) {
		return func(context.Context) (*localResult, error) { return &localResult{tag: tag}, nil }
	}
	switch first {
	case "BEGIN", "START":
		st.local = c.txBegin
	case "COMMIT", "END":
		st.local = c.txCommit
	case "ROLLBACK", "ABORT":
		if len(toks) > 1 && (toks[1].is("TO") || len(toks) > 2 && toks[2].is("TO")) {
			st.local = tagOnly("ROLLBACK")
		} else {
			st.local = c.txRollback
		}
	case "SAVEPOINT", "RELEASE":
		st.local = tagOnly(first)
	case "LISTEN", "UNLISTEN":
		st.local = tagOnly(first)
	case "SET":
		if len(toks) > 1 && toks[1].kind == tkString {
			st.kind = kExec // SET 'ksql.streams.auto.offset.reset'='earliest'
			break
		}
		st.local = c.setVar(toks)
	case "RESET":
		st.local = c.resetVar(toks)
	case "SHOW":
		if name, ok := showName(toks); ok {
			st.local, st.rowsLocal = c.showVar(name), true
		} else {
			st.kind = kExec
		}
	case "DISCARD":
		st.local = func(context.Context) (*localResult, error) {
			c.discardAll()
			return &localResult{tag: "DISCARD ALL"}, nil
		}
	case "DEALLOCATE":
		st.local = c.deallocate(toks)
	case "DECLARE":
		spec, err := parseDeclare(text, toks)
		if err != nil {
			return nil, err
		}
		st.kind, st.cursor = kDeclare, spec
	case "FETCH", "MOVE":
		spec, err := parseFetch(toks)
		if err != nil {
			return nil, err
		}
		st.kind, st.fetch = kFetch, spec
	case "CLOSE":
		st.local = c.closeCursor(toks)
	case "COPY":
		spec, err := parseCopy(text, toks)
		if err != nil {
			return nil, err
		}
		st.kind, st.copy = kCopy, spec
	case "SELECT", "WITH":
		if f := c.localSelect(toks); f != nil {
			st.local, st.rowsLocal = f, true
		} else if f := c.catalogQuery(text, toks); f != nil {
			st.local, st.rowsLocal = f, true
		} else if first == "WITH" {
			st.kind = kExec
		} else {
			st.kind = kQuery
		}
	case "PRINT":
		st.kind = kQuery
	default:
		if f := c.catalogQuery(text, toks); f != nil {
			st.local, st.rowsLocal = f, true
		} else {
			st.kind = kExec
		}
	}
	return st, nil
}

// isTxEnd reports statements allowed in a failed transaction.
func isTxEnd(st *stmt) bool {
	if len(st.toks) == 0 {
		return true
	}
	switch strings.ToUpper(st.toks[0].val) {
	case "COMMIT", "END", "ROLLBACK", "ABORT":
		return true
	}
	return false
}

func (c *conn) txBegin(context.Context) (*localResult, error) {
	res := &localResult{tag: "BEGIN"}
	if c.tx != 'I' {
		res.noti = warning(codeActiveTxn, "there is already a transaction in progress")
	} else {
		c.tx = 'T'
	}
	return res, nil
}

func (c *conn) txCommit(context.Context) (*localResult, error) {
	res := &localResult{tag: "COMMIT"}
	switch c.tx {
	case 'I':
		res.noti = warning(codeNoActiveTxn, "there is no transaction in progress")
	case 'E':
		res.tag = "ROLLBACK"
	}
	c.endTx()
	return res, nil
}

func (c *conn) txRollback(context.Context) (*localResult, error) {
	res := &localResult{tag: "ROLLBACK"}
	if c.tx == 'I' {
		res.noti = warning(codeNoActiveTxn, "there is no transaction in progress")
	}
	c.endTx()
	return res, nil
}

// endTx ends the (no-op) transaction: cursors without HOLD die, portals of the transaction
// are dropped at the next Sync.
func (c *conn) endTx() {
	c.tx = 'I'
	for name, cur := range c.cursors {
		if !cur.hold {
			cur.p.close()
			delete(c.cursors, name)
		}
	}
}

// reportable session variables are echoed with ParameterStatus when SET.
var reportable = map[string]string{
	"application_name": "application_name", "client_encoding": "client_encoding",
	"datestyle": "DateStyle", "intervalstyle": "IntervalStyle", "timezone": "TimeZone",
	"standard_conforming_strings": "standard_conforming_strings", "is_superuser": "is_superuser",
	"session_authorization": "session_authorization", "integer_datetimes": "integer_datetimes",
	"server_version": "server_version", "server_encoding": "server_encoding",
}

// setVar handles SET [SESSION|LOCAL] name {=|TO} value[, ...], SET TIME ZONE v and
// SET TRANSACTION/SESSION CHARACTERISTICS (accepted and ignored).
func (c *conn) setVar(toks []token) func(context.Context) (*localResult, error) {
	return func(context.Context) (*localResult, error) {
		t := toks[1:]
		if len(t) > 0 && (t[0].is("SESSION") || t[0].is("LOCAL")) && len(t) > 1 && !t[1].isP("=") && !t[1].is("TO") {
			t = t[1:]
		}
		if len(t) == 0 {
			return nil, newErr(codeSyntax, "syntax error at end of input")
		}
		if t[0].is("TRANSACTION") || t[0].is("CHARACTERISTICS") || t[0].is("NAMES") && len(t) == 1 {
			return &localResult{tag: "SET"}, nil
		}
		var name string
		var rest []token
		if t[0].is("TIME") && len(t) > 1 && t[1].is("ZONE") {
			name, rest = "timezone", t[2:]
		} else {
			// name may be dotted (SET foo.bar = 1).
			i := 0
			var parts []string
			for i < len(t) && (t[i].kind == tkIdent || t[i].kind == tkQIdent || t[i].isP(".")) {
				if !t[i].isP(".") {
					parts = append(parts, strings.ToLower(t[i].val))
				}
				i++
				if i < len(t) && (t[i].is("TO")) {
					break
				}
			}
			name = strings.Join(parts, ".")
			if i < len(t) && (t[i].isP("=") || t[i].is("TO")) {
				i++
			} else {
				return nil, newErr(codeSyntax, "syntax error in SET: expected = or TO")
			}
			rest = t[i:]
		}
		var vals []string
		for _, v := range rest {
			if v.isP(",") {
				continue
			}
			vals = append(vals, v.val)
		}
		val := strings.Join(vals, ", ")
		if len(vals) == 1 && strings.EqualFold(vals[0], "DEFAULT") {
			delete(c.params, name)
			return &localResult{tag: "SET"}, nil
		}
		if name == "" {
			return nil, newErr(codeSyntax, "syntax error in SET")
		}
		c.params[name] = val
		res := &localResult{tag: "SET"}
		if wire, ok := reportable[name]; ok {
			if name == "client_encoding" && !strings.EqualFold(strings.ReplaceAll(val, "-", ""), "UTF8") && !strings.EqualFold(val, "UNICODE") {
				delete(c.params, name)
				return nil, &pgError{code: codeFeatureNotSupp, msg: fmt.Sprintf("client_encoding %q is not supported: only UTF8", val)}
			}
			if name == "application_name" {
				c.appName = val
			}
			res.ps = append(res.ps, [2]string{wire, val})
		}
		return res, nil
	}
}

func (c *conn) resetVar(toks []token) func(context.Context) (*localResult, error) {
	return func(context.Context) (*localResult, error) {
		if len(toks) > 1 && toks[1].is("ALL") {
			clear(c.params)
		} else if len(toks) > 1 {
			delete(c.params, strings.ToLower(toks[1].val))
		}
		return &localResult{tag: "RESET"}, nil
	}
}

// showDefaults are the answers to SHOW for variables nobody SET.
var showDefaults = map[string]string{
	"server_version": serverVersion, "server_version_num": "130000", "server_encoding": "UTF8",
	"client_encoding": "UTF8", "datestyle": "ISO, MDY", "intervalstyle": "postgres", "timezone": "UTC",
	"integer_datetimes": "on", "standard_conforming_strings": "on", "is_superuser": "off",
	"transaction_isolation": "read committed", "default_transaction_isolation": "read committed",
	"transaction_read_only": "off", "default_transaction_read_only": "off", "search_path": `"$user", public`,
	"max_identifier_length": "63", "lc_collate": "C", "lc_ctype": "C", "extra_float_digits": "1",
	"statement_timeout": "0", "lock_timeout": "0", "idle_in_transaction_session_timeout": "0",
	"ssl": "off", "max_index_keys": "32", "block_size": "8192", "bytea_output": "hex",
}

// showName recognises SHOW of a PostgreSQL variable. SHOW STREAMS, SHOW TABLES and the other
// ksqlDB forms go to the engine.
func showName(toks []token) (string, bool) {
	if len(toks) < 2 {
		return "", false
	}
	if len(toks) >= 4 && toks[1].is("TRANSACTION") && toks[2].is("ISOLATION") && toks[3].is("LEVEL") {
		return "transaction_isolation", true
	}
	if len(toks) == 3 && toks[1].is("TIME") && toks[2].is("ZONE") {
		return "timezone", true
	}
	var parts []string
	for _, t := range toks[1:] {
		if t.isP(".") {
			continue
		}
		if t.kind != tkIdent && t.kind != tkQIdent {
			return "", false
		}
		parts = append(parts, strings.ToLower(t.val))
	}
	name := strings.Join(parts, ".")
	if _, ok := showDefaults[name]; ok || name == "application_name" || name == "session_authorization" || name == "all" {
		return name, true
	}
	return name, strings.Contains(name, ".") && !strings.HasPrefix(name, "ksql")
}

func (c *conn) showVar(name string) func(context.Context) (*localResult, error) {
	return func(context.Context) (*localResult, error) {
		if name == "all" {
			keys := make([]string, 0, len(showDefaults))
			for k := range showDefaults {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			res := &localResult{cols: textCols("name", "setting", "description"), tag: "SHOW"}
			for _, k := range keys {
				res.rows = append(res.rows, []any{k, c.setting(k), ""})
			}
			return res, nil
		}
		v, ok := c.settingOK(name)
		if !ok {
			return nil, &pgError{code: codeUndefinedObject, msg: fmt.Sprintf("unrecognized configuration parameter %q", name)}
		}
		return &localResult{cols: textCols(name), rows: [][]any{{v}}, tag: "SHOW"}, nil
	}
}

func (c *conn) setting(name string) string {
	v, _ := c.settingOK(name)
	return v
}

func (c *conn) settingOK(name string) (string, bool) {
	if v, ok := c.params[name]; ok {
		return v, true
	}
	switch name {
	case "application_name":
		return c.appName, true
	case "session_authorization":
		return c.user, true
	}
	v, ok := showDefaults[name]
	return v, ok
}

func textCols(names ...string) []engine.Column {
	cols := make([]engine.Column, len(names))
	for i, n := range names {
		cols[i] = engine.Column{Name: n, Type: types.StringType}
	}
	return cols
}

// discardAll implements DISCARD ALL: prepared statements, portals, cursors and variables go.
func (c *conn) discardAll() {
	for _, p := range c.portals {
		p.close()
	}
	for _, cur := range c.cursors {
		cur.p.close()
	}
	c.stmts = map[string]*stmt{}
	c.portals = map[string]*portal{}
	c.cursors = map[string]*sqlCursor{}
	clear(c.params)
}

func (c *conn) deallocate(toks []token) func(context.Context) (*localResult, error) {
	return func(context.Context) (*localResult, error) {
		t := toks[1:]
		if len(t) > 0 && t[0].is("PREPARE") {
			t = t[1:]
		}
		if len(t) == 0 {
			return nil, newErr(codeSyntax, "syntax error at end of input")
		}
		if t[0].is("ALL") {
			c.stmts = map[string]*stmt{}
			return &localResult{tag: "DEALLOCATE ALL"}, nil
		}
		name := t[0].val
		if t[0].kind == tkIdent {
			name = strings.ToLower(name)
		}
		if _, ok := c.stmts[name]; !ok {
			return nil, &pgError{code: codeUndefinedStatement, msg: fmt.Sprintf("prepared statement %q does not exist", name)}
		}
		delete(c.stmts, name)
		return &localResult{tag: "DEALLOCATE"}, nil
	}
}

// localSelect answers SELECTs without FROM whose every item is a literal or a known session
// function: SELECT 1, SELECT version(), SELECT current_database(), current_schema(), ...
// Anything else returns nil and goes on to the catalog emulation or the engine.
func (c *conn) localSelect(toks []token) func(context.Context) (*localResult, error) {
	if !toks[0].is("SELECT") || len(toks) < 2 {
		return nil
	}
	items := splitItems(toks[1:])
	if len(items) == 0 {
		return nil
	}
	cols := make([]engine.Column, 0, len(items))
	vals := make([]any, 0, len(items))
	for _, it := range items {
		expr, alias := itemAlias(it)
		name, v, typ, ok := c.scalar(expr)
		if !ok {
			return nil
		}
		if alias != "" {
			name = alias
		}
		cols = append(cols, engine.Column{Name: name, Type: typ})
		vals = append(vals, v)
	}
	return func(context.Context) (*localResult, error) {
		return &localResult{cols: cols, rows: [][]any{vals}, tag: "SELECT"}, nil
	}
}

// splitItems splits tokens at top-level commas, stopping at a top-level FROM (nil if one is
// found: the caller wants FROM-less selects only... see selectList for the other use).
func splitItems(toks []token) [][]token {
	var items [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.isP("(") || t.isP("["):
			depth++
		case t.isP(")") || t.isP("]"):
			depth--
		case depth == 0 && t.isP(","):
			items = append(items, toks[start:i])
			start = i + 1
		case depth == 0 && (t.is("FROM") || t.is("WHERE") || t.is("UNION") || t.is("ORDER") || t.is("LIMIT") || t.is("GROUP")):
			return nil
		}
	}
	return append(items, toks[start:])
}

// itemAlias splits "expr [AS] alias".
func itemAlias(it []token) ([]token, string) {
	n := len(it)
	if n >= 3 && it[n-2].is("AS") && (it[n-1].kind == tkIdent || it[n-1].kind == tkQIdent) {
		return it[:n-2], aliasName(it[n-1])
	}
	return it, ""
}

func aliasName(t token) string {
	if t.kind == tkIdent {
		return strings.ToLower(t.val)
	}
	return t.val
}

// scalar evaluates a FROM-less select item: literals and session functions, with an optional
// trailing ::type cast (ignored).
func (c *conn) scalar(expr []token) (string, any, *types.Type, bool) {
	if n := len(expr); n >= 3 && expr[n-2].isP("::") {
		expr = expr[:n-2]
	}
	if len(expr) >= 2 && expr[0].is("pg_catalog") && expr[1].isP(".") {
		expr = expr[2:]
	}
	if len(expr) == 0 {
		return "", nil, nil, false
	}
	t := expr[0]
	switch {
	case len(expr) == 1 && t.kind == tkNumber:
		if n, err := strconv.ParseInt(t.val, 10, 32); err == nil {
			return "?column?", int32(n), types.IntType, true
		}
		if n, err := strconv.ParseInt(t.val, 10, 64); err == nil {
			return "?column?", n, types.BigintType, true
		}
		if f, err := strconv.ParseFloat(t.val, 64); err == nil {
			return "?column?", f, types.DoubleType, true
		}
	case len(expr) == 2 && t.isP("-") && expr[1].kind == tkNumber:
		if n, err := strconv.ParseInt(expr[1].val, 10, 32); err == nil {
			return "?column?", int32(-n), types.IntType, true
		}
	case len(expr) == 1 && t.kind == tkString:
		return "?column?", t.val, types.StringType, true
	case len(expr) == 1 && (t.is("true") || t.is("false")):
		return "bool", t.is("true"), types.BooleanType, true
	case len(expr) == 1 && t.is("null"):
		return "?column?", nil, types.StringType, true
	case len(expr) == 1 && t.kind == tkIdent:
		switch strings.ToLower(t.val) {
		case "current_user", "session_user", "user", "current_role":
			return strings.ToLower(t.val), c.user, types.StringType, true
		case "current_catalog":
			return "current_catalog", c.srv.cfg.Database, types.StringType, true
		case "current_schema":
			return "current_schema", "public", types.StringType, true
		}
	case len(expr) >= 3 && t.kind == tkIdent && expr[1].isP("(") && expr[len(expr)-1].isP(")"):
		args := expr[2 : len(expr)-1]
		fn := strings.ToLower(t.val)
		switch fn {
		case "version":
			if len(args) == 0 {
				return fn, versionDescription, types.StringType, true
			}
		case "current_database":
			return fn, c.srv.cfg.Database, types.StringType, true
		case "current_schema":
			return fn, "public", types.StringType, true
		case "current_schemas":
			return fn, "{public}", types.StringType, true
		case "pg_backend_pid":
			return fn, int32(c.pid), types.IntType, true
		case "pg_is_in_recovery":
			return fn, false, types.BooleanType, true
		case "current_setting":
			if len(args) >= 1 && args[0].kind == tkString {
				v, ok := c.settingOK(strings.ToLower(args[0].val))
				if !ok {
					return "", nil, nil, false
				}
				return fn, v, types.StringType, true
			}
		case "pg_encoding_to_char":
			return fn, "UTF8", types.StringType, true
		case "inet_server_addr", "inet_client_addr":
			return fn, nil, types.StringType, true
		}
	}
	return "", nil, nil, false
}

func warning(code, msg string) *noticeMsg {
	return &noticeMsg{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: code, Message: msg}
}
