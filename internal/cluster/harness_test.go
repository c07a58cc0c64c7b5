package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/proctest"
	"github.com/townhall/townhall/internal/store/storetest"
	"github.com/townhall/townhall/internal/testwait"
)

// patience bounds the waits of the cluster tests.
const patience = 20 * time.Second

// password is every test user's password.
const password = "correct horse battery"

// testCluster is townhall nodes as separate processes (so that kill -9 is real)
// on loopback, sharing one Postgres schema and three NATS servers.
type testCluster struct {
	t        *testing.T
	nats     *natsCluster
	db       string
	extra    []string
	env      map[string][]string // node → extra environment
	nodes    map[string]*proctest.Proc
	data     map[string]string // node → data folder, kept across restarts
	admin    *client.Client
	users    int                 // signed up so far
	nodeArgs map[string][]string // node → flags of its next starts
}

// startCluster starts the NATS servers and one node per name.
func startCluster(t *testing.T, names []string, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, db: storetest.PostgresSchema(t), nats: startNATS(t, 3), extra: extra,
		env: map[string][]string{}, nodes: map[string]*proctest.Proc{}, data: map[string]string{}}
	for _, n := range names {
		c.start(n)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for name, p := range c.nodes {
				t.Logf("node %s logged:\n%s", name, p.LogText())
			}
		}
	})
	return c
}

// start runs the node called name (again, with its data folder, after a stop).
func (c *testCluster) start(name string) *proctest.Proc {
	c.t.Helper()
	if c.data[name] == "" {
		c.data[name] = c.t.TempDir()
	}
	args := append([]string{"--db", c.db, "--nats", c.nats.URLList(), "--node-name", name, "--data", c.data[name],
		"--open-signup", "--grace", "20s", "--shutdown-timeout", "20s", "--trusted-proxies", "127.0.0.1", "--relay-listen", "127.0.0.1:0"}, c.extra...)
	args = append(args, c.nodeArgs[name]...)
	p := proctest.StartEnv(c.t, c.env[name], args...)
	c.nodes[name] = p
	return p
}

// url is the base URL of a node.
func (c *testCluster) url(name string) string { return c.nodes[name].URL }

// client is a client of the node called name.
func (c *testCluster) client(name string) *client.Client { return client.New(c.url(name)) }

// signUp makes a user on the node called name and returns their client there.
// Each user comes from an address of their own (the nodes trust loopback as a
// proxy), so that the per-address limits see people, not the test.
func (c *testCluster) signUp(t *testing.T, name, username string) (*client.Client, client.Session) {
	t.Helper()
	c.users++
	addr := fmt.Sprintf("10.1.%d.%d", c.users/250, c.users%250+1)
	cl, s, err := c.client(name).WithHeader("X-Forwarded-For", addr).SignUp(ctxFor(t), username, password, "")
	if err != nil {
		t.Fatalf("signing up %s on %s: %v", username, name, err)
	}
	return cl, s
}

// firstAdmin signs up the first (admin) account through the first-run code one
// of the nodes logged.
func (c *testCluster) firstAdmin(username string) *client.Client {
	c.t.Helper()
	for name, p := range c.nodes {
		l, ok := p.WaitLog(time.Second, func(l map[string]any) bool { _, ok := l["invite_code"].(string); return ok })
		if !ok {
			continue
		}
		cl, _, err := c.client(name).SignUp(ctxFor(c.t), username, password, l["invite_code"].(string))
		if err != nil {
			c.t.Fatal(err)
		}
		c.admin = cl
		return cl
	}
	c.t.Fatal("no node logged a first-run code")
	return nil
}

// on returns cl talking to the node called name, with the same session.
func (c *testCluster) on(name string, cl *client.Client) *client.Client {
	return client.New(c.url(name)).WithToken(cl.Token())
}

// stop ends the node with sig and waits for it; SIGTERM must end it cleanly.
func (c *testCluster) stop(name string, sig syscall.Signal) {
	c.t.Helper()
	p := c.nodes[name]
	if err := p.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
	err := p.Wait(c.t, 60*time.Second)
	if sig == syscall.SIGTERM && err != nil {
		c.t.Fatalf("node %s after SIGTERM: %v\n%s", name, err, p.LogText())
	}
}

// joinInfo is the answer of the join API.
type joinInfo struct {
	Node      string `json:"node"`
	SocketURL string `json:"socket_url"`
}

// route asks the node called via where the room runs, waiting while it moves.
func (c *testCluster) route(via string, cl *client.Client, roomID string) joinInfo {
	c.t.Helper()
	var info joinInfo
	testwait.Until(c.t, patience, "the join API naming a node for the room", func() bool {
		err := c.on(via, cl).Do(ctxFor(c.t), "POST", "/api/v1/rooms/"+roomID+"/join", nil, &info)
		return err == nil && info.Node != ""
	})
	return info
}

// join opens cl's room socket on the node the join API (asked on via) names,
// and waits for the welcome.
func (c *testCluster) join(via string, cl *client.Client, roomID string) *roomSock {
	c.t.Helper()
	info := c.route(via, cl, roomID)
	// The socket the join API named, not JoinRoom on that node: it would ask
	// the join API again, and the node that answers may send it elsewhere.
	return c.open(via, cl, roomID, info)
}

// joinOn opens cl's room socket on the node called node, whatever the join API
// would say: any node takes a room's sockets, as an edge of it when another
// node runs it.
func (c *testCluster) joinOn(node string, cl *client.Client, roomID string) *roomSock {
	c.t.Helper()
	url := "ws://" + hostOf(c.url(node)) + "/api/v1/rooms/" + roomID + "/socket"
	return c.open(node, cl, roomID, joinInfo{Node: node, SocketURL: url})
}

// open opens the room socket info names and waits for the welcome and the
// snapshot.
func (c *testCluster) open(via string, cl *client.Client, roomID string, info joinInfo) *roomSock {
	c.t.Helper()
	s, err := c.on(via, cl).OpenRoomSocket(ctxFor(c.t), client.JoinInfo{Node: info.Node, SocketURL: info.SocketURL})
	if err != nil {
		c.t.Fatalf("joining %s on %s: %v", roomID, info.Node, err)
	}
	c.t.Cleanup(func() { s.Close() })
	rs := &roomSock{t: c.t, s: s, node: info.Node}
	if m := rs.next("the welcome"); m.Type != "welcome" {
		c.t.Fatalf("first message on %s: %s", info.Node, m.Raw)
	}
	rs.snapshot = rs.waitFor("the snapshot", func(m client.Message) bool { return m.Type == "snapshot" })
	return rs
}

// roomSock is a room socket under test.
type roomSock struct {
	t        *testing.T
	s        *client.Socket
	node     string
	snapshot client.Message
}

func (r *roomSock) next(what string) client.Message {
	r.t.Helper()
	select {
	case m, ok := <-r.s.Messages():
		if !ok {
			r.t.Fatalf("the socket ended waiting for %s: %v", what, r.s.Err())
		}
		return m
	case <-time.After(patience):
		r.t.Fatalf("no %s within %s", what, patience)
	}
	return client.Message{}
}

// waitFor reads until a message matches.
func (r *roomSock) waitFor(what string, match func(client.Message) bool) client.Message {
	r.t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case m, ok := <-r.s.Messages():
			if !ok {
				r.t.Fatalf("the socket ended waiting for %s: %v", what, r.s.Err())
			}
			if match(m) {
				return m
			}
		case <-deadline:
			r.t.Fatalf("no %s within %s", what, patience)
		}
	}
}

// ended reads until the socket ends and returns its bye reason.
func (r *roomSock) ended(within time.Duration) string {
	r.t.Helper()
	bye := ""
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-r.s.Messages():
			if !ok {
				return bye
			}
			if m.Type == "bye" {
				bye = m.Reason
			}
		case <-deadline:
			r.t.Fatalf("the socket on %s is still open after %s", r.node, within)
		}
	}
}

// do sends a command and waits for its ok.
func (r *roomSock) do(typ string, fields map[string]any) {
	r.t.Helper()
	if err := r.s.Command(ctxFor(r.t), typ, fields); err != nil {
		r.t.Fatalf("%s: %v", typ, err)
	}
}

// state asks for a fresh snapshot and returns its room.
func (r *roomSock) state() client.RoomState {
	r.t.Helper()
	if err := r.s.RequestSnapshot(ctxFor(r.t)); err != nil {
		r.t.Fatal(err)
	}
	m := r.waitFor("a snapshot", func(m client.Message) bool { return m.Type == "snapshot" })
	var snap struct {
		Room client.RoomState `json:"room"`
	}
	if err := json.Unmarshal(m.Raw, &snap); err != nil {
		r.t.Fatal(err)
	}
	return snap.Room
}

// roleIn returns id's role in st ("" if absent).
func roleIn(st client.RoomState, id string) string {
	if p, ok := st.OnStage(id); ok {
		return p.Role
	}
	for _, l := range st.Listeners {
		if l.ID == id {
			return "listener"
		}
	}
	return ""
}

// ctxFor is a context for one request of a test.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// nodesOf reads the admin's list of the cluster's nodes, on the node called via.
func (c *testCluster) nodesOf(via string) map[string]map[string]any {
	c.t.Helper()
	var out struct {
		Nodes []map[string]any `json:"nodes"`
	}
	if err := c.on(via, c.admin).Do(ctxFor(c.t), "GET", "/api/v1/admin/cluster", nil, &out); err != nil {
		c.t.Fatal(err)
	}
	m := map[string]map[string]any{}
	for _, n := range out.Nodes {
		m[fmt.Sprint(n["name"])] = n
	}
	return m
}

// ownerOf is the node the join API names for the room, asked on via.
func (c *testCluster) ownerOf(via string, cl *client.Client, roomID string) string {
	return c.route(via, cl, roomID).Node
}

// errorsAs is errors.As for the client's errors.
func errorsAs(err error, target **client.Error) bool { return errors.As(err, target) }
