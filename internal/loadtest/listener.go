package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// listener is one guest listener.
type listener struct {
	sock *roomSocket
	part *participant
}

// join opens the guest socket, answers the offer, connects, and waits for the
// first audio packet.
func (l *listener) join(ctx context.Context, hc *http.Client, base, roomID string, id *identity, mux *udpMux, idx int) error {
	start := time.Now().UnixNano()
	s, err := dialRoom(ctx, hc, base, roomID, "")
	if err != nil {
		return err
	}
	l.sock = s
	var sdp string
	select {
	case sdp = <-s.offer:
	case e := <-s.errs:
		return fmt.Errorf("before the offer: %s", e)
	case <-s.done:
		return fmt.Errorf("the socket closed before the offer")
	case <-ctx.Done():
		return fmt.Errorf("waiting for the offer: %w", ctx.Err())
	}
	p := newParticipant(id, mux, idx)
	p.joinStart = start
	l.part = p
	answer, err := p.answer(sdp, 0)
	if err != nil {
		return err
	}
	if err := s.send(ctx, map[string]any{"type": "answer", "id": "1", "sdp": answer}); err != nil {
		return err
	}
	if err := p.connect(ctx); err != nil {
		select {
		case e := <-s.errs:
			return fmt.Errorf("%w (the server said %s)", err, e)
		default:
		}
		return err
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for l.part.firstAt.Load() == 0 {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("connected, but no audio: %w", ctx.Err())
		}
	}
	return nil
}

// closeListeners leaves the room with every listener, in parallel.
func closeListeners(ls []*listener) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, l := range ls {
		if l == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if l.sock != nil {
				l.sock.close()
			}
			if l.part != nil {
				l.part.detach()
			}
		}()
	}
	wg.Wait()
}
