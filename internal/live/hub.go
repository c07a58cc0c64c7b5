package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/room"
)

// Errors of the live layer.
var (
	ErrRoomNotFound   = errcode.New(errcode.NotFound, "no such room, or you cannot see it")
	ErrTooManySockets = errcode.New(errcode.RateLimited, "too many open connections for this account")
	ErrTooManyGuests  = errcode.New(errcode.RateLimited, "too many guests from your address: sign in to join")
	ErrShuttingDown   = errcode.New(errcode.Unavailable, "the server is shutting down")
)

// Options configure a Hub.
type Options struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
	// Grace is how long a participant whose socket dropped keeps their place
	// (and role) before they leave the room. Default 15 s.
	Grace time.Duration
	// MaxParticipants caps every room (0: no limit).
	MaxParticipants int
	// MaxSocketsPerUser caps a user's open sockets (room and user sockets). Default 8.
	MaxSocketsPerUser int
	// MaxGuestSocketsPerAddr caps the guest sockets open from one address, all
	// rooms together (0: no limit).
	MaxGuestSocketsPerAddr int
	// MaxGuests caps the guests of every room, and MaxGuestsPerAddr the guests of
	// a room that come from one address (0: no limit).
	MaxGuests        int
	MaxGuestsPerAddr int
	// NodeMaxSockets caps the sockets the join API sends to one node of a
	// cluster while another has room (0: no cap; routing.go).
	NodeMaxSockets int
	// CoalesceAbove is the listener count above which listener joins and leaves
	// are folded into one audience count every AudienceEvery. Default 50.
	CoalesceAbove int
	// ListedListeners is how many listeners a snapshot names at most, the first
	// to come; an audience request pages through the rest. Default 500.
	ListedListeners int
	// AudienceEvery is how often a busy room sends its audience count, when it
	// changed. Default 1 s.
	AudienceEvery time.Duration
	// Heartbeat is how often the server pings a socket. Default 15 s.
	Heartbeat time.Duration
	// HallwayEvery is the shortest time between two hallway pushes. Default 750 ms:
	// with the directory's own delay, a room is in every hallway within a second.
	HallwayEvery time.Duration
	// RoomDelegates, when set, names the delegates of an account who moderate its
	// rooms ("rooms" scope): they join every room the account opens as co-hosts,
	// moderating while they speak as themselves.
	RoomDelegates func(ctx context.Context, ownerID string) ([]string, error)
	// ClubMember, when set, tells whether a user belongs to a club: a members-only
	// club room asks it at join.
	ClubMember func(ctx context.Context, clubID, userID string) (bool, error)
	// MemberClubs, when set, lists the clubs of a user: the hallway ranks their
	// rooms first, and members-only rooms are shown to members only.
	MemberClubs func(ctx context.Context, userID string) (map[string]bool, error)
	// Gate, when set, decides whether a notification may reach its user (muted
	// kinds, the hourly cap of pings).
	Gate Gate
	// Cluster connects the hub to the other nodes of a cluster; the zero value
	// runs one node in process.
	Cluster Cluster
	// ReleaseMemory returns the process's free memory to the system; the hub calls
	// it once many sockets have closed. Default debug.FreeOSMemory.
	ReleaseMemory func()
	// Clip cuts a clip of a room this node runs and records (the replay
	// service's Cut), for Hub.Clip: nil, no clips.
	Clip func(ctx context.Context, roomID, userID string) (string, error)
	// Media, when set, is the media server: every participant gets an audio
	// connection negotiated over their room socket, and is heard only while
	// the room says so.
	Media Media
	// Delivered, when set, is told of every notification once it is stored
	// (Web Push sends it on to the user's closed apps).
	Delivered func(ctx context.Context, n Notification)
	// OnStage, when set, is told when someone with an account comes on a
	// room's stage ("someone you follow is speaking"), off the room's goroutine.
	OnStage func(ctx context.Context, roomID, title string, user Person) error
}

// Gate decides whether a notice of kind from sender may reach user: nil to deliver,
// notify.ErrMuted to drop it quietly, another error (the ping cap) to refuse the
// action that would send it.
type Gate interface {
	Allow(ctx context.Context, user, kind, sender string) error
}

// Media is what the live layer needs of the media server. SetAudible must return
// only once the change is in force, so that events delivered after it are never
// contradicted by a packet still being forwarded.
type Media interface {
	// Connect makes the audio connection of userID in roomID, replacing an older
	// one of theirs; signal carries the server's late ICE candidates.
	Connect(ctx context.Context, roomID, userID string, signal func(ICECandidate)) (MediaSession, error)
	SetAudible(roomID, userID string, audible bool)
	// Disconnect closes userID's audio connection in roomID and silences them.
	Disconnect(roomID, userID string)
	// CloseRoom closes every audio connection of roomID.
	CloseRoom(roomID string)
	// OnActive sets the function told, about five times a second per room, who
	// is heard in which slot.
	OnActive(fn func(roomID string, slots []ActiveSlot))
	// Route says how this node takes part in the audio of a room spread over
	// nodes: it runs the room, or it is an edge whose audio goes upstream.
	Route(roomID string, r MediaRoute)
}

// MediaRoute is a room's audio across nodes, as this node sees it.
type MediaRoute struct {
	Epoch uint64 // the owner's lease
	Owner bool   // this node runs the room
	// Upstream (an edge's) are the relay addresses (host:port) of the owner and
	// of its hot standby.
	Upstream []string
}

// MediaSession is one participant's audio connection, negotiated over their socket:
// the server offers, the client answers, both trickle candidates.
type MediaSession interface {
	Offer(ctx context.Context) (sdp string, err error)
	Answer(sdp string) error
	Candidate(c ICECandidate) error
	Close()
}

// ActiveSlot says who is heard in one audio slot, for speaking rings.
type ActiveSlot struct {
	Slot     int     `json:"slot"`
	UserID   string  `json:"user_id"` // "" for an empty slot
	Level    float64 `json:"level"`   // 0 (silent) to 1 (loud)
	Speaking bool    `json:"speaking"`
}

// Hub owns the live rooms of this process and the user sockets.
type Hub struct {
	opts Options
	log  *slog.Logger
	cl   Cluster

	mu       sync.Mutex // guards the maps below; never held while calling into a room
	rooms    map[string]*liveRoom
	edges    map[string]*edgeRoom // rooms other nodes run that this one has sockets of
	nextSock atomic.Uint64        // numbers the sockets of edges
	joins    joinLog              // where this node sent joins lately (routing.go)
	userRoom map[string]string    // user ID → the one room they are in
	open     int                  // open sockets
	peak     int                  // the most open sockets since the last release
	release  *time.Timer          // the next releaseMemory
	users    map[string]map[*userConn]struct{}
	revoked  []revokedEntry // sessions that ended in the last revokedMemory, oldest first
	closing  bool
	draining bool // Drain began: no new rooms or joins

	hallwayDirty chan struct{}
	dirty        map[*liveRoom]struct{} // rooms whose directory entry changed; guarded by mu
	entriesDirty chan struct{}
	wg           sync.WaitGroup // room loops, persisters, hallway pusher
	socketsWG    sync.WaitGroup // open sockets: acquireSocket adds, releaseSocket is done
	stop         chan struct{}
}

// NewHub returns a running hub. Call Shutdown to stop it.
func NewHub(opts Options) *Hub {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Grace == 0 {
		opts.Grace = 15 * time.Second
	}
	if opts.MaxSocketsPerUser == 0 {
		opts.MaxSocketsPerUser = 8
	}
	if opts.CoalesceAbove == 0 {
		opts.CoalesceAbove = 50
	}
	if opts.ListedListeners == 0 {
		opts.ListedListeners = 500
	}
	if opts.AudienceEvery == 0 {
		opts.AudienceEvery = time.Second
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.HallwayEvery == 0 {
		opts.HallwayEvery = 750 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ReleaseMemory == nil {
		opts.ReleaseMemory = releaseMemory
	}
	if opts.Cluster.Nodes == nil {
		opts.Cluster = localCluster(NodeInfo{Name: "local"})
	}
	h := &Hub{
		opts: opts, log: opts.Log, cl: opts.Cluster,
		rooms: map[string]*liveRoom{}, edges: map[string]*edgeRoom{}, userRoom: map[string]string{},
		users:        map[string]map[*userConn]struct{}{},
		hallwayDirty: make(chan struct{}, 1), entriesDirty: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	h.wg.Add(3)
	go h.pushHallways()
	go h.publishEntries()
	go h.watchDirectory()
	if err := h.cl.Users.Handle(h.onUserMessage); err != nil {
		h.log.Error("listening for users' messages", "err", err)
	}
	if err := h.cl.Rooms.ServeNode(h.answerNodeRequest); err != nil {
		h.log.Error("listening for other nodes' requests", "err", err)
	}
	if h.cl.Multi() {
		h.wg.Add(3)
		go h.caretake()
		go h.followOwners()
		go h.watchEdges()
		if err := h.cl.Rooms.HandleNode(h.onLinkMsg); err != nil {
			h.log.Error("listening for rooms' owners", "err", err)
		}
	}
	if opts.Media != nil {
		opts.Media.OnActive(h.activeSpeakers)
	}
	return h
}

// activeSpeakers takes the media server's slot assignment of a room (about five
// times a second while anyone is in a slot) and tells everyone in the room when
// what they see changes (speakerView). It is not a room event: no seq.
func (h *Hub) activeSpeakers(roomID string, slots []ActiveSlot) {
	r, ok := h.room(roomID)
	if !ok {
		return
	}
	select { // never block the media server: a busy room skips one report, the next one catches up
	case r.ops <- func() {
		msg := r.speakers.update(slots, h.now())
		if msg == nil {
			return
		}
		if len(r.conns) <= paceAbove {
			for _, c := range r.conns {
				c.send(msg)
			}
			return
		}
		for _, c := range r.conns {
			if c.edge != nil {
				c.send(msg) // one op for each edge: it writes it out itself
			}
		}
		if r.pacer == nil {
			r.pacer = newSpeakerPacer(paceStep, paceEvery)
			h.wg.Add(1) // the room is running: Shutdown has not begun waiting
			go func() { defer h.wg.Done(); r.pacer.run(r.quit) }()
		}
		conns := make([]*conn, 0, len(r.conns))
		for _, c := range r.conns {
			if c.edge == nil {
				conns = append(conns, c)
			}
		}
		r.pacer.give(msg, conns)
	}:
	default:
	}
}

func (h *Hub) now() time.Time { return h.opts.Now().UTC().Truncate(time.Millisecond) }

// CreateRoom makes a room, waiting for its creator to open it by joining.
func (h *Hub) CreateRoom(ctx context.Context, creatorID string, spec RoomSpec) (RoomRecord, error) {
	cfg := room.Config{ID: ids.New(), Title: spec.Title, Description: spec.Description, Type: spec.Type,
		AllowGuests: spec.AllowGuests, CreatorID: creatorID, MaxParticipants: h.opts.MaxParticipants, CreatedAt: h.now(),
		MaxGuests: h.opts.MaxGuests, MaxGuestsPerAddr: h.opts.MaxGuestsPerAddr,
		CoHosts: slices.Clone(spec.CoHosts), Speakers: slices.Clone(spec.Speakers), ClubID: spec.ClubID, MembersOnly: spec.MembersOnly,
		Chat: spec.Chat, KeepChat: spec.KeepChat, Record: spec.Record, AllowClips: spec.AllowClips, Captions: spec.Captions}
	if h.opts.RoomDelegates != nil {
		delegates, err := h.opts.RoomDelegates(ctx, creatorID)
		if err != nil {
			return RoomRecord{}, err
		}
		for _, d := range delegates {
			if d != creatorID && !slices.Contains(cfg.CoHosts, d) && !slices.Contains(cfg.Speakers, d) &&
				len(cfg.CoHosts) < room.MaxInvitees {
				cfg.CoHosts = append(cfg.CoHosts, d)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return RoomRecord{}, err
	}
	setup, err := json.Marshal(cfg)
	if err != nil {
		return RoomRecord{}, err
	}
	rec := RoomRecord{ID: cfg.ID, Title: cfg.Title, Description: cfg.Description, Type: string(cfg.Type),
		AllowGuests: cfg.AllowGuests, CreatorID: creatorID, CreatedAt: cfg.CreatedAt, Setup: setup}
	if h.isDraining() {
		return RoomRecord{}, ErrShuttingDown
	}
	if err := h.opts.Store.CreateRoom(ctx, rec); err != nil {
		return RoomRecord{}, err
	}
	lease, err := h.cl.Leases.Acquire(ctx, cfg.ID, 0)
	if err != nil {
		return RoomRecord{}, err
	}
	r := newLiveRoom(h, cfg, lease)
	if err := h.start(r, startedIdle); err != nil {
		lease.Release(ctx, true)
		return RoomRecord{}, err
	}
	r.do(func() {
		r.refreshSummary()
		r.saveState()
	})
	rec.Setup = nil
	return rec, nil
}

// start runs r, which waits idle (if not yet opened) for its creator to open it,
// and answers its requests from other nodes.
func (h *Hub) start(r *liveRoom, idle time.Duration) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return ErrShuttingDown
	}
	h.rooms[r.id] = r
	h.wg.Add(1)
	h.mu.Unlock()
	go r.run(idle)
	if err := h.serve(r); err != nil {
		r.do(r.stepDown)
		return err
	}
	if h.cl.Multi() && h.opts.Media != nil {
		h.opts.Media.Route(r.id, MediaRoute{Epoch: r.lease.Epoch(), Owner: true})
	}
	h.markHallway()
	return nil
}

// Recover runs once at start-up, before anyone connects: it ends the rooms the
// last run left live (their live state is gone) and brings back the rooms that
// were created but not yet opened, each waiting for the rest of its time.
func (h *Hub) Recover(ctx context.Context) error {
	now := h.now()
	n, err := h.opts.Store.EndLiveRooms(ctx, now, now.Add(-startedIdle))
	if err != nil {
		return fmt.Errorf("ending rooms left live by the last run: %w", err)
	}
	if n > 0 {
		h.log.Info("ended rooms left live by the last run", "count", n)
	}
	waiting, err := h.opts.Store.WaitingRooms(ctx)
	if err != nil {
		return fmt.Errorf("rooms waiting to be opened: %w", err)
	}
	for _, rec := range waiting {
		var cfg room.Config
		if err := json.Unmarshal(rec.Setup, &cfg); err != nil || cfg.Validate() != nil || cfg.ID != rec.ID {
			h.log.Warn("a waiting room's setup does not read back: ending it", "room", rec.ID, "err", err)
			id := rec.ID
			st := h.opts.Store
			h.persist("end room", func(ctx context.Context) error { return st.EndRoom(ctx, id, now, 0) })
			continue
		}
		cfg.MaxParticipants, cfg.MaxGuests, cfg.MaxGuestsPerAddr = h.opts.MaxParticipants, h.opts.MaxGuests, h.opts.MaxGuestsPerAddr
		lease, err := h.cl.Leases.Acquire(ctx, cfg.ID, 0)
		if err != nil {
			return err
		}
		r := newLiveRoom(h, cfg, lease)
		if err := h.start(r, startedIdle-now.Sub(cfg.CreatedAt)); err != nil {
			return err
		}
		r.do(func() { r.refreshSummary(); r.saveState() })
	}
	if len(waiting) > 0 {
		h.log.Info("brought back rooms waiting to be opened", "count", len(waiting))
	}
	return nil
}

// RoomSpec is what a user asks for when they start a room.
type RoomSpec struct {
	Title       string
	Description string
	Type        room.Type
	AllowGuests bool
	CoHosts     []string // join on stage as moderators (an event's co-hosts)
	Speakers    []string // join on stage as speakers (an event's invited guests)
	ClubID      string   // the club the room belongs to, if any
	MembersOnly bool     // only the club's members (and hosts, invitees) may join
	// Chat is who may write in the chat at first ("" for the room type's
	// default); KeepChat keeps the chat with the room's history after it ends.
	Chat     room.ChatMode
	KeepChat bool
	// Record records the room for a replay; AllowClips lets listeners cut clips;
	// Captions captions the replay.
	Record, AllowClips, Captions bool
}

func (h *Hub) room(id string) (*liveRoom, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.rooms[id]
	return r, ok
}

// forget drops an ended room from the hub.
func (h *Hub) forget(r *liveRoom) {
	h.mu.Lock()
	delete(h.rooms, r.id)
	for u, rid := range h.userRoom {
		if rid == r.id {
			delete(h.userRoom, u)
		}
	}
	h.mu.Unlock()
	h.markHallway()
}

// persist runs a store write off the room goroutines; Shutdown waits for it.
func (h *Hub) persist(what string, f func(ctx context.Context) error) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			h.log.Error("store write failed", "what", what, "err", err)
		}
	}()
}

// Shutdown ends every live room (the sockets are told and closed) and waits for
// the hub's goroutines, up to ctx.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil
	}
	h.closing = true
	rooms := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	var users []*userConn
	for _, set := range h.users {
		for uc := range set {
			users = append(users, uc)
		}
	}
	h.mu.Unlock()
	for _, r := range rooms {
		if h.cl.Multi() {
			r.do(r.stepDown) // the room goes on elsewhere: its state and lease stay
			continue
		}
		r.shutdown()
	}
	for _, uc := range users {
		uc.close(ByeShutdown)
	}
	close(h.stop)
	done := make(chan struct{})
	go func() { h.wg.Wait(); h.socketsWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("live: shutdown: %w", ctx.Err())
	}
	if h.cl.Multi() {
		return nil // the cluster's rooms are not this node's to end
	}
	// Rooms not yet opened are left waiting: the next run brings them back.
	now := h.now()
	_, err := h.opts.Store.EndLiveRooms(context.WithoutCancel(ctx), now, now.Add(-startedIdle))
	return err
}

// isCode reports whether err carries code.
func isCode(err error, code errcode.Code) bool {
	var e *errcode.Error
	return errors.As(err, &e) && e.Code == code
}

// PastRoom is an ended room in a user's history.
type PastRoom struct {
	RoomRecord
	Speakers []string // IDs of who spoke, in the order they first did
}

// History lists the ended rooms user created or spoke in.
func (h *Hub) History(ctx context.Context, user string) ([]PastRoom, error) {
	recs, err := h.opts.Store.EndedRoomsOf(ctx, user, 50)
	if err != nil {
		return nil, err
	}
	out := make([]PastRoom, len(recs))
	for i, rec := range recs {
		sp, err := h.opts.Store.RoomSpeakers(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		out[i] = PastRoom{RoomRecord: rec, Speakers: sp}
	}
	return out, nil
}
