package dialect

import (
	"sort"

	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Expression ends.
//
// TiDB records where an expression starts but not where it ends. An
// expression's last token is the last token of its last sub-expression, or
// a token of the syntax that closes it: a bracket, END, IS [NOT] NULL,
// ESCAPE 'c', OVER (...). walkEnds computes it for every expression of a
// tree in one post-order walk, so each node costs a constant number of
// token look-ups beyond its children:
//
//   - A node starting with ( or [ ends at or after the matching bracket; a
//     call-like node (a word followed by "(") at or after the bracket that
//     closes its arguments. Brackets opened inside a node are closed inside
//     it, so a ) or ] right after the node whose opening bracket lies
//     inside it belongs to it (the ) of an IN list or of f(a, b)).
//   - Each kind adds the keywords that end it (see extend).
//
// Sub-expressions TiDB synthesizes or does not locate have offset 0 (no
// expression starts there: the text starts with SELECT, INSERT or the
// "SELECT " prefix); they take no part. Kinds extend does not know are
// left to trialEnd, which parses candidates.

// endWalker is the post-order walk of walkEnds.
type endWalker struct {
	s     *Statement
	u     *unit
	toks  []token
	match []int
	// stack holds, per node being visited, the last token index of its
	// located descendants so far (-1 for none).
	stack []int
}

// walkEnds records in the index the end of every expression of root,
// parsed from u.
func (s *Statement) walkEnds(u *unit, root ast.Node) {
	toks := s.idx.tokensOf(u)
	match, err := matchBrackets(newFile("", u.text), toks)
	if err != nil || len(toks) == 0 {
		return // trialEnd will do
	}
	root.Accept(&endWalker{s: s, u: u, toks: toks, match: match})
}

func (w *endWalker) Enter(n ast.Node) (ast.Node, bool) {
	w.stack = append(w.stack, -1)
	return n, false
}

func (w *endWalker) Leave(n ast.Node) (ast.Node, bool) {
	last := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if e, ok := n.(ast.ExprNode); ok {
		if end, ok := w.end(e, last); ok {
			last = end
		}
	}
	if k := len(w.stack); k > 0 && last > w.stack[k-1] {
		w.stack[k-1] = last
	}
	return n, true
}

// end computes the last token of e, given the last token of its
// descendants, and records its end offset.
func (w *endWalker) end(e ast.ExprNode, last int) (int, bool) {
	off := e.OriginTextPosition()
	if off <= 0 {
		return 0, false
	}
	st, ok := tokenAt(w.toks, off)
	if !ok {
		return 0, false
	}
	end, known := w.extend(e, st, max(st, last))
	if !known {
		if end, ok := w.s.exprEnd(w.u, e, off); ok {
			return w.tokenEnding(end, last), true
		}
		return last, last >= 0
	}
	w.s.idx.end[e] = w.toks[end].end
	return end, true
}

// tokenEnding returns the index of the token that ends at off, or last.
func (w *endWalker) tokenEnding(off, last int) int {
	q := sort.Search(len(w.toks), func(i int) bool { return w.toks[i].end >= off })
	if q < len(w.toks) && w.toks[q].end == off {
		return q
	}
	return last
}

// extend returns the last token of e, which starts at token st, given that
// it ends at token e or later; known is false for node kinds it does not
// know.
func (w *endWalker) extend(n ast.ExprNode, st, e int) (end int, known bool) {
	toks := w.toks
	is := func(i int, words ...string) bool {
		if i >= len(toks) {
			return false
		}
		for _, word := range words {
			if toks[i].is(word) {
				return true
			}
		}
		return false
	}
	// The node's first bracket, or the bracket after a call's name.
	if is(st, "(", "[") {
		e = max(e, w.match[st])
	}
	callParen := func() int {
		q := st
		for is(q+1, ".") && q+2 < len(toks) && toks[q+2].isIdent() {
			q += 2 // schema.function(
		}
		if toks[st].isIdent() && is(q+1, "(") {
			return q + 1
		}
		return -1
	}
	switch n.(type) {
	case *ast.ColumnNameExpr:
		for is(e+1, ".") && e+2 < len(toks) && toks[e+2].isIdent() {
			e += 2
		}
	case *driver.ValueExpr:
		// _utf8mb4'x', x'ff', N'x'; then adjacent strings, which MySQL
		// concatenates ('a' 'b').
		if toks[st].kind == tkWord && st+1 < len(toks) && toks[st+1].kind == tkString &&
			(toks[st].end == toks[st+1].start || toks[st].text[0] == '_') {
			e = max(e, st+1)
		}
		if toks[e].kind == tkString {
			for e+1 < len(toks) && toks[e+1].kind == tkString {
				e++
			}
		}
	case *ast.FuncCallExpr:
		if p := callParen(); p >= 0 {
			e = max(e, w.match[p])
		} else if toks[st].kind == tkWord && st+1 < len(toks) && toks[st+1].kind == tkString {
			e = max(e, st+1) // DATE '2020-01-01'
		}
		e = w.closeInner(st, e)
	case *ast.AggregateFuncExpr, *ast.ExistsSubqueryExpr, *ast.RowExpr, *ast.DefaultExpr, *ast.ValuesExpr:
		if p := callParen(); p >= 0 {
			e = max(e, w.match[p])
		}
	case *ast.WindowFuncExpr:
		p := callParen()
		if p < 0 {
			return e, false
		}
		// What follows the arguments, from their closing bracket on: the
		// window's own expressions are inside OVER (...).
		q := w.match[p]
		for {
			switch {
			case is(q+1, "FROM") && is(q+2, "FIRST", "LAST"), is(q+1, "RESPECT", "IGNORE") && is(q+2, "NULLS"):
				q += 2
				continue
			case is(q+1, "OVER") && is(q+2, "("):
				q = w.match[q+2]
			case is(q+1, "OVER") && q+2 < len(toks):
				q += 2
			}
			break
		}
		e = max(e, q)
	case *ast.CaseExpr:
		e = w.closeInner(st, e)
		if is(e+1, "END") {
			e++
		}
	case *ast.IsNullExpr:
		e = w.closeInner(st, e)
		if is(e+1, "IS") {
			q := e + 2
			if is(q, "NOT") {
				q++
			}
			if is(q, "NULL") {
				e = q
			}
		}
	case *ast.IsTruthExpr:
		e = w.closeInner(st, e)
		if is(e+1, "IS") {
			q := e + 2
			if is(q, "NOT") {
				q++
			}
			if is(q, "TRUE", "FALSE", "UNKNOWN") {
				e = q
			}
		}
	case *ast.PatternLikeOrIlikeExpr:
		e = w.closeInner(st, e)
		if is(e+1, "ESCAPE") && e+2 < len(toks) {
			e += 2
		}
	case *ast.SetCollationExpr:
		e = w.closeInner(st, e)
		if is(e+1, "COLLATE") && e+2 < len(toks) {
			e += 2
		}
	case *ast.BinaryOperationExpr, *ast.UnaryOperationExpr, *ast.ParenthesesExpr, *ast.BetweenExpr,
		*ast.PatternInExpr, *ast.PatternRegexpExpr, *ast.SubqueryExpr, *ast.CompareSubqueryExpr:
	default:
		return e, false
	}
	return w.closeInner(st, e), true
}

// closeInner extends the last token e of a node starting at token st over
// the closing brackets whose opening bracket lies inside the node.
func (w *endWalker) closeInner(st, e int) int {
	for e+1 < len(w.toks) && (w.toks[e+1].is(")") || w.toks[e+1].is("]")) && w.match[e+1] >= st {
		e++
	}
	return e
}
