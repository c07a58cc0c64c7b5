package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
)

var _ club.Store = (*DB)(nil)

// clubSelect selects clubs with their member counts; append WHERE ...
const clubSelect = `SELECT c.id, c.name, c.description, c.rules, c.approval, c.created_by, c.created_at,
	(SELECT COUNT(*) FROM club_members m WHERE m.club_id = c.id) FROM clubs c`

func scanClub(row scanner, extra ...any) (club.Club, error) {
	var (
		c       club.Club
		created int64
	)
	dest := append([]any{&c.ID, &c.Name, &c.Description, &c.Rules, &c.Approval, &c.CreatedBy, &created, &c.Members}, extra...)
	if err := row.Scan(dest...); err != nil {
		return club.Club{}, err
	}
	c.CreatedAt = fromMillis(created)
	return c, nil
}

// clubNotFound maps a missing row to club.ErrNotFound.
func clubNotFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return club.ErrNotFound
	}
	return wrap(op, err)
}

// CreateClub stores c with its creator as its first admin, in one transaction.
// club.ErrNameTaken if another club has the name in any case; account.ErrNotFound
// if the creator does not exist.
func (db *DB) CreateClub(ctx context.Context, c club.Club) error {
	if err := checkID("create club", c.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO clubs (id, name, name_key, description, rules, approval, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Name, strings.ToLower(c.Name), c.Description, c.Rules, c.Approval,
			c.CreatedBy, millis(c.CreatedAt))
		switch {
		case isUniqueViolation(err):
			return club.ErrNameTaken
		case isForeignKeyViolation(err):
			return account.ErrNotFound
		case err != nil:
			return wrap("create club", err)
		}
		_, err = db.exec(ctx, tx, `INSERT INTO club_members (club_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
			c.ID, c.CreatedBy, string(club.RoleAdmin), millis(c.CreatedAt))
		return wrap("create club: first admin", err)
	})
}

// ClubByID returns a club with its member count, or club.ErrNotFound.
func (db *DB) ClubByID(ctx context.Context, id string) (club.Club, error) {
	c, err := scanClub(db.queryRow(ctx, db.sql, clubSelect+` WHERE c.id = ?`, id))
	return c, clubNotFound("club by id", err)
}

// UpdateClub changes a club's name, description, rules and approval.
// club.ErrNameTaken if the new name is another club's; club.ErrNotFound.
func (db *DB) UpdateClub(ctx context.Context, c club.Club) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE clubs SET name = ?, name_key = ?, description = ?, rules = ?, approval = ?
			WHERE id = ?`, c.Name, strings.ToLower(c.Name), c.Description, c.Rules, c.Approval, c.ID)
		if isUniqueViolation(err) {
			return club.ErrNameTaken
		}
		if err := affectedOne("update club", res, err); err != nil {
			if errors.Is(err, account.ErrNotFound) {
				return club.ErrNotFound
			}
			return err
		}
		return nil
	})
}

// ClubsOf lists the clubs userID belongs to with their role, by name.
func (db *DB) ClubsOf(ctx context.Context, userID string) ([]club.Membership, error) {
	rows, err := db.query(ctx, db.sql, `SELECT c.id, c.name, c.description, c.rules, c.approval, c.created_by, c.created_at,
		(SELECT COUNT(*) FROM club_members x WHERE x.club_id = c.id), m.role
		FROM club_members m JOIN clubs c ON c.id = m.club_id
		WHERE m.user_id = ? ORDER BY c.name_key, c.id`, userID)
	if err != nil {
		return nil, wrap("clubs of", err)
	}
	defer rows.Close()
	var out []club.Membership
	for rows.Next() {
		var role string
		c, err := scanClub(rows, &role)
		if err != nil {
			return nil, wrap("clubs of", err)
		}
		out = append(out, club.Membership{Club: c, Role: club.Role(role)})
	}
	return out, wrap("clubs of", rows.Err())
}

func scanMember(row scanner) (club.Member, error) {
	var (
		m      club.Member
		role   string
		joined int64
	)
	if err := row.Scan(&m.ClubID, &m.UserID, &role, &joined); err != nil {
		return club.Member{}, err
	}
	m.Role, m.JoinedAt = club.Role(role), fromMillis(joined)
	return m, nil
}

// ClubMember returns userID's membership of clubID, or club.ErrNotMember.
func (db *DB) ClubMember(ctx context.Context, clubID, userID string) (club.Member, error) {
	m, err := scanMember(db.queryRow(ctx, db.sql, `SELECT club_id, user_id, role, joined_at FROM club_members
		WHERE club_id = ? AND user_id = ?`, clubID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return club.Member{}, club.ErrNotMember
	}
	return m, wrap("club member", err)
}

// ClubMembers lists a club's members: admins, then leaders, then members, each by
// who joined first. ErrInvalid for a limit below one.
func (db *DB) ClubMembers(ctx context.Context, clubID string, limit int) ([]club.Member, error) {
	if err := checkLimit("club members", limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, `SELECT club_id, user_id, role, joined_at FROM club_members WHERE club_id = ?
		ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'leader' THEN 1 ELSE 2 END, joined_at, user_id LIMIT ?`, clubID, limit)
	if err != nil {
		return nil, wrap("club members", err)
	}
	defer rows.Close()
	var out []club.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, wrap("club members", err)
		}
		out = append(out, m)
	}
	return out, wrap("club members", rows.Err())
}

// AddClubMember adds m and drops any pending request of theirs, in one
// transaction. club.ErrAlreadyIn if they are a member; club.ErrNotFound for an
// unknown club, account.ErrNotFound for an unknown user.
func (db *DB) AddClubMember(ctx context.Context, m club.Member) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		return db.addClubMember(ctx, tx, m)
	})
}

func (db *DB) addClubMember(ctx context.Context, tx *sql.Tx, m club.Member) error {
	if err := db.lockClub(ctx, tx, m.ClubID); err != nil {
		return err
	}
	_, err := db.exec(ctx, tx, `INSERT INTO club_members (club_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
		m.ClubID, m.UserID, string(m.Role), millis(m.JoinedAt))
	switch {
	case isUniqueViolation(err):
		return club.ErrAlreadyIn
	case isForeignKeyViolation(err):
		return account.ErrNotFound
	case err != nil:
		return wrap("add club member", err)
	}
	_, err = db.exec(ctx, tx, `DELETE FROM club_requests WHERE club_id = ? AND user_id = ?`, m.ClubID, m.UserID)
	return wrap("add club member: drop request", err)
}

// lockClub checks the club exists and, on Postgres, locks its row so that
// changes to its members take turns (the last-admin rule reads, then writes).
func (db *DB) lockClub(ctx context.Context, tx *sql.Tx, clubID string) error {
	var one int
	err := db.queryRow(ctx, tx, `SELECT 1 FROM clubs WHERE id = ?`+db.lockRows("FOR NO KEY UPDATE"), clubID).Scan(&one)
	return clubNotFound("lock club", err)
}

// otherAdmins counts the club's admins other than userID.
func (db *DB) otherAdmins(ctx context.Context, tx *sql.Tx, clubID, userID string) (int, error) {
	var n int
	err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM club_members WHERE club_id = ? AND role = 'admin' AND user_id <> ?`,
		clubID, userID).Scan(&n)
	return n, wrap("count admins", err)
}

// SetClubRole changes a member's role. club.ErrLastAdmin if that would leave the
// club without an admin; club.ErrNotMember.
func (db *DB) SetClubRole(ctx context.Context, clubID, userID string, role club.Role) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockClub(ctx, tx, clubID); err != nil {
			return err
		}
		if role != club.RoleAdmin {
			n, err := db.otherAdmins(ctx, tx, clubID, userID)
			if err != nil {
				return err
			}
			if n == 0 {
				if _, err := db.memberIn(ctx, tx, clubID, userID); err != nil {
					return err
				}
				return club.ErrLastAdmin
			}
		}
		res, err := db.exec(ctx, tx, `UPDATE club_members SET role = ? WHERE club_id = ? AND user_id = ?`,
			string(role), clubID, userID)
		return memberAffected("set club role", res, err)
	})
}

// memberIn returns userID's role inside tx, or club.ErrNotMember.
func (db *DB) memberIn(ctx context.Context, tx *sql.Tx, clubID, userID string) (string, error) {
	var role string
	err := db.queryRow(ctx, tx, `SELECT role FROM club_members WHERE club_id = ? AND user_id = ?`, clubID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", club.ErrNotMember
	}
	return role, wrap("member", err)
}

func memberAffected(op string, res sql.Result, err error) error {
	if err := affectedOne(op, res, err); err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return club.ErrNotMember
		}
		return err
	}
	return nil
}

// RemoveClubMember removes a member. club.ErrLastAdmin if they are the club's last
// admin; club.ErrNotMember.
func (db *DB) RemoveClubMember(ctx context.Context, clubID, userID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockClub(ctx, tx, clubID); err != nil {
			return err
		}
		role, err := db.memberIn(ctx, tx, clubID, userID)
		if err != nil {
			return err
		}
		if role == string(club.RoleAdmin) {
			n, err := db.otherAdmins(ctx, tx, clubID, userID)
			if err != nil {
				return err
			}
			if n == 0 {
				return club.ErrLastAdmin
			}
		}
		res, err := db.exec(ctx, tx, `DELETE FROM club_members WHERE club_id = ? AND user_id = ?`, clubID, userID)
		return memberAffected("remove club member", res, err)
	})
}

// AddClubRequest stores a pending request to join. club.ErrPending if one is
// pending, club.ErrAlreadyIn for a member, club.ErrNotFound for an unknown club.
func (db *DB) AddClubRequest(ctx context.Context, r club.Request) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockClub(ctx, tx, r.ClubID); err != nil {
			return err
		}
		if _, err := db.memberIn(ctx, tx, r.ClubID, r.UserID); err == nil {
			return club.ErrAlreadyIn
		} else if !errors.Is(err, club.ErrNotMember) {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO club_requests (club_id, user_id, created_at) VALUES (?, ?, ?)`,
			r.ClubID, r.UserID, millis(r.CreatedAt))
		switch {
		case isUniqueViolation(err):
			return club.ErrPending
		case isForeignKeyViolation(err):
			return account.ErrNotFound
		}
		return wrap("add club request", err)
	})
}

// ClubRequests lists a club's pending requests, oldest first.
func (db *DB) ClubRequests(ctx context.Context, clubID string, limit int) ([]club.Request, error) {
	if err := checkLimit("club requests", limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, `SELECT club_id, user_id, created_at FROM club_requests WHERE club_id = ?
		ORDER BY created_at, user_id LIMIT ?`, clubID, limit)
	if err != nil {
		return nil, wrap("club requests", err)
	}
	defer rows.Close()
	var out []club.Request
	for rows.Next() {
		var (
			r  club.Request
			at int64
		)
		if err := rows.Scan(&r.ClubID, &r.UserID, &at); err != nil {
			return nil, wrap("club requests", err)
		}
		r.CreatedAt = fromMillis(at)
		out = append(out, r)
	}
	return out, wrap("club requests", rows.Err())
}

// DecideClubRequest deletes a pending request and, if approve, makes its user a
// member joined at at, in one transaction. club.ErrNoRequest if none is pending.
func (db *DB) DecideClubRequest(ctx context.Context, clubID, userID string, approve bool, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM club_requests WHERE club_id = ? AND user_id = ?`, clubID, userID)
		if err := affectedOne("decide club request", res, err); err != nil {
			if errors.Is(err, account.ErrNotFound) {
				return club.ErrNoRequest
			}
			return err
		}
		if !approve {
			return nil
		}
		return db.addClubMember(ctx, tx, club.Member{ClubID: clubID, UserID: userID, Role: club.RoleMember, JoinedAt: at})
	})
}
