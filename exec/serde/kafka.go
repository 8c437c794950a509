package serde

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/sluicedb/sluice/sql/types"
)

// kafkaCodec is Kafka's standard serializers: 4-byte big-endian INT, 8-byte BIGINT and DOUBLE,
// UTF-8 STRING, raw BYTES. No coercion: a wrong length is an error.
type kafkaCodec struct {
	cols []types.Column
}

func (c *kafkaCodec) Encode(vals []any) ([]byte, error) {
	b, null, err := c.AppendEncode(nil, vals)
	if null || err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{} // an empty string or bytes value, not a null
	}
	return b, nil
}

// AppendEncode implements Appender; a NULL value is a null record key or value.
func (c *kafkaCodec) AppendEncode(dst []byte, vals []any) ([]byte, bool, error) {
	if len(c.cols) == 0 || vals[0] == nil {
		return dst, true, nil
	}
	switch x := vals[0].(type) {
	case int32:
		return binary.BigEndian.AppendUint32(dst, uint32(x)), false, nil
	case int64:
		return binary.BigEndian.AppendUint64(dst, uint64(x)), false, nil
	case float64:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(x)), false, nil
	case string:
		return append(dst, x...), false, nil
	case []byte:
		return append(dst, x...), false, nil
	}
	return dst, false, fmt.Errorf("KAFKA format cannot serialize %T", vals[0])
}

func (c *kafkaCodec) Decode(b []byte, vals []any) error {
	if len(c.cols) == 0 {
		return nil
	}
	vals[0] = nil
	if b == nil {
		return nil
	}
	switch c.cols[0].Type.Kind {
	case types.KindInt:
		if len(b) != 4 {
			return fmt.Errorf("Size of data received by IntegerDeserializer is not 4")
		}
		vals[0] = int32(binary.BigEndian.Uint32(b))
	case types.KindBigint:
		if len(b) != 8 {
			return fmt.Errorf("Size of data received by LongDeserializer is not 8")
		}
		vals[0] = int64(binary.BigEndian.Uint64(b))
	case types.KindDouble:
		if len(b) != 8 {
			return fmt.Errorf("Size of data received by DoubleDeserializer is not 8")
		}
		vals[0] = math.Float64frombits(binary.BigEndian.Uint64(b))
	case types.KindString:
		vals[0] = string(b)
	case types.KindBytes:
		vals[0] = append([]byte(nil), b...)
	}
	return nil
}

// WindowedKey frames a serialized key with its window the way Kafka Streams does: time windows
// append the 8-byte start; session windows append the 8-byte end then the 8-byte start.
func WindowedKey(key []byte, session bool, start, end int64) []byte {
	out := make([]byte, 0, len(key)+16)
	out = append(out, key...)
	if session {
		out = binary.BigEndian.AppendUint64(out, uint64(end))
	}
	return binary.BigEndian.AppendUint64(out, uint64(start))
}

// AppendWindow appends the window suffix WindowedKey adds to a key.
func AppendWindow(dst []byte, session bool, start, end int64) []byte {
	if session {
		dst = binary.BigEndian.AppendUint64(dst, uint64(end))
	}
	return binary.BigEndian.AppendUint64(dst, uint64(start))
}

// SplitWindowedKey undoes WindowedKey. For time windows end = start + size.
func SplitWindowedKey(b []byte, session bool, size int64) (key []byte, start, end int64, err error) {
	n := 8
	if session {
		n = 16
	}
	if len(b) < n {
		return nil, 0, 0, fmt.Errorf("windowed key too short: %d bytes", len(b))
	}
	key = b[:len(b)-n]
	if session {
		end = int64(binary.BigEndian.Uint64(b[len(b)-16:]))
		start = int64(binary.BigEndian.Uint64(b[len(b)-8:]))
		return key, start, end, nil
	}
	start = int64(binary.BigEndian.Uint64(b[len(b)-8:]))
	return key, start, start + size, nil
}
