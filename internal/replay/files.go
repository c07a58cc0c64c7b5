package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// The names of a replay's finished files, relative to Options.Dir and in Files.
func replayName(roomID string) string   { return path.Join(roomID, "replay.ogg") }
func captionsName(roomID string) string { return path.Join(roomID, "captions.vtt") }
func clipName(id string) string         { return path.Join("clips", id+".ogg") }

// local is where the file name is (or is made) on this node's disk.
func (s *Service) local(name string) string {
	return filepath.Join(s.opts.Dir, filepath.FromSlash(name))
}

// keep files the finished file name of roomID, made on this node's disk: with
// Files, it goes there and leaves the disk; without, it stays where it is.
func (s *Service) keep(ctx context.Context, roomID, name string) error {
	if s.opts.Files == nil {
		return nil
	}
	f, err := os.Open(s.local(name))
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	if _, err := s.opts.Files.PutFile(ctx, roomID, name, f); err != nil {
		return err
	}
	return os.Remove(s.local(name))
}

// open opens the finished file name, from Files or the disk: ErrNotFound if it
// is in neither.
func (s *Service) open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	if s.opts.Files != nil {
		f, err := s.opts.Files.OpenFile(ctx, name)
		return f, notFound(err)
	}
	f, err := os.Open(s.local(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// drop removes the finished file name, from Files or the disk; one already
// gone is no error.
func (s *Service) drop(ctx context.Context, name string) error {
	if s.opts.Files != nil {
		if err := notFound(s.opts.Files.DeleteFile(ctx, name)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}
	if err := os.Remove(s.local(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
