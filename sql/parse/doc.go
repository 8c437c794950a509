// Package parse turns ksqlDB-dialect SQL text into sql/ast statements. It owns the dialect's
// surface syntax and nothing after it: names are not resolved, types not checked and functions
// not looked up (sql/bind does that); errors here are grammar errors plus the few checks ksqlDB
// itself makes while building its tree (overflowing literals, KEY vs PRIMARY KEY, WINDOW_SIZE on
// SESSION sources).
//
// # Layers
//
//	text ─► Split / lex (lexer.go) ─► ${var} substitution (vars.go)
//	     ─► statement shells, recursive descent (parser.go, query.go, types.go)
//	     ─► expression rewriting into TiDB-parsable text + side table (rewrite.go)
//	     ─► TiDB parser (pooled), TiDB AST ─► sql/ast (tidb.go)
//
// The ksql front end parses everything TiDB does not know: statements, WITH lists, column
// definitions and ksql types, WINDOW, WITHIN/GRACE PERIOD, EMIT, PARTITION BY, LIMIT and FULL
// joins. Each query becomes one synthetic TiDB statement whose projection, ON conditions, WHERE,
// GROUP BY, HAVING (and PARTITION BY, carried in ORDER BY) TiDB parses with its own operator
// precedence. ksql-only expression syntax (->, [i], ARRAY[..], MAP(k:=v), STRUCT(f:=v), lambdas,
// CAST to ksql types, IS [NOT] DISTINCT FROM) and every identifier and literal are first replaced
// by placeholders, so TiDB never sees user spelling; rewrite.go explains the scheme. Every
// rewritten piece keeps its source offset, so all positions, including those of errors TiDB
// finds, are line:column of the original text.
//
// # Identifiers and literals
//
// Unquoted names are upper-cased; `back-quoted` and "double-quoted" names keep their case.
// Non-reserved keywords (ksqlDB's list) may be names. Integers are IntLit (error past int64),
// 1.5 is DecimalLit with its text, 1e3 is DoubleLit. A '-' directly before a number in operand
// position belongs to the literal, as in ksqlDB's grammar.
//
// # Errors
//
// Every error is an *Error with the 1-based line:column of the offending text. Messages follow
// ksqlDB where its conformance corpus checks them, including its position formats (see
// errors.go); Error.Brief gives the detail-free form ksqlDB's REST API shows.
//
// # Output contract beyond sql/ast's comments
//
//   - Query.GroupBy / PartitionBy are nil when the clause is absent and empty but non-nil for
//     `GROUP BY ()` / `PARTITION BY ()`, which ksqlDB parses and rejects later.
//   - SelectItem for `s->*` has Star set and Expr = s.
//   - Assert.SchemaID and Assert.TimeoutMs are -1 when not given; Print.Topic keeps an unquoted
//     topic name as written (topic names are case-sensitive).
//   - StmtText is the statement's original text (before ${var} substitution).
//
// Format prints any statement back as canonical ksql (used by EXPLAIN and the golden tests);
// Parse(Format(s)) gives the same canonical text again.
package parse
