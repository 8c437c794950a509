// Package statetest is the conformance suite for state.Manager implementations. Run executes
// every check of the state contract (read-your-writes, ordered Scan over buffered and committed
// data, atomic and durable Commit under SIGKILL, Drop, ReadCommitted isolation, concurrent
// readers) against one implementation; each implementation's tests call it once per
// configuration worth covering. It knows nothing about any implementation.
package statetest
