package keys

import (
	"encoding/binary"
	"errors"
)

// ErrCorrupt is returned by the Read functions when the input is not a valid encoding.
var ErrCorrupt = errors.New("keys: corrupt encoding")

// signBit flips the order of negative and positive numbers: two's complement puts negatives
// above positives when read as unsigned, and flipping the top bit puts them below.
const signBit = 1 << 63

// AppendInt64 appends v as 8 bytes, sign-flipped big-endian, so that bytes.Compare orders
// encodings as the integers. The fixed width makes it prefix-free.
func AppendInt64(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v)^signBit)
}

// ReadInt64 decodes an AppendInt64 encoding from the front of b and returns the rest.
func ReadInt64(b []byte) (v int64, rest []byte, err error) {
	if len(b) < 8 {
		return 0, b, ErrCorrupt
	}
	return int64(binary.BigEndian.Uint64(b) ^ signBit), b[8:], nil
}

// AppendUint64 appends v as 8 bytes big-endian; unsigned values need no sign flip.
func AppendUint64(dst []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, v)
}

// ReadUint64 decodes an AppendUint64 encoding from the front of b and returns the rest.
func ReadUint64(b []byte) (v uint64, rest []byte, err error) {
	if len(b) < 8 {
		return 0, b, ErrCorrupt
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}

// The string escape scheme (the one CockroachDB and FoundationDB use): 0x00 inside the value
// becomes 0x00 0xFF, and the value ends with 0x00 0x01. A terminator sorts below every escaped
// byte (0x00 0x01 < 0x00 0xFF and < any byte 0x01..0xFF), so a string sorts before every string
// it is a proper prefix of, exactly as bytes.Compare orders the raw values. The terminator also
// makes the encoding prefix-free, which is what tuples need.
const (
	escape     = 0x00
	escapedNul = 0xFF
	terminator = 0x01
)

// AppendString appends s in the escaped, terminated encoding; see AppendBytes.
func AppendString(dst []byte, s string) []byte { return appendEscaped(dst, s) }

// AppendBytes appends b escaped and terminated: encodings compare as the raw byte strings do,
// and no encoding is a prefix of another. It costs one extra byte per 0x00 in b, plus two.
func AppendBytes(dst, b []byte) []byte { return appendEscaped(dst, b) }

// appendEscaped is generic so that neither entry point converts (and copies) its argument.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for {
		i := indexNul(s)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, escape, escapedNul)
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, escape, terminator)
}

func indexNul[T string | []byte](s T) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// ReadBytes decodes an AppendBytes (or AppendString) encoding from the front of b. The value is
// appended to dst (pass nil for a fresh slice) and the bytes after the terminator are returned.
func ReadBytes(dst, b []byte) (v, rest []byte, err error) {
	for i := 0; i < len(b); i++ {
		if b[i] != escape {
			continue
		}
		if i+1 >= len(b) {
			return nil, b, ErrCorrupt
		}
		switch b[i+1] {
		case terminator:
			return append(dst, b[:i]...), b[i+2:], nil
		case escapedNul:
			dst = append(dst, b[:i]...)
			dst = append(dst, 0)
			b = b[i+2:]
			i = -1
		default:
			return nil, b, ErrCorrupt
		}
	}
	return nil, b, ErrCorrupt
}

// ReadString is ReadBytes returning a string.
func ReadString(b []byte) (s string, rest []byte, err error) {
	v, rest, err := ReadBytes(nil, b)
	return string(v), rest, err
}

// PrefixEnd returns the smallest key greater than every key that starts with prefix, for use as
// the exclusive upper bound of a Scan over a prefix. It returns nil (no upper bound) when no
// such key exists, i.e. when prefix is empty or all 0xFF.
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			end := append([]byte(nil), prefix[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}
