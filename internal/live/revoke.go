package live

import (
	"context"
	"time"
)

// Credentials are what a socket was opened with besides who it is: the session of
// a signed-in user, the browser's signed identity and the client's address. The
// HTTP layer establishes them; the live layer keeps them with the socket so that a
// session that ends, or a removal, reaches everything the session opened.
type Credentials struct {
	SessionID string    // the session the socket was opened with; "" for a guest
	Expires   time.Time // when that session ends; zero for a guest
	Browser   string    // the browser's identity (its signed guest cookie), if it sent one
	Addr      string    // the client's address, as the HTTP layer determined it
	// Admin says that the session's account is a server admin, as the HTTP
	// layer read it from the session: with a request to moderate waiting
	// (ModerateAsAdmin), their join puts them on stage as a moderator.
	Admin bool
}

// Revocation says which sessions of a user ended: one (Session), all but one
// (Except: a password change keeps the session that made it), or all (neither: the
// account was disabled).
type Revocation struct {
	UserID  string
	Session string
	Except  string
	Reason  string // the bye reason: ByeSessionEnded or ByeDisabled
}

// matches reports whether a socket opened with session is one that ended.
func (rv Revocation) matches(session string) bool {
	if rv.Session != "" && session != rv.Session {
		return false
	}
	return rv.Except == "" || session != rv.Except
}

// revokedMemory is how long the hub remembers an ended session, so that a socket
// whose request was authenticated just before the session ended, and that joins
// just after, is closed too.
const revokedMemory = time.Minute

// Revoke closes, within the second, everything the ended sessions opened: user
// sockets, room sockets and their audio connections. A participant whose session
// ended leaves their room at once (no grace window): if they were on stage, they
// are off it and no longer heard.
func (h *Hub) Revoke(rv Revocation) {
	if rv.Reason == "" {
		rv.Reason = ByeSessionEnded
	}
	h.revokeLocal(rv) // at once here, whatever the bus does
	if !h.cl.Multi() {
		return
	}
	if err := h.publishUser(context.Background(), rv.UserID, userMsg{Type: userRevoke, Revoke: &rv}); err != nil {
		h.log.Error("telling the other nodes that a session ended", "user", rv.UserID, "err", err)
	}
}

// revokeLocal applies rv to this process's sockets.
func (h *Hub) revokeLocal(rv Revocation) {
	now := time.Now()
	h.mu.Lock()
	h.revoked = append(h.revoked, revokedEntry{rv: rv, at: now})
	for len(h.revoked) > 0 && now.Sub(h.revoked[0].at) > revokedMemory {
		h.revoked = h.revoked[1:]
	}
	var ucs []*userConn
	for uc := range h.users[rv.UserID] {
		if rv.matches(uc.cred.SessionID) {
			ucs = append(ucs, uc)
		}
	}
	rid, in := h.userRoom[rv.UserID]
	h.mu.Unlock()
	for _, uc := range ucs {
		uc.close(rv.Reason)
	}
	if !in {
		return
	}
	if r, ok := h.room(rid); ok {
		r.do(func() { r.revoke(rv) })
	} else if er, ok := h.edgeOf(rid); ok {
		er.revoke(rv)
	}
}

// revokedEntry is an ended session the hub still remembers.
type revokedEntry struct {
	rv Revocation
	at time.Time
}

// wasRevoked reports whether the socket of user opened with session belongs to a
// session that ended in the last revokedMemory. h.mu is held.
func (h *Hub) wasRevoked(user, session string) (reason string, ok bool) {
	if session == "" {
		return "", false
	}
	for _, e := range h.revoked {
		if e.rv.UserID == user && e.rv.matches(session) {
			return e.rv.Reason, true
		}
	}
	return "", false
}

// revoke makes user leave the room if the session of their socket (or, between
// sockets, of their last one) ended. Room goroutine only.
func (r *liveRoom) revoke(rv Revocation) {
	if _, present := r.st.Participant(rv.UserID); !present {
		return
	}
	session, ok := r.sessions[rv.UserID]
	if !ok || !rv.matches(session) {
		return
	}
	r.leave(rv.UserID, rv.Reason)
}

// expireAt arranges for c's session to be revoked when it expires.
func (h *Hub) expireAt(c *conn) {
	cred := c.cred
	if cred.Expires.IsZero() {
		return
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing {
		return
	}
	c.expiry = time.AfterFunc(time.Until(cred.Expires), func() {
		h.Revoke(Revocation{UserID: c.person.ID, Session: cred.SessionID, Reason: ByeSessionEnded})
	})
}
