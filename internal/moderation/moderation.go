// Package moderation holds what keeps a townhall civil: reports that anyone signed
// in makes about a user, a room, a chat message or an invitation, the admins'
// queue of them, and the audit log of what admins did.
//
// A report is generic: a kind, the ID of what is reported, a reason from a fixed
// list, free text, and a snapshot of the context taken when it was made (rooms
// end and messages go; the admin reads what the reporter saw). The caller
// resolves the target (does it exist, may the reporter see it, whom is it about)
// and hands the snapshot in: this package knows nothing of rooms or chat.
package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
)

// Kind is what a report is about.
type Kind string

// The kinds of report.
const (
	KindUser       Kind = "user"       // a person: their profile, their name, their photo
	KindRoom       Kind = "room"       // a live room: its title, what is said in it
	KindMessage    Kind = "message"    // a message of a room's chat
	KindInvitation Kind = "invitation" // an invitation to a conversation
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{KindUser, KindRoom, KindMessage, KindInvitation} }

// Reason is why something is reported.
type Reason string

// The reasons.
const (
	ReasonSpam          Reason = "spam"
	ReasonHarassment    Reason = "harassment"
	ReasonHate          Reason = "hate"
	ReasonSexual        Reason = "sexual"
	ReasonViolence      Reason = "violence"
	ReasonImpersonation Reason = "impersonation"
	ReasonOther         Reason = "other"
)

// Reasons lists every reason, in the order a form shows them.
func Reasons() []Reason {
	return []Reason{ReasonSpam, ReasonHarassment, ReasonHate, ReasonSexual, ReasonViolence, ReasonImpersonation, ReasonOther}
}

// Limits of a report.
const (
	MaxDetails = 1000 // characters of the reporter's own words
	MaxContext = 8 << 10
)

// Report is one report.
type Report struct {
	ID         string
	ReporterID string
	Kind       Kind
	TargetID   string
	SubjectID  string // the user it is about; "" when nobody is (a room whose creator is gone)
	Reason     Reason
	Details    string
	Context    json.RawMessage // a JSON object: what the reporter saw
	CreatedAt  time.Time
	ResolvedAt time.Time // zero while open
	ResolvedBy string
	Resolution string
}

// Open reports whether no admin has handled the report yet.
func (r Report) Open() bool { return r.ResolvedAt.IsZero() }

// Entry is one line of the admins' audit log.
type Entry struct {
	ID      string
	AdminID string
	Action  string // "disable", "enable", "end_room", "reset_link", "resolve_report", ...
	Target  string // what it was done to: a username, a room ID, a report ID
	Detail  string
	At      time.Time
}

// Store is what Service needs from durable storage.
type Store interface {
	CreateReport(ctx context.Context, r Report) error
	ReportByID(ctx context.Context, id string) (Report, error)
	// Reports lists reports newest first, after the cursor, the open ones only
	// when open is set.
	Reports(ctx context.Context, open bool, after account.Cursor, limit int) ([]Report, account.Cursor, error)
	// ResolveReport marks an open report handled; ErrNotFound for an unknown ID,
	// ErrResolved if it was handled already.
	ResolveReport(ctx context.Context, id, by, resolution string, at time.Time) error
	// OpenReports counts the reports nobody handled yet.
	OpenReports(ctx context.Context) (int, error)
	AddAdminEntry(ctx context.Context, e Entry) error
	// AdminLog lists the audit log newest first, after the cursor.
	AdminLog(ctx context.Context, after account.Cursor, limit int) ([]Entry, account.Cursor, error)
}

// Errors of moderation.
var (
	ErrResolved  = errcode.New(errcode.Conflict, "this report was handled already")
	ErrNotFound  = account.ErrNotFound
	ErrForbidden = account.ErrForbidden
)

// Service applies the rules of reports and the audit log.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store; now is the clock (time.Now when nil).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Input is what a reporter says.
type Input struct {
	Kind     Kind
	TargetID string
	Reason   Reason
	Details  string
}

// Check validates in before its target is looked up: a known kind and reason, an
// ID of a sane shape, and details of at most MaxDetails characters.
func (in Input) Check() (Input, error) {
	if !slices.Contains(Kinds(), in.Kind) {
		return in, fmt.Errorf("%w: kind must be one of user, room, message, invitation", account.ErrInvalid)
	}
	if !slices.Contains(Reasons(), in.Reason) {
		return in, fmt.Errorf("%w: reason must be one of spam, harassment, hate, sexual, violence, impersonation, other", account.ErrInvalid)
	}
	if in.TargetID == "" || len(in.TargetID) > 100 || strings.ContainsFunc(in.TargetID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) {
		return in, fmt.Errorf("%w: target is not a valid ID or username", account.ErrInvalid)
	}
	d := strings.TrimSpace(in.Details)
	if !utf8.ValidString(d) {
		return in, fmt.Errorf("%w: details are not valid UTF-8", account.ErrInvalid)
	}
	if n := utf8.RuneCountInString(d); n > MaxDetails {
		return in, fmt.Errorf("%w: details are %d characters, at most %d allowed", account.ErrInvalid, n, MaxDetails)
	}
	if strings.ContainsFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return in, fmt.Errorf("%w: details hold a control character", account.ErrInvalid)
	}
	if in.Reason == ReasonOther && d == "" {
		return in, fmt.Errorf("%w: say what is wrong in details when the reason is other", account.ErrInvalid)
	}
	in.Details = d
	return in, nil
}

// Report stores a report by reporter about a target the caller resolved:
// subject is the user it is about, snapshot what the reporter saw (encoded as
// JSON, at most MaxContext bytes; larger snapshots are cut to their summary).
func (s *Service) Report(ctx context.Context, reporter account.User, in Input, subject string, snapshot any) (Report, error) {
	in, err := in.Check()
	if err != nil {
		return Report{}, err
	}
	raw, err := json.Marshal(snapshot)
	if err != nil {
		return Report{}, err
	}
	if len(raw) > MaxContext {
		raw, _ = json.Marshal(map[string]string{"note": "the context was too large to keep"})
	}
	r := Report{ID: ids.New(), ReporterID: reporter.ID, Kind: in.Kind, TargetID: in.TargetID, SubjectID: subject,
		Reason: in.Reason, Details: in.Details, Context: raw, CreatedAt: s.clock()}
	if err := s.store.CreateReport(ctx, r); err != nil {
		return Report{}, err
	}
	return r, nil
}

// Reports lists reports for an admin.
func (s *Service) Reports(ctx context.Context, admin account.User, open bool, after account.Cursor, limit int) ([]Report, account.Cursor, error) {
	if !admin.IsAdmin {
		return nil, account.Cursor{}, ErrForbidden
	}
	return s.store.Reports(ctx, open, after, limit)
}

// Report returns one report, for an admin.
func (s *Service) ReportByID(ctx context.Context, admin account.User, id string) (Report, error) {
	if !admin.IsAdmin {
		return Report{}, ErrForbidden
	}
	if !ids.Valid(id) {
		return Report{}, ErrNotFound
	}
	return s.store.ReportByID(ctx, id)
}

// MaxResolution is the length of an admin's note on a handled report.
const MaxResolution = 500

// Resolve marks a report handled with a note of what was done, and logs it.
func (s *Service) Resolve(ctx context.Context, admin account.User, id, resolution string) error {
	if !admin.IsAdmin {
		return ErrForbidden
	}
	if !ids.Valid(id) {
		return ErrNotFound
	}
	resolution = strings.TrimSpace(resolution)
	if !utf8.ValidString(resolution) || utf8.RuneCountInString(resolution) > MaxResolution ||
		strings.ContainsFunc(resolution, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return fmt.Errorf("%w: resolution must be valid text of at most %d characters", account.ErrInvalid, MaxResolution)
	}
	if err := s.store.ResolveReport(ctx, id, admin.ID, resolution, s.clock()); err != nil {
		return err
	}
	return s.Log(ctx, admin, "resolve_report", id, resolution)
}

// OpenReports counts the reports waiting for an admin.
func (s *Service) OpenReports(ctx context.Context) (int, error) { return s.store.OpenReports(ctx) }

// Log writes one admin action to the audit log.
func (s *Service) Log(ctx context.Context, admin account.User, action, target, detail string) error {
	return s.store.AddAdminEntry(ctx, Entry{ID: ids.New(), AdminID: admin.ID, Action: action, Target: target,
		Detail: detail, At: s.clock()})
}

// AdminLog lists the audit log, for an admin.
func (s *Service) AdminLog(ctx context.Context, admin account.User, after account.Cursor, limit int) ([]Entry, account.Cursor, error) {
	if !admin.IsAdmin {
		return nil, account.Cursor{}, ErrForbidden
	}
	return s.store.AdminLog(ctx, after, limit)
}
