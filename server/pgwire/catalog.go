package pgwire

import (
	"context"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// Catalog emulation. Sluice has no pg_catalog; instead the wire layer recognises the queries
// psql sends for \l, \d, \dt, \dv, \d NAME, \dn, \du (captured from psql 15, see
// testdata/pgwire and /work/shared/pgwire) and answers them with synthesized result sets.
// Recognition is by fingerprint (a few distinctive fragments of normalized text), and rows are
// built from the query's own select list: each item is matched by its alias or by the first
// known column name it mentions. psql reads the \d NAME detail queries by position, so the
// rows must have exactly the columns of the select list; building them from the select list
// keeps this true across psql versions that add or drop a column.
//
// Streams and tables are reported as views (relkind 'v'): for views psql sends only the
// lookup, the pg_class detail and the pg_attribute query, never the index, policy or
// publication queries a table would trigger. Any other catalog query gets an empty result
// with the select list's column names.

var catalogTables = map[string]bool{
	"pg_catalog": true, "information_schema": true, "pg_class": true, "pg_type": true,
	"pg_namespace": true, "pg_database": true, "pg_attribute": true, "pg_roles": true,
	"pg_user": true, "pg_settings": true, "pg_proc": true, "pg_index": true, "pg_extension": true,
	"pg_am": true, "pg_description": true, "pg_tables": true, "pg_views": true, "pg_matviews": true,
	"pg_stat_activity": true, "pg_enum": true, "pg_range": true, "pg_constraint": true,
	"pg_attrdef": true, "pg_inherits": true, "pg_collation": true, "pg_authid": true,
	"pg_stat_user_tables": true, "pg_locks": true, "pg_sequence": true, "pg_trigger": true,
}

// isCatalogQuery reports whether toks read a PostgreSQL system catalog.
func isCatalogQuery(toks []token) bool {
	for i, t := range toks {
		if t.kind == tkIdent && catalogTables[strings.ToLower(t.val)] {
			// A catalog table after FROM/JOIN/"pg_catalog." or a schema-qualified reference.
			if i > 0 && (toks[i-1].is("FROM") || toks[i-1].is("JOIN") || toks[i-1].isP(".") || toks[i-1].isP(",")) {
				return true
			}
			if i+1 < len(toks) && toks[i+1].isP(".") {
				return true
			}
		}
	}
	return false
}

// relOID gives each stream or table a stable synthetic oid.
func relOID(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 16384 + h.Sum32()%(1<<31-16384)
}

func (c *conn) catalogQuery(text string, toks []token) func(context.Context) (*localResult, error) {
	if !isCatalogQuery(toks) {
		return nil
	}
	n := normalizeSpace(text)
	items := selectItems(toks)
	has := func(s string) bool { return strings.Contains(n, s) }
	switch {
	case has("FROM pg_catalog.pg_database"):
		return c.rowsFromItems(items, func() [][]any {
			return [][]any{c.itemRow(items, dbValues(c))}
		})
	case has("FROM pg_catalog.pg_class c") && has("c.relkind IN (") && strings.Contains(strings.ToLower(n), `as "name"`):
		return c.relationList(toks)
	case strings.HasPrefix(n, "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c"):
		return c.relationLookup(toks)
	case has("FROM pg_catalog.pg_class c") && has("WHERE c.oid = '"):
		return c.rowsFromItems(items, func() [][]any {
			s := c.sourceByOID(n, `c\.oid = '(\d+)'`)
			if s == nil {
				return nil
			}
			return [][]any{c.itemRow(items, relDetail)}
		})
	case has("FROM pg_catalog.pg_attribute a") && has("a.attrelid = '"):
		return c.rowsFromItems(items, func() [][]any {
			s := c.sourceByOID(n, `a\.attrelid = '(\d+)'`)
			if s == nil || s.Schema == nil {
				return nil
			}
			var rows [][]any
			for _, col := range s.Schema.Columns {
				rows = append(rows, c.itemRow(items, attValues(col)))
			}
			return rows
		})
	case has("FROM pg_catalog.pg_namespace n") && strings.HasPrefix(n, "SELECT n.nspname"):
		return c.rowsFromItems(items, func() [][]any {
			return [][]any{c.itemRow(items, map[string]any{"nspname": "public", "name": "public", "owner": c.user, "pg_get_userbyid": c.user})}
		})
	case has("FROM pg_catalog.pg_roles r") && strings.HasPrefix(n, "SELECT r.rolname"):
		return c.rowsFromItems(items, func() [][]any {
			return [][]any{c.itemRow(items, map[string]any{
				"rolname": c.user, "rolsuper": "f", "rolinherit": "t", "rolcreaterole": "f", "rolcreatedb": "f",
				"rolcanlogin": "t", "rolconnlimit": "-1", "rolvaliduntil": nil, "memberof": "{}",
				"rolreplication": "f", "rolbypassrls": "f",
			})}
		})
	}
	if items == nil {
		return func(context.Context) (*localResult, error) {
			return nil, &pgError{code: codeFeatureNotSupp, msg: "catalog query not supported",
				hint: "use SHOW STREAMS, SHOW TABLES or DESCRIBE name"}
		}
	}
	return c.rowsFromItems(items, func() [][]any { return nil })
}

func dbValues(c *conn) map[string]any {
	return map[string]any{
		"datname": c.srv.cfg.Database, "name": c.srv.cfg.Database, "owner": c.user, "pg_get_userbyid": c.user,
		"encoding": "UTF8", "pg_encoding_to_char": "UTF8", "collate": "C", "datcollate": "C",
		"ctype": "C", "datctype": "C", "locale provider": "libc", "datlocprovider": "libc",
	}
}

// relDetail answers the pg_class detail query of \d NAME for a view.
var relDetail = map[string]any{
	"relchecks": "0", "relkind": "v", "relhasindex": "f", "relhasrules": "f", "relhastriggers": "f",
	"relrowsecurity": "f", "relforcerowsecurity": "f", "relhasoids": "f", "relispartition": "f",
	"reltablespace": "0", "reloftype": "", "relpersistence": "p", "relreplident": "d", "amname": nil,
	"reloptions": "", "array_to_string": "",
}

func attValues(col types.Column) map[string]any {
	notNull, desc := "f", any(nil)
	switch col.Namespace {
	case types.KeyColumn:
		notNull, desc = "t", "KEY"
	case types.HeaderColumn:
		desc = "HEADERS"
		if col.HeaderKey != "" {
			desc = "HEADER('" + col.HeaderKey + "')"
		}
	}
	return map[string]any{
		"attname": col.Name, "format_type": col.Type.String(), "pg_get_expr": nil, "attnotnull": notNull,
		"attcollation": nil, "collname": nil, "attidentity": "", "attgenerated": "", "attstorage": "p",
		"col_description": desc, "attstattarget": "-1", "attfdwoptions": nil,
	}
}

func (c *conn) sourceByOID(n, pattern string) *engine.SourceSummary {
	m := regexp.MustCompile(pattern).FindStringSubmatch(n)
	if m == nil {
		return nil
	}
	oid, _ := strconv.ParseUint(m[1], 10, 32)
	for _, s := range c.srv.backend.Sources() {
		if relOID(s.Name) == uint32(oid) {
			return s
		}
	}
	return nil
}

// relnamePattern finds psql's name filter: c.relname OPERATOR(pg_catalog.~) '^(pat)$'.
func relnamePattern(toks []token) *regexp.Regexp {
	for i := 0; i+7 < len(toks); i++ {
		if toks[i].is("relname") && toks[i+1].is("OPERATOR") && toks[i+7].kind == tkString {
			// psql has already translated its wildcards into a POSIX regex; match without case
			// since psql folds unquoted names to lower case and ksqlDB to upper case.
			if re, err := regexp.Compile("(?i)" + toks[i+7].val); err == nil {
				return re
			}
		}
	}
	return nil
}

func (c *conn) sortedSources(re *regexp.Regexp) []*engine.SourceSummary {
	var out []*engine.SourceSummary
	for _, s := range c.srv.backend.Sources() {
		if re == nil || re.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// relationList answers \d, \dt, \dv, \dm (and their + forms) with Name, Type, Topic, Format.
// The relkind list selects: tables for r/p/m, streams for v.
func (c *conn) relationList(toks []token) func(context.Context) (*localResult, error) {
	kinds := map[string]bool{}
	for i, t := range toks {
		if t.is("relkind") && i+2 < len(toks) && toks[i+1].is("IN") && toks[i+2].isP("(") {
			for j := i + 3; j < len(toks) && !toks[j].isP(")"); j++ {
				if toks[j].kind == tkString {
					kinds[toks[j].val] = true
				}
			}
			break
		}
	}
	tables, streams := kinds["r"] || kinds["p"] || kinds["m"], kinds["v"]
	re := relnamePattern(toks)
	return func(context.Context) (*localResult, error) {
		res := &localResult{cols: textCols("Name", "Type", "Topic", "Format"), tag: "SELECT"}
		for _, s := range c.sortedSources(re) {
			isTable := strings.EqualFold(s.Kind, "TABLE")
			if isTable && !tables || !isTable && !streams {
				continue
			}
			kind := "stream"
			if isTable {
				kind = "table"
			}
			format := s.ValueFormat
			if s.KeyFormat != "" && s.KeyFormat != s.ValueFormat && s.KeyFormat != "KAFKA" {
				format = s.KeyFormat + "/" + s.ValueFormat
			}
			res.rows = append(res.rows, []any{s.Name, kind, s.Topic, format})
		}
		return res, nil
	}
}

// relationLookup answers the first query of \d NAME: (oid, schema, name) per match.
func (c *conn) relationLookup(toks []token) func(context.Context) (*localResult, error) {
	re := relnamePattern(toks)
	return func(context.Context) (*localResult, error) {
		res := &localResult{cols: textCols("oid", "nspname", "relname"), tag: "SELECT"}
		for _, s := range c.sortedSources(re) {
			res.rows = append(res.rows, []any{strconv.FormatUint(uint64(relOID(s.Name)), 10), "public", s.Name})
		}
		return res, nil
	}
}

// selectItems returns the top-level select list of toks (nil if toks is not a SELECT).
func selectItems(toks []token) [][]token {
	if len(toks) == 0 || !toks[0].is("SELECT") {
		return nil
	}
	t := toks[1:]
	if len(t) > 0 && t[0].is("DISTINCT") {
		t = t[1:]
	}
	var items [][]token
	depth, start := 0, 0
	for i, tk := range t {
		switch {
		case tk.isP("(") || tk.isP("["):
			depth++
		case tk.isP(")") || tk.isP("]"):
			depth--
		case depth == 0 && tk.isP(","):
			items = append(items, t[start:i])
			start = i + 1
		case depth == 0 && (tk.is("FROM") || tk.is("WHERE") || tk.is("UNION") || tk.is("ORDER")):
			return append(items, t[start:i])
		}
	}
	return append(items, t[start:])
}

// itemName is the column name PostgreSQL would give a select item.
func itemName(it []token) string {
	expr, alias := itemAlias(it)
	if alias != "" {
		return alias
	}
	if len(expr) == 0 {
		return "?column?"
	}
	last := expr[len(expr)-1]
	switch {
	case len(expr) >= 3 && expr[len(expr)-2].isP("::"):
		return itemName(expr[:len(expr)-2])
	case last.kind == tkIdent || last.kind == tkQIdent:
		if len(expr) == 1 || expr[len(expr)-2].isP(".") {
			return aliasName(last)
		}
	case last.isP(")"):
		// f(...) or schema.f(...)
		for i, t := range expr {
			if t.isP("(") {
				if i > 0 && expr[i-1].kind == tkIdent {
					return strings.ToLower(expr[i-1].val)
				}
				break
			}
		}
	}
	return "?column?"
}

// itemRow builds one row for the select list: per item, the value of its alias or of the
// first column name it mentions that vals knows; a bare literal stands for itself.
func (c *conn) itemRow(items [][]token, vals map[string]any) []any {
	row := make([]any, len(items))
	for i, it := range items {
		expr, alias := itemAlias(it)
		if v, ok := vals[strings.ToLower(alias)]; ok && alias != "" {
			row[i] = v
			continue
		}
		if len(expr) == 1 {
			switch t := expr[0]; {
			case t.kind == tkString:
				row[i] = t.val
				continue
			case t.is("true"):
				row[i] = "t"
				continue
			case t.is("false"):
				row[i] = "f"
				continue
			}
		}
		for _, t := range expr {
			if t.kind != tkIdent {
				continue
			}
			if v, ok := vals[strings.ToLower(t.val)]; ok {
				row[i] = v
				break
			}
		}
	}
	return row
}

// rowsFromItems makes a local result with one text column per select item.
func (c *conn) rowsFromItems(items [][]token, rows func() [][]any) func(context.Context) (*localResult, error) {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = itemName(it)
	}
	return func(context.Context) (*localResult, error) {
		return &localResult{cols: textCols(names...), rows: rows(), tag: "SELECT"}, nil
	}
}
