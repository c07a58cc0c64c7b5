package room

// mayRaise reports whether the hand policy takes a raised hand from the listener m.
func (r *Room) mayRaise(m *member) bool {
	switch r.policy {
	case HandsEveryone:
		return true
	case HandsFollowedBySpeakers:
		return r.followedOnStage(m.id)
	}
	return false
}

// raiseHand applies RaiseHand.
func (r *Room) raiseHand(m *member) error {
	switch {
	case m.guest:
		return ErrGuestListenOnly
	case m.role != Listener:
		return ErrOnStage
	case m.hand != 0:
		return ErrHandAlreadyRaised
	case !r.mayRaise(m):
		return ErrHandNotAllowed
	}
	r.setHand(m, r.next())
	r.emit(HandRaised{Header: r.header(r.userAndModerators(m.id)), UserID: m.id})
	return nil
}

// lowerHand applies LowerHand.
func (r *Room) lowerHand(m *member) error {
	if m.hand == 0 {
		return ErrHandNotRaised
	}
	r.setHand(m, 0)
	r.emit(HandLowered{Header: r.header(r.userAndModerators(m.id)), UserID: m.id, Reason: ReasonLowered})
	return nil
}

// setHandPolicy applies SetHandPolicy. Setting the policy in force changes nothing.
func (r *Room) setHandPolicy(m *member, c SetHandPolicy) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if !c.Policy.valid() {
		return ErrBadCommand
	}
	if c.Policy == r.policy {
		return nil
	}
	r.policy = c.Policy
	r.emit(HandPolicyChanged{Header: r.header(members()), Policy: c.Policy, By: m.id})
	for _, h := range r.raisedHands() {
		if !r.mayRaise(h) {
			r.setHand(h, 0)
			r.emit(HandLowered{Header: r.header(r.userAndModerators(h.id)), UserID: h.id, Reason: ReasonPolicy})
		}
	}
	return nil
}

// raisedHands returns the listeners with a raised hand, in the order they raised it.
func (r *Room) raisedHands() []*member {
	return byTick(r.hands, func(m *member) uint64 { return m.hand })
}
