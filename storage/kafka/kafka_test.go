package kafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/kafka"
	"github.com/sluicedb/sluice/storage/logtest"
)

// kfakeLog exposes the fake cluster's on-demand retention and compaction to the suite, which is
// how the retention and compaction tests reach a backend whose maintenance the broker owns.
type kfakeLog struct {
	*kafka.Log
	c *kfake.Cluster
}

func (k kfakeLog) EnforceRetention(context.Context) error { k.c.ApplyRetention(); return nil }
func (k kfakeLog) Compact(context.Context) error          { k.c.Compact(); return nil }

func newCluster(t *testing.T) *kfake.Cluster {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) storage.Log {
		c := newCluster(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := kafka.Open(ctx, c.ListenAddrs())
		if err != nil {
			t.Fatal(err)
		}
		return kfakeLog{l, c}
	})
}

func TestTruncateUnsupported(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	l, err := kafka.Open(ctx, c.ListenAddrs())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.TruncateTo(ctx, "t", 0, 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("TruncateTo: %v, want ErrUnsupported", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if l, err := kafka.Open(ctx, []string{"127.0.0.1:1"}); err == nil {
		l.Close()
		t.Fatal("Open succeeded against a closed port")
	}
}
