package live

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/room"
)

// NewGuest returns the identity of a signed-out listener.
func NewGuest() Person {
	return Person{ID: "guest_" + ids.New(), DisplayName: "Guest", Guest: true}
}

// ValidGuestID reports whether s has the shape of a guest's ID (NewGuest).
func ValidGuestID(s string) bool { return validGuestID(s) }

// GuestPerson returns the person of a guest whose identity is id (ValidGuestID).
func GuestPerson(id string) Person { return Person{ID: id, DisplayName: "Guest", Guest: true} }

func validGuestID(s string) bool {
	rest, ok := strings.CutPrefix(s, "guest_")
	return ok && ids.Valid(rest)
}

// CheckJoinable answers, before a socket is upgraded, whether the room exists and
// is live or waiting. It reveals nothing of closed rooms: anything the person may
// not join is "not found".
//
// A server admin (cred.Admin) whose request to moderate waits in the room
// (ModerateAsAdmin) may join whatever its type: the room decides.
func (h *Hub) CheckJoinable(ctx context.Context, roomID string, who Person, cred Credentials) error {
	r, ok := h.room(roomID)
	if !ok {
		viewer := who.ID
		if who.Guest {
			viewer = ""
		}
		if _, listed := h.entry(roomID); listed && cred.Admin && !who.Guest && !h.isDraining() {
			return nil // an admin who may have asked to moderate: the owner decides at the join
		}
		e, err := h.visibleEntry(ctx, viewer, roomID)
		if err != nil {
			return ErrRoomNotFound
		}
		if h.isDraining() {
			return ErrMoving
		}
		// Another node runs it: this one is an edge of it, and the owner
		// decides at the join.
		return h.mayTry(ctx, viewer, e)
	}
	if h.isDraining() {
		return ErrMoving
	}
	var err error
	if !r.do(func() { err = r.joinable(who, cred) }) {
		return ErrRoomNotFound
	}
	return err
}

// joinable says whether who may come into r, on this node or through an edge
// (joinRemote). Room goroutine only.
func (r *liveRoom) joinable(who Person, cred Credentials) error {
	cfg := r.st.Config()
	switch {
	case cfg.Type == room.Closed && (who.Guest || !r.st.IsMember(who.ID)) &&
		!(!who.Guest && cred.Admin && r.adminGranted(who.ID)):
		return ErrRoomNotFound
	case who.Guest && !cfg.AllowGuests:
		return room.ErrGuestsNotAllowed
	case who.Guest && !r.st.GuestsAllowed():
		return room.ErrGuestsClosed
	}
	return nil
}

// ServeRoom upgrades w to the room socket of roomID for who, joins them and offers
// their audio, then returns, leaving the socket to a goroutine of its own that
// reads it until it closes. who comes from the session (or is a fresh guest),
// never from a message.
//
// Why a goroutine of its own: a hijacked connection needs nothing more of net/http,
// yet a handler that blocks keeps net/http's connection, request and response
// alive, and its goroutine keeps the stack grown by the handshake, the join and
// the offer (16-32 KiB). A fresh goroutine that only reads shrinks back to a few
// KiB. In a room of thousands of listeners that was a third of what each cost.
func (h *Hub) ServeRoom(w http.ResponseWriter, req *http.Request, roomID string, who Person, cred Credentials) {
	keys := socketKeys(who, cred)
	if err := h.acquireSocket(req.Context(), keys); err != nil {
		writeHTTPError(w, err)
		return
	}
	r, ok := h.room(roomID)
	if !ok {
		h.releaseSocket(keys)
		if h.cl.Multi() {
			h.serveEdge(w, req, roomID, who, cred) // another node runs it
			return
		}
		writeHTTPError(w, ErrRoomNotFound)
		return
	}
	ws, err := h.accept(w, req)
	if err != nil {
		h.releaseSocket(keys)
		return // Accept has answered the request
	}
	ws.SetReadLimit(MaxFrame)
	c := newConn(ws, who, cred, h.opts.Heartbeat)
	h.expireAt(c)

	// The socket lives until the hub or the client closes it: not until the
	// server's base context ends, which would cut it off before the hub can
	// say bye at shutdown.
	ctx := context.WithoutCancel(req.Context())
	if err := h.join(ctx, r, c); err != nil {
		h.uncount(keys)
		c.send(errorFrame("", err))
		c.closeHere("")
		<-c.done
		h.releaseSocket(nil)
		return
	}
	h.startMedia(ctx, r, c)
	go func() {
		defer h.releaseSocket(keys) // last: Shutdown waits for it
		defer func() { <-c.done }() // every way out of readLoop closes c
		defer func() {
			if c.media != nil {
				c.media.Close()
			}
		}()
		h.readLoop(ctx, r, c)
	}()
}

// startMedia offers c's participant their audio connection. A failure leaves the
// room usable without audio and says so.
func (h *Hub) startMedia(ctx context.Context, r *liveRoom, c *conn) { h.startMediaIn(ctx, r.id, c) }

func (h *Hub) startMediaIn(ctx context.Context, roomID string, c *conn) {
	m := h.opts.Media
	if m == nil {
		return
	}
	sess, err := m.Connect(ctx, roomID, c.person.ID, func(cand ICECandidate) {
		c.send(mustJSON(candidateMsg{Type: MsgCandidate, Candidate: cand}))
	})
	if err != nil {
		h.log.Warn("audio connection", "room", roomID, "user", c.person.ID, "err", err)
		c.send(errorFrame("", errNoMedia))
		return
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sdp, err := sess.Offer(octx)
	if err != nil {
		sess.Close()
		h.log.Warn("audio offer", "room", roomID, "user", c.person.ID, "err", err)
		c.send(errorFrame("", errNoMedia))
		return
	}
	c.media = sess
	c.send(mustJSON(offerMsg{Type: "offer", SDP: sdp}))
}

// join puts c's participant into the room, or back into it on a reconnect. Only
// once they are in does the room they were in before, if another, see them leave:
// a refused join leaves them where they were.
//
// The room's rules need the joiner's edges (follows, blocks) to the people present,
// which live in the store, and the store is never read on the room goroutine. So
// join reads the edges to the people present, then joins on the room goroutine if
// nobody it has not looked up arrived meanwhile, and otherwise reads the edges to
// the newcomers and tries again.
func (h *Hub) join(ctx context.Context, r *liveRoom, c *conn) error {
	who := c.person
	clubMember := false
	if r.cfg.ClubID != "" && !who.Guest && h.opts.ClubMember != nil {
		var err error
		if clubMember, err = h.opts.ClubMember(ctx, r.cfg.ClubID, who.ID); err != nil {
			return err
		}
	}
	var (
		rel    room.Relations
		looked = map[string]bool{} // the people whose edges rel holds
	)
	for attempt := 1; ; attempt++ {
		var (
			missing []string
			joined  bool
			joinErr error
			prev    string
		)
		if !r.do(func() {
			if missing = r.unknownTo(who, looked); len(missing) > 0 && attempt < maxJoinAttempts {
				return
			}
			joined = true
			if joinErr = r.join(c, rel, clubMember); joinErr == nil {
				var reason string
				prev, reason = h.enter(who.ID, r.id, c.cred.SessionID)
				if reason != "" {
					// The session ended while this socket was being set up:
					// Revoke did not see it yet, so it goes now.
					r.leave(who.ID, reason)
					prev = ""
				}
			}
		}) {
			return room.ErrRoomEnded
		}
		if joined {
			if joinErr != nil {
				return joinErr
			}
			if !who.Guest {
				// One room at a time, across the cluster: the room the user
				// was in before, wherever it runs, sees them leave.
				var err error
				if prev, err = h.cl.Presence.Enter(ctx, who.ID, r.id); err != nil {
					h.log.Warn("recording where a user is", "user", who.ID, "err", err)
				}
			}
			if prev != "" && prev != r.id {
				if _, err := h.roomCall(ctx, prev, roomReq{Op: opLeave, User: who.ID}); err != nil && !errors.Is(err, ErrRoomNotFound) {
					h.log.Warn("taking a user out of the room they were in", "room", prev, "err", err)
				}
			}
			return nil
		}
		edges, err := h.opts.Store.Edges(ctx, who.ID, missing)
		if err != nil {
			return err
		}
		addEdges(&rel, edges)
		for _, id := range missing {
			looked[id] = true
		}
	}
}

// maxJoinAttempts bounds how often a join looks up the edges to newcomers; past
// it, the join goes ahead with the edges it has (a room with that many arrivals a
// second is not one where two of them block each other unnoticed for long: the
// next join of either reads them).
const maxJoinAttempts = 5

// unknownTo lists the signed-in people present (and the creator) whose edges to
// who are not looked up yet; none for a guest, whom no relation concerns. Room
// goroutine only.
func (r *liveRoom) unknownTo(who Person, looked map[string]bool) []string {
	if who.Guest {
		return nil
	}
	var out []string
	creator := r.st.Config().CreatorID
	add := func(id string) {
		if id != who.ID && !looked[id] && !strings.HasPrefix(id, "guest_") {
			out = append(out, id)
		}
	}
	add(creator)
	for id := range r.people {
		if id != creator {
			add(id)
		}
	}
	for _, m := range r.bc.recent { // the chat they will see may be of people gone
		if _, here := r.people[m.UserID]; !here && m.UserID != creator && !slices.Contains(out, m.UserID) {
			add(m.UserID)
		}
	}
	return out
}

// addEdges adds the edges the store gave to rel.
func addEdges(rel *room.Relations, edges map[string]Edge) {
	for id, e := range edges {
		if e.Follows {
			rel.Follows = append(rel.Follows, id)
		}
		if e.FollowedBy {
			rel.FollowedBy = append(rel.FollowedBy, id)
		}
		if e.Blocks {
			rel.Blocks = append(rel.Blocks, id)
		}
		if e.BlockedBy {
			rel.BlockedBy = append(rel.BlockedBy, id)
		}
	}
}

// join runs on the room goroutine: a new participant joins; one already present
// (a reconnect, or a second device) takes over with their role intact.
func (r *liveRoom) join(c *conn, rel room.Relations, clubMember bool) error {
	id := c.person.ID
	resumed, back := false, false
	if p, present := r.st.Participant(id); present {
		if old, ok := r.conns[id]; ok {
			old.close(ByeReplaced)
			c.hides = old.hides
		}
		if _, ok := r.grace[id]; ok {
			delete(r.grace, id) // their window ends without a leave
			back = p.Role != room.Listener
		}
		resumed = true
	} else {
		r.people[id] = c.person
		join := room.Join{Guest: c.person.Guest, Rel: rel, Now: r.hub.now(), ClubMember: clubMember,
			Browser: c.cred.Browser, Addr: c.cred.Addr,
			// An admin's word from the session, and their request to moderate
			// made in the room: both, or a plain join.
			AdminModerator: !c.person.Guest && c.cred.Admin && r.takeAdminGrant(id)}
		if err := r.apply(id, join); err != nil {
			delete(r.people, id)
			return err
		}
	}
	if hides := slices.Concat(rel.Blocks, rel.BlockedBy); len(hides) > 0 {
		c.hides = map[string]struct{}{}
		for _, u := range hides {
			c.hides[u] = struct{}{}
		}
	}
	r.conns[id] = c
	if back {
		r.sendReconnecting(id, false)
	}
	if c.cred.SessionID != "" {
		r.sessions[id] = c.cred.SessionID
	}
	if !c.attach {
		c.send(mustJSON(welcomeMsg{Type: "welcome", Protocol: ProtocolVersion, You: c.person, RoomID: r.id, Resumed: resumed}))
	}
	r.sendSnapshot(c, "")
	if c.edge != nil {
		// Their audio is gated on their edge: tell it what the room says.
		c.edge.allow(c, id, r.st.Audible(id))
	}
	if !resumed && r.st.KeptOffStage(id) {
		// Their join would have put them on stage: say why it did not, to them
		// alone (the members saw a listener join).
		c.send(errorFrame("", room.ErrKeptOffStage))
	}
	return nil
}

// leave takes a participant out of the room now. Their socket hears nothing
// more of the room: it says bye with reason, even if their leaving ends the room.
func (r *liveRoom) leave(user, reason string) {
	if c, ok := r.conns[user]; ok {
		delete(r.conns, user)
		c.close(reason)
	}
	if _, present := r.st.Participant(user); present && !r.st.Ended() {
		if err := r.apply(user, room.Leave{}); err != nil {
			r.hub.log.Debug("leave refused", "room", r.id, "user", user, "err", err)
		}
	}
	r.drop(user, reason)
	r.refreshSummary()
}

// disconnected runs when c's socket ended without a leave: the participant keeps
// their place for the grace window.
func (r *liveRoom) disconnected(c *conn) {
	id := c.person.ID
	if r.conns[id] != c {
		return // replaced meanwhile
	}
	delete(r.conns, id)
	p, present := r.st.Participant(id)
	if !present || r.st.Ended() {
		return
	}
	r.awaitReturn(id)
	if p.Role != room.Listener {
		r.sendReconnecting(id, true)
	}
}

// sendReconnecting tells the others present that user, on stage, lost their
// socket (reconnecting) or is back. Room goroutine only.
func (r *liveRoom) sendReconnecting(user string, reconnecting bool) {
	data := mustJSON(reconnectingData{UserID: user, Reconnecting: reconnecting})
	for u, c := range r.conns {
		if _, present := r.st.Participant(u); present && u != user {
			c.sendEvent(KindReconnecting, data)
		}
	}
}

// readLoop reads the client's frames and applies them until the socket ends.
func (h *Hub) readLoop(ctx context.Context, r *liveRoom, c *conn) {
	defer func() {
		r.post(func() { r.disconnected(c) })
		c.closeHere("")
	}()
	c.readFrames(ctx, func(_ []byte, msg ClientMessage, cmd room.Command) bool {
		return h.handle(r, c, msg, cmd)
	})
}

// readFrames reads c's frames until the socket ends or apply says it is done.
// Each frame is decoded, then rate-limited: a refusal answers its request id,
// and too many bad frames in a row close the socket (strike).
func (c *conn) readFrames(ctx context.Context, apply func(data []byte, msg ClientMessage, cmd room.Command) (done bool)) {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		msg, cmd, err := DecodeClientMessage(data)
		if !c.limit.Allow() {
			err = ErrRateLimited
		}
		if err != nil {
			c.send(errorFrame(msg.ID, err))
			if c.strike() {
				return
			}
			continue
		}
		c.bad = 0
		if apply(data, msg, cmd) {
			return
		}
	}
}

// strike counts a bad frame; too many in a row close the socket.
func (c *conn) strike() bool {
	c.bad++
	if c.bad >= 10 {
		c.close(ByeAbuse)
		return true
	}
	return false
}

// handle applies one decoded message; it reports whether the socket is done.
func (h *Hub) handle(r *liveRoom, c *conn, msg ClientMessage, cmd room.Command) bool {
	id := c.person.ID
	switch msg.Type {
	case MsgPing:
		c.send(mustJSON(pongMsg{Type: "pong", ID: msg.ID}))
		return false
	case MsgSnapshot:
		if !r.do(func() { r.sendSnapshot(c, msg.ID) }) {
			return true
		}
		return false
	case MsgLeave:
		// The ok is queued before the leave closes the socket, so it goes out
		// ahead of the bye.
		if msg.ID != "" {
			c.send(mustJSON(okMsg{Type: "ok", ID: msg.ID}))
		}
		r.do(func() {
			if r.conns[id] == c {
				r.leave(id, ByeLeft)
			}
		})
		c.close(ByeLeft)
		return true
	case MsgChatHistory:
		_, done := h.handleBackchannel(r, c, msg, cmd)
		return done
	case MsgAudience:
		return r.answerAudience(c, msg)
	case MsgAnswer, MsgCandidate:
		return mediaSignal(c, msg)
	case MsgShowCaptions:
		return r.answerShowCaptions(c, msg)
	}
	if handled, done := h.handleBackchannel(r, c, msg, cmd); handled {
		return done
	}
	if lc, ok := cmd.(room.SetLiveCaptions); ok && lc.On {
		if _, can := h.captioner(); !can {
			c.send(errorFrame(msg.ID, errNoCaptions))
			return false
		}
	}
	var err error
	if !r.do(func() {
		if r.conns[id] != c {
			err = room.ErrNotJoined
			return
		}
		if a, ok := cmd.(room.AcceptSpeak); ok {
			a.Now = r.hub.now()
			cmd = a
		}
		err = r.applyThen(id, cmd, func() { c.send(mustJSON(okMsg{Type: "ok", ID: msg.ID})) })
	}) {
		return true
	}
	if err != nil {
		c.send(errorFrame(msg.ID, err))
		if isCode(err, errcode.BadRequest) && c.strike() {
			return true
		}
	}
	return false
}

// mediaSignal applies an answer or a candidate to c's audio connection (on
// the node that holds the socket, owner or edge); it reports whether the
// socket is done (a malformed one counts as a strike).
func mediaSignal(c *conn, msg ClientMessage) (done bool) {
	var err error
	switch {
	case c.media == nil:
		err = errNoMedia
	case msg.Type == MsgAnswer:
		err = c.media.Answer(msg.SDP)
	default:
		err = c.media.Candidate(*msg.Candidate)
	}
	switch {
	case err != nil:
		c.send(errorFrame(msg.ID, err))
		return isCode(err, errcode.BadRequest) && c.strike()
	case msg.ID != "":
		c.send(mustJSON(okMsg{Type: "ok", ID: msg.ID}))
	}
	return false
}

var errNoMedia = errcode.New(errcode.Unavailable, "audio is not available for this connection")

// errorFrame encodes err as an error message with its stable code.
func errorFrame(id string, err error) []byte {
	var e *errcode.Error
	code, text := errcode.Internal, "something went wrong on the server"
	if errors.As(err, &e) {
		code, text = e.Code, err.Error()
	}
	return mustJSON(errorMsg{Type: "error", ID: id, Code: string(code), Message: text})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are encoded here
	}
	return b
}

// writeHTTPError answers a request that never became a socket.
func writeHTTPError(w http.ResponseWriter, err error) {
	var e *errcode.Error
	code, text := errcode.Internal, "something went wrong on the server"
	if errors.As(err, &e) {
		code, text = e.Code, err.Error()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code.Status())
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": string(code), "message": text}})
}
