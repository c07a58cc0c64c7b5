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
//
// A watch is an ordered consumer, which the client library recreates when it
// misses the server's heartbeats; but a process that was paused, or a server
// lost at the wrong moment, can leave it dead without a word. So the follower
// reads the bucket's last revision every staleCheck, and if by the next check
// it has not seen that revision come through the watch, it watches again from
// scratch.
type follower[T any] struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu      sync.Mutex
	m       map[string]cached[T]
	last    uint64 // the highest revision applied
	changed chan struct{}
}

// staleCheck is how often a follower checks that its watch keeps up.
const staleCheck = 3 * time.Second

// follow watches every key of kv until the cluster stops and returns the copy
// once it holds every value that was there when it started.
func follow[T any](ctx context.Context, c *Cluster, kv jetstream.KeyValue, log *slog.Logger) (*follower[T], error) {
	f := &follower[T]{kv: kv, log: log, m: map[string]cached[T]{}, changed: make(chan struct{}, 1)}
	ready := make(chan struct{})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f.run(c.stop, ready)
	}()
	select {
	case <-ready:
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cluster: reading %s: %w", kv.Bucket(), ctx.Err())
	}
}

// run watches the bucket, again whenever the watch dies or falls behind, until
// stop.
func (f *follower[T]) run(stop <-chan struct{}, ready chan struct{}) {
	first := true
	for {
		f.watch(stop, func() {
			if first {
				first = false
				close(ready)
			}
		})
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// watch follows one watch until stop, its end, or its falling behind. The
// values it replays first replace the copy at once, keys deleted meanwhile
// included; synced is called then.
func (f *follower[T]) watch(stop <-chan struct{}, synced func()) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := f.kv.WatchAll(ctx)
	if err != nil {
		f.log.Warn("watching a bucket", "bucket", f.kv.Bucket(), "err", err)
		return
	}
	defer func() { _ = w.Stop() }()
	fresh := map[string]cached[T]{}
	var freshLast uint64
	replaying := true
	check := time.NewTicker(staleCheck)
	defer check.Stop()
	var owed uint64 // the bucket's last revision at the previous check: seen by now, or the watch is dead
	for {
		select {
		case <-stop:
			return
		case <-check.C:
			if replaying {
				continue
			}
			f.mu.Lock()
			seen := f.last
			f.mu.Unlock()
			if owed > seen {
				f.log.Warn("a bucket's watch fell behind: watching it again", "bucket", f.kv.Bucket(),
					"seen", seen, "last", owed)
				return
			}
			owed = f.lastRevision(ctx)
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // every value that was there has come
				if replaying {
					replaying = false
					f.mu.Lock()
					f.m, f.last = fresh, max(f.last, freshLast)
					f.mu.Unlock()
					f.poke()
					synced()
				}
				continue
			}
			if replaying {
				freshLast = max(freshLast, e.Revision())
				f.put(fresh, e)
				continue
			}
			f.mu.Lock()
			f.last = max(f.last, e.Revision())
			f.put(f.m, e)
			f.mu.Unlock()
			f.poke()
		}
	}
}

// lastRevision is the bucket's last revision now (0 if it cannot be read: NATS
// away is not the watch's fault).
func (f *follower[T]) lastRevision(ctx context.Context) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := f.kv.Status(ctx)
	if err != nil {
		return 0
	}
	s, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return 0
	}
	return s.StreamInfo().State.LastSeq
}

// put applies e to m.
func (f *follower[T]) put(m map[string]cached[T], e jetstream.KeyValueEntry) {
	switch e.Operation() {
	case jetstream.KeyValuePut:
		var v T
		if err := json.Unmarshal(e.Value(), &v); err != nil {
			f.log.Warn("a value that does not decode", "bucket", e.Bucket(), "key", e.Key(), "err", err)
			return
		}
		m[e.Key()] = cached[T]{v: v, rev: e.Revision(), seen: time.Now()}
	default: // deleted, purged, or expired (a marker)
		delete(m, e.Key())
	}
}

func (f *follower[T]) poke() {
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
