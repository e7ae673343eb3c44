package program

import (
	"fmt"
	"time"

	"github.com/arroyogo/arroyo/engine/types"
)

// OpAggregate groups rows by key (and window) and computes aggregates;
// Aggregate is set.
const OpAggregate OpKind = "aggregate"

// WindowKind names a window function used as a group key.
type WindowKind string

const (
	WindowTumble  WindowKind = "tumble"
	WindowHop     WindowKind = "hop"
	WindowSession WindowKind = "session"
)

// Window is the window an aggregate groups by, with its sizes.
type Window struct {
	Kind WindowKind `json:"kind"`
	// Width is a tumbling or hopping window's length; Slide a hopping
	// window's step (Width is a multiple of it); Gap a session's
	// inactivity gap.
	Width time.Duration `json:"width,omitempty"`
	Slide time.Duration `json:"slide,omitempty"`
	Gap   time.Duration `json:"gap,omitempty"`
}

// WindowType is the type of a window value: a struct of its start
// (inclusive) and end (exclusive).
var WindowType = types.Type{Kind: types.Struct, Fields: []types.Field{
	{Name: "start", Type: types.TimestampT},
	{Name: "end", Type: types.TimestampT},
}}

// Aggregate is a GROUP BY. Its input's columns are the group keys first
// (columns 0..Keys-1), then each call's arguments and filter, then the
// input's hidden columns. Its output is the keys, the window value (when
// Window is set), one column per call, and the hidden columns.
//
// With a Window, a group's row is emitted once, when the watermark passes
// the window's end, with event time end - 1ns; rows behind the watermark
// are dropped (metric "late_rows"). Without one, the node is updating: it
// emits a changelog of the groups' rows (creates, updates, deletes) at
// most every FlushInterval, coalescing the changes to a group between two
// flushes. An updating input (a changelog) is retracted from the groups.
type Aggregate struct {
	Keys   int       `json:"keys"`
	Window *Window   `json:"window,omitempty"`
	Calls  []AggCall `json:"calls"`
	// FlushInterval bounds how long an updating aggregate holds a change
	// back (0: flush at every watermark).
	FlushInterval time.Duration `json:"flush_interval,omitempty"`
	// Retract says the input is a changelog (an updating stream): its
	// deletes and the old rows of its updates are retracted from the
	// groups. Only an aggregate without a window reads one.
	Retract bool `json:"retract,omitempty"`
	// TTL, for an updating aggregate, drops a group that has not changed
	// for this long in event time (0: keep groups forever).
	TTL time.Duration `json:"ttl,omitempty"`
}

// AggCall is one aggregate function call.
type AggCall struct {
	// Func is the aggregate's name in the function registry.
	Func string `json:"func"`
	// Args are the input columns of the arguments, of types ArgTypes (the
	// resolved aggregate's argument types).
	Args     []int        `json:"args,omitempty"`
	ArgTypes []types.Type `json:"arg_types,omitempty"`
	// InTypes are the argument types the aggregate was resolved for (the
	// SQL's, before the casts to ArgTypes); a worker resolves it again
	// with them, so that it gets the same result type.
	InTypes []types.Type `json:"in_types,omitempty"`
	// Consts, when set, has one entry per argument: the literal an
	// argument is (a percentile), or nil. The aggregate is resolved with
	// their values (expr.AggregateFunc.ResolveWith); the arguments are
	// still columns.
	Consts []*Expr `json:"consts,omitempty"`
	// Distinct feeds each group only values it has not seen.
	Distinct bool `json:"distinct,omitempty"`
	// Filter, when >= 0, is the input column of a BOOLEAN: only rows where
	// it is TRUE are aggregated (FILTER (WHERE ...)).
	Filter int `json:"filter"`
	// Type is the result type.
	Type types.Type `json:"type"`
}

// checkAggregate checks an aggregate node against its input and schema.
func checkAggregate(a *Aggregate, in, out *types.Schema, updating, inUpdating bool) error {
	if a.Retract != inUpdating {
		return fmt.Errorf("retract is %t but the input's updating is %t", a.Retract, inUpdating)
	}
	if a.Keys < 0 || a.Keys > in.Len() {
		return fmt.Errorf("%d keys, the input has %d columns", a.Keys, in.Len())
	}
	if w := a.Window; w != nil {
		switch w.Kind {
		case WindowTumble:
			if w.Width <= 0 {
				return fmt.Errorf("tumbling window width %s", w.Width)
			}
		case WindowHop:
			if w.Width <= 0 || w.Slide <= 0 || w.Width%w.Slide != 0 {
				return fmt.Errorf("hopping window width %s is not a positive multiple of slide %s", w.Width, w.Slide)
			}
		case WindowSession:
			if w.Gap <= 0 {
				return fmt.Errorf("session gap %s", w.Gap)
			}
		default:
			return fmt.Errorf("unknown window %q", w.Kind)
		}
		if updating {
			return fmt.Errorf("a windowed aggregate does not emit a changelog")
		}
	} else if !updating {
		return fmt.Errorf("an aggregate without a window is updating")
	}
	hidden := 1
	if updating {
		hidden = 2
	}
	nw := 0
	if a.Window != nil {
		nw = 1
	}
	if want := a.Keys + nw + len(a.Calls) + hidden; out.Len() != want {
		return fmt.Errorf("schema has %d columns, want %d keys + %d window + %d calls + %d hidden", out.Len(), a.Keys, nw, len(a.Calls), hidden)
	}
	for i := 0; i < a.Keys; i++ {
		if !in.Fields[i].Type.Equal(out.Fields[i].Type) {
			return fmt.Errorf("key %d is %s in the input, %s in the output", i, in.Fields[i].Type, out.Fields[i].Type)
		}
	}
	if nw == 1 && !out.Fields[a.Keys].Type.Equal(WindowType) {
		return fmt.Errorf("window column is %s, want %s", out.Fields[a.Keys].Type, WindowType)
	}
	for j, c := range a.Calls {
		if c.Func == "" {
			return fmt.Errorf("call %d names no function", j)
		}
		if len(c.Args) != len(c.ArgTypes) {
			return fmt.Errorf("call %d (%s): %d args, %d arg types", j, c.Func, len(c.Args), len(c.ArgTypes))
		}
		for k, col := range c.Args {
			if col < 0 || col >= in.Len() {
				return fmt.Errorf("call %d (%s): argument column %d out of range", j, c.Func, col)
			}
			if !in.Fields[col].Type.Equal(c.ArgTypes[k]) {
				return fmt.Errorf("call %d (%s): argument %d is %s, declared %s", j, c.Func, k, in.Fields[col].Type, c.ArgTypes[k])
			}
		}
		if len(c.InTypes) != 0 && len(c.InTypes) != len(c.Args) {
			return fmt.Errorf("call %d (%s): %d input types for %d arguments", j, c.Func, len(c.InTypes), len(c.Args))
		}
		if len(c.Consts) != 0 && len(c.Consts) != len(c.Args) {
			return fmt.Errorf("call %d (%s): %d constants for %d arguments", j, c.Func, len(c.Consts), len(c.Args))
		}
		for _, k := range c.Consts {
			if k != nil && k.Op != ExprLit {
				return fmt.Errorf("call %d (%s): a constant argument is not a literal", j, c.Func)
			}
		}
		if c.Filter >= in.Len() || (c.Filter >= 0 && in.Fields[c.Filter].Type.Kind != types.Bool) {
			return fmt.Errorf("call %d (%s): filter column %d is not a BOOLEAN input column", j, c.Func, c.Filter)
		}
		if got := out.Fields[a.Keys+nw+j].Type; !got.Equal(c.Type) {
			return fmt.Errorf("call %d (%s) returns %s, its column is %s", j, c.Func, c.Type, got)
		}
	}
	if a.FlushInterval < 0 || a.TTL < 0 {
		return fmt.Errorf("negative flush interval or TTL")
	}
	return nil
}
