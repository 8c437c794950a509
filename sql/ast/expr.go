package ast

import "github.com/sluicedb/sluice/sql/types"

// Expr is a scalar expression.
type Expr interface {
	ExprPos() Pos
}

// ExprBase carries an expression's position.
type ExprBase struct{ At Pos }

// ExprPos implements Expr.
func (e *ExprBase) ExprPos() Pos { return e.At }

// NullLit is NULL.
type NullLit struct{ ExprBase }

// BoolLit is TRUE/FALSE.
type BoolLit struct {
	ExprBase
	Val bool
}

// IntLit is an integer literal: INT if it fits in 32 bits, else BIGINT.
type IntLit struct {
	ExprBase
	Val int64
}

// DecimalLit is a literal with a decimal point and no exponent (1.50): DECIMAL, scale kept.
type DecimalLit struct {
	ExprBase
	Text string
}

// DoubleLit is a literal with an exponent (1e3): DOUBLE.
type DoubleLit struct {
	ExprBase
	Val float64
}

// StringLit is 'text' (” unescaped).
type StringLit struct {
	ExprBase
	Val string
}

// ColumnRef is a column, optionally qualified by a source name or alias. Names are upper-cased
// unless quoted. Pseudo columns (ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND) are
// column refs too; the binder recognises them.
type ColumnRef struct {
	ExprBase
	Qualifier string
	Name      string
}

// Dereference is struct field access `base->field`.
type Dereference struct {
	ExprBase
	Base  Expr
	Field string
}

// Subscript is `base[index]` for arrays (1-based; negative from the end) and maps.
type Subscript struct {
	ExprBase
	Base  Expr
	Index Expr
}

// BinaryOp is an arithmetic, comparison, logical or concatenation operator. Op is one of
// + - * / % = <> < <= > >= AND OR ||.
type BinaryOp struct {
	ExprBase
	Op   string
	L, R Expr
}

// UnaryOp is NOT, unary - or unary +.
type UnaryOp struct {
	ExprBase
	Op string
	X  Expr
}

// IsNull is `X IS [NOT] NULL`.
type IsNull struct {
	ExprBase
	X   Expr
	Not bool
}

// IsDistinct is `L IS [NOT] DISTINCT FROM R`.
type IsDistinct struct {
	ExprBase
	L, R Expr
	Not  bool
}

// Between is `X [NOT] BETWEEN Lo AND Hi`.
type Between struct {
	ExprBase
	X, Lo, Hi Expr
	Not       bool
}

// InList is `X [NOT] IN (list)`.
type InList struct {
	ExprBase
	X    Expr
	List []Expr
	Not  bool
}

// Like is `X [NOT] LIKE Pattern [ESCAPE Escape]`.
type Like struct {
	ExprBase
	X, Pattern Expr
	Escape     Expr // nil when absent
	Not        bool
}

// When is one WHEN ... THEN ... arm.
type When struct {
	Cond, Result Expr
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	ExprBase
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil when absent
}

// Cast is CAST(X AS To).
type Cast struct {
	ExprBase
	X  Expr
	To *types.Type
}

// FuncCall is name(args), COUNT(*) (Star) or f(DISTINCT x). Name is upper-cased.
type FuncCall struct {
	ExprBase
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
}

// Lambda is `x => body` or `(a, b) => body`; parameter names upper-cased unless quoted.
type Lambda struct {
	ExprBase
	Params []string
	Body   Expr
}

// ArrayCtor is ARRAY[e1, e2, ...].
type ArrayCtor struct {
	ExprBase
	Elems []Expr
}

// MapCtor is MAP(k1 := v1, ...).
type MapCtor struct {
	ExprBase
	Keys, Vals []Expr
}

// StructCtor is STRUCT(name := v, ...).
type StructCtor struct {
	ExprBase
	Names []string
	Vals  []Expr
}

// IntervalLit is a duration used by some functions (e.g. TIMESTAMPADD(unit, n, ts)): the unit
// keyword as written, upper-cased.
type IntervalUnit struct {
	ExprBase
	Unit string
}
