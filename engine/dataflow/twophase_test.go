package dataflow_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

const tpcConnector = "test_runtime_2pc"

// tpcFixture logs the calls of every subtask of a two-phase-commit sink.
type tpcFixture struct {
	mu   sync.Mutex
	log  map[int][]string // subtask -> calls
	rows []row
}

func (f *tpcFixture) add(sub int, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log[sub] = append(f.log[sub], fmt.Sprintf(format, args...))
}

type tpcSub struct {
	f    *tpcFixture
	task connector.SinkTask
}

var _ connector.TwoPhaseSink = (*tpcSub)(nil)

func init() {
	connector.Register(&connector.Connector{
		Name: tpcConnector,
		NewSink: func(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			f, ok := fixtures.Load(t.Name)
			if !ok {
				return nil, fmt.Errorf("no 2pc sink %q", t.Name)
			}
			return &tpcSub{f: f.(*tpcFixture), task: task}, nil
		},
	})
}

func (s *tpcSub) Write(_ context.Context, b *coldata.Batch) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.rows = append(s.f.rows, readBatch(b)...)
	return nil
}
func (s *tpcSub) Flush(context.Context) error { s.f.add(s.task.Subtask, "flush"); return nil }
func (s *tpcSub) Finish(context.Context) error {
	s.f.add(s.task.Subtask, "finish")
	return nil
}
func (s *tpcSub) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	s.f.add(s.task.Subtask, "pre %d", epoch)
	return fmt.Appendf(nil, "%s/%d/e%d", s.task.JobID, s.task.Subtask, epoch), nil
}
func (s *tpcSub) Commit(_ context.Context, epoch uint64, prepared [][]byte) error {
	s.f.add(s.task.Subtask, "commit %d %q", epoch, prepared)
	return nil
}
func (s *tpcSub) Recover(_ context.Context, restored [][]byte) error {
	s.f.add(s.task.Subtask, "recover %q", restored)
	return nil
}

func (b *builder) tpcSink(desc string, par int, f *tpcFixture) int {
	return b.add(&program.Node{Op: program.OpSink, Description: desc, Parallelism: par, Sink: b.table(tpcConnector, f)})
}

// TestTwoPhaseSinkThroughRuntime: through the runtime, a two-phase-commit
// sink gets its task identity, pre-commits at every barrier (never a
// Flush), commits each epoch once the checkpoint is complete, the stop
// epoch last and without Finish; its snapshot handle is what a restore at
// another parallelism recovers with (old subtasks 0 and 1 into new 0).
func TestTwoPhaseSinkThroughRuntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(2), interval: 10 * time.Millisecond}
		f := &tpcFixture{log: map[int][]string{}}
		b := newBuilder(t)
		s := b.source("source 'in'", 2, src)
		o := b.tpcSink("sink 'out'", 2, f)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{JobID: "job1"})
		if _, err := j.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
		epoch, snap, err := j.CheckpointSnapshot(t.Context())
		if err != nil || epoch != 2 {
			t.Fatalf("second checkpoint: %d, %v", epoch, err)
		}
		j.Stop()
		if err := wait(t, j); err != nil {
			t.Fatal(err)
		}
		for sub := range 2 {
			want := []string{"pre 1", fmt.Sprintf("commit 1 [\"job1/%d/e1\"]", sub), "pre 2", fmt.Sprintf("commit 2 [\"job1/%d/e2\"]", sub), "pre 3", fmt.Sprintf("commit 3 [\"job1/%d/e3\"]", sub), "finish"}
			if got := f.log[sub]; !slices.Equal(got, want) {
				t.Errorf("subtask %d: calls %q, want %q", sub, got, want)
			}
		}
		if d := sameRows(f.rows, src.sentRows()); d != "" {
			t.Errorf("rows: %s", d)
		}
		sinkID := b.p.Nodes[o].OperatorID
		for sub, h := range snap[sinkID] {
			want := ops.TwoPhaseState{Epochs: []uint64{2}, Prepared: [][]byte{fmt.Appendf(nil, "job1/%d/e2", sub)}}
			if !reflect.DeepEqual(h, want) {
				t.Errorf("snapshot of sink subtask %d: %#v, want %#v", sub, h, want)
			}
		}

		// Restore the epoch-2 checkpoint with the sink at parallelism 1.
		src2 := &testSource{batches: [][]*coldata.Batch{nil, nil}}
		f2 := &tpcFixture{log: map[int][]string{}}
		b2 := newBuilder(t)
		s2 := b2.source("source 'in'", 2, src2)
		o2 := b2.tpcSink("sink 'out'", 1, f2)
		b2.p.Nodes[s2].OperatorID, b2.p.Nodes[o2].OperatorID = b.p.Nodes[s].OperatorID, sinkID
		b2.shuffle(s2, o2)
		j2 := start(t, &b2.p, dataflow.Options{JobID: "job2", Restore: snap})
		if err := wait(t, j2); err != nil {
			t.Fatal(err)
		}
		if want := []string{`recover ["job1/0/e2" "job1/1/e2"]`, "finish"}; !slices.Equal(f2.log[0], want) {
			t.Errorf("restored sink: calls %q, want %q", f2.log[0], want)
		}
	})
}
