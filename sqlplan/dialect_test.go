package sqlplan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
)

// stubFuncs is a scope with stand-ins for the functions the dialect's
// operators are planned as when the built-ins lack them (other packages
// implement them): json_get and json_as_text take (JSON or TEXT, key) and
// the regex operators (TEXT, TEXT) -> BOOLEAN. Only planning is tested
// here, so the kernels are never run.
func stubFuncs(t *testing.T) *expr.Registry {
	t.Helper()
	reg := expr.Builtins().Scope()
	stub := func(name string, result types.Type) {
		if _, ok := reg.Lookup(name); ok {
			return
		}
		err := reg.Add(&expr.Func{Name: name, Resolve: func(args []types.Type) (*expr.Resolved, error) {
			return &expr.Resolved{Args: args, Result: result, Kernel: func(*coldata.Allocator, []coldata.Vector, int, []int32) (coldata.Vector, error) {
				panic("stub")
			}}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	stub("json_get", types.JSONT)
	stub("json_as_text", types.StringT)
	for _, op := range []string{"~", "~*", "!~", "!~*"} {
		stub(op, types.BoolT)
	}
	return reg
}

const dialectDDL = "CREATE TABLE t (id BIGINT, s TEXT, j JSON, n INT, ts TIMESTAMP) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n"

// planCalc plans sql over t and returns the calc's filters and
// projections, printed. Columns are numbered after pruning: the columns of
// t the query uses, in t's order.
func planCalc(t *testing.T, reg *expr.Registry, sql string) (filters, project []string) {
	t.Helper()
	prog, err := sqlplan.Plan("d.sql", dialectDDL+sql, sqlplan.Options{DefaultSink: "stdout", Functions: reg})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	for _, n := range prog.Nodes {
		if n.Calc != nil {
			return exprStrings(n.Calc.Filters), exprStrings(n.Calc.Project)
		}
	}
	t.Fatalf("%s: no calc", sql)
	return nil, nil
}

func exprStrings(es []*program.Expr) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.String()
	}
	return out
}

// TestDialectOperators checks the planned tree of each operator the dialect
// bridges, and that precedence holds.
func TestDialectOperators(t *testing.T) {
	reg := stubFuncs(t)
	cases := []struct{ sel, want string }{
		{"id == 1", "=(#0, 1:BIGINT)"},
		{"id == 1 AND s = 'a'", "and(=(#0, 1:BIGINT), =(#1, \"a\":TEXT))"},
		{"s = 'a' OR id == 2 AND n != 3", "or(=(#1, \"a\":TEXT), and(=(#0, 2:BIGINT), <>(#2, 3:INT)))"},
		{"id <> 1", "<>(#0, 1:BIGINT)"},
		{"NOT id == 1", "not(=(#0, 1:BIGINT))"},
		{"id + 1 == 2 * n", "=(+(#0, 1:BIGINT), cast(*(2:INT, #1) AS BIGINT))"},
		{"id IS DISTINCT FROM 1", "is_distinct_from(#0, 1:BIGINT)"},
		{"id IS NOT DISTINCT FROM NULL", "is_not_distinct_from(#0, cast(null:NULL AS BIGINT))"},
		{"s IS DISTINCT FROM NULL AND id is not distinct from n", "and(is_distinct_from(#1, cast(null:NULL AS TEXT)), is_not_distinct_from(#0, cast(#2 AS BIGINT)))"},
		{"id <=> n", "is_not_distinct_from(#0, cast(#1 AS BIGINT))"},
		{"is_distinct_from(id, NULL)", "is_distinct_from(#0, cast(null:NULL AS BIGINT))"},
		{"s ~ 'a+'", "~(#0, \"a+\":TEXT)"},
		{"s ~* 'a' AND s !~ 'b' OR s !~* 'c'", "or(and(~*(#0, \"a\":TEXT), !~(#0, \"b\":TEXT)), !~*(#0, \"c\":TEXT))"},
		{"s || 'x' ~ 'a'", "~(||(#0, \"x\":TEXT), \"a\":TEXT)"},
		{"NOT s ~ 'a'", "not(~(#0, \"a\":TEXT))"},
		{"j -> 'a'", "json_get(#0, \"a\":TEXT)"},
		{"j -> 1", "json_get(#0, 1:BIGINT)"},
		{"j -> 'a' -> 'b' ->> 'c'", "json_as_text(json_get(json_get(#0, \"a\":TEXT), \"b\":TEXT), \"c\":TEXT)"},
		{"s ->> 'k'", "json_as_text(#0, \"k\":TEXT)"},
		{"(j) -> 'a'", "json_get(#0, \"a\":TEXT)"},
		{"json_get(j, 'x') -> s", "json_get(json_get(#1, \"x\":TEXT), #0)"},
		{"CAST(s AS JSON) -> 'a'", "json_get(cast(#0 AS JSON), \"a\":TEXT)"},
		{"j ->> 'a' || 'x'", "||(json_as_text(#0, \"a\":TEXT), \"x\":TEXT)"},
		{"j ->> 'a' = 'x'", "=(json_as_text(#0, \"a\":TEXT), \"x\":TEXT)"},
		// A cast of json_get is the typed getter (datafusion-functions-json's
		// rewrite, sqlplan/exprfuncs.go).
		{"j -> 'a'::TEXT", "json_get_str(#0, \"a\":TEXT)"},
	}
	for _, c := range cases {
		_, project := planCalc(t, reg, "SELECT "+c.sel+" AS x FROM t;")
		if len(project) == 0 || project[0] != c.want {
			t.Errorf("%s: planned %v, want %s", c.sel, project, c.want)
		}
	}
	// In WHERE, too.
	filters, _ := planCalc(t, reg, "SELECT id FROM t WHERE id == 2 AND j ->> 'k' ~ '^a';")
	if want := "and(=(#0, 2:BIGINT), ~(json_as_text(#1, \"k\":TEXT), \"^a\":TEXT))"; len(filters) != 1 || filters[0] != want {
		t.Errorf("filters %v, want %s", filters, want)
	}
}

// TestDialectOperatorErrors checks that errors point at the operator as
// the user wrote it, also after a rewritten operator earlier on the line.
func TestDialectOperatorErrors(t *testing.T) {
	reg := stubFuncs(t)
	cases := []struct{ sql, want string }{
		{"SELECT 1 + 'a' AS x FROM t;", "d.sql:2:10: operator + expects numeric operands (or TIMESTAMP/INTERVAL arithmetic), got BIGINT and TEXT in '1 + 'a''"},
		{"SELECT ts > 5 AS x FROM t;", "d.sql:2:11: operator > cannot compare TIMESTAMP and BIGINT in 'ts > 5'"},
		{"SELECT id == 'x' AS x FROM t;", "d.sql:2:11: operator == cannot compare BIGINT and TEXT in 'id == 'x''"},
		{"SELECT ts IS NOT DISTINCT FROM id AS x FROM t;", "d.sql:2:11: operator IS NOT DISTINCT FROM cannot compare TIMESTAMP and BIGINT in 'ts IS NOT DISTINCT FROM id'"},
		{"SELECT s ~ 'a' AND j ->> 'k' = 'v' AND ts == 1 AS x FROM t;", "d.sql:2:43: operator == cannot compare TIMESTAMP and BIGINT in 'ts == 1'"},
		{"SELECT j -> 'a' -> 'b' AS y, ts ==\n  'x' + 1 AS x FROM t;", "d.sql:3:7: operator + expects numeric operands"},
		{"SELECT j -> 'a' AS y, nosuch AS x FROM t;", "d.sql:2:23: unknown column 'nosuch'"},
		{"SELECT s REGEXP 'a' AS x FROM t;", "d.sql:2:10: REGEXP is MySQL syntax; use the regex operators ~, ~*, !~ and !~*"},
		{"SELECT s NOT RLIKE 'a' AS x FROM t;", "d.sql:2:10: NOT RLIKE is MySQL syntax"},
		{"SELECT id AS x FROM t WHERE id IS DISTINCT FROM 1 AND id + s > 0;", "d.sql:2:58: operator + expects numeric operands"},
		{"SELECT ~id AS x FROM t;", "d.sql:2:8: operator ~ (bitwise NOT) is not supported: ~id"},
		{"SELECT id & 1 AS x FROM t;", "d.sql:2:8: operator & (bitwise AND) is not supported: id & 1"},
		// Syntax planned as functions is named as written.
		{"SELECT ts BETWEEN 1 AND 2 AS x FROM t;", "d.sql:2:8: BETWEEN cannot compare TIMESTAMP and BIGINT in 'ts BETWEEN 1 AND 2'"},
		{"SELECT -s AS x FROM t;", "d.sql:2:8: operator - expects a numeric or INTERVAL operand, got TEXT in '-s'"},
		{"SELECT s LIKE 1 AS x FROM t;", "d.sql:2:8: operator LIKE expects (TEXT, TEXT), got (TEXT, BIGINT) in 's LIKE 1'"},
		{"SELECT nullif(ts, 1) AS x FROM t;", "d.sql:2:8: function nullif cannot compare TIMESTAMP and BIGINT in 'nullif(ts, 1)'"},
		{"SELECT CASE ts WHEN 1 THEN 2 END AS x FROM t;", "d.sql:2:21: CASE ... WHEN cannot compare TIMESTAMP and BIGINT in '1'"},
	}
	for _, c := range cases {
		_, err := sqlplan.Plan("d.sql", dialectDDL+c.sql, sqlplan.Options{DefaultSink: "stdout", Functions: reg})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.sql, err, c.want)
		}
	}
}

// TestUnknownFunctionSuggestions checks the "did you mean" list.
func TestUnknownFunctionSuggestions(t *testing.T) {
	cases := []struct{ call, want string }{
		{"uper(s)", "d.sql:2:8: unknown function 'uper' (did you mean 'upper'?)"},
		{"lenght(s)", "unknown function 'lenght' (did you mean 'length'?)"},
		{"frobnicate(s)", "unknown function 'frobnicate'"},
	}
	for _, c := range cases {
		_, err := sqlplan.Plan("d.sql", dialectDDL+"SELECT "+c.call+" AS x FROM t;", sqlplan.Options{DefaultSink: "stdout"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.call, err, c.want)
		}
		if c.call == "frobnicate(s)" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%s: %v suggests a name", c.call, err)
		}
	}
}

// TestInsertCasts checks the casts INSERT puts between a query and a sink
// whose columns have other types, and the planning error when a type has no
// cast to the sink's.
func TestInsertCasts(t *testing.T) {
	const sink = "CREATE TABLE out (a TEXT, b DOUBLE, c BIGINT, d TEXT, e INT) WITH (connector = 'single_file', path = 'out.json', format = 'json', type = 'sink');\n"
	prog, err := sqlplan.Plan("d.sql", dialectDDL+sink+"INSERT INTO out SELECT id, n, s, ts, id FROM t;", sqlplan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var calcs [][]string
	for _, n := range prog.Nodes {
		if n.Calc != nil {
			calcs = append(calcs, exprStrings(n.Calc.Project))
		}
	}
	// The query's calc and the sink's casts fuse into one calc over t's
	// used columns id, s, n, ts (and its hidden event time).
	want := "[cast(#0 AS TEXT) cast(#2 AS DOUBLE) cast(#1 AS BIGINT) cast(#3 AS TEXT) cast(#0 AS INT)]"
	if len(calcs) == 0 || len(calcs[len(calcs)-1]) < 5 {
		t.Fatalf("calcs %v", calcs)
	}
	if got := fmt.Sprint(calcs[len(calcs)-1][:5]); got != want {
		t.Errorf("sink casts %s, want %s (calcs %v)", got, want, calcs)
	}
	const structs = "CREATE TABLE src (id BIGINT, p STRUCT<x BIGINT>, l BIGINT[]) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n" +
		"CREATE TABLE small (id BIGINT, n BIGINT) WITH (connector = 'single_file', path = 'out.json', format = 'json', type = 'sink');\n"
	for _, c := range []struct{ sel, want string }{
		{"id, p", "d.sql:3:30: column 2 ('p') of the query is STRUCT<x BIGINT>, which cannot be cast to BIGINT, the type of column 'n' of 'small'"},
		{"id, l", "d.sql:3:30: column 2 ('l') of the query is BIGINT[], which cannot be cast to BIGINT, the type of column 'n' of 'small'"},
		{"id, p.x", ""},
		{"id, CAST(id AS TEXT)", ""},
	} {
		_, err := sqlplan.Plan("d.sql", structs+"INSERT INTO small SELECT "+c.sel+" FROM src;", sqlplan.Options{})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.sel, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: %v, want %q", c.sel, err, c.want)
		}
	}
}
