package sqlplan_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// Line 1 of every case: an updating source with a primary key.
const cdcSource = "CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT) WITH (connector = 'single_file', path = '/tmp/c.json', format = 'debezium_json', type = 'source');\n"

func TestUpdatingPlanErrors(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{"CREATE TABLE d (id BIGINT, n BIGINT) WITH (connector = 'single_file', path = '/tmp/d.json', format = 'debezium_json', type = 'source');\nSELECT * FROM d;",
			"q.sql:2:102: source table 'd' has format 'debezium_json', whose records are changes to rows: declare which columns identify a row with PRIMARY KEY (col, ...) in its column list, or id BIGINT PRIMARY KEY"},
		// Without type = 'source' the table is known to be a source only
		// when a query reads it.
		{"CREATE TABLE d (id BIGINT, n BIGINT) WITH (connector = 'single_file', path = '/tmp/d.json', format = 'debezium_json');\nSELECT * FROM d;",
			"q.sql:2:102: source table 'd' has format 'debezium_json'"},
		{"CREATE TABLE d (id BIGINT, n BIGINT, PRIMARY KEY (id, nn)) WITH (connector = 'single_file', path = '/tmp/d.json', format = 'debezium_json');",
			"q.sql:2:55: PRIMARY KEY column 'nn' is not a column of 'd' (columns: id, n)"},
		{"CREATE TABLE d (id BIGINT, n BIGINT, PRIMARY KEY (id, ID)) WITH (connector = 'single_file', path = '/tmp/d.json', format = 'json');",
			"q.sql:2:55: column 'ID' is listed twice in the PRIMARY KEY"},
		{"CREATE TABLE d (id BIGINT PRIMARY KEY, _op TINYINT) WITH (connector = 'single_file', path = '/tmp/d.json', format = 'debezium_json');",
			"q.sql:2:14: '_op' is reserved for the change kind of a debezium_json table"},
		{"CREATE TABLE o WITH (connector = 'single_file', path = '/tmp/o.json', format = 'json', type = 'sink');\nINSERT INTO o SELECT * FROM c WHERE n > 1;",
			"q.sql:2:80: sink 'o' is written an updating stream (a changelog of inserts, updates and deletes, from a debezium_json source or an aggregate without a window), which format 'json' cannot encode: give the sink format = 'debezium_json'"},
		{"CREATE TABLE o WITH (connector = 'stdout');\nINSERT INTO o SELECT id FROM c;",
			"q.sql:2:14: sink 'o' is written an updating stream (a changelog of inserts, updates and deletes, from a debezium_json source or an aggregate without a window), which format 'json' cannot encode"},
		{"CREATE TABLE o WITH (connector = 'stdout', format = 'json');\nINSERT INTO o SELECT id FROM c;",
			"q.sql:2:53: sink 'o' is written an updating stream"},
		// An updating aggregate's changelog, from an append-only source.
		{"CREATE TABLE p (k TEXT) WITH (connector = 'single_file', path = '/tmp/p.json', format = 'json', type = 'source');\n" +
			"CREATE TABLE o WITH (connector = 'single_file', format = 'json', path = '/tmp/o.json', type = 'sink');\nINSERT INTO o SELECT k, count(*) AS n FROM p GROUP BY k;",
			"q.sql:3:58: sink 'o' is written an updating stream"},
		{"CREATE TABLE m (id BIGINT, n BIGINT);\nINSERT INTO m SELECT * FROM c;\nSELECT * FROM m;",
			"q.sql:2:14: memory table 'm' is written an updating stream (a changelog); memory tables hold append-only streams (use CREATE VIEW for an updating query)"},
		{"CREATE TABLE p (id BIGINT, n BIGINT) WITH (connector = 'single_file', path = '/tmp/p.json', format = 'json', type = 'source');\n" +
			"CREATE TABLE o WITH (connector = 'single_file', path = '/tmp/o.json', format = 'debezium_json', type = 'sink');\n" +
			"INSERT INTO o SELECT * FROM c;\nINSERT INTO o SELECT * FROM p;",
			"q.sql:3:14: sink 'o' is written both an updating stream (a changelog) and an append-only one; write them to two sinks"},
	} {
		_, err := sqlplan.Plan("q.sql", cdcSource+c.sql, sqlplan.Options{DefaultSink: "stdout", Parallelism: 2})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.sql, err, c.want)
		}
	}
}

func TestUpdatingPlan(t *testing.T) {
	plan := func(sql string, p int) *program.Program {
		t.Helper()
		prog, err := sqlplan.Plan("q.sql", cdcSource+sql, sqlplan.Options{DefaultSink: "stdout", Parallelism: p})
		if err != nil {
			t.Fatal(err)
		}
		return prog
	}
	// A bare SELECT prints the changes as Debezium JSON.
	prog := plan("SELECT n, id FROM c WHERE n > 0;", 3)
	src, sink := prog.Nodes[0], prog.Nodes[len(prog.Nodes)-1]
	if !src.Updating || src.Parallelism != 1 || src.Schema.String() != "(id BIGINT, n BIGINT, _op TINYINT, _timestamp TIMESTAMP)" {
		t.Errorf("source: updating %v, p=%d, schema %s", src.Updating, src.Parallelism, src.Schema)
	}
	out := prog.Outputs(0)
	if len(out) != 1 || out[0].Kind != program.Shuffle || len(out[0].Keys) != 1 || out[0].Keys[0] != 0 {
		t.Errorf("the edge out of the source is not a shuffle keyed by id: %+v", out)
	}
	if sink.Op != program.OpSink || !sink.Updating || sink.Sink.Format.Name != "debezium_json" || sink.Sink.Connector != "stdout" {
		t.Errorf("bare SELECT sink: %+v (format %+v)", sink, sink.Sink.Format)
	}
	if calc := prog.Nodes[1]; !calc.Updating || calc.Calc.Project[2].Op != program.ExprCol || calc.Calc.Project[2].Col != 2 {
		t.Errorf("calc does not pass _op through: %+v", calc.Calc.Project)
	}
	// The bare SELECT's format switch does not leak into the planner's
	// table: a second SELECT of an append-only query prints plain JSON.
	prog = plan("CREATE TABLE p (id BIGINT) WITH (connector = 'single_file', path = '/tmp/p.json', format = 'json', type = 'source');\nSELECT * FROM c;\nSELECT * FROM p;", 1)
	var formats []string
	for _, n := range prog.Nodes {
		if n.Op == program.OpSink {
			formats = append(formats, n.Sink.Format.Name)
		}
	}
	if strings.Join(formats, ",") != "debezium_json,json" {
		t.Errorf("bare SELECT formats %v, want debezium_json then json", formats)
	}
	// Blackhole takes a changelog; a debezium_json sink takes an
	// append-only stream as it is (creates).
	prog = plan("CREATE TABLE b WITH (connector = 'blackhole');\nINSERT INTO b SELECT * FROM c;", 2)
	if n := prog.Nodes[len(prog.Nodes)-1]; !n.Updating {
		t.Errorf("blackhole sink not updating: %+v", n)
	}
	prog = plan("CREATE TABLE p (id BIGINT) WITH (connector = 'single_file', path = '/tmp/p.json', format = 'json', type = 'source');\n"+
		"CREATE TABLE o WITH (connector = 'single_file', path = '/tmp/o.json', format = 'debezium_json', type = 'sink');\nINSERT INTO o SELECT * FROM p;", 2)
	for _, n := range prog.Nodes {
		if n.Updating {
			t.Errorf("append-only pipeline has an updating node %d (%s)", n.ID, n.Description)
		}
	}
	// A PRIMARY KEY on an append-only table is accepted and changes nothing.
	prog = plan("CREATE TABLE p (id BIGINT, PRIMARY KEY (id)) WITH (connector = 'single_file', path = '/tmp/p.json', format = 'json', type = 'source');\nSELECT * FROM p;", 2)
	if prog.Nodes[0].Updating || prog.Nodes[0].Parallelism != 2 {
		t.Errorf("json source with a primary key: updating %v, p=%d", prog.Nodes[0].Updating, prog.Nodes[0].Parallelism)
	}
}
