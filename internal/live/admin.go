package live

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// What the admin console asks of the live rooms: the list of every live room of
// the cluster, ending one, and joining one as a moderator, whichever node runs
// it (the request goes to its owner, as every request to a room does:
// roomCall).

const (
	opAdminEnd      = "admin_end"      // ends the room at an admin's word
	opAdminModerate = "admin_moderate" // User, an admin, will join to moderate
)

// AdminModerateWindow is how long an admin's request to moderate a room waits
// for their join (ModerateAsAdmin): the room page joins at once.
const AdminModerateWindow = time.Minute

// ErrModerateWhilePresent refuses a request to moderate a room the admin is in.
var ErrModerateWhilePresent = errcode.New(errcode.AlreadyInRoom,
	"you are in this room already: leave it, then join it as a moderator")

// LiveRoom is a live room as the admin console lists it.
type LiveRoom struct {
	DirectoryEntry
}

// LiveRooms lists every live (or waiting) room of the cluster, the biggest first.
func (h *Hub) LiveRooms() []LiveRoom {
	entries := h.liveEntries()
	out := make([]LiveRoom, 0, len(entries))
	for _, e := range entries {
		out = append(out, LiveRoom{e})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if na, nb := len(a.Stage)+a.ListenerCount, len(b.Stage)+b.ListenerCount; na != nb {
			return na > nb
		}
		return a.ID < b.ID
	})
	return out
}

// RoomsCreatedBy lists the live rooms user created.
func (h *Hub) RoomsCreatedBy(user string) []string {
	var out []string
	for _, e := range h.liveEntries() {
		if e.CreatorID == user {
			out = append(out, e.ID)
		}
	}
	return out
}

// EndRoom ends a room for everyone, without a moderator's command: an admin's
// decision, or its creator's account deleted. Everyone in it hears bye
// room_ended. ErrRoomNotFound if it is not live.
func (h *Hub) EndRoom(ctx context.Context, roomID string) error {
	if _, ok := h.entry(roomID); !ok {
		return ErrRoomNotFound
	}
	_, err := h.roomCall(ctx, roomID, roomReq{Op: opAdminEnd})
	if errors.Is(err, ErrRoomNotFound) {
		// It was live a moment ago: the room stopping under the request (it
		// ended, by this request or by its last speaker) is the answer the
		// request may not get to hear (liveRoom.do gives up on a room that quit).
		return nil
	}
	return err
}

// adminEnd ends r. Room goroutine only.
func (r *liveRoom) adminEnd() (roomResp, error) {
	r.finish(ByeEnded)
	return roomResp{}, nil
}

// ModerateAsAdmin records, in the room (on the node that runs it), that the
// server admin adminID asked to moderate it: their next join within
// AdminModerateWindow, through a socket whose Credentials say Admin, puts them
// on stage as a moderator (room.Join.AdminModerator), whatever the room's type.
// The caller checks that adminID's account is an admin; the socket checks it
// again. ErrRoomNotFound if the room is not live; ErrModerateWhilePresent if
// they are in it.
func (h *Hub) ModerateAsAdmin(ctx context.Context, roomID, adminID string) error {
	if _, ok := h.entry(roomID); !ok {
		return ErrRoomNotFound
	}
	_, err := h.roomCall(ctx, roomID, roomReq{Op: opAdminModerate, User: adminID})
	return err
}

// adminModerate records an admin's request to moderate r. Room goroutine only.
func (r *liveRoom) adminModerate(user string) (roomResp, error) {
	if _, present := r.st.Participant(user); present {
		return roomResp{}, ErrModerateWhilePresent
	}
	now := r.hub.now()
	for u, until := range r.adminGrants {
		if !now.Before(until) {
			delete(r.adminGrants, u)
		}
	}
	if r.adminGrants == nil {
		r.adminGrants = map[string]time.Time{}
	}
	r.adminGrants[user] = now.Add(AdminModerateWindow)
	return roomResp{}, nil
}

// adminGranted reports whether an admin's request to moderate r waits for
// user's join. Room goroutine only.
func (r *liveRoom) adminGranted(user string) bool {
	until, ok := r.adminGrants[user]
	return ok && r.hub.now().Before(until)
}

// takeAdminGrant spends user's request to moderate r, reporting whether one
// was waiting: it is good for one join. Room goroutine only.
func (r *liveRoom) takeAdminGrant(user string) bool {
	ok := r.adminGranted(user)
	delete(r.adminGrants, user)
	return ok
}
