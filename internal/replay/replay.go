// Package replay keeps the recordings of rooms and the clips cut from them: it
// starts a recorder.Recorder for a room, writes its slot streams to the data
// folder as they come, and when the room ends mixes them (ffmpeg, as a
// subprocess: libopus does the encoding, nothing here touches audio samples) into
// one Ogg Opus file whose chapters are the speakers' turns.
//
// It knows nothing of rooms' rules, HTTP or SQL: who may record, listen or clip
// is decided by the caller; where the metadata lives is a Store.
//
// On disk, under Options.Dir:
//
//	<room>/slot<N>.ogg   the slot streams, appended to while the room records
//	<room>/replay.ogg    the mixed replay, once the room ended
//	clips/<clip>.ogg     the clips
//
// With Options.Files (a cluster's database), the finished files (replay.ogg,
// captions.vtt, the clips) go there, under the same names, once made, and
// leave the disk: every node serves them. Only the slot streams of a room being
// recorded stay on its owner's disk.
package replay

import (
	"context"
	"io"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// State is where a recording is in its life.
type State string

// The states of a recording.
const (
	Recording State = "recording" // the room is live and being recorded
	Ready     State = "ready"     // the replay is mixed and can be played
	Failed    State = "failed"    // the replay could not be made
)

// Replay is a room's recording as the Store keeps it.
type Replay struct {
	RoomID    string
	State     State
	StartedAt time.Time
	EndedAt   time.Time // zero while recording
	Duration  time.Duration
	Size      int64 // bytes of replay.ogg, once Ready
	Turns     []Turn
	Captions  bool // captions.vtt was made
}

// Turn is one stretch of the replay in which a speaker was heard, as offsets from
// its start: its timeline and its chapters.
type Turn struct {
	UserID string        `json:"user_id"`
	Start  time.Duration `json:"start"`
	End    time.Duration `json:"end"`
}

// Clip is a short excerpt of a recording, kept on its own.
type Clip struct {
	ID        string
	RoomID    string
	UserID    string // who cut it
	CreatedAt time.Time
	Duration  time.Duration
	Size      int64
}

// Store keeps the replays' and clips' metadata. Missing rows give an error whose
// code (errcode.Of) is errcode.NotFound.
type Store interface {
	// SaveReplay creates or replaces the replay of r.RoomID.
	SaveReplay(ctx context.Context, r Replay) error
	Replay(ctx context.Context, roomID string) (Replay, error)
	// DeleteReplay removes the replay of roomID and, at once, the Files of its
	// room (if the Store keeps them): of several deleting one replay, one wins;
	// the others get a not-found error.
	DeleteReplay(ctx context.Context, roomID string) error
	// RecordingReplays lists the rooms whose replay is still Recording: after a
	// crash, they were cut short.
	RecordingReplays(ctx context.Context) ([]string, error)
	// ReplaysBefore lists the rooms whose replay, made or failed, was started
	// before t, at most limit, oldest first.
	ReplaysBefore(ctx context.Context, t time.Time, limit int) ([]string, error)
	AddClip(ctx context.Context, c Clip) error
	Clip(ctx context.Context, id string) (Clip, error)
	// DeleteClipsOf removes the clips of a room and returns their IDs.
	DeleteClipsOf(ctx context.Context, roomID string) ([]string, error)
}

// Files keeps the finished files of replays and clips where every node of a
// cluster can serve them. Names are slash-separated, as under Options.Dir
// ("<room>/replay.ogg", "clips/<clip>.ogg"); each file belongs to a room, and
// Store.DeleteReplay deletes the room's. Missing files give an error whose code
// (errcode.Of) is errcode.NotFound.
type Files interface {
	// PutFile stores what r reads as name, of roomID's replay, whole or not at
	// all, and returns its size.
	PutFile(ctx context.Context, roomID, name string, r io.Reader) (int64, error)
	// OpenFile opens name to be read and sought within ctx.
	OpenFile(ctx context.Context, name string) (io.ReadSeekCloser, error)
	DeleteFile(ctx context.Context, name string) error
}

// Errors of the package.
var (
	ErrNotFound     = errcode.New(errcode.NotFound, "no such replay or clip")
	ErrNotReady     = errcode.New(errcode.Conflict, "the replay is not ready yet")
	ErrNotRecording = errcode.New(errcode.Conflict, "the room is not being recorded")
	ErrRecording    = errcode.New(errcode.Conflict, "the room is already being recorded")
	ErrRecorded     = errcode.New(errcode.Conflict, "the room's recording is over")
	ErrNothingHeard = errcode.New(errcode.Conflict, "nothing was heard in the last moments")
)

// notFound maps a Store's not-found error to ErrNotFound.
func notFound(err error) error {
	if err != nil && errcode.Of(err) == errcode.NotFound {
		return ErrNotFound
	}
	return err
}
