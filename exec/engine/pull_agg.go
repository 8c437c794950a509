package engine

import (
	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/state"
)

// pullFromAggregate answers a pull query on an aggregation's table from the aggregate state
// itself: each committed entry becomes the aggregated row, HAVING decides whether the table
// holds it, and the projection gives the key and value columns. This saves writing every
// result row a second time just for pull queries.
//
// visit receives rows in the pull-query layout: key columns, window bounds (windowed
// tables), value columns, plus the row's timestamp; it returns false to stop.
func pullFromAggregate(t *task, src *source, where ast.Expr, r state.Reader, visit func(row []any, ts, ws, we int64) bool) error {
	an := t.pl.agg
	a := an.a
	proj := &projectNode{p: t.plan, table: true, having: a.having}
	var out *outRec
	proj.emit = func(o *outRec) error {
		out = o
		return nil
	}
	emitRow := func(k, v []byte) bool {
		e, err := an.decodeEntry(k, v)
		if err != nil {
			return true
		}
		// Not an.rec: that reuses the task goroutine's buffer, and this runs concurrently.
		rec := an.recInto(new(eval.Rec), e)
		out = nil
		// A HAVING that does not match means the table does not hold the row.
		if proj.push(&change{new: rec}) != nil || out == nil || out.tombstone {
			return true
		}
		row := make([]any, 0, len(out.key)+2+len(out.vals))
		row = append(row, out.key...)
		if src.windowed() {
			row = append(row, rec.WinStart, rec.WinEnd)
		}
		row = append(row, out.vals...)
		return visit(row, rec.Ts, rec.WinStart, rec.WinEnd)
	}
	if vals, ok := pullKeyValues(where, src); ok && len(a.groups) == 1 {
		kc, _, kerr := src.codecs()
		all := r
		for _, v := range vals {
			gk := encodeGroupKey([]any{v}, a.keyTypes)
			if kerr == nil {
				if kb, err := kc.Encode([]any{v}); err == nil {
					r = forKey(all, kb)
				}
			}
			if a.window != nil {
				from, to := windowedKeyRange(gk, true)
				if err := r.Scan(aggTable, from, to, func(k, val []byte) bool {
					if len(k) != len(gk)+16 {
						return true
					}
					return emitRow(k, val)
				}); err != nil {
					return err
				}
				continue
			}
			val, found, err := r.Get(aggTable, gk)
			if err != nil {
				return err
			}
			if found && !emitRow(gk, val) {
				return nil
			}
		}
		return nil
	}
	return r.Scan(aggTable, nil, nil, emitRow)
}
