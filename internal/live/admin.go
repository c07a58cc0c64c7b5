package live

import (
	"context"
	"errors"
	"sort"
)

// What the admin console asks of the live rooms: the list of every live room of
// the cluster, and ending one, whichever node runs it (the request goes to its
// owner, as every request to a room does: roomCall).

// opAdminEnd ends the room at an admin's word.
const opAdminEnd = "admin_end"

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
