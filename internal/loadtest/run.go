package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/schollz/progressbar/v3"

	"github.com/townhall/townhall/internal/room"
)

// Quantiles are percentiles of a distribution, in milliseconds.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95,omitempty"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// NodeResult is one node's part of a run against several nodes of a cluster.
type NodeResult struct {
	URL             string  `json:"url"`
	Listeners       int     `json:"listeners"` // joined, with their socket on this node
	PacketsReceived int64   `json:"packets_received"`
	LossPct         float64 `json:"loss_pct"`
	CPUCores        float64 `json:"cpu_cores"`
	RSSBytes        int64   `json:"rss_bytes"`
	// The relay's packets in the window: sent to and received from other nodes.
	RelaySent     int64 `json:"relay_sent_packets"`
	RelayReceived int64 `json:"relay_received_packets"`
}

// Result is the outcome of a load test (the --json object).
type Result struct {
	URL                string    `json:"url"`
	Speakers           int       `json:"speakers"`
	Talk               string    `json:"talk"`
	ListenersRequested int       `json:"listeners_requested"`
	ListenersJoined    int       `json:"listeners_joined"`
	JoinFailures       int       `json:"join_failures"`
	JoinErrors         []string  `json:"join_errors,omitempty"` // the first few
	JoinMs             Quantiles `json:"join_ms"`
	JoinSeconds        float64   `json:"join_seconds"`           // the whole join phase
	ServerCPUPerJoinMs float64   `json:"server_cpu_per_join_ms"` // server CPU during the join phase ÷ joins
	DurationSeconds    float64   `json:"duration_s"`

	PacketsSent     int64     `json:"packets_sent"` // by the speakers, in the window
	PacketsExpected int64     `json:"packets_expected"`
	PacketsReceived int64     `json:"packets_received"`
	PacketsBad      int64     `json:"packets_bad"`
	LossPct         float64   `json:"loss_pct"`
	LatencyMs       Quantiles `json:"latency_ms"`

	ServerCPUCores            float64 `json:"server_cpu_cores"`
	ServerRSSBytes            int64   `json:"server_rss_bytes"`
	ServerRSSBaseBytes        int64   `json:"server_rss_base_bytes"` // the lowest RSS of the run, the one before any listener joined included
	ServerRSSPerListenerBytes int64   `json:"server_rss_per_listener_bytes"`
	ServerRSSPeakBytes        int64   `json:"server_rss_peak_bytes"` // the highest of the window's readings (every rssEvery)
	// The Go runtime's view at the end of the window (go_memstats_*, go_goroutines;
	// 0 if the server does not export them): the RSS is these, the heap's free
	// spans not yet returned to the OS, and the binary.
	ServerHeapInuseBytes  int64   `json:"server_heap_inuse_bytes"`
	ServerStackInuseBytes int64   `json:"server_stack_inuse_bytes"`
	ServerGoroutines      int64   `json:"server_goroutines"`
	ServerForwarded       int64   `json:"server_forwarded_packets"` // townhall_rtp_forwarded_packets_total in the window
	ServerDroppedLate     int64   `json:"server_dropped_late"`      // speakers' packets the server dropped as too late (overload), in the window
	ServerDroppedNoSlot   int64   `json:"server_dropped_no_slot"`   // speakers' packets dropped for want of a slot, in the window
	ServerUsPerPacket     float64 `json:"server_us_per_packet"`     // server CPU ÷ packets received
	ClientCPUCores        float64 `json:"client_cpu_cores"`
	ClientUsPerPacket     float64 `json:"client_us_per_packet"` // generator CPU ÷ packets received

	// GeneratorSched is the generator's scheduling policy: "batch" (SchedBatch)
	// or "normal".
	GeneratorSched string `json:"generator_sched"`

	// With --react-every: the reactions the listeners sent in the window, and
	// the reactions messages (tallies) they read in it, per listener per second.
	ReactionsSent          int64   `json:"reactions_sent,omitempty"`
	ReactionMessagesPerSec float64 `json:"reaction_messages_per_listener_s,omitempty"`
	// With --react-phase: the server's CPU without and with reactions, in
	// alternate phases of the window (phases.go).
	ReactPhases *ReactPhases `json:"react_phases,omitempty"`

	// Nodes, with several --url: each node's share (listeners opened on it in
	// turn), loss, CPU, RSS and relay packets, in the order of --url.
	Nodes []NodeResult `json:"nodes,omitempty"`

	Floor             *Floor  `json:"floor,omitempty"`
	ServerFloorFactor float64 `json:"server_floor_factor,omitempty"` // ServerUsPerPacket ÷ Floor.FloorUs
	// Ceiling is the machine's, with the floor (ceiling.go); LoadFraction is
	// the listeners joined as a fraction of it.
	Ceiling      *Ceiling `json:"ceiling,omitempty"`
	LoadFraction float64  `json:"load_fraction,omitempty"`
	// ListenerPtimeMs is the server's --listener-ptime as given to the load
	// test (--listener-ptime): the frames of a listener's packet on the wire.
	ListenerPtimeMs int `json:"listener_ptime_ms,omitempty"`
}

// rssEvery is how often the server's RSS is read during the window, for its peak.
const rssEvery = 5 * time.Second

// Run runs the load test of cfg and reports it. Progress bars go to progress
// (none if nil).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := &Result{URL: cfg.URL, Speakers: cfg.Speakers, Talk: cfg.Talk, ListenersRequested: cfg.Listeners, GeneratorSched: "normal",
		ListenerPtimeMs: int(max(cfg.ListenerPtime, 20*time.Millisecond) / time.Millisecond)}
	if cfg.SchedBatch {
		if _, err := batchScheduling(); err != nil {
			return nil, fmt.Errorf("--sched-batch: %w", err)
		}
		res.GeneratorSched = "batch"
	}
	if cfg.Load > 0 && cfg.FloorSockets == 0 {
		cfg.FloorSockets = max(cfg.Listeners, 1000)
	}
	if cfg.FloorSockets > 0 {
		note(progress, "measuring the floor: %d sockets, no WebRTC\n", cfg.FloorSockets)
		fl, err := MeasureFloor(ctx, cfg.FloorSockets, cfg.Speakers, cfg.ReceiverSockets(), 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		res.Floor = &fl
		if cfg.Load > 0 {
			cfg.Listeners = min(loadListeners(cfg, fl), 20000)
			res.ListenersRequested = cfg.Listeners
			note(progress, "%.0f %% of the ceiling: %d listeners\n", 100*cfg.Load, cfg.Listeners)
		}
	}

	// No gzip: compressing /metrics (read every few seconds) would cost the server
	// a fresh compressor each time, garbage that is the load test's, not the load's.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	id, err := newIdentity()
	if err != nil {
		return nil, err
	}
	var win window
	win.from.Store(math.MaxInt64)
	mux, err := newUDPMux(cfg.ReceiverSockets(), cfg.Speakers+cfg.Listeners, &win)
	if err != nil {
		return nil, err
	}
	defer mux.close()

	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	roomID, speakers, err := setupRoom(setupCtx, cfg)
	if err == nil {
		for i, sp := range speakers {
			if err = sp.connectMedia(setupCtx, id, mux, cfg.Listeners+i); err != nil {
				break
			}
		}
	}
	cancel()
	defer func() {
		for _, sp := range speakers {
			if sp.sock != nil {
				_ = sp.sock.Command(context.Background(), "leave", nil)
				_ = sp.sock.CloseNow()
			}
			if sp.part != nil {
				sp.part.detach()
			}
		}
	}()
	if err != nil {
		return nil, err
	}

	// Speakers talk from now on, so that every listener's join ends with audio.
	talkCtx, stopTalking := context.WithCancel(ctx)
	var talkers sync.WaitGroup
	talkers.Add(1)
	go func() {
		defer talkers.Done()
		_ = talk(talkCtx, speakers)
	}()
	go direct(talkCtx, cfg, speakers)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopTalking()
			talkers.Wait()
		}
	}
	defer stop()
	go keepAlive(talkCtx, mux)

	base, err := scrapeAll(ctx, hc, cfg.URLs())
	if err != nil {
		return nil, err
	}
	res.ServerRSSBaseBytes = int64(base.rss)

	// Join.
	listeners := make([]*listener, cfg.Listeners)
	urls := cfg.URLs()
	joinStart := time.Now()
	joinCPU0 := base.cpu
	var joined, failed atomic.Int64
	var errMu sync.Mutex
	bar := newBar(progress, cfg.Listeners, "joining")
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.JoinRate))
	for i := range listeners {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		l := &listener{}
		listeners[i] = l
		idx := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			jctx, cancel := context.WithTimeout(ctx, cfg.JoinTimeout)
			defer cancel()
			if err := l.join(jctx, hc, urls[idx%len(urls)], roomID, id, mux, idx); err != nil {
				failed.Add(1)
				errMu.Lock()
				if len(res.JoinErrors) < 5 {
					res.JoinErrors = append(res.JoinErrors, err.Error())
				}
				errMu.Unlock()
			} else {
				joined.Add(1)
			}
			if bar != nil {
				_ = bar.Add(1)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	res.JoinSeconds = time.Since(joinStart).Seconds()
	defer closeListeners(listeners)
	res.ListenersJoined, res.JoinFailures = int(joined.Load()), int(failed.Load())
	var joins []float64
	for _, l := range listeners {
		if l != nil && l.part != nil {
			if at := l.part.firstAt.Load(); at > 0 {
				joins = append(joins, float64(at-l.part.joinStart)/1e6)
			}
		}
	}
	res.JoinMs = quantilesOf(joins)
	afterJoin, err := scrapeAll(ctx, hc, cfg.URLs())
	if err != nil {
		return nil, err
	}
	if n := res.ListenersJoined + res.JoinFailures; n > 0 {
		res.ServerCPUPerJoinMs = (afterJoin.cpu - joinCPU0) * 1000 / float64(n)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// React, from now on until the end.
	var sentInWindow atomic.Int64
	reactCtx, stopReacting := context.WithCancel(ctx)
	defer stopReacting()
	var ph *phases // with --react-phase; made when the window starts
	var reactOn func() bool
	if cfg.ReactPhase > 0 {
		ph = newPhases(cfg.ReactPhase, time.Now())
		reactOn = ph.on.Load
	}
	if cfg.ReactEvery > 0 {
		go react(reactCtx, cfg.ReactEvery, listeners, &win, &sentInWindow, reactOn)
	}

	// Measure.
	select {
	case <-time.After(cfg.Settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if cfg.SchedBatch {
		if _, err := batchScheduling(); err != nil { // threads the joins started
			return nil, fmt.Errorf("--sched-batch: %w", err)
		}
	}
	s0, err := scrapeAll(ctx, hc, cfg.URLs())
	if err != nil {
		return nil, err
	}
	nodes0 := s0.nodes
	c0 := selfCPU()
	reactions0 := readReactions(listeners)
	win.to.Store(math.MaxInt64)
	win.from.Store(time.Now().UnixNano())
	if ph != nil {
		ph.start = time.Now()
	}
	bar = newBar(progress, int(cfg.Duration.Seconds()), "measuring")
	end := time.Now().Add(cfg.Duration)
	peakRSS, lastScrape := s0.rss, time.Now()
	lowRSS := min(base.rss, s0.rss) // the idle level is at most the lowest RSS seen
	for time.Now().Before(end) && ctx.Err() == nil {
		wait := min(time.Second, time.Until(end))
		if ph != nil {
			wait = max(min(wait, time.Until(ph.next())), 0)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		if ph != nil && time.Now().Before(end) {
			if err := ph.step(ctx, hc, cfg.URLs(), time.Now()); err != nil {
				return nil, err
			}
		}
		if bar != nil {
			_ = bar.Set(int(cfg.Duration.Seconds() - time.Until(end).Seconds()))
		}
		if time.Since(lastScrape) >= rssEvery { // the RSS moves with the garbage collector
			if s, err := scrapeAll(ctx, hc, cfg.URLs()); err == nil {
				peakRSS = max(peakRSS, s.rss)
				lowRSS = min(lowRSS, s.rss)
			}
			lastScrape = time.Now()
		}
	}
	win.to.Store(time.Now().UnixNano())
	if ph != nil {
		if err := ph.close(ctx, hc, cfg.URLs()); err != nil {
			return nil, err
		}
		ph.report(res)
	}
	s1, err := scrapeAll(ctx, hc, cfg.URLs())
	if err != nil {
		return nil, err
	}
	peakRSS = max(peakRSS, s1.rss)
	lowRSS = min(lowRSS, s1.rss)
	// The base read before the joins can hold start-up memory the server gives
	// back to the system later (and a per-listener figure below zero): the idle
	// level is at most the lowest RSS of the run.
	res.ServerRSSBaseBytes = int64(lowRSS)
	c1 := selfCPU()
	reactions1 := readReactions(listeners)
	stopReacting()
	if bar != nil {
		_ = bar.Finish()
	}
	// Packets sent near the end of the window are still on their way.
	time.Sleep(time.Second)
	stop()

	from, to := win.from.Load(), win.to.Load()
	res.DurationSeconds = float64(to-from) / 1e9
	for _, sp := range speakers {
		for _, at := range sp.sent {
			if at >= from && at < to {
				res.PacketsSent++
			}
		}
	}
	res.PacketsExpected = res.PacketsSent * int64(res.ListenersJoined)
	for _, l := range listeners {
		if l != nil && l.part != nil {
			res.PacketsReceived += l.part.received.Load()
			res.PacketsBad += l.part.bad.Load()
		}
	}
	if len(urls) > 1 {
		res.Nodes = nodeResults(urls, listeners, nodes0, s1.nodes, res.PacketsSent)
	}
	if res.PacketsExpected > 0 {
		res.LossPct = 100 * float64(max(res.PacketsExpected-res.PacketsReceived, 0)) / float64(res.PacketsExpected)
	}
	mux.close()
	h := mux.latency()
	res.LatencyMs = Quantiles{P50: h.quantile(0.5), P99: h.quantile(0.99), Max: float64(h.max) / 1000}

	secs := s1.at.Sub(s0.at).Seconds()
	res.ServerCPUCores = (s1.cpu - s0.cpu) / secs
	res.ServerRSSBytes = int64(s1.rss)
	res.ServerRSSPeakBytes = int64(peakRSS)
	res.ServerHeapInuseBytes, res.ServerStackInuseBytes, res.ServerGoroutines = int64(s1.heapInuse), int64(s1.stackInuse), int64(s1.goroutines)
	if res.ListenersJoined > 0 {
		res.ServerRSSPerListenerBytes = (res.ServerRSSBytes - res.ServerRSSBaseBytes) / int64(res.ListenersJoined)
	}
	res.ServerForwarded = int64(s1.forwarded - s0.forwarded)
	res.ServerDroppedLate = int64(s1.late - s0.late)
	res.ServerDroppedNoSlot = int64(s1.noSlot - s0.noSlot)
	res.ClientCPUCores = (c1 - c0).Seconds() / secs
	res.ReactionsSent = sentInWindow.Load()
	if res.ListenersJoined > 0 && cfg.ReactEvery > 0 {
		res.ReactionMessagesPerSec = float64(reactions1-reactions0) / float64(res.ListenersJoined) / secs
	}
	if res.PacketsReceived > 0 {
		res.ServerUsPerPacket = (s1.cpu - s0.cpu) * 1e6 / float64(res.PacketsReceived)
		res.ClientUsPerPacket = (c1 - c0).Seconds() * 1e6 / float64(res.PacketsReceived)
	}
	if res.Floor != nil && res.Floor.FloorUs > 0 {
		res.ServerFloorFactor = res.ServerUsPerPacket / res.Floor.FloorUs
	}
	res.setCeiling(runtime.NumCPU())
	if res.ListenersJoined == 0 && cfg.Listeners > 0 {
		return res, errors.New("no listener joined")
	}
	return res, nil
}

// react has every listener send a reaction once per every, the listeners spread
// evenly over it: one goroutine wakes every 10 ms and sends for the listeners
// whose turn it is. It counts the reactions sent inside the window. With on
// (--react-phase) it sends only while on says so.
func react(ctx context.Context, every time.Duration, ls []*listener, win *window, sent *atomic.Int64, on func() bool) {
	const step = 10 * time.Millisecond
	slots := max(int(every/step), 1)
	msgs := make([][]byte, len(room.Reactions))
	for i, e := range room.Reactions {
		msgs[i] = []byte(`{"type":"react","emoji":"` + e + `"}`)
	}
	t := time.NewTicker(step)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if on != nil && !on() {
			continue
		}
		now := time.Now().UnixNano()
		in := now >= win.from.Load() && now < win.to.Load()
		for i := n % slots; i < len(ls); i += slots {
			l := ls[i]
			if l == nil || l.sock == nil || l.part == nil {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			err := l.sock.ws.Write(wctx, websocket.MessageText, msgs[(i+n/slots)%len(msgs)])
			cancel()
			if err == nil && in {
				sent.Add(1)
			}
		}
	}
}

// readReactions sums the reactions messages the listeners read so far.
func readReactions(ls []*listener) int64 {
	var n int64
	for _, l := range ls {
		if l != nil && l.sock != nil {
			n += l.sock.reactions.Load()
		}
	}
	return n
}

// direct tells speakers when to talk: all of them all the time, or in turns.
func direct(ctx context.Context, cfg Config, speakers []*speaker) {
	if cfg.Talk == TalkAll {
		for _, sp := range speakers {
			sp.talking.Store(true)
		}
		return
	}
	for turn := 0; ; turn++ {
		for i, sp := range speakers {
			sp.talking.Store(i == turn%len(speakers))
		}
		select {
		case <-time.After(cfg.Turn):
		case <-ctx.Done():
			return
		}
	}
}

// keepAlive sends every participant's consent checks (RFC 7675) every 2 s: a lite
// ICE server learns that we are alive from them.
func keepAlive(ctx context.Context, mux *udpMux) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i := range mux.parts {
			if p := mux.parts[i].Load(); p != nil && p.srtp.Load() != nil {
				_ = p.sendCheck()
			}
		}
	}
}

func quantilesOf(v []float64) Quantiles {
	if len(v) == 0 {
		return Quantiles{}
	}
	slices.Sort(v)
	at := func(q float64) float64 { return v[min(len(v)-1, int(q*float64(len(v))))] }
	return Quantiles{P50: at(0.5), P95: at(0.95), P99: at(0.99), Max: v[len(v)-1]}
}

func newBar(w io.Writer, n int, what string) *progressbar.ProgressBar {
	if w == nil || n <= 0 {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}

// hostOf is the host:port of an http(s):// or ws(s):// URL ("" if it does not parse).
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

func note(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// nodeResults splits a run over several nodes by node: a listener counts for the
// node whose socket the join API sent it to (one not among urls gets a row of
// its own, without the figures read from the nodes).
func nodeResults(urls []string, listeners []*listener, s0, s1 []serverSample, sent int64) []NodeResult {
	out := make([]NodeResult, len(urls))
	byHost := map[string]int{}
	for i, u := range urls {
		out[i].URL = u
		byHost[hostOf(u)] = i
		if i < len(s0) && i < len(s1) {
			secs := s1[i].at.Sub(s0[i].at).Seconds()
			if secs > 0 {
				out[i].CPUCores = (s1[i].cpu - s0[i].cpu) / secs
			}
			out[i].RSSBytes = int64(s1[i].rss)
			out[i].RelaySent = int64(s1[i].relaySent - s0[i].relaySent)
			out[i].RelayReceived = int64(s1[i].relayReceived - s0[i].relayReceived)
		}
	}
	for _, l := range listeners {
		if l != nil && l.part != nil && l.sock != nil {
			i, ok := byHost[hostOf(l.sock.url)]
			if !ok {
				i = len(out)
				byHost[hostOf(l.sock.url)] = i
				out = append(out, NodeResult{URL: l.sock.url})
			}
			n := &out[i]
			n.Listeners++
			n.PacketsReceived += l.part.received.Load()
		}
	}
	for i := range out {
		if want := sent * int64(out[i].Listeners); want > 0 {
			out[i].LossPct = 100 * float64(max(want-out[i].PacketsReceived, 0)) / float64(want)
		}
	}
	return out
}
