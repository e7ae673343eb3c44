package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestUpgradeFromVersion1 opens a database that has only the first
// migration and a pipeline written then (as `arroyo run` state directories
// made before 0002 are): Open applies the rest and the pipeline reads back.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.sqlite")
	ms, err := Migrations()
	if err != nil || len(ms) < 2 {
		t.Fatalf("migrations %v %v", ms, err)
	}
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, d: sqliteDialect, now: time.Now}
	if applied, err := old.migrateWith(ctx, ms[:1]); err != nil || len(applied) != 1 {
		t.Fatalf("version 1: %v %v", applied, err)
	}
	if _, err := old.exec(ctx, `INSERT INTO pipelines (id, name, query, parallelism, created_at, updated_at) VALUES ('pl_0000000001', 'old', 'SELECT 1', 2, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Applied(); len(got) != len(ms)-1 || got[0] != ms[1].Version {
		t.Errorf("upgrade applied %v, want versions from %d", got, ms[1].Version)
	}
	p, err := s.GetPipeline(ctx, "pl_0000000001")
	if err != nil || p.Name != "old" || p.Parallelism != 2 || p.Graph != nil || p.Stop != StopNone || len(p.UDFs) != 0 {
		t.Errorf("old pipeline after the upgrade: %+v %v", p, err)
	}
}

// TestFailedMigrationRollsBack: a migration that fails half-way leaves
// neither its first statements nor its version behind.
func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{SQLitePath: filepath.Join(t.TempDir(), "state.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := Migration{Version: 9999, Name: "broken", SQL: "CREATE TABLE half_done (a INTEGER);\nTHIS IS NOT SQL;\n"}
	if _, err := s.migrateWith(ctx, []Migration{bad}); err == nil {
		t.Fatal("a broken migration succeeded")
	}
	var n int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the broken migration's first statement stayed (%d, %v)", n, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v == 9999 {
		t.Errorf("schema version %d %v after a failed migration", v, err)
	}
}
