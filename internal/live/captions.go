package live

import (
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// Live captions. A moderator turns them on for the room (set_live_captions, a
// room command: everyone present is told); each socket that wants them says so
// (show_captions, off by default): only those get the caption messages, which
// the media server's captioner hands the hub (Hub.Caption) as it transcribes
// what the audience hears. Like active_speakers, a caption is not a room event:
// it has no seq, and one lost is not resent.

// Captioner is what a Media that transcribes rooms also is: told when a room's
// live captions are turned on (after every member was told) or off. A Media
// that is not a Captioner, or says it cannot (CanCaption false: no speech
// engine), makes set_live_captions on fail.
type Captioner interface {
	CanCaption() bool
	SetLiveCaptions(roomID string, on bool)
}

// MsgShowCaptions: the socket wants the room's captions (on), or no longer.
const MsgShowCaptions = "show_captions"

// errNoCaptions refuses live captions on a server without a speech engine.
var errNoCaptions = errcode.New(errcode.Unavailable, "this server cannot caption rooms")

// CaptionLine is one line of live captions: what a speaker said in a short
// stretch of the room (a few seconds at most).
type CaptionLine struct {
	UserID     string
	Text       string
	Start, End time.Time
}

// captionMsg is the caption message of the socket protocol.
type captionMsg struct {
	Type    string    `json:"type"` // "caption"
	Speaker Person    `json:"speaker"`
	Text    string    `json:"text"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

type liveCaptionsData struct {
	On bool   `json:"on"`
	By string `json:"by"`
}

// captioner is the media server as a Captioner, if it is one that can caption.
func (h *Hub) captioner() (Captioner, bool) {
	c, ok := h.opts.Media.(Captioner)
	return c, ok && c.CanCaption()
}

// Caption delivers line to the sockets of roomID that asked for captions, on
// this node and on the edges, without waiting: a room too busy to take it now
// skips it (the next line follows within seconds). Any goroutine.
func (h *Hub) Caption(roomID string, line CaptionLine) {
	r, ok := h.room(roomID)
	if !ok {
		return
	}
	select {
	case r.ops <- func() {
		if !r.st.LiveCaptions() {
			return // turned off meanwhile
		}
		msg := mustJSON(captionMsg{Type: "caption", Speaker: r.person(line.UserID), Text: line.Text,
			Start: line.Start.UTC(), End: line.End.UTC()})
		for _, c := range r.conns {
			if c.captions {
				c.send(msg) // an edge's socket: an op on its link, flushed after this op
			}
		}
	}:
	default:
	}
}

// syncCaptions tells the media server of the live captions switched by evs.
// Room goroutine only.
func (r *liveRoom) syncCaptions(evs []room.Event) {
	for _, ev := range evs {
		if e, ok := ev.(room.LiveCaptionsChanged); ok {
			r.setCaptioning(e.On)
		}
	}
}

// setCaptioning starts or stops the media server's captioner of the room.
func (r *liveRoom) setCaptioning(on bool) {
	if c, ok := r.hub.opts.Media.(Captioner); ok {
		c.SetLiveCaptions(r.id, on)
	}
}

// showCaptions applies a socket's show_captions. Room goroutine only.
func (r *liveRoom) showCaptions(c *conn, on bool) error {
	if r.conns[c.person.ID] != c {
		return room.ErrNotJoined
	}
	c.captions = on
	return nil
}

// answerShowCaptions applies a socket's show_captions and answers it; true when
// the room is gone. Off the room goroutine.
func (r *liveRoom) answerShowCaptions(c *conn, msg ClientMessage) bool {
	var err error
	if !r.do(func() { err = r.showCaptions(c, *msg.On) }) {
		return true
	}
	if err != nil {
		c.send(errorFrame(msg.ID, err))
	} else if msg.ID != "" {
		c.send(mustJSON(okMsg{Type: "ok", ID: msg.ID}))
	}
	return false
}
