package server

import (
	"os/exec"
	"sync/atomic"

	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/livecap"
	"github.com/townhall/townhall/internal/sfu"
)

// liveCaptions is what the media server needs to caption rooms live: the
// speech engine of --captions (nil: none), ffmpeg to decode, the metrics, and
// the hub that delivers the lines (set once it is made).
type liveCaptions struct {
	engine  caption.Engine
	ffmpeg  string
	metrics *livecap.Metrics
	hub     *atomic.Pointer[live.Hub]
}

var _ live.Captioner = (*recordingMedia)(nil)

// newLiveCaptions reads the engine of the server's configuration: the same as
// the replays' captions (--captions), if its programs are installed.
func (s *Server) newLiveCaptions(engine caption.Engine, metrics *livecap.Metrics, hub *atomic.Pointer[live.Hub]) liveCaptions {
	if _, err := exec.LookPath(s.cfg.FFmpeg); err != nil {
		engine = nil
	}
	if _, ok := engine.(caption.Pocketsphinx); ok {
		if _, err := exec.LookPath("pocketsphinx_continuous"); err != nil {
			s.log.Warn("pocketsphinx is missing: rooms cannot be captioned live (install Debian's pocketsphinx and pocketsphinx-en-us)")
			engine = nil
		}
	}
	return liveCaptions{engine: engine, ffmpeg: s.cfg.FFmpeg, metrics: metrics, hub: hub}
}

// CanCaption implements live.Captioner: the server has a speech engine.
func (m *recordingMedia) CanCaption() bool { return m.captions.engine != nil }

// SetLiveCaptions implements live.Captioner: roomID's live captions go on (a
// Captioner taps the room's forwarder beside its recorder, if any) or off (it
// is off the forwarder when this returns).
func (m *recordingMedia) SetLiveCaptions(roomID string, on bool) {
	if m.captions.engine == nil {
		return
	}
	m.mu.Lock()
	cp := m.caps[roomID]
	switch {
	case on && cp == nil:
		var err error
		cp, err = livecap.New(livecap.Options{Engine: m.captions.engine, FFmpeg: m.captions.ffmpeg,
			Metrics: m.captions.metrics, Log: m.log, Emit: func(l livecap.Line) { m.caption(roomID, l) }})
		if err != nil {
			m.mu.Unlock()
			m.log.Error("starting a room's live captions", "room", roomID, "err", err)
			return
		}
		m.caps[roomID] = cp
		m.mu.Unlock()
		if err := m.retap(roomID); err != nil {
			m.log.Error("starting a room's live captions", "room", roomID, "err", err)
		}
		return
	case !on && cp != nil:
		delete(m.caps, roomID)
		m.mu.Unlock()
		_ = m.retap(roomID)
		cp.Close()
		return
	}
	m.mu.Unlock()
}

// caption delivers a line of roomID's live captions to its listeners and keeps
// it for the replay, if the room is recorded.
func (m *recordingMedia) caption(roomID string, l livecap.Line) {
	if h := m.captions.hub.Load(); h != nil {
		h.Caption(roomID, live.CaptionLine{UserID: l.Speaker, Text: l.Text, Start: l.Start, End: l.End})
	}
	m.replays.AddLiveCaption(roomID, l.Speaker, l.Start, l.Words)
}

// retap gives roomID's forwarder what taps it now: its recorder while the
// recording is on, its captioner while the captions are, both, or nothing. A
// barrier, as Media.SetTap: a tap taken off is not called once it returns.
func (m *recordingMedia) retap(roomID string) error {
	m.tapMu.Lock()
	defer m.tapMu.Unlock()
	m.mu.Lock()
	var taps teeTap
	if r := m.recs[roomID]; r != nil && m.recOn[roomID] {
		taps = append(taps, r)
	}
	if cp := m.caps[roomID]; cp != nil {
		taps = append(taps, cp)
	}
	m.mu.Unlock()
	switch len(taps) {
	case 0:
		return m.SetTap(roomID, nil)
	case 1:
		return m.SetTap(roomID, taps[0])
	}
	return m.SetTap(roomID, taps)
}

// teeTap gives each packet to several taps, in order.
type teeTap []sfu.Tap

func (t teeTap) Tap(p sfu.TapPacket) {
	for _, x := range t {
		x.Tap(p)
	}
}
