package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/storage"
)

// This file is the one path by which planned commands take effect: a statement executed now
// and the same command replayed from the log at start both go through install*, so replay
// cannot drift from what the statement did.

// appendPlanned writes a planned command (a DDL decision or an execution plan) to the
// command log. Its statement text is kept for display (SHOW QUERIES, DESCRIBE); replay uses
// the plan.
func (e *Engine) appendPlanned(ctx context.Context, c command) error {
	if e.replaying {
		return nil
	}
	c.V = 2
	b, err := plan.Marshal(c)
	if err != nil {
		return err
	}
	_, err = e.log.Append(ctx, CommandTopic, []storage.Record{{Value: b, Timestamp: time.Now().UnixMilli(), Partition: 0}})
	if err == nil {
		e.cmdSeq++
	}
	return err
}

// prepareQuery takes a freshly planned query (planned, writing to sink) through its persisted
// form: encoded, decoded and built from the document alone. A plan that cannot stand on its
// own fails here, before anything is written, rather than at the next restart; so does one
// whose rebuilt form would run in another layout than the planned one (a fact the document
// lost).
func prepareQuery(doc *plan.Query, planned *queryPlan, sink *source) (*plan.Query, *queryPlan, *source, error) {
	b, err := plan.Encode(doc)
	if err != nil {
		return nil, nil, nil, err
	}
	back, err := plan.Decode(b)
	if err != nil {
		return nil, nil, nil, err
	}
	p, builtSink, err := buildQuery(back)
	if err != nil {
		return nil, nil, nil, &Error{Code: 50000, SQLState: "XX000", Kind: ServerError, Msg: "internal error: the execution plan does not rebuild: " + err.Error()}
	}
	if want, got := planned.layoutSignature(sink), p.layoutSignature(builtSink); want != got {
		return nil, nil, nil, &Error{Code: 50000, SQLState: "XX000", Kind: ServerError, Msg: "internal error: the rebuilt execution plan would run as " + got + ", the planned one as " + want}
	}
	return back, p, builtSink, nil
}

// applyCommand replays a planned command read from the command log.
func (e *Engine) applyCommand(ctx context.Context, c *command) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.Source != nil {
		return e.installSource(ctx, c.Source, c.Query, c.SQL)
	}
	p, sink, err := buildQuery(c.Query)
	if err != nil {
		return err
	}
	return e.installQuery(ctx, c.Query, p, sink, c.SQL)
}

// installSource registers a created stream or table; cst, when set, is the plan of the
// internal query that materializes a source table for pull queries.
func (e *Engine) installSource(ctx context.Context, d *plan.Source, cst *plan.Query, sql string) error {
	src, err := sourceFromDoc(d)
	if err != nil {
		return err
	}
	src.SQL = sql
	e.cat.sources[src.Name] = src
	if cst == nil {
		return nil
	}
	src.Materialized = true
	p, _, err := buildQuery(cst)
	if err != nil {
		return err
	}
	e.noteQueryID(cst.ID)
	qi := &queryInfo{ID: cst.ID, SQL: sql, Sink: src.Name, Sources: []string{src.Name}, Kind: cst.Kind, doc: cst}
	e.cat.queries[qi.ID] = qi
	e.cat.order = append(e.cat.order, qi.ID)
	src.OwnerQuery = qi.ID
	t, err := e.startTask(ctx, qi, p, src, false)
	if err != nil {
		e.removeQuery(qi.ID)
		return err
	}
	t.matOnly = true
	return nil
}

// installQuery registers and starts a persistent query built from doc. A query id already
// running (CREATE OR REPLACE) is stopped first and replaced.
func (e *Engine) installQuery(ctx context.Context, doc *plan.Query, p *queryPlan, sink *source, sql string) error {
	if old := e.cat.queries[doc.ID]; old != nil {
		// The new query opens the same stores (it keeps the old one's state), so they close.
		for _, t := range old.allTasks() {
			t.stop()
			_ = t.store.Close()
		}
		e.removeQuery(doc.ID)
	}
	e.noteQueryID(doc.ID)
	qi := &queryInfo{ID: doc.ID, SQL: sql, Sink: sink.Name, Kind: doc.Kind, doc: doc}
	for _, bs := range p.sources {
		qi.Sources = append(qi.Sources, bs.src.Name)
	}
	switch doc.Kind {
	case "CSAS", "CTAS":
		sink.SQL = sql
		sink.OwnerQuery = doc.ID
		sink.Materialized = sink.Kind == ast.Table
		prev, hadPrev := e.cat.sources[sink.Name]
		e.cat.sources[sink.Name] = sink
		e.cat.queries[doc.ID] = qi
		e.cat.order = append(e.cat.order, doc.ID)
		if err := e.startLayout(ctx, qi, p, sink, doc.Tasks); err != nil {
			e.removeQuery(doc.ID)
			if hadPrev {
				e.cat.sources[sink.Name] = prev
			} else {
				delete(e.cat.sources, sink.Name)
			}
			return err
		}
	case "INSERT":
		e.cat.queries[doc.ID] = qi
		e.cat.order = append(e.cat.order, doc.ID)
		if err := e.startInsert(ctx, qi, p, sink); err != nil {
			e.removeQuery(doc.ID)
			return err
		}
	default:
		return fmt.Errorf("plan %s: unknown query kind %q", doc.ID, doc.Kind)
	}
	return nil
}

// startLayout starts a CSAS/CTAS as its plan says it runs. The layout was decided when the
// query was planned; it is checked, not decided again, so a later release's rules cannot
// move a running query's state to other stores or topics. Commands that predate the recorded
// layout ("") keep running as one task when that task's store holds committed offsets (they
// ran as one task before); otherwise they are decided now.
func (e *Engine) startLayout(ctx context.Context, qi *queryInfo, p *queryPlan, sink *source, layout string) error {
	if layout == "" {
		layout = p.taskLayout(sink)
		if layout != plan.TasksSingle && e.ranAsOneTask(qi.ID) {
			layout = plan.TasksSingle
		}
	}
	switch layout {
	case plan.TasksSingle:
		_, err := e.startTask(ctx, qi, p, sink, true)
		return err
	case plan.TasksRepartition:
		if !p.repartitionable(sink) {
			return fmt.Errorf("plan %s: a repartition stage needs an aggregation of one stream into a sink of several partitions", qi.ID)
		}
		return e.startRepartitioned(ctx, qi, p, sink)
	case plan.TasksPerPartition:
		if !p.partitionParallel(sink) && !p.aggPartitionParallel(sink) && !p.joinPartitionParallel(sink) {
			return fmt.Errorf("plan %s: its inputs and sink are no longer partitioned alike, so it cannot run one task per partition", qi.ID)
		}
		for part := 0; part < sink.Partitions; part++ {
			if _, err := e.startPartitionTask(ctx, qi, p, sink, true, int32(part)); err != nil {
				stopAll(qi)
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("plan %s: unknown task layout %q", qi.ID, layout)
}

// startInsert starts an INSERT INTO query. Its rows go through the target's owning tasks (see
// foreign.go), so several writers per partition are fine. A stateless query whose input is
// partitioned like the target runs one task per partition; joins, and queries whose rows
// change partition, run as writers and copiers (insertRepartitionable); the rest as one task.
// A query that already ran in another layout keeps it (its committed offsets and state live
// in that layout's stores).
func (e *Engine) startInsert(ctx context.Context, qi *queryInfo, p *queryPlan, sink *source) error {
	// A target no query writes gets owners, through which the query's rows go (plain_owner.go).
	if err := e.ensurePlainOwners(ctx, sink); err != nil {
		return err
	}
	parallel := p.partitionParallel(sink) || p.joinPartitionParallel(sink)
	switch {
	case e.ranAsOneTask(qi.ID):
		// Started as one task before: its state stays where it is.
		_, err := e.startTask(ctx, qi, p, sink, false)
		return err
	case parallel && e.ranAsPartitionTasks(qi.ID):
		// A join started as one task per partition by an earlier release.
	case p.insertRepartitionable(sink) && (p.join != nil || !parallel):
		return e.startInsertRepartitioned(ctx, qi, p, sink)
	case p.insertStreamJoinRepartitionable():
		return e.startStreamJoinInsert(ctx, qi, p, sink)
	case p.insertStagedJoinRepartitionable():
		return e.startStagedJoin(ctx, qi, p, sink, true)
	case !parallel && p.join == nil && sink.Partitions == 1 && p.singlePartitionSources():
		// One partition in, one out: a task that owns partition 0 appends through its one
		// owner, which makes it exactly once (it keeps no state).
		_, err := e.startPartitionTask(ctx, qi, p, sink, false, 0)
		return err
	case !parallel:
		_, err := e.startTask(ctx, qi, p, sink, false)
		return err
	}
	for part := 0; part < sink.Partitions; part++ {
		if _, err := e.startPartitionTask(ctx, qi, p, sink, false, int32(part)); err != nil {
			stopAll(qi)
			return err
		}
	}
	return nil
}

// ranAsPartitionTasks reports whether the store of a query's task for partition 0 holds
// committed input offsets of a source topic (not a repartition topic's, as a copier's do).
func (e *Engine) ranAsPartitionTasks(queryID string) bool {
	st, err := e.states.Open(queryID + "-p0")
	if err != nil {
		return false
	}
	defer st.Close()
	offs, err := st.Offsets()
	if err != nil {
		return false
	}
	repart := "in:" + e.repartitionTopic(queryID) + "/"
	for k := range offs {
		if strings.HasPrefix(k, "in:") && !strings.HasPrefix(k, repart) {
			return true
		}
	}
	return false
}

// ranAsOneTask reports whether the single-task store of a query holds committed offsets.
func (e *Engine) ranAsOneTask(queryID string) bool {
	st, err := e.states.Open(queryID)
	if err != nil {
		return false
	}
	defer st.Close()
	offs, err := st.Offsets()
	return err == nil && len(offs) > 0
}

// noteQueryID keeps generated query ids unique after replay: the counter moves past every
// id the log holds.
func (e *Engine) noteQueryID(id string) {
	if n := queryNumber(id); n >= e.cat.nextQuery {
		e.cat.nextQuery = n + 1
	}
}
