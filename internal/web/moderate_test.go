package web_test

import (
	"fmt"
	"testing"
)

// TestAdminJoinsAClosedRoomAsModerator: (issue 17) a closed room an admin was
// not invited to is listed in /admin; "Join as moderator" lands them on its
// stage with the moderator's star and the room's settings, and the audit log
// says so.
func TestAdminJoinsAClosedRoomAsModerator(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	eve := ts.invite(t, admin, "eve")
	eve.rename(t, "Eve Host")
	roomID := liveRoom(t, eve, "Behind closed doors", "closed")

	b := newBrowser(t)
	adm := b.user("admin", ts.url)
	adm.login("admin")
	adm.click(`[data-testid=admin-tab]`)
	row := fmt.Sprintf(`[data-testid=rooms] [data-room-id=%q]`, roomID)
	adm.waitFor("the closed room in the list", fmt.Sprintf(`!!document.querySelector('%s [data-testid=moderate]')`, row))
	adm.click(row + ` [data-testid=moderate]`)
	adm.waitFor("the admin on stage as a moderator", fmt.Sprintf(`location.pathname === "/rooms/%s" &&
		!!document.querySelector('.stage-grid [data-user-id=%q] .mod-star') && !!document.querySelector("[aria-label='Room settings']")`, roomID, admin.ID))
	adm.waitText("Eve Host")
	adm.open("/admin")
	adm.waitFor("the audit log", `(document.querySelector("[data-testid=audit]")?.textContent || "").includes("joined to moderate the room")`)
}
