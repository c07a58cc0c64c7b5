package live

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// waitFor is how long a test waits for something that should happen at once.
const waitFor = 10 * time.Second

func TestConnSendsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		senders int
		each    int
	}{
		{"one sender's messages arrive in the order they were sent", 1, 2000},
		{"each of eight senders' messages arrive in its order, each exactly once", 8, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, client := newConnServer(t, 0, nil).open(t, nil)

			got := make(chan []string, 1)
			go func() { // the client reads as the senders send
				var msgs []string
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				defer cancel()
				for {
					_, data, err := client.Read(ctx)
					if err != nil {
						got <- msgs
						return
					}
					msgs = append(msgs, string(data))
				}
			}()

			accepted := make([][]int, tc.senders) // what send took, by sender
			var wg sync.WaitGroup
			for g := range tc.senders {
				wg.Go(func() {
					for i := range tc.each {
						if c.send([]byte(fmt.Sprintf("%d:%d", g, i))) {
							accepted[g] = append(accepted[g], i)
						}
					}
				})
			}
			wg.Wait()
			c.close("")

			var msgs []string
			select {
			case msgs = <-got:
			case <-time.After(waitFor):
				t.Fatal("the client never saw the socket close")
			}
			received := make([][]int, tc.senders)
			for _, m := range msgs {
				gs, is, _ := strings.Cut(m, ":")
				g, _ := strconv.Atoi(gs)
				i, _ := strconv.Atoi(is)
				received[g] = append(received[g], i)
			}
			total := 0
			for g := range tc.senders {
				total += len(accepted[g])
				if fmt.Sprint(received[g]) != fmt.Sprint(accepted[g]) {
					t.Errorf("sender %d: received %d messages, not the %d send accepted in their order",
						g, len(received[g]), len(accepted[g]))
				}
			}
			if total == 0 {
				t.Fatal("send accepted nothing")
			}
			waitDone(t, c)
		})
	}
}

// TestConnWriterStops checks that the writer's decision to stop never strands a
// message: both orders in which a send can meet that decision (it is taken under
// sendMu), and many sends timed to land as the writer finishes.
func TestConnWriterStops(t *testing.T) {
	// becomeWriter makes the test the conn's running writer, about to look at the
	// queue.
	becomeWriter := func(c *conn) {
		c.sendMu.Lock()
		c.writing = true
		c.sendMu.Unlock()
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *conn, client *websocket.Conn)
	}{
		{"a message queued just before the writer's last look is written by that writer", func(t *testing.T, c *conn, client *websocket.Conn) {
			becomeWriter(c)
			if !c.send([]byte("m")) {
				t.Fatal("send refused a message to an empty queue")
			}
			go c.flush() // the writer looks and finds it
			if got := read(t, client); got != "m" {
				t.Fatalf("got %q, want m", got)
			}
		}},
		{"a message queued just after the writer decided to stop starts a new writer", func(t *testing.T, c *conn, client *websocket.Conn) {
			becomeWriter(c)
			if _, step := c.next(); step != stopWriting {
				t.Fatalf("the writer of an empty queue was told %d, want to stop", step)
			}
			if !c.send([]byte("m")) {
				t.Fatal("send refused a message to an empty queue")
			}
			if got := read(t, client); got != "m" {
				t.Fatalf("got %q, want m", got)
			}
		}},
		{"each of many messages sent as the writer finishes the one before is written", func(t *testing.T, c *conn, client *websocket.Conn) {
			for i := range 2000 {
				want := strconv.Itoa(i)
				if !c.send([]byte(want)) {
					t.Fatalf("send refused message %d to an empty queue", i)
				}
				if got := read(t, client); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, client := newConnServer(t, 0, nil).open(t, nil)
			tc.run(t, c, client)
		})
	}
}

func TestConnDropsWhenFull(t *testing.T) {
	t.Run("the 257th message waiting for a stuck client is dropped and its event shows as a seq gap", func(t *testing.T) {
		s := newStall()
		c, client := newConnServer(t, 0, s).open(t, nil)
		event := func(seq int) string {
			return `{"type":"event","seq":` + strconv.Itoa(seq) + `,"kind":"k","data":{}}`
		}

		s.start()
		c.sendEvent("k", []byte("{}")) // seq 1: the writer takes it and is stuck
		s.waitBlocked(t)
		for range outQueue {
			c.sendEvent("k", []byte("{}")) // seq 2 to 257 wait
		}
		if c.send([]byte("dropped")) {
			t.Fatal("send took a message beyond the queue's 256")
		}
		c.sendEvent("k", []byte("{}")) // seq 258 is dropped too

		s.lift()
		for seq := 1; seq <= outQueue+1; seq++ {
			if got := read(t, client); got != event(seq) {
				t.Fatalf("got %s, want %s", got, event(seq))
			}
		}
		c.sendEvent("k", []byte("{}"))
		if got := read(t, client); got != event(259) {
			t.Fatalf("after the queue drained got %s, want %s", got, event(259))
		}
	})
}

func TestConnDropsAStalledClient(t *testing.T) {
	t.Run("a client whose write stalls longer than the write timeout is dropped", func(t *testing.T) {
		defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
		writeTimeout = 100 * time.Millisecond
		s := newStall()
		t.Cleanup(s.lift)
		c, _ := newConnServer(t, 0, s).open(t, nil)
		s.start()
		c.send([]byte(`{"type":"pong"}`))
		s.waitBlocked(t)
		select {
		case <-c.done:
		case <-time.After(waitFor):
			t.Fatal("the stalled client was not dropped")
		}
		if c.send([]byte(`{"type":"pong"}`)) {
			t.Fatal("a dropped conn took a message")
		}
	})
	t.Run("writes that each finish in time keep the client", func(t *testing.T) {
		defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
		writeTimeout = 2 * time.Second
		c, client := newConnServer(t, 0, nil).open(t, nil)
		for i := range 20 {
			msg := `{"type":"pong","id":"` + strconv.Itoa(i) + `"}`
			c.send([]byte(msg))
			if got := read(t, client); got != msg {
				t.Fatalf("got %s, want %s", got, msg)
			}
		}
		select {
		case <-c.done:
			t.Fatal("a client that reads was dropped")
		default:
		}
	})
}

func TestConnClose(t *testing.T) {
	for _, tc := range []struct {
		reason string
		code   websocket.StatusCode
	}{
		{"", websocket.StatusNormalClosure},
		{ByeLeft, websocket.StatusNormalClosure},
		{ByeReplaced, 4001},
		{ByeRemoved, 4003},
		{ByeEnded, 4004},
		{ByeShutdown, websocket.StatusGoingAway},
		{ByeAbuse, websocket.StatusPolicyViolation},
	} {
		name := fmt.Sprintf("closing as %q writes what is queued, says bye and closes with %d", tc.reason, tc.code)
		if tc.reason == "" {
			name = fmt.Sprintf("closing without a reason writes what is queued and closes with %d, no bye", tc.code)
		}
		t.Run(name, func(t *testing.T) {
			s := newStall()
			c, client := newConnServer(t, 0, s).open(t, nil)

			s.start()
			c.send([]byte("m0")) // the writer takes it and is stuck
			s.waitBlocked(t)
			for _, m := range []string{"m1", "m2", "m3"} {
				if !c.send([]byte(m)) {
					t.Fatalf("send refused %s", m)
				}
			}
			c.close(tc.reason)
			if c.send([]byte("late")) {
				t.Fatal("send took a message after close")
			}
			if isDone(c) {
				t.Fatal("the conn finished before what was queued was written")
			}

			s.lift()
			for _, want := range []string{"m0", "m1", "m2", "m3"} {
				if got := read(t, client); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			if tc.reason != "" {
				want := `{"type":"bye","reason":"` + tc.reason + `"}`
				if got := read(t, client); got != want {
					t.Fatalf("got %s, want %s", got, want)
				}
			}
			ce := readClose(t, client)
			if ce.Code != tc.code || ce.Reason != tc.reason {
				t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
			waitDone(t, c)
		})
	}
}

func TestConnHeartbeat(t *testing.T) {
	const heartbeat = 100 * time.Millisecond
	for _, tc := range []struct {
		name    string
		answers bool
	}{
		{"a client that answers pings keeps its conn", true},
		{"a client that never answers a ping is dropped", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pings := make(chan struct{}, 16)
			opts := &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
				select {
				case pings <- struct{}{}:
				default:
				}
				return true
			}}
			c, client := newConnServer(t, heartbeat, nil).open(t, opts)

			if !tc.answers {
				waitDone(t, c)
				return
			}
			// The client reads, as browsers do: reading is what answers pings.
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				for {
					if _, _, err := client.Read(context.Background()); err != nil {
						return
					}
				}
			}()
			t.Cleanup(func() {
				client.CloseNow()
				<-stopped
			})
			for n := range 3 {
				select {
				case <-pings:
				case <-c.done:
					t.Fatalf("the conn ended after %d answered pings", n)
				case <-time.After(waitFor):
					t.Fatalf("%d pings came, want 3", n)
				}
			}
			if isDone(c) {
				t.Fatal("the conn ended although its client answered every ping")
			}
		})
	}
}

// TestIdleConnHoldsNoGoroutine opens idle sockets, each of which was sent a
// message (so a writer ran) and has its heartbeat armed, and checks that each
// holds its reader goroutine and nothing more.
func TestIdleConnHoldsNoGoroutine(t *testing.T) {
	t.Run("each idle socket holds only the goroutine that reads it", func(t *testing.T) {
		const sockets = 50
		cs := newConnServer(t, time.Minute, nil)
		before := runtime.NumGoroutine()
		for i := range sockets {
			c, client := cs.open(t, nil)
			want := strconv.Itoa(i)
			c.send([]byte(want))
			if got := read(t, client); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		// The writers exit on their own, with no event to wait on: poll the count.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(waitFor)
		for runtime.NumGoroutine()-before > sockets {
			select {
			case <-tick.C:
			case <-deadline:
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines more for %d idle sockets, want at most one each:\n%s",
					runtime.NumGoroutine()-before, sockets, buf[:runtime.Stack(buf, true)])
			}
		}
	})
}

func TestNextBeat(t *testing.T) {
	const period = 16 * time.Second // slots of 1 s
	at := func(ns int64) time.Time { return time.Unix(0, ns) }
	sec := int64(time.Second)
	for _, tc := range []struct {
		name   string
		now    time.Time
		period time.Duration
		want   time.Duration
	}{
		{"a ping due on a slot goes out one period later", at(100 * sec), period, period},
		{"a ping due between slots waits for the next slot", at(100*sec + 1), period, period + time.Second - 1},
		{"a ping due just before a slot goes out on it", at(101*sec - 1), period, period + 1},
		{"a period too short for slots is kept as it is", at(100*sec + 7), 10 * time.Nanosecond, 10 * time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nextBeat(tc.now, tc.period)
			if got != tc.want {
				t.Fatalf("nextBeat = %v, want %v", got, tc.want)
			}
			if slot := tc.period / beatSlots; slot > 0 && (tc.now.UnixNano()+int64(got))%int64(slot) != 0 {
				t.Fatalf("the ping at %d ns is not on a slot of %v", tc.now.UnixNano()+int64(got), slot)
			}
		})
	}
	t.Run("sockets that started apart ping together", func(t *testing.T) {
		base := at(1000 * sec)
		first := base.Add(nextBeat(base, period))
		for _, offset := range []time.Duration{time.Millisecond, 300 * time.Millisecond, 999 * time.Millisecond} {
			if got := base.Add(offset).Add(nextBeat(base.Add(offset), period)); !got.Equal(first.Add(time.Second)) {
				t.Errorf("a socket started %v later pings at %v, want %v", offset, got, first.Add(time.Second))
			}
		}
	})
}
