package live

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// Errors of routing a join in a cluster.
var (
	// ErrWrongNode refuses a room socket on a node that does not run the room:
	// the join API names the right one.
	ErrWrongNode = errcode.New(errcode.WrongNode, "this room runs on another node: ask the join API where")
	// ErrMoving: the room has no owner for a moment (it is being handed over or
	// taken over); try again in a second.
	ErrMoving = errcode.New(errcode.Unavailable, "the room is moving to another server: try again in a moment")
)

// JoinInfo says where to connect to a room.
type JoinInfo struct {
	Node string `json:"node"`
	URL  string `json:"url"` // the node's base URL ("" for this node: the caller knows its own)
	UDP  string `json:"udp,omitempty"`
	TCP  string `json:"tcp,omitempty"`
}

// Route says which node to connect to for roomID (routing.go chooses among the
// nodes of a cluster). It refuses what the room socket refuses before its
// upgrade (a closed room is not found but to its members; a guest needs an open
// room that takes guests now) and leaves the rest to the room's own rules on its
// socket. A room between two owners is waited for, up to a few seconds.
func (h *Hub) Route(ctx context.Context, viewer, roomID string) (JoinInfo, error) {
	return h.route(ctx, roomID, func(e DirectoryEntry) error { return h.mayTry(ctx, viewer, e) })
}

// RouteAdmin is Route for a server admin (the caller checked the account): it
// names the node of any live room, closed ones too, as the admin console lists
// them all; the room's rules decide at the join (ModerateAsAdmin).
func (h *Hub) RouteAdmin(ctx context.Context, roomID string) (JoinInfo, error) {
	return h.route(ctx, roomID, func(DirectoryEntry) error { return nil })
}

// route finds the owner of roomID, once check lets the caller try it.
func (h *Hub) route(ctx context.Context, roomID string, check func(DirectoryEntry) error) (JoinInfo, error) {
	deadline := time.Now().Add(moveWait)
	for {
		e, ok := h.entry(roomID)
		if !ok {
			return JoinInfo{}, ErrRoomNotFound
		}
		if err := check(e); err != nil {
			return JoinInfo{}, err
		}
		self := h.cl.Nodes.Self()
		if !h.cl.Multi() {
			return JoinInfo{Node: self.Name, UDP: self.UDP, TCP: self.TCP}, nil
		}
		if n, ok := h.chooseNode(e); ok {
			return JoinInfo{Node: n.Name, URL: n.URL, UDP: n.UDP, TCP: n.TCP}, nil
		}
		owner := e.Owner
		if owner == self.Name || !h.isLiveNode(owner) {
			// The directory lags a move (or this node's copy does): the lease
			// says who runs the room now.
			if holder, _, held, err := h.cl.Leases.Holder(ctx, roomID); err == nil && held {
				owner = holder
			}
		}
		for _, n := range h.heardNodes() {
			if n.Name == owner && n.Name != self.Name && !n.Draining {
				h.joins.add(n.Name, time.Now()) // counted as chooseNode counts its joins
				return JoinInfo{Node: n.Name, URL: n.URL, UDP: n.UDP, TCP: n.TCP}, nil
			}
		}
		if !time.Now().Before(deadline) {
			return JoinInfo{}, ErrMoving
		}
		select {
		case <-ctx.Done():
			return JoinInfo{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// mayTry says whether viewer ("" for a guest) may try to join the room e at all,
// as CheckJoinable does on the node that runs it.
func (h *Hub) mayTry(ctx context.Context, viewer string, e DirectoryEntry) error {
	switch {
	case viewer == "" && e.Type == room.Closed:
		return ErrRoomNotFound
	case viewer == "" && !e.AllowGuests:
		return room.ErrGuestsNotAllowed
	case viewer == "" || e.Type != room.Closed:
		return nil
	}
	vis, err := h.newVisibility(ctx, viewer, []DirectoryEntry{e})
	if err != nil {
		return err
	}
	if !vis.member(e) {
		return ErrRoomNotFound
	}
	return nil
}

// isLiveNode reports whether the node called name is live, heard from lately
// and not draining.
func (h *Hub) isLiveNode(name string) bool {
	for _, n := range h.heardNodes() {
		if n.Name == name {
			return !n.Draining
		}
	}
	return false
}

// isDraining reports whether this node is draining.
func (h *Hub) isDraining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}

// Stats are what the node registry says of this node.
type Stats struct {
	Rooms    int
	Sockets  int
	Draining bool
}

// Stats returns this node's figures.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{Rooms: len(h.rooms), Sockets: h.open, Draining: h.draining}
}

// nodeReq is a request to one node by name.
type nodeReq struct {
	Op   string `json:"op"`             // opTake
	Room string `json:"room"`           // the room to take
	From uint64 `json:"from,omitempty"` // the revision of the lease it is taken from
}

const opTake = "take" // take the room over from a draining owner

// answerNodeRequest answers another node's request to this one.
func (h *Hub) answerNodeRequest(ctx context.Context, data []byte) []byte {
	var req nodeReq
	if err := json.Unmarshal(data, &req); err != nil || req.Op != opTake || req.Room == "" {
		return mustJSON(roomResp{Err: &wireError{Code: errcode.BadRequest, Message: "a request that does not decode"}})
	}
	if h.isDraining() {
		return mustJSON(roomResp{Err: toWire(ErrShuttingDown)})
	}
	lease, err := h.cl.Leases.Acquire(ctx, req.Room, req.From)
	if err == nil {
		err = h.restore(ctx, req.Room, lease)
	}
	return mustJSON(roomResp{Err: toWire(err)})
}

// Drain is how a node of a cluster stops without ending a room: it takes no new
// room and no new join, hands each room it runs to another node (its state, and
// a new lease), tells the room's sockets to reconnect (they reach the new owner
// through the join API), and waits, up to ctx, for its sockets to close. Rooms
// it cannot hand over (no other node) keep their state: the next node to come
// takes them over.
func (h *Hub) Drain(ctx context.Context) error {
	h.mu.Lock()
	h.draining = true
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	h.cl.Nodes.Announce()
	for _, r := range rooms {
		if err := h.handOver(ctx, r); err != nil {
			h.log.Warn("handing a room over", "room", r.id, "err", err)
		}
	}
	// The user sockets go too: their clients open them again elsewhere.
	h.mu.Lock()
	var users []*userConn
	for _, set := range h.users {
		for uc := range set {
			users = append(users, uc)
		}
	}
	h.mu.Unlock()
	for _, uc := range users {
		uc.close(ByeMoved)
	}
	done := make(chan struct{})
	go func() { h.socketsWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handOver gives r to another node.
func (h *Hub) handOver(ctx context.Context, r *liveRoom) error {
	self := h.cl.Nodes.Self().Name
	var targets []NodeInfo
	for _, n := range h.cl.Nodes.Live() {
		if n.Name != self && !n.Draining {
			targets = append(targets, n)
		}
	}
	if len(targets) == 0 {
		return errors.New("live: no other node to hand the room to")
	}
	slices.SortFunc(targets, func(a, b NodeInfo) int { return rank(r.id, a.Name, targets) - rank(r.id, b.Name, targets) })
	var err error
	if !r.do(func() {
		if r.stopped {
			return
		}
		// The last state is saved (every change is, before its ok), then the
		// lease frozen: the new owner's lease is won from this revision.
		r.saveState()
		r.lease.Release(ctx, false) // no renewal from now on: the revision stays
		from := r.lease.Revision()
		for _, n := range targets {
			var out []byte
			out, err = h.cl.Rooms.RequestNode(ctx, n.Name, mustJSON(nodeReq{Op: opTake, Room: r.id, From: from}))
			if err == nil {
				var resp roomResp
				if err = json.Unmarshal(out, &resp); err == nil {
					err = resp.Err.err()
				}
			}
			if err == nil {
				h.log.Info("handed a room over", "room", r.id, "to", n.Name)
				break
			}
		}
		// Handed over or not, this node no longer renews the lease: without a
		// new owner, the room is taken over once the lease expires.
		r.stepDown()
	}) {
		return nil
	}
	return err
}
