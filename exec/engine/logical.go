package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/exec/serde"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
	"github.com/sluicedb/sluice/storage"
)

// formatSource picks the source whose formats describe a topic: the writer of a CSAS/CTAS
// first, then any source declared on it.
func (e *Engine) formatSource(topic string) *source {
	e.mu.Lock()
	defer e.mu.Unlock()
	srcs := e.cat.sourcesOnTopic(topic)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].OwnerQuery != "" && srcs[j].OwnerQuery == "" })
	if len(srcs) == 0 {
		return nil
	}
	return srcs[0]
}

// ProduceLogical encodes rec with the formats of the source(s) declared on its topic and appends it.
func (e *Engine) ProduceLogical(ctx context.Context, rec LogicalRecord) error {
	if err := e.ensureTopic(ctx, rec.Topic, e.cfg.DefaultPartitions); err != nil {
		return err
	}
	src := e.formatSource(rec.Topic)
	out := storage.Record{Timestamp: rec.Timestamp, Headers: rec.Headers, Partition: -1}
	var err error
	if src == nil {
		out.Key, err = rawLogical(rec.Key)
		if err != nil {
			return err
		}
		if !rec.ValueNull {
			out.Value, err = rawLogical(rec.Value)
			if err != nil {
				return err
			}
		}
	} else {
		out.Key, err = encodeLogical(rec.Key, src.KeyFormat, src.keyCols(), true)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		if rec.Window != nil && out.Key != nil {
			end := rec.Window.End
			out.Key = serde.WindowedKey(out.Key, rec.Window.Type == "session", rec.Window.Start, end)
		}
		if !rec.ValueNull {
			out.Value, err = encodeLogical(rec.Value, src.ValueFormat, src.valueCols(), false)
			if err != nil {
				return fmt.Errorf("value: %w", err)
			}
			if out.Value == nil {
				out.Value = []byte{}
			}
		}
	}
	info, err := e.log.DescribeTopic(ctx, rec.Topic)
	if err == nil && rec.Partition > 0 && int(rec.Partition) < len(info.Partitions) {
		out.Partition = rec.Partition
	}
	_, err = e.appendForeign(ctx, rec.Topic, []storage.Record{out})
	return err
}

// rawLogical writes a logical value as bytes with no schema: strings as UTF-8, anything else as JSON.
func rawLogical(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	}
	return json.Marshal(v)
}

// encodeLogical serializes a logical QTT value for columns cols in format f. JSON keeps the
// test's own text, so that case-insensitive field matching and coercions are exercised by
// the real decoder.
func encodeLogical(v any, f serde.Format, cols []types.Column, isKey bool) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	switch strings.ToUpper(f.Name) {
	case "NONE":
		return nil, nil
	case "JSON":
		return json.Marshal(v)
	case "DELIMITED":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		return []byte(fmt.Sprint(v)), nil
	case "KAFKA":
		if len(cols) != 1 {
			return rawLogical(v)
		}
		t := cols[0].Type
		val, err := serde.FromJSON(v, t)
		if err != nil {
			if s, ok := v.(string); ok && t.Kind != types.KindString {
				return []byte(s), nil
			}
			return nil, err
		}
		codec, err := serde.NewCodec(f, cols, isKey)
		if err != nil {
			return nil, err
		}
		return codec.Encode([]any{val})
	case "PROTOBUF_NOSR":
		vals, err := serde.RowFromJSON(v, cols)
		if err != nil {
			return nil, err
		}
		codec, err := serde.NewCodec(f, cols, isKey)
		if err != nil {
			return nil, err
		}
		return codec.Encode(vals)
	}
	return rawLogical(v)
}

// ReadLogical reads a whole topic and decodes each record with the formats of the source that
// writes or reads it.
func (e *Engine) ReadLogical(ctx context.Context, topic string) ([]LogicalRecord, error) {
	src := e.formatSource(topic)
	var out []LogicalRecord
	err := e.scanTopic(ctx, topic, func(r *storage.Record) bool {
		lr := LogicalRecord{Topic: topic, Timestamp: r.Timestamp, Headers: r.Headers, Partition: r.Partition, Offset: r.Offset}
		key := r.Key
		if src != nil && src.windowed() && key != nil {
			k, s, en, err := serde.SplitWindowedKey(key, src.WindowType == ast.Session, src.WindowSizeMs)
			if err == nil {
				key = k
				typ := "time"
				if src.WindowType == ast.Session {
					typ = "session"
				}
				lr.Window = &WindowBounds{Start: s, End: en, Type: typ}
			}
		}
		if src == nil {
			lr.Key = rawDecode(key)
			if r.Value == nil {
				lr.ValueNull = true
			} else {
				lr.Value = rawDecode(r.Value)
			}
		} else {
			lr.Key = decodeLogical(key, src.KeyFormat, src.keyCols(), true)
			if r.Value == nil {
				lr.ValueNull = true
			} else {
				lr.Value = decodeLogical(r.Value, src.ValueFormat, src.valueCols(), false)
			}
		}
		out = append(out, lr)
		return true
	})
	return out, err
}

func rawDecode(b []byte) any {
	if b == nil {
		return nil
	}
	if v, err := serde.ParseJSON(b); err == nil {
		return v
	}
	return string(b)
}

// decodeLogical turns record bytes back into QTT's logical form.
func decodeLogical(b []byte, f serde.Format, cols []types.Column, isKey bool) any {
	if b == nil {
		return nil
	}
	switch strings.ToUpper(f.Name) {
	case "DELIMITED":
		return string(b)
	case "JSON":
		return rawDecode(b)
	case "KAFKA":
		if len(cols) != 1 {
			return rawDecode(b)
		}
		codec, err := serde.NewCodec(f, cols, isKey)
		if err != nil {
			return rawDecode(b)
		}
		vals := make([]any, 1)
		if err := codec.Decode(b, vals); err != nil {
			return base64.StdEncoding.EncodeToString(b)
		}
		if s, ok := vals[0].(string); ok {
			return s
		}
		tree, err := serde.ParseJSON(serde.AppendJSON(nil, vals[0], cols[0].Type))
		if err != nil {
			return vals[0]
		}
		return tree
	case "PROTOBUF_NOSR":
		codec, err := serde.NewCodec(f, cols, isKey)
		if err != nil {
			return rawDecode(b)
		}
		vals := make([]any, len(cols))
		if err := codec.Decode(b, vals); err != nil {
			return base64.StdEncoding.EncodeToString(b)
		}
		return serde.RowToJSON(vals, cols)
	}
	return rawDecode(b)
}

// InsertJSON inserts one row given as column name -> JSON value into a stream or table
// (REST /inserts-stream). Names match case-insensitively.
func (e *Engine) InsertJSON(ctx context.Context, s *Session, target string, row map[string]any) error {
	e.mu.Lock()
	src, ok := e.cat.sources[strings.ToUpper(target)]
	if !ok {
		src, ok = e.cat.sources[target]
	}
	e.mu.Unlock()
	if !ok {
		return errf("Cannot insert values into an unknown stream/table: %s", target)
	}
	if src.windowed() {
		return errf("Cannot insert into windowed source %s", src.Name)
	}
	vals := make([]any, len(src.Schema.Columns))
	ts := int64(0)
	for k, v := range row {
		if strings.EqualFold(k, "ROWTIME") {
			if n, ok := v.(json.Number); ok {
				ts, _ = n.Int64()
			} else if f, ok := v.(float64); ok {
				ts = int64(f)
			}
			continue
		}
		idx := -1
		for i, c := range src.Schema.Columns {
			if strings.EqualFold(c.Name, k) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return errf("Column name %s does not exist.", k)
		}
		cv, err := serde.FromJSON(v, src.Schema.Columns[idx].Type)
		if err != nil {
			return errf("Failed to insert values into '%s'. %v", src.Name, err)
		}
		vals[idx] = cv
	}
	if ts == 0 {
		ts = nowMillis()
	}
	return e.writeRow(ctx, src, vals, ts)
}
