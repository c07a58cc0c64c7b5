package room

// setMuted applies SetMuted. Asking for the state one is in changes nothing.
func (r *Room) setMuted(m *member, c SetMuted) error {
	switch {
	case m.role == Listener:
		return ErrNotOnStage
	case !c.Muted && m.held:
		return ErrMuteHeld
	case c.Muted == m.muted:
		return nil
	}
	m.muted = c.Muted
	if c.Muted {
		r.emit(Muted{Header: r.header(members()), UserID: m.id, By: m.id})
	} else {
		r.emit(Unmuted{Header: r.header(members()), UserID: m.id})
	}
	return nil
}

// mute applies Mute. Muting someone already muted at least as firmly changes
// nothing; a hold on a soft mute makes it held.
func (r *Room) mute(m *member, c Mute) error {
	t, err := r.moderatorTarget(m, c.Target)
	switch {
	case err != nil:
		return err
	case t == m:
		return ErrSelfTarget
	case t.role == Listener:
		return ErrNotOnStage
	case t.muted && (t.held || !c.Hold):
		return nil
	}
	t.muted, t.held = true, t.held || c.Hold
	r.emit(Muted{Header: r.header(members()), UserID: t.id, By: m.id, Held: t.held})
	return nil
}

// releaseMute applies ReleaseMute. Releasing a mute nobody holds changes nothing.
// A held moderator needs another moderator to release them.
func (r *Room) releaseMute(m *member, c ReleaseMute) error {
	t, err := r.moderatorTarget(m, c.Target)
	switch {
	case err != nil:
		return err
	case t == m:
		return ErrSelfTarget
	case t.role == Listener:
		return ErrNotOnStage
	case !t.held:
		return nil
	}
	t.held = false
	r.emit(MuteReleased{Header: r.header(members()), UserID: t.id, By: m.id})
	return nil
}
