package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/moderation"
)

var _ moderation.Store = (*DB)(nil)

const reportColumns = "id, reporter_id, kind, target_id, subject_id, reason, details, context, created_at, resolved_at, resolved_by, resolution"

func scanReport(row scanner) (moderation.Report, error) {
	var (
		r            moderation.Report
		subject, by  sql.NullString
		context      string
		created      int64
		resolved     sql.NullInt64
		kind, reason string
	)
	if err := row.Scan(&r.ID, &r.ReporterID, &kind, &r.TargetID, &subject, &reason, &r.Details, &context,
		&created, &resolved, &by, &r.Resolution); err != nil {
		return moderation.Report{}, err
	}
	r.Kind, r.Reason = moderation.Kind(kind), moderation.Reason(reason)
	r.SubjectID, r.ResolvedBy = subject.String, by.String
	r.Context = []byte(context)
	r.CreatedAt, r.ResolvedAt = fromMillis(created), fromNullMillis(resolved)
	return r, nil
}

// CreateReport stores r; ErrNotFound if its reporter or subject is no user.
func (db *DB) CreateReport(ctx context.Context, r moderation.Report) error {
	if err := checkID("create report", r.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO reports (`+reportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, '')`,
			r.ID, r.ReporterID, string(r.Kind), r.TargetID, nullString(r.SubjectID), string(r.Reason), r.Details,
			string(r.Context), millis(r.CreatedAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("create report", err)
	})
}

// ReportByID returns one report, or ErrNotFound.
func (db *DB) ReportByID(ctx context.Context, id string) (moderation.Report, error) {
	r, err := scanReport(db.queryRow(ctx, db.sql, `SELECT `+reportColumns+` FROM reports WHERE id = ?`, id))
	return r, notFound("report by id", err)
}

// Reports lists reports newest first after the cursor, only the open ones when
// open is set; next is the zero Cursor at the end.
func (db *DB) Reports(ctx context.Context, open bool, after account.Cursor, limit int) ([]moderation.Report, account.Cursor, error) {
	if err := checkLimit("reports", limit); err != nil {
		return nil, account.Cursor{}, err
	}
	where, args := "1 = 1", []any{}
	if open {
		where = "resolved_at IS NULL"
	}
	if !after.IsZero() {
		where += " AND (created_at < ? OR created_at = ? AND id < ?)"
		args = append(args, millis(after.At), millis(after.At), after.ID)
	}
	rows, err := db.query(ctx, db.sql, `SELECT `+reportColumns+` FROM reports WHERE `+where+`
		ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, account.Cursor{}, wrap("reports", err)
	}
	defer rows.Close()
	var out []moderation.Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, account.Cursor{}, wrap("reports", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, account.Cursor{}, wrap("reports", err)
	}
	var next account.Cursor
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = account.Cursor{At: last.CreatedAt, ID: last.ID}
	}
	return out, next, nil
}

// ResolveReport marks an open report handled.
func (db *DB) ResolveReport(ctx context.Context, id, by, resolution string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE reports SET resolved_at = ?, resolved_by = ?, resolution = ?
			WHERE id = ? AND resolved_at IS NULL`, millis(at), by, resolution, id)
		if err := affectedOne("resolve report", res, err); !errors.Is(err, account.ErrNotFound) {
			return err
		}
		var n int
		if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM reports WHERE id = ?`, id).Scan(&n); err != nil {
			return wrap("resolve report", err)
		}
		if n == 0 {
			return account.ErrNotFound
		}
		return moderation.ErrResolved
	})
}

// OpenReports counts the reports nobody handled yet.
func (db *DB) OpenReports(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, db.sql, `SELECT COUNT(*) FROM reports WHERE resolved_at IS NULL`).Scan(&n)
	return n, wrap("open reports", err)
}

// AddAdminEntry writes one line of the admins' audit log.
func (db *DB) AddAdminEntry(ctx context.Context, e moderation.Entry) error {
	if err := checkID("admin log", e.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO admin_log (id, admin_id, action, target, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
			e.ID, e.AdminID, e.Action, e.Target, e.Detail, millis(e.At))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("admin log", err)
	})
}

// AdminLog lists the audit log newest first after the cursor.
func (db *DB) AdminLog(ctx context.Context, after account.Cursor, limit int) ([]moderation.Entry, account.Cursor, error) {
	if err := checkLimit("admin log", limit); err != nil {
		return nil, account.Cursor{}, err
	}
	where, args := "1 = 1", []any{}
	if !after.IsZero() {
		where = "(at < ? OR at = ? AND id < ?)"
		args = append(args, millis(after.At), millis(after.At), after.ID)
	}
	rows, err := db.query(ctx, db.sql, `SELECT id, admin_id, action, target, detail, at FROM admin_log WHERE `+where+`
		ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, account.Cursor{}, wrap("admin log", err)
	}
	defer rows.Close()
	var out []moderation.Entry
	for rows.Next() {
		var (
			e  moderation.Entry
			at int64
		)
		if err := rows.Scan(&e.ID, &e.AdminID, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, account.Cursor{}, wrap("admin log", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, account.Cursor{}, wrap("admin log", err)
	}
	var next account.Cursor
	if len(out) > limit {
		out = out[:limit]
		next = account.Cursor{At: out[limit-1].At, ID: out[limit-1].ID}
	}
	return out, next, nil
}
