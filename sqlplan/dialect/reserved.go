package dialect

import (
	"fmt"
	"sort"
	"strings"
)

// Reserved words as bare names.
//
// Rule 3 of quote.go quotes a fixed list of reserved words wherever an
// expression starts. Two more rules let the other TiDB-reserved words
// (order, group, desc, asc, from, to, table, values, row, left, right,
// interval, ...) name columns where the tokens around them leave no doubt,
// as DataFusion allows:
//
//  5. A reserved word where an expression starts (the tokens of rule 3)
//     and followed by a token that can only follow a value: ',' ')' ';'
//     the end of the statement, a binary operator (= == <> != < > <= >=
//     + - * / % || | & ^ :: [ -> ->> ~ ~* !~ !~*), or one of
//     FROM AS IS AND OR NOT IN LIKE ILIKE BETWEEN THEN ELSE END ASC DESC.
//     So SELECT order, group FROM t, WHERE desc = 'x' AND from > 1,
//     INSERT INTO t (order) and ORDER BY group DESC all work. Words that
//     are syntax in exactly such places never are names: SELECT,
//     DISTINCT, ALL, NOT, EXISTS, CASE, WHEN, THEN, ELSE, DEFAULT,
//     BINARY, BOTH, LEADING, TRAILING, the operator words (AND, OR, IN,
//     IS, LIKE, ...), and the values NULL, TRUE, FALSE,
//     CURRENT_TIMESTAMP...
//  6. A reserved word right after a value and followed by ',' or FROM is an
//     implicit alias: SELECT count(*) order FROM t. Words of rule 5's
//     start tokens (WHERE, AND, ...) and clauseWords (AS, DESC, ...) are
//     not: WHERE from = 1 and ORDER BY a DESC, b keep their meaning.
//
// Elsewhere (before '(' or '+', as a table alias without AS, as a view
// name) a reserved word needs double quotes, and a syntax error at one says
// so (see reservedHint).

// notBareName are the reserved words rules 5 and 6 leave alone.
var notBareName = setOf(
	"SELECT", "DISTINCT", "DISTINCTROW", "ALL", "NOT", "EXISTS", "CASE", "WHEN", "THEN", "ELSE",
	"DEFAULT", "BINARY", "BOTH", "LEADING", "TRAILING",
	// Operators: a AND AND is a mistake, not a column named and.
	"AND", "OR", "XOR", "IN", "IS", "LIKE", "ILIKE", "BETWEEN", "REGEXP", "RLIKE", "ON", "USING", "BY",
)

// valueFollowers are the operators after which rule 5 reads the word
// before them as a value; valueFollowerWords likewise.
var valueFollowers = setOf(
	",", ")", ";", "=", "==", "<>", "!=", "<", ">", "<=", ">=", "<=>", "+", "-", "*", "/", "%",
	"||", "|", "&", "^", "::", "[", "->", "->>", "~", "~*", "!~", "!~*",
)

var valueFollowerWords = setOf(
	"FROM", "AS", "IS", "AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "BETWEEN", "THEN", "ELSE", "END",
	"ASC", "DESC",
)

// endsValue reports whether t can be the last token of a value, for rule
// 6: a literal, a quoted name, a closing bracket or a word TiDB does not
// reserve.
func endsValue(t token) bool {
	switch t.kind {
	case tkNumber, tkString, tkQIdent:
		return true
	case tkOp:
		return t.text == ")" || t.text == "]"
	}
	up := strings.ToUpper(t.text)
	return !isReserved(up) || valueKeywords[up]
}

// bareName applies rules 5 and 6 to the reserved word up at toks[k], which
// is not after "." nor before "(".
func bareName(toks []token, k int, up string) bool {
	if k == 0 || notBareName[up] || valueKeywords[up] {
		return false
	}
	prev := toks[k-1]
	next, atEnd := token{}, k+1 >= len(toks)
	if !atEnd {
		next = toks[k+1]
	}
	follows := atEnd || next.kind == tkOp && valueFollowers[next.text] ||
		next.kind == tkWord && valueFollowerWords[strings.ToUpper(next.text)]
	if exprStart(prev) {
		return follows // rule 5
	}
	return endsValue(prev) && !exprStartWords[up] && !clauseWords[up] && (next.is(",") || next.is("FROM")) // rule 6
}

// clauseWords are reserved words that follow a value as syntax and may be
// followed by ',' or FROM, which rule 6 does not take for aliases: ORDER BY
// a DESC, b; a AS from; CAST(a AS INT UNSIGNED).
var clauseWords = setOf("AS", "IS", "ASC", "DESC", "UNSIGNED", "SIGNED", "ZEROFILL", "COLLATE", "ESCAPE")

// reservedHint is what a syntax error at file offset off adds when a
// reserved word is the likely cause: the word there, else the word before
// it, skipping clause keywords (hintSkip). It says how to use the word as
// a name.
func reservedHint(f *file, off int) string {
	toks, err := tokenize(newFile("", f.text[:min(len(f.text), off+64)]))
	if err != nil {
		return ""
	}
	q := sort.Search(len(toks), func(i int) bool { return toks[i].start >= off })
	var cands []token
	if q < len(toks) && toks[q].start == off {
		cands = append(cands, toks[q])
	}
	if q > 0 {
		cands = append(cands, toks[q-1])
	}
	for _, t := range cands {
		up := strings.ToUpper(t.text)
		if t.kind != tkWord || !isReserved(up) || valueKeywords[up] || hintSkip[up] {
			continue
		}
		return fmt.Sprintf(" (%s is a reserved word: to use it as a name, double-quote it: \"%s\")", up, t.text)
	}
	return ""
}

// hintSkip are reserved words a syntax error often points at though the
// word before them is at fault (SELECT all FROM t), or that come right
// before the culprit (CREATE VIEW order).
var hintSkip = setOf("FROM", "WHERE", "AS", "ON", "AND", "OR", "BY", "LIMIT", "HAVING", "SELECT", "JOIN", "UNION", "VIEW", "TABLE", "INTO",
	"UNSIGNED", "SIGNED", "ZEROFILL")

// callHint is what a syntax error at file offset off adds when it lies in
// the arguments of a call: TiDB parses some functions (substr, trim,
// position, extract, ...) with a grammar of their own, and a wrong number
// of arguments to them is a syntax error.
func callHint(f *file, off int) string {
	toks, err := tokenize(newFile("", f.text[:off]))
	if err != nil {
		return ""
	}
	depth := 0
	for q := len(toks) - 1; q > 0; q-- {
		switch {
		case toks[q].is(")"):
			depth++
		case toks[q].is("(") && depth > 0:
			depth--
		case toks[q].is("("):
			name := toks[q-1]
			if name.kind != tkWord || notCallee[strings.ToUpper(name.text)] || isReserved(name.text) && !tidbParsesCall(strings.ToUpper(name.text)) {
				return ""
			}
			return fmt.Sprintf(" in the arguments of %s(...): check their number and form", strings.ToLower(name.text))
		case toks[q].is(";"):
			return ""
		}
	}
	return ""
}
