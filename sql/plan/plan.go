// Package plan owns Sluice's execution plans as data: the serialisable, versioned description
// of a persistent query that the command log stores and every start replays.
//
// A plan records every decision the planner made (names, types, keys, the row layout of
// joins, which column carries the key) and the expressions left to compile, as canonical SQL
// text over the recorded input columns. Building operators from a plan never consults the
// catalog or re-runs planning rules, so a running query keeps its meaning when a source is
// altered or replaced, or when a later release plans the same SQL differently.
//
// Every step names its kind and version in "@type" (sourceV1, filterV1, ...). A release that
// changes what a step means adds a new version of that step and keeps building the old one;
// a plan holding a step this build does not know fails to load with ErrUnknownStep instead
// of running with another meaning.
//
// The package is pure data and JSON: it imports nothing of the engine.
package plan

// Version is the version of the Query document format itself (its envelope, not its steps).
const Version = 1

// Query is the execution plan of one persistent query (CSAS, CTAS, INSERT INTO ... SELECT,
// or the internal query materializing a source table).
type Query struct {
	Version int    `json:"version"`
	ID      string `json:"queryId"`
	// Kind is CSAS, CTAS, INSERT or CST.
	Kind string `json:"kind"`
	// Sink is the stream or table the query writes: for CSAS/CTAS the new source it creates,
	// for INSERT the existing stream as it was when the query was planned.
	Sink *Source `json:"sink"`
	// Config holds the session and server properties expressions compile with (function
	// settings such as ksql.functions.*), as they were when the query was planned.
	Config map[string]string `json:"config,omitempty"`
	// Tasks is how the query runs: one task over every input partition (TasksSingle), one
	// task per partition (TasksPerPartition), or a repartition stage feeding one aggregation
	// task per partition (TasksRepartition). Its state stores and internal topics are laid
	// out accordingly, so the choice is part of what a running query is. Empty in plans
	// written before it was recorded: the engine then decides as it did then.
	Tasks string `json:"tasks,omitempty"`
	Root  Step   `json:"-"`
}

// Task layouts of a persistent query.
const (
	TasksSingle       = "single"
	TasksPerPartition = "perPartition"
	TasksRepartition  = "repartition"
)

// Source is a stream or table as the planner saw it: the DDL decision of a CREATE and the
// snapshot of every input a query reads.
type Source struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // STREAM or TABLE
	Topic   string   `json:"topic"`
	Columns []Column `json:"columns"`
	Key     Format   `json:"keyFormat"`
	Value   Format   `json:"valueFormat"`
	// TimestampColumn, when set, is the column whose value becomes ROWTIME.
	TimestampColumn string `json:"timestampColumn,omitempty"`
	TimestampFormat string `json:"timestampFormat,omitempty"`
	// Window is set for windowed sources: TUMBLING, HOPPING or SESSION.
	WindowType   string `json:"windowType,omitempty"`
	WindowSizeMs int64  `json:"windowSizeMs,omitempty"`
	IsSource     bool   `json:"isSource,omitempty"`
	Partitions   int    `json:"partitions"`
}

// Column is one schema column. Type is SQL type text (BIGINT, STRUCT<`A` INT>, ...).
type Column struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Namespace string `json:"namespace"` // KEY, VALUE or HEADER
	HeaderKey string `json:"headerKey,omitempty"`
}

// Format is a key or value serialization format.
type Format struct {
	Name      string `json:"format"`
	Delimiter string `json:"delimiter,omitempty"`
	Unwrapped bool   `json:"unwrapped,omitempty"`
}

// LayoutColumn is one slot of an intermediate row: what expressions may reference there.
// Qualifier is the source alias ("" for computed columns); internal slots use a qualifier no
// SQL identifier can spell.
type LayoutColumn struct {
	Qualifier string `json:"qualifier,omitempty"`
	Name      string `json:"name"`
	Type      string `json:"type"`
}

// Window is a windowed aggregation's window. Durations in milliseconds, -1 when not given.
type Window struct {
	Type        string `json:"type"` // TUMBLING, HOPPING or SESSION
	SizeMs      int64  `json:"sizeMs"`
	AdvanceMs   int64  `json:"advanceMs"`
	RetentionMs int64  `json:"retentionMs"`
	GraceMs     int64  `json:"graceMs"`
}

// Step is one node of the plan tree. Inputs lists the steps it consumes, in order.
type Step interface {
	StepType() string
	Inputs() []Step
}

// SourceStep reads one stream or table under an alias. Its rows have the source's columns,
// qualified by the alias, plus the pseudo columns.
type SourceStep struct {
	Alias  string  `json:"alias"`
	Source *Source `json:"source"`
}

// JoinStep joins the FROM clause's sources, left-deep: Clauses[i] joins the result of
// sources 0..i with source i+1. Every row has the full Layout; columns of sources not joined
// (yet) are NULL.
type JoinStep struct {
	Sources []*SourceStep  `json:"sources"`
	Layout  []LayoutColumn `json:"layout"`
	// Pseudo are hidden slots holding one source's pseudo column (L.ROWTIME, ...).
	Pseudo []PseudoSlot `json:"pseudo,omitempty"`
	// KeySlot holds the join result's key: the value of the last clause's join expression.
	KeySlot int    `json:"keySlot"`
	KeyType string `json:"keyType"`
	// SyntheticKey names the key column when no source column can (ROWKEY, ...).
	SyntheticKey string       `json:"syntheticKey,omitempty"`
	Table        bool         `json:"table,omitempty"`
	Clauses      []JoinClause `json:"clauses"`
}

// PseudoSlot is a hidden layout slot holding a pseudo column of one source.
type PseudoSlot struct {
	Source int    `json:"source"`
	Name   string `json:"name"`
	Slot   int    `json:"slot"`
}

// ColumnID names a source column by the source's index in the FROM clause.
type ColumnID struct {
	Source int    `json:"source"`
	Name   string `json:"name"`
}

// JoinClause is one join: its type, the kind of its inputs and both join expressions.
type JoinClause struct {
	Type string `json:"type"` // INNER, LEFT, RIGHT, FULL
	Kind string `json:"kind"` // SS stream-stream, ST stream-table, TT table-table, FK foreign key
	// Within is the stream-stream join window.
	Within *Within `json:"within,omitempty"`
	// LeftKey and RightKey are SQL expressions over the layout; RightKey references only
	// the right source.
	LeftKey  string    `json:"leftKey"`
	RightKey string    `json:"rightKey"`
	LeftRef  *ColumnID `json:"leftRef,omitempty"`
	RightRef *ColumnID `json:"rightRef,omitempty"`
	Right    int       `json:"right"`
	KeyType  string    `json:"keyType"`
	// LeftTable/RightTable are the kinds of the two inputs; Windowed means both are
	// windowed sources whose keys include the window.
	LeftTable  bool  `json:"leftTable,omitempty"`
	RightTable bool  `json:"rightTable,omitempty"`
	Windowed   bool  `json:"windowed,omitempty"`
	LeftSlots  []int `json:"leftSlots"`
	RightSlots []int `json:"rightSlots"`
}

// Within is a stream-stream join window in milliseconds (GraceMs -1 when not given).
type Within struct {
	BeforeMs int64 `json:"beforeMs"`
	AfterMs  int64 `json:"afterMs"`
	GraceMs  int64 `json:"graceMs"`
}

// FilterStep keeps rows for which Condition is true (WHERE).
type FilterStep struct {
	Input     Step   `json:"-"`
	Condition string `json:"condition"`
}

// PartitionByStep re-keys stream rows. Its row layout is Layout: the new keys, then the input
// slots listed in Take.
type PartitionByStep struct {
	Input  Step           `json:"-"`
	Keys   []NamedExpr    `json:"keys"`
	Null   bool           `json:"null,omitempty"` // PARTITION BY NULL: no key
	Layout []LayoutColumn `json:"layout"`
	Take   []int          `json:"take"`
}

// NamedExpr is an expression and the column name it produces.
type NamedExpr struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// AggregateStep groups rows and aggregates them, optionally per window. Its rows are the
// group values followed by the aggregate results; Having filters them.
type AggregateStep struct {
	Input      Step     `json:"-"`
	GroupBy    []string `json:"groupBy"`
	Aggregates []string `json:"aggregates"`
	Window     *Window  `json:"window,omitempty"`
	Having     string   `json:"having,omitempty"`
	EmitFinal  bool     `json:"emitFinal,omitempty"`
}

// SelectStep computes the output columns. Expressions after an aggregation may reference
// the GROUP BY expressions and aggregate calls of the AggregateStep below it.
type SelectStep struct {
	Input Step         `json:"-"`
	Items []SelectItem `json:"items"`
	// KeyOrder lists the items that are key columns, in key order.
	KeyOrder []int `json:"keyOrder"`
}

// SelectItem is one output column.
type SelectItem struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
	// TableFunction: Expr is a table function call (EXPLODE, ...) producing several rows.
	TableFunction bool `json:"tableFunction,omitempty"`
	// JoinKey: the column carries the join result's key slot (it is named by Expr, whose
	// own value may be NULL on the side an outer join did not match).
	JoinKey bool `json:"joinKey,omitempty"`
}

// SinkStep is the root: what the query produces.
type SinkStep struct {
	Input Step   `json:"-"`
	Kind  string `json:"kind"` // STREAM or TABLE
	// Schema is the output schema, key columns first.
	Schema []Column `json:"schema"`
}

// Step type names. The version is part of the name.
const (
	TypeSource      = "sourceV1"
	TypeJoin        = "joinV1"
	TypeFilter      = "filterV1"
	TypePartitionBy = "partitionByV1"
	TypeAggregate   = "aggregateV1"
	TypeSelect      = "selectV1"
	TypeSink        = "sinkV1"
)

func (*SourceStep) StepType() string      { return TypeSource }
func (*JoinStep) StepType() string        { return TypeJoin }
func (*FilterStep) StepType() string      { return TypeFilter }
func (*PartitionByStep) StepType() string { return TypePartitionBy }
func (*AggregateStep) StepType() string   { return TypeAggregate }
func (*SelectStep) StepType() string      { return TypeSelect }
func (*SinkStep) StepType() string        { return TypeSink }

func (*SourceStep) Inputs() []Step { return nil }
func (j *JoinStep) Inputs() []Step {
	out := make([]Step, len(j.Sources))
	for i, s := range j.Sources {
		out[i] = s
	}
	return out
}
func (s *FilterStep) Inputs() []Step      { return []Step{s.Input} }
func (s *PartitionByStep) Inputs() []Step { return []Step{s.Input} }
func (s *AggregateStep) Inputs() []Step   { return []Step{s.Input} }
func (s *SelectStep) Inputs() []Step      { return []Step{s.Input} }
func (s *SinkStep) Inputs() []Step        { return []Step{s.Input} }
