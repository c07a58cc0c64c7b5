package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
)

// durabilityChildEnv, when set, holds the database path TestDurabilityChild writes to.
const durabilityChildEnv = "TOWNHALL_DURABILITY_CHILD_DB"

// TestDurability kills a writer with SIGKILL in the middle of its work and checks
// that every write it had acknowledged survives, in a database that passes
// integrity_check. The writer is this test binary, re-executed as
// TestDurabilityChild. (SIGKILL kills the process, not the machine: what is under
// test is that an acknowledged write was committed, and that a crash mid-write
// leaves a sound file; power loss is synchronous=FULL's job.)
func TestDurability(t *testing.T) {
	const wantAcks = 200
	path := filepath.Join(t.TempDir(), "durable.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), durabilityChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitOnce sync.Once
	wait := func() { waitOnce.Do(func() { _ = cmd.Wait() }) }
	// stop ends the writer (a no-op once it has exited); its stderr can be read after.
	stop := func() {
		_ = cmd.Process.Kill()
		wait()
	}
	t.Cleanup(stop) // if the test fails early, leave no writer behind

	lines, done := make(chan string), make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()

	var acks []string
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	for len(acks) < wantAcks {
		select {
		case line, ok := <-lines:
			if !ok {
				stop()
				t.Fatalf("the writer exited after %d acknowledged writes; stderr:\n%s", len(acks), stderr.String())
			}
			if strings.HasPrefix(line, "ack ") {
				acks = append(acks, line)
			}
		case <-deadline.C:
			stop()
			t.Fatalf("only %d acknowledged writes before the deadline; stderr:\n%s", len(acks), stderr.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for line := range lines { // what the writer acknowledged before it died
		if strings.HasPrefix(line, "ack ") {
			acks = append(acks, line)
		}
	}
	wait()
	if cmd.ProcessState == nil || cmd.ProcessState.Success() {
		t.Fatalf("the writer was not killed: %v", cmd.ProcessState)
	}

	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer db.Close()
	var check string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	for _, ack := range acks {
		f := strings.Fields(ack)
		switch {
		case len(f) == 4 && f[1] == "user":
			u, err := db.UserByID(ctx, f[2])
			if err != nil || u.Username != f[3] {
				t.Fatalf("acknowledged %q, found %+v, %v", ack, u, err)
			}
		case len(f) == 4 && f[1] == "follow":
			r, err := db.Relation(ctx, f[2], f[3])
			if err != nil || !r.AFollowsB {
				t.Fatalf("acknowledged %q, found %+v, %v", ack, r, err)
			}
		default:
			t.Fatalf("unreadable acknowledgement %q", ack)
		}
	}
	t.Logf("%d acknowledged writes all survived SIGKILL", len(acks))
}

// TestDurabilityChild is TestDurability's writer: run on its own, it skips. It
// creates users, each following the previous one, and prints one line per write once
// it is committed, until it is killed (or a minute has passed, should its parent
// have died without killing it).
func TestDurabilityChild(t *testing.T) {
	path := os.Getenv(durabilityChildEnv)
	if path == "" {
		t.Skip("run by TestDurability")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	var prev string
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("writer%d", i)
		u, err := db.CreateUser(ctx, account.User{ID: ids.New(), Username: name}, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(os.Stdout, "ack user %s %s\n", u.ID, name); err != nil {
			return // the parent is gone
		}
		if prev != "" {
			if err := db.Follow(ctx, u.ID, prev, now); err != nil {
				t.Fatal(err)
			}
			if _, err := fmt.Fprintf(os.Stdout, "ack follow %s %s\n", u.ID, prev); err != nil {
				return
			}
		}
		prev = u.ID
	}
}
