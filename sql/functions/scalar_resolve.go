package functions

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/sql/types"
)

// Overload resolution for the built-in scalar functions, modelled on ksqlDB's UdfIndex:
//
//  1. Look for overloads the argument types match exactly (a NULL literal matches any
//     parameter). One match wins; several matches are ambiguous only when the arguments are
//     all NULL, otherwise the first declared wins (overloads are declared most specific first).
//  2. Otherwise allow implicit casts (INT -> BIGINT -> DECIMAL -> DOUBLE, element-wise in
//     containers, and STRING -> DATE/TIME/TIMESTAMP so that literals such as '2022-06-14' can
//     be passed to temporal parameters). Exactly one candidate must remain, else the call is
//     ambiguous: "Function 'greatest' cannot be resolved due to ambiguous method parameters
//     (INTEGER, BIGINT)." (greatest.json).
//
// Parameter patterns are ordinary *types.Type values, with two extensions: a KindNamed type is a
// generic type variable (T, K, V...) bound consistently across the call, and anyDecimal (a
// DECIMAL with Precision -1) matches every DECIMAL, resolving to the argument's own type.

// generic returns the type variable called name.
func generic(name string) *types.Type { return &types.Type{Kind: types.KindNamed, Name: name} }

var (
	tT         = generic("T")
	tK         = generic("K")
	tV         = generic("V")
	anyDecimal = &types.Type{Kind: types.KindDecimal, Precision: -1}
	arrT       = types.ArrayOf(tT)
	mapKV      = types.MapOf(tK, tV)
	arrString  = types.ArrayOf(types.StringType)
)

// overload is one signature of a built-in scalar function.
type overload struct {
	params   []*types.Type
	names    []string // parameter names for DESCRIBE FUNCTION
	variadic bool     // the last param repeats zero or more times
	// ret computes the result type from the resolved argument types; nil means retType.
	ret     func(args []*types.Type) (*types.Type, error)
	retType *types.Type
	// widenDecimals makes every anyDecimal parameter resolve to the one DECIMAL that holds all
	// decimal arguments (GREATEST/LEAST over DECIMALs of different scales).
	widenDecimals bool
	nullOnNull    bool
	// eval is the implementation when it does not depend on the argument types; build is used
	// when it does (it is called once per resolution, not per row).
	eval  func(args []any) (any, error)
	build func(args []*types.Type, ret *types.Type) func(args []any) (any, error)
	desc  string
}

// sig is a compact overload constructor: sig(ret, "name TYPE"...) is filled in by the caller.
func ov(ret *types.Type, params ...param) *overload {
	o := &overload{retType: ret}
	for _, p := range params {
		o.params = append(o.params, p.t)
		o.names = append(o.names, p.name)
	}
	return o
}

type param struct {
	name string
	t    *types.Type
}

func p(name string, t *types.Type) param { return param{name, t} }

func (o *overload) strict() *overload                            { o.nullOnNull = true; return o }
func (o *overload) vararg() *overload                            { o.variadic = true; return o }
func (o *overload) describe(d string) *overload                  { o.desc = d; return o }
func (o *overload) fn(f func(args []any) (any, error)) *overload { o.eval = f; return o }
func (o *overload) retFn(f func(args []*types.Type) (*types.Type, error)) *overload {
	o.ret = f
	return o
}
func (o *overload) builder(f func(args []*types.Type, ret *types.Type) func([]any) (any, error)) *overload {
	o.build = f
	return o
}

// retSame returns the type of argument i (after resolution) as the result type.
func retSame(i int) func(args []*types.Type) (*types.Type, error) {
	return func(args []*types.Type) (*types.Type, error) { return args[i], nil }
}

// registerScalar adds a scalar function with the given overloads.
func registerScalar(name, category, desc string, ovs ...*overload) {
	lname := strings.ToLower(name)
	f := &Function{
		Name:        name,
		Kind:        Scalar,
		Category:    category,
		Description: desc,
	}
	for _, o := range ovs {
		d := o.desc
		if d == "" {
			d = desc
		}
		f.Signatures = append(f.Signatures, Signature{Args: o.argsString(), Returns: o.returnsString(), Description: d})
	}
	f.ResolveScalar = func(args []*types.Type) (*ScalarImpl, error) {
		return resolveOverloads(lname, ovs, args)
	}
	Register(f)
}

func (o *overload) argsString() string {
	parts := make([]string, len(o.params))
	for i, pt := range o.params {
		ts := patternString(pt)
		if o.variadic && i == len(o.params)-1 {
			ts += "..."
		}
		parts[i] = o.names[i] + " " + ts
	}
	return strings.Join(parts, ", ")
}

func (o *overload) returnsString() string {
	if o.retType != nil {
		return patternString(o.retType)
	}
	// Computed result types: describe them from the generic parameters when possible.
	for _, pt := range o.params {
		if pt == anyDecimal {
			return "DECIMAL"
		}
	}
	return "T"
}

// patternString prints a parameter pattern without back-quotes, as ksqlDB's messages do.
func patternString(t *types.Type) string {
	if t == nil {
		return "null"
	}
	switch t.Kind {
	case types.KindNamed:
		return t.Name
	case types.KindDecimal:
		if t.Precision < 0 {
			return "DECIMAL"
		}
	case types.KindArray:
		return "ARRAY<" + patternString(t.Elem) + ">"
	case types.KindMap:
		return "MAP<" + patternString(t.Key) + ", " + patternString(t.Elem) + ">"
	case types.KindStruct:
		if t.Fields == nil {
			return "STRUCT"
		}
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + " " + patternString(f.Type)
		}
		return "STRUCT<" + strings.Join(parts, ", ") + ">"
	}
	return t.String()
}

func argsTypesString(args []*types.Type) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = patternString(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func alternatives(name string, ovs []*overload) string {
	lines := make([]string, len(ovs))
	for i, o := range ovs {
		parts := make([]string, len(o.params))
		for j, pt := range o.params {
			ts := patternString(pt)
			if o.variadic && j == len(o.params)-1 {
				ts += "[]"
			}
			parts[j] = ts + " " + o.names[j]
		}
		lines[i] = name + "(" + strings.Join(parts, ", ") + ")"
	}
	return strings.Join(lines, "\n")
}

func noMatchError(name string, ovs []*overload, args []*types.Type) error {
	return fmt.Errorf("Function '%s' does not accept parameters %s.\nValid alternatives are:\n%s\nFor detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;",
		name, argsTypesString(args), alternatives(name, ovs))
}

func ambiguousError(name string, ovs []*overload, args []*types.Type) error {
	return fmt.Errorf("Function '%s' cannot be resolved due to ambiguous method parameters %s.\nUse CAST() to explicitly cast your parameters to one of the supported function calls.\nValid function calls are:\n%s\nFor detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;",
		name, argsTypesString(args), alternatives(name, ovs))
}

type candidate struct {
	o    *overload
	args []*types.Type
}

func resolveOverloads(name string, ovs []*overload, args []*types.Type) (*ScalarImpl, error) {
	allNull := len(args) > 0
	for _, a := range args {
		if a != nil {
			allNull = false
		}
	}
	for _, allowCast := range []bool{false, true} {
		var cands []candidate
		for _, o := range ovs {
			if resolved, ok := matchOverload(o, args, allowCast); ok {
				cands = append(cands, candidate{o, resolved})
			}
		}
		if len(cands) == 0 {
			continue
		}
		if len(cands) > 1 && (allowCast || allNull) {
			return nil, ambiguousError(name, ovs, args)
		}
		return instantiate(name, cands[0])
	}
	return nil, noMatchError(name, ovs, args)
}

func instantiate(name string, c candidate) (*ScalarImpl, error) {
	o := c.o
	ret := o.retType
	if o.ret != nil {
		r, err := o.ret(c.args)
		if err != nil {
			return nil, fmt.Errorf("Function '%s': %v", name, err)
		}
		ret = r
	}
	eval := o.eval
	if o.build != nil {
		eval = o.build(c.args, ret)
	}
	return &ScalarImpl{ArgTypes: c.args, Return: ret, NullOnNull: o.nullOnNull, Eval: safeEval(name, eval)}, nil
}

// safeEval turns a panic in a function body into an error: no input may crash a query.
func safeEval(name string, f func([]any) (any, error)) func([]any) (any, error) {
	return func(args []any) (out any, err error) {
		defer func() {
			if r := recover(); r != nil {
				out, err = nil, fmt.Errorf("Function '%s' failed: %v", name, r)
			}
		}()
		return f(args)
	}
}

// matchOverload checks args against o and returns the types the binder must convert the arguments to.
func matchOverload(o *overload, args []*types.Type, allowCast bool) ([]*types.Type, bool) {
	n := len(o.params)
	if o.variadic {
		if len(args) < n-1 {
			return nil, false
		}
	} else if len(args) != n {
		return nil, false
	}
	patternAt := func(i int) *types.Type {
		if i >= n {
			return o.params[n-1]
		}
		return o.params[i]
	}
	bind := map[string][]*types.Type{}
	for i, a := range args {
		if !unify(patternAt(i), a, bind, allowCast) {
			return nil, false
		}
	}
	// Resolve each type variable to one type.
	resolved := map[string]*types.Type{}
	for name, ts := range bind {
		var t *types.Type
		if allowCast {
			c, err := types.CommonType(ts...)
			if err != nil {
				return nil, false
			}
			t = c
		} else {
			for _, x := range ts {
				if t == nil {
					t = x
				} else if !t.Equal(x) {
					return nil, false
				}
			}
		}
		resolved[name] = t
	}
	var widened *types.Type
	if o.widenDecimals {
		for i, a := range args {
			if patternAt(i) == anyDecimal && a != nil {
				d := types.AsDecimalType(a)
				if widened == nil {
					widened = d
				} else {
					widened = types.WidenDecimal(widened, d)
				}
			}
		}
	}
	out := make([]*types.Type, len(args))
	for i, a := range args {
		pt := patternAt(i)
		if pt == anyDecimal {
			switch {
			case widened != nil:
				out[i] = widened
			case a != nil:
				out[i] = types.AsDecimalType(a)
			default:
				return nil, false // a NULL for an unconstrained DECIMAL has no type
			}
			continue
		}
		t, ok := subst(pt, resolved, a)
		if !ok {
			return nil, false
		}
		if allowCast && a != nil && !a.Equal(t) && !implicitArg(a, t) {
			return nil, false
		}
		out[i] = t
	}
	return out, true
}

// implicitArg is CanImplicitlyCast plus STRING -> temporal types for function arguments.
func implicitArg(from, to *types.Type) bool {
	if types.CanImplicitlyCast(from, to) {
		return true
	}
	if from.Kind == types.KindString {
		switch to.Kind {
		case types.KindDate, types.KindTime, types.KindTimestamp:
			return true
		}
	}
	return false
}

func unify(pt, a *types.Type, bind map[string][]*types.Type, allowCast bool) bool {
	if a == nil {
		return true
	}
	switch pt.Kind {
	case types.KindNamed:
		bind[pt.Name] = append(bind[pt.Name], a)
		return true
	case types.KindDecimal:
		if pt.Precision < 0 {
			if a.Kind == types.KindDecimal {
				return true
			}
			return allowCast && (a.Kind == types.KindInt || a.Kind == types.KindBigint)
		}
	case types.KindArray:
		return a.Kind == types.KindArray && unify(pt.Elem, a.Elem, bind, allowCast)
	case types.KindMap:
		return a.Kind == types.KindMap && unify(pt.Key, a.Key, bind, allowCast) &&
			unify(pt.Elem, a.Elem, bind, allowCast)
	case types.KindStruct:
		if pt.Fields == nil {
			return a.Kind == types.KindStruct
		}
	}
	if pt.Equal(a) {
		return true
	}
	return allowCast && implicitArg(a, pt)
}

// subst replaces type variables in pt; a (the argument type, may be nil) fills pattern parts
// that are not variables, such as "any STRUCT".
func subst(pt *types.Type, resolved map[string]*types.Type, a *types.Type) (*types.Type, bool) {
	switch pt.Kind {
	case types.KindNamed:
		t := resolved[pt.Name]
		return t, t != nil
	case types.KindArray:
		var ae *types.Type
		if a != nil && a.Kind == types.KindArray {
			ae = a.Elem
		}
		e, ok := subst(pt.Elem, resolved, ae)
		if !ok {
			return nil, false
		}
		return types.ArrayOf(e), true
	case types.KindMap:
		var ak, av *types.Type
		if a != nil && a.Kind == types.KindMap {
			ak, av = a.Key, a.Elem
		}
		k, ok1 := subst(pt.Key, resolved, ak)
		v, ok2 := subst(pt.Elem, resolved, av)
		if !ok1 || !ok2 {
			return nil, false
		}
		return types.MapOf(k, v), true
	case types.KindDecimal:
		if pt.Precision < 0 {
			if a == nil {
				return nil, false
			}
			return types.AsDecimalType(a), true
		}
	case types.KindStruct:
		if pt.Fields == nil {
			return a, a != nil
		}
	}
	return pt, true
}

// Small conversion helpers shared by the scalar files.

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}
