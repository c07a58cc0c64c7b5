package bot_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/servertest"
)

// TestAListenerRecordsJoinedPackets: with --listener-ptime 40ms or 60ms, bob, a
// listener, gets ada's 20 ms frames two or three to a packet (Opus code 3). The
// pion client takes them without a gap or a loss, and its recording decodes
// (opusinfo) and lasts as long as ada's sentence.
func TestAListenerRecordsJoinedPackets(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	file, length := speech(t, "Hello bob. This is ada, in longer packets.")
	for _, ptime := range []time.Duration{40 * time.Millisecond, 60 * time.Millisecond} {
		t.Run(fmt.Sprintf("at %s", ptime), func(t *testing.T) {
			checkNoLeaks(t)
			e := startServer(t, servertest.WithConfig(func(c *config.Config) { c.ListenerPtime = ptime }))
			e.user(t, "bob")
			out := filepath.Join(t.TempDir(), "bob.ogg")
			adaRep, bobRep := adaSpeaksToBob(t, e, "Long packets", file, out)
			sent, slot := adaRep.Media.Sent, bobRep.Media.Slots[0]
			frames := int64(ptime / (20 * time.Millisecond))
			t.Logf("ada sent %d packets, %s; bob got %d packets, %s, %d lost, %d late",
				sent.Packets, sent.Audio, slot.Packets, slot.Audio, slot.Lost, slot.Late)
			// The server gives ada the slot on her first packets: a few may go before.
			if want := sent.Packets / frames; slot.Packets < want-5 || slot.Packets > want+5 {
				t.Errorf("bob got %d packets, want about %d (%d sent, %d frames a packet)", slot.Packets, want, sent.Packets, frames)
			}
			if slot.Lost != 0 || slot.Late != 0 {
				t.Errorf("bob's slot 0: %d lost, %d late", slot.Lost, slot.Late)
			}
			if !within(slot.Audio, sent.Audio, 0.05) {
				t.Errorf("bob got %s of audio, ada sent %s", slot.Audio, sent.Audio)
			}
			got := opusinfo(t, out)
			if !within(got, length, 0.2) {
				t.Fatalf("the recording lasts %s, ada's sentence %s", got, length)
			}
			t.Logf("ada's sentence: %s; bob's recording: %s", length, got)
		})
	}
}
