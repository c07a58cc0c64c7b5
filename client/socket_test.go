package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
)

// scriptServer is a fake townhall room socket: it sends the frames of script,
// then answers each client message with answer(msg) (nothing if it returns nil).
func scriptServer(t *testing.T, script []string, answer func(msg map[string]any) []string) *client.Client {
	t.Helper()
	srv := httptest.NewServer(withJoinAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{client.Subprotocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for _, f := range script {
			if ws.Write(ctx, websocket.MessageText, []byte(f)) != nil {
				return
			}
		}
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var msg map[string]any
			_ = json.Unmarshal(data, &msg)
			for _, f := range answer(msg) {
				if ws.Write(ctx, websocket.MessageText, []byte(f)) != nil {
					return
				}
			}
		}
	})))
	t.Cleanup(srv.Close)
	return client.New(srv.URL).WithToken("t")
}

func next(t *testing.T, s *client.Socket) client.Message {
	t.Helper()
	select {
	case m, ok := <-s.Messages():
		if !ok {
			t.Fatalf("socket closed: %v", s.Err())
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	return client.Message{}
}

func TestSocketResyncsOnAGap(t *testing.T) {
	c := scriptServer(t, []string{
		`{"type":"welcome","protocol":1,"you":{"id":"u","display_name":"U"},"room_id":"r","resumed":false}`,
		`{"type":"snapshot","seq":0,"room":{"id":"r","state":"live"}}`,
		`{"type":"event","seq":1,"kind":"hand_raised","data":{"user":{"id":"a","display_name":"A"}}}`,
		`{"type":"event","seq":3,"kind":"hand_lowered","data":{"user_id":"a","reason":"lowered"}}`,
		`{"type":"event","seq":4,"kind":"hand_raised","data":{"user":{"id":"b","display_name":"B"}}}`,
	}, func(msg map[string]any) []string {
		if msg["type"] == "snapshot" {
			return []string{
				`{"type":"snapshot","seq":4,"room":{"id":"r","state":"live","raised_hands":[{"id":"b","display_name":"B"}]}}`,
				`{"type":"event","seq":5,"kind":"hand_lowered","data":{"user_id":"b","reason":"lowered"}}`,
			}
		}
		return nil
	})
	s, err := c.JoinRoom(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	t.Run("events in order are delivered", func(t *testing.T) {
		if m := next(t, s); m.Type != "welcome" || m.Protocol != 1 || m.You.ID != "u" {
			t.Fatalf("welcome %s", m.Raw)
		}
		if m := next(t, s); m.Type != "snapshot" {
			t.Fatalf("got %s", m.Raw)
		}
		if m := next(t, s); m.Seq != 1 {
			t.Fatalf("got %s", m.Raw)
		}
	})
	t.Run("after a gap, the socket asks for a snapshot and holds back what it covers", func(t *testing.T) {
		m := next(t, s)
		st, err := m.State()
		if err != nil || m.Seq != 4 || len(st.RaisedHands) != 1 {
			t.Fatalf("got %s (%v), want the snapshot at seq 4", m.Raw, err)
		}
		if m := next(t, s); m.Seq != 5 {
			t.Fatalf("got %s, want the event after the snapshot", m.Raw)
		}
		if s.Resyncs() != 1 {
			t.Fatalf("%d resyncs", s.Resyncs())
		}
	})
}

func TestSocketCommands(t *testing.T) {
	c := scriptServer(t, nil, func(msg map[string]any) []string {
		id, _ := msg["id"].(string)
		switch msg["type"] {
		case "ping":
			return []string{`{"type":"pong","id":"` + id + `"}`}
		case "raise_hand":
			return []string{`{"type":"event","seq":1,"kind":"hand_raised","data":{}}`, `{"type":"ok","id":"` + id + `"}`}
		}
		return []string{`{"type":"error","id":"` + id + `","code":"forbidden","message":"only a moderator can do that"}`}
	})
	s, err := c.JoinRoom(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	t.Run("a command answered ok returns nil", func(t *testing.T) {
		if err := s.Command(ctx, "raise_hand", nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a command answered with an error returns its code", func(t *testing.T) {
		err := s.Command(ctx, "end", nil)
		if client.Code(err) != "forbidden" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a ping returns with its pong", func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
