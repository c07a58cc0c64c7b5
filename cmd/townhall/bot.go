package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/townhall/townhall/internal/bot"
)

const botUsage = `Usage: townhall bot --server URL[,URL...] --room ID (--token T | --user U --password P) [flags]

A participant run by a program: it joins a room, speaks an Ogg Opus file, records
what it hears in the room, and prints what went through when it leaves. Ctrl-C
(or SIGTERM) makes it leave the room and finish its recordings.

It asks the server's join API which node runs the room, and stays through a
cluster's restarts: when its socket ends with bye moved, or drops, it joins again
(any of --server's nodes, retries spread with jitter), gets its place back, and
goes on playing and recording in the same files, the time away filled with silence.

To speak, the bot must be on stage. The room's creator (a moderator) is on stage
from the start. Any other user's bot raises its hand and waits: a moderator must
invite it to speak (from the app, or with invite_to_speak on the room socket);
it then accepts by itself, unmutes and plays the file, once. A moderator who mutes
the bot is obeyed: it does not unmute again. Without --speak, the bot declines
invitations to speak.

Examples:
  opusenc hello.wav hello.ogg
  townhall bot --server http://localhost:8080 --room ROOM_ID --token ADA_TOKEN --speak hello.ogg --wait-for-listener
  TOWNHALL_PASSWORD=... townhall bot --server http://localhost:8080 --room ROOM_ID --user bob --record room.ogg --duration 10m

Flags:
`

// botCmd runs `townhall bot`: exit 0 when the bot ran and left, 1 when it failed,
// 2 for a bad invocation.
func botCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("townhall bot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bot.Config
	var quiet bool
	fs.StringVar(&cfg.Server, "server", "http://localhost:8080", "the townhall server's base `URL`; for a cluster, the URLs of several of its nodes separated by commas (http://a:8080,http://b:8080): the bot asks the first that answers")
	fs.StringVar(&cfg.Room, "room", "", "the room to join: its `ID`, or its link")
	fs.StringVar(&cfg.Token, "token", "", "a session `token` to act with (or the environment variable TOWNHALL_TOKEN)")
	fs.StringVar(&cfg.User, "user", "", "sign in as this `username` (with --password)")
	fs.StringVar(&cfg.Password, "password", "", "the `password` of --user (or TOWNHALL_PASSWORD, which other users cannot see in ps)")
	fs.BoolVar(&cfg.BringUpHands, "bring-up-hands", false, "as a moderator, invite to speak whoever raises a hand")
	fs.StringVar(&cfg.Speak, "speak", "", "an Ogg Opus `file` to play once, at real time, once the bot is on stage and unmuted (opusenc makes one from a WAV)")
	fs.StringVar(&cfg.Record, "record", "", "record what the bot hears, one Ogg Opus file per slot (a slot carries one of the loudest speakers at a time): slot 0 to this `file`, e.g. out.ogg, slot 1 to out-1.ogg, slot 2 to out-2.ogg...; a slot nobody spoke in leaves no file. Gaps are filled with silence, so a file keeps the room's pace")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to stay in the room, e.g. 30s (0: until Ctrl-C or the room ends; with --speak and without --record, until the file has played)")
	fs.BoolVar(&cfg.WaitForListener, "wait-for-listener", false, "with --speak: speak only once someone else is in the room (and a second more, for their audio to connect)")
	fs.BoolVar(&cfg.LoopbackOnly, "loopback-only", false, "audio over 127.0.0.1 only, for a server run with --rtc-loopback-only")
	fs.BoolVar(&quiet, "quiet", false, "print only the final report (without it the bot tells on stderr what it does as it goes)")
	fs.Usage = func() {
		fmt.Fprint(stderr, botUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nAt the end the bot prints how often it reconnected and, for each slot: packets, bytes, packets\nlost and late, the audio received against the time it spans (what is missing, and how much\nof it while reconnecting), the file, and who the server said was in the slot and for how long.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "townhall bot: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.Token == "" && cfg.User == "" {
		cfg.Token = getenv("TOWNHALL_TOKEN")
	}
	if cfg.Password == "" && cfg.User != "" {
		cfg.Password = getenv("TOWNHALL_PASSWORD")
	}
	cfg.LeaveWhenPlayed = cfg.Speak != "" && cfg.Record == "" && cfg.Duration == 0
	if !quiet {
		cfg.Log = stderr
	}
	b, err := bot.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "townhall bot: %v\n\nSee townhall bot --help.\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	began := time.Now()
	rep, err := b.Run(ctx)
	if rep.Reason != "" || rep.Media.Slots != nil {
		rep.Print(stdout)
		fmt.Fprintf(stdout, "ran for %s\n", time.Since(began).Round(100*time.Millisecond))
	}
	if err != nil {
		fmt.Fprintf(stderr, "townhall bot: %v\n", err)
		return 1
	}
	return 0
}
