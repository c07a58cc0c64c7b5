package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/preview"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/web"
)

// shares tells what a shared link to a room, an event, a club, a profile or an
// invitation unfolds into (web.Preview) and draws its card (/preview/...png).
// It shows a stranger what a stranger may see, and the generic card for the
// rest: a closed, social or members-only room or event, a private invitation, a
// disabled account.
type shares struct {
	db        *store.DB
	hub       *live.Hub
	publicURL string
	cache     *preview.Cache
}

func newShares(db *store.DB, hub *live.Hub, publicURL string) *shares {
	return &shares{db: db, hub: hub, publicURL: publicURL, cache: preview.NewCache(500)}
}

// generic is what a page that reveals nothing says.
const (
	genericTitle       = "A live conversation on townhall"
	genericDescription = "townhall: live audio conversations. Drop in, listen, raise your hand."
)

// paths of the shareable pages, by kind.
var sharePaths = map[string]string{"room": "/rooms/", "event": "/events/", "club": "/clubs/", "user": "/u/", "invitation": "/i/"}

// Preview is the page's tags.
func (s *shares) Preview(ctx context.Context, kind, id string) web.Preview {
	c, title, desc := s.card(ctx, kind, id)
	if c.Generic() {
		title, desc = genericTitle, genericDescription
	}
	return web.Preview{Title: title, Description: desc, URL: s.publicURL + sharePaths[kind] + id,
		Image: fmt.Sprintf("%s/preview/%s/%s.png?v=%s", s.publicURL, kind, id, c.Key())}
}

// ServeHTTP serves GET /preview/{kind}/{file}: the card of a page, as a PNG.
func (s *shares) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, file := r.PathValue("kind"), r.PathValue("file")
	id, ok := strings.CutSuffix(file, ".png")
	if _, known := sharePaths[kind]; !known || !ok || len(id) > 100 {
		http.NotFound(w, r)
		return
	}
	c, _, _ := s.card(r.Context(), kind, id)
	b, err := s.cache.PNG(c)
	if err != nil {
		http.Error(w, "drawing the card", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", `"`+c.Key()+`"`)
	if r.Header.Get("If-None-Match") == `"`+c.Key()+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}

// card is what a page shows a stranger, with the title and description of its
// tags; the zero Card when it must show nothing.
func (s *shares) card(ctx context.Context, kind, id string) (preview.Card, string, string) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	switch kind {
	case "room":
		return s.roomCard(ctx, id)
	case "event":
		return s.eventCard(ctx, id)
	case "club":
		c, err := s.db.ClubByID(ctx, id)
		if err != nil {
			return preview.Card{}, "", ""
		}
		return preview.Card{Kind: "Club", Title: c.Name, Status: plural(c.Members, "member")}, c.Name, orDefault(c.Description, "A club on townhall.")
	case "user":
		name, err := account.NormalizeUsername(id)
		if err != nil {
			return preview.Card{}, "", ""
		}
		u, err := s.db.UserByUsername(ctx, name)
		if err != nil || u.Disabled() {
			return preview.Card{}, "", ""
		}
		followers, _, _ := s.db.FollowCounts(ctx, u.ID)
		desc := orDefault(u.Bio, "@"+u.Username+" on townhall.")
		return preview.Card{Kind: "Profile", Title: u.DisplayName, Person: u.DisplayName, PersonID: u.ID,
			Status: "@" + u.Username + " · " + plural(followers, "follower")}, u.DisplayName + " (@" + u.Username + ")", desc
	case "invitation":
		return s.invitationCard(ctx, id)
	}
	return preview.Card{}, "", ""
}

// openRoom reports whether a stranger may be told of a room of this type.
func openRoom(typ string, membersOnly bool) bool { return typ == string(room.Open) && !membersOnly }

func (s *shares) roomCard(ctx context.Context, id string) (preview.Card, string, string) {
	c := preview.Card{Kind: "Room"}
	var creator, desc string
	if e, ok := s.hub.Look(id); ok {
		if !openRoom(string(e.Type), e.MembersOnly) {
			return preview.Card{}, "", ""
		}
		c.Title, creator, desc = e.Title, e.CreatorID, e.Description
		switch e.State {
		case room.StateLive:
			c.Kind, c.Live = "Live room", true
			c.Status = fmt.Sprintf("Live now · %d on stage · %d listening", len(e.Stage), e.ListenerCount)
		case room.StateWaiting:
			c.Status = "Starting soon"
		default:
			c.Status = "Ended"
		}
	} else {
		rec, err := s.db.RoomByID(ctx, id)
		if err != nil || !openRoom(rec.Type, setupMembersOnly(rec.Setup)) {
			return preview.Card{}, "", ""
		}
		c.Title, creator, desc, c.Status = rec.Title, rec.CreatorID, rec.Description, "Ended"
		if rec.EndedAt.IsZero() {
			c.Status = "Starting soon"
		}
	}
	if u, err := s.db.UserByID(ctx, creator); err == nil {
		c.Person, c.PersonID = u.DisplayName, u.ID
	}
	if desc == "" {
		desc = c.Status + " on townhall, with " + orDefault(c.Person, "its host") + "."
	}
	return c, c.Title, desc
}

func (s *shares) eventCard(ctx context.Context, id string) (preview.Card, string, string) {
	e, err := s.db.EventByID(ctx, id)
	if err != nil || e.RoomType != room.Open || e.MembersOnly {
		return preview.Card{}, "", ""
	}
	c := preview.Card{Kind: "Event", Title: e.Title}
	loc, err := time.LoadLocation(e.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c.Status = e.StartsAt.In(loc).Format("Mon 2 Jan 2006, 15:04") + " (" + loc.String() + ")"
	switch {
	case e.Cancelled():
		c.Status = "Cancelled"
	case e.Started():
		if r, ok := s.hub.Look(e.RoomID); ok && r.State == room.StateLive {
			c.Kind, c.Live, c.Status = "Live event", true, fmt.Sprintf("Live now · %d listening", r.ListenerCount)
		}
	}
	if u, err := s.db.UserByID(ctx, e.HostID); err == nil {
		c.Person, c.PersonID = u.DisplayName, u.ID
	}
	return c, e.Title, orDefault(e.Description, c.Status+", hosted by "+orDefault(c.Person, "its host")+".")
}

// statusWords say where an invitation stands, on its card.
var statusWords = map[string]string{invitation.StatusSent: "Sent", invitation.StatusSeen: "Seen",
	invitation.StatusQuestion: "Question asked", invitation.StatusAccepted: "Accepted", invitation.StatusDeclined: "Declined"}

func (s *shares) invitationCard(ctx context.Context, code string) (preview.Card, string, string) {
	inv, _, err := s.db.InvitationPage(ctx, code)
	if err != nil || !inv.Public {
		return preview.Card{}, "", ""
	}
	from, err := s.db.UserByID(ctx, inv.InviterID)
	if err != nil {
		return preview.Card{}, "", ""
	}
	to := inv.InviteeName
	if inv.InviteeID != "" {
		if u, err := s.db.UserByID(ctx, inv.InviteeID); err == nil {
			to = u.DisplayName
		}
	}
	title := from.DisplayName + " invites " + orDefault(to, "someone") + " to talk"
	var about string
	switch {
	case inv.RoomID != "":
		if c, _, _ := s.roomCard(ctx, inv.RoomID); !c.Generic() {
			about = c.Title
		}
	case inv.EventID != "":
		if c, _, _ := s.eventCard(ctx, inv.EventID); !c.Generic() {
			about = c.Title
		}
	}
	c := preview.Card{Kind: "Invitation", Title: title, Quote: inv.Message, Person: from.DisplayName, PersonID: from.ID,
		Status: statusWords[inv.Status]}
	desc := inv.Message
	if about != "" {
		desc = joinText("“"+about+"”", desc)
	}
	return c, title, orDefault(desc, "An invitation to a live conversation on townhall.")
}

func setupMembersOnly(setup []byte) bool {
	var cfg room.Config
	if len(setup) == 0 || json.Unmarshal(setup, &cfg) != nil {
		return false
	}
	return cfg.MembersOnly
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
