package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/townhall/townhall/client"
)

func TestRoomSmoke(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := context.Background()
	ada := ts.admin
	bob := ts.user("bob")
	r, err := ada.CreateRoom(ctx, client.RoomSpec{Title: "Hello", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	as, err := ada.JoinRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	snap := waitFor(t, as, "ada's snapshot", msgType("snapshot"))
	var room struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(snap.Room, &room)
	if room.State != "live" {
		t.Fatalf("state %q", room.State)
	}
	bs, err := bob.JoinRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	waitFor(t, bs, "bob's snapshot", msgType("snapshot"))
	waitFor(t, as, "bob joining", event("listener_joined"))
	if err := bs.Command(ctx, "raise_hand", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, as, "bob's hand", event("hand_raised"))
	h, err := bob.Hallway(ctx)
	if err != nil || len(h) != 1 {
		t.Fatalf("hallway %v %v", h, err)
	}
}
