package event

import (
	"context"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/room"
)

// Sees reports whether viewer may see e. It is the one place this rule lives: the
// event page, lists, search and subscriptions all use it.
//
//   - the host and the co-hosts always see it;
//   - nobody the host blocks sees it;
//   - people invited to it see it;
//   - a members-only club event is for the club's members;
//   - an open event is for everyone signed in; a social one, like a social room,
//     for the people a host follows, and the club's members; a closed one for the
//     hosts and invitees only. (Nobody sees an event whose room would refuse them.)
func (s *Service) Sees(ctx context.Context, viewer string, e Event) (bool, error) {
	if viewer == "" {
		return false, nil
	}
	if e.IsHost(viewer) {
		return true, nil
	}
	rel, err := s.opts.Graph.Relation(ctx, viewer, e.HostID)
	if err != nil {
		return false, err
	}
	if rel.BBlocksA {
		return false, nil
	}
	_, err = s.opts.Store.EventInvitation(ctx, e.ID, viewer)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, ErrNoInvitation):
		return false, err
	}
	member := false
	if e.ClubID != "" {
		role, err := s.opts.Clubs.RoleOf(ctx, e.ClubID, viewer)
		if err != nil {
			return false, err
		}
		member = role != ""
	}
	if e.MembersOnly && !member {
		return false, nil
	}
	switch e.RoomType {
	case room.Open:
		return true, nil
	case room.Social:
		if member || rel.BFollowsA {
			return true, nil
		}
		for _, c := range e.CoHosts {
			r, err := s.opts.Graph.Relation(ctx, viewer, c)
			if err != nil {
				return false, err
			}
			if !r.BBlocksA && r.BFollowsA {
				return true, nil
			}
		}
	}
	return false, nil
}

// filter keeps the events viewer sees, at most limit.
func (s *Service) filter(ctx context.Context, viewer string, list []Event, limit int) ([]Event, error) {
	out := []Event{}
	for _, e := range list {
		ok, err := s.Sees(ctx, viewer, e)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// LiveFor is how long after its start an event stays in the upcoming lists, so
// that people find it while its room is open.
const LiveFor = 2 * time.Hour

// Upcoming lists the events for viewer's events page and hallway: those of people
// they follow, of their clubs, and those they subscribed to or were invited to,
// that they may see, by start. Started events stay listed for LiveFor.
func (s *Service) Upcoming(ctx context.Context, viewer string, limit int) ([]Event, error) {
	list, err := s.opts.Store.UpcomingEvents(ctx, viewer, s.now().Add(-LiveFor), 2*limit)
	if err != nil {
		return nil, err
	}
	return s.filter(ctx, viewer, s.current(list), limit)
}

// current drops the events whose start passed and that never opened a room.
func (s *Service) current(list []Event) []Event {
	now := s.now()
	out := list[:0:0]
	for _, e := range list {
		if e.Started() || e.StartsAt.After(now) {
			out = append(out, e)
		}
	}
	return out
}

// Explore lists, for viewer's Explore list, the upcoming events anyone may join,
// whoever hosts them: open, not members-only, not cancelled, with no block
// either way between viewer and a host; soonest first, a page of at most limit
// after after. Started events stay listed for LiveFor. Each is one viewer sees
// (Sees), so the list needs no filtering and pages exactly.
func (s *Service) Explore(ctx context.Context, viewer string, after account.Cursor, limit int) (
	[]Event, account.Cursor, error) {
	if viewer == "" {
		return nil, account.Cursor{}, nil
	}
	now := s.now()
	return s.opts.Store.ExploreEvents(ctx, viewer, now.Add(-LiveFor), now, after, limit)
}

// Hosted lists the upcoming events hostID hosts or co-hosts that viewer may see.
func (s *Service) Hosted(ctx context.Context, viewer, hostID string, limit int) ([]Event, error) {
	list, err := s.opts.Store.HostedEvents(ctx, hostID, s.now().Add(-LiveFor), 2*limit)
	if err != nil {
		return nil, err
	}
	return s.filter(ctx, viewer, s.current(list), limit)
}

// OfClub lists a club's upcoming events that viewer may see.
func (s *Service) OfClub(ctx context.Context, viewer, clubID string, limit int) ([]Event, error) {
	list, err := s.opts.Store.ClubEvents(ctx, clubID, s.now().Add(-LiveFor), 2*limit)
	if err != nil {
		return nil, err
	}
	return s.filter(ctx, viewer, s.current(list), limit)
}

// Visible keeps the events of list that viewer may see, at most limit: the search
// results.
func (s *Service) Visible(ctx context.Context, viewer string, list []Event, limit int) ([]Event, error) {
	return s.filter(ctx, viewer, list, limit)
}
