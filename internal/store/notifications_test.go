package store_test

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/store"
)

// newNotification stores an unread notification for userID, created at at.
func newNotification(t *testing.T, db *store.DB, userID string, at time.Time) live.Notification {
	t.Helper()
	n := live.Notification{ID: ids.New(), UserID: userID, Kind: "ping", Data: []byte(`{"from":"someone"}`), CreatedAt: at}
	if err := db.AddNotification(t.Context(), n); err != nil {
		t.Fatalf("add notification: %v", err)
	}
	return n
}

// notificationIDs returns the IDs of ns, in order.
func notificationIDs(ns []live.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// walkNotifications pages through all of userID's notifications limit at a time,
// each page starting before the last of the previous one, and returns their IDs.
func walkNotifications(t *testing.T, db *store.DB, userID string, limit int) []string {
	t.Helper()
	var (
		out    []string
		before string
	)
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("the notifications do not end")
		}
		ns, err := db.Notifications(t.Context(), userID, before, limit)
		must(t, err)
		if len(ns) > limit {
			t.Fatalf("page of %d notifications, limit %d", len(ns), limit)
		}
		if len(ns) == 0 {
			return out
		}
		out = append(out, notificationIDs(ns)...)
		before = ns[len(ns)-1].ID
	}
}

// readAt returns when each of userID's notifications was read (zero if unread).
func readAt(t *testing.T, db *store.DB, userID string) map[string]time.Time {
	t.Helper()
	ns, err := db.Notifications(t.Context(), userID, "", 1000)
	must(t, err)
	out := make(map[string]time.Time, len(ns))
	for _, n := range ns {
		out[n.ID] = n.ReadAt
	}
	return out
}

// wantRead checks which of userID's notifications were read, and when.
func wantRead(t *testing.T, db *store.DB, userID string, want map[string]time.Time) {
	t.Helper()
	got := readAt(t, db, userID)
	if len(got) != len(want) {
		t.Fatalf("%d notifications, want %d", len(got), len(want))
	}
	for id, at := range want {
		if !got[id].Equal(at) {
			t.Errorf("notification %s read at %v, want %v", id, got[id], at)
		}
	}
}

func notificationCases() []storeCase {
	return []storeCase{
		{"a notification reads back the same, its data byte for byte", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			in := live.Notification{ID: ids.New(), UserID: u.ID, Kind: "invitation",
				Data: []byte(`{ "room" : "r1",  "names": ["Zoë", "\u00e9"], "n": 1.50 }`), CreatedAt: t0.Add(7 * time.Millisecond)}
			must(t, db.AddNotification(t.Context(), in))
			ns, err := db.Notifications(t.Context(), u.ID, "", 10)
			must(t, err)
			if len(ns) != 1 {
				t.Fatalf("%d notifications, want 1", len(ns))
			}
			got := ns[0]
			if got.ID != in.ID || got.UserID != u.ID || got.Kind != in.Kind || !bytes.Equal(got.Data, in.Data) ||
				!got.CreatedAt.Equal(in.CreatedAt) || !got.ReadAt.IsZero() {
				t.Fatalf("read back %+v (data %s), want %+v (data %s)", got, got.Data, in, in.Data)
			}
		}},
		{"a notification without data reads back as an empty object", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			must(t, db.AddNotification(t.Context(), live.Notification{ID: ids.New(), UserID: u.ID, Kind: "ping", CreatedAt: t0}))
			ns, err := db.Notifications(t.Context(), u.ID, "", 10)
			must(t, err)
			if len(ns) != 1 || string(ns[0].Data) != "{}" {
				t.Fatalf("notifications %+v, want one with data {}", ns)
			}
		}},
		{"notification data that is not a JSON object is invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			for _, data := range []string{`[1]`, `"text"`, `null`, `42`, `{"a":`, `{"a":1}x`, "{\"a\":\"\xff\"}", "not json"} {
				err := db.AddNotification(t.Context(), live.Notification{ID: ids.New(), UserID: u.ID, Kind: "ping",
					Data: []byte(data), CreatedAt: t0})
				if !errors.Is(err, account.ErrInvalid) {
					t.Errorf("data %q: error = %v, want invalid", data, err)
				}
			}
			err := db.AddNotification(t.Context(), live.Notification{UserID: u.ID, Kind: "ping", CreatedAt: t0})
			wantErr(t, err, account.ErrInvalid) // no ID
			if ns := readAt(t, db, u.ID); len(ns) != 0 {
				t.Fatalf("%d refused notifications were stored", len(ns))
			}
		}},
		{"a notification for an unknown user is not found", func(t *testing.T, db *store.DB) {
			err := db.AddNotification(t.Context(), live.Notification{ID: ids.New(), UserID: ids.New(), Kind: "ping", CreatedAt: t0})
			wantErr(t, err, account.ErrNotFound)
		}},
		{"notifications are listed newest first, and nobody else's", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			older := newNotification(t, db, u.ID, t0)
			newer := newNotification(t, db, u.ID, t0.Add(time.Second))
			newNotification(t, db, other.ID, t0.Add(time.Minute))
			ns, err := db.Notifications(t.Context(), u.ID, "", 10)
			must(t, err)
			if got, want := notificationIDs(ns), []string{newer.ID, older.ID}; !slices.Equal(got, want) {
				t.Fatalf("notifications %v, want %v", got, want)
			}
			none, err := db.Notifications(t.Context(), ids.New(), "", 10)
			must(t, err)
			if len(none) != 0 {
				t.Fatalf("an unknown user has %d notifications", len(none))
			}
		}},
		{"paging notifications by the last ID walks them all without repeats", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			var want []live.Notification
			for i := range 11 {
				// Three to a millisecond, so that the ID orders notifications of one time.
				want = append(want, newNotification(t, db, u.ID, t0.Add(time.Duration(i/3)*time.Millisecond)))
				newNotification(t, db, other.ID, t0.Add(time.Duration(i/3)*time.Millisecond))
			}
			slices.SortFunc(want, func(a, b live.Notification) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return -cmp.Compare(a.ID, b.ID)
			})
			for _, limit := range []int{1, 2, 3, 4, 11, 50} {
				if got := walkNotifications(t, db, u.ID, limit); !slices.Equal(got, notificationIDs(want)) {
					t.Fatalf("limit %d walked %v, want %v", limit, got, notificationIDs(want))
				}
			}
		}},
		{"paging from an unknown notification, or another user's, is not found", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			newNotification(t, db, u.ID, t0)
			theirs := newNotification(t, db, other.ID, t0.Add(time.Hour))
			for _, before := range []string{ids.New(), theirs.ID} {
				_, err := db.Notifications(t.Context(), u.ID, before, 10)
				wantErr(t, err, account.ErrNotFound)
			}
		}},
		{"notifications with a limit below one are invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			for _, limit := range []int{0, -5} {
				_, err := db.Notifications(t.Context(), u.ID, "", limit)
				wantErr(t, err, account.ErrInvalid)
			}
		}},
		{"marking listed notifications read touches only those, never another user's", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			a, b, c := newNotification(t, db, u.ID, t0), newNotification(t, db, u.ID, t0), newNotification(t, db, u.ID, t0)
			theirs := newNotification(t, db, other.ID, t0)
			at := t0.Add(time.Hour)
			must(t, db.MarkNotificationsRead(t.Context(), u.ID, []string{a.ID, c.ID, theirs.ID, ids.New()}, at))
			wantRead(t, db, u.ID, map[string]time.Time{a.ID: at, b.ID: {}, c.ID: at})
			wantRead(t, db, other.ID, map[string]time.Time{theirs.ID: {}})
		}},
		{"marking without IDs reads all the user's notifications and nobody else's", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			a, b := newNotification(t, db, u.ID, t0), newNotification(t, db, u.ID, t0.Add(time.Minute))
			theirs := newNotification(t, db, other.ID, t0)
			at := t0.Add(time.Hour)
			for _, none := range [][]string{nil, {}} {
				must(t, db.MarkNotificationsRead(t.Context(), u.ID, none, at))
			}
			wantRead(t, db, u.ID, map[string]time.Time{a.ID: at, b.ID: at})
			wantRead(t, db, other.ID, map[string]time.Time{theirs.ID: {}})
		}},
		{"a notification read again keeps its first read time", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			a, b := newNotification(t, db, u.ID, t0), newNotification(t, db, u.ID, t0)
			first, later := t0.Add(time.Hour), t0.Add(2*time.Hour)
			must(t, db.MarkNotificationsRead(t.Context(), u.ID, []string{a.ID}, first))
			must(t, db.MarkNotificationsRead(t.Context(), u.ID, []string{a.ID}, later))
			must(t, db.MarkNotificationsRead(t.Context(), u.ID, nil, later))
			wantRead(t, db, u.ID, map[string]time.Time{a.ID: first, b.ID: later})
		}},
		{"marking more IDs than one statement holds reads every one of them", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			list := make([]string, 1100)
			for i := range list {
				list[i] = ids.New()
			}
			want := map[string]time.Time{}
			at := t0.Add(time.Hour)
			for _, i := range []int{0, 499, 500, 999, 1000, 1099} { // across the chunks
				n := newNotification(t, db, u.ID, t0)
				list[i] = n.ID
				want[n.ID] = at
			}
			want[newNotification(t, db, u.ID, t0).ID] = time.Time{} // not listed
			must(t, db.MarkNotificationsRead(t.Context(), u.ID, list, at))
			wantRead(t, db, u.ID, want)
		}},
		{"marking read at the zero time is invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			n := newNotification(t, db, u.ID, t0)
			wantErr(t, db.MarkNotificationsRead(t.Context(), u.ID, nil, time.Time{}), account.ErrInvalid)
			wantRead(t, db, u.ID, map[string]time.Time{n.ID: {}})
		}},
	}
}
