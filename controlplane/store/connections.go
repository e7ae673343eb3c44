package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ConnectionProfile is a connector's connection settings (a Kafka
// cluster's bootstrap servers and credentials), shared by tables. Config
// holds secrets as given: the API redacts them.
type ConnectionProfile struct {
	ID          string
	Name        string
	Connector   string
	Config      json.RawMessage // a JSON object
	Description string
	CreatedAt   time.Time
}

// CreateConnectionProfile stores p, setting its ID and CreatedAt. A name
// already taken is ErrConflict.
func (s *Store) CreateConnectionProfile(ctx context.Context, p *ConnectionProfile) error {
	cfg, err := rawText(p.Config, "{}")
	if err != nil {
		return fmt.Errorf("connection profile config: %w", err)
	}
	id, now := NewID(PrefixProfile), s.stamp()
	_, err = s.exec(ctx, `INSERT INTO connection_profiles (id, name, connector, config, description, created_at)
VALUES (?, ?, ?, ?, ?, ?)`, id, p.Name, p.Connector, cfg, p.Description, now.UnixMicro())
	if err = classify(err, fmt.Sprintf("a connection profile named '%s'", p.Name), "", ""); err != nil {
		return err
	}
	p.ID, p.CreatedAt, p.Config = id, now, json.RawMessage(cfg)
	return nil
}

const profileCols = "id, name, connector, config, description, created_at"

func scanProfile(sc interface{ Scan(...any) error }) (ConnectionProfile, error) {
	var p ConnectionProfile
	var cfg string
	var created sql.NullInt64
	err := sc.Scan(&p.ID, &p.Name, &p.Connector, &cfg, &p.Description, &created)
	p.Config, p.CreatedAt = json.RawMessage(cfg), fromMicros(created)
	return p, err
}

// GetConnectionProfile returns the profile with id.
func (s *Store) GetConnectionProfile(ctx context.Context, id string) (*ConnectionProfile, error) {
	p, err := scanProfile(s.queryRow(ctx, "SELECT "+profileCols+" FROM connection_profiles WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("connection profile '%s'", id)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ListConnectionProfiles returns every profile, newest first.
func (s *Store) ListConnectionProfiles(ctx context.Context) ([]ConnectionProfile, error) {
	rows, err := s.query(ctx, "SELECT "+profileCols+" FROM connection_profiles ORDER BY seq DESC")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanProfile)
}

// DeleteConnectionProfile deletes the profile with id; one that tables
// still use is ErrConflict.
func (s *Store) DeleteConnectionProfile(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM connection_profiles WHERE id = ?", id)
	err = classify(err, "", "", fmt.Sprintf("connection profile '%s' is used by connection tables: delete them first", id))
	return mustAffect(res, err, func() error { return notFound("connection profile '%s'", id) })
}

// ConnectionTable is a table definition stored for reuse in pipelines: a
// connector, its table options, optionally a profile, and a schema.
type ConnectionTable struct {
	ID        string
	Name      string
	Connector string
	// TableType is "source" or "sink" (or "" when the connector has one
	// role only).
	TableType string
	// ProfileID is the connection profile's ID, "" for none.
	ProfileID string
	Config    json.RawMessage // a JSON object of table options
	Schema    json.RawMessage // the API's ConnectionSchema, as JSON (may be empty)
	CreatedAt time.Time
}

// CreateConnectionTable stores t, setting its ID and CreatedAt. A name
// taken is ErrConflict; a ProfileID that names no profile, ErrNotFound.
func (s *Store) CreateConnectionTable(ctx context.Context, t *ConnectionTable) error {
	cfg, err := rawText(t.Config, "{}")
	if err != nil {
		return fmt.Errorf("connection table config: %w", err)
	}
	schema, err := rawText(t.Schema, "")
	if err != nil {
		return fmt.Errorf("connection table schema: %w", err)
	}
	var profile any
	if t.ProfileID != "" {
		profile = t.ProfileID
	}
	id, now := NewID(PrefixTable), s.stamp()
	_, err = s.exec(ctx, `INSERT INTO connection_tables (id, name, connector, table_type, profile_id, config, schema_json, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, t.Name, t.Connector, t.TableType, profile, cfg, schema, now.UnixMicro())
	if err = classify(err, fmt.Sprintf("a connection table named '%s'", t.Name), fmt.Sprintf("connection profile '%s'", t.ProfileID), ""); err != nil {
		return err
	}
	t.ID, t.CreatedAt, t.Config = id, now, json.RawMessage(cfg)
	if schema != "" {
		t.Schema = json.RawMessage(schema)
	}
	return nil
}

const tableCols = "id, name, connector, table_type, profile_id, config, schema_json, created_at"

func scanTable(sc interface{ Scan(...any) error }) (ConnectionTable, error) {
	var t ConnectionTable
	var profile sql.NullString
	var cfg, schema string
	var created sql.NullInt64
	err := sc.Scan(&t.ID, &t.Name, &t.Connector, &t.TableType, &profile, &cfg, &schema, &created)
	t.ProfileID, t.Config, t.CreatedAt = profile.String, json.RawMessage(cfg), fromMicros(created)
	if schema != "" {
		t.Schema = json.RawMessage(schema)
	}
	return t, err
}

// GetConnectionTable returns the table with id.
func (s *Store) GetConnectionTable(ctx context.Context, id string) (*ConnectionTable, error) {
	t, err := scanTable(s.queryRow(ctx, "SELECT "+tableCols+" FROM connection_tables WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("connection table '%s'", id)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ListConnectionTables returns a page of tables, newest first, and
// whether more follow.
func (s *Store) ListConnectionTables(ctx context.Context, p Page) ([]ConnectionTable, bool, error) {
	q, args, err := s.page(ctx, "connection_tables", "SELECT "+tableCols+" FROM connection_tables WHERE 1=1", nil, p)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	items, err := collect(rows, scanTable)
	if err != nil {
		return nil, false, err
	}
	items, more := trim(items, p)
	return items, more, nil
}

// DeleteConnectionTable deletes the table with id.
func (s *Store) DeleteConnectionTable(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM connection_tables WHERE id = ?", id)
	return mustAffect(res, err, func() error { return notFound("connection table '%s'", id) })
}

// UDF is a user-defined function's WebAssembly module.
type UDF struct {
	ID          string
	Name        string
	Language    string // "wasm"
	Module      []byte
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CreateUDF stores u, setting its ID and times. A name taken is
// ErrConflict.
func (s *Store) CreateUDF(ctx context.Context, u *UDF) error {
	if u.Language == "" {
		u.Language = "wasm"
	}
	module := u.Module
	if module == nil {
		module = []byte{}
	}
	id, now := NewID(PrefixUDF), s.stamp()
	_, err := s.exec(ctx, `INSERT INTO udfs (id, name, language, module, description, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`, id, u.Name, u.Language, module, u.Description, now.UnixMicro(), now.UnixMicro())
	if err = classify(err, fmt.Sprintf("a udf named '%s'", u.Name), "", ""); err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.UpdatedAt = id, now, now
	return nil
}

const udfCols = "id, name, language, module, description, created_at, updated_at"

func scanUDF(sc interface{ Scan(...any) error }) (UDF, error) {
	var u UDF
	var created, updated sql.NullInt64
	err := sc.Scan(&u.ID, &u.Name, &u.Language, &u.Module, &u.Description, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, err
}

// GetUDF returns the UDF with id.
func (s *Store) GetUDF(ctx context.Context, id string) (*UDF, error) {
	u, err := scanUDF(s.queryRow(ctx, "SELECT "+udfCols+" FROM udfs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("udf '%s'", id)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUDFByName returns the UDF called name.
func (s *Store) GetUDFByName(ctx context.Context, name string) (*UDF, error) {
	u, err := scanUDF(s.queryRow(ctx, "SELECT "+udfCols+" FROM udfs WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("udf named '%s'", name)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUDFs returns every UDF, newest first.
func (s *Store) ListUDFs(ctx context.Context) ([]UDF, error) {
	rows, err := s.query(ctx, "SELECT "+udfCols+" FROM udfs ORDER BY seq DESC")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUDF)
}

// DeleteUDF deletes the UDF with id.
func (s *Store) DeleteUDF(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM udfs WHERE id = ?", id)
	return mustAffect(res, err, func() error { return notFound("udf '%s'", id) })
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
