package sqlplan

import (
	"strings"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Functions the planner resolves itself, because they need more than their
// arguments' types.

// rowTime plans row_time(), Arroyo's event time of the row: the input's
// hidden timestamp column.
func (p *planner) rowTime(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	if len(n.Args) != 0 {
		return nil, s.Errorf(n, "row_time() takes no arguments, got %d", len(n.Args))
	}
	for i, c := range cols {
		if c.hidden && c.name == types.TimestampField {
			return &program.Expr{Op: program.ExprCol, Col: i, Type: types.TimestampT}, nil
		}
	}
	return nil, s.Errorf(n, "row_time() needs an input stream with an event time")
}

// namedStruct plans named_struct('x', a, 'y', b): struct(a, b), whose
// fields are c0, c1, cast to STRUCT<x, y> (a cast that only renames).
func (p *planner) namedStruct(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	if len(n.Args) == 0 || len(n.Args)%2 != 0 {
		return nil, s.Errorf(n, "named_struct expects pairs of a name and a value: named_struct('x', a, 'y', b)")
	}
	var (
		names []string
		vals  []*program.Expr
	)
	for k := 0; k < len(n.Args); k += 2 {
		lit, ok := n.Args[k].(*driver.ValueExpr)
		if !ok || lit.Kind() != driver.KindString {
			return nil, s.Errorf(n.Args[k], "named_struct: field names must be string literals, got %s", s.TextOf(n.Args[k]))
		}
		name := lit.GetString()
		for _, prev := range names {
			if strings.EqualFold(prev, name) {
				return nil, s.Errorf(n.Args[k], "named_struct: field '%s' appears twice", name)
			}
		}
		names = append(names, name)
		v, err := p.expr(s, cols, n.Args[k+1])
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	st, err := p.call(s, n, "struct", vals...)
	if err != nil {
		return nil, err
	}
	fields := make([]types.Field, len(names))
	for i, name := range names {
		fields[i] = st.Type.Fields[i]
		fields[i].Name = name
	}
	st.Text, st.Pos = s.TextOf(n), sourcePos(s, n)
	return castExpr(st, types.StructOf(fields...)), nil
}

// typedLiteral plans TIMESTAMP '2023-01-02 03:04:05', DATE '2024-01-31'
// and TIME '13:45:00' as the text cast to the type (a constant the planner
// folds, so bad text is an error at its position).
func (p *planner) typedLiteral(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	kind, t := "TIMESTAMP", types.TimestampT
	switch n.FnName.L {
	case ast.DateLiteral:
		kind, t = "DATE", types.DateT
	case ast.TimeLiteral:
		kind, t = "TIME", types.TimeT
	}
	if len(n.Args) != 1 {
		return nil, s.Errorf(n, "malformed %s literal", kind)
	}
	v, err := p.expr(s, cols, n.Args[0])
	if err != nil {
		return nil, err
	}
	if v.Type.Kind != types.String {
		return nil, s.Errorf(n, "a %s literal takes a string, as in %s", kind, map[string]string{
			"TIMESTAMP": "TIMESTAMP '2023-01-02 03:04:05'", "DATE": "DATE '2024-01-31'", "TIME": "TIME '13:45:00'"}[kind])
	}
	c := castExpr(v, t)
	c.Text, c.Pos = s.TextOf(n), sourcePos(s, n)
	return c, nil
}

// jsonGetAs rewrites a cast of json_get(...) (a -> 'k') into the typed
// getter, as datafusion-functions-json rewrites it: (a -> 'n')::BIGINT is
// json_get_int(a, 'n'), ::DOUBLE json_get_float, ::TEXT json_get_str,
// ::BOOLEAN json_get_bool. The getter's result is then cast to t if they
// differ (INT from BIGINT). Other expressions are returned unchanged.
func (p *planner) jsonGetAs(v *program.Expr, t types.Type) *program.Expr {
	if v.Op != program.ExprCall || v.Func != "json_get" {
		return v
	}
	var fn string
	var rt types.Type
	switch k := t.Kind; {
	case k.IsInteger():
		fn, rt = "json_get_int", types.Int64T
	case k.IsFloat():
		fn, rt = "json_get_float", types.Float64T
	case k == types.String:
		fn, rt = "json_get_str", types.StringT
	case k == types.Bool:
		fn, rt = "json_get_bool", types.BoolT
	default:
		return v
	}
	if _, ok := p.opts.Functions.Lookup(fn); !ok {
		return v
	}
	c := *v
	c.Func, c.Type = fn, rt
	return &c
}
