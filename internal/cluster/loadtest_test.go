package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/loadtest"
)

// TestLoadTestAcrossNodes runs `townhall loadtest --url A,B,C` against three
// nodes that take at most 12 sockets each before joins spread: the listeners
// ask the join API of each node in turn and open their sockets wherever it
// sends them, so the room's owner fills and the rest go to edges, which get the
// speakers' audio over the relay. Every listener joins and hears all of it, and
// the figures per node add up to the whole.
func TestLoadTestAcrossNodes(t *testing.T) {
	names := []string{"a", "b", "c"}
	c := startCluster(t, names, "--node-max-sockets", "12",
		"--max-guests-per-ip", "0", "--max-guests-per-ip-room", "0", "--max-guests-per-room", "0", "--rtc-loopback-only")
	c.firstAdmin("ada")
	var urls []string
	for _, n := range names {
		urls = append(urls, c.url(n))
	}
	cfg := loadtest.DefaultConfig()
	cfg.URL = strings.Join(urls, ",")
	cfg.Listeners = 24
	cfg.JoinRate = 20
	cfg.Duration = 5 * time.Second
	cfg.Settle = time.Second
	cfg.SchedBatch = false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := loadtest.Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ListenersJoined != cfg.Listeners || res.JoinFailures != 0 {
		t.Fatalf("%d of %d listeners joined, %d failed: %v", res.ListenersJoined, cfg.Listeners, res.JoinFailures, res.JoinErrors)
	}
	listeners, carrying := 0, 0
	var relayed int64
	for _, n := range res.Nodes {
		t.Logf("node %s: %d listeners, loss %.2f %%, %.3f cores, relay %d out, %d in", n.URL, n.Listeners, n.LossPct, n.CPUCores, n.RelaySent, n.RelayReceived)
		listeners += n.Listeners
		if n.Listeners > 0 {
			carrying++
		}
		relayed += n.RelayReceived
	}
	switch {
	case len(res.Nodes) != len(names):
		t.Errorf("figures for %d nodes, want %d (the join API named a node not given?)", len(res.Nodes), len(names))
	case listeners != cfg.Listeners:
		t.Errorf("the nodes' listeners add up to %d, want %d", listeners, cfg.Listeners)
	case carrying < 2:
		t.Errorf("the listeners are on %d node, want the room spread over at least 2 (12 sockets a node at most)", carrying)
	case relayed == 0:
		t.Error("no relay packet reached an edge")
	}
	// A loaded 2-core machine running three nodes and the generator may lose a
	// little; a wrong path loses everything.
	if res.LossPct > 2 {
		t.Errorf("loss %.2f %%, want under 2 %%", res.LossPct)
	}
}
