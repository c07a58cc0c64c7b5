// Package bot is a townhall participant run by a program: it joins a room, goes on
// stage when it may, plays an Ogg Opus file, records what it hears, and reports
// what went through. `townhall bot` runs one; tests run two to hold a conversation
// through a server.
//
// It is built on the Go client only (package client): it knows the room socket and
// the server's API as any other client does, nothing of the server's insides. It
// stays through the restarts of a cluster's nodes: when its room socket ends with
// bye moved or drops, it joins again through the join API (client.RoomConn),
// negotiates its audio anew, and goes on playing and recording.
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
	// Server is the server's base URL (http://host:port), or, for a cluster, the
	// base URLs of several of its nodes separated by commas: the bot asks the
	// first that answers.
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
	// BringUpHands makes a bot that moderates invite to speak whoever raises a
	// hand (a host who takes every question), and bring up the hands already
	// raised when it joins or comes back.
	BringUpHands bool
	// SpeakAfter, if set, is waited for once the bot is on stage, unmuted and
	// connected, just before it plays: a test's cue. An error stops the bot.
	SpeakAfter func(ctx context.Context) error
}

// check says what is wrong with c, if anything.
func (c Config) check() error {
	servers := c.servers()
	if len(servers) == 0 {
		return fmt.Errorf("%w: no server URL", ErrConfig)
	}
	for _, u := range servers {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%w: the server URL %q is not http:// or https://", ErrConfig, u)
		}
	}
	switch {
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

// servers returns the base URLs of Server.
func (c Config) servers() []string {
	var out []string
	for _, u := range strings.Split(c.Server, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
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

	mu    sync.Mutex        // guards the fields below
	media *client.Media     // the current socket's audio; nil between sockets
	rec   *client.Recording // what came in the slots, over every socket
	sent  client.SentStats  // what the Medias of earlier sockets sent
	conn  *client.RoomConn
}

// New returns a Bot for cfg, or why cfg cannot work.
func New(cfg Config) (*Bot, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Bot{cfg: cfg, connected: make(chan struct{}), played: make(chan struct{})}, nil
}

// Connected is closed once the bot's audio connection is up (the first time).
func (b *Bot) Connected() <-chan struct{} { return b.connected }

// Played is closed once the bot has played its file to the end.
func (b *Bot) Played() <-chan struct{} { return b.played }

// Stats returns what the bot's audio has sent and received so far, over every
// socket of its stay.
func (b *Bot) Stats() client.MediaStats {
	b.mu.Lock()
	m, rec, st := b.media, b.rec, client.MediaStats{Sent: b.sent}
	b.mu.Unlock()
	if m != nil {
		st.Sent = addSent(st.Sent, m.Stats().Sent)
	}
	if rec != nil {
		st.Slots = rec.Stats()
	}
	return st
}

// Reconnects reports how many times the bot came back into the room after its
// socket ended (a node restarted, the network dropped).
func (b *Bot) Reconnects() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return 0
	}
	return b.conn.Reconnects()
}

// setMedia makes m the current socket's audio (nil: none); the Media it replaces
// must be closed, and what it sent is kept.
func (b *Bot) setMedia(m *client.Media) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.media != nil {
		b.sent = addSent(b.sent, b.media.Stats().Sent)
	}
	b.media = m
}

func addSent(a, b client.SentStats) client.SentStats {
	return client.SentStats{Packets: a.Packets + b.Packets, Bytes: a.Bytes + b.Bytes, Audio: a.Audio + b.Audio}
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

	servers := cfg.servers()
	c := client.New(servers[0], servers[1:]...)
	if cfg.Token != "" {
		c = c.WithToken(cfg.Token)
	} else {
		var err error
		if c, _, err = c.Login(ctx, cfg.User, cfg.Password); err != nil {
			return rep, fmt.Errorf("bot: signing in as %s: %w", cfg.User, err)
		}
	}
	began := time.Now()
	conn, err := c.ConnectRoom(ctx, rep.Room, client.RoomConnOptions{})
	if err != nil {
		return rep, fmt.Errorf("bot: joining room %s: %w", rep.Room, err)
	}
	defer conn.Close()
	rec := client.NewRecording(cfg.Record)
	b.mu.Lock()
	b.conn, b.rec = conn, rec
	b.mu.Unlock()
	s := &session{Bot: b, conn: conn, rec: rec, src: src, rep: &rep, playDone: make(chan error, 1), occupants: map[int]string{}}
	runErr := s.loop(ctx)

	// Leaving: stop playing, say goodbye, close the audio (which finishes the files).
	s.stopPlaying()
	if s.joined && conn.Socket() != nil {
		lctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
		if err := conn.Command(lctx, "leave", nil); err != nil {
			b.logf("leaving: %v", err)
		}
		cancel()
	}
	s.dropMedia()
	_ = conn.Close()
	if err := rec.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("bot: finishing the recordings: %w", err)
	}
	rep.Media = b.Stats()
	rep.Reconnects = int(conn.Reconnects())
	rep.Stay = time.Since(began)
	return rep, runErr
}

// leaveTimeout bounds the wait for the server's ok to the bot's leave.
const leaveTimeout = 3 * time.Second
