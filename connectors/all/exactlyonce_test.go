package all_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// crashRun is one job of a crash simulation: it checkpoints back to back
// from a goroutine, keeping the last complete checkpoint, until it is
// killed (Cancel) at a random moment or ends.
type crashRun struct {
	j     *dataflow.Job
	mu    sync.Mutex
	snap  dataflow.Snapshot // the last complete checkpoint
	taken int
	done  chan struct{} // the checkpoint loop ended
}

func startCrashRun(t *testing.T, sql, id string, p int, now time.Time, restore dataflow.Snapshot, seed uint64, maxGap time.Duration) *crashRun {
	t.Helper()
	prog := planAt(t, sql, p, now)
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: id, QueueSize: 1, Restore: restore})
	if err != nil {
		t.Fatal(err)
	}
	r := &crashRun{j: j, done: make(chan struct{})}
	rng := rand.New(rand.NewPCG(seed, 7))
	go func() {
		defer close(r.done)
		for {
			// A pause between checkpoints lets rows pile up past the
			// last one, beyond what a sink buffers, for the kill to cut.
			time.Sleep(time.Duration(rng.Int64N(int64(maxGap))))
			_, s, err := j.CheckpointSnapshot(t.Context())
			if errors.Is(err, dataflow.ErrCheckpointInProgress) {
				continue
			}
			if err != nil {
				// The job ended or was killed. A checkpoint that completed
				// always delivers its reply (buffered), so no complete
				// checkpoint, and no commit it caused, is missed here.
				return
			}
			r.mu.Lock()
			r.snap, r.taken = s, r.taken+1
			r.mu.Unlock()
		}
	}()
	return r
}

// crashUntilDone runs sql through kills at random moments, each run
// restored from the last complete checkpoint of the runs before it (or
// started afresh while there is none) at the next parallelism of pars, and
// finally lets a run end. A run that ended on its own before the last
// stage is treated as if the process had died right after (its sinks had
// committed, its completion was not recorded): the next run restores from
// its last checkpoint anyway. It returns how many runs were
// killed and how many were restored after they had ended.
func crashUntilDone(t *testing.T, sql string, seed uint64, kills int, pars []int, maxDelay time.Duration) (killed, afterEnd int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 42))
	now := time.Now()
	var snap dataflow.Snapshot
	for stage := 0; ; stage++ {
		p := pars[stage%len(pars)]
		id := fmt.Sprintf("%s-s%d-p%d", strings.ReplaceAll(t.Name(), "/", "-"), stage, p)
		r := startCrashRun(t, sql, id, p, now, snap, rng.Uint64(), maxDelay/2)
		last := stage >= kills
		// Most runs are killed after a random delay; one in four runs to
		// its end and dies right after (its sinks committed, its end not
		// recorded), so the next one restores from its last checkpoint.
		dieAfterEnd := !last && rng.IntN(4) == 0
		if !last && !dieAfterEnd {
			delay := time.Duration(rng.Int64N(int64(maxDelay)))
			timer := time.AfterFunc(delay, r.j.Cancel)
			defer timer.Stop()
		}
		err := r.j.Wait()
		<-r.done
		r.mu.Lock()
		if r.snap != nil {
			snap = r.snap
		}
		r.mu.Unlock()
		switch {
		case err == nil && !last && snap != nil:
			afterEnd++ // it finished: die "after the rename"
		case err == nil:
			return killed, afterEnd
		case errors.Is(err, errKilled(err)):
			killed++
		default:
			t.Fatalf("%s: %v", id, err)
		}
		if stage > 4*kills {
			t.Fatalf("no run ended in %d stages", stage)
		}
	}
}

// errKilled returns err if it is the cancellation of a kill, else a
// sentinel it never matches.
func errKilled(err error) error {
	if strings.Contains(err.Error(), "context canceled") {
		return err
	}
	return errors.New("not killed")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// exactlyOnceCases are pipelines into a single_file sink at <OUT>: a
// projection and a window aggregate (its state is checkpointed too), with
// the parallelisms their restores cycle through (each restore re-plans the
// SQL at its parallelism). The global window aggregate runs on one subtask
// whatever the parallelism (a forward input at 1, a shuffle above): its
// operator id must not depend on that, or a re-planned restore at another
// parallelism would find no state for it and lose windows.
var exactlyOnceCases = []struct {
	name string
	pars []int
	sql  string
}{
	{"projection", []int{1, 2, 3}, `CREATE TABLE i WITH (connector = 'impulse', event_rate = '600000', message_count = '60000', event_time_interval = '1ms');
CREATE TABLE out (counter BIGINT UNSIGNED, m BIGINT UNSIGNED) WITH (connector = 'single_file', path = '<OUT>', format = 'json', type = 'sink');
INSERT INTO out SELECT counter, counter % 10 AS m FROM i;`},
	{"window", []int{1, 2, 3}, `CREATE TABLE i WITH (connector = 'impulse', event_rate = '600000', message_count = '60000', event_time_interval = '1ms');
CREATE TABLE out (c BIGINT, s NUMERIC) WITH (connector = 'single_file', path = '<OUT>', format = 'json', type = 'sink');
INSERT INTO out SELECT count(*) AS c, sum(counter) AS s FROM i GROUP BY tumble(interval '1 second');`},
}

// TestSingleFileExactlyOnceUnderCrashes: a pipeline into a single_file sink
// killed at random moments (mid-stream, between a pre-commit and its
// commit, after the final rename), each time restored from the last
// complete checkpoint at parallelism 1, 2 or 3 (the sink itself always at
// 1), writes exactly the file of an uninterrupted run: no row lost, none
// twice, and no temporary file left beside it. Seeded: the seed is logged.
func TestSingleFileExactlyOnceUnderCrashes(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, tc := range exactlyOnceCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			refPath := filepath.Join(dir, "ref.json")
			ref := planAt(t, strings.ReplaceAll(tc.sql, "<OUT>", refPath), 2, time.Now())
			j, err := dataflow.Start(t.Context(), ref, dataflow.Options{JobID: "ref"})
			if err != nil {
				t.Fatal(err)
			}
			if err := j.Wait(); err != nil {
				t.Fatal(err)
			}
			want := counts(readLines(t, refPath))
			if len(want) < 10 {
				t.Fatalf("the reference run wrote %d distinct rows", len(want))
			}
			totalKilled, totalAfter := 0, 0
			for _, seed := range seeds {
				sub := filepath.Join(dir, fmt.Sprint(seed))
				if err := os.Mkdir(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(sub, "out.json")
				killed, after := crashUntilDone(t, strings.ReplaceAll(tc.sql, "<OUT>", out), seed, 6, tc.pars, 100*time.Millisecond)
				totalKilled, totalAfter = totalKilled+killed, totalAfter+after
				if d := diff(counts(readLines(t, out)), want); d != "" {
					t.Fatalf("seed %d (%d kills, %d restores after the end): %s\ngot %q\nwant %v", seed, killed, after, d, readLines(t, out), want)
				}
				if names := dirNames(t, sub); !slices.Equal(names, []string{"out.json"}) {
					t.Errorf("seed %d: left beside the output: %v", seed, names)
				}
			}
			t.Logf("%d runs killed, %d restored after they had ended", totalKilled, totalAfter)
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
