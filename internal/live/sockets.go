package live

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/shrink"
)

// Who is in which room, and the sockets counted against users and addresses.

// enter records that user is now in roomID and returns the room they were in
// before, if another. If the session the user joined with has ended meanwhile,
// it returns the reason instead, and the caller takes them out again: Revoke
// records the ended session before it looks for the user's room, and enter
// records the room before it looks for ended sessions, so one of the two sees
// the other.
func (h *Hub) enter(user, roomID, session string) (previous, revoked string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.userRoom[user]
	h.userRoom[user] = roomID
	if reason, ok := h.wasRevoked(user, session); ok {
		return "", reason
	}
	if prev == roomID {
		return "", ""
	}
	return prev, ""
}

// left records that user left roomID (unless they are in another room by now).
func (h *Hub) left(user, roomID string) {
	h.mu.Lock()
	if h.userRoom[user] == roomID {
		delete(h.userRoom, user)
	}
	h.mu.Unlock()
	if !strings.HasPrefix(user, "guest_") {
		h.persist("presence", func(ctx context.Context) error { h.cl.Presence.Leave(ctx, user, roomID); return nil })
	}
}

// socketKeys are what a socket counts against: its user and, for a guest, its
// address.
func socketKeys(who Person, cred Credentials) []string {
	if who.Guest && cred.Addr != "" {
		return []string{who.ID, "addr " + cred.Addr}
	}
	return []string{who.ID}
}

// acquireSocket counts a new socket against each of its keys (socketKeys),
// refusing one that would go over a limit.
// The counts are the cluster's (Counters): the limits hold across nodes. A count
// that cannot be read (the cluster's store is away) does not refuse the socket.
func (h *Hub) acquireSocket(ctx context.Context, keys []string) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return ErrShuttingDown
	}
	h.open++
	h.peak = max(h.peak, h.open)
	h.socketsWG.Add(1) // under mu and before closing: never concurrent with Shutdown's Wait
	h.mu.Unlock()
	maxOf := []int{h.opts.MaxSocketsPerUser, h.opts.MaxGuestSocketsPerAddr}
	errOf := []error{ErrTooManySockets, ErrTooManyGuests}
	for i, k := range keys {
		ok, err := h.cl.Counters.Add(ctx, k, 1, maxOf[i])
		if err != nil {
			h.log.Warn("counting a socket", "err", err)
			ok = true
		}
		if !ok {
			h.releaseSocket(keys[:i])
			return errOf[i]
		}
	}
	return nil
}

// releaseSocket uncounts a socket that acquireSocket counted against keys.
func (h *Hub) releaseSocket(keys []string) {
	h.uncount(keys)
	h.mu.Lock()
	h.open--
	if h.peak >= releaseAbove && h.open <= h.peak/2 {
		h.peak = h.open
		if h.release == nil {
			h.release = time.AfterFunc(releaseAfter+h.opts.Grace, h.releaseMemory)
		} else {
			h.release.Reset(releaseAfter + h.opts.Grace)
		}
	}
	h.mu.Unlock()
	h.socketsWG.Done()
}

// uncount takes a socket off the counts of keys: the first half of
// releaseSocket, done early for a socket refused at its join, so that the
// client, told of the refusal, finds its count already down (releaseSocket(nil)
// then does the rest).
func (h *Hub) uncount(keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, k := range keys {
		if _, err := h.cl.Counters.Add(ctx, k, -1, 0); err != nil {
			h.log.Warn("uncounting a socket", "err", err)
		}
	}
}

// When at least half of the sockets open at a peak of releaseAbove or more have
// closed, the hub gives the memory they used back to the system, releaseAfter
// after the grace window of the last of them ended (before, the rooms still
// hold their places, and the tables compacted then would grow right back). An idle Go process runs no garbage collection (but
// one every two minutes), so its heap goal stays where the peak put it and the
// runtime keeps the freed pages: 2,000 guests who came and went left the
// process 22 MiB bigger for good.
const (
	releaseAbove = 256
	releaseAfter = time.Second
)

// releaseMemory is the default Options.ReleaseMemory: two collections (the first
// moves what sync.Pools hold to their victim caches, the second frees it), then
// every free page goes back to the system.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// releaseMemory runs a collection and returns the free memory to the system, and
// lets the sockets map, which never shrinks by itself, start small again.
func (h *Hub) releaseMemory() {
	h.mu.Lock()
	h.userRoom = shrink.Map(h.userRoom)
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.do(r.compact)
	}
	if c, ok := h.cl.Counters.(interface{ compact() }); ok {
		c.compact()
	}
	if m, ok := h.opts.Media.(interface{ Compact() }); ok { // the media server's tables too (media.Media)
		m.Compact()
	}
	h.opts.ReleaseMemory()
}
