package room

// Live captions: whether what is said on stage is transcribed for the listeners
// who ask for it, while the room is live. Off unless a moderator turns them on
// (the host is one); everyone present is told. The layer above transcribes; the
// room decides who may switch them and tells everyone. They need no recording.

// SetLiveCaptions turns the room's live captions on or off (moderators).
type SetLiveCaptions struct {
	On bool
}

func (SetLiveCaptions) command() {}

// LiveCaptionsChanged: the moderator By turned the live captions on or off. To
// members.
type LiveCaptionsChanged struct {
	Header
	On bool
	By string
}

// KindLiveCaptionsChanged is the kind of LiveCaptionsChanged.
const KindLiveCaptionsChanged = "live_captions_changed"

// Kind returns KindLiveCaptionsChanged.
func (LiveCaptionsChanged) Kind() string { return KindLiveCaptionsChanged }

// LiveCaptions reports whether the room's live captions are on.
func (r *Room) LiveCaptions() bool { return r.liveCaptions }

// setLiveCaptions applies SetLiveCaptions.
func (r *Room) setLiveCaptions(m *member, c SetLiveCaptions) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if r.state != StateLive {
		return ErrNotStarted
	}
	if r.liveCaptions == c.On {
		return nil
	}
	r.liveCaptions = c.On
	r.emit(LiveCaptionsChanged{Header: r.header(members()), On: c.On, By: m.id})
	return nil
}
