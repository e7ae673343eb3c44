package sqlplan_test

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

const funcsDDL = "CREATE TABLE t (id BIGINT, s TEXT) WITH (connector = 'single_file', path = '/tmp/in.json', format = 'json', type = 'source');\n"

// projected plans SELECT sel AS x FROM t and returns x's expression.
func projected(t *testing.T, sel string) *program.Expr {
	t.Helper()
	prog, err := sqlplan.Plan("f.sql", funcsDDL+"SELECT "+sel+" AS x FROM t;", sqlplan.Options{DefaultSink: "stdout"})
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	for _, n := range prog.Nodes {
		if n.Calc != nil {
			return n.Calc.Project[0]
		}
	}
	t.Fatalf("%s: no calc", sel)
	return nil
}

// TestSpecialFunctionSyntax checks what the SQL forms TiDB parses
// specially plan into.
func TestSpecialFunctionSyntax(t *testing.T) {
	for _, c := range []struct{ sel, want string }{
		{"TRIM(BOTH 'x' FROM s)", `btrim(#0, "x":TEXT)`},
		{"TRIM(LEADING 'x' FROM s)", `ltrim(#0, "x":TEXT)`},
		{"TRIM(TRAILING FROM s)", `rtrim(#0, " ":TEXT)`},
		{"TRIM('x' FROM s)", `trim(#0, "x":TEXT)`},
		{"POSITION('b' IN s)", `position("b":TEXT, #0)`},
		{"SUBSTRING(s FROM 2 FOR 3)", "substring(#0, 2:BIGINT, 3:BIGINT)"},
		{"nvl(s, 'a')", `coalesce(#0, "a":TEXT)`},
		{"nvl2(s, 1, 2)", "case(is_not_null(#0), 1:BIGINT, 2:BIGINT)"},
	} {
		if got := projected(t, c.sel).String(); got != c.want {
			t.Errorf("%s: planned %s, want %s", c.sel, got, c.want)
		}
	}
}

func TestFunctionPlanningErrors(t *testing.T) {
	for _, c := range []struct{ sel, want string }{
		{"nvl(s)", "f.sql:2:8: nvl takes 2 arguments: nvl(x, value when x is NULL)"},
		{"ifnull(s, 'a', 'b')", "f.sql:2:8: ifnull takes 2 arguments: ifnull(x, value when x is NULL)"},
		{"nvl2(s, 1)", "f.sql:2:8: nvl2 takes 3 arguments: nvl2(x, value when x is not NULL, value when it is)"},
		{"nvl2(s, 1, 'a')", "f.sql:2:8: nvl2: cannot combine BIGINT and TEXT"},
		// A constant argument the function rejects is reported where it is.
		{"regexp_replace(s, '[a-', 'b')", "f.sql:2:26: invalid regular expression '[a-': missing closing ]: `[a-` in 'regexp_replace(s, '[a-', 'b')'"},
		{"regexp_like(s,\n   'a', 'gi')", "f.sql:3:9: regexp_like does not support the \"global\" option (flag 'g') in 'regexp_like(s,\n   'a', 'gi')'"},
		{"digest(s, 'crc32')", "f.sql:2:18: unsupported digest algorithm 'crc32' (supported: md5, sha224, sha256, sha384, sha512) in 'digest(s, 'crc32')'"},
		{"chr(0)", "f.sql:2:8: null character not permitted in 'chr(0)', computing chr(0)"},
		{"greatest(s, 1)", "f.sql:2:8: function greatest: arguments (TEXT, BIGINT) have no common type: cannot combine TEXT and BIGINT"},
	} {
		_, err := sqlplan.Plan("f.sql", funcsDDL+"SELECT "+c.sel+" AS x FROM t;", sqlplan.Options{DefaultSink: "stdout"})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.sel, err, c.want)
		}
	}
}
