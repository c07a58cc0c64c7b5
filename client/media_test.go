package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/sfu"
	"github.com/townhall/townhall/internal/testwait"
)

// patience bounds every wait of these tests.
const patience = 15 * time.Second

// checkNoLeaks fails t if goroutines of pion or of Media are still running once
// everything else t started has been cleaned up. Call it first: cleanups run in
// reverse order.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(patience)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			leaked := mediaGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines of pion or Media still run:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			<-tick.C
		}
	})
}

// mediaGoroutines returns the stacks of the running goroutines that are in pion's
// code or in Media's.
func mediaGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/pion/") || strings.Contains(g, "townhall/client.(*Media)") {
			out = append(out, g)
		}
	}
	return out
}

// sfuRoom is a fake room server that does what townhall's does with audio, over a
// real media server on loopback: each room socket (its bearer token is the
// participant's ID) gets a welcome, a snapshot and the offer of its sfu.Peer; it
// takes the answer and candidates; active_speakers go to everyone. Participants
// whose ID starts with "speaker" may be heard.
type sfuRoom struct {
	url string
	fwd *sfu.Forwarder

	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

func newSFURoom(t *testing.T) *sfuRoom {
	t.Helper()
	cfg := sfu.DefaultConfig()
	cfg.UDPPort, cfg.TCPPort, cfg.LoopbackOnly = 0, 0, true
	engine, err := sfu.NewEngine(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := engine.NewForwarder()
	if err != nil {
		t.Fatal(err)
	}
	r := &sfuRoom{fwd: fwd, conns: map[*websocket.Conn]struct{}{}}
	fwd.OnActive(func(states []sfu.SlotState) {
		slots := make([]client.ActiveSlot, len(states))
		for i, s := range states {
			slots[i] = client.ActiveSlot{Slot: s.Slot, UserID: s.ParticipantID, Level: float64(127-s.Level) / 127, Speaking: s.Speaking}
		}
		r.broadcast(map[string]any{"type": "active_speakers", "slots": slots})
	})
	var handlers sync.WaitGroup
	srv := httptest.NewServer(withJoinAPI(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		r.serve(t, engine, w, req)
	})))
	r.url = srv.URL
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		handlers.Wait()
		fwd.Close()
		_ = engine.Close()
	})
	return r
}

func (r *sfuRoom) broadcast(msg any) {
	b, _ := json.Marshal(msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = c.Write(ctx, websocket.MessageText, b)
		cancel()
	}
}

func (r *sfuRoom) serve(t *testing.T, engine *sfu.Engine, w http.ResponseWriter, req *http.Request) {
	id := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{client.Subprotocol}})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ctx := req.Context()
	send := func(msg any) {
		b, _ := json.Marshal(msg)
		_ = ws.Write(ctx, websocket.MessageText, b)
	}
	peer, err := engine.NewPeer(id, r.fwd, func(c webrtc.ICECandidateInit) {
		send(map[string]any{"type": "candidate", "candidate": c})
	}, nil)
	if err != nil {
		t.Errorf("NewPeer: %v", err)
		return
	}
	defer peer.Close()
	if strings.HasPrefix(id, "speaker") {
		r.fwd.SetAllowed(id, true)
		defer r.fwd.SetAllowed(id, false)
	}
	send(map[string]any{"type": "welcome", "protocol": 1, "you": map[string]string{"id": id, "display_name": id}, "room_id": "r"})
	send(map[string]any{"type": "snapshot", "seq": 0, "room": map[string]string{"id": "r", "state": "live"}})
	offer, err := peer.Offer(ctx)
	if err != nil {
		t.Errorf("Offer: %v", err)
		return
	}
	send(map[string]any{"type": "offer", "sdp": offer.SDP})
	r.mu.Lock()
	r.conns[ws] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, ws)
		r.mu.Unlock()
	}()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var msg struct {
			Type      string                   `json:"type"`
			ID        string                   `json:"id"`
			SDP       string                   `json:"sdp"`
			Candidate *webrtc.ICECandidateInit `json:"candidate"`
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields() // as the real server: unknown fields are refused
		if err := dec.Decode(&msg); err != nil {
			t.Errorf("the client sent %s: %v", data, err)
			return
		}
		switch msg.Type {
		case "answer":
			err = peer.SetAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP})
		case "candidate":
			err = peer.AddCandidate(*msg.Candidate)
		case "leave":
		default:
			t.Errorf("unexpected %s", data)
		}
		if err != nil {
			send(map[string]any{"type": "error", "id": msg.ID, "code": "bad_request", "message": err.Error()})
		} else {
			send(map[string]any{"type": "ok", "id": msg.ID})
		}
	}
}

// participant is one client of an sfuRoom: its socket and Media, with a reader
// that passes the socket's messages to Handle.
type participant struct {
	sock   *client.Socket
	media  *client.Media
	errs   chan error
	reader sync.WaitGroup
}

func join(t *testing.T, room *sfuRoom, id string, opts client.MediaOptions) *participant {
	t.Helper()
	ctx := context.Background()
	sock, err := client.New(room.url).WithToken(id).JoinRoom(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	opts.LoopbackOnly = true
	m, err := client.NewMedia(sock, opts)
	if err != nil {
		_ = sock.Close()
		t.Fatal(err)
	}
	p := &participant{sock: sock, media: m, errs: make(chan error, 16)}
	p.reader.Add(1)
	go func() {
		defer p.reader.Done()
		for msg := range sock.Messages() {
			if _, err := m.Handle(ctx, msg); err != nil {
				select {
				case p.errs <- err:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("%s: Media.Close: %v", id, err)
		}
		_ = sock.Close()
		p.reader.Wait()
		if err := m.Err(); err != nil {
			t.Errorf("%s: a candidate was refused: %v", id, err)
		}
		select {
		case err := <-p.errs:
			t.Errorf("%s: Handle: %v", id, err)
		default:
		}
	})
	waitCtx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	if err := m.WaitConnected(waitCtx); err != nil {
		t.Fatalf("%s: audio never connected: %v", id, err)
	}
	return p
}

// waitFor waits until cond holds, or fails t after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, patience, what, cond)
}

// quietFor returns a condition that holds once slot has received packets and none
// for d.
func quietFor(m *client.Media, slot int, d time.Duration) func() bool {
	var last int64 = -1
	var since time.Time
	return func() bool {
		st := m.Stats()
		if slot >= len(st.Slots) {
			return false
		}
		n := st.Slots[slot].Packets
		if n != last {
			last, since = n, time.Now()
			return false
		}
		return n > 0 && time.Since(since) >= d
	}
}

func TestMediaCarriesASpeakerToAListenersRecording(t *testing.T) {
	checkNoLeaks(t)
	room := newSFURoom(t)
	out := filepath.Join(t.TempDir(), "out.ogg")
	var reports sync.Map // user ID → seen speaking in an active_speakers report
	listener := join(t, room, "listener", client.MediaOptions{RecordPath: out, OnActiveSpeakers: func(slots []client.ActiveSlot) {
		for _, s := range slots {
			if s.Speaking && s.Level > 0 {
				reports.Store(s.UserID, true)
			}
		}
	}})
	speaker := join(t, room, "speaker-a", client.MediaOptions{})

	src, err := client.OpenOgg("testdata/hello.ogg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	began := time.Now()
	if err := speaker.media.Play(ctx, src); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	sent := speaker.media.Stats().Sent
	waitFor(t, "the listener's slot 0 falls quiet", quietFor(listener.media, 0, 300*time.Millisecond))

	t.Run("Play paces the file at real time", func(t *testing.T) {
		if sent.Packets != 73 || sent.Audio != 1460*time.Millisecond {
			t.Fatalf("sent %+v; hello.ogg holds 73 packets of 20 ms", sent)
		}
		if took < sent.Audio-40*time.Millisecond || took > sent.Audio+500*time.Millisecond {
			t.Fatalf("Play took %s for %s of audio", took, sent.Audio)
		}
	})
	st := listener.media.Stats()
	slot := st.Slots[0]
	t.Run("the listener gets the speaker in slot 0, in order, nothing in the others", func(t *testing.T) {
		if len(st.Slots) != 3 {
			t.Fatalf("%d slots, the server offers 3", len(st.Slots))
		}
		// The server gives a slot once a packet with a level comes: the first
		// packets may go before it does.
		if slot.Packets < sent.Packets-10 || slot.Packets > sent.Packets || slot.Lost != 0 || slot.Late != 0 {
			t.Fatalf("slot 0: %+v; the speaker sent %d packets", slot, sent.Packets)
		}
		for _, s := range st.Slots[1:] {
			if s.Packets != 0 || s.File != "" {
				t.Fatalf("slot %d: %+v", s.Slot, s)
			}
		}
	})
	t.Run("active_speakers put the speaker in slot 0, speaking", func(t *testing.T) {
		if len(slot.Occupants) == 0 || slot.Occupants[0].UserID != "speaker-a" || slot.Occupants[0].Speaking <= 0 {
			t.Fatalf("occupants %+v", slot.Occupants)
		}
		if _, ok := reports.Load("speaker-a"); !ok {
			t.Fatal("OnActiveSpeakers never heard speaker-a speaking")
		}
	})
	t.Run("the recording holds what arrived, once closed", func(t *testing.T) {
		if err := listener.media.Close(); err != nil {
			t.Fatal(err)
		}
		if slot.File != out {
			t.Fatalf("file %q, want %q", slot.File, out)
		}
		rec, err := client.OpenOgg(out)
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Close()
		var n int64
		for {
			if _, err := rec.NextPacket(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			n++
		}
		if filled := int64(slot.Filled / (20 * time.Millisecond)); n != slot.Packets+filled {
			t.Fatalf("%d packets in the file, %d received and %d filled", n, slot.Packets, filled)
		}
		if _, err := os.Stat(client.SlotPath(out, 1)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("slot 1 made a file: %v", err)
		}
	})
}

func TestMediaHandle(t *testing.T) {
	checkNoLeaks(t)
	m, err := client.NewMedia(nil, client.MediaOptions{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	msg := func(raw string) client.Message {
		var out client.Message
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatal(err)
		}
		out.Raw = []byte(raw)
		return out
	}
	t.Run("events are left to the caller", func(t *testing.T) {
		if ok, err := m.Handle(ctx, msg(`{"type":"event","seq":1,"kind":"unmuted","data":{"user_id":"u"}}`)); ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("a candidate before the offer is refused", func(t *testing.T) {
		_, err := m.Handle(ctx, msg(`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`))
		if !errors.Is(err, client.ErrNoOffer) {
			t.Fatalf("%v, want ErrNoOffer", err)
		}
	})
	t.Run("active_speakers before the offer are kept", func(t *testing.T) {
		ok, err := m.Handle(ctx, msg(`{"type":"active_speakers","slots":[{"slot":0,"user_id":"u","level":0.5,"speaking":true}]}`))
		if !ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
		if got := m.ActiveSpeakers(); len(got) != 1 || got[0].UserID != "u" || !got[0].Speaking {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("an offer that is not SDP is refused", func(t *testing.T) {
		if _, err := m.Handle(ctx, msg(`{"type":"offer","sdp":"hello"}`)); !errors.Is(err, client.ErrBadOffer) {
			t.Fatalf("%v, want ErrBadOffer", err)
		}
	})
	t.Run("a second offer is refused", func(t *testing.T) {
		if _, err := m.Handle(ctx, msg(`{"type":"offer","sdp":"hello"}`)); !errors.Is(err, client.ErrSecondOffer) {
			t.Fatalf("%v, want ErrSecondOffer", err)
		}
	})
	t.Run("Play without an offer waits for it until ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		src, err := client.OpenOgg("testdata/hello.ogg")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if err := m.Play(ctx, src); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
	})
}

func TestSlotPath(t *testing.T) {
	tests := []struct {
		path string
		slot int
		want string
	}{
		{"out.ogg", 0, "out.ogg"},
		{"out.ogg", 1, "out-1.ogg"},
		{"/tmp/rec/room.opus", 2, "/tmp/rec/room-2.opus"},
		{"noext", 3, "noext-3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := client.SlotPath(tt.path, tt.slot); got != tt.want {
				t.Fatalf("%q", got)
			}
		})
	}
}
