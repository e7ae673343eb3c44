package dialect

import (
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Operators TiDB's MySQL grammar lacks or reads differently.
//
//   - a == b becomes a = b.
//   - a IS [NOT] DISTINCT FROM b becomes a <=> b, MySQL's null-safe
//     equality, which has the precedence of a comparison; the planner tells
//     IS DISTINCT FROM from IS NOT DISTINCT FROM by [Statement.Operator].
//   - The regex matches a ~ b, a ~* b, a !~ b and a !~* b become
//     a REGEXP b and a NOT REGEXP b (comparison precedence, like LIKE, as
//     DataFusion has them); [Statement.Operator] says which one was
//     written. A ~ that does not follow a value is bitwise NOT, which TiDB
//     reads itself.
//   - x -> k and x ->> k become json_get(x, k) and json_as_text(x, k), on
//     any primary expression x (a column, a call, a parenthesized
//     expression, the result of another ->), as DataFusion's JSON functions
//     plan them. As in DataFusion, -> binds like :: and [ ], tighter than
//     any other operator: a -> 'b' || c is (a -> 'b') || c, and the key k
//     is a primary too: a literal, a (dotted) name, a call or a
//     parenthesized expression. TiDB would read col -> 'k' as MySQL's
//     JSON_EXTRACT and reject -> after anything but a column.

// Names of the functions -> and ->> are planned as.
const (
	JSONGetFunc    = "json_get"
	JSONAsTextFunc = "json_as_text"
)

// regexOps maps each regex operator to the TiDB text it becomes.
var regexOps = map[string]string{"~": "REGEXP", "~*": "REGEXP", "!~": "NOT REGEXP", "!~*": "NOT REGEXP"}

// isOperator reports whether toks[k] starts one of the operators above.
func (r *rewriter) isOperator(k int) bool {
	toks := r.toks
	t := toks[k]
	switch {
	case t.kind == tkOp:
		return t.text == "==" || t.text == "->" || t.text == "->>" || regexOps[t.text] != "" && (t.text != "~" || k > 0 && r.pstart[k-1] >= 0)
	case t.is("IS"):
		q := k + 1
		if q < len(toks) && toks[q].is("NOT") {
			q++
		}
		return q+1 < len(toks) && toks[q].is("DISTINCT") && toks[q+1].is("FROM")
	}
	return false
}

// operator rewrites the operator at toks[k], for which isOperator holds.
// For ->, which wraps its operands, it records in wraps that the call is
// the primary ending at the key's last token.
func (r *rewriter) operator(k int) *Error {
	toks := r.toks
	t := toks[k]
	switch {
	case t.is("=="):
		r.op(k, 1, "=", "==")
	case t.is("->") || t.is("->>"):
		return r.arrow(k)
	case t.kind == tkOp:
		if k == 0 || r.pstart[k-1] < 0 {
			return r.f.errorf(t.start, "'%s' must follow a value, as in s %s 'pattern'", t.text, t.text)
		}
		r.op(k, 1, regexOps[t.text], t.text)
	case toks[k+1].is("NOT"):
		r.op(k, 4, "<=>", "IS NOT DISTINCT FROM")
	default:
		r.op(k, 3, "<=>", "IS DISTINCT FROM")
	}
	return nil
}

// op replaces the n tokens of an operator at k by the TiDB text s and
// records the operator as the user wrote it.
func (r *rewriter) op(k, n int, s, written string) {
	r.repl[k] = &replacement{s: s, n: n}
	for q := k + 1; q < k+n; q++ {
		r.consumed[q] = true
	}
	if r.ops == nil {
		r.ops = map[int]string{}
	}
	r.ops[r.toks[k].start] = written
}

// arrow rewrites x -> k (or x ->> k) with the arrow at k.
func (r *rewriter) arrow(k int) *Error {
	toks := r.toks
	t := toks[k]
	if k == 0 || r.pstart[k-1] < 0 {
		return r.f.errorf(t.start, "'%s' must follow a value, as in j %s 'key'", t.text, t.text)
	}
	e := r.primaryEnd(k + 1)
	if e < 0 {
		found := "the end of the statement"
		if k+1 < len(toks) {
			found = describe(toks[k+1])
		}
		return r.f.errorf(t.start, "expected a key after '%s' (a 'string', a number or a name), found %s", t.text, found)
	}
	fn := JSONGetFunc
	if t.text == "->>" {
		fn = JSONAsTextFunc
	}
	p := r.pstart[k-1]
	r.pre[p] = append([]insertion{{s: fn + "(", orig: toks[p].start, origEnd: t.end, textStart: toks[p].start}}, r.pre[p]...)
	r.repl[k] = &replacement{s: ",", n: 1}
	last := toks[e]
	r.post[e] = append(r.post[e], insertion{s: ")", orig: last.start, origEnd: last.end, textStart: last.start})
	if r.wraps == nil {
		r.wraps = map[int]int{}
	}
	// The call is the primary ending at e: x -> 'a' -> 'b' nests and
	// x -> 'a'::INT casts the call.
	r.wraps[e] = p
	return nil
}

// primaryEnd returns the index of the last token of the primary expression
// starting at toks[i] that may be the key of ->: a literal, a name (dotted,
// possibly called) or a parenthesized expression; -1 if there is none.
func (r *rewriter) primaryEnd(i int) int {
	toks := r.toks
	if i >= len(toks) {
		return -1
	}
	t := toks[i]
	switch {
	case t.kind == tkString || t.kind == tkNumber:
		return i
	case t.is("("):
		return r.match[i]
	case t.isIdent() && !(t.kind == tkWord && isReserved(t.text) && !reservedNames[strings.ToUpper(t.text)]):
		for i+2 < len(toks) && toks[i+1].is(".") && toks[i+2].isIdent() {
			i += 2
		}
		if i+1 < len(toks) && toks[i+1].is("(") {
			return r.match[i+1]
		}
		return i
	}
	return -1
}

// Operator returns the operator of a binary expression (a
// BinaryOperationExpr or PatternRegexpExpr) as the user wrote it, in upper
// case for words ("==", "<>", "!=", "IS DISTINCT FROM", "~*"), and where
// it is. ok is false when the operator cannot be found.
func (s *Statement) Operator(n ast.ExprNode) (op string, pos Pos, ok bool) {
	var right ast.ExprNode
	switch n := n.(type) {
	case *ast.BinaryOperationExpr:
		right = n.R
	case *ast.PatternRegexpExpr:
		right = n.Pattern
	default:
		return "", Pos{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitOf(n)
	if u == nil || right == nil {
		return "", Pos{}, false
	}
	toks := s.index().tokensOf(u)
	// The operator is the token (or, for NOT REGEXP, the two tokens) right
	// before the right operand.
	q := sort.Search(len(toks), func(i int) bool { return toks[i].start >= right.OriginTextPosition() }) - 1
	if q < 0 {
		return "", Pos{}, false
	}
	start := toks[q].start
	if q > 0 && (toks[q].is("REGEXP") || toks[q].is("RLIKE")) && toks[q-1].is("NOT") {
		start = toks[q-1].start
	}
	o := u.orig(start)
	if w, ok := u.ops[o]; ok {
		return w, s.f.pos(o), true
	}
	op = toks[q].text
	if toks[q].kind == tkWord {
		op = strings.ToUpper(u.text[start:toks[q].end])
	}
	return op, s.f.pos(o), true
}

// NullsFirst reports the NULLS FIRST or NULLS LAST the user wrote after the
// ORDER BY item expression n (and its ASC or DESC), if any: first is true
// for NULLS FIRST; ok is false without a NULLS clause.
func (s *Statement) NullsFirst(n ast.ExprNode) (first, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitOf(n)
	if u == nil {
		return false, false
	}
	_, end, found := s.span(u, n)
	if !found {
		return false, false
	}
	e := u.origEnd(end)
	best := -1
	for o, w := range u.ops {
		if strings.HasPrefix(w, "NULLS ") && o >= e && (best < 0 || o < best) {
			best = o
		}
	}
	if best < 0 || best > len(s.f.text) {
		return false, false
	}
	// Only ASC or DESC may stand between the expression and NULLS.
	if gap := strings.ToUpper(strings.TrimSpace(s.f.text[e:best])); gap != "" && gap != "ASC" && gap != "DESC" {
		return false, false
	}
	return u.ops[best] == "NULLS FIRST", true
}
