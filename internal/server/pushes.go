package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/store"
)

// PushKinds are the notification kinds one may have pushed to a closed app.
func PushKinds() []string {
	return []string{notify.KindInvitation, notify.KindInvitationAnswer, notify.KindInvitationReply, notify.KindSpeaking,
		notify.KindEventReminder, notify.KindEventInvitation, notify.KindEventInvitationAnswer, notify.KindEventLive,
		notify.KindPing}
}

// newPush builds the Web Push service: its VAPID keys derive from a secret in
// the store, the same on every node.
func newPush(ctx context.Context, db *store.DB, publicURL string, log *slog.Logger, tune []func(*push.Options)) (*push.Service, error) {
	secret, err := db.Secret(ctx, "vapid")
	if err != nil {
		return nil, err
	}
	keys, err := push.KeysFrom(secret)
	if err != nil {
		return nil, err
	}
	opts := push.Options{Store: db, Keys: keys, Subscriber: subscriber(publicURL), Kinds: PushKinds(), Log: log}
	for _, f := range tune {
		f(&opts)
	}
	return push.New(opts), nil
}

// subscriber is who the push services may contact about this server (RFC 8292
// §2.1): its https URL, or an address at its host.
func subscriber(publicURL string) string {
	if strings.HasPrefix(publicURL, "https://") {
		return publicURL
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "townhall@" + host
}

// person is the "from" of notification data.
type person struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// noticeData is what a push needs of any notification's data.
type noticeData struct {
	Code         string  `json:"code"`
	InvitationID string  `json:"invitation_id"`
	RoomID       string  `json:"room_id"`
	RoomTitle    string  `json:"room_title"`
	EventID      string  `json:"event_id"`
	Title        string  `json:"title"`
	From         person  `json:"from"`
	By           *person `json:"by"`
	Answer       string  `json:"answer"`
	Text         string  `json:"text"`
	Message      string  `json:"message"`
}

// payloadOf turns a stored notification into what a push shows; ok is false for
// kinds that are not pushed.
func payloadOf(n live.Notification) (push.Payload, bool) {
	var d noticeData
	_ = json.Unmarshal(n.Data, &d) // a kind we do not know the shape of keeps its zero fields
	who := d.From.DisplayName
	if who == "" {
		who = "Someone"
	}
	if d.By != nil && d.By.DisplayName != "" {
		who = fmt.Sprintf("%s (by %s)", who, d.By.DisplayName)
	}
	title := d.RoomTitle
	if title == "" {
		title = d.Title
	}
	p := push.Payload{ID: n.ID, Kind: n.Kind, URL: "/notifications"}
	page := func(fallback string) string {
		if d.Code != "" {
			return "/i/" + d.Code
		}
		return fallback
	}
	switch n.Kind {
	case notify.KindInvitation:
		p.Title, p.Body, p.URL = who+" invites you to talk", joinText(title, d.Message), page("/invitations/"+d.InvitationID)
	case notify.KindInvitationAnswer:
		p.Title = map[string]string{"accepted": who + " accepted your invitation", "declined": who + " declined your invitation"}[d.Answer]
		if p.Title == "" {
			p.Title = who + " asked a question"
		}
		p.Body, p.URL = joinText(d.Text, title), page("/invitations/"+d.InvitationID)
	case notify.KindInvitationReply:
		p.Title, p.Body, p.URL = who+" answered", joinText(d.Text, title), page("/notifications")
	case notify.KindPing:
		p.Title, p.Body, p.URL = who+" wants you in a room", title, "/rooms/"+d.RoomID
	case notify.KindEventReminder:
		p.Title, p.Body, p.URL = title+" starts soon", "", "/events/"+d.EventID
	case notify.KindEventLive:
		p.Title, p.Body, p.URL = title+" is live", "", "/events/"+d.EventID
	case notify.KindEventInvitation:
		p.Title, p.Body, p.URL = who+" invites you to an event", joinText(title, d.Message), page("/events/"+d.EventID)
	case notify.KindEventInvitationAnswer:
		p.Title, p.Body, p.URL = who+" answered your invitation", joinText(d.Text, title), page("/events/"+d.EventID)
	default:
		return push.Payload{}, false
	}
	p.Title, p.Body = clip(p.Title, 120), clip(p.Body, 400)
	return p, true
}

// joinText is a and b on two lines (either may be empty).
func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// maxSpeakingNotices bounds the followers told that someone is speaking.
const maxSpeakingNotices = 200

// speakingPushes pushes "someone you follow is speaking" to the followers of
// someone who comes on stage, if they may see the room (never a closed one),
// did not mute the kind, and want it pushed. It is a push only: in the app the
// hallway says it already ("X, whom you follow, is speaking"), and a stored
// notice for every stage change of everyone one follows would bury the others.
// Pushes about one person in one room share a tag: a second one (they stepped
// down and up again) replaces the first on the device.
func speakingPushes(db *store.DB, h *live.Hub, gate *notify.Service, pusher *push.Service) func(ctx context.Context, roomID, title string, p live.Person) error {
	return func(ctx context.Context, roomID, title string, p live.Person) error {
		e, ok := h.Look(roomID)
		if !ok || e.Type == "closed" {
			return nil
		}
		followers, err := db.FollowerIDs(ctx, p.ID, maxSpeakingNotices)
		if err != nil {
			return err
		}
		who := p.DisplayName
		if who == "" {
			who = p.Username
		}
		for _, f := range followers {
			if _, err := h.RoomInfo(ctx, f, roomID); err != nil {
				continue // they may not see it
			}
			switch err := gate.Allow(ctx, f, notify.KindSpeaking, p.ID); {
			case errors.Is(err, notify.ErrMuted):
				continue
			case err != nil:
				return err
			}
			pusher.Enqueue(push.Message{UserID: f, Payload: push.Payload{ID: ids.From("speaking\x00" + roomID + "\x00" + p.ID),
				Kind: notify.KindSpeaking, Title: clip(who+" is speaking", 120), Body: clip(title, 400), URL: "/rooms/" + roomID}})
		}
		return nil
	}
}
