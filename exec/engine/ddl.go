package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// props is a WITH clause with typed accessors and a record of which keys were used, so that
// unknown properties are reported.
type props struct {
	ps ast.Properties
}

func (p props) str(key string) (string, bool) {
	pr, ok := p.ps.Get(key)
	if !ok {
		return "", false
	}
	switch v := pr.Value.(type) {
	case *ast.StringLit:
		return v.Val, true
	case *ast.IntLit:
		return strconv.FormatInt(v.Val, 10), true
	case *ast.BoolLit:
		return strconv.FormatBool(v.Val), true
	case *ast.DecimalLit:
		return v.Text, true
	case *ast.ColumnRef:
		return v.Name, true
	}
	return "", true
}

func (p props) int(key string) (int, bool, error) {
	s, ok := p.str(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, true, errf("Invalid value for property %s: %s", key, s)
	}
	return n, true, nil
}

var knownProps = map[string]bool{
	"KAFKA_TOPIC": true, "KEY_FORMAT": true, "VALUE_FORMAT": true, "FORMAT": true, "PARTITIONS": true,
	"REPLICAS": true, "RETENTION_MS": true, "TIMESTAMP": true, "TIMESTAMP_FORMAT": true,
	"WRAP_SINGLE_VALUE": true, "VALUE_DELIMITER": true, "KEY_DELIMITER": true, "WINDOW_TYPE": true,
	"WINDOW_SIZE": true, "KEY_SCHEMA_ID": true, "VALUE_SCHEMA_ID": true, "KEY_SCHEMA_FULL_NAME": true,
	"VALUE_SCHEMA_FULL_NAME": true, "VALUE_AVRO_SCHEMA_FULL_NAME": true, "CLEANUP_POLICY": true,
	"SOURCE_CONNECTOR": true, "KEY_PROTOBUF_NULLABLE_REPRESENTATION": true,
	"VALUE_PROTOBUF_NULLABLE_REPRESENTATION": true, "QUERY_ID": true, "RETENTION": true,
}

func (p props) validate() error {
	for _, pr := range p.ps {
		if !knownProps[pr.Key] {
			return errf("Invalid config variable(s) in the WITH clause: %s", pr.Key)
		}
	}
	return nil
}

// formats resolves KEY_FORMAT/VALUE_FORMAT/FORMAT with defaults.
func (e *Engine) formats(p props, s *Session, defKey, defVal string) (string, string, error) {
	f, hasF := p.str("FORMAT")
	k, hasK := p.str("KEY_FORMAT")
	v, hasV := p.str("VALUE_FORMAT")
	if hasF && (hasK || hasV) {
		return "", "", errf("Cannot supply both '%s' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.", map[bool]string{true: "KEY_FORMAT", false: "VALUE_FORMAT"}[hasK])
	}
	if hasF {
		k, v = f, f
	}
	if !hasF && !hasK {
		k = defKey
	}
	if !hasF && !hasV {
		v = defVal
	}
	k, v = strings.ToUpper(k), strings.ToUpper(v)
	for _, x := range []string{k, v} {
		if x != "" && !serde.Known(x) {
			return "", "", errf("Unknown format: %s", x)
		}
	}
	return k, v, nil
}

func (e *Engine) prop(s *Session, key string) (string, bool) {
	if v, ok := s.Props[key]; ok {
		return v, true
	}
	v, ok := e.cfg.Props[key]
	return v, ok
}

func delimiterOf(p props, key string) (byte, error) {
	d, ok := p.str(key)
	if !ok {
		return 0, nil
	}
	switch strings.ToUpper(d) {
	case "TAB":
		return '\t', nil
	case "SPACE":
		return ' ', nil
	case "":
		return 0, errf("Failed to prepare statement: Configuration %s is invalid: Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'\nExample valid value: ';'", key)
	}
	if strings.TrimSpace(d) == "" {
		return 0, errf("Failed to prepare statement: Configuration %s is invalid: Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'\nExample valid value: ';'", key)
	}
	if len(d) != 1 {
		return 0, errf("Failed to prepare statement: Configuration %s is invalid: Invalid delimiter value: '%s'. Delimiter must be a single character or TAB,SPACE\nExample valid value: ';'", key, d)
	}
	return d[0], nil
}

// resolveType replaces named (CREATE TYPE) references.
func (e *Engine) resolveType(t *types.Type) (*types.Type, error) {
	if t == nil {
		return nil, nil
	}
	switch t.Kind {
	case types.KindNamed:
		rt, ok := e.cat.types[strings.ToUpper(t.Name)]
		if !ok {
			return nil, errf("Can't find type '%s'", t.Name)
		}
		return rt, nil
	case types.KindArray:
		el, err := e.resolveType(t.Elem)
		if err != nil {
			return nil, err
		}
		return types.ArrayOf(el), nil
	case types.KindMap:
		k, err := e.resolveType(t.Key)
		if err != nil {
			return nil, err
		}
		v, err := e.resolveType(t.Elem)
		if err != nil {
			return nil, err
		}
		return types.MapOf(k, v), nil
	case types.KindStruct:
		fs := make([]types.Field, len(t.Fields))
		for i, f := range t.Fields {
			ft, err := e.resolveType(f.Type)
			if err != nil {
				return nil, err
			}
			fs[i] = types.Field{Name: f.Name, Type: ft}
		}
		return types.StructOf(fs...), nil
	}
	return t, nil
}

func (e *Engine) createSource(ctx context.Context, s *Session, n *ast.CreateSource) (*Result, error) {
	kindTitle := "Stream"
	if n.Kind == ast.Table {
		kindTitle = "Table"
	}
	if n.OrReplace && n.IsSource {
		return nil, errf("Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.", strings.ToLower(kindTitle), n.Name, strings.ToLower(kindTitle))
	}
	if old, ok := e.cat.sources[n.Name]; ok {
		if n.IfNotExists {
			return &Result{Tag: "CREATE " + n.Kind.String(), Entity: map[string]any{"@type": "warning_entity", "message": fmt.Sprintf("Cannot add %s %s: A %s with the same name already exists.", strings.ToLower(kindTitle), n.Name, strings.ToLower(old.kindTitle()))}}, nil
		}
		if !n.OrReplace {
			return nil, errf("Cannot add %s '%s': A %s with the same name already exists", strings.ToLower(kindTitle), n.Name, strings.ToLower(old.kindTitle()))
		}
		if old.IsSource {
			return nil, errf("Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.", strings.ToLower(kindTitle), n.Name, strings.ToLower(kindTitle))
		}
	}
	p := props{n.With}
	if err := p.validate(); err != nil {
		return nil, err
	}
	topic, ok := p.str("KAFKA_TOPIC")
	if !ok {
		return nil, errf("Missing required property \"KAFKA_TOPIC\" for the statement")
	}
	src := &source{Name: n.Name, Kind: n.Kind, Topic: topic, IsSource: n.IsSource, SQL: n.Text, Schema: &types.Schema{}}
	hasKey := false
	seen := map[string]bool{}
	for _, c := range n.Columns {
		if eval.IsPseudo(c.Name) {
			return nil, errf("'%s' is a reserved column name. You cannot use it as a name for a column.", c.Name)
		}
		if seen[c.Name] {
			return nil, errf("Duplicate column names: %s", c.Name)
		}
		seen[c.Name] = true
		t, err := e.resolveType(c.Type)
		if err != nil {
			return nil, err
		}
		col := types.Column{Name: c.Name, Type: t}
		if c.Key {
			if err := checkKeyType(c.Name, t); err != nil {
				return nil, err
			}
		}
		if c.Headers {
			want := types.ArrayOf(types.StructOf(types.Field{Name: "KEY", Type: types.StringType}, types.Field{Name: "VALUE", Type: types.BytesType}))
			if c.HeaderKey != "" {
				want = types.BytesType
				if !t.Equal(want) {
					return nil, errf("Invalid type for HEADER('%s') column: expected %s, got %s", c.HeaderKey, want, t)
				}
			} else if !t.Equal(want) {
				return nil, errf("Invalid type for HEADERS column: expected %s, got %s", want, t)
			}
		}
		switch {
		case c.Key:
			col.Namespace = types.KeyColumn
			hasKey = true
		case c.Headers:
			col.Namespace = types.HeaderColumn
			col.HeaderKey = c.HeaderKey
		}
		src.Schema.Columns = append(src.Schema.Columns, col)
	}
	// Key columns first, as every serializer and operator assumes.
	var keys, rest []types.Column
	for _, c := range src.Schema.Columns {
		if c.Namespace == types.KeyColumn {
			keys = append(keys, c)
		} else {
			rest = append(rest, c)
		}
	}
	src.Schema.Columns = append(keys, rest...)
	defKey, _ := e.prop(s, "ksql.persistence.default.format.key")
	if defKey == "" {
		defKey = "KAFKA"
	}
	defVal, _ := e.prop(s, "ksql.persistence.default.format.value")
	kf, vf, err := e.formats(p, s, defKey, defVal)
	if err != nil {
		return nil, err
	}
	if vf == "" {
		return nil, errf("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.")
	}
	if d, err := delimiterOf(p, "VALUE_DELIMITER"); err != nil {
		return nil, err
	} else if d != 0 && vf != "DELIMITED" {
		return nil, errf("%s does not support the following configs: [delimiter]", vf)
	}
	if len(n.Columns) == 0 {
		return nil, errf("The statement does not define any columns.")
	}
	if n.Kind == ast.Table && !hasKey {
		return nil, errf("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.")
	}
	if err := e.setFormats(src, p, s, kf, vf); err != nil {
		return nil, err
	}
	if _, ok := p.str("WINDOW_TYPE"); ok && !hasKey {
		return nil, errf("Windowed sources require a key column.")
	}
	if wt, ok := p.str("WINDOW_TYPE"); ok {
		switch strings.ToUpper(wt) {
		case "TUMBLING":
			src.WindowType = ast.Tumbling
		case "HOPPING":
			src.WindowType = ast.Hopping
		case "SESSION":
			src.WindowType = ast.Session
		default:
			return nil, errf("WINDOW_TYPE property is not set correctly. value: %s, validValues: [SESSION, HOPPING, TUMBLING]", wt)
		}
		ws, hasSize := p.str("WINDOW_SIZE")
		if src.WindowType == ast.Session && hasSize {
			return nil, errf("'WINDOW_SIZE' should not be set for SESSION windows.")
		}
		if src.WindowType != ast.Session {
			if !hasSize {
				return nil, errf("'WINDOW_SIZE' must be set for TUMBLING and HOPPING windows.")
			}
			ms, err := parseDuration(ws)
			if err != nil {
				return nil, err
			}
			src.WindowSizeMs = ms
		}
	} else if _, ok := p.str("WINDOW_SIZE"); ok {
		return nil, errf("'WINDOW_SIZE' should not be set without 'WINDOW_TYPE'.")
	}
	if err := e.setTimestamp(src, p); err != nil {
		return nil, err
	}
	parts, hasParts, err := p.int("PARTITIONS")
	if err != nil {
		return nil, err
	}
	info, terr := e.log.DescribeTopic(ctx, topic)
	switch {
	case terr == nil:
		if hasParts && parts != len(info.Partitions) {
			return nil, errf("A Kafka topic with the name '%s' already exists, with different partition/replica configuration than required. KSQL expects %d partitions (topic has %d).", topic, parts, len(info.Partitions))
		}
		src.Partitions = len(info.Partitions)
	default:
		if !hasParts {
			parts = e.cfg.DefaultPartitions
		}
		src.Partitions = parts
		if !e.replaying {
			if err := e.log.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: parts, Compact: n.Kind == ast.Table}); err != nil {
				return nil, errf("Could not create topic %s: %v", topic, err)
			}
		}
	}
	c := command{SQL: n.Text, Source: sourceDoc(src)}
	if n.IsSource && n.Kind == ast.Table {
		doc, err := e.planSourceTable(src)
		if err != nil {
			return nil, err
		}
		c.Query = doc
	}
	if err := e.appendPlanned(ctx, c); err != nil {
		return nil, err
	}
	if err := e.installSource(ctx, c.Source, c.Query, n.Text); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE " + n.Kind.String(), Entity: statusEntity(strings.ToLower(n.Kind.String())+"/"+n.Name+"/create", kindTitle+" created", "", e.cmdSeq)}, nil
}

// setFormats validates and builds the key and value formats of src.
func (e *Engine) setFormats(src *source, p props, s *Session, kf, vf string) error {
	for _, f := range []string{kf, vf} {
		if !serde.Supported(f) {
			return errf("Format %s needs a Schema Registry, which this server does not have. Use JSON, DELIMITED, KAFKA or PROTOBUF_NOSR.", f)
		}
	}
	if vf == "NONE" {
		return errf("The 'NONE' format can only be used when no columns are defined. Got: %s", colsText(src.valueCols()))
	}
	src.KeyFormat = serde.Format{Name: kf}
	src.ValueFormat = serde.Format{Name: vf}
	vd, err := delimiterOf(p, "VALUE_DELIMITER")
	if err != nil {
		return err
	}
	if vd != 0 && vf != "DELIMITED" {
		return errf("%s does not support the following configs: [delimiter]", vf)
	}
	src.ValueFormat.Delimiter = vd
	kd, err := delimiterOf(p, "KEY_DELIMITER")
	if err != nil {
		return err
	}
	src.KeyFormat.Delimiter = kd
	if w, ok := p.str("WRAP_SINGLE_VALUE"); ok {
		if len(src.valueCols()) != 1 {
			return errf("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
		}
		wrap := strings.EqualFold(w, "true")
		if wrap && (vf == "DELIMITED" || vf == "KAFKA") {
			return errf("Format '%s' does not support 'WRAP_SINGLE_VALUE' set to 'true'.", vf)
		}
		src.ValueFormat.Unwrapped = !wrap
	} else if v, ok := e.prop(s, "ksql.persistence.wrap.single.values"); ok && strings.EqualFold(v, "false") && len(src.valueCols()) == 1 && vf == "JSON" {
		src.ValueFormat.Unwrapped = true
	}
	if len(src.keyCols()) > 0 {
		if _, err := serde.NewCodec(src.KeyFormat, src.keyCols(), true); err != nil {
			return errf("Key format does not support schema.\nformat: %s\nschema: Persistence{columns=%s, features=[]}\nreason: %s", kf, serde.ColList(src.keyCols(), true), err.Error())
		}
	}
	if _, _, err := src.codecs(); err != nil {
		return errf("%s", err.Error())
	}
	return nil
}

func colsText(cols []types.Column) string {
	var parts []string
	for _, c := range cols {
		parts = append(parts, types.QuoteIdent(c.Name)+" "+c.Type.String())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (e *Engine) setTimestamp(src *source, p props) error {
	tc, ok := p.str("TIMESTAMP")
	if !ok {
		if _, has := p.str("TIMESTAMP_FORMAT"); has {
			return errf("Property TIMESTAMP_FORMAT requires the TIMESTAMP property.")
		}
		return nil
	}
	tc = strings.ToUpper(strings.Trim(tc, "`"))
	idx := src.Schema.Find(tc)
	if idx < 0 {
		return errf("The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", tc)
	}
	t := src.Schema.Columns[idx].Type
	f, hasF := p.str("TIMESTAMP_FORMAT")
	switch t.Kind {
	case types.KindBigint, types.KindTimestamp:
	case types.KindString:
		if !hasF {
			return errf("Column '%s' is of type STRING: a TIMESTAMP_FORMAT is required.", tc)
		}
	default:
		return errf("Timestamp column, `%s`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.", tc)
	}
	src.TimestampCol, src.TimestampFormat = tc, f
	return nil
}

// parseDuration parses '30 SECONDS' style sizes.
func parseDuration(s string) (int64, error) {
	fs := strings.Fields(strings.ToUpper(s))
	if len(fs) != 2 {
		return 0, errf("Invalid duration: '%s'. Expected '<number> <unit>'", s)
	}
	n, err := strconv.ParseInt(fs[0], 10, 64)
	if err != nil {
		return 0, errf("Invalid duration: '%s'", s)
	}
	unit := strings.TrimSuffix(fs[1], "S")
	mult := map[string]int64{"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60000, "HOUR": 3600000, "DAY": 86400000}[unit]
	if mult == 0 {
		return 0, errf("Invalid duration unit: '%s'", fs[1])
	}
	return n * mult, nil
}

// queryID makes a persistent query id: CSAS_<SINK>_<n>, CTAS_<SINK>_<n>, INSERTQUERY_<n>.
func (e *Engine) queryID(prefix, sink string) string {
	n := e.cat.nextQuery
	e.cat.nextQuery++
	if prefix == "INSERTQUERY" {
		return fmt.Sprintf("INSERTQUERY_%d", n)
	}
	return fmt.Sprintf("%s_%s_%d", prefix, strings.ToUpper(sink), n)
}

func (e *Engine) createAsSelect(ctx context.Context, s *Session, n *ast.CreateAsSelect) (*Result, error) {
	kindTitle := "Stream"
	if n.Kind == ast.Table {
		kindTitle = "Table"
	}
	if old, ok := e.cat.sources[n.Name]; ok {
		if n.IfNotExists {
			return &Result{Tag: "CREATE " + n.Kind.String(), Entity: map[string]any{"@type": "warning_entity", "message": fmt.Sprintf("Cannot add %s %s: A %s with the same name already exists.", strings.ToLower(kindTitle), n.Name, strings.ToLower(old.kindTitle()))}}, nil
		}
		if !n.OrReplace {
			return nil, errf("Cannot add %s '%s': A %s with the same name already exists", strings.ToLower(kindTitle), n.Name, strings.ToLower(old.kindTitle()))
		}
	}
	if n.Query.Limit >= 0 {
		return nil, errf("CREATE %s AS SELECT statements don't support LIMIT clause.", n.Kind)
	}
	p := props{n.With}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if len(n.Query.GroupBy) == 0 && n.Query.Window == nil && onlyAggregates(n.Query) {
		return nil, errf("CREATE %s AS SELECT statement does not support aggregate function [%s] without a GROUP BY clause.", n.Kind, strings.Join(aggregateTexts(n.Query), ", "))
	}
	qprops := mergeProps(e.cfg.Props, s.Props)
	qp, err := e.planQuery(n.Query, n.Name, qprops, true)
	if err != nil {
		return nil, err
	}
	if qp.outKind != n.Kind {
		return nil, errf("Invalid result type. Your SELECT query produces a %s. Please use CREATE %s AS SELECT statement instead.", qp.outKind, qp.outKind)
	}
	sink, err := e.sinkFor(ctx, s, n.Name, n.Kind, n.Text, p, qp)
	if err != nil {
		if ee, ok := err.(*Error); ok && strings.HasPrefix(ee.Msg, "Key format does not support schema.") && qp.join == nil {
			ee.Msg += "\nStatement: " + statementText(n, qp)
		}
		return nil, err
	}
	if !e.replaying {
		// Two queries writing one topic would each cut the other's rows after a crash (each
		// recovers its partitions to its own committed mark), as ksqlDB refuses too.
		for _, other := range e.cat.sources {
			if other.Name != n.Name && other.Topic == sink.Topic && other.OwnerQuery != "" && e.cat.queries[other.OwnerQuery] != nil {
				return nil, errf("Cannot add %s '%s': its topic %s is already written by query %s, the sink of %s. Use INSERT INTO to write more rows into %s.",
					strings.ToLower(kindTitle), n.Name, sink.Topic, other.OwnerQuery, other.Name, other.Name)
			}
		}
	}
	prefix := "CSAS"
	if n.Kind == ast.Table {
		prefix = "CTAS"
	}
	var qid string
	if old, ok := e.cat.sources[n.Name]; ok && n.OrReplace && old.OwnerQuery != "" {
		qid = old.OwnerQuery
	} else {
		qid = e.queryID(prefix, n.Name)
	}
	doc, built, builtSink, err := prepareQuery(qp.planDoc(qid, prefix, sink, planConfig(qprops)), qp, sink)
	if err != nil {
		return nil, err
	}
	if e.replaying {
		// A statement persisted as text by an older release: its layout was never recorded.
		doc.Tasks = ""
	}
	if err := e.appendPlanned(ctx, command{SQL: n.Text, Query: doc}); err != nil {
		return nil, err
	}
	if err := e.installQuery(ctx, doc, built, builtSink, n.Text); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE " + n.Kind.String(), Entity: statusEntity(strings.ToLower(n.Kind.String())+"/"+n.Name+"/create", "Created query with ID "+qid, qid, e.cmdSeq)}, nil
}

func mergeProps(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// sinkFor builds the catalog entry of a CSAS/CTAS result and creates its topic.
func (e *Engine) sinkFor(ctx context.Context, s *Session, name string, kind ast.SourceKind, sql string, p props, plan *queryPlan) (*source, error) {
	left := plan.sources[0].src
	topic, ok := p.str("KAFKA_TOPIC")
	if !ok {
		prefix, _ := e.prop(s, "ksql.output.topic.name.prefix")
		topic = prefix + name
	}
	sink := &source{Name: name, Kind: kind, Topic: topic, Schema: plan.outSchema, SQL: sql}
	defKey := left.KeyFormat.Name
	if defKey == "NONE" || defKey == "" {
		defKey, _ = e.prop(s, "ksql.persistence.default.format.key")
		if defKey == "" {
			defKey = "KAFKA"
		}
	}
	kf, vf, err := e.formats(p, s, defKey, left.ValueFormat.Name)
	if err != nil {
		return nil, err
	}
	if len(sink.keyCols()) == 0 && plan.partition != nil && plan.partition.null {
		if _, explicit := p.str("KEY_FORMAT"); explicit && kf != "NONE" {
			return nil, errf("Key format specified for stream without key columns.")
		}
		kf = "NONE"
	}
	if err := e.setFormats(sink, p, s, kf, vf); err != nil {
		return nil, err
	}
	if _, ok := p.str("VALUE_DELIMITER"); !ok && vf == left.ValueFormat.Name {
		sink.ValueFormat.Delimiter = left.ValueFormat.Delimiter
		sink.valCodec, sink.keyCodec = nil, nil
	}
	if plan.window != nil {
		sink.WindowType = plan.window.Type
		if plan.window.Type != ast.Session {
			sink.WindowSizeMs = plan.window.SizeMs
		}
	} else if plan.keepsSourceWindow() {
		// Rows of a windowed source keep their windows through filters and projections.
		sink.WindowType, sink.WindowSizeMs = left.WindowType, left.WindowSizeMs
	} else if w := plan.joinedWindow(); w != nil {
		sink.WindowType, sink.WindowSizeMs = w.WindowType, w.WindowSizeMs
	}
	if err := e.setTimestamp(sink, p); err != nil {
		return nil, err
	}
	parts, hasParts, err := p.int("PARTITIONS")
	if err != nil {
		return nil, err
	}
	if !hasParts {
		parts = left.Partitions
	}
	if info, terr := e.log.DescribeTopic(ctx, topic); terr == nil {
		sink.Partitions = len(info.Partitions)
	} else {
		sink.Partitions = parts
		if !e.replaying {
			if err := e.log.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: parts, Compact: kind == ast.Table}); err != nil {
				return nil, errf("Could not create topic %s: %v", topic, err)
			}
		}
	}
	return sink, nil
}

// endQuery stops a terminated (or dropped) query for good: its tasks stop, their state is
// deleted and their stores closed (so a query given the same QUERY_ID can open them again),
// its positions in other queries' commits are forgotten and its internal topics deleted.
func (e *Engine) endQuery(ctx context.Context, q *queryInfo) {
	for _, t := range q.allTasks() {
		t.stop()
		_ = t.store.Drop()
		_ = t.store.Close()
	}
	e.forgetInsertPositions(q)
	e.dropQueryTopics(ctx, q)
	e.removeQuery(q.ID)
	if sink := e.cat.sources[q.Sink]; q.Kind == "INSERT" && sink != nil {
		e.closePlainOwners(sink.Topic)
	}
}

func (e *Engine) removeQuery(id string) {
	delete(e.cat.queries, id)
	for i, q := range e.cat.order {
		if q == id {
			e.cat.order = append(e.cat.order[:i], e.cat.order[i+1:]...)
			break
		}
	}
}

func (e *Engine) insertSelect(ctx context.Context, s *Session, n *ast.InsertSelect) (*Result, error) {
	target, ok := e.cat.sources[n.Target]
	if !ok {
		return nil, errf("%s does not exist.", n.Target)
	}
	if target.Kind != ast.Stream {
		return nil, errf("INSERT INTO can only be used to insert into a stream. %s is a table.", n.Target)
	}
	if target.IsSource {
		return nil, errf("Cannot insert into read-only stream: %s", n.Target)
	}
	for _, c := range target.Schema.Columns {
		if c.Namespace == types.HeaderColumn {
			return nil, errf("Cannot insert into %s because it has header columns", n.Target)
		}
	}
	qprops := mergeProps(e.cfg.Props, s.Props)
	qp, err := e.planQuery(n.Query, n.Target, qprops, true)
	if err != nil {
		return nil, err
	}
	if qp.outKind != ast.Stream {
		return nil, errf("INSERT INTO can only be used to insert into a stream. The query produces a table.")
	}
	if !schemaCompatible(qp.outSchema, target.Schema) {
		return nil, errf("Incompatible schema between results and sink.\nResult schema is %s\nSink schema is %s", qp.outSchema, target.Schema)
	}
	p := props{n.With}
	qid, hasID := p.str("QUERY_ID")
	if hasID {
		qid = strings.ToUpper(qid)
		if _, dup := e.cat.queries[qid]; dup {
			return nil, errf("Query ID '%s' already exists.", qid)
		}
	} else {
		qid = e.queryID("INSERTQUERY", n.Target)
	}
	doc, built, builtSink, err := prepareQuery(qp.planDoc(qid, "INSERT", target, planConfig(qprops)), qp, target)
	if err != nil {
		return nil, err
	}
	if err := e.appendPlanned(ctx, command{SQL: n.Text, Query: doc}); err != nil {
		return nil, err
	}
	if err := e.installQuery(ctx, doc, built, builtSink, n.Text); err != nil {
		return nil, err
	}
	return &Result{Tag: "INSERT 0 0", Entity: statusEntity("stream/"+n.Target+"/create", "Created query with ID "+qid, qid, e.cmdSeq)}, nil
}

func schemaCompatible(a, b *types.Schema) bool {
	if len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		x, y := a.Columns[i], b.Columns[i]
		if x.Name != y.Name || !x.Type.Equal(y.Type) || (x.Namespace == types.KeyColumn) != (y.Namespace == types.KeyColumn) {
			return false
		}
	}
	return true
}

func (e *Engine) insertValues(ctx context.Context, s *Session, n *ast.InsertValues) (*Result, error) {
	target, ok := e.cat.sources[n.Target]
	if !ok {
		return nil, errf("Cannot insert values into an unknown stream/table: %s", n.Target)
	}
	if target.IsSource {
		return nil, errf("Cannot insert values into read-only %s: %s", strings.ToLower(target.kindName()), n.Target)
	}
	cols := n.Columns
	if cols == nil {
		for _, c := range target.Schema.Columns {
			cols = append(cols, c.Name)
		}
	}
	if len(cols) != len(n.Values) {
		return nil, errf("Failed to prepare statement: Expected number columns and values to match: %d, %d", len(cols), len(n.Values))
	}
	row := make([]any, len(target.Schema.Columns))
	ts := time.Now().UnixMilli()
	scope := &eval.Scope{}
	for i, name := range cols {
		var qualified string
		walkExpr(n.Values[i], func(x ast.Expr) {
			if c, ok := x.(*ast.ColumnRef); ok && c.Qualifier != "" && qualified == "" {
				qualified = c.Qualifier
			}
		})
		if qualified != "" {
			return nil, errf("Failed to prepare statement: '%s' is not a valid stream/table name or alias.", qualified)
		}
		x, err := eval.Compile(n.Values[i], scope)
		if err != nil {
			return nil, wrapExprErr("VALUES", err)
		}
		v, err := x.Eval(&eval.Rec{})
		if err != nil {
			return nil, errf("Failed to insert values into '%s'. %v", n.Target, err)
		}
		if name == eval.RowTime {
			if x.Type != nil && x.Type.IsNumeric() {
				ms, _ := types.ToInt64(v)
				ts = ms
			} else if x.Type != nil {
				cv, err := types.Cast(v, x.Type, types.BigintType)
				if err != nil {
					return nil, errf("Failed to insert values into '%s'. %v", n.Target, err)
				}
				ts = cv.(int64)
			}
			continue
		}
		idx := target.Schema.Find(name)
		if idx < 0 {
			if eval.IsPseudo(name) {
				return nil, errf("Inserting into column `%s` is not allowed.", name)
			}
			return nil, errf("Column name %s does not exist.", name)
		}
		col := target.Schema.Columns[idx]
		if col.Namespace == types.HeaderColumn {
			return nil, errf("Cannot insert into HEADER columns: %s", name)
		}
		if v != nil && x.Type != nil && !x.Type.Equal(col.Type) {
			cv, err := types.Cast(v, x.Type, col.Type)
			if err != nil || !types.CanCast(x.Type, col.Type) {
				return nil, errf("Failed to insert values into '%s'. Expected type %s for field `%s` but got %s", n.Target, col.Type, name, x.Type)
			}
			v = cv
		}
		row[idx] = v
	}
	if err := e.writeRow(ctx, target, row, ts); err != nil {
		return nil, err
	}
	return &Result{Tag: "INSERT 0 1"}, nil
}

// writeRow encodes a full row (schema order) and appends it to the source's topic.
func (e *Engine) writeRow(ctx context.Context, src *source, row []any, ts int64) error {
	kc, vc, err := src.codecs()
	if err != nil {
		return err
	}
	nk := len(src.keyCols())
	var vals []any
	for i, c := range src.Schema.Columns {
		if c.Namespace == types.ValueColumn {
			vals = append(vals, row[i])
		}
	}
	o := &outRec{key: row[:nk], vals: vals, ts: ts}
	if src.Kind == ast.Table {
		for _, k := range o.key {
			if k == nil {
				return errf("Failed to insert values into '%s'. Value for primary key column(s) %s is required for tables", src.Name, keyNames(src))
			}
		}
	}
	rec, err := encodeOut(o, src, kc, vc, -1)
	if err != nil {
		return errf("Failed to insert values into '%s'. %v", src.Name, err)
	}
	if src.TimestampCol != "" {
		if idx := src.Schema.Find(src.TimestampCol); idx >= 0 && row[idx] != nil {
			if ms, ok := asMillis(row[idx]); ok {
				rec.Timestamp = ms
			}
		}
	}
	_, err = e.appendForeign(ctx, src.Topic, []storage.Record{rec})
	return err
}

func keyNames(s *source) string {
	var out []string
	for _, c := range s.keyCols() {
		out = append(out, c.Name)
	}
	return strings.Join(out, ", ")
}

func asMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case types.Timestamp:
		return int64(x), true
	}
	return 0, false
}

func (e *Engine) drop(ctx context.Context, s *Session, n *ast.Drop) (*Result, error) {
	src, ok := e.cat.sources[n.Name]
	title := "Stream"
	if n.Kind == ast.Table {
		title = "Table"
	}
	if !ok {
		if n.IfExists {
			return &Result{Tag: "DROP " + n.Kind.String(), Entity: statusEntity(strings.ToLower(n.Kind.String())+"/"+n.Name+"/drop", fmt.Sprintf("Source `%s` does not exist.", n.Name), "", e.cmdSeq)}, nil
		}
		return nil, errf("%s %s does not exist.", title, n.Name)
	}
	if src.Kind != n.Kind {
		return nil, errf("Incompatible data source type is %s, but statement was DROP %s", src.kindName(), n.Kind)
	}
	if n.DeleteTopic && src.IsSource {
		return nil, errf("Cannot delete topic for read-only source: %s", n.Name)
	}
	var readers []string
	for _, id := range e.cat.readers(n.Name) {
		if e.cat.queries[id].Sink != n.Name {
			readers = append(readers, id)
		}
	}
	if len(readers) > 0 {
		return nil, errf("Cannot drop %s.\nThe following queries read from this source: [%s].\nThe following queries write into this source: [].\nYou need to terminate them before dropping %s.", n.Name, strings.Join(readers, ", "), n.Name)
	}
	if err := e.appendCommand(ctx, n.Text, s); err != nil {
		return nil, err
	}
	for _, id := range e.cat.writers(n.Name) {
		e.endQuery(ctx, e.cat.queries[id])
	}
	e.dropPlainOwnerStores(ctx, src.Topic)
	delete(e.cat.sources, n.Name)
	if n.DeleteTopic && !e.replaying {
		_ = e.log.DeleteTopic(ctx, src.Topic)
	}
	return &Result{Tag: "DROP " + n.Kind.String(), Entity: statusEntity(strings.ToLower(n.Kind.String())+"/"+n.Name+"/drop", fmt.Sprintf("Source `%s` (topic: %s) was dropped.", n.Name, src.Topic), "", e.cmdSeq)}, nil
}

func (e *Engine) terminate(ctx context.Context, s *Session, n *ast.Terminate) (*Result, error) {
	var ids []string
	if n.All {
		ids = append(ids, e.cat.order...)
	} else {
		id := strings.ToUpper(n.QueryID)
		if _, ok := e.cat.queries[id]; !ok {
			if e.CloseQuery(n.QueryID) {
				return &Result{Tag: "TERMINATE", Entity: map[string]any{"@type": "terminate_query", "queryId": n.QueryID, "wasTerminated": true}}, nil
			}
			return nil, errf("Unknown queryId: %s", n.QueryID)
		}
		ids = []string{id}
	}
	if err := e.appendCommand(ctx, n.Text, s); err != nil {
		return nil, err
	}
	for _, id := range ids {
		q := e.cat.queries[id]
		if src, ok := e.cat.sources[q.Sink]; ok && src.OwnerQuery == id {
			src.OwnerQuery = ""
		}
		e.endQuery(ctx, q)
	}
	return &Result{Tag: "TERMINATE", Entity: statusEntity("terminate/"+strings.Join(ids, ",")+"/execute", "Query terminated.", "", e.cmdSeq)}, nil
}

func (e *Engine) createType(ctx context.Context, s *Session, n *ast.CreateType) (*Result, error) {
	name := strings.ToUpper(n.Name)
	if _, ok := e.cat.types[name]; ok {
		if n.IfNotExists {
			return &Result{Tag: "CREATE TYPE", Entity: map[string]any{"@type": "warning_entity", "message": fmt.Sprintf("A type with the same name already exists: %s", name)}}, nil
		}
		return nil, errf("Cannot register custom type '%s' since it is already registered with type: %s", name, e.cat.types[name])
	}
	t, err := e.resolveType(n.Type)
	if err != nil {
		return nil, err
	}
	if err := e.appendCommand(ctx, n.Text, s); err != nil {
		return nil, err
	}
	e.cat.types[name] = t
	return &Result{Tag: "CREATE TYPE", Entity: statusEntity("type/"+name+"/create", "Registered custom type with name '"+name+"' and SQL type "+t.String(), "", e.cmdSeq)}, nil
}

func (e *Engine) dropType(ctx context.Context, s *Session, n *ast.DropType) (*Result, error) {
	name := strings.ToUpper(n.Name)
	if _, ok := e.cat.types[name]; !ok {
		if n.IfExists {
			return &Result{Tag: "DROP TYPE", Entity: map[string]any{"@type": "warning_entity", "message": fmt.Sprintf("Type %s does not exist.", name)}}, nil
		}
		return nil, errf("Type %s does not exist.", name)
	}
	if err := e.appendCommand(ctx, n.Text, s); err != nil {
		return nil, err
	}
	delete(e.cat.types, name)
	return &Result{Tag: "DROP TYPE", Entity: statusEntity("type/"+name+"/drop", "Dropped type '"+name+"'", "", e.cmdSeq)}, nil
}

func (e *Engine) alterSource(ctx context.Context, s *Session, n *ast.AlterSource) (*Result, error) {
	src, ok := e.cat.sources[n.Name]
	if !ok {
		return nil, errf("Source %s does not exist.", n.Name)
	}
	if src.OwnerQuery != "" {
		return nil, errf("ALTER command is not supported for CREATE ... AS statements.")
	}
	if src.IsSource {
		return nil, errf("Cannot alter %s '%s': ALTER operations are not supported on source %ss.", strings.ToLower(src.kindName()), n.Name, strings.ToLower(src.kindName()))
	}
	schema := &types.Schema{Columns: append([]types.Column(nil), src.Schema.Columns...)}
	for _, c := range n.Columns {
		if schema.Find(c.Name) >= 0 {
			return nil, errf("Cannot add column `%s` to schema. A column with the same name already exists.", c.Name)
		}
		t, err := e.resolveType(c.Type)
		if err != nil {
			return nil, err
		}
		schema.Columns = append(schema.Columns, types.Column{Name: c.Name, Type: t})
	}
	if err := e.appendCommand(ctx, n.Text, s); err != nil {
		return nil, err
	}
	src.Schema = schema
	src.keyCodec, src.valCodec = nil, nil
	return &Result{Tag: "ALTER", Entity: statusEntity(strings.ToLower(src.kindName())+"/"+n.Name+"/alter", src.kindTitle()+" altered.", "", e.cmdSeq)}, nil
}

func (e *Engine) assert(ctx context.Context, n *ast.Assert) (*Result, error) {
	if n.Topic != "" {
		_, err := e.log.DescribeTopic(ctx, n.Topic)
		exists := err == nil
		if exists == n.NotExists {
			if n.NotExists {
				return nil, errf("Topic %s exists", n.Topic)
			}
			return nil, errf("Topic %s does not exist", n.Topic)
		}
		return &Result{Tag: "ASSERT", Entity: map[string]any{"@type": "assert_topic", "topicName": n.Topic, "exists": exists}}, nil
	}
	return nil, errf("ASSERT SCHEMA requires a Schema Registry, which this server does not have.")
}

// planSourceTable plans the materialization of a CREATE SOURCE TABLE so that pull queries
// work: an internal query (CST_<NAME>_<n>, as ksqlDB names it) reads the topic into a state
// store and writes nothing back.
func (e *Engine) planSourceTable(src *source) (*plan.Query, error) {
	q := &ast.Query{Select: []ast.SelectItem{{Star: true}}, From: &ast.SourceRef{Name: src.Name}, Limit: -1}
	saved, had := e.cat.sources[src.Name]
	e.cat.sources[src.Name] = src // planned against the source being created
	p, err := e.planQuery(q, src.Name, e.cfg.Props, false)
	if had {
		e.cat.sources[src.Name] = saved
	} else {
		delete(e.cat.sources, src.Name)
	}
	if err != nil {
		return nil, err
	}
	doc, _, _, err := prepareQuery(p.planDoc(e.queryID("CST", src.Name), "CST", src, planConfig(e.cfg.Props)), p, src)
	return doc, err
}

func nowMillis() int64 { return time.Now().UnixMilli() }
