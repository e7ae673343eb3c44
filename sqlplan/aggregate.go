package sqlplan

import (
	"encoding/json"

	"fmt"
	"github.com/arroyogo/arroyo/engine/expr"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Grouped queries.
//
// A SELECT with GROUP BY, with aggregate calls, or with DISTINCT is planned
// as three relations: a calc over the FROM (and WHERE) that computes the
// group keys, then each aggregate call's arguments and FILTER; an
// aggregate over it (program.Aggregate), keyed by those columns; and a calc
// over the aggregate's output (keys, window, one column per call) that
// computes the SELECT list and applies HAVING.
//
// While the SELECT list and HAVING are planned, the planner's agg scope is
// set: p.expr first asks it whether a sub-expression is an aggregate call
// (planned over the input and replaced by its output column), a window
// function (the group's window column), or an expression equal to a group
// key (its key column); other column references that are not keys are an
// error.

// windowFuncs are the window functions that may be group keys.
var windowFuncs = map[string]program.WindowKind{
	"tumble": program.WindowTumble, "hop": program.WindowHop, "session": program.WindowSession,
}

// aggScope is the state of planning one grouped SELECT's output.
type aggScope struct {
	in     []column
	keys   []*program.Expr
	window *program.Window
	calls  []program.AggCall
	// callArgs[j] are call j's argument expressions over in, then its
	// filter (if any).
	callArgs [][]*program.Expr
	filters  []*program.Expr
	nullable []bool
	// retract: the input is a changelog.
	retract bool
	// aggOK is false while planning an aggregate's arguments (an aggregate
	// inside an aggregate is an error).
	nested bool
}

func (a *aggScope) nw() int {
	if a.window != nil {
		return 1
	}
	return 0
}

// isAggregateCall reports whether n is a call of an aggregate function.
func (p *planner) isAggregateCall(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.AggregateFuncExpr:
		return strings.ToLower(n.F), true
	case *ast.FuncCallExpr:
		if _, ok := p.opts.Functions.LookupAggregate(n.FnName.L); ok {
			return n.FnName.L, true
		}
	}
	return "", false
}

// hasAggregate reports whether the expression n calls an aggregate or a
// window function.
func (p *planner) hasAggregate(n ast.Node) bool {
	v := &aggFinder{p: p}
	n.Accept(v)
	return v.found
}

type aggFinder struct {
	p     *planner
	found bool
}

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := v.p.isAggregateCall(n); ok {
		v.found = true
		return n, true
	}
	if f, ok := n.(*ast.FuncCallExpr); ok && windowFuncs[f.FnName.L] != "" {
		v.found = true
		return n, true
	}
	if _, ok := n.(*ast.SubqueryExpr); ok {
		return n, true
	}
	return n, false
}

func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// aggRef resolves n in the agg scope: ok is false when n is none of an
// aggregate call, a window or a group key, and planning goes on as usual.
func (p *planner) aggRef(s *dialect.Statement, n ast.ExprNode) (*program.Expr, bool, error) {
	a := p.agg
	if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == dialect.WithinGroupFunc && len(f.Args) == 2 {
		// agg(p) WITHIN GROUP (ORDER BY x) is agg(x, p).
		call, ok := f.Args[0].(*ast.FuncCallExpr)
		name := ""
		if ok {
			name = call.FnName.L
		}
		if !ok || (name != "approx_percentile_cont" && name != "percentile_cont" && name != "approx_percentile_cont_with_weight") {
			return nil, true, s.Errorf(f, "WITHIN GROUP (ORDER BY ...) applies to approx_percentile_cont")
		}
		c := *call
		c.Args = append([]ast.ExprNode{f.Args[1]}, call.Args...)
		if name == "percentile_cont" {
			c.FnName = ast.NewCIStr("approx_percentile_cont")
		}
		return p.aggRef(s, &c)
	}
	if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == dialect.FilterFunc && len(f.Args) == 2 {
		name, ok := p.isAggregateCall(f.Args[0])
		if !ok {
			return nil, true, s.Errorf(f, "FILTER (WHERE ...) applies to an aggregate call")
		}
		if a.nested {
			return nil, true, s.Errorf(f, "aggregate function %s inside another aggregate's argument", name)
		}
		saved := p.agg
		p.agg = nil
		cond, err := p.expr(s, a.in, f.Args[1])
		p.agg = saved
		if err != nil {
			return nil, true, err
		}
		if cond.Type.Kind != types.Bool && cond.Type.Kind != types.Null {
			return nil, true, s.Errorf(f.Args[1], "FILTER needs a BOOLEAN condition, got %s", cond.Type)
		}
		e, err := p.aggCall(s, f.Args[0], name, castExpr(cond, types.BoolT))
		return e, true, err
	}
	if name, ok := p.isAggregateCall(n); ok {
		if a.nested {
			return nil, true, s.Errorf(n, "aggregate function %s inside another aggregate's argument", name)
		}
		e, err := p.aggCall(s, n, name, nil)
		return e, true, err
	}
	if f, ok := n.(*ast.FuncCallExpr); ok && windowFuncs[f.FnName.L] != "" {
		w, err := p.windowSpec(s, a.in, f)
		if err != nil {
			return nil, true, err
		}
		switch {
		case a.window == nil:
			return nil, true, s.Errorf(n, "window function %s(...) must be in the GROUP BY clause of this query", f.FnName.L)
		case *w != *a.window:
			return nil, true, s.Errorf(n, "%s differs from the window in GROUP BY; a query has one window", s.TextOf(n))
		}
		return &program.Expr{Op: program.ExprCol, Col: len(a.keys), Type: program.WindowType}, true, nil
	}
	if a.nested || p.hasAggregate(n) {
		return nil, false, nil
	}
	if _, ok := n.(*driver.ValueExpr); ok {
		return nil, false, nil
	}
	// An expression of the input equal to a group key is that key.
	saved := p.agg
	p.agg = nil
	e, err := p.expr(s, a.in, n)
	p.agg = saved
	if err != nil {
		// Reported again, with the right message, as planning goes on.
		return nil, false, nil
	}
	if r, ok := a.rebase(e); ok {
		return r, true, nil
	}
	if c, ok := n.(*ast.ColumnNameExpr); ok {
		return nil, true, s.Errorf(n, "column '%s' must appear in the GROUP BY clause or be used in an aggregate function", s.TextOf(c))
	}
	return nil, false, nil
}

// aggCall plans an aggregate call's arguments over the input and returns
// the reference to its output column.
func (p *planner) aggCall(s *dialect.Statement, n ast.ExprNode, name string, filter *program.Expr) (*program.Expr, error) {
	a := p.agg
	var args []ast.ExprNode
	distinct := false
	switch n := n.(type) {
	case *ast.AggregateFuncExpr:
		args, distinct = n.Args, n.Distinct
		if n.Order != nil {
			return nil, s.Errorf(n, "ORDER BY inside %s is not supported", name)
		}
		// count(*) reaches us as count(1), which counts the same rows.
		if name == "count" && len(args) == 1 {
			if v, ok := args[0].(*driver.ValueExpr); ok && !distinct && v.GetValue() != nil {
				args = nil
			}
		}
	case *ast.FuncCallExpr:
		args = n.Args
	}
	f, _ := p.opts.Functions.LookupAggregate(name)
	a.nested = true
	saved := p.agg
	var planned []*program.Expr
	for _, arg := range args {
		e, err := p.expr(s, a.in, arg)
		if err != nil {
			a.nested = false
			return nil, err
		}
		planned = append(planned, e)
	}
	p.agg = saved
	a.nested = false
	ts := make([]types.Type, len(planned))
	for i, e := range planned {
		ts[i] = e.Type
	}
	var consts []any
	var constExprs []*program.Expr
	for i, e := range planned {
		if e.Op != program.ExprLit {
			continue
		}
		if consts == nil {
			consts, constExprs = make([]any, len(planned)), make([]*program.Expr, len(planned))
		}
		v, err := expr.LiteralValue(e.Type, e.Value)
		if err != nil {
			return nil, s.Errorf(args[i], "%v", err)
		}
		consts[i] = v
	}
	ra, err := f.ResolveWith(ts, consts)
	if err != nil {
		return nil, s.Errorf(n, "%v", err)
	}
	if distinct {
		if ra, err = expr.Distinct(ra); err != nil {
			return nil, s.Errorf(n, "%v", err)
		}
	}
	if a.retract && ra.Retracting() == nil {
		return nil, s.Errorf(n, "aggregate %s cannot retract rows, so it cannot aggregate an updating stream (a changelog)", name)
	}
	for i := range planned {
		if constExprs != nil && planned[i].Op == program.ExprLit {
			constExprs[i] = planned[i]
		}
		planned[i] = castExpr(planned[i], ra.Args[i])
	}
	if len(ra.Consts) == 0 {
		constExprs = nil
	}
	call := program.AggCall{Func: name, ArgTypes: ra.Args, InTypes: ts, Consts: constExprs, Distinct: distinct, Filter: -1, Type: ra.Result}
	// The same call twice is computed once.
	for j, c := range a.calls {
		if c.Func == call.Func && c.Distinct == call.Distinct && len(a.callArgs[j]) == len(planned) &&
			(filter == nil) == (a.filters[j] == nil) && (filter == nil || sameExpr(filter, a.filters[j])) {
			same := true
			for i := range planned {
				same = same && sameExpr(planned[i], a.callArgs[j][i])
			}
			if same {
				return a.callRef(j), nil
			}
		}
	}
	a.calls = append(a.calls, call)
	a.callArgs = append(a.callArgs, planned)
	a.filters = append(a.filters, filter)
	a.nullable = append(a.nullable, name != "count")
	return a.callRef(len(a.calls) - 1), nil
}

// rebase rewrites an expression over the input into one over the
// aggregate's output: every subexpression equal to a group key becomes
// that key's column (x.start of a key x is a field of the key). ok is false
// if an input column is left that is not inside a key.
func (a *aggScope) rebase(e *program.Expr) (*program.Expr, bool) {
	for k, key := range a.keys {
		if sameExpr(e, key) {
			return &program.Expr{Op: program.ExprCol, Col: k, Type: key.Type, Nullable: key.Nullable}, true
		}
	}
	if e.Op == program.ExprCol {
		return nil, false
	}
	if len(e.Args) == 0 {
		return e, true
	}
	c := *e
	c.Args = make([]*program.Expr, len(e.Args))
	for i, arg := range e.Args {
		r, ok := a.rebase(arg)
		if !ok {
			return nil, false
		}
		c.Args[i] = r
	}
	return &c, true
}

func (a *aggScope) callRef(j int) *program.Expr {
	return &program.Expr{Op: program.ExprCol, Col: len(a.keys) + a.nw() + j, Type: a.calls[j].Type, Nullable: a.nullable[j]}
}

// windowSpec reads tumble(width), hop(slide, width) or session(gap).
func (p *planner) windowSpec(s *dialect.Statement, in []column, f *ast.FuncCallExpr) (*program.Window, error) {
	name := f.FnName.L
	want := 1
	usage := name + "(INTERVAL '...')"
	if name == "hop" {
		want, usage = 2, "hop(slide, width), e.g. hop(INTERVAL '1 minute', INTERVAL '10 minutes')"
	}
	if len(f.Args) != want {
		return nil, s.Errorf(f, "%s takes %d argument(s): %s", name, want, usage)
	}
	var ds []time.Duration
	for _, arg := range f.Args {
		saved := p.agg
		p.agg = nil
		e, err := p.expr(s, in, arg)
		p.agg = saved
		if err != nil {
			return nil, err
		}
		var d int64
		if e.Op != program.ExprLit || e.Type.Kind != types.Interval || json.Unmarshal(e.Value, &d) != nil {
			return nil, s.Errorf(arg, "%s takes a constant INTERVAL, got %s", name, s.TextOf(arg))
		}
		if d <= 0 {
			return nil, s.Errorf(arg, "%s: the interval must be positive, got %s", name, s.TextOf(arg))
		}
		ds = append(ds, time.Duration(d))
	}
	w := &program.Window{Kind: windowFuncs[name]}
	switch w.Kind {
	case program.WindowTumble:
		w.Width = ds[0]
	case program.WindowHop:
		w.Slide, w.Width = ds[0], ds[1]
		if w.Width%w.Slide != 0 {
			return nil, s.Errorf(f, "hop width %s must be a multiple of its slide %s", ds[1], ds[0])
		}
		if w.Width == w.Slide {
			w = &program.Window{Kind: program.WindowTumble, Width: w.Width}
		}
	case program.WindowSession:
		w.Gap = ds[0]
	}
	return w, nil
}

// groupedSelect plans a SELECT with GROUP BY, aggregates or DISTINCT over
// the relation in (FROM and WHERE applied).
func (p *planner) groupedSelect(s *dialect.Statement, n *ast.SelectStmt, in *rel) (*rel, error) {
	a := &aggScope{in: in.cols, retract: in.updating()}
	var keyNames []string
	var keyQuals []string
	addKey := func(item ast.ExprNode, name string) error {
		if f, ok := item.(*ast.FuncCallExpr); ok && windowFuncs[f.FnName.L] != "" {
			w, err := p.windowSpec(s, in.cols, f)
			if err != nil {
				return err
			}
			if a.window != nil && *a.window != *w {
				return s.Errorf(item, "a GROUP BY has at most one window; %s is a second one", s.TextOf(item))
			}
			a.window = w
			return nil
		}
		if p.hasAggregate(item) {
			return s.Errorf(item, "GROUP BY cannot contain an aggregate function: %s", s.TextOf(item))
		}
		e, err := p.expr(s, in.cols, item)
		if err != nil {
			return err
		}
		for _, k := range a.keys {
			if sameExpr(k, e) {
				return nil
			}
		}
		if name == "" {
			name = fieldName(s, item)
		}
		qual := ""
		if e.Op == program.ExprCol {
			qual = in.cols[e.Col].qual
		}
		a.keys = append(a.keys, e)
		keyNames = append(keyNames, name)
		keyQuals = append(keyQuals, qual)
		return nil
	}
	fields := n.Fields.Fields
	for _, f := range fields {
		if f.WildCard != nil && (n.GroupBy != nil || !n.Distinct) {
			return nil, s.Errorf(f, "SELECT * cannot be used with GROUP BY or aggregates; list the columns")
		}
	}
	if n.GroupBy != nil {
		for _, it := range n.GroupBy.Items {
			item := it.Expr
			name := ""
			// GROUP BY 2: the second SELECT field; GROUP BY w: the field
			// aliased w, unless the input has a column of that name.
			pos, isPos := int64(0), false
			switch v := item.(type) {
			case *ast.PositionExpr:
				pos, isPos = int64(v.N), v.P == nil
			case *driver.ValueExpr:
				pos, isPos = v.GetValue().(int64)
			}
			if isPos {
				k := pos
				if k < 1 || int(k) > len(fields) {
					return nil, s.Errorf(item, "GROUP BY %s: a position must be between 1 and %d (the number of SELECT fields)", s.TextOf(item), len(fields))
				}
				f := fields[k-1]
				if f.WildCard != nil {
					return nil, s.Errorf(item, "GROUP BY %d refers to *", k)
				}
				item, name = f.Expr, f.AsName.O
			} else if c, ok := item.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
				if _, err := resolveColumn(s, in.cols, c); err != nil {
					for _, f := range fields {
						if f.WildCard == nil && strings.EqualFold(f.AsName.O, c.Name.Name.O) {
							item, name = f.Expr, f.AsName.O
							break
						}
					}
				}
			}
			if err := addKey(item, name); err != nil {
				return nil, err
			}
		}
	}
	if n.Distinct {
		for _, f := range fields {
			if f.WildCard != nil {
				for i, c := range in.cols {
					if !c.hidden {
						a.keys = append(a.keys, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
						keyNames = append(keyNames, c.name)
						keyQuals = append(keyQuals, c.qual)
					}
				}
				continue
			}
			if err := addKey(f.Expr, f.AsName.O); err != nil {
				return nil, err
			}
		}
	}
	if a.window == nil {
		// Grouping by the window column of a window aggregate below
		// (re-aggregating its rows, e.g. the max count per window) is
		// windowed too: its rows carry event time end - 1ns, so a 1ns
		// tumbling window holds exactly one input window, emitted when
		// the watermark passes it, as the input's was.
		for _, k := range a.keys {
			if k.Type.Equal(program.WindowType) {
				a.window = &program.Window{Kind: program.WindowTumble, Width: 1}
				break
			}
		}
	}
	if a.window != nil && in.updating() {
		return nil, s.Errorf(n.GroupBy.Items[0].Expr, "a window aggregate cannot read an updating stream (a changelog); aggregate it without a window")
	}
	// The aggregate's output columns, as the SELECT list sees them. The
	// call columns are filled in once they are known.
	p.agg = a
	defer func() { p.agg = nil }()
	aggCols := func() []column {
		var cols []column
		for k, e := range a.keys {
			cols = append(cols, column{name: keyNames[k], qual: keyQuals[k], typ: e.Type, nullable: e.Nullable})
		}
		if a.window != nil {
			cols = append(cols, column{name: "$window", typ: program.WindowType})
		}
		for j, c := range a.calls {
			cols = append(cols, column{name: fmt.Sprintf("$agg%d", j), typ: c.Type, nullable: a.nullable[j]})
		}
		return cols
	}
	var project []*program.Expr
	var cols []column
	for _, f := range fields {
		if f.WildCard != nil {
			// SELECT DISTINCT *: the keys.
			for k, e := range a.keys {
				project = append(project, &program.Expr{Op: program.ExprCol, Col: k, Type: e.Type, Nullable: e.Nullable})
				cols = append(cols, column{name: keyNames[k], typ: e.Type, nullable: e.Nullable})
			}
			continue
		}
		e, err := p.expr(s, aggCols(), f.Expr)
		if err != nil {
			return nil, err
		}
		name := f.AsName.O
		if name == "" {
			name = fieldName(s, f.Expr)
		}
		project = append(project, e)
		cols = append(cols, column{name: name, typ: e.Type, nullable: e.Nullable})
	}
	var having []*program.Expr
	if n.Having != nil {
		h, err := p.expr(s, aggCols(), n.Having.Expr)
		if err != nil {
			return nil, err
		}
		if h.Type.Kind != types.Bool && h.Type.Kind != types.Null {
			return nil, s.Errorf(n.Having.Expr, "HAVING needs a BOOLEAN condition, got %s", h.Type)
		}
		having = append(having, h)
	}
	p.agg = nil

	// The input calc: keys, then each call's arguments and filter.
	var preProj []*program.Expr
	var preCols []column
	for k, e := range a.keys {
		preProj = append(preProj, e)
		preCols = append(preCols, column{name: keyNames[k], typ: e.Type, nullable: e.Nullable})
	}
	for j := range a.calls {
		for _, e := range a.callArgs[j] {
			a.calls[j].Args = append(a.calls[j].Args, len(preProj))
			preProj = append(preProj, e)
			preCols = append(preCols, column{name: fmt.Sprintf("$arg%d", len(preProj)), typ: e.Type, nullable: e.Nullable})
		}
		if f := a.filters[j]; f != nil {
			a.calls[j].Filter = len(preProj)
			preProj = append(preProj, f)
			preCols = append(preCols, column{name: fmt.Sprintf("$filter%d", len(preProj)), typ: f.Type, nullable: f.Nullable})
		}
	}
	pre := calcRel(in, nil, preProj, preCols)
	agg := &program.Aggregate{Keys: len(a.keys), Window: a.window, Calls: a.calls, Retract: in.updating()}
	if a.window == nil {
		agg.FlushInterval = p.opts.UpdateFlushInterval
		agg.TTL = p.updatingTTL
	}
	out := &rel{kind: relAggregate, input: pre, agg: agg, cols: aggCols()}
	if a.window == nil {
		out.cols = append(out.cols, column{name: program.ChangeKindField, typ: program.ChangeKindType, hidden: true})
	}
	out.cols = append(out.cols, column{name: types.TimestampField, typ: types.TimestampT, hidden: true})
	return calcRel(out, having, project, cols), nil
}

// sameExpr reports whether two planned expressions compute the same thing
// (their SQL text and positions aside).
func sameExpr(a, b *program.Expr) bool {
	if a.Op != b.Op || !a.Type.Equal(b.Type) || a.Col != b.Col || a.Func != b.Func || a.Field != b.Field ||
		a.HasElse != b.HasElse || string(a.Value) != string(b.Value) || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if !sameExpr(a.Args[i], b.Args[i]) {
			return false
		}
	}
	return true
}

// needsGrouping reports whether a SELECT is a grouped query.
func (p *planner) needsGrouping(n *ast.SelectStmt) bool {
	if n.GroupBy != nil || n.Distinct {
		return true
	}
	for _, f := range n.Fields.Fields {
		if f.Expr != nil && p.hasAggregate(f.Expr) {
			return true
		}
	}
	return n.Having != nil
}
