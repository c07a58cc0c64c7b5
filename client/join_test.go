package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/servertest"
)

// password is every test user's password.
const password = "correct horse battery"

// realServer runs a townhall server on loopback and returns it with its admin,
// ada, and a room of hers that guests may join, opened by her socket.
func realServer(t *testing.T) (*servertest.Server, *client.Client, client.Room) {
	t.Helper()
	srv := servertest.Start(t)
	ctx := context.Background()
	ada, _, err := client.New(srv.URL).SignUp(ctx, "ada", password, srv.Code)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := ada.CreateRoom(ctx, client.RoomSpec{Title: "Open house", Type: "open", AllowGuests: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ada.JoinRoom(ctx, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if m := next(t, s); m.Type != "welcome" {
		t.Fatalf("ada got %s", m.Raw)
	}
	return srv, ada, rm
}

// deadURL returns the base URL of a loopback port nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	_ = l.Close()
	return u
}

func TestJoinFollowsTheJoinAPI(t *testing.T) {
	srv, ada, rm := realServer(t)
	ctx := context.Background()

	t.Run("a single server names its own socket for the room", func(t *testing.T) {
		info, err := ada.Join(ctx, rm.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		want := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/rooms/" + rm.ID + "/socket"
		if info.SocketURL != want || info.Node == "" {
			t.Fatalf("%+v, want the socket %s", info, want)
		}
	})
	t.Run("a guest is named the guest socket", func(t *testing.T) {
		info, err := client.New(srv.URL).Join(ctx, rm.ID, true)
		if err != nil || !strings.HasSuffix(info.SocketURL, "/socket?guest=1") {
			t.Fatalf("%+v, %v", info, err)
		}
	})
	t.Run("a guest joins through it and gets the server's identity", func(t *testing.T) {
		g := client.New(srv.URL)
		s, err := g.JoinAsGuest(ctx, rm.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		m := next(t, s)
		if m.Type != "welcome" || m.You == nil || !m.You.Guest || g.Identity() == "" {
			t.Fatalf("got %s, identity %q", m.Raw, g.Identity())
		}
	})
	t.Run("a room that is not found is an error, not an old server", func(t *testing.T) {
		_, err := ada.Join(ctx, "nosuchroom", false)
		if client.Code(err) != "not_found" || errors.Is(err, client.ErrNoJoinAPI) {
			t.Fatalf("got %v", err)
		}
		if _, err := ada.JoinRoom(ctx, "nosuchroom"); client.Code(err) != "not_found" {
			t.Fatalf("JoinRoom: %v", err)
		}
	})
	t.Run("a server that cannot be reached is skipped for the next", func(t *testing.T) {
		c := client.New(deadURL(t), srv.URL).WithToken(ada.Token())
		s, err := c.JoinRoom(ctx, rm.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if c.BaseURL() != srv.URL {
			t.Fatalf("requests now go first to %s, want %s", c.BaseURL(), srv.URL)
		}
		if _, err := c.Me(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a server that answers with an error is not skipped", func(t *testing.T) {
		c := client.New(srv.URL, deadURL(t))
		if _, err := c.Me(ctx); client.Code(err) != "unauthenticated" {
			t.Fatalf("got %v", err)
		}
	})
}

// TestJoinRoomOnAServerWithoutTheJoinAPI: a server from before the join API
// answers its join route as an unknown endpoint; JoinRoom then opens the room's
// socket on that server, as it always did.
func TestJoinRoomOnAServerWithoutTheJoinAPI(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		old    bool
		want   error // what JoinRoom returns, if not a socket
	}{
		{"the API's catch-all says no such endpoint", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such endpoint: POST ` + r.URL.Path + `"}}`))
		}, true, nil},
		{"a bare 404 without the API's body", http.NotFound, true, nil},
		{"the method is not allowed there", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(405)
		}, true, nil},
		{"a room that is not found is not an old server", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such room, or you cannot see it"}}`))
		}, false, nil},
		{"a join API that names a socket that is not ws:// is refused", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"node":"n1","socket_url":"http://` + r.Host + `/api/v1/rooms/r/socket"}`))
		}, false, client.ErrBadSocketURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("POST /api/v1/rooms/{id}/join", tt.answer)
			mux.HandleFunc("GET /api/v1/rooms/{id}/socket", welcomingSocket)
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c := client.New(srv.URL).WithToken("t")
			ctx := context.Background()

			_, err := c.Join(ctx, "r", false)
			if got := errors.Is(err, client.ErrNoJoinAPI); got != tt.old {
				t.Fatalf("Join: %v; an old server: %v, want %v", err, got, tt.old)
			}
			s, err := c.JoinRoom(ctx, "r")
			if !tt.old {
				if err == nil {
					_ = s.Close()
					t.Fatal("JoinRoom opened a socket")
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("JoinRoom: %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if m := next(t, s); m.Type != "welcome" || m.RoomID != "r" {
				t.Fatalf("got %s", m.Raw)
			}
		})
	}
}

func TestOpenRoomSocket(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/rooms/{id}/socket", welcomingSocket)
	mux.HandleFunc("POST /api/v1/rooms/{id}/join", func(w http.ResponseWriter, r *http.Request) {
		t.Error("OpenRoomSocket asked the join API again")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	tests := []struct {
		name string
		url  string
		want error
	}{
		{"the socket the join API named is opened there", ws + "/api/v1/rooms/r1/socket", nil},
		{"a socket that is not ws:// or wss:// is refused", srv.URL + "/api/v1/rooms/r1/socket", client.ErrBadSocketURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := client.New(srv.URL).OpenRoomSocket(context.Background(), client.JoinInfo{SocketURL: tt.url})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			select {
			case m := <-s.Messages():
				if m.Type != "welcome" {
					t.Fatalf("first message %s", m.Raw)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no welcome")
			}
		})
	}
}

// welcomingSocket is a room socket that says welcome to the room of its path and
// then reads until the client goes.
func welcomingSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{client.Subprotocol}})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	_ = ws.Write(r.Context(), websocket.MessageText, []byte(`{"type":"welcome","protocol":1,"room_id":"`+r.PathValue("id")+`"}`))
	_, _, _ = ws.Read(r.Context())
}
