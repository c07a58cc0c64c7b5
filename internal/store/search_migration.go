package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// searchMigrationVersion is the place of the full-text search migration in the one
// sequence of migrations (after 00004_clubs_events.sql).
const searchMigrationVersion = 5

// searched names the tables search covers and their text columns.
var searched = []struct{ table, columns string }{
	{"users", "username, display_name"},
	{"clubs", "name, description"},
	{"events", "title, description"},
}

// sqliteSearchUp makes an FTS5 table per searched table, kept in step by
// triggers. Each holds the row's id (not its rowid, which VACUUM may renumber on
// a table without an INTEGER PRIMARY KEY); updates of the text and deletes find
// the FTS row by id, a scan of that one table, and only on those rare writes.
func sqliteSearchUp(table, columns string) []string {
	fts := table + "_fts"
	news := prefixed("new.", columns)
	return []string{
		fmt.Sprintf(`CREATE VIRTUAL TABLE %s USING fts5(id UNINDEXED, %s, tokenize = 'unicode61 remove_diacritics 0')`, fts, columns),
		fmt.Sprintf(`INSERT INTO %s (id, %s) SELECT id, %s FROM %s`, fts, columns, columns, table),
		fmt.Sprintf(`CREATE TRIGGER %s_ai AFTER INSERT ON %s BEGIN
			INSERT INTO %s (id, %s) VALUES (new.id, %s); END`, fts, table, fts, columns, news),
		fmt.Sprintf(`CREATE TRIGGER %s_au AFTER UPDATE OF %s ON %s BEGIN
			DELETE FROM %s WHERE id = old.id;
			INSERT INTO %s (id, %s) VALUES (new.id, %s); END`, fts, columns, table, fts, fts, columns, news),
		fmt.Sprintf(`CREATE TRIGGER %s_ad AFTER DELETE ON %s BEGIN
			DELETE FROM %s WHERE id = old.id; END`, fts, table, fts),
	}
}

// postgresSearchUp makes a GIN index over the simple-config tsvector of the text
// columns, the same expression the queries match against.
func postgresSearchUp(table, columns string) []string {
	return []string{fmt.Sprintf(`CREATE INDEX %s_search ON %s USING GIN (%s)`, table, table, tsvector(columns))}
}

// tsvector is the Postgres expression search indexes and matches for columns.
func tsvector(columns string) string {
	return "to_tsvector('simple', " + concatColumns(columns) + ")"
}

// searchMigration is migration 00005: full-text search, which SQLite and Postgres
// spell differently, hence a Go migration within the one sequence.
func (db *DB) searchMigration() *goose.Migration {
	run := func(down bool) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			for _, s := range searched {
				var stmts []string
				switch {
				case db.driver == Postgres && down:
					stmts = []string{`DROP INDEX ` + s.table + `_search`}
				case db.driver == Postgres:
					stmts = postgresSearchUp(s.table, s.columns)
				case down:
					stmts = []string{`DROP TABLE ` + s.table + `_fts`}
				default:
					stmts = sqliteSearchUp(s.table, s.columns)
				}
				for _, q := range stmts {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						return fmt.Errorf("search migration: %w", err)
					}
				}
			}
			return nil
		}
	}
	return goose.NewGoMigration(searchMigrationVersion, &goose.GoFunc{RunTx: run(false)}, &goose.GoFunc{RunTx: run(true)})
}

// prefixed qualifies each of the comma-separated columns with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

// concatColumns joins the columns into one text expression, words apart.
func concatColumns(columns string) string {
	return strings.ReplaceAll(columns, ", ", " || ' ' || ")
}
