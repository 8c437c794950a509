//go:build !linux

package gcpace

// physicalMemory is unknown outside Linux: no default memory limit.
func physicalMemory() int64 { return 0 }
