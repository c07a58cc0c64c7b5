package live

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// maskedFrame is a client's text frame of payload (RFC 6455 5.2; payload < 126 bytes).
func maskedFrame(payload string) []byte {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b := []byte{0x81, 0x80 | byte(len(payload))}
	b = append(b, key[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked frame of the server (payload < 126 bytes).
func readServerFrame(r *bufio.Reader) (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	p := make([]byte, h[1]&0x7f)
	_, err := io.ReadFull(r, p)
	return string(p), err
}

func TestAcceptWithSmallBuffers(t *testing.T) {
	tests := []struct {
		name   string
		frames []string // sent by the client in the same write as its upgrade request
		big    int      // then a message of this many bytes, over a real client
	}{
		{name: "a frame sent right behind the upgrade request is not lost", frames: []string{"early"}},
		{name: "several frames sent with the request arrive in order", frames: []string{"one", "two", "three"}},
		{name: "a message larger than the buffers goes through whole", big: 48 << 10},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&Hub{cl: localCluster(NodeInfo{Name: "local"})}).accept(w, r)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(1 << 20)
		ctx := context.Background()
		for { // echo
			typ, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if ws.Write(ctx, typ, data) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			t.Cleanup(cancel)
			if tt.big > 0 {
				ws, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{"townhall.v1"}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ws.CloseNow() })
				ws.SetReadLimit(1 << 20)
				msg := strings.Repeat("0123456789abcdef", tt.big/16)
				if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				_, got, err := ws.Read(ctx)
				if err != nil || string(got) != msg {
					t.Fatalf("echo of %d bytes: %d bytes back, %v", len(msg), len(got), err)
				}
				return
			}
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			key := make([]byte, 16)
			_, _ = rand.Read(key)
			req := fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: townhall.v1\r\n\r\n",
				srv.Listener.Addr(), base64.StdEncoding.EncodeToString(key))
			out := []byte(req)
			for _, f := range tt.frames {
				out = append(out, maskedFrame(f)...)
			}
			if _, err := c.Write(out); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade: %v %v", resp, err)
			}
			for _, want := range tt.frames {
				got, err := readServerFrame(r)
				if err != nil || got != want {
					t.Fatalf("echo %q, %v; want %q", got, err, want)
				}
			}
		})
	}
}
