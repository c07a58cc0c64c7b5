package live

import (
	"slices"
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
