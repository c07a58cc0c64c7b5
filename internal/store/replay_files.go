package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/replay"
)

var _ replay.Files = (*DB)(nil)

// ChunkSize is the size of the pieces a replay's file is stored in: a range
// request reads the chunks it covers, never the whole file.
const ChunkSize = 256 << 10

// PutFile stores what r reads as the file name of roomID's replay, replacing
// one of that name, in one transaction (a reader never sees half a file), and
// returns its size. ErrNotFound for an unknown room.
func (db *DB) PutFile(ctx context.Context, roomID, name string, r io.Reader) (int64, error) {
	if err := checkID("put file", roomID); err != nil {
		return 0, err
	}
	var size int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		size = 0
		if _, err := db.exec(ctx, tx, `DELETE FROM replay_files WHERE name = ?`, name); err != nil {
			return wrap("put file", err)
		}
		_, err := db.exec(ctx, tx, `INSERT INTO replay_files (name, room_id, size, created_at) VALUES (?, ?, 0, ?)`,
			name, roomID, millis(time.Now()))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("put file", err)
		}
		buf := make([]byte, ChunkSize)
		for seq := 0; ; seq++ {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 {
				if _, err := db.exec(ctx, tx, `INSERT INTO replay_chunks (name, seq, data) VALUES (?, ?, ?)`,
					name, seq, buf[:n]); err != nil {
					return wrap("put file", err)
				}
				size += int64(n)
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				return fmt.Errorf("store: put file: %w", rerr)
			}
		}
		_, err = db.exec(ctx, tx, `UPDATE replay_files SET size = ? WHERE name = ?`, size, name)
		return wrap("put file", err)
	})
	return size, err
}

// OpenFile opens the stored file name for reading and seeking (what
// http.ServeContent needs), or returns ErrNotFound. Each read fetches the one
// chunk it falls in; the file must be read within ctx.
func (db *DB) OpenFile(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	var size int64
	if err := db.queryRow(ctx, db.sql, `SELECT size FROM replay_files WHERE name = ?`, name).Scan(&size); err != nil {
		return nil, notFound("open file", err)
	}
	return &fileReader{ctx: ctx, db: db, name: name, size: size, seq: -1}, nil
}

// DeleteFile removes the stored file name; ErrNotFound if there is none.
func (db *DB) DeleteFile(ctx context.Context, name string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM replay_files WHERE name = ?`, name)
		return affectedOne("delete file", res, err)
	})
}

// FileCount counts the stored files of roomID (for tests and checks: that a
// deleted replay left nothing behind).
func (db *DB) FileCount(ctx context.Context, roomID string) (files, chunks int, err error) {
	err = db.queryRow(ctx, db.sql, `SELECT COUNT(*), (SELECT COUNT(*) FROM replay_chunks c JOIN replay_files f ON c.name = f.name
		WHERE f.room_id = ?) FROM replay_files WHERE room_id = ?`, roomID, roomID).Scan(&files, &chunks)
	return files, chunks, wrap("file count", err)
}

// fileReader reads a stored file chunk by chunk. It keeps the context it was
// opened with, against the rule, because io.ReadSeeker has no place for one: it
// lives for one request and reads within that request's context.
type fileReader struct {
	ctx  context.Context
	db   *DB
	name string
	size int64
	off  int64
	seq  int64  // the chunk in buf, -1 for none
	buf  []byte // chunk seq
}

// Read reads from the chunk the offset falls in, fetching it if it is not the
// one held.
func (f *fileReader) Read(p []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	seq := f.off / ChunkSize
	if seq != f.seq {
		var data []byte
		err := f.db.queryRow(f.ctx, f.db.sql, `SELECT data FROM replay_chunks WHERE name = ? AND seq = ?`, f.name, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) { // deleted while read
			return 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return 0, wrap("read file", err)
		}
		f.buf, f.seq = data, seq
	}
	at := int(f.off - seq*ChunkSize)
	if at >= len(f.buf) {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, f.buf[at:])
	f.off += int64(n)
	return n, nil
}

// Seek sets the offset of the next Read (io.Seeker).
func (f *fileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return f.off, fmt.Errorf("store: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return f.off, fmt.Errorf("store: seek to %d, before the start", offset)
	}
	f.off = offset
	return offset, nil
}

// Close lets the chunk held go.
func (f *fileReader) Close() error {
	f.buf, f.seq = nil, -1
	return nil
}
