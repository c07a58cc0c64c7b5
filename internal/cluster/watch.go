package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// cached is one key of a followed bucket: its value, decoded, and when this node
// learnt it (by its own clock).
type cached[T any] struct {
	v    T
	rev  uint64
	seen time.Time
}

// follower keeps this node's copy of a bucket, kept current by a watch, and says
// when it changed.
type follower[T any] struct {
	mu      sync.Mutex
	m       map[string]cached[T]
	changed chan struct{}
}

// follow watches every key of kv until the cluster stops and returns the copy
// once it holds every value that was there when it started.
func follow[T any](ctx context.Context, c *Cluster, kv jetstream.KeyValue, log *slog.Logger) (*follower[T], error) {
	wctx, cancel := context.WithCancel(context.Background())
	w, err := kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("cluster: watching %s: %w", kv.Bucket(), err)
	}
	f := &follower[T]{m: map[string]cached[T]{}, changed: make(chan struct{}, 1)}
	ready := make(chan struct{})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		defer func() { _ = w.Stop() }()
		initial := true
		for {
			select {
			case <-c.stop:
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil { // every value that was there has come
					if initial {
						initial = false
						close(ready)
					}
					continue
				}
				f.apply(e, log)
			}
		}
	}()
	select {
	case <-ready:
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cluster: reading %s: %w", kv.Bucket(), ctx.Err())
	}
}

func (f *follower[T]) apply(e jetstream.KeyValueEntry, log *slog.Logger) {
	f.mu.Lock()
	switch e.Operation() {
	case jetstream.KeyValuePut:
		var v T
		if err := json.Unmarshal(e.Value(), &v); err != nil {
			log.Warn("a value that does not decode", "bucket", e.Bucket(), "key", e.Key(), "err", err)
			f.mu.Unlock()
			return
		}
		f.m[e.Key()] = cached[T]{v: v, rev: e.Revision(), seen: time.Now()}
	default: // deleted, purged, or expired (a marker)
		delete(f.m, e.Key())
	}
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// get returns the value of key.
func (f *follower[T]) get(key string) (cached[T], bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	return v, ok
}

// each calls fn for every key.
func (f *follower[T]) each(fn func(key string, v cached[T])) {
	f.mu.Lock()
	list := make(map[string]cached[T], len(f.m))
	for k, v := range f.m {
		list[k] = v
	}
	f.mu.Unlock()
	for k, v := range list {
		fn(k, v)
	}
}
