package live

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// edgeRoom is a room this node does not run but has sockets of: an edge of the
// room (link.go tells the owner's side). The node takes the sockets, the
// heartbeats and the audio of its participants; the owner runs the room. Every
// frame a socket sends that is not its own audio signaling goes to the owner on
// the room's stream; the owner's linkMsgs come back on this node's stream, and
// their ops go to the sockets here, the events numbered per socket here.
type edgeRoom struct {
	h  *Hub
	id string

	mu    sync.Mutex
	owner string // the node that runs the room
	epoch uint64 // its lease
	seq   uint64 // the last linkMsg of the owner (0: none yet of this owner)
	socks map[uint64]*conn
	// joining are the sockets whose first join is under way: a change of owner
	// meanwhile does not reattach them, their join goes on to the new owner.
	joining map[uint64]bool
}

// edgeRoom returns this node's edge of roomID, making it for the room's owner.
func (h *Hub) edgeRoom(roomID string, e DirectoryEntry) *edgeRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	er := h.edges[roomID]
	if er == nil {
		er = &edgeRoom{h: h, id: roomID, owner: e.Owner, epoch: e.Epoch, socks: map[uint64]*conn{}, joining: map[uint64]bool{}}
		h.edges[roomID] = er
	}
	return er
}

// edgeOf returns this node's edge of roomID, if it has one.
func (h *Hub) edgeOf(roomID string) (*edgeRoom, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	er, ok := h.edges[roomID]
	return er, ok
}

// conns returns the edge's sockets.
func (er *edgeRoom) conns() []*conn {
	er.mu.Lock()
	defer er.mu.Unlock()
	out := make([]*conn, 0, len(er.socks))
	for _, c := range er.socks {
		out = append(out, c)
	}
	return out
}

// remove forgets c, and the edge itself once it has no socket left.
func (er *edgeRoom) remove(c *conn) {
	er.mu.Lock()
	delete(er.socks, c.sock)
	empty := len(er.socks) == 0
	er.mu.Unlock()
	if !empty {
		return
	}
	er.h.mu.Lock()
	er.mu.Lock()
	if len(er.socks) == 0 && er.h.edges[er.id] == er {
		delete(er.h.edges, er.id)
		// The room's audio here ends with its last socket, unless this node
		// has taken the room over: then it is the owner's.
		if _, mine := er.h.rooms[er.id]; !mine && er.h.opts.Media != nil {
			defer er.h.opts.Media.CloseRoom(er.id)
		}
	}
	er.mu.Unlock()
	er.h.mu.Unlock()
}

// serveEdge is ServeRoom for a room another node runs: the socket joins it
// through its owner.
func (h *Hub) serveEdge(w http.ResponseWriter, req *http.Request, roomID string, who Person, cred Credentials) {
	e, ok := h.entry(roomID)
	if !ok || h.isDraining() {
		writeHTTPError(w, ErrRoomNotFound)
		return
	}
	keys := socketKeys(who, cred)
	if err := h.acquireSocket(req.Context(), keys); err != nil {
		writeHTTPError(w, err)
		return
	}
	ws, err := h.accept(w, req)
	if err != nil {
		h.releaseSocket(keys)
		return
	}
	ws.SetReadLimit(MaxFrame)
	c := newConn(ws, who, cred, h.opts.Heartbeat)
	c.sock = h.nextSock.Add(1)
	c.linked = make(chan struct{})
	h.expireAt(c)
	er := h.edgeRoom(roomID, e)
	er.mu.Lock()
	er.socks[c.sock] = c
	er.joining[c.sock] = true
	owner, epoch := er.owner, er.epoch
	er.mu.Unlock()
	h.routeMedia(er)

	ctx := context.WithoutCancel(req.Context())
	err = er.join(ctx, c, false)
	er.mu.Lock()
	delete(er.joining, c.sock)
	moved := er.owner != owner || er.epoch != epoch
	er.mu.Unlock()
	if err == nil && moved {
		// The owner changed while the join was under way, and it may have
		// reached the old one: make sure the new one has the socket.
		err = er.join(ctx, c, true)
	}
	if err != nil {
		er.remove(c)
		h.uncount(keys)
		c.send(errorFrame("", err))
		c.closeHere("")
		<-c.done
		h.releaseSocket(nil)
		return
	}
	h.enterEdge(who.ID, roomID)
	// The welcome and snapshot come from the owner on the node's stream, maybe
	// after the join's answer: the offer follows them, as a client expects.
	select {
	case <-c.linked:
	case <-c.done:
	case <-time.After(moveWait):
	}
	h.startMediaIn(ctx, roomID, c)
	go func() {
		defer h.releaseSocket(keys)
		defer func() { <-c.done }()
		defer func() {
			if c.media != nil {
				c.media.Close()
			}
		}()
		h.readEdge(ctx, er, c)
	}()
}

// join joins c's participant to the room through its owner (attach: back after
// a change of owner, without a welcome). The welcome and snapshot come on the
// node's stream.
func (er *edgeRoom) join(ctx context.Context, c *conn, attach bool) error {
	h := er.h
	req := roomReq{Op: opEdgeJoin, From: c.person, Node: h.cl.Nodes.Self().Name, Sock: c.sock, Cred: &c.cred, Attach: attach}
	deadline := time.Now().Add(moveWait)
	for {
		_, err := h.remoteCall(ctx, er.id, req)
		if !errors.Is(err, ErrNoOwner) {
			return err
		}
		if _, listed := h.cl.Directory.Get(er.id); !listed || !time.Now().Before(deadline) {
			return ErrRoomNotFound
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readEdge reads c's frames: its pings and audio signaling are answered here,
// everything else goes to the room's owner, in order.
func (h *Hub) readEdge(ctx context.Context, er *edgeRoom, c *conn) {
	self := h.cl.Nodes.Self().Name
	defer func() {
		er.mu.Lock()
		_, mine := er.socks[c.sock]
		er.mu.Unlock()
		if mine { // not closed by the owner: tell it the socket is gone
			_ = h.cl.Rooms.SendRoom(er.id, mustJSON(edgeFrame{Node: self, Sock: c.sock, Gone: true}))
		}
		er.remove(c)
		h.leftEdge(c.person.ID, er.id)
		c.closeHere("")
	}()
	c.readFrames(ctx, func(data []byte, msg ClientMessage, _ room.Command) bool {
		switch msg.Type {
		case MsgPing:
			c.send(mustJSON(pongMsg{Type: "pong", ID: msg.ID}))
		case MsgAnswer, MsgCandidate:
			return mediaSignal(c, msg)
		default:
			if err := h.cl.Rooms.SendRoom(er.id, mustJSON(edgeFrame{Node: self, Sock: c.sock, Frame: string(data)})); err != nil {
				c.send(errorFrame(msg.ID, ErrMoving))
			}
		}
		return false
	})
}

// onLinkMsg applies an owner's message to this node's sockets of its room. It
// runs on the node's stream, one message at a time, in order.
func (h *Hub) onLinkMsg(data []byte) {
	var m linkMsg
	if err := json.Unmarshal(data, &m); err != nil {
		h.log.Warn("a message of a room's owner that does not decode", "err", err)
		return
	}
	er, ok := h.edgeOf(m.Room)
	if !ok {
		return
	}
	er.mu.Lock()
	switch {
	case m.Epoch < er.epoch:
		er.mu.Unlock()
		return // a former owner's: the room has moved on
	case m.Epoch > er.epoch:
		er.epoch, er.seq = m.Epoch, 0
	}
	gap := er.seq != 0 && m.Seq != er.seq+1
	er.seq = m.Seq
	socks := make(map[uint64]*conn, len(er.socks))
	for s, c := range er.socks {
		socks[s] = c
	}
	er.mu.Unlock()
	if gap {
		// A message of the owner was lost on the way (its stream is at most
		// once): every socket here starts again from a fresh snapshot.
		h.log.Warn("a room's owner's message was lost: asking for snapshots", "room", m.Room)
		er.resync()
	}
	for i := range m.Ops {
		op := &m.Ops[i]
		for _, c := range targets(op, socks) {
			er.apply(op, c)
		}
	}
}

// targets lists the sockets an op is for.
func targets(op *linkOp, socks map[uint64]*conn) []*conn {
	var out []*conn
	if op.All {
		skip := make(map[uint64]bool, len(op.Except))
		for _, s := range op.Except {
			skip[s] = true
		}
		for s, c := range socks {
			if !skip[s] {
				out = append(out, c)
			}
		}
		return out
	}
	for _, s := range op.Socks {
		if c, ok := socks[s]; ok {
			out = append(out, c)
		}
	}
	return out
}

// apply does op to c.
func (er *edgeRoom) apply(op *linkOp, c *conn) {
	switch op.Op {
	case linkSend:
		c.send(op.Data)
	case linkEvent:
		c.sendEvent(op.Kind, op.Data)
	case linkSnapshot:
		b := make([]byte, 0, len(op.Data)+80)
		b = append(b, `{"type":"snapshot",`...)
		if op.ID != "" {
			b = append(b, `"id":`...)
			b = strconv.AppendQuote(b, op.ID)
			b = append(b, ',')
		}
		b = append(b, `"seq":`...)
		b = strconv.AppendUint(b, c.seq, 10)
		b = append(b, `,"room":`...)
		b = append(b, op.Data...)
		b = append(b, '}')
		c.send(b)
		if c.linked != nil {
			c.linkedOnce.Do(func() { close(c.linked) })
		}
	case linkClose:
		er.mu.Lock()
		delete(er.socks, c.sock) // the owner forgot it: no "gone" back
		er.mu.Unlock()
		c.close(op.Reason)
	case linkAllow:
		if m := er.h.opts.Media; m != nil {
			m.SetAudible(er.id, op.User, op.On)
		}
	}
}

// resync asks the owner for a snapshot for every socket here.
func (er *edgeRoom) resync() {
	self := er.h.cl.Nodes.Self().Name
	for _, c := range er.conns() {
		_ = er.h.cl.Rooms.SendRoom(er.id, mustJSON(edgeFrame{Node: self, Sock: c.sock, Frame: `{"type":"snapshot"}`}))
	}
}

// followOwners runs on a node of a cluster: when a room it is an edge of
// changes owner (a takeover, a handover), its sockets here are taken back by
// the new owner, without a reconnect, and its audio follows.
func (h *Hub) followOwners() {
	defer h.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.cl.Directory.Changed():
		case <-tick.C:
		}
		h.mu.Lock()
		ers := make([]*edgeRoom, 0, len(h.edges))
		for _, er := range h.edges {
			ers = append(ers, er)
		}
		h.mu.Unlock()
		for _, er := range ers {
			e, ok := h.cl.Directory.Get(er.id)
			er.mu.Lock()
			moved := ok && (e.Owner != er.owner || e.Epoch > er.epoch)
			if moved {
				er.owner = e.Owner
				if e.Epoch > er.epoch {
					er.epoch, er.seq = e.Epoch, 0
				}
			}
			er.mu.Unlock()
			if moved {
				h.log.Info("a room this node is an edge of changed owner", "room", er.id, "owner", e.Owner, "epoch", e.Epoch)
				h.routeMedia(er)
				go er.reattach()
			}
		}
	}
}

// reattach brings every socket here to the room's new owner.
func (er *edgeRoom) reattach() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*moveWait)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range er.conns() {
		er.mu.Lock()
		joining := er.joining[c.sock]
		er.mu.Unlock()
		if joining {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := er.join(ctx, c, true); err != nil {
				// The new owner does not take them (the room ended, or they may
				// not be there any more): they reconnect through the join API.
				er.h.log.Info("an edge's socket was not taken back", "room", er.id, "err", err)
				er.mu.Lock()
				delete(er.socks, c.sock)
				er.mu.Unlock()
				reason := ByeMoved
				if errors.Is(err, ErrRoomNotFound) || errors.Is(err, room.ErrRoomEnded) {
					reason = ByeEnded
				}
				c.close(reason)
			}
		}()
	}
	wg.Wait()
}

// routeMedia tells the media server where this edge's audio of the room goes:
// the owner and its hot standby.
func (h *Hub) routeMedia(er *edgeRoom) {
	m := h.opts.Media
	if m == nil {
		return
	}
	if _, mine := h.room(er.id); mine {
		return // this node runs the room now: its audio is the owner's
	}
	er.mu.Lock()
	owner, epoch := er.owner, er.epoch
	er.mu.Unlock()
	m.Route(er.id, MediaRoute{Epoch: epoch, Upstream: h.upstream(er.id, owner)})
}

// successors are the nodes that may take a room over from owner: heard from
// lately, not draining, not owner. The first of them by rank is its standby.
func (h *Hub) successors(owner string) []NodeInfo {
	return filterNodes(h.heardNodes(), func(n NodeInfo) bool { return n.Name != owner && !n.Draining })
}

// upstream returns the relay addresses of a room's owner and of the node that
// would take the room over if the owner died (rank), which gets the audio too.
func (h *Hub) upstream(roomID, owner string) []string {
	var out []string
	for _, n := range h.cl.Nodes.Live() {
		if n.Name == owner && n.Relay != "" {
			out = append(out, n.Relay)
		}
	}
	others := h.successors(owner)
	for _, n := range others {
		if rank(roomID, n.Name, others) == 0 && n.Relay != "" {
			out = append(out, n.Relay)
		}
	}
	return out
}

// enterEdge and leftEdge keep which room a user's socket here is in, for the
// end of their session (Revoke).
func (h *Hub) enterEdge(user, roomID string) {
	h.mu.Lock()
	h.userRoom[user] = roomID
	h.mu.Unlock()
}

func (h *Hub) leftEdge(user, roomID string) {
	h.mu.Lock()
	if h.userRoom[user] == roomID {
		if _, local := h.rooms[roomID]; !local {
			delete(h.userRoom, user)
		}
	}
	h.mu.Unlock()
}

// revoke closes the sockets here of a session that ended; the owner, told too,
// takes the user out of the room.
func (er *edgeRoom) revoke(rv Revocation) {
	for _, c := range er.conns() {
		if c.person.ID == rv.UserID && rv.matches(c.cred.SessionID) {
			c.close(rv.Reason)
		}
	}
}
