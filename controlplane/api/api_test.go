package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/controlplane/store/storetest"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
)

const token = "test-token-123"

var ctx = context.Background()

// A connector with a connection profile and a registered tester, standing
// in for Kafka: its profile has a secret.
func init() {
	connector.Register(&connector.Connector{
		Name: "fakekafka", Description: "test connector with a profile",
		Options: []connector.Option{
			{Name: "bootstrap_servers", Type: connector.TypeString, Required: true},
			{Name: "auth.password", Type: connector.TypeString, Secret: true},
			{Name: "auth.mechanism", Type: connector.TypeEnum, Enum: []string{"PLAIN", "SCRAM-SHA-256"}, Secret: true},
			{Name: "schema_registry.endpoint", Type: connector.TypeString},
			{Name: "topic", Type: connector.TypeString, Required: true},
			{Name: "type", Type: connector.TypeEnum, Enum: []string{"source", "sink"}},
		},
		NeedsFormat: true, DefaultFormat: "json",
		NewSource: func(*connector.Table, connector.SourceTask, []connector.SplitState) (connector.Source, error) {
			return nil, errors.New("not for running")
		},
		NewSink: func(*connector.Table, connector.SinkTask) (connector.Sink, error) {
			return nil, errors.New("not for running")
		},
	})
	connector.RegisterTester("fakekafka", &connector.Tester{
		ProfileOptions: []string{"bootstrap_servers", "auth.password", "auth.mechanism", "schema_registry.endpoint"},
		TestProfile: func(ctx context.Context, opts connector.Options) (string, error) {
			if opts["auth.password"] != "right" {
				return "", errors.New("authentication failed for the configured user")
			}
			return "connected to " + opts["bootstrap_servers"], nil
		},
		TestTable: func(ctx context.Context, t *connector.TableTest, emit func(connector.TestStep) error) error {
			if err := emit(connector.TestStep{Status: connector.TestInfo, Message: "connected to " + t.Table.Options["bootstrap_servers"]}); err != nil {
				return err
			}
			if t.Table.Options["topic"] == "slow" {
				<-ctx.Done() // a broker that never answers
				return ctx.Err()
			}
			if t.Table.Options["topic"] == "missing" {
				return fmt.Errorf("topic '%s' not found", t.Table.Options["topic"])
			}
			return emit(connector.TestStep{Status: connector.TestInfo, Message: "topic '" + t.Table.Options["topic"] + "' found"})
		},
		Autocomplete: func(ctx context.Context, opts connector.Options) (map[string][]string, error) {
			return map[string][]string{"topic": {"orders", "payments@" + opts["bootstrap_servers"]}}, nil
		},
	})
}

// fakeRunner records what the API asks and keeps job records as a
// controller would.
type fakeRunner struct {
	st *store.Store
	mu sync.Mutex
	// calls are "start pl_x", "stop job_x checkpoint", "restart pl_x p=2
	// force=false ignore=false".
	calls     []string
	lastSinks []string
	startErr  error
}

func (r *fakeRunner) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *fakeRunner) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *fakeRunner) Start(ctx context.Context, p *store.Pipeline, prog *program.Program) (string, error) {
	if r.startErr != nil {
		return "", r.startErr
	}
	r.record(fmt.Sprintf("start %s nodes=%d", p.ID, len(prog.Nodes)))
	j := &store.Job{PipelineID: p.ID, State: store.JobRunning}
	err := r.st.CreateJob(ctx, j)
	return j.ID, err
}

func (r *fakeRunner) Stop(ctx context.Context, jobID, mode string) error {
	r.record("stop " + jobID + " " + mode)
	return r.st.UpdateJobState(ctx, jobID, store.JobStopped, "")
}

// LastSinks are the sink connectors of the last program restarted.
func (r *fakeRunner) LastSinks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastSinks
}

func (r *fakeRunner) Restart(ctx context.Context, p *store.Pipeline, prog *program.Program, o api.RestartOptions) (string, error) {
	r.record(fmt.Sprintf("restart %s p=%d force=%v ignore=%v", p.ID, p.Parallelism, o.Force, o.IgnoreState))
	var sinks []string
	for _, n := range prog.Nodes {
		if n.Sink != nil {
			sinks = append(sinks, n.Sink.Connector)
		}
	}
	r.mu.Lock()
	r.lastSinks = sinks
	r.mu.Unlock()
	j := &store.Job{PipelineID: p.ID, State: store.JobRunning}
	err := r.st.CreateJob(ctx, j)
	return j.ID, err
}

func (r *fakeRunner) Output(ctx context.Context, jobID string, emit func(api.OutputData) error) error {
	for i := 0; i < 3; i++ {
		if err := emit(api.OutputData{OperatorID: "sink_1", Subtask: 0, Timestamp: int64(i), StartID: int64(i), Batch: fmt.Sprintf("{\"counter\":%d}\n", i)}); err != nil {
			return err
		}
	}
	return nil
}

func (r *fakeRunner) OperatorMetrics(ctx context.Context, jobID string) ([]api.OperatorMetricGroup, error) {
	return []api.OperatorMetricGroup{{NodeID: "source_1", MetricGroups: []api.MetricGroup{{Name: "messages_sent",
		Subtasks: []api.SubtaskMetrics{{Index: 0, Metrics: []api.Metric{{Time: 1, Value: 42}}}}}}}}, nil
}

type fixture struct {
	srv    *api.Server
	http   *httptest.Server
	c      *client.Client
	st     *store.Store
	runner *fakeRunner
}

func newFixture(t testing.TB, configure func(*api.Options)) *fixture {
	t.Helper()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "state.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, configure)
}

func newFixtureOn(t testing.TB, st *store.Store, configure func(*api.Options)) *fixture {
	r := &fakeRunner{st: st}
	opts := api.Options{Store: st, Runner: r, AuthToken: token, DefaultSink: "blackhole", SampleTimeout: 5 * time.Second, StepTimeout: 5 * time.Second}
	if configure != nil {
		configure(&opts)
	}
	srv, err := api.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{srv: srv, http: hs, c: client.New(hs.URL, token), st: st, runner: r}
}

// raw sends a request and returns the status and body.
func (f *fixture) raw(t testing.TB, method, path, body string, auth bool) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// wantErr checks an error response: its status, the {"error"} shape and
// that the message contains each of parts.
func wantErr(t *testing.T, what string, status int, body string, want int, parts ...string) {
	t.Helper()
	if status != want {
		t.Errorf("%s: status %d, want %d (body %s)", what, status, want, body)
		return
	}
	var eb map[string]any
	if err := json.Unmarshal([]byte(body), &eb); err != nil {
		t.Errorf("%s: body is not JSON: %s", what, body)
		return
	}
	msg, ok := eb["error"].(string)
	if !ok || len(eb) != 1 {
		t.Errorf("%s: body %s, want {\"error\": \"...\"}", what, body)
		return
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: error %q does not mention %q", what, msg, p)
		}
	}
}

func TestPing(t *testing.T) {
	f := newFixture(t, nil)
	status, body, _ := f.raw(t, "GET", "/api/v1/ping", "", false)
	if status != 200 || body != "Pong" {
		t.Errorf("ping: %d %q", status, body)
	}
	if err := f.c.Ping(ctx); err != nil {
		t.Error(err)
	}
}

// expectedRoutes are the routes the API must serve (and document).
var expectedRoutes = []string{
	"GET /api/v1/ping",
	"GET /api/v1/connectors",
	"GET /api/v1/connection_profiles",
	"POST /api/v1/connection_profiles",
	"DELETE /api/v1/connection_profiles/{id}",
	"POST /api/v1/connection_profiles/test",
	"GET /api/v1/connection_profiles/{id}/autocomplete",
	"GET /api/v1/connection_tables",
	"POST /api/v1/connection_tables",
	"DELETE /api/v1/connection_tables/{id}",
	"POST /api/v1/connection_tables/test",
	"POST /api/v1/connection_tables/schemas/test",
	"GET /api/v1/udfs",
	"POST /api/v1/udfs",
	"DELETE /api/v1/udfs/{id}",
	"POST /api/v1/udfs/validate",
	"GET /api/v1/pipelines",
	"POST /api/v1/pipelines",
	"GET /api/v1/pipelines/{id}",
	"PATCH /api/v1/pipelines/{id}",
	"DELETE /api/v1/pipelines/{id}",
	"POST /api/v1/pipelines/{id}/restart",
	"POST /api/v1/pipelines/validate_query",
	"GET /api/v1/pipelines/{id}/jobs",
	"GET /api/v1/jobs",
	"GET /api/v1/pipelines/{id}/jobs/{job_id}/checkpoints",
	"GET /api/v1/pipelines/{id}/jobs/{job_id}/checkpoints/{epoch}/operator_checkpoint_groups",
	"GET /api/v1/pipelines/{id}/jobs/{job_id}/errors",
	"GET /api/v1/pipelines/{id}/jobs/{job_id}/operator_metric_groups",
	"GET /api/v1/pipelines/{id}/jobs/{job_id}/output",
	"POST /api/v1/pipelines/preview",
}

// documented returns "METHOD path" of every operation in the served
// OpenAPI document.
func documented(t *testing.T, f *fixture) []string {
	t.Helper()
	status, body, _ := f.raw(t, "GET", api.OpenAPIPath, "", true)
	if status != 200 {
		t.Fatalf("openapi document: %d %s", status, body)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, ops := range doc.Paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

func rawDoc(t *testing.T, f *fixture) string {
	_, body, _ := f.raw(t, "GET", api.OpenAPIPath, "", true)
	return body
}

func TestOpenAPIHasEveryRoute(t *testing.T) {
	f := newFixture(t, nil)
	doc := documented(t, f)
	for _, r := range expectedRoutes {
		if !slices.Contains(doc, r) {
			t.Errorf("route %s is missing from the OpenAPI document", r)
		}
	}
	for _, r := range doc {
		if !slices.Contains(expectedRoutes, r) {
			t.Errorf("route %s is documented but not in this test's list: add it (and a test)", r)
		}
	}
	// Every documented route is served: an unauthenticated request gets
	// 401, not 404 or 405 (and /ping answers).
	for _, r := range doc {
		method, path, _ := strings.Cut(r, " ")
		path = strings.NewReplacer("{id}", "pl_x", "{job_id}", "job_x", "{epoch}", "1").Replace(path)
		status, body, hdr := f.raw(t, method, path, "", false)
		if path == "/api/v1/ping" {
			if status != 200 {
				t.Errorf("%s without token: %d", r, status)
			}
			continue
		}
		wantErr(t, r+" without token", status, body, http.StatusUnauthorized, "bearer token")
		if !strings.Contains(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate: Bearer", r)
		}
		// A wrong token too.
		req, _ := http.NewRequest(method, f.http.URL+path, nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", r, resp.StatusCode)
		}
	}
	if strings.Contains(rawDoc(t, f), `"422"`) {
		t.Error("the document lists 422 responses: validation failures are 400")
	}
	if status, _, _ := f.raw(t, "GET", api.OpenAPIPath, "", false); status != http.StatusUnauthorized {
		t.Errorf("openapi document without token: %d, want 401", status)
	}
}

func TestConnectors(t *testing.T) {
	f := newFixture(t, nil)
	cs, err := f.c.Connectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]api.Connector{}
	for _, c := range cs {
		byName[c.ID] = c
	}
	for _, name := range []string{"impulse", "nexmark", "single_file", "stdout", "fakekafka"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("connector %s not listed", name)
		}
	}
	imp := byName["impulse"]
	if !imp.Source || imp.Sink || imp.CustomSchemas || imp.ConnectionConfig != nil {
		t.Errorf("impulse: %+v", imp)
	}
	var schema struct {
		Type       string                    `json:"type"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(imp.TableConfig), &schema); err != nil {
		t.Fatalf("impulse tableConfig is not JSON: %v", err)
	}
	if schema.Type != "object" || schema.Properties["event_rate"]["type"] != "number" {
		t.Errorf("impulse tableConfig: %s", imp.TableConfig)
	}
	fk := byName["fakekafka"]
	if fk.ConnectionConfig == nil || !strings.Contains(*fk.ConnectionConfig, "bootstrap_servers") || strings.Contains(fk.TableConfig, "bootstrap_servers") {
		t.Errorf("fakekafka: profile options must be in connectionConfig only: %+v", fk)
	}
	if !strings.Contains(*fk.ConnectionConfig, `"writeOnly":true`) {
		t.Errorf("the secret option is not marked in the schema: %s", *fk.ConnectionConfig)
	}
	if sf := byName["single_file"]; !sf.Source || !sf.Sink || !sf.CustomSchemas {
		t.Errorf("single_file: %+v", sf)
	}
}

func TestConnectionProfiles(t *testing.T) {
	f := newFixture(t, nil)
	post := api.ConnectionProfilePost{Name: "local", Connector: "fakekafka", Config: map[string]any{"bootstrapServers": "localhost:9092", "auth": map[string]any{"password": "hunter2"},
		"schemaRegistry": map[string]any{"endpoint": "http://sr:8081"}}}
	p, err := f.c.CreateConnectionProfile(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "cp_") || p.Config["bootstrap_servers"] != "localhost:9092" || p.Config["auth.password"] != api.Redacted || p.Config["schema_registry.endpoint"] != "http://sr:8081" {
		t.Errorf("created profile %+v: want snake_case keys and the password redacted", p)
	}
	// Stored as given, never returned.
	stored, err := f.st.GetConnectionProfile(ctx, p.ID)
	if err != nil || !strings.Contains(string(stored.Config), "hunter2") {
		t.Errorf("stored profile config %s %v", stored.Config, err)
	}
	for _, path := range []string{"/api/v1/connection_profiles"} {
		_, body, _ := f.raw(t, "GET", path, "", true)
		if strings.Contains(body, "hunter2") {
			t.Errorf("GET %s shows the secret: %s", path, body)
		}
	}
	if _, err := f.c.CreateConnectionProfile(ctx, post); !client.IsConflict(err) || !strings.Contains(err.Error(), "local") {
		t.Errorf("duplicate name: %v, want 409 naming it", err)
	}
	// Bad bodies.
	status, body, _ := f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"x","connector":"nope"}`, true)
	wantErr(t, "unknown connector", status, body, 400, "connector", "nope", "impulse")
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"x","connector":"fakekafka","config":{"topic":"t"}}`, true)
	wantErr(t, "table option in a profile", status, body, 400, "config", "topic")
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"x","connector":"fakekafka","config":{}}`, true)
	wantErr(t, "missing required option", status, body, 400, "bootstrap_servers", "required")
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"x","connector":"impulse","config":{"event_rate":"1"}}`, true)
	wantErr(t, "profile for a connector without one", status, body, 400, "impulse", "no connection profile")
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"x","connector":"fakekafka","config":{"bootstrap_servers":"b","auth":{"mechanism":"hunter2"}}}`, true)
	wantErr(t, "bad secret value", status, body, 400, "auth.mechanism", "not shown")
	if strings.Contains(body, "hunter2") {
		t.Errorf("an error shows a secret value: %s", body)
	}
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_profiles", `{"connector":"impulse"}`, true)
	wantErr(t, "missing name", status, body, 400, "name")

	// The profile test: one message, no secret in it.
	m, err := f.c.TestConnectionProfile(ctx, post)
	if err != nil || !m.Done || !m.Error || strings.Contains(m.Message, "hunter2") || !strings.Contains(m.Message, "authentication failed") {
		t.Errorf("profile test with a wrong password: %+v %v", m, err)
	}
	post.Config["auth"] = map[string]any{"password": "right"}
	m, err = f.c.TestConnectionProfile(ctx, post)
	if err != nil || !m.Done || m.Error || m.Status != "done" || m.Message != "connected to localhost:9092" {
		t.Errorf("profile test: %+v %v", m, err)
	}
	m, err = f.c.TestConnectionProfile(ctx, api.ConnectionProfilePost{Name: "x", Connector: "impulse"})
	if err != nil || !m.Done || m.Error {
		t.Errorf("profile test of a connector without network: %+v %v", m, err)
	}

	// Autocomplete through the tester; 400 for a connector without it.
	ac, err := f.c.Autocomplete(ctx, p.ID)
	if err != nil || fmt.Sprint(ac.Values["topic"]) != "[orders payments@localhost:9092]" {
		t.Errorf("autocomplete: %+v %v", ac, err)
	}
	if _, err := f.c.Autocomplete(ctx, "cp_nope"); !client.IsNotFound(err) {
		t.Errorf("autocomplete of a missing profile: %v", err)
	}

	// In use by a table: 409; then deleted.
	tbl, err := f.c.CreateConnectionTable(ctx, api.ConnectionTablePost{Name: "orders", Connector: "fakekafka", ConnectionProfileID: &p.ID,
		Config: map[string]any{"topic": "orders", "type": "source"}, Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: []api.SourceField{{FieldName: "id", FieldType: api.FieldType{SQLName: ptr("BIGINT")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.ConnectionProfile == nil || tbl.ConnectionProfile.Config["auth.password"] != api.Redacted {
		t.Errorf("table's profile: %+v", tbl.ConnectionProfile)
	}
	if err := f.c.DeleteConnectionProfile(ctx, p.ID); !client.IsConflict(err) {
		t.Errorf("delete of a profile in use: %v, want 409", err)
	}
	if err := f.c.DeleteConnectionTable(ctx, tbl.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.c.DeleteConnectionProfile(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.c.DeleteConnectionProfile(ctx, p.ID); !client.IsNotFound(err) {
		t.Errorf("second delete: %v, want 404", err)
	}
	ps, err := f.c.ConnectionProfiles(ctx)
	if err != nil || len(ps) != 0 {
		t.Errorf("profiles left: %v %v", ps, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestConnectionTables(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testConnectionTables(t, newFixture(t, nil)) })
	t.Run("postgres", func(t *testing.T) { testConnectionTables(t, newPostgresFixture(t)) })
}

func testConnectionTables(t *testing.T, f *fixture) {
	imp, err := f.c.CreateConnectionTable(ctx, api.ConnectionTablePost{Name: "ticks", Connector: "impulse", Config: map[string]any{"event_rate": 10, "message_count": "100"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(imp.ID, "ct_") || imp.TableType != "source" || imp.Config["event_rate"] != "10" || imp.Schema == nil || len(imp.Schema.Fields) != 3 {
		t.Errorf("impulse table: %+v (schema %+v)", imp, imp.Schema)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	sf, err := f.c.CreateConnectionTable(ctx, api.ConnectionTablePost{Name: "events", Connector: "single_file",
		Config: map[string]any{"path": in, "type": "source"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {"timestampFormat": "unix_millis", "confluentSchemaRegistry": false}}, BadData: map[string]any{"drop": map[string]any{}},
			Fields: []api.SourceField{{FieldName: "id", FieldType: api.FieldType{Type: map[string]any{"primitive": "Int64"}}}, {FieldName: "name", FieldType: api.FieldType{SQLName: ptr("TEXT")}, Nullable: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	if sf.TableType != "source" || len(sf.Schema.Fields) != 2 {
		t.Errorf("single_file table %+v", sf)
	}
	// Errors name the field or option.
	cases := []struct {
		name, body string
		parts      []string
	}{
		{"bad option value", `{"name":"a","connector":"impulse","config":{"event_rate":"fast"}}`, []string{"event_rate", "expected a number"}},
		{"unknown option", `{"name":"a","connector":"impulse","config":{"rate":"1"}}`, []string{"rate", "known options"}},
		{"missing required", `{"name":"a","connector":"single_file","config":{"type":"source"},"schema":{"format":{"json":{}},"fields":[{"fieldName":"x","fieldType":{"sqlName":"TEXT"}}]}}`, []string{"path", "required"}},
		{"type needed", `{"name":"a","connector":"single_file","config":{"path":"/tmp/x"}}`, []string{"config.type", "source"}},
		{"bad sql type", `{"name":"a","connector":"single_file","config":{"path":"/tmp/x","type":"source"},"schema":{"format":{"json":{}},"fields":[{"fieldName":"x","fieldType":{"sqlName":"TEXT) WITH (connector = 'impulse'); --"}}]}}`, []string{"schema.fields[0]", "sqlName"}},
		{"unknown format", `{"name":"a","connector":"single_file","config":{"path":"/tmp/x","type":"source"},"schema":{"format":{"xml":{}}}}`, []string{"schema.format", "xml"}},
		{"unsupported format option", `{"name":"a","connector":"single_file","config":{"path":"/tmp/x","type":"source"},"schema":{"format":{"json":{"xyzzyMode":true}}}}`, []string{"xyzzyMode"}},
		{"missing profile", `{"name":"a","connector":"fakekafka","connectionProfileId":"cp_nope","config":{"topic":"t"}}`, []string{"connectionProfileId", "cp_nope"}},
		{"array value", `{"name":"a","connector":"impulse","config":{"event_rate":[1]}}`, []string{"config.event_rate", "array"}},
		{"wrong JSON type", `{"name":5,"connector":"impulse"}`, []string{"body.name"}},
		{"malformed JSON", `{"name":`, []string{}},
	}
	for _, tc := range cases {
		status, body, _ := f.raw(t, "POST", "/api/v1/connection_tables", tc.body, true)
		wantErr(t, tc.name, status, body, 400, tc.parts...)
	}
	if _, err := f.c.CreateConnectionTable(ctx, api.ConnectionTablePost{Name: "ticks", Connector: "impulse", Config: map[string]any{"event_rate": 1}}); !client.IsConflict(err) {
		t.Errorf("duplicate table name: %v, want 409", err)
	}
	// Pagination: newest first.
	for i := 0; i < 3; i++ {
		if _, err := f.c.CreateConnectionTable(ctx, api.ConnectionTablePost{Name: fmt.Sprint("gen", i), Connector: "nexmark", Config: map[string]any{"event_rate": 10}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	page := client.Page{Limit: 2}
	for n := 0; n < 5; n++ {
		c, err := f.c.ConnectionTables(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range c.Data {
			names = append(names, tb.Name)
		}
		if !c.HasMore {
			break
		}
		page.StartingAfter = c.Data[len(c.Data)-1].ID
	}
	if got := strings.Join(names, ","); got != "gen2,gen1,gen0,events,ticks" {
		t.Errorf("paginated tables: %s", got)
	}
	status, body, _ := f.raw(t, "GET", "/api/v1/connection_tables?limit=0", "", true)
	wantErr(t, "limit 0", status, body, 400, "limit")
	status, body, _ = f.raw(t, "GET", "/api/v1/connection_tables?starting_after=ct_nope", "", true)
	wantErr(t, "unknown cursor", status, body, 400, "starting_after", "ct_nope")
	if err := f.c.DeleteConnectionTable(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.c.DeleteConnectionTable(ctx, imp.ID); !client.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
}

func TestSchemaTest(t *testing.T) {
	f := newFixture(t, nil)
	ok := api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: []api.SourceField{{FieldName: "a", FieldType: api.FieldType{SQLName: ptr("BIGINT")}}}}
	if err := f.c.TestSchema(ctx, ok); err != nil {
		t.Errorf("valid schema: %v", err)
	}
	bad := api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: []api.SourceField{{FieldName: "a", FieldType: api.FieldType{SQLName: ptr("WIBBLE")}}}}
	if err := f.c.TestSchema(ctx, bad); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "WIBBLE") {
		t.Errorf("unknown type: %v", err)
	}
	if err := f.c.TestSchema(ctx, api.ConnectionSchema{}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "schema.format") {
		t.Errorf("no format: %v", err)
	}
}

// collect runs a table test through the client.
func collect(t *testing.T, f *fixture, post api.ConnectionTablePost) []api.TestSourceMessage {
	t.Helper()
	var ms []api.TestSourceMessage
	err := f.c.TestConnectionTable(ctx, post, func(m api.TestSourceMessage) error {
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || !ms[len(ms)-1].Done {
		t.Fatalf("the last message is not done: %+v", ms)
	}
	for _, m := range ms[:len(ms)-1] {
		if m.Done {
			t.Errorf("a message before the last has done: %+v", m)
		}
	}
	return ms
}

func statuses(ms []api.TestSourceMessage) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Status)
	}
	return strings.Join(s, ",")
}

func TestTableTestGenerators(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.SampleRows = 3 })
	ms := collect(t, f, api.ConnectionTablePost{Name: "ticks", Connector: "impulse", Config: map[string]any{"event_rate": 1000}})
	if got := statuses(ms); got != "info,info,data,data,data,done" {
		t.Errorf("impulse test: %s\n%+v", got, ms)
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(ms[2].Message), &row); err != nil || row["counter"] != float64(0) {
		t.Errorf("impulse sample row %q: %v", ms[2].Message, err)
	}
	if ms[len(ms)-1].Error {
		t.Errorf("passed test ends with error: %+v", ms[len(ms)-1])
	}
	ms = collect(t, f, api.ConnectionTablePost{Name: "bids", Connector: "nexmark", Config: map[string]any{"event_rate": 100000}})
	if got := statuses(ms); got != "info,info,data,data,data,done" {
		t.Errorf("nexmark test: %s", got)
	}
	if !strings.Contains(ms[2].Message, `"person"`) && !strings.Contains(ms[2].Message, `"bid"`) && !strings.Contains(ms[2].Message, `"auction"`) {
		t.Errorf("nexmark sample row: %s", ms[2].Message)
	}
}

func TestTableTestFiles(t *testing.T) {
	f := newFixture(t, nil)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	fields := []api.SourceField{{FieldName: "a", FieldType: api.FieldType{SQLName: ptr("BIGINT")}}}
	ms := collect(t, f, api.ConnectionTablePost{Name: "in", Connector: "single_file", Config: map[string]any{"path": missing, "type": "source"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: fields}})
	if got := statuses(ms); got != "info,error,done" || !ms[1].Error || !strings.Contains(ms[1].Message, "missing.json") || !ms[2].Error {
		t.Errorf("missing file: %+v", ms)
	}
	in := filepath.Join(dir, "in.json")
	if err := os.WriteFile(in, []byte("{\"a\":1}\n{\"a\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms = collect(t, f, api.ConnectionTablePost{Name: "in", Connector: "single_file", Config: map[string]any{"path": in, "type": "source"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: fields}})
	if got := statuses(ms); got != "info,info,data,data,info,done" || ms[2].Message != `{"a":1}` || !strings.Contains(ms[4].Message, "end of input after 2 rows") {
		t.Errorf("file with two rows: %+v", ms)
	}
	// A bad record is an error step with its reason.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\"a\":1}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms = collect(t, f, api.ConnectionTablePost{Name: "in", Connector: "single_file", Config: map[string]any{"path": bad, "type": "source"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: fields}})
	if last := ms[len(ms)-2]; last.Status != "error" || !strings.Contains(last.Message, "bad.json:2: bad record") || !ms[len(ms)-1].Error {
		t.Errorf("bad record: %+v", ms)
	}
	// A sink: its directory must exist; nothing is written.
	out := filepath.Join(dir, "out.json")
	ms = collect(t, f, api.ConnectionTablePost{Name: "out", Connector: "single_file", Config: map[string]any{"path": out, "type": "sink"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: fields}})
	if got := statuses(ms); got != "info,info,done" || ms[2].Error {
		t.Errorf("sink test: %+v", ms)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the sink test wrote %s", out)
	}
	ms = collect(t, f, api.ConnectionTablePost{Name: "out", Connector: "single_file", Config: map[string]any{"path": filepath.Join(dir, "nodir", "out.json"), "type": "sink"}})
	if got := statuses(ms); got != "info,error,done" || !strings.Contains(ms[1].Message, "nodir") {
		t.Errorf("sink in a missing directory: %+v", ms)
	}
	// A body that does not validate is still a stream: an error step, then done.
	ms = collect(t, f, api.ConnectionTablePost{Name: "x", Connector: "impulse", Config: map[string]any{"event_rate": "fast"}})
	if got := statuses(ms); got != "error,done" || !strings.Contains(ms[0].Message, "event_rate") {
		t.Errorf("invalid table: %+v", ms)
	}
}

func TestTableTestRegisteredTester(t *testing.T) {
	f := newFixture(t, nil)
	p, err := f.c.CreateConnectionProfile(ctx, api.ConnectionProfilePost{Name: "k", Connector: "fakekafka", Config: map[string]any{"bootstrap_servers": "b:9092", "auth.password": "s3cr3t"}})
	if err != nil {
		t.Fatal(err)
	}
	sc := &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: []api.SourceField{{FieldName: "id", FieldType: api.FieldType{SQLName: ptr("BIGINT")}}}}
	ms := collect(t, f, api.ConnectionTablePost{Name: "t", Connector: "fakekafka", ConnectionProfileID: &p.ID, Config: map[string]any{"topic": "orders", "type": "source"}, Schema: sc})
	if got := statuses(ms); got != "info,info,info,done" || ms[1].Message != "connected to b:9092" || ms[2].Message != "topic 'orders' found" {
		t.Errorf("tester steps: %+v", ms)
	}
	ms = collect(t, f, api.ConnectionTablePost{Name: "t", Connector: "fakekafka", ConnectionProfileID: &p.ID, Config: map[string]any{"topic": "missing", "type": "source"}, Schema: sc})
	if got := statuses(ms); got != "info,info,error,done" || !strings.Contains(ms[2].Message, "'missing' not found") {
		t.Errorf("tester failure: %+v", ms)
	}
	g := newFixtureOn(t, f.st, func(o *api.Options) { o.StepTimeout, o.SampleTimeout = 50*time.Millisecond, 50*time.Millisecond })
	slow := collect(t, g, api.ConnectionTablePost{Name: "t", Connector: "fakekafka", ConnectionProfileID: &p.ID, Config: map[string]any{"topic": "slow", "type": "source"}, Schema: sc})
	if got := statuses(slow); got != "info,info,error,done" || !strings.Contains(slow[2].Message, "did not finish within 150ms") {
		t.Errorf("a tester that hangs: %+v", slow)
	}
	for _, m := range ms {
		if strings.Contains(m.Message, "s3cr3t") {
			t.Errorf("a message shows the secret: %+v", m)
		}
	}
}

// TestTableTestSSEFraming reads the stream as a browser does: the content
// type, and each event a "data: {json}" line and a blank line.
func TestTableTestSSEFraming(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.SampleRows = 1 })
	status, body, hdr := f.raw(t, "POST", "/api/v1/connection_tables/test", `{"name":"t","connector":"impulse","config":{"event_rate":"100"}}`, true)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", status, hdr.Get("Content-Type"))
	}
	events := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
	if len(events) != 4 {
		t.Fatalf("%d events, want 4:\n%s", len(events), body)
	}
	for _, e := range events {
		if !strings.HasPrefix(e, "data: {") || strings.Contains(e, "\n") {
			t.Errorf("event %q: want one data: line", e)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(e, "data: ")), &m); err != nil {
			t.Errorf("event %q: %v", e, err)
		}
		for _, k := range []string{"error", "done", "message", "status"} {
			if _, ok := m[k]; !ok {
				t.Errorf("event %q has no %s", e, k)
			}
		}
	}
}

// TestTableTestDisconnect: a client that goes away mid-test cancels it at
// once, and nothing of it is left running.
func TestTableTestDisconnect(t *testing.T) {
	f := newFixture(t, func(o *api.Options) {
		o.SampleRows = 1000
		o.SampleTimeout = time.Minute
		o.StepTimeout = time.Minute
	})
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr}
	c := client.New(f.http.URL, token).WithHTTPClient(hc)
	before := runtime.NumGoroutine()
	rctx, cancel := context.WithCancel(ctx)
	first := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		// One row a second: the test would take 1000 s.
		done <- c.TestConnectionTable(rctx, api.ConnectionTablePost{Name: "t", Connector: "impulse", Config: map[string]any{"event_rate": 1}},
			func(m api.TestSourceMessage) error {
				if m.Status == "data" {
					select {
					case <-first:
					default:
						close(first)
					}
				}
				return nil
			})
	}()
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("no data event within 30s")
	}
	if n := f.srv.ActiveTests(); n != 1 {
		t.Errorf("%d tests running, want 1", n)
	}
	start := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v, want context.Canceled", err)
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.ActiveTests() != 0 || runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("after the disconnect: %d tests running, %d goroutines (before: %d)\n%s", f.srv.ActiveTests(), runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(start); d > 5*time.Second { // generous: CI machines are loaded
		t.Errorf("the test took %s to end after the disconnect", d)
	}
}

func TestUDFs(t *testing.T) {
	f := newFixture(t, nil)
	mod := []byte("\x00asm\x01\x00\x00\x00")
	if _, err := f.c.CreateUDF(ctx, api.UdfPost{Definition: mod}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "name") {
		t.Errorf("udf without a name (no host): %v", err)
	}
	if _, err := f.c.CreateUDF(ctx, api.UdfPost{Name: "double", Definition: []byte("not wasm")}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "definition") {
		t.Errorf("not a module: %v", err)
	}
	if _, err := f.c.CreateUDF(ctx, api.UdfPost{Name: "double", Language: "python", Definition: mod}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "language") {
		t.Errorf("python: %v", err)
	}
	u, err := f.c.CreateUDF(ctx, api.UdfPost{Name: "double", Definition: mod, Description: "x*2"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, "udf_") || u.Language != "wasm" || !strings.Contains(u.Definition, "8 bytes") {
		t.Errorf("udf %+v", u)
	}
	if _, err := f.c.CreateUDF(ctx, api.UdfPost{Name: "double", Definition: mod}); !client.IsConflict(err) {
		t.Errorf("duplicate: %v", err)
	}
	v, err := f.c.ValidateUDF(ctx, api.ValidateUdfPost{Definition: []byte("nope")})
	if err != nil || len(v.Errors) != 1 {
		t.Errorf("validate a bad module: %+v %v", v, err)
	}
	us, err := f.c.UDFs(ctx)
	if err != nil || len(us) != 1 {
		t.Errorf("udfs %v %v", us, err)
	}
	if err := f.c.DeleteUDF(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.c.DeleteUDF(ctx, u.ID); !client.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}

	// With a host: it names the function and refuses what it cannot load.
	g := newFixture(t, func(o *api.Options) { o.UDFs = fakeHost{} })
	u, err = g.c.CreateUDF(ctx, api.UdfPost{Definition: mod})
	if err != nil || u.Name != "from_module" {
		t.Errorf("udf named by the host: %+v %v", u, err)
	}
	v, err = g.c.ValidateUDF(ctx, api.ValidateUdfPost{Definition: append(mod, 0xff)})
	if err != nil || len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "trailing garbage") || v.UdfName != nil {
		t.Errorf("host refuses: %+v %v", v, err)
	}
	v, err = g.c.ValidateUDF(ctx, api.ValidateUdfPost{Definition: mod})
	if err != nil || len(v.Errors) != 0 || v.UdfName == nil || *v.UdfName != "from_module" {
		t.Errorf("host accepts: %+v %v", v, err)
	}
}

type fakeHost struct{}

func (fakeHost) Validate(_ context.Context, m []byte) (string, error) {
	if len(m) > 8 {
		return "", errors.New("trailing garbage after the module")
	}
	return "from_module", nil
}

func (fakeHost) Functions(context.Context, []*store.UDF) (*expr.Registry, error) {
	return expr.Builtins(), nil
}

const query = `CREATE TABLE ticks WITH (connector = 'impulse', event_rate = '10');
SELECT counter FROM ticks;`

// TestPipelines runs on SQLite and on PostgreSQL.
func TestPipelines(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPipelines(t, newFixture(t, nil)) })
	t.Run("postgres", func(t *testing.T) { testPipelines(t, newPostgresFixture(t)) })
}

func newPostgresFixture(t *testing.T) *fixture {
	srv := storetest.Start(t)
	st, err := store.Open(ctx, store.Config{Postgres: srv.NewDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, nil)
}

func testPipelines(t *testing.T, f *fixture) {
	p, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "ticks", Query: query, Parallelism: 2, CheckpointIntervalMicros: ptr(uint64(5_000_000))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "pl_") || p.Stop != "none" || p.Graph == nil || len(p.Graph.Nodes) < 2 || len(p.Graph.Edges) < 1 || p.CheckpointIntervalMicros != 5_000_000 || p.Parallelism != 2 {
		t.Errorf("created pipeline %+v", p)
	}
	if p.ActionText != "Stop" {
		t.Errorf("action text of a running pipeline: %q", p.ActionText)
	}
	if calls := f.runner.Calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], "start "+p.ID) {
		t.Errorf("runner calls %v", calls)
	}
	got, err := f.c.Pipeline(ctx, p.ID)
	if err != nil || got.Query != query || got.Graph == nil {
		t.Errorf("get: %+v %v", got, err)
	}
	jobs, err := f.c.PipelineJobs(ctx, p.ID)
	if err != nil || len(jobs) != 1 || jobs[0].State != "Running" || !jobs[0].RunningDesired {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	job := jobs[0]

	// SQL errors carry the line and column.
	status, body, _ := f.raw(t, "POST", "/api/v1/pipelines", `{"name":"bad","query":"CREATE TABLE t WITH (connector = 'impulse', event_rate = '1');\nSELECT nope FROM t;","parallelism":1}`, true)
	wantErr(t, "bad query", status, body, 400, "query", "2:8", "nope")
	status, body, _ = f.raw(t, "POST", "/api/v1/pipelines", `{"name":"bad","query":"","parallelism":1}`, true)
	wantErr(t, "empty query", status, body, 400, "body.query")
	status, body, _ = f.raw(t, "POST", "/api/v1/pipelines", `{"name":"bad","query":"SELECT 1","parallelism":0}`, true)
	wantErr(t, "parallelism 0", status, body, 400, "parallelism")
	status, body, _ = f.raw(t, "POST", "/api/v1/pipelines", `{"name":"u","query":"SELECT 1","parallelism":1,"udfs":[{"name":"x"}]}`, true)
	wantErr(t, "udfs without a host", status, body, 400, "udfs")

	// validate_query: the graph, or diagnostics.
	v, err := f.c.ValidateQuery(ctx, api.ValidateQueryPost{Query: query})
	if err != nil || v.Graph == nil || len(v.Errors) != 0 {
		t.Errorf("valid query: %+v %v", v, err)
	}
	v, err = f.c.ValidateQuery(ctx, api.ValidateQueryPost{Query: "CREATE TABLE t WITH (connector = 'impulse', event_rate = '1');\n\n  SELECT nope FROM t;"})
	if err != nil || v.Graph != nil || len(v.Diagnostics) != 1 || v.Diagnostics[0].Line != 3 || v.Diagnostics[0].Column != 10 || !strings.Contains(v.Errors[0], "nope") {
		t.Errorf("invalid query: %+v %v", v, err)
	}

	// A running pipeline is not deleted.
	if err := f.c.DeletePipeline(ctx, p.ID); !client.IsConflict(err) || !strings.Contains(err.Error(), "Running") {
		t.Errorf("delete while running: %v, want 409", err)
	}
	// Restart without force: 409.
	if _, err := f.c.RestartPipeline(ctx, p.ID, api.PipelineRestart{}); !client.IsConflict(err) {
		t.Errorf("restart while running: %v, want 409", err)
	}
	// Stop with a checkpoint.
	stopped, err := f.c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr("checkpoint")})
	if err != nil || stopped.Stop != "checkpoint" {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	if calls := f.runner.Calls(); calls[len(calls)-1] != "stop "+job.ID+" checkpoint" {
		t.Errorf("runner calls %v", calls)
	}
	status, body, _ = f.raw(t, "PATCH", "/api/v1/pipelines/"+p.ID, `{"stop":"later"}`, true)
	wantErr(t, "bad stop mode", status, body, 400, "stop")
	// Resume at another parallelism: a restart.
	resumed, err := f.c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr("none"), Parallelism: ptr(3)})
	if err != nil || resumed.Stop != "none" || resumed.Parallelism != 3 {
		t.Fatalf("resume: %+v %v", resumed, err)
	}
	if calls := f.runner.Calls(); calls[len(calls)-1] != "restart "+p.ID+" p=3 force=false ignore=false" {
		t.Errorf("runner calls %v", calls)
	}
	if _, err := f.c.RestartPipeline(ctx, p.ID, api.PipelineRestart{Force: ptr(true), IgnoreState: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if calls := f.runner.Calls(); calls[len(calls)-1] != "restart "+p.ID+" p=3 force=true ignore=true" {
		t.Errorf("runner calls %v", calls)
	}
	jobs, _ = f.c.PipelineJobs(ctx, p.ID)
	if len(jobs) != 3 {
		t.Errorf("%d jobs after two restarts, want 3", len(jobs))
	}

	// Checkpoints and errors of the first job.
	c := &store.Checkpoint{JobID: job.ID, Epoch: 1, State: store.CheckpointReady, Bytes: 10, FinishedAt: time.Now(),
		Operators: []store.OperatorCheckpoint{{OperatorID: "source_1", Bytes: 10, Subtasks: []store.SubtaskCheckpoint{{Index: 0, Bytes: 10}},
			Phases: []store.CheckpointPhaseSet{{Name: "sync", StartedAt: time.Now(), FinishedAt: time.Now()}}}}}
	if err := f.st.CreateCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	cps, err := f.c.Checkpoints(ctx, p.ID, job.ID)
	if err != nil || len(cps) != 1 || cps[0].Epoch != 1 || cps[0].State != "ready" || cps[0].FinishTime == nil || len(cps[0].Events) != 1 {
		t.Errorf("checkpoints %+v %v", cps, err)
	}
	ops, err := f.c.CheckpointDetails(ctx, p.ID, job.ID, 1)
	if err != nil || len(ops) != 1 || ops[0].OperatorID != "source_1" || len(ops[0].Subtasks) != 1 {
		t.Errorf("checkpoint details %+v %v", ops, err)
	}
	if _, err := f.c.CheckpointDetails(ctx, p.ID, job.ID, 9); !client.IsNotFound(err) {
		t.Errorf("missing epoch: %v", err)
	}
	if _, err := f.c.Checkpoints(ctx, "pl_other", job.ID); !client.IsNotFound(err) {
		t.Errorf("job under the wrong pipeline: %v", err)
	}
	one := 1
	for i := 0; i < 3; i++ {
		if err := f.st.AddJobLog(ctx, &store.JobLog{JobID: job.ID, Level: store.LogError, OperatorID: "agg_2", Subtask: &one, Message: fmt.Sprint("boom ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	errs, err := f.c.JobErrors(ctx, p.ID, job.ID, client.Page{Limit: 2})
	if err != nil || len(errs.Data) != 2 || !errs.HasMore || errs.Data[0].Message != "boom 2" || *errs.Data[0].OperatorID != "agg_2" || *errs.Data[0].TaskIndex != 1 {
		t.Errorf("job errors %+v %v", errs, err)
	}
	all, err := f.c.Jobs(ctx)
	if err != nil || len(all) != 3 {
		t.Errorf("all jobs: %d %v", len(all), err)
	}

	// Stop, then delete.
	if _, err := f.c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr("immediate")}); err != nil {
		t.Fatal(err)
	}
	if err := f.c.DeletePipeline(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Pipeline(ctx, p.ID); !client.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}

	// A start that fails keeps nothing.
	f.runner.startErr = errors.New("no worker slots")
	if _, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "x", Query: query, Parallelism: 1}); client.StatusOf(err) != 500 || !strings.Contains(err.Error(), "no worker slots") {
		t.Errorf("failed start: %v", err)
	}
	list, err := f.c.Pipelines(ctx, client.Page{})
	if err != nil || len(list.Data) != 0 {
		t.Errorf("pipelines after a failed start: %+v %v", list, err)
	}
}

func TestPipelinePagination(t *testing.T) {
	f := newFixture(t, nil)
	var want []string
	for i := 0; i < 5; i++ {
		p, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: fmt.Sprint("p", i), Query: query, Parallelism: 1})
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{p.ID}, want...)
	}
	var got []string
	page := client.Page{Limit: 2}
	for n := 0; n < 5; n++ {
		c, err := f.c.Pipelines(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Data {
			got = append(got, p.ID)
			if p.Graph == nil {
				t.Errorf("listed pipeline %s has no graph", p.ID)
			}
		}
		if !c.HasMore {
			break
		}
		page.StartingAfter = c.Data[len(c.Data)-1].ID
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages: %v, want %v", got, want)
	}
	status, body, _ := f.raw(t, "GET", "/api/v1/pipelines?limit=abc", "", true)
	wantErr(t, "limit abc", status, body, 400, "limit")
}

func TestNoRunner(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.Runner = nil })
	p, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "x", Query: query, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.RestartPipeline(ctx, p.ID, api.PipelineRestart{}); !client.IsConflict(err) {
		t.Errorf("restart without a runner: %v, want 409", err)
	}
	if err := f.c.DeletePipeline(ctx, p.ID); err != nil {
		t.Errorf("delete of a pipeline that never ran: %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.MaxBodyBytes = 1024 })
	big := `{"name":"x","query":"` + strings.Repeat("a", 4096) + `","parallelism":1}`
	status, body, _ := f.raw(t, "POST", "/api/v1/pipelines", big, true)
	wantErr(t, "oversized body", status, body, http.StatusRequestEntityTooLarge)
	status, body, _ = f.raw(t, "POST", "/api/v1/connection_tables/test", `{"name":"x","connector":"impulse","config":{"a":"`+strings.Repeat("a", 4096)+`"}}`, true)
	wantErr(t, "oversized test body", status, body, http.StatusRequestEntityTooLarge)
}

func TestNotFound(t *testing.T) {
	f := newFixture(t, nil)
	for _, path := range []string{"/api/v1/pipelines/pl_nope", "/api/v1/pipelines/pl_nope/jobs", "/api/v1/pipelines/pl_nope/jobs/job_nope/errors"} {
		status, body, _ := f.raw(t, "GET", path, "", true)
		wantErr(t, path, status, body, 404, "not found")
	}
	status, body, _ := f.raw(t, "DELETE", "/api/v1/udfs/udf_nope", "", true)
	wantErr(t, "delete udf", status, body, 404, "udf_nope")
}

// FuzzRequestBodies: no body makes the API panic or fail with a 5xx, and
// every refused body is a 400 (or 413/409/404) with {"error": ...}.
func FuzzRequestBodies(f *testing.F) {
	routes := []string{"/api/v1/pipelines", "/api/v1/pipelines/validate_query", "/api/v1/connection_tables", "/api/v1/connection_profiles",
		"/api/v1/connection_profiles/test", "/api/v1/connection_tables/schemas/test", "/api/v1/udfs", "/api/v1/udfs/validate"}
	seeds := []string{``, `{}`, `null`, `[]`, `{"name":"x","query":"SELECT 1","parallelism":1}`, `{"name":"x","connector":"impulse","config":{"event_rate":"1"}}`,
		`{"name":"x","connector":"single_file","config":{"path":"/tmp/x","type":"source"},"schema":{"format":{"json":{}},"fields":[{"fieldName":"a","fieldType":{"sqlName":"BIGINT"}}]}}`,
		`{"format":{"json":{"unstructured":true}},"fields":[{"fieldName":"a","fieldType":{"type":{"primitive":"Json"}}}]}`,
		`{"definition":"AGFzbQEAAAA=","name":"f"}`, `{"name":"x","connector":"impulse","config":{"a":{"b":{"c":[1]}}}}`, "{\"name\":\"\x00\"}", `{"query":"CREATE TABLE t WITH (connector='impulse'); SELECT * FROM t"}`}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	fx := newFixture(f, nil)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := routes[int(route)%len(routes)]
		req, _ := http.NewRequest("POST", fx.http.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, resp.StatusCode, b)
		}
		if !json.Valid(body) && resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST %s with malformed JSON %q: %d, want 400 (%s)", path, body, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			var eb map[string]any
			if json.Unmarshal(b, &eb) != nil || eb["error"] == nil {
				t.Fatalf("POST %s %q: %d without {\"error\"}: %s", path, body, resp.StatusCode, b)
			}
		}
	})
}

// TestAccessLog: requests are logged at debug level without their
// headers or bodies (no token, no secret).
func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, func(o *api.Options) { o.Logger = log })
	status, _, _ := f.raw(t, "POST", "/api/v1/connection_profiles", `{"name":"k","connector":"fakekafka","config":{"bootstrap_servers":"b","auth.password":"hunter2"}}`, true)
	if status != 200 {
		t.Fatalf("create profile: %d", status)
	}
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if !strings.Contains(out, "method=POST path=/api/v1/connection_profiles status=200") {
		t.Errorf("access log: %q", out)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, token) {
		t.Errorf("the log shows a secret: %q", out)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPreviewOutputMetrics(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.PreviewSink, o.DefaultSink = "blackhole", "stdout" })
	p, err := f.c.CreatePreview(ctx, api.PipelinePost{Name: "peek", Query: query, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Preview || p.Graph == nil {
		t.Errorf("preview pipeline %+v", p)
	}
	jobs, err := f.c.PipelineJobs(ctx, p.ID)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %v %v", jobs, err)
	}
	// A preview restarts with its bare SELECT still going to the preview sink.
	if _, err := f.c.RestartPipeline(ctx, p.ID, api.PipelineRestart{Force: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if sinks := f.runner.LastSinks(); fmt.Sprint(sinks) != "[blackhole]" {
		t.Errorf("the restarted preview writes to %v, want the preview sink [blackhole]", sinks)
	}
	var got []api.OutputData
	if err := f.c.JobOutput(ctx, p.ID, jobs[0].ID, func(d api.OutputData) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Batch != "{\"counter\":2}\n" || got[0].OperatorID != "sink_1" {
		t.Errorf("output %+v", got)
	}
	ms, err := f.c.OperatorMetrics(ctx, p.ID, jobs[0].ID)
	if err != nil || len(ms) != 1 || ms[0].MetricGroups[0].Subtasks[0].Metrics[0].Value != 42 {
		t.Errorf("metrics %+v %v", ms, err)
	}
	if err := f.c.JobOutput(ctx, p.ID, "job_nope", func(api.OutputData) error { return nil }); !client.IsNotFound(err) {
		t.Errorf("output of a missing job: %v", err)
	}

	g := newFixture(t, func(o *api.Options) { o.PreviewSink = "nope" })
	if _, err := g.c.CreatePreview(ctx, api.PipelinePost{Name: "peek", Query: query, Parallelism: 1}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "preview sink") {
		t.Errorf("no preview sink: %v", err)
	}
	h := newFixture(t, func(o *api.Options) { o.Runner = nil })
	hp, err := h.c.CreatePipeline(ctx, api.PipelinePost{Name: "x", Query: query, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	j := &store.Job{PipelineID: hp.ID}
	if err := h.st.CreateJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.OperatorMetrics(ctx, hp.ID, j.ID); !client.IsConflict(err) {
		t.Errorf("metrics without a runner: %v, want 409", err)
	}
	if err := h.c.JobOutput(ctx, hp.ID, j.ID, func(api.OutputData) error { return nil }); !client.IsConflict(err) {
		t.Errorf("output without a runner: %v, want 409", err)
	}
}
