package live

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// Things asked of a room by a node that does not run it travel to its owner as a
// roomReq over the RoomBus; the owner applies them on the room goroutine, as it
// does those asked locally (runRoomReq is the one code path for both).

// roomReq is a request to the owner of a room.
type roomReq struct {
	Op    string   `json:"op"`
	From  Person   `json:"from,omitzero"`
	User  string   `json:"user,omitempty"`
	Users []string `json:"users,omitempty"`
	Edge  *Edge    `json:"edge,omitempty"`
	// opEdgeJoin: the socket Sock on the edge Node, of From with Cred; Attach
	// takes it back after a change of owner.
	Node   string       `json:"node,omitempty"`
	Sock   uint64       `json:"sock,omitempty"`
	Cred   *Credentials `json:"cred,omitempty"`
	Attach bool         `json:"attach,omitempty"`
}

// The operations of roomReq.
const (
	opInvite       = "invite"         // From invites Users into the conversation
	opMayInvite    = "may_invite"     // may From invite people? (an invitation link)
	opAdmit        = "admit"          // User signed up through From's invitation link
	opBringOnStage = "bring_on_stage" // User accepted From's invitation to the stage
	opPingCheck    = "ping_check"     // may From ping people into the room?
	opPingAdmit    = "ping_admit"     // From pings User into the room (a social or closed room lets them in)
	opRelation     = "relation"       // how From and User stand to each other changed: Edge (From to User)
	opLeave        = "leave"          // User joined another room: out of this one
	opEdgeJoin     = "edge_join"      // a socket on another node joins (link.go)
	opClip         = "clip"           // User keeps the last seconds of the recorded room (Options.Clip)
)

// roomResp is the owner's answer.
type roomResp struct {
	Err     *wireError `json:"err,omitempty"`
	ToStage bool       `json:"to_stage,omitempty"`
	Title   string     `json:"title,omitempty"`
	Told    []string   `json:"told,omitempty"`
	Clip    string     `json:"clip,omitempty"` // opClip: the new clip's ID
}

// wireError is an error with its stable code, between nodes.
type wireError struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
}

func toWire(err error) *wireError {
	if err == nil {
		return nil
	}
	return &wireError{Code: errcode.Of(err), Message: err.Error()}
}

func (w *wireError) err() error {
	if w == nil {
		return nil
	}
	if w.Code == errcode.NotFound {
		return ErrRoomNotFound
	}
	return errcode.New(w.Code, w.Message)
}

// moveWait bounds how long a request waits for a room that has no owner for a
// moment (a handover, a takeover) before it gives up.
const moveWait = 5 * time.Second

// roomCall runs req on the room, here or on its owner.
func (h *Hub) roomCall(ctx context.Context, roomID string, req roomReq) (roomResp, error) {
	deadline := time.Now().Add(moveWait)
	for {
		if r, ok := h.room(roomID); ok {
			resp, err := h.runRoomReq(r, req)
			if !errors.Is(err, errRoomGone) {
				return resp, err
			}
		} else if h.cl.Multi() {
			resp, err := h.remoteCall(ctx, roomID, req)
			if !errors.Is(err, ErrNoOwner) {
				return resp, err
			}
		}
		// Nobody runs it right now: it ended, or it is moving between nodes.
		if _, listed := h.cl.Directory.Get(roomID); !listed || !time.Now().Before(deadline) {
			return roomResp{}, ErrRoomNotFound
		}
		select {
		case <-ctx.Done():
			return roomResp{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errRoomGone: the room stopped on this node while the request waited.
var errRoomGone = errors.New("live: the room stopped here")

// remoteCall sends req to the owner of roomID.
func (h *Hub) remoteCall(ctx context.Context, roomID string, req roomReq) (roomResp, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return roomResp{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := h.cl.Rooms.Request(ctx, roomID, b)
	if err != nil {
		return roomResp{}, err
	}
	var resp roomResp
	if err := json.Unmarshal(out, &resp); err != nil {
		return roomResp{}, err
	}
	if resp.Err != nil && resp.Err.Code == errcode.Unavailable && resp.Err.Message == errRoomGone.Error() {
		return roomResp{}, ErrNoOwner
	}
	return resp, resp.Err.err()
}

// answerRoomRequest answers a request of another node for r.
func (h *Hub) answerRoomRequest(ctx context.Context, r *liveRoom, data []byte) []byte {
	var req roomReq
	if err := json.Unmarshal(data, &req); err != nil {
		return mustJSON(roomResp{Err: &wireError{Code: errcode.BadRequest, Message: "a request that does not decode"}})
	}
	switch req.Op {
	case opEdgeJoin:
		return mustJSON(h.joinRemote(ctx, r, req))
	case opClip: // file work, off the room goroutine
		id, err := h.cutClip(ctx, r.id, req.User)
		return mustJSON(roomResp{Clip: id, Err: toWire(err)})
	}
	resp, err := h.runRoomReq(r, req)
	if errors.Is(err, errRoomGone) {
		resp.Err = &wireError{Code: errcode.Unavailable, Message: errRoomGone.Error()}
	} else {
		resp.Err = toWire(err)
	}
	return mustJSON(resp)
}

// runRoomReq applies req to r, on its goroutine.
func (h *Hub) runRoomReq(r *liveRoom, req roomReq) (roomResp, error) {
	type result struct {
		resp roomResp
		err  error
	}
	out := make(chan result, 1) // do may give up on a room that quit while the request ran
	if !r.do(func() { resp, err := r.handle(req); out <- result{resp, err} }) {
		return roomResp{}, errRoomGone
	}
	res := <-out
	return res.resp, res.err
}

// handle applies req. Room goroutine only.
func (r *liveRoom) handle(req roomReq) (roomResp, error) {
	h := r.hub
	from := req.From.ID
	switch req.Op {
	case opInvite:
		if !r.st.IsMember(from) {
			return roomResp{}, ErrRoomNotFound
		}
		p, _ := r.st.Participant(from)
		resp := roomResp{ToStage: p.Role == room.Moderator, Title: r.st.Config().Title}
		if err := r.apply(from, room.InviteMembers{Users: req.Users, ToStage: resp.ToStage}); err != nil {
			return roomResp{}, err
		}
		for _, u := range req.Users {
			if r.st.IsMember(u) {
				resp.Told = append(resp.Told, u)
			}
		}
		return resp, nil
	case opMayInvite:
		if !r.st.IsMember(from) && r.st.Config().Type == room.Closed {
			return roomResp{}, ErrRoomNotFound
		}
		// Inviting yourself asks the room every question of an invitation and
		// changes nothing: people present are skipped, and no event is emitted.
		return roomResp{}, r.apply(from, room.InviteMembers{Users: []string{from}})
	case opAdmit:
		if err := r.apply(from, room.InviteMembers{Users: []string{req.User}, ToStage: true}); err != nil {
			h.log.Info("admitting an invited sign-up", "room", r.id, "err", err)
		}
		return roomResp{}, nil
	case opBringOnStage:
		if p, ok := r.st.Participant(req.User); !ok || p.Role != room.Listener {
			return roomResp{}, nil
		}
		if err := r.apply(from, room.InviteToSpeak{Target: req.User}); err != nil {
			h.log.Info("an accepted invitation could not bring its invitee on stage", "room", r.id, "err", err)
			return roomResp{}, nil
		}
		if err := r.apply(req.User, room.AcceptSpeak{Now: h.now()}); err != nil {
			h.log.Info("an accepted invitation could not bring its invitee on stage", "room", r.id, "err", err)
		}
		return roomResp{}, nil
	case opPingCheck, opPingAdmit:
		p, present := r.st.Participant(from)
		switch {
		case !present:
			return roomResp{}, ErrRoomNotFound
		case p.Role == room.Listener:
			return roomResp{}, ErrNotOnStageToPing
		}
		resp := roomResp{Title: r.st.Config().Title}
		if req.Op == opPingAdmit && r.st.Config().Type != room.Open {
			return resp, r.apply(from, room.InviteMembers{Users: []string{req.User}})
		}
		return resp, nil
	case opRelation:
		if req.Edge == nil {
			return roomResp{}, ErrBadMessage
		}
		e := *req.Edge
		for _, c := range []struct {
			actor string
			cmd   room.SetRelation
		}{
			{from, room.SetRelation{Target: req.User, Follows: e.Follows, Blocks: e.Blocks}},
			{req.User, room.SetRelation{Target: from, Follows: e.FollowedBy, Blocks: e.BlockedBy}},
		} {
			if err := r.apply(c.actor, c.cmd); err != nil {
				h.log.Debug("relation not applied", "room", r.id, "err", err) // one of them left meanwhile
			}
		}
		return roomResp{}, nil
	case opLeave:
		r.leave(req.User, ByeLeft)
		return roomResp{}, nil
	case opAdminEnd:
		return r.adminEnd()
	case opAdminModerate:
		return r.adminModerate(req.User)
	}
	return roomResp{}, ErrUnknownMessage
}

// Clip keeps the last seconds of the recorded room roomID for userID (the
// caller checked they may) and returns the clip's ID: the room's recording
// runs on its owner, so the owner cuts it, wherever it was asked.
func (h *Hub) Clip(ctx context.Context, roomID, userID string) (string, error) {
	if _, ok := h.room(roomID); ok || !h.cl.Multi() {
		return h.cutClip(ctx, roomID, userID)
	}
	resp, err := h.remoteCall(ctx, roomID, roomReq{Op: opClip, User: userID})
	if errors.Is(err, ErrNoOwner) {
		err = ErrMoving
	}
	return resp.Clip, err
}

func (h *Hub) cutClip(ctx context.Context, roomID, userID string) (string, error) {
	if h.opts.Clip == nil || userID == "" {
		return "", ErrRoomNotFound
	}
	return h.opts.Clip(ctx, roomID, userID)
}
