package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
)

type createRoomRequest struct {
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Type        room.Type `json:"type"`
	AllowGuests bool      `json:"allow_guests"`
	// Chat is who may write in the chat at first: off, speakers or everyone
	// ("" for the type's default); KeepChat keeps it after the room ends.
	Chat     room.ChatMode `json:"chat"`
	KeepChat bool          `json:"keep_chat"`
	// Record records the room for a replay (everyone is told); AllowClips lets
	// listeners keep its last moments.
	Record     bool `json:"record"`
	AllowClips bool `json:"allow_clips"`
	Captions   bool `json:"captions"` // caption the replay
}

func (r *createRoomRequest) validate() error {
	if r.Type == "" {
		r.Type = room.Open
	}
	return nil // the room validates its own config
}

func personOf(u account.User) live.Person {
	return live.Person{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Photo: u.Photo}
}

type roomCreatedView struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Type        string    `json:"type"`
	AllowGuests bool      `json:"allow_guests"`
	CreatedAt   time.Time `json:"created_at"`
	URL         string    `json:"url"`
	KeepChat    bool      `json:"keep_chat"`

	Recorded     bool `json:"recorded"`
	ClipsAllowed bool `json:"clips_allowed"`
}

func (a *API) createRoom(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[createRoomRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Record && a.noRecording != "" {
		a.writeError(w, r, errcode.New(errcode.Unavailable, a.noRecording))
		return
	}
	rec, err := a.hub.CreateRoom(r.Context(), u.ID, live.RoomSpec{Title: req.Title, Description: req.Description,
		Type: req.Type, AllowGuests: req.AllowGuests, Chat: req.Chat, KeepChat: req.KeepChat,
		Record: req.Record, AllowClips: req.AllowClips, Captions: req.Captions})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, roomCreatedView{ID: rec.ID, Title: rec.Title, Description: rec.Description,
		Type: rec.Type, AllowGuests: rec.AllowGuests, CreatedAt: rec.CreatedAt, URL: a.publicURL + "/rooms/" + rec.ID,
		KeepChat: req.KeepChat, Recorded: req.Record, ClipsAllowed: req.AllowClips})
}

// getRoom shows a live room to whoever may see it; guests see open rooms that
// allow them. Anything else is not found, so closed rooms stay invisible. Nobody
// looks at a room for someone else (Authenticate).
func (a *API) getRoom(w http.ResponseWriter, r *http.Request) {
	viewer := ""
	_, u, err := a.Authenticate(r)
	switch {
	case err == nil:
		viewer = u.ID
	case errors.Is(err, account.ErrNotForDelegates):
		a.writeError(w, r, err)
		return
	}
	s, err := a.hub.RoomInfo(r.Context(), viewer, r.PathValue("id"))
	if errors.Is(err, live.ErrRoomNotFound) && viewer != "" && u.IsAdmin {
		s, err = a.hub.AdminRoomInfo(r.PathValue("id")) // admins see every live room, as in /admin
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// roomChat pages a room's chat, newest first: of a live room the viewer may see,
// or of an ended room whose host kept it, for its creator and speakers.
func (a *API) roomChat(w http.ResponseWriter, r *http.Request) {
	viewer := ""
	_, u, err := a.Authenticate(r)
	switch {
	case err == nil:
		viewer = u.ID
	case !errors.Is(err, account.ErrUnauthenticated):
		a.writeError(w, r, err)
		return
	}
	before := r.URL.Query().Get("before")
	if before != "" && !ids.Valid(before) {
		a.writeError(w, r, fmt.Errorf("%w: before must be the ID of a chat message", errInvalid))
		return
	}
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > live.MaxChatPage {
			a.writeError(w, r, fmt.Errorf("%w: limit must be 1 to %d", errInvalid, live.MaxChatPage))
			return
		}
		limit = n
	}
	msgs, more, err := a.hub.ChatHistory(r.Context(), viewer, r.PathValue("id"), before, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []live.ChatMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "more": more})
}

// roomSocket upgrades to the room socket. A signed-in user joins as themselves;
// without a session, ?guest=1 joins an open room that allows guests, to listen.
// Nobody joins for someone else: a request acting for an account is refused
// (Authenticate), before any upgrade.
//
// Every browser gets a signed identity (GuestCookie): a guest listens under it, and
// a removal bars it, with the address, from coming back to that room as a guest.
func (a *API) roomSocket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var who live.Person
	sess, u, err := a.Authenticate(r)
	if err != nil && !(errors.Is(err, account.ErrUnauthenticated) && r.URL.Query().Get("guest") == "1") {
		a.writeError(w, r, err)
		return
	}
	cred := live.Credentials{Browser: a.browserIdentity(w, r), Addr: a.clientAddr(r)}
	if err == nil {
		who = personOf(u)
		cred.SessionID, cred.Expires, cred.Admin = sess.ID, sess.ExpiresAt, u.IsAdmin
	} else {
		who = live.GuestPerson(cred.Browser)
	}
	if err := a.hub.CheckJoinable(r.Context(), id, who, cred); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.hub.ServeRoom(w, r, id, who, cred)
}

func (a *API) userSocket(w http.ResponseWriter, r *http.Request, u account.User) {
	sess := sessionOf(r)
	a.hub.ServeUser(w, r, personOf(u), live.Credentials{SessionID: sess.ID, Expires: sess.ExpiresAt, Addr: a.clientAddr(r)})
}

// hallway lists the live rooms the user may see and, with the event service, the
// upcoming events of people they follow and of their clubs.
func (a *API) hallway(w http.ResponseWriter, r *http.Request, u account.User) {
	list, err := a.hub.Hallway(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := map[string]any{"rooms": list}
	if a.events != nil {
		evs, err := a.events.Upcoming(r.Context(), u.ID, 10)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		views := make([]eventView, len(evs))
		for i, e := range evs {
			views[i] = a.viewEvent(r, e)
		}
		out["events"] = views
	}
	writeJSON(w, http.StatusOK, out)
}

type pastRoomView struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	EndedAt   time.Time `json:"ended_at"`
	Speakers  []string  `json:"speakers"`
}

// roomHistory lists the ended rooms the user created or spoke in, with who spoke.
func (a *API) roomHistory(w http.ResponseWriter, r *http.Request, u account.User) {
	recs, err := a.hub.History(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]pastRoomView, len(recs))
	for i, p := range recs {
		out[i] = pastRoomView{ID: p.ID, Title: p.Title, Type: p.Type, CreatedAt: p.CreatedAt, EndedAt: p.EndedAt, Speakers: p.Speakers}
		if out[i].Speakers == nil {
			out[i].Speakers = []string{} // a room its creator never opened
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rooms": out})
}
