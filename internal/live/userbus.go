package live

import (
	"context"
	"encoding/json"
	"time"
)

// userMsg is a message about one user on the UserBus: every node gets it and acts
// on the sockets of that user it holds.
type userMsg struct {
	Type string `json:"t"` // userNotification or userRevoke
	// Notification: the message for the user's sockets, as it goes on the wire.
	Wire json.RawMessage `json:"wire,omitempty"`
	// Revoke: which sessions ended.
	Revoke *Revocation `json:"revoke,omitempty"`
}

const (
	userNotification = "notification"
	userRevoke       = "revoke"
)

// publishUser sends m about user to every node, this one included.
func (h *Hub) publishUser(ctx context.Context, user string, m userMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return h.cl.Users.Publish(ctx, user, b)
}

// onUserMessage handles a message of the UserBus for user.
func (h *Hub) onUserMessage(user string, b []byte) {
	var m userMsg
	if err := json.Unmarshal(b, &m); err != nil {
		h.log.Warn("a user message that does not decode", "err", err)
		return
	}
	switch m.Type {
	case userNotification:
		h.mu.Lock()
		for uc := range h.users[user] {
			uc.send(m.Wire)
		}
		h.mu.Unlock()
	case userRevoke:
		if m.Revoke != nil && m.Revoke.UserID == user {
			h.revokeLocal(*m.Revoke)
		}
	}
}
