package bot

import (
	"fmt"
	"io"
	"time"

	"github.com/townhall/townhall/client"
)

// Report is what a Run did: why it ended, and what its audio sent and received.
type Report struct {
	Room string
	Me   string // the bot's user ID
	// Reason is why the bot left: "interrupted" (ctx ended), "duration",
	// "played" (LeaveWhenPlayed), or the reason of the server's bye: "room_ended",
	// "removed", "replaced", "shutdown"...
	Reason string
	Played bool // the file played to its end
	// Reconnects counts the times the bot came back into the room after its
	// socket ended (a node restarted or moved the room, the network dropped).
	Reconnects int
	// Stay is the wall-clock time from the bot's join to its leave.
	Stay time.Duration
	// Names maps the user IDs the bot saw to their usernames.
	Names map[string]string
	// Media is what the bot's audio sent and received over its whole stay. Each
	// slot's Audio against its Span says how much of what the slot carried went
	// missing (SlotStats.Missing), Bridged how much of it while reconnecting.
	Media client.MediaStats
}

// name returns how to call the user id: their username, or the ID.
func (r Report) name(id string) string {
	if n, ok := r.Names[id]; ok {
		return n
	}
	return id
}

// Print writes the report for people: one line for what was sent, then each slot
// with who was heard in it.
//
//	left room 5fq... (played) after 9.80 s, reconnected once
//	sent: 273 packets, 27.7 kB, 5.46 s of audio
//	slot 0: 270 packets, 27.4 kB, 0 lost, 0 late, 5.40 s of audio over 5.62 s, 0.22 s missing (0.22 s of silence filled, 0.20 s while reconnecting) → out.ogg
//	        ada: 5.40 s in the slot, 4.60 s speaking
//	slot 1: nothing
func (r Report) Print(w io.Writer) {
	reason := r.Reason
	if reason == "" {
		reason = "an error"
	}
	fmt.Fprintf(w, "left room %s (%s) after %s", r.Room, reason, secs(r.Stay))
	switch r.Reconnects {
	case 0:
	case 1:
		fmt.Fprint(w, ", reconnected once")
	default:
		fmt.Fprintf(w, ", reconnected %d times", r.Reconnects)
	}
	fmt.Fprintln(w)
	if s := r.Media.Sent; s.Packets > 0 {
		fmt.Fprintf(w, "sent: %d packets, %s, %s of audio\n", s.Packets, kB(s.Bytes), secs(s.Audio))
	}
	for _, s := range r.Media.Slots {
		if s.Packets == 0 && len(s.Occupants) == 0 {
			fmt.Fprintf(w, "slot %d: nothing\n", s.Slot)
			continue
		}
		fmt.Fprintf(w, "slot %d: %d packets, %s, %d lost, %d late, %s of audio over %s, %s missing",
			s.Slot, s.Packets, kB(s.Bytes), s.Lost, s.Late, secs(s.Audio), secs(s.Span), secs(s.Missing()))
		switch {
		case s.Bridged > 0:
			fmt.Fprintf(w, " (%s of silence filled, %s while reconnecting)", secs(s.Filled), secs(s.Bridged))
		case s.Filled > 0:
			fmt.Fprintf(w, " (%s of silence filled)", secs(s.Filled))
		}
		if s.File != "" {
			fmt.Fprintf(w, " → %s", s.File)
		}
		if s.Err != nil {
			fmt.Fprintf(w, " (recording stopped: %v)", s.Err)
		}
		fmt.Fprintln(w)
		for _, o := range s.Occupants {
			fmt.Fprintf(w, "        %s: %s in the slot, %s speaking", r.name(o.UserID), secs(o.InSlot), secs(o.Speaking))
			if o.UserID == r.Me {
				fmt.Fprint(w, " (the bot itself: in its own slot it hears the next loudest speaker instead)")
			}
			fmt.Fprintln(w)
		}
	}
}

func kB(n int64) string { return fmt.Sprintf("%.1f kB", float64(n)/1000) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
