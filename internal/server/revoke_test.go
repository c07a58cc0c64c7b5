package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
)

// revokedWithin is how soon everything a session opened must close once it ends.
const revokedWithin = time.Second

// closedWithin reads s until the server closes it, failing unless that happens
// within d, and returns the bye reason.
func closedWithin(t *testing.T, s *sock, d time.Duration) string {
	t.Helper()
	bye := ""
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				return bye
			}
			if m.Type == "bye" {
				bye = m.Reason
			}
		case <-deadline:
			t.Fatalf("%s: still open %s after the session ended", s.who, d)
		}
	}
}

// audioClosed reports whether the server closed an audio connection.
func audioClosed(a *audio) bool {
	s := a.PeerState()
	return s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed ||
		s == webrtc.PeerConnectionStateDisconnected
}

// TestRevocation checks that when a session ends, by every way it can, what it
// opened closes within a second: the room socket, the user socket and the audio
// connection; that a speaker whose session ended is off the stage and no longer
// heard; and that the user's other sessions stay open unless the account was
// disabled.
func TestRevocation(t *testing.T) {
	cases := []struct {
		name string
		// end ends the session of ux (the speaker's first device); other is a
		// second session of the same user.
		end        func(t *testing.T, ts *testServer, ux, other *user)
		bye        string
		otherStays bool
	}{
		{
			name: "signing out closes what the session opened",
			end: func(t *testing.T, _ *testServer, ux, _ *user) {
				if err := ux.Logout(ctxT(t)); err != nil {
					t.Fatal(err)
				}
			},
			bye: "session_ended", otherStays: true,
		},
		{
			name: "revoking a session from another device closes what it opened",
			end: func(t *testing.T, _ *testServer, _, other *user) {
				list, err := other.Sessions(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range list {
					if !s.Current {
						if err := other.RevokeSession(ctxT(t), s.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
			},
			bye: "session_ended", otherStays: true,
		},
		{
			name: "changing the password closes what the other sessions opened",
			end: func(t *testing.T, _ *testServer, _, other *user) {
				if err := other.ChangePassword(ctxT(t), password, "a new horse battery"); err != nil {
					t.Fatal(err)
				}
			},
			bye: "session_ended", otherStays: true,
		},
		{
			name: "disabling the account closes what every session opened",
			end: func(t *testing.T, ts *testServer, ux, _ *user) {
				if err := ts.admin.DisableUser(ctxT(t), ux.Name); err != nil {
					t.Fatal(err)
				}
			},
			bye: "account_disabled", otherStays: false,
		},
	}
	ts := startServer(t, "sqlite")
	ada := ts.admin
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ux := ts.user("speaker" + string(rune('a'+i)))
			lis := ts.user("listener" + string(rune('a'+i)))
			rm := createRoom(t, ada, client.RoomSpec{Title: "Revocation", Type: "open"})
			as := join(t, ada, rm.ID)
			us := join(t, ux, rm.ID)
			ls := join(t, lis, rm.ID)
			connectAudio(t, as, 'a')
			ua, la := connectAudio(t, us, 'u'), connectAudio(t, ls, 'l')
			as.do(t, "invite_to_speak", map[string]any{"target": ux.ID})
			us.do(t, "accept_speak", nil)
			us.do(t, "set_muted", map[string]any{"muted": false})
			userSock := userSocket(t, ux)
			other := ts.login(ux)
			otherSock := userSocket(t, other)

			stop := make(chan struct{})
			var wg sync.WaitGroup
			t.Cleanup(func() { close(stop); wg.Wait() })
			ua.talk(t, stop, &wg)
			eventually(t, "the listener hearing the speaker", func() bool { return len(la.heard('u')) > 10 })

			c.end(t, ts, ux, other)
			for _, s := range []*sock{us, userSock} {
				if got := closedWithin(t, s, revokedWithin); got != c.bye {
					t.Errorf("%s: bye %q, want %q", s.who, got, c.bye)
				}
			}
			ls.event(t, "left_stage", ux.ID)
			eventually(t, "the speaker's audio connection closing", func() bool { return audioClosed(ua) })
			last := ua.sent.Load()
			heardBefore := len(la.heard('u'))
			eventually(t, "a few more packets sent by the old connection", func() bool {
				return ua.sent.Load() > last+10 || audioClosed(ua)
			})
			for _, n := range la.heard('u')[heardBefore:] {
				if n > last {
					t.Fatalf("packet %d of the revoked speaker reached the listener", n)
				}
			}
			if c.otherStays {
				ctx, cancel := context.WithTimeout(context.Background(), patience)
				defer cancel()
				if err := otherSock.Ping(ctx); err != nil {
					t.Fatalf("the user's other session lost its socket: %v", err)
				}
			} else if got := closedWithin(t, otherSock, revokedWithin); got != c.bye {
				t.Errorf("the other session's socket: bye %q, want %q", got, c.bye)
			}
		})
	}
}

// TestSessionExpiry checks that the sockets of a session close when it expires,
// without anyone asking.
func TestSessionExpiry(t *testing.T) {
	const ttl = 3 * time.Second
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.SessionTTL = ttl; c.Grace = time.Minute }))
	ux := ts.user("short")
	expires := time.Now().Add(ttl)
	rm := createRoom(t, ux, client.RoomSpec{Title: "Short lived", Type: "open", AllowGuests: true})
	us := join(t, ux, rm.ID)
	userSock := userSocket(t, ux)
	g := openRoom(t, ts.guest(), "a guest", rm.ID)
	for _, s := range []*sock{us, userSock} {
		if got := closedWithin(t, s, time.Until(expires)+revokedWithin); got != "session_ended" {
			t.Errorf("%s: bye %q, want session_ended", s.who, got)
		}
	}
	// The host's session ended: they left at once, not after the grace window,
	// and with nobody left on stage the room ended.
	g.event(t, "room_ended", "")
}
