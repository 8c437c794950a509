package parse

import (
	"strconv"

	"github.com/sluicedb/sluice/sql/types"
)

// baseTypes maps ksql's primitive type names (and their aliases) to types.
var baseTypes = map[string]*types.Type{
	"BOOLEAN": types.BooleanType, "INT": types.IntType, "INTEGER": types.IntType,
	"BIGINT": types.BigintType, "DOUBLE": types.DoubleType, "VARCHAR": types.StringType,
	"STRING": types.StringType, "BYTES": types.BytesType, "DATE": types.DateType,
	"TIME": types.TimeType, "TIMESTAMP": types.TimestampType,
}

// parseType parses ksql's `type` rule. An unknown name is a reference to a CREATE TYPE alias
// (KindNamed), resolved by the binder.
func (p *parser) parseType() *types.Type {
	t := p.peek()
	switch {
	case t.is("ARRAY") && p.peekN(1).is("<"):
		p.next()
		p.next()
		elem := p.parseType()
		p.closeAngle()
		return types.ArrayOf(elem)
	case t.is("MAP") && p.peekN(1).is("<"):
		p.next()
		p.next()
		k := p.parseType()
		p.expect(",")
		v := p.parseType()
		p.closeAngle()
		return types.MapOf(k, v)
	case t.is("STRUCT") && p.peekN(1).is("<>"):
		p.next()
		p.next()
		return types.StructOf()
	case t.is("STRUCT") && p.peekN(1).is("<"):
		p.next()
		p.next()
		var fields []types.Field
		if p.peek().is(">") {
			p.next()
			return types.StructOf()
		}
		for p.err == nil {
			name, _ := p.name()
			fields = append(fields, types.Field{Name: name, Type: p.parseType()})
			if !p.accept(",") {
				break
			}
		}
		p.closeAngle()
		return types.StructOf(fields...)
	case t.is("DECIMAL"):
		p.next()
		p.expect("(")
		prec := p.typeParam()
		p.expect(",")
		scale := p.typeParam()
		p.expect(")")
		return types.DecimalOf(prec, scale)
	}
	if t.kind == tWord {
		if bt, ok := baseTypes[t.val]; ok {
			p.next()
			// ksql's grammar accepts parameters on any base type (VARCHAR(10)); they are ignored.
			if p.peek().is("(") {
				p.next()
				for p.err == nil {
					p.typeParam()
					if !p.accept(",") {
						break
					}
				}
				p.expect(")")
			}
			return bt
		}
	}
	if !isName(t) {
		p.syntaxErr(t)
		return nil
	}
	p.next()
	return &types.Type{Kind: types.KindNamed, Name: identName(t)}
}

// closeAngle consumes the '>' closing a type parameter list.
func (p *parser) closeAngle() { p.expect(">") }

// typeParam reads a non-negative integer type parameter.
func (p *parser) typeParam() int {
	t := p.peek()
	if t.kind != tInt {
		p.syntaxErr(t)
		return 0
	}
	p.next()
	v, err := strconv.Atoi(t.val)
	if err != nil || v > 1<<20 {
		p.fail(t, Semantic, "Invalid type parameter: "+t.val)
		return 0
	}
	return v
}
