package all_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/sqlplan"
)

// cutSink is the default sink of these tests: a two-phase-commit sink that
// keeps each subtask's rows by the epoch whose barrier followed them, so a
// test knows exactly what a checkpoint covers. A run's first Write waits
// for run.gate, so the sources fill their queues and are caught mid-stream
// by the checkpoint.
const cutSink = "test_cut_sink"

// cutRun is what one job's sinks saw.
type cutRun struct {
	gate     chan struct{}
	entered  chan struct{}
	once     sync.Once
	mu       sync.Mutex
	epochs   map[uint64][]string // rows pre-committed at each epoch
	tail     []string            // rows after the last pre-commit (Finish)
	commits  []uint64
	restored [][]byte
}

var (
	runsMu sync.Mutex
	runs   = map[string]*cutRun{} // job id -> run
)

func init() {
	connector.Register(&connector.Connector{
		Name: cutSink,
		NewSink: func(_ *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			runsMu.Lock()
			r := runs[task.JobID]
			runsMu.Unlock()
			if r == nil {
				return nil, fmt.Errorf("no run %q", task.JobID)
			}
			return &cutSub{run: r}, nil
		},
	})
}

type cutSub struct {
	run *cutRun
	cur []string
}

var _ connector.TwoPhaseSink = (*cutSub)(nil)

func (s *cutSub) Write(ctx context.Context, b *coldata.Batch) error {
	r := s.run
	if r.gate != nil {
		r.once.Do(func() { close(r.entered) })
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.ForEach(func(i int) {
		var sb strings.Builder
		for c := 0; c < len(b.Cols)-1; c++ { // not the hidden event time
			if c > 0 {
				sb.WriteByte('|')
			}
			switch v := b.Cols[c].(type) {
			case *coldata.Vec[int64]:
				if v.IsNull(i) {
					sb.WriteString("null")
				} else {
					sb.WriteString(strconv.FormatInt(v.Vals[i], 10))
				}
			case *coldata.Vec[uint64]:
				sb.WriteString(strconv.FormatUint(v.Vals[i], 10))
			case *coldata.Bytes:
				if v.IsNull(i) {
					sb.WriteString("null")
				} else {
					sb.WriteString(v.GetString(i))
				}
			default:
				panic(fmt.Sprintf("cutSub: column %d is a %T", c, v))
			}
		}
		s.cur = append(s.cur, sb.String())
	})
	return nil
}

func (s *cutSub) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.epochs[epoch] = append(s.run.epochs[epoch], s.cur...)
	s.cur = nil
	return []byte(strconv.FormatUint(epoch, 10)), nil
}

func (s *cutSub) Commit(_ context.Context, epoch uint64, prepared [][]byte) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	if len(prepared) == 0 || string(prepared[len(prepared)-1]) != strconv.FormatUint(epoch, 10) {
		return fmt.Errorf("commit %d with %q", epoch, prepared)
	}
	s.run.commits = append(s.run.commits, epoch)
	return nil
}

func (s *cutSub) Recover(_ context.Context, restored [][]byte) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.restored = append(s.run.restored, restored...)
	return nil
}

func (s *cutSub) Finish(context.Context) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.tail = append(s.run.tail, s.cur...)
	s.cur = nil
	return nil
}

type result struct {
	epoch uint64
	snap  dataflow.Snapshot
	err   error
}

// startRun plans sql at parallelism p and starts it as job id.
// now is the planning time: a restore re-plans with the original one, so
// per-process defaults (impulse's start_time) come out the same.
func startRun(t *testing.T, id, sql string, p int, now time.Time, gated bool, restore dataflow.Snapshot) (*dataflow.Job, *cutRun, string) {
	t.Helper()
	prog, err := sqlplan.Plan("cut.sql", sql, sqlplan.Options{Name: id, Parallelism: p, DefaultSink: cutSink, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r := &cutRun{epochs: map[uint64][]string{}}
	if gated {
		r.gate, r.entered = make(chan struct{}), make(chan struct{})
	}
	runsMu.Lock()
	runs[id] = r
	runsMu.Unlock()
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: id, QueueSize: 1, Restore: restore})
	if err != nil {
		t.Fatal(err)
	}
	return j, r, prog.Nodes[0].OperatorID
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

func counts(rows []string) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r]++
	}
	return m
}

// TestBarrierCutExact checks, for every source connector, that a
// checkpoint cuts exactly between emitted data and snapshotted positions:
// a job started at parallelism 3 is checkpointed mid-stream and killed;
// the rows before the barrier plus a run restored from the checkpoint's
// split states at parallelism 1, 2 and 5 are exactly the rows of an
// uninterrupted run, none lost, none twice.
func TestBarrierCutExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	var sb strings.Builder
	// 15 MB: three ranges of at least the single_file minimum.
	for i := range 500_000 {
		fmt.Fprintf(&sb, "{\"id\": %d, \"name\": \"n%d\"}\n", i, i%977)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql string }{
		{"nexmark", `CREATE TABLE n WITH (connector = 'nexmark', event_rate = '500000', event_count = '150000');
SELECT bid.auction AS a, bid.price AS p, person.id AS pid, auction.id AS aid FROM n;`},
		{"impulse", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '500000', message_count = '150000', event_time_interval = '1ms');
SELECT counter, subtask_index, CAST(timestamp AS BIGINT) AS ts FROM i;`},
		{"single_file", `CREATE TABLE f (id BIGINT, name TEXT) WITH (connector = 'single_file', path = '` + path + `', format = 'json', type = 'source');
SELECT id, name FROM f;`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, now := tc.sql, time.Now()
			ref, rr, _ := startRun(t, tc.name+"-ref", sql, 3, now, false, nil)
			if err := ref.Wait(); err != nil {
				t.Fatal(err)
			}
			want := counts(rr.all())

			// The cut must catch every source subtask mid-stream (one that
			// finished before it committed its rows through Finish, outside
			// the checkpoint): the sinks hold the sources back until the
			// checkpoint is requested, and the generators are paced, but
			// the trigger races with the gate opening, so a cut that came
			// too late is taken again.
			var r *cutRun
			var cp result
			var srcID string
			for try := 0; ; try++ {
				var j *dataflow.Job
				j, r, srcID = startRun(t, fmt.Sprintf("%s-cut-%d", tc.name, try), sql, 3, now, true, nil)
				<-r.entered
				res := make(chan result, 1)
				go func() {
					e, s, err := j.CheckpointSnapshot(t.Context())
					res <- result{e, s, err}
				}()
				close(r.gate)
				cp = <-res
				j.Cancel() // a crash: nothing after the checkpoint counts
				j.Wait()
				if cp.err != nil {
					t.Fatal(cp.err)
				}
				if !slices.Contains(cp.snap[srcID], nil) {
					break
				}
				if try == 5 {
					t.Fatalf("no cut caught every source subtask mid-stream in %d tries", try+1)
				}
			}
			nsplits := 0
			for _, h := range cp.snap[srcID] {
				nsplits += len(h.([]connector.SplitState))
			}
			if nsplits != 3 {
				t.Fatalf("the checkpoint holds %d split states, want 3", nsplits)
			}
			r.mu.Lock()
			before := slices.Clone(r.epochs[cp.epoch])
			r.mu.Unlock()
			total := 0
			for _, n := range want {
				total += n
			}
			if len(before) == 0 || len(before) >= total {
				t.Fatalf("the checkpoint covers %d of %d rows: not a cut mid-stream", len(before), total)
			}
			for _, p2 := range []int{1, 2, 5} {
				id := fmt.Sprintf("%s-restore-%d", tc.name, p2)
				j2, r2, _ := startRun(t, id, sql, p2, now, false, cp.snap)
				if err := j2.Wait(); err != nil {
					t.Fatalf("restore at p=%d: %v", p2, err)
				}
				got := counts(append(slices.Clone(before), r2.all()...))
				if !maps.Equal(got, want) {
					lost, dup := 0, 0
					for k, n := range want {
						lost += max(0, n-got[k])
					}
					for k, n := range got {
						dup += max(0, n-want[k])
					}
					t.Fatalf("restore at p=%d: %d rows lost, %d extra (before the cut %d)", p2, lost, dup, len(before))
				}
				// The sinks recovered with what the checkpoint pre-committed.
				if len(r2.restored) != 3 {
					t.Errorf("restore at p=%d: sinks recovered %q, want the 3 subtasks' epoch %d", p2, r2.restored, cp.epoch)
				}
			}
		})
	}
}
