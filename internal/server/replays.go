package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
)

// replayRoutes serves the replays of recorded rooms and their clips
// (docs/api.md, "Replays and clips"). Who may listen follows the room: an open
// room's replay is public; a social room's is for those its creator follows, a
// closed room's for those invited, and both for the hosts and whoever spoke in
// it; a members-only room's for its club's members; never for someone a host
// blocks or who blocks the host. Whoever may not listen is told it does not
// exist, on every route.
type replayRoutes struct {
	db        *store.DB
	hub       *live.Hub
	api       *api.API
	replays   *replay.Service
	clubs     *club.Service
	publicURL string
	log       *slog.Logger

	mu       sync.Mutex // guards lastClip
	lastClip map[string]time.Time
}

// clipEvery is how often one user may cut a clip (each one runs ffmpeg).
const clipEvery = 10 * time.Second

// Errors of the replay routes.
var (
	errNotHost      = errcode.New(errcode.Forbidden, "only the room's hosts may delete its replay")
	errClipsOff     = errcode.New(errcode.Forbidden, "the room's host does not allow clips")
	errClipTooSoon  = errcode.New(errcode.RateLimited, "one clip every 10 seconds")
	errGuestsNoClip = errcode.New(errcode.Unauthenticated, "sign in to keep a clip")
)

func (h *replayRoutes) register() {
	h.lastClip = map[string]time.Time{}
	h.api.Handle("GET /api/v1/rooms/{id}/replay", http.HandlerFunc(h.get))
	h.api.Handle("GET /api/v1/rooms/{id}/replay/audio", http.HandlerFunc(h.audio))
	h.api.Handle("GET /api/v1/rooms/{id}/replay/captions", http.HandlerFunc(h.captions))
	h.api.Handle("DELETE /api/v1/rooms/{id}/replay", http.HandlerFunc(h.delete))
	h.api.Handle("POST /api/v1/rooms/{id}/clips", http.HandlerFunc(h.cut))
	h.api.Handle("GET /api/v1/me/replays", http.HandlerFunc(h.mine))
	h.api.Handle("GET /api/v1/clips/{id}", http.HandlerFunc(h.clip))
	h.api.Handle("GET /api/v1/clips/{id}/audio", http.HandlerFunc(h.clipAudio))
	h.registerLists()
}

// viewer is who asks: a signed-in user's ID, or "" for a guest. Nobody asks for
// someone else (a delegate's request is refused).
func (h *replayRoutes) viewer(r *http.Request) (string, error) {
	_, u, err := h.api.Authenticate(r)
	switch {
	case err == nil:
		return u.ID, nil
	case errors.Is(err, account.ErrUnauthenticated):
		return "", nil
	}
	return "", err
}

// mayListen returns the setup of roomID if viewer may listen to its replay and
// clips; replay.ErrNotFound if not.
func (h *replayRoutes) mayListen(ctx context.Context, viewer, roomID string) (room.Config, error) {
	rec, err := h.db.RoomByID(ctx, roomID)
	if err != nil {
		return room.Config{}, notFoundAs(err, replay.ErrNotFound)
	}
	cfg, err := roomConfig(ctx, h.db, roomID)
	if err != nil {
		return room.Config{}, err
	}
	if cfg.ID == "" { // stored without a setup: what the row says
		cfg = room.Config{ID: rec.ID, Title: rec.Title, Type: room.Type(rec.Type), CreatorID: rec.CreatorID}
	}
	if viewer == cfg.CreatorID || slices.Contains(cfg.CoHosts, viewer) && viewer != "" {
		return cfg, nil
	}
	if viewer == "" {
		if cfg.Type == room.Open && !cfg.MembersOnly {
			return cfg, nil
		}
		return room.Config{}, replay.ErrNotFound
	}
	edges, err := h.db.Edges(ctx, viewer, []string{cfg.CreatorID})
	if err != nil {
		return room.Config{}, err
	}
	e := edges[cfg.CreatorID]
	if e.Blocks || e.BlockedBy {
		return room.Config{}, replay.ErrNotFound
	}
	invited := slices.Contains(cfg.Speakers, viewer)
	if !invited {
		spoke, err := h.db.RoomSpeakers(ctx, roomID)
		if err != nil {
			return room.Config{}, err
		}
		invited = slices.Contains(spoke, viewer)
	}
	if invited {
		return cfg, nil
	}
	if cfg.MembersOnly {
		member, err := h.clubs.IsMember(ctx, cfg.ClubID, viewer)
		if err != nil {
			return room.Config{}, err
		}
		if !member {
			return room.Config{}, replay.ErrNotFound
		}
	}
	switch cfg.Type {
	case room.Open:
		return cfg, nil
	case room.Social:
		if e.FollowedBy { // the creator follows the viewer
			return cfg, nil
		}
	}
	return room.Config{}, replay.ErrNotFound
}

// notFoundAs turns a not-found error of the store into want.
func notFoundAs(err, want error) error {
	if errcode.Of(err) == errcode.NotFound {
		return want
	}
	return err
}

type turnView struct {
	UserID  string `json:"user_id"`
	Name    string `json:"name"` // the speaker's display name ("" if the account is gone)
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

type replayView struct {
	RoomID     string     `json:"room_id"`
	Title      string     `json:"title"`
	State      string     `json:"state"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Size       int64      `json:"size"`
	AudioURL   string     `json:"audio_url"`
	// CaptionsURL is the replay's WebVTT captions, if it has them.
	CaptionsURL string     `json:"captions_url,omitempty"`
	Turns       []turnView `json:"turns"`
	CanDelete   bool       `json:"can_delete"`
}

// listener is who asks for the replay of the route's room, and its setup, if
// they may listen to it (mayListen).
func (h *replayRoutes) listener(r *http.Request) (viewer, id string, cfg room.Config, err error) {
	if viewer, err = h.viewer(r); err != nil {
		return "", "", room.Config{}, err
	}
	id = r.PathValue("id")
	cfg, err = h.mayListen(r.Context(), viewer, id)
	return viewer, id, cfg, err
}

// get serves GET /api/v1/rooms/{id}/replay: the replay and its timeline.
func (h *replayRoutes) get(w http.ResponseWriter, r *http.Request) {
	viewer, id, cfg, err := h.listener(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rp, err := h.replays.Replay(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := replayView{RoomID: id, Title: cfg.Title, State: string(rp.State), StartedAt: rp.StartedAt,
		DurationMS: rp.Duration.Milliseconds(), Size: rp.Size, AudioURL: h.publicURL + "/api/v1/rooms/" + id + "/replay/audio",
		Turns: make([]turnView, 0, len(rp.Turns)), CanDelete: viewer != "" && isHost(cfg, viewer)}
	if !rp.EndedAt.IsZero() {
		v.EndedAt = &rp.EndedAt
	}
	if rp.Captions {
		v.CaptionsURL = h.publicURL + "/api/v1/rooms/" + id + "/replay/captions"
	}
	names := map[string]string{}
	for _, t := range rp.Turns {
		name, ok := names[t.UserID]
		if !ok {
			if u, err := h.db.UserByID(r.Context(), t.UserID); err == nil {
				name = u.DisplayName
			}
			names[t.UserID] = name
		}
		v.Turns = append(v.Turns, turnView{UserID: t.UserID, Name: name, StartMS: t.Start.Milliseconds(), EndMS: t.End.Milliseconds()})
	}
	writeJSON(w, http.StatusOK, v)
}

// audio serves GET /api/v1/rooms/{id}/replay/audio: the replay's Ogg Opus file,
// with ranges (seeking) and ?download=1 for a file to keep.
func (h *replayRoutes) audio(w http.ResponseWriter, r *http.Request) {
	_, id, _, err := h.listener(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, rp, err := h.replays.Open(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	serveOgg(w, r, "replay-"+id+".ogg", rp.EndedAt, f)
}

// captions serves GET /api/v1/rooms/{id}/replay/captions: its WebVTT captions.
func (h *replayRoutes) captions(w http.ResponseWriter, r *http.Request) {
	_, id, _, err := h.listener(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, rp, err := h.replays.OpenCaptions(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	http.ServeContent(w, r, "captions.vtt", rp.EndedAt, f)
}

type replayItem struct {
	RoomID     string    `json:"room_id"`
	Title      string    `json:"title"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	URL        string    `json:"url"`
	AudioURL   string    `json:"audio_url"`
}

// mine serves GET /api/v1/me/replays: the ready replays of the last 50 ended
// rooms the user created or spoke in, newest first.
func (h *replayRoutes) mine(w http.ResponseWriter, r *http.Request) {
	viewer, err := h.viewer(r)
	if err == nil && viewer == "" {
		err = account.ErrUnauthenticated
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rooms, err := h.db.EndedRoomsOf(r.Context(), viewer, 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []replayItem{}
	for _, rm := range rooms {
		rp, err := h.replays.Replay(r.Context(), rm.ID)
		if errors.Is(err, replay.ErrNotFound) || err == nil && rp.State != replay.Ready {
			continue
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out = append(out, replayItem{RoomID: rm.ID, Title: rm.Title, StartedAt: rp.StartedAt, DurationMS: rp.Duration.Milliseconds(),
			URL: h.publicURL + "/rooms/" + rm.ID, AudioURL: h.publicURL + "/api/v1/rooms/" + rm.ID + "/replay/audio"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"replays": out})
}

// delete serves DELETE /api/v1/rooms/{id}/replay: a host deletes the replay and
// its clips.
func (h *replayRoutes) delete(w http.ResponseWriter, r *http.Request) {
	viewer, err := h.viewer(r)
	if err == nil && viewer == "" {
		err = account.ErrUnauthenticated
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	cfg, err := h.mayListen(r.Context(), viewer, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !isHost(cfg, viewer) {
		h.fail(w, r, errNotHost)
		return
	}
	if err := h.replays.Delete(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func isHost(cfg room.Config, user string) bool {
	return user == cfg.CreatorID || slices.Contains(cfg.CoHosts, user)
}

type clipView struct {
	ID         string    `json:"id"`
	RoomID     string    `json:"room_id"`
	Title      string    `json:"title"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	DurationMS int64     `json:"duration_ms"`
	URL        string    `json:"url"`
	AudioURL   string    `json:"audio_url"`
}

func (h *replayRoutes) clipView(c replay.Clip, title string) clipView {
	return clipView{ID: c.ID, RoomID: c.RoomID, Title: title, UserID: c.UserID, CreatedAt: c.CreatedAt,
		DurationMS: c.Duration.Milliseconds(), URL: h.publicURL + "/clips/" + c.ID,
		AudioURL: h.publicURL + "/api/v1/clips/" + c.ID + "/audio"}
}

// cut serves POST /api/v1/rooms/{id}/clips: someone who may see the live room
// keeps its last moments, if its host allows clips.
func (h *replayRoutes) cut(w http.ResponseWriter, r *http.Request) {
	viewer, err := h.viewer(r)
	if err == nil && viewer == "" {
		err = errGuestsNoClip
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	s, err := h.hub.RoomInfo(r.Context(), viewer, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !s.ClipsAllowed {
		h.fail(w, r, errClipsOff)
		return
	}
	now := time.Now()
	h.mu.Lock()
	if last, ok := h.lastClip[viewer]; ok && now.Sub(last) < clipEvery {
		h.mu.Unlock()
		w.Header().Set("Retry-After", "10")
		h.fail(w, r, errClipTooSoon)
		return
	}
	for u, t := range h.lastClip { // forget the old ones: the map stays small
		if now.Sub(t) >= clipEvery {
			delete(h.lastClip, u)
		}
	}
	h.lastClip[viewer] = now
	h.mu.Unlock()
	// The room's owner records it, and cuts the clip, on whichever node this
	// request came to; the clip is then in the store every node reads.
	clipID, err := h.hub.Clip(r.Context(), id, viewer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.replays.Clip(r.Context(), clipID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h.clipView(c, s.Title))
}

// clip serves GET /api/v1/clips/{id}: to whoever may listen to the room's replay.
func (h *replayRoutes) clip(w http.ResponseWriter, r *http.Request) {
	c, cfg, err := h.visibleClip(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.clipView(c, cfg.Title))
}

// clipAudio serves GET /api/v1/clips/{id}/audio: the clip's Ogg Opus file.
func (h *replayRoutes) clipAudio(w http.ResponseWriter, r *http.Request) {
	if _, _, err := h.visibleClip(r); err != nil {
		h.fail(w, r, err)
		return
	}
	f, c, err := h.replays.OpenClip(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	serveOgg(w, r, "clip-"+c.ID+".ogg", c.CreatedAt, f)
}

func (h *replayRoutes) visibleClip(r *http.Request) (replay.Clip, room.Config, error) {
	viewer, err := h.viewer(r)
	if err != nil {
		return replay.Clip{}, room.Config{}, err
	}
	c, err := h.replays.Clip(r.Context(), r.PathValue("id"))
	if err != nil {
		return replay.Clip{}, room.Config{}, err
	}
	cfg, err := h.mayListen(r.Context(), viewer, c.RoomID)
	return c, cfg, err
}

// serveOgg serves an Ogg Opus file with http.ServeContent: ranges (RFC 9110 §14),
// conditional requests on its time; private, as who may hear it depends on who
// asks.
func serveOgg(w http.ResponseWriter, r *http.Request, name string, mod time.Time, f io.ReadSeeker) {
	w.Header().Set("Content-Type", "audio/ogg")
	w.Header().Set("Cache-Control", "private, max-age=300")
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	http.ServeContent(w, r, name, mod, f)
}

// fail writes err as {"error":{"code","message"}}, with the status of its code.
func (h *replayRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := errcode.Of(err)
	msg := err.Error()
	if code == errcode.Internal {
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "something went wrong on the server"
	}
	writeJSON(w, code.Status(), map[string]any{"error": map[string]string{"code": string(code), "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
