package live

import "github.com/townhall/townhall/internal/room"

// Recorder is what a Media that records rooms also is: told when a moderator
// turns a room's recording on (after every member was sent the event) or off.
// A Media that is not a Recorder records nothing mid-room.
type Recorder interface {
	SetRecording(roomID string, on bool)
}

// syncRecording tells the media server of the recording switched by evs.
func (r *liveRoom) syncRecording(evs []room.Event) {
	rec, ok := r.hub.opts.Media.(Recorder)
	if !ok {
		return
	}
	for _, ev := range evs {
		if e, ok := ev.(room.RecordingChanged); ok {
			rec.SetRecording(r.id, e.On)
		}
	}
}
