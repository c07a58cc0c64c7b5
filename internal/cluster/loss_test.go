package cluster_test

import (
	"database/sql"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/testwait"
)

// TestNATSServerLost stops one of the three NATS servers under a live cluster:
// the nodes connected to it reconnect to the others, and nothing is lost: the
// live room goes on, and rooms, notifications and the hallway keep working.
func TestNATSServerLost(t *testing.T) {
	c := startCluster(t, []string{"a", "b", "c"})
	c.firstAdmin("ada")
	r := c.stage(t, "a", "n")
	host := c.join("b", r.host, r.id)
	c.nats.Kill(0)

	t.Run("the live room goes on, as it was", func(t *testing.T) {
		host.do("release_mute", map[string]any{"target": r.speakID})
		st := host.state()
		if p, ok := st.OnStage(r.speakID); !ok || p.Held {
			t.Fatalf("the speaker: %+v %v", p, ok)
		}
	})
	t.Run("a room started after the loss is seen and reached from every node", func(t *testing.T) {
		cyd, _ := c.signUp(t, "c", "cydn")
		rm, err := c.on("c", cyd).CreateRoom(ctxFor(t), client.RoomSpec{Title: "After the loss", Type: "open"})
		if err != nil {
			t.Fatal(err)
		}
		c.join("c", cyd, rm.ID)
		for _, n := range []string{"a", "b"} {
			if got := c.ownerOf(n, cyd, rm.ID); got != "c" {
				t.Fatalf("node %s names %s for the room", n, got)
			}
		}
	})
	t.Run("notifications still cross nodes", func(t *testing.T) {
		dan, _ := c.signUp(t, "a", "dann")
		eve, _ := c.signUp(t, "b", "even")
		s := c.userSock("b", eve)
		if err := c.on("c", dan).Follow(ctxFor(t), "even"); err != nil {
			t.Fatal(err)
		}
		notification(t, s, "new_follower", 5*time.Second)
	})
	t.Run("a node killed after the loss still has its room taken over", func(t *testing.T) {
		c.stop("a", syscall.SIGKILL)
		testwait.Until(t, 2*takeoverWithin, "another node running the room", func() bool {
			info := joinInfo{}
			err := c.on("c", r.host).Do(ctxFor(t), "POST", "/api/v1/rooms/"+r.id+"/join", nil, &info)
			return err == nil && info.Node != "" && info.Node != "a"
		})
	})
}

// TestReminderExactlyOnce makes the node that claims an event's reminder stop
// there (an injected fault), then kills it: another node sends the reminder, and
// each of its people gets it once.
func TestReminderExactlyOnce(t *testing.T) {
	c := startCluster(t, nil, "--reminder-claim", "3s")
	c.env["a"] = []string{"TOWNHALL_TEST_FAULT=reminder-claim-hang"}
	c.start("a")
	ada := c.firstAdmin("ada")
	fan, _ := c.signUp(t, "a", "fan")
	// An event that starts in ten minutes and two seconds: its reminder is due in
	// two seconds.
	var ev struct {
		ID string `json:"id"`
	}
	starts := time.Now().Add(10*time.Minute + 2*time.Second).UTC()
	if err := c.on("a", ada).Do(ctxFor(t), "POST", "/api/v1/events", map[string]any{
		"name": "Soon", "starts_at": starts.Format(time.RFC3339Nano)}, &ev); err != nil {
		t.Fatal(err)
	}
	if err := c.on("a", fan).Do(ctxFor(t), "PUT", "/api/v1/events/"+ev.ID+"/subscription", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.nodes["a"].WaitLog(patience, func(l map[string]any) bool {
		return l["msg"] == "fault injected: a claimed reminder is never sent"
	}); !ok {
		t.Fatal("node a did not claim the reminder")
	}
	c.start("b")
	c.start("c")
	c.stop("a", syscall.SIGKILL)
	db, err := sql.Open("pgx", c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(user string) int {
		var n int
		if err := db.QueryRowContext(ctxFor(t), `SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id
			WHERE u.username = $1 AND n.kind = 'event_reminder'`, user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testwait.Until(t, patience, "another node sending the reminder", func() bool { return count("fan") > 0 })
	// Both live nodes run a scheduler: give them time to send it again, if they
	// would, then count. The claim is sent for good once (claim_until NULL).
	testwait.Until(t, patience, "the reminder recorded as sent", func() bool {
		var n int
		_ = db.QueryRowContext(ctxFor(t), `SELECT COUNT(*) FROM event_reminders WHERE event_id = $1 AND claim_until IS NULL`, ev.ID).Scan(&n)
		return n == 1
	})
	for _, u := range []string{"fan", "ada"} {
		if n := count(u); n != 1 {
			t.Fatalf("%s got %d reminders, want 1", u, n)
		}
	}
}
