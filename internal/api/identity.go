package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/live"
)

// GuestCookie is the name of the cookie that holds a browser's signed identity. A
// guest listens under it, and a removal from a room bars it (with the address) from
// coming back to that room as a guest, signed in or not when removed.
const GuestCookie = "townhall_guest"

// guestCookieTTL is how long a browser keeps its identity.
const guestCookieTTL = 365 * 24 * time.Hour

// signIdentity returns the cookie value of identity id: the ID and its HMAC-SHA256
// under the server's key, so that nobody can claim an identity they were not given.
func (a *API) signIdentity(id string) string {
	m := hmac.New(sha256.New, a.guestKey)
	m.Write([]byte("townhall guest identity\x00" + id))
	return id + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readIdentity returns the identity a cookie value carries, if its signature holds.
func (a *API) readIdentity(v string) (string, bool) {
	id, _, ok := strings.Cut(v, ".")
	if !ok || !live.ValidGuestID(id) {
		return "", false
	}
	return id, hmac.Equal([]byte(v), []byte(a.signIdentity(id)))
}

// browserIdentity returns the identity of the browser behind r: the one its signed
// cookie carries, or a new one, which the response sets (the WebSocket upgrade
// writes the header too).
func (a *API) browserIdentity(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(GuestCookie); err == nil {
		if id, ok := a.readIdentity(c.Value); ok {
			return id
		}
	}
	id := live.NewGuest().ID
	http.SetCookie(w, &http.Cookie{Name: GuestCookie, Value: a.signIdentity(id), Path: "/",
		Expires: a.now().Add(guestCookieTTL), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return id
}

// clientAddr is the address of the client behind r: the connection's peer, or,
// when that peer is a trusted reverse proxy, the last address of X-Forwarded-For
// that is not one of the trusted proxies.
func (a *API) clientAddr(r *http.Request) string {
	peer := clientIP(r)
	if !a.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if net.ParseIP(hop) == nil {
			break // garbage: trust nothing further left
		}
		if !a.trusted(hop) {
			return hop
		}
		peer = hop
	}
	return peer
}

// trusted reports whether addr is one of the trusted reverse proxies.
func (a *API) trusted(addr string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, n := range a.trustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
