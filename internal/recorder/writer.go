package recorder

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// writer runs the Sink's calls in order on a goroutine of its own, so that a slow
// store never holds up the recording (up to maxBacklog bytes).
type writer struct {
	sink    Sink
	log     *slog.Logger
	mu      sync.Mutex
	jobs    []func(context.Context) error
	backlog int
	wake    chan struct{}
	closing bool
	done    chan struct{}
	err     error // the first failed call
}

func newWriter(sink Sink, log *slog.Logger) *writer {
	w := &writer{sink: sink, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) push(size int, job func(context.Context) error) error {
	w.mu.Lock()
	if w.backlog+size > maxBacklog {
		w.mu.Unlock()
		return ErrBacklog
	}
	w.backlog += size
	w.jobs = append(w.jobs, func(ctx context.Context) error {
		err := job(ctx)
		w.mu.Lock()
		w.backlog -= size
		w.mu.Unlock()
		return err
	})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

func (w *writer) append(slot int, data []byte) error {
	return w.push(len(data), func(ctx context.Context) error { return w.sink.Append(ctx, slot, data) })
}

func (w *writer) progress(turns []Turn, through time.Time) {
	_ = w.push(0, func(ctx context.Context) error { return w.sink.Progress(ctx, turns, through) })
}

func (w *writer) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		if len(w.jobs) == 0 {
			closing := w.closing
			w.mu.Unlock()
			if closing {
				return
			}
			<-w.wake
			continue
		}
		job := w.jobs[0]
		w.jobs[0] = nil
		w.jobs = w.jobs[1:]
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := job(ctx)
		cancel()
		if err != nil {
			w.log.Error("writing a recording", "err", err)
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
		}
	}
}

// close waits until every queued call is made (or ctx is done) and returns the
// first error of any.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
