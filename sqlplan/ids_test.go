package sqlplan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
)

// nodeKey says what a node is, independent of its index, id and options:
// its description and its expressions in plan text.
func nodeKey(p *program.Program, n *program.Node) string {
	q := &program.Program{Version: p.Version, Nodes: []*program.Node{n}}
	key := n.Description
	for _, l := range strings.Split(q.String(), "\n") {
		if strings.HasPrefix(l, "    filter ") || strings.Contains(l, " := ") {
			key += "\n" + l
		}
	}
	return key
}

func planIDs(t *testing.T, sql string) (*program.Program, map[string]string) {
	t.Helper()
	p, err := sqlplan.Plan("ids.sql", sql, sqlplan.Options{Parallelism: 2, DefaultSink: "stdout"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, n := range p.Nodes {
		k := nodeKey(p, n)
		if _, dup := ids[k]; dup {
			t.Fatalf("two nodes look alike; make the test's statements differ:\n%s", k)
		}
		ids[k] = n.OperatorID
	}
	return p, ids
}

// TestOperatorIDsStable: operator ids follow the rule of program/ids.go:
// the same SQL gives the same ids, a statement added elsewhere (above, or
// another INSERT into a shared table) leaves every existing node's id, a
// changed table option leaves all ids, and an edited query changes only its
// own calc's.
func TestOperatorIDsStable(t *testing.T) {
	const tables = `CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '10');
CREATE TABLE out WITH (connector = 'blackhole');
CREATE TABLE evens (v BIGINT);
`
	const queries = `INSERT INTO evens SELECT bid.price FROM n WHERE bid IS NOT NULL;
INSERT INTO out SELECT v + 1 FROM evens;
INSERT INTO out SELECT bid.auction FROM n WHERE bid IS NOT NULL;
`
	_, base := planIDs(t, tables+queries)
	_, again := planIDs(t, tables+queries)
	for k, id := range base {
		if again[k] != id {
			t.Errorf("re-planning changed an id: %s -> %s for\n%s", id, again[k], k)
		}
	}
	keeps := func(name string, sql string, changed ...string) {
		t.Run(name, func(t *testing.T) {
			_, ids := planIDs(t, sql)
			for k, id := range base {
				want := true
				for _, c := range changed {
					if strings.Contains(k, c) {
						want = false
					}
				}
				got, ok := ids[k]
				if want && (!ok || got != id) {
					t.Errorf("node lost its id %s (now %q):\n%s", id, got, k)
				}
				if !want && ok && got == id {
					t.Errorf("edited node kept its id %s:\n%s", id, k)
				}
			}
		})
	}
	keeps("statement added above", `CREATE TABLE imp WITH (connector = 'impulse', event_rate = '10', message_count = '5');
CREATE TABLE out2 WITH (connector = 'blackhole');
INSERT INTO out2 SELECT counter FROM imp;
`+tables+queries)
	keeps("another insert into the memory table and the sink", tables+queries+
		"INSERT INTO evens SELECT bid.bidder FROM n WHERE bid IS NOT NULL;\nINSERT INTO out SELECT bid.bidder * 3 FROM n WHERE bid IS NOT NULL;\n")
	keeps("source option changed", strings.Replace(tables, "event_rate = '10'", "event_rate = '20'", 1)+queries)
	keeps("one query edited", tables+strings.Replace(queries, "bid.auction FROM", "bid.auction * 2 FROM", 1), "auction := ")
}

// TestOperatorIDsDuplicateQuery: the same query twice gets two ids, the
// second with an occurrence suffix, and the program validates.
func TestOperatorIDsDuplicateQuery(t *testing.T) {
	const sql = `CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '10');
CREATE TABLE out WITH (connector = 'blackhole');
INSERT INTO out SELECT bid.price FROM n WHERE bid IS NOT NULL;
INSERT INTO out SELECT bid.price FROM n WHERE bid IS NOT NULL;
`
	p, err := sqlplan.Plan("dup.sql", sql, sqlplan.Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	var calcIDs []string
	for _, n := range p.Nodes {
		if n.Op == program.OpCalc {
			calcIDs = append(calcIDs, n.OperatorID)
		}
	}
	if len(calcIDs) != 2 || calcIDs[1] != calcIDs[0]+"~2" {
		t.Fatalf("calc ids %v, want X and X~2:\n%s", calcIDs, p)
	}
}

// A connector with a secret option, for the redaction test.
func init() {
	connector.Register(&connector.Connector{
		Name: "test_sqlplan_secret",
		Options: []connector.Option{
			{Name: "password", Type: connector.TypeString, Secret: true},
			{Name: "user", Type: connector.TypeString},
		},
		Schema: func(connector.Options) (*types.Schema, error) {
			return types.NewSchema(types.Field{Name: "x", Type: types.Int64T}), nil
		},
		NewSource: func(*connector.Table, connector.SourceTask, []connector.SplitState) (connector.Source, error) {
			return nil, errors.New("not runnable")
		},
	})
}

// TestSecretsRedacted: the planner records which options are secret, the
// plan text and the redacted JSON do not show them, and a {{VAR}} template
// stays unexpanded in the program (the worker expands it).
func TestSecretsRedacted(t *testing.T) {
	const sql = `CREATE TABLE s WITH (connector = 'test_sqlplan_secret', password = 'hunter2', user = 'bob');
CREATE TABLE e WITH (connector = 'test_sqlplan_secret', password = '{{TEST_SQLPLAN_PW}}', user = 'eve');
SELECT x FROM s;
SELECT x FROM e;
`
	t.Setenv("TEST_SQLPLAN_PW", "from-env")
	p, err := sqlplan.Plan("secret.sql", sql, sqlplan.Options{Parallelism: 1, DefaultSink: "stdout"})
	if err != nil {
		t.Fatal(err)
	}
	text := p.String()
	if strings.Contains(text, "hunter2") || !strings.Contains(text, "password=<redacted>, user=bob") {
		t.Errorf("plan text shows the secret:\n%s", text)
	}
	data, err := p.Redacted().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "hunter2") {
		t.Errorf("redacted JSON shows the secret:\n%s", data)
	}
	// Templates are the worker's to expand: the plan keeps them.
	for _, n := range p.Nodes {
		if n.Source != nil && n.Source.Name == "e" {
			if got := n.Source.Options["password"]; got != "{{TEST_SQLPLAN_PW}}" {
				t.Errorf("the planner expanded a template: password = %q", got)
			}
			if strings.Join(n.Source.Secret, ",") != "password" {
				t.Errorf("secret options recorded: %v", n.Source.Secret)
			}
		}
	}
	full, _ := p.Marshal()
	if strings.Contains(string(full), "from-env") {
		t.Errorf("the program holds an environment value:\n%s", full)
	}
}
