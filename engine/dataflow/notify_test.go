package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
)

const notifyConnector = "test_runtime_notify_source"

// notifySource is a source whose subtasks are connector.CheckpointNotifiers
// and log, per subtask, every Snapshot ("snap n"), CheckpointDone
// ("done n") and Close ("close"). Each Poll emits one one-row batch while
// the shared budget lasts, and otherwise waits for its deadline.
type notifySource struct {
	budget  atomic.Int64
	doneErr error // if set, CheckpointDone fails with it

	mu  sync.Mutex
	log map[int][]string
	bad []string // contract violations seen
}

func (f *notifySource) add(sub int, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log[sub] = append(f.log[sub], fmt.Sprintf(format, args...))
}

func (f *notifySource) violation(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
}

func (f *notifySource) lines(sub int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log[sub])
}

type notifySub struct {
	f       *notifySource
	sub     int
	polling atomic.Bool // inside Poll
	stopped bool        // the stop barrier was snapshotted
	seq     int64
}

var (
	_ connector.Source             = (*notifySub)(nil)
	_ connector.CheckpointNotifier = (*notifySub)(nil)
)

func init() {
	connector.Register(&connector.Connector{
		Name: notifyConnector,
		NewSource: func(t *connector.Table, task connector.SourceTask, _ []connector.SplitState) (connector.Source, error) {
			f, ok := fixtures.Load(t.Name)
			if !ok {
				return nil, fmt.Errorf("no notify source %q", t.Name)
			}
			return &notifySub{f: f.(*notifySource), sub: task.Subtask}, nil
		},
	})
}

func (s *notifySub) Poll(ctx context.Context, out connector.SourceOutput) error {
	if !s.polling.CompareAndSwap(false, true) {
		s.f.violation("subtask %d: Poll called concurrently with itself", s.sub)
	}
	defer s.polling.Store(false)
	if s.f.budget.Add(-1) < 0 {
		s.f.budget.Add(1)
		<-ctx.Done()
		return nil
	}
	s.seq++
	return out.Emit(makeBatch(nil, []row{{K: int64(s.sub), V: s.seq, S: "n", TS: s.seq}}, false))
}

func (s *notifySub) Snapshot(epoch uint64) ([]connector.SplitState, error) {
	if s.polling.Load() {
		s.f.violation("subtask %d: Snapshot %d during Poll", s.sub, epoch)
	}
	s.f.add(s.sub, "snap %d", epoch)
	return []connector.SplitState{{Split: fmt.Sprint(s.sub), State: fmt.Append(nil, s.seq)}}, nil
}

func (s *notifySub) CheckpointDone(ctx context.Context, epoch uint64) error {
	if s.polling.Load() {
		s.f.violation("subtask %d: CheckpointDone %d during Poll", s.sub, epoch)
	}
	if ctx.Err() != nil {
		s.f.violation("subtask %d: CheckpointDone %d with a cancelled context", s.sub, epoch)
	}
	s.f.add(s.sub, "done %d", epoch)
	return s.f.doneErr
}

func (s *notifySub) Close() error {
	s.f.add(s.sub, "close")
	return nil
}

func (b *builder) notifySource(desc string, par int, f *notifySource) int {
	f.log = map[int][]string{}
	return b.add(&program.Node{Op: program.OpSource, Description: desc, Parallelism: par, Source: b.table(notifyConnector, f)})
}

// TestSourceCheckpointDone: a source that implements
// connector.CheckpointNotifier is told of every completed checkpoint once,
// in order, on its own goroutine (never during Poll), and never of one that
// did not complete.
func TestSourceCheckpointDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &notifySource{}
		sink := &testSink{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
		b := newBuilder(t)
		s := b.notifySource("source 'n'", 2, src)
		o := b.sink("sink 'out'", 2, sink)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{})
		for want := uint64(1); want <= 2; want++ {
			epoch, err := j.Checkpoint(t.Context())
			if err != nil || epoch != want {
				t.Fatalf("Checkpoint = %d, %v; want %d", epoch, err, want)
			}
		}
		synctest.Wait()
		// The sinks hold the next row: checkpoint 3's barrier cannot reach
		// them, so it never completes.
		src.budget.Add(2) // Add: a subtask may hold a transient -1
		<-sink.entered
		cp3 := make(chan error, 1)
		go func() {
			_, err := j.Checkpoint(t.Context())
			cp3 <- err
		}()
		synctest.Wait()
		for sub := range 2 {
			if log := src.lines(sub); !slices.Contains(log, "snap 3") {
				t.Fatalf("subtask %d: %q, want checkpoint 3 snapshotted", sub, log)
			}
		}
		j.Cancel()
		if err := wait(t, j); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the cancellation", err)
		}
		if err := <-cp3; err == nil {
			t.Fatal("checkpoint 3 completed with a sink holding its barrier back")
		}
		want := []string{"snap 1", "done 1", "snap 2", "done 2", "snap 3", "close"}
		for sub := range 2 {
			if log := src.lines(sub); !slices.Equal(log, want) {
				t.Errorf("subtask %d: %q, want %q", sub, log, want)
			}
		}
		if len(src.bad) > 0 {
			t.Errorf("contract violations: %q", src.bad)
		}
	})
}

// TestSourceCheckpointDoneOnStop: Stop's checkpoint is notified too, before
// the source is closed, and the source is not polled after the stop
// barrier; data flows between the checkpoints.
func TestSourceCheckpointDoneOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &notifySource{}
		src.budget.Store(10)
		sink := &testSink{}
		b := newBuilder(t)
		s := b.notifySource("source 'n'", 3, src)
		o := b.sink("sink 'out'", 3, sink)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{})
		synctest.Wait()
		if _, err := j.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Add, not Store: a subtask may be between its decrement below
		// zero and the increment that undoes it.
		src.budget.Add(10)
		// A source may be waiting out its poll interval: let the (fake)
		// clock run until the ten new rows have reached the sinks, so
		// Stop's barrier comes after them.
		for i := 0; i < 1000 && len(sink.allRows()) < 20; i++ {
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		j.Stop()
		if err := wait(t, j); err != nil {
			t.Fatalf("Wait after Stop: %v", err)
		}
		want := []string{"snap 1", "done 1", "snap 2", "done 2", "close"}
		for sub := range 3 {
			if log := src.lines(sub); !slices.Equal(log, want) {
				t.Errorf("subtask %d: %q, want %q", sub, log, want)
			}
		}
		if n := len(sink.allRows()); n != 20 {
			t.Errorf("the sinks got %d rows, want the 20 emitted", n)
		}
		if len(src.bad) > 0 {
			t.Errorf("contract violations: %q", src.bad)
		}
	})
}

// TestSourceCheckpointDoneError: a failing CheckpointDone fails the job
// with a TaskError naming the source and the checkpoint.
func TestSourceCheckpointDoneError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &notifySource{doneErr: errors.New("offsets refused")}
		b := newBuilder(t)
		s := b.notifySource("source 'n'", 1, src)
		o := b.sink("sink 'out'", 1, &testSink{})
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{})
		if _, err := j.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
		err := wait(t, j)
		var te *dataflow.TaskError
		if !errors.As(err, &te) || te.Operator != "source 'n'" || !strings.Contains(err.Error(), "commit checkpoint 1: offsets refused") {
			t.Fatalf("Wait = %v, want source 'n''s commit error", err)
		}
		if want := []string{"snap 1", "done 1", "close"}; !slices.Equal(src.lines(0), want) {
			t.Errorf("log %q, want %q", src.lines(0), want)
		}
	})
}
