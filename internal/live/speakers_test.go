package live

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestSpeakerViewSendsOnlyWhatListenersWouldSeeChange(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	type step struct {
		ms    int
		slots []ActiveSlot
		want  []ActiveSlot // nil: nothing is sent
	}
	ann := func(level float64, speaking bool) ActiveSlot {
		return ActiveSlot{Slot: 0, UserID: "ann", Level: level, Speaking: speaking}
	}
	empty := func(slot int) ActiveSlot { return ActiveSlot{Slot: slot} }
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "a speaker who talks on is announced once, whatever their level does",
			steps: []step{
				{0, []ActiveSlot{ann(0.8, true), empty(1)}, []ActiveSlot{ann(0.8, true), empty(1)}},
				{200, []ActiveSlot{ann(0.5, true), empty(1)}, nil},
				{400, []ActiveSlot{ann(0.9, true), empty(1)}, nil},
			},
		},
		{
			name: "a pause shorter than the hold keeps the ring, a longer one turns it off",
			steps: []step{
				{0, []ActiveSlot{ann(0.8, true)}, []ActiveSlot{ann(0.8, true)}},
				{200, []ActiveSlot{ann(0, false)}, nil},
				{600, []ActiveSlot{ann(0.01, true)}, nil}, // comfort noise is not speech
				{800, []ActiveSlot{ann(0, false)}, []ActiveSlot{ann(0, false)}},
				{1000, []ActiveSlot{ann(0, false)}, nil},
				{1200, []ActiveSlot{ann(0.7, true)}, []ActiveSlot{ann(0.7, true)}},
			},
		},
		{
			name: "a new occupant of a slot is announced, silent until they speak",
			steps: []step{
				{0, []ActiveSlot{ann(0.8, true)}, []ActiveSlot{ann(0.8, true)}},
				{200, []ActiveSlot{{Slot: 0, UserID: "bob"}}, []ActiveSlot{{Slot: 0, UserID: "bob"}}},
				{400, []ActiveSlot{{Slot: 0, UserID: "bob", Level: 0.6, Speaking: true}},
					[]ActiveSlot{{Slot: 0, UserID: "bob", Level: 0.6, Speaking: true}}},
			},
		},
		{
			name: "slots that empty are announced, and then nothing more",
			steps: []step{
				{0, []ActiveSlot{ann(0.8, true), empty(1)}, []ActiveSlot{ann(0.8, true), empty(1)}},
				{200, []ActiveSlot{empty(0), empty(1)}, []ActiveSlot{empty(0), empty(1)}},
				{400, []ActiveSlot{empty(0), empty(1)}, nil},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v speakerView
			for _, s := range tt.steps {
				msg := v.update(s.slots, t0.Add(time.Duration(s.ms)*time.Millisecond))
				if s.want == nil {
					if msg != nil {
						t.Fatalf("at %d ms: sent %s, want nothing", s.ms, msg)
					}
					continue
				}
				var got activeSpeakersMsg
				if err := json.Unmarshal(msg, &got); err != nil {
					t.Fatalf("at %d ms: %v in %q", s.ms, err, msg)
				}
				if got.Type != "active_speakers" || !slices.Equal(got.Slots, s.want) {
					t.Fatalf("at %d ms: sent %s, want slots %+v", s.ms, msg, s.want)
				}
			}
		})
	}
}

func TestSpeakerViewKeepsTheLastMessageForNewcomers(t *testing.T) {
	t0 := time.Now()
	var v speakerView
	tests := []struct {
		name  string
		slots []ActiveSlot
		has   bool
	}{
		{"someone in a slot is kept", []ActiveSlot{{Slot: 0, UserID: "ann", Level: 0.5, Speaking: true}}, true},
		{"all slots empty leaves nothing to tell", []ActiveSlot{{Slot: 0}}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := v.update(tt.slots, t0.Add(time.Duration(i)*time.Second))
			if (v.msg != nil) != tt.has || (tt.has && string(v.msg) != string(sent)) {
				t.Fatalf("kept %q after sending %q", v.msg, sent)
			}
		})
	}
}

func TestSpeakerPacerDeliversTheLatestToEverySocketInOrder(t *testing.T) {
	cs := newConnServer(t, 0, nil)
	const n = 7 // in steps of 2: 4 steps
	conns := make([]*conn, n)
	clients := make([]*websocket.Conn, n)
	for i := range n {
		conns[i], clients[i] = cs.open(t, nil)
	}
	msg := func(k int) string { return `{"type":"active_speakers","k":` + strconv.Itoa(k) + `}` }

	// step lets the pacer take its next step.
	type pacer struct {
		*speakerPacer
		step chan struct{}
	}
	expect := func(t *testing.T, socket int, want string) {
		t.Helper()
		if got := read(t, clients[socket]); got != want {
			t.Fatalf("socket %d read %s, want %s", socket, got, want)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, p pacer)
	}{
		{"one message reaches every socket, a step at a time", func(t *testing.T, p pacer) {
			p.give([]byte(msg(1)), conns)
			for i := range n {
				if i > 0 && i%2 == 0 {
					p.step <- struct{}{}
				}
				expect(t, i, msg(1))
			}
		}},
		{"a newer message given on the way reaches the sockets told after the older, the others alone", func(t *testing.T, p pacer) {
			p.give([]byte(msg(2)), conns)
			expect(t, 0, msg(2))
			expect(t, 1, msg(2))
			p.give([]byte(msg(3)), conns)
			p.step <- struct{}{} // the pacer sees msg(3) and starts again
			expect(t, 0, msg(3))
			expect(t, 1, msg(3))
			for i := 2; i < n; i++ {
				if i%2 == 0 {
					p.step <- struct{}{}
				}
				expect(t, i, msg(3))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pacer{newSpeakerPacer(2, 0), make(chan struct{})}
			p.pause = func(quit <-chan struct{}) bool {
				select {
				case <-p.step:
					return true
				case <-quit:
					return false
				}
			}
			quit := make(chan struct{})
			stopped := make(chan struct{})
			go func() { defer close(stopped); p.run(quit) }()
			t.Cleanup(func() { close(quit); <-stopped })
			tt.run(t, p)
			// Nothing more comes: the next message each socket reads is this one.
			for i := range n {
				if !conns[i].send([]byte(`{"type":"end"}`)) {
					t.Fatalf("socket %d refused a message", i)
				}
				expect(t, i, `{"type":"end"}`)
			}
		})
	}
}
