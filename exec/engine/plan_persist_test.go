package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/sluicedb/sluice/sql/plan"
	"github.com/sluicedb/sluice/state/badger"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/embedded"
)

// TestFrozenPlans replays the command logs frozen under testdata/plans/*.test. Each file
// holds commands written by an earlier build (`replay`: one JSON command after another, never
// regenerated), then statements and the records the replayed queries must produce. A
// change that makes an old plan fail to build, or build with another meaning, fails here;
// such a change needs a new step version, not an edit of the frozen input. Only the outputs
// below `----` are rewritten by -rewrite.
func TestFrozenPlans(t *testing.T) {
	datadriven.Walk(t, filepath.Join("..", "..", "testdata", "plans"), func(t *testing.T, path string) {
		lg, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close()
		var e *Engine
		defer func() {
			if e != nil {
				e.Close()
			}
		}()
		s := NewSession()
		ctx := context.Background()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "replay":
				if e != nil {
					t.Fatal("replay must come first")
				}
				n, err := writeCommands(ctx, lg, d.Input)
				if err != nil {
					t.Fatal(err)
				}
				var logged []string
				var mu sync.Mutex
				e, err = Open(ctx, Config{Log: lg, Deterministic: true, Logf: func(f string, a ...any) {
					mu.Lock()
					logged = append(logged, fmt.Sprintf(f, a...))
					mu.Unlock()
				}})
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				out := fmt.Sprintf("replayed %d commands\n", n)
				for _, l := range logged {
					out += l + "\n"
				}
				return out
			case "statement":
				if _, err := e.Execute(ctx, s, d.Input); err != nil {
					return "error: " + errText(err) + "\n"
				}
				return "ok\n"
			case "produce":
				var topic, key string
				var ts int64
				d.ScanArgs(t, "topic", &topic)
				d.ScanArgs(t, "key", &key)
				d.MaybeScanArgs(t, "ts", &ts)
				rec := storage.Record{Key: []byte(key), Value: []byte(strings.TrimSpace(d.Input)), Timestamp: ts}
				if _, err := lg.Append(ctx, topic, []storage.Record{rec}); err != nil {
					return "error: " + err.Error() + "\n"
				}
				return "ok\n"
			case "read":
				var topic string
				d.ScanArgs(t, "topic", &topic)
				if err := e.Quiesce(ctx); err != nil {
					t.Fatal(err)
				}
				recs, err := e.ReadLogical(ctx, topic)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var sb strings.Builder
				for _, r := range recs {
					fmt.Fprintf(&sb, "%s => %s", jsonText(r.Key), jsonText(r.Value))
					if r.ValueNull {
						sb.WriteString(" (tombstone)")
					}
					if r.Window != nil {
						fmt.Fprintf(&sb, " window=[%d,%d)", r.Window.Start, r.Window.End)
					}
					sb.WriteString("\n")
				}
				return sb.String()
			case "pull":
				cur, err := e.Query(ctx, s, d.Input)
				if err != nil {
					return "error: " + errText(err) + "\n"
				}
				defer cur.Close()
				var lines []string
				for {
					r, err := cur.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					lines = append(lines, jsonText(r.Values))
				}
				sort.Strings(lines)
				return strings.Join(lines, "\n") + "\n"
			case "describe":
				var name string
				d.ScanArgs(t, "name", &name)
				src, ok := e.Source(name)
				if !ok {
					return "no such source\n"
				}
				return fmt.Sprintf("%s %s [%s]\n", src.Kind, src.Name, src.Schema)
			}
			t.Fatalf("unknown directive %s", d.Cmd)
			return ""
		})
	})
}

// writeCommands appends the JSON commands in text (one object after another) to the
// command topic, as an earlier build would have, and creates the topics those commands
// created then: a log keeps its topics with its command topic.
func writeCommands(ctx context.Context, lg storage.Log, text string) (int, error) {
	if err := lg.CreateTopic(ctx, CommandTopic, storage.TopicConfig{Partitions: 1}); err != nil {
		return 0, err
	}
	var topics []*plan.Source
	dec := json.NewDecoder(strings.NewReader(text))
	n := 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return n, err
		}
		if _, err := lg.Append(ctx, CommandTopic, []storage.Record{{Value: compact.Bytes(), Timestamp: time.Now().UnixMilli()}}); err != nil {
			return n, err
		}
		n++
		var c command
		if json.Unmarshal(raw, &c) == nil {
			if c.Source != nil {
				topics = append(topics, c.Source)
			}
			if c.Query != nil && c.Query.Sink != nil {
				topics = append(topics, c.Query.Sink)
			}
		}
		for _, src := range topics {
			if _, err := lg.DescribeTopic(ctx, src.Topic); err == nil {
				continue
			}
			if err := lg.CreateTopic(ctx, src.Topic, storage.TopicConfig{Partitions: src.Partitions, Compact: src.Kind == "TABLE"}); err != nil {
				return n, err
			}
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// commandLog runs statements on a fresh deterministic engine and returns the command log
// it wrote, one JSON command per entry.
func commandLog(t *testing.T, statements string) []string {
	t.Helper()
	ctx := context.Background()
	lg, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	e, err := Open(ctx, Config{Log: lg, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Execute(ctx, NewSession(), statements); err != nil {
		t.Fatal(err)
	}
	recs, err := lg.Read(ctx, CommandTopic, 0, 0, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, r := range recs {
		cmds = append(cmds, string(r.Value))
	}
	return cmds
}

// replayLog opens a deterministic engine on a fresh log holding cmds and returns it with
// what it logged while replaying them.
func replayLog(t *testing.T, cmds []string) (*Engine, []string) {
	t.Helper()
	ctx := context.Background()
	lg, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	if _, err := writeCommands(ctx, lg, strings.Join(cmds, "\n")); err != nil {
		t.Fatal(err)
	}
	var logged []string
	e, err := Open(ctx, Config{Log: lg, Deterministic: true, Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, logged
}

// runningQueries lists the ids SHOW QUERIES reports.
func runningQueries(t *testing.T, e *Engine) string {
	t.Helper()
	res, err := e.Execute(context.Background(), NewSession(), "SHOW QUERIES;")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, row := range res[0].Rows {
		ids = append(ids, fmt.Sprint(row[0]))
	}
	return strings.Join(ids, ",")
}

// TestReplayBuildsFromPlanNotText: the statement text of a persisted query is for display
// only. Replaying a log whose CSAS text no longer even parses still runs the query.
func TestReplayBuildsFromPlanNotText(t *testing.T) {
	ctx := context.Background()
	cmds := commandLog(t, `CREATE STREAM s (id STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
		CREATE STREAM big AS SELECT id, v * 10 AS v10 FROM s WHERE v > 1;`)
	for i, text := range cmds {
		var c map[string]any
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			t.Fatal(err)
		}
		if c["query"] != nil {
			c["sql"] = "this text is not SQL"
		}
		b, _ := json.Marshal(c)
		cmds[i] = string(b)
	}
	e, logged := replayLog(t, cmds)
	if len(logged) > 0 {
		t.Fatalf("replay logged %q", logged)
	}
	if _, err := e.Execute(ctx, NewSession(), `INSERT INTO s (id, v) VALUES ('a', 1); INSERT INTO s (id, v) VALUES ('b', 2);`); err != nil {
		t.Fatal(err)
	}
	if err := e.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := e.ReadLogical(ctx, "BIG")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || jsonText(out[0].Key) != `"b"` || jsonText(out[0].Value) != `{"V10":20}` {
		t.Fatalf("BIG after replay = %+v", out)
	}
}

// TestReplayRejectsUnknownStep: a plan step this build does not know (written by a newer
// release) is reported and its query is not started, rather than run with another meaning;
// the rest of the catalog still loads.
func TestReplayRejectsUnknownStep(t *testing.T) {
	cmds := commandLog(t, `CREATE STREAM s (id STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
		CREATE STREAM big AS SELECT id, v FROM s WHERE v > 1;
		CREATE STREAM copy AS SELECT id, v FROM s;`)
	for i := range cmds {
		cmds[i] = strings.Replace(cmds[i], `"@type":"filterV1"`, `"@type":"filterV9"`, 1)
	}
	e, logged := replayLog(t, cmds)
	if len(logged) != 1 || !strings.Contains(logged[0], `unknown plan step "filterV9"`) {
		t.Fatalf("logged %q, want one unknown-step message", logged)
	}
	if ids := runningQueries(t, e); ids != "CSAS_COPY_1" {
		t.Fatalf("running queries = %v, want only CSAS_COPY_1", ids)
	}
}

// TestPlanRecordsTaskLayout: how a query runs (one task, one per partition, a repartition
// stage) is decided once and persisted with its plan; a replayed plan whose layout its inputs
// cannot honour is reported and not started rather than run another way.
func TestPlanRecordsTaskLayout(t *testing.T) {
	cmds := commandLog(t, `CREATE STREAM s (k STRING KEY, g STRING, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);
		CREATE STREAM one (k STRING KEY, v INT) WITH (kafka_topic='one', value_format='JSON', partitions=1);
		CREATE TABLE by_key AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;
		CREATE TABLE by_g AS SELECT g, COUNT(*) AS n FROM s GROUP BY g;
		CREATE TABLE single AS SELECT k, COUNT(*) AS n FROM one GROUP BY k;`)
	layouts := map[string]string{}
	for i, text := range cmds {
		var c command
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			t.Fatal(err)
		}
		if c.Query != nil {
			layouts[c.Query.ID] = c.Query.Tasks
			if c.Query.ID == "CTAS_BY_KEY_0" {
				cmds[i] = strings.Replace(text, `"tasks":"perPartition"`, `"tasks":"repartition"`, 1)
			}
		}
	}
	want := map[string]string{"CTAS_BY_KEY_0": plan.TasksPerPartition, "CTAS_BY_G_1": plan.TasksRepartition, "CTAS_SINGLE_2": plan.TasksSingle}
	for id, l := range want {
		if layouts[id] != l {
			t.Errorf("%s recorded layout %q, want %q", id, layouts[id], l)
		}
	}
	e, logged := replayLog(t, cmds)
	if len(logged) != 1 || !strings.Contains(logged[0], "CTAS_BY_KEY_0") || !strings.Contains(logged[0], "repartition stage") {
		t.Fatalf("logged %q, want one message refusing CTAS_BY_KEY_0's layout", logged)
	}
	if ids := runningQueries(t, e); ids != "CTAS_BY_G_1,CTAS_SINGLE_2" {
		t.Fatalf("running queries = %v", ids)
	}
}

// TestTextCommandKeepsOneTaskLayout: a CTAS persisted as statement text by an older release,
// which ran it as one task, keeps running as one task on its existing store rather than
// restarting per partition with empty stores.
func TestTextCommandKeepsOneTaskLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mgr, err := badger.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := mgr.Open("CTAS_BY_KEY_0")
	if err != nil {
		t.Fatal(err)
	}
	st.Put("agg", []byte("k"), []byte("v"))
	if err := st.Commit(map[string]int64{"in:s/0": 1, "in:s/1": 0}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	lg, err := embedded.Open(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if _, err := writeCommands(ctx, lg, `{"v":1,"sql":"CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);"}
		{"v":1,"sql":"CREATE TABLE by_key AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;"}`); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"s", "BY_KEY"} {
		if err := lg.CreateTopic(ctx, topic, storage.TopicConfig{Partitions: 2}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := Open(ctx, Config{Log: lg, State: mgr, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close() }()
	q := e.cat.queries["CTAS_BY_KEY_0"]
	if q == nil {
		t.Fatal("CTAS_BY_KEY_0 is not running")
	}
	if n := len(q.allTasks()); n != 1 {
		t.Fatalf("the query runs as %d tasks, want the one task it ran as", n)
	}
	if q.task.only != -1 {
		t.Fatalf("the task owns partition %d, want all", q.task.only)
	}
}
