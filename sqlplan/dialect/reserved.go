package dialect

import "strings"

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
//     BINARY, BOTH, LEADING, TRAILING, and the values NULL, TRUE, FALSE,
//     CURRENT_TIMESTAMP...
//  6. A reserved word right after a value and followed by ',' or FROM is an
//     implicit alias: SELECT count(*) order FROM t. Clause words (WHERE,
//     ORDER, DESC, ... see clauseWords) are not: ORDER BY a DESC, b and
//     WHERE from = 1 keep their meaning.
//
// Elsewhere (before '(' or '+', as a table alias without AS, as a view
// name) a reserved word needs double quotes, and a syntax error at one says
// so (see reservedHint).

// notBareName are the reserved words rules 5 and 6 leave alone.
var notBareName = setOf(
	"SELECT", "DISTINCT", "DISTINCTROW", "ALL", "NOT", "EXISTS", "CASE", "WHEN", "THEN", "ELSE",
	"DEFAULT", "BINARY", "BOTH", "LEADING", "TRAILING",
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

// clauseWords are reserved words that follow a value as syntax, which rule
// 6 does not take for aliases even before ',' or FROM (a column named from
// in WHERE from = 1 or ORDER BY a DESC, b).
var clauseWords = setOf(
	"AS", "IS", "ASC", "DESC", "GROUP", "ORDER", "LIMIT", "UNION", "EXCEPT", "INTERSECT", "INNER", "LEFT",
	"RIGHT", "FULL", "CROSS", "NATURAL", "OUTER", "STRAIGHT_JOIN", "WINDOW", "VALUES", "SET", "FOR",
	"LOCK", "FETCH", "COLLATE", "ESCAPE", "OVER", "TO", "DIV", "MOD", "XOR", "REGEXP", "RLIKE",
	"UNSIGNED", "SIGNED", "ZEROFILL", // after a type name: a::INT UNSIGNED
)
