package cluster_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/bot"
	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/testwait"
)

// TestLiveCaptionsReachEdges: live captions are made where the room runs (its
// owner transcribes what its forwarder sends the audience) and reach a
// listener connected to another node, who asked for them, through the owner's
// link to that edge; a listener on the same edge who did not ask gets none.
func TestLiveCaptionsReachEdges(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "opusenc", "ffmpeg", "pocketsphinx_continuous")
	const sentence = "welcome to the morning show"
	ogg := audiotest.Speech(t, t.TempDir(), sentence)
	c := startCluster(t, []string{"a", "b", "c"}, "--node-max-sockets", "1", "--captions", "pocketsphinx")
	c.firstAdmin("ada")
	spk, _ := c.signUp(t, "a", "speaker")
	rm, err := spk.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Captions across nodes", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	var owner string // the node that runs the room
	testwait.Until(t, patience, "a node running the room", func() bool {
		for name, n := range c.nodesOf("a") {
			if n["rooms"] == float64(1) {
				owner = name
			}
		}
		return owner != ""
	})
	// joined opens cl's socket and returns the node that took it (the one
	// whose count grew: the join API's answer names the owner).
	total := 0
	joined := func(cl *client.Client) (*roomSock, string) {
		before := c.socketsOn(owner)
		rs := c.join("b", cl, rm.ID)
		total++
		var on string
		testwait.Until(t, patience, "the socket counted", func() bool {
			now, sum := c.socketsOn(owner), 0
			for name, k := range now {
				sum += k
				if k > before[name] {
					on = name
				}
			}
			return sum == total && on != ""
		})
		return rs, on
	}
	host, _ := joined(spk)
	host.do("set_live_captions", map[string]any{"on": true})
	// One socket per node (--node-max-sockets 1): at least one listener is
	// on an edge. It asks for captions; the other does not.
	l1, _ := c.signUp(t, "b", "lis1")
	l2, _ := c.signUp(t, "b", "lis2")
	asks, asksOn := joined(l1)
	quiet, quietOn := joined(l2)
	if asksOn == owner {
		asks, quiet, asksOn, quietOn = quiet, asks, quietOn, asksOn
	}
	if asksOn == owner {
		t.Fatalf("both listeners joined the owner %s, want one on an edge", owner)
	}
	t.Logf("the room runs on %s; the listener who asks is on %s, the other on %s", owner, asksOn, quietOn)
	asks.do("show_captions", map[string]any{"on": true})
	if st := asks.state(); !st.LiveCaptions || !st.CaptionsShown {
		t.Fatalf("the edge's snapshot: live captions %v, shown %v", st.LiveCaptions, st.CaptionsShown)
	}
	host.s.Close() // the bot takes the host's place, with the same session
	servers := c.url("a") + "," + c.url("b") + "," + c.url("c")
	speaking := make(chan struct{})
	var once sync.Once
	c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: spk.Token(), Speak: ogg, LoopbackOnly: true,
		SpeakAfter: func(context.Context) error { once.Do(func() { close(speaking) }); return nil }})
	select {
	case <-speaking:
	case <-time.After(patience):
		t.Fatal("the speaker did not start speaking")
	}
	m := asks.waitFor("a caption", func(m client.Message) bool { return m.Type == "caption" })
	var line struct {
		Speaker client.Person `json:"speaker"`
		Text    string        `json:"text"`
	}
	if err := json.Unmarshal(m.Raw, &line); err != nil {
		t.Fatal(err)
	}
	wer := caption.WER(caption.Words(sentence), caption.Words(line.Text))
	t.Logf("the edge's listener read %q from %s: WER %.2f", line.Text, line.Speaker.DisplayName, wer)
	if line.Speaker.Username != "speaker" || wer > 0.5 {
		t.Errorf("caption %s: want the speaker's words", m.Raw)
	}
	deadline := time.After(2 * time.Second)
	for {
		select {
		case m, ok := <-quiet.s.Messages():
			if ok && m.Type == "caption" {
				t.Fatalf("the listener who did not ask got a caption: %s", m.Raw)
			}
			if !ok {
				t.Fatal("the quiet listener's socket ended")
			}
		case <-deadline:
			return
		}
	}
}
