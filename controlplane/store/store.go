// Package store is the control plane's metadata store: connection profiles
// and tables, UDFs, pipelines, their jobs, checkpoints and job log
// messages, in SQLite (github.com/ncruces/go-sqlite3, WAL; the default, and
// what `arroyo run` keeps in <state-dir>/state.sqlite) or PostgreSQL
// (github.com/jackc/pgx/v5; production, shared by `arroyo api` and
// `arroyo controller`).
//
// Both go through database/sql and one set of versioned migrations
// (migrations/*.sql, embedded), run by Open; the few differences between
// the two dialects (placeholders, the integer key, byte strings) are
// rewritten by a small shim (dialect.go). Times are stored as microseconds
// since the Unix epoch, so both databases hold and order them alike.
//
// Records carry public IDs in Arroyo's form (pl_, job_, cp_, ct_, udf_,
// chk_ and a random base62 suffix). Lists are newest first; paginated
// lists take the ID of the last record of the previous page
// (Page.StartingAfter), as Arroyo's `starting_after`.
//
// The store keeps secrets (connection profile configs) as given: redacting
// them is the API's job, and nothing here logs or formats a config into an
// error.
//
// It must not import engine/dataflow, connectors, udf, cmd or the rest of
// controlplane.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is what errors.Is finds in an error for a record that does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is what errors.Is finds in an error for a write that
// conflicts with what is stored: a name already taken, or a record still
// referenced by another.
var ErrConflict = errors.New("conflict")

// Error is an ErrNotFound or ErrConflict with a message a person can act
// on ("pipeline 'pl_x' not found").
type Error struct {
	Kind error // ErrNotFound or ErrConflict
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func notFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf(format, args...) + " not found"}
}

// Config says which database to open: exactly one of SQLitePath and
// Postgres.
type Config struct {
	// SQLitePath is the SQLite database file, created if missing.
	SQLitePath string
	// Postgres is a PostgreSQL connection string (a URL
	// "postgres://user:pass@host:port/db?sslmode=disable" or key=value
	// pairs).
	Postgres string
}

// Store is an open metadata store; it is safe for concurrent use.
type Store struct {
	db      *sql.DB
	d       *dialect
	applied []int
	now     func() time.Time
}

// Open opens the database cfg names and brings its schema up to date (the
// migrations not yet applied run, in order, in one transaction each).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	var (
		d   *dialect
		db  *sql.DB
		err error
	)
	switch {
	case cfg.SQLitePath != "" && cfg.Postgres != "":
		return nil, errors.New("store: give either a SQLite path or a PostgreSQL connection string, not both")
	case cfg.SQLitePath != "":
		d = sqliteDialect
		db, err = openSQLite(cfg.SQLitePath)
	case cfg.Postgres != "":
		d = postgresDialect
		db, err = openPostgres(cfg.Postgres)
	default:
		return nil, errors.New("store: no database configured (a SQLite path or a PostgreSQL connection string)")
	}
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, d: d, now: time.Now}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", d.name, err)
	}
	if s.applied, err = s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Applied returns the versions of the migrations this Open applied (none
// when the schema was already up to date).
func (s *Store) Applied() []int { return append([]int(nil), s.applied...) }

// DB is the underlying database (for backups and tests); callers must not
// change the schema.
func (s *Store) DB() *sql.DB { return s.db }

// Page selects one page of a list: at most Limit records (0: all) after
// the record whose ID is StartingAfter (empty: from the newest).
type Page struct {
	Limit         int
	StartingAfter string
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idLen is the length of an ID's random part: 62^10 is about 8e17.
const idLen = 10

// NewID returns prefix followed by "_" and idLen random base62 characters.
func NewID(prefix string) string {
	out := make([]byte, 0, len(prefix)+1+idLen)
	out = append(out, prefix...)
	out = append(out, '_')
	var buf [32]byte
	for len(out) < cap(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character
			// equally likely.
			if b < 248 && len(out) < cap(out) {
				out = append(out, idAlphabet[b%62])
			}
		}
	}
	return string(out)
}

// ID prefixes, as Arroyo's.
const (
	PrefixPipeline   = "pl"
	PrefixJob        = "job"
	PrefixProfile    = "cp"
	PrefixTable      = "ct"
	PrefixUDF        = "udf"
	PrefixCheckpoint = "chk"
	PrefixJobLog     = "jlm"
)

// micros converts a time to stored microseconds; the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// stamp is now, at the stored precision, so that what a Create returns
// equals what a Get reads back.
func (s *Store) stamp() time.Time { return time.UnixMicro(s.now().UnixMicro()).UTC() }

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// rawText stores a JSON document; nil or empty is stored as def.
func rawText(m json.RawMessage, def string) (string, error) {
	if len(m) == 0 {
		return def, nil
	}
	if !json.Valid(m) {
		return "", errors.New("not valid JSON")
	}
	return string(m), nil
}

// exec runs a statement outside a transaction.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.d.rebind(q), args...)
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result, err error, what func() error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return what()
	}
	return nil
}

// page appends the keyset condition and the order of a paginated list of
// table, newest first, to q (which ends in a WHERE clause's conditions or
// "WHERE 1=1"); it returns the query, its extra arguments and the limit to
// ask for (one more than the page, to know whether there are more).
func (s *Store) page(ctx context.Context, table, q string, args []any, p Page) (string, []any, error) {
	if p.StartingAfter != "" {
		var seq int64
		err := s.queryRow(ctx, "SELECT seq FROM "+table+" WHERE id = ?", p.StartingAfter).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, notFound("starting_after: %s '%s'", entityName(table), p.StartingAfter)
		}
		if err != nil {
			return "", nil, err
		}
		q += " AND seq < ?"
		args = append(args, seq)
	}
	q += " ORDER BY seq DESC"
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit+1)
	}
	return q, args, nil
}

// trim cuts a list fetched with page to the page and says whether there
// were more.
func trim[T any](items []T, p Page) ([]T, bool) {
	if p.Limit > 0 && len(items) > p.Limit {
		return items[:p.Limit], true
	}
	return items, false
}

func entityName(table string) string {
	switch table {
	case "pipelines":
		return "pipeline"
	case "connection_tables":
		return "connection table"
	case "connection_profiles":
		return "connection profile"
	case "udfs":
		return "udf"
	case "jobs":
		return "job"
	case "job_log_messages":
		return "job log message"
	}
	return table
}
