// Package errcode holds the one table of stable error codes that townhall sends to
// clients, over HTTP ({"error":{"code","message"}}) and on the room socket.
//
// Domain packages declare their sentinel errors with New, so a handler that meets an
// error anywhere in the stack finds its code and HTTP status with errors.As.
package errcode

import (
	"errors"
	"net/http"
)

// Code is a stable, machine-readable error code. Codes never change meaning once
// published: clients switch on them.
type Code string

// The codes. Keep this list and statusOf in step; docs/api.md lists them too.
const (
	BadRequest       Code = "bad_request"        // malformed body, unknown field, wrong type
	InvalidField     Code = "invalid_field"      // a field failed validation
	Unauthenticated  Code = "unauthenticated"    // no session, or it expired or was revoked
	Forbidden        Code = "forbidden"          // signed in, but not allowed
	CrossOrigin      Code = "cross_origin"       // a cookie request failed the Origin check
	NotFound         Code = "not_found"          // no such thing, or not visible to you
	MethodNotAllowed Code = "method_not_allowed" // route exists, method does not
	Conflict         Code = "conflict"           // generic state conflict
	UsernameTaken    Code = "username_taken"     // sign-up with a username in use
	InviteInvalid    Code = "invite_invalid"     // unknown, used or expired invite code
	InviteLimit      Code = "invite_limit"       // too many outstanding invites
	BadCredentials   Code = "bad_credentials"    // wrong username or password
	AccountDisabled  Code = "account_disabled"   // an admin disabled the account
	Blocked          Code = "blocked"            // a block stands between the two users
	TooLarge         Code = "too_large"          // body or frame over its size limit
	RateLimited      Code = "rate_limited"       // slow down; see Retry-After
	Unavailable      Code = "unavailable"        // a dependency (the store) is down
	WrongNode        Code = "wrong_node"         // a cluster: this node does not run the room; ask the join API
	Internal         Code = "internal"           // a bug or an unexpected failure
)

// room: the codes of internal/room, the live room state machine. Owned by that
// package; their statuses are in the room block of statusOf.
const (
	RoomNotStarted  Code = "room_not_started"  // the creator has not joined the room yet
	RoomEnded       Code = "room_ended"        // the room is over: nothing more happens in it
	RoomFull        Code = "room_full"         // the room holds as many people as it allows
	AlreadyInRoom   Code = "already_in_room"   // a join by someone already in the room
	NotInRoom       Code = "not_in_room"       // a room command from someone not in the room
	RemovedFromRoom Code = "removed_from_room" // a moderator removed this user: no way back in
	MuteHeld        Code = "mute_held"         // a moderator holds the mute; only a moderator releases it
)

var statusOf = map[Code]int{
	BadRequest:       http.StatusBadRequest,
	InvalidField:     http.StatusUnprocessableEntity,
	Unauthenticated:  http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	CrossOrigin:      http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	UsernameTaken:    http.StatusConflict,
	InviteInvalid:    http.StatusGone,
	InviteLimit:      http.StatusConflict,
	BadCredentials:   http.StatusUnauthorized,
	AccountDisabled:  http.StatusForbidden,
	Blocked:          http.StatusForbidden,
	TooLarge:         http.StatusRequestEntityTooLarge,
	RateLimited:      http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
	WrongNode:        http.StatusMisdirectedRequest,
	Internal:         http.StatusInternalServerError,

	// room: statuses of the room block of codes.
	RoomNotStarted:  http.StatusConflict,
	RoomEnded:       http.StatusGone,
	RoomFull:        http.StatusConflict,
	AlreadyInRoom:   http.StatusConflict,
	NotInRoom:       http.StatusConflict,
	RemovedFromRoom: http.StatusForbidden,
	MuteHeld:        http.StatusForbidden,
}

// Status returns the HTTP status that goes with c (500 for an unknown code).
func (c Code) Status() int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Codes lists every code in the table, for docs and tests.
func Codes() []Code {
	out := make([]Code, 0, len(statusOf))
	for c := range statusOf {
		out = append(out, c)
	}
	return out
}

// Error is an error that carries a stable code. Sentinel errors of domain packages
// are *Error values, compared by identity with errors.Is.
type Error struct {
	Code    Code
	Message string
}

// New returns a sentinel error with a code and a human message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string { return e.Message }

// Of returns the code of the first *Error in err's chain, and Internal if there is none.
func Of(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
