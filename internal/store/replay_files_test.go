package store_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/store"
)

// fileBytes is n bytes that differ from chunk to chunk (a shifted chunk would
// show).
func fileBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func replayFileCases() []storeCase {
	return []storeCase{
		{"a stored file reads back whole, and from any offset by seeking", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			for _, tc := range []struct {
				name string
				size int
			}{
				{"an empty file", 0},
				{"a file smaller than a chunk", 1000},
				{"a file of exactly one chunk", store.ChunkSize},
				{"a file over several chunks", 2*store.ChunkSize + 12345},
			} {
				t.Run(tc.name, func(t *testing.T) {
					want := fileBytes(tc.size)
					n, err := db.PutFile(t.Context(), r.ID, r.ID+"/replay.ogg", bytes.NewReader(want))
					must(t, err)
					if n != int64(tc.size) {
						t.Fatalf("PutFile = %d bytes, want %d", n, tc.size)
					}
					f, err := db.OpenFile(t.Context(), r.ID+"/replay.ogg")
					must(t, err)
					t.Cleanup(func() { f.Close() })
					got, err := io.ReadAll(f)
					must(t, err)
					if !bytes.Equal(got, want) {
						t.Fatalf("read back %d bytes, not the %d stored", len(got), len(want))
					}
					end, err := f.Seek(0, io.SeekEnd)
					must(t, err)
					if end != int64(tc.size) {
						t.Errorf("Seek(0, end) = %d, want %d", end, tc.size)
					}
					for _, off := range []int{0, tc.size / 3, tc.size - tc.size/5, store.ChunkSize - 7} {
						if off < 0 || off > tc.size {
							continue
						}
						_, err := f.Seek(int64(off), io.SeekStart)
						must(t, err)
						part := make([]byte, min(tc.size-off, 100000))
						_, err = io.ReadFull(f, part)
						must(t, err)
						if !bytes.Equal(part, want[off:off+len(part)]) {
							t.Errorf("%d bytes from %d differ from those stored", len(part), off)
						}
					}
				})
			}
		}},
		{"a stored file is replaced whole when put again, and deleted once", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			_, err := db.PutFile(t.Context(), r.ID, "clips/x.ogg", bytes.NewReader(fileBytes(3*store.ChunkSize)))
			must(t, err)
			_, err = db.PutFile(t.Context(), r.ID, "clips/x.ogg", bytes.NewReader([]byte("short")))
			must(t, err)
			f, err := db.OpenFile(t.Context(), "clips/x.ogg")
			must(t, err)
			got, err := io.ReadAll(f)
			must(t, err)
			if string(got) != "short" {
				t.Errorf("read back %q, want the second file", got)
			}
			files, chunks, err := db.FileCount(t.Context(), r.ID)
			must(t, err)
			if files != 1 || chunks != 1 {
				t.Errorf("%d files in %d chunks, want the second file's 1 in 1", files, chunks)
			}
			must(t, db.DeleteFile(t.Context(), "clips/x.ogg"))
			wantErr(t, db.DeleteFile(t.Context(), "clips/x.ogg"), account.ErrNotFound)
			_, err = db.OpenFile(t.Context(), "clips/x.ogg")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"of two deleting one replay at once, one deletes it and its files, the other finds nothing", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			must(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: r.ID, State: replay.Ready, StartedAt: t0}))
			_, err := db.PutFile(t.Context(), r.ID, r.ID+"/replay.ogg", bytes.NewReader(fileBytes(2*store.ChunkSize)))
			must(t, err)
			errs := make(chan error, 2)
			for range 2 {
				go func() { errs <- db.DeleteReplay(t.Context(), r.ID) }()
			}
			won := 0
			for range 2 {
				switch err := <-errs; {
				case err == nil:
					won++
				case !errors.Is(err, account.ErrNotFound):
					t.Errorf("a delete failed: %v", err)
				}
			}
			if won != 1 {
				t.Errorf("%d deletes won, want 1", won)
			}
			if files, chunks, err := db.FileCount(t.Context(), r.ID); err != nil || files != 0 || chunks != 0 {
				t.Errorf("%d files in %d chunks left (%v), want none", files, chunks, err)
			}
		}},
		{"a file of an unknown room is refused", func(t *testing.T, db *store.DB) {
			_, err := db.PutFile(t.Context(), "nope", "nope/replay.ogg", bytes.NewReader([]byte("x")))
			wantErr(t, err, account.ErrNotFound)
		}},
		{"deleting a replay deletes its room's files with it, exactly once", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r, other := newRoom(t, db, u.ID, t0), newRoom(t, db, u.ID, t0.Add(time.Minute))
			for _, id := range []string{r.ID, other.ID} {
				must(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: id, State: replay.Ready, StartedAt: t0}))
				for _, name := range []string{id + "/replay.ogg", id + "/captions.vtt"} {
					_, err := db.PutFile(t.Context(), id, name, bytes.NewReader(fileBytes(store.ChunkSize+1)))
					must(t, err)
				}
			}
			must(t, db.DeleteReplay(t.Context(), r.ID))
			wantErr(t, db.DeleteReplay(t.Context(), r.ID), account.ErrNotFound)
			if files, chunks, err := db.FileCount(t.Context(), r.ID); err != nil || files != 0 || chunks != 0 {
				t.Errorf("the deleted replay's room keeps %d files in %d chunks (%v), want none", files, chunks, err)
			}
			if files, chunks, err := db.FileCount(t.Context(), other.ID); err != nil || files != 2 || chunks != 4 {
				t.Errorf("another room keeps %d files in %d chunks (%v), want its 2 in 4", files, chunks, err)
			}
		}},
	}
}
