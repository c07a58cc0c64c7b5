package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/room"
)

type eventRequest struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	StartsAt    time.Time `json:"starts_at"` // RFC 3339, with its offset
	TimeZone    string    `json:"time_zone"` // IANA name; default UTC
	CoHosts     []string  `json:"cohosts"`   // usernames
	ClubID      string    `json:"club_id"`
	RoomType    room.Type `json:"room_type"` // open (default), social, closed
	MembersOnly bool      `json:"members_only"`
}

func (r *eventRequest) validate() error {
	switch {
	case r.Name == "":
		return missing("name")
	case r.StartsAt.IsZero():
		return missing("starts_at")
	case len(r.CoHosts) > event.MaxCoHosts:
		return fmt.Errorf("%w: at most %d co-hosts", errInvalid, event.MaxCoHosts)
	}
	return nil // the event service checks the rest
}

type eventPatchRequest struct {
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	StartsAt    *time.Time `json:"starts_at"`
	TimeZone    *string    `json:"time_zone"`
	CoHosts     *[]string  `json:"cohosts"`
	RoomType    *room.Type `json:"room_type"`
	MembersOnly *bool      `json:"members_only"`
}

func (r *eventPatchRequest) validate() error {
	if r.Name == nil && r.Description == nil && r.StartsAt == nil && r.TimeZone == nil && r.CoHosts == nil &&
		r.RoomType == nil && r.MembersOnly == nil {
		return fmt.Errorf("%w: nothing to change", errInvalid)
	}
	if r.CoHosts != nil && len(*r.CoHosts) > event.MaxCoHosts {
		return fmt.Errorf("%w: at most %d co-hosts", errInvalid, event.MaxCoHosts)
	}
	return nil
}

type eventInviteRequest struct {
	Usernames []string `json:"usernames"`
	Message   string   `json:"message"`
	Link      bool     `json:"link"`   // also invite someone without an account, through a link
	Name      string   `json:"name"`   // their name (with link)
	Public    bool     `json:"public"` // anyone may read the invitations and their threads
}

func (r *eventInviteRequest) validate() error {
	if len(r.Usernames) == 0 && !r.Link || len(r.Usernames) > event.MaxInvitees {
		return fmt.Errorf("%w: name 1 to %d usernames, or ask for a link", errInvalid, event.MaxInvitees)
	}
	return nil
}

type eventView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	StartsAt    time.Time  `json:"starts_at"`
	TimeZone    string     `json:"time_zone"`
	LocalStart  string     `json:"local_start"` // starts_at in time_zone, RFC 3339
	Host        userView   `json:"host"`
	CoHosts     []userView `json:"cohosts"`
	ClubID      string     `json:"club_id,omitempty"`
	RoomType    room.Type  `json:"room_type"`
	MembersOnly bool       `json:"members_only"`
	Cancelled   bool       `json:"cancelled"`
	StartedAt   time.Time  `json:"started_at,omitzero"`
	RoomID      string     `json:"room_id,omitempty"`
	Subscribed  bool       `json:"subscribed"` // the viewer asked to be notified
	URL         string     `json:"url"`
	ICS         string     `json:"ics"`
}

func (a *API) viewEvent(r *http.Request, e event.Event) eventView {
	v := eventView{ID: e.ID, Name: e.Title, Description: e.Description, StartsAt: e.StartsAt, TimeZone: e.TimeZone,
		LocalStart: e.StartsAt.Format(time.RFC3339), Host: a.userViewByID(r, e.HostID), CoHosts: []userView{},
		ClubID: e.ClubID, RoomType: e.RoomType, MembersOnly: e.MembersOnly, Cancelled: e.Cancelled(),
		StartedAt: e.StartedAt, RoomID: e.RoomID, URL: a.publicURL + "/events/" + e.ID,
		ICS: a.publicURL + "/api/v1/events/" + e.ID + ".ics"}
	if loc, err := time.LoadLocation(e.TimeZone); err == nil {
		v.LocalStart = e.StartsAt.In(loc).Format(time.RFC3339)
	}
	for _, c := range e.CoHosts {
		v.CoHosts = append(v.CoHosts, a.userViewByID(r, c))
	}
	if viewer := actorOf(r).Principal.ID; viewer != "" && a.events != nil {
		v.Subscribed, _ = a.events.IsSubscribed(r.Context(), viewer, e.ID) // false when unknown
	}
	return v
}

func (a *API) writeEvents(w http.ResponseWriter, r *http.Request, list []event.Event, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]eventView, len(list))
	for i, e := range list {
		out[i] = a.viewEvent(r, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (a *API) eventsOn(w http.ResponseWriter, r *http.Request) bool {
	if a.events == nil {
		a.writeError(w, r, errNoService)
		return false
	}
	return true
}

// userIDs resolves usernames for u (lookUp: they count as look-ups): unknown
// people and people a block separates from u are not found.
func (a *API) userIDs(r *http.Request, u account.User, names []string) ([]string, error) {
	users, err := a.lookUp(r, u, names, func(_ account.User, rel account.Relation) bool { return !rel.Blocked() })
	if err != nil {
		return nil, err
	}
	out := make([]string, len(users))
	for i, t := range users {
		out[i] = t.ID
	}
	return out, nil
}

func (a *API) createEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	req, err := bind[eventRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	cohosts, err := a.userIDs(r, u, req.CoHosts)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	e, err := a.events.Create(r.Context(), u.ID, event.Details{Title: req.Name, Description: req.Description,
		StartsAt: req.StartsAt, TimeZone: req.TimeZone, CoHosts: cohosts, ClubID: req.ClubID, RoomType: req.RoomType,
		MembersOnly: req.MembersOnly})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.viewEvent(r, e))
}

func (a *API) upcomingEvents(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.events.Upcoming(r.Context(), u.ID, limit)
	a.writeEvents(w, r, list, err)
}

// eventPage is one page of a paged list of events; the last has no next_cursor.
type eventPage struct {
	Events     []eventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// exploreEvents is the Explore list: upcoming events anyone may join, whoever
// hosts them, soonest first, paged by cursor.
func (a *API) exploreEvents(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	after, limit, err := pageParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, next, err := a.events.Explore(r.Context(), u.ID, after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := eventPage{Events: make([]eventView, len(list)), NextCursor: encodeCursor(next)}
	for i, e := range list {
		out.Events[i] = a.viewEvent(r, e)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) hostedEvents(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	t, _, err := a.accounts.Lookup(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.events.Hosted(r.Context(), u.ID, t.ID, 50)
	a.writeEvents(w, r, list, err)
}

func (a *API) clubEvents(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) || !a.clubsOn(w, r) {
		return
	}
	if _, _, err := a.clubs.Get(r.Context(), u.ID, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.events.OfClub(r.Context(), u.ID, r.PathValue("id"), 50)
	a.writeEvents(w, r, list, err)
}

// getEvent shows an event as JSON, or, for /api/v1/events/{id}.ics, as an
// iCalendar file.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	id, ics := strings.CutSuffix(r.PathValue("id"), ".ics")
	e, err := a.events.Get(r.Context(), u.ID, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !ics {
		writeJSON(w, http.StatusOK, a.viewEvent(r, e))
		return
	}
	host := a.userViewByID(r, e.HostID)
	info := event.CalendarInfo{URL: a.publicURL + "/events/" + e.ID, HostName: host.DisplayName,
		HostURL: a.publicURL + "/u/" + host.Username, Domain: "townhall"}
	if pu, err := url.Parse(a.publicURL); err == nil && pu.Hostname() != "" {
		info.Domain = pu.Hostname()
	}
	if e.ClubID != "" && a.clubs != nil {
		if c, _, err := a.clubs.Get(r.Context(), u.ID, e.ClubID); err == nil {
			info.ClubName = c.Name
		}
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.ID+`.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(event.ICS(e, info))
}

func (a *API) updateEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	req, err := bind[eventPatchRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	e, err := a.events.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d := event.Details{Title: e.Title, Description: e.Description, StartsAt: e.StartsAt, TimeZone: e.TimeZone,
		CoHosts: e.CoHosts, RoomType: e.RoomType, MembersOnly: e.MembersOnly}
	if req.Name != nil {
		d.Title = *req.Name
	}
	if req.Description != nil {
		d.Description = *req.Description
	}
	if req.StartsAt != nil {
		d.StartsAt = *req.StartsAt
	}
	if req.TimeZone != nil {
		d.TimeZone = *req.TimeZone
	}
	if req.RoomType != nil {
		d.RoomType = *req.RoomType
	}
	if req.MembersOnly != nil {
		d.MembersOnly = *req.MembersOnly
	}
	if req.CoHosts != nil {
		if d.CoHosts, err = a.userIDs(r, u, *req.CoHosts); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	e, err = a.events.Update(r.Context(), u.ID, e.ID, d)
	if err != nil && e.ID == "" {
		a.writeError(w, r, err)
		return
	}
	a.logNotifyError(r, err)
	writeJSON(w, http.StatusOK, a.viewEvent(r, e))
}

// logNotifyError logs a failure to notify after the change itself succeeded.
func (a *API) logNotifyError(r *http.Request, err error) {
	if err != nil {
		a.log.WarnContext(r.Context(), "notifying", "path", r.URL.Path, "err", err)
	}
}

func (a *API) cancelEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	e, err := a.events.Cancel(r.Context(), u.ID, r.PathValue("id"))
	if err != nil && e.ID == "" {
		a.writeError(w, r, err)
		return
	}
	a.logNotifyError(r, err)
	writeJSON(w, http.StatusOK, a.viewEvent(r, e))
}

// startEvent opens the event's room (hosts): one click.
func (a *API) startEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	e, err := a.events.Start(r.Context(), u.ID, r.PathValue("id"))
	if err != nil && e.RoomID == "" {
		a.writeError(w, r, err)
		return
	}
	a.logNotifyError(r, err)
	v := a.viewEvent(r, e)
	writeJSON(w, http.StatusCreated, map[string]any{"event": v, "room_id": e.RoomID, "room_url": a.publicURL + "/rooms/" + e.RoomID})
}

type eventInvitationView struct {
	EventID    string    `json:"event_id"`
	User       userView  `json:"user"`
	From       userView  `json:"from"`
	Message    string    `json:"message"`
	ToStage    bool      `json:"to_stage"`
	Status     string    `json:"status"`
	Text       string    `json:"text,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Code       string    `json:"code,omitempty"` // the invitation's page, /i/{code}
	URL        string    `json:"url,omitempty"`
}

func (a *API) viewEventInvitation(r *http.Request, inv event.Invitation) eventInvitationView {
	return eventInvitationView{EventID: inv.EventID, User: a.userViewByID(r, inv.UserID), From: a.userViewByID(r, inv.InviterID),
		Message: inv.Message, ToStage: inv.ToStage, Status: inv.Status, Text: inv.Text, CreatedAt: inv.CreatedAt,
		AnsweredAt: inv.AnsweredAt}
}

func (a *API) writeEventInvitations(w http.ResponseWriter, r *http.Request, list []event.Invitation, err error) {
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]eventInvitationView, len(list))
	for i, inv := range list {
		out[i] = a.viewEventInvitation(r, inv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

// inviteToEvent invites people to an event that has not started.
func (a *API) inviteToEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	req, err := bind[eventInviteRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	users, err := a.userIDs(r, u, req.Usernames)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var mine []event.Invitation
	if len(users) > 0 {
		if _, err := a.events.Invite(r.Context(), u.ID, id, users, req.Message); err != nil {
			a.writeError(w, r, err)
			return
		}
		list, err := a.events.Invitations(r.Context(), u.ID, id)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for _, inv := range list {
			for _, uid := range users {
				if inv.UserID == uid {
					mine = append(mine, inv)
				}
			}
		}
	}
	out := make([]eventInvitationView, len(mine))
	var news []invitation.NewPage
	for i, inv := range mine {
		out[i] = a.viewEventInvitation(r, inv)
		news = append(news, invitation.NewPage{Target: invitation.Target{EventID: id}, InviterID: u.ID, InviteeID: inv.UserID,
			Message: req.Message, ToStage: inv.ToStage, Public: req.Public})
	}
	resp := map[string]any{"invitations": out}
	if a.invitations != nil {
		made, err := a.invitations.Create(r.Context(), news)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for i, c := range made {
			out[i].Code, out[i].URL = c.Code, c.URL
		}
	}
	if req.Link {
		link, err := a.eventLink(r, u, id, req)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		resp["invitation"] = link
	}
	writeJSON(w, http.StatusCreated, resp)
}

// eventLink invites someone without an account to an event: a sign-up code and
// the page that holds it. The same rules as an invitation by name: the event
// must take invitations from u (a closed one: its hosts only).
func (a *API) eventLink(r *http.Request, u account.User, id string, req eventInviteRequest) (*pageLinkView, error) {
	if a.invitations == nil {
		return nil, errcode.New(errcode.Unavailable, "invitation pages are not available")
	}
	e, err := a.events.Get(r.Context(), u.ID, id)
	if err != nil {
		return nil, err
	}
	switch {
	case e.Cancelled() || e.Started():
		return nil, event.ErrClosed
	case e.RoomType == room.Closed && !e.IsHost(u.ID):
		return nil, event.ErrInviteClosed
	}
	code, err := a.accounts.CreateRoomInvite(r.Context(), u, "")
	if err != nil {
		return nil, err
	}
	made, err := a.invitations.Create(r.Context(), []invitation.NewPage{{Target: invitation.Target{EventID: id},
		InviterID: u.ID, InviteeName: req.Name, SignupCode: code.Code, Message: req.Message, ToStage: e.IsHost(u.ID), Public: req.Public}})
	if err != nil {
		return nil, err
	}
	return &pageLinkView{Code: made[0].Code, URL: made[0].URL, InviteeURL: made[0].KeyURL, Public: req.Public}, nil
}

func (a *API) eventInvitations(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	list, err := a.events.Invitations(r.Context(), u.ID, r.PathValue("id"))
	a.writeEventInvitations(w, r, list, err)
}

func (a *API) myEventInvitations(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	list, err := a.events.InvitationsTo(r.Context(), u.ID, 50)
	a.writeEventInvitations(w, r, list, err)
}

// answerEvent records the invitee's answer to their invitation to an event.
func (a *API) answerEvent(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	req, err := bind[answerRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	status := map[string]string{"accept": event.AnswerAccepted, "decline": event.AnswerDeclined,
		"question": event.AnswerQuestion}[req.Answer]
	if a.invitations != nil && ids.Valid(id) {
		// The invitation's page keeps the thread: answer through it.
		v := invitation.Viewer{User: u.ID}
		if act := actorOf(r); act.Acting() {
			v.Delegate = act.Delegate.ID
		}
		if code, err := a.invitations.Find(r.Context(), invitation.Of{EventID: id, InviteeID: u.ID}, v); err == nil {
			if _, err := a.invitations.Answer(r.Context(), code, v, invitation.Answer{Answer: req.Answer, Text: req.Text}); err != nil {
				a.writeError(w, r, err)
				return
			}
			list, err := a.events.Invitations(r.Context(), u.ID, id)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			for _, inv := range list {
				if inv.UserID == u.ID {
					writeJSON(w, http.StatusOK, a.viewEventInvitation(r, inv))
					return
				}
			}
		}
	}
	inv, err := a.events.Answer(r.Context(), u.ID, id, status, req.Text)
	if err != nil && inv.EventID == "" {
		a.writeError(w, r, err)
		return
	}
	a.logNotifyError(r, err)
	writeJSON(w, http.StatusOK, a.viewEventInvitation(r, inv))
}

func (a *API) subscribe(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	if err := a.events.Subscribe(r.Context(), u.ID, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	err := a.events.Unsubscribe(r.Context(), u.ID, r.PathValue("id"))
	if err != nil && !errors.Is(err, event.ErrClosed) {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}
