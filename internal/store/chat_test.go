package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/store"
)

// chatIDs returns the IDs of msgs, in order.
func chatIDs(msgs []live.ChatMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// addChat stores n messages in roomID by userID, one a second from t0, with IDs
// m0, m1, ...; it returns the IDs.
func addChat(t *testing.T, db *store.DB, roomID, userID string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		id := roomID + "-m" + string(rune('a'+i))
		must(t, db.AddChat(t.Context(), live.ChatMessage{ID: id, RoomID: roomID, UserID: userID, Name: "Ann",
			Text: "hello " + id, At: t0.Add(time.Duration(i) * time.Second)}))
		out = append(out, id)
	}
	return out
}

func chatCases() []storeCase {
	return []storeCase{
		{"a chat message reads back the same, newest first", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			in := live.ChatMessage{ID: "m1", RoomID: r.ID, UserID: u.ID, Name: "Ann ✨", Text: "hi — ünïcode 👋",
				At: t0.Add(1234 * time.Millisecond)}
			must(t, db.AddChat(t.Context(), in))
			got, err := db.ChatPage(t.Context(), r.ID, "", 10)
			must(t, err)
			if len(got) != 1 || got[0] != in {
				t.Fatalf("ChatPage = %+v, want [%+v]", got, in)
			}
		}},
		{"a chat pages back in time from a message, without repeats or gaps", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			ids := addChat(t, db, r.ID, u.ID, 5)
			// Two messages in the same millisecond are still ordered, by ID.
			must(t, db.AddChat(t.Context(), live.ChatMessage{ID: r.ID + "-mz", RoomID: r.ID, UserID: u.ID,
				Name: "Ann", Text: "same ms", At: t0.Add(4 * time.Second)}))
			ids = append(ids, r.ID+"-mz")
			var seen []string
			before := ""
			for {
				page, err := db.ChatPage(t.Context(), r.ID, before, 2)
				must(t, err)
				if len(page) == 0 {
					break
				}
				seen = append(seen, chatIDs(page)...)
				before = page[len(page)-1].ID
			}
			want := slices.Clone(ids)
			slices.Reverse(want)
			if !slices.Equal(seen, want) {
				t.Fatalf("pages = %v, want %v", seen, want)
			}
		}},
		{"a deleted chat message is gone from the pages, and deleting it again is not found", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			ids := addChat(t, db, r.ID, u.ID, 3)
			must(t, db.DeleteChat(t.Context(), r.ID, ids[1], t0.Add(time.Minute)))
			got, err := db.ChatPage(t.Context(), r.ID, "", 10)
			must(t, err)
			if want := []string{ids[2], ids[0]}; !slices.Equal(chatIDs(got), want) {
				t.Fatalf("after delete = %v, want %v", chatIDs(got), want)
			}
			if err := db.DeleteChat(t.Context(), r.ID, ids[1], t0); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("second delete = %v, want ErrNotFound", err)
			}
		}},
		{"a chat message cannot be deleted through another room", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			a, b := newRoom(t, db, u.ID, t0), newRoom(t, db, u.ID, t0)
			ids := addChat(t, db, a.ID, u.ID, 1)
			if err := db.DeleteChat(t.Context(), b.ID, ids[0], t0); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("delete through the other room = %v, want ErrNotFound", err)
			}
			got, err := db.ChatPage(t.Context(), a.ID, "", 10)
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("the message is gone: %v", got)
			}
		}},
		{"dropping a room's chat leaves other rooms' chats", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			a, b := newRoom(t, db, u.ID, t0), newRoom(t, db, u.ID, t0)
			addChat(t, db, a.ID, u.ID, 2)
			kept := addChat(t, db, b.ID, u.ID, 1)
			must(t, db.DropChat(t.Context(), a.ID))
			got, err := db.ChatPage(t.Context(), a.ID, "", 10)
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("dropped room still has %v", chatIDs(got))
			}
			got, err = db.ChatPage(t.Context(), b.ID, "", 10)
			must(t, err)
			if !slices.Equal(chatIDs(got), kept) {
				t.Fatalf("other room = %v, want %v", chatIDs(got), kept)
			}
		}},
		{"a chat message in an unknown room is not found, and one without an ID is refused", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			err := db.AddChat(t.Context(), live.ChatMessage{ID: "x", RoomID: "nope", UserID: u.ID, Text: "hi", At: t0})
			if !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("unknown room = %v, want ErrNotFound", err)
			}
			r := newRoom(t, db, u.ID, t0)
			err = db.AddChat(t.Context(), live.ChatMessage{RoomID: r.ID, UserID: u.ID, Text: "hi", At: t0})
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("no ID = %v, want ErrInvalid", err)
			}
			if _, err := db.ChatPage(t.Context(), r.ID, "", 0); !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("limit 0 = %v, want ErrInvalid", err)
			}
		}},
	}
}
