package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" driver
)

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// dollar: placeholders are $1, $2... (PostgreSQL) rather than ?.
	dollar bool
	// types rewrites the type macros of the migrations.
	types *strings.Replacer
}

var (
	sqliteDialect = &dialect{
		name:  "sqlite",
		types: strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BLOB}}", "BLOB"),
	}
	postgresDialect = &dialect{
		name:   "postgres",
		dollar: true,
		types:  strings.NewReplacer("{{ID}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "{{BLOB}}", "BYTEA"),
	}
)

// rebind rewrites ? placeholders as $n for PostgreSQL. The store's queries
// have no ? inside string literals.
func (d *dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func openSQLite(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path %s: %w", path, err)
	}
	// Every connection: wait for a writer instead of failing at once,
	// enforce foreign keys, WAL (readers do not block the writer), and
	// take the write lock when a transaction starts (a deferred
	// transaction that upgrades fails with SQLITE_BUSY regardless of the
	// timeout).
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		// pgx's parse errors may quote the connection string, password
		// included: say only that it is malformed.
		return nil, errors.New("store: malformed PostgreSQL connection string")
	}
	return db, nil
}

// classify turns a constraint violation into ErrConflict, or, for a
// reference to a missing record on insert, ErrNotFound. unique and ref
// describe the record for the message ("a pipeline named 'x'").
func classify(err error, unique, missingRef, inUse string) error {
	if err == nil {
		return nil
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode() {
		case sqlite3.CONSTRAINT_UNIQUE, sqlite3.CONSTRAINT_PRIMARYKEY:
			return &Error{Kind: ErrConflict, Msg: unique + " already exists"}
		case sqlite3.CONSTRAINT_FOREIGNKEY:
			return fkError(missingRef, inUse)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &Error{Kind: ErrConflict, Msg: unique + " already exists"}
		case "23503":
			return fkError(missingRef, inUse)
		}
	}
	return err
}

func fkError(missingRef, inUse string) error {
	if missingRef != "" {
		return &Error{Kind: ErrNotFound, Msg: missingRef + " not found"}
	}
	return &Error{Kind: ErrConflict, Msg: inUse}
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string // with the type macros, before the dialect rewrites them
}

// Migrations returns the embedded migrations in version order. A file is
// named NNNN_name.sql.
func Migrations() ([]Migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %s: want NNNN_name.sql", name)
		}
		text, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: two migrations have version %d", out[i].Version)
		}
	}
	return out, nil
}

// statements splits a migration into statements: each ends with ';' at
// the end of a line; lines starting with -- are comments.
func statements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction with its record, so a failed one leaves the
// schema at the previous version. Concurrent Opens (two processes on one
// PostgreSQL) serialise on an advisory lock; on SQLite the immediate
// transaction holds the write lock.
func (s *Store) migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return s.migrateWith(ctx, ms)
}

func (s *Store) migrateWith(ctx context.Context, ms []Migration) ([]int, error) {
	if _, err := s.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range ms {
		did, err := s.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("store: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if did {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

func (s *Store) apply(ctx context.Context, m Migration) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.d.dollar {
		// 0x6172726f796f = "arroyo"
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(107135076382575)"); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for _, stmt := range statements(s.d.types.Replace(m.SQL)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.Version, m.Name, s.now().UnixMicro()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// SchemaVersion returns the highest applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.queryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}
