// Package serde turns rows of SQL values into record key and value bytes and back, for the
// formats of KSQL_FACTS part J that need no schema registry: JSON, DELIMITED, KAFKA, NONE and PROTOBUF_NOSR. It
// also frames windowed keys the way Kafka Streams does, so topics written here read the same in
// Kafka tools. It knows column types, not sources or queries.
package serde

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/sql/types"
)

// Format names a serialization format and its options.
type Format struct {
	Name      string // JSON, DELIMITED, KAFKA, NONE, ...
	Delimiter byte   // DELIMITED only; ',' by default
	// Unwrapped: a single-column value is written bare (WRAP_SINGLE_VALUE=false). Keys with one
	// column are always unwrapped; DELIMITED and KAFKA are always unwrapped.
	Unwrapped bool
}

// Codec encodes and decodes one row (the values of cols, in order).
type Codec interface {
	Encode(vals []any) ([]byte, error)
	// Decode fills vals (len(cols)) from b. A nil b decodes to all NULLs for keys; for values
	// the caller handles tombstones before calling Decode.
	Decode(b []byte, vals []any) error
}

// Appender is implemented by codecs that can encode into a caller's buffer, so that a batch of
// records shares one allocation. null reports an encoding that is a null record key or value
// (dst is then returned unchanged).
type Appender interface {
	AppendEncode(dst []byte, vals []any) (out []byte, null bool, err error)
}

// ErrUnsupported is returned for formats this build cannot serialize.
var ErrUnsupported = errors.New("unsupported format")

// Supported reports whether name is a format Sluice can read and write.
func Supported(name string) bool {
	switch strings.ToUpper(name) {
	case "JSON", "DELIMITED", "KAFKA", "NONE", "PROTOBUF_NOSR":
		return true
	}
	return false
}

// Known reports whether name is any format ksqlDB knows (some need a schema registry).
func Known(name string) bool {
	switch strings.ToUpper(name) {
	case "JSON", "DELIMITED", "KAFKA", "NONE", "AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR":
		return true
	}
	return false
}

// NewCodec returns a codec for cols in format f. isKey selects key rules (single keys are
// always unwrapped).
func NewCodec(f Format, cols []types.Column, isKey bool) (Codec, error) {
	if isKey && len(cols) == 0 {
		return noneCodec{}, nil
	}
	switch strings.ToUpper(f.Name) {
	case "JSON":
		unwrap := f.Unwrapped || (isKey && len(cols) == 1)
		if unwrap && len(cols) != 1 {
			unwrap = false
		}
		return &jsonCodec{cols: cols, unwrapped: unwrap}, nil
	case "DELIMITED":
		d := f.Delimiter
		if d == 0 {
			d = ','
		}
		for _, c := range cols {
			if !c.Type.IsPrimitive() {
				return nil, fmt.Errorf("The 'DELIMITED' format does not support type '%s', column: `%s`", kindName(c.Type), c.Name)
			}
		}
		return &delimitedCodec{cols: cols, delim: d}, nil
	case "KAFKA":
		if len(cols) > 1 {
			return nil, fmt.Errorf("The 'KAFKA' format only supports a single field. Got: %s", ColList(cols, isKey))
		}
		if len(cols) == 1 {
			switch cols[0].Type.Kind {
			case types.KindInt, types.KindBigint, types.KindDouble, types.KindString, types.KindBytes:
			default:
				return nil, fmt.Errorf("The 'KAFKA' format does not support type '%s'", kindName(cols[0].Type))
			}
		}
		return &kafkaCodec{cols: cols}, nil
	case "NONE":
		if len(cols) > 0 {
			return nil, fmt.Errorf("The 'NONE' format can only be used when no columns are defined. Got: %s", ColList(cols, isKey))
		}
		return noneCodec{}, nil
	case "PROTOBUF_NOSR":
		return newProtobufCodec(cols), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, f.Name)
}

// ColList prints columns as ksqlDB does in format errors: [`A` INTEGER KEY, ...].
func ColList(cols []types.Column, isKey bool) string {
	var parts []string
	for _, c := range cols {
		p := types.QuoteIdent(c.Name) + " " + c.Type.String()
		if isKey {
			p += " KEY"
		}
		parts = append(parts, p)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func kindName(t *types.Type) string {
	s := t.String()
	if i := strings.IndexByte(s, '<'); i > 0 {
		return s[:i]
	}
	if i := strings.IndexByte(s, '('); i > 0 {
		return s[:i]
	}
	return s
}

type noneCodec struct{}

func (noneCodec) Encode([]any) ([]byte, error)   { return nil, nil }
func (noneCodec) Decode(b []byte, _ []any) error { return nil }
