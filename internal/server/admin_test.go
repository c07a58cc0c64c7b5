package server_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// raw sends a request with u's token (none for nil) and returns the status, the
// headers and the body.
func raw(t *testing.T, ts *testServer, u *user, method, path string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token())
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// errCode is the stable code of an error body.
func errCode(b []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

// code is the code of a client error ("" for nil).
func code(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngDeclaring is a PNG whose header says w×h and that holds no pixels.
func pngDeclaring(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// TestProfilePhotos: uploads are refused for their type, size and dimensions;
// a good one is served at an immutable URL and shows on the stage and the
// hallway card of a room.
func TestProfilePhotos(t *testing.T) {
	ts := startServer(t, "sqlite", quickHallway())
	ada := ts.user("ada")
	refusals := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"a text file is refused", []byte("just some text, not a picture"), 422, "invalid_field"},
		{"an SVG is refused", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 422, "invalid_field"},
		{"a HEIC file is refused with a word on HEIC", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), 422, "invalid_field"},
		{"a body over 10 MiB is too large", bytes.Repeat([]byte{0xFF}, 10<<20+1), 413, "too_large"},
		{"a PNG declaring 50,000 × 50,000 pixels is refused before decoding", pngDeclaring(50_000, 50_000), 422, "invalid_field"},
		{"a tiny picture is refused", testJPEG(t, 20, 20), 422, "invalid_field"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := raw(t, ts, ada, "PUT", "/api/v1/me/photo", tc.body)
			if status != tc.status || errCode(b) != tc.code {
				t.Fatalf("%d %s, want %d %s", status, b, tc.status, tc.code)
			}
		})
	}

	t.Run("a JPEG becomes the photo, served for a year at its hash", func(t *testing.T) {
		status, _, b := raw(t, ts, ada, "PUT", "/api/v1/me/photo", testJPEG(t, 640, 480))
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		var me struct{ Photo string }
		_ = json.Unmarshal(b, &me)
		if len(me.Photo) != 32 {
			t.Fatalf("photo %q", me.Photo)
		}
		for _, size := range []string{"96", "256", "512"} {
			status, h, img := raw(t, ts, nil, "GET", "/api/v1/photos/"+me.Photo+"/"+size, nil)
			if status != 200 || h.Get("Content-Type") != "image/jpeg" ||
				h.Get("Cache-Control") != "public, max-age=31536000, immutable" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("size %s: %d %v", size, status, h)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
			if err != nil || fmt.Sprint(cfg.Width) != size || cfg.Height != cfg.Width {
				t.Fatalf("size %s: %v %dx%d", size, err, cfg.Width, cfg.Height)
			}
		}
		for _, path := range []string{"/api/v1/photos/" + me.Photo + "/100", "/api/v1/photos/" + strings.Repeat("0", 32) + "/96",
			"/api/v1/photos/../96", "/api/v1/photos/" + me.Photo + "/x"} {
			if status, _, _ := raw(t, ts, nil, "GET", path, nil); status != 404 {
				t.Errorf("GET %s: %d, want 404", path, status)
			}
		}

		// The photo rides along in the room's summary and the hallway.
		r := createRoom(t, ada, client.RoomSpec{Title: "Faces", Type: "open"})
		join(t, ada, r.ID)
		var info struct {
			Stage []struct{ Photo string } `json:"stage"`
		}
		if err := ada.Do(ctxT(t), "GET", "/api/v1/rooms/"+r.ID, nil, &info); err != nil {
			t.Fatal(err)
		}
		if len(info.Stage) != 1 || info.Stage[0].Photo != me.Photo {
			t.Fatalf("stage %+v, want ada's photo", info.Stage)
		}
		var hall struct {
			Rooms []struct {
				Speakers []struct{ Photo string } `json:"speakers"`
			} `json:"rooms"`
		}
		if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/hallway", nil, &hall); err != nil {
			t.Fatal(err)
		}
		if len(hall.Rooms) != 1 || len(hall.Rooms[0].Speakers) != 1 || hall.Rooms[0].Speakers[0].Photo != me.Photo {
			t.Fatalf("hallway %+v, want ada's photo on the card", hall)
		}
		if status, _, _ := raw(t, ts, ada, "DELETE", "/api/v1/me/photo", nil); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		if status, _, _ := raw(t, ts, nil, "GET", "/api/v1/photos/"+me.Photo+"/96", nil); status != 404 {
			t.Fatalf("a removed photo: %d", status)
		}
	})

	t.Run("uploads are limited per user", func(t *testing.T) {
		bob := ts.user("bob")
		var last int
		img := testJPEG(t, 64, 64)
		for range 10 {
			last, _, _ = raw(t, ts, bob, "PUT", "/api/v1/me/photo", img)
			if last == 429 {
				return
			}
		}
		t.Fatalf("ten uploads in a row: the last answered %d, want 429", last)
	})
}

// TestReportsAndTheAdminQueue: anyone reports a user, a room or an invitation;
// admins list and handle reports; every admin action is in the audit log.
func TestReportsAndTheAdminQueue(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, eve := ts.user("ada"), ts.user("eve")
	room := createRoom(t, eve, client.RoomSpec{Title: "Buy my stuff", Type: "open"})
	join(t, eve, room.ID)
	inv, err := eve.InviteToRoom(ctxT(t), room.ID, []string{"ada"}, "come buy", false)
	if err != nil {
		t.Fatal(err)
	}
	report := func(u *user, kind, target, reason, details string) (int, []byte) {
		b, _ := json.Marshal(map[string]string{"kind": kind, "target": target, "reason": reason, "details": details})
		status, _, body := raw(t, ts, u, "POST", "/api/v1/reports", b)
		return status, body
	}
	cases := []struct {
		name, kind, target, reason, details string
		status                              int
		code                                string
	}{
		{"a user is reported by username", "user", "eve", "spam", "sells things", 201, ""},
		{"a room is reported by ID", "room", room.ID, "harassment", "", 201, ""},
		{"an invitation is reported by ID", "invitation", inv.ID, "spam", "", 201, ""},
		{"an unknown kind is refused", "club", "x", "spam", "", 422, "invalid_field"},
		{"an unknown reason is refused", "user", "eve", "boring", "", 422, "invalid_field"},
		{"other without details is refused", "user", "eve", "other", "", 422, "invalid_field"},
		{"details over 1000 characters are refused", "user", "eve", "spam", strings.Repeat("é", 1001), 422, "invalid_field"},
		{"an unknown user is not found", "user", "nobody", "spam", "", 404, "not_found"},
		{"a room that does not exist is not found", "room", strings.Repeat("a", 26), "spam", "", 404, "not_found"},
		{"a chat message that does not exist is not found", "message", "m1", "spam", "", 404, "not_found"},
		{"yourself is refused", "user", "ada", "spam", "", 422, "invalid_field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, b := report(ada, tc.kind, tc.target, tc.reason, tc.details)
			if status != tc.status || errCode(b) != tc.code {
				t.Fatalf("%d %s, want %d %s", status, b, tc.status, tc.code)
			}
		})
	}
	t.Run("a body with an unknown field is a bad request", func(t *testing.T) {
		status, _, b := raw(t, ts, ada, "POST", "/api/v1/reports", []byte(`{"kind":"user","target":"eve","reason":"spam","x":1}`))
		if status != 400 || errCode(b) != "bad_request" {
			t.Fatalf("%d %s", status, b)
		}
	})
	t.Run("only admins see the queue", func(t *testing.T) {
		for _, path := range []string{"/api/v1/admin/reports", "/api/v1/admin/users", "/api/v1/admin/rooms", "/api/v1/admin/stats", "/api/v1/admin/audit"} {
			if status, _, b := raw(t, ts, ada, "GET", path, nil); status != 403 || errCode(b) != "forbidden" {
				t.Errorf("GET %s as ada: %d %s", path, status, b)
			}
		}
	})
	t.Run("an admin handles a report, once, and it is in the audit log", func(t *testing.T) {
		var q struct {
			Reports []struct {
				ID, Kind, Reason string
				Subject          struct{ Username string }
				Context          map[string]any
			}
		}
		if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/reports", nil, &q); err != nil {
			t.Fatal(err)
		}
		if len(q.Reports) != 3 || q.Reports[2].Kind != "user" || q.Reports[2].Subject.Username != "eve" ||
			q.Reports[1].Context["title"] != "Buy my stuff" || q.Reports[0].Context["message"] != "come buy" {
			t.Fatalf("queue %+v", q.Reports)
		}
		id := q.Reports[2].ID
		if err := ts.admin.DisableUser(ctxT(t), "eve"); err != nil {
			t.Fatal(err)
		}
		if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/reports/"+id+"/resolve", map[string]string{"resolution": "disabled eve"}, nil); err != nil {
			t.Fatal(err)
		}
		err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/reports/"+id+"/resolve", map[string]string{"resolution": "again"}, nil)
		if code(err) != "conflict" {
			t.Fatalf("resolving twice: %v", err)
		}
		if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/users/eve/enable", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/reports", nil, &q); err != nil || len(q.Reports) != 2 {
			t.Fatalf("open reports after handling one: %d, %v", len(q.Reports), err)
		}
		var log struct {
			Entries []struct{ Action, Target string }
		}
		if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/audit", nil, &log); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range log.Entries {
			got = append(got, e.Action+" "+e.Target)
		}
		want := []string{"enable eve", "resolve_report " + id, "disable eve"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("audit log %v, want %v", got, want)
		}
	})
	t.Run("reports are limited per user", func(t *testing.T) {
		cy := ts.user("cyd")
		for i := range 40 {
			status, b := report(cy, "user", "eve", "spam", "")
			if status == 429 {
				return
			}
			if status != 201 {
				t.Fatalf("report %d: %d %s", i, status, b)
			}
		}
		t.Fatal("40 reports in a row were all taken")
	})
}

// TestAdminEndsARoom: an admin ends a live room they are not in; everyone in it
// hears it ended, and it leaves the list of live rooms.
func TestAdminEndsARoom(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.user("ada"), ts.user("bob")
	r := createRoom(t, ada, client.RoomSpec{Title: "Late", Type: "open"})
	as, bs := join(t, ada, r.ID), join(t, bob, r.ID)
	var list struct {
		Rooms []struct {
			ID            string
			ListenerCount int `json:"listener_count"`
		}
	}
	if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/rooms", nil, &list); err != nil || len(list.Rooms) != 1 || list.Rooms[0].ID != r.ID {
		t.Fatalf("rooms %+v, %v", list, err)
	}
	if err := bob.Do(ctxT(t), "POST", "/api/v1/admin/rooms/"+r.ID+"/end", nil, nil); code(err) != "forbidden" {
		t.Fatalf("bob ending it: %v", err)
	}
	if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/rooms/"+r.ID+"/end", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sock{as, bs} {
		if bye, _ := s.ended(t); bye != "room_ended" {
			t.Errorf("%s: bye %q, want room_ended", s.who, bye)
		}
	}
	if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/rooms", nil, &list); err != nil || len(list.Rooms) != 0 {
		t.Fatalf("rooms after the end %+v, %v", list, err)
	}
	if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/rooms/"+r.ID+"/end", nil, nil); code(err) != "not_found" {
		t.Fatalf("ending it again: %v", err)
	}
	var stats struct{ Users, Rooms, Nodes int }
	if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/stats", nil, &stats); err != nil || stats.Users != 3 || stats.Nodes != 1 {
		t.Fatalf("stats %+v, %v", stats, err)
	}
}

// TestPasswordResetLink: an admin's one-time link sets a new password and ends
// every session of the account at once.
func TestPasswordResetLink(t *testing.T) {
	ts := startServer(t, "sqlite")
	bob := ts.user("bob")
	us := userSocket(t, bob)
	var link struct{ URL string }
	if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/users/bob/reset-link", nil, &link); err != nil {
		t.Fatal(err)
	}
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	if status, _, b := raw(t, ts, nil, "GET", "/api/v1/password-reset/"+token, nil); status != 200 || !strings.Contains(string(b), `"bob"`) {
		t.Fatalf("info: %d %s", status, b)
	}
	reset := func(tok, pw string) (int, string) {
		b, _ := json.Marshal(map[string]string{"token": tok, "new_password": pw})
		status, _, body := raw(t, ts, nil, "POST", "/api/v1/password-reset", b)
		return status, errCode(body)
	}
	if status, c := reset(token, "short"); status != 422 || c != "invalid_field" {
		t.Fatalf("a short password: %d %s", status, c)
	}
	if status, c := reset("not-a-token", "a new good password"); status != 410 || c != "invite_invalid" {
		t.Fatalf("a wrong token: %d %s", status, c)
	}
	if status, c := reset(token, "a new good password"); status != 204 {
		t.Fatalf("reset: %d %s", status, c)
	}
	if bye := closedWithin(t, us, revokedWithin); bye != "session_ended" {
		t.Fatalf("the user socket's bye %q", bye)
	}
	if status, c := reset(token, "yet another password"); status != 410 || c != "invite_invalid" {
		t.Fatalf("the link a second time: %d %s", status, c)
	}
	if _, _, err := client.New(ts.url).Login(ctxT(t), "bob", password); code(err) != "bad_credentials" {
		t.Fatalf("the old password: %v", err)
	}
	if _, _, err := client.New(ts.url).Login(ctxT(t), "bob", "a new good password"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

// TestDeleteAccount: the password proves it; the account's room ends, its
// sessions close, and its name is free again.
func TestDeleteAccount(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.user("ada"), ts.user("bob")
	other := ts.login(ada)
	r := createRoom(t, ada, client.RoomSpec{Title: "Mine", Type: "open"})
	join(t, ada, r.ID)
	bs := join(t, bob, r.ID)
	us := userSocket(t, other)
	if err := ada.Do(ctxT(t), "DELETE", "/api/v1/me", map[string]string{"password": "wrong password"}, nil); code(err) != "bad_credentials" {
		t.Fatalf("a wrong password: %v", err)
	}
	if err := ts.admin.Do(ctxT(t), "DELETE", "/api/v1/me", map[string]string{"password": password}, nil); code(err) != "conflict" {
		t.Fatalf("the only admin deleting themself: %v", err)
	}
	if err := ada.Do(ctxT(t), "DELETE", "/api/v1/me", map[string]string{"password": password}, nil); err != nil {
		t.Fatal(err)
	}
	if bye, _ := bs.ended(t); bye != "room_ended" {
		t.Fatalf("bob in ada's room: bye %q", bye)
	}
	if bye := closedWithin(t, us, revokedWithin); bye != "session_ended" {
		t.Fatalf("ada's other device: bye %q", bye)
	}
	if _, err := other.Me(ctxT(t)); code(err) != "account_disabled" && code(err) != "unauthenticated" {
		t.Fatalf("ada's other session: %v", err)
	}
	ts.user("ada") // the name is free
}

// TestSignOutEverywhereElse: DELETE /api/v1/sessions ends every other session.
func TestSignOutEverywhereElse(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.user("ada")
	other := ts.login(ada)
	us := userSocket(t, other)
	var out struct{ Ended int }
	if err := ada.Do(ctxT(t), "DELETE", "/api/v1/sessions", nil, &out); err != nil || out.Ended != 1 {
		t.Fatalf("%+v, %v", out, err)
	}
	if bye := closedWithin(t, us, revokedWithin); bye != "session_ended" {
		t.Fatalf("bye %q", bye)
	}
	if _, err := ada.Me(ctxT(t)); err != nil {
		t.Fatalf("this session: %v", err)
	}
	var list struct {
		Sessions []struct {
			LastSeen string `json:"last_seen"`
		}
	}
	if err := ada.Do(ctxT(t), "GET", "/api/v1/sessions", nil, &list); err != nil || len(list.Sessions) != 1 || list.Sessions[0].LastSeen == "" {
		t.Fatalf("%+v, %v", list, err)
	}
}
