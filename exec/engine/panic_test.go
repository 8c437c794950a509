package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/sql/functions"
	"github.com/sluicedb/sluice/sql/types"
)

var registerPanicFn sync.Once

// testPanicFunction registers TEST_PANIC_ON(s): it panics when s is 'boom', standing in for a
// bug in an operator or function.
func testPanicFunction() {
	registerPanicFn.Do(func() {
		functions.Register(&functions.Function{Name: "TEST_PANIC_ON", Kind: functions.Scalar, Category: "TEST",
			ResolveScalar: func([]*types.Type) (*functions.ScalarImpl, error) {
				return &functions.ScalarImpl{ArgTypes: []*types.Type{types.StringType}, Return: types.StringType,
					Eval: func(args []any) (any, error) {
						if args[0] == "boom" {
							panic("a bug in a function")
						}
						return args[0], nil
					}}, nil
			}})
	})
}

// TestQueryPanicFailsOnlyThatQuery: a panic while a persistent query processes a record
// fails that query (SHOW QUERIES says ERROR); the server, its other queries and push queries
// keep running.
func TestQueryPanicFailsOnlyThatQuery(t *testing.T) {
	testPanicFunction()
	ctx := context.Background()
	e, _ := openServerEngine(t)
	s := NewSession()
	if _, err := e.Execute(ctx, s, `CREATE STREAM s (id STRING KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
		CREATE STREAM bad AS SELECT id, TEST_PANIC_ON(v) AS v FROM s;
		CREATE STREAM good AS SELECT id, v FROM s;`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(ctx, s, `INSERT INTO s (id, v) VALUES ('a', 'fine'); INSERT INTO s (id, v) VALUES ('b', 'boom'); INSERT INTO s (id, v) VALUES ('c', 'fine');`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := e.ReadLogical(ctx, "GOOD")
		if err == nil && len(recs) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOOD has %d records, want 3 (err %v)", len(recs), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		res, err := e.Execute(ctx, s, "SHOW QUERIES;")
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, row := range res[0].Rows {
			states[fmt.Sprint(row[0])] = fmt.Sprint(row[2]) // ID, type, state, ...
		}
		if strings.Contains(states["CSAS_BAD_0"], "ERROR") {
			if strings.Contains(states["CSAS_GOOD_1"], "ERROR") {
				t.Fatalf("the good query failed too: %v", states)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SHOW QUERIES = %v, want CSAS_BAD_0 in ERROR", res[0].Rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Push queries hitting the bug end with an error; the engine keeps serving.
	cur, err := e.Query(ctx, s, `SELECT id, TEST_PANIC_ON(v) AS v FROM s EMIT CHANGES;`)
	if err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.Execute(ctx, s, `INSERT INTO s (id, v) VALUES ('d', 'boom');`); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = cur.Next(qctx); err != nil {
			break
		}
	}
	cur.Close()
	if !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("push query ended with %v, want an internal error", err)
	}
	if _, err := e.Execute(ctx, s, "SHOW STREAMS;"); err != nil {
		t.Fatalf("the engine stopped serving: %v", err)
	}
}
