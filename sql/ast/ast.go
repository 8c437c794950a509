// Package ast is Sluice's statement and expression tree for the ksqlDB dialect. sql/parse builds
// it (the ksql front end plus the TiDB parser for SELECT bodies and expressions); sql/bind and
// exec read it. Nodes are plain data: no catalog, no types resolved, positions kept so every
// later error can name line:column in the original text.
package ast

import "github.com/sluicedb/sluice/sql/types"

// Pos is a 1-based line and column in the original statement text.
type Pos struct {
	Line, Col int
}

// Statement is any parsed statement.
type Statement interface {
	StmtPos() Pos
	// Text is the original text of the statement, including its terminating ';'.
	StmtText() string
}

// StmtBase carries what every statement has.
type StmtBase struct {
	At   Pos
	Text string
}

// StmtPos implements Statement.
func (b *StmtBase) StmtPos() Pos { return b.At }

// StmtText implements Statement.
func (b *StmtBase) StmtText() string { return b.Text }

// SourceKind tells streams from tables.
type SourceKind uint8

// Source kinds.
const (
	Stream SourceKind = iota
	Table
)

func (k SourceKind) String() string {
	if k == Table {
		return "TABLE"
	}
	return "STREAM"
}

// Property is one WITH (...) entry. Key is upper-cased; Value is a literal (*StringLit,
// *IntLit, *DecimalLit, *DoubleLit, *BoolLit).
type Property struct {
	At    Pos
	Key   string
	Value Expr
}

// Properties is an ordered WITH clause.
type Properties []Property

// Get returns the property with the given upper-case key.
func (ps Properties) Get(key string) (Property, bool) {
	for _, p := range ps {
		if p.Key == key {
			return p, true
		}
	}
	return Property{}, false
}

// ColumnDef is one column of CREATE STREAM/TABLE.
type ColumnDef struct {
	At        Pos
	Name      string // upper-cased unless quoted
	Type      *types.Type
	Key       bool   // KEY or PRIMARY KEY
	Primary   bool   // PRIMARY KEY spelled out
	Headers   bool   // HEADERS
	HeaderKey string // HEADER('k'); Headers is also true
}

// CreateSource is CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name (cols) WITH (...).
type CreateSource struct {
	StmtBase
	Kind        SourceKind
	OrReplace   bool
	IfNotExists bool
	IsSource    bool
	Name        string
	Columns     []ColumnDef
	With        Properties
}

// CreateAsSelect is CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name [WITH (...)] AS SELECT.
type CreateAsSelect struct {
	StmtBase
	Kind        SourceKind
	OrReplace   bool
	IfNotExists bool
	Name        string
	With        Properties
	Query       *Query
}

// InsertSelect is INSERT INTO target [WITH (...)] SELECT ...
type InsertSelect struct {
	StmtBase
	Target string
	With   Properties
	Query  *Query
}

// InsertValues is INSERT INTO target [(cols)] VALUES (exprs).
type InsertValues struct {
	StmtBase
	Target  string
	Columns []string // nil when omitted
	Values  []Expr
}

// EmitMode is how a query emits.
type EmitMode uint8

// Emit modes. EmitNone means no EMIT clause (a pull query when not in CSAS/CTAS).
const (
	EmitNone EmitMode = iota
	EmitChanges
	EmitFinal
)

// SelectItem is one projection entry: Expr with optional Alias, or a star (Star true; Qualifier
// set for `t.*`).
type SelectItem struct {
	At        Pos
	Expr      Expr
	Alias     string
	Star      bool
	Qualifier string
}

// Relation is a FROM item: *SourceRef or *Join.
type Relation interface{ relPos() Pos }

// SourceRef names a stream or table, with an optional alias.
type SourceRef struct {
	At    Pos
	Name  string
	Alias string
}

func (s *SourceRef) relPos() Pos { return s.At }

// JoinType is the kind of join.
type JoinType uint8

// Join types.
const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
)

func (j JoinType) String() string {
	return [...]string{"INNER", "LEFT", "RIGHT", "FULL"}[j]
}

// Within is a stream-stream join window: WITHIN n unit or WITHIN (before, after), with GRACE.
type Within struct {
	At       Pos
	BeforeMs int64
	AfterMs  int64
	GraceMs  int64 // -1 when not given
}

// Join is `Left <type> JOIN Right [WITHIN ...] ON On`.
type Join struct {
	At     Pos
	Type   JoinType
	Left   Relation
	Right  Relation
	Within *Within
	On     Expr
}

func (j *Join) relPos() Pos { return j.At }

// WindowType is the kind of window.
type WindowType uint8

// Window types.
const (
	Tumbling WindowType = iota + 1
	Hopping
	Session
)

func (w WindowType) String() string {
	switch w {
	case Tumbling:
		return "TUMBLING"
	case Hopping:
		return "HOPPING"
	case Session:
		return "SESSION"
	}
	return ""
}

// Window is a WINDOW clause. Durations in milliseconds; -1 when not given.
type Window struct {
	At          Pos
	Type        WindowType
	SizeMs      int64 // TUMBLING/HOPPING size; SESSION gap
	AdvanceMs   int64 // HOPPING
	RetentionMs int64
	GraceMs     int64
}

// Query is a SELECT: push (EMIT CHANGES/FINAL), pull (EmitNone outside CSAS/CTAS) or the body
// of CSAS/CTAS/INSERT INTO.
type Query struct {
	At          Pos
	Select      []SelectItem
	From        Relation
	Window      *Window
	Where       Expr
	GroupBy     []Expr
	PartitionBy []Expr
	Having      Expr
	Emit        EmitMode
	Limit       int // -1 when absent
}

// Select is a top-level SELECT statement.
type Select struct {
	StmtBase
	Query *Query
}

// Show is SHOW|LIST <What> [EXTENDED]. What is upper-case: STREAMS, TABLES, QUERIES, TOPICS,
// FUNCTIONS, PROPERTIES, TYPES, VARIABLES, CONNECTORS.
type Show struct {
	StmtBase
	What     string
	Extended bool
	All      bool // SHOW ALL TOPICS
}

// Describe is DESCRIBE name [EXTENDED], DESCRIBE STREAMS|TABLES [EXTENDED] (Name empty, What
// set) or DESCRIBE FUNCTION name.
type Describe struct {
	StmtBase
	Name     string
	What     string // "", "STREAMS", "TABLES"
	Function bool
	Extended bool
}

// Explain is EXPLAIN <statement> or EXPLAIN <query id>.
type Explain struct {
	StmtBase
	Statement Statement // nil when QueryID is set
	QueryID   string
}

// Drop is DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC].
type Drop struct {
	StmtBase
	Kind        SourceKind
	Name        string
	IfExists    bool
	DeleteTopic bool
}

// Terminate is TERMINATE query_id | ALL.
type Terminate struct {
	StmtBase
	QueryID string
	All     bool
}

// Print is PRINT topic [FROM BEGINNING] [INTERVAL n] [LIMIT n].
type Print struct {
	StmtBase
	Topic         string
	FromBeginning bool
	Interval      int // 0 when absent
	Limit         int // -1 when absent
}

// SetProperty is SET 'name'='value'.
type SetProperty struct {
	StmtBase
	Name, Value string
}

// UnsetProperty is UNSET 'name'.
type UnsetProperty struct {
	StmtBase
	Name string
}

// Define is DEFINE name = 'value'.
type Define struct {
	StmtBase
	Name, Value string
}

// Undefine is UNDEFINE name.
type Undefine struct {
	StmtBase
	Name string
}

// CreateType is CREATE TYPE [IF NOT EXISTS] name AS type.
type CreateType struct {
	StmtBase
	Name        string
	Type        *types.Type
	IfNotExists bool
}

// DropType is DROP TYPE [IF EXISTS] name.
type DropType struct {
	StmtBase
	Name     string
	IfExists bool
}

// PauseResume is PAUSE|RESUME query_id | ALL.
type PauseResume struct {
	StmtBase
	Resume  bool
	QueryID string
	All     bool
}

// AlterSource is ALTER STREAM|TABLE name ADD [COLUMN] col type, ...
type AlterSource struct {
	StmtBase
	Kind    SourceKind
	Name    string
	Columns []ColumnDef
}

// Assert is ASSERT [NOT EXISTS] TOPIC|SCHEMA ... (accepted for compatibility).
type Assert struct {
	StmtBase
	NotExists bool
	Topic     string
	Subject   string
	SchemaID  int
	TimeoutMs int64
	With      Properties
}
