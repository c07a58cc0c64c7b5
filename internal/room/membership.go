package room

import "github.com/townhall/townhall/internal/ids"

// join applies Join. The checks run from the least to the most revealing: a user
// who may not join a closed room learns that, not whether a moderator blocks them.
func (r *Room) join(actor string, c Join) error {
	if _, ok := r.removed[actor]; ok {
		return ErrRemoved
	}
	if _, ok := r.people[actor]; ok {
		return ErrAlreadyJoined
	}
	creator := actor == r.cfg.CreatorID
	host := creator || r.cfg.isCoHost(actor)
	if r.state == StateWaiting && !host {
		return ErrNotStarted
	}
	inv, invited := r.invites[actor]
	switch {
	case c.Guest && (host || c.AdminModerator):
		return ErrBadCommand
	case c.Guest && (r.cfg.Type != Open || !r.cfg.AllowGuests):
		return ErrGuestsNotAllowed
	case c.Guest && r.isBarred(c.Browser, c.Addr):
		return ErrRemoved
	case c.Guest && r.guestsClosed:
		return ErrGuestsClosed
	case c.Guest || host || invited || c.AdminModerator:
	case r.cfg.MembersOnly && !c.ClubMember:
		return ErrMembersOnly
	case r.cfg.Type == Closed:
		return ErrNotInvited
	case r.cfg.Type == Social && !r.anyModerator(c.Rel.FollowedBy) && !(r.cfg.ClubID != "" && c.ClubMember):
		return ErrNotFollowed // a club's social room also takes the club's members
	}
	if !c.Guest && r.anyModerator(c.Rel.BlockedBy) {
		return ErrBlockedByModerator
	}
	if r.cfg.MaxParticipants > 0 && len(r.people) >= r.cfg.MaxParticipants {
		return ErrRoomFull
	}
	if c.Guest && (r.cfg.MaxGuests > 0 && r.guests >= r.cfg.MaxGuests ||
		r.cfg.MaxGuestsPerAddr > 0 && c.Addr != "" && r.guestAddrs[c.Addr] >= r.cfg.MaxGuestsPerAddr) {
		return ErrGuestsFull
	}

	role := Listener
	switch {
	case host || c.AdminModerator:
		role = Moderator
	case inv.toStage && !c.Guest:
		role = Speaker
		inv.toStage = false // a stage invitation is good for one join
		r.invites[actor] = inv
	}
	m := &member{id: actor, guest: c.Guest, role: Listener, browser: c.Browser, addr: c.Addr}
	r.people[actor] = m
	if c.Guest {
		r.guests++
		if c.Addr != "" {
			r.guestAddrs[c.Addr]++
		}
	}
	if !c.Guest {
		r.addRelations(actor, c.Rel)
	}
	if role != Listener && r.blockedFromStage(actor) {
		role, m.keptOff = Listener, true // the stage's block rule; see KeptOffStage
	}
	if role == Listener {
		r.enterAudience(m)
	} else {
		r.enterStage(m, role, c.Now)
	}
	if r.state == StateWaiting {
		r.state = StateLive
	}
	return nil
}

// leave applies Leave.
func (r *Room) leave(m *member) error {
	r.drop(m, ReasonLeft)
	r.afterStageChange()
	return nil
}

// drop takes m out of the room, telling the members, and forgets their edges.
func (r *Room) drop(m *member, why Reason) {
	if m.role == Listener {
		r.leaveAudience(m, why)
	} else {
		r.leaveStage(m, why)
	}
	delete(r.people, m.id)
	r.follows.drop(m.id)
	r.blocks.drop(m.id)
	if m.guest {
		r.guests--
		if m.addr != "" {
			if r.guestAddrs[m.addr]--; r.guestAddrs[m.addr] <= 0 {
				delete(r.guestAddrs, m.addr)
			}
		}
	}
}

// isBarred reports whether a removal bars guests from browser or addr.
func (r *Room) isBarred(browser, addr string) bool {
	if _, ok := r.barred["b:"+browser]; ok && browser != "" {
		return true
	}
	_, ok := r.barred["a:"+addr]
	return ok && addr != ""
}

// bar keeps the browser and address of a removed participant out for good.
func (r *Room) bar(m *member) {
	if m.browser != "" {
		r.barred["b:"+m.browser] = struct{}{}
	}
	if m.addr != "" {
		r.barred["a:"+m.addr] = struct{}{}
	}
}

// inviteMembers applies InviteMembers.
func (r *Room) inviteMembers(m *member, c InviteMembers) error {
	if m.guest {
		return ErrGuestListenOnly
	}
	if r.cfg.Type == Closed && m.role != Moderator {
		return ErrNotModerator
	}
	if len(c.Users) == 0 {
		return ErrBadCommand
	}
	if len(c.Users) > MaxInvitees {
		return ErrTooManyInvitees
	}
	for _, u := range c.Users {
		if !ids.Valid(u) {
			return ErrBadCommand
		}
	}
	toStage := c.ToStage && m.role == Moderator
	var users []string
	seen := map[string]bool{}
	for _, u := range c.Users {
		_, present := r.people[u]
		_, removed := r.removed[u]
		if seen[u] || present || removed {
			continue
		}
		seen[u] = true
		users = append(users, u)
		inv := r.invites[u]
		inv.toStage = inv.toStage || toStage
		r.invites[u] = inv
	}
	if len(users) == 0 {
		return nil
	}
	to := append(append([]string(nil), users...), m.id)
	r.emit(MembersInvited{Header: r.header(Audience{Users: to}), By: m.id, Users: users, ToStage: toStage})
	return nil
}
