package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store"
)

var runListening = regexp.MustCompile(`^API listening on (http://127\.0\.0\.1:\d+)$`)

// TestRunServesItsAPI: `arroyo run` says where its API listens; through it
// a client sees the one pipeline, its job Running and its checkpoints; the
// interrupt stops it through the API (stop = checkpoint, job Stopped), as
// state.sqlite records afterwards.
func TestRunServesItsAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	state := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(binary, "run", "-s", state, "--checkpoint-interval", "20ms", "-")
	cmd.Stdin = strings.NewReader("CREATE TABLE i WITH (connector = 'impulse', event_rate = '200');\nCREATE TABLE o WITH (connector = 'blackhole');\nINSERT INTO o SELECT counter FROM i;")
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(errPipe)
	var apiURL string
	var seen bytes.Buffer
	for apiURL == "" && sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if m := runListening.FindStringSubmatch(sc.Text()); m != nil {
			apiURL = m[1]
		}
	}
	if apiURL == "" {
		t.Fatalf("no API address on stderr: %s", seen.String())
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		rest <- b.String()
	}()
	c := client.New(apiURL, "")
	var p api.Pipeline
	for {
		list, err := c.Pipelines(ctx, client.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) == 1 {
			p = list.Data[0]
			break
		}
		if len(list.Data) > 1 {
			t.Fatalf("%d pipelines", len(list.Data))
		}
		time.Sleep(5 * time.Millisecond) // polling the API: nothing to wait on
	}
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == store.JobRunning })
	if err != nil {
		t.Fatal(err)
	}
	for {
		cps, err := c.Checkpoints(ctx, p.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	tail := <-rest // stderr read to its end before Wait
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit %v: %s", err, tail)
	}
	st, err := openStateStore(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := st.GetPipeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	sj, err := st.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Stop != store.StopCheckpoint || sj.State != store.JobStopped {
		t.Fatalf("after the interrupt: pipeline stop %q, job %s; want checkpoint, Stopped", sp.Stop, sj.State)
	}
}
