package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/config"
)

// captionPhrases are said one after the other, with a pause between them.
var captionPhrases = []string{
	"welcome to the morning show",
	"today we talk about the weather",
	"and the city council",
}

// captionLine is a caption message of docs/protocol.md.
type captionLine struct {
	Speaker client.Person `json:"speaker"`
	Text    string        `json:"text"`
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
}

// speakPhrases sends each phrase's packets through a at the pace of a
// microphone, with pause between phrases (nothing sent, as a browser with DTX),
// in a goroutine; done is closed after the last one.
func speakPhrases(t *testing.T, a *audio, pause time.Duration, phrases []string) (done chan struct{}) {
	t.Helper()
	var all [][]client.OpusPacket
	for _, ph := range phrases {
		all = append(all, audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), ph)))
	}
	done = make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for _, pkts := range all {
			for _, p := range pkts {
				<-tick.C
				if err := a.Send(p.Payload, 20); err != nil {
					return
				}
			}
			for range pause / (20 * time.Millisecond) { // silence between the phrases
				<-tick.C
			}
		}
	}()
	return done
}

// captionsUntil reads s's messages until done is closed and then quiet for
// after, and returns the captions it got, each with when it arrived.
func captionsUntil(t *testing.T, s *sock, done <-chan struct{}, after time.Duration) (lines []captionLine, at []time.Time) {
	t.Helper()
	var quiet <-chan time.Time
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("%s: socket closed", s.who)
			}
			s.seen = append(s.seen, m)
			if m.Type != "caption" {
				continue
			}
			var l captionLine
			if err := json.Unmarshal(m.Raw, &l); err != nil {
				t.Fatalf("a caption that does not decode: %s", m.Raw)
			}
			lines, at = append(lines, l), append(at, time.Now())
		case <-done:
			done, quiet = nil, time.After(after)
		case <-quiet:
			return lines, at
		}
	}
}

// TestLiveCaptions: a speaker (a pion client) says espeak-ng's phrases in a
// recorded room whose host turned live captions on (pocketsphinx); a listener
// who asked for captions gets caption messages labelled with the speaker,
// within about 3 s of the end of what they caption (the median within 3 s,
// each within 5 s), whose words match the
// phrases with a word error rate we measured at 0.20 (asserted at most 0.35);
// a listener who did not ask gets none; the replay's WebVTT captions hold the
// live ones, with the speaker's name.
func TestLiveCaptions(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "opusenc", "ffmpeg", "pocketsphinx_continuous")
	data := t.TempDir()
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.DataDir = data; c.Captions = "pocketsphinx" }))
	ada, bob, cyd := ts.admin, ts.user("bob"), ts.user("cyd")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Morning show", Type: "open", Record: true})
	as := join(t, ada, rm.ID)
	aa := connectAudio(t, as, 'a')
	as.do(t, "set_muted", map[string]any{"muted": false})
	bs := join(t, bob, rm.ID)
	connectAudio(t, bs, 'b')
	cs := join(t, cyd, rm.ID)
	connectAudio(t, cs, 'c')

	t.Run("captions are off until a moderator turns them on", func(t *testing.T) {
		if st := bs.snapshot(t); st.LiveCaptions {
			t.Fatal("a new room's snapshot says live captions are on")
		}
		bs.refused(t, "set_live_captions", map[string]any{"on": true}, "forbidden")
		as.do(t, "set_live_captions", map[string]any{"on": true})
		m := bs.event(t, "live_captions_changed", "")
		var d struct {
			On bool   `json:"on"`
			By string `json:"by"`
		}
		if err := json.Unmarshal(m.Data, &d); err != nil || !d.On || d.By != ada.ID {
			t.Fatalf("live_captions_changed %s, want on by ada", m.Data)
		}
		cs.event(t, "live_captions_changed", "")
	})
	bs.do(t, "show_captions", map[string]any{"on": true})
	if st := bs.snapshot(t); !st.LiveCaptions || !st.CaptionsShown {
		t.Fatalf("bob's snapshot: live captions %v, shown %v; want both", st.LiveCaptions, st.CaptionsShown)
	}

	done := speakPhrases(t, aa, 700*time.Millisecond, captionPhrases)
	lines, at := captionsUntil(t, bs, done, 4*time.Second)
	t.Run("the listener who asked gets captions of the speaker, within about 3 s", func(t *testing.T) {
		if len(lines) == 0 {
			t.Fatal("no caption arrived")
		}
		var heard []string
		var lags []time.Duration
		for i, l := range lines {
			if l.Speaker.ID != ada.ID || l.Speaker.DisplayName == "" {
				t.Errorf("caption %q labelled %+v, want ada", l.Text, l.Speaker)
			}
			lag := at[i].Sub(l.End)
			t.Logf("caption %q (%v of speech) arrived %v after its end", l.Text, l.End.Sub(l.Start).Round(time.Millisecond), lag.Round(time.Millisecond))
			if lag > 5*time.Second {
				t.Errorf("caption %q arrived %v after the end of its speech, over 5 s", l.Text, lag)
			}
			lags = append(lags, lag)
			heard = append(heard, l.Text)
		}
		// About 3 s: 1.2 to 1.7 s on an idle machine; the bound holds for
		// the median, and any one caption may take up to 5 s on a machine
		// busy with the rest of the suite under -race.
		slices.Sort(lags)
		if med := lags[len(lags)/2]; med > 3*time.Second {
			t.Errorf("the median caption arrived %v after the end of its speech, over 3 s", med)
		}
		wer := caption.WER(caption.Words(strings.Join(captionPhrases, " ")), caption.Words(strings.Join(heard, " ")))
		t.Logf("live captions %q: WER %.2f", heard, wer)
		if wer > 0.35 {
			t.Errorf("WER %.2f over 0.35", wer)
		}
	})
	t.Run("a listener who did not ask gets none", func(t *testing.T) {
		cs.drainMedia()
		for len(cs.pending) > 0 {
			cs.next(t, "what arrived")
		}
		if m, ok := cs.mentions(`"type":"caption"`); ok {
			t.Errorf("cyd got a caption: %s", m.Raw)
		}
	})
	t.Run("the replay's WebVTT captions are the live ones", func(t *testing.T) {
		as.do(t, "end", nil)
		rp := readyReplay(t, ada, rm.ID)
		if rp.Captions == "" {
			t.Fatalf("the replay has no captions: %+v", rp)
		}
		resp, body := fetchAs(t, ada.Client, rp.Captions, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "WEBVTT") {
			t.Fatalf("captions: %d %.200s", resp.StatusCode, body)
		}
		vtt := string(body)
		name := ada.Name
		if len(lines) > 0 {
			name = lines[0].Speaker.DisplayName
		}
		if !strings.Contains(vtt, "<v "+name+">") || !strings.Contains(vtt, "council") {
			t.Errorf("the captions do not name ada or miss her words:\n%s", vtt)
		}
	})
}

// TestLiveCaptionsSlowEngineDropsSegments: with a transcription server (an
// OpenAI-compatible one, a boundary we do not own: httptest) that never
// answers (each segment waits for it until its 10 s timeout), the segments that find the engine's queue full are
// dropped and counted in townhall_caption_segments_dropped_total, and the
// listener hears every packet all the same.
func TestLiveCaptionsSlowEngineDropsSegments(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "opusenc", "ffmpeg")
	release := make(chan struct{})
	var once sync.Once
	stt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte(`{"text":"slow words","words":[{"word":"slow","start":0,"end":0.4},{"word":"words","start":0.4,"end":0.8}]}`))
	}))
	defer stt.Close()
	defer once.Do(func() { close(release) })
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.DataDir = t.TempDir(); c.Captions = stt.URL }))
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Slow engine", Type: "open"})
	as := join(t, ada, rm.ID)
	aa := connectAudio(t, as, 'a')
	as.do(t, "set_muted", map[string]any{"muted": false})
	bs := join(t, bob, rm.ID)
	ba := connectAudio(t, bs, 'b')
	as.do(t, "set_live_captions", map[string]any{"on": true})
	bs.do(t, "show_captions", map[string]any{"on": true})
	before := dropped(t, ts)
	var sent int
	for _, ph := range captionPhrases { // three times
		sent += len(audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), ph)))
	}
	// Nine phrases with pauses: a segment each, more than two workers and a
	// queue of two can take while the engine hangs.
	phrases := slices.Concat(captionPhrases, captionPhrases, captionPhrases)
	done := speakPhrases(t, aa, 400*time.Millisecond, phrases)
	<-done
	eventually(t, "bob hearing every packet", func() bool { return received(ba) >= 3*sent*95/100 })
	eventually(t, "segments dropped", func() bool { return dropped(t, ts) > before })
	t.Logf("%d packets sent, %d heard; %v segments dropped", 3*sent, received(ba), dropped(t, ts)-before)
	once.Do(func() { close(release) })
}

var droppedLine = regexp.MustCompile(`(?m)^townhall_caption_segments_dropped_total (\S+)$`)

// dropped reads townhall_caption_segments_dropped_total of ts's /metrics.
func dropped(t *testing.T, ts *testServer) float64 {
	t.Helper()
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := droppedLine.FindSubmatch(body)
	if m == nil {
		t.Fatal(fmt.Errorf("no townhall_caption_segments_dropped_total in /metrics"))
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestLiveCaptionsNeedAnEngine: a server without a speech engine (--captions
// "") refuses to turn live captions on, and says why.
func TestLiveCaptionsNeedAnEngine(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.Captions = "" }))
	ada := ts.admin
	rm := createRoom(t, ada, client.RoomSpec{Title: "No engine", Type: "open"})
	as := join(t, ada, rm.ID)
	as.refused(t, "set_live_captions", map[string]any{"on": true}, "unavailable")
	if st := as.snapshot(t); st.LiveCaptions {
		t.Error("live captions on without an engine")
	}
}
