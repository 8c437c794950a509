package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/state"
	"github.com/sluicedb/sluice/storage"
)

// taskInput is one source partition a task consumes.
type taskInput struct {
	topic     string
	partition int32
	offset    int64
	entry     func(*storage.Record) error
	// limit, when set, is the end of what may be read: a repartition topic's partition is
	// read only up to what its writer has committed (read-committed), so a writer's recovery
	// never truncates records a reader has already consumed.
	limit func() int64
	// wake, with limit, returns a channel closed when the writer next commits.
	wake func() <-chan struct{}
	// pumped is the slice of pump's last read, reused by its next one (the batch is used up
	// by then).
	pumped []storage.Record
}

// readLog reads like storage.Log.Read, reusing reuse's array when the log can (the caller is
// done with the records in it).
func readLog(ctx context.Context, lg storage.Log, in *taskInput, offset int64, max int, wait time.Duration, reuse []storage.Record) ([]storage.Record, error) {
	if ar, ok := lg.(storage.AppendReader); ok {
		return ar.ReadAppend(ctx, in.topic, in.partition, offset, max, wait, reuse)
	}
	return lg.Read(ctx, in.topic, in.partition, offset, max, wait)
}

func (in *taskInput) id() string { return "in:" + in.topic + "/" + strconv.Itoa(int(in.partition)) }

// task runs one persistent query: it reads its inputs, drives the pipeline, appends results to
// the sink topic and commits state, input offsets and output high-water marks together.
//
// Exactly-once: results are appended before the commit that covers their inputs; on restart
// any output past the committed high-water mark is truncated away (built-in log only) and the
// inputs are re-read from the committed offsets, so every result appears once.
type task struct {
	e      *Engine
	id     string
	plan   *queryPlan
	pl     *pipeline
	store  state.Store
	inputs []*taskInput
	sink   *source
	// exclusive: this query is the only writer of its sink topic, so truncation is safe.
	exclusive bool
	out       []storage.Record
	outArena  []byte // the encoded keys and values of out

	// replay: per sink partition, output written after the last commit that the log could not
	// cut, still to be matched by the replay (skipReplayed); replayKeep is its scratch.
	replay     map[int32][]storage.Record
	replayKeep []storage.Record

	matBuf   []byte // scratch for materialized rows (the store copies them)
	hwm      map[int32]int64
	keyCodec serde.Codec
	valCodec serde.Codec
	tsCol    int
	mat      bool
	// matOnly: results only feed the materialized store (SOURCE tables); nothing is appended.
	matOnly bool
	// pullFromAgg: pull queries read the aggregate state instead of materialized rows.
	pullFromAgg bool
	// only is the partition this task owns (-1: all): it reads that source partition (or the
	// repartition topic's partitions for it) and its results go to the same partition of the
	// sink, whose only writer it is.
	only int32
	// outTopic is where results are appended: the sink's topic, or a repartition topic.
	outTopic string
	// owns reports whether this task is the writer of a partition of outTopic (nil: all).
	owns func(int32) bool
	// repart is set on a repartition stage's task (repartition.go), which does not maintain
	// the sink: it publishes its committed marks to the tasks reading its output.
	repart *repartWriter
	// commitExtra adds positions of its own to every commit (repartition readers' last
	// source offsets).
	commitExtra func(map[string]int64)

	// purgeDue are the repartition-topic positions of the task's last commit: once that
	// commit is durable, the records below them are deleted (purgeRepartInputs).
	purgeDue  []repartPos
	lastPurge time.Time

	processed  atomic.Int64
	errors     atomic.Int64
	lastCommit time.Time
	dirty      bool
	// pendingWrites approximates the state writes buffered since the last commit (materialized
	// rows, table-source rows), without the aggregation's dirty entries, which it counts itself.
	pendingWrites int

	mu     sync.Mutex // serializes pump/commit between Quiesce and the run loop
	closed bool       // set (under mu) once stopped: foreign appends no longer go through it
	// foreign holds the input offsets of INSERT INTO tasks whose rows this owner appended
	// (foreign.go), committed with its marks.
	foreign map[string]int64
	// positionsInOwner: a stateless INSERT INTO task whose rows all go through one owner,
	// which commits the task's positions with them (foreign.go). While every append since its
	// last commit was so tracked (untracked false), the task commits nothing itself: its own
	// positions must not get ahead of rows the owner has not yet made durable.
	positionsInOwner bool
	untracked        bool
	// standalone: a plain stream's owner (plain_owner.go), which has no run loop to commit
	// later, so whatever it takes is committed at once.
	standalone bool
	cancel     context.CancelFunc
	done       chan struct{}
	// failed is the error that stopped the task; SHOW QUERIES reads it from other goroutines.
	failed atomic.Pointer[error]
}

// fail records the error that stopped the task.
func (t *task) fail(err error) { t.failed.Store(&err) }

// failure returns the error that stopped the task, or nil while it runs.
func (t *task) failure() error {
	if p := t.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// startTask instantiates and (in server mode) starts a persistent query.
func (e *Engine) startTask(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, exclusive bool) (*task, error) {
	return e.startPartitionTask(ctx, qi, plan, sink, exclusive, -1)
}

// stopAll stops the tasks already started for a query whose start failed.
func stopAll(qi *queryInfo) {
	for _, t := range qi.allTasks() {
		t.stop()
	}
}

// startPartitionTask starts a task over all source partitions (only < 0) or just one.
func (e *Engine) startPartitionTask(ctx context.Context, qi *queryInfo, plan *queryPlan, sink *source, exclusive bool, only int32) (*task, error) {
	t, committed, err := e.newTask(qi, plan, sink, exclusive, only)
	if err != nil {
		return nil, err
	}
	if !exclusive && only >= 0 && plan.join == nil && plan.agg == nil {
		// A stateless INSERT INTO task: its owner keeps its positions. (A join's partition
		// tasks, as an earlier release started them, keep state the owner cannot commit, so
		// they keep their positions with it: at-least-once, but nothing lost.)
		e.insertOffsetsFromOwner(t, committed)
		t.positionsInOwner = true
	}
	pl, err := plan.instantiate(t.store, t.emit, t.recordError)
	if err != nil {
		return nil, err
	}
	t.pl = pl
	if pl.agg != nil && only >= 0 {
		pl.agg.shards = sink.Partitions
	}
	if err := t.ownCache(); err != nil {
		return nil, err
	}
	broadcast := plan.broadcastSources()
	for i, bs := range plan.sources {
		part := only
		if broadcast[i] {
			part = -1
		}
		if err := e.addSourceInputs(ctx, t, bs.src.Topic, part, pl.entry[i], committed, plan); err != nil {
			return nil, err
		}
	}
	if err := e.recoverTask(ctx, t, committed); err != nil {
		return nil, err
	}
	e.launch(qi, t)
	return t, nil
}

// addSourceInputs adds to t the partitions of a source topic it reads (every one, or only the
// partition only when it is not negative), each resuming where t last committed.
func (e *Engine) addSourceInputs(ctx context.Context, t *task, topic string, only int32, entry func(*storage.Record) error, committed map[string]int64, plan *queryPlan) error {
	info, err := e.log.DescribeTopic(ctx, topic)
	if err != nil {
		return fmt.Errorf("source topic %s: %w", topic, err)
	}
	for _, p := range info.Partitions {
		if only >= 0 && p.Partition != only {
			continue
		}
		in := &taskInput{topic: topic, partition: p.Partition, entry: entry}
		e.resumeAt(in, p, committed, plan)
		t.inputs = append(t.inputs, in)
	}
	return nil
}

// resumeAt sets where an input starts reading: its committed offset, else the end or the
// start of partition p as auto.offset.reset says.
func (e *Engine) resumeAt(in *taskInput, p storage.PartitionInfo, committed map[string]int64, plan *queryPlan) {
	switch off, ok := committed[in.id()]; {
	case ok:
		in.offset = off
	case e.offsetReset(plan) == "latest":
		in.offset = p.EndOffset
	default:
		in.offset = p.StartOffset
	}
}

// newTask opens the task's state store (one per partition for partitioned queries) and sets up
// its output; the caller builds the pipeline and inputs, then calls recoverTask and launch.
func (e *Engine) newTask(qi *queryInfo, plan *queryPlan, sink *source, exclusive bool, only int32) (*task, map[string]int64, error) {
	storeID := qi.ID
	if only >= 0 {
		storeID = fmt.Sprintf("%s-p%d", qi.ID, only)
	}
	return e.newTaskStore(qi, plan, sink, exclusive, only, storeID)
}

func (e *Engine) newTaskStore(qi *queryInfo, plan *queryPlan, sink *source, exclusive bool, only int32, storeID string) (*task, map[string]int64, error) {
	store, err := e.states.Open(storeID)
	if err != nil {
		return nil, nil, err
	}
	t := &task{e: e, id: qi.ID, plan: plan, store: store, sink: sink, exclusive: exclusive, hwm: map[int32]int64{}, tsCol: -1, only: only, outTopic: sink.Topic}
	if only >= 0 {
		t.owns = func(p int32) bool { return p == only }
	}
	kc, vc, err := sink.codecs()
	if err != nil {
		return nil, nil, err
	}
	t.keyCodec, t.valCodec = kc, vc
	// Aggregations answer pull queries from their aggregate state (pull_agg.go), so their rows
	// are not written a second time; EMIT FINAL keeps a materialized copy of final rows.
	t.pullFromAgg = plan.agg != nil && !plan.emitFinal
	t.mat = sink.Kind == ast.Table && !t.pullFromAgg
	if sink.TimestampCol != "" {
		t.tsCol = sink.Schema.Find(sink.TimestampCol)
	}
	committed, err := store.Offsets()
	if err != nil {
		return nil, nil, err
	}
	return t, committed, nil
}

// recoverTask restores the stream time and, for an exclusive writer, removes output written
// after the last commit and pins the high-water marks of the partitions it writes.
func (e *Engine) recoverTask(ctx context.Context, t *task, committed map[string]int64) error {
	if st, ok := committed["streamtime"]; ok {
		t.pl.streamTime = st
	}
	if !t.exclusive {
		return nil
	}
	// Remove output written after the last commit (exactly-once recovery).
	for k, v := range committed {
		if !strings.HasPrefix(k, "out:") {
			continue
		}
		p, _ := strconv.Atoi(k[4:])
		info, err := e.log.DescribeTopic(ctx, t.outTopic)
		if err != nil {
			continue
		}
		for _, pi := range info.Partitions {
			if int(pi.Partition) == p && pi.EndOffset > v {
				if err := e.log.TruncateTo(ctx, t.outTopic, int32(p), v); err == nil {
					e.logf("query %s: removed %d uncommitted output records from %s/%d", t.id, pi.EndOffset-v, t.outTopic, p)
				} else if tail, rerr := readUncommittedTail(ctx, e.log, t.outTopic, int32(p), v, pi.EndOffset); rerr == nil {
					// Kafka cannot truncate: the replay's results that equal what is already
					// there are not written again (skipReplayed).
					if t.replay == nil {
						t.replay = map[int32][]storage.Record{}
					}
					t.replay[int32(p)] = tail
					e.logf("query %s: %d output records in %s/%d were written after the last commit; results the replay repeats exactly are not written again", t.id, len(tail), t.outTopic, p)
				} else {
					// Results written after the last commit will be written again
					// (at-least-once). Say so rather than duplicate silently.
					e.logf("WARNING query %s: cannot remove %d uncommitted output records from %s/%d (%v; %v); they may appear twice", t.id, pi.EndOffset-v, t.outTopic, p, err, rerr)
				}
			}
		}
	}
	// Pin every owned partition's high-water mark before producing anything, so a crash before
	// the first regular commit still lets recovery cut the uncommitted output.
	if t.matOnly {
		return nil
	}
	info, err := e.log.DescribeTopic(ctx, t.outTopic)
	if err != nil {
		return nil
	}
	pinned := false
	for _, pi := range info.Partitions {
		if t.owns != nil && !t.owns(pi.Partition) {
			continue
		}
		if h, ok := committed["out:"+strconv.Itoa(int(pi.Partition))]; ok {
			t.hwm[pi.Partition] = h
		} else {
			t.hwm[pi.Partition] = pi.EndOffset
			pinned = true
			if t.repart != nil {
				t.repart.startedAfresh(pi.Partition, pi.EndOffset)
			}
		}
	}
	if pinned {
		t.dirty = true
		if err := t.commit(); err != nil {
			return err
		}
	}
	if t.repart != nil {
		t.repart.publish(t.hwm)
	}
	return nil
}

// ownCache turns off the store's cache of committed values when the task's pipeline caches
// everything it reads itself: a stream aggregation reads only its aggregate entries, which
// aggNode caches. It also turns on deferred aggregate writes (agg_deferred.go) where the
// store takes writes straight into its commits, and loads the chunks a last run left.
func (t *task) ownCache() error {
	if an := t.pl.agg; an != nil && (an.a.window == nil || an.a.window.Type != ast.Session) {
		if _, direct := t.store.(interface {
			CommitWith(map[string]int64, func(func(table string, key, value []byte, deleted bool))) error
		}); direct {
			an.deferred = &deferredWrites{}
			if err := an.loadChunks(); err != nil {
				return err
			}
		}
	}
	if t.pl.agg == nil || t.plan.tableSource || t.plan.join != nil {
		return nil
	}
	if c, ok := t.store.(interface{ SetCacheBytes(int) }); ok {
		c.SetCacheBytes(0)
	}
	return nil
}

// launch registers a started task with its query and, in server mode, starts its run loop.
func (e *Engine) launch(qi *queryInfo, t *task) {
	if t.ownsSink() {
		// A persistent query now writes a topic that plain-stream owners held (a CSAS into
		// the topic of a stream INSERT INTO queries write): appends go through its tasks,
		// whose recovery cuts the partitions; two owners cutting one partition would cut
		// each other's rows.
		if len(e.plainOwners[t.outTopic]) > 0 {
			e.logf("query %s writes %s: its standalone owners stop", qi.ID, t.outTopic)
			e.closePlainOwnersNow(t.outTopic)
		}
		e.owners.add(t)
	}
	if qi.task == nil {
		qi.task = t
	} else {
		qi.extra = append(qi.extra, t)
	}
	if !e.cfg.Deterministic {
		tctx, cancel := context.WithCancel(e.ctx)
		t.cancel = cancel
		t.done = make(chan struct{})
		go t.run(tctx)
	}
}

func (e *Engine) offsetReset(p *queryPlan) string {
	if v, ok := p.cfg["auto.offset.reset"]; ok {
		return strings.ToLower(v)
	}
	if v, ok := p.cfg["ksql.streams.auto.offset.reset"]; ok {
		return strings.ToLower(v)
	}
	return "earliest"
}

// emit encodes one result and queues it for the sink.
func (t *task) emit(o *outRec) error {
	rec, err := encodeOutTo(&t.outArena, o, t.sink, t.keyCodec, t.valCodec, t.tsCol)
	if err != nil {
		t.recordError(err, nil)
		return nil
	}
	if t.only >= 0 {
		rec.Partition = t.only
	}
	if rec.Timestamp < 0 {
		// A record stamped before the epoch (e.g. from the sink's TIMESTAMP column) is invalid
		// in Kafka; ksqlDB skips it and logs it.
		t.recordError(fmt.Errorf("output record with invalid timestamp %d skipped", rec.Timestamp), nil)
		return nil
	}
	t.out = append(t.out, rec)
	return nil
}

// encodeOut serializes a result row for sink s.
func encodeOut(o *outRec, s *source, kc, vc serde.Codec, tsCol int) (storage.Record, error) {
	return encodeOutTo(nil, o, s, kc, vc, tsCol)
}

// encodeOutTo is encodeOut with the key and value appended to *arena when it is not nil and
// the codecs can append: a task's output batch then shares one buffer, reused once the batch
// is written.
func encodeOutTo(arena *[]byte, o *outRec, s *source, kc, vc serde.Codec, tsCol int) (storage.Record, error) {
	var key []byte
	var err error
	keyInArena := false
	if len(o.key) > 0 {
		// A single NULL key is a null record key; several key columns always form an object.
		if !allNil(o.key) || (len(o.key) > 1 && o.nullKeyObject) {
			if key, keyInArena, err = encodeInto(arena, kc, o.key); err != nil {
				return storage.Record{}, err
			}
		}
	}
	partKey := key
	if o.windowed && key != nil {
		if keyInArena {
			// The key is the arena's tail: the window extends it in place.
			start := len(*arena) - len(key)
			*arena = serde.AppendWindow(*arena, o.session, o.winStart, o.winEnd)
			key = (*arena)[start:len(*arena):len(*arena)]
			partKey = key[:len(partKey):len(partKey)]
		} else {
			key = serde.WindowedKey(key, o.session, o.winStart, o.winEnd)
		}
	}
	rec := storage.Record{Key: key, Timestamp: o.ts, Partition: -1, Headers: o.headers}
	if !o.tombstone {
		if rec.Value, _, err = encodeInto(arena, vc, o.vals); err != nil {
			return storage.Record{}, err
		}
		if rec.Value == nil {
			rec.Value = []byte{}
		}
		if tsCol >= 0 {
			nk := len(s.keyCols())
			var v any
			if tsCol < nk {
				v = o.key[tsCol]
			} else {
				v = o.vals[tsCol-nk]
			}
			if ts, ok := asMillis(v); ok {
				rec.Timestamp = ts
			}
		}
	}
	n := s.Partitions
	if n <= 0 {
		n = 1
	}
	if partKey != nil {
		rec.Partition = storage.PartitionFor(partKey, n)
	} else {
		rec.Partition = o.partition % int32(n)
	}
	return rec, nil
}

// encodeInto encodes vals with c, appending to *arena when it can (inArena: the result is
// the arena's tail).
func encodeInto(arena *[]byte, c serde.Codec, vals []any) (b []byte, inArena bool, err error) {
	ap, ok := c.(serde.Appender)
	if arena == nil || !ok {
		b, err = c.Encode(vals)
		return b, false, err
	}
	start := len(*arena)
	out, null, err := ap.AppendEncode(*arena, vals)
	if err != nil || null {
		return nil, false, err
	}
	*arena = out
	return out[start:len(out):len(out)], true, nil
}

func allNil(vs []any) bool {
	for _, v := range vs {
		if v != nil {
			return false
		}
	}
	return true
}

func (t *task) recordError(err error, rec *storage.Record) {
	t.errors.Add(1)
	t.e.processingLog(t.id, err, rec)
}

// process feeds a batch of one input through the pipeline.
func (t *task) process(in *taskInput, recs []storage.Record) (err error) {
	// A panic is a bug behind this query (an operator or function on input it did not
	// expect): the query fails, as ksqlDB's would enter ERROR, and the server keeps running.
	defer func() {
		if r := recover(); r != nil {
			err = &fatalError{fmt.Errorf("internal error: %v\n%s", r, debug.Stack())}
		}
	}()
	for i := range recs {
		if err := in.entry(&recs[i]); err != nil {
			var fatal *fatalError
			if errors.As(err, &fatal) {
				return err
			}
			t.recordError(err, &recs[i])
		}
		in.offset = recs[i].Offset + 1
	}
	if in.limit == nil {
		// A source's records, not a repartition topic's (those were counted where a writer
		// read them from the source), so that a query's count is of its input.
		t.processed.Add(int64(len(recs)))
	}
	if t.pl.plan.tableSource || t.pl.plan.join != nil {
		t.pendingWrites += len(recs)
	}
	for _, p := range t.pl.puncts {
		if err := p.tick(t.pl.streamTime); err != nil {
			return err
		}
	}
	t.dirty = true
	return t.flushOutput(context.Background())
}

// fatalError stops a query (as opposed to a bad record, which is logged and skipped).
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }

func (t *task) flushOutput(ctx context.Context) error {
	if len(t.out) == 0 {
		return nil
	}
	var offs []int64
	appended := t.out
	if !t.matOnly {
		var err error
		if t.exclusive {
			if len(t.replay) > 0 {
				appended = t.skipReplayed(t.out)
			}
			if len(appended) > 0 {
				offs, err = t.e.log.Append(ctx, t.outTopic, appended)
			}
		} else {
			// An INSERT INTO query: its rows go through the sink's owner, if it has one.
			var tracked bool
			offs, tracked, err = t.e.appendForeignFrom(ctx, t.outTopic, t.out, t)
			if err == nil && !tracked {
				t.untracked = true
			}
		}
		if err != nil {
			return err
		}
	}
	if t.mat {
		t.pendingWrites += len(t.out)
	}
	for i, r := range appended {
		if offs != nil && offs[i]+1 > t.hwm[r.Partition] {
			t.hwm[r.Partition] = offs[i] + 1
		}
	}
	for _, r := range t.out {
		if t.mat {
			if r.Value == nil {
				t.store.Delete(matTable, r.Key)
			} else {
				// Put copies the value, so the row is built in a reused buffer.
				t.matBuf = appendMatValue(t.matBuf[:0], r.Timestamp, r.Value)
				t.store.Put(matTable, r.Key, t.matBuf)
			}
		}
	}
	t.out = t.out[:0]
	// Append copied the records, so the buffer they were encoded in is free again. One that
	// grew very large for a burst is let go.
	if cap(t.outArena) > 4<<20 {
		t.outArena = nil
	}
	t.outArena = t.outArena[:0]
	return nil
}

// maxReplayCheck bounds the uncommitted output recovery reads back to compare with the replay
// (per partition); a longer tail is left alone, at least once.
const maxReplayCheck = 200_000

// readUncommittedTail reads the records of topic/partition in [from, end): output written
// after the last commit, on a log that cannot cut it.
func readUncommittedTail(ctx context.Context, lg storage.Log, topic string, partition int32, from, end int64) ([]storage.Record, error) {
	if end-from > maxReplayCheck {
		return nil, fmt.Errorf("%d records is more than the %d recovery compares", end-from, maxReplayCheck)
	}
	var tail []storage.Record
	for off := from; off < end; {
		recs, err := lg.Read(ctx, topic, partition, off, int(min(end-off, 10_000)), 0)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("no records at offset %d of %d", off, end)
		}
		for _, r := range recs {
			if r.Offset < end {
				tail = append(tail, r)
			}
		}
		off = recs[len(recs)-1].Offset + 1
	}
	return tail, nil
}

// skipReplayed returns the results of out that are to be written. After a crash on a log that
// cannot cut uncommitted output (Kafka), recovery reads that output back into replay, per
// partition in offset order. The task re-runs from its committed state and offsets, so it
// usually produces the same results in the same order: a result equal to the next record still
// expected in its partition (key, value, timestamp and headers) is already there and is
// skipped, and its offset moves the partition's high-water mark. The first result that
// differs (a processing-time function, inputs interleaved differently) ends the check for its
// partition: the rest of the old tail stays, so that partition is at least once, as before.
// Nothing is skipped that is not already in the log.
func (t *task) skipReplayed(out []storage.Record) []storage.Record {
	keep := t.replayKeep[:0]
	for _, r := range out {
		q := t.replay[r.Partition]
		if len(q) == 0 {
			keep = append(keep, r)
			continue
		}
		if sameOutput(r, q[0]) {
			t.hwm[r.Partition] = max(t.hwm[r.Partition], q[0].Offset+1)
			if len(q) == 1 {
				delete(t.replay, r.Partition)
			} else {
				t.replay[r.Partition] = q[1:]
			}
			continue
		}
		t.e.logf("WARNING query %s: a replayed result differs from the record at %s/%d offset %d; the %d records written there after the last commit stay, and may appear twice", t.id, t.outTopic, r.Partition, q[0].Offset, len(q))
		delete(t.replay, r.Partition)
		keep = append(keep, r)
	}
	clear(keep[len(keep):cap(keep)])
	t.replayKeep = keep
	return keep
}

// sameOutput reports whether a result equals a record read back from the log.
func sameOutput(a, b storage.Record) bool {
	if !bytes.Equal(a.Key, b.Key) || !bytes.Equal(a.Value, b.Value) || (a.Value == nil) != (b.Value == nil) ||
		a.Timestamp != b.Timestamp || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i, h := range a.Headers {
		if h.Key != b.Headers[i].Key || !bytes.Equal(h.Value, b.Headers[i].Value) {
			return false
		}
	}
	return true
}

const matTable = "mat"

// appendMatValue appends matValue(ts, value) to dst.
func appendMatValue(dst []byte, ts int64, value []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	return append(dst, value...)
}

// matValue is a materialized row: the record timestamp (8 bytes, big-endian) then the value.
func matValue(ts int64, value []byte) []byte {
	out := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(out, uint64(ts))
	return append(out, value...)
}

// asyncCommitter is a store that can write a commit while its owner goes on processing.
type asyncCommitter interface {
	CommitWithAsync(map[string]int64, func(func(table string, key, value []byte, deleted bool))) error
	WaitCommit() error
}

// commit makes state, input offsets and output high-water marks durable together, and waits
// until they are.
func (t *task) commit() error { return t.commitMode(false) }

// commitAsync is commit for the run loop: the task goes on with its next batch while the store
// writes this commit, rather than the two taking turns (Badger's write is about a third of a
// windowed aggregation's time). The store's WaitCommit, which every later commit calls first,
// says when it is durable. A task that publishes its commits to readers of a repartition
// topic commits synchronously, as the readers may only see what is durable.
func (t *task) commitAsync() error { return t.commitMode(t.repart == nil) }

func (t *task) commitMode(async bool) (err error) {
	ac, canAsync := t.store.(asyncCommitter)
	if agg := t.pl.agg; agg != nil {
		if async && canAsync && t.dirty && !t.positionsInOwner {
			// Encode the aggregation's writes while the store still writes the commit before
			// (the two use different arenas).
			agg.prepareWrites()
		}
		defer func() {
			if err != nil {
				agg.isPrepared = false // a later commit encodes its writes afresh
			}
		}()
	}
	if canAsync {
		// Also when nothing is dirty: a commit still in flight is finished, and its error
		// reported, before commit returns.
		if err := ac.WaitCommit(); err != nil {
			return err
		}
		t.purgeRepartInputs() // every commit issued so far is durable
	}
	if !t.dirty {
		return nil
	}
	if t.positionsInOwner && !t.untracked && t.e.handPositionsToOwner(t) {
		// Its owner commits its positions (see positionsInOwner), also those that moved
		// past input that gave no rows.
		t.dirty = false
		t.lastCommit = time.Now()
		t.purgeThroughOwner()
		return nil
	}
	// A store that takes writes straight into its commit spares the aggregation's entries a
	// copy into its write buffer.
	committer, direct := t.store.(interface {
		CommitWith(map[string]int64, func(func(table string, key, value []byte, deleted bool))) error
	})
	if t.pl.agg != nil && !direct {
		t.pl.agg.flush()
	}
	offs := make(map[string]int64, len(t.inputs)+len(t.hwm)+1)
	for _, in := range t.inputs {
		offs[in.id()] = in.offset
	}
	for p, h := range t.hwm {
		offs["out:"+strconv.Itoa(int(p))] = h
	}
	offs["streamtime"] = t.pl.streamTime
	for k, v := range t.foreign {
		offs[k] = v
	}
	if t.commitExtra != nil {
		t.commitExtra(offs)
	}
	var writes func(func(table string, key, value []byte, deleted bool))
	if direct && t.pl.agg != nil {
		writes = t.pl.agg.writeDirty
	}
	switch {
	case async && canAsync:
		err = ac.CommitWithAsync(offs, writes)
	case writes != nil:
		err = committer.CommitWith(offs, writes)
	default:
		err = t.store.Commit(offs)
	}
	if err != nil {
		return err
	}
	if writes != nil {
		t.pl.agg.committed()
	}
	if t.repart != nil {
		t.repart.publish(t.hwm)
	}
	t.purgeDue = t.purgeDue[:0]
	for _, in := range t.inputs {
		if in.limit != nil {
			t.purgeDue = append(t.purgeDue, repartPos{topic: in.topic, partition: in.partition, offset: in.offset})
		}
	}
	if !(async && canAsync) {
		t.purgeRepartInputs()
	}
	t.dirty = false
	t.untracked = false
	t.pendingWrites = 0
	t.lastCommit = time.Now()
	return nil
}

// purgeThroughOwner is purgeRepartInputs for a task whose positions its target's owner
// commits (positionsInOwner): what is durable is what the owner's last commit holds.
func (t *task) purgeThroughOwner() {
	if time.Since(t.lastPurge) < repartPurgeInterval() {
		return
	}
	committed := t.e.ownerCommitted(t)
	t.purgeDue = t.purgeDue[:0]
	for _, in := range t.inputs {
		if v, ok := committed[in.id()]; ok && in.limit != nil && v > 0 {
			t.purgeDue = append(t.purgeDue, repartPos{topic: in.topic, partition: in.partition, offset: v})
		}
	}
	t.purgeRepartInputs()
}

// repartPos is a position in a repartition topic's partition.
type repartPos struct {
	topic     string
	partition int32
	offset    int64
}

// repartPurgeEvery spaces out a task's deletions of consumed repartition records, in
// nanoseconds (atomic: tests change it while the tasks of an engine they crashed still run).
var repartPurgeEvery atomic.Int64

func init() { repartPurgeEvery.Store(int64(5 * time.Second)) }

// repartPurgeInterval is repartPurgeEvery as a duration.
func repartPurgeInterval() time.Duration { return time.Duration(repartPurgeEvery.Load()) }

// purgeRepartInputs deletes the repartition records below the positions of the task's last
// durable commit (purgeDue), as Kafka Streams deletes consumed repartition records: each such
// partition has this task as its only reader, which never reads below its committed position
// again, so without this the topics would only grow. The log deletes whole closed segments.
func (t *task) purgeRepartInputs() {
	if len(t.purgeDue) == 0 || time.Since(t.lastPurge) < repartPurgeInterval() {
		return
	}
	del, ok := t.e.log.(interface {
		DeleteBefore(ctx context.Context, topic string, partition int32, offset int64) error
	})
	if !ok {
		return
	}
	t.lastPurge = time.Now()
	for _, p := range t.purgeDue {
		if err := del.DeleteBefore(context.Background(), p.topic, p.partition, p.offset); err != nil {
			t.e.logf("query %s: deleting consumed records of %s/%d: %v", t.id, p.topic, p.partition, err)
		}
	}
	t.purgeDue = t.purgeDue[:0]
}

// maxPendingWrites makes the run loop commit before the commit interval when this many state
// writes are buffered, so that a commit stays one Badger transaction (about 26,000 entries or
// 2.4 MB with the default memtable; larger commits take the slower redo-log path) and the
// write buffer stays small at high throughput.
const maxPendingWrites = 10_000

// commitDue reports whether enough state writes are buffered to commit early.
func (t *task) commitDue() bool {
	n := t.pendingWrites
	if t.pl.agg != nil {
		n += len(t.pl.agg.dirtyList)
	}
	return n >= maxPendingWrites
}

// pump processes everything currently readable without waiting; it reports whether any
// record was processed. Used by Quiesce.
func (t *task) pump(ctx context.Context) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failure() != nil {
		return false, nil
	}
	progress := false
	var m inputMerge
	for {
		// Inputs without a pending batch read their next one; one that reads nothing has
		// nothing more now.
		for _, in := range t.inputs {
			if m.pending(in) {
				continue
			}
			recs, err := t.readNow(ctx, in)
			if err != nil {
				return progress, err
			}
			m.add(in, recs, len(recs) == 0)
		}
		in, recs, ok := m.next(t.inputs)
		if !ok {
			return progress, t.commit()
		}
		progress = true
		if err := t.process(in, recs); err != nil {
			t.fail(err)
			return progress, &Error{Code: 50000, SQLState: "XX000", Kind: RuntimeError, Msg: err.Error()}
		}
	}
}

// readNow reads what an input holds now (up to a batch), honouring a read-committed limit.
func (t *task) readNow(ctx context.Context, in *taskInput) ([]storage.Record, error) {
	for {
		max := 1000
		if in.limit != nil {
			avail := in.limit() - in.offset
			if avail <= 0 {
				return nil, nil
			}
			max = int(min(avail, int64(max)))
		}
		recs, err := readLog(ctx, t.e.log, in, in.offset, max, 0, in.pumped)
		if len(recs) > 0 {
			in.pumped = recs
		}
		if errors.Is(err, storage.ErrOffsetOutRange) {
			info, derr := t.e.log.DescribeTopic(ctx, in.topic)
			if derr == nil && int(in.partition) < len(info.Partitions) {
				in.offset = info.Partitions[in.partition].StartOffset
				continue
			}
		}
		return recs, err
	}
}

// inputMerge orders a task's records across its inputs by timestamp, as Kafka Streams picks
// the partition with the oldest head record: a join catching up on a backlog then sees the
// table rows that precede a stream row before that row, not after. It holds at most one batch
// per input. An input with no batch must be known to have nothing more (idle) before records
// of the others go ahead of it; one input alone is never held back.
type inputMerge struct {
	batches map[*taskInput]*mergeBatch
	idle    map[*taskInput]bool
}

type mergeBatch struct {
	recs []storage.Record
	i    int  // next record
	end  bool // the batch reached the end of the input when it was read
	ack  chan struct{}
}

func (m *inputMerge) pending(in *taskInput) bool { return m.batches[in] != nil }

// add takes an input's batch; empty means the input has nothing more for now.
func (m *inputMerge) add(in *taskInput, recs []storage.Record, end bool) {
	m.addAck(in, recs, end, nil)
}

func (m *inputMerge) addAck(in *taskInput, recs []storage.Record, end bool, ack chan struct{}) {
	if m.batches == nil {
		m.batches, m.idle = map[*taskInput]*mergeBatch{}, map[*taskInput]bool{}
	}
	if len(recs) == 0 {
		m.idle[in] = true
		if ack != nil {
			close(ack)
		}
		return
	}
	m.idle[in] = false
	m.batches[in] = &mergeBatch{recs: recs, end: end, ack: ack}
}

// next returns the records to process now: a run of the input with the oldest head record,
// up to the next-oldest head of the others; ok is false when it must wait for an input (or
// nothing is pending). A batch used up is released (its ack closed).
func (m *inputMerge) next(inputs []*taskInput) (*taskInput, []storage.Record, bool) {
	var best *taskInput
	var bestTs, second int64 = 0, 1<<63 - 1
	for _, in := range inputs {
		b := m.batches[in]
		if b == nil {
			if len(inputs) > 1 && !m.idle[in] {
				return nil, nil, false // it may hold older records: wait for it
			}
			continue
		}
		ts := b.recs[b.i].Timestamp
		switch {
		case best == nil:
			best, bestTs = in, ts
		case ts < bestTs:
			best, bestTs, second = in, ts, bestTs
		case ts < second:
			second = ts
		}
	}
	if best == nil {
		return nil, nil, false
	}
	b := m.batches[best]
	j := b.i + 1
	for j < len(b.recs) && b.recs[j].Timestamp <= second {
		j++
	}
	run := b.recs[b.i:j]
	b.i = j
	if b.i == len(b.recs) {
		delete(m.batches, best)
		// A batch that reached the input's end leaves it idle; otherwise its next batch is
		// on its way and may hold older records than the other inputs' heads.
		m.idle[best] = b.end
		if b.ack != nil {
			close(b.ack)
		}
	}
	return best, run, true
}

// release lets go of every held batch (the run loop is ending).
func (m *inputMerge) release() {
	for in, b := range m.batches {
		if b.ack != nil {
			close(b.ack)
		}
		delete(m.batches, in)
	}
}

// run is the server-mode loop: one reader goroutine per input partition long-polls the log and
// hands batches to this goroutine, which processes them in timestamp order across inputs
// (inputMerge) and commits every commit interval.
func (t *task) run(ctx context.Context) {
	defer close(t.done)
	type batch struct {
		in   *taskInput
		recs []storage.Record
		end  bool
		ack  chan struct{}
	}
	ch := make(chan batch)
	multi := len(t.inputs) > 1
	var wg sync.WaitGroup
	for _, in := range t.inputs {
		wg.Add(1)
		go func(in *taskInput) {
			defer wg.Done()
			off := in.offset
			var spare [2][]storage.Record
			which := 0
			// send hands a batch over and waits until the run loop has taken it (it may still be
			// processing it).
			send := func(recs []storage.Record, end bool) bool {
				ack := make(chan struct{})
				select {
				case ch <- batch{in: in, recs: recs, end: end, ack: ack}:
				case <-ctx.Done():
					return false
				}
				select {
				case <-ack:
				case <-ctx.Done():
					return false
				}
				return true
			}
			for ctx.Err() == nil {
				max, wait := 2000, 500*time.Millisecond
				if in.limit != nil {
					// Read only what the writer has committed; wait for its next commit.
					woken := in.wake()
					avail := in.limit() - off
					if avail <= 0 {
						if multi && !send(nil, true) {
							return
						}
						select {
						case <-woken:
						case <-ctx.Done():
						case <-time.After(wait):
						}
						continue
					}
					max, wait = int(min(avail, int64(max))), 0
				}
				// send returns once the run loop has taken the batch, not processed it: the
				// slice of the batch before it is the free one (the loop takes a batch only
				// after processing what it took before).
				recs, err := readLog(ctx, t.e.log, in, off, max, wait, spare[which])
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					if errors.Is(err, storage.ErrOffsetOutRange) {
						if info, derr := t.e.log.DescribeTopic(ctx, in.topic); derr == nil && int(in.partition) < len(info.Partitions) {
							off = info.Partitions[in.partition].StartOffset
							continue
						}
					}
					if errors.Is(err, storage.ErrUnknownTopic) || errors.Is(err, storage.ErrClosed) {
						return
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if len(recs) == 0 {
					// Nothing more now: with several inputs, say so, so that the others
					// need not wait for this one.
					if multi && !send(nil, true) {
						return
					}
					continue
				}
				if !send(recs, len(recs) < max) {
					return
				}
				off = recs[len(recs)-1].Offset + 1
				spare[which] = recs
				which ^= 1
			}
		}(in)
	}
	interval := t.e.commitInterval()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var merge inputMerge
	defer func() {
		t.mu.Lock()
		_ = t.commit()
		t.mu.Unlock()
		merge.release()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-ch:
			merge.addAck(b.in, b.recs, b.end, b.ack)
			t.mu.Lock()
			var err error
			for err == nil {
				in, recs, ok := merge.next(t.inputs)
				if !ok {
					break
				}
				err = t.process(in, recs)
			}
			if err == nil && (time.Since(t.lastCommit) >= interval || t.commitDue()) {
				err = t.commitAsync()
			}
			t.mu.Unlock()
			if err != nil {
				t.fail(err)
				t.e.logf("query %s failed: %v", t.id, err)
				return
			}
		case <-tick.C:
			t.mu.Lock()
			err := t.commitAsync()
			t.mu.Unlock()
			if err != nil && !errors.Is(err, state.ErrClosed) {
				// As after a batch: a commit that failed (in flight, too) leaves state that
				// was never made durable, so the task stops rather than go on from it.
				t.fail(err)
				t.e.logf("query %s failed: %v", t.id, err)
				return
			}
		}
	}
}

// stop ends the run loop (server mode) and commits.
func (t *task) stop() {
	t.e.owners.remove(t)
	if t.cancel != nil {
		t.cancel()
		<-t.done
	} else {
		t.mu.Lock()
		_ = t.commit()
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// lagged reports whether any input has unread records (server-mode Quiesce).
func (t *task) lagged(ctx context.Context) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, in := range t.inputs {
		info, err := t.e.log.DescribeTopic(ctx, in.topic)
		if err != nil || int(in.partition) >= len(info.Partitions) {
			continue
		}
		end := info.Partitions[in.partition].EndOffset
		if in.limit != nil {
			end = in.limit()
		}
		if end > in.offset {
			return true
		}
	}
	if t.dirty && t.failure() == nil {
		// Caught up: commit now rather than leave Quiesce waiting for the run loop's next
		// commit tick, up to a commit interval after the work is done. An error is the
		// task's to report, at its next commit.
		_ = t.commitAsync()
	}
	if ac, ok := t.store.(asyncCommitter); ok {
		// Quiesced means committed: a commit in flight is waited for.
		_ = ac.WaitCommit()
	}
	return t.dirty
}
