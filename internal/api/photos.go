package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/photo"
)

// PhotoStore keeps profile photos: the images of each size in the database, so
// that every node of a cluster serves them (internal/store).
type PhotoStore interface {
	SetPhoto(ctx context.Context, user, hash string, set photo.Set, at time.Time) error
	ClearPhoto(ctx context.Context, user string) error
	Photo(ctx context.Context, hash string, size int) ([]byte, string, error)
}

// putPhoto sets the user's profile photo from the raw body (JPEG, PNG or WebP,
// whatever Content-Type says: the content decides), limited per user.
func (a *API) putPhoto(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.photos == nil {
		a.writeError(w, r, errNoService)
		return
	}
	limit := a.processor.Limits().MaxBytes
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		a.writeError(w, r, photo.ErrTooLarge)
		return
	}
	if err != nil {
		a.writeError(w, r, errBadJSON)
		return
	}
	// What costs is decoding: refusals of the type or the declared size are
	// free, an image that will be decoded spends from the user's budget.
	if _, err := a.processor.Check(data); err != nil {
		a.writeError(w, r, err)
		return
	}
	if d := a.uploads.wait(u.ID); d > 0 {
		tooMany(w, d)
		return
	}
	set, err := a.processor.Process(r.Context(), data)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	hash := set.Hash(u.ID)
	if err := a.photos.SetPhoto(r.Context(), u.ID, hash, set, a.now()); err != nil {
		a.writeError(w, r, err)
		return
	}
	u.Photo = hash
	writeJSON(w, http.StatusOK, viewMe(u))
}

// deletePhoto removes the user's photo: initials again.
func (a *API) deletePhoto(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.photos == nil {
		a.writeError(w, r, errNoService)
		return
	}
	if err := a.photos.ClearPhoto(r.Context(), u.ID); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

var photoHash = regexp.MustCompile(`^[0-9a-f]{32}$`)

// getPhoto serves one size of a photo. Its URL names its content, so it never
// changes: cached for a year, immutable. No session needed (guests see the
// faces on a stage too), and a policy that lets the image run nothing.
func (a *API) getPhoto(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	size, err := strconv.Atoi(r.PathValue("size"))
	if err != nil || !photoHash.MatchString(hash) || !validSize(size) || a.photos == nil {
		writeCode(w, "not_found", "no such photo")
		return
	}
	if r.Header.Get("If-None-Match") == `"`+hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	data, ct, err := a.photos.Photo(r.Context(), hash, size)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hash+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func validSize(n int) bool {
	for _, s := range photo.Sizes {
		if s == n {
			return true
		}
	}
	return false
}
