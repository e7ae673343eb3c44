package sqlplan_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/sqlplan"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden plan files")

// TestPlans plans testdata/plans/NAME.sql and compares the program's text
// with NAME.plan. A first line "-- parallelism=N" sets the parallelism.
func TestPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/plans/*.sql")
	if len(files) == 0 {
		t.Fatal("no plan cases")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			sql, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p := 1
			if strings.HasPrefix(string(sql), "-- parallelism=3") {
				p = 3
			}
			prog, err := sqlplan.Plan(f, string(sql), sqlplan.Options{Name: name, Parallelism: p, DefaultSink: "stdout", Now: planTime})
			if err != nil {
				t.Fatal(err)
			}
			got := prog.String()
			golden := strings.TrimSuffix(f, ".sql") + ".plan"
			if *rewrite {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sqlplan -rewrite)", err)
			}
			if got != string(want) {
				t.Fatalf("plan differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
			// The program survives serialization (the planner/worker contract).
			data, err := prog.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := program.Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			if back.String() != got {
				t.Fatalf("program changed through JSON:\n%s", back.String())
			}
			// The key-group count is fixed at plan time and survives the
			// wire: a restore needs the count the state was written with.
			if prog.MaxKeyGroups != state.MaxKeyGroups || back.MaxKeyGroups != prog.MaxKeyGroups {
				t.Fatalf("max key groups: planned %d, after JSON %d, want %d", prog.MaxKeyGroups, back.MaxKeyGroups, state.MaxKeyGroups)
			}
		})
	}
}

func TestPlanShape(t *testing.T) {
	const src = `CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '10');
CREATE TABLE out WITH (connector = 'blackhole');
`
	cases := []struct {
		name, sql string
		check     func(t *testing.T, p *program.Program)
	}{
		{"views and filters fuse into one calc", src + `
CREATE VIEW bids AS SELECT bid.auction AS a, bid.price AS p FROM n WHERE bid IS NOT NULL;
CREATE VIEW pricey AS SELECT a, p * 2 AS p2 FROM bids WHERE p > 100;
INSERT INTO out SELECT a FROM pricey WHERE p2 < 1000;`, func(t *testing.T, p *program.Program) {
			if ops := opCounts(p); ops[program.OpCalc] != 1 || len(p.Nodes) != 3 {
				t.Fatalf("want source -> 1 calc -> sink, got:\n%s", p)
			}
			c := calcs(p)[0]
			if len(c.Filters) != 3 {
				t.Fatalf("want the 3 filters kept in order, got %d:\n%s", len(c.Filters), p)
			}
		}},
		{"one source node per table, one sink node per sink", src + `
INSERT INTO out SELECT bid.price FROM n WHERE bid IS NOT NULL;
INSERT INTO out SELECT auction.reserve FROM n WHERE auction IS NOT NULL;`, func(t *testing.T, p *program.Program) {
			ops := opCounts(p)
			if ops[program.OpSource] != 1 || ops[program.OpSink] != 1 || ops[program.OpCalc] != 2 {
				t.Fatalf("got:\n%s", p)
			}
		}},
		{"bare select goes to the default sink", src + `SELECT bid.price FROM n;`, func(t *testing.T, p *program.Program) {
			for _, n := range p.Nodes {
				if n.Op == program.OpSink && n.Sink.Connector != "stdout" {
					t.Fatalf("got:\n%s", p)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := sqlplan.Plan("t.sql", c.sql, sqlplan.Options{Parallelism: 2, DefaultSink: "stdout"})
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, p)
		})
	}
}

func opCounts(p *program.Program) map[program.OpKind]int {
	m := map[program.OpKind]int{}
	for _, n := range p.Nodes {
		m[n.Op]++
	}
	return m
}

func calcs(p *program.Program) []*program.Calc {
	var out []*program.Calc
	for _, n := range p.Nodes {
		if n.Calc != nil {
			out = append(out, n.Calc)
		}
	}
	return out
}

// TestExprPositions: the planner records each expression's text and
// position in the program (for run-time errors), and a constant that must
// fail is a planning error at its position.
func TestExprPositions(t *testing.T) {
	const src = "CREATE TABLE t (id BIGINT, n INT) WITH (connector = 'single_file', path = '/tmp/in.json', format = 'json', type = 'source');\n" +
		"CREATE TABLE o (v INT) WITH (connector = 'single_file', path = '/tmp/out.json', format = 'json', type = 'sink');\n" +
		"INSERT INTO o SELECT\n  id / (n - 1) FROM t;\n"
	prog, err := sqlplan.Plan("q.sql", src, sqlplan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, n := range prog.Nodes {
		if n.Calc == nil {
			continue
		}
		for _, e := range n.Calc.Project {
			var walk func(e *program.Expr)
			walk = func(e *program.Expr) {
				if e.Pos != nil {
					found = append(found, e.Pos.String()+" "+e.Text+" "+e.Note)
				}
				for _, a := range e.Args {
					walk(a)
				}
			}
			walk(e)
		}
	}
	want := []string{
		// The sink cast names the query's expression and the sink column.
		"q.sql:4:3 id / (n - 1) column 'v' of sink 'o' is INT",
		"q.sql:4:3 id / (n - 1) ",
		// The implicit cast of n - 1 to BIGINT has the text it casts.
		"q.sql:4:9 n - 1 ",
		"q.sql:4:9 n - 1 ",
	}
	if strings.Join(found, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(found, "\n"), strings.Join(want, "\n"))
	}

	for _, c := range []struct{ query, want string }{
		{"SELECT id,\n  id + 1 / 0 FROM t WHERE false", "q.sql:3:8: division by zero in '1 / 0', computing 1 / 0"},
		{"SELECT id FROM t WHERE n = CAST('x' AS INT)", "q.sql:2:28: cannot cast 'x' to INT in 'CAST('x' AS INT)'"},
		{"SELECT - -9223372036854775808 AS v FROM t", "q.sql:2:8: integer overflow in '- -9223372036854775808', computing -(-9223372036854775808)"},
	} {
		sql := "CREATE TABLE t (id BIGINT, n INT) WITH (connector = 'single_file', path = '/tmp/in.json', format = 'json', type = 'source');\n" + c.query + ";\n"
		_, err := sqlplan.Plan("q.sql", sql, sqlplan.Options{DefaultSink: "stdout"})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.query, err, c.want)
		}
	}
}

// planTime is the planning clock of the golden plans: per-process defaults
// (nexmark's base_time) are fixed to it, so the plans are stable.
func planTime() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC) }

// TestPlanTimeDefaults: defaults that would differ per process are fixed
// in the plan from the planning clock, and given values are kept.
func TestPlanTimeDefaults(t *testing.T) {
	for _, tc := range []struct{ sql, option, want string }{
		{"CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10');", "base_time", "2024-01-02T03:04:05Z"},
		{"CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', base_time = '2020-05-05T00:00:00.5Z');", "base_time", "2020-05-05T00:00:00.5Z"},
		{"CREATE TABLE n WITH (connector = 'impulse', event_rate = '10', event_time_interval = '1s');", "start_time", "2024-01-02T03:04:05Z"},
		{"CREATE TABLE n WITH (connector = 'impulse', event_rate = '10');", "start_time", ""}, // wall-clock timestamps
	} {
		prog, err := sqlplan.Plan("q.sql", tc.sql+"\nSELECT * FROM n;", sqlplan.Options{DefaultSink: "stdout", Now: planTime})
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := prog.Nodes[0].Source.Options[tc.option]; got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.sql, tc.option, got, tc.want)
		}
	}
}
