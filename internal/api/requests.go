package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
)

// The request bodies the API accepts. Each validates its own shape; the account
// service validates meaning (username rules, lengths).

type signupRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
	InviteCode  string `json:"invite_code"`
}

func (r *signupRequest) validate() error {
	switch {
	case r.Username == "":
		return missing("username")
	case r.Password == "":
		return missing("password")
	case len(r.InviteCode) > 100:
		return account.ErrInviteInvalid
	}
	return nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (r *loginRequest) validate() error {
	switch {
	case r.Username == "":
		return missing("username")
	case r.Password == "":
		return missing("password")
	case len(r.Username) > account.MaxUsername, len(r.Password) > account.MaxPassword:
		return account.ErrBadCredentials
	}
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (r *passwordRequest) validate() error {
	switch {
	case r.CurrentPassword == "":
		return missing("current_password")
	case r.NewPassword == "":
		return missing("new_password")
	case len(r.CurrentPassword) > account.MaxPassword:
		return account.ErrBadCredentials
	}
	return nil
}

type profileRequest struct {
	DisplayName *string `json:"display_name"`
	Bio         *string `json:"bio"`
}

func (r *profileRequest) validate() error {
	if r.DisplayName == nil && r.Bio == nil {
		return fmt.Errorf("%w: nothing to change: send display_name and/or bio", errInvalid)
	}
	return nil
}

var errInvalid = errcode.New(errcode.InvalidField, "invalid field")

func missing(field string) error { return fmt.Errorf("%w: %s is required", errInvalid, field) }

var errBadCursor = errcode.New(errcode.BadRequest, "malformed cursor")

// encodeCursor makes the opaque next_cursor string of a list page.
func encodeCursor(c account.Cursor) string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMilli(), 10) + ":" + c.ID))
}

// decodeCursor parses a cursor made by encodeCursor; "" is the start of the list.
// pageParams reads a paged list's ?cursor= and ?limit=.
func pageParams(r *http.Request) (account.Cursor, int, error) {
	after, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return account.Cursor{}, 0, err
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	return after, limit, err
}

func decodeCursor(s string) (account.Cursor, error) {
	if s == "" {
		return account.Cursor{}, nil
	}
	if len(s) > 100 {
		return account.Cursor{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return account.Cursor{}, errBadCursor
	}
	ms, id, ok := strings.Cut(string(raw), ":")
	if !ok || !ids.Valid(id) {
		return account.Cursor{}, errBadCursor
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n <= 0 {
		return account.Cursor{}, errBadCursor
	}
	return account.Cursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}

// parseLimit reads the limit query parameter: 1..MaxPage, default 50.
func parseLimit(s string) (int, error) {
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > account.MaxPage {
		return 0, fmt.Errorf("%w: limit must be 1 to %d", errInvalid, account.MaxPage)
	}
	return n, nil
}
