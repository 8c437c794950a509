package eval

import (
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

// compileLambdaCall compiles TRANSFORM, FILTER and REDUCE. Lambda parameters live in Rec.Env
// slots allocated at compile time, so evaluating a lambda body allocates nothing per element.
func compileLambdaCall(n *ast.FuncCall, s *Scope) (*Expr, error) {
	want := map[string]int{"TRANSFORM": 2, "FILTER": 2, "REDUCE": 3}[n.Name]
	if n.Name == "TRANSFORM" && len(n.Args) == 3 {
		want = 3
	}
	if len(n.Args) != want {
		return nil, errAt(n, "Function '%s' does not accept parameters of this count (%d).", n.Name, len(n.Args))
	}
	coll, err := Compile(n.Args[0], s)
	if err != nil {
		return nil, err
	}
	if coll.Type == nil {
		return constExpr(nil, nil), nil
	}
	isMap := coll.Type.Kind == types.KindMap
	if !isMap && coll.Type.Kind != types.KindArray {
		return nil, errAt(n.Args[0], "Function '%s' expects an ARRAY or MAP as its first argument, got %s", n.Name, coll.Type)
	}
	lambdaAt := func(i int, params int) (*ast.Lambda, error) {
		l, ok := n.Args[i].(*ast.Lambda)
		if !ok {
			return nil, errAt(n.Args[i], "Function '%s' expects a lambda expression as argument %d", n.Name, i+1)
		}
		if len(l.Params) != params {
			return nil, errAt(l, "Lambda for %s has %d parameters; expected %d", n.Name, len(l.Params), params)
		}
		return l, nil
	}
	// bind compiles a lambda body with params bound to fresh env slots.
	bind := func(l *ast.Lambda, ptypes []*types.Type) (*Expr, []int, error) {
		inner := *s
		inner.lambdas = append([]lambdaVar(nil), s.lambdas...)
		slots := make([]int, len(l.Params))
		for i, p := range l.Params {
			slot := nextSlot(&inner)
			slots[i] = slot
			inner.lambdas = append(inner.lambdas, lambdaVar{name: p, typ: ptypes[i], slot: slot})
		}
		body, err := Compile(l.Body, &inner)
		return body, slots, err
	}
	cf := coll.Eval
	switch {
	case n.Name == "TRANSFORM" && !isMap:
		l, err := lambdaAt(1, 1)
		if err != nil {
			return nil, err
		}
		body, slots, err := bind(l, []*types.Type{coll.Type.Elem})
		if err != nil {
			return nil, err
		}
		et := body.Type
		if et == nil {
			et = types.StringType
		}
		return &Expr{Type: types.ArrayOf(et), Eval: func(r *Rec) (any, error) {
			v, err := cf(r)
			if err != nil || v == nil {
				return nil, err
			}
			arr := v.([]any)
			out := make([]any, len(arr))
			growEnv(r, slots)
			for i, e := range arr {
				r.Env[slots[0]] = e
				if out[i], err = body.Eval(r); err != nil {
					return nil, err
				}
			}
			return out, nil
		}}, nil
	case n.Name == "TRANSFORM":
		lk, err := lambdaAt(1, 2)
		if err != nil {
			return nil, err
		}
		lv, err := lambdaAt(2, 2)
		if err != nil {
			return nil, err
		}
		kt := []*types.Type{coll.Type.Key, coll.Type.Elem}
		kb, ks, err := bind(lk, kt)
		if err != nil {
			return nil, err
		}
		vb, vs, err := bind(lv, kt)
		if err != nil {
			return nil, err
		}
		return &Expr{Type: types.MapOf(orString(kb.Type), orString(vb.Type)), Eval: func(r *Rec) (any, error) {
			v, err := cf(r)
			if err != nil || v == nil {
				return nil, err
			}
			m := v.(*types.Map)
			out := &types.Map{}
			growEnv(r, ks)
			growEnv(r, vs)
			for i, k := range m.Keys {
				r.Env[ks[0]], r.Env[ks[1]] = k, m.Vals[i]
				nk, err := kb.Eval(r)
				if err != nil {
					return nil, err
				}
				r.Env[vs[0]], r.Env[vs[1]] = k, m.Vals[i]
				nv, err := vb.Eval(r)
				if err != nil {
					return nil, err
				}
				out.Put(nk, nv)
			}
			return out, nil
		}}, nil
	case n.Name == "FILTER":
		params := 1
		pt := []*types.Type{coll.Type.Elem}
		if isMap {
			params = 2
			pt = []*types.Type{coll.Type.Key, coll.Type.Elem}
		}
		l, err := lambdaAt(1, params)
		if err != nil {
			return nil, err
		}
		body, slots, err := bind(l, pt)
		if err != nil {
			return nil, err
		}
		if body.Type != nil && body.Type.Kind != types.KindBoolean {
			return nil, errAt(l, "FILTER lambda must return BOOLEAN, got %s", body.Type)
		}
		return &Expr{Type: coll.Type, Eval: func(r *Rec) (any, error) {
			v, err := cf(r)
			if err != nil || v == nil {
				return nil, err
			}
			growEnv(r, slots)
			if isMap {
				m := v.(*types.Map)
				out := &types.Map{}
				for i, k := range m.Keys {
					r.Env[slots[0]], r.Env[slots[1]] = k, m.Vals[i]
					keep, err := body.Eval(r)
					if err != nil {
						return nil, err
					}
					if keep == true {
						out.Put(k, m.Vals[i])
					}
				}
				return out, nil
			}
			out := []any{}
			for _, e := range v.([]any) {
				r.Env[slots[0]] = e
				keep, err := body.Eval(r)
				if err != nil {
					return nil, err
				}
				if keep == true {
					out = append(out, e)
				}
			}
			return out, nil
		}}, nil
	default: // REDUCE
		init, err := Compile(n.Args[1], s)
		if err != nil {
			return nil, err
		}
		params := 2
		st := init.Type
		pt := []*types.Type{st, coll.Type.Elem}
		if isMap {
			params = 3
			pt = []*types.Type{st, coll.Type.Key, coll.Type.Elem}
		}
		l, err := lambdaAt(2, params)
		if err != nil {
			return nil, err
		}
		body, slots, err := bind(l, pt)
		if err != nil {
			return nil, err
		}
		// The accumulator takes the wider of the initial value's and the lambda's types
		// (REDUCE(map, 0, (s, k, v) => s + v) over DOUBLE values is a DOUBLE), so re-bind
		// the lambda once with that state type.
		if st != nil && body.Type != nil && !body.Type.Equal(st) {
			if wide, werr := types.CommonType(st, body.Type); werr == nil && wide != nil && !wide.Equal(st) {
				if init, err = castTo(init, wide, n.Args[1]); err != nil {
					return nil, err
				}
				st = wide
				pt[0] = wide
				if body, slots, err = bind(l, pt); err != nil {
					return nil, err
				}
			}
			if !body.Type.Equal(st) {
				if body, err = castTo(body, st, l.Body); err != nil {
					return nil, err
				}
			}
		}
		rt := st
		if rt == nil {
			rt = body.Type
		}
		inf := init.Eval
		return &Expr{Type: rt, Eval: func(r *Rec) (any, error) {
			v, err := cf(r)
			if err != nil {
				return nil, err
			}
			acc, err := inf(r)
			if err != nil {
				return nil, err
			}
			if v == nil {
				return acc, nil
			}
			growEnv(r, slots)
			if isMap {
				m := v.(*types.Map)
				for i, k := range m.Keys {
					r.Env[slots[0]], r.Env[slots[1]], r.Env[slots[2]] = acc, k, m.Vals[i]
					if acc, err = body.Eval(r); err != nil {
						return nil, err
					}
				}
				return acc, nil
			}
			for _, e := range v.([]any) {
				r.Env[slots[0]], r.Env[slots[1]] = acc, e
				if acc, err = body.Eval(r); err != nil {
					return nil, err
				}
			}
			return acc, nil
		}}, nil
	}
}

func orString(t *types.Type) *types.Type {
	if t == nil {
		return types.StringType
	}
	return t
}

// slotCounter hands out env slots; a scope copies share the same counter through the pointer.
type slotCounter struct{ n int }

func nextSlot(s *Scope) int {
	max := -1
	for _, l := range s.lambdas {
		if l.slot > max {
			max = l.slot
		}
	}
	return max + 1
}

func growEnv(r *Rec, slots []int) {
	need := 0
	for _, s := range slots {
		if s+1 > need {
			need = s + 1
		}
	}
	for len(r.Env) < need {
		r.Env = append(r.Env, nil)
	}
}
