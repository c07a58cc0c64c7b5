package event

import (
	"time"

	ics "github.com/arran4/golang-ical"
)

// DefaultLength is the length an event gets in a calendar: townhall events have
// a start but no planned end.
const DefaultLength = time.Hour

// CalendarInfo is what an iCalendar export says besides the event itself.
type CalendarInfo struct {
	URL      string // the event's page
	HostName string // the host's display name
	HostURL  string // the host's profile page, the organizer's address
	Domain   string // names the UID's right-hand side, e.g. "townhall.example"
	ClubName string // "" for none
}

// ICS exports e as an iCalendar object (RFC 5545) with one VEVENT: start in UTC
// (the host's time zone rides along as X-WR-TIMEZONE), an hour long, cancelled
// events with STATUS:CANCELLED so calendars that imported it drop it.
func ICS(e Event, info CalendarInfo) []byte {
	cal := ics.NewCalendarFor("townhall")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRTimezone(e.TimeZone)
	v := cal.AddEvent(e.ID + "@" + info.Domain)
	v.SetDtStampTime(e.UpdatedAt)
	v.SetCreatedTime(e.CreatedAt)
	v.SetModifiedAt(e.UpdatedAt)
	v.SetStartAt(e.StartsAt)
	v.SetEndAt(e.StartsAt.Add(DefaultLength))
	v.SetSummary(e.Title)
	desc := e.Description
	if info.ClubName != "" {
		desc += "\n\nA club event of " + info.ClubName + "."
	}
	if desc != "" {
		v.SetDescription(desc)
	}
	if info.URL != "" {
		v.SetURL(info.URL)
		v.SetLocation(info.URL)
	}
	if info.HostURL != "" {
		v.SetProperty(ics.ComponentPropertyOrganizer, info.HostURL, ics.WithCN(info.HostName))
	}
	status := ics.ObjectStatusConfirmed
	if e.Cancelled() {
		status = ics.ObjectStatusCancelled
	}
	v.SetStatus(status)
	return []byte(cal.Serialize())
}
