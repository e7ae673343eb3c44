package expr

import (
	"context"
	"errors"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Evaluator computes a compiled expression over batches.
//
// Eval returns a vector of physical length b.Len whose rows listed in b.Sel
// (all rows when b.Sel is nil) hold the result; the other rows hold
// anything. The result may be one of b's vectors or a vector shared with an
// earlier call (a cached literal): like every vector it is immutable.
//
// An Evaluator may be called many times, by one goroutine at a time, and
// keeps no reference to a batch after Eval returns.
type Evaluator interface {
	Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error)
}

// Filter selects the rows of a batch where a BOOLEAN expression is TRUE.
//
// Select returns a new, non-nil, ascending selection of physical row
// indexes: the rows of b (only those in b.Sel when it is set) where the
// predicate is TRUE; rows where it is FALSE or NULL are dropped. It never
// writes into b.Sel. The same calling rules as Evaluator apply.
type Filter interface {
	Select(ctx context.Context, b *coldata.Batch) ([]int32, error)
}

// Compiler compiles expressions for one operator subtask, or, without a
// Task, for checking a plan. It resolves calls through Registry and binds
// the functions that bind per task (Resolved.Bind) once per function and
// signature; Close closes what it bound. A Compiler and the evaluators it
// returns are used by one goroutine at a time.
type Compiler struct {
	// Registry resolves function names (nil: Builtins()).
	Registry *Registry
	// Task, when set, is the subtask bindable functions are bound for.
	// Without it they compile unbound and evaluating them is an error.
	Task *TaskContext
	// Alloc is the allocator results are allocated through (nil:
	// unaccounted); a Task's Alloc when unset.
	Alloc *coldata.Allocator
	// NoScratch turns off the reuse of expression temporaries (see
	// Compile), for measuring it.
	NoScratch bool

	bound  map[string]Bound
	order  []Bound
	closed bool
}

// compiler is one Compile call: the Compiler and the context functions are
// bound with.
type compiler struct {
	*Compiler
	ctx context.Context
	// alloc is the result allocator; scratch (nil: none) the temporaries'.
	alloc, scratch *coldata.Allocator
	// depth is how deep compile is in the expression: 0 at its root.
	depth int
	// filter says the root's result is a temporary too (a filter's
	// selection is what it returns).
	filter bool
}

// newCompiler starts one Compile or CompileFilter call.
func (c *Compiler) newCompiler(ctx context.Context, filter bool) *compiler {
	cc := &compiler{Compiler: c, ctx: ctx, alloc: c.Alloc, filter: filter}
	if cc.alloc == nil && c.Task != nil {
		cc.alloc = c.Task.Alloc
	}
	if !c.NoScratch {
		cc.scratch = coldata.NewScratch(cc.alloc.Account())
	}
	return cc
}

// setAlloc gives a compiled node its allocator. The root's result is the
// expression's and comes from the result allocator; any other node's result
// is only an argument of its parent, a temporary, and comes from the
// scratch allocator, recycled after every batch (rootEval). Literals cache
// their vector across batches, so they never take scratch.
func (cc *compiler) setAlloc(ev Evaluator) {
	u, ok := ev.(AllocatorUser)
	if !ok {
		return
	}
	al := cc.alloc
	if _, lit := ev.(*litEval); !lit && cc.scratch != nil && (cc.depth > 0 || cc.filter) {
		al = cc.scratch
	}
	u.SetAllocator(al)
}

// temps returns the allocator of temporaries: the scratch allocator, or
// the result allocator without one.
func (cc *compiler) temps() *coldata.Allocator {
	if cc.scratch != nil {
		return cc.scratch
	}
	return cc.alloc
}

// rootEval is a compiled expression with temporaries: after each batch it
// recycles them, except those its result shares memory with (a kernel may
// return one of its arguments, or a view of one).
type rootEval struct {
	ev      Evaluator
	scratch *coldata.Allocator
}

func (r *rootEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	v, err := r.ev.Eval(ctx, b)
	r.scratch.Recycle(v)
	return v, err
}

// rootFilter is rootEval for a filter: its temporaries are all recycled.
type rootFilter struct {
	f       Filter
	scratch *coldata.Allocator
}

func (r *rootFilter) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	sel, err := r.f.Select(ctx, b)
	r.scratch.Recycle()
	return sel, err
}

// Compile compiles a resolved expression. Calls are bound to registered
// functions through Func.Resolve with the argument types; the planner must
// have inserted the casts Resolve asks for (Compile fails if an argument
// type differs from the resolved one, or the result from e.Type). ctx is
// passed to the Bind of functions bound for the task.
//
// A constant sub-expression that every row evaluates and that fails
// (1 / 0, CAST('abc' AS BIGINT)) is a compile error, an *Error with the
// expression's position, so the planner reports it before anything runs.
func (c *Compiler) Compile(ctx context.Context, e *program.Expr) (Evaluator, error) {
	if c.closed {
		return nil, errors.New("compile: compiler is closed")
	}
	cc := c.newCompiler(ctx, false)
	ev, err := cc.compile(e, src{})
	if err != nil || cc.scratch == nil {
		return ev, err
	}
	if _, ok := ev.(*colEval); ok {
		return ev, nil
	}
	if _, ok := ev.(*litEval); ok {
		return ev, nil
	}
	return &rootEval{ev: ev, scratch: cc.scratch}, nil
}

// CompileFilter compiles a BOOLEAN predicate into a Filter. Conjunctions
// narrow the selection term by term and comparisons write the selection
// directly, without materializing BOOLEAN vectors.
func (c *Compiler) CompileFilter(ctx context.Context, e *program.Expr) (Filter, error) {
	if c.closed {
		return nil, errors.New("compile filter: compiler is closed")
	}
	if e == nil {
		return nil, fmt.Errorf("compile filter: nil expression")
	}
	if k := e.Type.Kind; k != types.Bool && k != types.Null {
		return nil, fmt.Errorf("compile filter: predicate has type %s, want BOOLEAN", e.Type)
	}
	cc := c.newCompiler(ctx, true)
	f, err := cc.compileFilter(e, src{})
	if err != nil || cc.scratch == nil {
		return f, err
	}
	return &rootFilter{f: f, scratch: cc.scratch}, nil
}

// Close closes every function the compiler bound, in binding order, and
// returns their errors joined. Evaluators it compiled must not be used
// afterwards. Close is idempotent.
func (c *Compiler) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for _, b := range c.order {
		if err := b.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.order, c.bound = nil, nil
	return errors.Join(errs...)
}

func (c *Compiler) registry() *Registry {
	if c.Registry == nil {
		return Builtins()
	}
	return c.Registry
}

// bind returns f's instance for this task with signature r, binding it on
// first use.
func (cc *compiler) bind(f *Func, r *Resolved) (Bound, error) {
	key := f.Name + typeList(r.Args)
	if b, ok := cc.bound[key]; ok {
		return b, nil
	}
	b, err := r.Bind(cc.ctx, *cc.Task)
	if err != nil {
		return nil, fmt.Errorf("bind function %s: %w", f.Name, err)
	}
	if b == nil {
		return nil, fmt.Errorf("bind function %s: no instance", f.Name)
	}
	if cc.bound == nil {
		cc.bound = map[string]Bound{}
	}
	cc.bound[key] = b
	cc.order = append(cc.order, b)
	return b, nil
}

// Compile compiles e without a task, resolving calls through reg (nil:
// Builtins()); see Compiler.Compile. The planner uses it to check a plan.
func Compile(e *program.Expr, reg *Registry) (Evaluator, error) {
	return (&Compiler{Registry: reg}).Compile(context.Background(), e)
}

// CompileFilter is Compiler.CompileFilter without a task.
func CompileFilter(e *program.Expr, reg *Registry) (Filter, error) {
	return (&Compiler{Registry: reg}).CompileFilter(context.Background(), e)
}

func (cc *compiler) compileFilter(e *program.Expr, at src) (Filter, error) {
	at = at.of(e)
	switch e.Op {
	case program.ExprAnd, program.ExprOr:
		if len(e.Args) >= 2 {
			fs := make([]Filter, len(e.Args))
			for i, a := range e.Args {
				if k := a.Type.Kind; k != types.Bool && k != types.Null {
					return nil, compileErr(at, fmt.Errorf("%s operand has type %s, want BOOLEAN", e.Op, a.Type))
				}
				sub := at
				if i > 0 {
					sub = at.guard()
				}
				f, err := cc.compileFilter(a, sub)
				if err != nil {
					return nil, err
				}
				fs[i] = f
			}
			if e.Op == program.ExprAnd {
				return &andFilter{fs: fs}, nil
			}
			return &orFilter{fs: fs}, nil
		}
	}
	ev, err := cc.compile(e, at)
	if err != nil {
		return nil, err
	}
	if f, ok := ev.(Filter); ok {
		return f, nil
	}
	return &evalFilter{ev: ev}, nil
}

// compile compiles e; at says where it came from (see src), used to wrap
// errors raised by e's own kernel. Errors coming from children are passed
// through, already wrapped.
func (cc *compiler) compile(e *program.Expr, at src) (Evaluator, error) {
	cc.depth++
	ev, err := cc.compileNode(e, at)
	cc.depth--
	if err == nil {
		cc.setAlloc(ev)
	}
	return ev, err
}

func (cc *compiler) compileNode(e *program.Expr, at src) (Evaluator, error) {
	if e == nil {
		return nil, compileErr(at, fmt.Errorf("nil expression"))
	}
	at = at.of(e)
	fail := func(format string, args ...any) (Evaluator, error) {
		return nil, compileErr(at, fmt.Errorf(format, args...))
	}
	nargs := func(want int) bool { return len(e.Args) == want }
	switch e.Op {
	case program.ExprCol:
		if e.Col < 0 {
			return fail("negative column index %d", e.Col)
		}
		return &colEval{col: e.Col, t: e.Type}, nil
	case program.ExprLit:
		sc, err := decodeLit(e.Type, e.Value)
		if err != nil {
			return fail("%w", err)
		}
		return &litEval{sc: sc}, nil
	case program.ExprCall:
		return cc.compileCall(e, at)
	case program.ExprCast:
		if !nargs(1) {
			return fail("CAST takes 1 argument, got %d", len(e.Args))
		}
		if err := CanCast(e.Args[0].Type, e.Type); err != nil {
			return fail("%w", err)
		}
		arg, err := cc.compile(e.Args[0], at)
		if err != nil {
			return nil, err
		}
		if e.Args[0].Type.Equal(e.Type) {
			return arg, nil
		}
		return fold(&castEval{arg: arg, to: e.Type, at: &at}, e.Type, at, arg)
	case program.ExprAnd, program.ExprOr:
		if len(e.Args) < 2 {
			return fail("%s takes at least 2 arguments, got %d", e.Op, len(e.Args))
		}
		args, err := cc.compileArgs(e.Args, at, types.BoolT, true)
		if err != nil {
			return nil, err
		}
		ev := args[0]
		for i, a := range args[1:] {
			l := &logicEval{or: e.Op == program.ExprOr, l: ev, r: a}
			if i < len(args)-2 {
				// An inner link of the chain: its result is a temporary
				// of the next (compile gives the last its allocator).
				l.al = cc.temps()
			}
			ev = l
		}
		return ev, nil
	case program.ExprNot:
		if !nargs(1) {
			return fail("NOT takes 1 argument, got %d", len(e.Args))
		}
		args, err := cc.compileArgs(e.Args, at, types.BoolT, false)
		if err != nil {
			return nil, err
		}
		return &notEval{arg: args[0]}, nil
	case program.ExprIsNull, program.ExprIsNotNull:
		if !nargs(1) {
			return fail("%s takes 1 argument, got %d", e.Op, len(e.Args))
		}
		arg, err := cc.compile(e.Args[0], at)
		if err != nil {
			return nil, err
		}
		return &isNullEval{arg: arg, not: e.Op == program.ExprIsNotNull}, nil
	case program.ExprCase:
		return cc.compileCase(e, at)
	case program.ExprCoalesce:
		if len(e.Args) == 0 {
			return fail("COALESCE takes at least 1 argument")
		}
		args, err := cc.compileArgs(e.Args, at, e.Type, true)
		if err != nil {
			return nil, err
		}
		return &coalesceEval{args: args, t: e.Type}, nil
	case program.ExprIn:
		return cc.compileIn(e, at)
	case program.ExprField:
		if !nargs(1) {
			return fail("field access takes 1 argument, got %d", len(e.Args))
		}
		st := e.Args[0].Type
		if st.Kind != types.Struct {
			return fail("field access on %s, want a STRUCT", st)
		}
		if e.Field < 0 || e.Field >= len(st.Fields) {
			return fail("field %d out of range for %s", e.Field, st)
		}
		if ft := st.Fields[e.Field].Type; !ft.Equal(e.Type) {
			return fail("field %s has type %s, expression has type %s", st.Fields[e.Field].Name, ft, e.Type)
		}
		arg, err := cc.compile(e.Args[0], at)
		if err != nil {
			return nil, err
		}
		return &fieldEval{arg: arg, field: e.Field}, nil
	}
	return fail("unknown expression op %q", e.Op)
}

// compileArgs compiles args, which must have type t; NULL-typed args are
// accepted and converted. With lazy, only the first arg is evaluated for
// every row (AND, OR, COALESCE).
func (cc *compiler) compileArgs(args []*program.Expr, at src, t types.Type, lazy bool) ([]Evaluator, error) {
	out := make([]Evaluator, len(args))
	for i, a := range args {
		if !a.Type.Equal(t) && a.Type.Kind != types.Null {
			return nil, compileErr(at, fmt.Errorf("argument %d has type %s, want %s", i+1, a.Type, t))
		}
		sub := at
		if lazy && i > 0 {
			sub = at.guard()
		}
		ev, err := cc.compile(a, sub)
		if err != nil {
			return nil, err
		}
		if a.Type.Kind == types.Null && t.Kind != types.Null {
			// A cast of NULL cannot fail.
			ev, _ = fold(&castEval{arg: ev, to: t, at: &sub}, t, sub, ev)
		}
		out[i] = ev
	}
	return out, nil
}

func (cc *compiler) compileCall(e *program.Expr, at src) (Evaluator, error) {
	f, ok := cc.registry().Lookup(e.Func)
	if !ok {
		return nil, compileErr(at, fmt.Errorf("unknown function %s", e.Func))
	}
	argTypes := make([]types.Type, len(e.Args))
	for i, a := range e.Args {
		argTypes[i] = a.Type
	}
	r, err := f.Resolve(argTypes)
	if err != nil {
		return nil, compileErr(at, err)
	}
	if len(r.Args) != len(argTypes) {
		return nil, compileErr(at, fmt.Errorf("function %s resolved %d arguments for %d", e.Func, len(r.Args), len(argTypes)))
	}
	for i, t := range r.Args {
		if !t.Equal(argTypes[i]) {
			return nil, compileErr(at, fmt.Errorf("argument %d of %s has type %s, function expects %s (missing cast)",
				i+1, e.Func, argTypes[i], t))
		}
	}
	if !r.Result.Equal(e.Type) {
		return nil, compileErr(at, fmt.Errorf("function %s returns %s, expression has type %s", e.Func, r.Result, e.Type))
	}
	args := make([]Evaluator, len(e.Args))
	for i, a := range e.Args {
		if args[i], err = cc.compile(a, at); err != nil {
			return nil, err
		}
	}
	if r.Bind != nil {
		if cc.Task == nil {
			return &unboundEval{name: f.Name}, nil
		}
		b, err := cc.bind(f, r)
		if err != nil {
			return nil, compileErr(at, err)
		}
		return &boundEval{name: f.Name, fn: b, args: args, vecs: make([]coldata.Vector, len(args)), at: &at}, nil
	}
	if r.Kernel == nil {
		return nil, compileErr(at, fmt.Errorf("function %s resolved without a kernel", e.Func))
	}
	kernel := r.Kernel
	if r.prepare != nil {
		consts := make([]*scalar, len(args))
		for i, a := range args {
			consts[i] = litArg(a)
		}
		k, err := r.prepare(consts)
		if err != nil {
			return nil, constArgErr(e, at, err)
		}
		if k != nil {
			kernel = k
		}
	}
	ev := specialize(f, args, r, &at)
	if ev == nil {
		ev = &callEval{name: f.Name, kernel: kernel, args: args, vecs: make([]coldata.Vector, len(args)), at: &at}
	}
	if isBuiltin(f) && !f.Volatile {
		// Built-ins are deterministic unless marked volatile; UDFs may
		// not be.
		return fold(ev, e.Type, at, args...)
	}
	return ev, nil
}

// constArgErr reports a prepare error: at the SQL position of the constant
// argument it names when the planner recorded one, else at the call's.
func constArgErr(e *program.Expr, at src, err error) error {
	pos := at.pos
	var ae *argError
	if errors.As(err, &ae) {
		if ae.arg < len(e.Args) && e.Args[ae.arg].Pos != nil {
			pos = e.Args[ae.arg].Pos
		}
		err = ae.err
	}
	return &Error{Pos: pos, Text: at.text, Note: at.note, Row: -1, Err: err}
}

// litArg returns the scalar of ev when it is a non-NULL constant.
func litArg(ev Evaluator) *scalar {
	l, ok := ev.(*litEval)
	if !ok || l.sc.null {
		return nil
	}
	return l.sc
}

// fold evaluates ev once when all its arguments are constants and returns
// the constant, or ev unchanged. A constant that fails to evaluate (CAST('x'
// AS BIGINT)) is an error when every row evaluates it; when it is guarded
// (a CASE branch) it is left to fail at run time, if a row reaches it.
func fold(ev Evaluator, t types.Type, at src, args ...Evaluator) (Evaluator, error) {
	for _, a := range args {
		if _, ok := a.(*litEval); !ok {
			return ev, nil
		}
	}
	v, err := ev.Eval(context.Background(), &coldata.Batch{Len: 1})
	if err != nil {
		if at.guarded {
			return ev, nil
		}
		var ee *Error
		if errors.As(err, &ee) {
			// The row of a constant is not a row of the input.
			c := *ee
			c.Row = -1
			if c.Text == "" {
				// Name the constant even when its SQL text is unknown.
				c.Text = at.text
			}
			return nil, &c
		}
		return nil, &Error{Pos: at.pos, Text: at.text, Note: at.note, Row: -1, Err: err}
	}
	sc, ok := scalarAt(v, 0, t)
	if !ok {
		return ev, nil
	}
	return &litEval{sc: sc}, nil
}

// specialize replaces calls of built-in operators by evaluators that know
// their operands: comparisons that can write a selection, and operators
// with a constant operand that is never broadcast.
func specialize(f *Func, args []Evaluator, r *Resolved, at *src) Evaluator {
	if !isBuiltin(f) {
		return nil
	}
	name := f.Name
	if op, ok := arithOps[name]; ok && len(args) == 2 && plainArith(r) {
		if sc := litArg(args[1]); sc != nil {
			return &arithEval{op: op, t: r.Result, l: args[0], sc: sc, at: at}
		}
		if op == opAdd || op == opMul {
			if sc := litArg(args[0]); sc != nil {
				return &arithEval{op: op, t: r.Result, l: args[1], sc: sc, at: at}
			}
		}
		return nil
	}
	if op, ok := cmpOps[name]; ok && len(args) == 2 {
		if sc := litArg(args[1]); sc != nil {
			return &cmpEval{op: op, l: args[0], sc: sc, at: at}
		}
		if sc := litArg(args[0]); sc != nil {
			return &cmpEval{op: op.flip(), l: args[1], sc: sc, at: at}
		}
		return &cmpEval{op: op, l: args[0], r: args[1], at: at}
	}
	if name == "like" || name == "ilike" {
		if sc := litArg(args[1]); sc != nil {
			return &likeEval{arg: args[0], m: compileLike(sc.s, name == "ilike")}
		}
	}
	return nil
}

var (
	arithOps = map[string]arithOp{"+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "%": opMod}
	cmpOps   = map[string]cmpOp{"=": cmpEQ, "<>": cmpNE, "<": cmpLT, "<=": cmpLE, ">": cmpGT, ">=": cmpGE}
)

type colEval struct {
	col int
	t   types.Type
}

func (c *colEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	if c.col >= len(b.Cols) {
		return nil, fmt.Errorf("column %d out of range: batch has %d columns", c.col, len(b.Cols))
	}
	v := b.Cols[c.col]
	if k := v.Type().Kind; k != c.t.Kind {
		return nil, fmt.Errorf("column %d has type %s, expression expects %s", c.col, v.Type(), c.t)
	}
	return v, nil
}

type litEval struct {
	allocs

	sc  *scalar
	n   int
	vec coldata.Vector
}

func (l *litEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := l.al

	if l.vec == nil || l.n != b.Len {
		l.vec, l.n = l.sc.broadcast(al, b.Len), b.Len
	}
	return l.vec, nil
}

type castEval struct {
	allocs

	arg Evaluator
	to  types.Type
	at  *src
}

func (c *castEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	v, err := c.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	out, err := castVec(al, v, c.to, b.Len, b.Sel)
	return out, wrap(al, c.at, err, "", nil)
}

type callEval struct {
	allocs

	name   string
	kernel Kernel
	args   []Evaluator
	vecs   []coldata.Vector
	at     *src
}

func (c *callEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	defer clear(c.vecs)
	for i, a := range c.args {
		v, err := a.Eval(ctx, b)
		if err != nil {
			return nil, err
		}
		c.vecs[i] = v
	}
	out, err := c.kernel(al, c.vecs, b.Len, b.Sel)
	if err != nil {
		return nil, wrap(al, c.at, err, c.name, c.vecs)
	}
	return out, nil
}

// boundEval calls a function bound to the task with the subtask's context.
type boundEval struct {
	allocs

	name string
	fn   Bound
	args []Evaluator
	vecs []coldata.Vector
	at   *src
}

func (c *boundEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	defer clear(c.vecs)
	for i, a := range c.args {
		v, err := a.Eval(ctx, b)
		if err != nil {
			return nil, err
		}
		c.vecs[i] = v
	}
	out, err := c.fn.Eval(ctx, c.vecs, b.Len, b.Sel)
	if err != nil {
		return nil, wrap(al, c.at, err, c.name, c.vecs)
	}
	return out, nil
}

// unboundEval stands for a bindable function compiled without a task.
type unboundEval struct{ name string }

func (u *unboundEval) Eval(context.Context, *coldata.Batch) (coldata.Vector, error) {
	return nil, fmt.Errorf("function %s is not bound to a task (compiled without Compiler.Task)", u.name)
}

// arithEval is an arithmetic operator with a constant right operand.
type arithEval struct {
	allocs

	op arithOp
	t  types.Type
	l  Evaluator
	sc *scalar
	at *src
}

func (a *arithEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := a.al

	v, err := a.l.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	out, err := arith(al, a.op, a.t, v, nil, a.sc, b.Len, b.Sel)
	return out, wrap(al, a.at, err, "", nil)
}

// cmpEval is a comparison; r is nil when the right operand is the constant
// sc. It is also a Filter.
type cmpEval struct {
	allocs

	op      cmpOp
	l, r    Evaluator
	sc      *scalar
	at      *src
	scratch []bool
}

func (c *cmpEval) operands(ctx context.Context, b *coldata.Batch) (l, r coldata.Vector, err error) {
	if l, err = c.l.Eval(ctx, b); err != nil {
		return nil, nil, err
	}
	if c.r != nil {
		if r, err = c.r.Eval(ctx, b); err != nil {
			return nil, nil, err
		}
	}
	return l, r, nil
}

func (c *cmpEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	l, r, err := c.operands(ctx, b)
	if err != nil {
		return nil, err
	}
	out, err := compare(al, c.op, l, r, c.sc, b.Len, b.Sel)
	return out, wrap(al, c.at, err, "", nil)
}

func (c *cmpEval) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	al := c.al

	l, r, err := c.operands(ctx, b)
	if err != nil {
		return nil, err
	}
	if cap(c.scratch) < b.Len {
		c.scratch = make([]bool, b.Len)
	}
	out := c.scratch[:b.Len]
	if err := compareInto(c.op, l, r, c.sc, out, b.Len, b.Sel); err != nil {
		return nil, wrap(al, c.at, err, "", nil)
	}
	nulls := words(l)
	if r != nil {
		nulls = orWords(nulls, words(r))
	}
	return collect(out, b.Len, b.Sel, nulls), nil
}

type evalFilter struct{ ev Evaluator }

func (f *evalFilter) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	v, err := f.ev.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	bv, ok := v.(*coldata.Vec[bool])
	if !ok {
		return nil, fmt.Errorf("filter predicate produced %s, want BOOLEAN", v.Type())
	}
	return collect(bv.Vals, b.Len, b.Sel, words(bv)), nil
}

type andFilter struct{ fs []Filter }

func (f *andFilter) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	sel, err := f.fs[0].Select(ctx, b)
	if err != nil {
		return nil, err
	}
	for _, g := range f.fs[1:] {
		if len(sel) == 0 {
			break
		}
		if sel, err = g.Select(ctx, view(b, sel)); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

type orFilter struct{ fs []Filter }

func (f *orFilter) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	sel, err := f.fs[0].Select(ctx, b)
	if err != nil {
		return nil, err
	}
	for _, g := range f.fs[1:] {
		rest := diffSel(b.Len, b.Sel, sel)
		if len(rest) == 0 {
			break
		}
		more, err := g.Select(ctx, view(b, rest))
		if err != nil {
			return nil, err
		}
		sel = unionSel(sel, more)
	}
	return sel, nil
}

func boolVec(v coldata.Vector) (*coldata.Vec[bool], error) {
	bv, ok := v.(*coldata.Vec[bool])
	if !ok {
		return nil, fmt.Errorf("operand is %s, want BOOLEAN", v.Type())
	}
	return bv, nil
}

// logicEval is l AND r or l OR r in three-valued logic. r is evaluated only
// for the rows l does not decide (not FALSE for AND, not TRUE for OR), so
// "b <> 0 AND a / b > 1" does not divide by zero.
type logicEval struct {
	allocs

	or   bool
	l, r Evaluator
}

func (e *logicEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := e.al

	lv0, err := e.l.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	lv, err := boolVec(lv0)
	if err != nil {
		return nil, err
	}
	n := b.Len
	lw := words(lv)
	// The rows the left side decides: FALSE for AND, TRUE for OR.
	decided := func(i int) bool { return lv.Vals[i] == e.or && !nullAt(lw, i) }
	need := make([]int32, 0, selLen(n, b.Sel))
	if b.Sel != nil {
		for _, i := range b.Sel {
			if !decided(int(i)) {
				need = append(need, i)
			}
		}
	} else {
		for i := 0; i < n; i++ {
			if !decided(i) {
				need = append(need, int32(i))
			}
		}
	}
	if len(need) == 0 {
		return lv, nil
	}
	rb := b
	if len(need) != selLen(n, b.Sel) {
		rb = view(b, need)
	}
	rv0, err := e.r.Eval(ctx, rb)
	if err != nil {
		return nil, err
	}
	rv, err := boolVec(rv0)
	if err != nil {
		return nil, err
	}
	return combine3(al, e.or, lv, rv, n), nil
}

// combine3 computes l AND r (or l OR r) in three-valued logic over all n
// rows. Where l decides the result, r may hold anything.
func combine3(al *coldata.Allocator, or bool, l, r *coldata.Vec[bool], n int) *coldata.Vec[bool] {
	out := coldata.AllocVec[bool](al, types.BoolT, n)
	lw, rw := words(l), words(r)
	lv, rv, ov := l.Vals[:n], r.Vals[:n], out.Vals
	if lw == nil && rw == nil {
		if or {
			for i, a := range lv {
				ov[i] = a || rv[i]
			}
		} else {
			for i, a := range lv {
				ov[i] = a && rv[i]
			}
		}
		return out
	}
	var nw []uint64
	for i, a := range lv {
		ln, rn := nullAt(lw, i), nullAt(rw, i)
		ld := a == or && !ln // l decides
		rd := rv[i] == or && !rn
		switch {
		case ld || rd:
			ov[i] = or
		case ln || rn:
			if nw == nil {
				nw = make([]uint64, (n+63)>>6)
			}
			setBit(nw, i)
		default:
			ov[i] = !or
		}
	}
	out.N.SetWords(nw)
	return out
}

type notEval struct {
	allocs
	arg Evaluator
}

func (e *notEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := e.al

	v0, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	v, err := boolVec(v0)
	if err != nil {
		return nil, err
	}
	out := coldata.AllocVec[bool](al, types.BoolT, b.Len)
	for i, x := range v.Vals[:b.Len] {
		out.Vals[i] = !x
	}
	out.N.SetWords(words(v))
	return out, nil
}

type isNullEval struct {
	allocs

	arg Evaluator
	not bool
}

func (e *isNullEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := e.al

	v, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	out := coldata.AllocVec[bool](al, types.BoolT, b.Len)
	w := words(v)
	if w == nil {
		if e.not {
			for i := range out.Vals {
				out.Vals[i] = true
			}
		}
		return out, nil
	}
	for i := range out.Vals {
		out.Vals[i] = nullAt(w, i) != e.not
	}
	return out, nil
}

func (e *isNullEval) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	v, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	return collectBits(words(v), b.Len, b.Sel, !e.not), nil
}

type fieldEval struct {
	arg   Evaluator
	field int
}

func (e *fieldEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	v, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*coldata.Struct)
	if !ok {
		return nil, fmt.Errorf("field access on %s, want a STRUCT", v.Type())
	}
	f := s.Fields[e.field]
	sw := words(s)
	if sw == nil {
		return f, nil
	}
	return withNulls(f, orWords(words(f), sw)), nil
}

// withNulls returns a vector sharing v's values with null bitmap w.
func withNulls(v coldata.Vector, w []uint64) coldata.Vector {
	out := coldata.Retype(v, v.Type())
	out.Nulls().SetWords(w)
	return out
}

// inner returns the evaluator a rootEval wraps (ev itself otherwise).
func inner(ev Evaluator) Evaluator {
	if r, ok := ev.(*rootEval); ok {
		return r.ev
	}
	return ev
}
