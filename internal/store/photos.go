package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/townhall/townhall/internal/photo"
)

// SetPhoto makes set, named hash, the photo of user: its images are stored, the
// user's photo points at them, and the images of their previous photo go, in
// one transaction. ErrNotFound for an unknown or deleted user.
func (db *DB) SetPhoto(ctx context.Context, user, hash string, set photo.Set, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET photo = ? WHERE id = ? AND deleted_at IS NULL`, hash, user)
		if err := affectedOne("set photo", res, err); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM photos WHERE user_id = ? AND hash <> ?`, user, hash); err != nil {
			return wrap("set photo: delete the old one", err)
		}
		for _, im := range set.Images {
			_, err := db.exec(ctx, tx, `INSERT INTO photos (hash, size, user_id, content_type, data, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash, size) DO NOTHING`,
				hash, im.Size, user, photo.ContentType, im.Data, millis(at))
			if err != nil {
				return wrap("set photo", err)
			}
		}
		return nil
	})
}

// ClearPhoto removes user's photo (idempotent); ErrNotFound for an unknown user.
func (db *DB) ClearPhoto(ctx context.Context, user string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET photo = NULL WHERE id = ?`, user)
		if err := affectedOne("clear photo", res, err); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `DELETE FROM photos WHERE user_id = ?`, user)
		return wrap("clear photo", err)
	})
}

// Photo returns the image of the photo named hash at size pixels and its
// content type, or ErrNotFound.
func (db *DB) Photo(ctx context.Context, hash string, size int) ([]byte, string, error) {
	var (
		data []byte
		ct   string
	)
	err := db.queryRow(ctx, db.sql, `SELECT data, content_type FROM photos WHERE hash = ? AND size = ?`, hash, size).Scan(&data, &ct)
	if err != nil {
		return nil, "", notFound("photo", err)
	}
	return data, ct, nil
}
