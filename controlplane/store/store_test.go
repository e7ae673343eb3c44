package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/controlplane/store/storetest"
)

// backends runs fn once on SQLite and once on PostgreSQL, each test on a
// fresh, empty database.
func backends(t *testing.T, fn func(t *testing.T, open func(t *testing.T) (*store.Store, store.Config))) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) (*store.Store, store.Config) {
			cfg := store.Config{SQLitePath: filepath.Join(t.TempDir(), "state.sqlite")}
			return openStore(t, cfg), cfg
		})
	})
	t.Run("postgres", func(t *testing.T) {
		srv := storetest.Start(t)
		fn(t, func(t *testing.T) (*store.Store, store.Config) {
			cfg := store.Config{Postgres: srv.NewDatabase(t)}
			return openStore(t, cfg), cfg
		})
	})
}

func openStore(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) (*store.Store, store.Config)) {
		for _, tc := range suite {
			t.Run(tc.name, func(t *testing.T) {
				s, cfg := open(t)
				tc.fn(t, s, cfg)
			})
		}
	})
}

var suite = []struct {
	name string
	fn   func(t *testing.T, s *store.Store, cfg store.Config)
}{
	{"Migrations", testMigrations},
	{"Pipelines", testPipelines},
	{"Pagination", testPagination},
	{"JobsCheckpointsLogs", testJobs},
	{"Connections", testConnections},
	{"UDFs", testUDFs},
	{"ConcurrentWrites", testConcurrentWrites},
}

var ctx = context.Background()

func testMigrations(t *testing.T, s *store.Store, cfg store.Config) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	// From empty: every migration applied.
	if got := s.Applied(); len(got) != len(ms) || got[0] != ms[0].Version {
		t.Fatalf("first Open applied %v, want all %d migrations", got, len(ms))
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("schema version %d (%v), want %d", v, err, ms[len(ms)-1].Version)
	}
	p := &store.Pipeline{Name: "kept", Query: "SELECT 1", Parallelism: 1}
	if err := s.CreatePipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Re-run: nothing applied, data kept.
	for i := 0; i < 2; i++ {
		again, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got := again.Applied(); len(got) != 0 {
			t.Errorf("reopen %d applied %v again", i, got)
		}
		if _, err := again.GetPipeline(ctx, p.ID); err != nil {
			t.Errorf("reopen %d lost the pipeline: %v", i, err)
		}
		again.Close()
	}
}

var idRE = regexp.MustCompile(`^[a-z]+_[0-9A-Za-z]{10}$`)

func checkID(t *testing.T, id, prefix string) {
	t.Helper()
	if !strings.HasPrefix(id, prefix+"_") || !idRE.MatchString(id) {
		t.Errorf("id %q: want %s_ and 10 base62 characters", id, prefix)
	}
}

func testPipelines(t *testing.T, s *store.Store, _ store.Config) {
	p := &store.Pipeline{Name: "bids", Query: "SELECT * FROM nexmark", Parallelism: 2, UDFs: []string{"double"}, CheckpointInterval: 10 * time.Second,
		Graph: json.RawMessage(`{"nodes":[],"edges":[]}`)}
	if err := s.CreatePipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	checkID(t, p.ID, "pl")
	if p.Stop != store.StopNone || p.CreatedAt.IsZero() {
		t.Errorf("created pipeline: stop %q created %v", p.Stop, p.CreatedAt)
	}
	got, err := s.GetPipeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(*p) {
		t.Errorf("get:\n got %+v\nwant %+v", *got, *p)
	}
	got.Stop, got.Parallelism, got.Name = store.StopCheckpoint, 3, "bids2"
	if err := s.UpdatePipeline(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetPipeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stop != store.StopCheckpoint || again.Parallelism != 3 || again.Name != "bids2" || again.Query != p.Query || string(again.Graph) != string(p.Graph) {
		t.Errorf("after update: %+v", *again)
	}
	if err := s.UpdatePipeline(ctx, &store.Pipeline{ID: "pl_missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing pipeline: %v, want ErrNotFound", err)
	}
	// Delete cascades to jobs.
	j := &store.Job{PipelineID: p.ID}
	if err := s.CreateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePipeline(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPipeline(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	} else if !strings.Contains(err.Error(), p.ID) {
		t.Errorf("not-found error %q does not name the pipeline", err)
	}
	if _, err := s.GetJob(ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("job of a deleted pipeline: %v, want ErrNotFound", err)
	}
	if err := s.DeletePipeline(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func testPagination(t *testing.T, s *store.Store, _ store.Config) {
	var ids []string
	for i := 0; i < 7; i++ {
		p := &store.Pipeline{Name: fmt.Sprint("p", i), Query: "SELECT 1", Parallelism: 1}
		if err := s.CreatePipeline(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids = append([]string{p.ID}, ids...) // newest first
	}
	var seen []string
	page := store.Page{Limit: 3}
	for n := 0; ; n++ {
		ps, more, err := s.ListPipelines(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			seen = append(seen, p.ID)
		}
		if !more {
			if len(ps) != 1 {
				t.Errorf("last page has %d pipelines, want 1", len(ps))
			}
			break
		}
		if len(ps) != 3 || n > 3 {
			t.Fatalf("page %d: %d pipelines, more=%v", n, len(ps), more)
		}
		page.StartingAfter = ps[len(ps)-1].ID
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Errorf("pages gave\n %v\nwant\n %v", seen, ids)
	}
	all, more, err := s.ListPipelines(ctx, store.Page{})
	if err != nil || more || len(all) != 7 {
		t.Errorf("unlimited list: %d, more=%v, %v", len(all), more, err)
	}
	exact, more, err := s.ListPipelines(ctx, store.Page{Limit: 7})
	if err != nil || more || len(exact) != 7 {
		t.Errorf("a page of exactly all: %d, more=%v, %v", len(exact), more, err)
	}
	if _, _, err := s.ListPipelines(ctx, store.Page{StartingAfter: "pl_nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("starting_after an unknown id: %v, want ErrNotFound", err)
	}
}

func testJobs(t *testing.T, s *store.Store, _ store.Config) {
	p := &store.Pipeline{Name: "p", Query: "SELECT 1", Parallelism: 1}
	if err := s.CreatePipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateJob(ctx, &store.Job{PipelineID: "pl_missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("job of a missing pipeline: %v, want ErrNotFound", err)
	}
	j1 := &store.Job{PipelineID: p.ID}
	j2 := &store.Job{PipelineID: p.ID}
	for _, j := range []*store.Job{j1, j2} {
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		checkID(t, j.ID, "job")
	}
	if all, err := s.ListAllJobs(ctx); err != nil || len(all) != 2 {
		t.Errorf("all jobs: %d %v", len(all), err)
	}
	jobs, err := s.ListJobs(ctx, p.ID)
	if err != nil || len(jobs) != 2 || jobs[0].ID != j2.ID || jobs[0].State != store.JobCreated {
		t.Fatalf("jobs %+v %v: want j2 then j1, Created", jobs, err)
	}
	if err := s.UpdateJobState(ctx, j2.ID, store.JobRunning, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetJob(ctx, j2.ID)
	if got.State != store.JobRunning || got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("running job: %+v", *got)
	}
	started := got.StartedAt
	if err := s.UpdateJobState(ctx, j2.ID, store.JobFailed, "operator agg_1 subtask 0: boom"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetJob(ctx, j2.ID)
	if got.State != store.JobFailed || got.FailureMessage != "operator agg_1 subtask 0: boom" || got.FinishedAt.IsZero() || !got.StartedAt.Equal(started) {
		t.Errorf("failed job: %+v", *got)
	}
	finished := got.FinishedAt
	if err := s.UpdateJobState(ctx, j2.ID, store.JobFailed, "again"); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetJob(ctx, j2.ID); !again.FinishedAt.Equal(finished) {
		t.Errorf("a second terminal state moved FinishedAt: %v, was %v", again.FinishedAt, finished)
	}
	if err := s.UpdateJobState(ctx, j2.ID, store.JobRecovering, ""); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.GetJob(ctx, j2.ID); !rec.FinishedAt.IsZero() || rec.FailureMessage != "" || !rec.StartedAt.Equal(started) {
		t.Errorf("recovering job: %+v (FinishedAt must clear)", *rec)
	}
	got, _ = s.GetJob(ctx, j2.ID)
	got.Restarts, got.RunID, got.State = 2, 3, store.JobRecovering
	if err := s.UpdateJob(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.GetJob(ctx, j2.ID)
	if again.Restarts != 2 || again.RunID != 3 || again.State != store.JobRecovering {
		t.Errorf("updated job: %+v", *again)
	}
	if err := s.UpdateJobState(ctx, "job_missing", store.JobRunning, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("state of a missing job: %v", err)
	}

	// Checkpoints.
	c := &store.Checkpoint{JobID: j2.ID, Epoch: 1, Path: "/state/checkpoints/job/1"}
	if err := s.CreateCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	checkID(t, c.ID, "chk")
	if err := s.CreateCheckpoint(ctx, &store.Checkpoint{JobID: j2.ID, Epoch: 1}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second checkpoint of epoch 1: %v, want ErrConflict", err)
	}
	if err := s.CreateCheckpoint(ctx, &store.Checkpoint{JobID: "job_missing", Epoch: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("checkpoint of a missing job: %v, want ErrNotFound", err)
	}
	fin := time.UnixMicro(time.Now().UnixMicro()).UTC()
	c.State, c.Bytes, c.FinishedAt = store.CheckpointReady, 1234, fin
	sub := store.SubtaskCheckpoint{Index: 1, Bytes: 34, StartedAt: c.StartedAt, FinishedAt: fin}
	c.Operators = []store.OperatorCheckpoint{{OperatorID: "agg_1", Bytes: 1234, StartedAt: c.StartedAt, FinishedAt: fin, Subtasks: []store.SubtaskCheckpoint{sub}}}
	if err := s.UpdateCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	c2 := &store.Checkpoint{JobID: j2.ID, Epoch: 2}
	if err := s.CreateCheckpoint(ctx, c2); err != nil {
		t.Fatal(err)
	}
	cps, err := s.ListCheckpoints(ctx, j2.ID)
	if err != nil || len(cps) != 2 || cps[0].Epoch != 1 || cps[1].Epoch != 2 {
		t.Fatalf("checkpoints %+v %v", cps, err)
	}
	if g := cps[0]; g.State != store.CheckpointReady || g.Bytes != 1234 || !g.FinishedAt.Equal(fin) || len(g.Operators) != 1 ||
		g.Operators[0].OperatorID != "agg_1" || len(g.Operators[0].Subtasks) != 1 || g.Operators[0].Subtasks[0].Bytes != 34 {
		t.Errorf("checkpoint 1 read back as %+v", g)
	}
	if g, err := s.GetCheckpoint(ctx, j2.ID, 2); err != nil || g.State != store.CheckpointInProgress || !g.FinishedAt.IsZero() {
		t.Errorf("checkpoint 2: %+v %v", g, err)
	}

	// Log messages.
	zero := 0
	for i := 0; i < 5; i++ {
		l := &store.JobLog{JobID: j2.ID, Level: store.LogError, OperatorID: "agg_1", Subtask: &zero, Message: fmt.Sprint("failure ", i)}
		if i == 4 {
			l.Subtask, l.OperatorID, l.Level = nil, "", ""
		}
		if err := s.AddJobLog(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	logs, more, err := s.ListJobLogs(ctx, j2.ID, store.Page{Limit: 2})
	if err != nil || !more || len(logs) != 2 || logs[0].Message != "failure 4" || logs[0].Subtask != nil || logs[0].Level != store.LogInfo {
		t.Fatalf("first page of logs %+v more=%v %v", logs, more, err)
	}
	logs, more, err = s.ListJobLogs(ctx, j2.ID, store.Page{Limit: 10, StartingAfter: logs[1].ID})
	if err != nil || more || len(logs) != 3 || logs[0].Message != "failure 2" || logs[0].Subtask == nil || *logs[0].Subtask != 0 || logs[0].OperatorID != "agg_1" {
		t.Fatalf("second page of logs %+v more=%v %v", logs, more, err)
	}
	if other, _, err := s.ListJobLogs(ctx, j1.ID, store.Page{}); err != nil || len(other) != 0 {
		t.Errorf("logs of another job: %v %v", other, err)
	}
}

func testConnections(t *testing.T, s *store.Store, _ store.Config) {
	p := &store.ConnectionProfile{Name: "local kafka", Connector: "kafka", Config: json.RawMessage(`{"bootstrap_servers":"localhost:9092","password":"hunter2"}`)}
	if err := s.CreateConnectionProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	checkID(t, p.ID, "cp")
	err := s.CreateConnectionProfile(ctx, &store.ConnectionProfile{Name: "local kafka", Connector: "kafka"})
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "local kafka") {
		t.Errorf("duplicate profile name: %v, want ErrConflict naming it", err)
	}
	if err := s.CreateConnectionProfile(ctx, &store.ConnectionProfile{Name: "bad", Connector: "kafka", Config: json.RawMessage(`{`)}); err == nil {
		t.Error("a profile with invalid JSON config was stored")
	}
	got, err := s.GetConnectionProfile(ctx, p.ID)
	if err != nil || string(got.Config) != string(p.Config) || got.Name != p.Name {
		t.Fatalf("profile read back %+v %v", got, err)
	}
	tbl := &store.ConnectionTable{Name: "orders", Connector: "kafka", TableType: "source", ProfileID: p.ID,
		Config: json.RawMessage(`{"topic":"orders"}`), Schema: json.RawMessage(`{"format":{"json":{}},"fields":[]}`)}
	if err := s.CreateConnectionTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	checkID(t, tbl.ID, "ct")
	if err := s.CreateConnectionTable(ctx, &store.ConnectionTable{Name: "x", Connector: "kafka", ProfileID: "cp_missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("table with a missing profile: %v, want ErrNotFound", err)
	}
	noProfile := &store.ConnectionTable{Name: "gen", Connector: "impulse", Config: json.RawMessage(`{"event_rate":"10"}`)}
	if err := s.CreateConnectionTable(ctx, noProfile); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnectionProfile(ctx, p.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("deleting a profile in use: %v, want ErrConflict", err)
	}
	tables, more, err := s.ListConnectionTables(ctx, store.Page{Limit: 10})
	if err != nil || more || len(tables) != 2 || tables[0].ID != noProfile.ID || tables[0].ProfileID != "" || tables[0].Schema != nil {
		t.Fatalf("tables %+v more=%v %v", tables, more, err)
	}
	if g := tables[1]; g.ProfileID != p.ID || string(g.Schema) != string(tbl.Schema) || g.TableType != "source" {
		t.Errorf("table read back %+v", g)
	}
	if err := s.DeleteConnectionTable(ctx, tbl.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnectionProfile(ctx, p.ID); err != nil {
		t.Errorf("deleting an unused profile: %v", err)
	}
	if err := s.DeleteConnectionProfile(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v", err)
	}
	profiles, err := s.ListConnectionProfiles(ctx)
	if err != nil || len(profiles) != 0 {
		t.Errorf("profiles after delete: %v %v", profiles, err)
	}
}

func testUDFs(t *testing.T, s *store.Store, _ store.Config) {
	mod := []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0, 0xff}
	u := &store.UDF{Name: "double", Module: mod, Description: "x*2"}
	if err := s.CreateUDF(ctx, u); err != nil {
		t.Fatal(err)
	}
	checkID(t, u.ID, "udf")
	if err := s.CreateUDF(ctx, &store.UDF{Name: "double", Module: mod}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate udf: %v", err)
	}
	got, err := s.GetUDFByName(ctx, "double")
	if err != nil || string(got.Module) != string(mod) || got.Language != "wasm" || got.ID != u.ID {
		t.Fatalf("udf read back %+v %v", got, err)
	}
	list, err := s.ListUDFs(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("udfs %v %v", list, err)
	}
	if err := s.DeleteUDF(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUDF(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("udf after delete: %v", err)
	}
}

// testConcurrentWrites writes from several goroutines at once: SQLite must
// wait for its write lock rather than fail with "database is locked".
func testConcurrentWrites(t *testing.T, s *store.Store, _ store.Config) {
	p := &store.Pipeline{Name: "p", Query: "SELECT 1", Parallelism: 1}
	if err := s.CreatePipeline(ctx, p); err != nil {
		t.Fatal(err)
	}
	j := &store.Job{PipelineID: p.ID}
	if err := s.CreateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				if err := s.CreateCheckpoint(ctx, &store.Checkpoint{JobID: j.ID, Epoch: uint64(g*8 + i + 1)}); err != nil {
					errs <- err
				}
				if err := s.UpdateJobState(ctx, j.ID, store.JobRunning, ""); err != nil {
					errs <- err
				}
				if _, err := s.ListCheckpoints(ctx, j.ID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cps, err := s.ListCheckpoints(ctx, j.ID)
	if err != nil || len(cps) != 64 {
		t.Errorf("%d checkpoints after concurrent writes, want 64 (%v)", len(cps), err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := store.NewID("pl")
		checkID(t, id, "pl")
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestOpenConfig(t *testing.T) {
	if _, err := store.Open(ctx, store.Config{}); err == nil {
		t.Error("Open with no database succeeded")
	}
	if _, err := store.Open(ctx, store.Config{SQLitePath: "x", Postgres: "y"}); err == nil {
		t.Error("Open with both databases succeeded")
	}
	_, err := store.Open(ctx, store.Config{Postgres: "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
}
