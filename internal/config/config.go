// Package config holds townhall's configuration as a value. Every setting is a flag
// with an environment twin (flag --foo-bar, variable TOWNHALL_FOO_BAR); nothing here
// is global.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"time"
)

// Config is the configuration of one townhall server.
type Config struct {
	Addr       string // HTTP listen address
	DataDir    string // folder for the SQLite database and other state
	DB         string // "" for SQLite under DataDir, or a postgres:// URL
	PublicURL  string // base URL printed in links; derived from Addr when empty
	LogFormat  string // "text" or "json"
	LogLevel   string // "debug", "info", "warn", "error"
	OpenSignup bool   // sign up without an invite code
	TLSCert    string // PEM certificate file: serve HTTPS
	TLSKey     string // PEM key file of TLSCert
	Domain     string // serve HTTPS for this domain with certificates from an ACME CA (Let's Encrypt)
	ACMEHTTP   string // address of the HTTP-01 challenge listener (with Domain)

	SessionTTL      time.Duration // how long a session lives
	InviteTTL       time.Duration // how long an invite code stays usable
	InvitesPerUser  int           // outstanding invites per non-admin user
	ShutdownTimeout time.Duration // how long SIGTERM waits for requests in flight

	LoginPerMinute  float64 // login attempts per account and per IP, per minute
	LookupPerSecond float64 // user look-ups per session, per second

	RTCUDPPort      int           // the one UDP port of all audio connections (0: random)
	RTCTCPPort      int           // the one ICE-TCP port, for networks that block UDP (0: random)
	RTCTCPPerIP     int           // ICE-TCP connections open at once from one IP address (0: no bound)
	PublicIPs       []string      // addresses announced in ICE candidates (1:1 NAT)
	RTCLoopbackOnly bool          // gather and accept only 127.0.0.1 candidates (tests, demos on one machine)
	RTCTransport    string        // "lean" (the media server's own, IPv4) or "pion" (a PeerConnection per participant)
	AudioSlots      int           // audio tracks every participant receives: the loudest speakers
	ListenerPtime   time.Duration // audio per packet to listeners: 20, 40 or 60 ms (frames joined); speakers get 20 ms
	Pprof           string        // loopback address serving net/http/pprof; empty: off

	Grace             time.Duration // how long a dropped participant keeps their place
	MaxParticipants   int           // per room; 0 = no limit
	MaxSocketsPerUser int           // open sockets per account

	MaxGuestsPerIP     int          // guest sockets open from one address, all rooms together; 0 = no limit
	MaxGuestsPerIPRoom int          // guests of one room from one address; 0 = no limit
	MaxGuestsPerRoom   int          // guests of one room; 0 = no limit
	TrustedProxies     []*net.IPNet // reverse proxies whose X-Forwarded-For names the client

	PasswordMemoryKiB uint32 // argon2id memory cost
	PasswordTime      uint32 // argon2id passes

	// A mail server, optional: with one, an admin may send a password reset link
	// to the address an account's owner gave (docs/api.md).
	SMTPAddr     string // host:port of the SMTP server; "" sends no mail
	SMTPUser     string // login (AUTH PLAIN, after STARTTLS); "" for none
	SMTPPassword string // its password; better in $TOWNHALL_SMTP_PASSWORD than on the command line
	SMTPFrom     string // the sender: "Townhall <noreply@example.org>"

	// A cluster (docs/cluster.md): NATS for what is live and shared, Postgres for
	// what lasts.
	NATS              []string // NATS servers to connect to
	NATSEmbedded      bool     // run a NATS server in this process
	NATSListen        string   // the embedded server's client address
	NATSClusterListen string   // the embedded server's route address, for the other servers
	NATSRoutes        []string // the other embedded servers' route URLs
	NodeName          string   // this node's name in the cluster; default: the host name
	Region            string   // this node's region, for routing joins
	// RelayListen is where this node's relay takes the audio of rooms spread
	// over nodes (UDP); RelayAdvertise is the address the other nodes send it
	// to (default: the listen address, or the public URL's host with its port).
	RelayListen    string
	RelayAdvertise string
	// NodeMaxSockets caps the sockets the join API sends to one node while
	// another has room (0: no cap).
	NodeMaxSockets int
	// ReminderClaim is how long a node's claim on a reminder lasts before
	// another node sends it (its sender died between claiming and sending).
	ReminderClaim time.Duration

	// Replays (internal/replay): recordings live under DataDir/recordings.
	ReplayRetention time.Duration // replays older than this are deleted; 0 keeps them
	ClipLength      time.Duration // how much a clip keeps, at most a minute
	FFmpeg          string        // the ffmpeg program that mixes replays and clips
	Captions        string        // the speech-to-text engine of replays' captions and live captions: "pocketsphinx", the URL of an OpenAI-compatible server, or "" (none)
}

// Clustered reports whether this process is a node of a cluster.
func (c *Config) Clustered() bool { return len(c.NATS) > 0 || c.NATSEmbedded }

// Default returns the zero-configuration settings of `townhall serve`.
func Default() Config {
	return Config{
		Addr:               ":8080",
		DataDir:            "./townhall-data",
		LogFormat:          "text",
		LogLevel:           "info",
		SessionTTL:         30 * 24 * time.Hour,
		InviteTTL:          7 * 24 * time.Hour,
		InvitesPerUser:     5,
		ShutdownTimeout:    15 * time.Second,
		ACMEHTTP:           ":80",
		LoginPerMinute:     10,
		LookupPerSecond:    5,
		RTCUDPPort:         7882,
		RTCTCPPort:         7881,
		RTCTCPPerIP:        8,
		AudioSlots:         3,
		ListenerPtime:      20 * time.Millisecond,
		RTCTransport:       "lean",
		Grace:              15 * time.Second,
		MaxSocketsPerUser:  8,
		MaxGuestsPerIP:     32,
		MaxGuestsPerIPRoom: 8,
		MaxGuestsPerRoom:   5000,
		PasswordMemoryKiB:  19 * 1024, // OWASP's argon2id minimum: m=19 MiB, t=2, p=1
		PasswordTime:       2,
		NATSListen:         ":4222",
		ReminderClaim:      30 * time.Second,
		ClipLength:         30 * time.Second,
		FFmpeg:             "ffmpeg",
		Captions:           "pocketsphinx",
		NATSClusterListen:  ":6222",
		RelayListen:        ":7883",
	}
}

// EnvPrefix prefixes the environment twin of every flag.
const EnvPrefix = "TOWNHALL_"

// EnvName returns the environment variable that sets the flag called name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Register declares c's fields as flags on fs, with c's current values as defaults.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data folder (SQLite database, certificates)")
	fs.StringVar(&c.DB, "db", c.DB, "database: empty for SQLite in the data folder, or a postgres:// URL")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL used in printed links (default: http://localhost:PORT)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.BoolVar(&c.OpenSignup, "open-signup", c.OpenSignup, "let anyone sign up without an invite code")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate file: serve HTTPS with it (needs --tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key file of --tls-cert")
	fs.StringVar(&c.Domain, "domain", c.Domain, "serve HTTPS for this domain with automatic certificates (ACME, HTTP-01 on --acme-http); listens on :443 unless --addr is set")
	fs.StringVar(&c.ACMEHTTP, "acme-http", c.ACMEHTTP, "listen address of the ACME HTTP-01 challenge and the HTTP-to-HTTPS redirect (with --domain)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "how long a sign-in session lasts")
	fs.DurationVar(&c.InviteTTL, "invite-ttl", c.InviteTTL, "how long an invite code stays usable")
	fs.IntVar(&c.InvitesPerUser, "invites-per-user", c.InvitesPerUser, "open invites a user may hold at a time (admins: unlimited)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long to drain requests on SIGINT/SIGTERM")
	fs.Float64Var(&c.LoginPerMinute, "login-rate", c.LoginPerMinute, "login attempts allowed per minute, per account and per IP")
	fs.Float64Var(&c.LookupPerSecond, "lookup-rate", c.LookupPerSecond, "user look-ups allowed per second, per session")
	fs.IntVar(&c.RTCUDPPort, "rtc-udp-port", c.RTCUDPPort, "UDP port shared by all audio connections (ICE UDP mux; 0: random)")
	fs.IntVar(&c.RTCTCPPort, "rtc-tcp-port", c.RTCTCPPort, "ICE-TCP port for networks that block UDP (0: random)")
	fs.IntVar(&c.RTCTCPPerIP, "rtc-tcp-per-ip", c.RTCTCPPerIP, "ICE-TCP connections allowed open at once from one IP address; more are closed at once (0: no bound)")
	fs.Func("public-ip", "public address to announce in ICE candidates, for a server behind 1:1 NAT (repeat or comma-separate)", func(s string) error {
		for _, ip := range strings.Split(s, ",") {
			if ip = strings.TrimSpace(ip); ip != "" {
				if net.ParseIP(ip) == nil {
					return fmt.Errorf("%q is not an IP address", ip)
				}
				c.PublicIPs = append(c.PublicIPs, ip)
			}
		}
		return nil
	})
	fs.BoolVar(&c.RTCLoopbackOnly, "rtc-loopback-only", c.RTCLoopbackOnly, "audio over 127.0.0.1 only (tests and single-machine demos)")
	fs.StringVar(&c.RTCTransport, "rtc-transport", c.RTCTransport, "media transport: lean (ICE-lite, SRTP sent in batches; IPv4) or pion (a pion PeerConnection per participant)")
	fs.IntVar(&c.AudioSlots, "audio-slots", c.AudioSlots, "audio tracks each participant receives: the loudest speakers at any moment")
	fs.DurationVar(&c.ListenerPtime, "listener-ptime", c.ListenerPtime, "audio per packet to listeners (not on stage): 20ms, or 40ms or 60ms to join 20 ms Opus frames into fewer packets; speakers always get 20 ms")
	fs.StringVar(&c.Pprof, "pprof", c.Pprof, "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); empty: off")
	fs.DurationVar(&c.Grace, "grace", c.Grace, "how long a participant whose connection dropped keeps their place in a room")
	fs.IntVar(&c.MaxParticipants, "max-participants", c.MaxParticipants, "people allowed in one room at once (0: no limit)")
	fs.IntVar(&c.MaxSocketsPerUser, "max-sockets-per-user", c.MaxSocketsPerUser, "open connections allowed per account")
	fs.IntVar(&c.MaxGuestsPerIP, "max-guests-per-ip", c.MaxGuestsPerIP, "guest connections allowed from one address, all rooms together (0: no limit)")
	fs.IntVar(&c.MaxGuestsPerIPRoom, "max-guests-per-ip-room", c.MaxGuestsPerIPRoom, "guests of one room allowed from one address (0: no limit)")
	fs.IntVar(&c.MaxGuestsPerRoom, "max-guests-per-room", c.MaxGuestsPerRoom, "guests allowed in one room at once (0: no limit)")
	fs.Func("trusted-proxies", "reverse proxies (CIDRs, comma-separated) whose X-Forwarded-For names the client's address", func(s string) error {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if !strings.Contains(v, "/") {
				if ip := net.ParseIP(v); ip != nil && ip.To4() != nil {
					v += "/32"
				} else {
					v += "/128"
				}
			}
			_, n, err := net.ParseCIDR(v)
			if err != nil {
				return fmt.Errorf("%q is not an address or CIDR", v)
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
		return nil
	})
	list := func(dst *[]string) func(string) error {
		return func(s string) error {
			for _, v := range strings.Split(s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					*dst = append(*dst, v)
				}
			}
			return nil
		}
	}
	fs.Func("nats", "NATS servers of the cluster (comma-separated nats:// URLs): run as a node of a cluster (needs --db postgres://...)", list(&c.NATS))
	fs.BoolVar(&c.NATSEmbedded, "nats-embedded", c.NATSEmbedded, "run a NATS server (JetStream, data in the data folder) inside this process, for small clusters and tests")
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "client address of the embedded NATS server")
	fs.StringVar(&c.NATSClusterListen, "nats-cluster-listen", c.NATSClusterListen, "route address of the embedded NATS server, where the other nodes' servers connect")
	fs.Func("nats-routes", "route URLs of the other nodes' embedded NATS servers (comma-separated nats-route://host:6222)", list(&c.NATSRoutes))
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "this node's name in the cluster (letters, digits, - and _; default: the host name)")
	fs.StringVar(&c.Region, "region", c.Region, "this node's region, reported in the list of nodes")
	fs.StringVar(&c.RelayListen, "relay-listen", c.RelayListen, "UDP address of this node's relay: the audio of rooms spread over nodes (IPv4)")
	fs.IntVar(&c.NodeMaxSockets, "node-max-sockets", c.NodeMaxSockets, "a node of a cluster takes no more joins than this while another node has room (0: no cap); a room spreads over nodes as they fill")
	fs.StringVar(&c.RelayAdvertise, "relay-advertise", c.RelayAdvertise, "the relay's address as the other nodes reach it (host:port; default: --relay-listen, or the public URL's host)")
	fs.DurationVar(&c.ReminderClaim, "reminder-claim", c.ReminderClaim, "how long a node's claim on an event reminder lasts before another node sends it")
	fs.DurationVar(&c.ReplayRetention, "replay-retention", c.ReplayRetention, "delete replays older than this (0: keep them)")
	fs.DurationVar(&c.ClipLength, "clip-length", c.ClipLength, "how much of a recorded room a clip keeps (at most 1m)")
	fs.StringVar(&c.FFmpeg, "ffmpeg", c.FFmpeg, "the ffmpeg program that mixes replays and clips")
	fs.StringVar(&c.Captions, "captions", c.Captions, `the speech-to-text engine of replays' captions and live captions: pocketsphinx (Debian's, offline), the URL of an OpenAI-compatible transcription server (whisper.cpp, faster-whisper), or "" for none`)
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP server (host:port) to send password reset links by mail; STARTTLS is used when offered and required unless the server is on loopback; empty: no mail")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "login at the SMTP server (AUTH PLAIN over TLS); empty: none")
	fs.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "password of --smtp-user (prefer $"+EnvName("smtp-password")+": a flag shows in the process list)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender of the mail, e.g. \"Townhall <noreply@example.org>\" (with --smtp-addr)")
	fs.Func("password-memory", fmt.Sprintf("argon2id memory cost in KiB (default %d)", c.PasswordMemoryKiB), func(s string) error {
		var v uint32
		_, err := fmt.Sscan(s, &v)
		c.PasswordMemoryKiB = v
		return err
	})
}

// Parse registers c on fs, applies environment twins, then parses args: a flag on
// the command line wins over its variable, which wins over the default.
func (c *Config) Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	c.Register(fs)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(EnvName(f.Name)); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return c.Validate()
}

// Validate checks that the settings make sense together.
func (c *Config) Validate() error {
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	case c.SessionTTL < time.Second:
		return fmt.Errorf("session ttl %s: want at least a second", c.SessionTTL)
	case c.InviteTTL < time.Minute:
		return fmt.Errorf("invite ttl %s: want at least a minute", c.InviteTTL)
	case c.InvitesPerUser < 0:
		return fmt.Errorf("invites per user %d: want 0 or more", c.InvitesPerUser)
	case c.LoginPerMinute <= 0 || c.LookupPerSecond <= 0:
		return fmt.Errorf("rate limits must be positive")
	case c.Grace < 0 || c.MaxParticipants < 0 || c.MaxSocketsPerUser < 1:
		return fmt.Errorf("grace, max participants and max sockets per user must not be negative")
	case c.ReminderClaim < time.Second:
		return fmt.Errorf("--reminder-claim %s: want at least a second", c.ReminderClaim)
	case c.ReplayRetention < 0:
		return fmt.Errorf("--replay-retention %s: want 0 (keep) or more", c.ReplayRetention)
	case c.Captions != "" && c.Captions != "pocketsphinx" && !strings.HasPrefix(c.Captions, "http://") && !strings.HasPrefix(c.Captions, "https://"):
		return fmt.Errorf("--captions %q: want pocketsphinx, an http(s) URL or nothing", c.Captions)
	case c.ClipLength < time.Second || c.ClipLength > time.Minute:
		return fmt.Errorf("--clip-length %s: want 1s to 1m", c.ClipLength)
	case c.MaxGuestsPerIP < 0 || c.MaxGuestsPerIPRoom < 0 || c.MaxGuestsPerRoom < 0:
		return fmt.Errorf("guest limits must not be negative")
	case c.PasswordMemoryKiB < 64 || c.PasswordTime < 1:
		return fmt.Errorf("password cost too low")
	}
	if c.RTCTransport != "" && c.RTCTransport != "lean" && c.RTCTransport != "pion" {
		return fmt.Errorf("--rtc-transport %q: want lean or pion", c.RTCTransport)
	}
	if f := c.ListenerFrames(); f < 1 || f > 3 || c.ListenerPtime != time.Duration(f)*20*time.Millisecond {
		return fmt.Errorf("--listener-ptime %s: want 20ms, 40ms or 60ms", c.ListenerPtime)
	}
	if c.AudioSlots < 1 || c.AudioSlots > 8 {
		return fmt.Errorf("audio slots %d: want 1 to 8", c.AudioSlots)
	}
	if c.RTCUDPPort < 0 || c.RTCUDPPort > 65535 || c.RTCTCPPort < 0 || c.RTCTCPPort > 65535 {
		return fmt.Errorf("rtc ports must be 0 to 65535")
	}
	if c.RTCTCPPerIP < 0 {
		return fmt.Errorf("--rtc-tcp-per-ip %d: want 0 (no bound) or more", c.RTCTCPPerIP)
	}
	if c.Pprof != "" {
		host, _, err := net.SplitHostPort(c.Pprof)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("--pprof %q: must be a loopback address such as 127.0.0.1:6060", c.Pprof)
		}
	}
	if c.Clustered() && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("a cluster (--nats or --nats-embedded) keeps its data in Postgres, which every node shares: add --db postgres://... (SQLite is one node's file)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.Domain != "" && c.TLSCert != "" {
		return fmt.Errorf("--domain (automatic certificates) and --tls-cert exclude each other")
	}
	if err := c.validateSMTP(); err != nil {
		return err
	}
	if _, err := c.Level(); err != nil {
		return err
	}
	return nil
}

// validateSMTP checks the mail settings: none, or a server and a sender.
func (c *Config) validateSMTP() error {
	if c.SMTPAddr == "" {
		if c.SMTPUser != "" || c.SMTPPassword != "" || c.SMTPFrom != "" {
			return fmt.Errorf("--smtp-user, --smtp-password and --smtp-from need --smtp-addr")
		}
		return nil
	}
	if host, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || host == "" || port == "" {
		return fmt.Errorf("--smtp-addr %q: want host:port, e.g. smtp.example.org:587", c.SMTPAddr)
	}
	if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address == "" {
		return fmt.Errorf("--smtp-from %q: want the sender's address, e.g. \"Townhall <noreply@example.org>\"", c.SMTPFrom)
	}
	if c.SMTPPassword != "" && c.SMTPUser == "" {
		return fmt.Errorf("--smtp-password needs --smtp-user")
	}
	return nil
}

// Level returns the slog level named by LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("log level %q: %w", c.LogLevel, err)
	}
	return l, nil
}

// TLS reports whether the server speaks HTTPS.
func (c *Config) TLS() bool { return c.TLSCert != "" || c.Domain != "" }

// DSN returns the database to open: the postgres URL, or the SQLite file in DataDir.
func (c *Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "townhall.db")
}

// Logger builds the process logger described by c, writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	lvl, _ := c.Level()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ListenerFrames is how many 20 ms Opus frames go in one packet to a listener:
// ListenerPtime in frames (1, 2 or 3 once Validate has passed).
func (c *Config) ListenerFrames() int {
	return int(c.ListenerPtime / (20 * time.Millisecond))
}
