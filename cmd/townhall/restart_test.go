package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// stop ends a server process with sig and waits for it.
func stop(t *testing.T, cmd interface {
	Signal(os.Signal) error
	Wait() (*os.ProcessState, error)
}, sig os.Signal) {
	t.Helper()
	if err := cmd.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _, _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit within 30s of %v", sig)
	}
}

// TestWaitingRoomsSurviveRestarts checks that a room created but not yet opened
// is still there after the server restarts, whether it was stopped cleanly or
// killed, and opens when its creator joins; and that an opened room does not come
// back (its live state is gone with the process).
func TestWaitingRoomsSurviveRestarts(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run("after "+strings.ToLower(sig.String()), func(t *testing.T) {
			data := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd, url, _ := startServer(t, "--data", data, "--open-signup")
			host, _, err := client.New(url).SignUp(ctx, "host", "correct horse battery", "")
			if err != nil {
				t.Fatal(err)
			}
			waiting, err := host.CreateRoom(ctx, client.RoomSpec{Title: "Tonight at nine", Type: "open", AllowGuests: true})
			if err != nil {
				t.Fatal(err)
			}
			opened, err := host.CreateRoom(ctx, client.RoomSpec{Title: "Now", Type: "open"})
			if err != nil {
				t.Fatal(err)
			}
			s, err := host.JoinRoom(ctx, opened.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := next(ctx, s); err != nil { // the welcome: the room is open
				t.Fatal(err)
			}
			stop(t, cmd.Process, sig)
			s.Close()

			_, url, _ = startServer(t, "--data", data, "--open-signup")
			host = client.New(url).WithToken(host.Token())
			if _, err := host.Room(ctx, opened.ID); client.Code(err) != "not_found" {
				t.Fatalf("the opened room after the restart: %v, want not_found", err)
			}
			s, err = host.JoinRoom(ctx, waiting.ID)
			if err != nil {
				t.Fatalf("the creator opening the waiting room after the restart: %v", err)
			}
			defer s.Close()
			m, err := next(ctx, s)
			if err != nil || m.Type != "welcome" {
				t.Fatalf("the creator's first message in the waiting room: %v %v", m.Type, err)
			}
			r, err := host.Room(ctx, waiting.ID)
			if err != nil || r.State != "live" || r.Title != "Tonight at nine" || !r.AllowGuests {
				t.Fatalf("the room after opening: %+v, %v", r, err)
			}
		})
	}
}

// next returns the next message of s.
func next(ctx context.Context, s *client.Socket) (client.Message, error) {
	select {
	case m, ok := <-s.Messages():
		if !ok {
			return client.Message{}, s.Err()
		}
		return m, nil
	case <-ctx.Done():
		return client.Message{}, ctx.Err()
	}
}
