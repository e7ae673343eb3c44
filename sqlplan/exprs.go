package sqlplan

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

var binaryOps = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
}

// aggregates are reported as unsupported rather than unknown.
var aggregates = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true,
	"tumble": true, "hop": true, "session": true, "row_number": true,
}

// expr resolves and type-checks an expression over the columns cols.
func (p *planner) expr(s *dialect.Statement, cols []column, n ast.ExprNode) (*program.Expr, error) {
	if p.agg != nil {
		if e, ok, err := p.aggRef(s, n); ok || err != nil {
			return e, err
		}
	}
	if p.win != nil {
		if e, ok := p.winRef(n); ok {
			return e, nil
		}
	}
	e, err := p.expr1(s, cols, n)
	if err != nil {
		return nil, err
	}
	if e.Text == "" && (e.Op == program.ExprCall || e.Op == program.ExprCast) {
		e.Text = s.TextOf(n)
		e.Pos = sourcePos(s, n)
	}
	if e.Op == program.ExprLit && e.Pos == nil && e.Type.Kind == types.String {
		// A constant argument the compiler rejects (an invalid regular
		// expression, an unknown encoding) is reported where it is.
		e.Pos = sourcePos(s, n)
	}
	return e, nil
}

// sourcePos is where n is in the user's file, for error messages of the
// program.
func sourcePos(s *dialect.Statement, n ast.Node) *program.SourcePos {
	p := s.PosOf(n)
	return &program.SourcePos{File: s.File(), Line: p.Line, Col: p.Col}
}

func (p *planner) expr1(s *dialect.Statement, cols []column, n ast.ExprNode) (*program.Expr, error) {
	switch n := n.(type) {
	case *ast.ParenthesesExpr:
		return p.expr(s, cols, n.Expr)
	case *driver.ValueExpr:
		return literal(s, n)
	case *ast.ColumnNameExpr:
		return resolveColumn(s, cols, n)
	case *ast.BinaryOperationExpr:
		l, err := p.expr(s, cols, n.L)
		if err != nil {
			return nil, err
		}
		r, err := p.expr(s, cols, n.R)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.LogicAnd, opcode.LogicOr:
			if err := wantBool(s, n.L, l); err != nil {
				return nil, err
			}
			if err := wantBool(s, n.R, r); err != nil {
				return nil, err
			}
			op := program.ExprAnd
			if n.Op == opcode.LogicOr {
				op = program.ExprOr
			}
			return &program.Expr{Op: op, Type: types.BoolT, Nullable: l.Nullable || r.Nullable, Args: []*program.Expr{l, r}}, nil
		}
		if n.Op == opcode.NullEQ {
			return p.distinctFrom(s, n, l, r)
		}
		name, ok := binaryOps[n.Op]
		if !ok {
			return nil, unsupportedOp(s, n, n.Op)
		}
		l, r = adaptLiterals(n.L, n.R, l, r)
		return p.opCall(s, n, name, l, r)
	case *ast.UnaryOperationExpr:
		v, err := p.expr(s, cols, n.V)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.Plus:
			return v, nil
		case opcode.Minus:
			if isLiteral(n.V) {
				if neg, ok := negateLiteral(v); ok {
					return neg, nil
				}
			}
			return p.callAs(s, n, "neg", "operator -", v)
		case opcode.Not, opcode.Not2:
			if err := wantBool(s, n.V, v); err != nil {
				return nil, err
			}
			return &program.Expr{Op: program.ExprNot, Type: types.BoolT, Nullable: v.Nullable, Args: []*program.Expr{v}}, nil
		}
		return nil, unsupportedOp(s, n, n.Op)
	case *ast.IsNullExpr:
		v, err := p.expr(s, cols, n.Expr)
		if err != nil {
			return nil, err
		}
		op := program.ExprIsNull
		if n.Not {
			op = program.ExprIsNotNull
		}
		return &program.Expr{Op: op, Type: types.BoolT, Args: []*program.Expr{v}}, nil
	case *ast.IsTruthExpr:
		v, err := p.expr(s, cols, n.Expr)
		if err != nil {
			return nil, err
		}
		if err := wantBool(s, n.Expr, v); err != nil {
			return nil, err
		}
		// x IS TRUE = coalesce(x = TRUE, FALSE); x IS FALSE likewise.
		want := boolLit(n.True != 0)
		eq, err := p.call(s, n, "=", v, want)
		if err != nil {
			return nil, err
		}
		r := &program.Expr{Op: program.ExprCoalesce, Type: types.BoolT, Args: []*program.Expr{eq, boolLit(false)}}
		if n.Not {
			r = &program.Expr{Op: program.ExprNot, Type: types.BoolT, Args: []*program.Expr{r}}
		}
		return r, nil
	case *ast.BetweenExpr:
		v, err := p.expr(s, cols, n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := p.expr(s, cols, n.Left)
		if err != nil {
			return nil, err
		}
		hi, err := p.expr(s, cols, n.Right)
		if err != nil {
			return nil, err
		}
		v1, lo := adaptLiterals(n.Expr, n.Left, v, lo)
		ge, err := p.callAs(s, n, ">=", "BETWEEN", v1, lo)
		if err != nil {
			return nil, err
		}
		v2, hi := adaptLiterals(n.Expr, n.Right, v, hi)
		le, err := p.callAs(s, n, "<=", "BETWEEN", v2, hi)
		if err != nil {
			return nil, err
		}
		r := &program.Expr{Op: program.ExprAnd, Type: types.BoolT, Nullable: ge.Nullable || le.Nullable, Args: []*program.Expr{ge, le}}
		if n.Not {
			r = &program.Expr{Op: program.ExprNot, Type: types.BoolT, Nullable: r.Nullable, Args: []*program.Expr{r}}
		}
		return r, nil
	case *ast.PatternInExpr:
		if n.Sel != nil {
			return nil, s.Errorf(n, "IN (subquery) is not supported yet")
		}
		args := make([]*program.Expr, 0, len(n.List)+1)
		all := append([]ast.ExprNode{n.Expr}, n.List...)
		var t types.Type = types.NullT
		for _, a := range all {
			e, err := p.expr(s, cols, a)
			if err != nil {
				return nil, err
			}
			ct, err := expr.CommonType(t, e.Type)
			if err != nil {
				return nil, s.Errorf(a, "IN list: %v", err)
			}
			t = ct
			args = append(args, e)
		}
		nullable := false
		for i, a := range args {
			args[i] = castExpr(a, t)
			nullable = nullable || a.Nullable
		}
		r := &program.Expr{Op: program.ExprIn, Type: types.BoolT, Nullable: nullable, Args: args}
		if n.Not {
			r = &program.Expr{Op: program.ExprNot, Type: types.BoolT, Nullable: nullable, Args: []*program.Expr{r}}
		}
		return r, nil
	case *ast.PatternLikeOrIlikeExpr:
		v, err := p.expr(s, cols, n.Expr)
		if err != nil {
			return nil, err
		}
		pat, err := p.expr(s, cols, n.Pattern)
		if err != nil {
			return nil, err
		}
		if n.Escape != '\\' && n.Escape != 0 {
			return nil, s.Errorf(n, "LIKE ... ESCAPE is not supported; use backslash to escape")
		}
		name := "like"
		if !n.IsLike {
			name = "ilike"
		}
		r, err := p.callAs(s, n, name, "operator "+strings.ToUpper(name), v, pat)
		if err != nil {
			return nil, err
		}
		if n.Not {
			r = &program.Expr{Op: program.ExprNot, Type: types.BoolT, Nullable: r.Nullable, Args: []*program.Expr{r}}
		}
		return r, nil
	case *ast.PatternRegexpExpr:
		return p.regexMatch(s, cols, n)
	case *ast.CaseExpr:
		return p.caseExpr(s, cols, n)
	case *ast.FuncCallExpr:
		return p.funcCall(s, cols, n)
	case *ast.AggregateFuncExpr:
		return nil, s.Errorf(n, "aggregate function %s is not allowed here: aggregates go in the SELECT list or HAVING of a query (a condition on them goes in HAVING, not WHERE)", strings.ToLower(n.F))
	case *ast.WindowFuncExpr:
		return nil, s.Errorf(n, "window function %s is only allowed in the SELECT list; to filter on it (WHERE rn <= 3), select it in a subquery and filter in the outer query", strings.ToLower(n.Name))
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		return nil, s.Errorf(n, "subqueries in expressions are not supported yet")
	case *ast.FuncCastExpr:
		// The dialect rewrites casts to __cast; TiDB-only forms end here.
		return nil, s.Errorf(n, "unsupported CAST form")
	}
	return nil, s.Errorf(n, "unsupported expression %s", s.TextOf(n))
}

func wantBool(s *dialect.Statement, n ast.Node, e *program.Expr) error {
	if e.Type.Kind != types.Bool && e.Type.Kind != types.Null {
		return s.Errorf(n, "expected a BOOLEAN, got %s: %s", e.Type, s.TextOf(n))
	}
	return nil
}

func boolLit(b bool) *program.Expr {
	v := json.RawMessage("false")
	if b {
		v = json.RawMessage("true")
	}
	return &program.Expr{Op: program.ExprLit, Type: types.BoolT, Value: v}
}

func literal(s *dialect.Statement, n *driver.ValueExpr) (*program.Expr, error) {
	lit := func(t types.Type, v any) (*program.Expr, error) {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, s.Errorf(n, "bad literal: %v", err)
		}
		return &program.Expr{Op: program.ExprLit, Type: t, Value: raw, Nullable: v == nil}, nil
	}
	switch n.Kind() {
	case driver.KindNull:
		return &program.Expr{Op: program.ExprLit, Type: types.NullT, Value: json.RawMessage("null"), Nullable: true}, nil
	case driver.KindInt64:
		if n.Type.GetFlag()&mysql.IsBooleanFlag != 0 {
			return boolLit(n.GetInt64() != 0), nil
		}
		return lit(types.Int64T, n.GetInt64())
	case driver.KindUint64:
		return lit(types.UInt64T, n.GetUint64())
	case driver.KindFloat32, driver.KindFloat64:
		return lit(types.Float64T, n.GetFloat64())
	case driver.KindMysqlDecimal:
		f, err := strconv.ParseFloat(n.GetMysqlDecimal().String(), 64)
		if err != nil {
			return nil, s.Errorf(n, "bad number %s", n.GetMysqlDecimal().String())
		}
		return lit(types.Float64T, f)
	case driver.KindString:
		return lit(types.StringT, n.GetString())
	case driver.KindBytes:
		return lit(types.StringT, string(n.GetBytes()))
	}
	return nil, s.Errorf(n, "unsupported literal %s", s.TextOf(n))
}

// resolveColumn resolves a column reference: col, t.col, and struct field
// access on either (col.field, t.col.field.field; names of more than three
// parts reach here as __field calls around the first three). A qualified
// column wins over a struct of the same name as the qualifier, as in
// Postgres.
func resolveColumn(s *dialect.Statement, cols []column, n *ast.ColumnNameExpr) (*program.Expr, error) {
	var parts []string
	for _, p := range []string{n.Name.Schema.O, n.Name.Table.O, n.Name.Name.O} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	find := func(qual, name string) (int, error) {
		found := -1
		for i, c := range cols {
			if (qual == "" || strings.EqualFold(c.qual, qual)) && strings.EqualFold(c.name, name) {
				if found >= 0 && c.name != cols[found].name {
					continue
				}
				if found >= 0 {
					return -1, s.Errorf(n, "column '%s' is ambiguous", name)
				}
				found = i
			}
		}
		return found, nil
	}
	col, rest := -1, parts[1:]
	if len(parts) >= 2 {
		i, err := find(parts[0], parts[1])
		if err != nil {
			return nil, err
		}
		col, rest = i, parts[2:]
	}
	if col < 0 {
		i, err := find("", parts[0])
		if err != nil {
			return nil, err
		}
		col, rest = i, parts[1:]
	}
	if col < 0 {
		switch {
		case len(parts) == 1:
			return nil, s.Errorf(n, "unknown column '%s'%s", parts[0], columnHint(cols))
		case hasQual(cols, parts[0]):
			return nil, s.Errorf(n, "unknown column '%s' in '%s'%s", parts[1], parts[0], columnHint(cols))
		}
		return nil, s.Errorf(n, "unknown table or column '%s'%s", parts[0], columnHint(cols))
	}
	c := cols[col]
	e := &program.Expr{Op: program.ExprCol, Col: col, Type: c.typ, Nullable: c.nullable}
	for k, f := range rest {
		var err error
		prefix := strings.Join(parts[:len(parts)-len(rest)+k], ".")
		if e, err = fieldOf(s, n, e, prefix, f); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// fieldOf is the field name of the struct base (whose text is baseText),
// with errors at n.
func fieldOf(s *dialect.Statement, n ast.Node, base *program.Expr, baseText, name string) (*program.Expr, error) {
	if base.Type.Kind != types.Struct {
		return nil, s.Errorf(n, "'%s' is %s, not a struct: it has no field '%s'", baseText, base.Type, name)
	}
	fi := base.Type.FieldIndex(name)
	if fi < 0 {
		names := make([]string, len(base.Type.Fields))
		for i, f := range base.Type.Fields {
			names[i] = f.Name
		}
		return nil, s.Errorf(n, "struct '%s' has no field '%s' (fields: %s)", baseText, name, strings.Join(names, ", "))
	}
	f := base.Type.Fields[fi]
	return &program.Expr{Op: program.ExprField, Type: f.Type, Nullable: f.Nullable || base.Nullable, Field: fi, Args: []*program.Expr{base}}, nil
}

// fieldAccess plans __field(x, 'name') (x.name where x is not a column
// reference TiDB can take).
func (p *planner) fieldAccess(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	name, ok := n.Args[1].(*driver.ValueExpr)
	if len(n.Args) != 2 || !ok {
		return nil, s.Errorf(n, "malformed field access")
	}
	base, err := p.expr(s, cols, n.Args[0])
	if err != nil {
		return nil, err
	}
	return fieldOf(s, n, base, s.TextOf(n.Args[0]), name.GetString())
}

// subscript plans __index(x, i), x[i]: the 1-based element of a list.
func (p *planner) subscript(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	if len(n.Args) != 2 {
		return nil, s.Errorf(n, "malformed subscript")
	}
	base, err := p.expr(s, cols, n.Args[0])
	if err != nil {
		return nil, err
	}
	if base.Type.Kind != types.List {
		return nil, s.Errorf(n, "cannot index '%s': it is %s, not an array", s.TextOf(n.Args[0]), base.Type)
	}
	i, err := p.expr(s, cols, n.Args[1])
	if err != nil {
		return nil, err
	}
	if !i.Type.Kind.IsInteger() && i.Type.Kind != types.Null {
		return nil, s.Errorf(n.Args[1], "an array index must be an integer, got %s: %s", i.Type, s.TextOf(n.Args[1]))
	}
	return p.call(s, n, "array_element", base, i)
}

func hasQual(cols []column, q string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.qual, q) {
			return true
		}
	}
	return false
}

func columnHint(cols []column) string {
	var names []string
	for _, c := range cols {
		if !c.hidden {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (columns: " + strings.Join(names, ", ") + ")"
}

// call resolves a registered function and inserts the casts its signature
// asks for.
func (p *planner) call(s *dialect.Statement, at ast.Node, name string, args ...*program.Expr) (*program.Expr, error) {
	e, err := p.resolveCall(name, args)
	if err == errUnknownFunction {
		return nil, p.unknownFunction(s, at, name)
	}
	if err != nil {
		return nil, s.Errorf(at, "%v", err)
	}
	return e, nil
}

// errUnknownFunction is resolveCall's error for a name the registry does
// not have.
var errUnknownFunction = errors.New("unknown function")

// resolveCall is call without positions: its errors are the registry's.
func (p *planner) resolveCall(name string, args []*program.Expr) (*program.Expr, error) {
	f, ok := p.opts.Functions.Lookup(name)
	if !ok {
		return nil, errUnknownFunction
	}
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type
	}
	r, err := f.Resolve(ts)
	if err != nil {
		return nil, err
	}
	cast := make([]*program.Expr, len(args))
	for i, a := range args {
		cast[i] = castExpr(a, r.Args[i])
	}
	// A function may return NULL on non-NULL input, so a call is
	// conservatively nullable.
	return &program.Expr{Op: program.ExprCall, Func: strings.ToLower(name), Type: r.Result, Nullable: true, Args: cast}, nil
}

// adaptLiterals adapts the operands l and r (planned from the SQL ln and
// rn) of a binary operator to each other: an integer literal written as
// such takes the numeric type of the other operand (see adaptLiteral). A
// literal under an explicit cast (2::BIGINT) is the user's word and keeps
// its type, and so does the argument of a function, whose signature says
// what it takes (round(x, 2) keeps 2 a BIGINT).
func adaptLiterals(ln, rn ast.ExprNode, l, r *program.Expr) (*program.Expr, *program.Expr) {
	if isLiteral(ln) {
		l = adaptLiteral(l, r.Type)
	}
	if isLiteral(rn) {
		r = adaptLiteral(r, l.Type)
	}
	return l, r
}

// isLiteral reports whether n is a literal as written, possibly in
// parentheses or negated: an untyped constant whose type the planner may
// choose.
func isLiteral(n ast.ExprNode) bool {
	for {
		switch x := n.(type) {
		case *driver.ValueExpr:
			return true
		case *ast.ParenthesesExpr:
			n = x.Expr
		case *ast.UnaryOperationExpr:
			if x.Op != opcode.Minus && x.Op != opcode.Plus {
				return false
			}
			n = x.V
		default:
			return false
		}
	}
}

// negateLiteral folds unary minus on a numeric literal, so that
// -9223372036854775808 (whose digits alone are a BIGINT UNSIGNED) is the
// smallest BIGINT. As in DataFusion, a negative integer literal below the
// BIGINT range becomes a DOUBLE. It reports false when the literal is not
// a number or its negation overflows (-(-9223372036854775808)), which is
// then left to neg to report.
func negateLiteral(e *program.Expr) (*program.Expr, bool) {
	if e.Op != program.ExprLit {
		return nil, false
	}
	var v any
	t := e.Type
	switch e.Type.Kind {
	case types.Int64:
		i, err := strconv.ParseInt(string(e.Value), 10, 64)
		if err != nil || i == math.MinInt64 {
			return nil, false
		}
		v = -i
	case types.UInt64:
		u, err := strconv.ParseUint(string(e.Value), 10, 64)
		if err != nil {
			return nil, false
		}
		if u <= 1<<63 {
			v, t = -int64(u-1)-1, types.Int64T
		} else {
			v, t = -float64(u), types.Float64T
		}
	case types.Float64:
		f, err := strconv.ParseFloat(string(e.Value), 64)
		if err != nil {
			return nil, false
		}
		v = -f
	default:
		return nil, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return &program.Expr{Op: program.ExprLit, Type: t, Value: raw}, true
}

// adaptLiteral gives an integer literal the numeric type of the other
// operand when its value fits, as Postgres types untyped literals: `counter
// % 2` on a BIGINT UNSIGNED column then stays unsigned, with no cast per
// row.
func adaptLiteral(e *program.Expr, other types.Type) *program.Expr {
	if e.Op != program.ExprLit || e.Type.Kind != types.Int64 || !other.Kind.IsNumeric() || other.Kind == types.Int64 {
		return e
	}
	v, err := strconv.ParseInt(string(e.Value), 10, 64)
	if err != nil {
		return e
	}
	fits := false
	switch other.Kind {
	case types.Int8:
		fits = v >= math.MinInt8 && v <= math.MaxInt8
	case types.Int16:
		fits = v >= math.MinInt16 && v <= math.MaxInt16
	case types.Int32:
		fits = v >= math.MinInt32 && v <= math.MaxInt32
	case types.UInt8:
		fits = v >= 0 && v <= math.MaxUint8
	case types.UInt16:
		fits = v >= 0 && v <= math.MaxUint16
	case types.UInt32:
		fits = v >= 0 && v <= math.MaxUint32
	case types.UInt64:
		fits = v >= 0
	case types.Float32, types.Float64:
		fits = v > -1<<53 && v < 1<<53
	}
	if !fits {
		return e
	}
	c := *e
	c.Type = other
	return &c
}

func (p *planner) caseExpr(s *dialect.Statement, cols []column, n *ast.CaseExpr) (*program.Expr, error) {
	var base *program.Expr
	if n.Value != nil {
		b, err := p.expr(s, cols, n.Value)
		if err != nil {
			return nil, err
		}
		base = b
	}
	var args []*program.Expr
	var resultT types.Type = types.NullT
	var results []int
	for _, w := range n.WhenClauses {
		c, err := p.expr(s, cols, w.Expr)
		if err != nil {
			return nil, err
		}
		if base != nil {
			b, cv := adaptLiterals(n.Value, w.Expr, base, c)
			if c, err = p.callAs(s, w.Expr, "=", "CASE ... WHEN", b, cv); err != nil {
				return nil, err
			}
		} else if err := wantBool(s, w.Expr, c); err != nil {
			return nil, err
		}
		r, err := p.expr(s, cols, w.Result)
		if err != nil {
			return nil, err
		}
		if resultT, err = expr.CommonType(resultT, r.Type); err != nil {
			return nil, s.Errorf(w.Result, "CASE branches: %v", err)
		}
		results = append(results, len(args)+1)
		args = append(args, c, r)
	}
	hasElse := n.ElseClause != nil
	if hasElse {
		e, err := p.expr(s, cols, n.ElseClause)
		if err != nil {
			return nil, err
		}
		if resultT, err = expr.CommonType(resultT, e.Type); err != nil {
			return nil, s.Errorf(n.ElseClause, "CASE branches: %v", err)
		}
		results = append(results, len(args))
		args = append(args, e)
	}
	for _, i := range results {
		args[i] = castExpr(args[i], resultT)
	}
	return &program.Expr{Op: program.ExprCase, Type: resultT, Nullable: true, Args: args, HasElse: hasElse}, nil
}

func (p *planner) funcCall(s *dialect.Statement, cols []column, n *ast.FuncCallExpr) (*program.Expr, error) {
	name := n.FnName.L
	args := make([]*program.Expr, 0, len(n.Args))
	argNodes := n.Args
	evalArgs := func() error {
		for _, a := range argNodes {
			e, err := p.expr(s, cols, a)
			if err != nil {
				return err
			}
			args = append(args, e)
		}
		return nil
	}
	switch name {
	case dialect.CastFunc:
		if len(n.Args) != 2 {
			return nil, s.Errorf(n, "malformed cast")
		}
		v, err := p.expr(s, cols, n.Args[0])
		if err != nil {
			return nil, err
		}
		tv, ok := n.Args[1].(*driver.ValueExpr)
		if !ok {
			return nil, s.Errorf(n, "malformed cast")
		}
		tn, err := dialect.ParseType(tv.GetString())
		if err != nil {
			return nil, s.Errorf(n, "%v", err)
		}
		tn.Pos = s.PosOf(n)
		t, err := sqlType(s, tn)
		if err != nil {
			return nil, err
		}
		v = p.jsonGetAs(v, t)
		if err := expr.CanCast(v.Type, t); err != nil {
			return nil, s.Errorf(n, "%v", err)
		}
		c := castExpr(v, t)
		if c == v {
			return v, nil
		}
		return c, nil
	case dialect.FieldFunc:
		return p.fieldAccess(s, cols, n)
	case dialect.IndexFunc:
		return p.subscript(s, cols, n)
	case dialect.TryCastFunc:
		return nil, s.Errorf(n, "TRY_CAST is not supported yet; use CAST")
	case dialect.IntervalFunc:
		tv, ok := n.Args[0].(*driver.ValueExpr)
		if len(n.Args) != 1 || !ok {
			return nil, s.Errorf(n, "malformed interval")
		}
		d, err := dialect.ParseInterval(tv.GetString())
		if err != nil {
			return nil, s.Errorf(n, "%v", err)
		}
		return &program.Expr{Op: program.ExprLit, Type: types.IntervalT, Value: json.RawMessage(strconv.FormatInt(int64(d), 10))}, nil
	case "coalesce", "ifnull", "nvl":
		if err := evalArgs(); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return nil, s.Errorf(n, "%s needs at least one argument", name)
		}
		if name != "coalesce" && len(args) != 2 {
			return nil, s.Errorf(n, "%s takes 2 arguments: %s(x, value when x is NULL)", name, name)
		}
		var t types.Type = types.NullT
		nullable := true
		for i, a := range args {
			ct, err := expr.CommonType(t, a.Type)
			if err != nil {
				return nil, s.Errorf(n.Args[i], "%s: %v", name, err)
			}
			t = ct
			nullable = nullable && a.Nullable
		}
		for i := range args {
			args[i] = castExpr(args[i], t)
		}
		return &program.Expr{Op: program.ExprCoalesce, Type: t, Nullable: nullable, Args: args}, nil
	case "nullif":
		if err := evalArgs(); err != nil {
			return nil, err
		}
		if len(args) != 2 {
			return nil, s.Errorf(n, "nullif takes 2 arguments")
		}
		l, r := adaptLiterals(n.Args[0], n.Args[1], args[0], args[1])
		eq, err := p.callAs(s, n, "=", "function nullif", l, r)
		if err != nil {
			return nil, err
		}
		null := &program.Expr{Op: program.ExprLit, Type: args[0].Type, Value: json.RawMessage("null"), Nullable: true}
		return &program.Expr{Op: program.ExprCase, Type: args[0].Type, Nullable: true, HasElse: true, Args: []*program.Expr{eq, null, args[0]}}, nil
	case "nvl2":
		// nvl2(x, a, b) is CASE WHEN x IS NOT NULL THEN a ELSE b END.
		if err := evalArgs(); err != nil {
			return nil, err
		}
		if len(args) != 3 {
			return nil, s.Errorf(n, "nvl2 takes 3 arguments: nvl2(x, value when x is not NULL, value when it is)")
		}
		t, err := expr.CommonType(args[1].Type, args[2].Type)
		if err != nil {
			return nil, s.Errorf(n, "nvl2: %v", err)
		}
		notNull := &program.Expr{Op: program.ExprIsNotNull, Type: types.BoolT, Args: []*program.Expr{args[0]}}
		return &program.Expr{Op: program.ExprCase, Type: t, Nullable: true, HasElse: true,
			Args: []*program.Expr{notNull, castExpr(args[1], t), castExpr(args[2], t)}}, nil
	case "trim":
		// TRIM([BOTH | LEADING | TRAILING] [chars] FROM s) reaches here as
		// trim(s, chars, direction).
		if len(n.Args) == 3 {
			if d, ok := n.Args[2].(*ast.TrimDirectionExpr); ok {
				switch d.Direction {
				case ast.TrimLeading:
					name = "ltrim"
				case ast.TrimTrailing:
					name = "rtrim"
				default:
					name = "btrim"
				}
				argNodes = n.Args[:2]
			}
		}
	case "if":
		if err := evalArgs(); err != nil {
			return nil, err
		}
		if len(args) != 3 {
			return nil, s.Errorf(n, "if takes 3 arguments: if(condition, then, else)")
		}
		if err := wantBool(s, n.Args[0], args[0]); err != nil {
			return nil, err
		}
		t, err := expr.CommonType(args[1].Type, args[2].Type)
		if err != nil {
			return nil, s.Errorf(n, "if: %v", err)
		}
		return &program.Expr{Op: program.ExprCase, Type: t, Nullable: true, HasElse: true,
			Args: []*program.Expr{args[0], castExpr(args[1], t), castExpr(args[2], t)}}, nil
	case "concat":
		if err := evalArgs(); err != nil {
			return nil, err
		}
		// TiDB parses `a || b` as concat(a, b); `||` is NULL when either side
		// is, concat() skips NULLs, so tell them apart by the source text.
		// Only the first bytes are compared: lowering the whole text
		// would make a chain of || quadratic.
		if text := s.TextOf(n); len(args) == 2 && !(len(text) >= 6 && strings.EqualFold(text[:6], "concat")) {
			return p.call(s, n, "||", args...)
		}
		return p.call(s, n, name, args...)
	}
	switch name {
	case "row_time":
		return p.rowTime(s, cols, n)
	case "named_struct":
		return p.namedStruct(s, cols, n)
	case ast.TimestampLiteral, ast.DateLiteral, ast.TimeLiteral:
		return p.typedLiteral(s, cols, n)
	}
	if name == "unnest" {
		return nil, s.Errorf(n, "UNNEST is only supported as a whole SELECT field (SELECT unnest(arr) AS x, ...)")
	}
	if name == dialect.FilterFunc {
		return nil, s.Errorf(n, "FILTER (WHERE ...) is only allowed on an aggregate call in the SELECT list or HAVING of a grouped query")
	}
	if _, ok := p.opts.Functions.LookupAggregate(name); ok {
		return nil, s.Errorf(n, "aggregate function %s is not allowed here: aggregates go in the SELECT list or HAVING of a query (a condition on them goes in HAVING, not WHERE)", name)
	}
	if windowFuncs[name] != "" {
		return nil, s.Errorf(n, "window function %s(...) is only allowed in the GROUP BY (and SELECT list) of a grouped query", name)
	}
	if aggregates[name] {
		return nil, s.Errorf(n, "%s is not supported yet", name)
	}
	if _, ok := p.opts.Functions.Lookup(name); !ok {
		return nil, p.unknownFunction(s, n, name)
	}
	if err := evalArgs(); err != nil {
		return nil, err
	}
	return p.call(s, n, name, args...)
}
