package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// stageCast is the people of one case of TestStageBlocksBothWays: ada runs the room
// (or hosts the event), sam is on stage as a speaker (a moderator's block would keep
// nia out of the room altogether), nia is the one some way would bring on stage
// next to sam. With a direction, a block stands between nia and sam.
type stageCast struct {
	ada, sam, nia *user
	direction     string // "", "nia blocks sam" or "sam blocks nia"
}

// blocked reports whether a block stands between nia and sam in this case.
func (c *stageCast) blocked() bool { return c.direction != "" }

// block makes the case's block between who (nia, or a newcomer in her place) and
// sam, over HTTP, and lifts it when the test ends.
func (c *stageCast) block(t *testing.T, who *user) {
	t.Helper()
	ctx := context.Background()
	blocker, blocked := who, c.sam
	switch c.direction {
	case "":
		return
	case "sam blocks nia":
		blocker, blocked = c.sam, who
	}
	if err := blocker.Block(ctx, blocked.Name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blocker.Unblock(ctx, blocked.Name) })
}

// stageWithSpeaker opens a room of ada's with sam on stage as a speaker.
func (c *stageCast) stageWithSpeaker(t *testing.T) (roomID string, as, ss *sock) {
	t.Helper()
	rm := createRoom(t, c.ada, client.RoomSpec{Title: "Panel", Type: "open"})
	as = join(t, c.ada, rm.ID)
	ss = join(t, c.sam, rm.ID)
	as.do(t, "invite_to_speak", map[string]any{"target": c.sam.ID})
	ss.event(t, "speak_invited", c.sam.ID)
	ss.do(t, "accept_speak", nil)
	return rm.ID, as, ss
}

// event schedules an open event of ada's with the co-hosts and the guests (invited
// on stage by ada) named, and returns its ID.
func (c *stageCast) event(t *testing.T, cohosts []*user, guests ...*user) string {
	t.Helper()
	names := func(us []*user) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.Name)
		}
		return out
	}
	ev := call(t, c.ada.Client, "POST", "/api/v1/events", map[string]any{"name": "Panel night",
		"starts_at": time.Now().Add(time.Hour).Format(time.RFC3339), "cohosts": names(cohosts), "room_type": "open"})
	id := ev["id"].(string)
	if len(guests) > 0 {
		call(t, c.ada.Client, "POST", "/api/v1/events/"+id+"/invitations", map[string]any{"usernames": names(guests)})
	}
	return id
}

// start starts an event of ada's and returns its room's ID.
func (c *stageCast) start(t *testing.T, eventID string) string {
	t.Helper()
	return call(t, c.ada.Client, "POST", "/api/v1/events/"+eventID+"/start", nil)["room_id"].(string)
}

// joined is where u stands once their socket s has joined: their role in its
// snapshot, and, when the case has a block, the code of the notice that says why
// they joined as a listener (an error message without a request id, right after
// the snapshot).
func (c *stageCast) joined(t *testing.T, s *sock, u *user) (role, code string) {
	t.Helper()
	role = roleOf(s.state, u.ID)
	if c.blocked() {
		code = s.waitFor(t, "the notice of a join kept off the stage", func(m client.Message) bool {
			return m.Type == "error" && m.ID == ""
		}).Code
	}
	return role, code
}

// command sends a command and returns the code of its refusal ("" if done).
func command(t *testing.T, s *sock, typ string, fields map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	return client.Code(s.Command(ctx, typ, fields))
}

// stagePath is one way onto the stage. bring runs it for nia (or a newcomer in her
// place), making the case's block at the point its name says, and returns the role
// nia ends with and the code of the refusal or notice she or ada met ("" if none).
// Without a block she ends as role; with one, as a listener, having met code.
type stagePath struct {
	name  string
	role  string
	code  string
	bring func(t *testing.T, c *stageCast) (role, code string)
}

// TestStageBlocksBothWays checks, over HTTP and the room socket, that nobody is
// brought on stage next to someone they block or who blocks them, by any way onto
// the stage; and, with no block, that the same way does bring them on stage.
func TestStageBlocksBothWays(t *testing.T) {
	ts := startServer(t, "sqlite")
	paths := []stagePath{
		{
			name: "an invitation to speak", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, as, _ := c.stageWithSpeaker(t)
				ns := join(t, c.nia, roomID)
				c.block(t, c.nia)
				code := command(t, as, "invite_to_speak", map[string]any{"target": c.nia.ID})
				if code == "" {
					ns.event(t, "speak_invited", c.nia.ID)
					ns.do(t, "accept_speak", nil)
				}
				return roleOf(ns.snapshot(t), c.nia.ID), code
			},
		},
		{
			name: "a raised hand, then an invitation to speak", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, as, _ := c.stageWithSpeaker(t)
				ns := join(t, c.nia, roomID)
				c.block(t, c.nia)
				ns.do(t, "raise_hand", nil)
				as.event(t, "hand_raised", c.nia.ID)
				code := command(t, as, "invite_to_speak", map[string]any{"target": c.nia.ID})
				if code == "" {
					ns.event(t, "speak_invited", c.nia.ID)
					ns.do(t, "accept_speak", nil)
				}
				return roleOf(ns.snapshot(t), c.nia.ID), code
			},
		},
		{
			name: "an invitation to speak made before the block and accepted after it", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, as, _ := c.stageWithSpeaker(t)
				ns := join(t, c.nia, roomID)
				as.do(t, "invite_to_speak", map[string]any{"target": c.nia.ID})
				ns.event(t, "speak_invited", c.nia.ID)
				c.block(t, c.nia)
				code := command(t, ns, "accept_speak", nil)
				return roleOf(ns.snapshot(t), c.nia.ID), code
			},
		},
		{
			name: "a moderator's invitation to the conversation, at the next join", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, _, _ := c.stageWithSpeaker(t)
				if _, err := c.ada.InviteToRoom(ctxT(t), roomID, []string{c.nia.Name}, "come up", false); err != nil {
					t.Fatal(err)
				}
				c.block(t, c.nia)
				ns := join(t, c.nia, roomID)
				return c.joined(t, ns, c.nia)
			},
		},
		{
			name: "a moderator's invitation to the conversation made before the block and accepted from the audience after it", role: "speaker", code: "",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, _, _ := c.stageWithSpeaker(t)
				ns := join(t, c.nia, roomID)
				inv, err := c.ada.InviteToRoom(ctxT(t), roomID, []string{c.nia.Name}, "come up", false)
				if err != nil || !inv.ToStage {
					t.Fatalf("invitation %+v %v", inv, err)
				}
				c.block(t, c.nia)
				// The answer has been applied to the room when it returns.
				if err := c.nia.AnswerInvitation(ctxT(t), inv.ID, "accept", ""); err != nil {
					t.Fatal(err)
				}
				return roleOf(ns.snapshot(t), c.nia.ID), ""
			},
		},
		{
			name: "a sign-up through a moderator's invitation link", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, _, _ := c.stageWithSpeaker(t)
				link, err := c.ada.InviteToRoom(ctxT(t), roomID, nil, "", true)
				if err != nil || link.LinkCode() == "" {
					t.Fatalf("link %+v %v", link, err)
				}
				cl, sess, err := ts.guest().SignUp(ctxT(t), "new"+c.nia.Name, password, link.LinkCode())
				if err != nil || sess.RoomID != roomID {
					t.Fatalf("sign-up into %q: %v", sess.RoomID, err)
				}
				newcomer := &user{Client: cl, ID: sess.User.ID, Name: "new" + c.nia.Name}
				c.block(t, newcomer)
				return c.joined(t, join(t, newcomer, roomID), newcomer)
			},
		},
		{
			name: "an event guest invited on stage before the block", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				id := c.event(t, nil, c.sam, c.nia)
				c.block(t, c.nia)
				roomID := c.start(t, id)
				join(t, c.ada, roomID)
				join(t, c.sam, roomID)
				return c.joined(t, join(t, c.nia, roomID), c.nia)
			},
		},
		{
			name: "an event guest invited on stage after the block", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				id := c.event(t, nil, c.sam)
				c.block(t, c.nia)
				err := c.ada.Do(ctxT(t), "POST", "/api/v1/events/"+id+"/invitations", map[string]any{"usernames": []string{c.nia.Name}}, nil)
				code := client.Code(err)
				if code != "" {
					wantStatus(t, "inviting nia on stage", err, 403, "blocked")
				}
				roomID := c.start(t, id)
				join(t, c.ada, roomID)
				join(t, c.sam, roomID)
				return roleOf(join(t, c.nia, roomID).state, c.nia.ID), code
			},
		},
		{
			name: "an event co-host", role: "moderator", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				id := c.event(t, []*user{c.nia}, c.sam)
				c.block(t, c.nia)
				roomID := c.start(t, id)
				join(t, c.ada, roomID)
				join(t, c.sam, roomID)
				return c.joined(t, join(t, c.nia, roomID), c.nia)
			},
		},
		{
			name: "coming back after stepping down, the block made while both were on stage", role: "speaker", code: "blocked",
			bring: func(t *testing.T, c *stageCast) (string, string) {
				roomID, as, _ := c.stageWithSpeaker(t)
				ns := join(t, c.nia, roomID)
				as.do(t, "invite_to_speak", map[string]any{"target": c.nia.ID})
				ns.event(t, "speak_invited", c.nia.ID)
				ns.do(t, "accept_speak", nil)
				c.block(t, c.nia)
				// The block moves nobody.
				if st := ns.snapshot(t); roleOf(st, c.nia.ID) != "speaker" || roleOf(st, c.sam.ID) != "speaker" {
					t.Fatalf("after a block on stage, the stage is %v, want nia and sam still on it", stageIDs(st))
				}
				ns.do(t, "step_down", nil)
				code := command(t, as, "invite_to_speak", map[string]any{"target": c.nia.ID})
				if code == "" {
					ns.event(t, "speak_invited", c.nia.ID)
					ns.do(t, "accept_speak", nil)
				}
				return roleOf(ns.snapshot(t), c.nia.ID), code
			},
		},
	}
	n := 0
	for _, p := range paths {
		for _, direction := range []string{"", "nia blocks sam", "sam blocks nia"} {
			name := "with no block, " + p.name + " brings nia on stage"
			if direction != "" {
				name = "when " + direction + ", " + p.name + " does not bring nia on stage"
			}
			t.Run(name, func(t *testing.T) {
				n++
				us := ts.users(fmt.Sprintf("ada%d", n), fmt.Sprintf("sam%d", n), fmt.Sprintf("nia%d", n))
				c := &stageCast{ada: us[0], sam: us[1], nia: us[2], direction: direction}
				wantRole, wantCode := p.role, ""
				if c.blocked() {
					wantRole, wantCode = "listener", p.code
				}
				role, code := p.bring(t, c)
				if role != wantRole || code != wantCode {
					t.Fatalf("nia ends as %q having met %q, want %q having met %q", role, code, wantRole, wantCode)
				}
			})
		}
	}
}
