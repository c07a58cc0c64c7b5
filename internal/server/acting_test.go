package server_test

import (
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/api"
)

// TestActingOnRooms checks that rooms stay personal: a socket or a room's page
// asked for by a delegate acting for the owner is refused with 403 forbidden
// (docs/api.md, "Delegates"), over real WebSocket dials; the delegate in person
// still joins, as themself.
func TestActingOnRooms(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.admin, ts.user("bob")
	call(t, ada.Client, "PUT", "/api/v1/me/delegates/bob", map[string]any{"scopes": []string{"events", "invitations", "rooms"}})
	rm := createRoom(t, ada, client.RoomSpec{Title: "Office hours", Type: "open", AllowGuests: true})
	join(t, ada, rm.ID)
	forAda := bob.WithHeader(api.ActingAsHeader, ada.Name)

	tests := []struct {
		name string
		try  func(t *testing.T) error
	}{
		{"a delegate opening the room socket for the owner is refused", func(t *testing.T) error {
			_, err := tryRoom(t, forAda, "bob for ada", rm.ID)
			return err
		}},
		{"a guest claiming to listen for the owner is refused", func(t *testing.T) error {
			_, err := tryRoom(t, ts.guest().WithHeader(api.ActingAsHeader, ada.Name), "a guest for ada", rm.ID)
			return err
		}},
		{"a delegate opening the user socket for the owner is refused", func(t *testing.T) error {
			s, err := forAda.UserSocket(ctxT(t))
			if err == nil {
				s.Close()
			}
			return err
		}},
		{"a delegate reading the room's page for the owner is refused", func(t *testing.T) error {
			_, err := forAda.Room(ctxT(t), rm.ID)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, tt.name, tt.try(t), 403, "forbidden")
		})
	}

	t.Run("the delegate in person joins as themself", func(t *testing.T) {
		bs := join(t, bob, rm.ID)
		if you := bs.welcome.You; you == nil || you.ID != bob.ID {
			t.Fatalf("bob's welcome: %s", bs.welcome.Raw)
		}
	})
}
