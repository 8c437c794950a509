package embedded

import (
	"context"
	"errors"
	"time"

	"github.com/sluicedb/sluice/storage"
)

// maintain runs retention and compaction until Close. It works partition by partition through
// segment's own maintenance lock, so a long compaction delays only other maintenance, never an
// Append or a Read.
func (l *Log) maintain() {
	defer l.wg.Done()
	tick := time.NewTicker(l.opts.maintenanceEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-l.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := l.EnforceRetention(ctx); err != nil && !errors.Is(err, storage.ErrClosed) && ctx.Err() == nil {
			l.opts.logf("storage: retention: %v", err)
		}
		if err := l.Compact(ctx); err != nil && !errors.Is(err, storage.ErrClosed) && ctx.Err() == nil {
			l.opts.logf("storage: compaction: %v", err)
		}
		cancel()
	}
}

func (l *Log) snapshotTopics() ([]*topic, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, storage.ErrClosed
	}
	out := make([]*topic, 0, len(l.topics))
	for _, t := range l.topics {
		out = append(out, t)
	}
	return out, nil
}

// EnforceRetention deletes, in every topic with a retention limit, the oldest closed segments
// that are entirely past it. Time retention compares a segment's largest record timestamp with
// now - RetentionMs, as Kafka does; it stops at the first segment that is still young, so a
// segment with an old max timestamp behind a young one waits (deletion is always a prefix).
// Size retention deletes oldest segments while the rest still holds RetentionBytes.
func (l *Log) EnforceRetention(ctx context.Context) error {
	topics, err := l.snapshotTopics()
	if err != nil {
		return err
	}
	nowMs := l.opts.now().UnixMilli()
	var firstErr error
	for _, t := range topics {
		if t.cfg.RetentionMs <= 0 && t.cfg.RetentionBytes <= 0 {
			continue
		}
		for _, p := range t.parts {
			if err := ctx.Err(); err != nil {
				return err
			}
			segs := p.Segments()
			var upTo int64 = -1
			if t.cfg.RetentionMs > 0 {
				for _, s := range segs {
					if !s.Closed || s.MaxTimestamp >= nowMs-t.cfg.RetentionMs {
						break
					}
					upTo = s.NextOffset
				}
			}
			if t.cfg.RetentionBytes > 0 {
				var total int64
				for _, s := range segs {
					total += s.SizeBytes
				}
				for _, s := range segs {
					if !s.Closed || total-s.SizeBytes < t.cfg.RetentionBytes {
						break
					}
					total -= s.SizeBytes
					upTo = max(upTo, s.NextOffset)
				}
			}
			if upTo < 0 {
				continue
			}
			n, err := p.DeleteSegmentsBefore(upTo)
			if n > 0 {
				l.opts.logf("storage: retention: %s/%s: deleted %d segments below offset %d", t.name, p.Dir(), n, upTo)
			}
			if err != nil && firstErr == nil && !errors.Is(err, storage.ErrClosed) {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Compact compacts every partition of every Compact topic (see segment.Partition.Compact).
func (l *Log) Compact(ctx context.Context) error {
	topics, err := l.snapshotTopics()
	if err != nil {
		return err
	}
	var firstErr error
	for _, t := range topics {
		if !t.cfg.Compact {
			continue
		}
		for _, p := range t.parts {
			if err := ctx.Err(); err != nil {
				return err
			}
			st, err := p.Compact(l.opts.tombstoneRetention)
			if st.RecordsRemoved > 0 {
				l.opts.logf("storage: compaction: %s: removed %d records, %d -> %d bytes",
					p.Dir(), st.RecordsRemoved, st.BytesBefore, st.BytesAfter)
			}
			if err != nil && firstErr == nil && !errors.Is(err, storage.ErrClosed) {
				firstErr = err
			}
		}
	}
	return firstErr
}
