// Package keys holds the order-preserving byte encodings that exec uses to build state keys:
// integers, strings and byte strings that sort in value order and compose into tuples, and the
// window and session key layouts that let a state.Store Scan find the windows of one key.
//
// Every encoding here is prefix-free (no encoded value is a prefix of another encoded value of
// the same kind), so concatenating encodings gives a tuple encoding whose byte order is the
// lexicographic order of the tuples. The package knows nothing about stores, tables or values;
// state/badger stores whatever bytes exec hands it, and exec decides which fields to encode.
//
// Encodings are persisted (they are state keys), so they are frozen: a change needs a new
// function name and a state migration, never an edit in place.
package keys
