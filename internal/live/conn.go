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

// conn is one participant's room socket. The room goroutine owns seq; the writer
// goroutine owns the WebSocket's write side.
type conn struct {
	ws     *websocket.Conn
	person Person
	out    chan []byte
	seq    uint64 // per-connection event sequence; room goroutine only
	limit  *rate.Limiter
	bad    int          // malformed or refused frames in a row; reader goroutine only
	media  MediaSession // the audio connection; reader goroutine only

	closeOnce sync.Once
	done      chan struct{} // closed when the socket is finished
	bye       string
}

func newConn(ws *websocket.Conn, p Person) *conn {
	return &conn{ws: ws, person: p, out: make(chan []byte, outQueue), done: make(chan struct{}),
		limit: rate.NewLimiter(20, 40)}
}

// send queues msg without blocking; it reports false if the client is too slow and
// the message was dropped.
func (c *conn) send(msg []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- msg:
		return true
	default:
		return false
	}
}

// sendEvent queues an event message: it takes the next sequence number whether or
// not the message fits, so that a dropped one shows as a gap.
func (c *conn) sendEvent(kind string, data []byte) {
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
func (c *conn) close(reason string) {
	c.closeOnce.Do(func() {
		c.bye = reason
		close(c.done)
	})
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
	}
	return websocket.StatusNormalClosure
}

// writeLoop writes queued messages and heartbeats until the conn is closed, then
// flushes what is queued, says bye and closes the WebSocket.
func (c *conn) writeLoop(heartbeat time.Duration) {
	ping := time.NewTicker(heartbeat)
	defer ping.Stop()
	write := func(msg []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.ws.Write(ctx, websocket.MessageText, msg)
	}
	for {
		select {
		case msg := <-c.out:
			if err := write(msg); err != nil {
				c.close("")
				c.ws.CloseNow()
				return
			}
		case <-ping.C:
			ctx, cancel := context.WithTimeout(context.Background(), heartbeat)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				c.close("")
				c.ws.CloseNow()
				return
			}
		case <-c.done:
			for {
				select {
				case msg := <-c.out:
					if write(msg) != nil {
						c.ws.CloseNow()
						return
					}
					continue
				default:
				}
				break
			}
			if c.bye != "" {
				_ = write([]byte(`{"type":"bye","reason":"` + c.bye + `"}`))
			}
			_ = c.ws.Close(closeCode(c.bye), c.bye)
			return
		}
	}
}
