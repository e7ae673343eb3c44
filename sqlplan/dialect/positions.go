package dialect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// Positions of AST nodes.
//
// TiDB records the byte offset where each expression starts (ExprNode's
// OriginTextPosition) and where each select field starts
// (SelectField.Offset), in the rewritten text. Offsets are mapped back
// through the unit's segments: copied text maps byte for byte, synthetic
// text to the start of what it replaced, so __cast(...) points at the
// original '::', CAST or TRY_CAST and __interval(...) at INTERVAL.
//
// TiDB records nothing for table names and for column names outside
// expressions (INSERT column lists, USING). The index finds those by
// walking the AST in its visiting order and searching the rewritten tokens
// for the name, in a table position (after FROM, JOIN, INTO, ',' ...) from
// where the previous match left off. That is exact unless the same name
// appears in several table positions visited out of source order.
//
// Expression ends are not recorded either. One walk over the tree, when the
// index is built, computes every expression's last token from its
// sub-expressions' and the syntax that closes it (ends.go), so TextOf costs
// no parse and planning stays linear in the size of an expression.

// index holds positions TiDB does not record, as offsets in the rewritten
// text of the node's unit.
type index struct {
	toks map[*unit][]token
	pos  map[ast.Node]int
	end  map[ast.Node]int  // rewritten end offset (exclusive)
	done map[ast.Node]bool // trialEnd was tried
}

// index returns the statement's index, building it on first use; the
// caller holds s.mu.
func (s *Statement) index() *index {
	if s.idx == nil {
		idx := &index{toks: map[*unit][]token{}, pos: map[ast.Node]int{}, end: map[ast.Node]int{}, done: map[ast.Node]bool{}}
		s.idx = idx
		if s.Node != nil && s.main != nil {
			s.Node.Accept(newIndexer(idx, s.main))
			s.walkEnds(s.main, s.Node)
		}
		if ct := s.CreateTable; ct != nil {
			var roots []ast.ExprNode
			for _, c := range ct.Columns {
				if c.Generated != nil {
					roots = append(roots, c.Generated)
				}
			}
			if ct.Watermark != nil && ct.Watermark.Expr != nil {
				roots = append(roots, ct.Watermark.Expr)
			}
			for _, r := range roots {
				if u := s.sub[r]; u != nil {
					r.Accept(newIndexer(idx, u))
					s.walkEnds(u, r)
				}
			}
		}
	}
	return s.idx
}

// tokensOf returns the tokens of a rewritten text.
func (idx *index) tokensOf(u *unit) []token {
	if t, ok := idx.toks[u]; ok {
		return t
	}
	t, err := tokenize(newFile("", u.text))
	if err != nil {
		t = nil
	}
	idx.toks[u] = t
	return t
}

// indexer visits a tree and records positions of table and column names.
type indexer struct {
	idx    *index
	u      *unit
	toks   []token
	cursor int // token index where the next search starts
}

func newIndexer(idx *index, u *unit) *indexer {
	return &indexer{idx: idx, u: u, toks: idx.tokensOf(u)}
}

var tablePositions = setOf("FROM", "JOIN", "INTO", "TABLE", "VIEW", "UPDATE", ",")

func (x *indexer) Enter(n ast.Node) (ast.Node, bool) {
	switch n := n.(type) {
	case *ast.InsertStmt:
		// InsertStmt visits its SELECT before its table.
		if n.Table != nil {
			n.Table.Accept(x)
		}
	case *ast.ColumnNameExpr:
		if n.Name != nil {
			x.nameAt(n.Name, n.OriginTextPosition())
		}
		x.advance(n.OriginTextPosition())
	case *ast.TableName:
		if _, done := x.idx.pos[n]; !done {
			x.find(n, n.Schema.O, n.Name.O, true)
		}
	case *ast.ColumnName:
		if _, done := x.idx.pos[n]; !done {
			x.find(n, "", n.Name.O, false)
		}
	case *ast.SelectField:
		x.advance(n.Offset - 1)
	case ast.ExprNode:
		x.advance(n.OriginTextPosition())
	}
	return n, false
}

func (x *indexer) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// nameAt records the span of the dotted name that starts at off.
func (x *indexer) nameAt(n ast.Node, off int) {
	x.idx.pos[n] = off
	toks := x.toks
	q, ok := tokenAt(toks, off)
	if !ok || !toks[q].isIdent() {
		return
	}
	for q+2 < len(toks) && toks[q+1].is(".") && toks[q+2].isIdent() {
		q += 2
	}
	x.idx.end[n] = toks[q].end
}

// tokenAt returns the index of the token that starts at off.
func tokenAt(toks []token, off int) (int, bool) {
	q := sort.Search(len(toks), func(i int) bool { return toks[i].start >= off })
	return q, q < len(toks) && toks[q].start == off
}

// advance moves the cursor past the token that starts at off.
func (x *indexer) advance(off int) {
	for x.cursor < len(x.toks) && x.toks[x.cursor].start <= off {
		x.cursor++
	}
}

func identIs(t token, name string) bool {
	return t.isIdent() && strings.EqualFold(t.identName(), name)
}

// find searches the tokens for [schema.]name and records its span.
func (x *indexer) find(n ast.Node, schema, name string, table bool) {
	toks := x.toks
	try := func(from int, strict bool) bool {
		for q := from; q < len(toks); q++ {
			if !identIs(toks[q], name) {
				continue
			}
			if q+1 < len(toks) && (toks[q+1].is(".") || !table && toks[q+1].is("(")) {
				continue
			}
			first := q
			if schema != "" {
				if q < 2 || !toks[q-1].is(".") || !identIs(toks[q-2], schema) {
					continue
				}
				first = q - 2
			} else if q > 0 && toks[q-1].is(".") {
				continue
			}
			if strict {
				if first == 0 {
					continue
				}
				p := toks[first-1]
				ok := table && tablePositions[strings.ToUpper(p.text)] && p.kind != tkQIdent && p.kind != tkString ||
					!table && (p.is("(") || p.is(","))
				if !ok {
					continue
				}
			}
			x.idx.pos[n] = toks[first].start
			x.idx.end[n] = toks[q].end
			x.cursor = q + 1
			return true
		}
		return false
	}
	_ = try(x.cursor, true) || try(0, true) || try(x.cursor, false) || try(0, false)
}

// unitOf returns the text n was parsed from.
func (s *Statement) unitOf(n ast.Node) *unit {
	if u := s.sub[n]; u != nil {
		return u
	}
	return s.main
}

// offset returns the rewritten offset where n starts, if known.
func (s *Statement) offset(n ast.Node) (int, bool) {
	switch n := n.(type) {
	case *ast.SelectField:
		return n.Offset, true
	case *ast.ColumnName, *ast.TableName:
		off, ok := s.index().pos[n]
		return off, ok
	case *ast.TableSource:
		if n.Source != nil {
			return s.offset(n.Source)
		}
	case *ast.ByItem:
		if n.Expr != nil {
			return s.offset(n.Expr)
		}
	case ast.ExprNode:
		return n.OriginTextPosition(), true
	case ast.StmtNode:
		if n == s.Node {
			return 0, true
		}
	}
	// Anything else starts where its first located descendant does.
	best, found := 0, false
	n.Accept(&collector{fn: func(c ast.Node) {
		if c == n {
			return
		}
		switch c.(type) {
		case *ast.SelectField, *ast.ColumnName, *ast.TableName, ast.ExprNode:
			if off, ok := s.offset(c); ok && (!found || off < best) {
				best, found = off, true
			}
		}
	}})
	return best, found
}

// PosOf returns the original position where node n of this statement
// starts: exact for expressions (column references, literals, function
// calls including the rewritten casts and intervals, operators), select
// fields, table names, TableSource and ByItem; other nodes take the
// position of their first located descendant; a node that cannot be
// located gives the statement's start.
func (s *Statement) PosOf(n ast.Node) Pos {
	if n == nil {
		return s.Pos()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitOf(n)
	off, ok := s.offset(n)
	if !ok || u == nil {
		return s.Pos()
	}
	// A rewritten cast is located at its '::' (or CAST); anything else that
	// starts at the same place, like the a::INT + 1 around it, starts
	// where its text does.
	// Likewise a field access is located at its field's name and a
	// subscript at its '['.
	if fn, ok := n.(*ast.FuncCallExpr); ok && (fn.FnName.L == CastFunc || fn.FnName.L == TryCastFunc ||
		fn.FnName.L == FieldFunc || fn.FnName.L == IndexFunc) {
		return s.f.pos(u.orig(off))
	}
	return s.f.pos(u.origText(off))
}

// AliasPos returns the position of the alias of a select field (the name
// after AS), or the field's position when it has none.
func (s *Statement) AliasPos(f *ast.SelectField) Pos {
	if f.AsName.L == "" || f.OriginalText() == "" {
		return s.PosOf(f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitOf(f)
	toks := s.index().tokensOf(u)
	end := f.Offset + len(f.OriginalText())
	q := sort.Search(len(toks), func(i int) bool { return toks[i].end >= end })
	if q >= len(toks) || toks[q].end != end || !identIs(toks[q], f.AsName.O) && toks[q].kind != tkString {
		return s.f.pos(u.origText(f.Offset))
	}
	return s.f.pos(u.orig(toks[q].start))
}

// Errorf returns an error at the position of n (the statement's start if n
// is nil).
func (s *Statement) Errorf(n ast.Node, format string, args ...any) *Error {
	return &Error{File: s.f.name, Pos: s.PosOf(n), Msg: fmt.Sprintf(format, args...)}
}

// TextOf returns the original source text of n (an expression, select
// field, table or column name) as the user wrote it, comments included, or
// TiDB's restored SQL for n when its span cannot be found.
func (s *Statement) TextOf(n ast.Node) string {
	if n == nil {
		return ""
	}
	if n == s.Node {
		return s.Text
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unitOf(n)
	if u != nil {
		if start, end, ok := s.span(u, n); ok {
			a, b := u.origText(start), u.origEnd(end)
			if a < b && b <= len(s.f.text) {
				return strings.TrimSpace(s.f.text[a:b])
			}
		}
	}
	return restore(n)
}

// span returns the rewritten span of n.
func (s *Statement) span(u *unit, n ast.Node) (int, int, bool) {
	switch n := n.(type) {
	case *ast.SelectField:
		if t := n.OriginalText(); t != "" {
			return n.Offset, n.Offset + len(t), true
		}
	case *ast.ColumnName, *ast.TableName:
		idx := s.index()
		start, ok1 := idx.pos[n]
		end, ok2 := idx.end[n]
		return start, end, ok1 && ok2
	case *ast.TableSource:
		tn, ok := n.Source.(*ast.TableName)
		if !ok {
			break
		}
		start, end, ok := s.span(u, tn)
		if !ok || n.AsName.L == "" {
			return start, end, ok
		}
		// Extend over [AS] alias.
		toks := s.index().tokensOf(u)
		for q, t := range toks {
			if t.start < end {
				continue
			}
			if t.is("AS") && q+1 < len(toks) {
				t = toks[q+1]
			}
			if identIs(t, n.AsName.O) {
				return start, t.end, true
			}
			break
		}
	case ast.ExprNode:
		start := n.OriginTextPosition()
		if end, ok := s.exprEnd(u, n, start); ok {
			return start, end, true
		}
	}
	return 0, 0, false
}

// maxCandidates bounds the parses trialEnd tries.
const maxCandidates = 64

// exprEnd returns where the expression n starting at start ends. Ends are
// computed for the whole tree in one walk when the index is built (see
// ends.go); a node kind that walk does not know falls back on trialEnd.
func (s *Statement) exprEnd(u *unit, n ast.ExprNode, start int) (int, bool) {
	idx := s.index()
	if end, ok := idx.end[n]; ok {
		return end, true
	}
	if idx.done[n] {
		return 0, false
	}
	end, ok := s.trialEnd(u, n, start)
	if ok {
		idx.end[n] = end
	}
	idx.done[n] = true
	return end, ok
}

// trialEnd finds where the expression n starting at start ends by trying
// the token boundaries after its last sub-expression until "SELECT
// <candidate>" parses to the same expression. Each try parses the
// candidate, so this is only for the rare node kinds the end walk does not
// know.
func (s *Statement) trialEnd(u *unit, n ast.ExprNode, start int) (int, bool) {
	want := restore(n)
	if want == "" {
		return 0, false
	}
	last := start
	n.Accept(&collector{fn: func(c ast.Node) {
		if e, ok := c.(ast.ExprNode); ok {
			last = max(last, e.OriginTextPosition())
		}
	}})
	toks := s.idx.tokensOf(u)
	if s.tidb == nil {
		s.tidb = newTiDBParser()
	}
	tries, depth := 0, 0
	for _, t := range toks {
		if t.start < start {
			continue
		}
		// An expression has balanced brackets and no top-level comma.
		if t.is("(") || t.is("[") {
			depth++
		} else if t.is(")") || t.is("]") {
			depth--
		}
		if depth < 0 || depth == 0 && (t.is(",") || t.is(";")) {
			break
		}
		if t.end <= last || depth > 0 {
			continue
		}
		if tries++; tries > maxCandidates {
			break
		}
		nodes, err := parseSQL(s.tidb, "SELECT "+u.text[start:t.end])
		if err != nil || len(nodes) != 1 {
			continue
		}
		sel, ok := nodes[0].(*ast.SelectStmt)
		if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].Expr == nil {
			continue
		}
		if restore(sel.Fields.Fields[0].Expr) == want {
			return t.end, true
		}
	}
	return 0, false
}

// restore is TiDB's SQL text for n.
func restore(n ast.Node) string {
	var b strings.Builder
	ctx := format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreKeyWordUppercase|format.RestoreNameDoubleQuotes, &b)
	if err := n.Restore(ctx); err != nil {
		return ""
	}
	return b.String()
}
