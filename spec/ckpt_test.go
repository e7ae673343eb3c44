package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// ckptSink replaces a case's single_file sinks in a checkpoint-restore run.
// single_file commits by renaming at Finish, so a killed job leaves nothing
// to compare; this sink is two-phase instead: what a subtask writes between
// two barriers is a transaction that PreCommit prepares in the output's
// destination and Commit (or, after a restore, Recover) makes visible. The
// destination outlives the job, as a file would, so the killed run's
// committed rows plus the restored run's are what a reader would see. Rows
// are encoded with the table's format, exactly as single_file writes them.
const ckptSink = "spec_checkpoint_sink"

// ckptDest is one output's destination: committed rows in commit order.
type ckptDest struct {
	mu        sync.Mutex
	committed []byte
	prepared  map[string][]byte // transaction id -> rows, not yet committed
	done      map[string]bool   // committed transaction ids
}

func (d *ckptDest) commit(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done[id] {
		return nil // committed before the kill, recovered again
	}
	rows, ok := d.prepared[id]
	if !ok {
		return fmt.Errorf("commit of unknown transaction %q", id)
	}
	d.committed = append(d.committed, rows...)
	delete(d.prepared, id)
	d.done[id] = true
	return nil
}

// ckptJob is what the runner shares with one job's sinks.
type ckptJob struct {
	gate    chan struct{} // nil: no gate
	release chan struct{} // closed: sinks stop holding after the cut
	entered chan struct{} // closed by the first Write
	once    sync.Once
	dests   map[string]*ckptDest // by output path
	// finished is set when a sink reaches Finish: the job ended by itself,
	// committing what followed the checkpoint, so a crash after the
	// checkpoint was not simulated.
	finished atomic.Bool
}

var (
	ckptMu   sync.Mutex
	ckptJobs = map[string]*ckptJob{} // by job id
	ckptSeq  atomic.Int64
)

func init() {
	connector.Register(&connector.Connector{
		Name: ckptSink,
		NewSink: func(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			ckptMu.Lock()
			j := ckptJobs[task.JobID]
			ckptMu.Unlock()
			if j == nil {
				return nil, fmt.Errorf("%s: no job %q", ckptSink, task.JobID)
			}
			d := j.dests[t.Options.String("path")]
			if d == nil {
				return nil, fmt.Errorf("%s: no destination %q", ckptSink, t.Options.String("path"))
			}
			enc, err := connector.NewEncoder(t, t.Schema)
			if err != nil {
				return nil, err
			}
			return &ckptSub{job: j, dest: d, enc: enc, prefix: fmt.Sprintf("%s/%d/", task.JobID, task.Subtask)}, nil
		},
	})
}

type ckptSub struct {
	job    *ckptJob
	dest   *ckptDest
	enc    connector.Encoder
	prefix string // transaction ids are prefix + epoch
	cur    []byte
	cut    bool // pre-committed once
}

var _ connector.TwoPhaseSink = (*ckptSub)(nil)

// holdAfterCut makes a gated job's sink subtask wait, once it has
// pre-committed, until the job is cancelled: the crash comes after the
// checkpoint is durable and before its commit, and the job cannot run to
// its end (committing rows after the cut) while the checkpoint is written.
func (s *ckptSub) holdAfterCut(ctx context.Context) error {
	if s.job.gate == nil || !s.cut {
		return nil
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.job.release:
		return nil
	}
}

func (s *ckptSub) Write(ctx context.Context, b *coldata.Batch) error {
	if err := s.holdAfterCut(ctx); err != nil {
		return err
	}
	if j := s.job; j.gate != nil {
		j.once.Do(func() { close(j.entered) })
		select {
		case <-j.gate:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return s.enc.Encode(b, func(rec []byte) error {
		s.cur = append(append(s.cur, rec...), '\n')
		return nil
	})
}

func (s *ckptSub) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	id := s.prefix + fmt.Sprint(epoch)
	s.dest.mu.Lock()
	s.dest.prepared[id] = s.cur
	s.dest.mu.Unlock()
	s.cur = nil
	s.cut = true
	return []byte(id), nil
}

func (s *ckptSub) Commit(_ context.Context, _ uint64, prepared [][]byte) error {
	return s.Recover(context.Background(), prepared)
}

func (s *ckptSub) Recover(_ context.Context, restored [][]byte) error {
	for _, id := range restored {
		if err := s.dest.commit(string(id)); err != nil {
			return err
		}
	}
	return nil
}

func (s *ckptSub) Finish(ctx context.Context) error {
	if err := s.holdAfterCut(ctx); err != nil {
		return err
	}
	s.job.finished.Store(true)
	s.dest.mu.Lock()
	s.dest.committed = append(s.dest.committed, s.cur...)
	s.dest.mu.Unlock()
	s.cur = nil
	return nil
}

// cutReport says where a checkpoint-restore run's cut fell.
type cutReport struct {
	before, total int // committed rows before the cut, rows in all
	noCut         string
}

func (r cutReport) String() string {
	if r.noCut != "" {
		return "no cut: " + r.noCut
	}
	return fmt.Sprintf("cut after %d of %d rows", r.before, r.total)
}

// midStream reports whether the cut had rows on both sides.
func (r cutReport) midStream() bool { return r.noCut == "" && r.before > 0 && r.before < r.total }

// runCheckpointRestore runs c at parallelism p with its single_file sinks
// replaced by ckptSink, checkpoints it once the first batch reaches a sink
// (the sink holds it until the checkpoint is triggered, so the sources are
// caught with data behind them), kills it, restores the checkpoint at
// parallelism m, and compares the destinations with c's expected rows.
// tamper, if set, may alter the snapshot before the restore (tests of the
// runner).
func runCheckpointRestore(c *Case, inputs, dir string, p, m int, tamper func(*program.Program, dataflow.Snapshot)) (cutReport, error) {
	var rep cutReport
	sql, outputPath, err := expandCase(c, inputs, dir)
	if err != nil {
		return rep, err
	}
	dests := map[string]*ckptDest{}
	for _, o := range c.Outputs {
		dests[outputPath(o.Name)] = &ckptDest{prepared: map[string][]byte{}, done: map[string]bool{}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now() // both runs plan with it: per-process defaults agree
	// Checkpoints are durable: each try writes its own directory, and the
	// restore loads the checkpoint back from disk, so every handle kind of
	// every case goes through the file format.
	var lastDir *checkpoint.Dir
	start := func(par int, gated bool, restore dataflow.Snapshot, restoreEpoch uint64) (*dataflow.Job, *ckptJob, *program.Program, error) {
		id := fmt.Sprintf("spec-ckpt-%d", ckptSeq.Add(1))
		funcs, err := caseFunctions(c) // spec/udf_test.go
		if err != nil {
			return nil, nil, nil, err
		}
		prog, err := sqlplan.Plan(c.Path, sql, sqlplan.Options{Name: id, Parallelism: par, Now: func() time.Time { return now }, Functions: funcs})
		if err != nil {
			return nil, nil, nil, err
		}
		claimed := map[string]bool{}
		for _, n := range prog.Nodes {
			if n.Sink != nil && n.Sink.Connector == "single_file" && dests[n.Sink.Options.String("path")] != nil {
				n.Sink.Connector = ckptSink
				claimed[n.Sink.Options.String("path")] = true
			}
		}
		for path := range dests {
			if !claimed[path] {
				return nil, nil, nil, fmt.Errorf("checkpoint-restore: no single_file sink writes %s (only single_file sinks are replaced by the checkpointing sink)", path)
			}
		}
		cj := &ckptJob{dests: dests}
		if gated {
			cj.gate, cj.entered, cj.release = make(chan struct{}), make(chan struct{}), make(chan struct{})
		}
		ckptMu.Lock()
		ckptJobs[id] = cj
		ckptMu.Unlock()
		opts := dataflow.Options{JobID: id, QueueSize: 1, Restore: restore, RestoreEpoch: restoreEpoch, Functions: funcs}
		if restore == nil {
			lastDir = &checkpoint.Dir{Storage: checkpoint.Local{Root: dir}, Root: "checkpoints/" + id}
			opts.Durable = &checkpoint.Writer{Dir: lastDir, Program: prog}
		}
		j, err := dataflow.Start(ctx, prog, opts)
		return j, cj, prog, err
	}
	// A source subtask that finished before the barrier is not in the
	// checkpoint, and its rows may reach the sinks after the barrier: such
	// a cut is not exact (the runtime does not checkpoint finished
	// subtasks), so it is taken again.
	var snap dataflow.Snapshot
	var prog *program.Program
	for try := 0; ; try++ {
		j, cj, pr, err := start(p, true, nil, 0)
		if err != nil {
			return rep, err
		}
		done := make(chan error, 1)
		go func() { done <- j.Wait() }()
		select {
		case <-cj.entered:
		case err := <-done:
			if err != nil {
				return rep, err
			}
			rep.noCut = "the job wrote no rows"
			return rep, compareDests(c, outputPath, dests, &rep)
		}
		res := make(chan error, 1)
		go func() {
			var err error
			_, snap, err = j.CheckpointSnapshot(ctx)
			res <- err
		}()
		close(cj.gate)
		cerr := <-res
		if errors.Is(cerr, dataflow.ErrNoCheckpoint) {
			// Every source had finished: no cut, the job runs to its end.
			close(cj.release)
			if err := <-done; err != nil {
				return rep, err
			}
			rep.noCut = "every source finished before the checkpoint"
			return rep, compareDests(c, outputPath, dests, &rep)
		}
		if cerr != nil {
			j.Cancel()
			<-done
			return rep, fmt.Errorf("checkpoint: %w", cerr)
		}
		counters := j.Counters()
		exact := true
		for _, n := range pr.Nodes {
			if n.Op != program.OpSource {
				continue
			}
			for i, h := range snap[n.OperatorID] {
				if h == nil && counters[dataflow.MetricKey{Node: n.ID, OperatorID: n.OperatorID, Operator: n.Description, Subtask: i, Name: "rows_out"}] > 0 {
					exact = false
				}
			}
		}
		if exact {
			j.Cancel() // a crash: nothing after the checkpoint counts
			<-done
			if !cj.finished.Load() {
				prog = pr
				break
			}
			// The job reached its end before the crash: its sinks
			// committed the rows after the checkpoint, so this was no
			// cut. Take it again (or, after the last try, run to the end).
			if try == 4 {
				for _, d := range dests {
					*d = ckptDest{prepared: map[string][]byte{}, done: map[string]bool{}}
				}
				j, _, _, err := start(p, false, nil, 0)
				if err != nil {
					return rep, err
				}
				if err := j.Wait(); err != nil {
					return rep, err
				}
				rep.noCut = "the job ended before every crash tried"
				return rep, compareDests(c, outputPath, dests, &rep)
			}
			for _, d := range dests { // start over
				*d = ckptDest{prepared: map[string][]byte{}, done: map[string]bool{}}
			}
			continue
		}
		if try == 4 {
			// The inputs are too small for a cut that catches every
			// source subtask with data behind it: the run goes to its
			// end, through the checkpoint's commit.
			close(cj.release)
			if err := <-done; err != nil {
				return rep, err
			}
			rep.noCut = "a source subtask with rows finished before every checkpoint tried"
			return rep, compareDests(c, outputPath, dests, &rep)
		}
		j.Cancel()
		<-done
		for _, d := range dests { // start over
			*d = ckptDest{prepared: map[string][]byte{}, done: map[string]bool{}}
		}
	}
	for _, d := range dests {
		d.mu.Lock()
		rep.before += bytes.Count(d.committed, []byte{'\n'})
		for _, rows := range d.prepared { // the checkpoint's epoch: Recover commits it
			rep.before += bytes.Count(rows, []byte{'\n'})
		}
		d.mu.Unlock()
	}
	md, err := lastDir.Latest(ctx)
	if err != nil || md == nil {
		return rep, fmt.Errorf("the checkpoint was not written to disk: %v", err)
	}
	loaded, err := lastDir.Load(ctx, md)
	if err != nil {
		return rep, err
	}
	if len(loaded) != len(snap) {
		return rep, fmt.Errorf("checkpoint %d read back from disk has %d operators, the in-memory one %d", md.Epoch, len(loaded), len(snap))
	}
	if tamper != nil {
		tamper(prog, loaded)
	}
	j2, _, _, err := start(m, false, loaded, md.Epoch)
	if err != nil {
		return rep, fmt.Errorf("restore at p=%d: %w", m, err)
	}
	if err := j2.Wait(); err != nil {
		return rep, fmt.Errorf("restore at p=%d: %w", m, err)
	}
	if err := compareDests(c, outputPath, dests, &rep); err != nil {
		return rep, fmt.Errorf("killed at p=%d after a checkpoint, restored at p=%d: %w", p, m, err)
	}
	return rep, nil
}

// compareDests compares the committed rows of the destinations with c's
// expected rows and counts them into rep.total.
func compareDests(c *Case, outputPath func(string) string, dests map[string]*ckptDest, rep *cutReport) error {
	return compareOutputs(c, func(name string) ([]byte, error) {
		d := dests[outputPath(name)]
		d.mu.Lock()
		defer d.mu.Unlock()
		rep.total += bytes.Count(d.committed, []byte{'\n'})
		return d.committed, nil
	})
}

// TestCheckpointRestoreCuts checks that the checkpoint-restore runs of the
// generator cases really cut mid-stream (rows committed before the cut and
// rows after it), at every restore parallelism, and that the comparison
// catches a restore that repeats or loses rows: the snapshot's source split
// states are rewound to their start (every row before the cut comes twice)
// or dropped (every row after the cut is lost).
func TestCheckpointRestoreCuts(t *testing.T) {
	inputs, err := filepath.Abs("inputs")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkpoint_impulse_cut", "checkpoint_nexmark_cut", "checkpoint_impulse_window_cut", "checkpoint_impulse_join_cut"} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseFile(filepath.Join("cases", name+".test"))
			if err != nil {
				t.Fatal(err)
			}
			if c.CheckpointRestore != 2 {
				t.Fatalf("-- checkpoint-restore: 2 parsed as %d", c.CheckpointRestore)
			}
			// Where the cut falls is timing: a source may have emitted
			// everything by the time the barrier reaches it. Such a run is
			// right but proves nothing here, so it is taken again.
			cut := func(m int, tamper func(*program.Program, dataflow.Snapshot)) (rep cutReport, err error) {
				for range 20 {
					rep, err = runCheckpointRestore(c, inputs, t.TempDir(), 3, m, tamper)
					// A tampered snapshot adds or loses rows only if the
					// cut fell before the last row: until its comparison
					// fails, the cut proved nothing either.
					if tamper == nil && rep.midStream() || tamper != nil && err != nil {
						break
					}
				}
				return rep, err
			}
			for _, m := range []int{1, 2, 5} {
				rep, err := cut(m, nil)
				if err != nil {
					t.Fatalf("restore at %d: %v", m, err)
				}
				if !rep.midStream() {
					t.Fatalf("restore at %d: %s: not a cut mid-stream", m, rep)
				}
			}
			sources := func(p *program.Program, s dataflow.Snapshot, f func(h []connector.SplitState) []connector.SplitState) {
				for _, n := range p.Nodes {
					if n.Op != program.OpSource {
						continue
					}
					for k, h := range s[n.OperatorID] {
						if h != nil {
							s[n.OperatorID][k] = f(h.([]connector.SplitState))
						}
					}
				}
			}
			for _, tc := range []struct {
				name   string
				tamper func(*program.Program, dataflow.Snapshot)
			}{
				{"rewound", func(p *program.Program, s dataflow.Snapshot) {
					sources(p, s, func(h []connector.SplitState) []connector.SplitState {
						out := make([]connector.SplitState, len(h))
						for i, st := range h {
							out[i] = connector.SplitState{Split: st.Split}
						}
						return out
					})
				}},
				{"dropped", func(p *program.Program, s dataflow.Snapshot) {
					sources(p, s, func([]connector.SplitState) []connector.SplitState { return []connector.SplitState{} })
				}},
			} {
				rep, err := cut(2, tc.tamper)
				var rw *rewriteNeeded
				if !errors.As(err, &rw) {
					t.Fatalf("%s snapshot: want an output difference, got %v (%s)", tc.name, err, rep)
				}
				t.Logf("%s snapshot (%s): %v", tc.name, rep, err)
			}
		})
	}
}
