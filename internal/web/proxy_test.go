package web_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy is a TCP relay between the browser and the server, so that a test can
// cut the network: drop every connection, and refuse new ones for a while.
type proxy struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	paused bool
}

// newProxy relays 127.0.0.1:<random port> to backend until the test ends.
func newProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.serve(&wg) }()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		wg.Wait()
	})
	return p
}

// url is the proxy's base URL.
func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve(wg *sync.WaitGroup) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		if !paused {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if paused {
			c.Close()
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.relay(c) }()
	}
}

func (p *proxy) relay(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[b] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, b)
		p.mu.Unlock()
		b.Close()
	}()
	done := make(chan struct{}, 2)
	go func() { io.Copy(b, c); done <- struct{}{} }()
	go func() { io.Copy(c, b); done <- struct{}{} }()
	<-done
	c.Close()
	b.Close()
	<-done
}

// cut closes every open connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// setDown cuts the network (down) or brings it back.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	p.paused = down
	p.mu.Unlock()
	if down {
		p.cut()
	}
}
