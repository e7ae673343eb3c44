package sqlplan

import (
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// query plans a SELECT (or other result set) into a relation.
func (p *planner) query(s *dialect.Statement, n ast.ResultSetNode) (*rel, error) {
	switch n := n.(type) {
	case *ast.SelectStmt:
		return p.selectStmt(s, n)
	case *ast.SetOprStmt:
		return p.setOpr(s, n)
	case *ast.SubqueryExpr:
		return p.query(s, n.Query)
	}
	return nil, s.Errorf(n, "unsupported query")
}

func (p *planner) selectStmt(s *dialect.Statement, n *ast.SelectStmt) (*rel, error) {
	restore, err := p.withCTEs(s, n.With)
	if err != nil {
		return nil, err
	}
	defer restore()
	switch {
	case n.OrderBy != nil:
		return nil, s.Errorf(n.OrderBy.Items[0].Expr, "ORDER BY is not supported on streams (an unbounded stream has no end to sort by); order within windows with a window function: ROW_NUMBER() OVER (PARTITION BY window ORDER BY ...)")
	case n.Limit != nil:
		return nil, s.Errorf(n.Limit.Count, "LIMIT is not supported on streams")
	case len(n.WindowSpecs) > 0:
		return nil, s.Errorf(n, "WINDOW clauses are not supported yet")
	case n.From == nil:
		return nil, s.Errorf(n, "SELECT needs a FROM clause: a streaming query reads a table")
	}
	in, err := p.from(s, n.From.TableRefs)
	if err != nil {
		return nil, err
	}
	var filters []*program.Expr
	if n.Where != nil {
		f, err := p.expr(s, in.cols, n.Where)
		if err != nil {
			return nil, err
		}
		if f.Type.Kind != types.Bool && f.Type.Kind != types.Null {
			return nil, s.Errorf(n.Where, "WHERE needs a BOOLEAN condition, got %s", f.Type)
		}
		filters = append(filters, f)
	}
	for _, f := range filters {
		pushTopN(in, f)
	}
	if calls := windowFuncCalls(n); len(calls) > 0 {
		if p.needsGrouping(n) {
			return nil, s.Errorf(calls[0], "window functions cannot be mixed with GROUP BY or aggregates in one SELECT; compute the aggregate in a subquery and the window function over it")
		}
		if len(filters) > 0 {
			in = filterRel(in, filters)
		}
		return p.windowFuncSelect(s, n, in, calls)
	}
	if p.needsGrouping(n) {
		if len(filters) > 0 {
			in = filterRel(in, filters)
		}
		return p.groupedSelect(s, n, in)
	}
	var project []*program.Expr
	var cols []column
	unnest := 0
	for _, f := range n.Fields.Fields {
		if f.WildCard != nil {
			qual := f.WildCard.Table.O
			found := false
			for i, c := range in.cols {
				if c.hidden || (qual != "" && !strings.EqualFold(c.qual, qual)) {
					continue
				}
				found = true
				project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
				cols = append(cols, column{name: c.name, typ: c.typ, nullable: c.nullable})
			}
			if !found && qual != "" {
				return nil, s.Errorf(f, "unknown table '%s' in %s.*", qual, qual)
			}
			continue
		}
		if fc, ok := f.Expr.(*ast.FuncCallExpr); ok && fc.FnName.L == "unnest" {
			switch {
			case unnest > 0:
				return nil, s.Errorf(fc, "one UNNEST per SELECT: unnest the other array in a query over this one")
			case len(fc.Args) != 1:
				return nil, s.Errorf(fc, "unnest takes one array")
			case in.updating():
				return nil, s.Errorf(fc, "UNNEST of an updating stream (a changelog) is not supported")
			}
			e, err := p.expr(s, in.cols, fc.Args[0])
			if err != nil {
				return nil, err
			}
			if e.Type.Kind != types.List || e.Type.Elem == nil {
				return nil, s.Errorf(fc.Args[0], "unnest needs an array, got %s", e.Type)
			}
			name := f.AsName.O
			if name == "" {
				name = fieldName(s, f.Expr)
			}
			unnest = len(project) + 1
			project = append(project, e)
			cols = append(cols, column{name: name, typ: *e.Type.Elem, nullable: true})
			continue
		}
		e, err := p.expr(s, in.cols, f.Expr)
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
	r := calcRel(in, filters, project, cols)
	if unnest > 0 {
		r.unnest = unnest
	}
	return r, nil
}

// fieldName is the output name of an unaliased select expression: the
// column or struct field name, else the expression's text.
func fieldName(s *dialect.Statement, e ast.ExprNode) string {
	switch e := e.(type) {
	case *ast.ColumnNameExpr:
		return e.Name.Name.O
	case *ast.ParenthesesExpr:
		return fieldName(s, e.Expr)
	case *ast.FuncCallExpr:
		// x.a.b.c.d: named by its last field, as a shorter one is.
		if v, ok := e.Args[len(e.Args)-1].(*driver.ValueExpr); e.FnName.L == dialect.FieldFunc && ok && len(e.Args) == 2 {
			return v.GetString()
		}
	}
	return s.TextOf(e)
}

func (p *planner) from(s *dialect.Statement, j *ast.Join) (*rel, error) {
	if j.Right != nil {
		return p.join(s, j)
	}
	return p.joinSide(s, j.Left)
}

// joinSide plans one side of a FROM: a join, a table or a subquery.
func (p *planner) joinSide(s *dialect.Statement, n ast.ResultSetNode) (*rel, error) {
	switch l := n.(type) {
	case *ast.Join:
		return p.from(s, l)
	case *ast.TableSource:
		alias := l.AsName.O
		switch src := l.Source.(type) {
		case *ast.TableName:
			name := src.Name.O
			if alias == "" {
				alias = name
			}
			return p.tableRef(s, src, alias)
		case ast.ResultSetNode:
			r, err := p.query(s, src)
			if err != nil {
				return nil, err
			}
			return requalify(r, alias), nil
		}
	}
	return nil, s.Errorf(n, "unsupported FROM clause")
}

func requalify(r *rel, qual string) *rel {
	c := *r
	c.cols = make([]column, len(r.cols))
	for i, col := range r.cols {
		col.qual = qual
		c.cols[i] = col
	}
	return &c
}

func (p *planner) tableRef(s *dialect.Statement, tn *ast.TableName, alias string) (*rel, error) {
	key := strings.ToLower(tn.Name.O)
	if t, ok := p.tables[key]; ok {
		if t.kind == tableConnector {
			if t.role == roleSink || t.conn.NewSource == nil {
				return nil, s.Errorf(tn, "cannot read from '%s': it is a sink table", t.name)
			}
			t.role = roleSource
		}
		if t.schema == nil {
			return nil, s.Errorf(tn, "table '%s' has no schema", t.name)
		}
		return scanRel(t, alias), nil
	}
	if v, ok := p.views[key]; ok {
		r, err := p.planView(v)
		if err != nil {
			return nil, err
		}
		return requalify(r, alias), nil
	}
	return nil, s.Errorf(tn, "unknown table '%s'%s", tn.Name.O, p.tableHint())
}

// planView plans a view's query afresh for each reference, so the
// resulting relation tree is never shared.
func (p *planner) planView(v *view) (*rel, error) {
	r, err := p.query(v.stmt, v.sel)
	if err != nil {
		return nil, err
	}
	if len(v.cols) > 0 {
		vis := r.visible()
		if len(v.cols) != len(vis) {
			return nil, v.stmt.Errorf(v.sel, "view '%s' names %d columns but its query has %d", v.name, len(v.cols), len(vis))
		}
		c := *r
		c.cols = append([]column(nil), r.cols...)
		for i := range vis {
			c.cols[i].name = v.cols[i]
		}
		r = &c
	}
	return r, nil
}

// coerceToSink checks that q's columns fit sink t's schema, inserting
// casts, and returns the relation to write. As in DataFusion (which
// Arroyo's INSERT follows), each column is cast to the sink column's type
// whenever CAST between the two types exists: a BIGINT written into a TEXT
// column is its text ('42'), a TIMESTAMP its ISO 8601 text, a TEXT into a
// BIGINT column is parsed per row, and a value that does not convert (an
// unparsable text, an out-of-range number) fails the pipeline with an
// error naming the value, the query's expression and the sink column. A
// pair of types without a CAST (a STRUCT into a BIGINT) is a planning
// error naming both types and both columns.
func coerceToSink(s *dialect.Statement, at ast.Node, q *rel, t *table) (*rel, error) {
	vis := q.visible()
	want := t.schema.Fields
	if len(vis) != len(want) {
		return nil, s.Errorf(at, "query has %d columns but table '%s' has %d %s", len(vis), t.name, len(want), t.schema)
	}
	changed := false
	project := make([]*program.Expr, len(vis))
	cols := make([]column, len(vis))
	for i, c := range vis {
		e := &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable}
		w := want[i]
		if !c.typ.Equal(w.Type) {
			if err := expr.CanCast(c.typ, w.Type); err != nil {
				var pos ast.Node = at
				if f := selectField(at, i); f != nil {
					pos = f
				}
				return nil, s.Errorf(pos, "column %d ('%s') of the query is %s, which cannot be cast to %s, the type of column '%s' of '%s'",
					i+1, c.name, c.typ, w.Type, w.Name, t.name)
			}
			e = castExpr(e, w.Type)
			// Its errors name the query's column and the sink column.
			switch src, f := columnExpr(q, i), selectField(at, i); {
			case src != nil && src.Pos != nil:
				e.Text, e.Pos = src.Text, src.Pos
			case f != nil:
				e.Text, e.Pos = c.name, sourcePos(s, f)
			default:
				e.Text, e.Pos = c.name, sourcePos(s, at)
			}
			e.Note = fmt.Sprintf("column '%s' of sink '%s' is %s", w.Name, t.name, w.Type)
			changed = true
		}
		project[i] = e
		cols[i] = column{name: w.Name, typ: w.Type, nullable: c.nullable}
	}
	if !changed {
		return q, nil
	}
	return calcRel(q, nil, project, cols), nil
}

func castExpr(e *program.Expr, t types.Type) *program.Expr {
	if e.Type.Equal(t) {
		return e
	}
	return &program.Expr{Op: program.ExprCast, Type: t, Nullable: e.Nullable, Args: []*program.Expr{e}, Text: e.Text, Pos: e.Pos}
}

// columnExpr returns the expression computing visible column i of q when q
// is a calc, else nil.
func columnExpr(q *rel, i int) *program.Expr {
	if q.kind != relCalc {
		return nil
	}
	k := 0
	for j, c := range q.cols {
		if c.hidden {
			continue
		}
		if k == i {
			if j < len(q.project) {
				return q.project[j]
			}
			return nil
		}
		k++
	}
	return nil
}

// selectField returns the i-th field of the SELECT n when the fields map
// one-to-one onto the query's columns (no *), else nil.
func selectField(n ast.Node, i int) ast.Node {
	sel, ok := n.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || i >= len(sel.Fields.Fields) {
		return nil
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return nil
		}
	}
	return sel.Fields.Fields[i]
}

// filterRel is in with filters applied, its columns unchanged.
func filterRel(in *rel, filters []*program.Expr) *rel {
	var id []*program.Expr
	var cols []column
	for i, c := range in.cols {
		if !c.hidden {
			id = append(id, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
			cols = append(cols, c)
		}
	}
	return calcRel(in, filters, id, cols)
}
