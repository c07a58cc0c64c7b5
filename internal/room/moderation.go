package room

// makeModerator applies MakeModerator.
func (r *Room) makeModerator(m *member, c MakeModerator) error {
	t, err := r.moderatorTarget(m, c.Target)
	switch {
	case err != nil:
		return err
	case t.role == Listener:
		return ErrNotOnStage
	case t.role == Moderator:
		return ErrAlreadyModerator
	}
	t.role = Moderator
	r.emit(ModeratorAdded{Header: r.header(members()), UserID: t.id, By: m.id})
	return nil
}

// revokeModerator applies RevokeModerator. A moderator may revoke themselves, unless
// they are the last one.
func (r *Room) revokeModerator(m *member, c RevokeModerator) error {
	t, err := r.moderatorTarget(m, c.Target)
	switch {
	case err != nil:
		return err
	case t.role != Moderator:
		return ErrTargetNotModerator
	case r.moderators() == 1:
		return ErrLastModerator
	}
	t.role = Speaker
	r.emit(ModeratorRemoved{Header: r.header(members()), UserID: t.id, By: m.id})
	return nil
}

// remove applies Remove: the target leaves, can never join again, and every
// invitation for them is void.
func (r *Room) remove(m *member, c Remove) error {
	t, err := r.moderatorTarget(m, c.Target)
	if err != nil {
		return err
	}
	if t == m {
		return ErrSelfTarget
	}
	r.emit(Removed{Header: r.header(Audience{Users: []string{t.id}}), UserID: t.id})
	r.drop(t, ReasonRemoved)
	r.removed[t.id] = struct{}{}
	r.bar(t)
	delete(r.invites, t.id)
	r.afterStageChange()
	return nil
}

// end applies End.
func (r *Room) end(m *member) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	r.finish(ReasonEndedBy, m.id)
	return nil
}

// setGuests applies SetGuests.
func (r *Room) setGuests(m *member, c SetGuests) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if !r.cfg.AllowGuests {
		return ErrGuestsOnlyOpen
	}
	if r.guestsClosed == !c.Allowed {
		return nil
	}
	r.guestsClosed = !c.Allowed
	r.emit(GuestsChanged{Header: r.header(members()), Allowed: c.Allowed, By: m.id})
	return nil
}
