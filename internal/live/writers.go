package live

import (
	"sync"
	"time"
)

// The sockets' writers. A socket has no goroutine of its own to write with: a
// message queued on an idle socket starts a writer, which writes until the queue
// is empty. When a room of thousands tells everyone something at once (the
// audience count, the reactions' tally), that is thousands of writers at the same
// moment, each a goroutine, and the Go runtime keeps a descriptor of every
// goroutine it ever ran at the same time, for good: after 2,000 guests came and
// went, these bursts were a fifth of what the process kept. So writers are
// reused: at most maxWriters run, a socket that needs one past that waits in
// line, and a writer done with its socket takes the next in line.
//
// A writer can block on a client that does not read (until writeTimeout drops
// it), and clients that never read could hold all of them: whenever the first in
// line has waited queueStall, the line is served by new writers, past the
// bound. So the bound shapes bursts and never holds a socket's messages back
// longer than that.
const (
	maxWriters = 64
	queueStall = 20 * time.Millisecond
)

// writerPool runs the sockets' writers, at most limit at a time but when its
// line stalls.
//
// Lock order: mu is a leaf, taken under conn.sendMu (startWriter).
type writerPool struct {
	limit int

	mu      sync.Mutex
	running int     // writer goroutines
	most    int     // the most that ran at once
	line    []*conn // sockets waiting for a writer, oldest first from head
	head    int
	since   time.Time   // when line[head] began to wait
	watch   *time.Timer // serves a stalled line; armed while the line is not empty
	watched bool
}

// writers is the process's pool: its bound is on goroutines, which are the
// process's.
var writers = writerPool{limit: maxWriters}

// start gives c a writer now, or a place in line. c.sendMu is held and c.writing
// was just set.
func (p *writerPool) start(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running < p.limit && p.head == len(p.line) {
		p.spawn(c)
		return
	}
	if p.head == len(p.line) {
		p.since = time.Now()
	}
	p.line = append(p.line, c)
	if !p.watched {
		p.watched = true
		if p.watch == nil {
			p.watch = time.AfterFunc(queueStall, p.unstall)
		} else {
			p.watch.Reset(queueStall)
		}
	}
}

// run writes c's queue, then the queues of the sockets in line, until there is
// none.
func (p *writerPool) run(c *conn) {
	for c != nil {
		c.flush()
		c = p.next()
	}
}

// next takes the first socket in line, or retires the writer that asks.
func (p *writerPool) next() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == len(p.line) {
		p.running--
		return nil
	}
	return p.take()
}

// take pops the first socket in line. mu is held and the line is not empty.
func (p *writerPool) take() *conn {
	c := p.line[p.head]
	p.line[p.head] = nil
	p.head++
	if p.head == len(p.line) {
		p.line, p.head = p.line[:0], 0
		if cap(p.line) > 4*p.limit {
			p.line = nil // a burst's array goes
		}
	} else {
		p.since = time.Now()
	}
	return c
}

// unstall serves the line with a writer each when its first socket waited
// queueStall or more: the running writers are stuck on clients that do not read.
func (p *writerPool) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watched = false
	if p.head == len(p.line) {
		return
	}
	if wait := time.Since(p.since); wait < queueStall {
		p.watched = true
		p.watch.Reset(queueStall - wait)
		return
	}
	for p.head < len(p.line) {
		p.spawn(p.take())
	}
}

// spawn starts a writer with c. mu is held.
func (p *writerPool) spawn(c *conn) {
	p.running++
	p.most = max(p.most, p.running)
	go p.run(c)
}
