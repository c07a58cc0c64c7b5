package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// guestFrom has a guest join from a browser and an address.
func guestFrom(u, browser, addr string) step {
	return by(u, room.Join{Guest: true, Browser: browser, Addr: addr, Now: at(1)})
}

var guest2 = id("guest2")

// guestCases: removals that bar browsers and addresses, closing the room to
// guests, and the caps on guests.
func guestCases() []ruleCase {
	guestCap := func(n, perAddr int) func(*room.Config) {
		return func(c *room.Config) { c.AllowGuests, c.MaxGuests, c.MaxGuestsPerAddr = true, n, perAddr }
	}
	return []ruleCase{
		{
			name:  "a removed guest cannot come back under the same guest identity",
			cfg:   guests,
			given: steps(opened, []step{guestFrom(guest, guest, "10.0.0.1"), by(creator, room.Remove{Target: guest})}),
			when:  guestFrom(guest, guest, "10.0.0.9"),
			err:   room.ErrRemoved,
		},
		{
			name:  "a removed guest cannot come back from the same browser under a new identity",
			cfg:   guests,
			given: steps(opened, []step{guestFrom(guest, "browser-1", "10.0.0.1"), by(creator, room.Remove{Target: guest})}),
			when:  guestFrom(guest2, "browser-1", "10.0.0.2"),
			err:   room.ErrRemoved,
		},
		{
			name:  "a removed guest cannot come back from the same address with a fresh browser",
			cfg:   guests,
			given: steps(opened, []step{guestFrom(guest, "browser-1", "10.0.0.1"), by(creator, room.Remove{Target: guest})}),
			when:  guestFrom(guest2, "browser-2", "10.0.0.1"),
			err:   room.ErrRemoved,
		},
		{
			name: "a removed signed-in user cannot come back as a guest from their browser",
			cfg:  guests,
			given: steps(opened, []step{by(ann, room.Join{Browser: "browser-ann", Addr: "10.0.0.5"}),
				by(creator, room.Remove{Target: ann})}),
			when: guestFrom(guest, "browser-ann", "10.0.0.6"),
			err:  room.ErrRemoved,
		},
		{
			name: "a removed signed-in user cannot come back as a guest from their address",
			cfg:  guests,
			given: steps(opened, []step{by(ann, room.Join{Browser: "browser-ann", Addr: "10.0.0.5"}),
				by(creator, room.Remove{Target: ann})}),
			when: guestFrom(guest, "browser-other", "10.0.0.5"),
			err:  room.ErrRemoved,
		},
		{
			name: "a removal bars guests only: a signed-in user from the same address still joins",
			cfg:  guests,
			given: steps(opened, []step{guestFrom(guest, "browser-1", "10.0.0.1"),
				by(creator, room.Remove{Target: guest})}),
			when:  by(bob, room.Join{Browser: "browser-bob", Addr: "10.0.0.1"}),
			kinds: []string{"listener_joined"},
		},
		{
			name: "a guest from another browser and address still joins after a removal",
			cfg:  guests,
			given: steps(opened, []step{guestFrom(guest, "browser-1", "10.0.0.1"),
				by(creator, room.Remove{Target: guest})}),
			when:  guestFrom(guest2, "browser-2", "10.0.0.2"),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a moderator can close the room to guests",
			cfg:   guests,
			given: opened,
			when:  by(creator, room.SetGuests{Allowed: false}),
			kinds: []string{"guests_changed"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "guests allowed", r.GuestsAllowed(), false)
				wantEqual(t, "snapshot says", r.Snapshot().GuestsAllowed, false)
				wantEqual(t, "by", event[room.GuestsChanged](t, events).By, creator)
			},
		},
		{
			name:  "no guest joins a room closed to guests",
			cfg:   guests,
			given: steps(opened, []step{by(creator, room.SetGuests{Allowed: false})}),
			when:  guestFrom(guest, "b", "10.0.0.1"),
			err:   room.ErrGuestsClosed,
		},
		{
			name:  "guests present stay when the room closes to guests",
			cfg:   guests,
			given: steps(opened, []step{guestFrom(guest, "b", "10.0.0.1")}),
			when:  by(creator, room.SetGuests{Allowed: false}),
			kinds: []string{"guests_changed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, guest, room.Listener)
			},
		},
		{
			name:  "signed-in users still join a room closed to guests",
			cfg:   guests,
			given: steps(opened, []step{by(creator, room.SetGuests{Allowed: false})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a moderator can open the room to guests again",
			cfg:   guests,
			given: steps(opened, []step{by(creator, room.SetGuests{Allowed: false}), by(creator, room.SetGuests{Allowed: true})}),
			when:  guestFrom(guest, "b", "10.0.0.1"),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "closing a room already closed to guests changes nothing",
			cfg:   guests,
			given: steps(opened, []step{by(creator, room.SetGuests{Allowed: false})}),
			when:  by(creator, room.SetGuests{Allowed: false}),
			kinds: []string{},
		},
		{
			name:  "a listener cannot close the room to guests",
			cfg:   guests,
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetGuests{Allowed: false}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a room created without guests cannot be opened to them",
			given: opened,
			when:  by(creator, room.SetGuests{Allowed: true}),
			err:   room.ErrGuestsOnlyOpen,
		},
		{
			name:  "a room at its guest cap refuses another guest",
			cfg:   guestCap(1, 0),
			given: steps(opened, []step{guestFrom(guest, "b1", "10.0.0.1")}),
			when:  guestFrom(guest2, "b2", "10.0.0.2"),
			err:   room.ErrGuestsFull,
		},
		{
			name:  "a room at its guest cap still takes signed-in users",
			cfg:   guestCap(1, 0),
			given: steps(opened, []step{guestFrom(guest, "b1", "10.0.0.1")}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a room takes a guest again once one left",
			cfg:   guestCap(1, 0),
			given: steps(opened, []step{guestFrom(guest, "b1", "10.0.0.1"), by(guest, room.Leave{})}),
			when:  guestFrom(guest2, "b2", "10.0.0.2"),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "an address at its per-room guest cap gets no more guests in",
			cfg:   guestCap(0, 1),
			given: steps(opened, []step{guestFrom(guest, "b1", "10.0.0.1")}),
			when:  guestFrom(guest2, "b2", "10.0.0.1"),
			err:   room.ErrGuestsFull,
		},
		{
			name:  "another address is not held back by one at its cap",
			cfg:   guestCap(0, 1),
			given: steps(opened, []step{guestFrom(guest, "b1", "10.0.0.1")}),
			when:  guestFrom(guest2, "b2", "10.0.0.2"),
			kinds: []string{"listener_joined"},
		},
	}
}
