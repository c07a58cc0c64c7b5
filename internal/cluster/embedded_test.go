package cluster_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/proctest"
	"github.com/townhall/townhall/internal/store/storetest"
	"github.com/townhall/townhall/internal/testwait"
)

// TestEmbeddedNATS runs three nodes that each run their own NATS server
// (--nats-embedded), routed into one NATS cluster (--nats-routes): an account made
// on one node signs in on another, and a node whose NATS server is gone is not
// ready.
func TestEmbeddedNATS(t *testing.T) {
	db := storetest.PostgresSchema(t)
	ports := freePorts(t, 6)
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3+i]))
	}
	nodes := make([]*proctest.Proc, 3)
	for i := range 3 {
		nodes[i] = proctest.Launch(t, nil, "--db", db, "--node-name", fmt.Sprintf("e%d", i+1), "--open-signup", "--relay-listen", "127.0.0.1:0",
			"--nats-embedded", "--nats-listen", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--nats-cluster-listen", fmt.Sprintf("127.0.0.1:%d", ports[3+i]), "--nats-routes", strings.Join(routes, ","))
	}
	for _, p := range nodes {
		p.Listening(t, time.Minute)
	}
	ready := func(p *proctest.Proc) int {
		resp, err := http.Get(p.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, p := range nodes {
		if got := ready(p); got != http.StatusOK {
			t.Fatalf("/readyz of %s: %d", p.URL, got)
		}
	}
	c := &testCluster{t: t, nodes: map[string]*proctest.Proc{"e1": nodes[0], "e2": nodes[1], "e3": nodes[2]}}
	c.signUp(t, "e1", "zoe")
	if _, _, err := c.client("e3").Login(ctxFor(t), "zoe", password); err != nil {
		t.Fatalf("logging in on another node: %v", err)
	}
	// A node whose own NATS server is gone (the whole process is, here) is not
	// ready; the others, which lost one server of three, still are.
	nodes[2].Kill()
	<-nodes[2].Done()
	testwait.Until(t, 30*time.Second, "the other nodes still ready", func() bool {
		return ready(nodes[0]) == http.StatusOK && ready(nodes[1]) == http.StatusOK
	})
}

// TestNotReadyWithoutNATS checks /readyz: 503 while the node cannot reach NATS,
// 200 once it can again.
func TestNotReadyWithoutNATS(t *testing.T) {
	nats := startNATS(t, 1)
	p := proctest.Start(t, "--db", storetest.PostgresSchema(t), "--nats", nats.URLList(), "--node-name", "alone", "--relay-listen", "127.0.0.1:0")
	status := func() int {
		resp, err := http.Get(p.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("/readyz with NATS: %d", got)
	}
	nats.Kill(0)
	testwait.Until(t, 10*time.Second, "/readyz answering 503 without NATS", func() bool {
		return status() == http.StatusServiceUnavailable
	})
}
