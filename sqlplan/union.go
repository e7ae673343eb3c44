package sqlplan

import (
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// setOpr plans UNION ALL: every branch is cast to the columns' common
// types and named as the first branch names them; the union is one calc
// fed by every branch.
func (p *planner) setOpr(s *dialect.Statement, n *ast.SetOprStmt) (*rel, error) {
	if n.OrderBy != nil {
		return nil, s.Errorf(n.OrderBy.Items[0].Expr, "ORDER BY is not supported on streams (an unbounded stream has no end to sort by); order within windows with a window function: ROW_NUMBER() OVER (PARTITION BY window ORDER BY ...)")
	}
	if n.Limit != nil {
		return nil, s.Errorf(n.Limit.Count, "LIMIT is not supported on streams")
	}
	restore, err := p.withCTEs(s, n.With)
	if err != nil {
		return nil, err
	}
	defer restore()
	branches, err := p.setOprList(s, n.SelectList)
	if err != nil {
		return nil, err
	}
	return p.unionRels(s, n, branches)
}

func (p *planner) setOprList(s *dialect.Statement, l *ast.SetOprSelectList) ([]*rel, error) {
	restore, err := p.withCTEs(s, l.With)
	if err != nil {
		return nil, err
	}
	defer restore()
	var out []*rel
	for i, sel := range l.Selects {
		var op *ast.SetOprType
		switch sel := sel.(type) {
		case *ast.SelectStmt:
			op = sel.AfterSetOperator
		case *ast.SetOprSelectList:
			op = sel.AfterSetOperator
		}
		if i > 0 && (op == nil || *op != ast.UnionAll) {
			what := "UNION without ALL"
			if op != nil && *op != ast.Union {
				what = strings.ToUpper(strings.Fields(op.String())[0])
			}
			return nil, s.Errorf(sel, "%s is not supported on streams: only UNION ALL (a UNION that removes duplicates is SELECT DISTINCT over a UNION ALL)", what)
		}
		switch sel := sel.(type) {
		case *ast.SelectStmt:
			r, err := p.selectStmt(s, sel)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		case *ast.SetOprSelectList:
			rs, err := p.setOprList(s, sel)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		default:
			return nil, s.Errorf(sel, "unsupported UNION branch")
		}
	}
	return out, nil
}

func (p *planner) unionRels(s *dialect.Statement, at ast.Node, branches []*rel) (*rel, error) {
	first := branches[0].visible()
	common := make([]column, len(first))
	copy(common, first)
	for bi, b := range branches[1:] {
		vis := b.visible()
		if len(vis) != len(first) {
			return nil, s.Errorf(at, "UNION ALL branch %d has %d columns, the first has %d", bi+2, len(vis), len(first))
		}
		if b.updating() != branches[0].updating() {
			return nil, s.Errorf(at, "UNION ALL of an updating stream (a changelog) and an append-only one is not supported")
		}
		for i, c := range vis {
			ct, err := expr.CommonType(common[i].typ, c.typ)
			a, b := common[i].typ, c.typ
			// Numbers widen to a common type; anything else must match
			// (TEXT does not silently become TIMESTAMP): CAST it.
			if !a.Equal(b) && !(a.Kind.IsNumeric() && b.Kind.IsNumeric()) && a.Kind != types.Null && b.Kind != types.Null {
				err = fmt.Errorf("no implicit conversion")
			}
			if err != nil {
				return nil, s.Errorf(at, "UNION ALL column %d ('%s'): branch %d is %s, the first is %s; CAST one to the other", i+1, first[i].name, bi+2, c.typ, first[i].typ)
			}
			common[i].typ = ct
			common[i].nullable = common[i].nullable || c.nullable
		}
	}
	u := &rel{kind: relUnion}
	for _, b := range branches {
		var project []*program.Expr
		var cols []column
		k := 0
		for i, c := range b.cols {
			if c.hidden {
				continue
			}
			e := &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable}
			project = append(project, castExpr(e, common[k].typ))
			cols = append(cols, column{name: first[k].name, typ: common[k].typ, nullable: common[k].nullable})
			k++
		}
		u.inputs = append(u.inputs, calcRel(b, nil, project, cols))
	}
	u.cols = u.inputs[0].cols
	return u, nil
}

// withCTEs makes the common table expressions of w visible as views until
// the returned function is called.
func (p *planner) withCTEs(s *dialect.Statement, w *ast.WithClause) (func(), error) {
	if w == nil {
		return func() {}, nil
	}
	if w.IsRecursive {
		return nil, s.Errorf(w, "WITH RECURSIVE is not supported on streams")
	}
	type saved struct {
		key string
		v   *view
		ok  bool
	}
	var prev []saved
	restore := func() {
		for i := len(prev) - 1; i >= 0; i-- {
			if prev[i].ok {
				p.views[prev[i].key] = prev[i].v
			} else {
				delete(p.views, prev[i].key)
			}
		}
	}
	for _, cte := range w.CTEs {
		key := cte.Name.L
		if _, ok := p.tables[key]; ok {
			restore()
			return nil, s.Errorf(cte, "WITH %s: '%s' is already a table", cte.Name.O, cte.Name.O)
		}
		sel, ok := cte.Query.Query.(ast.ResultSetNode)
		if !ok {
			restore()
			return nil, s.Errorf(cte, "WITH %s needs a query", cte.Name.O)
		}
		v := &view{name: cte.Name.O, stmt: s, sel: sel}
		for _, c := range cte.ColNameList {
			v.cols = append(v.cols, c.O)
		}
		if _, err := p.planView(v); err != nil {
			restore()
			return nil, err
		}
		old, had := p.views[key]
		prev = append(prev, saved{key, old, had})
		p.views[key] = v
	}
	return restore, nil
}
