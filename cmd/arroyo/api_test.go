package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/controlplane/store/storetest"
)

func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "meta", "arroyo.sqlite")
	env := []string{"ARROYO__DATABASE__SQLITE__PATH=" + db}
	r := runArroyoEnv(t, env, "migrate")
	if r.code != 0 || !strings.Contains(r.stdout, "applied migrations 1, 2; schema version 2") {
		t.Fatalf("first migrate: %+v", r)
	}
	r = runArroyoEnv(t, env, "migrate")
	if r.code != 0 || !strings.Contains(r.stdout, "schema up to date (version 2)") {
		t.Fatalf("second migrate: %+v", r)
	}
	r = runArroyoEnv(t, []string{"ARROYO__DATABASE__TYPE=mysql"}, "migrate")
	if r.code == 0 || !strings.Contains(r.stderr, "database.type") {
		t.Errorf("bad database type: %+v", r)
	}
}

var listening = regexp.MustCompile(`(API|admin) listening on (http://[^ /]+)`)

// startAPIProcess starts `arroyo api` with env and returns the API's and the
// admin endpoint's base URLs; the test's cleanup stops it with SIGTERM
// and checks it exits 0.
func startAPIProcess(t *testing.T, env []string) (apiURL, adminURL string) {
	t.Helper()
	cmd := exec.Command(binary, "api")
	cmd.Env = append(os.Environ(), append([]string{"ARROYO__API__HTTP_PORT=0", "ARROYO__ADMIN__HTTP_PORT=0"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	exited := make(chan error, 1)
	var log []string
	deadline := time.After(30 * time.Second)
	for apiURL == "" || adminURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("arroyo api exited: %s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if m := listening.FindStringSubmatch(l); m != nil {
				if m[1] == "API" {
					apiURL = m[2]
				} else {
					adminURL = m[2]
				}
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("arroyo api did not say where it listens: %s", strings.Join(log, "\n"))
		}
	}
	go func() {
		for l := range lines {
			log = append(log, l)
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("arroyo api exited with %v: %s", err, strings.Join(log, "\n"))
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("arroyo api did not stop on SIGTERM")
		}
	})
	return apiURL, adminURL
}

func TestAPICommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "arroyo.sqlite")
	apiURL, adminURL := startAPIProcess(t, []string{"ARROYO__DATABASE__SQLITE__PATH=" + db, "ARROYO__API__AUTH_MODE=static", "ARROYO__API__AUTH_TOKEN=tok"})
	exerciseAPI(t, apiURL, adminURL)
}

// TestAPICommandPostgres runs `arroyo api` on PostgreSQL, as `arroyo api`
// and `arroyo controller` share it in production.
func TestAPICommandPostgres(t *testing.T) {
	srv := storetest.Start(t)
	u, err := url.Parse(srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	apiURL, adminURL := startAPIProcess(t, []string{"ARROYO__DATABASE__TYPE=postgres", "ARROYO__DATABASE__POSTGRES__HOST=127.0.0.1",
		"ARROYO__DATABASE__POSTGRES__PORT=" + u.Port(), "ARROYO__DATABASE__POSTGRES__USER=arroyo",
		"ARROYO__DATABASE__POSTGRES__DATABASE_NAME=" + strings.TrimPrefix(u.Path, "/"), "ARROYO__DATABASE__POSTGRES__SSLMODE=disable",
		"ARROYO__API__AUTH_MODE=static", "ARROYO__API__AUTH_TOKEN=tok"})
	exerciseAPI(t, apiURL, adminURL)
}

func exerciseAPI(t *testing.T, apiURL, adminURL string) {
	ctx := context.Background()
	c := client.New(apiURL, "tok")
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(apiURL, "").Pipelines(ctx, client.Page{}); client.StatusOf(err) != 401 {
		t.Errorf("without the token: %v, want 401", err)
	}
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "ticks", Query: "CREATE TABLE t WITH (connector = 'impulse', event_rate = '1');\nSELECT counter FROM t;", Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Pipelines(ctx, client.Page{Limit: 10})
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != p.ID {
		t.Errorf("pipelines: %+v %v", list, err)
	}
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `arroyo_api_requests_total{method="POST",route="POST /api/v1/pipelines",status="200"} 1`) {
		t.Errorf("metrics do not count the POST:\n%s", body)
	}
	resp, err = http.Get(adminURL + "/debug/pprof/goroutine?debug=1")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("pprof: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// TestStartAPIServer: the in-process API `arroyo run` and `arroyo cluster`
// start on a free port stops when its context ends.
func TestStartAPIServer(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "state.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Admin.HTTPPort = -1
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startAPIServer(ctx, st, nil, cfg, 0, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.AdminURL != "" || !strings.HasPrefix(srv.APIURL, "http://127.0.0.1:") {
		t.Errorf("urls %q %q", srv.APIURL, srv.AdminURL)
	}
	if err := client.New(srv.APIURL, "").Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop")
	}
	if err := client.New(srv.APIURL, "").Ping(context.Background()); err == nil {
		t.Error("the server still answers after stopping")
	}
}
