package dialect

import (
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
)

// Automatic quoting of identifiers.
//
// TiDB follows MySQL and reserves many words that streaming SQL uses as
// names (key, window, partition, rank, range, rows, ...), and it parses many
// unreserved keywords (session, start, end, value, type, first, last, text,
// json, hash, cardinality, ...) specially, so that session(x) or start(x) is
// a syntax error. Arroyo accepts all of these. The rewrite double-quotes a
// word where the surrounding tokens show it is a name:
//
//  1. After AS, any TiDB-reserved word except SELECT, WITH, VALUES and TABLE
//     (the alias in "tumble(...) AS window", "x AS key").
//  2. Before ".", any TiDB-reserved word ("window.start", "key.id").
//  3. The words of reservedNames (key, keys, index, window, partition, range,
//     rows, groups, rank, row_number, ... see below) where an expression or
//     table name starts: after "(", ",", an operator, SELECT, DISTINCT,
//     WHERE, HAVING, ON, AND, OR, NOT, WHEN, THEN, ELSE, CASE, BY, LIKE,
//     BETWEEN, IN, FROM, JOIN, INTO, USING. The SQL meanings of these words
//     are left alone: PARTITION BY, ROWS/RANGE/GROUPS BETWEEN|UNBOUNDED|
//     CURRENT|<number>, WINDOW w AS, and any of them followed by "(".
//  4. An unreserved TiDB keyword (or RANGE) followed by "(" where an
//     expression starts (same tokens as in 3), when TiDB
//     parses no call of it ("session(...)", "start(...)", "hash(...)"); it
//     becomes "session"(...), a plain FuncCallExpr. The check is done once
//     per word by asking the parser, so built-ins TiDB does parse (count,
//     trim, substring, position, extract, if, left, ...) keep their syntax.
//     ANY and SOME are never quoted.
//
// Rules 5 and 6 (reserved.go) cover the other reserved words as bare
// column names (SELECT order, group FROM t) and reserved words as implicit
// aliases (SELECT a window FROM t). Still needing quotes from the user:
//   - reserved words before "(" or after AS where rules 1 and 4 do not
//     apply (SELECT "order"(x), SELECT a AS "table");
//   - reserved words naming a view or CTE (CREATE VIEW key AS, WITH key
//     AS), or a table alias without AS (FROM t order); table names after
//     FROM, JOIN and INTO are covered when they are in reservedNames;
//   - the words reserved.go never takes for names (all, default, when,
//     and, ...), and unreserved TiDB keywords TiDB still rejects as names
//     (schema).
// A syntax error at such a word says to double-quote it.
//
// Words after "." are left alone: TiDB accepts any word there (t.key,
// window.end). Quoting does not change an identifier's spelling: "key"
// names the same column as key did.

// reservedNames are the TiDB-reserved words rule 3 quotes in expression
// position: plausible column names with no meaning inside a query
// expression other than the ones rule 3 excludes.
var reservedNames = setOf(
	"KEY", "KEYS", "INDEX", "WINDOW", "PARTITION", "RANGE", "ROWS", "GROUPS",
	"RANK", "ROW_NUMBER", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE",
	"LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE",
	"COLUMN", "DATABASE", "CURSOR", "LINES", "LOAD", "LOCK", "LONG", "MATCH",
	"OPTION", "OUT", "PRIMARY", "READ", "WRITE", "RELEASE", "REFERENCES",
	"REQUIRE", "SQL", "SSL", "STORED", "VIRTUAL", "GENERATED", "TRIGGER",
	"USAGE", "CALL", "CHANGE", "CONTINUE", "EXIT", "UNTIL", "PROCEDURE",
	"RESTRICT", "CASCADE", "CHECK", "LINEAR", "SPATIAL", "MAXVALUE",
)

// exprStartWords and exprStartOps are the tokens after which an expression
// (or, for FROM, JOIN and INTO, a table name) starts.
var exprStartWords = setOf(
	"SELECT", "DISTINCT", "WHERE", "HAVING", "ON", "AND", "OR", "NOT", "XOR",
	"WHEN", "THEN", "ELSE", "CASE", "BY", "LIKE", "ILIKE", "BETWEEN", "IN",
	"FROM", "JOIN", "INTO", "USING", "DIV", "MOD", "REGEXP", "RLIKE",
)

var exprStartOps = setOf(
	"(", ",", "=", "==", "<>", "!=", "<", ">", "<=", ">=", "<=>", "+", "-", "*",
	"/", "%", "||", "&&", "|", "&", "^", "~", "!", "->", "->>", "~*", "!~", "!~*",
)

// afterAsSyntax are the reserved words that follow AS as syntax.
var afterAsSyntax = setOf("SELECT", "WITH", "VALUES", "TABLE")

// neverQuoteCalls are unreserved keywords that precede "(" as syntax.
var neverQuoteCalls = setOf("ANY", "SOME")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// tidbKeywords maps each TiDB keyword (upper case) to whether it is
// reserved.
var tidbKeywords = func() map[string]bool {
	m := make(map[string]bool, len(parser.Keywords))
	for _, k := range parser.Keywords {
		m[k.Word] = k.Reserved
	}
	return m
}()

func isReserved(w string) bool { return tidbKeywords[strings.ToUpper(w)] }

// exprStart reports whether an expression can start after t.
func exprStart(t token) bool {
	switch t.kind {
	case tkWord:
		return exprStartWords[strings.ToUpper(t.text)]
	case tkOp:
		return exprStartOps[t.text]
	}
	return false
}

// quoteWord decides whether the word at toks[k] is a name TiDB would not
// accept unquoted (rules 1 to 4 above).
func quoteWord(toks []token, k int) bool {
	t := toks[k]
	if t.kind != tkWord {
		return false
	}
	up := strings.ToUpper(t.text)
	reserved, keyword := tidbKeywords[up]
	if !keyword {
		return false
	}
	var prev, next, next2 token
	hasPrev := k > 0
	if hasPrev {
		prev = toks[k-1]
	}
	if k+1 < len(toks) {
		next = toks[k+1]
	}
	if k+2 < len(toks) {
		next2 = toks[k+2]
	}
	if hasPrev && prev.is(".") {
		return false // TiDB takes any word after "."
	}
	if next.is("(") {
		if reserved && hasPrev && prev.is("INTO") {
			return true // INSERT INTO out (a, b)
		}
		// Rule 4.
		if !hasPrev || !exprStart(prev) || neverQuoteCalls[up] || (reserved && up != "RANGE") {
			return false
		}
		return !tidbParsesCall(up)
	}
	if !reserved {
		return false
	}
	if hasPrev && prev.is("AS") {
		return !afterAsSyntax[up] // rule 1
	}
	if next.is(".") {
		return true // rule 2
	}
	if bareName(toks, k, up) {
		return true // rules 5 and 6 (reserved.go)
	}
	if !reservedNames[up] || !hasPrev || !exprStart(prev) {
		return false
	}
	switch up { // rule 3's exceptions
	case "PARTITION":
		return !next.is("BY")
	case "ROWS", "RANGE", "GROUPS":
		return !(next.is("BETWEEN") || next.is("UNBOUNDED") || next.is("CURRENT") || next.kind == tkNumber)
	case "WINDOW":
		return !(next.isIdent() && next2.is("AS"))
	}
	return true
}

// callCheck caches, per keyword, whether TiDB parses word(...) as a call.
var callCheck struct {
	sync.Mutex
	p     *parser.Parser
	known map[string]bool
}

// tidbParsesCall reports whether TiDB parses calls of the keyword w (upper
// case) unquoted, with 0 to 3 arguments or as a window function; a word it
// does not parse quoted either is reported as parsed (quoting would not
// help).
func tidbParsesCall(w string) bool {
	callCheck.Lock()
	defer callCheck.Unlock()
	if ok, found := callCheck.known[w]; found {
		return ok
	}
	if callCheck.p == nil {
		callCheck.p = newTiDBParser()
		callCheck.known = map[string]bool{}
	}
	parses := func(sql string) bool {
		_, err := parseSQL(callCheck.p, sql)
		return err == nil
	}
	ok := !parses(`SELECT "` + w + `"(a) FROM t`)
	for _, args := range []string{"()", "(a)", "(a, b)", "(a, b, c)", "() OVER ()", "(a) OVER ()"} {
		if ok {
			break
		}
		ok = parses("SELECT " + w + args + " FROM t")
	}
	callCheck.known[w] = ok
	return ok
}
