package live_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
)

// seeds returns the real client messages kept under testdata/client.
func seeds(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "client", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed messages: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

func TestDecodeClientMessage(t *testing.T) {
	msgs := seeds(t)
	cases := []struct {
		seed string
		cmd  room.Command // nil for the socket's own messages
		err  error
	}{
		{"ping", nil, nil},
		{"snapshot", nil, nil},
		{"leave", nil, nil},
		{"answer", nil, nil},
		{"candidate", nil, nil},
		{"candidate_browser", nil, nil}, // RTCIceCandidate.toJSON() adds usernameFragment
		{"raise_hand", room.RaiseHand{}, nil},
		{"lower_hand", room.LowerHand{}, nil},
		{"set_hand_policy", room.SetHandPolicy{Policy: room.HandsFollowedBySpeakers}, nil},
		{"invite_to_speak", room.InviteToSpeak{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"accept_speak", room.AcceptSpeak{}, nil},
		{"decline_speak", room.DeclineSpeak{}, nil},
		{"move_to_audience", room.MoveToAudience{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"step_down", room.StepDown{}, nil},
		{"make_moderator", room.MakeModerator{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"revoke_moderator", room.RevokeModerator{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"set_muted", room.SetMuted{Muted: false}, nil},
		{"mute", room.Mute{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy", Hold: true}, nil},
		{"release_mute", room.ReleaseMute{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"remove", room.Remove{Target: "guest_tdsssjl6u3fz3zxbuzfzpnvhhy"}, nil},
		{"end", room.End{}, nil},
		{"react", room.React{Emoji: "👏"}, nil},
		{"chat", room.Chat{Text: "Welcome, everyone: the agenda is pinned above."}, nil},
		{"set_chat", room.SetChat{Mode: room.ChatEveryone, SlowSeconds: 10}, nil},
		{"chat_mute", room.ChatMute{Target: "tdsssjl6u3fz3zxbuzfzpnvhhy", Muted: true}, nil},
		{"pin_link", room.PinLink{URL: "https://example.org/agenda"}, nil},
		{"set_reactions", room.SetReactions{Allowed: false}, nil},
		{"set_recording", room.SetRecording{On: true}, nil},
		{"set_live_captions", room.SetLiveCaptions{On: true}, nil},
		{"show_captions", nil, nil},
		{"delete_chat", room.DeleteChat{MessageID: "a2ofbqd4hxpvv4nfu7fbgtdbxq"}, nil},
		{"chat_history", nil, nil},
		{"audience", nil, nil},
		{"unknown_field", nil, live.ErrBadMessage},
		{"unknown_type", nil, live.ErrUnknownMessage},
		{"duplicate_key", nil, live.ErrBadMessage},
	}
	for _, c := range cases {
		t.Run("the "+strings.ReplaceAll(c.seed, "_", " ")+" message decodes as the protocol says", func(t *testing.T) {
			msg, cmd, err := live.DecodeClientMessage(msgs[c.seed])
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if cmd != c.cmd {
				t.Fatalf("command %#v, want %#v", cmd, c.cmd)
			}
			if c.seed != "duplicate_key" && msg.ID == "" {
				t.Fatal("the request id is lost")
			}
		})
	}

	refusals := []struct {
		name  string
		frame string
	}{
		{"an empty frame", ``},
		{"a frame that is not an object", `[1]`},
		{"a frame without a type", `{"id":"1"}`},
		{"a target that is not a participant ID", `{"type":"mute","target":"bob"}`},
		{"a mute without a target", `{"type":"mute"}`},
		{"set_muted without muted", `{"type":"set_muted"}`},
		{"set_recording without on", `{"type":"set_recording"}`},
		{"set_live_captions without on", `{"type":"set_live_captions"}`},
		{"show_captions without on", `{"type":"show_captions"}`},
		{"an unknown hand policy", `{"type":"set_hand_policy","policy":"loudest"}`},
		{"a request id over 64 bytes", `{"type":"ping","id":"` + strings.Repeat("x", 65) + `"}`},
		{"invalid UTF-8", "{\"type\":\"ping\",\"id\":\"\xff\"}"},
		{"trailing data", `{"type":"ping"} {"type":"end"}`},
		{"an answer without sdp", `{"type":"answer"}`},
		{"a candidate over 1024 bytes", `{"type":"candidate","candidate":{"candidate":"` + strings.Repeat("c", 1025) + `"}}`},
		{"chat_mute without muted", `{"type":"chat_mute","target":"tdsssjl6u3fz3zxbuzfzpnvhhy"}`},
		{"pin_link without url", `{"type":"pin_link"}`},
		{"set_reactions without allowed", `{"type":"set_reactions"}`},
		{"delete_chat without a message ID", `{"type":"delete_chat","message_id":"m1"}`},
		{"chat_history before something not a message ID", `{"type":"chat_history","before":"x"}`},
		{"chat_history with a page over 50", `{"type":"chat_history","limit":51}`},
		{"audience after something not a participant ID", `{"type":"audience","after":"bob"}`},
		{"audience with a page over 100", `{"type":"audience","limit":101}`},
		{"audience with a negative page", `{"type":"audience","limit":-1}`},
		{"a frame over the size limit", `{"type":"ping","id":"` + strings.Repeat("x", live.MaxFrame) + `"}`},
	}
	for _, c := range refusals {
		t.Run(c.name+" is a bad request", func(t *testing.T) {
			_, cmd, err := live.DecodeClientMessage([]byte(c.frame))
			if errcode.Of(err) != errcode.BadRequest || cmd != nil {
				t.Fatalf("got %v, %v; want a bad_request error", cmd, err)
			}
		})
	}

	t.Run("the error of a frame with an unknown field still carries its request id", func(t *testing.T) {
		msg, _, _ := live.DecodeClientMessage([]byte(`{"type":"raise_hand","id":"r1","actor":"x"}`))
		if msg.ID != "r1" {
			t.Fatalf("id %q", msg.ID)
		}
	})
}

// FuzzDecodeClientMessage feeds the decoder arbitrary frames, seeded with real
// messages. It must never panic; it accepts only frames of a known type, turns
// them into a command exactly when they are room commands, refuses everything
// else with bad_request, and decodes what it accepted the same way twice.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	socketOwn := map[string]bool{live.MsgPing: true, live.MsgSnapshot: true, live.MsgLeave: true,
		live.MsgAnswer: true, live.MsgCandidate: true, live.MsgChatHistory: true, live.MsgShowCaptions: true, live.MsgAudience: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, cmd, err := live.DecodeClientMessage(data)
		if err != nil {
			if errcode.Of(err) != errcode.BadRequest {
				t.Fatalf("error without the bad_request code: %v", err)
			}
			if cmd != nil {
				t.Fatalf("a command with an error: %#v", cmd)
			}
			if len(msg.ID) > 64 {
				t.Fatalf("an error answers a %d-byte id", len(msg.ID))
			}
			return
		}
		if socketOwn[msg.Type] != (cmd == nil) {
			t.Fatalf("type %q gave command %#v", msg.Type, cmd)
		}
		again, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		msg2, cmd2, err := live.DecodeClientMessage(again)
		if err != nil || msg2.Type != msg.Type || msg2.ID != msg.ID || cmd2 != cmd {
			t.Fatalf("re-encoded %s decodes as %+v %#v %v, want %+v %#v", again, msg2, cmd2, err, msg, cmd)
		}
	})
}
