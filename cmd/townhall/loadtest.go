package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/townhall/townhall/internal/loadtest"
)

const loadtestUsage = `Usage: townhall loadtest [flags]

Puts --speakers speakers and --listeners guest listeners into a new room of the
server at --url, measures loss, latency, join time and the CPU and memory of the
server (from its /metrics) and of the generator, and prints a table (or --json).

Speakers need accounts; one of these is the setup:
  --token T     the session token of an account (an admin's, e.g. from signing in)
  --invite C    an invite code, e.g. the first-run code a new server logs
  neither       a server started with --open-signup
Listeners join as guests of the open room. Run it on the server's machine with
the server's --rtc-loopback-only, or anywhere the server's UDP port is reachable
on loopback.

Flags:
`

func loadtestCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("townhall loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := loadtest.DefaultConfig()
	fs.StringVar(&cfg.URL, "url", cfg.URL, "the server's base URL; for a cluster, several nodes separated by commas (the room on the first; each listener asks the join API of each in turn and opens its socket where it says; server figures summed, and per node)")
	fs.StringVar(&cfg.Token, "token", "", "session token of the account that hosts the room")
	fs.StringVar(&cfg.Invite, "invite", "", "invite code to sign the hosting speaker up with")
	fs.IntVar(&cfg.Speakers, "speakers", cfg.Speakers, "speakers on stage")
	fs.DurationVar(&cfg.ReactEvery, "react-every", 0, "every listener sends a reaction once per this (e.g. 1s; 0: no reactions)")
	fs.DurationVar(&cfg.ReactPhase, "react-phase", 0, "with --react-every: alternate phases of this length without and with reactions through the window, and report the server's CPU in each (the reactions' cost in one run)")
	fs.IntVar(&cfg.Listeners, "listeners", cfg.Listeners, "guest listeners")
	fs.Float64Var(&cfg.JoinRate, "join-rate", cfg.JoinRate, "listeners starting to join per second")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured steady state, after everyone joined")
	fs.StringVar(&cfg.Talk, "talk", cfg.Talk, "all: every speaker talks all the time; turns: one at a time")
	fs.DurationVar(&cfg.Turn, "turn", cfg.Turn, "length of a turn with --talk turns")
	fs.BoolVar(&cfg.SchedBatch, "sched-batch", cfg.SchedBatch, "run the generator's threads as SCHED_BATCH, so that they never preempt a server on the same machine (--sched-batch=false: as normal threads)")
	fs.IntVar(&cfg.Receivers, "receivers", cfg.Receivers, "shared UDP sockets of the generator, each read by one goroutine (0: one per 250 participants, 1 to 4)")
	fs.Float64Var(&cfg.Load, "load", 0, "instead of --listeners: this fraction of the machine's ceiling (e.g. 0.8), from a floor measured first")
	fs.DurationVar(&cfg.ListenerPtime, "listener-ptime", 20*time.Millisecond, "with --load: the server's --listener-ptime, for the packets a listener gets")
	fs.IntVar(&cfg.FloorSockets, "floor-sockets", 0, "measure the floor first with this many sockets (0: no; --floor alone: the listeners)")
	floorOnly := fs.Bool("floor", false, "measure only the floor (kernel and cipher cost, no WebRTC) with --listeners sockets")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	quiet := fs.Bool("quiet", false, "no progress bars")
	cpuProfile := fs.String("cpuprofile", "", "write the generator's CPU profile of the whole run to this file")
	report := fs.String("report", "", "print a Markdown table of the --json results (*.json) in this folder, and run nothing")
	plotFile := fs.String("plot", "", "with --report: also draw the server's CPU and RSS against listeners into this PNG file")
	compare := fs.String("compare", "", "with --plot: also draw the results in this folder, dashed (NAME=DIR names them)")
	fs.Usage = func() {
		fmt.Fprint(stderr, loadtestUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	if *report != "" {
		results, err := loadtest.ReadResults(*report)
		var other []*loadtest.Result
		name, dir, ok := strings.Cut(*compare, "=")
		if !ok {
			name, dir = filepath.Base(*compare), *compare
		}
		if err == nil && *compare != "" {
			other, err = loadtest.ReadResults(dir)
		}
		if err == nil && *plotFile != "" {
			err = loadtest.Plot(results, other, name, *plotFile)
		}
		if err != nil {
			fmt.Fprintln(stderr, "townhall loadtest:", err)
			return 1
		}
		loadtest.WriteSummary(stdout, results)
		return 0
	}
	if *floorOnly {
		f, err := loadtest.MeasureFloor(ctx, max(cfg.Listeners, 1), cfg.Speakers, cfg.ReceiverSockets(), 3*time.Second)
		if err != nil {
			fmt.Fprintln(stderr, "townhall loadtest:", err)
			return 1
		}
		if *asJSON {
			return printJSON(stdout, stderr, f)
		}
		fmt.Fprintf(stdout, "floor: %.2f µs per packet to %d loopback destinations, %d-byte packets\n", f.FloorUs, f.Sockets, f.PacketBytes)
		fmt.Fprintf(stdout, "  on %d shared sockets (the generator's layout): sendto %.2f µs, sendmmsg %.2f µs\n", cfg.ReceiverSockets(), f.SendtoUs, f.SendmmsgUs)
		fmt.Fprintf(stdout, "  the same with the don't-fragment bit: sendto %.2f µs, sendmmsg %.2f µs\n", f.SendtoDFUs, f.SendmmsgDFUs)
		fmt.Fprintf(stdout, "  on a socket each: sendto %.2f µs, sendmmsg %.2f µs\n", f.SocketsSendtoUs, f.SocketsSendmmsgUs)
		fmt.Fprintf(stdout, "  AES-128-GCM of one packet: %.3f µs\n", f.AESGCMUs)
		return 0
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "townhall loadtest:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "townhall loadtest:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadtest.Run(ctx, cfg, progress)
	if res != nil {
		if *asJSON {
			printJSON(stdout, stderr, res)
		} else {
			res.WriteTable(stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "townhall loadtest:", err)
		return 1
	}
	return 0
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "townhall loadtest:", err)
		return 1
	}
	return 0
}
