package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// TestBlockSaysWhatItDoes: a profile says what a block does, before and after it is
// made, and so does the toast that confirms it; in a room, a join that a block
// keeps off the stage lands in the audience and says why.
func TestBlockSaysWhatItDoes(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	sam := ts.invite(t, admin, "sam")
	nia := ts.invite(t, admin, "nia")
	b := newBrowser(t)
	p := b.user("nia", ts.url)
	p.login("nia")

	const means = "neither of you can be brought on stage while the other is on it."
	p.open("/u/sam")
	p.waitFor("what a block does, before blocking", fmt.Sprintf(
		`document.querySelector("[data-testid=block-means]")?.textContent.includes(%s)`, jsString(means)))
	p.click(`[data-testid=block]`)
	p.waitText("Block? Click again to confirm")
	p.click(`[data-testid=block]`)
	p.waitFor("the toast of the block", fmt.Sprintf(
		`[...document.querySelectorAll(".toast-info")].some((t) => t.textContent.startsWith("Blocked. sam can no longer follow you") && t.textContent.includes(%s))`, jsString(means)))
	p.waitFor("what the block does, once made", fmt.Sprintf(
		`document.querySelector("[data-testid=you-block]")?.textContent.endsWith(%s)`, jsString(means)))
	if eval[bool](p, `!!document.querySelector("[data-testid=block-means]")`) {
		t.Error("the profile still says what blocking would do, after the block")
	}

	// sam is on stage; a moderator's invitation would put nia on stage at her join.
	ctx := context.Background()
	rm, err := admin.CreateRoom(ctx, client.RoomSpec{Title: "Panel", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	join := func(u *apiUser) *client.Socket {
		s, err := u.JoinRoom(ctx, rm.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		deadline := time.After(patience)
		for { // joined once the snapshot comes
			select {
			case m, ok := <-s.Messages():
				if !ok {
					t.Fatalf("%s's room socket closed before the snapshot: %v", u.Name, s.Err())
				}
				if m.Type == "snapshot" {
					return s
				}
			case <-deadline:
				t.Fatalf("%s's room socket: no snapshot within %s", u.Name, patience)
			}
		}
	}
	as, ss := join(admin), join(sam)
	if err := as.Command(ctx, "invite_to_speak", map[string]any{"target": sam.ID}); err != nil {
		t.Fatal(err)
	}
	if err := ss.Command(ctx, "accept_speak", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.InviteToRoom(ctx, rm.ID, []string{"nia"}, "come up", false); err != nil {
		t.Fatal(err)
	}
	p.open("/rooms/" + rm.ID)
	p.click(`[data-testid=join]`)
	p.waitFor("the notice of a join kept off the stage", `[...document.querySelectorAll(".toast-info")].some((t) => t.textContent.startsWith("You joined as a listener"))`)
	p.waitFor("nia in the audience", `!!document.querySelector("[data-testid=hand]")`)
	if eval[bool](p, fmt.Sprintf(`!!document.querySelector('.stage-grid [data-user-id=%q]')`, nia.ID)) {
		t.Error("nia is on stage next to sam, whom she blocks")
	}
}
