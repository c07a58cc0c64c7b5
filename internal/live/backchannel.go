package live

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/room"
)

// The backchannel on the socket: reactions and the chat. The room (internal/room)
// decides who may react and who may write; this file carries what they send.
//
// Reactions change nothing and are many: each is checked on the room goroutine
// without a reply, and added to a tally that goes out a few times a second, one
// "reactions" message (without seq: like active_speakers, a lost one is not a
// gap) for the whole room. Chat messages are events: stored in order, off the
// room goroutine, by the room's write queue, and in a busy room sent as batches
// at the same pace as the reactions.

// The backchannel's pace and sizes.
const (
	// backchannelEvery is how often a room sends its reactions (and, busy, its
	// chat); a busy room, where every message goes to thousands, twice as slowly.
	backchannelEvery     = 250 * time.Millisecond
	backchannelEveryBusy = 500 * time.Millisecond
	// In a crowd (more than crowdAbove listeners) once a second: a message to
	// each of thousands of sockets is most of what a reaction costs the server.
	backchannelEveryCrowd = time.Second
	crowdAbove            = 1000
	// maxNamedReactions is how many reactions a message names by sender; the
	// others are counted per emoji.
	maxNamedReactions = 100
	// recentChat is how many of the latest chat messages a room keeps for the
	// snapshots; older ones are paged from the store, chatPage at a time.
	recentChat = 50
	chatPage   = 50
)

// Rates of the backchannel, per socket and per room.
var (
	reactRate, reactBurst = rate.Limit(3), 6           // reactions a second, per socket
	chatRate, chatBurst   = rate.Every(time.Second), 5 // chat messages, per socket
	pageRate, pageBurst   = rate.Limit(1), 5           // chat_history requests, per socket
	roomChatRate          = rate.Limit(20)             // chat messages a second, per room
	roomChatBurst         = 40
)

// Errors of the backchannel.
var (
	ErrTooManyReactions = errcode.New(errcode.RateLimited, "too many reactions; slow down")
	ErrTooManyChats     = errcode.New(errcode.RateLimited, "too many chat messages; slow down")
	ErrChatBusy         = errcode.New(errcode.RateLimited, "the chat is busy; try again in a moment")
	ErrChatNotFound     = errcode.New(errcode.NotFound, "no such chat message in this room")
)

// Kinds of the backchannel's events and messages.
const (
	KindChat         = "chat"         // event: new messages
	KindChatDeleted  = "chat_deleted" // event: a moderator deleted a message
	KindReconnecting = "reconnecting" // event: someone on stage lost their socket, or is back
	msgReactions     = "reactions"    // message: the reactions since the last one
)

type (
	chatData struct {
		Messages []ChatMessage `json:"messages"`
	}
	chatDeletedData struct {
		ID string `json:"id"`
		By string `json:"by"`
	}
	reconnectingData struct {
		UserID       string `json:"user_id"`
		Reconnecting bool   `json:"reconnecting"`
	}
	namedReaction struct {
		UserID string `json:"user_id"`
		Emoji  string `json:"emoji"`
	}
	reactionsMsg struct {
		Type   string          `json:"type"` // "reactions"
		From   []namedReaction `json:"from"`
		Others map[string]int  `json:"others"`
	}
	chatHistoryMsg struct {
		Type     string        `json:"type"` // "chat_history"
		ID       string        `json:"id,omitempty"`
		Messages []ChatMessage `json:"messages"` // newest first
		More     bool          `json:"more"`
	}
)

// connLimits are a socket's backchannel budgets, made on first use (most
// listeners never write): reader goroutine only.
type connLimits struct {
	react, chat, page *rate.Limiter
}

func (c *conn) limits() *connLimits {
	if c.bcl == nil {
		c.bcl = &connLimits{react: rate.NewLimiter(reactRate, reactBurst), chat: rate.NewLimiter(chatRate, chatBurst),
			page: rate.NewLimiter(pageRate, pageBurst)}
	}
	return c.bcl
}

// roomBackchannel is a live room's part of the backchannel. Room goroutine only
// (but writes, which runs store writes in order off it).
type roomBackchannel struct {
	armed  bool                   // a flush is due
	named  []namedReaction        // reactions to name by sender
	others [room.NumReactions]int // reactions counted only, by index in room.Reactions
	chat   []ChatMessage          // messages waiting for the flush (busy rooms)
	recent []ChatMessage          // the latest messages, oldest first
	// last is the time of the latest message. Each new one comes strictly
	// after it, to the millisecond (the store's precision), so that the
	// store's order, (created_at, id), is the order the room took them in:
	// with random IDs, messages within one millisecond would come back from
	// a history page in any order, and a page "before" one of them would
	// skip some.
	last   time.Time
	limit  *rate.Limiter // the room's chat
	writes writeQueue
}

// handleBackchannel handles the backchannel's messages; handled is false for any
// other message. done reports that the socket is finished.
func (h *Hub) handleBackchannel(r *liveRoom, c *conn, msg ClientMessage, cmd room.Command) (handled, done bool) {
	switch cmd := cmd.(type) {
	case room.React:
		h.react(r, c, msg, cmd)
		return true, false
	case room.Chat:
		return true, h.chat(r, c, msg, cmd)
	case room.DeleteChat:
		return true, h.deleteChat(r, c, msg, cmd)
	}
	if msg.Type != MsgChatHistory {
		return false, false
	}
	if !c.limits().page.Allow() {
		c.send(errorFrame(msg.ID, ErrRateLimited))
		return true, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Every message sent before this request is stored first: the page holds
	// what the socket has seen.
	stored := make(chan struct{})
	r.bc.writes.push(h, func(context.Context) { close(stored) })
	select {
	case <-stored:
	case <-ctx.Done():
	}
	page, more, err := h.chatPage(ctx, c.person, r.id, msg.Before, msg.Limit)
	if err != nil {
		c.send(errorFrame(msg.ID, err))
		return true, false
	}
	c.send(mustJSON(chatHistoryMsg{Type: MsgChatHistory, ID: msg.ID, Messages: page, More: more}))
	return true, false
}

// spent reports whether lim has no token left. A socket's budget is checked
// before the room sees a message and spent only on one the room accepts: a
// refusal (chat off, a muted writer) costs nothing of it.
func spent(lim *rate.Limiter) bool { return lim.Tokens() < 1 }

// react checks a reaction on the room goroutine and adds it to the next tally.
// The reader does not wait: an ok comes only when the message has an id.
func (h *Hub) react(r *liveRoom, c *conn, msg ClientMessage, cmd room.React) {
	lim := c.limits().react
	if spent(lim) {
		c.send(errorFrame(msg.ID, ErrTooManyReactions))
		return
	}
	r.reacts.mu.Lock()
	r.reacts.pending = append(r.reacts.pending, pendingReact{c: c, lim: lim, id: msg.ID, cmd: cmd})
	arm := !r.reacts.armed
	r.reacts.armed = true
	r.reacts.mu.Unlock()
	if arm {
		time.AfterFunc(reactIntake, func() { r.post(r.takeReactions) })
	}
}

// reactInbox holds the reactions the sockets' readers took, until the room
// goroutine takes them all at once: in a room where thousands react, a
// reaction costs its reader a lock and an append rather than a wake-up of the
// room goroutine. The room decides on each as it takes it.
type reactInbox struct {
	mu      sync.Mutex
	pending []pendingReact
	armed   bool // a takeReactions is due
}

type pendingReact struct {
	c   *conn
	lim *rate.Limiter
	id  string // the message's id, to answer
	cmd room.React
}

// reactIntake is how long a reaction waits in the inbox at most.
const reactIntake = 50 * time.Millisecond

// takeReactions applies the reactions in the inbox. Room goroutine only.
func (r *liveRoom) takeReactions() {
	r.reacts.mu.Lock()
	batch := r.reacts.pending
	r.reacts.pending, r.reacts.armed = nil, false
	r.reacts.mu.Unlock()
	for _, p := range batch {
		c, id := p.c, p.c.person.ID
		if r.conns[id] != c {
			c.send(errorFrame(p.id, room.ErrNotJoined))
			continue
		}
		if _, err := r.st.Apply(id, p.cmd); err != nil {
			c.send(errorFrame(p.id, err))
			continue
		}
		if !p.lim.Allow() {
			c.send(errorFrame(p.id, ErrTooManyReactions))
			continue
		}
		r.addReaction(id, p.cmd.Emoji)
		if p.id != "" {
			c.send(mustJSON(okMsg{Type: "ok", ID: p.id}))
		}
	}
}

// chat posts a chat message: the room checks it, then it is queued for the store
// and sent (at once, or with the next batch in a busy room).
func (h *Hub) chat(r *liveRoom, c *conn, msg ClientMessage, cmd room.Chat) bool {
	lim := c.limits().chat
	if spent(lim) {
		c.send(errorFrame(msg.ID, ErrTooManyChats))
		return false
	}
	var err error
	if !r.do(func() {
		id := c.person.ID
		if r.conns[id] != c {
			err = room.ErrNotJoined
			return
		}
		cmd.Now = r.hub.now()
		if _, err = r.st.Apply(id, cmd); err != nil {
			return
		}
		switch {
		case !lim.Allow():
			err = ErrTooManyChats
			return
		case !r.bc.limit.Allow():
			err = ErrChatBusy
			return
		}
		name := c.person.DisplayName
		if name == "" {
			name = c.person.Username
		}
		at := cmd.Now
		if !at.After(r.bc.last) {
			at = r.bc.last.Add(time.Millisecond)
		}
		r.bc.last = at
		m := ChatMessage{ID: ids.New(), RoomID: r.id, UserID: id, Name: name, Text: cmd.Text, At: at}
		c.send(mustJSON(okMsg{Type: "ok", ID: msg.ID}))
		r.postChat(m)
	}) {
		return true
	}
	if err != nil {
		c.send(errorFrame(msg.ID, err))
		return isCode(err, errcode.BadRequest) && c.strike()
	}
	return false
}

// deleteChat deletes a message for a moderator: the room checks they may, the
// store (after every write queued before) deletes it, and then the room tells
// everyone.
func (h *Hub) deleteChat(r *liveRoom, c *conn, msg ClientMessage, cmd room.DeleteChat) bool {
	var err error
	if !r.do(func() {
		id := c.person.ID
		if r.conns[id] != c {
			err = room.ErrNotJoined
			return
		}
		if _, err = r.st.Apply(id, cmd); err != nil {
			return
		}
		st, roomID, at := h.opts.Store, r.id, h.now()
		r.bc.writes.push(h, func(ctx context.Context) {
			err := st.DeleteChat(ctx, roomID, cmd.MessageID, at)
			r.post(func() { r.chatDeleted(c, msg.ID, cmd.MessageID, err) })
		})
	}) {
		return true
	}
	if err != nil {
		c.send(errorFrame(msg.ID, err))
	}
	return false
}

// chatDeleted tells the room that by's deletion of a message is done, or the
// moderator why not. Room goroutine only.
func (r *liveRoom) chatDeleted(by *conn, reqID, msgID string, err error) {
	switch {
	case errors.Is(err, account.ErrNotFound):
		by.send(errorFrame(reqID, ErrChatNotFound))
		return
	case err != nil:
		r.hub.log.Error("deleting a chat message", "room", r.id, "err", err)
		by.send(errorFrame(reqID, err))
		return
	}
	keep := func(m ChatMessage) bool { return m.ID == msgID }
	r.bc.recent = slices.DeleteFunc(r.bc.recent, keep)
	r.bc.chat = slices.DeleteFunc(r.bc.chat, keep)
	if reqID != "" {
		by.send(mustJSON(okMsg{Type: "ok", ID: reqID}))
	}
	data := mustJSON(chatDeletedData{ID: msgID, By: by.person.ID})
	for u, c := range r.conns {
		if _, present := r.st.Participant(u); present {
			c.sendEvent(KindChatDeleted, data)
		}
	}
}

// busy reports whether the room is big enough to batch. Room goroutine only.
func (r *liveRoom) busy() bool { return r.st.ListenerCount() > r.hub.opts.CoalesceAbove }

// addReaction adds one to the next tally: named when the sender is on stage
// (their tile shows it), or anyone in a room that is not busy. Room goroutine
// only.
func (r *liveRoom) addReaction(user, emoji string) {
	p, _ := r.st.Participant(user)
	if (p.Role != room.Listener || !r.busy()) && len(r.bc.named) < maxNamedReactions {
		r.bc.named = append(r.bc.named, namedReaction{UserID: user, Emoji: emoji})
	} else if i := slices.Index(room.Reactions, emoji); i >= 0 {
		r.bc.others[i]++
	}
	r.armBackchannel()
}

// postChat records and sends a new message. Room goroutine only.
func (r *liveRoom) postChat(m ChatMessage) {
	r.bc.recent = append(r.bc.recent, m)
	if len(r.bc.recent) > recentChat {
		r.bc.recent = slices.Delete(r.bc.recent, 0, len(r.bc.recent)-recentChat)
	}
	st := r.hub.opts.Store
	r.bc.writes.push(r.hub, func(ctx context.Context) {
		if err := st.AddChat(ctx, m); err != nil {
			r.hub.log.Error("storing a chat message", "room", m.RoomID, "err", err)
		}
	})
	if r.busy() {
		r.bc.chat = append(r.bc.chat, m)
		r.armBackchannel()
		return
	}
	r.sendChat([]ChatMessage{m})
}

// armBackchannel makes sure a flush is due. Room goroutine only.
func (r *liveRoom) armBackchannel() {
	if r.bc.armed {
		return
	}
	r.bc.armed = true
	every := backchannelEvery
	switch {
	case r.st.ListenerCount() > crowdAbove:
		every = backchannelEveryCrowd
	case r.busy():
		every = backchannelEveryBusy
	}
	time.AfterFunc(every, func() { r.post(r.flushBackchannel) })
}

// flushBackchannel sends the batched chat and the reactions' tally. Room goroutine
// only.
func (r *liveRoom) flushBackchannel() {
	r.bc.armed = false
	if len(r.bc.chat) > 0 {
		r.sendChat(r.bc.chat)
		r.bc.chat = nil
	}
	var others map[string]int
	for i, n := range r.bc.others {
		if n > 0 {
			if others == nil {
				others = map[string]int{}
			}
			others[room.Reactions[i]] = n
		}
	}
	if len(r.bc.named) == 0 && others == nil {
		return
	}
	if others == nil {
		others = map[string]int{}
	}
	named := r.bc.named
	if named == nil {
		named = []namedReaction{}
	}
	data := mustJSON(reactionsMsg{Type: msgReactions, From: named, Others: others})
	r.bc.named, r.bc.others = r.bc.named[:0], [room.NumReactions]int{}
	for u, c := range r.conns {
		if _, present := r.st.Participant(u); present {
			c.send(data)
		}
	}
}

// sendChat sends msgs to everyone present, but to whoever blocks or is blocked by
// an author, without that author's messages. Room goroutine only.
func (r *liveRoom) sendChat(msgs []ChatMessage) {
	data := mustJSON(chatData{Messages: msgs})
	for u, c := range r.conns {
		if _, present := r.st.Participant(u); !present {
			continue
		}
		if !r.st.InBlocks(u) && c.hides == nil {
			c.sendEvent(KindChat, data)
			continue
		}
		mine := r.visibleChat(c, msgs)
		if len(mine) == len(msgs) {
			c.sendEvent(KindChat, data)
		} else if len(mine) > 0 {
			c.sendEvent(KindChat, mustJSON(chatData{Messages: mine}))
		}
	}
}

// visibleChat returns the messages of msgs that c's participant may see. Room
// goroutine only.
func (r *liveRoom) visibleChat(c *conn, msgs []ChatMessage) []ChatMessage {
	u := c.person.ID
	out := make([]ChatMessage, 0, len(msgs))
	for _, m := range msgs {
		if _, hidden := c.hides[m.UserID]; !hidden && !r.st.Hidden(u, m.UserID) {
			out = append(out, m)
		}
	}
	return out
}

// chatPage returns a page of at most limit (0: chatPage) messages of a room's
// chat older than the message before ("" for the newest), newest first, without
// the messages of people who block who or whom who blocks, and whether there
// are more.
func (h *Hub) chatPage(ctx context.Context, who Person, roomID, before string, limit int) ([]ChatMessage, bool, error) {
	if limit <= 0 || limit > chatPage {
		limit = chatPage
	}
	page, err := h.opts.Store.ChatPage(ctx, roomID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(page) > limit
	page = page[:min(len(page), limit)]
	if who.Guest || len(page) == 0 {
		return page, more, nil
	}
	var authors []string
	for _, m := range page {
		if m.UserID != who.ID && !slices.Contains(authors, m.UserID) {
			authors = append(authors, m.UserID)
		}
	}
	edges, err := h.opts.Store.Edges(ctx, who.ID, authors)
	if err != nil {
		return nil, false, err
	}
	page = slices.DeleteFunc(page, func(m ChatMessage) bool {
		e := edges[m.UserID]
		return e.Blocks || e.BlockedBy
	})
	return page, more, nil
}

// MaxChatPage is the most messages a page of chat history holds.
const MaxChatPage = chatPage

// ChatHistory returns a page of a room's chat (at most limit, 0 for MaxChatPage) for viewer ("" for a guest): of a
// live room they may see, or of an ended room whose host kept its chat and that
// they created or spoke in. Anything else is not found.
func (h *Hub) ChatHistory(ctx context.Context, viewer, roomID, before string, limit int) ([]ChatMessage, bool, error) {
	if err := h.mayReadChat(ctx, viewer, roomID); err != nil {
		return nil, false, err
	}
	return h.chatPage(ctx, Person{ID: viewer, Guest: viewer == ""}, roomID, before, limit)
}

// ChatMessageFor returns a chat message as viewer may see it (a report quotes
// it): of a room whose chat they may read, by nobody they block or who blocks
// them. Anything else is not found.
func (h *Hub) ChatMessageFor(ctx context.Context, viewer, id string) (ChatMessage, error) {
	m, err := h.opts.Store.ChatMessage(ctx, id)
	if err != nil {
		return ChatMessage{}, err
	}
	if err := h.mayReadChat(ctx, viewer, m.RoomID); err != nil {
		return ChatMessage{}, err
	}
	if viewer != "" && viewer != m.UserID {
		edges, err := h.opts.Store.Edges(ctx, viewer, []string{m.UserID})
		if err != nil {
			return ChatMessage{}, err
		}
		if e := edges[m.UserID]; e.Blocks || e.BlockedBy {
			return ChatMessage{}, ErrChatNotFound
		}
	}
	return m, nil
}

// mayReadChat answers whether viewer ("" for a guest) may read a room's chat: of
// a live room they may see, or of an ended room they created or spoke in.
func (h *Hub) mayReadChat(ctx context.Context, viewer, roomID string) error {
	if _, err := h.visibleEntry(ctx, viewer, roomID); err != nil {
		if !errors.Is(err, ErrRoomNotFound) || viewer == "" {
			return err
		}
		rec, err := h.opts.Store.RoomByID(ctx, roomID)
		if err != nil || rec.EndedAt.IsZero() {
			return ErrRoomNotFound
		}
		if rec.CreatorID != viewer {
			spoke, err := h.opts.Store.RoomSpeakers(ctx, roomID)
			if err != nil {
				return err
			}
			if !slices.Contains(spoke, viewer) {
				return ErrRoomNotFound
			}
		}
	}
	return nil
}

// writeQueue runs a room's store writes one at a time, in the order queued, off
// the room goroutine: a message is stored before its deletion, and both before
// the chat is dropped at the room's end. The hub's wait group covers it, so
// Shutdown waits for what is queued.
type writeQueue struct {
	mu      sync.Mutex
	jobs    []func(context.Context)
	running bool
}

func (q *writeQueue) push(h *Hub, f func(context.Context)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, f)
	if !q.running {
		q.running = true
		h.wg.Add(1)
		go q.run(h)
	}
}

func (q *writeQueue) run(h *Hub) {
	defer h.wg.Done()
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.jobs, q.running = nil, false
			q.mu.Unlock()
			return
		}
		f := q.jobs[0]
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		f(ctx)
		cancel()
	}
}
