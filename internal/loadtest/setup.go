package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/townhall/townhall/client"
)

// setupRoom makes the speakers' accounts and the room, and puts every speaker on
// stage, unmuted. The one-step setup is one of:
//
//   - cfg.Token, the session token of an existing account (an admin's, or anyone's
//     on a server with --open-signup): it creates the room and is the first
//     speaker; the other speakers sign up with its invites;
//   - cfg.Invite, an invite code (the first-run code a new server logs, or one made
//     in the web UI): the first speaker signs up with it;
//   - neither, on a server started with --open-signup.
func setupRoom(ctx context.Context, cfg Config) (roomID string, speakers []*speaker, err error) {
	base := client.New(cfg.URLs()[0])
	var tag [3]byte
	_, _ = rand.Read(tag[:])
	password := "loadtest-" + hex.EncodeToString(tag[:]) + "-pass"
	signUp := func(i int, code string) (*client.Client, string, error) {
		name := fmt.Sprintf("lt%s%d", hex.EncodeToString(tag[:]), i)
		c, sess, err := base.SignUp(ctx, name, password, code)
		if err != nil {
			return nil, "", fmt.Errorf("signing up speaker %d: %w", i, err)
		}
		return c, sess.User.ID, nil
	}

	var first *client.Client
	var firstID string
	switch {
	case cfg.Token != "":
		first = base.WithToken(cfg.Token)
		me, err := first.Me(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("--token: %w", err)
		}
		firstID = me.ID
	default:
		if first, firstID, err = signUp(0, cfg.Invite); err != nil {
			return "", nil, err
		}
	}
	speakers = append(speakers, &speaker{idx: 0, c: first, userID: firstID})
	for i := 1; i < cfg.Speakers; i++ {
		code := ""
		if inv, err := first.CreateInvite(ctx); err == nil {
			code = inv.Code
		}
		c, id, err := signUp(i, code) // with no code: an open-signup server
		if err != nil {
			return "", nil, err
		}
		speakers = append(speakers, &speaker{idx: i, c: c, userID: id})
	}

	rm, err := first.CreateRoom(ctx, client.RoomSpec{Title: "townhall loadtest", Type: "open", AllowGuests: true})
	if err != nil {
		return "", nil, fmt.Errorf("creating the room: %w", err)
	}
	for _, sp := range speakers {
		if err := sp.join(ctx, rm.ID); err != nil {
			return "", nil, err
		}
	}
	host := speakers[0].sock
	for _, sp := range speakers[1:] {
		if err := host.Command(ctx, "invite_to_speak", map[string]any{"target": sp.userID}); err != nil {
			return "", nil, fmt.Errorf("inviting speaker %d: %w", sp.idx, err)
		}
		if err := sp.sock.Command(ctx, "accept_speak", nil); err != nil {
			return "", nil, fmt.Errorf("speaker %d going on stage: %w", sp.idx, err)
		}
	}
	for _, sp := range speakers {
		if err := sp.sock.Command(ctx, "set_muted", map[string]any{"muted": false}); err != nil {
			return "", nil, fmt.Errorf("unmuting speaker %d: %w", sp.idx, err)
		}
	}
	return rm.ID, speakers, nil
}
