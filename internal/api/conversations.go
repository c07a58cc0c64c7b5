package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
)

type inviteRequest struct {
	Usernames []string `json:"usernames"`
	Message   string   `json:"message"`
	Link      bool     `json:"link"`   // also invite someone without an account, through a link
	Name      string   `json:"name"`   // their name, as the inviter gives it (with link)
	Public    bool     `json:"public"` // anyone may read the invitations and their threads
}

func (r *inviteRequest) validate() error {
	if len(r.Usernames) == 0 && !r.Link {
		return fmt.Errorf("%w: name at least one username, or ask for a link", errInvalid)
	}
	if len(r.Usernames) > room.MaxInvitees {
		return fmt.Errorf("%w: at most %d usernames", errInvalid, room.MaxInvitees)
	}
	return nil
}

type answerRequest struct {
	Answer string `json:"answer"` // accept, decline or question
	Text   string `json:"text"`
}

func (r *answerRequest) validate() error { return nil }

type pingRequest struct {
	Username string `json:"username"`
}

func (r *pingRequest) validate() error {
	if r.Username == "" {
		return missing("username")
	}
	return nil
}

type markReadRequest struct {
	IDs []string `json:"ids"` // empty: all
}

func (r *markReadRequest) validate() error {
	if len(r.IDs) > 500 {
		return fmt.Errorf("%w: at most 500 ids", errInvalid)
	}
	for _, id := range r.IDs {
		if !ids.Valid(id) {
			return fmt.Errorf("%w: %q is not a notification ID", errInvalid, id)
		}
	}
	return nil
}

type recipientView struct {
	User       userView  `json:"user"`
	Status     string    `json:"status"`
	Text       string    `json:"text,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Code       string    `json:"code,omitempty"` // the invitation's page, /i/{code}
	URL        string    `json:"url,omitempty"`
}

// pageLinkView is the page of an invitation just sent to someone without an
// account: InviteeURL, which carries the page's key, is the link to send them.
type pageLinkView struct {
	Code       string `json:"code"`
	URL        string `json:"url"`
	InviteeURL string `json:"invitee_url"`
	Public     bool   `json:"public"`
}

type invitationView struct {
	ID         string          `json:"id,omitempty"` // empty when only a link was asked for
	RoomID     string          `json:"room_id"`
	From       userView        `json:"from"`
	Message    string          `json:"message"`
	ToStage    bool            `json:"to_stage"`
	CreatedAt  time.Time       `json:"created_at,omitzero"`
	Recipients []recipientView `json:"recipients,omitempty"`
	// Link is the bare sign-up link of someone without an account (/join/...),
	// as before pages existed; Invitation is the page to send them instead.
	Link       string        `json:"link,omitempty"`
	Invitation *pageLinkView `json:"invitation,omitempty"`
}

// invite sends an invitation to a conversation. Usernames that do not exist, or
// that a block separates from the inviter, are refused as not found; each counts
// as a look-up.
func (a *API) invite(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[inviteRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	roomID := r.PathValue("id")
	users, err := a.lookUp(r, u, req.Usernames, func(t account.User, rel account.Relation) bool {
		return !rel.Blocked() && t.ID != u.ID
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var to []live.Person
	for _, t := range users {
		to = append(to, personOf(t))
	}
	view := invitationView{RoomID: roomID, From: viewSummary(account.SummaryOf(u)), Message: req.Message}
	if len(to) > 0 {
		inv, err := a.hub.Invite(r.Context(), personOf(u), roomID, to, req.Message)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		view.ID, view.ToStage, view.CreatedAt = inv.ID, inv.ToStage, inv.CreatedAt
		pages := map[string]invitation.Created{}
		if a.invitations != nil {
			var news []invitation.NewPage
			for _, p := range to {
				news = append(news, invitation.NewPage{Target: invitation.Target{RoomID: roomID}, InviterID: u.ID,
					InviteeID: p.ID, InvitationID: inv.ID, Message: req.Message, ToStage: inv.ToStage, Public: req.Public})
			}
			made, err := a.invitations.Create(r.Context(), news)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			for _, c := range made {
				pages[c.InviteeID] = c
			}
		}
		for _, p := range to {
			rv := recipientView{User: userView{ID: p.ID, Username: p.Username, DisplayName: p.DisplayName}, Status: live.AnswerPending}
			if c, ok := pages[p.ID]; ok {
				rv.Code, rv.URL = c.Code, c.URL
			}
			view.Recipients = append(view.Recipients, rv)
		}
	}
	if req.Link {
		if _, err := a.hub.RoomInfo(r.Context(), u.ID, roomID); err != nil {
			a.writeError(w, r, err)
			return
		}
		if err := a.hub.MayInvite(r.Context(), roomID, personOf(u)); err != nil {
			a.writeError(w, r, err)
			return
		}
		code, err := a.accounts.CreateRoomInvite(r.Context(), u, roomID)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		view.Link = a.publicURL + "/join/" + code.Code
		if a.invitations != nil {
			toStage := false
			if e, ok := a.hub.Look(roomID); ok {
				for _, p := range e.Stage {
					toStage = toStage || p.ID == u.ID && p.Role == room.Moderator
				}
			}
			made, err := a.invitations.Create(r.Context(), []invitation.NewPage{{Target: invitation.Target{RoomID: roomID},
				InviterID: u.ID, InviteeName: req.Name, SignupCode: code.Code, Message: req.Message, ToStage: toStage, Public: req.Public}})
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			view.Invitation = &pageLinkView{Code: made[0].Code, URL: made[0].URL, InviteeURL: made[0].KeyURL, Public: req.Public}
		}
	}
	writeJSON(w, http.StatusCreated, view)
}

func (a *API) viewInvitation(r *http.Request, inv live.Invitation, recips []live.Recipient) invitationView {
	v := invitationView{ID: inv.ID, RoomID: inv.RoomID, Message: inv.Message, ToStage: inv.ToStage, CreatedAt: inv.CreatedAt}
	v.From = a.userViewByID(r, inv.InviterID)
	viewer := actorOf(r).Principal.ID
	for _, rc := range recips {
		rv := recipientView{User: a.userViewByID(r, rc.UserID), Status: rc.Status, Text: rc.Text, AnsweredAt: rc.AnsweredAt}
		if a.invitations != nil && (viewer == inv.InviterID || viewer == rc.UserID) {
			code, err := a.invitations.Find(r.Context(), invitation.Of{InvitationID: inv.ID, InviteeID: rc.UserID},
				invitation.Viewer{User: viewer})
			if err == nil {
				rv.Code, rv.URL = code, a.invitations.URL(code)
			}
		}
		v.Recipients = append(v.Recipients, rv)
	}
	return v
}

func (a *API) userViewByID(r *http.Request, id string) userView {
	s, err := a.accounts.SummaryByID(r.Context(), id)
	if err != nil {
		return userView{ID: id}
	}
	return viewSummary(s)
}

func (a *API) getInvitation(w http.ResponseWriter, r *http.Request, u account.User) {
	inv, recips, err := a.hub.InvitationFor(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.viewInvitation(r, inv, recips))
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request, u account.User) {
	received, sent, err := a.hub.Invitations(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := struct {
		Received []invitationView `json:"received"`
		Sent     []invitationView `json:"sent"`
	}{Received: []invitationView{}, Sent: []invitationView{}}
	for _, x := range received {
		out.Received = append(out.Received, a.viewInvitation(r, x.Invitation, x.Recipients))
	}
	for _, x := range sent {
		out.Sent = append(out.Sent, a.viewInvitation(r, x.Invitation, x.Recipients))
	}
	writeJSON(w, http.StatusOK, out)
}

// answerInvitation records an invitee's answer: accept, decline, or a question.
func (a *API) answerInvitation(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[answerRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if a.invitations != nil && ids.Valid(id) {
		// The invitation's page keeps the thread: answer through it.
		v := invitation.Viewer{User: u.ID}
		if act := actorOf(r); act.Acting() {
			v.Delegate = act.Delegate.ID
		}
		if code, err := a.invitations.Find(r.Context(), invitation.Of{InvitationID: id, InviteeID: u.ID}, v); err == nil {
			_, err := a.invitations.Answer(r.Context(), code, v, invitation.Answer{Answer: req.Answer, Text: req.Text})
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			inv, _, err := a.hub.InvitationFor(r.Context(), u.ID, id)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"invitation_id": inv.ID, "room_id": inv.RoomID, "answer": req.Answer, "code": code})
			return
		}
	}
	status := map[string]string{"accept": live.AnswerAccepted, "decline": live.AnswerDeclined, "question": live.AnswerQuestion}[req.Answer]
	inv, err := a.hub.Answer(r.Context(), personOf(u), id, status, req.Text)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitation_id": inv.ID, "room_id": inv.RoomID, "answer": req.Answer})
}

func (a *API) ping(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[pingRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	users, err := a.lookUp(r, u, []string{req.Username}, nil)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.hub.Ping(r.Context(), personOf(u), r.PathValue("id"), personOf(users[0])); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request, u account.User) {
	before := r.URL.Query().Get("before")
	if before != "" && !ids.Valid(before) {
		a.writeError(w, r, errBadCursor)
		return
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.hub.Notifications(r.Context(), u.ID, before, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]live.NotificationView, len(list))
	for i, n := range list {
		out[i] = live.ViewNotification(n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out})
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[markReadRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.hub.MarkRead(r.Context(), u.ID, req.IDs); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}
