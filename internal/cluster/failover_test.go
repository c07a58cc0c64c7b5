package cluster_test

import (
	"database/sql"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read what the nodes wrote

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/testwait"
)

// takeoverWithin is how soon another node must run a room whose owner died.
const takeoverWithin = 5 * time.Second

// staged is a live room under test: its host (a moderator), a speaker, a
// listener with a raised hand, and someone the host removed.
type staged struct {
	id                        string
	host, speaker, listener   *client.Client
	hostID, speakID, listenID string
	removed                   *client.Client
}

// stage starts a room on the node called on, with everyone in place.
func (c *testCluster) stage(t *testing.T, on, tag string) staged {
	t.Helper()
	host, hs := c.signUp(t, on, "host"+tag)
	speaker, ss := c.signUp(t, on, "spk"+tag)
	listener, ls := c.signUp(t, on, "lis"+tag)
	removed, rs := c.signUp(t, on, "rem"+tag)
	rm, err := c.on(on, host).CreateRoom(ctxFor(t), client.RoomSpec{Title: "Failover " + tag, Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	h := c.join(on, host, rm.ID)
	if h.node != on {
		t.Fatalf("the room runs on %s, want %s", h.node, on)
	}
	s := c.join(on, speaker, rm.ID)
	l := c.join(on, listener, rm.ID)
	x := c.join(on, removed, rm.ID)
	h.do("invite_to_speak", map[string]any{"target": ss.User.ID})
	s.do("accept_speak", nil)
	s.do("set_muted", map[string]any{"muted": false})
	l.do("raise_hand", nil)
	h.do("mute", map[string]any{"target": ss.User.ID, "hold": true})
	h.do("remove", map[string]any{"target": rs.User.ID})
	x.ended(patience)
	return staged{id: rm.ID, host: host, speaker: speaker, listener: listener, removed: removed,
		hostID: hs.User.ID, speakID: ss.User.ID, listenID: ls.User.ID}
}

// checkKept checks, on the node via, that the room came back as it was: the
// same roles, the held mute, the raised hand, and the removal.
func (c *testCluster) checkKept(t *testing.T, via string, r staged) (host *roomSock) {
	t.Helper()
	host = c.join(via, r.host, r.id)
	speaker := c.join(via, r.speaker, r.id)
	listener := c.join(via, r.listener, r.id)
	st := host.state()
	if got := roleIn(st, r.hostID); got != "moderator" {
		t.Errorf("the host is %q, want moderator", got)
	}
	p, ok := st.OnStage(r.speakID)
	if !ok || p.Role != "speaker" || !p.Held {
		t.Errorf("the speaker: %+v (on stage %v), want a speaker with a held mute", p, ok)
	}
	if got := roleIn(st, r.listenID); got != "listener" {
		t.Errorf("the listener is %q, want listener", got)
	}
	raised := false
	for _, h := range st.RaisedHands {
		raised = raised || h.ID == r.listenID
	}
	if !raised {
		t.Errorf("the listener's hand is down, want it raised as before")
	}
	if _, err := c.on(via, r.speaker).Room(ctxFor(t), r.id); err != nil {
		t.Errorf("the room page: %v", err)
	}
	_ = speaker
	_ = listener
	info := c.route(via, r.removed, r.id)
	s, err := client.New("http://"+hostOf(info.SocketURL)).WithToken(r.removed.Token()).JoinRoom(ctxFor(t), r.id)
	if err == nil {
		defer s.Close()
		m := (&roomSock{t: t, s: s, node: info.Node}).next("an answer to the removed user")
		if m.Type != "error" || m.Code != "removed_from_room" {
			t.Errorf("the removed user came back: %s", m.Raw)
		}
	} else if client.Code(err) != "removed_from_room" {
		t.Errorf("the removed user joining: %v, want removed_from_room", err)
	}
	return host
}

// TestOwnerKilled kills the node that runs a room with kill -9: within five
// seconds another node holds it, and everyone comes back to the role they had;
// nobody removed gets back in.
func TestOwnerKilled(t *testing.T) {
	c := startCluster(t, []string{"a", "b", "c"})
	c.firstAdmin("ada")
	r := c.stage(t, "a", "k")
	killed := time.Now()
	c.stop("a", syscall.SIGKILL)
	var owner string
	testwait.Until(t, takeoverWithin, "another node running the room", func() bool {
		info := joinInfo{}
		err := c.on("b", r.host).Do(ctxFor(t), "POST", "/api/v1/rooms/"+r.id+"/join", nil, &info)
		owner = info.Node
		return err == nil && info.Node != "" && info.Node != "a"
	})
	t.Logf("the room runs on %s %.1f s after its owner was killed", owner, time.Since(killed).Seconds())
	c.checkKept(t, "c", r)
}

// TestPausedOwnerWritesNothing stops the owner (SIGSTOP) until another node has
// taken the room, changes the room there, then lets the old owner run again
// (SIGCONT): it steps down, and nothing it does is kept.
func TestPausedOwnerWritesNothing(t *testing.T) {
	c := startCluster(t, []string{"a", "b", "c"}, "--grace", "1s")
	c.firstAdmin("ada")
	r := c.stage(t, "a", "p")
	if err := c.nodes["a"].Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.nodes["a"].Signal(syscall.SIGCONT) })
	var owner string
	testwait.Until(t, 2*takeoverWithin, "another node taking the paused owner's room", func() bool {
		info := joinInfo{}
		err := c.on("b", r.host).Do(ctxFor(t), "POST", "/api/v1/rooms/"+r.id+"/join", nil, &info)
		owner = info.Node
		return err == nil && info.Node != "" && info.Node != "a"
	})
	host := c.checkKept(t, owner, r)
	// A change on the new owner, which the old one knows nothing of.
	host.do("release_mute", map[string]any{"target": r.speakID})

	// The old owner wakes: its participants' grace (1 s) ran out while it was
	// stopped, so if it went on it would see its stage empty and end the room.
	if err := c.nodes["a"].Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, patience, "the old owner giving the room up", func() bool {
		n := c.nodesOf("b")["a"]
		return n != nil && n["rooms"] == float64(0)
	})
	db, err := sql.Open("pgx", c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ended sql.NullInt64
	if err := db.QueryRowContext(ctxFor(t), `SELECT ended_at FROM rooms WHERE id = $1`, r.id).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended.Valid {
		t.Fatal("the old owner ended the room in the database")
	}
	st := host.state()
	if p, ok := st.OnStage(r.speakID); !ok || p.Held {
		t.Fatalf("the speaker after the old owner woke: %+v %v, want on stage with the mute released", p, ok)
	}
	if got := c.ownerOf("a", r.host, r.id); got != owner {
		t.Fatalf("the join API on the old owner names %s, want %s", got, owner)
	}
	// The old owner's copy of the directory follows the cluster again.
	testwait.Until(t, patience, "the old owner's hallway showing the room", func() bool {
		list, err := c.on("a", r.host).Hallway(ctxFor(t))
		return err == nil && slices.ContainsFunc(list, func(h client.HallwayRoom) bool { return h.ID == r.id })
	}, func() string {
		la, ea := c.on("a", r.host).Hallway(ctxFor(t))
		lb, eb := c.on("b", r.host).Hallway(ctxFor(t))
		ra, era := c.on("a", r.host).Room(ctxFor(t), r.id)
		return fmt.Sprintf("a: %+v %v; b: %+v %v; room on a: %+v %v", la, ea, lb, eb, ra, era)
	})
}

// hostOf is the host:port of a URL.
func hostOf(u string) string {
	for _, p := range []string{"ws://", "wss://", "http://", "https://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			u = u[len(p):]
		}
	}
	for i := range len(u) {
		if u[i] == '/' {
			return u[:i]
		}
	}
	return u
}
