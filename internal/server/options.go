package server

import (
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/push"
)

// Option tunes a Server beyond its Config: knobs that are not flags, for tests
// and for programs that embed the server.
type Option func(*Server)

// WithLiveOptions lets f adjust the options of the live-room hub once they are
// built from the Config: the coalescing threshold, the hallway push pace, the
// heartbeat period.
func WithLiveOptions(f func(*live.Options)) Option {
	return func(s *Server) { s.liveOpts = append(s.liveOpts, f) }
}

// WithPushOptions lets f adjust the Web Push service's options (tests let it
// post to a push service on loopback).
func WithPushOptions(f func(*push.Options)) Option {
	return func(s *Server) { s.pushOpts = append(s.pushOpts, f) }
}
