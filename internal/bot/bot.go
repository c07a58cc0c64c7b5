// Package bot is a townhall participant run by a program: it joins a room, goes on
// stage when it may, plays an Ogg Opus file, records what it hears, and reports
// what went through. `townhall bot` runs one; tests run two to hold a conversation
// through a server.
//
// It is built on the Go client only (package client): it knows the room socket and
// the server's API as any other client does, nothing of the server's insides.
package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/client"
)

// The errors of Run.
var (
	// ErrConfig is a Config that cannot work (no server, no room, no credentials...).
	ErrConfig = errors.New("bot: bad configuration")
	// ErrNoAudio is returned when the server does not give the bot an audio
	// connection, or the connection fails.
	ErrNoAudio = errors.New("bot: no audio connection")
	// ErrRefused is returned when the room refuses the bot (not started, ended,
	// full, removed...): the server's error says which.
	ErrRefused = errors.New("bot: the room refused the bot")
)

// Config is what a Bot does.
type Config struct {
	// Server is the server's base URL (http://host:port).
	Server string
	// Room is the room's ID, or its link (the ID is its last path element).
	Room string
	// Token is a session token (bearer). Or give User and Password.
	Token          string
	User, Password string
	// Speak, if set, is an Ogg Opus file the bot plays once it is on stage and
	// unmuted. A moderator (the room's creator) is on stage at once; anyone else
	// raises a hand and waits for a moderator to invite them, and accepts.
	Speak string
	// Record, if set, records each slot to its own Ogg Opus file: slot 0 to Record,
	// slot i to client.SlotPath(Record, i) (out.ogg, out-1.ogg...).
	Record string
	// Duration is how long the bot stays. 0: until ctx ends or the room does (or,
	// with LeaveWhenPlayed, until the file has played).
	Duration time.Duration
	// LeaveWhenPlayed makes the bot leave once Speak has played.
	LeaveWhenPlayed bool
	// WaitForListener holds Speak back until someone else is in the room, and
	// then for ListenerGrace more, time for their audio to connect.
	WaitForListener bool
	// LoopbackOnly keeps the audio on 127.0.0.1, for a server run with
	// --rtc-loopback-only.
	LoopbackOnly bool
	// Log, if set, gets a line for each thing the bot does or sees.
	Log io.Writer
	// SpeakAfter, if set, is waited for once the bot is on stage, unmuted and
	// connected, just before it plays: a test's cue. An error stops the bot.
	SpeakAfter func(ctx context.Context) error
}

// check says what is wrong with c, if anything.
func (c Config) check() error {
	switch {
	case c.Server == "":
		return fmt.Errorf("%w: no server URL", ErrConfig)
	case !strings.HasPrefix(c.Server, "http://") && !strings.HasPrefix(c.Server, "https://"):
		return fmt.Errorf("%w: the server URL %q is not http:// or https://", ErrConfig, c.Server)
	case roomID(c.Room) == "":
		return fmt.Errorf("%w: no room", ErrConfig)
	case c.Token != "" && (c.User != "" || c.Password != ""):
		return fmt.Errorf("%w: a token, or a user and a password, not both", ErrConfig)
	case c.Token == "" && (c.User == "" || c.Password == ""):
		return fmt.Errorf("%w: a token, or a user and a password", ErrConfig)
	case c.Duration < 0:
		return fmt.Errorf("%w: a negative duration", ErrConfig)
	}
	if c.Record != "" {
		if fi, err := os.Stat(filepath.Dir(c.Record)); err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: no directory for the recording %q", ErrConfig, c.Record)
		}
	}
	return nil
}

// roomID takes the room's ID out of an ID or a link.
func roomID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, "/")
	return s[strings.LastIndex(s, "/")+1:]
}

// Bot is one run of a Config. Make it with New, run it once with Run.
type Bot struct {
	cfg       Config
	connected chan struct{} // closed once the audio is up
	played    chan struct{} // closed once Speak has played to its end

	mu    sync.Mutex // guards media
	media *client.Media
}

// New returns a Bot for cfg, or why cfg cannot work.
func New(cfg Config) (*Bot, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Bot{cfg: cfg, connected: make(chan struct{}), played: make(chan struct{})}, nil
}

// Connected is closed once the bot's audio connection is up.
func (b *Bot) Connected() <-chan struct{} { return b.connected }

// Played is closed once the bot has played its file to the end.
func (b *Bot) Played() <-chan struct{} { return b.played }

// Stats returns what the bot's audio has sent and received so far.
func (b *Bot) Stats() client.MediaStats {
	b.mu.Lock()
	m := b.media
	b.mu.Unlock()
	if m == nil {
		return client.MediaStats{}
	}
	return m.Stats()
}

func (b *Bot) logf(format string, args ...any) {
	if b.cfg.Log != nil {
		fmt.Fprintf(b.cfg.Log, "bot: "+format+"\n", args...)
	}
}

// Run joins the room and does what the Config says until ctx ends, Duration has
// passed, the file has played (LeaveWhenPlayed), or the room sends the bot away. It
// then leaves, finishes its recordings and returns its Report, also when it
// returns an error after joining.
func (b *Bot) Run(ctx context.Context) (Report, error) {
	cfg := b.cfg
	rep := Report{Room: roomID(cfg.Room), Names: map[string]string{}}
	var src *client.OggSource
	if cfg.Speak != "" {
		var err error
		if src, err = client.OpenOgg(cfg.Speak); err != nil {
			return rep, err
		}
		defer src.Close()
	}

	c := client.New(cfg.Server)
	if cfg.Token != "" {
		c = c.WithToken(cfg.Token)
	} else {
		var err error
		if c, _, err = c.Login(ctx, cfg.User, cfg.Password); err != nil {
			return rep, fmt.Errorf("bot: signing in as %s: %w", cfg.User, err)
		}
	}
	sock, err := c.JoinRoom(ctx, rep.Room)
	if err != nil {
		return rep, fmt.Errorf("bot: joining room %s: %w", rep.Room, err)
	}
	defer sock.Close()
	s := &session{Bot: b, sock: sock, src: src, rep: &rep, playDone: make(chan error, 1), occupants: map[int]string{}}
	media, err := client.NewMedia(sock, client.MediaOptions{
		LoopbackOnly: cfg.LoopbackOnly, RecordPath: cfg.Record, OnActiveSpeakers: s.activeSpeakers,
	})
	if err != nil {
		return rep, err
	}
	s.media = media
	b.mu.Lock()
	b.media = media
	b.mu.Unlock()
	runErr := s.loop(ctx)

	// Leaving: stop playing, say goodbye, close the audio (which finishes the files).
	s.stopPlaying()
	select {
	case <-sock.Done():
		s.gone = true
	default:
	}
	if s.joined && !s.gone {
		lctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
		if err := sock.Command(lctx, "leave", nil); err != nil {
			b.logf("leaving: %v", err)
		}
		cancel()
	}
	if err := media.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("bot: finishing the recordings: %w", err)
	}
	rep.Media = media.Stats()
	return rep, runErr
}

// leaveTimeout bounds the wait for the server's ok to the bot's leave.
const leaveTimeout = 3 * time.Second
