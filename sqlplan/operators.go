package sqlplan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// Operators the dialect bridges (sqlplan/dialect/operators.go) and the
// errors of operator and function calls.

// opNames is how the messages of the registry's operator functions name
// each operator, so that an error can name it as the user wrote it (==
// rather than =).
var opNames = map[string]string{
	"=": "=", "<>": "<>", expr.IsDistinctFrom: "IS DISTINCT FROM", expr.IsNotDistinctFrom: "IS NOT DISTINCT FROM",
}

// regexOps are the regex match operators; each is a function of the same
// name.
var regexOps = map[string]bool{"~": true, "~*": true, "!~": true, "!~*": true}

// opCall calls the function fn for the operator of the binary expression
// n. Errors point at the operator, name it as written and quote the
// expression, as in: operator + expects numeric operands ..., got BIGINT
// and TEXT in 'id + s'.
func (p *planner) opCall(s *dialect.Statement, n ast.ExprNode, fn string, args ...*program.Expr) (*program.Expr, error) {
	e, err := p.resolveCall(fn, args)
	if err == nil {
		return e, nil
	}
	written, pos, ok := s.Operator(n)
	if !ok {
		written, pos = fn, s.PosOf(n)
	}
	text := s.TextOf(n)
	if err == errUnknownFunction {
		return nil, &dialect.Error{File: s.File(), Pos: pos, Msg: fmt.Sprintf("operator %s is not supported yet: %s", written, text)}
	}
	msg := err.Error()
	if name := opNames[fn]; name != "" && name != written {
		msg = strings.Replace(msg, "operator "+name+" ", "operator "+written+" ", 1)
	}
	return nil, &dialect.Error{File: s.File(), Pos: pos, Msg: fmt.Sprintf("%s in '%s'", msg, text)}
}

// callAs is call for SQL syntax that is planned as the function fn (a
// BETWEEN as >= and <=, unary minus as neg, LIKE as like): its errors name
// the syntax (shown, e.g. "BETWEEN", "operator -") instead of fn, and quote
// the expression.
func (p *planner) callAs(s *dialect.Statement, at ast.Node, fn, shown string, args ...*program.Expr) (*program.Expr, error) {
	e, err := p.resolveCall(fn, args)
	if err == nil {
		return e, nil
	}
	if err == errUnknownFunction {
		return nil, s.Errorf(at, "%s is not supported yet: %s", shown, s.TextOf(at))
	}
	msg := err.Error()
	for _, prefix := range []string{"operator " + fn + " ", "function " + fn + " "} {
		if strings.HasPrefix(msg, prefix) {
			msg = shown + " " + msg[len(prefix):]
			break
		}
	}
	return nil, s.Errorf(at, "%s in '%s'", msg, s.TextOf(at))
}

// distinctFrom plans a <=> b, which the dialect makes of a IS [NOT]
// DISTINCT FROM b.
func (p *planner) distinctFrom(s *dialect.Statement, n *ast.BinaryOperationExpr, l, r *program.Expr) (*program.Expr, error) {
	fn := expr.IsNotDistinctFrom
	if op, _, _ := s.Operator(n); op == "IS DISTINCT FROM" {
		fn = expr.IsDistinctFrom
	}
	l, r = adaptLiterals(n.L, n.R, l, r)
	e, err := p.opCall(s, n, fn, l, r)
	if err != nil {
		return nil, err
	}
	e.Nullable = false
	return e, nil
}

// regexMatch plans s ~ pattern and its variants, which the dialect makes
// of [NOT] REGEXP, as a call of the function named like the operator.
func (p *planner) regexMatch(s *dialect.Statement, cols []column, n *ast.PatternRegexpExpr) (*program.Expr, error) {
	op, pos, _ := s.Operator(n)
	if !regexOps[op] {
		return nil, &dialect.Error{File: s.File(), Pos: pos, Msg: fmt.Sprintf("%s is MySQL syntax; use the regex operators ~, ~*, !~ and !~* (or regexp_like)", op)}
	}
	v, err := p.expr(s, cols, n.Expr)
	if err != nil {
		return nil, err
	}
	pat, err := p.expr(s, cols, n.Pattern)
	if err != nil {
		return nil, err
	}
	return p.opCall(s, n, op, v, pat)
}

// opText is the SQL of the MySQL operators the planner does not support.
var opText = map[opcode.Op]string{
	opcode.BitNeg: "~ (bitwise NOT)", opcode.And: "& (bitwise AND)", opcode.Or: "| (bitwise OR)",
	opcode.Xor: "^ (bitwise XOR)", opcode.LeftShift: "<<", opcode.RightShift: ">>", opcode.IntDiv: "DIV",
	opcode.LogicXor: "XOR", opcode.Not2: "!",
}

// unsupportedOp is the error for an operator the planner does not know.
func unsupportedOp(s *dialect.Statement, n ast.ExprNode, op opcode.Op) error {
	text, ok := opText[op]
	if !ok {
		text = op.String()
	}
	return s.Errorf(n, "operator %s is not supported: %s", text, s.TextOf(n))
}

// unknownFunction is the error for a call of a function the registry does
// not have, suggesting up to three close names.
func (p *planner) unknownFunction(s *dialect.Statement, at ast.Node, name string) error {
	msg := fmt.Sprintf("unknown function '%s'", name)
	if close := closeNames(name, p.opts.Functions.Names(), 3); len(close) > 0 {
		q := make([]string, len(close))
		for i, c := range close {
			q[i] = "'" + c + "'"
		}
		last := q[len(q)-1]
		if len(q) > 1 {
			last = strings.Join(q[:len(q)-1], ", ") + " or " + last
		}
		msg += " (did you mean " + last + "?)"
	}
	return s.Errorf(at, "%s", msg)
}

// closeNames returns up to max names of callable functions (not operators
// nor internal names) within a small edit distance of name, or of which
// name is a prefix, closest first.
func closeNames(name string, names []string, max int) []string {
	type cand struct {
		name string
		d    int
	}
	name = strings.ToLower(name)
	limit := 1 + len(name)/4
	var cands []cand
	for _, c := range names {
		if c == name || !callable(c) {
			continue
		}
		d := editDistance(name, c)
		if d > limit && !(len(name) >= 3 && strings.HasPrefix(c, name)) {
			continue
		}
		cands = append(cands, cand{c, d})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].d != cands[j].d {
			return cands[i].d < cands[j].d
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for i := 0; i < len(cands) && i < max; i++ {
		out = append(out, cands[i].name)
	}
	return out
}

// callable reports whether a registry name can be called as name(...):
// an identifier that is not internal (__cast).
func callable(name string) bool {
	if name == "" || strings.HasPrefix(name, "__") {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
