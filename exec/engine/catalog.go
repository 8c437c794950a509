package engine

import (
	"sort"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
)

// source is a stream or table in the catalog.
type source struct {
	Name        string
	Kind        ast.SourceKind
	Topic       string
	Schema      *types.Schema
	KeyFormat   serde.Format
	ValueFormat serde.Format
	// TimestampCol, when set, is the value/key column whose value becomes ROWTIME.
	TimestampCol    string
	TimestampFormat string
	WindowType      ast.WindowType // windowed sources (WINDOW_TYPE or windowed CTAS)
	WindowSizeMs    int64
	IsSource        bool
	Partitions      int
	SQL             string
	OwnerQuery      string // the CSAS/CTAS query that writes it, "" for plain CREATE
	// Materialized tables answer pull queries from their owner's state store.
	Materialized bool

	keyCodec, valCodec serde.Codec
}

func (s *source) keyCols() []types.Column   { return s.Schema.Key() }
func (s *source) valueCols() []types.Column { return s.Schema.Value() }
func (s *source) windowed() bool            { return s.WindowType != 0 }

// codecs builds (once) the key and value codecs.
func (s *source) codecs() (serde.Codec, serde.Codec, error) {
	if s.keyCodec != nil {
		return s.keyCodec, s.valCodec, nil
	}
	kc, err := serde.NewCodec(s.KeyFormat, s.keyCols(), true)
	if err != nil {
		return nil, nil, err
	}
	vc, err := serde.NewCodec(s.ValueFormat, s.valueCols(), false)
	if err != nil {
		return nil, nil, err
	}
	s.keyCodec, s.valCodec = kc, vc
	return kc, vc, nil
}

func (s *source) kindName() string {
	if s.Kind == ast.Table {
		return "TABLE"
	}
	return "STREAM"
}

func (s *source) kindTitle() string {
	if s.Kind == ast.Table {
		return "Table"
	}
	return "Stream"
}

// queryInfo is a persistent query in the catalog.
type queryInfo struct {
	ID      string
	SQL     string
	Sink    string
	Sources []string
	Kind    string // CSAS, CTAS, INSERT
	task    *task
	// doc is the execution plan the command log holds for this query.
	doc *plan.Query
	// extra holds the other per-partition tasks of a query run one task per partition.
	extra []*task
}

// allTasks lists every task of the query.
func (q *queryInfo) allTasks() []*task {
	if q.task == nil {
		return nil
	}
	return append([]*task{q.task}, q.extra...)
}

// catalog holds sources, queries and custom types. Guarded by Engine.mu.
type catalog struct {
	sources map[string]*source
	queries map[string]*queryInfo
	types   map[string]*types.Type
	// order keeps query ids in creation order (SHOW QUERIES, deterministic Quiesce).
	order     []string
	nextQuery int
	mu        sync.RWMutex
}

func newCatalog() *catalog {
	return &catalog{sources: map[string]*source{}, queries: map[string]*queryInfo{}, types: map[string]*types.Type{}}
}

func (c *catalog) sortedSources(kind ast.SourceKind) []*source {
	var out []*source
	for _, s := range c.sources {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// readers returns the ids of queries reading src.
func (c *catalog) readers(src string) []string {
	var out []string
	for _, id := range c.order {
		q := c.queries[id]
		for _, s := range q.Sources {
			if s == src {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// writers returns the ids of queries writing src.
func (c *catalog) writers(src string) []string {
	var out []string
	for _, id := range c.order {
		if c.queries[id].Sink == src {
			out = append(out, id)
		}
	}
	return out
}

func (c *catalog) sourcesOnTopic(topic string) []*source {
	var out []*source
	for _, s := range c.sources {
		if s.Topic == topic {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func upper(s string) string { return strings.ToUpper(s) }
