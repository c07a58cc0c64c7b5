package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/bot"
	"github.com/townhall/townhall/internal/servertest"
	"github.com/townhall/townhall/internal/testwait"
)

// patience bounds every wait of these tests.
const patience = 30 * time.Second

// password is every test user's password.
const password = "correct horse battery"

// checkNoLeaks fails t if goroutines of pion, of the client's Media or of a bot
// still run once everything t started is cleaned up. Call it first: cleanups run
// in reverse order.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(patience)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var leaked []string
			buf := make([]byte, 8<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "github.com/pion/") || strings.Contains(g, "townhall/client.(*Media)") ||
					strings.Contains(g, "townhall/internal/bot.") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines still run:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			<-tick.C
		}
	})
}

// env is a townhall server on loopback, run in-process with audio on 127.0.0.1
// and random ports, and its first user, the admin "ada".
type env struct {
	url string
	ada user
}

type user struct {
	*client.Client
	ID, Name string
}

func startServer(t *testing.T, opts ...servertest.Option) *env {
	t.Helper()
	srv := servertest.Start(t, opts...)
	e := &env{url: srv.URL}
	c, sess, err := client.New(e.url).SignUp(context.Background(), "ada", password, srv.Code)
	if err != nil {
		t.Fatal(err)
	}
	e.ada = user{Client: c, ID: sess.User.ID, Name: "ada"}
	return e
}

// user signs up a user invited by ada.
func (e *env) user(t *testing.T, name string) user {
	t.Helper()
	ctx := context.Background()
	inv, err := e.ada.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, sess, err := client.New(e.url).SignUp(ctx, name, password, inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	return user{Client: c, ID: sess.User.ID, Name: name}
}

// tools returns the paths of the audio tools the test needs. Without them the
// test is skipped, except in CI (CI=true), where it fails: CI must install them
// (Debian packages espeak-ng and opus-tools).
func tools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: CI must install the Debian packages espeak-ng and opus-tools", n)
			}
			t.Skipf("%s is missing (Debian packages espeak-ng and opus-tools)", n)
		}
	}
}

// speech makes an Ogg Opus file of text spoken by espeak-ng and returns it with
// its playback length by opusinfo.
func speech(t *testing.T, text string) (string, time.Duration) {
	t.Helper()
	dir := t.TempDir()
	wav, ogg := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.ogg")
	for _, cmd := range [][]string{{"espeak-ng", "-w", wav, text}, {"opusenc", "--quiet", wav, ogg}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd[0], err, out)
		}
	}
	return ogg, opusinfo(t, ogg)
}

var playbackLength = regexp.MustCompile(`Playback length: (\d+)m:([\d.]+)s`)

// opusinfo checks an Ogg Opus file with opusinfo and returns its playback length.
func opusinfo(t *testing.T, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("opusinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("opusinfo %s: %v\n%s", path, err, out)
	}
	for _, bad := range []string{"WARNING", "ERROR", "Error"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Fatalf("opusinfo %s complains:\n%s", path, out)
		}
	}
	m := playbackLength.FindSubmatch(out)
	if m == nil {
		t.Fatalf("opusinfo %s gives no playback length:\n%s", path, out)
	}
	mins, _ := strconv.Atoi(string(m[1]))
	s, _ := strconv.ParseFloat(string(m[2]), 64)
	return time.Duration(mins)*time.Minute + time.Duration(s*float64(time.Second))
}

// running is a bot running in the background.
type running struct {
	*bot.Bot
	done chan struct{}
	rep  bot.Report
	err  error
	log  *syncBuffer
}

// run starts who's bot; its Run ends with the test at the latest.
func run(t *testing.T, who string, cfg bot.Config) *running {
	t.Helper()
	cfg.LoopbackOnly = true
	r := &running{done: make(chan struct{}), log: &syncBuffer{}}
	cfg.Log = r.log
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Bot = b
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(r.done)
		r.rep, r.err = b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
		if t.Failed() {
			t.Logf("%s's bot logged:\n%s", who, r.log)
		}
	})
	return r
}

// wait waits for the bot's Run to return, or fails t after patience.
func (r *running) wait(t *testing.T, who string) (bot.Report, error) {
	t.Helper()
	select {
	case <-r.done:
		return r.rep, r.err
	case <-time.After(patience):
		t.Fatalf("%s's bot did not stop within %s; its log:\n%s", who, patience, r.log)
	}
	return bot.Report{}, nil
}

// eventually waits until cond holds, or fails t after patience with what and
// the message of fail.
func eventually(t *testing.T, what string, cond func() bool, fail func() string) {
	t.Helper()
	testwait.Until(t, patience, what, cond, fail)
}

// await waits for ch, or fails t after patience.
func await(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s: not within %s", what, patience)
	}
}

// syncBuffer is a bot's log, written by the bot and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// within says whether got is within frac of want.
func within(got, want time.Duration, frac float64) bool {
	d := float64(got - want)
	return d <= frac*float64(want) && -d <= frac*float64(want)
}

// TestTwoBotsHoldAConversationThroughAServer: ada's bot opens her room (on stage,
// as its creator) and speaks a sentence; bob's bot listens and records. bob's
// recording must hold ada's sentence: a valid Ogg Opus file of about the same
// length, from ada in slot 0. When ada's bot leaves, the stage is empty, the room
// ends, and bob's bot leaves with it.
func TestTwoBotsHoldAConversationThroughAServer(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	checkNoLeaks(t)
	file, length := speech(t, "Hello bob. This is ada, speaking through a townhall server on loopback. Can you hear me?")
	e := startServer(t)
	e.user(t, "bob")
	out := filepath.Join(t.TempDir(), "bob.ogg")
	adaRep, bobRep := adaSpeaksToBob(t, e, "Two bots", file, out)
	var report bytes.Buffer
	bobRep.Print(&report)
	t.Logf("bob's report:\n%s", report.String())

	sent := adaRep.Media.Sent
	t.Run("ada's bot plays the whole file and leaves", func(t *testing.T) {
		if !adaRep.Played || adaRep.Reason != "played" {
			t.Fatalf("played %v, reason %q", adaRep.Played, adaRep.Reason)
		}
		// opusinfo's length leaves out opusenc's pre-skip (6.5 ms) and the end's
		// trimming: the packets last up to a packet or two more.
		if !within(sent.Audio, length, 0.02) {
			t.Fatalf("sent %s of audio, the file lasts %s", sent.Audio, length)
		}
	})
	t.Run("ada hears nobody: she is the only speaker", func(t *testing.T) {
		for _, s := range adaRep.Media.Slots {
			if s.Packets != 0 {
				t.Fatalf("slot %d: %+v", s.Slot, s)
			}
		}
	})
	if len(bobRep.Media.Slots) != 3 {
		t.Fatalf("bob has %d slots, the server offers 3", len(bobRep.Media.Slots))
	}
	slot := bobRep.Media.Slots[0]
	t.Run("bob leaves when the room ends", func(t *testing.T) {
		if bobRep.Reason != "room_ended" {
			t.Fatalf("reason %q", bobRep.Reason)
		}
	})
	t.Run("bob hears ada in slot 0, nobody in the others", func(t *testing.T) {
		// The server gives ada the slot on her first packets: a few may go before.
		if slot.Packets < sent.Packets-10 || slot.Lost != 0 || slot.Late != 0 {
			t.Fatalf("slot 0: %+v; ada sent %d packets", slot, sent.Packets)
		}
		if len(slot.Occupants) != 1 || slot.Occupants[0].UserID != e.ada.ID || slot.Occupants[0].Speaking <= 0 {
			t.Fatalf("occupants of slot 0: %+v, want ada (%s) speaking", slot.Occupants, e.ada.ID)
		}
		if !strings.Contains(report.String(), "ada: ") {
			t.Fatalf("the report does not name ada:\n%s", report.String())
		}
		for _, s := range bobRep.Media.Slots[1:] {
			if s.Packets != 0 || s.File != "" {
				t.Fatalf("slot %d: %+v", s.Slot, s)
			}
		}
	})
	t.Run("bob's recording decodes and lasts as long as ada's sentence", func(t *testing.T) {
		if slot.File != out {
			t.Fatalf("slot 0 recorded to %q, want %q", slot.File, out)
		}
		got := opusinfo(t, out)
		if !within(got, length, 0.2) {
			t.Fatalf("the recording lasts %s, ada's sentence %s", got, length)
		}
		t.Logf("ada's sentence: %s; bob's recording: %s", length, got)
		if _, err := os.Stat(client.SlotPath(out, 1)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an empty slot left a file: %v", err)
		}
	})
}

// TestABotWaitsToBeInvitedToSpeak: bob's bot has something to say but is not a
// moderator: it raises its hand and waits. ada, moderating from a plain socket,
// invites it; it accepts, unmutes and speaks, and cyd's bot hears it.
func TestABotWaitsToBeInvitedToSpeak(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	checkNoLeaks(t)
	file, _ := speech(t, "Thank you for inviting me.")
	e := startServer(t)
	bob, cyd := e.user(t, "bob"), e.user(t, "cyd")
	room, err := e.ada.CreateRoom(context.Background(), client.RoomSpec{Title: "Invited", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mod, err := e.ada.JoinRoom(ctx, room.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mod.Close() })
	// The moderator needs no audio; its offer and the rest are read and dropped.
	nextEvent := func(kind, userID string) {
		t.Helper()
		deadline := time.After(patience)
		for {
			select {
			case m, ok := <-mod.Messages():
				if !ok {
					t.Fatalf("ada's socket closed: %v", mod.Err())
				}
				if m.Type == "event" && m.Kind == kind && m.Subject() == userID {
					return
				}
			case <-deadline:
				t.Fatalf("no %s event for %s within %s", kind, userID, patience)
			}
		}
	}

	cyds := run(t, "cyd", bot.Config{Server: e.url, Room: room.ID, Token: cyd.Token(), Duration: patience})
	await(t, "cyd's bot connects", cyds.Connected())
	bobs := run(t, "bob", bot.Config{Server: e.url, Room: room.ID, Token: bob.Token(), Speak: file})

	t.Run("bob's bot raises its hand; invited, it accepts and unmutes", func(t *testing.T) {
		nextEvent("hand_raised", bob.ID)
		if err := mod.Command(ctx, "invite_to_speak", map[string]any{"target": bob.ID}); err != nil {
			t.Fatal(err)
		}
		nextEvent("joined_stage", bob.ID)
		nextEvent("unmuted", bob.ID)
	})
	t.Run("bob's bot speaks its file; cyd hears bob in slot 0", func(t *testing.T) {
		await(t, "bob's bot plays its file", bobs.Played())
		sent := bobs.Stats().Sent.Packets
		var last int64 = -1
		// All of bob's packets but the first few (sent before the server gave
		// him a slot) reach cyd.
		eventually(t, "cyd hearing bob", func() bool {
			if st := cyds.Stats().Slots; len(st) > 0 {
				last = st[0].Packets
			}
			return last >= sent-10
		}, func() string { return fmt.Sprintf("cyd got %d packets in slot 0, bob sent %d", last, sent) })
		if o := cyds.Stats().Slots[0].Occupants; len(o) == 0 || o[0].UserID != bob.ID {
			t.Fatalf("slot 0 occupants %+v, want bob", o)
		}
	})
	t.Run("ending the room sends both bots away", func(t *testing.T) {
		if err := mod.Command(ctx, "end", nil); err != nil {
			t.Fatal(err)
		}
		for who, r := range map[string]*running{"bob": bobs, "cyd": cyds} {
			rep, err := r.wait(t, who)
			if err != nil || rep.Reason != "room_ended" {
				t.Fatalf("%s's bot: %v, reason %q", who, err, rep.Reason)
			}
		}
	})
}

// TestABotWaitsForAListener: ada's bot, told to wait for a listener, opens the room
// and stays silent while it is alone; once bob's bot comes it speaks, and bob hears
// all of it.
func TestABotWaitsForAListener(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	checkNoLeaks(t)
	file, _ := speech(t, "Is anyone there?")
	e := startServer(t)
	bob := e.user(t, "bob")
	room, err := e.ada.CreateRoom(context.Background(), client.RoomSpec{Title: "Anyone?", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	ada := run(t, "ada", bot.Config{Server: e.url, Room: room.ID, Token: e.ada.Token(), Speak: file, WaitForListener: true, LeaveWhenPlayed: true})
	t.Run("alone, ada's bot waits", func(t *testing.T) {
		await(t, "ada's bot connects", ada.Connected())
		eventually(t, "ada's bot saying it waits", func() bool { return strings.Contains(ada.log.String(), "waiting for a listener") },
			func() string { return ada.log.String() })
		if n := ada.Stats().Sent.Packets; n != 0 {
			t.Fatalf("ada's bot sent %d packets to an empty room", n)
		}
	})
	t.Run("when bob comes, ada's bot speaks and bob hears all of it", func(t *testing.T) {
		bobs := run(t, "bob", bot.Config{Server: e.url, Room: room.ID, Token: bob.Token()})
		adaRep, err := ada.wait(t, "ada")
		if err != nil || !adaRep.Played {
			t.Fatalf("ada's bot: %v, played %v", err, adaRep.Played)
		}
		bobRep, err := bobs.wait(t, "bob")
		if err != nil || bobRep.Reason != "room_ended" {
			t.Fatalf("bob's bot: %v, reason %q", err, bobRep.Reason)
		}
		if len(bobRep.Media.Slots) == 0 {
			t.Fatal("bob's bot has no slots")
		}
		sent, got := adaRep.Media.Sent.Packets, bobRep.Media.Slots[0].Packets
		if got < sent-10 {
			t.Fatalf("bob got %d packets, ada sent %d", got, sent)
		}
	})
}

// TestAHostBotBringsUpHands: ada's bot, a moderator told to bring up hands,
// invites bob's bot when it raises its hand; bob's bot accepts, speaks its
// file, and the host bot hears it.
func TestAHostBotBringsUpHands(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	checkNoLeaks(t)
	file, _ := speech(t, "Thank you for bringing me up.")
	e := startServer(t)
	bob := e.user(t, "bob")
	room, err := e.ada.CreateRoom(context.Background(), client.RoomSpec{Title: "Hands", Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	host := run(t, "ada", bot.Config{Server: e.url, Room: room.ID, Token: e.ada.Token(), BringUpHands: true, Duration: patience})
	await(t, "ada's bot opens the room", host.Connected())
	bobs := run(t, "bob", bot.Config{Server: e.url, Room: room.ID, Token: bob.Token(), Speak: file, LeaveWhenPlayed: true})
	await(t, "bob's bot, brought up, plays its file", bobs.Played())
	var heard int64
	eventually(t, "ada's bot hearing bob", func() bool {
		heard = 0
		for _, s := range host.Stats().Slots {
			heard += s.Packets
		}
		return heard >= bobs.Stats().Sent.Packets-10
	}, func() string {
		return fmt.Sprintf("ada's bot got %d packets, bob sent %d", heard, bobs.Stats().Sent.Packets)
	})
	if !strings.Contains(host.log.String(), "whose hand is raised") {
		t.Fatalf("ada's bot's log says nothing of bringing bob up:\n%s", host.log.String())
	}
}

// adaSpeaksToBob has ada's bot open a room titled title and speak file once bob's
// bot, recording to out, has its audio; it returns both bots' reports once ada
// has played it and left.
func adaSpeaksToBob(t *testing.T, e *env, title, file, out string) (ada, bob bot.Report) {
	t.Helper()
	room, err := e.ada.CreateRoom(context.Background(), client.RoomSpec{Title: title, Type: "open"})
	if err != nil {
		t.Fatal(err)
	}
	bobReady := make(chan struct{})
	adas := run(t, "ada", bot.Config{
		Server: e.url, Room: room.ID, Token: e.ada.Token(), Speak: file, LeaveWhenPlayed: true,
		SpeakAfter: once(bobReady),
	})
	await(t, "ada's bot opens the room and connects its audio", adas.Connected())
	bobs := run(t, "bob", bot.Config{Server: e.url, Room: room.URL, User: "bob", Password: password, Record: out})
	await(t, "bob's bot connects its audio", bobs.Connected())
	close(bobReady)
	if ada, err = adas.wait(t, "ada"); err != nil {
		t.Fatalf("ada's bot: %v\n%s", err, adas.log)
	}
	if bob, err = bobs.wait(t, "bob"); err != nil {
		t.Fatalf("bob's bot: %v\n%s", err, bobs.log)
	}
	return ada, bob
}

// once is a SpeakAfter that waits until ready is closed.
func once(ready <-chan struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
