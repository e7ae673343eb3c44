package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// taskUDF is a UDF bound per subtask: f(BIGINT) -> BIGINT adds the
// subtask's index times 1000, so the output shows which instance computed
// it. It records binds and closes per (job, subtask); with block, Eval
// signals entered and waits for its context to be cancelled.
type taskUDF struct {
	mu      sync.Mutex
	binds   map[string]int
	closes  map[string]int
	block   bool
	entered chan int
}

func (u *taskUDF) fn(name string) *expr.Func {
	return &expr.Func{Name: name, Resolve: func(args []types.Type) (*expr.Resolved, error) {
		if len(args) != 1 || args[0].Kind != types.Int64 {
			return nil, fmt.Errorf("%s expects BIGINT", name)
		}
		return &expr.Resolved{Args: args, Result: types.Int64T, Bind: func(_ context.Context, task expr.TaskContext) (expr.Bound, error) {
			u.mu.Lock()
			defer u.mu.Unlock()
			key := fmt.Sprintf("%s/%s/%d of %d", task.JobID, task.OperatorID, task.Subtask, task.Parallelism)
			if u.binds == nil {
				u.binds, u.closes = map[string]int{}, map[string]int{}
			}
			u.binds[key]++
			return &taskInstance{u: u, key: key, add: int64(task.Subtask) * 1000, subtask: task.Subtask}, nil
		}}, nil
	}}
}

func (u *taskUDF) counts() (binds, closes map[string]int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps(u.binds), maps(u.closes)
}

func maps(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

type taskInstance struct {
	u       *taskUDF
	key     string
	add     int64
	subtask int
	closed  bool
}

func (t *taskInstance) Eval(ctx context.Context, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	if t.closed {
		return nil, errors.New("Eval after Close")
	}
	if t.u.block {
		t.u.entered <- t.subtask
		<-ctx.Done()
		return nil, ctx.Err()
	}
	in := args[0].(*coldata.Vec[int64])
	out := &coldata.Vec[int64]{T: types.Int64T, Vals: make([]int64, n)}
	for i := range n {
		out.Vals[i] = in.Vals[i] + t.add
	}
	return out, nil
}

func (t *taskInstance) Close() error {
	t.u.mu.Lock()
	defer t.u.mu.Unlock()
	t.closed = true
	t.u.closes[t.key]++
	return nil
}

// TestUDFBoundPerSubtask: a calc calling a per-task UDF twice binds one
// instance per subtask from the job's registry, each subtask's rows are
// computed by its own instance, and every instance is closed once when
// the job ends.
func TestUDFBoundPerSubtask(t *testing.T) {
	checkNoLeaks(t)
	u := &taskUDF{}
	reg := expr.Builtins().Scope()
	if err := reg.Add(u.fn("plus_subtask")); err != nil {
		t.Fatal(err)
	}
	const par = 3
	src := &testSource{batches: make([][]*coldata.Batch, par)}
	want := make([][]row, par)
	for i := range par {
		rows := []row{{K: 1, V: 10, S: "a"}, {K: 2, V: 20, SNull: true}}
		src.batches[i] = append(src.batches[i], makeBatch(nil, rows, false))
		for _, r := range rows {
			r.K += int64(i) * 1000
			r.V += 2 * int64(i) * 1000
			want[i] = append(want[i], r)
		}
	}
	udf := func(e *program.Expr) *program.Expr { return call("plus_subtask", types.Int64T, e) }
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'in'", par, src)
	c := b.calc("calc 'c'", par, &program.Calc{Project: []*program.Expr{udf(col(colK)), udf(udf(col(colV))), col(colS), col(colTS)}})
	o := b.sink("sink 'out'", par, sink)
	b.forward(s, c)
	b.forward(c, o)

	// Without the scope the function does not exist: the job fails at
	// construction, naming it.
	if _, err := dataflow.Start(context.Background(), &b.p, dataflow.Options{}); err == nil || !strings.Contains(err.Error(), "unknown function plus_subtask") {
		t.Fatalf("Start without the UDF scope: %v", err)
	}

	j := start(t, &b.p, dataflow.Options{JobID: "job-1", Functions: reg})
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	for i, sub := range sink.snapshot() {
		if !slices.Equal(sub.rows, want[i]) {
			t.Errorf("sink subtask %d: %s", i, sameRows(sub.rows, want[i]))
		}
	}
	binds, closes := u.counts()
	wantCounts := map[string]int{}
	for i := range par {
		wantCounts[fmt.Sprintf("job-1/op-%d/%d of %d", c, i, par)] = 1
	}
	if fmt.Sprint(binds) != fmt.Sprint(wantCounts) || fmt.Sprint(closes) != fmt.Sprint(wantCounts) {
		t.Errorf("binds %v, closes %v; want %v each", binds, closes, wantCounts)
	}
}

// TestUDFCancelled: a UDF call that does not return on its own (a runaway
// wasm function) gets the subtask's context; cancelling the job cancels
// the call, the job ends with context.Canceled, and every instance is
// closed.
func TestUDFCancelled(t *testing.T) {
	checkNoLeaks(t)
	const par = 2
	u := &taskUDF{block: true, entered: make(chan int, par)}
	reg := expr.Builtins().Scope()
	if err := reg.Add(u.fn("runaway")); err != nil {
		t.Fatal(err)
	}
	src := &testSource{next: unboundedRows(4)}
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'endless'", par, src)
	c := b.calc("calc 'c'", par, &program.Calc{Project: []*program.Expr{call("runaway", types.Int64T, col(colK)), col(colV), col(colS), col(colTS)}})
	o := b.sink("sink 'out'", 1, sink)
	b.forward(s, c)
	b.shuffle(c, o)
	j := start(t, &b.p, dataflow.Options{Functions: reg})
	seen := map[int]bool{}
	for len(seen) < par {
		seen[<-u.entered] = true
	}
	j.Cancel()
	if err := wait(t, j); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after Cancel: %v, want context.Canceled", err)
	}
	binds, closes := u.counts()
	if len(binds) != par || fmt.Sprint(binds) != fmt.Sprint(closes) {
		t.Errorf("binds %v, closes %v; want one of each per subtask", binds, closes)
	}
	src.checkClosed(t, "endless", par)
}
