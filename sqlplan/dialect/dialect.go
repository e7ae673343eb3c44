// Package dialect reads a .sql file written in Arroyo's SQL dialect and
// returns its statements in a form the planner can use, with every error
// pointing at a line and column of the user's original text.
//
// Our own small tokenizer splits the file into statements at top-level
// semicolons. CREATE TABLE (Arroyo's, not MySQL's: WATERMARK FOR, WITH
// options, TEXT/BYTEA/array types) is parsed here by a recursive-descent
// parser into a [CreateTable]. Every other statement is rewritten into text
// the TiDB parser (github.com/pingcap/tidb/pkg/parser, MySQL grammar) accepts
// and parsed by it into an ast.StmtNode:
//
//   - x::type, CAST(x AS type) and TRY_CAST(x AS type) become
//     __cast(x, 'TYPE') and __try_cast(x, 'TYPE'); the type string is the
//     canonical form of a [TypeName] and [ParseType] reads it back.
//   - INTERVAL '1 hour', INTERVAL '1' HOUR and INTERVAL 1 HOUR become
//     __interval('1 hour'); [ParseInterval] reads the argument.
//   - Identifiers TiDB reserves but streaming SQL uses as column names
//     (key, window, partition, rank, ...) and function names TiDB will not
//     parse as a plain call (session(...), start(...), ...) are
//     double-quoted where the tokens show they are names; see quote.go for
//     the exact rules and what still needs quoting by the user.
//   - "Quoted identifiers" and || go through unchanged: the parser runs with
//     ANSI_QUOTES and PIPES_AS_CONCAT. It also runs with
//     NO_BACKSLASH_ESCAPES, because in Arroyo (as in Postgres) a backslash
//     in a string literal is an ordinary character ('\d+' is a regex).
//   - Comments are blanked to spaces so TiDB never interprets MySQL
//     /*! ... */ or /*+ ... */ comments; $$dollar-quoted$$ and E'escaped\n'
//     strings become '...' strings.
//
// Each rewrite keeps a map from rewritten byte offsets to original offsets,
// so [Statement.PosOf], [Statement.TextOf] and syntax errors report the
// user's text: TiDB's 'line 1 column 15 near "..."' becomes
// FILE:LINE:COL: syntax error near "<original text>". positions.go says how
// node positions are found and how exact they are.
//
//   - EXTRACT(unit FROM x) becomes date_part('unit', x) (extract.go), and
//     the array literals ARRAY[a, b] and [a, b] become make_array(a, b)
//     (arrays.go).
//
//   - Subscripts x[i] become __index(x, i); dotted names of more than
//     three parts (TiDB's limit: db.table.column) keep three parts and wrap
//     the others, like field access after ']' or ')', in __field(x, 'name').
//
//   - a == b becomes a = b; a IS [NOT] DISTINCT FROM b becomes a <=> b;
//     the regex matches ~ ~* !~ !~* become [NOT] REGEXP; x -> k and
//     x ->> k on any primary x become json_get(x, k) and
//     json_as_text(x, k). [Statement.Operator] tells the planner which
//     operator the user wrote (operators.go).
//
// Not bridged (TiDB rejects them; the error points at them): MySQL
// compound interval units (HOUR_MINUTE), and reserved words where
// quote.go and reserved.go cannot tell they are names (the error says to
// double-quote them).
//
// Files: lex.go (tokenizer), parse.go (Parse, Statement, TiDB errors),
// rewrite.go (rewrites and position maps), operators.go (==, IS DISTINCT
// FROM, ~, ->), quote.go and reserved.go (automatic quoting),
// createtable.go, types.go, interval.go, extract.go, arrays.go,
// positions.go (PosOf, TextOf).
//
// This package is a leaf of the module: it must not import any other
// package of github.com/arroyogo/arroyo (engine/dep_test.go enforces this).
package dialect

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Names of the functions the rewrites introduce. The planner recognises
// them in the TiDB AST as FuncCallExpr.FnName.L.
const (
	// CastFunc is __cast(expr, 'TYPE'): expr::TYPE and CAST(expr AS TYPE).
	// The second argument is a string literal holding TypeName.String().
	CastFunc = "__cast"
	// TryCastFunc is __try_cast(expr, 'TYPE'): TRY_CAST(expr AS TYPE),
	// which yields NULL instead of failing.
	TryCastFunc = "__try_cast"
	// IntervalFunc is __interval('text'): INTERVAL literals. The argument is
	// a string literal that ParseInterval accepts.
	IntervalFunc = "__interval"
	// FieldFunc is __field(expr, 'name'): the field access expr.name where
	// TiDB has no syntax for it (a fourth dotted part, or after ']' or
	// ')'). The second argument is a string literal holding the name.
	FieldFunc = "__field"
	// IndexFunc is __index(expr, i): the subscript expr[i].
	IndexFunc = "__index"
	// FilterFunc is agg(...) FILTER (WHERE cond), written
	// __agg_filter(agg(...), cond).
	FilterFunc = "__agg_filter"
	// WithinGroupFunc is agg(p) WITHIN GROUP (ORDER BY x), written
	// __within_group(agg(p), x).
	WithinGroupFunc = "__within_group"
)

// Pos is a position in the original SQL text. Line and Col are 1-based; Col
// counts characters (runes) from the start of the line, a tab counting as
// one.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is an error in a SQL file, at a position of the user's text.
type Error struct {
	File string // may be empty
	Pos  Pos
	Msg  string
}

// Error formats e as FILE:LINE:COL: MSG, without "FILE:" when File is
// empty.
func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// file is the original text of a SQL file with its line index.
type file struct {
	name       string
	text       string
	lineStarts []int // byte offset of the first byte of each line
}

func newFile(name, text string) *file {
	f := &file{name: name, text: text, lineStarts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	return f
}

// bom is the UTF-8 byte-order mark, which some editors put at the start of
// a file. The tokenizer skips it and columns do not count it.
const bom = "\uFEFF"

// pos converts a byte offset of the file to a line and column.
func (f *file) pos(off int) Pos {
	off = max(0, min(off, len(f.text)))
	line := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off }) - 1
	start := f.lineStarts[line]
	if line == 0 && strings.HasPrefix(f.text, bom) {
		start = min(len(bom), off)
	}
	return Pos{Line: line + 1, Col: utf8.RuneCountInString(f.text[start:off]) + 1}
}

func (f *file) errorf(off int, format string, args ...any) *Error {
	return &Error{File: f.name, Pos: f.pos(off), Msg: fmt.Sprintf(format, args...)}
}
