package sqlplan_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
)

// sameType is a UDF name(t) -> t.
func sameType(name string, t types.Type) *expr.Func {
	return &expr.Func{Name: name, Resolve: func(args []types.Type) (*expr.Resolved, error) {
		if len(args) != 1 || !args[0].Equal(t) {
			return nil, fmt.Errorf("%s(%s) expects %s", name, t, t)
		}
		return &expr.Resolved{Args: args, Result: t, Kernel: func(_ *coldata.Allocator, a []coldata.Vector, _ int, _ []int32) (coldata.Vector, error) {
			return a[0], nil
		}}, nil
	}}
}

// TestPlanWithUDFScopes plans, concurrently, pipelines whose UDF scopes
// define the same name with different signatures: each resolves f in its
// own scope, and a scope's UDF is invisible to the others.
func TestPlanWithUDFScopes(t *testing.T) {
	a, b := expr.Builtins().Scope(), expr.Builtins().Scope()
	if err := a.Add(sameType("f", types.Int64T)); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(sameType("f", types.StringT)); err != nil {
		t.Fatal(err)
	}
	const ddl = "CREATE TABLE t (id BIGINT, s TEXT) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n"
	plan := func(reg *expr.Registry, sel string) (*program.Program, error) {
		return sqlplan.Plan("udf.sql", ddl+"SELECT "+sel+" AS x FROM t;", sqlplan.Options{DefaultSink: "stdout", Functions: reg})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Go(func() {
			reg, sel, want := a, "f(id)", types.Int64T
			if g%2 == 1 {
				reg, sel, want = b, "f(s)", types.StringT
			}
			prog, err := plan(reg, sel)
			if err != nil {
				errs <- err
				return
			}
			for _, n := range prog.Nodes {
				if n.Calc != nil {
					if got := n.Calc.Project[0]; got.Op != program.ExprCall || got.Func != "f" || !got.Type.Equal(want) {
						errs <- fmt.Errorf("%s: projected %s %s of type %s, want f of %s", sel, got.Op, got.Func, got.Type, want)
					}
					return
				}
			}
			errs <- fmt.Errorf("%s: no calc", sel)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range []struct {
		reg       *expr.Registry
		sel, want string
	}{
		{a, "f(s)", "udf.sql:2:8: f(BIGINT) expects BIGINT"},
		{b, "f(id)", "udf.sql:2:8: f(TEXT) expects TEXT"},
		{nil, "f(id)", "udf.sql:2:8: unknown function 'f'"},
	} {
		if _, err := plan(c.reg, c.sel); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.sel, err, c.want)
		}
	}
}
