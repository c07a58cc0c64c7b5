package room

// Recording a room: whether what its audience hears is being recorded now. A
// room created with Config.Record starts recorded; a moderator turns recording on
// (everyone present is told, by RecordingChanged, before anything is recorded)
// or off (at once) while it is live. The layer above records; the room decides
// who may switch it and tells everyone.

// SetRecording turns the room's recording on or off (moderators).
type SetRecording struct {
	On bool
}

func (SetRecording) command() {}

// RecordingChanged: the moderator By turned the recording on or off. To members.
type RecordingChanged struct {
	Header
	On bool
	By string
}

// KindRecordingChanged is the kind of RecordingChanged.
const KindRecordingChanged = "recording_changed"

// Kind returns KindRecordingChanged.
func (RecordingChanged) Kind() string { return KindRecordingChanged }

// Recording reports whether the room is being recorded now.
func (r *Room) Recording() bool { return r.recording }

// setRecording applies SetRecording.
func (r *Room) setRecording(m *member, c SetRecording) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if r.state != StateLive {
		return ErrNotStarted
	}
	if r.recording == c.On {
		return nil
	}
	r.recording = c.On
	r.emit(RecordingChanged{Header: r.header(members()), On: c.On, By: m.id})
	return nil
}
