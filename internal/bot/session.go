package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/townhall/townhall/client"
)

// playedTail is how long a bot that leaves once its file has played stays after
// the last packet, so that the server forwards it before the leave takes the bot
// off the stage.
const playedTail = 300 * time.Millisecond

// brokenGrace is how long a bot whose audio connection ended waits for the room
// socket to say why (a bye) before it gives up with ErrNoAudio.
const brokenGrace = 2 * time.Second

// ListenerGrace is how long after someone else comes into the room a bot that
// waits for a listener starts speaking: their audio connects in that time (on
// loopback, in a few milliseconds; across the Internet, in well under a second).
const ListenerGrace = time.Second

// session is the state of one Run: what the room socket has told the bot. Its loop
// goroutine owns it; only the player goroutine runs beside it, and talks back
// through playDone.
type session struct {
	*Bot
	conn  *client.RoomConn
	rec   *client.Recording
	sock  *client.Socket // the socket of the last welcome
	media *client.Media  // its audio; nil once it ended
	src   *client.OggSource
	rep   *Report

	// The current socket's signals; nil when there is none, or once seen.
	sockDone  <-chan struct{}
	connected <-chan struct{}
	broken    <-chan struct{}
	failed    <-chan time.Time
	failTimer *time.Timer

	joined       bool // the first welcome came
	fresh        bool // the current socket's snapshot has not come yet
	offered      bool // the current socket's offer came and was answered
	audioUp      bool // the current socket's audio connection is up
	everUp       bool // an audio connection has been up
	onStage      bool
	moderator    bool // on stage as a moderator
	muted        bool
	raised       bool // the bot's hand is raised
	unmuteTried  bool // the bot unmuted itself since it came on stage
	mutedByOther bool // someone else muted the bot since it came on stage
	stageN       int  // people on stage, the bot included
	listenerN    int  // people in the audience, the bot included
	heardBy      bool // someone else has been in the room for ListenerGrace
	waitLogged   bool
	cued         bool // SpeakAfter has let the bot speak

	playing   bool
	stopPlay  context.CancelFunc
	playDone  chan error // the player's result
	players   sync.WaitGroup
	occupants map[int]string // slot → user ID, for the log
}

// loop reads the room connection and the bot's own signals until the bot is done.
func (s *session) loop(ctx context.Context) error {
	cfg := s.cfg
	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		t := time.NewTimer(cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var tail, listener <-chan time.Time
	var listenerTimer *time.Timer
	defer func() {
		if listenerTimer != nil {
			listenerTimer.Stop()
		}
		if s.failTimer != nil {
			s.failTimer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			s.rep.Reason = "interrupted"
			return nil
		case <-deadline:
			s.rep.Reason = "duration"
			return nil
		case <-tail:
			s.rep.Reason = "played"
			return nil
		case <-listener:
			listener, s.heardBy = nil, true
			s.maybePlay(ctx)
		case <-s.connected:
			s.connected, s.audioUp = nil, true
			s.logf("audio connected")
			if !s.everUp {
				s.everUp = true
				close(s.Bot.connected)
			}
			s.maybePlay(ctx)
		case <-s.broken:
			// When the room ends or sends the bot away, or the socket drops, the
			// server closes the audio too, and that may be seen before the socket
			// ends: give it a moment to say so.
			s.broken = nil
			s.failTimer = time.NewTimer(brokenGrace)
			s.failed = s.failTimer.C
		case <-s.failed:
			return fmt.Errorf("%w: the audio connection failed", ErrNoAudio)
		case <-s.sockDone:
			s.sockDone = nil
			s.logf("the room socket closed")
			s.dropMedia()
		case err := <-s.playDone:
			s.playing = false
			if errors.Is(err, client.ErrMediaClosed) {
				// The socket ended or is about to: the next one's audio plays on.
				s.logf("playing stopped: the audio connection closed")
				continue
			}
			if err != nil {
				return fmt.Errorf("bot: playing %s: %w", cfg.Speak, err)
			}
			s.rep.Played = true
			close(s.played)
			st := s.Stats().Sent
			s.logf("played %s: %d packets, %s of audio", cfg.Speak, st.Packets, st.Audio.Round(10*time.Millisecond))
			if cfg.LeaveWhenPlayed {
				t := time.NewTimer(playedTail)
				defer t.Stop()
				tail = t.C
			}
		case msg, ok := <-s.conn.Messages():
			if !ok {
				return s.ended()
			}
			if err := s.handle(ctx, msg); err != nil {
				return err
			}
			if cfg.WaitForListener && listenerTimer == nil && s.stageN+s.listenerN > 1 {
				s.logf("someone is listening: speaking in %s", ListenerGrace)
				listenerTimer = time.NewTimer(ListenerGrace)
				listener = listenerTimer.C
			}
		}
	}
}

// ended says how the room connection's end ends the run: nil after a final bye,
// else why.
func (s *session) ended() error {
	if s.rep.Reason != "" { // after a bye
		return nil
	}
	err := s.conn.Err()
	var bye *client.ByeError
	switch code := client.Code(err); {
	case errors.As(err, &bye): // a close code whose bye was lost
		s.rep.Reason = bye.Reason
		s.logf("the server closed the socket for good: %s", bye.Reason)
		return nil
	case code == "room_ended": // it ended while the bot was away
		s.rep.Reason = code
		s.logf("the room ended while the bot was reconnecting")
		return nil
	case code != "":
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return fmt.Errorf("bot: the room connection ended: %v", err)
}

// attach makes sock, whose welcome came, the bot's socket, with a new audio
// connection (the server negotiates audio once per socket) that goes on recording
// into the same files.
func (s *session) attach(sock *client.Socket) error {
	s.dropMedia()
	media, err := client.NewMedia(sock, client.MediaOptions{
		LoopbackOnly: s.cfg.LoopbackOnly, Recording: s.rec, OnActiveSpeakers: s.activeSpeakers,
	})
	if err != nil {
		return err
	}
	s.sock, s.media, s.fresh, s.offered, s.audioUp = sock, media, true, false, false
	s.sockDone, s.connected, s.broken = sock.Done(), media.Connected(), media.Broken()
	s.setMedia(media)
	return nil
}

// dropMedia stops playing and closes the audio of a socket that ended (or that
// the bot leaves): what it recorded stays in the Recording, and the next
// socket's audio goes on from there.
func (s *session) dropMedia() {
	s.stopPlaying()
	if s.media == nil {
		return
	}
	if err := s.media.Close(); err != nil {
		s.logf("closing the audio: %v", err)
	}
	s.setMedia(nil)
	s.media, s.connected, s.broken, s.failed, s.audioUp = nil, nil, nil, nil, false
	if s.failTimer != nil {
		s.failTimer.Stop()
	}
}

// eventData holds the fields of the events the bot follows.
type eventData struct {
	User   *client.Person `json:"user"`
	UserID string         `json:"user_id"`
	Role   string         `json:"role"`
	By     string         `json:"by"`
	Reason string         `json:"reason"`
	Held   bool           `json:"held"`
	// ListenerCount is the audience of a big room (an audience event).
	ListenerCount int `json:"listener_count"`
}

// handle takes one message of the room connection.
func (s *session) handle(ctx context.Context, msg client.Message) error {
	if msg.Type == "welcome" && msg.Socket() != s.sock {
		if err := s.attach(msg.Socket()); err != nil {
			return err
		}
	}
	switch msg.Type {
	case "offer", "candidate", "active_speakers":
		if s.media == nil || msg.Socket() != s.sock {
			return nil // the audio of a socket that ended
		}
		_, err := s.media.Handle(ctx, msg)
		switch {
		case msg.Type == "offer" && err != nil:
			return fmt.Errorf("%w: %v", ErrNoAudio, err)
		case msg.Type == "offer":
			s.offered = true
			s.logf("audio offer answered: %d slots", s.media.Slots())
		case err != nil:
			s.logf("%s: %v", msg.Type, err)
		}
		return nil
	}
	switch msg.Type {
	case "welcome":
		if msg.You != nil {
			s.rep.Me = msg.You.ID
			s.name(*msg.You)
		}
		how := "joined"
		switch {
		case s.joined && msg.Resumed:
			how = "back in (its place kept)"
		case s.joined:
			how = "back in (a new join: its place was lost)"
		case msg.Resumed:
			how = "rejoined"
		}
		s.joined = true
		s.logf("%s room %s as %s", how, s.rep.Room, s.rep.name(s.rep.Me))
	case "snapshot":
		st, err := msg.State()
		if err != nil {
			return fmt.Errorf("bot: a snapshot: %w", err)
		}
		for _, p := range st.Stage {
			s.name(p.Person)
		}
		for _, p := range st.Listeners {
			s.name(p.Person)
		}
		s.stageN, s.listenerN = len(st.Stage), st.ListenerCount
		me, on := st.OnStage(s.rep.Me)
		wasOn, fresh := s.onStage, s.fresh
		s.onStage, s.muted, s.fresh = on, me.Muted, false
		s.moderator = on && me.Role == "moderator"
		if s.moderator && s.cfg.BringUpHands {
			for _, h := range st.RaisedHands {
				s.bringUp(ctx, h.ID)
			}
		}
		s.raised = slices.ContainsFunc(st.RaisedHands, func(p client.Person) bool { return p.ID == s.rep.Me })
		switch {
		case on && !wasOn:
			s.unmuteTried, s.mutedByOther = false, false
			s.logf("on stage as a %s", me.Role)
		case on && fresh && s.muted && s.unmuteTried && !s.mutedByOther && !me.Held:
			// Back on a new socket, muted, though the bot had unmuted itself and
			// nobody muted it since: unmute again.
			s.unmuteTried = false
			s.logf("muted after the reconnection: unmuting again")
		case !on && wasOn:
			s.logf("off the stage")
		}
		return s.steer(ctx, slices.Contains(st.SpeakInvitations, s.rep.Me))
	case "event":
		return s.event(ctx, msg)
	case "error":
		if !s.joined {
			return fmt.Errorf("%w: %s: %s", ErrRefused, msg.Code, msg.Message)
		}
		if msg.Code == "unavailable" && !s.offered {
			return fmt.Errorf("%w: %s", ErrNoAudio, msg.Message)
		}
		s.logf("the server says %s: %s", msg.Code, msg.Message)
	case "bye":
		if !client.FinalBye(msg.Reason) {
			s.logf("the server says %s: joining again", msg.Reason)
			return nil
		}
		s.rep.Reason = msg.Reason
		s.logf("the server says goodbye: %s", msg.Reason)
	}
	return nil
}

// event follows the events that concern the bot.
func (s *session) event(ctx context.Context, msg client.Message) error {
	var d eventData
	if err := msg.DecodeData(&d); err != nil {
		return fmt.Errorf("bot: a %s event: %w", msg.Kind, err)
	}
	if d.User != nil {
		s.name(*d.User)
		d.UserID = d.User.ID
	}
	me := d.UserID == s.rep.Me
	// Who is in the room (protocol.md, Events and Big rooms): a move between
	// stage and audience is a left_stage and a listener_joined, or a
	// listener_left and a joined_stage.
	switch msg.Kind {
	case "joined_stage":
		s.stageN++
	case "left_stage":
		s.stageN--
	case "listener_joined":
		s.listenerN++
	case "listener_left":
		s.listenerN--
	case "audience":
		s.listenerN = d.ListenerCount
	}
	switch {
	case msg.Kind == "speak_invited" && me:
		s.logf("invited to speak by %s", s.rep.name(d.By))
		return s.steer(ctx, true)
	case msg.Kind == "hand_raised" && !me && s.moderator && s.cfg.BringUpHands:
		s.bringUp(ctx, d.UserID)
	case msg.Kind == "joined_stage" && me:
		s.moderator = d.Role == "moderator"
		s.onStage, s.muted, s.unmuteTried, s.mutedByOther, s.raised = true, true, false, false, false
		s.logf("on stage as a %s", d.Role)
		return s.steer(ctx, false)
	case msg.Kind == "left_stage" && me:
		s.onStage, s.raised, s.moderator = false, false, false
		s.logf("off the stage (%s)", d.Reason)
		return s.steer(ctx, false)
	case msg.Kind == "unmuted" && me:
		s.muted = false
		s.logf("unmuted")
		s.maybePlay(ctx)
	case msg.Kind == "muted" && me:
		s.muted = true
		if d.By != s.rep.Me {
			s.mutedByOther = true
			s.logf("muted by %s (held: %v); the bot stays muted", s.rep.name(d.By), d.Held)
		}
	case msg.Kind == "room_ended":
		s.logf("the room ended (%s)", d.Reason)
	}
	return nil
}

// steer moves the bot toward the stage when it has something to say: it accepts
// an invitation to speak, raises its hand to be noticed, and unmutes once on
// stage (once: a moderator's mute is respected). A bot with nothing to say
// declines invitations.
func (s *session) steer(ctx context.Context, invited bool) error {
	if s.src == nil {
		if invited {
			s.logf("declining: nothing to say (no file to speak)")
			return s.command(ctx, "decline_speak", nil)
		}
		return nil
	}
	switch {
	case invited && !s.onStage:
		s.logf("accepting the invitation to speak")
		return s.command(ctx, "accept_speak", nil)
	case !s.onStage && !s.raised:
		s.raised = true
		if err := s.command(ctx, "raise_hand", nil); err != nil {
			s.logf("cannot raise a hand (%v)", err)
		}
		s.logf("waiting for a moderator to invite %s to speak", s.rep.name(s.rep.Me))
	case s.onStage && s.muted && !s.unmuteTried:
		s.unmuteTried = true
		if err := s.command(ctx, "set_muted", map[string]any{"muted": false}); err != nil {
			s.logf("cannot unmute (%v)", err)
		}
	}
	return nil
}

// bringUp invites user, whose hand is raised, to speak (BringUpHands). A
// refusal (they lowered it, someone else invited them) is logged.
func (s *session) bringUp(ctx context.Context, user string) {
	s.logf("inviting %s, whose hand is raised, to speak", s.rep.name(user))
	_ = s.command(ctx, "invite_to_speak", map[string]any{"target": user})
}

// command sends a room command on the current socket. The room's refusals are
// logged; so is a socket that ended meanwhile: the next one's snapshot says where
// the bot stands, and steers it again.
func (s *session) command(ctx context.Context, typ string, fields map[string]any) error {
	err := s.sock.Command(ctx, typ, fields)
	var refused *client.SocketError
	switch {
	case errors.As(err, &refused):
		s.logf("%s refused: %s", typ, refused.Code)
	case err != nil && ctx.Err() == nil:
		s.logf("%s not sent: %v", typ, err)
	case err != nil:
		return err
	}
	return nil
}

// maybePlay starts playing the file once the bot can be heard: on stage, unmuted,
// connected. It plays once; a mute by a moderator does not stop it (the server
// just drops the packets).
func (s *session) maybePlay(ctx context.Context) {
	if s.src == nil || s.playing || s.rep.Played || !s.onStage || s.muted || !s.audioUp || s.media == nil {
		return
	}
	if s.cfg.WaitForListener && !s.heardBy {
		if !s.waitLogged {
			s.waitLogged = true
			s.logf("waiting for a listener before speaking")
		}
		return
	}
	s.playing = true
	pctx, cancel := context.WithCancel(ctx)
	s.stopPlay = cancel
	s.players.Add(1)
	media, cue := s.media, s.cfg.SpeakAfter
	if s.cued {
		cue = nil
	}
	s.cued = true
	go func() {
		defer s.players.Done()
		if cue != nil {
			if err := cue(pctx); err != nil {
				s.playDone <- err
				return
			}
		}
		s.logf("speaking %s", s.cfg.Speak)
		s.playDone <- media.Play(pctx, s.src)
	}()
}

// stopPlaying stops the player, if it runs, and waits for it. The file plays on
// from there at the next maybePlay.
func (s *session) stopPlaying() {
	if !s.playing {
		return
	}
	s.stopPlay()
	s.players.Wait()
	<-s.playDone // stopped: not the end of the file
	s.playing = false
}

// activeSpeakers logs who comes into each slot (Media.Handle calls it, on the
// loop's goroutine).
func (s *session) activeSpeakers(slots []client.ActiveSlot) {
	for _, sl := range slots {
		if s.occupants[sl.Slot] == sl.UserID {
			continue
		}
		s.occupants[sl.Slot] = sl.UserID
		if sl.UserID == "" {
			s.logf("slot %d: empty", sl.Slot)
		} else {
			s.logf("slot %d: %s", sl.Slot, s.rep.name(sl.UserID))
		}
	}
}

// name remembers how to call p.
func (s *session) name(p client.Person) {
	switch {
	case p.Username != "":
		s.rep.Names[p.ID] = p.Username
	case p.DisplayName != "":
		s.rep.Names[p.ID] = p.DisplayName
	}
}
