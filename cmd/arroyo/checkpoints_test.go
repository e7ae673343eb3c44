package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/store"
)

// TestResumeAndCheckpointsCommand: a run stopped with Ctrl-C leaves a stop
// checkpoint that `arroyo checkpoints list|inspect` shows; running the
// same query with the same state directory resumes from it, another query
// is refused unless --force, and a finished pipeline is not run again.
func TestResumeAndCheckpointsCommand(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	sql := writeFile(t, dir, "p.sql", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '20000', message_count = '3000');
CREATE TABLE out WITH (connector = 'blackhole');
INSERT INTO out SELECT counter % 7 AS k, count(*) AS c FROM i GROUP BY 1;`)
	if r := runArroyo(t, "", "run", "--state-dir", state, "--checkpoint-interval", "5ms", sql); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	l := runArroyo(t, "", "checkpoints", "list", state)
	// One directory of checkpoints per pipeline.
	if l.code != 0 || !regexp.MustCompile(`(?m)^pl_\w+\s+\d+\s`).MatchString(l.stdout) {
		t.Fatalf("checkpoints list: exit %d\n%s%s", l.code, l.stdout, l.stderr)
	}
	// state.sqlite records the job's checkpoints, as the API shows them.
	meta, err := openStateStore(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := meta.ListPipelines(context.Background(), store.Page{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("state.sqlite pipelines: %+v, %v", ps, err)
	}
	jobs, err := meta.ListJobs(context.Background(), ps[0].ID)
	if err != nil || len(jobs) != 1 || jobs[0].State != "Finished" {
		t.Fatalf("state.sqlite jobs: %+v, %v", jobs, err)
	}
	cps, err := meta.ListCheckpoints(context.Background(), jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint taken after the operators finished holds no state
	// (0 bytes); the ones before hold the aggregate's.
	withState := 0
	for _, c := range cps {
		if c.State == "ready" && c.Bytes > 0 {
			withState++
		}
	}
	if withState == 0 {
		t.Fatalf("state.sqlite has %d checkpoints, none ready with state", len(cps))
	}
	meta.Close()
	in := runArroyo(t, "", "checkpoints", "inspect", state)
	if in.code != 0 || !strings.Contains(in.stdout, "source 'i'") || !strings.Contains(in.stdout, "key groups") || !strings.Contains(in.stdout, "bytes of its own and") {
		t.Fatalf("checkpoints inspect: exit %d\n%s%s", in.code, in.stdout, in.stderr)
	}
	// The pipeline finished: nothing to resume.
	if r := runArroyo(t, "", "run", "--state-dir", state, sql); r.code == 0 || !strings.Contains(r.stderr, "already finished") {
		t.Fatalf("rerun of a finished pipeline: exit %d: %s", r.code, r.stderr)
	}
	other := writeFile(t, dir, "q.sql", "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '3');\nSELECT counter FROM i;")
	r := runArroyo(t, "", "run", "--state-dir", state, other)
	if r.code == 0 || !strings.Contains(r.stderr, `pipeline "p"`) || !strings.Contains(r.stderr, "q.sql") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("another query in the same state dir: exit %d: %s", r.code, r.stderr)
	}
	r = runArroyo(t, "", "run", "--state-dir", state, "--force", other)
	if r.code != 0 || r.stdout != "{\"counter\":0}\n{\"counter\":1}\n{\"counter\":2}\n" {
		t.Fatalf("--force: exit %d: %q %s", r.code, r.stdout, r.stderr)
	}
	// The old pipeline's checkpoints are gone.
	old := regexp.MustCompile(`pl_\w+`).FindString(l.stdout)
	if _, err := os.Stat(filepath.Join(state, "checkpoints", old)); !os.IsNotExist(err) {
		t.Errorf("the checkpoints of %s are still there after --force: %v", old, err)
	}
	if r := runArroyo(t, "", "checkpoints", "inspect", filepath.Join(dir, "nope")); r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("inspect of a missing dir: exit %d: %s", r.code, r.stderr)
	}
}

// TestResumeAtAnotherParallelism: a pipeline with keyed window state,
// stopped with Ctrl-C at parallelism 2 once it has checkpointed, resumes at
// parallelism 3 and ends with exactly an uninterrupted run's output.
func TestResumeAtAnotherParallelism(t *testing.T) {
	dir := t.TempDir()
	query := `CREATE TABLE i WITH (connector = 'impulse', event_rate = '2000', message_count = '3000', event_time_interval = '1ms');
CREATE TABLE out WITH (connector = 'single_file', path = 'OUT', format = 'json', type = 'sink');
INSERT INTO out SELECT counter % 7 AS k, count(*) AS c, sum(counter) AS s FROM i GROUP BY 1, tumble(interval '100 millisecond');`
	refOut, out := filepath.Join(dir, "ref.json"), filepath.Join(dir, "out.json")
	ref := writeFile(t, dir, "ref.sql", strings.ReplaceAll(query, "OUT", refOut))
	if r := runArroyo(t, "", "run", ref); r.code != 0 {
		t.Fatalf("reference run: %s", r.stderr)
	}
	sql := writeFile(t, dir, "p.sql", strings.ReplaceAll(query, "OUT", out))
	state := filepath.Join(dir, "state")
	cmd := exec.Command(binary, "run", "-p", "2", "--state-dir", state, "--checkpoint-interval", "50ms", sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Once two checkpoints are complete, stop it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms, _ := filepath.Glob(filepath.Join(state, "checkpoints", "*", "*", "_metadata.json"))
		if len(ms) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after 30 s: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond) // polling files: nothing to wait on
	}
	cmd.Process.Signal(syscall.SIGINT)
	waitCleanExit(t, cmd, &stderr)
	r := runArroyo(t, "", "run", "-p", "3", "--state-dir", state, sql)
	if r.code != 0 || !strings.Contains(r.stderr, "resuming") {
		t.Fatalf("resume at -p 3: exit %d: %s", r.code, r.stderr)
	}
	got, want := readLines(t, out), readLines(t, refOut)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stopped at -p 2 and resumed at -p 3: %s", diffLines(got, want))
	}
}
