package dialect

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestOperatorRewrite checks the text TiDB gets for the operators of
// operators.go and the names of reserved.go; Parse succeeding shows TiDB
// accepts it.
func TestOperatorRewrite(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT a == b AND c FROM t", "SELECT a = b AND c FROM t"},
		{"SELECT a==b, a != b, a <> b FROM t", "SELECT a=b, a != b, a <> b FROM t"},
		{"SELECT a IS DISTINCT FROM b FROM t", "SELECT a <=> b FROM t"},
		{"SELECT a is not distinct from NULL, NOT a IS DISTINCT FROM b FROM t", "SELECT a <=> NULL, NOT a <=> b FROM t"},
		{"SELECT a ~ 'x', a ~* 'y', b !~ 'z', c !~* 'w' FROM t", "SELECT a REGEXP 'x', a REGEXP 'y', b NOT REGEXP 'z', c NOT REGEXP 'w' FROM t"},
		{"SELECT f(a) ~ 'x', (a || b) ~ c FROM t", "SELECT f(a) REGEXP 'x', (a || b) REGEXP c FROM t"},
		// ~ not after a value is bitwise NOT, for TiDB.
		{"SELECT ~a, 1 + ~a, (~a) FROM t", "SELECT ~a, 1 + ~a, (~a) FROM t"},
		{"SELECT j -> 'a', j ->> 'a' FROM t", "SELECT json_get(j , 'a'), json_as_text(j , 'a') FROM t"},
		{"SELECT j->'a'->'b'->>'c' FROM t", "SELECT json_as_text(json_get(json_get(j,'a'),'b'),'c') FROM t"},
		{"SELECT f(x) -> 1, (j) -> 'k', t.j -> 'k', j[1] -> 'k' FROM t",
			"SELECT json_get(f(x) , 1), json_get((j) , 'k'), json_get(t.j , 'k'), json_get(__index(j, 1) , 'k') FROM t"},
		{"SELECT j -> k.v, j -> f(x), j -> (a || 'b') FROM t", "SELECT json_get(j , k.v), json_get(j , f(x)), json_get(j , (a || 'b')) FROM t"},
		{"SELECT j -> 'a'::INT, x::JSON -> 'a', j -> 'a' || 'b' FROM t",
			"SELECT __cast(json_get(j , 'a'), 'INT'), json_get(__cast(x, 'JSON') , 'a'), json_get(j , 'a') || 'b' FROM t"},
		{"SELECT a + j -> 'k', -j -> 'k' FROM t", "SELECT a + json_get(j , 'k'), -json_get(j , 'k') FROM t"},
		{"SELECT CASE WHEN a THEN j END -> 'k' FROM t WHERE j ->> 'k' == 'v'",
			"SELECT json_get(CASE WHEN a THEN j END , 'k') FROM t WHERE json_as_text(j , 'k') = 'v'"},
		// Reserved words as bare names (reserved.go rules 5 and 6).
		{"SELECT order, group, desc FROM t", `SELECT "order", "group", "desc" FROM t`},
		{"SELECT a FROM t WHERE from = 1 AND to > 2", `SELECT a FROM t WHERE "from" = 1 AND "to" > 2`},
		{"SELECT order + 1, f(group), t.order, (desc) FROM t", `SELECT "order" + 1, f("group"), t.order, ("desc") FROM t`},
		{"SELECT a FROM t ORDER BY group DESC, desc", `SELECT a FROM t ORDER BY "group" DESC, "desc"`},
		{"SELECT count(*) order, max(x) group FROM t GROUP BY order", `SELECT count(*) "order", max(x) "group" FROM t GROUP BY "order"`},
		{"SELECT a key, b rank FROM t x", `SELECT a "key", b "rank" FROM t x`},
		{"INSERT INTO out (order, group) SELECT a, b FROM t", `INSERT INTO "out" ("order", "group") SELECT a, b FROM t`},
		{"SELECT CASE WHEN order THEN desc ELSE asc END FROM t", `SELECT CASE WHEN "order" THEN "desc" ELSE "asc" END FROM t`},
		{"SELECT a FROM t WHERE order IS NULL OR group IN (1, 2) OR desc LIKE 'x%'", `SELECT a FROM t WHERE "order" IS NULL OR "group" IN (1, 2) OR "desc" LIKE 'x%'`},
		// Syntax stays syntax.
		{"SELECT a FROM t WHERE x IS NULL ORDER BY a DESC, b ASC", "SELECT a FROM t WHERE x IS NULL ORDER BY a DESC, b ASC"},
		{"SELECT DISTINCT a, NULL, TRUE FROM t", "SELECT DISTINCT a, NULL, TRUE FROM t"},
		{"SELECT * FROM (SELECT * FROM t) AS s", "SELECT * FROM (SELECT * FROM t) AS s"},
		{"SELECT a AS from1, CAST(a AS INT UNSIGNED), b FROM t", "SELECT a AS from1, __cast(a , 'INT UNSIGNED'), b FROM t"},
		{"SELECT count(*) OVER (PARTITION BY a ORDER BY b DESC) FROM t", "SELECT count(*) OVER (PARTITION BY a ORDER BY b DESC) FROM t"},
	}
	for _, tt := range tests {
		s, err := Parse("", tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := s[0].main.text; got != tt.want {
			t.Errorf("rewrite(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestOperatorErrors checks the errors of the rewrites and that syntax
// errors after a rewritten operator point at the user's text.
func TestOperatorErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT -> 'a' FROM t", "f.sql:1:8: '->' must follow a value, as in j -> 'key'"},
		{"SELECT a ->> FROM t", "f.sql:1:10: expected a key after '->>' (a 'string', a number or a name), found 'FROM'"},
		{"SELECT a ->", "f.sql:1:10: expected a key after '->' (a 'string', a number or a name), found the end of the statement"},
		{"SELECT ~* 'a' FROM t", "f.sql:1:8: '~*' must follow a value, as in s ~* 'pattern'"},
		{"SELECT a FROM t WHERE (!~ 'a')", "f.sql:1:24: '!~' must follow a value"},
		// Errors after rewritten text: the columns are the user's.
		{"SELECT j -> 'a' -> 'b', x ~ 'y', a == b c d FROM t", `f.sql:1:43: syntax error near "d FROM t"`},
		{"SELECT a IS DISTINCT FROM b +, c FROM t", `f.sql:1:30: syntax error near ", c FROM t"`},
		{"SELECT j->'k'\n  FROM t WHERE a ~* 'x' AND AND", `f.sql:2:29: syntax error near "AND"`},
		// Reserved words that still need quotes say so.
		{"SELECT all FROM t", `f.sql:1:12: syntax error near "FROM t" (ALL is a reserved word: to use it as a name, double-quote it: "all")`},
		{"CREATE VIEW order AS SELECT a FROM t", `f.sql:1:13: syntax error near "order AS SELECT a FROM t" (ORDER is a reserved word: to use it as a name, double-quote it: "order")`},
		{"SELECT a FROM t WHERE default > 1", `(DEFAULT is a reserved word: to use it as a name, double-quote it: "default")`},
		// Functions TiDB parses with their own grammar.
		{"SELECT substr(s) FROM t", `f.sql:1:16: syntax error near ") FROM t" in the arguments of substr(...): check their number and form`},
		{"SELECT f(trim(a, b, c)) FROM t", `f.sql:1:16: syntax error near ", b, c)) FROM t" in the arguments of trim(...)`},
	}
	for _, tt := range tests {
		_, err := Parse("f.sql", tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
	// No hint where the bracket is not a call's.
	if _, err := Parse("f.sql", "SELECT a FROM t WHERE a IN (1,)"); err == nil || err.Error() != `f.sql:1:31: syntax error near ")"` {
		t.Errorf("IN list: %v", err)
	}
}

// TestOperator checks Statement.Operator: the operator as written and its
// position, for rewritten and plain operators.
func TestOperator(t *testing.T) {
	const sql = "SELECT a == b, a IS DISTINCT FROM b,\n" + // line 1
		"  a is not distinct from b, a ~* 'x', a !~ 'y', a <> b, a != b,\n" + // line 2
		"  j -> 'k' -> 'l' + 1, a NOT REGEXP 'z', a <=> b FROM t" // line 3
	s := parseOne(t, sql)
	want := []struct{ op, pos string }{
		{"==", "1:10"}, {"IS DISTINCT FROM", "1:18"},
		{"IS NOT DISTINCT FROM", "2:5"}, {"~*", "2:31"}, {"!~", "2:41"}, {"<>", "2:51"}, {"!=", "2:59"},
		{"+", "3:19"}, {"NOT REGEXP", "3:26"}, {"<=>", "3:44"},
	}
	var got []ast.ExprNode
	for _, f := range s.Node.(*ast.SelectStmt).Fields.Fields {
		got = append(got, f.Expr)
	}
	if len(got) != len(want) {
		t.Fatalf("%d fields, want %d", len(got), len(want))
	}
	for i, e := range got {
		op, pos, ok := s.Operator(e)
		if !ok || op != want[i].op || pos.String() != want[i].pos {
			t.Errorf("field %d (%s): Operator = %q at %v (%v), want %q at %s", i+1, s.TextOf(e), op, pos, ok, want[i].op, want[i].pos)
		}
	}
	if _, _, ok := s.Operator(got[7].(*ast.BinaryOperationExpr).L); ok {
		t.Errorf("Operator of a call: ok")
	}
}

// TestOperatorPositions checks PosOf and TextOf on the nodes the rewrites
// make and on nodes after them.
func TestOperatorPositions(t *testing.T) {
	const sql = "SELECT j -> 'a' ->> 'b' AS x, s ~ 'p' AS y,\n" +
		"  f(j) -> 1 || q AS z, a IS NOT DISTINCT FROM b + 1 AS w FROM t WHERE k == 2"
	s := parseOne(t, sql)
	tests := []struct{ typ, text, pos string }{
		{"FuncCallExpr", "j -> 'a' ->> 'b'", "1:8"},
		{"FuncCallExpr", "j -> 'a'", "1:8"},
		{"ValueExpr", "'b'", "1:21"},
		{"PatternRegexpExpr", "s ~ 'p'", "1:31"},
		{"ValueExpr", "'p'", "1:35"},
		{"FuncCallExpr", "f(j) -> 1", "2:3"},
		{"ColumnNameExpr", "q", "2:16"},
		{"BinaryOperationExpr", "a IS NOT DISTINCT FROM b + 1", "2:24"},
		{"BinaryOperationExpr", "b + 1", "2:47"},
		{"BinaryOperationExpr", "k == 2", "2:71"},
		{"ValueExpr", "2", "2:76"},
	}
	for _, tt := range tests {
		n := find(t, s, tt.typ, tt.text)
		if got := s.PosOf(n).String(); got != tt.pos {
			t.Errorf("%s %q at %s, want %s", tt.typ, tt.text, got, tt.pos)
		}
	}
}
