package expr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// udf returns a scalar function name(arg) -> arg computed by k.
func udf(name string, arg types.Type, k Kernel) *Func {
	return &Func{Name: name, Resolve: func(args []types.Type) (*Resolved, error) {
		if len(args) != 1 || !args[0].Equal(arg) {
			return nil, fmt.Errorf("%s expects %s", name, arg)
		}
		return &Resolved{Args: []types.Type{arg}, Result: arg, Kernel: k}, nil
	}}
}

func identity(al *coldata.Allocator, args []coldata.Vector, _ int, _ []int32) (coldata.Vector, error) {
	return args[0], nil
}

func TestRegistryScopes(t *testing.T) {
	b := Builtins()
	if err := b.Add(udf("my_fn", tI64, identity)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Add to the built-ins: %v, want a read-only error", err)
	}
	s := b.Scope()
	f := udf("My_Fn", tI64, identity)
	if err := s.Add(f); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got, ok := s.Lookup("MY_FN"); !ok || got != f {
		t.Errorf("Lookup in the scope: %v %v", got, ok)
	}
	if _, ok := b.Lookup("my_fn"); ok {
		t.Errorf("a scope's UDF leaked into the built-ins")
	}
	if _, ok := s.Lookup("upper"); !ok {
		t.Errorf("a scope does not see the built-ins")
	}
	if _, ok := s.LookupAggregate("sum"); !ok {
		t.Errorf("a scope does not see the built-in aggregates")
	}
	if _, ok := NewRegistry(nil).Lookup("upper"); ok {
		t.Errorf("NewRegistry(nil) has the built-ins")
	}
	for _, c := range []struct {
		reg  *Registry
		name string
		want string
	}{
		{s, "my_fn", "function my_fn: function already defined in this pipeline"},
		{s, "UPPER", "function upper: function already defined as a built-in; a UDF cannot shadow it"},
		{s, "sum", "function sum: function already defined as a built-in; a UDF cannot shadow it"},
		{s.Scope(), "my_fn", "function my_fn: function already defined as a parent scope; a UDF cannot shadow it"},
		{s, " ", "add function: empty name"},
	} {
		err := c.reg.Add(udf(c.name, tI64, identity))
		if err == nil || err.Error() != c.want {
			t.Errorf("Add(%q): %v, want %q", c.name, err, c.want)
		}
		if c.want != "add function: empty name" && !errors.Is(err, ErrDuplicateFunction) {
			t.Errorf("Add(%q): %v is not ErrDuplicateFunction", c.name, err)
		}
	}
	agg := &AggregateFunc{Name: "my_agg", Resolve: func([]types.Type) (*ResolvedAggregate, error) { return nil, nil }}
	if err := s.AddAggregate(agg); err != nil {
		t.Fatalf("AddAggregate: %v", err)
	}
	if err := s.Add(udf("my_agg", tI64, identity)); !errors.Is(err, ErrDuplicateFunction) {
		t.Errorf("a scalar named like an aggregate in the scope: %v", err)
	}
	if got, ok := s.LookupAggregate("my_agg"); !ok || got != agg {
		t.Errorf("LookupAggregate: %v %v", got, ok)
	}
	names := s.Names()
	for _, n := range []string{"my_fn", "my_agg", "upper", "count"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names lacks %s", n)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names not sorted")
	}
}

// TestScopesConcurrently compiles, from many goroutines, a call of the
// same UDF name that means a different function in each of two scopes.
func TestScopesConcurrently(t *testing.T) {
	a, b := Builtins().Scope(), Builtins().Scope()
	double := func(al *coldata.Allocator, args []coldata.Vector, n int, _ []int32) (coldata.Vector, error) {
		in := args[0].(*coldata.Vec[int64])
		out := &coldata.Vec[int64]{T: tI64, Vals: make([]int64, n)}
		for i := range n {
			out.Vals[i] = 2 * in.Vals[i]
		}
		return out, nil
	}
	if err := a.Add(udf("f", tI64, double)); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(udf("f", tStr, identity)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			reg, e, in, want := a, call("f", tI64, col(0, tI64)), vec(tI64, 21), any(int64(42))
			if g%2 == 1 {
				reg, e, in, want = b, call("f", tStr, col(0, tStr)), vec(tStr, "x"), any("x")
			}
			for range 50 {
				ev, err := Compile(e, reg)
				if err != nil {
					errs <- err
					return
				}
				v, err := ev.Eval(tctx, &coldata.Batch{Cols: []coldata.Vector{in}, Len: 1})
				if err != nil {
					errs <- err
					return
				}
				if got := coldata.Value(v, 0); got != want {
					errs <- fmt.Errorf("goroutine %d: f gave %v, want %v", g, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each scope's signature is its own: a's f does not take TEXT.
	if _, err := Compile(call("f", tStr, col(0, tStr)), a); err == nil || !strings.Contains(err.Error(), "f expects BIGINT") {
		t.Errorf("f(TEXT) in scope a: %v", err)
	}
	if _, err := Compile(call("f", tI64, col(0, tI64)), nil); err == nil || !strings.Contains(err.Error(), "unknown function f") {
		t.Errorf("f in the built-ins: %v", err)
	}
}

// bindProbe is a UDF that binds per task: it counts binds and closes per
// subtask, and its Eval blocks until its context is cancelled when block is
// set.
type bindProbe struct {
	mu      sync.Mutex
	binds   map[int]int
	closes  map[int]int
	bindErr error
	block   bool
	entered chan struct{}
}

func (p *bindProbe) fn(name string) *Func {
	return &Func{Name: name, Resolve: func(args []types.Type) (*Resolved, error) {
		return &Resolved{Args: args, Result: tI64, Bind: func(ctx context.Context, task TaskContext) (Bound, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.bindErr != nil {
				return nil, p.bindErr
			}
			if p.binds == nil {
				p.binds, p.closes = map[int]int{}, map[int]int{}
			}
			p.binds[task.Subtask]++
			return &probeInstance{p: p, subtask: task.Subtask}, nil
		}}, nil
	}}
}

type probeInstance struct {
	p       *bindProbe
	subtask int
}

func (b *probeInstance) Eval(ctx context.Context, args []coldata.Vector, n int, _ []int32) (coldata.Vector, error) {
	if b.p.block {
		b.p.entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &coldata.Vec[int64]{T: tI64, Vals: make([]int64, n)}, nil
}

func (b *probeInstance) Close() error {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	b.p.closes[b.subtask]++
	return nil
}

func TestCompilerBindsPerTask(t *testing.T) {
	p := &bindProbe{}
	reg := Builtins().Scope()
	if err := reg.Add(p.fn("probe")); err != nil {
		t.Fatal(err)
	}
	e := call("+", tI64, call("probe", tI64, col(0, tI64)), call("probe", tI64, call("probe", tI64, col(0, tI64))))
	// Without a task the call compiles (the planner checks plans so) but
	// cannot run, and nothing is bound.
	ev, err := Compile(e, reg)
	if err != nil {
		t.Fatalf("Compile without a task: %v", err)
	}
	b := &coldata.Batch{Cols: []coldata.Vector{vec(tI64, 1, 2)}, Len: 2}
	if _, err := ev.Eval(tctx, b); err == nil || !strings.Contains(err.Error(), "function probe is not bound to a task") {
		t.Errorf("unbound Eval: %v", err)
	}
	for sub := range 3 {
		c := &Compiler{Registry: reg, Task: &TaskContext{Subtask: sub, Parallelism: 3}}
		for range 2 {
			ev, err := c.Compile(tctx, e)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if _, err := ev.Eval(tctx, b); err != nil {
				t.Fatalf("Eval: %v", err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Compile(tctx, e); err == nil {
			t.Errorf("Compile after Close succeeded")
		}
	}
	// One instance per function and signature per subtask, however many
	// call sites and expressions use it; each closed once.
	want := map[int]int{0: 1, 1: 1, 2: 1}
	if fmt.Sprint(p.binds) != fmt.Sprint(want) || fmt.Sprint(p.closes) != fmt.Sprint(want) {
		t.Errorf("binds %v closes %v, want %v each", p.binds, p.closes, want)
	}

	p.bindErr = errors.New("no memory for an instance")
	c := &Compiler{Registry: reg, Task: &TaskContext{}}
	if _, err := c.Compile(tctx, e); err == nil || !strings.Contains(err.Error(), "bind function probe: no memory for an instance") {
		t.Errorf("Bind error: %v", err)
	}
}

func TestBoundEvalGetsContext(t *testing.T) {
	p := &bindProbe{block: true, entered: make(chan struct{}, 1)}
	reg := Builtins().Scope()
	if err := reg.Add(p.fn("probe")); err != nil {
		t.Fatal(err)
	}
	c := &Compiler{Registry: reg, Task: &TaskContext{}}
	defer c.Close()
	ev, err := c.Compile(tctx, call("probe", tI64, col(0, tI64)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := ev.Eval(ctx, &coldata.Batch{Cols: []coldata.Vector{vec(tI64, 1)}, Len: 1})
		done <- err
	}()
	<-p.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Eval after cancel: %v, want context.Canceled", err)
	}
}
