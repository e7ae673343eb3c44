package wasm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
)

// Register adds every function of mods to reg (a pipeline's scope), in
// order. A name that two modules export, or that is a built-in or already
// in reg, is an error naming both definitions; nothing is added then.
func Register(reg *expr.Registry, mods ...*Module) error {
	owner := map[string]string{}
	for _, m := range mods {
		for _, s := range m.sigs {
			if prev, ok := owner[s.Name]; ok {
				return fmt.Errorf("udf %s is defined by two modules: %s and %s", s.Name, prev, m.Name)
			}
			owner[s.Name] = m.Name
			_, f := reg.Lookup(s.Name)
			_, a := reg.LookupAggregate(s.Name)
			if f || a {
				what := "a function already defined"
				if _, bf := expr.Builtins().Lookup(s.Name); bf {
					what = "a built-in function"
				} else if _, ba := expr.Builtins().LookupAggregate(s.Name); ba {
					what = "a built-in aggregate"
				}
				return fmt.Errorf("udf %s of module %s clashes with %s of that name; rename the UDF", s.Name, m.Name, what)
			}
		}
	}
	for _, m := range mods {
		for i := range m.sigs {
			s := &m.sigs[i]
			var err error
			if s.Aggregate {
				err = reg.AddAggregate(m.aggregateFunc(s))
			} else {
				err = reg.Add(m.scalarFunc(s))
			}
			if err != nil {
				return fmt.Errorf("udf %s of module %s: %w", s.Name, m.Name, err)
			}
		}
	}
	return nil
}

// resolveArgs checks the argument types of a call of s: each must be the
// declared type, NULL, or a type that widens to it (an INT for a BIGINT,
// any integer for a DOUBLE); the planner casts those. The error shows the
// signature.
func (s *Signature) resolveArgs(args []types.Type) ([]types.Type, error) {
	if len(args) != len(s.Args) {
		return nil, fmt.Errorf("%s takes %d argument%s, got %d", s.Call(), len(s.Args), plural(len(s.Args)), len(args))
	}
	out := make([]types.Type, len(args))
	for i, a := range args {
		want := s.Args[i].Type
		if a.Kind != types.Null && !a.Equal(want) {
			c, err := expr.CommonType(a, want)
			if err != nil || !c.Equal(want) {
				return nil, fmt.Errorf("%s expects %s as argument %d, got %s", s.Call(), want, i+1, a)
			}
		}
		out[i] = want
	}
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (m *Module) description(s *Signature) string {
	return fmt.Sprintf("UDF from %s: %s", m.Name, s)
}

// scalarFunc is s as a registry function: bound per subtask to one
// instance of the module.
func (m *Module) scalarFunc(s *Signature) *expr.Func {
	return &expr.Func{
		Name:        s.Name,
		Description: m.description(s),
		Resolve: func(args []types.Type) (*expr.Resolved, error) {
			in, err := s.resolveArgs(args)
			if err != nil {
				return nil, err
			}
			return &expr.Resolved{Args: in, Result: s.Result.Type, Bind: func(ctx context.Context, task expr.TaskContext) (expr.Bound, error) {
				inst, err := m.acquire(ctx)
				if err != nil {
					return nil, err
				}
				return &bound{m: m, in: inst, call: scalarCall{sig: s, al: task.Alloc}}, nil
			}}, nil
		},
	}
}

// bound is a scalar UDF bound to a subtask: it holds one instance until
// Close. After a failed call the instance is broken; the next call (the
// job normally fails first) gets a fresh one.
type bound struct {
	m    *Module
	in   *instance
	call scalarCall
}

var _ expr.Bound = (*bound)(nil)

func (b *bound) Eval(ctx context.Context, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	if b.in == nil {
		return nil, errors.New("udf " + b.call.sig.Name + ": evaluated after Close")
	}
	if b.in.broken {
		b.m.release(b.in)
		in, err := b.m.acquire(ctx)
		if err != nil {
			b.in = nil
			return nil, err
		}
		b.in = in
	}
	v, err := b.call.eval(ctx, b.in, args, n, sel)
	if err != nil && !strings.Contains(err.Error(), b.m.Name) {
		err = fmt.Errorf("%w (module %s)", err, b.m.Name)
	}
	return v, err
}

func (b *bound) Close() error {
	if b.in != nil {
		b.m.release(b.in)
		b.in = nil
	}
	return nil
}
