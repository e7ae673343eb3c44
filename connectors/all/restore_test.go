package all_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// cutSources are the SQL of one pipeline per source connector, read by a
// cutSink. The nexmark and impulse pipelines select event times, so a
// continuation with other plan-time defaults (base_time, start_time) shows.
func cutSources(t *testing.T) []struct{ name, sql string } {
	path := filepath.Join(t.TempDir(), "in.json")
	var sb strings.Builder
	// 15 MB: three ranges of at least the single_file minimum (4 MiB).
	for i := range 500_000 {
		fmt.Fprintf(&sb, "{\"id\": %d, \"name\": \"n%d\"}\n", i, i%977)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return []struct{ name, sql string }{
		{"nexmark", `CREATE TABLE n WITH (connector = 'nexmark', event_rate = '500000', event_count = '150000');
SELECT bid.auction AS a, bid.price AS p, person.id AS pid, auction.id AS aid,
  CAST(bid.datetime AS BIGINT) AS bt, CAST(person.datetime AS BIGINT) AS pt, CAST(auction.datetime AS BIGINT) AS adt FROM n;`},
		{"impulse", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '500000', message_count = '150000', event_time_interval = '1ms');
SELECT counter, subtask_index, CAST(timestamp AS BIGINT) AS ts FROM i;`},
		{"single_file", `CREATE TABLE f (id BIGINT, name TEXT) WITH (connector = 'single_file', path = '` + path + `', format = 'json', type = 'source');
SELECT id, name FROM f;`},
	}
}

// planAt plans sql at parallelism p with now as the planning time.
func planAt(t *testing.T, sql string, p int, now time.Time) *program.Program {
	t.Helper()
	prog, err := sqlplan.Plan("cut.sql", sql, sqlplan.Options{Name: "cut", Parallelism: p, DefaultSink: cutSink, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// rescale returns a copy of prog with every node at parallelism p: the
// checkpointed program run at another parallelism, not a re-planned one.
// It is only right for programs whose nodes all have one parallelism and
// no connector caps it (those of these tests; TestBarrierCutChain checks
// it against the planner).
func rescale(t *testing.T, prog *program.Program, p int) *program.Program {
	t.Helper()
	data, err := prog.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := program.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range q.Nodes {
		n.Parallelism = p
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	return q
}

func marshal(t *testing.T, prog *program.Program) []byte {
	t.Helper()
	data, err := prog.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// node returns prog's only node of kind op.
func node(t *testing.T, prog *program.Program, op program.OpKind) *program.Node {
	t.Helper()
	var out *program.Node
	for _, n := range prog.Nodes {
		if n.Op == op {
			if out != nil {
				t.Fatalf("two %s nodes", op)
			}
			out = n
		}
	}
	if out == nil {
		t.Fatalf("no %s node", op)
	}
	return out
}

// splitCount is the number of splits prog's source starts with, asked of
// the connector exactly as the runtime asks it.
func splitCount(t *testing.T, prog *program.Program) int {
	t.Helper()
	n := node(t, prog, program.OpSource)
	c, ok := connector.Lookup(n.Source.Connector)
	if !ok {
		t.Fatalf("no connector %q", n.Source.Connector)
	}
	if c.Splits == nil {
		return 1
	}
	names, err := c.Splits(t.Context(), n.Source, n.Parallelism)
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

// startProg starts prog as job id (from restore, if set).
func startProg(t *testing.T, id string, prog *program.Program, gated bool, restore dataflow.Snapshot) (*dataflow.Job, *cutRun) {
	t.Helper()
	r := &cutRun{epochs: map[uint64][]string{}}
	if gated {
		r.gate, r.entered = make(chan struct{}), make(chan struct{})
	}
	runsMu.Lock()
	runs[id] = r
	runsMu.Unlock()
	t.Cleanup(func() {
		runsMu.Lock()
		delete(runs, id)
		runsMu.Unlock()
	})
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: id, QueueSize: 1, Restore: restore})
	if err != nil {
		t.Fatal(err)
	}
	return j, r
}

// runToEnd runs prog (from restore, if set) to the end of its input and
// returns what it wrote.
func runToEnd(t *testing.T, id string, prog *program.Program, restore dataflow.Snapshot) ([]string, *cutRun) {
	t.Helper()
	j, r := startProg(t, id, prog, false, restore)
	if err := j.Wait(); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r.all(), r
}

// all returns every row a finished run wrote.
func (r *cutRun) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.tail)
	for _, rows := range r.epochs {
		out = append(out, rows...)
	}
	return out
}

type result struct {
	epoch uint64
	snap  dataflow.Snapshot
	err   error
}

// cutMidStream runs prog (from restore, if set), checkpoints it while
// every one of its nsplits splits is still being read, and kills it (a
// crash: nothing after the checkpoint counts). It returns the rows the
// checkpoint covers (what its sinks pre-committed at it; a restore commits
// them), the checkpoint, and the run. remaining is the number of rows the
// run has left to write: the cut must leave some.
//
// The sinks hold the first row back until the checkpoint is requested, so
// the sources fill their queues and the barrier comes mid-stream; but the
// trigger races with the gate opening, so a cut that came too late (a
// subtask finished, committing its rows through Finish, outside the
// checkpoint) is taken again.
func cutMidStream(t *testing.T, id string, prog *program.Program, restore dataflow.Snapshot, nsplits, remaining int) ([]string, dataflow.Snapshot, *cutRun) {
	t.Helper()
	srcID := node(t, prog, program.OpSource).OperatorID
	for try := 0; ; try++ {
		j, r := startProg(t, fmt.Sprintf("%s-try%d", id, try), prog, true, restore)
		ended := make(chan error, 1)
		go func() { ended <- j.Wait() }()
		select {
		case <-r.entered:
		case err := <-ended:
			t.Fatalf("%s ended before its first write: %v", id, err)
		}
		res := make(chan result, 1)
		go func() {
			e, s, err := j.CheckpointSnapshot(t.Context())
			res <- result{e, s, err}
		}()
		close(r.gate)
		cp := <-res
		j.Cancel()
		<-ended
		if cp.err != nil {
			t.Fatalf("%s: checkpoint: %v", id, cp.err)
		}
		held := 0
		for _, h := range cp.snap[srcID] {
			if h != nil {
				held += len(h.([]connector.SplitState))
			}
		}
		r.mu.Lock()
		before, tail := slices.Clone(r.epochs[cp.epoch]), len(r.tail)
		r.mu.Unlock()
		if held == nsplits && tail == 0 && len(before) > 0 && len(before) < remaining {
			t.Logf("%s: cut after %d of %d rows (try %d)", id, len(before), remaining, try+1)
			return before, cp.snap, r
		}
		if try == 5 {
			t.Fatalf("%s: no cut caught every split mid-stream in %d tries (last: %d of %d splits held, %d rows finished outside it, %d of %d rows before it)",
				id, try+1, held, nsplits, tail, len(before), remaining)
		}
	}
}

func counts(rows []string) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r]++
	}
	return m
}

// diff says how a multiset of rows differs from want ("" if it does not).
func diff(got, want map[string]int) string {
	if maps.Equal(got, want) {
		return ""
	}
	lost, dup := 0, 0
	for k, n := range want {
		lost += max(0, n-got[k])
	}
	for k, n := range got {
		dup += max(0, n-want[k])
	}
	return fmt.Sprintf("%d rows lost, %d extra", lost, dup)
}

// liveHandles counts the subtasks of operator id that acknowledged snap
// with a handle (the others had finished).
func liveHandles(snap dataflow.Snapshot, id string) int {
	n := 0
	for _, h := range snap[id] {
		if h != nil {
			n++
		}
	}
	return n
}

// TestBarrierCutChain checks, for every source connector, that checkpoint
// barriers cut exactly between emitted data and snapshotted positions, and
// that the split states continue at any parallelism: a job started at
// parallelism chain[0] is checkpointed mid-stream and killed, restored at
// chain[1], checkpointed mid-stream again and killed, then restored at
// chain[2] and run to the end. The rows each checkpoint covers plus the
// last run's are exactly the rows of an uninterrupted run: none lost, none
// twice. Chain 1 -> 3 -> 2 moves one split onto more subtasks than splits;
// 3 -> 2 -> 1 starts with three (single_file: a file cut into three byte
// ranges), puts two on one subtask, then all three. Every restore runs the
// checkpointed program (rescaled), never a re-planned one.
func TestBarrierCutChain(t *testing.T) {
	for _, tc := range cutSources(t) {
		for _, chain := range [][]int{{1, 3, 2}, {3, 2, 1}} {
			name := fmt.Sprintf("%s/%d-%d-%d", tc.name, chain[0], chain[1], chain[2])
			t.Run(name, func(t *testing.T) {
				id := strings.ReplaceAll(name, "/", "-")
				now := time.Now()
				prog := planAt(t, tc.sql, chain[0], now)
				// The rescaled program is what the planner makes at that
				// parallelism from the same clock: rescaling changes
				// nothing else.
				for _, p := range chain[1:] {
					if !bytes.Equal(marshal(t, rescale(t, prog, p)), marshal(t, planAt(t, tc.sql, p, now))) {
						t.Fatalf("the program rescaled to %d differs from the one planned at %d", p, p)
					}
				}
				nsplits := splitCount(t, prog)
				if nsplits != chain[0] {
					t.Fatalf("%d splits at parallelism %d, want %d", nsplits, chain[0], chain[0])
				}
				ref, _ := runToEnd(t, id+"-ref", prog, nil)
				want := counts(ref)
				sinkID := node(t, prog, program.OpSink).OperatorID

				var got []string
				var snap dataflow.Snapshot
				for k, p := range chain {
					stage := prog
					if k > 0 {
						stage = rescale(t, prog, p)
					}
					sid := fmt.Sprintf("%s-%d-p%d", id, k, p)
					prevLive := liveHandles(snap, sinkID)
					var r *cutRun
					if k < len(chain)-1 {
						var before []string
						before, snap, r = cutMidStream(t, sid, stage, snap, nsplits, len(ref)-len(got))
						got = append(got, before...)
					} else {
						var rows []string
						rows, r = runToEnd(t, sid, stage, snap)
						got = append(got, rows...)
					}
					if k == 0 {
						continue
					}
					// The sinks recovered what the previous checkpoint
					// pre-committed: one epoch per live sink subtask.
					if len(r.restored) != prevLive {
						t.Errorf("stage %d (p=%d): sinks recovered %q, want %d pre-commits", k, p, r.restored, prevLive)
					}
				}
				if d := diff(counts(got), want); d != "" {
					t.Fatalf("chain %v: %s (of %d rows)", chain, d, len(ref))
				}
			})
		}
	}
}

// TestRestoreRunsCheckpointedProgram: the defaults that would differ per
// process (nexmark base_time, impulse start_time) are fixed in the program
// at plan time, so restoring a checkpoint with the program that was
// checkpointed continues the same event stream, even after the SQL was
// re-planned at another time; restoring with the re-planned program
// instead continues another stream (same events, other timestamps), which
// is why a restore runs the checkpointed program, never a re-planned one.
func TestRestoreRunsCheckpointedProgram(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	t1 := t0.Add(time.Hour)
	for _, tc := range cutSources(t)[:2] {
		t.Run(tc.name, func(t *testing.T) {
			opt := map[string]string{"nexmark": "base_time", "impulse": "start_time"}[tc.name]
			orig, replanned := planAt(t, tc.sql, 2, t0), planAt(t, tc.sql, 2, t1)
			if got := node(t, orig, program.OpSource).Source.Options[opt]; got != "2026-01-02T03:04:05Z" {
				t.Fatalf("the original program's %s = %q, want the planning time to the second", opt, got)
			}
			if got := node(t, replanned, program.OpSource).Source.Options[opt]; got != "2026-01-02T04:04:05Z" {
				t.Fatalf("the re-planned program's %s = %q, want its planning time", opt, got)
			}
			ref, _ := runToEnd(t, tc.name+"-orig-ref", orig, nil)
			want := counts(ref)
			before, snap, _ := cutMidStream(t, tc.name+"-orig-cut", orig, nil, 2, len(ref))

			rest, _ := runToEnd(t, tc.name+"-orig-restore", orig, snap)
			if d := diff(counts(append(slices.Clone(before), rest...)), want); d != "" {
				t.Fatalf("restored with the checkpointed program: %s", d)
			}

			// The operator ids are stable, so the re-planned program
			// accepts the checkpoint, but it generates the same events
			// with timestamps an hour later: none of its rows is one of
			// the original stream's.
			other, _ := runToEnd(t, tc.name+"-replanned-restore", replanned, snap)
			if len(other) != len(rest) {
				t.Fatalf("the re-planned program continued with %d rows, the checkpointed one with %d", len(other), len(rest))
			}
			same := 0
			for _, row := range other {
				if want[row] > 0 {
					same++
				}
			}
			if same != 0 {
				t.Errorf("%d of %d rows continued by the re-planned program are the original stream's; want none (its %s differs)", same, len(other), opt)
			}
		})
	}
}
