package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
)

// Scope is one kind of work a delegate may do for the account that named them.
type Scope string

// The scopes of a delegate.
const (
	// ScopeEvents lets a delegate schedule, edit, cancel and start the owner's events.
	ScopeEvents Scope = "events"
	// ScopeInvitations lets a delegate read and answer the owner's invitations to
	// conversations and to events.
	ScopeInvitations Scope = "invitations"
	// ScopeRooms lets a delegate moderate the owner's rooms, as a co-host who
	// speaks as themselves.
	ScopeRooms Scope = "rooms"
)

// Scopes lists every scope, in a fixed order.
func Scopes() []Scope { return []Scope{ScopeEvents, ScopeInvitations, ScopeRooms} }

// MaxDelegates is how many delegates one account may name.
const MaxDelegates = 20

// Errors of delegation.
var (
	// ErrNotDelegate refuses to act for an account that has not named the user a
	// delegate (or revoked them).
	ErrNotDelegate = errcode.New(errcode.Forbidden, "you are not a delegate of that account")
	// ErrScope refuses a delegate a request outside their scopes.
	ErrScope = errcode.New(errcode.Forbidden, "your delegation does not cover this")
	// ErrNotForDelegates refuses a request that only the owner may make in person
	// (password, sessions, delegates, logout, anything personal).
	ErrNotForDelegates = errcode.New(errcode.Forbidden, "a delegate cannot do this for an account")
	// ErrTooManyDelegates refuses a delegate over MaxDelegates.
	ErrTooManyDelegates = errcode.New(errcode.Conflict, "this account has as many delegates as allowed")
)

// Delegate is a user that an owner lets act for their account within scopes.
type Delegate struct {
	OwnerID   string
	UserID    string
	Scopes    []Scope
	CreatedAt time.Time
}

// Has reports whether d covers scope.
func (d Delegate) Has(s Scope) bool { return slices.Contains(d.Scopes, s) }

// Actor is who a request acts as: the Principal account, and the Delegate who
// acts for it from their own session, or the zero User when the principal acts in
// person.
type Actor struct {
	Principal User
	Delegate  User
	Scopes    []Scope // the delegate's scopes; nil in person
}

// Self is the actor of a user acting in person.
func Self(u User) Actor { return Actor{Principal: u} }

// Acting reports whether a delegate acts for the principal.
func (a Actor) Acting() bool { return a.Delegate.ID != "" }

// Can reports whether the actor may do work of scope: always in person, and for a
// delegate when their delegation covers it.
func (a Actor) Can(s Scope) bool { return !a.Acting() || slices.Contains(a.Scopes, s) }

// AuditEntry is one state-changing request a delegate made for an owner.
type AuditEntry struct {
	ID         string
	OwnerID    string
	DelegateID string
	Action     string // the route pattern, e.g. "POST /api/v1/invitations/{id}/answer"
	Target     string // the path requested, naming the thing acted on
	At         time.Time
}

// DelegateStore is what Delegation needs from durable storage. Missing rows give
// ErrNotFound.
type DelegateStore interface {
	// PutDelegate names d.UserID a delegate of d.OwnerID with d.Scopes, replacing the
	// scopes of an existing delegate (whose CreatedAt is kept). ErrTooManyDelegates
	// if the owner would have more than max. ErrNotFound if a user is missing.
	PutDelegate(ctx context.Context, d Delegate, max int) error
	// DeleteDelegate revokes a delegate; ErrNotFound if there is none.
	DeleteDelegate(ctx context.Context, ownerID, userID string) error
	// Delegate returns the delegation of userID by ownerID.
	Delegate(ctx context.Context, ownerID, userID string) (Delegate, error)
	// DelegatesOf lists the delegates an owner named, oldest first.
	DelegatesOf(ctx context.Context, ownerID string) ([]Delegate, error)
	// DelegationsTo lists the accounts that named userID a delegate, oldest first.
	DelegationsTo(ctx context.Context, userID string) ([]Delegate, error)
	// AddAudit appends to an owner's audit log.
	AddAudit(ctx context.Context, e AuditEntry) error
	// AuditLog lists an owner's audit log newest first, after the entry with ID
	// before ("" for the newest); ErrNotFound for an unknown before.
	AuditLog(ctx context.Context, ownerID, before string, limit int) ([]AuditEntry, error)
}

// Delegation runs the accounts-run-by-a-team rules: owners name and revoke
// delegates, delegates act for owners within their scopes, and every change a
// delegate makes is written to the owner's audit log.
type Delegation struct {
	accounts *Service
	store    DelegateStore
}

// NewDelegation returns the delegation rules over accounts and store.
func NewDelegation(accounts *Service, store DelegateStore) *Delegation {
	return &Delegation{accounts: accounts, store: store}
}

// ParseScopes checks a list of scope names: at least one, each known, no repeats.
func ParseScopes(names []string) ([]Scope, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: name at least one scope (events, invitations, rooms)", ErrInvalid)
	}
	out := make([]Scope, 0, len(names))
	for _, n := range names {
		s := Scope(n)
		if !slices.Contains(Scopes(), s) {
			return nil, fmt.Errorf("%w: unknown scope %q (events, invitations, rooms)", ErrInvalid, n)
		}
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("%w: scope %q named twice", ErrInvalid, n)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// inPerson refuses a delegate: only the owner manages their delegates.
func inPerson(a Actor) error {
	if a.Acting() {
		return ErrNotForDelegates
	}
	return nil
}

// Name makes username a delegate of the actor with scopes, or changes the scopes
// of an existing delegate. Only the owner, in person.
func (d *Delegation) Name(ctx context.Context, owner Actor, username string, scopes []string) (Delegate, User, error) {
	if err := inPerson(owner); err != nil {
		return Delegate{}, User{}, err
	}
	sc, err := ParseScopes(scopes)
	if err != nil {
		return Delegate{}, User{}, err
	}
	t, rel, err := d.accounts.target(ctx, owner.Principal, username)
	if err != nil {
		return Delegate{}, User{}, err
	}
	switch {
	case t.ID == owner.Principal.ID:
		return Delegate{}, User{}, fmt.Errorf("%w: you cannot be your own delegate", ErrInvalid)
	case rel.Blocked():
		return Delegate{}, User{}, ErrBlocked
	case t.Disabled():
		return Delegate{}, User{}, ErrDisabled
	}
	del := Delegate{OwnerID: owner.Principal.ID, UserID: t.ID, Scopes: sc, CreatedAt: d.accounts.now()}
	if err := d.store.PutDelegate(ctx, del, MaxDelegates); err != nil {
		return Delegate{}, User{}, err
	}
	del, err = d.store.Delegate(ctx, del.OwnerID, del.UserID)
	return del, t, err
}

// Revoke ends username's delegation at once: their next request for the owner is
// refused. Only the owner, in person.
func (d *Delegation) Revoke(ctx context.Context, owner Actor, username string) error {
	if err := inPerson(owner); err != nil {
		return err
	}
	t, err := d.accounts.lookup(ctx, username)
	if err != nil {
		return err
	}
	return d.store.DeleteDelegate(ctx, owner.Principal.ID, t.ID)
}

// Delegates lists the owner's delegates. Only the owner, in person.
func (d *Delegation) Delegates(ctx context.Context, owner Actor) ([]Delegate, error) {
	if err := inPerson(owner); err != nil {
		return nil, err
	}
	return d.store.DelegatesOf(ctx, owner.Principal.ID)
}

// Delegations lists the accounts u may act for.
func (d *Delegation) Delegations(ctx context.Context, u User) ([]Delegate, error) {
	return d.store.DelegationsTo(ctx, u.ID)
}

// ActAs resolves a request of user u to act as ownerUsername: u must be a
// delegate of that active account right now. The returned Actor carries the
// delegate's scopes; each handler checks the one it needs with Actor.Can.
func (d *Delegation) ActAs(ctx context.Context, u User, ownerUsername string) (Actor, error) {
	name, err := NormalizeUsername(strings.TrimSpace(ownerUsername))
	if err != nil {
		return Actor{}, ErrNotDelegate
	}
	owner, err := d.accounts.store.UserByUsername(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return Actor{}, ErrNotDelegate
	}
	if err != nil {
		return Actor{}, err
	}
	if owner.ID == u.ID {
		return Self(u), nil
	}
	del, err := d.store.Delegate(ctx, owner.ID, u.ID)
	if errors.Is(err, ErrNotFound) {
		return Actor{}, ErrNotDelegate
	}
	if err != nil {
		return Actor{}, err
	}
	if owner.Disabled() {
		return Actor{}, ErrDisabled
	}
	return Actor{Principal: owner, Delegate: u, Scopes: del.Scopes}, nil
}

// Record writes what a delegate did to the owner's audit log; nothing for an
// actor in person.
func (d *Delegation) Record(ctx context.Context, a Actor, action, target string) error {
	if !a.Acting() {
		return nil
	}
	return d.store.AddAudit(ctx, AuditEntry{ID: ids.New(), OwnerID: a.Principal.ID, DelegateID: a.Delegate.ID,
		Action: action, Target: target, At: d.accounts.now()})
}

// AuditLog lists what the owner's delegates did, newest first. Only the owner, in
// person.
func (d *Delegation) AuditLog(ctx context.Context, owner Actor, before string, limit int) ([]AuditEntry, error) {
	if err := inPerson(owner); err != nil {
		return nil, err
	}
	return d.store.AuditLog(ctx, owner.Principal.ID, before, limit)
}

// RoomDelegates returns the IDs of the owner's delegates with the rooms scope: the
// co-hosts of every room the owner opens.
func (d *Delegation) RoomDelegates(ctx context.Context, ownerID string) ([]string, error) {
	list, err := d.store.DelegatesOf(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, del := range list {
		if del.Has(ScopeRooms) {
			out = append(out, del.UserID)
		}
	}
	return out, nil
}
