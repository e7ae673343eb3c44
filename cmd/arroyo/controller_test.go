package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store/storetest"
)

// TestAPIAndControllerProcesses: `arroyo api` and `arroyo controller` as
// two processes on one SQLite file: a pipeline created through the API
// runs on the controller and checkpoints; a stop and a resume go through
// the API; the controller killed (SIGKILL) and started again resumes the
// pipeline from its last checkpoint (epochs continue).
func TestAPIAndControllerProcesses(t *testing.T) {
	db := filepath.Join(t.TempDir(), "arroyo.sqlite")
	exerciseController(t, []string{"ARROYO__DATABASE__SQLITE__PATH=" + db})
}

// TestAPIAndControllerProcessesPostgres is the same on PostgreSQL, the
// production setup (skipped without a PostgreSQL server unless
// ARROYO_REQUIRE_POSTGRES is set).
func TestAPIAndControllerProcessesPostgres(t *testing.T) {
	srv := storetest.Start(t)
	u, err := url.Parse(srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	exerciseController(t, []string{"ARROYO__DATABASE__TYPE=postgres", "ARROYO__DATABASE__POSTGRES__HOST=127.0.0.1",
		"ARROYO__DATABASE__POSTGRES__PORT=" + u.Port(), "ARROYO__DATABASE__POSTGRES__USER=arroyo",
		"ARROYO__DATABASE__POSTGRES__DATABASE_NAME=" + strings.TrimPrefix(u.Path, "/"), "ARROYO__DATABASE__POSTGRES__SSLMODE=disable"})
}

// startController starts `arroyo controller` with env; it returns once the
// controller has said it runs, and a function that kills it (SIGKILL, by
// PID) and waits for it to exit.
func startController(t *testing.T, env []string) (kill func()) {
	t.Helper()
	cmd := exec.Command(binary, "controller", "--poll-interval", "20ms")
	cmd.Env = append(os.Environ(), env...)
	w := &readyWriter{prefix: "controller: running", ready: make(chan struct{})}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("controller %d:\n%s", cmd.Process.Pid, w.text())
		}
	})
	select {
	case <-w.ready:
	case <-exited:
		t.Fatalf("arroyo controller exited: %s", w.text())
	case <-time.After(30 * time.Second):
		t.Fatalf("arroyo controller did not start within 30 s: %s", w.text())
	}
	return func() { cmd.Process.Kill(); <-exited }
}

// readyWriter collects a process's output and closes ready at the first
// line starting with prefix.
type readyWriter struct {
	prefix string
	ready  chan struct{}
	mu     sync.Mutex
	buf    strings.Builder
	said   bool
}

func (w *readyWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if !w.said {
		for _, l := range strings.Split(w.buf.String(), "\n") {
			if strings.HasPrefix(l, w.prefix) {
				w.said = true
				close(w.ready)
				break
			}
		}
	}
	return len(b), nil
}

func (w *readyWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func exerciseController(t *testing.T, env []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env = append(env, "ARROYO__CHECKPOINT_URL="+filepath.Join(t.TempDir(), "checkpoints"), "ARROYO__ADMIN__HTTP_PORT=-1")
	apiURL, _ := startAPIProcess(t, append(env, "ARROYO__ADMIN__HTTP_PORT=0"))
	c := client.New(apiURL, "")
	killController := startController(t, env)

	iv := uint64(20_000)
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "ticks", Parallelism: 1, CheckpointIntervalMicros: &iv,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '500');\nCREATE TABLE o WITH (connector = 'blackhole');\nINSERT INTO o SELECT counter % 5 AS k, count(*) AS c FROM i GROUP BY 1;"})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, done func(api.Job) bool) api.Job {
		t.Helper()
		j, err := c.WaitForJob(ctx, p.ID, 10*time.Millisecond, done)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		return *j
	}
	// lastEpoch waits until the job has a ready checkpoint after epoch
	// after, and returns the newest.
	lastEpoch := func(jobID string, after uint64) uint64 {
		t.Helper()
		for {
			cps, err := c.Checkpoints(ctx, p.ID, jobID)
			if err != nil {
				t.Fatal(err)
			}
			var last uint64
			for _, cp := range cps {
				if cp.State == "ready" && cp.Epoch > last {
					last = cp.Epoch
				}
			}
			if last > after {
				return last
			}
			select {
			case <-ctx.Done():
				t.Fatalf("job %s has no checkpoint after epoch %d", jobID, after)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	state := func(s string) func(api.Job) bool { return func(j api.Job) bool { return j.State == s } }

	first := wait("Running", state("Running"))
	lastEpoch(first.ID, 1)
	stop := "checkpoint"
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: &stop}); err != nil {
		t.Fatal(err)
	}
	wait("Stopped", state("Stopped"))
	stopped := lastEpoch(first.ID, 0)

	// Resumed through the API: a new job, continuing the epochs.
	none := "none"
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: &none}); err != nil {
		t.Fatal(err)
	}
	second := wait("the resumed job Running", func(j api.Job) bool { return j.ID != first.ID && j.State == "Running" })
	before := lastEpoch(second.ID, stopped)

	// The controller killed while the job runs: the next one resumes it.
	killController()
	startController(t, env)
	third := wait("the job after the controller's restart Running", func(j api.Job) bool { return j.ID != second.ID && j.State == "Running" })
	jobs, err := c.PipelineJobs(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.ID == second.ID && (j.State != "Failed" || j.FailureMessage == nil || !strings.Contains(*j.FailureMessage, "controller stopped")) {
			t.Errorf("the killed controller's job: %+v", j)
		}
	}
	if got := lastEpoch(third.ID, before); got <= before {
		t.Fatalf("epoch %d after the restart, want > %d", got, before)
	}
	cps, err := c.Checkpoints(ctx, p.ID, third.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		if cp.Epoch <= before {
			t.Errorf("the resumed job wrote checkpoint %d, not after %d: it did not start from the last checkpoint", cp.Epoch, before)
		}
	}
}
