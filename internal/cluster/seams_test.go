package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/cluster"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/testwait"
)

// seamsOf makes the seams a test runs against: the in-process ones, or two nodes
// of a cluster on real NATS servers (a and b, to see one node's writes from the
// other). In process, a and b are the same node.
type seamsOf func(t *testing.T) (a, b live.Cluster)

func inProcess(t *testing.T) (live.Cluster, live.Cluster) {
	c := live.LocalCluster(live.NodeInfo{Name: "local"})
	return c, c
}

func onNATS(t *testing.T) (live.Cluster, live.Cluster) {
	nats := startNATS(t, 3)
	return joinCluster(t, nats, "node-a").Seams(), joinCluster(t, nats, "node-b").Seams()
}

// joinCluster connects a node called name to the NATS servers.
func joinCluster(t *testing.T, nats *natsCluster, name string) *cluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{URLs: nats.URLs(), Node: live.NodeInfo{Name: name, URL: "http://" + name},
		Log: slog.New(slog.DiscardHandler), LeaseTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestSeams runs one suite against both implementations of the live layer's
// seams: what holds on one node holds on many.
func TestSeams(t *testing.T) {
	for _, impl := range []struct {
		name  string
		seams seamsOf
		multi bool
	}{{"in process", inProcess, false}, {"on NATS", onNATS, true}} {
		t.Run(impl.name, func(t *testing.T) {
			a, b := impl.seams(t)
			ctx := t.Context()
			t.Run("a directory entry one node puts is read by another, and gone once deleted", func(t *testing.T) {
				e := live.DirectoryEntry{Owner: "node-a", Epoch: 7}
				e.ID, e.Title = "roomaxxxxxxxxxxxxxxxxxxxxx", "Hello"
				if err := a.Directory.Put(ctx, e); err != nil {
					t.Fatal(err)
				}
				testwait.Until(t, 5*time.Second, "the entry on the other node", func() bool {
					got, ok := b.Directory.Get(e.ID)
					return ok && got.Title == "Hello" && got.Epoch == 7
				})
				if !slices.ContainsFunc(b.Directory.List(), func(x live.DirectoryEntry) bool { return x.ID == e.ID }) {
					t.Fatal("the entry is not listed")
				}
				if err := a.Directory.Delete(ctx, e.ID); err != nil {
					t.Fatal(err)
				}
				testwait.Until(t, 5*time.Second, "the entry gone on the other node", func() bool {
					_, ok := b.Directory.Get(e.ID)
					return !ok
				})
			})
			t.Run("a room's state is written by its owner and refused to an older one", func(t *testing.T) {
				id := "roombxxxxxxxxxxxxxxxxxxxxx"
				if err := a.RoomStates.Save(ctx, id, 5, []byte(`{"v":1}`)); err != nil {
					t.Fatal(err)
				}
				if err := b.RoomStates.Save(ctx, id, 6, []byte(`{"v":2}`)); err != nil {
					t.Fatal(err)
				}
				if err := a.RoomStates.Save(ctx, id, 5, []byte(`{"v":3}`)); !errors.Is(err, live.ErrStaleEpoch) {
					t.Fatalf("a write of an older epoch: %v, want ErrStaleEpoch", err)
				}
				data, epoch, ok, err := a.RoomStates.Load(ctx, id)
				if err != nil || !ok || epoch != 6 || string(data) != `{"v":2}` {
					t.Fatalf("Load = %s %d %v %v", data, epoch, ok, err)
				}
				testwait.Until(t, 5*time.Second, "the state listed", func() bool {
					list, _ := b.RoomStates.List(ctx)
					return slices.Contains(list, id)
				})
				if err := b.RoomStates.Delete(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, _, ok, _ := a.RoomStates.Load(ctx, id); ok {
					t.Fatal("a deleted state still loads")
				}
			})
			t.Run("a user in one room who enters another learns which room they left", func(t *testing.T) {
				u := "userxxxxxxxxxxxxxxxxxxxxxx"
				if prev, err := a.Presence.Enter(ctx, u, "room1"); err != nil || prev != "" {
					t.Fatalf("first Enter = %q, %v", prev, err)
				}
				if prev, err := b.Presence.Enter(ctx, u, "room2"); err != nil || prev != "room1" {
					t.Fatalf("second Enter = %q, %v, want room1", prev, err)
				}
				a.Presence.Leave(ctx, u, "room1") // too late: they are in room2
				testwait.Until(t, 5*time.Second, "the user seen in room2", func() bool {
					r, ok := a.Presence.Where(u)
					return ok && r == "room2"
				})
				b.Presence.Leave(ctx, u, "room2")
				testwait.Until(t, 5*time.Second, "the user seen nowhere", func() bool {
					_, ok := a.Presence.Where(u)
					return !ok
				})
			})
			t.Run("counters add up across nodes and refuse past their max", func(t *testing.T) {
				key := "sockets of someone"
				for i, c := range []live.Cluster{a, b, a} {
					if ok, err := c.Counters.Add(ctx, key, 1, 3); err != nil || !ok {
						t.Fatalf("add %d: %v %v", i, ok, err)
					}
				}
				if ok, err := b.Counters.Add(ctx, key, 1, 3); err != nil || ok {
					t.Fatalf("a fourth over a max of 3: %v %v", ok, err)
				}
				if ok, err := a.Counters.Add(ctx, key, -1, 0); err != nil || !ok {
					t.Fatalf("taking one off: %v %v", ok, err)
				}
				if ok, err := b.Counters.Add(ctx, key, 1, 3); err != nil || !ok {
					t.Fatalf("one more after one went: %v %v", ok, err)
				}
			})
			t.Run("a lease goes to one node, and to another only by a handover", func(t *testing.T) {
				id := "roomcxxxxxxxxxxxxxxxxxxxxx"
				l, err := a.Leases.Acquire(ctx, id, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !l.Valid() {
					t.Fatal("a new lease is not valid")
				}
				if !impl.multi {
					return // one node holds every lease
				}
				if _, err := b.Leases.Acquire(ctx, id, 0); !errors.Is(err, live.ErrLeaseHeld) {
					t.Fatalf("a second Acquire: %v, want ErrLeaseHeld", err)
				}
				node, epoch, held, err := b.Leases.Holder(ctx, id)
				if err != nil || !held || node != "node-a" || epoch != l.Epoch() {
					t.Fatalf("Holder = %q %d %v %v", node, epoch, held, err)
				}
				l.Release(ctx, false)
				l2, err := b.Leases.Acquire(ctx, id, l.Revision())
				if err != nil {
					t.Fatalf("a handover: %v", err)
				}
				if l2.Epoch() <= l.Epoch() {
					t.Fatalf("the new epoch %d is not after %d", l2.Epoch(), l.Epoch())
				}
				l2.Release(ctx, true)
				if _, _, held, _ := a.Leases.Holder(ctx, id); held {
					t.Fatal("a released lease is still held")
				}
			})
			t.Run("a lease that is not renewed expires and can be taken", func(t *testing.T) {
				if !impl.multi {
					return
				}
				id := "roomdxxxxxxxxxxxxxxxxxxxxx"
				l, err := a.Leases.Acquire(ctx, id, 0)
				if err != nil {
					t.Fatal(err)
				}
				l.Release(ctx, false) // stop renewing, as a node that died
				testwait.Until(t, 10*time.Second, "the lease taken by another node", func() bool {
					_, err := b.Leases.Acquire(ctx, id, 0)
					return err == nil
				})
				if l.Valid() {
					t.Fatal("the old lease still says it is valid")
				}
			})
			t.Run("a message about a user reaches every node", func(t *testing.T) {
				if !impl.multi {
					return // the hub's own handler is the one in process
				}
				var mu sync.Mutex
				got := map[string]string{}
				for name, c := range map[string]live.Cluster{"a": a, "b": b} {
					if err := c.Users.Handle(func(user string, msg []byte) {
						mu.Lock()
						got[name] = user + ":" + string(msg)
						mu.Unlock()
					}); err != nil {
						t.Fatal(err)
					}
				}
				// A subscription takes a moment to reach the other NATS servers:
				// the message goes again until both nodes have it.
				testwait.Until(t, 5*time.Second, "the message on both nodes", func() bool {
					if err := a.Users.Publish(ctx, "someuserxxxxxxxxxxxxxxxxxx", []byte("hi")); err != nil {
						t.Fatal(err)
					}
					mu.Lock()
					defer mu.Unlock()
					return got["a"] == "someuserxxxxxxxxxxxxxxxxxx:hi" && got["b"] == got["a"]
				})
			})
			t.Run("a request for a room reaches the node that serves it, and nobody once it stops", func(t *testing.T) {
				if !impl.multi {
					if _, err := a.Rooms.Request(ctx, "roomexxxxxxxxxxxxxxxxxxxxx", []byte("x")); !errors.Is(err, live.ErrNoOwner) {
						t.Fatalf("in process, a request leaves nothing to answer it: %v", err)
					}
					return
				}
				stop, err := a.Rooms.Serve("roomexxxxxxxxxxxxxxxxxxxxx", func(_ context.Context, req []byte) []byte {
					return append([]byte("a got "), req...)
				})
				if err != nil {
					t.Fatal(err)
				}
				// The subscription takes a moment to reach b's NATS server.
				var out []byte
				testwait.Until(t, 5*time.Second, "a's answer through b", func() bool {
					out, err = b.Rooms.Request(ctx, "roomexxxxxxxxxxxxxxxxxxxxx", []byte("x"))
					return !errors.Is(err, live.ErrNoOwner)
				})
				if err != nil || string(out) != "a got x" {
					t.Fatalf("Request = %q, %v", out, err)
				}
				stop()
				testwait.Until(t, 10*time.Second, "nobody answering", func() bool {
					// Until the other servers learn the subscription is gone, a
					// request may find nobody to answer without hearing so.
					rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
					defer cancel()
					_, err := b.Rooms.Request(rctx, "roomexxxxxxxxxxxxxxxxxxxxx", []byte("x"))
					return errors.Is(err, live.ErrNoOwner)
				})
			})
			t.Run("every node lists the live nodes", func(t *testing.T) {
				want := 1
				if impl.multi {
					want = 2
				}
				testwait.Until(t, 5*time.Second, "the nodes listed", func() bool { return len(b.Nodes.Live()) == want })
			})
		})
	}
}
