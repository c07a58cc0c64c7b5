package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// errorBody is the one shape of every error response: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeError sends err with its stable code and status. Errors without a code are
// bugs or outages: they are logged and the client gets a generic message.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var wait retryAfter
	if errors.As(err, &wait) {
		tooMany(w, time.Duration(wait))
		return
	}
	var coded *errcode.Error
	if !errors.As(err, &coded) {
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{errcode.Internal, "something went wrong on the server"}})
		return
	}
	writeJSON(w, coded.Code.Status(), errorBody{errorDetail{coded.Code, err.Error()}})
}

func writeCode(w http.ResponseWriter, code errcode.Code, message string) {
	writeJSON(w, code.Status(), errorBody{errorDetail{code, message}})
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }
