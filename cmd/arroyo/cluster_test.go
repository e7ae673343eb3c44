package main

import (
	"bufio"
	"context"
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
)

var clusterListening = regexp.MustCompile(`cluster: API listening on (http://[^ /]+)`)

// startCluster starts `arroyo cluster` with env and returns its API URL and
// a function that stops it with SIGTERM and returns its stderr.
func startCluster(t *testing.T, env []string) (string, func() string) {
	t.Helper()
	cmd := exec.Command(binary, "cluster")
	cmd.Env = append(os.Environ(), append([]string{"ARROYO__API__HTTP_PORT=0", "ARROYO__ADMIN__HTTP_PORT=-1"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("arroyo cluster exited: %s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if m := clusterListening.FindStringSubmatch(l); m != nil {
				stop := func() string {
					cmd.Process.Signal(syscall.SIGTERM)
					for l := range lines {
						log = append(log, l)
					}
					if err := cmd.Wait(); err != nil {
						t.Errorf("arroyo cluster exited with %v", err)
					}
					return strings.Join(log, "\n")
				}
				return m[1], stop
			}
		case <-deadline:
			t.Fatalf("arroyo cluster did not say where it listens: %s", strings.Join(log, "\n"))
		}
	}
}

// TestClusterCommand: pipelines created through `arroyo cluster`'s API
// run in it and checkpoint; SIGTERM stops them at a final checkpoint and
// exits 0; the next `arroyo cluster` on the same database resumes them
// from it.
func TestClusterCommand(t *testing.T) {
	dir := t.TempDir()
	env := []string{"ARROYO__DATABASE__SQLITE__PATH=" + filepath.Join(dir, "cluster.sqlite"), "ARROYO__CHECKPOINT_URL=" + filepath.Join(dir, "checkpoints")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, stop := startCluster(t, env)
	c := client.New(url, "")
	iv := uint64(20_000)
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "counts", Parallelism: 2, CheckpointIntervalMicros: &iv,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '200');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT counter % 3 AS k, count(*) AS c FROM i GROUP BY 1;"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Running" })
	if err != nil {
		t.Fatal(err)
	}
	for {
		cps, err := c.Checkpoints(ctx, p.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling the API
	}
	log := stop()
	if !strings.Contains(log, "stopping pipelines at a final checkpoint") {
		t.Fatalf("shutdown: %s", log)
	}

	url, stop = startCluster(t, env)
	c = client.New(url, "")
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.ID != first.ID && j.State == "Running" })
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.PipelineJobs(ctx, p.ID)
	if err != nil || len(jobs) != 2 || jobs[1].State != "Stopped" {
		t.Fatalf("after a restart of the cluster: jobs %+v, %v (want the first Stopped)", jobs, err)
	}
	log = stop()
	if !strings.Contains(log, "resumed 1 pipelines") || j.ID == "" {
		t.Fatalf("second cluster: %s", log)
	}
}
