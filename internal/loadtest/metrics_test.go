package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeMetrics serves a /metrics page in the Prometheus text format.
func fakeMetrics(t *testing.T, page string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestScrapeAll(t *testing.T) {
	a := fakeMetrics(t, `# HELP process_cpu_seconds_total x
process_cpu_seconds_total 2.5
process_resident_memory_bytes 1000
townhall_rtp_forwarded_packets_total 10
townhall_relay_sent_packets_total{peer="127.0.0.1:7892"} 5
townhall_relay_sent_packets_total{peer="127.0.0.1:7893"} 7
townhall_relay_received_packets_total{peer="127.0.0.1:7892"} 3
townhall_relay_lost_packets_total{peer="127.0.0.1:7892"} 99
`)
	b := fakeMetrics(t, "process_cpu_seconds_total 1\nprocess_resident_memory_bytes 500\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name                 string
		urls                 []string
		cpu, rss, sent, recv float64
	}{
		{"one server is read as it is, its relay summed over its peers", []string{a}, 2.5, 1000, 12, 3},
		{"several nodes are summed, each kept apart too", []string{a, b}, 3.5, 1500, 12, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scrapeAll(ctx, http.DefaultClient, tt.urls)
			if err != nil {
				t.Fatal(err)
			}
			if s.cpu != tt.cpu || s.rss != tt.rss || s.relaySent != tt.sent || s.relayReceived != tt.recv {
				t.Fatalf("cpu %v rss %v relay %v/%v, want %v %v %v/%v", s.cpu, s.rss, s.relaySent, s.relayReceived,
					tt.cpu, tt.rss, tt.sent, tt.recv)
			}
			if len(s.nodes) != len(tt.urls) {
				t.Fatalf("%d node samples, want %d", len(s.nodes), len(tt.urls))
			}
		})
	}
	t.Run("a node without the process collector is an error", func(t *testing.T) {
		bare := fakeMetrics(t, "townhall_rtp_forwarded_packets_total 1\n")
		if _, err := scrapeAll(ctx, http.DefaultClient, []string{a, bare}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestNodeResults(t *testing.T) {
	at := time.Now()
	s0 := []serverSample{{at: at, cpu: 1}, {at: at, cpu: 2}}
	s1 := []serverSample{{at: at.Add(10 * time.Second), cpu: 6, rss: 100, relaySent: 40, relayReceived: 4},
		{at: at.Add(10 * time.Second), cpu: 4, relayReceived: 20}}
	mk := func(socket string) *listener {
		return &listener{part: &participant{}, sock: &roomSocket{url: socket}}
	}
	// Listeners count for the node the join API sent them to, whichever they asked.
	ls := []*listener{mk("ws://a/api/v1/rooms/r/socket"), mk("ws://b/api/v1/rooms/r/socket?guest=1"),
		mk("ws://a/api/v1/rooms/r/socket"), nil, mk("ws://c/api/v1/rooms/r/socket")}
	ls[0].part.received.Store(100) // node a
	ls[1].part.received.Store(50)  // node b
	ls[2].part.received.Store(90)  // node a
	ls[4].part.received.Store(100) // node c, not among the URLs given
	got := nodeResults([]string{"http://a", "http://b"}, ls, s0, s1, 100)
	if got[0].Listeners != 2 || got[0].PacketsReceived != 190 || got[0].LossPct != 5 || got[0].CPUCores != 0.5 ||
		got[0].RelaySent != 40 || got[0].RSSBytes != 100 {
		t.Errorf("node a: %+v", got[0])
	}
	if got[1].Listeners != 1 || got[1].LossPct != 50 || got[1].CPUCores != 0.2 || got[1].RelayReceived != 20 {
		t.Errorf("node b: %+v (listener 4 never joined: not counted)", got[1])
	}
	if len(got) != 3 || got[2].URL != "ws://c/api/v1/rooms/r/socket" || got[2].Listeners != 1 || got[2].LossPct != 0 {
		t.Errorf("a node the join API named that was not given: %+v", got[2:])
	}
}
