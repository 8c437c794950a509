package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/functions"
	plandoc "github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/sql/types"
)

func col(name string) Column { return Column{Name: name, Type: types.StringType} }

func (e *Engine) show(ctx context.Context, s *Session, n *ast.Show) (*Result, error) {
	switch n.What {
	case "STREAMS", "TABLES":
		kind, title, typ := ast.Stream, "Stream Name", "streams"
		if n.What == "TABLES" {
			kind, title, typ = ast.Table, "Table Name", "tables"
		}
		var list []any
		res := &Result{Tag: "SHOW", Columns: []Column{col(title), col("Kafka Topic"), col("Key Format"), col("Value Format"), {Name: "Windowed", Type: types.BooleanType}}}
		for _, src := range e.cat.sortedSources(kind) {
			list = append(list, map[string]any{"type": src.kindName(), "name": src.Name, "topic": src.Topic,
				"keyFormat": keyFormatName(src), "valueFormat": src.ValueFormat.Name, "isWindowed": src.windowed()})
			res.Rows = append(res.Rows, []any{src.Name, src.Topic, keyFormatName(src), src.ValueFormat.Name, src.windowed()})
		}
		if list == nil {
			list = []any{}
		}
		if n.Extended {
			var descs []any
			for _, src := range e.cat.sortedSources(kind) {
				descs = append(descs, e.sourceDescription(src, true))
			}
			if descs == nil {
				descs = []any{}
			}
			res.Entity = map[string]any{"@type": "source_descriptions", "sourceDescriptions": descs}
			return res, nil
		}
		res.Entity = map[string]any{"@type": typ, typ: list}
		return res, nil
	case "QUERIES":
		res := &Result{Tag: "SHOW", Columns: []Column{col("Query ID"), col("Query Type"), col("Status"), col("Sink Name"), col("Sink Kafka Topic"), col("Query String")}}
		var list []any
		for _, id := range e.cat.order {
			q := e.cat.queries[id]
			topic := ""
			if src, ok := e.cat.sources[q.Sink]; ok {
				topic = src.Topic
			}
			state := "RUNNING"
			if q.failedTask() != nil {
				state = "ERROR"
			}
			list = append(list, map[string]any{"queryString": q.SQL, "sinks": []string{q.Sink}, "sinkKafkaTopics": []string{topic},
				"id": q.ID, "statusCount": map[string]int{state: 1}, "queryType": "PERSISTENT", "state": state})
			res.Rows = append(res.Rows, []any{q.ID, "PERSISTENT", state, q.Sink, topic, q.SQL})
		}
		e.transient.Range(func(k, v any) bool {
			c := v.(*Cursor)
			list = append(list, map[string]any{"queryString": c.sql, "sinks": []string{}, "sinkKafkaTopics": []string{},
				"id": c.ID, "statusCount": map[string]int{"RUNNING": 1}, "queryType": "PUSH", "state": "RUNNING"})
			res.Rows = append(res.Rows, []any{c.ID, "PUSH", "RUNNING", "", "", c.sql})
			return true
		})
		if list == nil {
			list = []any{}
		}
		res.Entity = map[string]any{"@type": "queries", "queries": list}
		return res, nil
	case "TOPICS":
		infos, err := e.log.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
		res := &Result{Tag: "SHOW", Columns: []Column{col("Kafka Topic"), {Name: "Partitions", Type: types.IntType}, col("Partition Replicas")}}
		var list []any
		for _, t := range infos {
			if !n.All && strings.HasPrefix(t.Name, "_") {
				continue
			}
			replicas := make([]int, len(t.Partitions))
			for i := range replicas {
				replicas[i] = 1
			}
			list = append(list, map[string]any{"name": t.Name, "replicaInfo": replicas})
			res.Rows = append(res.Rows, []any{t.Name, int32(len(t.Partitions)), fmt.Sprint(replicas)})
		}
		if list == nil {
			list = []any{}
		}
		res.Entity = map[string]any{"@type": "kafka_topics", "topics": list}
		return res, nil
	case "PROPERTIES":
		res := &Result{Tag: "SHOW", Columns: []Column{col("Property"), col("Scope"), col("Level"), col("Value")}}
		props := mergeProps(e.cfg.Props, s.Props)
		if _, ok := props["ksql.service.id"]; !ok {
			props["ksql.service.id"] = e.cfg.ServiceID
		}
		if _, ok := props["ksql.streams.auto.offset.reset"]; !ok {
			props["ksql.streams.auto.offset.reset"] = "latest"
		}
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		var list []any
		for _, k := range names {
			level := "SERVER"
			if _, ok := s.Props[k]; ok {
				level = "SESSION"
			}
			list = append(list, map[string]any{"name": k, "scope": "KSQL", "value": props[k], "editable": true, "level": level})
			res.Rows = append(res.Rows, []any{k, "KSQL", level, props[k]})
		}
		res.Entity = map[string]any{"@type": "properties", "properties": list, "overwrittenProperties": []any{}, "defaultProperties": []any{}}
		return res, nil
	case "FUNCTIONS":
		res := &Result{Tag: "SHOW", Columns: []Column{col("Function Name"), col("Category")}}
		var list []any
		for _, f := range functions.All() {
			list = append(list, map[string]any{"name": f.Name, "type": f.Kind.String(), "category": f.Category})
			res.Rows = append(res.Rows, []any{f.Name, f.Category})
		}
		res.Entity = map[string]any{"@type": "function_names", "functions": list}
		return res, nil
	case "TYPES":
		res := &Result{Tag: "SHOW", Columns: []Column{col("Type Name"), col("Schema")}}
		m := map[string]any{}
		var names []string
		for k := range e.cat.types {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			m[k] = schemaJSON(e.cat.types[k])
			res.Rows = append(res.Rows, []any{k, e.cat.types[k].String()})
		}
		res.Entity = map[string]any{"@type": "type_list", "types": m}
		return res, nil
	case "VARIABLES":
		res := &Result{Tag: "SHOW", Columns: []Column{col("Variable Name"), col("Value")}}
		var names []string
		for k := range s.Vars {
			names = append(names, k)
		}
		sort.Strings(names)
		var list []any
		for _, k := range names {
			list = append(list, map[string]any{"name": k, "value": s.Vars[k]})
			res.Rows = append(res.Rows, []any{k, s.Vars[k]})
		}
		if list == nil {
			list = []any{}
		}
		res.Entity = map[string]any{"@type": "variables", "variables": list}
		return res, nil
	case "CONNECTORS":
		return nil, errf("Connectors are not supported: this server has no Kafka Connect cluster.")
	}
	return nil, errf("SHOW %s is not supported", n.What)
}

// schemaJSON renders a type as ksqlDB's REST schema object.
func schemaJSON(t *types.Type) map[string]any {
	m := map[string]any{"type": restTypeName(t), "fields": nil, "memberSchema": nil}
	switch t.Kind {
	case types.KindArray, types.KindMap:
		m["memberSchema"] = schemaJSON(t.Elem)
	case types.KindStruct:
		var fs []any
		for _, f := range t.Fields {
			fs = append(fs, map[string]any{"name": f.Name, "schema": schemaJSON(f.Type)})
		}
		m["fields"] = fs
	case types.KindDecimal:
		m["parameters"] = map[string]any{"precision": t.Precision, "scale": t.Scale}
	}
	return m
}

func restTypeName(t *types.Type) string {
	s := t.String()
	if i := strings.IndexAny(s, "<("); i > 0 {
		return s[:i]
	}
	return s
}

func (e *Engine) sourceDescription(src *source, extended bool) map[string]any {
	var fields []any
	for _, c := range src.Schema.Columns {
		f := map[string]any{"name": c.Name, "schema": schemaJSON(c.Type)}
		switch c.Namespace {
		case types.KeyColumn:
			f["type"] = "KEY"
		case types.HeaderColumn:
			f["type"] = "HEADER"
			if c.HeaderKey != "" {
				f["headerKey"] = c.HeaderKey
			}
		}
		fields = append(fields, f)
	}
	var readQ, writeQ []any
	for _, id := range e.cat.readers(src.Name) {
		q := e.cat.queries[id]
		readQ = append(readQ, map[string]any{"queryString": q.SQL, "sinks": []string{q.Sink}, "id": id, "queryType": "PERSISTENT", "state": "RUNNING"})
	}
	for _, id := range e.cat.writers(src.Name) {
		q := e.cat.queries[id]
		writeQ = append(writeQ, map[string]any{"queryString": q.SQL, "sinks": []string{q.Sink}, "id": id, "queryType": "PERSISTENT", "state": "RUNNING"})
	}
	if readQ == nil {
		readQ = []any{}
	}
	if writeQ == nil {
		writeQ = []any{}
	}
	var wt any
	if src.windowed() {
		wt = src.WindowType.String()
	}
	stats := ""
	if extended && src.OwnerQuery != "" {
		if q := e.cat.queries[src.OwnerQuery]; q != nil && q.task != nil {
			var processed, errs int64
			for _, t := range q.allTasks() {
				processed += t.processed.Load()
				errs += t.errors.Load()
			}
			stats = fmt.Sprintf("messages-processed: %d, processing-errors: %d, tasks: %d", processed, errs, len(q.allTasks()))
		}
	}
	return map[string]any{"name": src.Name, "windowType": wt, "readQueries": readQ, "writeQueries": writeQ, "fields": fields,
		"type": src.kindName(), "timestamp": src.TimestampCol, "statistics": stats, "errorStats": "", "extended": extended,
		"keyFormat": keyFormatName(src), "valueFormat": src.ValueFormat.Name, "topic": src.Topic, "partitions": src.Partitions,
		"replication": 1, "statement": src.SQL, "queryOffsetSummaries": []any{}, "sourceConstraints": []any{},
		"clusterStatistics": []any{}, "clusterErrorStats": []any{}}
}

func (e *Engine) describe(ctx context.Context, s *Session, n *ast.Describe) (*Result, error) {
	if n.Function {
		f, ok := functions.Lookup(n.Name)
		if !ok {
			return nil, errf("Can't find any functions with the name '%s'", n.Name)
		}
		var variants []any
		res := &Result{Tag: "DESCRIBE", Columns: []Column{col("Arguments"), col("Returns"), col("Description")}}
		for _, sig := range f.Signatures {
			variants = append(variants, map[string]any{"arguments": sig.Args, "returnType": sig.Returns, "description": sig.Description, "argumentTypes": []any{}})
			res.Rows = append(res.Rows, []any{sig.Args, sig.Returns, sig.Description})
		}
		res.Entity = map[string]any{"@type": "describe_function", "name": f.Name, "description": f.Description, "type": f.Kind.String(),
			"author": "Sluice", "version": "", "path": "internal", "functions": variants}
		return res, nil
	}
	if n.What != "" {
		return e.show(ctx, s, &ast.Show{StmtBase: n.StmtBase, What: n.What, Extended: true})
	}
	src, ok := e.cat.sources[n.Name]
	if !ok {
		return nil, errf("Could not find STREAM/TABLE '%s' in the Metastore", n.Name)
	}
	res := &Result{Tag: "DESCRIBE", Columns: []Column{col("Field"), col("Type")}}
	for _, c := range src.Schema.Columns {
		t := c.Type.String()
		switch c.Namespace {
		case types.KeyColumn:
			if src.Kind == ast.Table {
				t += " (primary key)"
			} else {
				t += " (key)"
			}
		case types.HeaderColumn:
			t += " (header)"
		}
		res.Rows = append(res.Rows, []any{c.Name, t})
	}
	res.Entity = map[string]any{"@type": "sourceDescription", "sourceDescription": e.sourceDescription(src, n.Extended)}
	return res, nil
}

func (e *Engine) explain(ctx context.Context, s *Session, n *ast.Explain) (*Result, error) {
	var q *queryInfo
	var plan *queryPlan
	var sql string
	sinks := []string{} // the query's sink; none for a SELECT
	if n.Statement == nil {
		q = e.cat.queries[strings.ToUpper(n.QueryID)]
		if q == nil {
			return nil, errf("Query with id:%s does not exist, use SHOW QUERIES to view the full set of running queries.", n.QueryID)
		}
		sql, sinks = q.SQL, []string{q.Sink}
		if q.task != nil {
			plan = q.task.plan
		}
	} else {
		sql = n.Statement.StmtText()
		var query *ast.Query
		sink := "EXPLAIN"
		switch st := n.Statement.(type) {
		case *ast.Select:
			query = st.Query
		case *ast.CreateAsSelect:
			query, sink = st.Query, st.Name
			sinks = []string{sink}
		case *ast.InsertSelect:
			query, sink = st.Query, st.Target
			sinks = []string{sink}
		default:
			return nil, errf("The provided statement does not run a ksql query")
		}
		var err error
		plan, err = e.planQuery(query, sink, mergeProps(e.cfg.Props, s.Props), n.Statement != nil && query.Emit != ast.EmitChanges || sink != "EXPLAIN")
		if err != nil {
			return nil, err
		}
	}
	text := ""
	switch {
	case q != nil && q.doc != nil && plan != nil:
		text = plan.explain(q.doc.Root)
		if q.doc.Tasks != "" {
			text += fmt.Sprintf("Tasks: %s (%d running)\n", q.doc.Tasks, len(q.allTasks()))
		}
	case plan != nil:
		text = plan.explain(plan.rootStep())
	}
	id := ""
	if q != nil {
		id = q.ID
	}
	var fields []any
	if plan != nil {
		for _, c := range plan.outSchema.Columns {
			fields = append(fields, map[string]any{"name": c.Name, "schema": schemaJSON(c.Type)})
		}
	}
	res := &Result{Tag: "EXPLAIN", Columns: []Column{col("QUERY PLAN")}}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		res.Rows = append(res.Rows, []any{line})
	}
	res.Entity = map[string]any{"@type": "queryDescription", "queryDescription": map[string]any{"id": id, "statementText": sql,
		"fields": fields, "executionPlan": text, "topology": text, "overriddenProperties": map[string]any{}, "sources": plan.sourceNames(),
		"sinks": sinks, "queryType": "PERSISTENT", "state": "RUNNING", "queryErrors": []any{}, "ksqlHostQueryStatus": map[string]any{}}}
	return res, nil
}

func (p *queryPlan) sourceNames() []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, s := range p.sources {
		out = append(out, s.src.Name)
	}
	return out
}

// explain prints the two stages EXPLAIN shows: the logical plan (what the query computes,
// as relational operators with their result schema) and the execution plan: the versioned
// steps of root, which for a running query is the plan its command persisted.
func (p *queryPlan) explain(root plandoc.Step) string {
	var sb strings.Builder
	sb.WriteString("Logical plan:\n")
	for i, line := range p.logicalLines() {
		sb.WriteString(strings.Repeat("  ", i+1))
		sb.WriteString(line)
		sb.WriteString("\n")
	}
	sb.WriteString("Execution plan:\n")
	sb.WriteString(plandoc.Explain(root, p.sinkName))
	return sb.String()
}

func (p *queryPlan) logicalLines() []string {
	var lines []string
	out := "STREAM"
	if p.outKind == ast.Table {
		out = "TABLE"
	}
	lines = append(lines, fmt.Sprintf("Project %s [%s]", out, p.outSchema))
	if p.agg != nil && p.agg.having != nil {
		lines = append(lines, "Filter HAVING ["+eval.Text(p.q.Having)+"]")
	}
	if p.agg != nil {
		var calls []string
		for _, c := range p.agg.calls {
			calls = append(calls, eval.Text(c.call))
		}
		w := ""
		if p.window != nil {
			w = fmt.Sprintf(" window %s size=%dms", p.window.Type, p.window.SizeMs)
			if p.window.Type == ast.Hopping {
				w += fmt.Sprintf(" advance=%dms", p.window.AdvanceMs)
			}
		}
		lines = append(lines, fmt.Sprintf("Aggregate group=[%s] aggregates=[%s]%s", strings.Join(p.agg.groupKeys, ", "), strings.Join(calls, ", "), w))
	}
	if p.partition != nil {
		lines = append(lines, "Repartition key=["+strings.Join(p.partition.keyNames, ", ")+"]")
	}
	if p.where != nil {
		lines = append(lines, "Filter WHERE ["+whereText(p.q.Where)+"]")
	}
	if p.join != nil {
		for i := len(p.join.steps) - 1; i >= 0; i-- {
			st := p.join.steps[i]
			lines = append(lines, fmt.Sprintf("Join %s %s on [%s = %s] with %s", st.kind, st.typ, eval.Text(st.leftAst), eval.Text(st.rightAst), st.right.src.Name))
		}
	}
	for _, s := range p.sources {
		lines = append(lines, fmt.Sprintf("Source %s %s (topic %s) [%s]", s.src.kindName(), s.src.Name, s.src.Topic, s.src.Schema))
	}
	return lines
}

func whereText(e ast.Expr) string {
	if e == nil {
		return ""
	}
	return eval.Text(e)
}
