package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashPipelines are bounded pipelines with an exactly-once single_file
// sink, run by TestCrashRecoveryExactlyOnce. OUT is replaced by the output
// path. Their sources are paced, so a run lasts a few seconds and is killed
// many times on the way.
var crashPipelines = []struct{ name, sql string }{
	// Its state directory is a file:// bucket: state.sqlite fetched at start
	// and backed up, checkpoints written as objects.
	{"map_bucket", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '1500', message_count = '6000');
CREATE TABLE out WITH (connector = 'single_file', path = 'OUT', format = 'json', type = 'sink');
INSERT INTO out SELECT counter, counter * 3 AS x FROM i WHERE counter % 3 <> 1;`},
	{"window_join", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '1500', message_count = '6000', event_time_interval = '1ms');
CREATE TABLE out WITH (connector = 'single_file', path = 'OUT', format = 'json', type = 'sink');
INSERT INTO out
SELECT a.k, a.c, b.s FROM
  (SELECT counter % 5 AS k, tumble(interval '200 millisecond') AS w, count(*) AS c FROM i GROUP BY 1, 2) a
  JOIN (SELECT counter % 5 AS k, tumble(interval '200 millisecond') AS w, sum(counter) AS s FROM i GROUP BY 1, 2) b
  ON a.k = b.k AND a.w = b.w;`},
}

// TestCrashRecoveryExactlyOnce runs `arroyo run` as a child process with a
// short checkpoint interval and SIGKILLs it at random moments (seeded:
// ARROYO_CRASH_SEED reproduces a run), at least 20 times, restarting it
// with the same state directory each time; every fourth run is killed
// exactly between a durable checkpoint and its commit (a test hook pauses
// there). The output of the run that finally exits 0 must equal that of an
// uninterrupted run: no row lost, none twice.
func TestCrashRecoveryExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 20+ times")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ARROYO_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (ARROYO_CRASH_SEED=%d reproduces it)", seed, seed)
	for _, pc := range crashPipelines {
		t.Run(pc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(len(pc.name))))
			dir := t.TempDir()
			refOut := filepath.Join(dir, "ref.json")
			ref := writeFile(t, dir, "ref.sql", strings.ReplaceAll(pc.sql, "OUT", refOut))
			if r := runArroyo(t, "", "run", "--state-dir", filepath.Join(dir, "ref-state"), ref); r.code != 0 {
				t.Fatalf("uninterrupted run: exit %d: %s", r.code, r.stderr)
			}
			want := readLines(t, refOut)
			if len(want) < 50 {
				t.Fatalf("uninterrupted run wrote %d rows", len(want))
			}

			out := filepath.Join(dir, "out.json")
			sql := writeFile(t, dir, "p.sql", strings.ReplaceAll(pc.sql, "OUT", out))
			state := filepath.Join(dir, "state")
			if strings.HasSuffix(pc.name, "_bucket") {
				state = "file://" + state
			}
			kills, pauses := 0, 0
			for run := 0; ; run++ {
				if run > 400 {
					t.Fatalf("no run finished after %d kills", kills)
				}
				// Until 20 kills, every run is killed: at a random moment,
				// or, every fourth run, at the pause between a durable
				// checkpoint and its commit. Then the runs go to the end.
				killing := kills < 20
				pause := ""
				if killing && run%4 == 3 {
					pause = filepath.Join(dir, fmt.Sprintf("paused-%d", run))
				}
				cmd := exec.Command(binary, "run", "--state-dir", state, "--checkpoint-interval", "60ms", sql)
				if pause != "" {
					cmd.Env = append(os.Environ(), "ARROYO_TEST_PAUSE_BEFORE_COMMIT="+pause)
				}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				var killAt <-chan time.Time
				if killing && pause == "" {
					killAt = time.After(time.Duration(50+rng.IntN(400)) * time.Millisecond)
				}
				var err error
				done := false
				select {
				case err = <-exited:
					done = true
				case <-killAt:
				case <-pollFile(pause):
					pauses++
				}
				if done {
					if err != nil {
						t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
					}
					break
				}
				syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
				<-exited
				kills++
			}
			t.Logf("%d kills (%d between a durable checkpoint and its commit)", kills, pauses)
			if kills < 20 {
				t.Errorf("only %d kills before the job finished: make the pipeline longer", kills)
			}
			got := readLines(t, out)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("after %d kills the output differs from the uninterrupted run: %s", kills, diffLines(got, want))
			}
		})
	}
}

// pollFile returns a channel that receives once path exists ("" never).
func pollFile(path string) <-chan struct{} {
	ch := make(chan struct{})
	if path == "" {
		return ch
	}
	go func() {
		for i := 0; i < 6000; i++ {
			if _, err := os.Stat(path); err == nil {
				close(ch)
				return
			}
			time.Sleep(5 * time.Millisecond) // polling a file: no event to wait on
		}
	}()
	return ch
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// diffLines says how two sorted multisets of lines differ.
func diffLines(got, want []string) string {
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var lost, extra []string
	for l, n := range count {
		for ; n > 0; n-- {
			lost = append(lost, l)
		}
		for ; n < 0; n++ {
			extra = append(extra, l)
		}
	}
	slices.Sort(lost)
	slices.Sort(extra)
	nl, ne := len(lost), len(extra)
	if nl > 5 {
		lost = append(lost[:5], "...")
	}
	if ne > 5 {
		extra = append(extra[:5], "...")
	}
	return fmt.Sprintf("%d rows, want %d; lost %d %v, extra %d %v", len(got), len(want), nl, lost, ne, extra)
}
