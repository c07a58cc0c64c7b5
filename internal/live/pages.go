package live

import (
	"context"

	"github.com/townhall/townhall/internal/room"
)

// Look returns a live room's directory entry whoever looks: the page of an
// invitation shows its room to whoever may see the invitation, which is not
// the room's rule (RoomInfo) but the invitation's. ok is false for a room that
// is not live (ended, or unknown).
func (h *Hub) Look(roomID string) (e DirectoryEntry, ok bool) {
	return h.entry(roomID)
}

// AcceptInvitation lets userID into the room as inviterID invited them through a
// link: on stage if the inviter moderates the room now (then, if userID is in
// its audience already, they are brought on stage at once), else as anyone
// invited to the conversation. toStage says which; a block between them and
// someone on stage still keeps them in the audience (the room's rule).
func (h *Hub) AcceptInvitation(ctx context.Context, roomID, inviterID, userID string) (toStage bool, err error) {
	e, ok := h.entry(roomID)
	if !ok || e.State == room.StateEnded {
		return false, ErrRoomNotFound
	}
	for _, p := range e.Stage {
		if p.ID == inviterID && p.Role == room.Moderator {
			toStage = true
		}
	}
	h.Admit(ctx, roomID, inviterID, userID)
	if toStage {
		h.bringOnStage(ctx, roomID, inviterID, userID)
	}
	return toStage, nil
}
