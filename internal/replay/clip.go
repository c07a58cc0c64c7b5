package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/recorder"
)

// Cut keeps the last moments (Options.Clip) of roomID's recording as a clip cut
// by userID, mixed into one Ogg Opus file. ErrNotRecording if the room is not
// being recorded, ErrNothingHeard if nobody was heard in those moments.
func (s *Service) Cut(ctx context.Context, roomID, userID string) (Clip, error) {
	s.mu.Lock()
	sess, ok := s.live[roomID]
	s.mu.Unlock()
	if !ok || sess.rec == nil {
		return Clip{}, ErrNotRecording
	}
	c, err := sess.rec.Clip(ctx, s.opts.Clip)
	switch {
	case errors.Is(err, recorder.ErrNothingToClip):
		return Clip{}, ErrNothingHeard
	case errors.Is(err, recorder.ErrStopped):
		return Clip{}, ErrNotRecording
	case err != nil:
		return Clip{}, err
	}
	clip := Clip{ID: ids.New(), RoomID: roomID, UserID: userID, CreatedAt: c.End, Duration: c.End.Sub(c.Start)}
	dir := filepath.Join(s.opts.Dir, "clips")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Clip{}, fmt.Errorf("replay: %w", err)
	}
	var ins []string
	for i, data := range c.Slots {
		p := filepath.Join(dir, fmt.Sprintf("%s.slot%d.ogg", clip.ID, i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return Clip{}, fmt.Errorf("replay: %w", err)
		}
		defer os.Remove(p)
		ins = append(ins, p)
	}
	ctx, cancel := context.WithTimeout(ctx, mixTimeout)
	defer cancel()
	name := clipName(clip.ID)
	out := s.local(name)
	if err := mix(ctx, s.opts.FFmpeg, ins, nil, out); err != nil {
		return Clip{}, err
	}
	if fi, err := os.Stat(out); err == nil {
		clip.Size = fi.Size()
	}
	if err := s.keep(ctx, roomID, name); err != nil {
		os.Remove(out)
		return Clip{}, err
	}
	if err := s.opts.Store.AddClip(ctx, clip); err != nil {
		return Clip{}, errors.Join(err, s.drop(context.WithoutCancel(ctx), name))
	}
	return clip, nil
}

// Clip returns the clip id.
func (s *Service) Clip(ctx context.Context, id string) (Clip, error) {
	c, err := s.opts.Store.Clip(ctx, id)
	return c, notFound(err)
}

// OpenClip opens the clip id's file, for http.ServeContent (read it within
// ctx).
func (s *Service) OpenClip(ctx context.Context, id string) (io.ReadSeekCloser, Clip, error) {
	if !ids.Valid(id) {
		return nil, Clip{}, ErrNotFound
	}
	c, err := s.Clip(ctx, id)
	if err != nil {
		return nil, Clip{}, err
	}
	f, err := s.open(ctx, clipName(id))
	return f, c, err
}
