package room

import "time"

// enterStage puts m, a present participant not on stage, on stage with role,
// muted, hand down and no pending invitation, and tells the members.
func (r *Room) enterStage(m *member, role Role, now time.Time) {
	m.role, m.muted, m.held, m.since, m.keptOff = role, true, false, now, false
	r.audience.remove(m)
	r.setHand(m, 0)
	r.setInvited(m, 0)
	m.onStage, m.inAud = r.next(), 0
	r.stage[m.id] = m
	r.emit(JoinedStage{Header: r.header(members()), UserID: m.id, Role: role, Muted: true, Since: now})
}

// leaveStage takes m off the stage (into no role yet) and tells the members.
func (r *Room) leaveStage(m *member, why Reason) {
	delete(r.stage, m.id)
	m.role, m.muted, m.held, m.since, m.onStage = Listener, false, false, time.Time{}, 0
	r.emit(LeftStage{Header: r.header(members()), UserID: m.id, Reason: why})
}

// enterAudience puts m in the audience and tells the members.
func (r *Room) enterAudience(m *member) {
	m.role, m.inAud = Listener, r.next()
	r.audience.push(m)
	r.emit(ListenerJoined{Header: r.header(members()), UserID: m.id, Guest: m.guest})
}

// leaveAudience takes the listener m out of the audience, with their hand and
// invitation to speak, and tells the members.
func (r *Room) leaveAudience(m *member, why Reason) {
	r.audience.remove(m)
	r.setHand(m, 0)
	r.setInvited(m, 0)
	m.inAud = 0
	r.emit(ListenerLeft{Header: r.header(members()), UserID: m.id, Reason: why})
}

// toAudience moves m from the stage into the audience.
func (r *Room) toAudience(m *member, why Reason) {
	r.leaveStage(m, why)
	r.enterAudience(m)
	r.afterStageChange()
}

// afterStageChange keeps a live room whole after someone left the stage: an empty
// stage ends the room; a stage without moderators gets its longest-serving speaker
// as moderator.
func (r *Room) afterStageChange() {
	if r.state != StateLive {
		return
	}
	if len(r.stage) == 0 {
		r.finish(ReasonStageEmpty, "")
		return
	}
	if r.moderators() > 0 {
		return
	}
	m := r.stageOrder()[0]
	m.role = Moderator
	r.emit(ModeratorAdded{Header: r.header(members()), UserID: m.id, Auto: true})
}

// finish ends the room and tells the members.
func (r *Room) finish(why Reason, by string) {
	r.state = StateEnded
	r.emit(RoomEnded{Header: r.header(members()), Reason: why, By: by})
}

// inviteToSpeak applies InviteToSpeak.
func (r *Room) inviteToSpeak(m *member, c InviteToSpeak) error {
	t, err := r.moderatorTarget(m, c.Target)
	switch {
	case err != nil:
		return err
	case t.role != Listener:
		return ErrOnStage
	case t.guest:
		return ErrGuestListenOnly
	case t.invited != 0:
		return ErrAlreadyInvited
	case r.blockedFromStage(t.id):
		return ErrBlockedOnStage
	}
	r.setInvited(t, r.next())
	r.emit(SpeakInvited{Header: r.header(r.userAndModerators(t.id)), UserID: t.id, By: m.id})
	return nil
}

// acceptSpeak applies AcceptSpeak. The block rule is checked again: since the
// invitation, someone who blocks the invitee, or whom they block, may have come on
// stage, or a block may have been made between the invitee and someone on stage.
// A refused acceptance leaves the invitation pending, to accept once the rule
// allows it or to decline.
func (r *Room) acceptSpeak(m *member, c AcceptSpeak) error {
	if m.invited == 0 {
		return ErrNoSpeakInvitation
	}
	if r.blockedFromStage(m.id) {
		return ErrBlockedOnStage
	}
	r.leaveAudience(m, ReasonToStage)
	r.enterStage(m, Speaker, c.Now)
	return nil
}

// declineSpeak applies DeclineSpeak.
func (r *Room) declineSpeak(m *member) error {
	if m.invited == 0 {
		return ErrNoSpeakInvitation
	}
	r.setInvited(m, 0)
	r.emit(SpeakDeclined{Header: r.header(r.userAndModerators(m.id)), UserID: m.id})
	return nil
}

// moveToAudience applies MoveToAudience. A moderator may move anyone on stage,
// themselves and other moderators included.
func (r *Room) moveToAudience(m *member, c MoveToAudience) error {
	t, err := r.moderatorTarget(m, c.Target)
	if err != nil {
		return err
	}
	if t.role == Listener {
		return ErrNotOnStage
	}
	r.toAudience(t, ReasonMoved)
	return nil
}

// stepDown applies StepDown.
func (r *Room) stepDown(m *member) error {
	if m.role == Listener {
		return ErrNotOnStage
	}
	r.toAudience(m, ReasonSteppedDown)
	return nil
}
