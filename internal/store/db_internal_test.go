package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a query without placeholders is left alone", "SELECT 1", "SELECT 1"},
		{"placeholders are numbered in order", "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"ten and more placeholders get two digits", strings.Repeat("?,", 11), "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rebindDollar(tc.in); got != tc.want {
				t.Fatalf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
			}
			sq := &DB{driver: SQLite}
			if got := sq.rebind(tc.in); got != tc.in {
				t.Fatalf("sqlite rebind changed %q to %q", tc.in, got)
			}
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	t.Run("every pooled connection runs with WAL, foreign keys, full sync and a busy timeout", func(t *testing.T) {
		ctx := context.Background()
		db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Hold two connections at once, so that both cannot be the same one.
		for i := range 2 {
			conn, err := db.sql.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for pragma, want := range map[string]string{
				"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "10000",
			} {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, pragma, got, want)
				}
			}
		}
	})
}
