package embedded

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/segment"
)

// groupFile is one consumer group's committed positions (groups/<hex of name>.json). Version 1.
// The whole file is rewritten on each commit via rename, so a reader after a crash sees either
// the previous commit or the new one. Group names are hex-encoded because they are arbitrary
// strings chosen by clients, and a file name must not interpret them.
type groupFile struct {
	Version int           `json:"version"`
	Group   string        `json:"group"`
	Offsets []groupOffset `json:"offsets"`
}

type groupOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

func (l *Log) groupPath(group string) string {
	return filepath.Join(l.groupsDir(), hex.EncodeToString([]byte(group))+".json")
}

// loadGroup returns the cached offsets of group, reading its file on first use. Caller holds
// groupsMu.
func (l *Log) loadGroup(group string) (map[storage.TopicPartition]int64, error) {
	if m, ok := l.groups[group]; ok {
		return m, nil
	}
	m := map[storage.TopicPartition]int64{}
	b, err := os.ReadFile(l.groupPath(group))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, err
	default:
		var f groupFile
		if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
			return nil, fmt.Errorf("storage: group %q: unreadable offsets file (version %d): %v", group, f.Version, err)
		}
		for _, o := range f.Offsets {
			m[storage.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
		}
	}
	l.groups[group] = m
	return m, nil
}

func (l *Log) storeGroup(group string, m map[storage.TopicPartition]int64) error {
	f := groupFile{Version: 1, Group: group}
	for tp, off := range m {
		f.Offsets = append(f.Offsets, groupOffset{Topic: tp.Topic, Partition: tp.Partition, Offset: off})
	}
	sort.Slice(f.Offsets, func(i, j int) bool {
		a, b := f.Offsets[i], f.Offsets[j]
		return a.Topic < b.Topic || (a.Topic == b.Topic && a.Partition < b.Partition)
	})
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return segment.WriteFileAtomic(l.groupPath(group), b, l.opts.fsync != FsyncNever)
}

// CommitOffsets merges offsets into the group's committed positions. The in-memory copy changes
// only after the file is durable, so FetchOffsets never reports a commit a crash could undo.
func (l *Log) CommitOffsets(ctx context.Context, group string, offsets map[storage.TopicPartition]int64) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	l.groupsMu.Lock()
	defer l.groupsMu.Unlock()
	cur, err := l.loadGroup(group)
	if err != nil {
		return err
	}
	next := make(map[storage.TopicPartition]int64, len(cur)+len(offsets))
	for tp, o := range cur {
		next[tp] = o
	}
	for tp, o := range offsets {
		next[tp] = o
	}
	if err := l.storeGroup(group, next); err != nil {
		return err
	}
	l.groups[group] = next
	return nil
}

func (l *Log) FetchOffsets(ctx context.Context, group string) (map[storage.TopicPartition]int64, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	l.groupsMu.Lock()
	defer l.groupsMu.Unlock()
	cur, err := l.loadGroup(group)
	if err != nil {
		return nil, err
	}
	out := make(map[storage.TopicPartition]int64, len(cur))
	for tp, o := range cur {
		out[tp] = o
	}
	return out, nil
}

// forgetTopicOffsets removes a deleted topic from every group's committed positions.
func (l *Log) forgetTopicOffsets(topic string) error {
	l.groupsMu.Lock()
	defer l.groupsMu.Unlock()
	entries, err := os.ReadDir(l.groupsDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(name)
		if err != nil {
			continue
		}
		group := string(raw)
		cur, err := l.loadGroup(group)
		if err != nil {
			return err
		}
		next := make(map[storage.TopicPartition]int64, len(cur))
		for tp, o := range cur {
			if tp.Topic != topic {
				next[tp] = o
			}
		}
		if len(next) == len(cur) {
			continue
		}
		if err := l.storeGroup(group, next); err != nil {
			return err
		}
		l.groups[group] = next
	}
	return nil
}

func (l *Log) checkOpen() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return storage.ErrClosed
	}
	return nil
}
