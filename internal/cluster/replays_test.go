package cluster_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/bot"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/testwait"
)

// fetch GETs url with the token (none: a guest) and the extra headers, and
// returns the response and its body.
func fetch(t *testing.T, url, token string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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

// TestReplaysAreServedByEveryNode records a room on its owner node, which mixes
// the replay and keeps it in Postgres; the other node, with a data folder of its
// own, serves it (whole and by ranges, byte for byte) and its clip, cut through
// it though the owner records the room; the host
// deletes it through the other node, and it is gone for both, database included.
func TestReplaysAreServedByEveryNode(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	ogg := speech(t, "A replay recorded on one node is heard from every node of the cluster, to the last byte.")
	c := startCluster(t, []string{"a", "b"})
	c.firstAdmin("ada")
	host, _ := c.signUp(t, "a", "host")
	lis, _ := c.signUp(t, "b", "lis")
	rm, err := host.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Shared replay", Type: "open", Record: true, AllowClips: true})
	if err != nil {
		t.Fatal(err)
	}
	owner := c.ownerOf("a", host, rm.ID)
	other := map[string]string{"a": "b", "b": "a"}[owner]
	servers := c.url("a") + "," + c.url("b")
	logs := map[string]*lockedBuffer{"host": {}, "listener": {}}
	t.Cleanup(func() {
		if t.Failed() {
			for who, b := range logs {
				t.Logf("the %s's bot:\n%s", who, b.String())
			}
		}
	})
	sockets := func() int { return c.allSockets(owner) }
	spk := c.runBot(t, bot.Config{Server: servers, Room: rm.ID, Token: host.Token(), Speak: ogg, LoopbackOnly: true,
		WaitForListener: true, Log: logs["host"]})
	testwait.Until(t, patience, "the host's socket", func() bool { return sockets() == 1 }) // the room is open
	lb := c.runBot(t, bot.Config{Server: c.url(other), Room: rm.ID, Token: lis.Token(), LoopbackOnly: true, Log: logs["listener"]})
	select {
	case <-spk.Played():
	case <-time.After(patience):
		t.Fatal("the host did not finish speaking")
	}
	var clip struct {
		ID       string `json:"id"`
		AudioURL string `json:"audio_url"`
	}
	// Asked of the node that does not run the room: its owner records it and
	// cuts the clip.
	if err := c.on(other, lis).Do(ctxFor(t), "POST", "/api/v1/rooms/"+rm.ID+"/clips", nil, &clip); err != nil {
		t.Fatalf("cutting a clip through %s, which does not run the room: %v", other, err)
	}
	spk.stop(t) // the stage empties: the room ends, and its owner makes the replay
	var rp struct {
		State    string `json:"state"`
		AudioURL string `json:"audio_url"`
		Size     int64  `json:"size"`
	}
	testwait.Until(t, 3*patience, "the replay to be ready, seen from "+other, func() bool {
		err := c.on(other, lis).Do(ctxFor(t), "GET", "/api/v1/rooms/"+rm.ID+"/replay", nil, &rp)
		return err == nil && rp.State == "ready"
	})
	lb.stop(t)
	audioPath := "/api/v1/rooms/" + rm.ID + "/replay/audio"

	var whole []byte
	t.Run("both nodes serve the same replay, whole", func(t *testing.T) {
		var got [2][]byte
		for i, node := range []string{owner, other} {
			resp, body := fetch(t, c.url(node)+audioPath, "", nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/ogg" {
				t.Fatalf("the replay from %s: %s %s", node, resp.Status, resp.Header.Get("Content-Type"))
			}
			got[i] = body
		}
		whole = got[0]
		if !bytes.Equal(got[0], got[1]) || int64(len(whole)) != rp.Size || !bytes.HasPrefix(whole, []byte("OggS")) {
			t.Fatalf("owner %d bytes, other %d, the replay says %d: want the same Ogg file", len(got[0]), len(got[1]), rp.Size)
		}
	})
	t.Run("the other node serves ranges of it, byte for byte", func(t *testing.T) {
		if whole == nil {
			t.Fatal("no whole replay to compare with: the subtest before failed")
		}
		n := len(whole)
		for _, tc := range []struct {
			rng        string
			start, end int // inclusive
		}{
			{"bytes=100-199", 100, 199},
			{fmt.Sprintf("bytes=%d-", n/2), n / 2, n - 1},
			{"bytes=-500", n - 500, n - 1},
		} {
			resp, body := fetch(t, c.url(other)+audioPath, "", map[string]string{"Range": tc.rng})
			want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
			if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != want ||
				!bytes.Equal(body, whole[tc.start:tc.end+1]) {
				t.Errorf("%s: %s, Content-Range %q (want %q), %d bytes equal to the file's: %v", tc.rng, resp.Status,
					resp.Header.Get("Content-Range"), want, len(body), bytes.Equal(body, whole[tc.start:tc.end+1]))
			}
		}
	})
	t.Run("the clip cut through the other node plays from both", func(t *testing.T) {
		var bodies [2][]byte
		for i, node := range []string{owner, other} {
			resp, body := fetch(t, c.url(node)+"/api/v1/clips/"+clip.ID+"/audio", "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the clip from %s: %s %s", node, resp.Status, body)
			}
			bodies[i] = body
		}
		if len(bodies[0]) == 0 || !bytes.Equal(bodies[0], bodies[1]) {
			t.Errorf("the clip: %d bytes from the owner, %d from the other node, want the same", len(bodies[0]), len(bodies[1]))
		}
	})
	t.Run("no node keeps the finished files in its data folder", func(t *testing.T) {
		for _, node := range []string{owner, other} {
			for _, p := range []string{filepath.Join(c.data[node], "recordings", rm.ID), filepath.Join(c.data[node], "recordings", "clips", clip.ID+".ogg")} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: %v, want nothing on %s's disk", p, err, node)
				}
			}
		}
	})
	t.Run("the host deletes it through the other node; it is gone for both and from the database", func(t *testing.T) {
		if err := c.on(other, host).Do(ctxFor(t), "DELETE", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, node := range []string{owner, other} {
			for _, p := range []string{"/api/v1/rooms/" + rm.ID + "/replay", audioPath, "/api/v1/clips/" + clip.ID + "/audio"} {
				if resp, body := fetch(t, c.url(node)+p, "", nil); resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s on %s after the delete: %s %s", p, node, resp.Status, body)
				}
			}
		}
		if err := c.on(owner, host).Do(ctxFor(t), "DELETE", "/api/v1/rooms/"+rm.ID+"/replay", nil, nil); err == nil {
			t.Error("a second delete, on the owner, succeeded: want it not found")
		}
		db, err := store.Open(ctxFor(t), c.db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if files, chunks, err := db.FileCount(ctxFor(t), rm.ID); err != nil || files != 0 || chunks != 0 {
			t.Errorf("the database keeps %d files in %d chunks of the room (%v), want none", files, chunks, err)
		}
	})
}
