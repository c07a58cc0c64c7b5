package live

import (
	"strconv"
	"testing"
	"time"
)

func TestWriterPool(t *testing.T) {
	t.Run("a burst to more sockets than the bound reaches every one with at most the bound of writers", func(t *testing.T) {
		const sockets = 40
		pool := &writerPool{limit: 4}
		cs := newConnServer(t, 0, nil)
		type pair struct {
			c    *conn
			read func() string
		}
		var socks []pair
		for range sockets {
			c, client := cs.open(t, nil)
			c.writers = pool
			socks = append(socks, pair{c, func() string { return read(t, client) }})
		}
		for i, s := range socks {
			for j := range 3 { // several messages each: a writer writes a socket's whole queue
				s.c.send([]byte(strconv.Itoa(i*10 + j)))
			}
		}
		for i, s := range socks {
			for j := range 3 {
				if got, want := s.read(), strconv.Itoa(i*10+j); got != want {
					t.Fatalf("socket %d got %s, want %s", i, got, want)
				}
			}
		}
		pool.mu.Lock()
		most := pool.most
		pool.mu.Unlock()
		if most > pool.limit || most == 0 {
			t.Fatalf("%d writers at once, want 1 to %d", most, pool.limit)
		}
	})
	t.Run("a socket in line behind writers stuck on clients that do not read is written after the line stalls", func(t *testing.T) {
		defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
		writeTimeout = time.Hour // the stuck writers stay stuck: only the line's watch can serve the socket
		pool := &writerPool{limit: 2}
		s := newStall()
		t.Cleanup(s.lift)
		stuck := newConnServer(t, 0, s)
		a, _ := stuck.open(t, nil)
		b, _ := stuck.open(t, nil) // both open before the network stalls
		s.start()
		for _, c := range []*conn{a, b} {
			c.writers = pool
			c.send([]byte(`{"type":"pong"}`))
			s.waitBlocked(t)
		}
		c, client := newConnServer(t, 0, nil).open(t, nil)
		c.writers = pool
		c.send([]byte("through"))
		if got := read(t, client); got != "through" {
			t.Fatalf("got %s", got)
		}
		pool.mu.Lock()
		most := pool.most
		pool.mu.Unlock()
		if most != 3 {
			t.Fatalf("%d writers at most, want the 2 stuck and 1 past the bound", most)
		}
	})
	t.Run("writers retire when the line is empty", func(t *testing.T) {
		pool := &writerPool{limit: 2}
		cs := newConnServer(t, 0, nil)
		for i := range 5 {
			c, client := cs.open(t, nil)
			c.writers = pool
			c.send([]byte(strconv.Itoa(i)))
			read(t, client)
		}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		deadline := time.After(waitFor)
		for {
			pool.mu.Lock()
			running, waiting := pool.running, len(pool.line)-pool.head
			pool.mu.Unlock()
			if running == 0 && waiting == 0 {
				return
			}
			select {
			case <-tick.C: // the writers exit on their own, with no event to wait on
			case <-deadline:
				t.Fatalf("%d writers still running, %d sockets in line", running, waiting)
			}
		}
	})
}
