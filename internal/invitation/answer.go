package invitation

import (
	"context"
	"errors"
	"fmt"
)

// Answers of the invitee's side.
const (
	AnswerAccept   = "accept"
	AnswerDecline  = "decline"
	AnswerQuestion = "question"
)

// Answer is what the invitee's side says: accept, decline or question, a text
// (the question, or a note), and, without an account, the name they give.
type Answer struct {
	Answer string
	Name   string
	Text   string
}

// Outcome is where an accepted invitation leads.
type Outcome struct {
	ToStage bool   // the invitee lands on stage when they join (the inviter moderates or hosts)
	RoomID  string // the room to join, if it is open now
	EventID string // the event, for an invitation to one
}

// notice is the data of the notifications of a page's thread.
type notice struct {
	Code         string  `json:"code"`
	InvitationID string  `json:"invitation_id,omitempty"`
	RoomID       string  `json:"room_id,omitempty"`
	EventID      string  `json:"event_id,omitempty"`
	Title        string  `json:"title,omitempty"`
	From         Person  `json:"from"`
	By           *Person `json:"by,omitempty"` // the delegate who wrote it for From
	Answer       string  `json:"answer,omitempty"`
	Text         string  `json:"text,omitempty"`
}

// Answer records the answer of the invitee's side: in person, a delegate with
// the invitations scope, or whoever holds the key of a page nobody claimed yet
// (without an account: decline or ask, giving a name; signed in: also accept,
// which makes the page theirs). A declined or expired invitation takes no more.
func (s *Service) Answer(ctx context.Context, code string, v Viewer, a Answer) (Outcome, error) {
	inv, _, r, err := s.load(ctx, code, v)
	if err != nil {
		return Outcome{}, err
	}
	if r.side != SideInvitee {
		if r.side == SideInviter {
			return Outcome{}, ErrYourOwn
		}
		if inv.InviteeID != "" && inv.KeyOpens(v.Key) {
			return Outcome{}, ErrClaimed
		}
		return Outcome{}, ErrForbidden
	}
	text, err := CleanText(a.Text, MaxText, true)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: text: %v", ErrInvalid, err)
	}
	name := ""
	switch a.Answer {
	case AnswerAccept, AnswerDecline:
	case AnswerQuestion:
		if text == "" {
			return Outcome{}, fmt.Errorf("%w: a question needs its text", ErrInvalid)
		}
	default:
		return Outcome{}, fmt.Errorf("%w: answer must be accept, decline or question", ErrInvalid)
	}
	if r.keyOnly && !r.mayClaim {
		if a.Answer == AnswerAccept {
			return Outcome{}, ErrNeedAccount
		}
		if name, err = CleanText(a.Name, MaxName, false); err != nil {
			return Outcome{}, fmt.Errorf("%w: name: %v", ErrInvalid, err)
		}
		if name == "" {
			if a.Answer == AnswerQuestion {
				return Outcome{}, fmt.Errorf("%w: say who asks (a name)", ErrInvalid)
			}
			name = inv.InviteeName
		}
	}
	t, err := s.target(ctx, inv)
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case s.expired(inv, t):
		return Outcome{}, ErrExpired
	case inv.Status == StatusDeclined:
		return Outcome{}, ErrDeclined
	case a.Answer == AnswerAccept && inv.Status == StatusAccepted:
		return s.outcome(inv, t, inv.ToStage), nil
	}
	if r.mayClaim {
		if err := s.claim(ctx, &inv, v.User); err != nil {
			return Outcome{}, err
		}
	}
	kind, status := postOf(a.Answer)
	p := Post{Side: SideInvitee, Kind: kind, AuthorID: authorOf(v), ForID: forOf(v), Name: name, Text: text, At: s.now()}
	// The post is stored before the inviter is told, so that what they read
	// when told has it; but after what may still refuse the answer (a room that
	// cannot take them, an event that started): the room's invitation takes any
	// question or decline.
	early := inv.InvitationID != "" && a.Answer != AnswerAccept
	if early {
		if _, err := s.opts.Store.AddInvitationPost(ctx, code, p, status, MaxPosts); err != nil {
			return Outcome{}, err
		}
	}
	out, told, err := s.act(ctx, inv, t, v, a.Answer, text)
	if err != nil {
		return Outcome{}, err
	}
	if !early {
		if _, err := s.opts.Store.AddInvitationPost(ctx, code, p, status, MaxPosts); err != nil {
			return Outcome{}, err
		}
	}
	if !told {
		from := Person{DisplayName: name, Guest: true}
		if inv.InviteeID != "" {
			from = s.person(ctx, inv.InviteeID)
		}
		n := s.noticeOf(ctx, inv, t, from, v)
		n.Answer, n.Text = status, text
		if err := s.notify(ctx, inv.InviterID, KindAnswer, inv.InviteeID, n); err != nil {
			return out, err
		}
	}
	return out, nil
}

// postOf returns the kind of post and the status of an answer.
func postOf(answer string) (kind, status string) {
	switch answer {
	case AnswerAccept:
		return PostAccepted, StatusAccepted
	case AnswerDecline:
		return PostDeclined, StatusDeclined
	}
	return PostQuestion, StatusQuestion
}

// act does what an answer does beyond the thread, through the room's or the
// event's own invitation when the invitee has an account: told says whether
// that told the inviter already.
func (s *Service) act(ctx context.Context, inv Invitation, t target, v Viewer, answer, text string) (Outcome, bool, error) {
	_, status := postOf(answer)
	switch {
	case inv.InviteeID == "": // someone without an account: only the page knows
		return Outcome{}, false, nil
	case inv.EventID != "":
		if err := s.opts.Events.Answer(ctx, inv.InviteeID, inv.EventID, status, text); err != nil {
			return Outcome{}, false, err
		}
		return s.outcome(inv, t, inv.ToStage), true, nil
	case inv.InvitationID != "":
		if err := s.opts.Rooms.Answer(ctx, inv.InvitationID, s.person(ctx, inv.InviteeID), status, text); err != nil {
			return Outcome{}, false, err
		}
		return s.outcome(inv, t, inv.ToStage), true, nil
	case answer == AnswerAccept: // a link to a room, claimed
		toStage, err := s.opts.Rooms.Accept(ctx, inv.RoomID, inv.InviterID, inv.InviteeID)
		if err != nil {
			return Outcome{}, false, err
		}
		return s.outcome(inv, t, toStage), false, nil
	}
	return Outcome{}, false, nil
}

// outcome says where an accepted invitation leads.
func (s *Service) outcome(inv Invitation, t target, toStage bool) Outcome {
	o := Outcome{ToStage: toStage, EventID: inv.EventID}
	if t.room != nil && t.room.State != "ended" {
		o.RoomID = t.room.ID
	}
	return o
}

// claim makes a page nobody claimed the signed-in user's: someone invited
// without an account who logged in or signed up. A block between them and the
// inviter refuses it; a page to an event makes them one of its invitees.
func (s *Service) claim(ctx context.Context, inv *Invitation, user string) error {
	if user == inv.InviterID {
		return ErrYourOwn
	}
	blocked, err := s.opts.People.Blocked(ctx, user, inv.InviterID)
	if err != nil {
		return err
	}
	if blocked {
		return ErrBlocked
	}
	if err := s.opts.Store.ClaimInvitationPage(ctx, inv.Code, user, s.now()); err != nil {
		return err
	}
	inv.InviteeID = user
	if inv.EventID != "" {
		return s.opts.Events.Invite(ctx, inv.InviterID, inv.EventID, user, inv.Message)
	}
	return nil
}

// Claim makes the page of code, opened with key, the user's who just signed up
// from it (or logged in there).
func (s *Service) Claim(ctx context.Context, code, key, user string) error {
	inv, _, r, err := s.load(ctx, code, Viewer{User: user, Key: key})
	if err != nil {
		return err
	}
	if r.side == SideInvitee && !r.keyOnly {
		return nil // theirs already
	}
	if !r.mayClaim {
		if inv.InviteeID != "" {
			return ErrClaimed
		}
		return ErrForbidden
	}
	return s.claim(ctx, &inv, user)
}

// ClaimBySignup makes the page whose sign-up code someone just used the new
// account's, and accepts it for them: signing up through the sign-up link of a
// conversation (/join/{code}) lands in it, as it always did. found is false for
// a code that belongs to no page.
func (s *Service) ClaimBySignup(ctx context.Context, signupCode, user string) (found bool, out Outcome, err error) {
	inv, err := s.opts.Store.InvitationPageBySignup(ctx, signupCode)
	if errors.Is(err, ErrNotFound) {
		return false, Outcome{}, nil
	}
	if err != nil {
		return false, Outcome{}, err
	}
	t, err := s.target(ctx, inv)
	if err != nil {
		return true, Outcome{}, err
	}
	if err := s.claim(ctx, &inv, user); err != nil {
		return true, Outcome{}, err
	}
	if s.expired(inv, t) {
		return true, Outcome{}, nil
	}
	out, told, err := s.act(ctx, inv, t, Viewer{User: user}, AnswerAccept, "")
	if err != nil {
		return true, out, err
	}
	p := Post{Side: SideInvitee, Kind: PostAccepted, AuthorID: user, At: s.now()}
	if _, err := s.opts.Store.AddInvitationPost(ctx, inv.Code, p, StatusAccepted, MaxPosts); err != nil {
		return true, out, err
	}
	if !told {
		n := s.noticeOf(ctx, inv, t, s.person(ctx, user), Viewer{})
		n.Answer = StatusAccepted
		err = s.notify(ctx, inv.InviterID, KindAnswer, user, n)
	}
	return true, out, err
}

// Reply adds the inviter's side's answer to the thread: in person or a
// delegate with the invitations scope. An expired invitation takes no more.
func (s *Service) Reply(ctx context.Context, code string, v Viewer, text string) error {
	inv, _, r, err := s.load(ctx, code, v)
	if err != nil {
		return err
	}
	if r.side != SideInviter {
		return ErrForbidden
	}
	text, err = CleanText(text, MaxText, true)
	if err != nil {
		return fmt.Errorf("%w: text: %v", ErrInvalid, err)
	}
	if text == "" {
		return fmt.Errorf("%w: a reply needs its text", ErrInvalid)
	}
	t, err := s.target(ctx, inv)
	if err != nil {
		return err
	}
	if s.expired(inv, t) {
		return ErrExpired
	}
	p := Post{Side: SideInviter, Kind: PostReply, AuthorID: authorOf(v), ForID: forOf(v), Text: text, At: s.now()}
	if _, err := s.opts.Store.AddInvitationPost(ctx, code, p, "", MaxPosts); err != nil {
		return err
	}
	if inv.InviteeID == "" {
		return nil // someone without an account reads it on the page
	}
	n := s.noticeOf(ctx, inv, t, s.person(ctx, inv.InviterID), v)
	n.Text = text
	return s.notify(ctx, inv.InviteeID, KindReply, inv.InviterID, n)
}

// SetPublic makes a page public (anyone may read it, on the inviter's profile
// and the room's or event's page) or private again: the inviter's side.
func (s *Service) SetPublic(ctx context.Context, code string, v Viewer, public bool) error {
	inv, _, r, err := s.load(ctx, code, v)
	if err != nil {
		return err
	}
	if r.side != SideInviter {
		return ErrForbidden
	}
	if public {
		if err := s.mayBePublic(ctx, Target{RoomID: inv.RoomID, EventID: inv.EventID}); err != nil {
			return err
		}
	}
	return s.opts.Store.SetInvitationPublic(ctx, code, public, s.now())
}

// authorOf is who writes for v: the delegate, or the account in person ("" for
// someone without one).
func authorOf(v Viewer) string {
	if v.Delegate != "" {
		return v.Delegate
	}
	return v.User
}

// forOf is the account a delegate writes for ("" in person).
func forOf(v Viewer) string {
	if v.Delegate != "" {
		return v.User
	}
	return ""
}

// person names an account (its ID alone if it cannot be read).
func (s *Service) person(ctx context.Context, id string) Person {
	p, err := s.opts.People.Person(ctx, id)
	if err != nil {
		return Person{ID: id}
	}
	return p
}

func (s *Service) noticeOf(ctx context.Context, inv Invitation, t target, from Person, v Viewer) notice {
	n := notice{Code: inv.Code, InvitationID: inv.InvitationID, RoomID: inv.RoomID, EventID: inv.EventID, From: from}
	switch {
	case t.event != nil:
		n.Title = t.event.Title
	case t.room != nil:
		n.Title = t.room.Title
	}
	if v.Delegate != "" {
		by := s.person(ctx, v.Delegate)
		n.By = &by
	}
	return n
}

func (s *Service) notify(ctx context.Context, user, kind, sender string, data any) error {
	if s.opts.Notifier == nil || user == "" {
		return nil
	}
	return s.opts.Notifier.Notify(ctx, user, kind, sender, data)
}
