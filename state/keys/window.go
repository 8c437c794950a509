package keys

// Window keys order by (key, start, end): all windows of one key are adjacent and in start
// order, which is the order tumbling and hopping aggregates emit and expire them in, and a Scan
// of [WindowKey(k, from, MinInt64), WindowKey(k, to, MinInt64)) finds the windows of k that
// start in [from, to).
//
// The group key is embedded with AppendBytes rather than raw, so that the windows of key "a"
// cannot interleave with those of key "ab" (a raw key would not be prefix-free).

import "math"

// WindowKey appends the key of window [start, end) of the group key key.
func WindowKey(dst, key []byte, start, end int64) []byte {
	dst = AppendBytes(dst, key)
	dst = AppendInt64(dst, start)
	return AppendInt64(dst, end)
}

// WindowPrefix appends the prefix shared by every window of key; with PrefixEnd it bounds a
// Scan over all windows of key, in start order.
func WindowPrefix(dst, key []byte) []byte {
	return AppendBytes(dst, key)
}

// WindowRange returns Scan bounds [from, to) covering the windows of key whose start lies in
// [startFrom, startTo).
func WindowRange(key []byte, startFrom, startTo int64) (from, to []byte) {
	p := AppendBytes(nil, key)
	from = AppendInt64(append([]byte(nil), p...), startFrom)
	to = AppendInt64(p, startTo)
	return from, to
}

// DecodeWindowKey splits a WindowKey encoding back into its parts.
func DecodeWindowKey(b []byte) (key []byte, start, end int64, err error) {
	key, b, err = ReadBytes(nil, b)
	if err != nil {
		return nil, 0, 0, err
	}
	if start, b, err = ReadInt64(b); err != nil {
		return nil, 0, 0, err
	}
	if end, b, err = ReadInt64(b); err != nil {
		return nil, 0, 0, err
	}
	if len(b) != 0 {
		return nil, 0, 0, ErrCorrupt
	}
	return key, start, end, nil
}

// Session keys order by (key, end, start), the layout Kafka Streams' session stores use. Session
// merging for a record at time t with inactivity gap g needs the sessions of key that end at or
// after t-g and start at or before t+g. Sessions of one key never overlap once merged, so end
// order is also start order; a Scan from SessionRange(key, t-g) therefore visits exactly the
// candidates first and can stop at the first session whose start is after t+g. Ordering by start
// instead would force the scan to begin at the earliest session of the key, because a session
// that started long ago may still end recently.

// SessionKey appends the key of session [start, end] of the group key key.
func SessionKey(dst, key []byte, start, end int64) []byte {
	dst = AppendBytes(dst, key)
	dst = AppendInt64(dst, end)
	return AppendInt64(dst, start)
}

// SessionPrefix appends the prefix shared by every session of key.
func SessionPrefix(dst, key []byte) []byte {
	return AppendBytes(dst, key)
}

// SessionRange returns Scan bounds [from, to) covering the sessions of key that end at or after
// earliestEnd, in end order.
func SessionRange(key []byte, earliestEnd int64) (from, to []byte) {
	p := AppendBytes(nil, key)
	from = AppendInt64(append([]byte(nil), p...), earliestEnd)
	from = AppendInt64(from, math.MinInt64)
	return from, PrefixEnd(p)
}

// DecodeSessionKey splits a SessionKey encoding back into its parts.
func DecodeSessionKey(b []byte) (key []byte, start, end int64, err error) {
	key, b, err = ReadBytes(nil, b)
	if err != nil {
		return nil, 0, 0, err
	}
	if end, b, err = ReadInt64(b); err != nil {
		return nil, 0, 0, err
	}
	if start, b, err = ReadInt64(b); err != nil {
		return nil, 0, 0, err
	}
	if len(b) != 0 {
		return nil, 0, 0, ErrCorrupt
	}
	return key, start, end, nil
}
