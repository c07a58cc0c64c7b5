package live

import (
	"slices"
	"sync"
	"time"
)

// The media server re-ranks a room's slots about five times a second. Sending
// that to every listener each time would make a room of N listeners cost 5N
// WebSocket messages a second whoever speaks: at 3,000 listeners a quarter of the
// server's CPU and most of the memory each listener costs. So a room sends
// active_speakers only when what a listener sees changes: who is in a slot, or
// whether they are speaking. Speaking has a hold so that the pauses between words
// do not blink the rings (nor cost everyone a message).
const (
	// speakingLevel is the level (0..1) above which an occupant counts as
	// speaking: about -58 dBov, above the comfort noise of a silent microphone.
	speakingLevel = 0.04
	// speakingHold is how long an occupant stays speaking after their level fell
	// under speakingLevel.
	speakingHold = 800 * time.Millisecond
)

// speakerView is what a room last told its listeners about its slots. Room
// goroutine only.
type speakerView struct {
	sent   []ActiveSlot // as last sent; nil before the first report
	loudAt []time.Time  // per slot: when its occupant was last above speakingLevel
	msg    []byte       // the last message sent, for newcomers; nil while no one is in a slot
}

// update takes a report from the media server and returns the message to send to
// everyone, or nil if listeners would see nothing new.
func (v *speakerView) update(in []ActiveSlot, now time.Time) []byte {
	if len(v.loudAt) != len(in) {
		v.loudAt = make([]time.Time, len(in))
	}
	out := make([]ActiveSlot, len(in))
	occupied := false
	for i, s := range in {
		if s.UserID == "" {
			out[i] = ActiveSlot{Slot: s.Slot}
			v.loudAt[i] = time.Time{}
			continue
		}
		occupied = true
		if i < len(v.sent) && v.sent[i].UserID != s.UserID {
			v.loudAt[i] = time.Time{} // a new occupant starts silent
		}
		if s.Speaking && s.Level > speakingLevel {
			v.loudAt[i] = now
		}
		speaking := !v.loudAt[i].IsZero() && now.Sub(v.loudAt[i]) < speakingHold
		out[i] = ActiveSlot{Slot: s.Slot, UserID: s.UserID, Level: s.Level, Speaking: speaking}
		if !speaking {
			out[i].Level = 0
		}
	}
	if v.sent != nil && slices.EqualFunc(out, v.sent, func(a, b ActiveSlot) bool {
		return a.Slot == b.Slot && a.UserID == b.UserID && a.Speaking == b.Speaking
	}) {
		return nil
	}
	msg := mustJSON(activeSpeakersMsg{Type: "active_speakers", Slots: out})
	v.sent = out
	v.msg = nil
	if occupied {
		v.msg = msg
	}
	return msg
}

// A big room tells its sockets about active speakers a step at a time. At each
// turn of a conversation every listener gets a message or two; at thousands of
// listeners, writing them all at once is a burst of WebSocket writes (tens of
// milliseconds of CPU) that delays the audio forwarded at the same moment, and
// audio that waits is what listeners notice. Paced, the last listener's speaking
// ring lags the first one's by len/paceStep × paceEvery (300 ms at 3,000).
const (
	paceAbove = 200                   // rooms with more sockets than this are paced
	paceStep  = 100                   // sockets told per step
	paceEvery = 10 * time.Millisecond // between steps
)

// speakerPacer delivers a room's latest active_speakers message to a list of
// sockets, step sockets every every. A newer message replaces the one being
// delivered and is delivered from the first socket again, so every socket ends
// with the newest message and sees messages in order, never one twice.
type speakerPacer struct {
	step int
	// pause waits between two steps; false if quit was closed meanwhile.
	pause func(quit <-chan struct{}) bool

	mu    sync.Mutex
	msg   []byte
	conns []*conn
	gen   uint64 // counts messages given
	wake  chan struct{}
}

func newSpeakerPacer(step int, every time.Duration) *speakerPacer {
	t := time.NewTimer(every)
	t.Stop()
	pause := func(quit <-chan struct{}) bool {
		t.Reset(every)
		select {
		case <-t.C:
			return true
		case <-quit:
			return false
		}
	}
	return &speakerPacer{step: step, pause: pause, wake: make(chan struct{}, 1)}
}

// give hands the pacer msg for conns (which it keeps).
func (p *speakerPacer) give(msg []byte, conns []*conn) {
	p.mu.Lock()
	p.msg, p.conns = msg, conns
	p.gen++
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// latest returns the message to deliver and its generation.
func (p *speakerPacer) latest() ([]byte, []*conn, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.msg, p.conns, p.gen
}

// run delivers until quit is closed.
func (p *speakerPacer) run(quit <-chan struct{}) {
	var done uint64 // the generation last delivered to every socket
	for {
		select {
		case <-p.wake:
		case <-quit:
			return
		}
		for {
			msg, conns, gen := p.latest()
			if gen == done {
				break
			}
			newer := false
			for i := 0; i < len(conns) && !newer; i += p.step {
				if i > 0 {
					if !p.pause(quit) {
						return
					}
					_, _, now := p.latest()
					if newer = now != gen; newer {
						break
					}
				}
				for _, c := range conns[i:min(i+p.step, len(conns))] {
					c.send(msg)
				}
			}
			if !newer {
				done = gen
			}
		}
	}
}
