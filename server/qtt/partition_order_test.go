package qtt

import (
	"fmt"
	"testing"

	"github.com/sluicedb/sluice/exec/engine"
)

// TestCompareTopicPartitionOrder: records of several partitions match expectations that
// interleave them, as long as each partition keeps its own order.
func TestCompareTopicPartitionOrder(t *testing.T) {
	rec := func(k string, v int64) Record { return Record{Topic: "T", Key: k, Value: fmt.Sprint(v)} }
	act := func(p int32, k string, v int64) engine.LogicalRecord {
		return engine.LogicalRecord{Topic: "T", Key: k, Value: fmt.Sprint(v), Partition: p}
	}
	exp := []Record{rec("a", 1), rec("b", 1), rec("a", 2), rec("b", 2)}
	cases := []struct {
		name string
		act  []engine.LogicalRecord
		ok   bool
	}{
		{"partition by partition", []engine.LogicalRecord{act(0, "b", 1), act(0, "b", 2), act(1, "a", 1), act(1, "a", 2)}, true},
		{"a partition out of order", []engine.LogicalRecord{act(0, "b", 2), act(0, "b", 1), act(1, "a", 1), act(1, "a", 2)}, false},
		{"one partition, interleaved order required", []engine.LogicalRecord{act(0, "b", 1), act(0, "b", 2), act(0, "a", 1), act(0, "a", 2)}, false},
		{"one partition in order", []engine.LogicalRecord{act(0, "a", 1), act(0, "b", 1), act(0, "a", 2), act(0, "b", 2)}, true},
		{"a record missing", []engine.LogicalRecord{act(0, "b", 1), act(1, "a", 1), act(1, "a", 2)}, false},
	}
	for _, c := range cases {
		msg := compareTopic("T", exp, c.act, false)
		if (msg == "") != c.ok {
			t.Errorf("%s: compareTopic = %q, want match %v", c.name, msg, c.ok)
		}
	}
}
