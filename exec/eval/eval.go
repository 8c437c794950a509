// Package eval compiles expression trees into Go closures once per query, so that operators
// evaluate rows without walking the AST: name resolution, type checking, overload resolution and
// implicit casts all happen at compile time, and each closure does only the work of its node.
// It owns lambda scoping (TRANSFORM, FILTER, REDUCE) and SQL's three-valued logic. Operators and
// the planner (exec/plan) decide which scope an expression sees.
package eval

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// Rec is the row an expression is evaluated against: column values in scope order plus the
// record's pseudo columns. Env holds lambda variables while a lambda body runs.
type Rec struct {
	Vals      []any
	Ts        int64
	Partition int32
	Offset    int64
	WinStart  int64
	WinEnd    int64
	Headers   []storage.Header
	Env       []any
}

// Func is a compiled expression.
type Func func(r *Rec) (any, error)

// Expr is a compiled, typed expression. Type is nil only for an untyped NULL literal.
type Expr struct {
	Type *types.Type
	Eval Func
	// Const is set when the expression is a literal (its value is ConstVal).
	Const    bool
	ConstVal any
}

// Col is one column visible to expressions.
type Col struct {
	Qualifier string // source alias or name; "" matches any
	Name      string
	Type      *types.Type
}

// Scope says what names an expression may use.
type Scope struct {
	Cols []Col
	// Pseudo enables ROWTIME, ROWPARTITION, ROWOFFSET; Windowed enables WINDOWSTART/WINDOWEND.
	Pseudo   bool
	Windowed bool
	// Resolve, when set, is consulted first for every node; it lets the aggregation planner map
	// GROUP BY expressions and aggregate calls onto columns of the aggregated row.
	Resolve func(e ast.Expr) (*Expr, bool, error)
	// Functions resolves scalar functions; nil means the built-in registry.
	Config map[string]string

	lambdas []lambdaVar
}

type lambdaVar struct {
	name string
	typ  *types.Type
	slot int
}

// Error is a compile error with the position of the offending node.
type Error struct {
	Pos ast.Pos
	Msg string
}

func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("Line: %d, Col: %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return e.Msg
}

func errAt(e ast.Expr, format string, args ...any) *Error {
	var p ast.Pos
	if e != nil {
		p = e.ExprPos()
	}
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Pseudo column names.
const (
	RowTime      = "ROWTIME"
	RowPartition = "ROWPARTITION"
	RowOffset    = "ROWOFFSET"
	WindowStart  = "WINDOWSTART"
	WindowEnd    = "WINDOWEND"
)

// IsPseudo reports whether name is a pseudo column.
func IsPseudo(name string) bool {
	switch name {
	case RowTime, RowPartition, RowOffset, WindowStart, WindowEnd:
		return true
	}
	return false
}

// lookup finds a column; ambiguity is an error.
func (s *Scope) lookup(ref *ast.ColumnRef) (int, *types.Type, error) {
	found := -1
	var candidates []string
	for i, c := range s.Cols {
		if c.Name != ref.Name {
			continue
		}
		if ref.Qualifier != "" && c.Qualifier != "" && !strings.EqualFold(c.Qualifier, ref.Qualifier) {
			continue
		}
		candidates = append(candidates, strings.ToUpper(c.Qualifier)+"."+c.Name)
		if found < 0 {
			found = i
		}
	}
	if len(candidates) > 1 && ref.Qualifier == "" {
		return -1, nil, errAt(ref, "Column '%s' is ambiguous. Could be %s.", ref.Name, strings.Join(candidates, " or "))
	}
	if found < 0 {
		return -1, nil, nil
	}
	return found, s.Cols[found].Type, nil
}

func constExpr(t *types.Type, v any) *Expr {
	return &Expr{Type: t, Const: true, ConstVal: v, Eval: func(*Rec) (any, error) { return v, nil }}
}
