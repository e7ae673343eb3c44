package ops_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// instances counts live instances of a per-task UDF.
type instances struct{ bound, closed int }

func (c *instances) fn() *expr.Func {
	return &expr.Func{Name: "inst", Resolve: func(args []types.Type) (*expr.Resolved, error) {
		return &expr.Resolved{Args: args, Result: types.Int64T, Bind: func(context.Context, expr.TaskContext) (expr.Bound, error) {
			c.bound++
			return instance{c}, nil
		}}, nil
	}}
}

type instance struct{ c *instances }

func (i instance) Eval(_ context.Context, args []coldata.Vector, _ int, _ []int32) (coldata.Vector, error) {
	return args[0], nil
}

func (i instance) Close() error {
	i.c.closed++
	return nil
}

// TestCalcClosesBoundFunctions: a calc binds per-task functions from its
// task's registry at construction and closes them in Close; a calc that
// fails to compile closes what it had bound already.
func TestCalcClosesBoundFunctions(t *testing.T) {
	c := &instances{}
	reg := expr.Builtins().Scope()
	if err := reg.Add(c.fn()); err != nil {
		t.Fatal(err)
	}
	task := ops.TaskInfo{Functions: reg, Subtask: 1, Parallelism: 2}
	calc := &program.Calc{Project: []*program.Expr{call("inst", types.Int64T, col(0))}}
	if _, err := ops.NewCalc(context.Background(), calc, ops.TaskInfo{}); err == nil || !strings.Contains(err.Error(), "unknown function inst") {
		t.Fatalf("NewCalc without the registry: %v", err)
	}
	op, err := ops.New(context.Background(), &program.Node{Op: program.OpCalc, Calc: calc}, task)
	if err != nil {
		t.Fatal(err)
	}
	if c.bound != 1 || c.closed != 0 {
		t.Fatalf("after construction: bound %d, closed %d", c.bound, c.closed)
	}
	if err := op.(ops.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if c.bound != 1 || c.closed != 1 {
		t.Fatalf("after Close: bound %d, closed %d", c.bound, c.closed)
	}
	bad := &program.Calc{Project: []*program.Expr{call("inst", types.Int64T, col(0)), call("no_such_function", types.Int64T)}}
	if _, err := ops.NewCalc(context.Background(), bad, task); err == nil {
		t.Fatal("NewCalc with an unknown function succeeded")
	}
	if got := fmt.Sprint(c.bound, c.closed); got != "2 2" {
		t.Errorf("after a failed NewCalc: bound, closed = %s, want 2 2", got)
	}
}

// TestNewPassesContextToBind: ops.New hands its context (the job's) to a
// function's Bind, so cancelling the job can interrupt a slow binding.
func TestNewPassesContextToBind(t *testing.T) {
	reg := expr.Builtins().Scope()
	err := reg.Add(&expr.Func{Name: "slow_bind", Resolve: func(args []types.Type) (*expr.Resolved, error) {
		return &expr.Resolved{Args: args, Result: types.Int64T, Bind: func(ctx context.Context, _ expr.TaskContext) (expr.Bound, error) {
			<-ctx.Done() // a start function that never returns by itself
			return nil, context.Cause(ctx)
		}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(fmt.Errorf("job cancelled"))
	calc := &program.Calc{Project: []*program.Expr{call("slow_bind", types.Int64T, col(0))}}
	_, err = ops.New(ctx, &program.Node{Op: program.OpCalc, Calc: calc}, ops.TaskInfo{Functions: reg})
	if err == nil || !strings.Contains(err.Error(), "job cancelled") {
		t.Fatalf("New with a cancelled context: %v, want the cancellation", err)
	}
}
