package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
	if l.code != 0 || !regexp.MustCompile(`(?m)^job_\w+\s+\d+\s`).MatchString(l.stdout) {
		t.Fatalf("checkpoints list: exit %d\n%s%s", l.code, l.stdout, l.stderr)
	}
	in := runArroyo(t, "", "checkpoints", "inspect", state)
	if in.code != 0 || !strings.Contains(in.stdout, "source 'i'") || !strings.Contains(in.stdout, "key groups") {
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
	// The old job's checkpoints are gone.
	old := regexp.MustCompile(`job_\w+`).FindString(l.stdout)
	if _, err := os.Stat(filepath.Join(state, "checkpoints", old)); !os.IsNotExist(err) {
		t.Errorf("the checkpoints of %s are still there after --force: %v", old, err)
	}
	if r := runArroyo(t, "", "checkpoints", "inspect", filepath.Join(dir, "nope")); r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("inspect of a missing dir: exit %d: %s", r.code, r.stderr)
	}
}
