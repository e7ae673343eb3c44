package expr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Kernel computes a function over whole vectors. args all have physical
// length n; only the rows listed in sel (all rows when sel is nil) need to
// be computed, the others may hold anything. The result must have length n
// and be a new vector (or one of args, unchanged): batches are immutable.
// Kernels handle NULLs themselves. A Kernel is stateless and safe for
// concurrent use: built-ins are kernels.
type Kernel func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error)

// TaskContext describes the subtask a function is bound for (see Bind).
type TaskContext struct {
	JobID       string
	OperatorID  string
	Subtask     int
	Parallelism int
	// Alloc is the subtask's allocator (nil: unaccounted): functions bound
	// for the task allocate their results through it.
	Alloc *coldata.Allocator
}

// Bound is a function bound to one subtask (a wasm instance, a connection).
// Eval has Kernel's contract plus ctx, the subtask's context: when it is
// cancelled (the job fails or is cancelled) a long call should return
// ctx.Err(). Eval is called by one goroutine at a time. Close releases what
// Bind acquired; it is called once, after the last Eval.
type Bound interface {
	Eval(ctx context.Context, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error)
	Close() error
}

// Resolved is a function bound to concrete argument types.
type Resolved struct {
	// Args are the types the kernel expects; where they differ from the
	// actual argument types the planner inserts casts.
	Args []types.Type
	// Result is the type of the kernel's output.
	Result types.Type
	// Kernel computes a stateless function. Exactly one of Kernel and Bind
	// is set.
	Kernel Kernel
	// Bind instantiates the function for one subtask; ctx is the context
	// the subtask is being built with. Every operator subtask that uses the
	// function binds it once per signature and closes it when the subtask
	// exits. An expression compiled without a task (the planner checking
	// a plan) is not bound, and evaluating it is an error.
	Bind func(ctx context.Context, task TaskContext) (Bound, error)

	// prepare, set by some built-ins, specializes Kernel for one call site
	// from its constant arguments: consts[i] is the value of argument i
	// when it is a non-NULL literal, else nil. It returns the kernel to
	// call (nil: Kernel), compiled once per call site (a regular
	// expression, a format name), or an error about a constant argument
	// (an *argError naming which), reported at planning.
	prepare func(consts []*scalar) (Kernel, error)
}

// argError is a prepare error caused by the constant argument arg
// (0-based): the compiler reports it at that argument's SQL position.
type argError struct {
	arg int
	err error
}

func (e *argError) Error() string { return e.err.Error() }
func (e *argError) Unwrap() error { return e.err }

// Func is a scalar function. Resolve checks the argument types and picks an
// implementation; its error is shown to the user, so it names the expected
// types ("upper(TEXT) expects TEXT, got BIGINT").
type Func struct {
	Name        string
	Description string
	Resolve     func(args []types.Type) (*Resolved, error)
	// Volatile marks a function whose result differs from call to call
	// with the same arguments (random, uuid, now): the compiler never
	// folds a call of it into a constant, so every row gets its own value.
	// Built-ins are folded when all their arguments are constants unless
	// they are volatile; UDFs are never folded.
	Volatile bool
}

// Registry holds functions by name: scalar functions and aggregates share
// one namespace. The built-ins (Builtins) are a registry fixed at package
// initialization; a pipeline's UDFs go into a scope over it (Scope), so one
// process can plan and run many pipelines with different UDFs. Lookup
// searches a scope, then its parent, up to the built-ins.
//
// A name resolves to at most one function along a chain: Add rejects a
// name that the scope or any parent already has, so a UDF cannot shadow a
// built-in (nor a parent scope's UDF). SQL that means one thing in one
// pipeline must not silently mean another because of a UDF, and built-in
// calls are constant-folded and specialized where a UDF's are not.
//
// A Registry is safe for concurrent use. Nothing is ever removed.
type Registry struct {
	parent *Registry
	// fixed registries (the built-ins once initialized) are read without
	// the lock: nothing writes them.
	fixed bool
	mu    sync.RWMutex
	funcs map[string]*Func
	aggs  map[string]*AggregateFunc
}

// builtinReg holds the built-ins; package init fills it through register
// and registerAggregate, and Builtins fixes it.
var (
	builtinReg   = &Registry{funcs: map[string]*Func{}, aggs: map[string]*AggregateFunc{}}
	builtinsOnce sync.Once
)

// Builtins returns the registry of built-in functions. It is immutable:
// Add on it is an error.
func Builtins() *Registry {
	builtinsOnce.Do(func() {
		builtinReg.mu.Lock()
		builtinReg.fixed = true
		builtinReg.mu.Unlock()
	})
	return builtinReg
}

// NewRegistry returns an empty scope over parent (nil: a registry with no
// functions at all, not even the built-ins).
func NewRegistry(parent *Registry) *Registry {
	return &Registry{parent: parent, funcs: map[string]*Func{}, aggs: map[string]*AggregateFunc{}}
}

// Scope returns a new, empty scope over r, for one pipeline's UDFs.
func (r *Registry) Scope() *Registry { return NewRegistry(r) }

// ErrDuplicateFunction is returned (wrapped, naming the function) by Add
// and AddAggregate when the name is already taken along the chain.
var ErrDuplicateFunction = errors.New("function already defined")

// Add adds the scalar function f to scope r under its lower-cased name. It
// fails when the name is empty, when r is the built-in registry, or when
// the name resolves already (in r or a parent, scalar or aggregate).
func (r *Registry) Add(f *Func) error {
	if f == nil || f.Resolve == nil {
		return fmt.Errorf("add function: no Resolve")
	}
	return r.add(f.Name, func(name string) { r.funcs[name] = f })
}

// AddAggregate adds the aggregate a to scope r, with Add's rules.
func (r *Registry) AddAggregate(a *AggregateFunc) error {
	if a == nil || a.Resolve == nil {
		return fmt.Errorf("add aggregate: no Resolve")
	}
	return r.add(a.Name, func(name string) { r.aggs[name] = a })
}

func (r *Registry) add(name string, put func(string)) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return fmt.Errorf("add function: empty name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fixed {
		return fmt.Errorf("add function %s: the built-in registry is read-only (add UDFs to a Scope)", name)
	}
	if r.hasLocked(name) {
		return fmt.Errorf("function %s: %w in this pipeline", name, ErrDuplicateFunction)
	}
	for p := r.parent; p != nil; p = p.parent {
		if p.has(name) {
			what := "a parent scope"
			if p == builtinReg {
				what = "a built-in"
			}
			return fmt.Errorf("function %s: %w as %s; a UDF cannot shadow it", name, ErrDuplicateFunction, what)
		}
	}
	put(name)
	return nil
}

func (r *Registry) hasLocked(name string) bool {
	_, f := r.funcs[name]
	_, a := r.aggs[name]
	return f || a
}

func (r *Registry) has(name string) bool {
	if r.fixed {
		return r.hasLocked(name)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.hasLocked(name)
}

// Lookup returns the scalar function called name (case-insensitive),
// searching r and then its parents.
func (r *Registry) Lookup(name string) (*Func, bool) {
	name = strings.ToLower(name)
	for s := r; s != nil; s = s.parent {
		if f, ok := s.get(name); ok {
			return f, true
		}
	}
	return nil, false
}

func (r *Registry) get(name string) (*Func, bool) {
	if !r.fixed {
		r.mu.RLock()
		defer r.mu.RUnlock()
	}
	f, ok := r.funcs[name]
	return f, ok
}

// LookupAggregate returns the aggregate called name (case-insensitive),
// searching r and then its parents.
func (r *Registry) LookupAggregate(name string) (*AggregateFunc, bool) {
	name = strings.ToLower(name)
	for s := r; s != nil; s = s.parent {
		if !s.fixed {
			s.mu.RLock()
		}
		a, ok := s.aggs[name]
		if !s.fixed {
			s.mu.RUnlock()
		}
		if ok {
			return a, true
		}
	}
	return nil, false
}

// Names returns the names of every function visible from r, scalar and
// aggregate, sorted.
func (r *Registry) Names() []string {
	var out []string
	for s := r; s != nil; s = s.parent {
		if !s.fixed {
			s.mu.RLock()
		}
		for k := range s.funcs {
			out = append(out, k)
		}
		for k := range s.aggs {
			out = append(out, k)
		}
		if !s.fixed {
			s.mu.RUnlock()
		}
	}
	sort.Strings(out)
	return out
}

// isBuiltin reports whether f is a built-in function (specializable, and
// foldable unless Volatile).
func isBuiltin(f *Func) bool {
	b, ok := builtinReg.funcs[f.Name]
	return ok && b == f
}

// register adds a built-in during package initialization.
func register(f *Func) {
	if builtinReg.fixed {
		panic("expr: register after init")
	}
	name := strings.ToLower(f.Name)
	if builtinReg.hasLocked(name) {
		panic(fmt.Sprintf("expr: built-in %q registered twice", name))
	}
	f.Name = name
	builtinReg.funcs[name] = f
}

// registerAggregate adds a built-in aggregate during package initialization.
func registerAggregate(a *AggregateFunc) {
	if builtinReg.fixed {
		panic("expr: register after init")
	}
	name := strings.ToLower(a.Name)
	if builtinReg.hasLocked(name) {
		panic(fmt.Sprintf("expr: built-in %q registered twice", name))
	}
	a.Name = name
	builtinReg.aggs[name] = a
}
