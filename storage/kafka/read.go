package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/storage"
)

// reader is a franz-go client consuming exactly one partition. It is checked out by one Read at a
// time; next is the offset its buffered position will deliver, so a sequential reader keeps the
// same client and its prefetched records across calls.
type reader struct {
	tp   storage.TopicPartition
	cl   *kgo.Client
	next int64
}

const defaultReadMax = 10000

// Read fetches from one partition starting at offset. Out-of-range offsets are detected by the
// broker (OFFSET_OUT_OF_RANGE, with resets disabled) rather than by a separate request, except
// when wait <= 0: then the offsets are checked first, because without a wait there is no time to
// learn anything from a fetch.
func (l *Log) Read(ctx context.Context, topic string, partition int32, offset int64, max int, wait time.Duration) ([]storage.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return nil, err
	}
	if max <= 0 {
		max = defaultReadMax
	}
	if offset < 0 {
		return nil, fmt.Errorf("%w: offset %d", storage.ErrOffsetOutRange, offset)
	}
	if wait <= 0 {
		start, end, err := l.bounds(ctx, topic, partition)
		if err != nil {
			return nil, err
		}
		if offset < start || offset > end {
			return nil, fmt.Errorf("%w: offset %d not in [%d, %d]", storage.ErrOffsetOutRange, offset, start, end)
		}
		if offset == end {
			return nil, nil
		}
		wait = 10 * time.Second // records exist: the fetch returns as soon as it has them
	}
	tp := storage.TopicPartition{Topic: topic, Partition: partition}
	r, err := l.takeReader(tp, offset)
	if err != nil {
		return nil, err
	}
	recs, err := l.poll(ctx, r, offset, max, wait)
	l.putReader(r, err)
	return recs, err
}

func (l *Log) bounds(ctx context.Context, topic string, partition int32) (int64, int64, error) {
	starts, err := l.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, 0, mapErr(err)
	}
	ends, err := l.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, mapErr(err)
	}
	s, _ := starts.Lookup(topic, partition)
	e, _ := ends.Lookup(topic, partition)
	if s.Err != nil {
		return 0, 0, mapErr(s.Err)
	}
	return s.Offset, e.Offset, mapErr(e.Err)
}

func (l *Log) poll(ctx context.Context, r *reader, offset int64, max int, wait time.Duration) ([]storage.Record, error) {
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// Close must end a long-poll promptly; the watcher exits with the poll either way.
	go func() {
		select {
		case <-l.done:
			cancel()
		case <-pctx.Done():
		}
	}()
	fetches := r.cl.PollRecords(pctx, max)
	for _, fe := range fetches.Errors() {
		switch {
		case errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled):
			select {
			case <-l.done:
				return nil, storage.ErrClosed
			default:
			}
		default:
			return nil, mapErr(fe.Err)
		}
	}
	var out []storage.Record
	fetches.EachRecord(func(kr *kgo.Record) {
		if kr.Offset < offset || kr.Partition != r.tp.Partition {
			return
		}
		rec := storage.Record{Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp.UnixMilli(),
			Partition: kr.Partition, Offset: kr.Offset}
		if len(kr.Headers) > 0 {
			rec.Headers = make([]storage.Header, len(kr.Headers))
			for i, h := range kr.Headers {
				rec.Headers[i] = storage.Header{Key: h.Key, Value: h.Value}
			}
		}
		out = append(out, rec)
	})
	if len(out) > 0 {
		r.next = out[len(out)-1].Offset + 1
	}
	return out, nil
}

// takeReader returns an idle reader positioned at offset, or a new one. A reader positioned
// elsewhere is replaced rather than re-seeked: its buffered fetches belong to the old position.
func (l *Log) takeReader(tp storage.TopicPartition, offset int64) (*reader, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, storage.ErrClosed
	}
	idle := l.readers[tp]
	var stale *reader
	for i, r := range idle {
		if r.next == offset {
			l.readers[tp] = append(idle[:i:i], idle[i+1:]...)
			l.mu.Unlock()
			return r, nil
		}
	}
	if len(idle) >= l.opts.idleReaders && len(idle) > 0 {
		stale = idle[0]
		l.readers[tp] = idle[1:]
	}
	l.mu.Unlock()
	if stale != nil {
		stale.cl.Close()
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(l.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{tp.Topic: {tp.Partition: kgo.NewOffset().At(offset)}}),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.FetchMaxWait(l.opts.fetchWait),
	}, l.opts.clientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &reader{tp: tp, cl: cl, next: offset}, nil
}

// putReader returns r to the idle pool unless it failed (a client that hit OFFSET_OUT_OF_RANGE
// with resets disabled is stuck) or the log closed meanwhile.
func (l *Log) putReader(r *reader, err error) {
	l.mu.Lock()
	if err == nil && !l.closed && len(l.readers[r.tp]) < l.opts.idleReaders {
		l.readers[r.tp] = append(l.readers[r.tp], r)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	r.cl.Close()
}
