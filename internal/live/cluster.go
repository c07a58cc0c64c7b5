package live

import (
	"context"
	"errors"
	"time"
)

// The seams between the live layer and the other nodes of a cluster. Each has an
// in-process implementation (local.go: one node, the default) and one on NATS
// (internal/cluster); the live layer does not know which one runs, so one node and
// many take the same code path. A room has one owner node, which runs its state
// machine; see docs/cluster.md.

// NodeInfo describes a node of the cluster.
type NodeInfo struct {
	Name     string    `json:"name"`
	Region   string    `json:"region,omitempty"`
	Version  string    `json:"version,omitempty"`
	URL      string    `json:"url"`             // where clients reach this node (its sockets)
	UDP      string    `json:"udp,omitempty"`   // its media address, UDP
	TCP      string    `json:"tcp,omitempty"`   // its media address, ICE-TCP
	Relay    string    `json:"relay,omitempty"` // its relay address (UDP, host:port): audio between nodes
	Rooms    int       `json:"rooms"`           // live rooms it owns
	Sockets  int       `json:"sockets"`         // open sockets
	Load     float64   `json:"load"`            // CPU used, in cores, over the last seconds
	Cores    int       `json:"cores,omitempty"` // CPUs it may use
	Draining bool      `json:"draining,omitempty"`
	At       time.Time `json:"at"` // when it last said all this (in Nodes.Live: when this node last heard it)
}

// DirectoryEntry is a live room as the cluster-wide directory shows it: the card of
// the hallway, where its owner is, and what deciding who may see it needs.
type DirectoryEntry struct {
	Summary
	Owner       string   `json:"owner"` // the node that runs it
	Epoch       uint64   `json:"epoch"` // its owner's lease (see Lease)
	CoHosts     []string `json:"co_hosts,omitempty"`
	ClubID      string   `json:"club_id,omitempty"`
	MembersOnly bool     `json:"members_only,omitempty"`
	Invited     []string `json:"invited,omitempty"` // invited to the conversation (room.Room.Invited)
	Removed     []string `json:"removed,omitempty"` // removed by a moderator
	// Edges are the other nodes with participants of the room: joins go to
	// the nodes that already carry it first.
	Edges []string `json:"edges,omitempty"`
}

// Directory is the cluster-wide list of live rooms: each owner puts its rooms'
// entries, every node reads them (the hallway, routing a join).
type Directory interface {
	// Put writes e, unless the entry there has a newer Epoch (an owner that lost
	// the room cannot write it back).
	Put(ctx context.Context, e DirectoryEntry) error
	Delete(ctx context.Context, roomID string) error
	// List and Get read this node's copy, which follows the others' writes
	// within a fraction of a second.
	List() []DirectoryEntry
	Get(roomID string) (DirectoryEntry, bool)
	// Changed receives a value (coalesced) whenever an entry changed.
	Changed() <-chan struct{}
}

// Lease is a node's ownership of one room. Its Epoch is the revision of the write
// that won it: every state write and event of the room carries it, and whatever
// carries an older one is dropped.
type Lease interface {
	Epoch() uint64
	// Revision is the revision of the lease's last renewal: another node takes a
	// room over from this lease (a handover) by naming it.
	Revision() uint64
	// Lost is closed once the lease could not be renewed: the owner steps down
	// at once.
	Lost() <-chan struct{}
	// Valid reports whether the lease surely still holds: renewed within its
	// time to live. A room checks it before each thing it does, so that an owner
	// that was paused does nothing once it wakes after its lease expired.
	Valid() bool
	// Release gives the room up: Delete removes the lease (the room ended), else
	// it is only no longer renewed (handed over).
	Release(ctx context.Context, delete bool)
}

// Leases hands out room leases.
type Leases interface {
	// Acquire takes the lease of roomID if nobody holds it or, with from not 0,
	// takes it over from the lease whose Revision is from (a handover).
	// ErrLeaseHeld if someone else holds it.
	Acquire(ctx context.Context, roomID string, from uint64) (Lease, error)
	// Holder says which node holds the lease of roomID; ok false if nobody does.
	Holder(ctx context.Context, roomID string) (node string, epoch uint64, ok bool, err error)
}

// ErrLeaseHeld: another node holds the lease.
var ErrLeaseHeld = errors.New("live: another node holds the room's lease")

// RoomStates keeps each live room's lasting state (room.Saved and the names of
// the people it keeps) for whoever runs the room next.
type RoomStates interface {
	// Save stores data as the state of roomID written by the owner of epoch. It
	// refuses (ErrStaleEpoch) a write of an epoch older than the stored one.
	Save(ctx context.Context, roomID string, epoch uint64, data []byte) error
	// Load returns the stored state and the epoch that wrote it; ok false if none.
	Load(ctx context.Context, roomID string) (data []byte, epoch uint64, ok bool, err error)
	Delete(ctx context.Context, roomID string) error
	// List lists the rooms with a stored state.
	List(ctx context.Context) ([]string, error)
}

// ErrStaleEpoch refuses a write by an owner that is no longer the owner.
var ErrStaleEpoch = errors.New("live: the room has a newer owner")

// RoomBus carries requests from any node to the owner of a room, and to a node
// by name (a handover).
type RoomBus interface {
	// Serve answers the requests for roomID with h until stop is called.
	Serve(roomID string, h func(ctx context.Context, req []byte) []byte) (stop func(), err error)
	// Request sends req to whoever serves roomID; ErrNoOwner if nobody does.
	Request(ctx context.Context, roomID string, req []byte) ([]byte, error)
	// ServeNode answers the requests sent to this node by name, once.
	ServeNode(h func(ctx context.Context, req []byte) []byte) error
	// RequestNode sends req to the node called name; ErrNoOwner if it is gone.
	RequestNode(ctx context.Context, name string, req []byte) ([]byte, error)

	// Streams: one-way messages that keep their order from one node to
	// another (at most once: a lost one shows as a gap in the sender's own
	// numbering). SendRoom sends msg to whoever serves roomID's stream (its
	// owner); ServeStream hands each message sent to roomID to h, in order, on
	// one goroutine, until stop is called.
	SendRoom(roomID string, msg []byte) error
	ServeStream(roomID string, h func(msg []byte)) (stop func(), err error)
	// SendNode sends msg to the node called name; HandleNode sets, once, the
	// function told in order of every message sent to this node.
	SendNode(name string, msg []byte) error
	HandleNode(h func(msg []byte)) error
}

// ErrNoOwner: no node serves the room (it ended, or it is moving).
var ErrNoOwner = errors.New("live: no node runs this room now")

// UserBus carries messages about a user to every node: notifications for their
// sockets, the end of their sessions.
type UserBus interface {
	Publish(ctx context.Context, userID string, msg []byte) error
	// Handle sets the function told of every message, once.
	Handle(fn func(userID string, msg []byte)) error
}

// Presence says which room each signed-in user is in, across the cluster.
type Presence interface {
	// Enter records that user is in roomID and returns the room they were in
	// before, if another.
	Enter(ctx context.Context, user, roomID string) (previous string, err error)
	// Leave records that user left roomID (unless they are elsewhere by now).
	Leave(ctx context.Context, user, roomID string)
	// Where reads this node's copy.
	Where(user string) (roomID string, ok bool)
}

// Counters count things across the cluster: open sockets per user, guest
// sockets per address.
type Counters interface {
	// Add adds delta to key's count and reports whether the count stayed within
	// max (0: no max); over it, nothing is added.
	Add(ctx context.Context, key string, delta, max int) (bool, error)
}

// Nodes is the registry of the cluster's nodes.
type Nodes interface {
	Self() NodeInfo
	// Live lists the nodes that said they are alive in the last seconds.
	Live() []NodeInfo
	// Announce says what this node is now (it drains) without waiting for the
	// next regular update.
	Announce()
}

// Cluster is every seam at once. The zero value runs one node, in process.
type Cluster struct {
	Nodes      Nodes
	Directory  Directory
	Leases     Leases
	RoomStates RoomStates
	Rooms      RoomBus
	Users      UserBus
	Presence   Presence
	Counters   Counters
}

// Multi reports whether c spans other nodes (a NATS cluster).
func (c Cluster) Multi() bool { _, local := c.Nodes.(*localNodes); return !local }
