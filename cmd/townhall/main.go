// Command townhall is the townhall live audio server and its tools.
//
//	townhall serve      run the server (SQLite in ./townhall-data by default)
//	townhall bot        join a room from the command line: speak an Ogg Opus file, record what is heard
//	townhall loadtest   put speakers and listeners into a room of a server and measure it
//	townhall version    print the version
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

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `townhall: a drop-in live audio platform in one binary.

Usage:
  townhall serve [flags]    run the server (townhall serve --help lists the flags)
  townhall loadtest [flags] measure a server under load (townhall loadtest --help)
  townhall bot [flags]      join a room as a bot: speak a file, record the room (townhall bot --help)
  townhall version          print the version
`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], getenv, stderr)
	case "bot":
		return botCmd(args[1:], getenv, stdout, stderr)
	case "loadtest":
		return loadtestCmd(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "townhall", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "townhall: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("townhall serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config.Default()
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: townhall serve [flags]\n\nEvery flag can also be set in the environment: --foo-bar as %s.\n\n", config.EnvName("foo-bar"))
		fs.PrintDefaults()
	}
	if err := cfg.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "townhall serve:", err)
		return 2
	}
	log := cfg.Logger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}
