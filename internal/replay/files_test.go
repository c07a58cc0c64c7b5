package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/ids"
)

// memFiles is Files in memory, with a Store that deletes a room's files with its
// replay (as the database does in one transaction).
type memFiles struct {
	*memStore
	mu    sync.Mutex
	files map[string][]byte
	rooms map[string]string // name → room
}

func newMemFiles() *memFiles {
	return &memFiles{memStore: newMemStore(), files: map[string][]byte{}, rooms: map[string]string{}}
}

func (m *memFiles) PutFile(_ context.Context, roomID, name string, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name], m.rooms[name] = b, roomID
	return int64(len(b)), nil
}

func (m *memFiles) OpenFile(_ context.Context, name string) (io.ReadSeekCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, ErrNotFound
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

func (m *memFiles) DeleteFile(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return ErrNotFound
	}
	delete(m.files, name)
	return nil
}

func (m *memFiles) DeleteReplay(ctx context.Context, roomID string) error {
	if err := m.memStore.DeleteReplay(ctx, roomID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, room := range m.rooms {
		if room == roomID {
			delete(m.files, name)
			delete(m.rooms, name)
		}
	}
	return nil
}

func (m *memFiles) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.files {
		out = append(out, n)
	}
	return out
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// onDisk lists the files under dir.
func onDisk(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func TestWithFilesTheFinishedFilesLeaveTheDisk(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	tmp := t.TempDir()
	pkts := audiotest.Packets(t, audiotest.Speech(t, tmp, "good morning"))
	clk := &clock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	files := newMemFiles()
	dir := filepath.Join(tmp, "recordings")
	svc := New(Options{Dir: dir, Store: files, Files: files, Now: clk.Now, Clip: 5 * time.Second})
	room := ids.New()
	rec, err := svc.Start(t.Context(), room, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	at := play(rec, clk, "ada", 0, clk.Now().Add(500*time.Millisecond), pkts)
	clk.set(at)
	clip, err := svc.Cut(t.Context(), room, "bob")
	if err != nil {
		t.Fatal(err)
	}
	clk.set(at.Add(time.Second))
	r, err := svc.Stop(t.Context(), room)
	if err != nil || r.State != Ready {
		t.Fatalf("Stop: %+v, %v; want a ready replay", r, err)
	}

	t.Run("the replay and the clip are in Files, and nothing of them on the disk", func(t *testing.T) {
		if n := files.names(); len(n) != 2 {
			t.Errorf("Files hold %v, want the replay and the clip", n)
		}
		if left := onDisk(t, dir); len(left) != 0 {
			t.Errorf("the disk keeps %v", left)
		}
	})
	t.Run("the replay opens from Files, whole, as long as it was recorded", func(t *testing.T) {
		f, _, err := svc.Open(t.Context(), room)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil || int64(len(b)) != r.Size {
			t.Fatalf("read %d bytes (%v), the replay says %d", len(b), err, r.Size)
		}
		p := filepath.Join(t.TempDir(), "replay.ogg")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := audiotest.Decoded(t, p); !near(got, r.Duration, 100*time.Millisecond) {
			t.Errorf("decoded %v, want %v", got, r.Duration)
		}
	})
	t.Run("the clip opens from Files", func(t *testing.T) {
		f, _, err := svc.OpenClip(t.Context(), clip.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	})
	t.Run("deleting the replay deletes its files, once", func(t *testing.T) {
		if err := svc.Delete(t.Context(), room); err != nil {
			t.Fatal(err)
		}
		if n := files.names(); len(n) != 0 {
			t.Errorf("Files keep %v", n)
		}
		if err := svc.Delete(t.Context(), room); !errors.Is(err, ErrNotFound) {
			t.Errorf("a second delete: %v, want ErrNotFound", err)
		}
	})
}

func TestWithFilesRecoverPutsTheReplayThere(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	tmp := t.TempDir()
	pkts := audiotest.Packets(t, audiotest.Speech(t, tmp, "hello"))
	clk := &clock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	files := newMemFiles()
	dir := filepath.Join(tmp, "recordings")
	crashed := New(Options{Dir: dir, Store: files, Files: files, Now: clk.Now})
	room := ids.New()
	rec, err := crashed.Start(t.Context(), room, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	end := play(rec, clk, "ada", 0, clk.Now(), pkts)
	clk.set(end)
	if err := rec.Stop(t.Context(), end); err != nil { // the streams reach the disk; the Store still says recording
		t.Fatal(err)
	}
	svc := New(Options{Dir: dir, Store: files, Files: files, Now: clk.Now})
	if err := svc.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Replay(t.Context(), room); err != nil || r.State != Ready || r.Size == 0 {
		t.Fatalf("after Recover: %+v, %v; want a ready replay", r, err)
	}
	if n := files.names(); len(n) != 1 || n[0] != room+"/replay.ogg" {
		t.Errorf("Files hold %v, want the replay", n)
	}
	if _, err := os.Stat(filepath.Join(dir, room)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the room's folder: %v, want it gone", err)
	}
	f, _, err := svc.Open(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
