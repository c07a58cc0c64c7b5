package live

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/coder/websocket"
)

// socketBufSize is the read and the write buffer of a socket's connection.
// net/http hands a hijacked connection over with its own 4 KiB buffers, which the
// WebSocket keeps for its whole life. Our frames are small (events of a few
// hundred bytes; an SDP answer of a few KiB, which bufio reads and writes straight
// through when it does not fit), so 1 KiB each saves 6 KiB of every socket: a
// tenth of what a listener costs the server.
const socketBufSize = 1024

// accept upgrades to a WebSocket of our subprotocol with small buffers. A browser's
// Origin must be this server's own host, or in a cluster, the host of one of its
// nodes (the page came from one node, the room runs on another).
func (h *Hub) accept(w http.ResponseWriter, req *http.Request) (*websocket.Conn, error) {
	var origins []string
	if h.cl.Multi() {
		for _, n := range h.cl.Nodes.Live() {
			if u, err := url.Parse(n.URL); err == nil && u.Host != "" {
				origins = append(origins, u.Host)
			}
		}
	}
	return websocket.Accept(smallBuffers{w}, req, &websocket.AcceptOptions{Subprotocols: []string{"townhall.v1"},
		OriginPatterns: origins})
}

// smallBuffers is a ResponseWriter whose Hijack returns the connection with
// socketBufSize buffers instead of net/http's.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		c.Close()
		return nil, nil, err
	}
	// Bytes the client sent right after its request (its first frames) may
	// already be in net/http's buffer: they go first into the new one.
	n := brw.Reader.Buffered()
	var src io.Reader = c
	if n > 0 {
		early, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(early)), c)
	}
	br := bufio.NewReaderSize(src, max(socketBufSize, n))
	if n > 0 {
		// One fill takes exactly the early bytes, so that what is buffered and
		// what is left to read from c are what they were.
		if _, err := br.Peek(n); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	return c, bufio.NewReadWriter(br, bufio.NewWriterSize(c, socketBufSize)), nil
}
