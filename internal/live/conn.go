package live

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// outQueue is how many messages may wait for a slow client before the server
// starts dropping them (the client then sees a gap in seq and asks for a snapshot).
const outQueue = 256

// writeTimeout bounds one write to a client; a client that takes longer is dropped.
// A variable for the tests.
var writeTimeout = 10 * time.Second

// conn is one participant's socket (a room socket, or inside a userConn the user
// socket).
//
// A socket has one goroutine while it is idle, its reader (started by ServeRoom or
// ServeUser); the conn owns none: send starts a writer goroutine when a message
// arrives in an empty queue and that writer exits once the queue is empty, and the
// heartbeat is a timer that only runs a goroutine while a ping waits for its pong. A long-lived writer with
// its ticker and a 256-slot channel cost about 11 KiB a socket, idle or not.
//
// Lock order: sendMu is taken after Hub.mu (Notify sends under it), and only the
// writers' pool's mu is acquired while it is held (writers.go); nothing that
// blocks runs under it.
type conn struct {
	ws     *websocket.Conn
	person Person
	cred   Credentials // never changes
	seq    uint64      // per-connection event sequence; room goroutine only
	limit  *rate.Limiter
	bad    int          // malformed or refused frames in a row; reader goroutine only
	media  MediaSession // the audio connection; reader goroutine only
	bcl    *connLimits  // backchannel budgets, made on first use; reader goroutine only
	// hides are the people whose chat messages this participant does not see
	// (blocks either way), as looked up when they joined; room goroutine only.
	hides map[string]struct{}
	// captions: the socket asked for the room's live captions (show_captions);
	// room goroutine only.
	captions bool

	// A participant connected to another node of the cluster (an edge) is a conn
	// on the owner too, without a WebSocket: what is sent to it goes to edge as
	// an op for the socket sock there (link.go). On the edge, sock numbers the
	// local socket.
	edge   *edgeLink
	sock   uint64
	attach bool // a remote conn taken back after a change of owner: no welcome
	// linked (on an edge) is closed once the owner's first snapshot reached the
	// socket: its audio offer waits for it, as on the owner it follows the
	// snapshot.
	linked     chan struct{}
	linkedOnce sync.Once

	done     chan struct{} // closed when the socket is finished: closed after its bye, or dead
	doneOnce sync.Once

	writers *writerPool // runs the writer (writers.go)
	sendMu  sync.Mutex
	queue   [][]byte    // messages waiting for the writer: queue[head:], oldest first
	head    int         // the next message to write
	writing bool        // a writer goroutine is running; there is never more than one
	closing bool        // close (or a failure) happened: nothing more is queued
	bye     string      // the reason close was given
	ping    *time.Timer // the next heartbeat; nil without heartbeats
	expiry  *time.Timer // revokes the session when it expires; nil for guests
	stall   *time.Timer // drops the client when a write stalls; the writer's only
}

// newConn returns the conn of ws for p. Every heartbeat (if > 0) it pings the
// client and drops it if no pong comes within another heartbeat; pongs arrive only
// while someone reads ws, which the caller does until the socket ends.
func newConn(ws *websocket.Conn, p Person, cred Credentials, heartbeat time.Duration) *conn {
	c := &conn{ws: ws, person: p, cred: cred, done: make(chan struct{}), limit: rate.NewLimiter(20, 40), writers: &writers}
	if heartbeat > 0 {
		c.sendMu.Lock() // the timer may fire before c.ping is set
		c.ping = time.AfterFunc(nextBeat(time.Now(), heartbeat), func() { c.beat(heartbeat) })
		c.sendMu.Unlock()
	}
	return c
}

// beatSlots is how many instants per heartbeat the server's pings may fall on.
const beatSlots = 16

// nextBeat returns how long after now the next ping of a socket that pings every
// period is due: at least one period, rounded up to the next of beatSlots
// instants per period (multiples of period/beatSlots since the Unix epoch). The
// sockets' pings then go out together on those instants instead of each on its
// own: a server with thousands of sockets wakes a few times a period to ping
// them, not thousands of times, and each wake-up of an idle Go process costs it
// far more than the ping (the runtime's sysmon thread polls for a millisecond
// after any system call that finds the process idle: docs/benchmarks.md).
func nextBeat(now time.Time, period time.Duration) time.Duration {
	slot := period / beatSlots
	if slot <= 0 {
		return period
	}
	at := now.UnixNano() + int64(period)
	if r := at % int64(slot); r != 0 {
		at += int64(slot) - r
	}
	return time.Duration(at - now.UnixNano())
}

// send queues msg without blocking; it reports false if the client is too slow and
// the message was dropped, or the conn is closing.
func (c *conn) send(msg []byte) bool {
	if c.edge != nil {
		return c.edge.send(c, msg)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing || len(c.queue)-c.head >= outQueue {
		return false
	}
	c.queue = append(c.queue, msg)
	c.startWriter()
	return true
}

// sendEvent queues an event message: it takes the next sequence number whether or
// not the message fits, so that a dropped one shows as a gap.
func (c *conn) sendEvent(kind string, data []byte) {
	if c.edge != nil {
		c.edge.event(c, kind, data) // the edge numbers it
		return
	}
	c.seq++
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"type":"event","seq":`...)
	b = strconv.AppendUint(b, c.seq, 10)
	b = append(b, `,"kind":"`...)
	b = append(b, kind...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	b = append(b, '}')
	c.send(b)
}

// close says bye (reason) and closes the socket after what is queued is written.
// Only the first call counts; done is closed once the socket is closed.
func (c *conn) close(reason string) { c.shut(reason, false) }

// closeHere is close by a goroutine that would wait for done anyway (a socket's
// reader on its way out): unless a writer is running, it writes what is queued
// and the bye itself instead of starting one. When thousands of sockets close at
// once, each then has one goroutine, not two, and the runtime keeps a descriptor
// for every goroutine that ever ran at the same time, for good (the memory that
// guests leave behind, docs/security.md).
func (c *conn) closeHere(reason string) { c.shut(reason, true) }

func (c *conn) shut(reason string, here bool) {
	if c.edge != nil {
		c.edge.close(c, reason)
		return
	}
	c.sendMu.Lock()
	if c.closing {
		c.sendMu.Unlock()
		return
	}
	c.closing = true
	c.bye = reason
	c.stopHeartbeat()
	if !here || c.writing {
		c.startWriter() // the writer says bye once the queue is empty
		c.sendMu.Unlock()
		return
	}
	c.writing = true
	c.sendMu.Unlock()
	c.flush()
}

// closeCode maps a bye reason to a WebSocket close code (4000-4999: ours).
func closeCode(reason string) websocket.StatusCode {
	switch reason {
	case ByeReplaced:
		return 4001
	case ByeRemoved:
		return 4003
	case ByeEnded:
		return 4004
	case ByeAbuse:
		return websocket.StatusPolicyViolation
	case ByeShutdown:
		return websocket.StatusGoingAway
	case ByeSessionEnded, ByeDisabled:
		return 4005
	case ByeMoved:
		return 4006
	}
	return websocket.StatusNormalClosure
}

// startWriter starts the writer unless one is running. sendMu is held.
func (c *conn) startWriter() {
	if !c.writing {
		c.writing = true
		c.writers.start(c)
	}
}

// writerStep is what the writer is to do next.
type writerStep int

const (
	writeNext   writerStep = iota // write the message next returned
	sayBye                        // the conn is closing and its queue is empty
	stopWriting                   // the queue is empty: the writer has stopped
)

// next takes the oldest queued message for the writer. With none queued it tells
// the writer to say bye if the conn is closing, or else stops it. The decision to
// stop is taken under sendMu together with clearing writing, so a message queued
// after it starts a new writer: none is left behind in the queue.
func (c *conn) next() ([]byte, writerStep) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.head == len(c.queue) {
		if c.closing {
			return nil, sayBye
		}
		c.writing = false
		return nil, stopWriting
	}
	msg := c.queue[c.head]
	c.queue[c.head] = nil // let the message go once written
	if c.head++; c.head == len(c.queue) {
		// Empty: the array is kept for the next messages (a few words; a
		// fresh one for each message was garbage at every write).
		c.queue, c.head = c.queue[:0], 0
	}
	return msg, writeNext
}

// flush is the writer: it writes queued messages in order until the queue is
// empty, and on close, says bye and closes the WebSocket. A failed write drops the
// client.
func (c *conn) flush() {
	for {
		msg, step := c.next()
		switch step {
		case stopWriting:
			return
		case sayBye:
			c.sendMu.Lock()
			bye := c.bye
			c.sendMu.Unlock()
			if bye != "" {
				_ = c.write([]byte(`{"type":"bye","reason":"` + bye + `"}`))
			}
			_ = c.ws.Close(closeCode(bye), bye)
			c.finish()
			return
		}
		if err := c.write(msg); err != nil {
			c.fail()
			return
		}
	}
}

// write writes msg, dropping the client if that takes longer than writeTimeout.
// The timeout is one timer per conn, reset for each write, not a context: with a
// context coder/websocket sets up a context.AfterFunc for each write, and at
// thousands of listeners that garbage alone set off a collection every few
// seconds. Writers run one at a time, so stall is theirs.
func (c *conn) write(msg []byte) error {
	if c.stall == nil {
		c.stall = time.AfterFunc(writeTimeout, func() { c.ws.CloseNow() })
	} else {
		c.stall.Reset(writeTimeout)
	}
	err := c.ws.Write(context.Background(), websocket.MessageText, msg)
	c.stall.Stop()
	return err
}

// beat runs on the heartbeat timer: it pings the client and waits for the pong
// (which the reader goroutine receives), then sets the timer again. A client that
// does not answer within every is dropped.
func (c *conn) beat(every time.Duration) {
	c.sendMu.Lock()
	closing := c.closing
	c.sendMu.Unlock()
	if closing {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), every)
	err := c.ws.Ping(ctx)
	cancel()
	c.sendMu.Lock()
	if closing = c.closing; !closing && err == nil {
		c.ping.Reset(nextBeat(time.Now(), every))
	}
	c.sendMu.Unlock()
	if err != nil && !closing { // a closing conn's writer says bye and closes it
		c.fail()
	}
}

// stopHeartbeat stops the heartbeat and the expiry timers. sendMu is held.
func (c *conn) stopHeartbeat() {
	if c.ping != nil {
		c.ping.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
}

// fail drops the client at once, without a bye: what is queued is lost.
func (c *conn) fail() {
	c.sendMu.Lock()
	c.closing = true
	c.queue, c.head = nil, 0
	c.stopHeartbeat()
	c.sendMu.Unlock()
	c.ws.CloseNow()
	c.finish()
}

// finish marks the socket finished.
func (c *conn) finish() {
	c.doneOnce.Do(func() { close(c.done) })
}
