package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/recorder"
)

// Options configure a Service.
type Options struct {
	Dir     string // where recordings go: <data>/recordings
	Store   Store
	FFmpeg  string        // the ffmpeg program ("ffmpeg" by default)
	Clip    time.Duration // how much a clip keeps (30 s by default, at most a minute)
	Log     *slog.Logger
	Metrics *recorder.Metrics
	Now     func() time.Time
	// Captions transcribes the replays of rooms recorded with captions (nil:
	// none), and SpeakerName names their speakers (their ID when nil).
	Captions    caption.Engine
	SpeakerName func(ctx context.Context, userID string) string
	// Files keeps the finished files where every node of a cluster serves them
	// (nil: they stay in Dir).
	Files Files
}

// MaxClip is the longest clip.
const MaxClip = time.Minute

// Service records rooms and serves their replays and clips.
type Service struct {
	opts Options

	mu   sync.Mutex // guards live; never held while waiting on a recorder or ffmpeg
	live map[string]*session
}

// session is one room being recorded.
type session struct {
	rec      *recorder.Recorder
	sink     *diskSink
	started  time.Time
	stopping bool // Stop is making the replay
	captions bool // caption the replay
	// liveWords are the live captions heard while it recorded
	// (AddLiveCaption), the replay's captions when it has no others.
	liveWords []liveWord
}

// New returns a Service over opts.
func New(opts Options) *Service {
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	if opts.Clip <= 0 {
		opts.Clip = 30 * time.Second
	}
	opts.Clip = min(opts.Clip, MaxClip)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, live: map[string]*session{}}
}

// roomDir is the folder of roomID's recording; roomID must be valid (ids.Valid),
// which keeps it inside Dir.
func (s *Service) roomDir(roomID string) string { return filepath.Join(s.opts.Dir, roomID) }

// Start begins recording roomID's slots streams and returns the recorder, for the
// room's forwarder (sfu.Forwarder.SetTap); with captions, its replay will be
// captioned (if the Service has an engine). ErrRecording if it is already,
// ErrRecorded if its recording is over (its replay is made or failed).
func (s *Service) Start(ctx context.Context, roomID string, slots int, captions bool) (*recorder.Recorder, error) {
	if !ids.Valid(roomID) {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	if sess, ok := s.live[roomID]; ok {
		s.mu.Unlock()
		if sess.stopping {
			return nil, ErrRecorded
		}
		return nil, ErrRecording
	}
	sess := &session{captions: captions} // holds the place while the recording starts
	s.live[roomID] = sess
	s.mu.Unlock()
	rec, err := s.start(ctx, roomID, slots, sess)
	if err != nil {
		s.mu.Lock()
		delete(s.live, roomID)
		s.mu.Unlock()
		return nil, err
	}
	return rec, nil
}

func (s *Service) start(ctx context.Context, roomID string, slots int, sess *session) (*recorder.Recorder, error) {
	switch old, err := s.opts.Store.Replay(ctx, roomID); {
	case err == nil && old.State != Recording:
		return nil, ErrRecorded // never over a replay made
	case err != nil && notFound(err) != ErrNotFound:
		return nil, err
	}
	dir := s.roomDir(roomID)
	if err := os.RemoveAll(dir); err != nil { // what a failed earlier recording left
		return nil, fmt.Errorf("replay: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	now := s.opts.Now()
	if err := s.opts.Store.SaveReplay(ctx, Replay{RoomID: roomID, State: Recording, StartedAt: now}); err != nil {
		return nil, err
	}
	sink := &diskSink{dir: dir}
	rec, err := recorder.New(recorder.Options{Slots: slots, Start: now, Sink: sink, Log: s.opts.Log,
		Metrics: s.opts.Metrics, ClipWindow: s.opts.Clip, Now: s.opts.Now})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sess.rec, sess.sink, sess.started = rec, sink, now
	s.mu.Unlock()
	return rec, nil
}

// Recording reports whether roomID is being recorded.
func (s *Service) Recording(roomID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.live[roomID]
	return ok && sess.rec != nil && !sess.stopping
}

// Stop ends roomID's recording (take the recorder off the forwarder first) and
// makes its replay: mixed, with its timeline, Ready; or Failed if that cannot be
// done. ErrNotRecording if the room is not being recorded.
func (s *Service) Stop(ctx context.Context, roomID string) (Replay, error) {
	s.mu.Lock()
	sess, ok := s.live[roomID]
	if !ok || sess.rec == nil || sess.stopping {
		s.mu.Unlock()
		return Replay{}, ErrNotRecording
	}
	sess.stopping = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.live, roomID)
		s.mu.Unlock()
	}()
	end := s.opts.Now()
	r := Replay{RoomID: roomID, State: Failed, StartedAt: sess.started, EndedAt: end, Duration: end.Sub(sess.started)}
	err := sess.rec.Stop(ctx, end)
	r.Turns = offsets(sess.sink.turns, sess.started)
	if err == nil {
		err = s.mixRoom(ctx, roomID, r.Turns)
	}
	if err == nil {
		if fi, serr := os.Stat(s.local(replayName(roomID))); serr == nil {
			r.Size = fi.Size()
		}
		if sess.captions && s.opts.Captions != nil {
			if cerr := s.caption(ctx, roomID, r.Turns); cerr != nil {
				s.opts.Log.Error("captioning a replay", "room", roomID, "err", cerr) // the replay stands without
			} else if cerr := s.keep(ctx, roomID, captionsName(roomID)); cerr != nil {
				s.opts.Log.Error("keeping a replay's captions", "room", roomID, "err", cerr)
			} else {
				r.Captions = true
			}
		}
		if !r.Captions {
			s.mu.Lock()
			live := sess.liveWords
			s.mu.Unlock()
			if len(live) > 0 {
				if cerr := s.writeLiveCaptions(ctx, roomID, live); cerr != nil {
					s.opts.Log.Error("writing a replay's live captions", "room", roomID, "err", cerr)
				} else if cerr := s.keep(ctx, roomID, captionsName(roomID)); cerr != nil {
					s.opts.Log.Error("keeping a replay's live captions", "room", roomID, "err", cerr)
				} else {
					r.Captions = true
				}
			}
		}
		err = s.keep(ctx, roomID, replayName(roomID))
		if err == nil && s.opts.Files != nil {
			os.RemoveAll(s.roomDir(roomID)) // all it held is in Files
		}
	}
	if err == nil {
		r.State = Ready
	} else {
		s.opts.Log.Error("making a replay", "room", roomID, "err", err)
	}
	if serr := s.opts.Store.SaveReplay(context.WithoutCancel(ctx), r); serr != nil {
		return r, errors.Join(err, serr)
	}
	return r, err
}

// mixRoom mixes the slot streams of roomID into replay.ogg and removes them.
func (s *Service) mixRoom(ctx context.Context, roomID string, turns []Turn) error {
	dir := s.roomDir(roomID)
	ins, err := slotPaths(dir)
	if err != nil {
		return err
	}
	if len(ins) == 0 {
		return fmt.Errorf("replay: room %s: no slot streams", roomID)
	}
	ctx, cancel := context.WithTimeout(ctx, mixTimeout)
	defer cancel()
	if err := mix(ctx, s.opts.FFmpeg, ins, turns, filepath.Join(dir, "replay.ogg")); err != nil {
		return err
	}
	for _, p := range ins {
		os.Remove(p)
	}
	return nil
}

// Recover makes the replays of the rooms whose recording a stopped process cut
// short, from what reached the disk (without a timeline), or marks them Failed.
func (s *Service) Recover(ctx context.Context) error {
	rooms, err := s.opts.Store.RecordingReplays(ctx)
	if err != nil {
		return err
	}
	for _, id := range rooms {
		if s.Recording(id) {
			continue
		}
		r, err := s.opts.Store.Replay(ctx, id)
		if err != nil {
			continue
		}
		r.State, r.EndedAt = Failed, s.opts.Now()
		if ids.Valid(id) && s.mixRoom(ctx, id, nil) == nil {
			if fi, err := os.Stat(s.local(replayName(id))); err == nil {
				r.Size = fi.Size()
			}
			if err := s.keep(ctx, id, replayName(id)); err == nil {
				r.State = Ready
				if s.opts.Files != nil {
					os.RemoveAll(s.roomDir(id)) // all it held is in Files
				}
			} else {
				s.opts.Log.Error("keeping a recovered replay", "room", id, "err", err)
			}
		}
		if err := s.opts.Store.SaveReplay(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Expire deletes the replays started before before (the retention), and returns
// how many it deleted: one another process deleted meanwhile is not counted.
func (s *Service) Expire(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for {
		rooms, err := s.opts.Store.ReplaysBefore(ctx, before, 100)
		if err != nil || len(rooms) == 0 {
			return n, err
		}
		for _, id := range rooms {
			switch err := s.Delete(ctx, id); {
			case err == nil:
				n++
			case !errors.Is(err, ErrNotFound):
				return n, err
			}
		}
		if len(rooms) < 100 {
			return n, nil
		}
	}
}

// Replay returns roomID's replay.
func (s *Service) Replay(ctx context.Context, roomID string) (Replay, error) {
	r, err := s.opts.Store.Replay(ctx, roomID)
	return r, notFound(err)
}

// Open opens roomID's replay file, for http.ServeContent (read it within ctx).
// ErrNotReady while it is recorded or if it failed.
func (s *Service) Open(ctx context.Context, roomID string) (io.ReadSeekCloser, Replay, error) {
	r, err := s.Replay(ctx, roomID)
	if err != nil {
		return nil, Replay{}, err
	}
	if r.State != Ready || !ids.Valid(roomID) {
		return nil, r, ErrNotReady
	}
	f, err := s.open(ctx, replayName(roomID))
	return f, r, err
}

// Delete removes roomID's replay and its clips, from the Store (with Files, the
// Store removes their files in the same transaction) and the disk.
// ErrNotReady while the room is recorded. Of several deleting one replay, the
// Store lets one win; the others get ErrNotFound.
func (s *Service) Delete(ctx context.Context, roomID string) error {
	if !ids.Valid(roomID) {
		return ErrNotFound
	}
	r, err := s.Replay(ctx, roomID)
	if err != nil {
		return err
	}
	if r.State == Recording {
		return ErrNotReady
	}
	if err := notFound(s.opts.Store.DeleteReplay(ctx, roomID)); err != nil {
		return err
	}
	clips, err := s.opts.Store.DeleteClipsOf(ctx, roomID)
	if err != nil {
		return err
	}
	for _, id := range clips {
		if err := os.Remove(s.local(clipName(id))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replay: %w", err)
		}
	}
	if err := os.RemoveAll(s.roomDir(roomID)); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// offsets turns the recorder's turns into offsets from start.
func offsets(turns []recorder.Turn, start time.Time) []Turn {
	out := make([]Turn, 0, len(turns))
	for _, t := range turns {
		out = append(out, Turn{UserID: t.Speaker, Start: max(0, t.Start.Sub(start)), End: max(0, t.End.Sub(start))})
	}
	return out
}

// diskSink appends a recording's slot streams to their files and keeps its turns.
// Its calls come from the recorder's writer, one at a time; turns is read after
// the recorder stopped.
type diskSink struct {
	dir   string
	turns []recorder.Turn
}

func (d *diskSink) Append(_ context.Context, slot int, data []byte) error {
	f, err := os.OpenFile(filepath.Join(d.dir, fmt.Sprintf("slot%d.ogg", slot)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("replay: %w", err)
	}
	return f.Close()
}

func (d *diskSink) Progress(_ context.Context, turns []recorder.Turn, _ time.Time) error {
	d.turns = append(d.turns, turns...)
	return nil
}
