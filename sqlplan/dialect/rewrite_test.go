package dialect

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestRewrite checks the text TiDB gets for each rewrite; Parse succeeding
// shows TiDB accepts it.
func TestRewrite(t *testing.T) {
	tests := []struct{ in, want string }{
		// Casts.
		{"SELECT CAST(a AS BIGINT) FROM t", "SELECT __cast(a , 'BIGINT') FROM t"},
		{"SELECT cast(a as text) FROM t", "SELECT __cast(a , 'TEXT') FROM t"},
		{"SELECT CAST(a + 1 AS INT UNSIGNED) FROM t", "SELECT __cast(a + 1 , 'INT UNSIGNED') FROM t"},
		{"SELECT CAST(a AS DOUBLE PRECISION), CAST(b AS VARCHAR(10)) FROM t", "SELECT __cast(a , 'DOUBLE'), __cast(b , 'VARCHAR(10)') FROM t"},
		{"SELECT CAST(f(a, b) AS TEXT[]) FROM t", "SELECT __cast(f(a, b) , 'TEXT[]') FROM t"},
		{"SELECT CAST(CAST(a AS INT) AS TEXT) FROM t", "SELECT __cast(__cast(a , 'INT') , 'TEXT') FROM t"},
		{"SELECT CAST((SELECT 1) AS BIGINT) FROM t", "SELECT __cast((SELECT 1) , 'BIGINT') FROM t"},
		{"SELECT TRY_CAST(a AS TIMESTAMP) FROM t", "SELECT __try_cast(a , 'TIMESTAMP') FROM t"},
		{"SELECT CAST(a AS STRUCT<x INT, y TEXT>) FROM t", "SELECT __cast(a , 'STRUCT<x INT, y TEXT>') FROM t"},
		{"SELECT a::BIGINT FROM t", "SELECT __cast(a, 'BIGINT') FROM t"},
		{"SELECT a :: bigint FROM t", "SELECT __cast(a , 'BIGINT') FROM t"},
		{"SELECT t.a.b::text FROM t", "SELECT __cast(t.a.b, 'TEXT') FROM t"},
		{"SELECT 'x'::json, 1::double, NULL::text FROM t", "SELECT __cast('x', 'JSON'), __cast(1, 'DOUBLE'), __cast(NULL, 'TEXT') FROM t"},
		{"SELECT (a + b)::integer FROM t", "SELECT __cast((a + b), 'INT') FROM t"},
		{"SELECT f(a)::bytea, t.f(a)::text FROM t", "SELECT __cast(f(a), 'BYTEA'), __cast(t.f(a), 'TEXT') FROM t"},
		{"SELECT a::int::text FROM t", "SELECT __cast(__cast(a, 'INT'), 'TEXT') FROM t"},
		{"SELECT CAST(a AS INT)::text FROM t", "SELECT __cast(__cast(a , 'INT'), 'TEXT') FROM t"},
		{"SELECT a::text[] FROM t", "SELECT __cast(a, 'TEXT[]') FROM t"},
		{"SELECT -a::int FROM t", "SELECT -__cast(a, 'INT') FROM t"},
		{"SELECT a::int + b::int FROM t", "SELECT __cast(a, 'INT') + __cast(b, 'INT') FROM t"},
		{"SELECT \"weird col\"::text FROM t", "SELECT __cast(\"weird col\", 'TEXT') FROM t"},
		{"SELECT CASE WHEN a THEN 1 ELSE 2 END::text FROM t", "SELECT __cast(CASE WHEN a THEN 1 ELSE 2 END, 'TEXT') FROM t"},
		{"SELECT CASE a WHEN 1 THEN CASE WHEN b THEN 2 END::int END::text FROM t",
			"SELECT __cast(CASE a WHEN 1 THEN __cast(CASE WHEN b THEN 2 END, 'INT') END, 'TEXT') FROM t"},
		{"SELECT interval '1' hour::text FROM t", "SELECT __cast(__interval('1 HOUR'), 'TEXT') FROM t"},
		// Subscripts and field access beyond TiDB's three parts.
		{"SELECT a[1], a[i + 1][2], f(x)[1], t.s.a[1] FROM t", "SELECT __index(a, 1), __index(__index(a, i + 1), 2), __index(f(x), 1), __index(t.s.a, 1) FROM t"},
		{"SELECT t.p.geo.lat, a.b.c.d.\"E\" FROM t", "SELECT __field(t.p.geo, 'lat'), __field(__field(a.b.c, 'd'), 'E') FROM t"},
		{"SELECT a[1].x.y, (p).geo, a[1]::text FROM t", "SELECT __field(__field(__index(a, 1), 'x'), 'y'), __field((p), 'geo'), __cast(__index(a, 1), 'TEXT') FROM t"},
		// Intervals.
		{"SELECT INTERVAL '1 hour' FROM t", "SELECT __interval('1 hour') FROM t"},
		{"SELECT INTERVAL '10 seconds' FROM t", "SELECT __interval('10 seconds') FROM t"},
		{"SELECT INTERVAL '1' HOUR FROM t", "SELECT __interval('1 HOUR') FROM t"},
		{"SELECT interval '1' day FROM t", "SELECT __interval('1 DAY') FROM t"},
		{"SELECT INTERVAL 1 HOUR FROM t", "SELECT __interval('1 HOUR') FROM t"},
		{"SELECT INTERVAL 90 SECONDS FROM t", "SELECT __interval('90 SECONDS') FROM t"},
		{"SELECT INTERVAL '1.5' SECOND FROM t", "SELECT __interval('1.5 SECOND') FROM t"},
		{"SELECT INTERVAL -5 MINUTE FROM t", "SELECT __interval('-5 MINUTE') FROM t"},
		{"SELECT ts - INTERVAL '5' SECOND > now() FROM t", "SELECT ts - __interval('5 SECOND') > now() FROM t"},
		{"SELECT tumble(INTERVAL '1' MINUTE) AS w FROM t", "SELECT tumble(__interval('1 MINUTE')) AS w FROM t"},
		{"SELECT hop(INTERVAL '1 minute', INTERVAL '1 hour 30 minutes') FROM t", "SELECT hop(__interval('1 minute'), __interval('1 hour 30 minutes')) FROM t"},
		// Array literals are make_array; a '[' after a value is a subscript.
		{"SELECT ARRAY[1, 2], [a, b + 1], array_has([1], x) FROM t", "SELECT make_array(1, 2), make_array(a, b + 1), array_has(make_array(1), x) FROM t"},
		{"SELECT [[1], [2, 3]][2][1], ARRAY['a'][1]::text FROM t", "SELECT __index(__index(make_array(make_array(1), make_array(2, 3)), 2), 1), __cast(__index(make_array('a'), 1), 'TEXT') FROM t"},
		{"SELECT CAST(a AS TEXT[]), a::BIGINT[] FROM t WHERE x = [1]", "SELECT __cast(a , 'TEXT[]'), __cast(a, 'BIGINT[]') FROM t WHERE x = make_array(1)"},
		// EXTRACT(unit FROM x) is date_part('unit', x), for any unit.
		{"SELECT EXTRACT(year FROM ts), extract(EPOCH from ts) FROM t", "SELECT date_part('year', ts), date_part('epoch', ts) FROM t"},
		{"SELECT extract(dow FROM ts + INTERVAL '1' DAY)::text FROM t", "SELECT __cast(date_part('dow', ts + __interval('1 DAY')), 'TEXT') FROM t"},
		// Quoted identifiers, ||, comments, strings.
		{`SELECT "a b", "x""y" FROM "my table"`, `SELECT "a b", "x""y" FROM "my table"`},
		{"SELECT a || b || 'c' FROM t", "SELECT a || b || 'c' FROM t"},
		{"SELECT a /* one */ -- two\n FROM t", "SELECT a                 \n FROM t"},
		{"SELECT /*+ hint */ /*! 1 */ a FROM t", "SELECT                      a FROM t"},
		{"SELECT 'it''s', '\\d+', 'a::b', 'INTERVAL 1' FROM t", "SELECT 'it''s', '\\d+', 'a::b', 'INTERVAL 1' FROM t"},
		{"SELECT $$it's$$, $x$a$$b$x$ FROM t", "SELECT 'it''s', 'a$$b' FROM t"},
		{`SELECT E'a\nb\'c''d\\', e'\x41\101\u00e9\q', E'' FROM t`, "SELECT 'a\nb''c''d\\', 'AAéq', '' FROM t"},
		// Reserved words used as names.
		{"SELECT key, value FROM t", `SELECT "key", value FROM t`},
		{"SELECT window.start, window.end FROM t", `SELECT "window".start, "window".end FROM t`},
		{"SELECT count(*) AS count FROM t GROUP BY tumble(interval '1' hour), key", `SELECT count(*) AS count FROM t GROUP BY tumble(__interval('1 HOUR')), "key"`},
		{"SELECT a AS window, b AS rank, c AS order FROM t", `SELECT a AS "window", b AS "rank", c AS "order" FROM t`},
		{"SELECT row_number() OVER (PARTITION BY key ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t",
			`SELECT row_number() OVER (PARTITION BY "key" ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t`},
		{"SELECT a FROM t GROUP BY a WINDOW w AS (PARTITION BY a)", "SELECT a FROM t GROUP BY a WINDOW w AS (PARTITION BY a)"},
		{"SELECT session(interval '5' minute), start(x), t.start FROM t", `SELECT "session"(__interval('5 MINUTE')), "start"(x), t.start FROM t`},
		{"INSERT INTO out SELECT * FROM key", `INSERT INTO "out" SELECT * FROM "key"`},
		// Other statements.
		{"CREATE VIEW v AS SELECT a::int FROM t", "CREATE VIEW v AS SELECT __cast(a, 'INT') FROM t"},
		{"INSERT INTO sink SELECT CAST(a AS TEXT) FROM src", "INSERT INTO sink SELECT __cast(a , 'TEXT') FROM src"},
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
		if s[0].Node == nil {
			t.Errorf("Parse(%q): no AST", tt.in)
		}
	}
}

// TestCastAST checks the AST of the rewritten calls as the planner sees it.
func TestCastAST(t *testing.T) {
	s := parseOne(t, "SELECT a::VARCHAR(3)[], INTERVAL '2' DAY FROM t")
	f := s.Node.(*ast.SelectStmt).Fields.Fields
	c := f[0].Expr.(*ast.FuncCallExpr)
	if c.FnName.L != CastFunc || len(c.Args) != 2 {
		t.Fatalf("got %s", restore(c))
	}
	typ := c.Args[1].(ast.ValueExpr).GetValue().(string)
	tn, err := ParseType(typ)
	if err != nil || !tn.Array || tn.Elem.Name != "VARCHAR" || tn.Elem.Args[0] != 3 {
		t.Errorf("type %q parsed to %+v, %v", typ, tn, err)
	}
	iv := f[1].Expr.(*ast.FuncCallExpr)
	if iv.FnName.L != IntervalFunc {
		t.Fatalf("got %s", restore(iv))
	}
	d, err := ParseInterval(iv.Args[0].(ast.ValueExpr).GetValue().(string))
	if err != nil || d.Hours() != 48 {
		t.Errorf("interval = %v, %v", d, err)
	}
}
