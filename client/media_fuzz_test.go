package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
)

// okServer is a fake room socket that answers every message with ok.
func okServer(tb testing.TB) *client.Client {
	tb.Helper()
	srv := httptest.NewServer(withJoinAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{client.Subprotocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			_, data, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			var msg struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(data, &msg)
			ok, _ := json.Marshal(map[string]string{"type": "ok", "id": msg.ID})
			if ws.Write(r.Context(), websocket.MessageText, ok) != nil {
				return
			}
		}
	})))
	tb.Cleanup(srv.Close)
	return client.New(srv.URL).WithToken("t")
}

// FuzzMediaHandle feeds Media.Handle audio messages of the room socket (offers,
// candidates, active speakers), seeded with real ones from testdata/audio, each
// to a fresh Media whose server answers ok to everything: Handle must return,
// never panic.
func FuzzMediaHandle(f *testing.F) {
	seeds, err := filepath.Glob("testdata/audio/*.json")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	sock, err := okServer(f).JoinRoom(context.Background(), "r")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sock.Close() })
	f.Fuzz(func(t *testing.T, raw []byte) {
		var msg client.Message
		if json.Unmarshal(raw, &msg) != nil {
			return
		}
		msg.Raw = raw
		m, err := client.NewMedia(sock, client.MediaOptions{LoopbackOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = m.Handle(ctx, msg)
		_ = m.Stats()
	})
}
