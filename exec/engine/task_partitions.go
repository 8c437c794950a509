package engine

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// Which persistent queries run as one task per partition. A task that owns partition p reads
// partition p of its inputs and is the only writer of partition p of the sink, so its commits
// (state + input offsets + that partition's high-water mark) and the truncation on restart
// stay per partition. That needs every record a task's state depends on to be in the task's
// input partition: true for stateless queries, for aggregations grouping by the source's key
// and for joins of co-partitioned sources on their keys. A foreign-key join's right table is
// the exception: every task reads all of it (broadcastSources). Aggregations grouping by
// anything else go through a repartition stage (repartition.go). Windowed keys are placed by
// their key without the window, as Kafka Streams' windowed partitioner and Sluice's own sinks
// place them, so the windows of one key share a partition too.
//
// Each task writes its results to its own partition. For inputs placed by the default
// partitioner that is the partition the sink's partitioner picks for the result's key (same
// key columns, format and partition count); for a source placed otherwise a key's results
// stay in its source partition, the only placement that keeps one writer per partition.

// partitionParallel reports whether a stateless query can run one task per partition. Over a
// table, each task materializes its own partition of the table (for the old row of an update):
// every change of a key is in that key's partition, so no task needs another's rows.
func (p *queryPlan) partitionParallel(sink *source) bool {
	if len(p.sources) != 1 || p.agg != nil || p.join != nil || p.partition != nil {
		return false
	}
	src := p.sources[0].src
	return src.Partitions > 1 && sink.Partitions == src.Partitions &&
		sink.KeyFormat.Name == src.KeyFormat.Name && src.windowed() == sink.windowed()
}

// groupsBySourceKey reports whether the GROUP BY is exactly the source's key columns, in
// order: then all the records of a group are in one source partition.
func (p *queryPlan) groupsBySourceKey() bool {
	if p.agg == nil || len(p.sources) != 1 || p.q == nil {
		return false
	}
	bs := p.sources[0]
	kc := bs.src.keyCols()
	if len(kc) == 0 || len(p.q.GroupBy) != len(kc) {
		return false
	}
	for i, g := range p.q.GroupBy {
		ref, ok := g.(*ast.ColumnRef)
		if !ok || ref.Name != kc[i].Name || (ref.Qualifier != "" && ref.Qualifier != bs.alias && ref.Qualifier != bs.src.Name) {
			return false
		}
	}
	return true
}

// sameKeyBytes reports whether sink encodes a key of src's key columns to the same bytes
// (same columns, types and key format), so both topics' partitioners place it alike.
func sameKeyBytes(src, sink *source) bool {
	if src.KeyFormat != sink.KeyFormat {
		return false
	}
	a, b := src.keyCols(), sink.keyCols()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !a[i].Type.Equal(b[i].Type) {
			return false
		}
	}
	return true
}

// aggPartitionParallel reports whether an aggregation can run one task per source partition
// without repartitioning: it groups by the source's key, and the sink is keyed and
// partitioned like the source.
func (p *queryPlan) aggPartitionParallel(sink *source) bool {
	if p.join != nil || p.partition != nil || !p.groupsBySourceKey() {
		return false
	}
	src := p.sources[0].src
	return src.Partitions > 1 && sink.Partitions == src.Partitions && sameKeyBytes(src, sink)
}

// joinPartitionParallel reports whether a join can run one task per partition: every key step
// joins on key columns (stream-table, table-table on the primary key, or stream-stream) of
// co-partitioned sources (same partition count and key format) and the sink is
// keyed and partitioned like them. The right table of a foreign-key step is read whole by
// every task instead (broadcastSources), as a Kafka Streams global table is: any left row may
// reference any of its rows, and every task re-joins its own left rows when one changes.
func (p *queryPlan) joinPartitionParallel(sink *source) bool {
	if p.agg != nil || !p.joinCoPartitioned() {
		return false
	}
	first := p.sources[0].src
	return sink.Partitions == first.Partitions && sink.KeyFormat == first.KeyFormat
}

// joinCoPartitioned reports whether a join's tasks can each join one partition of its
// sources: see joinPartitionParallel.
func (p *queryPlan) joinCoPartitioned() bool {
	if p.join == nil || p.partition != nil || len(p.sources) < 2 {
		return false
	}
	first := p.sources[0].src
	if first.Partitions < 2 {
		return false
	}
	broadcast := p.broadcastSources()
	for i, bs := range p.sources {
		s := bs.src
		if broadcast[i] {
			continue
		}
		if s.Partitions != first.Partitions || s.KeyFormat != first.KeyFormat || len(s.keyCols()) != 1 {
			return false
		}
	}
	for _, st := range p.join.steps {
		if st.kind == joinFK {
			continue
		}
		if st.leftRef == nil || st.rightRef == nil || broadcast[st.leftRef.src] {
			return false
		}
		if !isKeyOf(p.sources[st.leftRef.src].src, st.leftRef.name) || !isKeyOf(st.right.src, st.rightRef.name) {
			return false
		}
	}
	return true
}

// broadcastSources are the sources a partition's task reads in full: the right tables of
// foreign-key steps.
func (p *queryPlan) broadcastSources() map[int]bool {
	if p.join == nil {
		return nil
	}
	var out map[int]bool
	for _, st := range p.join.steps {
		if st.kind == joinFK {
			if out == nil {
				out = map[int]bool{}
			}
			out[st.rightIdx] = true
		}
	}
	return out
}

// tableTasks are the tasks that maintain a query's table (not its repartition stage).
func (q *queryInfo) tableTasks() []*task {
	var out []*task
	for _, t := range q.allTasks() {
		if t.repart == nil {
			out = append(out, t)
		}
	}
	return out
}

// failedTask returns a task of the query that stopped on an error, or nil.
func (q *queryInfo) failedTask() *task {
	for _, t := range q.allTasks() {
		if t.failure() != nil {
			return t
		}
	}
	return nil
}

// tableReader reads the committed state of a table's tasks: the one store of a task over all
// partitions, or every partition's store.
func tableReader(tasks []*task) state.Reader {
	if len(tasks) == 1 {
		return tasks[0].readCommitted()
	}
	pr := &partitionedReader{}
	for _, t := range tasks {
		pr.rs = append(pr.rs, t.readCommitted())
	}
	return pr
}

// readCommitted reads the task's committed state, an aggregation's pending chunks included.
func (t *task) readCommitted() state.Reader {
	r := t.store.ReadCommitted()
	if t.pl != nil && t.pl.agg != nil {
		return t.pl.agg.readerOver(r)
	}
	return r
}

// partitionedReader reads the stores of a table's partitions (index = partition) as one.
// Each key lives in one partition's store.
type partitionedReader struct {
	rs []state.Reader
}

func (m *partitionedReader) Get(table string, key []byte) ([]byte, bool, error) {
	for _, r := range m.rs {
		v, ok, err := r.Get(table, key)
		if err != nil || ok {
			return v, ok, err
		}
	}
	return nil, false, nil
}

// Scan merges the partitions' scans into one key order, the order a single store gives.
func (m *partitionedReader) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	type kv struct{ k, v []byte }
	var all []kv
	for _, r := range m.rs {
		if err := r.Scan(table, from, to, func(k, v []byte) bool {
			all = append(all, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
			return true
		}); err != nil {
			return err
		}
	}
	sort.Slice(all, func(i, j int) bool { return bytes.Compare(all[i].k, all[j].k) < 0 })
	for _, e := range all {
		if !fn(e.k, e.v) {
			return nil
		}
	}
	return nil
}

// forKey narrows a reader to the partition that holds a record key (encoded as the table's
// topic encodes it, without window): the store of the partition the default partitioner
// picks is read first, and the others only when it has nothing (a source not placed by the
// default partitioner).
func forKey(r state.Reader, recordKey []byte) state.Reader {
	pr, ok := r.(*partitionedReader)
	if !ok || recordKey == nil {
		return r
	}
	p := int(storage.PartitionFor(recordKey, len(pr.rs)))
	rest := &partitionedReader{}
	for i, x := range pr.rs {
		if i != p {
			rest.rs = append(rest.rs, x)
		}
	}
	return &keyReader{first: pr.rs[p], rest: rest}
}

// keyReader reads one partition's store, falling back to the others when it finds nothing.
type keyReader struct {
	first state.Reader
	rest  state.Reader
}

func (k *keyReader) Get(table string, key []byte) ([]byte, bool, error) {
	v, ok, err := k.first.Get(table, key)
	if err != nil || ok {
		return v, ok, err
	}
	return k.rest.Get(table, key)
}

func (k *keyReader) Scan(table string, from, to []byte, fn func(key, value []byte) bool) error {
	found := false
	if err := k.first.Scan(table, from, to, func(kk, v []byte) bool {
		found = true
		return fn(kk, v)
	}); err != nil || found {
		return err
	}
	return k.rest.Scan(table, from, to, fn)
}

// layoutSignature lists every decision that places a query's tasks, for comparing the plan
// the planner made with the one rebuilt from its document (prepareQuery): the running query
// is the rebuilt one, so a fact its document loses must not change how it runs.
func (p *queryPlan) layoutSignature(sink *source) string {
	var b strings.Builder
	flag := func(name string, v bool) {
		if v {
			b.WriteString(name)
			b.WriteByte(' ')
		}
	}
	b.WriteString(p.taskLayout(sink) + ": ")
	flag("partitionParallel", p.partitionParallel(sink))
	flag("aggPartitionParallel", p.aggPartitionParallel(sink))
	flag("joinPartitionParallel", p.joinPartitionParallel(sink))
	flag("groupsBySourceKey", p.groupsBySourceKey())
	flag("rekeyRepartitionable", p.rekeyRepartitionable(sink))
	flag("insertRepartitionable", p.insertRepartitionable(sink))
	if p.join != nil {
		flag("joinRepartitionable", p.joinRepartitionable(sink))
		flag("joinAggRepartitionable", p.joinAggRepartitionable())
		flag("joinAggTwoStage", p.joinAggTwoStage())
		flag("streamJoinRepartitionable", p.streamJoinRepartitionable(sink))
		flag("streamJoinAggTwoStage", p.streamJoinAggTwoStage())
		flag("stagedJoinRepartitionable", p.stagedJoinRepartitionable(sink))
		flag("joinBroadcastRepartitionable", p.joinBroadcastRepartitionable(sink))
		flag("insertStreamJoinRepartitionable", p.insertStreamJoinRepartitionable())
		flag("insertStagedJoinRepartitionable", p.insertStagedJoinRepartitionable())
		flag("streamTableRoutable", p.streamTableRoutable())
		for i := range p.sources {
			flag(fmt.Sprintf("broadcast%d", i), p.broadcastSources()[i])
		}
		for i, st := range p.join.steps {
			fmt.Fprintf(&b, "step%d:%s/%d ", i, st.kind, st.leftSrc)
		}
	}
	return strings.TrimSpace(b.String())
}
