package gcpace

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// physicalMemory is the memory this process may use in bytes: the machine's RAM, or its
// control group's limit when that is lower (a container); 0 when unknown.
func physicalMemory() int64 {
	var info syscall.Sysinfo_t
	if err := syscall.Sysinfo(&info); err != nil {
		return 0
	}
	total := int64(info.Totalram) * int64(info.Unit)
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if limit, ok := readLimit(f); ok && limit < total {
			total = limit
		}
	}
	return total
}

// readLimit reads a control group memory limit file ("max" or a byte count).
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil && n > 0
}
