// Package media connects the live rooms to the media server: it keeps one
// sfu.Forwarder per live room and one sfu.Peer per participant, and translates the
// live layer's decisions (who may be heard, who left, which room ended) into calls
// of package sfu. It implements live.Media.
package media

import (
	"context"
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/sfu"
	"github.com/townhall/townhall/internal/shrink"
)

// Media is the live layer's view of the media server.
type Media struct {
	engine *sfu.Engine

	mu       sync.Mutex // guards rooms, onActive and cl's maps; never held while calling into sfu
	rooms    map[string]*roomMedia
	onActive func(roomID string, slots []live.ActiveSlot)
	cl       *clusterMedia // rooms across nodes (cluster.go); nil on one node
}

type roomMedia struct {
	fwd   *sfu.Forwarder
	peers map[string]*sfu.Peer
}

// New returns the adapter over engine.
func New(engine *sfu.Engine) *Media {
	return &Media{engine: engine, rooms: map[string]*roomMedia{}}
}

var _ live.Media = (*Media)(nil)

// OnActive sets the function told, about five times a second per room, who is
// heard in which slot.
func (m *Media) OnActive(fn func(roomID string, slots []live.ActiveSlot)) {
	m.mu.Lock()
	m.onActive = fn
	m.mu.Unlock()
}

// room returns the media of roomID, making its forwarder on first use.
func (m *Media) room(roomID string) (*roomMedia, error) {
	r, made, err := m.roomLocked(roomID)
	if made && m.cl != nil {
		m.apply(roomID, r.fwd)
		m.subscribeNow(roomID)
	}
	return r, err
}

func (m *Media) roomLocked(roomID string) (*roomMedia, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rooms[roomID]; ok {
		return r, false, nil
	}
	fwd, err := m.engine.NewForwarder()
	if err != nil {
		return nil, false, err
	}
	r := &roomMedia{fwd: fwd, peers: map[string]*sfu.Peer{}}
	fwd.OnActive(func(states []sfu.SlotState) {
		m.mu.Lock()
		fn := m.onActive
		m.mu.Unlock()
		if fn == nil {
			return
		}
		slots := make([]live.ActiveSlot, len(states))
		for i, s := range states {
			slots[i] = live.ActiveSlot{Slot: s.Slot, UserID: s.ParticipantID, Level: levelOf(s.Level), Speaking: s.Speaking}
		}
		fn(roomID, slots)
	})
	m.rooms[roomID] = r
	return r, true, nil
}

// levelOf maps an RFC 6464 level (0 = 0 dBov, loudest; 127 = silence) to 0..1 over
// the useful range of speech (0 to -60 dBov).
func levelOf(dBov uint8) float64 {
	if dBov >= 60 {
		return 0
	}
	return 1 - float64(dBov)/60
}

// Connect makes userID's media connection in roomID, closing an older one of the
// same participant (a reconnect), and returns it. signal carries the server's late
// ICE candidates to the client.
func (m *Media) Connect(ctx context.Context, roomID, userID string, signal func(live.ICECandidate)) (live.MediaSession, error) {
	r, err := m.room(roomID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	old := r.peers[userID]
	delete(r.peers, userID)
	m.mu.Unlock()
	if old != nil {
		_ = old.Close()
		<-old.Done()
	}
	var mine *sfu.Peer // this connection's peer, once made; guarded by m.mu
	peer, err := m.engine.NewPeer(userID, r.fwd, func(c webrtc.ICECandidateInit) {
		signal(live.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	}, func(s sfu.State) {
		if s != sfu.StateClosed {
			return
		}
		m.mu.Lock()
		if mine != nil && r.peers[userID] == mine {
			delete(r.peers, userID)
		}
		m.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	m.mu.Lock()
	mine = peer
	r.peers[userID] = peer
	m.mu.Unlock()
	return session{peer}, nil
}

// SetAudible lets userID be heard in roomID, or stops it; when it returns false,
// no packet of theirs is being or will be forwarded.
func (m *Media) SetAudible(roomID, userID string, audible bool) {
	r, err := m.room(roomID)
	if err != nil {
		return
	}
	r.fwd.SetAllowed(userID, audible)
}

// Disconnect closes userID's media connection in roomID.
func (m *Media) Disconnect(roomID, userID string) {
	m.mu.Lock()
	r, ok := m.rooms[roomID]
	var peer *sfu.Peer
	if ok {
		peer = r.peers[userID]
		delete(r.peers, userID)
	}
	m.mu.Unlock()
	if !ok {
		return
	}
	r.fwd.SetAllowed(userID, false)
	if peer != nil {
		_ = peer.Close()
	}
}

// CloseRoom closes every connection of roomID and its forwarder.
func (m *Media) CloseRoom(roomID string) {
	m.mu.Lock()
	r, ok := m.rooms[roomID]
	delete(m.rooms, roomID)
	if m.cl != nil {
		delete(m.cl.routes, roomID)
	}
	var peers []*sfu.Peer
	if ok {
		for _, p := range r.peers {
			peers = append(peers, p)
		}
	}
	m.mu.Unlock()
	if !ok {
		return
	}
	for _, p := range peers {
		_ = p.Close()
	}
	r.fwd.Close()
}

// session is one participant's media connection as the live layer drives it.
type session struct{ peer *sfu.Peer }

func (s session) Offer(ctx context.Context) (string, error) {
	o, err := s.peer.Offer(ctx)
	return o.SDP, err
}

func (s session) Answer(sdp string) error {
	return s.peer.SetAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

func (s session) Candidate(c live.ICECandidate) error {
	return s.peer.AddCandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid,
		SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment})
}

func (s session) Close() { _ = s.peer.Close() }

// Slots is how many slots every room's forwarder has: what a recording records.
func (m *Media) Slots() int { return m.engine.Slots() }

// SetTap gives t what roomID's audience hears, or stops (nil): see
// sfu.Forwarder.SetTap, a barrier. A tap makes the room's forwarder if need be;
// nil leaves a room without one alone.
func (m *Media) SetTap(roomID string, t sfu.Tap) error {
	if t == nil {
		m.mu.Lock()
		r, ok := m.rooms[roomID]
		m.mu.Unlock()
		if ok {
			r.fwd.SetTap(nil)
		}
		return nil
	}
	r, err := m.room(roomID)
	if err != nil {
		return err
	}
	r.fwd.SetTap(t)
	return nil
}

// Compact lets the tables of the media server start small again after a crowd
// left (the hub calls it when it gives memory back): the rooms' peers, and the
// engine's own (sfu.Engine.Compact).
func (m *Media) Compact() {
	m.mu.Lock()
	for _, r := range m.rooms {
		r.peers = shrink.Map(r.peers)
	}
	m.rooms = shrink.Map(m.rooms)
	m.mu.Unlock()
	m.engine.Compact()
}
