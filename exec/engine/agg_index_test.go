package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestEntryIndexAgainstMap runs random puts, replacements, deletions and sweeps against a Go
// map and checks after each step that both hold the same entries, with small tables so that
// probe runs wrap around the end and deletions shift entries back across it.
func TestEntryIndexAgainstMap(t *testing.T) {
	for _, keys := range []int{10, 100, 5000} {
		t.Run(fmt.Sprint(keys), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(keys), 7))
			x := newEntryIndex()
			want := map[string]*aggEntry{}
			key := func() []byte { return fmt.Appendf(nil, "[\"k%d\"]", rng.IntN(keys)) }
			for step := range 20 * keys {
				switch op := rng.IntN(10); {
				case op < 5:
					e := &aggEntry{stateKey: key()}
					old := x.Put(e)
					if old != want[string(e.stateKey)] {
						t.Fatalf("step %d: Put(%s) replaced %p, want %p", step, e.stateKey, old, want[string(e.stateKey)])
					}
					want[string(e.stateKey)] = e
				case op < 8:
					k := key()
					x.Delete(k)
					delete(want, string(k))
				case op < 9:
					target := rng.IntN(len(want) + 1)
					x.Sweep(target, func(e *aggEntry) bool {
						if len(e.stateKey)%2 == 0 {
							delete(want, string(e.stateKey))
							return true
						}
						return false
					})
					if x.Len() > target {
						for _, e := range want {
							if len(e.stateKey)%2 == 0 {
								t.Fatalf("step %d: sweep stopped at %d > %d entries with %s evictable", step, x.Len(), target, e.stateKey)
							}
						}
					}
				default:
					k := key()
					if got := x.Get(k); got != want[string(k)] {
						t.Fatalf("step %d: Get(%s) = %p, want %p", step, k, got, want[string(k)])
					}
				}
				if x.Len() != len(want) {
					t.Fatalf("step %d: Len %d, want %d", step, x.Len(), len(want))
				}
			}
			for k, e := range want {
				if x.Get([]byte(k)) != e {
					t.Fatalf("entry %s lost", k)
				}
			}
			seen := 0
			x.Each(func(e *aggEntry) bool {
				if want[string(e.stateKey)] != e {
					t.Fatalf("Each visited %s, which is not in the index", e.stateKey)
				}
				seen++
				return true
			})
			if seen != len(want) {
				t.Fatalf("Each visited %d entries, want %d", seen, len(want))
			}
		})
	}
}

// BenchmarkCacheChurn replays a windowed aggregation's cache traffic: each record looks its
// window up twice (a miss that creates the entry, then a hit), and past 200,000 entries the
// oldest quarter is evicted, as aggNode.evict does. It compares entryIndex with a Go map.
func BenchmarkCacheChurn(b *testing.B) {
	const live = 200_000
	keys := make([][]byte, 1<<20)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "[\"key-%d\"]\x80\x00\x01\x97\x3c\x6e\x00\x00\x80\x00\x01\x97\x3c\x6e\xea\x60", i)
	}
	b.Run("entryIndex", func(b *testing.B) {
		x := newEntryIndex()
		var made int
		for i := 0; b.Loop(); i++ {
			k := keys[i&(len(keys)-1)]
			if x.Get(k) == nil {
				x.Put(&aggEntry{stateKey: k, start: int64(made)})
				made++
			}
			_ = x.Get(k)
			if x.Len() > live {
				oldest := int64(made - live*3/4)
				x.Sweep(live*3/4, func(e *aggEntry) bool { return e.start < oldest })
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		m := map[string]*aggEntry{}
		var made int
		for i := 0; b.Loop(); i++ {
			k := keys[i&(len(keys)-1)]
			if m[string(k)] == nil {
				m[string(k)] = &aggEntry{stateKey: k, start: int64(made)}
				made++
			}
			_ = m[string(k)]
			if len(m) > live {
				oldest := int64(made - live*3/4)
				for k, e := range m {
					if len(m) <= live*3/4 {
						break
					}
					if e.start < oldest {
						delete(m, k)
					}
				}
			}
		}
	})
}
