package room

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/ids"
)

// Type says who may join a room.
type Type string

// The room types.
const (
	// Open rooms take any signed-in user, and guests if the room allows them.
	Open Type = "open"
	// Social rooms take people a moderator in the room follows, and invited people.
	Social Type = "social"
	// Closed rooms take only the creator and the people invited with InviteMembers.
	Closed Type = "closed"
)

// Limits of a room's text.
const (
	// MaxTitleRunes is the longest title, in characters.
	MaxTitleRunes = 80
	// MaxDescriptionRunes is the longest description, in characters.
	MaxDescriptionRunes = 500
)

// Config is what a room is created with; it never changes afterwards.
type Config struct {
	ID          string // made by ids.New
	Title       string // 1 to MaxTitleRunes characters, not blank
	Description string // at most MaxDescriptionRunes characters; may be empty
	Type        Type
	AllowGuests bool   // open rooms only: guests may join, to listen
	CreatorID   string // the first moderator; a user ID made by ids.New
	// MaxParticipants caps the people present at once (stage and audience, guests
	// included); 0 means no limit.
	MaxParticipants int
	// MaxGuests caps the guests present at once; MaxGuestsPerAddr caps those who
	// come from one network address (Join.Addr). 0 means no limit.
	MaxGuests        int
	MaxGuestsPerAddr int
	CreatedAt        time.Time

	// CoHosts are users who run the room with the creator: each of their joins puts
	// them on stage as a moderator, and any of them may open the room in place of
	// the creator. They are members of the conversation (a closed room takes them).
	// The co-hosts of a scheduled event, and the delegates of the creator with the
	// "rooms" scope, who moderate while speaking as themselves. At most MaxInvitees
	// IDs made by ids.New, without the creator and without repeats. The stage's
	// block rule holds for them as for anyone (see Join).
	CoHosts []string
	// Speakers are invited on stage from the start, as a moderator's
	// InviteMembers{ToStage: true} would: their first join puts them on stage as
	// speakers, unless the stage's block rule keeps them in the audience (see
	// Join). The invited guests of a scheduled event. Same limits as CoHosts, and
	// no one in both lists.
	Speakers []string
	// ClubID names the club the room belongs to ("" for none). The room layer only
	// carries it, for the hallway and MembersOnly.
	ClubID string
	// MembersOnly lets only members of the club ClubID join (Join.ClubMember), besides
	// the creator, the co-hosts and invited people. Needs a ClubID; takes no guests.
	MembersOnly bool
	// Chat is who may write in the room's chat at first; "" for DefaultChat of the
	// room's Type. KeepChat keeps the chat with the room's history once it ends
	// (the host's choice); otherwise it goes with the room.
	Chat     ChatMode `json:",omitempty"`
	KeepChat bool     `json:",omitempty"`
	// Record records the room from its opening to its end, for a replay (the
	// host's choice when creating it, never later: everyone is told before they
	// join, and a listener before they accept to speak, by the room's views,
	// which say recorded). AllowClips lets listeners keep its last moments as
	// clips; it needs Record.
	Record     bool `json:",omitempty"`
	AllowClips bool `json:",omitempty"`
	// Captions captions the replay (speech to text); it needs Record.
	Captions bool `json:",omitempty"`
}

// Validate reports the first thing wrong with c, as one of the Err* values of this
// package with the invalid_field code, or nil.
func (c Config) Validate() error {
	switch {
	case !ids.Valid(c.ID):
		return ErrInvalidRoomID
	case !ids.Valid(c.CreatorID):
		return ErrInvalidCreatorID
	case strings.TrimSpace(c.Title) == "" || !validText(c.Title, MaxTitleRunes, ""):
		return ErrInvalidTitle
	case !validText(c.Description, MaxDescriptionRunes, "\n\t"):
		return ErrInvalidDescription
	case c.Type != Open && c.Type != Social && c.Type != Closed:
		return ErrInvalidType
	case c.AllowGuests && c.Type != Open:
		return ErrGuestsOnlyOpen
	case c.MaxParticipants < 0 || c.MaxGuests < 0 || c.MaxGuestsPerAddr < 0:
		return ErrInvalidMaxParticipants
	case c.MembersOnly && (c.ClubID == "" || c.AllowGuests):
		return ErrMembersOnlyClub
	case c.ClubID != "" && !ids.Valid(c.ClubID):
		return ErrInvalidClubID
	case c.Chat != "" && !c.Chat.valid():
		return ErrInvalidChat
	case (c.AllowClips || c.Captions) && !c.Record:
		return ErrClipsNeedRecord
	}
	return c.validateHosts()
}

// validateHosts checks CoHosts and Speakers: valid IDs, at most MaxInvitees each,
// never the creator, nobody twice.
func (c Config) validateHosts() error {
	if len(c.CoHosts) > MaxInvitees || len(c.Speakers) > MaxInvitees {
		return ErrInvalidHosts
	}
	seen := map[string]bool{c.CreatorID: true}
	for _, u := range slices.Concat(c.CoHosts, c.Speakers) {
		if !ids.Valid(u) || seen[u] {
			return ErrInvalidHosts
		}
		seen[u] = true
	}
	return nil
}

// isCoHost reports whether u is one of the room's co-hosts.
func (c Config) isCoHost(u string) bool { return slices.Contains(c.CoHosts, u) }

// validText reports whether s is valid UTF-8 of at most max runes, without control
// characters other than those in allowed.
func validText(s string, max int, allowed string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}
