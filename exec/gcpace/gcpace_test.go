package gcpace

import (
	"os"
	"runtime/debug"
	"testing"
)

// unsetenv removes name for the test and restores it afterwards.
func unsetenv(t *testing.T, name string) {
	old, had := os.LookupEnv(name)
	os.Unsetenv(name)
	t.Cleanup(func() {
		if had {
			os.Setenv(name, old)
		}
	})
}

// restorePace puts the collector's settings back after a test changed them.
func restorePace(t *testing.T) {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	l := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(p)
		debug.SetMemoryLimit(l)
	})
}

func TestApplySetsPaceAndLimit(t *testing.T) {
	restorePace(t)
	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	p, l := Apply(250, 3<<30)
	if p != 250 || l != 3<<30 {
		t.Fatalf("Apply(250, 3 GiB) = %d, %d", p, l)
	}
	if _, l := Apply(250, 0); physicalMemory() > 0 && l != physicalMemory()/2 {
		t.Fatalf("default limit %d, want half of %d", l, physicalMemory())
	}
}

func TestApplyLeavesEnvironmentSettings(t *testing.T) {
	restorePace(t)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(150) // as the runtime read them at start
	debug.SetMemoryLimit(1 << 30)
	if p, l := Apply(400, 5<<30); p != 150 || l != 1<<30 {
		t.Fatalf("Apply with GOGC and GOMEMLIMIT set = %d, %d; want 150, 1 GiB", p, l)
	}
}
