package server_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/config"
)

// TestModeratorSwitchesRecordingMidRoom: a room not recorded at first; a
// moderator turns recording on, and everyone present is told before anything is
// recorded; turned off, it stops at once: what is said afterwards is not in the
// replay.
func TestModeratorSwitchesRecordingMidRoom(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	data := t.TempDir()
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.DataDir = data; c.Captions = "" }))
	ada, bob := ts.admin, ts.user("bob")
	pkts := audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), "this part is on the record"))
	rm := createRoom(t, ada, client.RoomSpec{Title: "Off the cuff", Type: "open"})
	as := join(t, ada, rm.ID)
	aa := connectAudio(t, as, 'a')
	bs := join(t, bob, rm.ID)
	ba := connectAudio(t, bs, 'b')
	as.do(t, "set_muted", map[string]any{"muted": false})

	t.Run("a room created without recording is not recorded", func(t *testing.T) {
		if st := bs.snapshot(t); st.Recorded {
			t.Fatal("bob's snapshot says recorded")
		}
		speak(t, aa, pkts[:25])
		err := bob.Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil)
		wantStatus(t, "the replay of a room not recorded", err, http.StatusNotFound, "not_found")
	})
	t.Run("only a moderator switches the recording", func(t *testing.T) {
		bs.refused(t, "set_recording", map[string]any{"on": true}, "forbidden")
	})
	var on time.Time
	t.Run("turned on mid-room, everyone present is told", func(t *testing.T) {
		as.do(t, "set_recording", map[string]any{"on": true})
		on = time.Now()
		m := bs.event(t, "recording_changed", "")
		var d struct {
			On bool   `json:"on"`
			By string `json:"by"`
		}
		if err := json.Unmarshal(m.Data, &d); err != nil || !d.On || d.By != ada.ID {
			t.Fatalf("recording_changed %s, want on by ada", m.Data)
		}
		if st := bs.snapshot(t); !st.Recorded {
			t.Error("bob's snapshot does not say recorded")
		}
	})
	speak(t, aa, pkts)
	var off time.Time
	t.Run("turned off, it stops at once", func(t *testing.T) {
		as.do(t, "set_recording", map[string]any{"on": false})
		off = time.Now()
		bs.event(t, "recording_changed", "")
	})
	heard := received(ba)
	speak(t, aa, pkts) // heard, not recorded
	eventually(t, "bob hearing ada's second sentence", func() bool { return received(ba) >= heard+len(pkts)*9/10 })
	end := time.Now()
	as.do(t, "end", nil)
	rp := readyReplay(t, ada, rm.ID)
	path := filepath.Join(data, "recordings", rm.ID, "replay.ogg")
	speech := time.Duration(len(pkts)) * 20 * time.Millisecond
	fromOn := off.Sub(on)
	t.Run("the replay holds what was said while it was on, and silence after", func(t *testing.T) {
		total := time.Duration(rp.DurationMS) * time.Millisecond
		if total < end.Sub(on)-time.Second {
			t.Errorf("the replay lasts %v, want about %v (from on to the end, pauses kept)", total, end.Sub(on))
		}
		if v := audiotest.Loudness(t, path, 0, fromOn); v < -30 {
			t.Errorf("the part recorded is silent (%.1f dBFS)", v)
		}
		if v := audiotest.Loudness(t, path, fromOn+300*time.Millisecond, min(fromOn+speech, total)); v > -60 {
			t.Errorf("what was said after the recording was turned off is in the replay (%.1f dBFS)", v)
		}
	})
}
