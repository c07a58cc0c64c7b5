package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/bot"
	"github.com/townhall/townhall/internal/testwait"
)

// socketsOn reads how many sockets each node holds, as node via sees them.
func (c *testCluster) socketsOn(via string) map[string]int {
	c.t.Helper()
	out := map[string]int{}
	for name, n := range c.nodesOf(via) {
		if v, ok := n["sockets"].(float64); ok {
			out[name] = int(v)
		}
	}
	return out
}

// failoverLimit is how long the audio may be gone when a node dies before the
// test fails. The aim, and what an idle machine shows, is under 5 s: the lease
// running out (3 s), the speaker coming back, ICE; a 2-core machine running
// the rest of the suite beside it adds seconds that are not the cluster's.
const failoverLimit = 8 * time.Second

// TestRoomAcrossNodes runs one room over three nodes: each node takes at most
// one socket before the joins spread (--node-max-sockets 1), so the speaker is
// on the room's owner and the listeners on the two other nodes (edges), which
// get the room's events and audio from the owner over the relay. Then the owner
// is killed with kill -9: another node takes the room, the listeners on the
// edges keep their sockets (no reconnect) and hear the speaker again, back on
// the new owner, within five seconds, every stream continuous (its sequence
// numbers started near the wrap). Then an edge is killed: its listeners
// come back through the node left, within five seconds too.
func TestRoomAcrossNodes(t *testing.T) {
	text := strings.Repeat("A room spread over many machines must keep every listener when one of them dies. ", 12)
	ogg := speech(t, text)
	// Every listener's streams start at sequence number 65,500: they wrap
	// within a second, so SRTP's rollover counter is crossed too.
	t.Setenv("TOWNHALL_TEST_FAULT", "seq-near-wrap")
	c := startCluster(t, []string{"a", "b", "c"}, "--node-max-sockets", "1")
	c.firstAdmin("ada")
	spk, _ := c.signUp(t, "a", "speaker")
	rm, err := spk.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Spread", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	var owner string // the node that runs the room (asking the join API would count as a join there)
	testwait.Until(t, patience, "a node running the room", func() bool {
		for name, n := range c.nodesOf("a") {
			if n["rooms"] == float64(1) {
				owner = name
			}
		}
		return owner != ""
	})
	servers := c.url("a") + "," + c.url("b") + "," + c.url("c")
	speaking := make(chan struct{})
	var once sync.Once
	speaker := c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: spk.Token(), Speak: ogg,
		LoopbackOnly: true, WaitForListener: true,
		SpeakAfter: func(context.Context) error { once.Do(func() { close(speaking) }); return nil }})
	testwait.Until(t, patience, "the speaker's socket on the owner", func() bool { return c.socketsOn(owner)[owner] == 1 },
		func() string { return fmt.Sprint(c.socketsOn(owner), c.nodesOf(owner)) })

	var others []string
	for _, n := range []string{"a", "b", "c"} {
		if n != owner {
			others = append(others, n)
		}
	}
	var listeners []*runningBot
	for i := range 2 {
		l, _ := c.signUp(t, others[i], fmt.Sprintf("lis%d", i+1))
		listeners = append(listeners, c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: l.Token(),
			LoopbackOnly: true, Record: filepath.Join(t.TempDir(), fmt.Sprintf("lis%d.ogg", i+1))}))
		testwait.Until(t, patience, "the listener's socket", func() bool {
			total := 0
			for _, n := range c.socketsOn(owner) {
				total += n
			}
			return total == 2+i
		})
	}
	if got := c.socketsOn(owner); got[owner] != 1 {
		t.Fatalf("sockets by node %v: the listeners joined the owner %s, want them on edges", got, owner)
	}
	t.Run("the listeners on the edges are counted and seen by everyone", func(t *testing.T) {
		for _, via := range []string{"a", "b", "c"} {
			testwait.Until(t, patience, "the room as "+via+" shows it", func() bool {
				r, err := c.on(via, spk).Room(ctxFor(t), rm.ID)
				return err == nil && r.ListenerCount == 2 && len(r.Stage) == 1
			})
		}
	})
	select {
	case <-speaking:
	case <-time.After(patience):
		t.Fatal("the speaker did not start speaking")
	}
	hearing := func(what string) {
		t.Helper()
		for i, lb := range listeners {
			before := heardOf(lb.Stats())
			testwait.Until(t, patience, what, func() bool { return heardOf(lb.Stats()) >= before+time.Second },
				func() string { return fmt.Sprintf("listener %d", i+1) })
		}
	}
	t.Run("the listeners on the edges hear the speaker on the owner", func(t *testing.T) {
		hearing("the listeners hearing the speaker through the relay")
	})
	before := make([]time.Duration, len(listeners))
	for i, lb := range listeners {
		before[i] = heardOf(lb.Stats())
	}
	killed := time.Now()
	c.stop(owner, syscall.SIGKILL)
	t.Run("after kill -9 of the owner the edges' listeners hear the speaker again within 5 s without reconnecting", func(t *testing.T) {
		for i, lb := range listeners {
			testwait.Until(t, patience, "the speaker heard again", func() bool { return heardOf(lb.Stats()) >= before[i]+200*time.Millisecond },
				func() string { return fmt.Sprintf("listener %d", i+1) })
			back := time.Since(killed)
			t.Logf("listener %d hears the speaker again %.1f s after the owner was killed", i+1, back.Seconds())
			if back > failoverLimit {
				t.Errorf("listener %d: the audio came back %.1f s after the owner died, want within 5 s (%s on a loaded machine)", i+1, back.Seconds(), failoverLimit)
			}
			if n := lb.Reconnects(); n != 0 {
				t.Errorf("listener %d reconnected %d times, want 0: its node lived", i+1, n)
			}
		}
		// One stream per slot throughout: sequence numbers +1 per packet across
		// the new owner's takeover (nothing skipped), nothing duplicated or late.
		for i, lb := range listeners {
			for _, st := range lb.Stats().Slots {
				if st.Lost != 0 || st.Late != 0 {
					t.Errorf("listener %d, slot %d: %d sequence numbers skipped, %d packets late or duplicated, want 0 and 0 (%d packets)",
						i+1, st.Slot, st.Lost, st.Late, st.Packets)
				}
			}
		}
	})
	t.Run("after kill -9 of an edge its listeners come back through another node within 5 s", func(t *testing.T) {
		alive := others
		var newOwner string
		testwait.Until(t, patience, "the new owner", func() bool {
			for name, n := range c.nodesOf(alive[0]) {
				if name != owner && n["rooms"] == float64(1) {
					newOwner = name
				}
			}
			return newOwner != ""
		})
		edge := alive[0]
		if edge == newOwner {
			edge = alive[1]
		}
		for i, lb := range listeners {
			before[i] = heardOf(lb.Stats())
		}
		killed := time.Now()
		c.stop(edge, syscall.SIGKILL)
		for i, lb := range listeners {
			testwait.Until(t, patience, "the speaker heard again", func() bool { return heardOf(lb.Stats()) >= before[i]+200*time.Millisecond },
				func() string { return fmt.Sprintf("listener %d", i+1) })
			back := time.Since(killed)
			t.Logf("listener %d (%d reconnects) hears the speaker again %.1f s after the edge %s was killed", i+1, lb.Reconnects(), back.Seconds(), edge)
			if back > failoverLimit {
				t.Errorf("listener %d: the audio came back %.1f s after its edge died, want within 5 s (%s on a loaded machine)", i+1, back.Seconds(), failoverLimit)
			}
		}
	})
	speaker.stop(t)
	for i, lb := range listeners {
		rep := lb.stop(t)
		t.Logf("listener %d: %d reconnects, %.1f s of audio", i+1, rep.Reconnects, heardOf(rep.Media).Seconds())
	}
}

// TestEdgeSockets checks a room's signaling through an edge: with one socket
// per node before joins spread, a host on the owner and a listener on another
// node see each other's acts, in order, and the room's rules hold there as on
// the owner (a removed listener cannot come back through any node).
func TestEdgeSockets(t *testing.T) {
	c := startCluster(t, []string{"a", "b", "c"}, "--node-max-sockets", "1")
	c.firstAdmin("ada")
	hostCl, _ := c.signUp(t, "a", "host")
	lisCl, ls := c.signUp(t, "b", "lis")
	rm, err := hostCl.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Edges", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	host := c.join("a", hostCl, rm.ID)
	lis := c.join("a", lisCl, rm.ID)
	if lis.node == host.node {
		t.Fatalf("the listener joined %s, the host's node: want another (--node-max-sockets 1)", lis.node)
	}
	event := func(kind string) func(client.Message) bool {
		return func(m client.Message) bool { return m.Type == "event" && m.Kind == kind }
	}
	t.Run("the host sees the listener on the edge raise a hand", func(t *testing.T) {
		lis.do("raise_hand", nil)
		host.waitFor("the raised hand", event("hand_raised"))
	})
	t.Run("the listener on the edge is invited, accepts, and is on stage for both", func(t *testing.T) {
		host.do("invite_to_speak", map[string]any{"target": ls.User.ID})
		lis.waitFor("the invitation", event("speak_invited"))
		lis.do("accept_speak", nil)
		host.waitFor("the new speaker", event("joined_stage"))
		if got := roleIn(lis.state(), ls.User.ID); got != "speaker" {
			t.Fatalf("the edge's snapshot says %q, want speaker", got)
		}
	})
	t.Run("chat goes both ways through the edge", func(t *testing.T) {
		host.do("set_chat", map[string]any{"mode": "everyone"})
		lis.waitFor("the chat settings", event("chat_settings_changed"))
		lis.do("chat", map[string]any{"text": "hello from an edge"})
		m := host.waitFor("the edge's message", event("chat"))
		if !strings.Contains(string(m.Raw), "hello from an edge") {
			t.Fatalf("the host got %s", m.Raw)
		}
		host.do("chat", map[string]any{"text": "hello from the owner"})
		lis.waitFor("the owner's message", func(m client.Message) bool {
			return m.Type == "event" && m.Kind == "chat" && strings.Contains(string(m.Raw), "hello from the owner")
		})
	})
	t.Run("a listener removed on an edge cannot come back through any node", func(t *testing.T) {
		host.do("remove", map[string]any{"target": ls.User.ID})
		if got := lis.ended(patience); got != "removed" {
			t.Fatalf("the edge's socket ended with %q, want removed", got)
		}
		for _, via := range []string{"a", "b", "c"} {
			info := c.route(via, lisCl, rm.ID)
			s, err := client.New("http://"+hostOf(info.SocketURL)).WithToken(lisCl.Token()).JoinRoom(ctxFor(t), rm.ID)
			if err != nil {
				if client.Code(err) != "removed_from_room" {
					t.Fatalf("the removed listener joining through %s: %v, want removed_from_room", via, err)
				}
				continue // refused before the upgrade
			}
			back := &roomSock{t: t, s: s, node: info.Node}
			m := back.next("an answer to the removed listener")
			s.Close()
			if m.Type != "error" || m.Code != "removed_from_room" {
				t.Fatalf("the removed listener came back through %s (socket on %s): %s", via, info.Node, m.Raw)
			}
		}
	})
}
