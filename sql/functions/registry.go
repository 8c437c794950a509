// Package functions is the registry of built-in scalar, aggregate and table functions
// (KSQL_FACTS part D): their names, descriptions, overloads, result types and implementations.
// SHOW FUNCTIONS, DESCRIBE FUNCTION and docs/functions.md all read this one registry. The binder
// resolves a call by name and argument types; exec/eval compiles the resolved implementation
// into its expression closures. Higher-order functions that take lambdas (TRANSFORM, FILTER,
// REDUCE) are listed here for discovery but compiled by exec/eval, which owns lambda scope.
package functions

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/sql/types"
)

// Kind tells scalar, aggregate and table functions apart.
type Kind uint8

// Function kinds.
const (
	Scalar Kind = iota
	Aggregate
	TableFunc
)

func (k Kind) String() string {
	return [...]string{"SCALAR", "AGGREGATE", "TABLE"}[k]
}

// Signature documents one overload for DESCRIBE FUNCTION, e.g. "SUBSTRING(str STRING, pos INT)".
type Signature struct {
	Args        string // "str STRING, pos INT"
	Returns     string // "STRING"
	Description string
}

// ScalarImpl is a resolved scalar overload. Eval receives arguments already converted to ArgTypes
// (the binder inserts the casts) and returns a value of Return. Eval must not retain args.
// NullOnNull: when true the caller returns NULL without calling Eval if any argument is NULL.
type ScalarImpl struct {
	ArgTypes   []*types.Type
	Return     *types.Type
	NullOnNull bool
	Eval       func(args []any) (any, error)
}

// Accumulator is the running state of one aggregate for one group (or window).
//
// Add folds in one input row's arguments; Undo removes a row previously added (table
// aggregations retract old values); Merge folds in another accumulator of the same
// implementation (session windows merge). Snapshot returns the state as a value of the
// implementation's State type so exec can persist it; AggregateImpl.Restore rebuilds it.
type Accumulator interface {
	Add(args []any) error
	Undo(args []any) error
	Merge(other Accumulator) error
	Result() any
	Snapshot() any
}

// AggregateImpl is a resolved aggregate overload. ArgTypes are the column arguments; Literal
// arguments after them (e.g. TOPK's k) were passed to Resolve as InitArgs.
type AggregateImpl struct {
	ArgTypes []*types.Type
	Return   *types.Type
	State    *types.Type // type of Snapshot values
	New      func() Accumulator
	Restore  func(snapshot any) (Accumulator, error)
}

// TableImpl is a resolved table-function overload: Eval returns the output values (of type
// Return) for one input row.
type TableImpl struct {
	ArgTypes []*types.Type
	Return   *types.Type
	Eval     func(args []any) ([]any, error)
}

// Function is one registry entry. Exactly one resolver is set, matching Kind.
type Function struct {
	Name        string // upper-case
	Kind        Kind
	Category    string // e.g. "STRING", "MATHEMATICAL", "DATE / TIME", "AGGREGATE", "TABLE"
	Description string
	Signatures  []Signature

	// ResolveScalar picks the overload for the argument types (nil entries are NULL literals
	// whose type is unknown) and returns the implementation, or an error naming the function
	// and the types ("Function 'X' does not accept parameters (STRING, INTEGER).").
	ResolveScalar func(args []*types.Type) (*ScalarImpl, error)
	// ResolveAggregate also receives the literal values of trailing constant arguments.
	ResolveAggregate func(args []*types.Type, initArgs []any, cfg Config) (*AggregateImpl, error)
	ResolveTable     func(args []*types.Type) (*TableImpl, error)
}

// Config carries the properties that change function behaviour
// (ksql.functions.collect_list.limit, ksql.functions.substring.legacy.args, ...).
type Config map[string]string

var (
	mu       sync.RWMutex
	registry = map[string]*Function{}
)

// Register adds a function; it panics on a duplicate name because that is a programming error
// found at init time.
func Register(f *Function) {
	mu.Lock()
	defer mu.Unlock()
	name := strings.ToUpper(f.Name)
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("functions: %s registered twice", name))
	}
	f.Name = name
	registry[name] = f
}

// Lookup finds a function by case-insensitive name.
func Lookup(name string) (*Function, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := registry[strings.ToUpper(name)]
	return f, ok
}

// All returns every function sorted by name.
func All() []*Function {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Function, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
