package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// errNoService answers a route whose service the server was built without.
var errNoService = errcode.New(errcode.Unavailable, "this feature is not enabled on this server")

type clubRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Rules       string `json:"rules"`
	Approval    bool   `json:"approval"` // joining takes an admin's approval
}

func (r *clubRequest) validate() error {
	if r.Name == "" {
		return missing("name")
	}
	return nil // the club service checks lengths
}

type clubPatchRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Rules       *string `json:"rules"`
	Approval    *bool   `json:"approval"`
}

func (r *clubPatchRequest) validate() error {
	if r.Name == nil && r.Description == nil && r.Rules == nil && r.Approval == nil {
		return fmt.Errorf("%w: nothing to change", errInvalid)
	}
	return nil
}

type roleRequest struct {
	Role club.Role `json:"role"`
}

func (r *roleRequest) validate() error {
	if !r.Role.Valid() {
		return club.ErrInvalidRole
	}
	return nil
}

type decisionRequest struct {
	Approve *bool `json:"approve"`
}

func (r *decisionRequest) validate() error {
	if r.Approve == nil {
		return missing("approve")
	}
	return nil
}

type clubRoomRequest struct {
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Type        room.Type `json:"type"`
	MembersOnly bool      `json:"members_only"`
	// Record records the room for a replay (everyone is told), as for any room.
	Record     bool `json:"record"`
	AllowClips bool `json:"allow_clips"`
	Captions   bool `json:"captions"`
}

func (r *clubRoomRequest) validate() error { return nil } // the room validates its config

type clubView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Rules       string    `json:"rules"`
	Approval    bool      `json:"approval"`
	Members     int       `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
	YourRole    club.Role `json:"your_role,omitempty"`
}

func viewClub(c club.Club, role club.Role) clubView {
	return clubView{ID: c.ID, Name: c.Name, Description: c.Description, Rules: c.Rules, Approval: c.Approval,
		Members: c.Members, CreatedAt: c.CreatedAt, YourRole: role}
}

type memberView struct {
	User     userView  `json:"user"`
	Role     club.Role `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

// clubsOn checks the club service is there.
func (a *API) clubsOn(w http.ResponseWriter, r *http.Request) bool {
	if a.clubs == nil {
		a.writeError(w, r, errNoService)
		return false
	}
	return true
}

func (a *API) createClub(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	req, err := bind[clubRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.clubs.Create(r.Context(), u.ID, club.Details{Name: req.Name, Description: req.Description,
		Rules: req.Rules, Approval: req.Approval})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewClub(c, club.RoleAdmin))
}

func (a *API) myClubs(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	list, err := a.clubs.Clubs(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]clubView, len(list))
	for i, m := range list {
		out[i] = viewClub(m.Club, m.Role)
	}
	writeJSON(w, http.StatusOK, map[string]any{"clubs": out})
}

func (a *API) getClub(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	c, role, err := a.clubs.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewClub(c, role))
}

func (a *API) updateClub(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	req, err := bind[clubPatchRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	c, _, err := a.clubs.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d := club.Details{Name: c.Name, Description: c.Description, Rules: c.Rules, Approval: c.Approval}
	if req.Name != nil {
		d.Name = *req.Name
	}
	if req.Description != nil {
		d.Description = *req.Description
	}
	if req.Rules != nil {
		d.Rules = *req.Rules
	}
	if req.Approval != nil {
		d.Approval = *req.Approval
	}
	c, err = a.clubs.Update(r.Context(), u.ID, c.ID, d)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewClub(c, club.RoleAdmin))
}

// joinClub joins an open club (200, "member") or files a request to join one by
// approval (202, "requested").
func (a *API) joinClub(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	joined, err := a.clubs.Join(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if joined {
		writeJSON(w, http.StatusOK, map[string]string{"status": "member"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "requested"})
}

func (a *API) leaveClub(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	if err := a.clubs.Leave(r.Context(), u.ID, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) clubMembers(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.clubs.Members(r.Context(), u.ID, r.PathValue("id"), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]memberView, len(list))
	for i, m := range list {
		out[i] = memberView{User: a.userViewByID(r, m.UserID), Role: m.Role, JoinedAt: m.JoinedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
}

// member resolves the {username} of the path to a user ID.
func (a *API) member(r *http.Request, u account.User) (string, error) {
	t, _, err := a.accounts.Lookup(r.Context(), u, r.PathValue("username"))
	return t.ID, err
}

func (a *API) setClubRole(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	req, err := bind[roleRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id, err := a.member(r, u)
	if err == nil {
		err = a.clubs.SetRole(r.Context(), u.ID, r.PathValue("id"), id, req.Role)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) removeClubMember(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	id, err := a.member(r, u)
	if err == nil {
		err = a.clubs.Remove(r.Context(), u.ID, r.PathValue("id"), id)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

func (a *API) clubRequests(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	list, err := a.clubs.Requests(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	type requestView struct {
		User      userView  `json:"user"`
		CreatedAt time.Time `json:"created_at"`
	}
	out := make([]requestView, len(list))
	for i, q := range list {
		out[i] = requestView{User: a.userViewByID(r, q.UserID), CreatedAt: q.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (a *API) decideClubRequest(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	req, err := bind[decisionRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id, err := a.member(r, u)
	if err == nil {
		err = a.clubs.Decide(r.Context(), u.ID, r.PathValue("id"), id, *req.Approve)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

// startClubRoom opens a room of the club (leaders and admins).
func (a *API) startClubRoom(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.clubsOn(w, r) {
		return
	}
	req, err := bind[clubRoomRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Record && a.noRecording != "" {
		a.writeError(w, r, errcode.New(errcode.Unavailable, a.noRecording))
		return
	}
	clubID := r.PathValue("id")
	roomID, err := a.clubs.StartRoom(r.Context(), u.ID, clubID, club.RoomRequest{Title: req.Title,
		Description: req.Description, Type: req.Type, MembersOnly: req.MembersOnly,
		Record: req.Record, AllowClips: req.AllowClips, Captions: req.Captions})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": roomID, "club_id": clubID, "members_only": req.MembersOnly,
		"url": a.publicURL + "/rooms/" + roomID})
}
