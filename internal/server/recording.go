package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/livecap"
	"github.com/townhall/townhall/internal/media"
	"github.com/townhall/townhall/internal/recorder"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
)

// recordingMedia is the media server as the live layer sees it, with recording:
// when the first audio connection of a room chosen for recording (room.Config.
// Record) is made, it starts the room's recording on the room's forwarder (what
// the audience hears, from then on); a moderator switches it on or off mid-room
// (SetRecording, after everyone was told); when the room closes, it takes the
// recorder off at once and makes the replay in the background.
type recordingMedia struct {
	*media.Media
	db      *store.DB
	replays *replay.Service
	log     *slog.Logger

	captions liveCaptions

	mu      sync.Mutex                    // guards checked, recs, recOn and caps
	checked map[string]bool               // rooms whose setup was looked up
	recs    map[string]*recorder.Recorder // the rooms recorded, their tap on or off
	recOn   map[string]bool               // the rooms whose recorder's tap is on
	caps    map[string]*livecap.Captioner // the rooms captioned live
	tapMu   sync.Mutex                    // serializes retap
	making  sync.WaitGroup                // replays being made
}

func newRecordingMedia(m *media.Media, db *store.DB, replays *replay.Service, log *slog.Logger, lc liveCaptions) *recordingMedia {
	return &recordingMedia{Media: m, db: db, replays: replays, log: log, checked: map[string]bool{},
		recs: map[string]*recorder.Recorder{}, recOn: map[string]bool{}, caps: map[string]*livecap.Captioner{}, captions: lc}
}

var (
	_ live.Media    = (*recordingMedia)(nil)
	_ live.Recorder = (*recordingMedia)(nil)
)

// Connect makes the connection, then starts the room's recording if it was
// created to be recorded and is not yet.
func (m *recordingMedia) Connect(ctx context.Context, roomID, userID string, signal func(live.ICECandidate)) (live.MediaSession, error) {
	sess, err := m.Media.Connect(ctx, roomID, userID, signal)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	seen := m.checked[roomID]
	m.checked[roomID] = true
	m.mu.Unlock()
	if !seen {
		cfg, err := roomConfig(ctx, m.db, roomID)
		if err == nil && cfg.Record {
			err = m.record(ctx, roomID, cfg.Captions)
		}
		if err != nil {
			m.log.Error("starting a room's recording", "room", roomID, "err", err)
		}
	}
	return sess, nil
}

// SetRecording implements live.Recorder: a moderator turned roomID's recording
// on (everyone was told) or off (the tap is off when it returns).
func (m *recordingMedia) SetRecording(roomID string, on bool) {
	if !on {
		m.mu.Lock()
		delete(m.recOn, roomID)
		m.mu.Unlock()
		_ = m.retap(roomID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := roomConfig(ctx, m.db, roomID)
	if err == nil {
		err = m.record(ctx, roomID, cfg.Captions)
	}
	if err != nil {
		m.log.Error("turning a room's recording on", "room", roomID, "err", err)
	}
}

// record puts roomID's recorder on its forwarder, starting the recording first if
// there is none yet.
func (m *recordingMedia) record(ctx context.Context, roomID string, captions bool) error {
	m.mu.Lock()
	r := m.recs[roomID]
	m.mu.Unlock()
	if r == nil {
		if rec, err := m.db.RoomByID(ctx, roomID); err != nil || !rec.EndedAt.IsZero() {
			return err
		}
		var err error
		r, err = m.replays.Start(ctx, roomID, m.Slots(), captions)
		switch {
		case errors.Is(err, replay.ErrRecording), errors.Is(err, replay.ErrRecorded):
			return nil // another connection started it; or it is over
		case err != nil:
			return err
		}
		m.mu.Lock()
		m.recs[roomID] = r
		m.mu.Unlock()
		m.log.Info("recording a room", "room", roomID)
	}
	m.mu.Lock()
	m.recOn[roomID] = true
	m.mu.Unlock()
	return m.retap(roomID)
}

// CloseRoom stops the room's recording (the tap is off before the connections
// close), closes the room's media, and makes its replay in the background.
func (m *recordingMedia) CloseRoom(roomID string) {
	m.mu.Lock()
	r := m.recs[roomID]
	cp := m.caps[roomID]
	delete(m.recs, roomID)
	delete(m.recOn, roomID)
	delete(m.caps, roomID)
	delete(m.checked, roomID)
	m.mu.Unlock()
	if r != nil || cp != nil {
		_ = m.retap(roomID)
	}
	if cp != nil {
		cp.Close()
	}
	m.Media.CloseRoom(roomID)
	if r == nil || !m.replays.Recording(roomID) {
		return
	}
	m.making.Add(1)
	go func() {
		defer m.making.Done()
		rp, err := m.replays.Stop(context.Background(), roomID)
		if err != nil {
			m.log.Error("making a replay", "room", roomID, "err", err)
			return
		}
		m.log.Info("a replay is ready", "room", roomID, "duration", rp.Duration, "bytes", rp.Size)
	}()
}

// wait waits for the replays being made.
func (m *recordingMedia) wait() { m.making.Wait() }

// roomConfig reads the room.Config roomID was created with (the zero Config
// if it was stored without one).
func roomConfig(ctx context.Context, db *store.DB, roomID string) (room.Config, error) {
	setup, err := db.RoomSetup(ctx, roomID)
	if err != nil || setup == nil {
		return room.Config{}, err
	}
	var cfg room.Config
	if err := json.Unmarshal(setup, &cfg); err != nil {
		return room.Config{}, err
	}
	return cfg, nil
}

// noRecording says why this server cannot record rooms ("" if it can): the
// replays are mixed by ffmpeg (--ffmpeg), which a fresh machine may lack.
func (s *Server) noRecording() string {
	if _, err := exec.LookPath(s.cfg.FFmpeg); err != nil {
		s.log.Warn("ffmpeg is missing: rooms cannot be recorded (install Debian's ffmpeg, or set --ffmpeg)", "ffmpeg", s.cfg.FFmpeg)
		return "this server cannot record rooms: its ffmpeg (" + s.cfg.FFmpeg + ") is missing"
	}
	return ""
}

// captionEngine is the speech engine of --captions: nil for none.
func (s *Server) captionEngine() caption.Engine {
	switch {
	case s.cfg.Captions == "pocketsphinx":
		return caption.Pocketsphinx{}
	case s.cfg.Captions != "":
		return caption.Whisper{URL: s.cfg.Captions}
	}
	return nil
}

// newReplays makes the replay service of the server, over the data folder; on
// Postgres, the finished files go to the database, where every node serves them.
func (s *Server) newReplays() *replay.Service {
	engine := s.captionEngine()
	var files replay.Files
	if s.db.Driver() == store.Postgres { // a cluster's nodes share the database, not their disks
		files = s.db
	}
	return replay.New(replay.Options{Dir: filepath.Join(s.cfg.DataDir, "recordings"), Store: s.db, Files: files,
		FFmpeg: s.cfg.FFmpeg, Clip: s.cfg.ClipLength, Log: s.log, Captions: engine,
		SpeakerName: func(ctx context.Context, id string) string {
			u, err := s.db.UserByID(ctx, id)
			if err != nil {
				return ""
			}
			return u.DisplayName
		}})
}

// expireReplays deletes, every hour until ctx is done, the replays older than
// --replay-retention. Of several nodes deleting one replay, the store lets one
// win (DeleteReplay is not found for the others), so each goes exactly once.
func (s *Server) expireReplays(ctx context.Context, replays *replay.Service) {
	if s.cfg.ReplayRetention <= 0 {
		return
	}
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := replays.Expire(ctx, time.Now().Add(-s.cfg.ReplayRetention)); err != nil {
			s.log.Error("deleting old replays", "err", err)
		} else if n > 0 {
			s.log.Info("deleted old replays", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
