package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/townhall/townhall/internal/live"
)

// directory is the cluster's list of live rooms: the hallway bucket, one key per
// room written by its owner, followed by every node.
type directory struct {
	c  *Cluster
	kv jetstream.KeyValue
	f  *follower[live.DirectoryEntry]
}

func startDirectory(ctx context.Context, c *Cluster, kv jetstream.KeyValue) (*directory, error) {
	f, err := follow[live.DirectoryEntry](ctx, c, kv, c.log)
	if err != nil {
		return nil, err
	}
	return &directory{c: c, kv: kv, f: f}, nil
}

// Put writes e unless the entry in store has a newer epoch: an owner that lost
// the room (paused in the middle of a write) cannot put its old entry back.
func (d *directory) Put(ctx context.Context, e live.DirectoryEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	for range 10 {
		cur, err := d.kv.Get(ctx, e.ID)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			if _, err = d.kv.Create(ctx, e.ID, b); err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
				return err
			}
			continue
		case err != nil:
			return err
		}
		var old stateMeta // the epoch, as in the rooms bucket
		if json.Unmarshal(cur.Value(), &old) == nil && old.Epoch > e.Epoch {
			return nil // a newer owner wrote it: this one is stale
		}
		if _, err = d.kv.Update(ctx, e.ID, b, cur.Revision()); err == nil || !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("cluster: writing the entry of room %s: too many writers at once", e.ID)
}

func (d *directory) Delete(ctx context.Context, roomID string) error {
	err := d.kv.Delete(ctx, roomID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

func (d *directory) List() []live.DirectoryEntry {
	var out []live.DirectoryEntry
	d.f.each(func(_ string, v cached[live.DirectoryEntry]) { out = append(out, v.v) })
	return out
}

func (d *directory) Get(roomID string) (live.DirectoryEntry, bool) {
	v, ok := d.f.get(roomID)
	return v.v, ok
}

func (d *directory) Changed() <-chan struct{} { return d.f.changed }

// leases are the rooms' leases: the owners bucket, whose keys expire LeaseTTL
// after their last write. The holder renews its key every third of that with
// compare-and-set on its revision; a failed renewal loses the lease.
type leases struct {
	c  *Cluster
	kv jetstream.KeyValue
}

// leaseValue is what the owners bucket holds for a room.
type leaseValue struct {
	Node  string `json:"node"`
	Epoch uint64 `json:"epoch"` // 0 in the first write: the epoch is that write's revision
}

func (l *leases) Acquire(ctx context.Context, roomID string, from uint64) (live.Lease, error) {
	b, _ := json.Marshal(leaseValue{Node: l.c.self.Name})
	start := time.Now()
	var rev uint64
	var err error
	if from == 0 {
		rev, err = l.kv.Create(ctx, roomID, b)
	} else {
		rev, err = l.kv.Update(ctx, roomID, b, from)
	}
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return nil, live.ErrLeaseHeld
		}
		return nil, err
	}
	ls := &lease{l: l, room: roomID, epoch: rev, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	ls.rev.Store(rev)
	ls.renewedAt.Store(start.UnixNano())
	l.c.wg.Add(1)
	go ls.renew()
	return ls, nil
}

func (l *leases) Holder(ctx context.Context, roomID string) (string, uint64, bool, error) {
	e, err := l.kv.Get(ctx, roomID)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	var v leaseValue
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return "", 0, false, err
	}
	if v.Epoch == 0 {
		v.Epoch = e.Revision()
	}
	return v.Node, v.Epoch, true, nil
}

// lease is one room's lease held by this node.
type lease struct {
	l         *leases
	room      string
	epoch     uint64
	rev       atomic.Uint64
	renewedAt atomic.Int64 // unix ns of the start of the last renewal that succeeded
	lost      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once
}

func (s *lease) Epoch() uint64         { return s.epoch }
func (s *lease) Revision() uint64      { return s.rev.Load() }
func (s *lease) Lost() <-chan struct{} { return s.lost }

// Valid: the key was written at or after the start of the last renewal that
// succeeded, so it lives at least LeaseTTL after it; half a second of margin
// covers the clocks' drift and the time to act.
func (s *lease) Valid() bool {
	select {
	case <-s.lost:
		return false
	default:
	}
	return time.Since(time.Unix(0, s.renewedAt.Load())) < s.l.c.opts.LeaseTTL-500*time.Millisecond
}

func (s *lease) Release(ctx context.Context, del bool) {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	if del {
		if err := s.l.kv.Delete(ctx, s.room, jetstream.LastRevision(s.rev.Load())); err != nil &&
			!errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.l.c.log.Warn("releasing a lease", "room", s.room, "err", err)
		}
	}
}

// renew renews the lease every third of its life until released; a renewal
// refused (someone else holds the key now) or impossible for the lease's whole
// life loses it.
func (s *lease) renew() {
	defer s.l.c.wg.Done()
	defer close(s.done)
	ttl := s.l.c.opts.LeaseTTL
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	b, _ := json.Marshal(leaseValue{Node: s.l.c.self.Name, Epoch: s.epoch})
	for {
		select {
		case <-s.stop:
			return
		case <-s.l.c.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		rev, err := s.l.kv.Update(ctx, s.room, b, s.rev.Load())
		cancel()
		switch {
		case err == nil:
			s.rev.Store(rev)
			s.renewedAt.Store(start.UnixNano())
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound),
			errors.Is(err, jetstream.ErrKeyDeleted), !s.Valid():
			s.l.c.log.Warn("lost a room's lease", "room", s.room, "epoch", s.epoch, "err", err)
			close(s.lost)
			return
		default:
			s.l.c.log.Warn("renewing a room's lease", "room", s.room, "err", err) // try again at the next tick
		}
	}
}

// states are the rooms' lasting states: the rooms bucket, one key per room,
// written by its owner with compare-and-set on the revision, and refused to an
// owner whose epoch is older than the one that wrote last.
type states struct {
	c  *Cluster
	kv jetstream.KeyValue
	f  *follower[stateMeta]

	mu   sync.Mutex
	revs map[string]uint64 // room → the revision of this node's last write: one round trip for the next
}

// stateValue is what the rooms bucket holds for a room.
type stateValue struct {
	Epoch uint64          `json:"epoch"`
	Data  json.RawMessage `json:"data"`
}

// stateMeta is the part of a stateValue the followers keep.
type stateMeta struct {
	Epoch uint64 `json:"epoch"`
}

func startStates(ctx context.Context, c *Cluster, kv jetstream.KeyValue) (*states, error) {
	f, err := follow[stateMeta](ctx, c, kv, c.log)
	if err != nil {
		return nil, err
	}
	return &states{c: c, kv: kv, f: f, revs: map[string]uint64{}}, nil
}

func (s *states) Save(ctx context.Context, roomID string, epoch uint64, data []byte) error {
	b, err := json.Marshal(stateValue{Epoch: epoch, Data: data})
	if err != nil {
		return err
	}
	s.mu.Lock()
	last, ok := s.revs[roomID]
	s.mu.Unlock()
	if ok { // nobody wrote since this node did: the epoch in store is its own
		if rev, err := s.kv.Update(ctx, roomID, b, last); err == nil {
			s.remember(roomID, rev)
			return nil
		}
	}
	for range 10 {
		e, err := s.kv.Get(ctx, roomID)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			rev, err := s.kv.Create(ctx, roomID, b)
			if err == nil {
				s.remember(roomID, rev)
			}
			if err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
				return err
			}
			continue
		case err != nil:
			return err
		}
		var cur stateMeta
		if err := json.Unmarshal(e.Value(), &cur); err != nil {
			return err
		}
		if cur.Epoch > epoch {
			s.forget(roomID)
			return live.ErrStaleEpoch
		}
		rev, err := s.kv.Update(ctx, roomID, b, e.Revision())
		if err == nil {
			s.remember(roomID, rev)
		}
		if err == nil || !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("cluster: saving the state of room %s: too many writers at once", roomID)
}

func (s *states) Load(ctx context.Context, roomID string) ([]byte, uint64, bool, error) {
	e, err := s.kv.Get(ctx, roomID)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	var v stateValue
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, 0, false, err
	}
	return v.Data, v.Epoch, true, nil
}

func (s *states) remember(roomID string, rev uint64) {
	s.mu.Lock()
	s.revs[roomID] = rev
	s.mu.Unlock()
}

func (s *states) forget(roomID string) {
	s.mu.Lock()
	delete(s.revs, roomID)
	s.mu.Unlock()
}

func (s *states) Delete(ctx context.Context, roomID string) error {
	s.forget(roomID)
	err := s.kv.Delete(ctx, roomID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

func (s *states) List(context.Context) ([]string, error) {
	var out []string
	s.f.each(func(k string, _ cached[stateMeta]) { out = append(out, k) })
	return out, nil
}
