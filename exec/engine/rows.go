package engine

import (
	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/storage"
)

// change is one message between operators: a stream row (old nil), or a table update from old
// to new (new nil is a delete). Rows carry the layout of the stage that produced them.
type change struct {
	new *eval.Rec
	old *eval.Rec
	// tomb marks a stream record with a NULL value that PARTITION BY forwards as a tombstone
	// under its new key (new holds the key columns, values NULL).
	tomb bool
}

// outRec is a result row ready for a sink: key and value columns in sink order. Tombstone
// marks a table delete (vals nil). Windowed results carry their window.
type outRec struct {
	key       []any
	vals      []any
	ts        int64
	tombstone bool
	windowed  bool
	session   bool
	winStart  int64
	winEnd    int64
	partition int32
	headers   []storage.Header
	// nullKeyObject: a multi-column key whose columns are all NULL is still written as an
	// object (PARTITION BY results) rather than as a null record key (passed-through keys).
	nullKeyObject bool
}

// node is one operator. push handles a change and forwards results downstream.
type node interface {
	push(c *change) error
}

// nodeFunc adapts a function to node.
type nodeFunc func(c *change) error

func (f nodeFunc) push(c *change) error { return f(c) }

// punctuator is implemented by operators that act on stream time (EMIT FINAL, stream-stream
// outer joins with grace): tick is called after each input batch with the task's stream time.
type punctuator interface {
	tick(streamTime int64) error
}

func cloneRec(r *eval.Rec) *eval.Rec {
	if r == nil {
		return nil
	}
	c := *r
	c.Vals = append([]any(nil), r.Vals...)
	c.Env = nil
	return &c
}
