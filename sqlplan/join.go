package sqlplan

import (
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Joins.
//
// A join's ON condition is split into its AND-ed terms; an equality
// between an expression of the left side and one of the right is a key
// (both cast to their common type), anything else a residual condition.
// With both sides' windows among the keys the join is windowed (inner,
// left, right or full: each window's rows are joined when it closes);
// otherwise it is an updating inner join. Each side gets a calc computing
// its keys and then its columns; the join node (program.Join), fed by
// shuffles on the keys, outputs the left columns, the right columns and
// the hidden ones; a residual condition is a calc over that.

func (p *planner) join(s *dialect.Statement, j *ast.Join) (*rel, error) {
	left, err := p.joinSide(s, j.Left)
	if err != nil {
		return nil, err
	}
	right, err := p.joinSide(s, j.Right)
	if err != nil {
		return nil, err
	}
	kind := program.JoinInner
	name := "JOIN"
	switch {
	case j.Tp == ast.LeftJoin:
		kind, name = program.JoinLeft, "LEFT JOIN"
	case j.Tp == ast.RightJoin:
		kind, name = program.JoinRight, "RIGHT JOIN"
	case j.StraightJoin:
		// The dialect writes FULL [OUTER] JOIN as STRAIGHT_JOIN, which
		// TiDB parses and nothing else means here.
		kind, name = program.JoinFull, "FULL JOIN"
	}
	switch {
	case j.NaturalJoin:
		return nil, s.Errorf(j, "NATURAL JOIN is not supported; write JOIN ... ON with the equalities")
	case len(j.Using) > 0:
		return nil, s.Errorf(j, "JOIN ... USING is not supported; write JOIN ... ON a.col = b.col")
	case j.On == nil:
		return nil, s.Errorf(j.Right, "%s needs an ON condition with an equality between the two sides (a cross join of streams never ends)", name)
	}
	lv, rv := left.visible(), right.visible()
	nl := len(lv)
	var cols []column
	cols = append(cols, lv...)
	cols = append(cols, rv...)
	cols = append(cols, column{name: types.TimestampField, typ: types.TimestampT, hidden: true})
	cond, err := p.expr(s, cols, j.On.Expr)
	if err != nil {
		return nil, err
	}
	if err := wantBool(s, j.On.Expr, cond); err != nil {
		return nil, err
	}
	var terms []*program.Expr
	var flatten func(e *program.Expr)
	flatten = func(e *program.Expr) {
		if e.Op == program.ExprAnd {
			for _, a := range e.Args {
				flatten(a)
			}
			return
		}
		terms = append(terms, e)
	}
	flatten(cond)
	// side returns 0 or 1 if e reads only that side's columns, -1 if both
	// or a hidden column, 2 if none.
	side := func(e *program.Expr) int {
		s := 2
		var walk func(e *program.Expr) bool
		walk = func(e *program.Expr) bool {
			if e.Op == program.ExprCol {
				c := 0
				switch {
				case e.Col >= len(cols)-1:
					return false
				case e.Col >= nl:
					c = 1
				}
				if s != 2 && s != c {
					return false
				}
				s = c
			}
			for _, a := range e.Args {
				if !walk(a) {
					return false
				}
			}
			return true
		}
		if !walk(e) {
			return -1
		}
		return s
	}
	var lkeys, rkeys, residual []*program.Expr
	windowed := false
	for _, t := range terms {
		if t.Op == program.ExprCall && t.Func == "=" && len(t.Args) == 2 {
			a, b := t.Args[0], t.Args[1]
			sa, sb := side(a), side(b)
			if sa == 1 && sb == 0 {
				a, b, sa, sb = b, a, sb, sa
			}
			if sa == 0 && sb == 1 {
				// The equality's operands were cast to a common type.
				lkeys = append(lkeys, a)
				rkeys = append(rkeys, shiftCols(b, -nl))
				if a.Type.Equal(program.WindowType) {
					windowed = true
				}
				continue
			}
		}
		residual = append(residual, t)
	}
	lw, rw := hasWindow(lv), hasWindow(rv)
	switch {
	case len(lkeys) == 0:
		return nil, s.Errorf(j.On.Expr, "the ON condition of this %s has no equality between a column of each side; joins without one are not supported", name)
	case !windowed && (lw || rw):
		return nil, s.Errorf(j.On.Expr, "this %s mixes a windowed input with an unwindowed one (or does not join the windows): join two window aggregates on their windows (a.window = b.window) or two unwindowed streams", name)
	case !windowed && kind != program.JoinInner:
		return nil, s.Errorf(j, "%s without a window is not supported: an outer join of unbounded streams never knows that a row stays unmatched; join window aggregates on their windows, or use an inner JOIN", name)
	case len(residual) > 0 && kind != program.JoinInner:
		return nil, s.Errorf(j.On.Expr, "a %s's ON condition may only hold equalities between the two sides; move other conditions to WHERE", name)
	}
	if left.updating() || right.updating() {
		if windowed {
			return nil, s.Errorf(j, "a windowed join cannot read an updating stream (a changelog)")
		}
	}
	pre := func(r *rel, keys []*program.Expr) *rel {
		var project []*program.Expr
		var pc []column
		for _, k := range keys {
			project = append(project, k)
			pc = append(pc, column{name: "$key", typ: k.Type, nullable: k.Nullable})
		}
		for i, c := range r.cols {
			if !c.hidden {
				project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
				pc = append(pc, c)
			}
		}
		return calcRel(r, nil, project, pc)
	}
	cfg := &program.Join{Kind: kind, Keys: len(lkeys), Left: nl, Windowed: windowed, Retract: [2]bool{left.updating(), right.updating()}}
	if !windowed {
		cfg.TTL = p.updatingTTL
	}
	out := &rel{kind: relJoin, join: cfg, inputs: []*rel{pre(left, lkeys), pre(right, rkeys)}}
	for i, c := range append(append([]column{}, lv...), rv...) {
		// An outer join pads the other side with NULLs.
		if (kind == program.JoinLeft && i >= nl) || (kind == program.JoinRight && i < nl) || kind == program.JoinFull {
			c.nullable = true
		}
		out.cols = append(out.cols, c)
	}
	if !windowed {
		out.cols = append(out.cols, column{name: program.ChangeKindField, typ: program.ChangeKindType, hidden: true})
	}
	out.cols = append(out.cols, column{name: types.TimestampField, typ: types.TimestampT, hidden: true})
	if len(residual) == 0 {
		return out, nil
	}
	var id []*program.Expr
	var idc []column
	for i, c := range out.cols {
		if !c.hidden {
			id = append(id, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
			idc = append(idc, c)
		}
	}
	return calcRel(out, residual, id, idc), nil
}

func hasWindow(cols []column) bool {
	for _, c := range cols {
		if c.typ.Equal(program.WindowType) {
			return true
		}
	}
	return false
}

// shiftCols returns e with every column reference moved by d.
func shiftCols(e *program.Expr, d int) *program.Expr {
	c := *e
	if e.Op == program.ExprCol {
		c.Col += d
		return &c
	}
	if len(e.Args) > 0 {
		c.Args = make([]*program.Expr, len(e.Args))
		for i, a := range e.Args {
			c.Args[i] = shiftCols(a, d)
		}
	}
	return &c
}
