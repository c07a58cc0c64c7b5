package live

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/shrink"
)

// The in-process seams: one node is the whole cluster. Nothing here leaves the
// process, and nothing fails.

// LocalCluster returns the in-process seams: one node, self, is the whole
// cluster. The zero Cluster of Options gets them.
func LocalCluster(self NodeInfo) Cluster { return localCluster(self) }

func localCluster(self NodeInfo) Cluster {
	return Cluster{
		Nodes:      &localNodes{self: self},
		Directory:  newLocalDirectory(),
		Leases:     &localLeases{},
		RoomStates: &localStates{m: map[string]localState{}},
		Rooms:      localRooms{},
		Users:      newLocalUsers(),
		Presence:   &localPresence{m: map[string]string{}},
		Counters:   &localCounters{m: map[string]int{}},
	}
}

type localNodes struct{ self NodeInfo }

func (n *localNodes) Self() NodeInfo   { return n.self }
func (n *localNodes) Live() []NodeInfo { s := n.self; s.At = time.Now(); return []NodeInfo{s} }
func (n *localNodes) Announce()        {}

type localDirectory struct {
	mu      sync.Mutex
	m       map[string]DirectoryEntry
	changed chan struct{}
}

func newLocalDirectory() *localDirectory {
	return &localDirectory{m: map[string]DirectoryEntry{}, changed: make(chan struct{}, 1)}
}

func (d *localDirectory) Put(_ context.Context, e DirectoryEntry) error {
	d.mu.Lock()
	if cur, ok := d.m[e.ID]; !ok || cur.Epoch <= e.Epoch {
		d.m[e.ID] = e
	}
	d.mu.Unlock()
	d.poke()
	return nil
}

func (d *localDirectory) Delete(_ context.Context, id string) error {
	d.mu.Lock()
	delete(d.m, id)
	d.mu.Unlock()
	d.poke()
	return nil
}

func (d *localDirectory) poke() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *localDirectory) List() []DirectoryEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]DirectoryEntry, 0, len(d.m))
	for _, e := range d.m {
		out = append(out, e)
	}
	return out
}

func (d *localDirectory) Get(id string) (DirectoryEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[id]
	return e, ok
}

func (d *localDirectory) Changed() <-chan struct{} { return d.changed }

// localLeases hands out leases that never expire: one process owns every room.
type localLeases struct {
	mu    sync.Mutex
	epoch uint64
}

func (l *localLeases) Acquire(context.Context, string, uint64) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epoch++
	return &localLease{epoch: l.epoch, lost: make(chan struct{})}, nil
}

func (l *localLeases) Holder(context.Context, string) (string, uint64, bool, error) {
	return "", 0, false, nil
}

type localLease struct {
	epoch uint64
	lost  chan struct{}
}

func (l *localLease) Epoch() uint64                 { return l.epoch }
func (l *localLease) Revision() uint64              { return l.epoch }
func (l *localLease) Lost() <-chan struct{}         { return l.lost }
func (l *localLease) Valid() bool                   { return true }
func (l *localLease) Release(context.Context, bool) {}

type localState struct {
	data  []byte
	epoch uint64
}

type localStates struct {
	mu sync.Mutex
	m  map[string]localState
}

func (s *localStates) Save(_ context.Context, id string, epoch uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.m[id]; ok && cur.epoch > epoch {
		return ErrStaleEpoch
	}
	s.m[id] = localState{data: slices.Clone(data), epoch: epoch}
	return nil
}

func (s *localStates) Load(_ context.Context, id string) ([]byte, uint64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[id]
	return cur.data, cur.epoch, ok, nil
}

func (s *localStates) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
	return nil
}

func (s *localStates) List(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for id := range s.m {
		out = append(out, id)
	}
	return out, nil
}

// localRooms: every room is in this process, so no request ever leaves it.
type localRooms struct{}

func (localRooms) Serve(string, func(context.Context, []byte) []byte) (func(), error) {
	return func() {}, nil
}

func (localRooms) Request(context.Context, string, []byte) ([]byte, error) { return nil, ErrNoOwner }

func (localRooms) ServeNode(func(context.Context, []byte) []byte) error { return nil }

func (localRooms) RequestNode(context.Context, string, []byte) ([]byte, error) {
	return nil, ErrNoOwner
}

func (localRooms) SendRoom(string, []byte) error { return ErrNoOwner }

func (localRooms) ServeStream(string, func([]byte)) (func(), error) { return func() {}, nil }

func (localRooms) SendNode(string, []byte) error { return ErrNoOwner }

func (localRooms) HandleNode(func([]byte)) error { return nil }

// localUsers hands every message straight to the one handler.
type localUsers struct {
	mu sync.Mutex
	fn func(string, []byte)
}

func newLocalUsers() *localUsers { return &localUsers{} }

func (u *localUsers) Publish(_ context.Context, user string, msg []byte) error {
	u.mu.Lock()
	fn := u.fn
	u.mu.Unlock()
	if fn != nil {
		fn(user, msg)
	}
	return nil
}

func (u *localUsers) Handle(fn func(string, []byte)) error {
	u.mu.Lock()
	u.fn = fn
	u.mu.Unlock()
	return nil
}

type localPresence struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *localPresence) Enter(_ context.Context, user, roomID string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.m[user]
	p.m[user] = roomID
	if prev == roomID {
		return "", nil
	}
	return prev, nil
}

func (p *localPresence) Leave(_ context.Context, user, roomID string) {
	p.mu.Lock()
	if p.m[user] == roomID {
		delete(p.m, user)
	}
	p.mu.Unlock()
}

func (p *localPresence) Where(user string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.m[user]
	return r, ok
}

type localCounters struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *localCounters) Add(_ context.Context, key string, delta, max int) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.m[key] + delta
	if delta > 0 && max > 0 && n > max {
		return false, nil
	}
	if n <= 0 {
		delete(c.m, key)
	} else {
		c.m[key] = n
	}
	return true, nil
}

// compact lets the map, which never shrinks by itself, start small again
// (Hub.releaseMemory).
func (c *localCounters) compact() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = shrink.Map(c.m)
}
