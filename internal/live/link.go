package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// A room spread over nodes: its owner runs it, and its participants may be
// connected to any node (an edge, edge.go). On the owner, each participant
// connected elsewhere is a conn without a WebSocket whose messages go to their
// edge as ops, batched per room operation and per edge into one linkMsg on the
// node's stream (RoomBus.SendNode), in order. The edge numbers the events of
// each of its sockets itself, so one op carries an event to all of the room's
// sockets there, however many. What the edge's sockets send comes back on the
// room's stream (RoomBus.SendRoom) as edgeFrame, also in order, and the owner
// handles it as it handles a local socket's frame.

// edgeLink is what a room's owner keeps of one edge of the room.
type edgeLink struct {
	r    *liveRoom
	node string

	mu    sync.Mutex
	seq   uint64           // linkMsgs sent so far
	ops   []linkOp         // not sent yet
	last  []byte           // the data of the last op, to add sockets to it
	socks map[uint64]*conn // the room's sockets there
}

// linkOp is one op of a linkMsg: what to do with some of the room's sockets on
// the edge. Socks names them, or All with Except.
type linkOp struct {
	Op     string          `json:"op"`
	Socks  []uint64        `json:"socks,omitempty"`
	All    bool            `json:"all,omitempty"`
	Except []uint64        `json:"except,omitempty"`
	Kind   string          `json:"kind,omitempty"` // event
	Data   json.RawMessage `json:"data,omitempty"` // send: the message; event: its data; snapshot: the room
	ID     string          `json:"id,omitempty"`   // snapshot: the request it answers
	Reason string          `json:"reason,omitempty"`
	User   string          `json:"user,omitempty"` // allow
	On     bool            `json:"on,omitempty"`   // allow
}

// The ops of a linkOp.
const (
	linkSend     = "send"     // write Data to the sockets
	linkEvent    = "event"    // an event (Kind, Data), numbered by the edge per socket
	linkSnapshot = "snapshot" // a snapshot of the room (Data) at the socket's current seq
	linkClose    = "close"    // say bye (Reason) and close
	linkAllow    = "allow"    // User may be heard (On) or not: the edge gates their audio
)

// linkMsg is what an owner sends an edge about one room.
type linkMsg struct {
	Room  string   `json:"room"`
	Epoch uint64   `json:"epoch"`
	Seq   uint64   `json:"seq"` // 1, 2, ... per link: a gap is a lost message
	Ops   []linkOp `json:"ops"`
}

// edgeFrame is what an edge sends a room's owner about one of its sockets: a
// frame it read, or that it closed.
type edgeFrame struct {
	Node  string `json:"node"`
	Sock  uint64 `json:"sock"`
	Frame string `json:"frame,omitempty"`
	Gone  bool   `json:"gone,omitempty"` // the socket closed without a leave
}

// link returns r's link to node, making it. Any goroutine.
func (r *liveRoom) link(node string) *edgeLink {
	r.linkMu.Lock()
	defer r.linkMu.Unlock()
	l := r.links[node]
	if l == nil {
		l = &edgeLink{r: r, node: node, socks: map[uint64]*conn{}}
		r.links[node] = l
	}
	return l
}

// remote returns the conn of socket sock on node, if it is the room's.
func (r *liveRoom) remote(node string, sock uint64) *conn {
	r.linkMu.Lock()
	l := r.links[node]
	r.linkMu.Unlock()
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.socks[sock]
}

// add queues op for c's socket, or adds the socket to the last op when it is the
// same one (an event to every member: one op for all of them).
func (l *edgeLink) add(c *conn, op linkOp) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.socks[c.sock]; !ok {
		return false // closed meanwhile
	}
	if n := len(l.ops); n > 0 && len(op.Data) > 0 && len(l.last) > 0 && &l.last[0] == &op.Data[0] &&
		l.ops[n-1].Op == op.Op && l.ops[n-1].Kind == op.Kind {
		l.ops[n-1].Socks = append(l.ops[n-1].Socks, c.sock)
		return true
	}
	op.Socks = []uint64{c.sock}
	l.ops = append(l.ops, op)
	l.last = op.Data
	return true
}

func (l *edgeLink) send(c *conn, msg []byte) bool {
	return l.add(c, linkOp{Op: linkSend, Data: msg})
}

func (l *edgeLink) event(c *conn, kind string, data []byte) {
	l.add(c, linkOp{Op: linkEvent, Kind: kind, Data: data})
}

func (l *edgeLink) snapshot(c *conn, id string, roomJSON []byte) {
	l.add(c, linkOp{Op: linkSnapshot, ID: id, Data: roomJSON})
}

func (l *edgeLink) allow(c *conn, user string, on bool) {
	l.add(c, linkOp{Op: linkAllow, User: user, On: on})
}

// close queues the socket's bye and forgets it here.
func (l *edgeLink) close(c *conn, reason string) {
	if l.add(c, linkOp{Op: linkClose, Reason: reason}) {
		l.mu.Lock()
		delete(l.socks, c.sock)
		l.mu.Unlock()
	}
	c.finish()
}

// forget drops c without a word (its join failed: the edge says so itself).
func (l *edgeLink) forget(c *conn) {
	l.mu.Lock()
	delete(l.socks, c.sock)
	l.mu.Unlock()
	c.finish()
}

// take returns the ops to send, compacted, and numbers the message.
func (l *edgeLink) take() ([]linkOp, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ops) == 0 {
		return nil, 0
	}
	ops := l.ops
	l.ops, l.last = nil, nil
	for i := range ops {
		compact(&ops[i], l.socks)
	}
	l.seq++
	return ops, l.seq
}

// compact writes an op to most of the room's sockets as All with Except.
func compact(op *linkOp, socks map[uint64]*conn) {
	if len(op.Socks) < 8 || len(op.Socks)*2 < len(socks) {
		return
	}
	in := make(map[uint64]bool, len(op.Socks))
	for _, s := range op.Socks {
		in[s] = true
	}
	var except []uint64
	for s := range socks {
		if !in[s] {
			except = append(except, s)
		}
	}
	op.All, op.Socks, op.Except = true, nil, except
}

// flushLinks sends what each link has queued. Room goroutine only (the room's
// run loop calls it after every operation).
func (r *liveRoom) flushLinks() {
	r.linkMu.Lock()
	links := make([]*edgeLink, 0, len(r.links))
	for _, l := range r.links {
		links = append(links, l)
	}
	r.linkMu.Unlock()
	for _, l := range links {
		ops, seq := l.take()
		if ops == nil {
			continue
		}
		msg := mustJSON(linkMsg{Room: r.id, Epoch: r.lease.Epoch(), Seq: seq, Ops: ops})
		if err := r.hub.cl.Rooms.SendNode(l.node, msg); err != nil {
			r.hub.log.Warn("sending to an edge", "room", r.id, "node", l.node, "err", err)
		}
	}
}

// newRemoteConn returns the conn on the owner of socket sock on node.
func newRemoteConn(l *edgeLink, sock uint64, p Person, cred Credentials) *conn {
	c := &conn{person: p, cred: cred, edge: l, sock: sock, done: make(chan struct{})}
	l.mu.Lock()
	l.socks[sock] = c
	l.mu.Unlock()
	return c
}

// joinRemote joins the participant of socket req.Sock on the edge req.Node, or
// (req.Attach) takes them back after the room changed owner: then their socket
// stays as it was and gets a fresh snapshot instead of a welcome.
func (h *Hub) joinRemote(ctx context.Context, r *liveRoom, req roomReq) roomResp {
	if req.Node == "" || req.Sock == 0 || req.Cred == nil || req.From.ID == "" {
		return roomResp{Err: toWire(ErrBadMessage)}
	}
	if !req.Attach {
		var err error
		if !r.do(func() { err = r.joinable(req.From, *req.Cred) }) {
			return roomResp{Err: toWire(ErrRoomNotFound)}
		}
		if err != nil {
			return roomResp{Err: toWire(err)}
		}
	}
	if req.Attach && r.remote(req.Node, req.Sock) != nil {
		// This very socket is here already (its first join reached this owner
		// after all): attaching it again changes nothing, and must not replace
		// it with itself.
		return roomResp{}
	}
	l := r.link(req.Node)
	c := newRemoteConn(l, req.Sock, req.From, *req.Cred)
	c.attach = req.Attach
	if err := h.join(ctx, r, c); err != nil {
		l.forget(c)
		return roomResp{Err: toWire(err)}
	}
	return roomResp{}
}

// serveEdges takes the frames of r's sockets on other nodes while this node runs
// r, in order.
func (h *Hub) serveEdges(r *liveRoom) (func(), error) {
	return h.cl.Rooms.ServeStream(r.id, func(data []byte) {
		var f edgeFrame
		if err := json.Unmarshal(data, &f); err != nil {
			h.log.Warn("a frame from an edge that does not decode", "room", r.id, "err", err)
			return
		}
		c := r.remote(f.Node, f.Sock)
		if c == nil {
			return // closed here meanwhile: the edge heard of it
		}
		if f.Gone {
			r.post(func() { r.disconnected(c); r.forgetRemote(c) })
			return
		}
		msg, cmd, err := DecodeClientMessage([]byte(f.Frame))
		if err != nil {
			c.send(errorFrame(msg.ID, err))
		} else {
			h.handle(r, c, msg, cmd)
		}
		r.post(r.flushLinks) // what handle queued off the room goroutine
	})
}

// forgetRemote forgets a remote socket that closed. Room goroutine only.
func (r *liveRoom) forgetRemote(c *conn) {
	if c.edge != nil {
		c.edge.forget(c)
	}
}

// checkEdges treats the sockets of edges that are no longer live as dropped:
// their participants keep their place for the grace window, and come back
// through another node. Room goroutine only.
func (r *liveRoom) checkEdges(live map[string]bool) {
	r.linkMu.Lock()
	var dead []*edgeLink
	for node, l := range r.links {
		if !live[node] {
			dead = append(dead, l)
			delete(r.links, node)
		}
	}
	r.linkMu.Unlock()
	for _, l := range dead {
		l.mu.Lock()
		var cs []*conn
		for _, c := range l.socks {
			cs = append(cs, c)
		}
		l.mu.Unlock()
		for _, c := range cs {
			r.disconnected(c)
			l.forget(c)
		}
	}
}

// watchEdges runs on a node of a cluster: once a second, each room it runs
// drops the sockets of edges that died.
func (h *Hub) watchEdges() {
	defer h.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		live := map[string]bool{}
		for _, n := range h.cl.Nodes.Live() {
			live[n.Name] = true
		}
		h.mu.Lock()
		rooms := make([]*liveRoom, 0, len(h.rooms))
		for _, r := range h.rooms {
			rooms = append(rooms, r)
		}
		h.mu.Unlock()
		for _, r := range rooms {
			r.post(func() { r.checkEdges(live) })
		}
	}
}

// allowRemote tells the edge of c whether its participant may be heard: it gates
// their audio there before any packet leaves for the owner. Room goroutine only.
func (r *liveRoom) allowRemote(user string, on bool) {
	if c, ok := r.conns[user]; ok && c.edge != nil {
		c.edge.allow(c, user, on)
	}
}
