package sqlplan_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
)

// planProject plans SELECT sel FROM t and returns the calc's projections.
func planProject(t *testing.T, sel string) ([]*program.Expr, error) {
	t.Helper()
	const ddl = "CREATE TABLE t (id BIGINT, s TEXT, ts TIMESTAMP NOT NULL, WATERMARK FOR ts) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n"
	prog, err := sqlplan.Plan("f.sql", ddl+"SELECT "+sel+" FROM t;", sqlplan.Options{DefaultSink: "stdout"})
	if err != nil {
		return nil, err
	}
	// The query's calc is the last one (a source may have its own).
	var project []*program.Expr
	for _, n := range prog.Nodes {
		if n.Calc != nil {
			project = n.Calc.Project
		}
	}
	if project == nil {
		t.Fatalf("%s: no calc", sel)
	}
	return project, nil
}

func TestPlanTimeAndStructFunctions(t *testing.T) {
	lit, err := planProject(t, "TIMESTAMP '2023-01-02 03:04:05' AS t")
	if err != nil {
		t.Fatal(err)
	}
	if l := lit[0]; l.Op != program.ExprCast || !l.Type.Equal(types.TimestampT) || string(l.Args[0].Value) != `"2023-01-02 03:04:05"` {
		t.Errorf("TIMESTAMP literal planned as %s %s", l.Op, l.Type)
	}
	p, err := planProject(t, "row_time() AS rt, extract(epoch FROM ts) AS e, now() AS n, named_struct('x', id, 'y', s) AS ns, current_timestamp AS c")
	if err != nil {
		t.Fatal(err)
	}
	// row_time() is the hidden event-time column, the last of the input.
	if rt := p[0]; rt.Op != program.ExprCol || rt.Col != 3 || !rt.Type.Equal(types.TimestampT) {
		t.Errorf("row_time() planned as %s col %d of %s", rt.Op, rt.Col, rt.Type)
	}
	if e := p[1]; e.Op != program.ExprCall || e.Func != "date_part" || string(e.Args[0].Value) != `"epoch"` || !e.Type.Equal(types.Float64T) {
		t.Errorf("extract(epoch FROM ts) planned as %s %s(%s) of %s", e.Op, e.Func, e.Args[0].Value, e.Type)
	}
	for _, k := range []int{2, 4} {
		if n := p[k]; n.Op != program.ExprCall || !n.Type.Equal(types.TimestampT) || len(n.Args) != 0 {
			t.Errorf("column %d planned as %s %s of %s", k, n.Op, n.Func, n.Type)
		}
	}
	if ns := p[3]; ns.Op != program.ExprCast || ns.Type.String() != "STRUCT<x BIGINT, y TEXT>" || ns.Args[0].Func != "struct" {
		t.Errorf("named_struct planned as %s to %s", ns.Op, ns.Type)
	}
	for sel, want := range map[string]string{
		"row_time(1)":                   "f.sql:2:8: row_time() takes no arguments, got 1",
		"DATE '2023-02-29'":             "f.sql:2:8: cannot cast '2023-02-29' to DATE",
		"id, TIME '24:00'":              "f.sql:2:12: cannot cast '24:00' to TIME",
		"id, TIMESTAMP 'noon'":          "f.sql:2:12: cannot cast 'noon' to TIMESTAMP",
		"named_struct('x')":             "f.sql:2:8: named_struct expects pairs of a name and a value",
		"named_struct(s, id)":           "f.sql:2:21: named_struct: field names must be string literals, got s",
		"named_struct('a', 1, 'A', 2)":  "f.sql:2:29: named_struct: field 'A' appears twice",
		"date_trunc('hour', id)":        "f.sql:2:8: function date_trunc expects (TEXT, TIMESTAMP), got (TEXT, BIGINT)",
		"date_trunc('eon', ts)":         "f.sql:2:19: date_trunc does not support the unit 'eon'",
		"EXTRACT(isodow FROM ts)":       "f.sql:2:16: date_part does not support the unit 'isodow'",
		"to_char(ts, '%')":              "f.sql:2:20: to_char: format '%' ends with a lone '%'",
		"json_get(s, 1.5)":              "f.sql:2:8: function json_get expects (JSON or TEXT, then keys",
		"get_first_json_object(s, 'a')": "f.sql:2:33: get_first_json_object: invalid JSONPath 'a' at character 1: a path starts with $",
	} {
		if _, err := planProject(t, sel); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", sel, err, want)
		}
	}
}

// TestPlanJSONGetCasts: a cast of json_get is the typed getter, as
// datafusion-functions-json rewrites it.
func TestPlanJSONGetCasts(t *testing.T) {
	p, err := planProject(t, "CAST(json_get(s, 'a') AS BIGINT) AS i, json_get(s, 'a')::INT AS i32, json_get(s, 'b', 0)::DOUBLE AS f, CAST(json_get(s, 'c') AS TEXT) AS str, json_get(s, 'd')::BOOLEAN AS b")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []struct{ fn, typ string }{
		{"json_get_int", "BIGINT"}, {"json_get_int", "INT"}, {"json_get_float", "DOUBLE"}, {"json_get_str", "TEXT"}, {"json_get_bool", "BOOLEAN"},
	} {
		e := p[k]
		call := e
		if e.Op == program.ExprCast {
			call = e.Args[0]
		}
		if call.Op != program.ExprCall || call.Func != want.fn || e.Type.String() != want.typ {
			t.Errorf("column %d: %s %s of %s, want %s of %s", k, call.Op, call.Func, e.Type, want.fn, want.typ)
		}
	}
}
