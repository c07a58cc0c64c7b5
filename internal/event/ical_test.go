package event_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	goical "github.com/emersion/go-ical"

	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/room"
)

func TestICS(t *testing.T) {
	e := event.Event{ID: "k7x3fkksqb4bflpaoo5vsszvp4", Title: "Jazz night, live; with \"guests\"",
		Description: "Records and talk.\nBring one; or two.", StartsAt: t0, TimeZone: "Europe/Paris",
		HostID: "host", RoomType: room.Open, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Minute)}
	info := event.CalendarInfo{URL: "https://townhall.example/events/" + e.ID, HostName: "Ada Lovelace",
		HostURL: "https://townhall.example/users/ada", Domain: "townhall.example", ClubName: "Late Night Jazz"}

	t.Run("the export parses with golang-ical and keeps the event", func(t *testing.T) {
		cal, err := ics.ParseCalendar(bytes.NewReader(event.ICS(e, info)))
		if err != nil {
			t.Fatal(err)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		v := evs[0]
		start, err := v.GetStartAt()
		if err != nil || !start.Equal(t0) {
			t.Fatalf("start = %v %v, want %v", start, err, t0)
		}
		end, err := v.GetEndAt()
		if err != nil || !end.Equal(t0.Add(event.DefaultLength)) {
			t.Fatalf("end = %v %v", end, err)
		}
		if got := v.GetProperty(ics.ComponentPropertySummary).Value; got != e.Title {
			t.Fatalf("summary = %q, want %q", got, e.Title)
		}
		if got := v.GetProperty(ics.ComponentPropertyDescription).Value; !strings.HasPrefix(got, e.Description) {
			t.Fatalf("description = %q", got)
		}
		if got := v.Id(); got != e.ID+"@townhall.example" {
			t.Fatalf("uid = %q", got)
		}
		if got := v.GetProperty(ics.ComponentPropertyStatus).Value; got != "CONFIRMED" {
			t.Fatalf("status = %q", got)
		}
	})

	t.Run("the export parses with go-ical, a second parser, and keeps the event", func(t *testing.T) {
		cancelled := e
		cancelled.CancelledAt = t0.Add(-time.Second)
		cal, err := goical.NewDecoder(bytes.NewReader(event.ICS(cancelled, info))).Decode()
		if err != nil {
			t.Fatal(err)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		v := evs[0]
		start, err := v.DateTimeStart(time.UTC)
		if err != nil || !start.Equal(t0) {
			t.Fatalf("start = %v %v, want %v", start, err, t0)
		}
		summary, err := v.Props.Text(goical.PropSummary)
		if err != nil || summary != e.Title {
			t.Fatalf("summary = %q %v, want %q", summary, err, e.Title)
		}
		desc, err := v.Props.Text(goical.PropDescription)
		if err != nil || !strings.HasPrefix(desc, e.Description) || !strings.Contains(desc, "Late Night Jazz") {
			t.Fatalf("description = %q %v", desc, err)
		}
		status, err := v.Status()
		if err != nil || status != goical.EventCancelled {
			t.Fatalf("status = %q %v, want CANCELLED", status, err)
		}
		if tz := cal.Props.Get("X-WR-TIMEZONE"); tz == nil || tz.Value != "Europe/Paris" {
			t.Fatalf("X-WR-TIMEZONE = %+v", tz)
		}
	})
}
