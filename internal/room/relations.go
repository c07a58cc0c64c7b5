package room

// edges is one directed relation (follows or blocks) among present participants,
// indexed both ways so that dropping a user costs their degree, not the room's size.
type edges struct {
	out map[string]map[string]struct{} // from -> to
	in  map[string]map[string]struct{} // to -> from
}

func newEdges() edges {
	return edges{out: map[string]map[string]struct{}{}, in: map[string]map[string]struct{}{}}
}

func (e edges) has(from, to string) bool {
	_, ok := e.out[from][to]
	return ok
}

func (e edges) add(from, to string) {
	if from == to {
		return
	}
	link(e.out, from, to)
	link(e.in, to, from)
}

func (e edges) del(from, to string) {
	unlink(e.out, from, to)
	unlink(e.in, to, from)
}

// drop removes every edge from or to u.
func (e edges) drop(u string) {
	for to := range e.out[u] {
		unlink(e.in, to, u)
	}
	for from := range e.in[u] {
		unlink(e.out, from, u)
	}
	delete(e.out, u)
	delete(e.in, u)
}

func link(m map[string]map[string]struct{}, a, b string) {
	s := m[a]
	if s == nil {
		s = map[string]struct{}{}
		m[a] = s
	}
	s[b] = struct{}{}
}

func unlink(m map[string]map[string]struct{}, a, b string) {
	if s := m[a]; s != nil {
		delete(s, b)
		if len(s) == 0 {
			delete(m, a)
		}
	}
}

// addRelations records the edges between the joiner u and the signed-in people
// present, as the caller gave them with Join.
func (r *Room) addRelations(u string, rel Relations) {
	present := func(v string) bool {
		m, ok := r.people[v]
		return ok && !m.guest && v != u
	}
	for _, v := range rel.Follows {
		if present(v) {
			r.follows.add(u, v)
		}
	}
	for _, v := range rel.FollowedBy {
		if present(v) {
			r.follows.add(v, u)
		}
	}
	for _, v := range rel.Blocks {
		if present(v) {
			r.blocks.add(u, v)
		}
	}
	for _, v := range rel.BlockedBy {
		if present(v) {
			r.blocks.add(v, u)
		}
	}
}

// setRelation applies SetRelation: the actor's edges to the target as they now
// stand. A block drops the follows both ways, as the account service does.
func (r *Room) setRelation(m *member, c SetRelation) error {
	if m.guest || (c.Follows && c.Blocks) {
		return ErrBadCommand
	}
	t, err := r.target(c.Target)
	if err != nil {
		return err
	}
	if t == m || t.guest {
		return ErrBadCommand
	}
	r.follows.del(m.id, t.id)
	r.blocks.del(m.id, t.id)
	switch {
	case c.Follows:
		r.follows.add(m.id, t.id)
	case c.Blocks:
		r.blocks.add(m.id, t.id)
		r.follows.del(t.id, m.id)
	}
	return nil
}

// anyModerator reports whether one of ids is a moderator in the room.
func (r *Room) anyModerator(ids []string) bool {
	for _, id := range ids {
		if m, ok := r.stage[id]; ok && m.role == Moderator {
			return true
		}
	}
	return false
}

// blockedFromStage reports whether u may not come on stage now: someone on stage
// blocks u, or u blocks someone on stage. This is the stage's block rule, in both
// directions, and the one place it lives: every way onto the stage asks it (an
// invitation to speak and its acceptance, and a join that would put the joiner on
// stage: the creator, a co-host, a stage guest of Config.Speakers, the invitee of a
// moderator's InviteMembers{ToStage: true}). Moving someone already on stage, or
// making them a moderator, brings nobody new on stage and does not ask.
//
// A block made while both people are on stage (SetRelation) moves nobody: they stay
// there together. The rule bars coming on stage, so once either of them leaves the
// stage, they cannot come back while the other is there, until the block is lifted.
func (r *Room) blockedFromStage(u string) bool {
	for v := range r.blocks.out[u] {
		if _, ok := r.stage[v]; ok {
			return true
		}
	}
	for v := range r.blocks.in[u] {
		if _, ok := r.stage[v]; ok {
			return true
		}
	}
	return false
}

// followedOnStage reports whether someone on stage follows u.
func (r *Room) followedOnStage(u string) bool {
	for s := range r.stage {
		if r.follows.has(s, u) {
			return true
		}
	}
	return false
}
