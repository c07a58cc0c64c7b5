package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/invitation"
)

// InvitationKeyHeader carries the key of an invitation's link (the #k= of
// /i/{code}#k=KEY, which browsers never send by themselves): whoever holds it is
// the invitee of a page nobody claimed yet.
const InvitationKeyHeader = "Townhall-Invitation-Key"

// MaxPageBody is the largest body the answer endpoints of a page read: a name
// and 280 characters fit many times over.
const MaxPageBody = 4 << 10

type pageAnswerRequest struct {
	Answer string `json:"answer"` // accept, decline or question
	Name   string `json:"name"`   // without an account: who answers
	Text   string `json:"text"`
}

func (r *pageAnswerRequest) validate() error {
	switch r.Answer {
	case invitation.AnswerAccept, invitation.AnswerDecline, invitation.AnswerQuestion:
		return nil
	case "":
		return missing("answer")
	}
	return fmt.Errorf("%w: answer must be accept, decline or question", errInvalid)
}

type pageReplyRequest struct {
	Text string `json:"text"`
}

func (r *pageReplyRequest) validate() error {
	if r.Text == "" {
		return missing("text")
	}
	return nil
}

type pagePatchRequest struct {
	Public *bool `json:"public"`
}

func (r *pagePatchRequest) validate() error {
	if r.Public == nil {
		return missing("public")
	}
	return nil
}

type pageSignupRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
	Accept      bool   `json:"accept"` // accept the invitation at once
}

func (r *pageSignupRequest) validate() error {
	if r.Username == "" {
		return missing("username")
	}
	if r.Password == "" {
		return missing("password")
	}
	return nil
}

// pageOutcome is the answer to an accepted invitation: where it leads.
type pageOutcome struct {
	Status  string `json:"status"`
	ToStage bool   `json:"to_stage"`
	RoomID  string `json:"room_id,omitempty"`
	RoomURL string `json:"room_url,omitempty"`
	EventID string `json:"event_id,omitempty"`
}

// viewerFunc is a handler of a page, which anyone may ask for.
type viewerFunc func(w http.ResponseWriter, r *http.Request, v invitation.Viewer)

// viewer runs f for whoever asks: someone without a session (or whose session
// is over) with the link's key or not, or a signed-in user in person or as a
// delegate with the invitations scope (as: refused outside it, and written to
// the owner's audit log).
func (a *API) viewer(f viewerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.invitations == nil {
			writeCode(w, errcode.Unavailable, "invitation pages are not available")
			return
		}
		key := r.Header.Get(InvitationKeyHeader)
		if r.Header.Get(ActingAsHeader) == "" {
			if _, _, err := a.accounts.Authenticate(r.Context(), token(r)); errors.Is(err, account.ErrUnauthenticated) {
				f(w, r, invitation.Viewer{Key: key})
				return
			}
		}
		a.as(account.ScopeInvitations, func(w http.ResponseWriter, r *http.Request, u account.User) {
			v := invitation.Viewer{User: u.ID, Key: key}
			if act := actorOf(r); act.Acting() {
				v.Delegate = act.Delegate.ID
			}
			f(w, r, v)
		}).ServeHTTP(w, r)
	})
}

// getPage answers the page of an invitation with an ETag: the signed-out page
// polls it (If-None-Match), and a page that did not change costs a 304.
func (a *API) getPage(w http.ResponseWriter, r *http.Request, v invitation.Viewer) {
	view, err := a.invitations.Get(r.Context(), r.PathValue("code"), v)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := json.Marshal(view)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Cookie, Authorization, "+InvitationKeyHeader+", "+ActingAsHeader)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// limitPost spends from the page's budget of posts, and, without an account,
// from the address's: 429 when either is empty.
func (a *API) limitPost(w http.ResponseWriter, r *http.Request, v invitation.Viewer) bool {
	if v.User == "" {
		if d := a.pagePostsByIP.wait(a.clientAddr(r)); d > 0 {
			tooMany(w, d)
			return false
		}
	}
	if d := a.pagePosts.wait(r.PathValue("code")); d > 0 {
		tooMany(w, d)
		return false
	}
	return true
}

// answerPage records the invitee's side's answer: accept (with an account),
// decline or a question (with or without one).
func (a *API) answerPage(w http.ResponseWriter, r *http.Request, v invitation.Viewer) {
	req, err := bindLimit[pageAnswerRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !a.limitPost(w, r, v) {
		return
	}
	out, err := a.invitations.Answer(r.Context(), r.PathValue("code"), v,
		invitation.Answer{Answer: req.Answer, Name: req.Name, Text: req.Text})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := map[string]string{invitation.AnswerAccept: invitation.StatusAccepted,
		invitation.AnswerDecline: invitation.StatusDeclined, invitation.AnswerQuestion: invitation.StatusQuestion}[req.Answer]
	writeJSON(w, http.StatusOK, a.viewOutcome(status, out))
}

func (a *API) viewOutcome(status string, out invitation.Outcome) pageOutcome {
	v := pageOutcome{Status: status, ToStage: out.ToStage, RoomID: out.RoomID, EventID: out.EventID}
	if out.RoomID != "" {
		v.RoomURL = a.publicURL + "/rooms/" + out.RoomID
	}
	return v
}

// replyPage adds the inviter's side's reply to the thread.
func (a *API) replyPage(w http.ResponseWriter, r *http.Request, v invitation.Viewer) {
	req, err := bindLimit[pageReplyRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !a.limitPost(w, r, v) {
		return
	}
	if err := a.invitations.Reply(r.Context(), r.PathValue("code"), v, req.Text); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

// patchPage makes a page public or private: the inviter's side.
func (a *API) patchPage(w http.ResponseWriter, r *http.Request, v invitation.Viewer) {
	req, err := bindLimit[pagePatchRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.invitations.SetPublic(r.Context(), r.PathValue("code"), v, *req.Public); err != nil {
		a.writeError(w, r, err)
		return
	}
	view, err := a.invitations.Get(r.Context(), r.PathValue("code"), v)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// signupFromPage makes an account for the holder of a page's key, with the
// page's sign-up code, makes the page theirs, accepts it if asked, and signs
// them in. Limited per address as sign-up is.
func (a *API) signupFromPage(w http.ResponseWriter, r *http.Request) {
	if a.invitations == nil {
		writeCode(w, errcode.Unavailable, "invitation pages are not available")
		return
	}
	if d := a.loginByIP.wait(a.clientAddr(r)); d > 0 {
		tooMany(w, d)
		return
	}
	req, err := bindLimit[pageSignupRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	code, key := r.PathValue("code"), r.Header.Get(InvitationKeyHeader)
	signup, err := a.invitations.SignupCode(r.Context(), code, key)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	u, _, err := a.accounts.SignUp(r.Context(), account.SignUp{Username: req.Username, DisplayName: req.DisplayName,
		Password: req.Password, InviteCode: signup})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.invitations.Claim(r.Context(), code, key, u.ID); err != nil {
		a.log.WarnContext(r.Context(), "claiming an invitation after a sign-up from its page", "err", err)
	}
	var out *pageOutcome
	if req.Accept {
		o, err := a.invitations.Answer(r.Context(), code, invitation.Viewer{User: u.ID}, invitation.Answer{Answer: invitation.AnswerAccept})
		if err != nil {
			a.log.WarnContext(r.Context(), "accepting an invitation after a sign-up from its page", "err", err)
		} else {
			v := a.viewOutcome(invitation.StatusAccepted, o)
			out = &v
		}
	}
	tok, sess, u, err := a.accounts.Login(r.Context(), req.Username, req.Password, r.UserAgent())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	setSessionCookie(w, r, tok, sess.ExpiresAt)
	view := loginView{Token: tok, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt, User: viewMe(u)}
	if out != nil {
		view.RoomID = out.RoomID
	}
	writeJSON(w, http.StatusCreated, struct {
		loginView
		Invitation *pageOutcome `json:"invitation,omitempty"`
	}{view, out})
}

// myPages lists the invitations the user (or the account a delegate acts for)
// sent and received, with their threads.
func (a *API) myPages(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.invitations == nil {
		writeCode(w, errcode.Unavailable, "invitation pages are not available")
		return
	}
	v := invitation.Viewer{User: u.ID}
	if act := actorOf(r); act.Acting() {
		v.Delegate = act.Delegate.ID
	}
	sent, received, err := a.invitations.Mine(r.Context(), v)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": sent, "received": received})
}

// roomPublicPages lists a room's public invitations to whoever may see the room.
func (a *API) roomPublicPages(w http.ResponseWriter, r *http.Request, v invitation.Viewer) {
	id := r.PathValue("id")
	if _, err := a.hub.RoomInfo(r.Context(), v.User, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.publicPages(w, r, invitation.Of{RoomID: id}, v)
}

// eventPublicPages lists an event's public invitations to whoever may see it.
func (a *API) eventPublicPages(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.eventsOn(w, r) {
		return
	}
	id := r.PathValue("id")
	if _, err := a.events.Get(r.Context(), u.ID, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.publicPages(w, r, invitation.Of{EventID: id}, invitation.Viewer{User: u.ID})
}

// userPublicPages lists the public invitations a user sent (their profile).
func (a *API) userPublicPages(w http.ResponseWriter, r *http.Request, u account.User) {
	t, _, err := a.accounts.Lookup(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.publicPages(w, r, invitation.Of{InviterID: t.ID}, invitation.Viewer{User: u.ID})
}

func (a *API) publicPages(w http.ResponseWriter, r *http.Request, of invitation.Of, v invitation.Viewer) {
	if a.invitations == nil {
		writeCode(w, errcode.Unavailable, "invitation pages are not available")
		return
	}
	list, err := a.invitations.Public(r.Context(), of, v, 20)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": list})
}
