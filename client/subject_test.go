package client

import (
	"encoding/json"
	"testing"
)

func TestMessageSubject(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
	}{
		{"an event about a user by ID names them", `{"user_id":"u1","reason":"left"}`, "u1"},
		{"an event that carries the user names them", `{"user":{"id":"u2","username":"bob"}}`, "u2"},
		{"an event about no one names no one", `{"policy":"nobody"}`, ""},
		{"an event without data names no one", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{Type: "event", Data: json.RawMessage(tt.data)}
			if got := m.Subject(); got != tt.want {
				t.Fatalf("Subject() = %q, want %q", got, tt.want)
			}
		})
	}
}
