package sqlplan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Window functions (ROW_NUMBER() OVER (PARTITION BY window ORDER BY ...)).
//
// They are computed over windowed input only: the PARTITION BY must hold a
// window value (of a window aggregate below), so that a partition is
// complete when the watermark passes its window. A SELECT with window
// functions is planned as a calc computing the partition keys, the input's
// columns and the ORDER BY and argument expressions; a window-function
// node keyed on the partition; and a calc computing the SELECT list, where
// each window function call is its output column.

// winScope is set while such a SELECT's list is planned.
type winScope struct {
	calls []*ast.WindowFuncExpr
	types []types.Type
	first int // output column of the first call
}

// windowFuncs collects the window function calls of the SELECT list.
func windowFuncCalls(n *ast.SelectStmt) []*ast.WindowFuncExpr {
	v := &winFinder{}
	for _, f := range n.Fields.Fields {
		if f.Expr != nil {
			f.Expr.Accept(v)
		}
	}
	return v.calls
}

type winFinder struct{ calls []*ast.WindowFuncExpr }

func (v *winFinder) Enter(n ast.Node) (ast.Node, bool) {
	if w, ok := n.(*ast.WindowFuncExpr); ok {
		v.calls = append(v.calls, w)
		return n, true
	}
	if _, ok := n.(*ast.SubqueryExpr); ok {
		return n, true
	}
	return n, false
}

func (v *winFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

var winResult = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

func (p *planner) windowFuncSelect(s *dialect.Statement, n *ast.SelectStmt, in *rel, calls []*ast.WindowFuncExpr) (*rel, error) {
	if in.updating() {
		return nil, s.Errorf(calls[0], "window functions over an updating stream (a changelog) are not supported")
	}
	spec := &calls[0].Spec
	if spec.Name.L != "" || spec.Ref.L != "" || len(n.WindowSpecs) > 0 {
		return nil, s.Errorf(calls[0], "named windows (OVER w, WINDOW w AS ...) are not supported; write the OVER (...) clause in place")
	}
	specText := func(c *ast.WindowFuncExpr) string {
		t := s.TextOf(c)
		if i := strings.Index(strings.ToLower(t), "over"); i >= 0 {
			return strings.Join(strings.Fields(strings.ToLower(t[i:])), " ")
		}
		return ""
	}
	for _, c := range calls[1:] {
		if specText(c) != specText(calls[0]) {
			return nil, s.Errorf(c, "window functions with different OVER clauses in one SELECT are not supported; use a subquery per OVER clause")
		}
	}
	if spec.Frame != nil {
		return nil, s.Errorf(calls[0], "window frames (ROWS/RANGE BETWEEN ...) are not supported; the frame is the default one")
	}
	if spec.PartitionBy == nil {
		return nil, s.Errorf(calls[0], "%s needs PARTITION BY a window (e.g. OVER (PARTITION BY window ORDER BY ...)): window functions run over windowed input", strings.ToLower(calls[0].Name))
	}
	var keys []*program.Expr
	hasWin := false
	for _, it := range spec.PartitionBy.Items {
		e, err := p.expr(s, in.cols, it.Expr)
		if err != nil {
			return nil, err
		}
		hasWin = hasWin || e.Type.Equal(program.WindowType)
		keys = append(keys, e)
	}
	if !hasWin {
		return nil, s.Errorf(spec.PartitionBy.Items[0].Expr, "window functions need a window in PARTITION BY (the window column of a window aggregate): over unwindowed input a partition never ends")
	}
	// The pre-calc: keys, the input's visible columns, then ORDER BY and
	// argument expressions.
	var pre []*program.Expr
	var preCols []column
	for _, k := range keys {
		pre = append(pre, k)
		preCols = append(preCols, column{name: "$part", typ: k.Type, nullable: k.Nullable})
	}
	var vis []column
	for i, c := range in.cols {
		if !c.hidden {
			pre = append(pre, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
			preCols = append(preCols, c)
			vis = append(vis, c)
		}
	}
	extra := func(e *program.Expr) int {
		pre = append(pre, e)
		preCols = append(preCols, column{name: fmt.Sprintf("$w%d", len(pre)), typ: e.Type, nullable: e.Nullable})
		return len(pre) - 1
	}
	cfg := &program.WindowFunc{Keys: len(keys), Cols: len(vis)}
	if spec.OrderBy != nil {
		for _, it := range spec.OrderBy.Items {
			e, err := p.expr(s, in.cols, it.Expr)
			if err != nil {
				return nil, err
			}
			// NULLs sort last ascending and first descending (PostgreSQL,
			// DataFusion).
			nullsFirst := it.Desc
			if first, ok := s.NullsFirst(it.Expr); ok {
				nullsFirst = first
			}
			cfg.Order = append(cfg.Order, program.SortKey{Col: extra(e), Desc: it.Desc, NullsFirst: nullsFirst})
		}
	}
	for _, c := range calls {
		name := strings.ToLower(c.Name)
		if !winResult[name] {
			return nil, s.Errorf(c, "%s(...) OVER is not supported; the window functions are row_number, rank, dense_rank, percent_rank, cume_dist, lag, lead, first_value, last_value and nth_value (aggregate over a window with GROUP BY instead)", name)
		}
		call := program.WinCall{Func: name, Arg: -1, Offset: 1}
		switch name {
		case "row_number", "rank", "dense_rank":
			call.Type = types.UInt64T
		case "percent_rank", "cume_dist":
			call.Type = types.Float64T
		}
		if call.Type.Kind != types.Invalid {
			if len(c.Args) != 0 {
				return nil, s.Errorf(c, "%s() takes no arguments", name)
			}
		} else {
			if len(c.Args) == 0 {
				return nil, s.Errorf(c, "%s needs an argument", name)
			}
			arg, err := p.expr(s, in.cols, c.Args[0])
			if err != nil {
				return nil, err
			}
			call.Arg, call.Type = extra(arg), arg.Type
			if len(c.Args) > 1 && (name == "lag" || name == "lead" || name == "nth_value") {
				v, ok := c.Args[1].(*driver.ValueExpr)
				off, isInt := int64(0), false
				if ok {
					off, isInt = v.GetValue().(int64)
				}
				if !isInt || off < 0 || (name == "nth_value" && off < 1) {
					return nil, s.Errorf(c.Args[1], "%s: the offset must be a constant non-negative integer", name)
				}
				call.Offset = off
			}
			if len(c.Args) > 2 && (name == "lag" || name == "lead") {
				d, err := p.expr(s, in.cols, c.Args[2])
				if err != nil {
					return nil, err
				}
				d = castExpr(adaptLiteral(d, call.Type), call.Type)
				if d.Op != program.ExprLit {
					return nil, s.Errorf(c.Args[2], "%s: the default must be a constant of type %s", name, call.Type)
				}
				if string(d.Value) != "null" {
					call.Default = d
				}
			}
			most := map[string]int{"lag": 3, "lead": 3, "nth_value": 2}[name]
			if most == 0 {
				most = 1
			}
			if len(c.Args) > most {
				return nil, s.Errorf(c, "%s takes at most %d argument(s)", name, most)
			}
		}
		cfg.Calls = append(cfg.Calls, call)
	}
	pr := calcRel(in, nil, pre, preCols)
	for _, c := range pr.cols[len(keys) : len(pr.cols)-1] {
		cfg.Row = append(cfg.Row, c.typ)
	}
	wf := &rel{kind: relWindowFunc, input: pr, winfunc: cfg}
	wf.cols = append(wf.cols, vis...)
	for j, c := range cfg.Calls {
		wf.cols = append(wf.cols, column{name: fmt.Sprintf("$wf%d", j), typ: c.Type, nullable: c.Func != "row_number" && c.Func != "rank" && c.Func != "dense_rank"})
	}
	wf.cols = append(wf.cols, column{name: types.TimestampField, typ: types.TimestampT, hidden: true})

	p.win = &winScope{calls: calls, first: len(vis)}
	for _, c := range cfg.Calls {
		p.win.types = append(p.win.types, c.Type)
	}
	defer func() { p.win = nil }()
	var project []*program.Expr
	var cols []column
	for _, f := range n.Fields.Fields {
		if f.WildCard != nil {
			qual := f.WildCard.Table.O
			for i, c := range vis {
				if qual == "" || strings.EqualFold(c.qual, qual) {
					project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
					cols = append(cols, column{name: c.name, typ: c.typ, nullable: c.nullable})
				}
			}
			continue
		}
		e, err := p.expr(s, wf.cols, f.Expr)
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
	return calcRel(wf, nil, project, cols), nil
}

// winRef resolves a window function call of the SELECT list to its
// column.
func (p *planner) winRef(n ast.ExprNode) (*program.Expr, bool) {
	w, ok := n.(*ast.WindowFuncExpr)
	if !ok || p.win == nil {
		return nil, false
	}
	for j, c := range p.win.calls {
		if c == w {
			return &program.Expr{Op: program.ExprCol, Col: p.win.first + j, Type: p.win.types[j], Nullable: true}, true
		}
	}
	return nil, false
}

// pushTopN recognizes a filter rn <= N (or rn < N, rn = N) over the
// row_number of a window-function subquery and tells the window-function
// node that only its N best rows per partition are wanted. The filter
// stays: the node still numbers its rows, it just keeps fewer.
func pushTopN(in *rel, f *program.Expr) {
	if in.kind != relCalc || in.input == nil || in.input.kind != relWindowFunc {
		return
	}
	wf := in.input.winfunc
	for _, c := range wf.Calls {
		if c.Func != "row_number" {
			return
		}
	}
	if f.Op != program.ExprCall || len(f.Args) != 2 {
		return
	}
	strip := func(e *program.Expr) *program.Expr {
		for e.Op == program.ExprCast && len(e.Args) == 1 {
			e = e.Args[0]
		}
		return e
	}
	col, lit := strip(f.Args[0]), strip(f.Args[1])
	if col.Op != program.ExprCol || lit.Op != program.ExprLit || col.Col >= len(in.project) {
		return
	}
	src := in.project[col.Col]
	if src.Op != program.ExprCol || src.Col < wf.Cols || src.Col >= wf.Cols+len(wf.Calls) {
		return
	}
	var n int64
	if err := json.Unmarshal(lit.Value, &n); err != nil {
		return
	}
	switch f.Func {
	case "<":
		n--
	case "<=", "=":
	default:
		return
	}
	if n < 1 {
		return
	}
	if wf.Limit == 0 || n > wf.Limit {
		wf.Limit = n
	}
}
