// Package types owns Sluice's SQL type system and its runtime value representation: the types
// of KSQL_FACTS part C (BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL(p,s), STRING, BYTES, DATE, TIME,
// TIMESTAMP, ARRAY, MAP, STRUCT), schemas of key, value and header columns, and the Go values that
// flow through operators. It does no I/O and knows no formats; exec/serde maps values to bytes.
//
// # Values
//
// A value of SQL type T is held in an `any` as:
//
//	NULL       nil (for every type)
//	BOOLEAN    bool
//	INT        int32
//	BIGINT     int64
//	DOUBLE     float64
//	DECIMAL    decimal.Decimal (github.com/shopspring/decimal); the scale comes from the type
//	STRING     string
//	BYTES      []byte
//	DATE       Date (days since the epoch)
//	TIME       Time (milliseconds of the day)
//	TIMESTAMP  Timestamp (milliseconds since the epoch, UTC)
//	ARRAY      []any
//	MAP        *Map (insertion ordered)
//	STRUCT     *Struct (fields in type order)
//
// Operators know the static type of every value, so they never need to guess; the named Go
// types for DATE/TIME/TIMESTAMP exist so that a value printed for debugging is unambiguous.
package types

import (
	"fmt"
	"strings"
)

// Kind is the top-level SQL type.
type Kind uint8

// The SQL kinds. Named is an unresolved reference to a CREATE TYPE alias; the binder replaces it.
const (
	KindUnknown Kind = iota
	KindBoolean
	KindInt
	KindBigint
	KindDouble
	KindDecimal
	KindString
	KindBytes
	KindDate
	KindTime
	KindTimestamp
	KindArray
	KindMap
	KindStruct
	KindNamed
)

// Type is a SQL type. Types are immutable once built; share them freely.
type Type struct {
	Kind      Kind
	Precision int     // DECIMAL
	Scale     int     // DECIMAL
	Key       *Type   // MAP key
	Elem      *Type   // ARRAY element, MAP value
	Fields    []Field // STRUCT fields, in order
	Name      string  // Named: the alias name as written (upper-cased unless quoted)
}

// Field is one STRUCT field.
type Field struct {
	Name string
	Type *Type
}

// Shared instances of the primitive types.
var (
	BooleanType   = &Type{Kind: KindBoolean}
	IntType       = &Type{Kind: KindInt}
	BigintType    = &Type{Kind: KindBigint}
	DoubleType    = &Type{Kind: KindDouble}
	StringType    = &Type{Kind: KindString}
	BytesType     = &Type{Kind: KindBytes}
	DateType      = &Type{Kind: KindDate}
	TimeType      = &Type{Kind: KindTime}
	TimestampType = &Type{Kind: KindTimestamp}
)

// DecimalOf returns DECIMAL(p, s).
func DecimalOf(p, s int) *Type { return &Type{Kind: KindDecimal, Precision: p, Scale: s} }

// ArrayOf returns ARRAY<elem>.
func ArrayOf(elem *Type) *Type { return &Type{Kind: KindArray, Elem: elem} }

// MapOf returns MAP<key, val>.
func MapOf(key, val *Type) *Type { return &Type{Kind: KindMap, Key: key, Elem: val} }

// StructOf returns STRUCT<fields...>.
func StructOf(fields ...Field) *Type { return &Type{Kind: KindStruct, Fields: fields} }

// IsNumeric reports whether t is INT, BIGINT, DECIMAL or DOUBLE.
func (t *Type) IsNumeric() bool {
	switch t.Kind {
	case KindInt, KindBigint, KindDecimal, KindDouble:
		return true
	}
	return false
}

// IsPrimitive reports whether t is neither ARRAY, MAP nor STRUCT.
func (t *Type) IsPrimitive() bool {
	return t.Kind != KindArray && t.Kind != KindMap && t.Kind != KindStruct
}

// FieldIndex returns the index of a STRUCT field by exact name, or -1.
func (t *Type) FieldIndex(name string) int {
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Equal reports structural equality (DECIMAL precision and scale included).
func (t *Type) Equal(o *Type) bool {
	if t == o {
		return true
	}
	if t == nil || o == nil || t.Kind != o.Kind {
		return false
	}
	switch t.Kind {
	case KindDecimal:
		return t.Precision == o.Precision && t.Scale == o.Scale
	case KindArray:
		return t.Elem.Equal(o.Elem)
	case KindMap:
		return t.Key.Equal(o.Key) && t.Elem.Equal(o.Elem)
	case KindStruct:
		if len(t.Fields) != len(o.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != o.Fields[i].Name || !t.Fields[i].Type.Equal(o.Fields[i].Type) {
				return false
			}
		}
		return true
	case KindNamed:
		return t.Name == o.Name
	}
	return true
}

// String prints the type the way ksqlDB does in schemas and REST headers:
// INTEGER, BIGINT, DECIMAL(4, 2), ARRAY<STRING>, MAP<STRING, INTEGER>, STRUCT<`F` INTEGER>.
func (t *Type) String() string {
	var sb strings.Builder
	t.write(&sb)
	return sb.String()
}

func (t *Type) write(sb *strings.Builder) {
	if t == nil {
		sb.WriteString("NULL")
		return
	}
	switch t.Kind {
	case KindBoolean:
		sb.WriteString("BOOLEAN")
	case KindInt:
		sb.WriteString("INTEGER")
	case KindBigint:
		sb.WriteString("BIGINT")
	case KindDouble:
		sb.WriteString("DOUBLE")
	case KindDecimal:
		fmt.Fprintf(sb, "DECIMAL(%d, %d)", t.Precision, t.Scale)
	case KindString:
		sb.WriteString("STRING")
	case KindBytes:
		sb.WriteString("BYTES")
	case KindDate:
		sb.WriteString("DATE")
	case KindTime:
		sb.WriteString("TIME")
	case KindTimestamp:
		sb.WriteString("TIMESTAMP")
	case KindArray:
		sb.WriteString("ARRAY<")
		t.Elem.write(sb)
		sb.WriteString(">")
	case KindMap:
		sb.WriteString("MAP<")
		t.Key.write(sb)
		sb.WriteString(", ")
		t.Elem.write(sb)
		sb.WriteString(">")
	case KindStruct:
		sb.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(QuoteIdent(f.Name))
			sb.WriteString(" ")
			f.Type.write(sb)
		}
		sb.WriteString(">")
	case KindNamed:
		sb.WriteString(t.Name)
	default:
		sb.WriteString("UNKNOWN")
	}
}

// QuoteIdent back-quotes a name as ksqlDB prints it in schemas (“ escapes a back-quote).
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// Date is days since 1970-01-01.
type Date int32

// Time is milliseconds since midnight.
type Time int32

// Timestamp is milliseconds since 1970-01-01T00:00:00Z.
type Timestamp int64

// Map is an insertion-ordered SQL MAP value. Keys are values of the map's key type.
type Map struct {
	Keys []any
	Vals []any
}

// Get returns the value for key k and whether it is present.
func (m *Map) Get(k any) (any, bool) {
	for i, key := range m.Keys {
		if Equal(key, k) {
			return m.Vals[i], true
		}
	}
	return nil, false
}

// Put sets key k, replacing an existing entry in place.
func (m *Map) Put(k, v any) {
	for i, key := range m.Keys {
		if Equal(key, k) {
			m.Vals[i] = v
			return
		}
	}
	m.Keys = append(m.Keys, k)
	m.Vals = append(m.Vals, v)
}

// Len is the number of entries.
func (m *Map) Len() int { return len(m.Keys) }

// Struct is a SQL STRUCT value; Vals are in the order of its type's fields. Names is shared with
// the type (never mutate it) so serializers that lack the type can still name fields.
type Struct struct {
	Names []string
	Vals  []any
}

// Get returns a field by exact name.
func (s *Struct) Get(name string) (any, bool) {
	for i, n := range s.Names {
		if n == name {
			return s.Vals[i], true
		}
	}
	return nil, false
}

// Namespace says where a column lives in a record.
type Namespace uint8

// Column namespaces.
const (
	ValueColumn Namespace = iota
	KeyColumn
	HeaderColumn // HEADER('k') when HeaderKey != "", all headers (HEADERS) otherwise
)

// Column is one column of a source's schema.
type Column struct {
	Name      string
	Type      *Type
	Namespace Namespace
	HeaderKey string
}

// Schema is the ordered logical schema of a stream or table: key columns first, then value and
// header columns in declaration order. Pseudo columns (ROWTIME, ...) are not part of it.
type Schema struct {
	Columns []Column
}

// Key returns the key columns, in order.
func (s *Schema) Key() []Column {
	return s.filter(func(c Column) bool { return c.Namespace == KeyColumn })
}

// Value returns the value columns, in order.
func (s *Schema) Value() []Column {
	return s.filter(func(c Column) bool { return c.Namespace == ValueColumn })
}

func (s *Schema) filter(keep func(Column) bool) []Column {
	var out []Column
	for _, c := range s.Columns {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the index of the column called name (exact match), or -1.
func (s *Schema) Find(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// String prints the schema as ksqlDB's post-condition and DESCRIBE do:
// "`ID` INTEGER KEY, `NAME` STRING".
func (s *Schema) String() string {
	var sb strings.Builder
	for i, c := range s.Columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(QuoteIdent(c.Name))
		sb.WriteString(" ")
		sb.WriteString(c.Type.String())
		switch c.Namespace {
		case KeyColumn:
			sb.WriteString(" KEY")
		case HeaderColumn:
			if c.HeaderKey != "" {
				fmt.Fprintf(&sb, " HEADER('%s')", c.HeaderKey)
			} else {
				sb.WriteString(" HEADERS")
			}
		}
	}
	return sb.String()
}
