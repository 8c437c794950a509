package badger

// Key layout, format version 1. Every key of the database is one of:
//
//	0x00 'v'                              -> format version (uvarint)
//	0x00 'd' <store prefix>               -> Drop in progress for that store (empty value)
//	<store prefix> 0x01 <table> <key>     -> a value of table <table>
//	<store prefix> 0x02 <source>          -> committed offset of <source> (8 bytes big-endian)
//	<store prefix> 0x03                   -> redo marker: uvarint number of redo chunks
//	<store prefix> 0x04 <chunk uint32 BE> -> redo chunk (records, see appendRedo)
//
// where <store prefix> = 0x01 uvarint(len(id)) id and <table> = uvarint(len(name)) name.
// Length prefixes make store ids and table names prefix-free, so store "a" table "bc" can never
// collide with store "ab" table "c", and a table's keys are exactly the keys under its prefix,
// in the user keys' byte order. Offsets and redo entries live beside the tables under their own
// tag byte, not under a reserved table name, so no table name is forbidden.
//
// Migration recipe: bump formatVersion; in checkFormat, accept formatVersion-1 and rewrite its
// keys to the new layout with a WriteBatch before writing the new version key (a crash in the
// middle reruns the rewrite, so it must be idempotent); keep reading version N-1 for one
// release, then drop it.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const formatVersion = 1

const (
	nsManager = 0x00
	nsStore   = 0x01

	tagData    = 0x01
	tagOffset  = 0x02
	tagMarker  = 0x03
	tagRedo    = 0x04
	mgrVersion = 'v'
	mgrDrop    = 'd'
)

var versionKey = []byte{nsManager, mgrVersion}

func storePrefix(id string) []byte {
	p := binary.AppendUvarint([]byte{nsStore}, uint64(len(id)))
	return append(p, id...)
}

func tablePrefix(store []byte, table string) []byte {
	p := append(append([]byte(nil), store...), tagData)
	p = binary.AppendUvarint(p, uint64(len(table)))
	return append(p, table...)
}

func tagPrefix(store []byte, tag byte) []byte {
	return append(append([]byte(nil), store...), tag)
}

func offsetKey(store []byte, source string) []byte {
	return append(tagPrefix(store, tagOffset), source...)
}

func redoKey(store []byte, chunk uint32) []byte {
	return binary.BigEndian.AppendUint32(tagPrefix(store, tagRedo), chunk)
}

func dropMarkerKey(store []byte) []byte {
	return append([]byte{nsManager, mgrDrop}, store...)
}

func encodeOffset(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decodeOffset(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("state/badger: corrupt offset value of %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// prefixEnd is the exclusive upper bound of the keys under prefix. Every prefix built here
// starts with a byte below 0xFF, so the result is never nil.
func prefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			end := append([]byte(nil), prefix[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}

// Redo records: op (redoPut or redoDelete), uvarint key length, key, and for puts uvarint
// value length and value. Keys are full database keys, so replay needs no context.
const (
	redoPut    = 0x01
	redoDelete = 0x02
)

var errCorruptRedo = errors.New("state/badger: corrupt redo chunk")

func appendRedo(dst, key, value []byte, deleted bool) []byte {
	if deleted {
		dst = append(dst, redoDelete)
	} else {
		dst = append(dst, redoPut)
	}
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	if !deleted {
		dst = binary.AppendUvarint(dst, uint64(len(value)))
		dst = append(dst, value...)
	}
	return dst
}

// readRedo decodes every record of chunk, calling fn with sub-slices of chunk.
func readRedo(chunk []byte, fn func(key, value []byte, deleted bool) error) error {
	field := func() ([]byte, error) {
		n, w := binary.Uvarint(chunk)
		if w <= 0 || uint64(len(chunk)-w) < n {
			return nil, errCorruptRedo
		}
		f := chunk[w : w+int(n)]
		chunk = chunk[w+int(n):]
		return f, nil
	}
	for len(chunk) > 0 {
		op := chunk[0]
		chunk = chunk[1:]
		key, err := field()
		if err != nil {
			return err
		}
		var value []byte
		switch op {
		case redoPut:
			if value, err = field(); err != nil {
				return err
			}
		case redoDelete:
		default:
			return errCorruptRedo
		}
		if err := fn(key, value, op == redoDelete); err != nil {
			return err
		}
	}
	return nil
}
