package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/config"
)

// replayJSON is GET /api/v1/rooms/{id}/replay.
type replayJSON struct {
	RoomID     string `json:"room_id"`
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	AudioURL   string `json:"audio_url"`
	Captions   string `json:"captions_url"`
	CanDelete  bool   `json:"can_delete"`
	Turns      []struct {
		UserID  string `json:"user_id"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
	} `json:"turns"`
}

// clipJSON is a clip as the API shows it.
type clipJSON struct {
	ID         string `json:"id"`
	RoomID     string `json:"room_id"`
	URL        string `json:"url"`
	AudioURL   string `json:"audio_url"`
	DurationMS int64  `json:"duration_ms"`
}

// fetchAs GETs url as c (a guest if c has no token) with extra headers, and
// returns the response and its body.
func fetchAs(t *testing.T, c *client.Client, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil && c.Token() != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token())
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// speak sends the packets of an Ogg Opus file through a, one every 20 ms (the
// pace of a microphone: a recording keeps time by the wall clock), loud.
func speak(t *testing.T, a *audio, pkts []client.OpusPacket) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, p := range pkts {
		<-tick.C
		if err := a.Send(p.Payload, 20); err != nil {
			t.Fatal(err)
		}
	}
}

// received counts the packets a received in every slot.
func received(a *audio) int {
	n := 0
	for slot := range a.Slots() {
		n += len(a.Received(slot))
	}
	return n
}

// readyReplay waits until the replay of roomID is ready, as u sees it.
func readyReplay(t *testing.T, u *user, roomID string) replayJSON {
	t.Helper()
	var r replayJSON
	eventually(t, "the replay to be ready", func() bool {
		err := u.Do(ctxT(t), "GET", "/api/v1/rooms/"+roomID+"/replay", nil, &r)
		return err == nil && r.State == "ready"
	})
	return r
}

func TestRecordedRoomReplayAndClip(t *testing.T) {
	audiotest.Tools(t, "ffmpeg", "opusinfo", "pocketsphinx_continuous")
	data := t.TempDir()
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.DataDir = data; c.ClipLength = 5 * time.Second }))
	ada := ts.admin
	bob, cyd, dee := ts.user("bob"), ts.user("cyd"), ts.user("dee")
	const sentence = "welcome to the morning show today we talk about the weather and the city council"
	pkts := audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), sentence))
	speech := time.Duration(len(pkts)) * 20 * time.Millisecond

	rm := createRoom(t, ada, client.RoomSpec{Title: "Morning show", Type: "open", Record: true, AllowClips: true, Captions: true})
	if !rm.Recorded || !rm.ClipsAllowed {
		t.Fatalf("the created room %+v does not say it is recorded, with clips", rm)
	}
	as := join(t, ada, rm.ID)
	aa := connectAudio(t, as, 'a')
	t.Run("someone about to join is told the room is recorded", func(t *testing.T) {
		info, err := bob.Room(ctxT(t), rm.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Recorded {
			t.Errorf("the room's page %+v does not say it is recorded", info)
		}
	})
	bs := join(t, bob, rm.ID)
	t.Run("everyone inside sees the room is recorded", func(t *testing.T) {
		if st := bs.snapshot(t); !st.Recorded || !st.ClipsAllowed {
			t.Errorf("bob's snapshot does not say recorded, with clips: %+v", st)
		}
	})
	ba := connectAudio(t, bs, 'b')
	as.do(t, "set_muted", map[string]any{"muted": false})
	speak(t, aa, pkts)
	eventually(t, "bob hearing ada's sentence", func() bool { return received(ba) >= len(pkts)*9/10 })

	var clip clipJSON
	t.Run("a listener keeps the last moments as a clip, which plays", func(t *testing.T) {
		if err := bob.Do(ctxT(t), "POST", "/api/v1/rooms/"+rm.ID+"/clips", nil, &clip); err != nil {
			t.Fatal(err)
		}
		if clip.RoomID != rm.ID || !strings.HasSuffix(clip.URL, "/clips/"+clip.ID) || clip.DurationMS <= 0 || clip.DurationMS > 5000 {
			t.Fatalf("clip %+v", clip)
		}
		resp, body := fetchAs(t, cyd.Client, clip.AudioURL, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/ogg" {
			t.Fatalf("the clip's audio: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		p := filepath.Join(t.TempDir(), "clip.ogg")
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		d := time.Duration(clip.DurationMS) * time.Millisecond
		if got := audiotest.Decoded(t, p); got < d-100*time.Millisecond || got > d+100*time.Millisecond {
			t.Errorf("the clip decodes to %v, want %v", got, d)
		}
		if v := audiotest.Loudness(t, p, 0, d); v < -30 {
			t.Errorf("the clip is silent (%.1f dBFS): it should hold ada's sentence", v)
		}
	})
	t.Run("a second clip at once is refused", func(t *testing.T) {
		err := bob.Do(ctxT(t), "POST", "/api/v1/rooms/"+rm.ID+"/clips", nil, nil)
		wantStatus(t, "a second clip", err, http.StatusTooManyRequests, "rate_limited")
	})

	as.do(t, "end", nil)
	rp := readyReplay(t, cyd, rm.ID)
	audioPath := filepath.Join(data, "recordings", rm.ID, "replay.ogg")
	t.Run("the replay lasts as long as the room's audio and names who spoke", func(t *testing.T) {
		got := audiotest.OpusInfo(t, audioPath)
		want := time.Duration(rp.DurationMS) * time.Millisecond
		if d := got - want; d < -500*time.Millisecond || d > 500*time.Millisecond {
			t.Errorf("opusinfo: %v, the replay says %v", got, want)
		}
		if want < speech {
			t.Errorf("the replay lasts %v, shorter than ada's sentence (%v)", want, speech)
		}
		if len(rp.Turns) == 0 || rp.Turns[0].UserID != ada.ID {
			t.Errorf("turns %+v, want ada's", rp.Turns)
		}
		if v := audiotest.Loudness(t, audioPath, 0, want); v < -30 {
			t.Errorf("the replay is silent (%.1f dBFS)", v)
		}
		if rp.CanDelete {
			t.Errorf("cyd may delete ada's replay")
		}
	})
	t.Run("the replay's captions say what ada said, in her name", func(t *testing.T) {
		if rp.Captions == "" {
			t.Fatal("the replay has no captions")
		}
		resp, body := fetchAs(t, cyd.Client, rp.Captions, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/vtt; charset=utf-8" || !strings.HasPrefix(string(body), "WEBVTT") {
			t.Fatalf("captions: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
		}
		var words []string
		for _, line := range strings.Split(string(body), "\n") {
			if line == "WEBVTT" || strings.Contains(line, "-->") {
				continue
			}
			if strings.HasPrefix(line, "<v ") && !strings.HasPrefix(line, "<v admin>") {
				t.Errorf("a cue not in ada's name: %q", line)
			}
			line = strings.TrimPrefix(line, "<v admin>")
			words = append(words, caption.Words(line)...)
		}
		wer := caption.WER(caption.Words(sentence), words)
		t.Logf("captions through WebRTC, the recorder, libopus and Pocketsphinx: WER %.2f\n%s", wer, body)
		// Measured 0.27 to 0.33 over WebRTC under -race (4 or 5 of 15
		// words, at the sentence's end; the same sentence transcribed from
		// espeak-ng's WAV gives 0.00, see internal/caption).
		if wer > 0.5 {
			t.Errorf("WER %.2f over 0.5", wer)
		}
	})
	t.Run("the replay's audio is served by ranges, for seeking", func(t *testing.T) {
		full, body := fetchAs(t, cyd.Client, rp.AudioURL, nil)
		if full.StatusCode != http.StatusOK || full.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("the whole replay: %s, Accept-Ranges %q", full.Status, full.Header.Get("Accept-Ranges"))
		}
		part, got := fetchAs(t, cyd.Client, rp.AudioURL, map[string]string{"Range": "bytes=100-199"})
		if part.StatusCode != http.StatusPartialContent || string(got) != string(body[100:200]) ||
			part.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(body)) {
			t.Errorf("a range: %s, %d bytes, Content-Range %q", part.Status, len(got), part.Header.Get("Content-Range"))
		}
		guest, _ := fetchAs(t, nil, rp.AudioURL, nil)
		if guest.StatusCode != http.StatusOK {
			t.Errorf("a guest and an open room's replay: %s, want it public", guest.Status)
		}
	})
	t.Run("someone the host blocks is told the replay does not exist", func(t *testing.T) {
		if err := ada.Block(ctxT(t), dee.Name); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/rooms/" + rm.ID + "/replay", "/api/v1/rooms/" + rm.ID + "/replay/audio",
			"/api/v1/rooms/" + rm.ID + "/replay/captions",
			"/api/v1/clips/" + clip.ID, "/api/v1/clips/" + clip.ID + "/audio"} {
			resp, body := fetchAs(t, dee.Client, ts.url+path, nil)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"code":"not_found"`) {
				t.Errorf("dee GET %s: %s %s, want not_found", path, resp.Status, body)
			}
		}
	})
	t.Run("the replay is listed for who created or spoke in the room, not for a listener", func(t *testing.T) {
		var mine, bobs struct {
			Replays []struct {
				RoomID string `json:"room_id"`
			} `json:"replays"`
		}
		if err := ada.Do(ctxT(t), "GET", "/api/v1/me/replays", nil, &mine); err != nil {
			t.Fatal(err)
		}
		if len(mine.Replays) != 1 || mine.Replays[0].RoomID != rm.ID {
			t.Errorf("ada's replays %+v, want the room's", mine.Replays)
		}
		if err := bob.Do(ctxT(t), "GET", "/api/v1/me/replays", nil, &bobs); err != nil {
			t.Fatal(err)
		}
		if len(bobs.Replays) != 0 {
			t.Errorf("bob's replays %+v, want none: he only listened", bobs.Replays)
		}
	})
	t.Run("only a host deletes the replay; then it is gone, with its clips, from disk", func(t *testing.T) {
		err := bob.Do(ctxT(t), "DELETE", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil)
		wantStatus(t, "bob deleting", err, http.StatusForbidden, "forbidden")
		if err := ada.Do(ctxT(t), "DELETE", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil); err != nil {
			t.Fatal(err)
		}
		err = cyd.Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil)
		wantStatus(t, "the deleted replay", err, http.StatusNotFound, "not_found")
		err = cyd.Do(ctxT(t), "GET", "/api/v1/clips/"+clip.ID, nil, nil)
		wantStatus(t, "the deleted replay's clip", err, http.StatusNotFound, "not_found")
		if _, err := os.Stat(filepath.Join(data, "recordings", rm.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the replay's folder: %v, want it gone", err)
		}
		if _, err := os.Stat(filepath.Join(data, "recordings", "clips", clip.ID+".ogg")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the clip's file: %v, want it gone", err)
		}
	})
}

func TestClosedRoomReplayIsRefusedToStrangers(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	ts := startServer(t, "sqlite")
	ada, dee := ts.admin, ts.user("dee")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Board", Type: "closed", Record: true})
	as := join(t, ada, rm.ID)
	aa := connectAudio(t, as, 'a')
	as.do(t, "set_muted", map[string]any{"muted": false})
	speak(t, aa, audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), "the board meets")))
	as.do(t, "end", nil)
	readyReplay(t, ada, rm.ID)

	tests := []struct {
		name   string
		c      *client.Client
		method string
		path   string
		status int
	}{
		{"a stranger may not read the replay", dee.Client, "GET", "/replay", http.StatusNotFound},
		{"a stranger may not fetch its audio", dee.Client, "GET", "/replay/audio", http.StatusNotFound},
		{"a stranger may not delete it", dee.Client, "DELETE", "/replay", http.StatusNotFound},
		{"a stranger may not cut a clip of it", dee.Client, "POST", "/clips", http.StatusNotFound},
		{"a guest may not read the replay", ts.guest(), "GET", "/replay", http.StatusNotFound},
		{"a guest may not fetch its audio", ts.guest(), "GET", "/replay/audio", http.StatusNotFound},
		{"its host reads it", ada.Client, "GET", "/replay", http.StatusOK},
		{"its host fetches its audio", ada.Client, "GET", "/replay/audio", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctxT(t), tt.method, ts.url+"/api/v1/rooms/"+rm.ID+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok := tt.c.Token(); tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s: %s, want %d", tt.method, tt.path, resp.Status, tt.status)
			}
		})
	}
}

func TestClipsNeedARecordedRoomThatAllowsThem(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.admin, ts.user("bob")
	_, err := ada.CreateRoom(context.Background(), client.RoomSpec{Title: "t", Type: "open", AllowClips: true})
	wantStatus(t, "clips without recording", err, http.StatusUnprocessableEntity, "invalid_field")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Recorded, no clips", Type: "open", Record: true})
	join(t, ada, rm.ID)
	err = bob.Do(ctxT(t), "POST", "/api/v1/rooms/"+rm.ID+"/clips", nil, nil)
	wantStatus(t, "a clip where the host allows none", err, http.StatusForbidden, "forbidden")
	plain := createRoom(t, ada, client.RoomSpec{Title: "Not recorded", Type: "open"})
	join(t, ada, plain.ID)
	err = bob.Do(ctxT(t), "POST", "/api/v1/rooms/"+plain.ID+"/clips", nil, nil)
	wantStatus(t, "a clip of a room not recorded", err, http.StatusForbidden, "forbidden")
	err = bob.Do(ctxT(t), "GET", "/api/v1/rooms/"+plain.ID+"/replay", nil, nil)
	wantStatus(t, "the replay of a room not recorded", err, http.StatusNotFound, "not_found")
}

// TestNoRecordingWithoutFFmpeg: a server whose ffmpeg is missing (replays are
// mixed by it) refuses a room asked to record, with 503 and why, and still
// makes rooms that are not recorded.
func TestNoRecordingWithoutFFmpeg(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.FFmpeg = "/nonexistent/ffmpeg" }))
	_, err := ts.admin.CreateRoom(context.Background(), client.RoomSpec{Title: "t", Type: "open", Record: true})
	wantStatus(t, "a recorded room without ffmpeg", err, http.StatusServiceUnavailable, "unavailable")
	createRoom(t, ts.admin, client.RoomSpec{Title: "Not recorded", Type: "open"})
}
