package live

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/notify"
)

// userConn is a user's socket for what is not about one room: hallway updates and
// notifications.
type userConn struct {
	*conn
	user string

	mu          sync.Mutex
	lastHallway []byte
}

func (uc *userConn) setLast(b []byte) bool {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if string(b) == string(uc.lastHallway) {
		return false
	}
	uc.lastHallway = b
	return true
}

// ServeUser upgrades w to the user socket of user, says welcome and sends the
// hallway, then returns, leaving the socket to a goroutine of its own that reads
// it until it closes (as ServeRoom does, and for the same reason).
func (h *Hub) ServeUser(w http.ResponseWriter, req *http.Request, user Person, cred Credentials) {
	keys := socketKeys(user, cred)
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
	uc := &userConn{conn: newConn(ws, user, cred, h.opts.Heartbeat), user: user.ID}
	h.expireAt(uc.conn)

	h.mu.Lock()
	if h.users[user.ID] == nil {
		h.users[user.ID] = map[*userConn]struct{}{}
	}
	h.users[user.ID][uc] = struct{}{}
	closing := h.closing // Shutdown began after acquireSocket: it did not see uc
	revoked, wasRevoked := h.wasRevoked(user.ID, cred.SessionID)
	h.mu.Unlock()
	switch {
	case closing:
		uc.close(ByeShutdown)
	case wasRevoked: // the session ended while the socket was being set up
		uc.close(revoked)
	}

	uc.send(mustJSON(struct {
		Type     string `json:"type"`
		Protocol int    `json:"protocol"`
		You      Person `json:"you"`
	}{"welcome", ProtocolVersion, user}))
	h.sendHallway(uc)

	ctx := context.WithoutCancel(req.Context()) // as in ServeRoom
	go func() {
		defer h.releaseSocket(keys)  // last: Shutdown waits for it
		defer func() { <-uc.done }() // the socket is closed (its bye written) or dead
		defer func() {
			h.mu.Lock()
			delete(h.users[user.ID], uc)
			if len(h.users[user.ID]) == 0 {
				delete(h.users, user.ID)
			}
			h.mu.Unlock()
			uc.closeHere("")
		}()
		h.readUser(ctx, uc)
	}()
}

// readUser reads the client's frames on the user socket until it ends.
func (h *Hub) readUser(ctx context.Context, uc *userConn) {
	for {
		_, data, err := uc.ws.Read(ctx)
		if err != nil {
			return
		}
		msg, _, err := DecodeClientMessage(data)
		if !uc.limit.Allow() {
			uc.send(errorFrame(msg.ID, ErrRateLimited))
			if uc.strike() {
				return
			}
			continue
		}
		switch {
		case err != nil:
			uc.send(errorFrame(msg.ID, err))
			if uc.strike() {
				return
			}
		case msg.Type == MsgPing:
			uc.send(mustJSON(pongMsg{Type: "pong", ID: msg.ID}))
		default:
			uc.send(errorFrame(msg.ID, ErrUnknownMessage))
			if uc.strike() {
				return
			}
		}
	}
}

// NotificationView is a notification on the wire.
type NotificationView struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
	Read      bool            `json:"read"`
}

// ViewNotification converts a stored notification.
func ViewNotification(n Notification) NotificationView {
	return NotificationView{ID: n.ID, Kind: n.Kind, Data: n.Data, CreatedAt: n.CreatedAt, Read: !n.ReadAt.IsZero()}
}

// Notify stores a notification for user and pushes it to their open user sockets.
func (h *Hub) Notify(ctx context.Context, user, kind string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	n := Notification{ID: ids.New(), UserID: user, Kind: kind, Data: raw, CreatedAt: h.now()}
	if key, once := notify.OnceKey(ctx); once {
		// Sent again by a node that took over the job: stored and pushed once.
		n.ID = ids.From(key + "\x00" + user + "\x00" + kind)
		if added, err := h.opts.Store.AddNotificationOnce(ctx, n); err != nil || !added {
			return err
		}
	} else if err := h.opts.Store.AddNotification(ctx, n); err != nil {
		return err
	}
	msg := mustJSON(struct {
		Type         string           `json:"type"`
		Notification NotificationView `json:"notification"`
	}{"notification", ViewNotification(n)})
	// The notification is stored: a node that misses the message still lists it.
	if err := h.publishUser(ctx, user, userMsg{Type: userNotification, Wire: msg}); err != nil {
		h.log.Warn("pushing a notification to the user's sockets", "user", user, "err", err)
	}
	if h.opts.Delivered != nil {
		h.opts.Delivered(ctx, n)
	}
	return nil
}
