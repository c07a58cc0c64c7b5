package cluster_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/townhall/townhall/internal/testwait"
)

// natsCluster is n NATS servers with JetStream on loopback, routed to each other,
// in this process: real servers, stopped when the test ends.
type natsCluster struct {
	servers []*server.Server
	opts    []*server.Options
}

// startNATS starts n clustered NATS servers.
func startNATS(t *testing.T, n int) *natsCluster {
	t.Helper()
	nc := &natsCluster{}
	// A clustered JetStream needs every route from the start: the route ports
	// are chosen first.
	ports := freePorts(t, n)
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	for i := range n {
		o := &server.Options{ServerName: fmt.Sprintf("nats%d", i+1), Host: "127.0.0.1", Port: -1, JetStream: true,
			StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("NATS server %d did not start", i+1)
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		nc.servers = append(nc.servers, s)
		nc.opts = append(nc.opts, o)
	}
	for _, s := range nc.servers {
		testwait.Until(t, 30*time.Second, "the NATS servers routing to each other", func() bool { return s.NumRoutes() >= n-1 })
	}
	return nc
}

// URLs lists the servers' client URLs.
func (n *natsCluster) URLs() []string {
	var out []string
	for _, s := range n.servers {
		out = append(out, s.ClientURL())
	}
	return out
}

// URLList is URLs, comma-separated (the --nats flag).
func (n *natsCluster) URLList() string { return strings.Join(n.URLs(), ",") }

// Kill stops server i at once.
func (n *natsCluster) Kill(i int) { n.servers[i].Shutdown() }

// freePorts finds n TCP ports free on loopback now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}
