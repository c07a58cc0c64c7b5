package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/townhall/townhall/internal/live"
)

// Subjects of core NATS: requests to a room's owner, requests to a node, and
// messages about a user; the streams to a room's owner and to a node.
const (
	subjectRoom       = "th.room."    // + room ID
	subjectNode       = "th.node."    // + node name
	subjectUser       = "th.user."    // + user ID
	subjectRoomStream = "th.rstream." // + room ID
	subjectNodeStream = "th.nstream." // + node name
)

// roomBus carries requests to a room's owner (th.room.<id>) and to a node
// (th.node.<name>), request-reply.
type roomBus struct{ c *Cluster }

// serveSubject answers requests on subject with h, each in a goroutine of its
// own (a request to one room must not wait for another's).
func (b *roomBus) serveSubject(subject string, h func(ctx context.Context, req []byte) []byte) (*nats.Subscription, error) {
	return b.c.nc.Subscribe(subject, func(m *nats.Msg) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Respond(h(ctx, m.Data)); err != nil {
				b.c.log.Warn("answering a request", "subject", m.Subject, "err", err)
			}
		}()
	})
}

func (b *roomBus) Serve(roomID string, h func(ctx context.Context, req []byte) []byte) (func(), error) {
	sub, err := b.serveSubject(subjectRoom+roomID, h)
	if err != nil {
		return nil, err
	}
	// The subscription reaches the servers before a request can find it.
	if err := b.c.nc.Flush(); err != nil {
		b.c.log.Warn("flushing a subscription", "err", err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

func (b *roomBus) request(ctx context.Context, subject string, req []byte) ([]byte, error) {
	m, err := b.c.nc.RequestWithContext(ctx, subject, req)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, live.ErrNoOwner
	}
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

func (b *roomBus) Request(ctx context.Context, roomID string, req []byte) ([]byte, error) {
	return b.request(ctx, subjectRoom+roomID, req)
}

func (b *roomBus) ServeNode(h func(ctx context.Context, req []byte) []byte) error {
	_, err := b.serveSubject(subjectNode+b.c.self.Name, h)
	return err
}

func (b *roomBus) RequestNode(ctx context.Context, name string, req []byte) ([]byte, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("cluster: no node called %q", name)
	}
	return b.request(ctx, subjectNode+name, req)
}

// SendRoom publishes msg on the room's stream. Messages of one connection to
// one subject keep their order (core NATS).
func (b *roomBus) SendRoom(roomID string, msg []byte) error {
	if !validToken(roomID) {
		return fmt.Errorf("cluster: %q is not a room ID", roomID)
	}
	return b.c.nc.Publish(subjectRoomStream+roomID, msg)
}

// ServeStream subscribes to the room's stream; nats.go hands an asynchronous
// subscription's messages to its handler one at a time, in order.
func (b *roomBus) ServeStream(roomID string, h func(msg []byte)) (func(), error) {
	sub, err := b.c.nc.Subscribe(subjectRoomStream+roomID, func(m *nats.Msg) { h(m.Data) })
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, 64<<20); err != nil {
		b.c.log.Warn("a stream's pending limits", "err", err)
	}
	if err := b.c.nc.Flush(); err != nil {
		b.c.log.Warn("flushing a subscription", "err", err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

func (b *roomBus) SendNode(name string, msg []byte) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("cluster: no node called %q", name)
	}
	return b.c.nc.Publish(subjectNodeStream+name, msg)
}

func (b *roomBus) HandleNode(h func(msg []byte)) error {
	sub, err := b.c.nc.Subscribe(subjectNodeStream+b.c.self.Name, func(m *nats.Msg) { h(m.Data) })
	if err != nil {
		return err
	}
	if err := sub.SetPendingLimits(-1, 256<<20); err != nil {
		b.c.log.Warn("a stream's pending limits", "err", err)
	}
	return b.c.nc.Flush()
}

// userBus carries messages about users (th.user.<id>) to every node.
type userBus struct{ c *Cluster }

func (u *userBus) Publish(_ context.Context, userID string, msg []byte) error {
	if !validToken(userID) {
		return fmt.Errorf("cluster: %q is not a user ID", userID)
	}
	return u.c.nc.Publish(subjectUser+userID, msg)
}

func (u *userBus) Handle(fn func(userID string, msg []byte)) error {
	_, err := u.c.nc.Subscribe(subjectUser+"*", func(m *nats.Msg) {
		fn(strings.TrimPrefix(m.Subject, subjectUser), m.Data)
	})
	if err == nil {
		err = u.c.nc.Flush()
	}
	return err
}

// validToken reports whether s can be one token of a subject (and a key).
func validToken(s string) bool { return validName.MatchString(s) }

// presence says which room each signed-in user is in: the presence bucket, one
// key per user, followed by every node.
type presence struct {
	c  *Cluster
	kv jetstream.KeyValue
	f  *follower[presenceValue]
}

type presenceValue struct {
	Room string `json:"room"`
	Node string `json:"node"` // who wrote it: the janitor forgets the dead nodes'
}

func startPresence(ctx context.Context, c *Cluster, kv jetstream.KeyValue) (*presence, error) {
	f, err := follow[presenceValue](ctx, c, kv, c.log)
	if err != nil {
		return nil, err
	}
	return &presence{c: c, kv: kv, f: f}, nil
}

func (p *presence) Enter(ctx context.Context, user, roomID string) (string, error) {
	if !validToken(user) {
		return "", nil
	}
	b, _ := json.Marshal(presenceValue{Room: roomID, Node: p.c.self.Name})
	for range 10 {
		e, err := p.kv.Get(ctx, user)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			if _, err = p.kv.Create(ctx, user, b); err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
				return "", err
			}
			continue
		case err != nil:
			return "", err
		}
		var cur presenceValue
		_ = json.Unmarshal(e.Value(), &cur)
		if _, err = p.kv.Update(ctx, user, b, e.Revision()); err == nil {
			if cur.Room == roomID {
				return "", nil
			}
			return cur.Room, nil
		} else if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return "", err
		}
	}
	return "", fmt.Errorf("cluster: recording where %s is: too many writers at once", user)
}

func (p *presence) Leave(ctx context.Context, user, roomID string) {
	if !validToken(user) {
		return
	}
	e, err := p.kv.Get(ctx, user)
	if err != nil {
		return
	}
	var cur presenceValue
	if json.Unmarshal(e.Value(), &cur) != nil || cur.Room != roomID {
		return
	}
	if err := p.kv.Delete(ctx, user, jetstream.LastRevision(e.Revision())); err != nil &&
		!errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		p.c.log.Warn("recording that a user left", "user", user, "err", err)
	}
}

func (p *presence) Where(user string) (string, bool) {
	v, ok := p.f.get(user)
	return v.v.Room, ok
}

// counters count across the cluster: the counters bucket, one key per thing
// counted, holding each node's count (so that the janitor can forget a dead
// node's), changed with compare-and-set.
type counters struct {
	c  *Cluster
	kv jetstream.KeyValue
}

// counterKey makes a bucket key of anything.
func counterKey(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func (k *counters) Add(ctx context.Context, key string, delta, max int) (bool, error) {
	bk := counterKey(key)
	self := k.c.self.Name
	for range 20 {
		counts := map[string]int{}
		var rev uint64
		e, err := k.kv.Get(ctx, bk)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		case err != nil:
			return false, err
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &counts); err != nil {
				return false, err
			}
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		if delta > 0 && max > 0 && total+delta > max {
			return false, nil
		}
		if counts[self] += delta; counts[self] <= 0 {
			delete(counts, self)
		}
		b, _ := json.Marshal(counts)
		switch {
		case len(counts) == 0 && rev == 0:
			return true, nil
		case len(counts) == 0:
			err = k.kv.Delete(ctx, bk, jetstream.LastRevision(rev))
		case rev == 0:
			_, err = k.kv.Create(ctx, bk, b)
		default:
			_, err = k.kv.Update(ctx, bk, b, rev)
		}
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return false, err
		}
	}
	return false, fmt.Errorf("cluster: counting %q: too many writers at once", key)
}
