// Package proctest runs townhall servers as real child processes for tests: built
// once per test binary without the race detector (whose shadow memory would hide
// what a test measures), started with their own data folder and random ports,
// stopped with a signal or killed with SIGKILL. Only tests import it.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BinaryEnv names a townhall binary to use instead of building one (CI builds it
// once for every package).
const BinaryEnv = "TOWNHALL_BIN"

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// Binary returns the path of a townhall binary: $TOWNHALL_BIN, or one built from
// this module (once per test binary, into a temporary folder).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		return p
	}
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		dir, err := os.MkdirTemp("", "townhall-bin-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "townhall")
		cmd := exec.Command("go", "build", "-o", built, "./cmd/townhall")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/townhall: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// Proc is one townhall child process.
type Proc struct {
	Cmd  *exec.Cmd
	URL  string // http://127.0.0.1:PORT
	Args []string

	mu   sync.Mutex
	logs []map[string]any
	seen *sync.Cond
	done chan struct{} // closed once the process has exited and its log is read
	err  error         // Wait's error, read after done
}

// Start runs `townhall serve` with args after test defaults (loopback, random
// ports, JSON logs, cheap password hashes, a fresh data folder), waits until it
// listens, and kills it when the test ends if it still runs.
func Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	return StartEnv(t, nil, args...)
}

// StartEnv is Start with env (KEY=value) added to the process's environment. Flags
// in args come after the defaults, and win over them.
func StartEnv(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	p := Launch(t, env, args...)
	p.Listening(t, 30*time.Second)
	return p
}

// Launch starts `townhall serve` as Start does, without waiting for it to listen:
// nodes that need each other to start (their NATS servers form a cluster) are
// launched together, then waited for with Listening.
func Launch(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	full := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--data", t.TempDir(),
		"--password-memory", "64", "--rtc-udp-port", "0", "--rtc-tcp-port", "0", "--rtc-loopback-only"}, args...)
	p := &Proc{Cmd: exec.Command(Binary(t), full...), Args: full, done: make(chan struct{})}
	p.seen = sync.NewCond(&p.mu)
	p.Cmd.Env = append(os.Environ(), env...)
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); <-p.done })
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				l = map[string]any{"msg": sc.Text()}
			}
			p.mu.Lock()
			p.logs = append(p.logs, l)
			p.seen.Broadcast()
			p.mu.Unlock()
		}
		err := p.Cmd.Wait()
		p.mu.Lock()
		p.err = err
		close(p.done)
		p.seen.Broadcast()
		p.mu.Unlock()
	}()
	return p
}

// Listening waits up to d for the process to listen, and sets URL.
func (p *Proc) Listening(t testing.TB, d time.Duration) {
	t.Helper()
	l, ok := p.WaitLog(d, func(l map[string]any) bool { return l["msg"] == "townhall is listening" })
	if !ok {
		t.Fatalf("townhall did not start listening within %s; it logged:\n%s", d, p.LogText())
	}
	p.URL = "http://" + l["addr"].(string)
}

// WaitLog waits up to d for a log record that match accepts (among those already
// written too) and returns it; false if none came or the process exited.
func (p *Proc) WaitLog(d time.Duration, match func(map[string]any) bool) (map[string]any, bool) {
	timer := time.AfterFunc(d, func() { p.mu.Lock(); p.seen.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; ; {
		for ; i < len(p.logs); i++ {
			if match(p.logs[i]) {
				return p.logs[i], true
			}
		}
		select {
		case <-p.done:
			return nil, false
		default:
		}
		if !time.Now().Before(deadline) {
			return nil, false
		}
		p.seen.Wait()
	}
}

// LogText is everything the process logged, one record a line.
func (p *Proc) LogText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b bytes.Buffer
	for _, l := range p.logs {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// Pid is the process ID.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.Cmd.Process.Signal(sig) }

// Kill kills the process with SIGKILL (no-op once it exited).
func (p *Proc) Kill() { _ = p.Cmd.Process.Signal(syscall.SIGKILL) }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits up to d for the process to exit and returns how it exited.
func (p *Proc) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("townhall (pid %d) did not exit within %s", p.Pid(), d)
		return nil
	}
}

// RSSKiB is the process's resident memory, in KiB.
func (p *Proc) RSSKiB(t testing.TB) int { return p.Status(t, "VmRSS") }

// Status reads one field of /proc/PID/status given in kB (VmRSS, RssAnon,
// RssFile), in KiB.
func (p *Proc) Status(t testing.TB, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":")); ok {
			n, err := strconv.Atoi(string(bytes.Fields(rest)[0]))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s for process %d", field, p.Pid())
	return 0
}
