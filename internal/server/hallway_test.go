package server_test

import (
	"slices"
	"testing"

	"github.com/townhall/townhall/client"
)

// TestHallway checks the ranking of the hallway, its reasons and cards, and that
// the user socket pushes its changes live.
func TestHallway(t *testing.T) {
	ts := startServer(t, "sqlite", quickHallway())
	ctx := ctxT(t)
	us := ts.users("vic", "sam", "ann", "amy", "ari", "kim", "lia", "max", "ned", "nia", "ola", "pat", "quinn", "ray")
	vic, sam, ann, amy, ari, kim, lia, max, ned, nia, ola, pat, quinn, ray :=
		us[0], us[1], us[2], us[3], us[4], us[5], us[6], us[7], us[8], us[9], us[10], us[11], us[12], us[13]
	follow(t, vic, ari)
	follow(t, vic, lia)
	follow(t, pat, vic)
	vics := userSocket(t, vic)
	first := vics.waitFor(t, "the first hallway", msgType("hallway"))
	if rooms, err := first.HallwayRooms(); err != nil || len(rooms) != 0 {
		t.Fatalf("the first hallway %s: %v", first.Raw, err)
	}

	// A: someone vic follows speaks, with three others on stage.
	roomA := createRoom(t, sam, client.RoomSpec{Title: "A: followed speaking", Type: "open"})
	as := join(t, sam, roomA.ID)
	if _, err := sam.InviteToRoom(ctx, roomA.ID, []string{"ann", "amy", "ari"}, "come up", false); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{ann, amy, ari} {
		join(t, u, roomA.ID)
		as.event(t, "joined_stage", u.ID)
	}
	// B: someone vic follows listens.
	roomB := createRoom(t, kim, client.RoomSpec{Title: "B: followed listening", Type: "open"})
	join(t, kim, roomB.ID)
	ls := join(t, lia, roomB.ID)
	// C: the biggest of the rest.
	roomC := createRoom(t, max, client.RoomSpec{Title: "C: big", Type: "open"})
	join(t, max, roomC.ID)
	join(t, ned, roomC.ID)
	join(t, nia, roomC.ID)
	// D: small.
	roomD := createRoom(t, ola, client.RoomSpec{Title: "D: small", Type: "open"})
	ds := join(t, ola, roomD.ID)
	// E: social, its moderator follows vic; F: social, nobody there follows vic.
	roomE := createRoom(t, pat, client.RoomSpec{Title: "E: social, followed", Type: "social"})
	join(t, pat, roomE.ID)
	roomF := createRoom(t, quinn, client.RoomSpec{Title: "F: social, not followed", Type: "social"})
	join(t, quinn, roomF.ID)
	// G: closed, vic invited; H: waiting for its creator.
	roomG := createRoom(t, ray, client.RoomSpec{Title: "G: closed, invited", Type: "closed"})
	join(t, ray, roomG.ID)
	if _, err := ray.InviteToRoom(ctx, roomG.ID, []string{"vic"}, "", false); err != nil {
		t.Fatal(err)
	}
	createRoom(t, kim, client.RoomSpec{Title: "H: not started", Type: "open"})

	wantFirst := []string{roomA.ID, roomB.ID, roomC.ID}
	wantRest := []string{roomD.ID, roomE.ID, roomG.ID}
	ranked := func(rooms []client.HallwayRoom) bool {
		got := make([]string, len(rooms))
		for i, r := range rooms {
			got[i] = r.ID
		}
		if len(got) != 6 || !slices.Equal(got[:3], wantFirst) {
			return false
		}
		rest := slices.Clone(got[3:])
		want := slices.Clone(wantRest)
		slices.Sort(rest)
		slices.Sort(want)
		return slices.Equal(rest, want)
	}

	t.Run("the hallway ranks followed speakers, then followed listeners, then the rest by size", func(t *testing.T) {
		h, err := vic.Hallway(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ranked(h) {
			t.Fatalf("hallway order:\n%s", hallwayString(h))
		}
		for i := 3; i < len(h)-1; i++ {
			if h[i].SpeakerCount+h[i].ListenerCount < h[i+1].SpeakerCount+h[i+1].ListenerCount {
				t.Fatalf("the rest is not by size:\n%s", hallwayString(h))
			}
		}
	})

	t.Run("each card gives its reason", func(t *testing.T) {
		h, _ := vic.Hallway(ctx)
		want := map[string]string{
			roomA.ID: "ari, whom you follow, is speaking",
			roomB.ID: "someone you follow is listening",
			roomC.ID: "live now",
			roomD.ID: "live now",
			roomE.ID: "a moderator follows you",
			roomG.ID: "you were invited",
		}
		for _, r := range h {
			if r.Reason != want[r.ID] {
				t.Errorf("%s: reason %q, want %q", r.Title, r.Reason, want[r.ID])
			}
		}
	})

	t.Run("a card names up to three speakers, people the viewer follows first, and counts", func(t *testing.T) {
		h, _ := vic.Hallway(ctx)
		a := h[0]
		names := make([]string, len(a.Speakers))
		for i, p := range a.Speakers {
			names[i] = p.Username
		}
		if !slices.Equal(names, []string{"ari", "sam", "ann"}) {
			t.Fatalf("speakers %v, want ari (followed), then sam and ann by seniority", names)
		}
		if a.SpeakerCount != 4 || a.ListenerCount != 0 || a.FollowedSpeakers != 1 || a.Title != roomA.Title || a.Type != "open" {
			t.Fatalf("card %+v", a)
		}
		b := h[1]
		if b.FollowedListeners != 1 || b.ListenerCount != 1 || b.SpeakerCount != 1 {
			t.Fatalf("card %+v", b)
		}
		if c := h[2]; c.ListenerCount != 2 || c.SpeakerCount != 1 {
			t.Fatalf("card %+v", c)
		}
	})

	t.Run("the user socket pushed the ranked hallway", func(t *testing.T) {
		vics.waitFor(t, "the ranked hallway", func(m client.Message) bool {
			rooms, _ := m.HallwayRooms()
			return m.Type == "hallway" && ranked(rooms)
		})
	})

	t.Run("more people followed on stage say how many", func(t *testing.T) {
		follow(t, vic, ann)
		h, _ := vic.Hallway(ctx)
		if h[0].Reason != "2 people you follow are speaking" || h[0].Speakers[0].Username != "ann" || h[0].Speakers[1].Username != "ari" {
			t.Fatalf("card %+v", h[0])
		}
	})

	t.Run("changes reach the user socket live", func(t *testing.T) {
		ls.do(t, "leave", nil)
		vics.waitFor(t, "room B without its followed listener", func(m client.Message) bool {
			rooms, _ := m.HallwayRooms()
			i := slices.IndexFunc(rooms, func(r client.HallwayRoom) bool { return r.ID == roomB.ID })
			return m.Type == "hallway" && i >= 0 && rooms[i].FollowedListeners == 0 && rooms[i].Reason == "live now"
		})
		as.do(t, "end", nil)
		vics.waitFor(t, "room A gone", func(m client.Message) bool {
			rooms, _ := m.HallwayRooms()
			return m.Type == "hallway" && len(rooms) > 0 && !slices.ContainsFunc(rooms, func(r client.HallwayRoom) bool { return r.ID == roomA.ID })
		})
	})

	t.Run("an open room that removed the viewer leaves their hallway, not other people's", func(t *testing.T) {
		join(t, vic, roomD.ID)
		ds.event(t, "listener_joined", vic.ID)
		ds.do(t, "remove", map[string]any{"target": vic.ID})
		hasD := func(rooms []client.HallwayRoom) bool {
			return slices.ContainsFunc(rooms, func(r client.HallwayRoom) bool { return r.ID == roomD.ID })
		}
		vics.waitFor(t, "room D gone from vic's hallway", func(m client.Message) bool {
			rooms, _ := m.HallwayRooms()
			return m.Type == "hallway" && len(rooms) > 0 && !hasD(rooms)
		})
		if h, err := vic.Hallway(ctx); err != nil || hasD(h) {
			t.Fatalf("vic's hallway over HTTP (%v):\n%s", err, hallwayString(h))
		}
		if h, err := ned.Hallway(ctx); err != nil || !hasD(h) {
			t.Fatalf("ned's hallway lost room D (%v):\n%s", err, hallwayString(h))
		}
	})
}

func hallwayString(h []client.HallwayRoom) string {
	s := ""
	for _, r := range h {
		s += r.Title + " (" + r.Reason + ")\n"
	}
	return s
}
