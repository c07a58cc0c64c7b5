package live

import "time"

// The grace window. A participant whose socket dropped stays in the room for
// Options.Grace, and leaves unless they come back within it. Every window is as
// long as the others, so they end in the order they began: a room keeps them in a
// queue with one timer for the first, instead of a timer each. When a crowd drops
// at once (a network blip, the end of a talk), its windows end together, and a
// timer each would be a goroutine each at that moment, all waiting for the room
// goroutine; the runtime keeps a descriptor for every goroutine it ever ran at the
// same time, so that peak would stay in the server's memory for good.

// graceWindows are the windows under way in one room. Room goroutine only.
type graceWindows struct {
	last  uint64      // numbers the windows
	queue []graceEnd  // oldest first: in the order they end
	timer *time.Timer // fires when queue[0] ends; nil before the first window
}

// graceEnd is when the window numbered n of user ends.
type graceEnd struct {
	user string
	n    uint64
	at   time.Time
}

// awaitReturn gives id, present without a socket, the grace window to come back
// before they leave. A window already under way for them is replaced. Room
// goroutine only.
func (r *liveRoom) awaitReturn(id string) {
	w := &r.windows
	w.last++
	r.grace[id] = w.last
	w.queue = append(w.queue, graceEnd{user: id, n: w.last, at: time.Now().Add(r.hub.opts.Grace)})
	if len(w.queue) == 1 {
		r.armGrace()
	}
}

// armGrace sets the timer for the first window in the queue, if any. Room
// goroutine only.
func (r *liveRoom) armGrace() {
	w := &r.windows
	if len(w.queue) == 0 {
		return
	}
	d := time.Until(w.queue[0].at)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, func() { r.post(r.graceEnded) })
		return
	}
	w.timer.Reset(d)
}

// graceEnded makes everyone whose window is over leave, unless they came back
// (their window is no longer theirs in grace), and sets the timer for the next.
// Room goroutine only.
func (r *liveRoom) graceEnded() {
	w := &r.windows
	now := time.Now()
	i := 0
	for ; i < len(w.queue) && !w.queue[i].at.After(now); i++ {
		e := w.queue[i]
		if r.grace[e.user] != e.n {
			continue // back meanwhile, maybe dropped again: a later window is theirs
		}
		delete(r.grace, e.user)
		r.leave(e.user, ByeLeft)
	}
	w.queue = w.queue[i:]
	if len(w.queue) == 0 {
		w.queue = nil // the crowd's array goes
	}
	r.armGrace()
}

// endGrace forgets every window: the room stops here. Room goroutine only.
func (r *liveRoom) endGrace() {
	if r.windows.timer != nil {
		r.windows.timer.Stop()
	}
	r.windows.queue = nil
	clear(r.grace)
}
