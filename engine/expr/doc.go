// Package expr compiles program.Expr trees into vectorized evaluators and
// holds the function registry that built-in functions and UDFs plug into
// by name: Builtins(), fixed at init, and per-pipeline scopes over it
// (Registry.Scope) for UDFs, with scalar functions and aggregates in one
// namespace. It also defines the aggregate contract (AggregateFunc,
// Accumulator) and the built-in aggregates, which the planner does not use
// yet (no GROUP BY).
//
// It must not import sqlplan, connectors, controlplane, udf or cmd, nor the
// engine's runtime or operators (dep_test.go enforces this): it depends on
// engine/types, engine/timefmt, engine/coldata and engine/program only.
//
// # Contract
//
// A Compiler turns an expression into an Evaluator, a predicate into a
// Filter, resolving calls through its Registry. Given a Task it binds the
// functions that bind per task (Resolved.Bind, e.g. a wasm instance) once
// per function and signature, and Close closes them; evaluators pass their
// context (the subtask's) to bound functions so a runaway call can be
// cancelled. Stateless built-ins are plain Kernels, called directly.
// Compile and CompileFilter compile without a task (the planner's check).
// Evaluators and Filters work on whole batches: Eval returns a vector of
// the batch's physical length whose live rows (those in Sel) hold the
// result; Select returns a new selection of the rows where the predicate is TRUE.
// Vectors are immutable: evaluators build new vectors, may return an input
// vector unchanged (a column, an identity cast) and may share buffers with
// their inputs (a cast that only relabels the type, a struct field).
//
// # File map
//
//	registry.go   Func/Resolved/Kernel/Bound, Registry (Builtins, Scope)
//	eval.go       Compiler, Compile, CompileFilter, evaluators for columns,
//	              literals, calls (kernel or bound), casts, AND/OR/NOT,
//	              IS NULL, field access
//	aggregate.go  AggregateFunc, Accumulator, Retracter, snapshot helpers
//	aggregates.go count, sum, avg, min, max
//	aggregates_bag.go      value multisets: retracting min/max, median
//	aggregates_stats.go    var/stddev, covar, corr, regr_* (shifted sums)
//	aggregates_misc.go     bit_*, bool_*, first/last_value, array_agg
//	aggregates_distinct.go Distinct, the DISTINCT wrapper of any aggregate
//	aggregates_approx.go   approx_distinct (HyperLogLog), approx_median and
//	              approx_percentile_cont (t-digest)
//	aggkey.go     value keys (order-preserving, self-delimiting encodings
//	              of values) and the slab behind per-group value maps
//	errors.go     Error (position, text, failing row and operands)
//	cond.go       CASE, COALESCE, IN (narrowed-selection evaluation)
//	lit.go        literal decoding and broadcast
//	arith.go      + - * / % and neg, checked integer kernels
//	compare.go    = <> < <= > >=
//	cast.go       CanCast and cast kernels, text formats of values
//	coerce.go     CommonType, the planner's implicit-cast rule
//	cond2.go      GREATEST, LEAST
//	like.go       LIKE / ILIKE
//	strings.go    string functions
//	strings2.go   translate, position/instr, chr, ascii, overlay, uuid
//	regexp.go     regexp_like/match/replace/count, ~ ~* !~ !~*
//	hash.go       sha2 digests, digest, encode, decode
//	math.go       math functions
//	math2.go      trigonometry, gcd/lcm, factorial, isnan, nanvl, random
//	resolve.go    signature-based Resolve for built-ins
//	datetime.go   date/time functions (units, to_timestamp, to_char)
//	json.go       the json_get family; jsonscan.go the JSON text scanner
//	jsonpath.go   JSONPath and extract_json & co.
//	arrays.go     array functions (arrays2.go: slice, reverse, sort,
//	              repeat); list.go array_element
//	structs.go    struct(), struct renaming casts
//	nulls.go      null-bitmap and selection helpers
//
// # Invariants worth knowing
//
//   - Rows outside Sel and NULL rows hold garbage. Fixed-width kernels still
//     compute densely over every physical row (a tight loop beats an
//     indexed one); checked kernels only raise a "suspect" flag there and a
//     precise pass over the live non-NULL rows decides whether to fail. So
//     a division by zero in a filtered-out row is never an error.
//   - CASE evaluates each branch on a batch view whose Sel holds only the
//     rows that take it, COALESCE evaluates an argument only on rows still
//     NULL, and AND/OR evaluate their right side only where the left does
//     not decide. Errors in untaken branches are therefore not raised.
//   - Built-in calls whose arguments are all constants are folded at
//     compile time, except volatile ones (Func.Volatile: random, uuid).
//     Constant arguments a built-in can use ahead (a regular expression)
//     are prepared once per call site (Resolved.prepare). A constant that fails is a compile error when every
//     row evaluates it, and is kept for run time when it sits where rows may
//     skip it (a CASE branch, the right side of AND/OR, a later COALESCE
//     argument). Comparisons and arithmetic with a constant operand never
//     broadcast the constant.
//   - Every evaluation error is an *Error carrying the nearest SQL text and
//     position (program.Expr.Text/Pos, an ancestor's when a node has none)
//     and, from the kernels' precise second pass, the failing row and its
//     operands.
//   - An empty selection is a non-nil empty slice; nil means all rows.
//   - Floats compare like PostgreSQL: NaN equals NaN and sorts above all
//     other values.
package expr
