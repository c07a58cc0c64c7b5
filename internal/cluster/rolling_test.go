package cluster_test

import (
	"context"
	"os"
	"os/exec"
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

// speech makes an Ogg Opus file of text spoken by espeak-ng. Without the tools
// the test is skipped, but in CI (CI=true), where it fails.
func speech(t *testing.T, text string) string {
	t.Helper()
	for _, n := range []string{"espeak-ng", "opusenc"} {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: CI must install the Debian packages espeak-ng and opus-tools", n)
			}
			t.Skipf("%s is missing (Debian packages espeak-ng and opus-tools)", n)
		}
	}
	dir := t.TempDir()
	wav, ogg := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.ogg")
	for _, cmd := range [][]string{{"espeak-ng", "-s", "150", "-w", wav, text}, {"opusenc", "--quiet", wav, ogg}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd[0], err, out)
		}
	}
	return ogg
}

// restart stops a node with SIGTERM (it drains) and starts it again on the same
// address and data folder: a rolling upgrade's step.
func (c *testCluster) restart(name string) {
	c.t.Helper()
	addr := strings.TrimPrefix(c.url(name), "http://")
	c.stop(name, syscall.SIGTERM)
	c.extraFor(name, "--addr", addr)
	c.start(name)
}

// extraFor adds flags to one node's next starts.
func (c *testCluster) extraFor(name string, args ...string) {
	if c.nodeArgs == nil {
		c.nodeArgs = map[string][]string{}
	}
	c.nodeArgs[name] = append(c.nodeArgs[name], args...)
}

// runningBot is a bot run in the background until the test ends or stop.
type runningBot struct {
	*bot.Bot
	cancel context.CancelFunc
	done   chan struct{}
	rep    bot.Report
	err    error
}

func (c *testCluster) runBot(t *testing.T, cfg bot.Config) *runningBot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rb := &runningBot{Bot: b, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rb.done)
		rb.rep, rb.err = b.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-rb.done })
	return rb
}

func (rb *runningBot) stop(t *testing.T) bot.Report {
	t.Helper()
	rb.cancel()
	select {
	case <-rb.done:
	case <-time.After(patience):
		t.Fatal("a bot did not stop")
	}
	if rb.err != nil {
		t.Fatalf("bot: %v", rb.err)
	}
	return rb.rep
}

// heardOf is the most audio one slot carried.
func heardOf(st client.MediaStats) time.Duration {
	var most time.Duration
	for _, s := range st.Slots {
		most = max(most, s.Audio)
	}
	return most
}

// TestRollingRestart restarts every node of the cluster in turn, each with
// SIGTERM (it drains, then exits 0) and again on the same address, during a live
// room where a speaker is heard by two listening bots. After each step everyone
// is back in the room with the role they had, without anyone doing anything; at
// the end, each listener's recording misses at most two seconds per restart.
func TestRollingRestart(t *testing.T) {
	text := strings.Repeat("A rolling restart of every node must lose nobody in the room, and no more than a moment of what is said. ", 5)
	ogg := speech(t, text)
	c := startCluster(t, []string{"a", "b", "c"})
	c.firstAdmin("ada")
	servers := c.url("a") + "," + c.url("b") + "," + c.url("c")
	spk, _ := c.signUp(t, "a", "speaker")
	rm, err := spk.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Rolling", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var bots []*runningBot
	speaking := make(chan struct{})
	var once sync.Once
	bots = append(bots, c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: spk.Token(), Speak: ogg,
		LoopbackOnly: true, WaitForListener: true,
		SpeakAfter: func(context.Context) error { once.Do(func() { close(speaking) }); return nil }}))
	var listeners []*runningBot
	for i, name := range []string{"lis1", "lis2"} {
		l, _ := c.signUp(t, []string{"b", "c"}[i], name)
		lb := c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: l.Token(), LoopbackOnly: true,
			Record: filepath.Join(t.TempDir(), name+".ogg")})
		mu.Lock()
		listeners = append(listeners, lb)
		mu.Unlock()
	}
	select {
	case <-speaking:
	case <-time.After(patience):
		t.Fatal("the speaker did not start speaking")
	}
	whole := func(what string) {
		t.Helper()
		testwait.Until(t, patience, what, func() bool {
			r, err := c.on("b", spk).Room(ctxFor(t), rm.ID)
			if err != nil || len(r.Stage) != 1 || r.ListenerCount != 2 {
				return false
			}
			return r.Stage[0].Role == "moderator"
		})
	}
	// hearing waits until every listener has heard another second of the speaker.
	hearing := func(what string) {
		t.Helper()
		for i, lb := range listeners {
			before := heardOf(lb.Stats())
			testwait.Until(t, patience, what, func() bool { return heardOf(lb.Stats()) >= before+time.Second },
				func() string { return "listener " + string(rune('1'+i)) })
		}
	}
	whole("everyone in the room before the restarts")
	hearing("the listeners hearing the speaker")
	for _, name := range []string{"a", "b", "c"} {
		c.restart(name)
		whole("everyone back in the room with their role after restarting " + name)
		hearing("the listeners hearing the speaker again after restarting " + name)
	}
	bots[0].stop(t)
	for i, lb := range listeners {
		rep := lb.stop(t)
		var heard client.SlotStats
		for _, s := range rep.Media.Slots {
			if s.Audio > heard.Audio {
				heard = s
			}
		}
		t.Logf("listener %d: %d reconnects, %.1f s of audio over %.1f s, %.2f s missing (%.2f s while reconnecting)",
			i+1, rep.Reconnects, heard.Audio.Seconds(), heard.Span.Seconds(), heard.Missing().Seconds(), heard.Bridged.Seconds())
		if heard.Audio < 5*time.Second {
			t.Fatalf("listener %d heard only %s", i+1, heard.Audio)
		}
		if heard.Missing() > 3*2*time.Second {
			t.Fatalf("listener %d's recording misses %s over 3 restarts, over 2 s a restart", i+1, heard.Missing())
		}
	}
}
