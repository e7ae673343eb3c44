package sqlplan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
)

// treeConnector stands for a directory-based connector (the future
// filesystem connector): a table reads or writes a whole tree.
func init() {
	connector.Register(&connector.Connector{
		Name:    "test_tree",
		Options: []connector.Option{{Name: "path", Type: connector.TypeString, Required: true}},
		Schema: func(connector.Options) (*types.Schema, error) {
			return types.NewSchema(types.Field{Name: "id", Type: types.Int64T}), nil
		},
		LocalPaths: func(o connector.Options) []connector.LocalPath {
			return []connector.LocalPath{{Path: o.String("path"), Tree: true}}
		},
		NewSource: func(*connector.Table, connector.SourceTask, []connector.SplitState) (connector.Source, error) {
			return nil, nil
		},
		NewSink: func(*connector.Table, connector.SinkTask) (connector.Sink, error) { return nopSink{}, nil },
	})
}

type nopSink struct{}

func (nopSink) Write(context.Context, *coldata.Batch) error { return nil }
func (nopSink) Finish(context.Context) error                { return nil }

func src(name, path string) string {
	return "CREATE TABLE " + name + " (id BIGINT) WITH (connector = 'single_file', path = '" + path + "', format = 'json', type = 'source');\n"
}

func sink(name, path string) string {
	return "CREATE TABLE " + name + " (id BIGINT) WITH (connector = 'single_file', path = '" + path + "', format = 'json', type = 'sink');\n"
}

func TestLocalPathConflicts(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	if err := os.WriteFile(in, []byte("{\"id\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(in, filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	sqlFile := filepath.Join(dir, "p.sql")
	if err := os.WriteFile(sqlFile, []byte("-- the pipeline\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	cases := []struct {
		name, file, sql string
		want            string // "" = plans
	}{
		{"sink_is_source", "q.sql", src("a", in) + sink("b", in) + "INSERT INTO b SELECT id FROM a;",
			"q.sql:2:14: sink table 'b' would overwrite the input of source table 'a': its path '" + in + "' is what 'a' reads"},
		{"sink_is_source_spelled_differently", "q.sql", src("a", in) + sink("b", dir+"/sub/../in.json") + "INSERT INTO b SELECT id FROM a;",
			"sink table 'b' would overwrite the input of source table 'a': its path '" + dir + "/sub/../in.json' (the same file as '" + in + "')"},
		{"sink_is_symlink_to_source", "q.sql", src("a", in) + sink("b", filepath.Join(dir, "link.json")) + "INSERT INTO b SELECT id FROM a;",
			"sink table 'b' would overwrite the input of source table 'a'"},
		{"sink_is_hard_link_to_source", "q.sql", src("a", in) + sink("b", filepath.Join(dir, "hard.json")) + "INSERT INTO b SELECT id FROM a;",
			"sink table 'b' would overwrite the input of source table 'a'"},
		{"sink_through_dir_symlink_not_yet_existing", "q.sql", src("a", out) + sink("b", filepath.Join(dir, "dirlink", "out.json")) + "INSERT INTO b SELECT id FROM a;",
			"sink table 'b' would overwrite the input of source table 'a'"},
		{"sink_before_source_in_file", "q.sql", sink("b", in) + src("a", in) + "INSERT INTO b SELECT id FROM a;",
			"q.sql:1:14: sink table 'b' would overwrite the input of source table 'a'"},
		{"two_sinks_one_path", "q.sql", src("a", in) + sink("b", out) + sink("c", out) + "INSERT INTO b SELECT id FROM a;\nINSERT INTO c SELECT id + 1 FROM a;",
			"q.sql:3:14: sink tables 'b' and 'c' both write path '" + out + "'; give each its own path, or INSERT every query INTO one of them"},
		{"sink_is_sql_file", sqlFile, src("a", in) + sink("b", sqlFile) + "INSERT INTO b SELECT id FROM a;",
			sqlFile + ":2:14: sink table 'b' would overwrite the SQL file being run: its path '" + sqlFile + "' is that file"},
		{"sink_is_sql_file_relative", sqlFile, src("a", in) + sink("b", filepath.Join(dir, "sub", "..", "p.sql")) + "INSERT INTO b SELECT id FROM a;",
			"sink table 'b' would overwrite the SQL file being run"},
		{"tree_sink_contains_source", "q.sql", src("a", in) + "CREATE TABLE d WITH (connector = 'test_tree', path = '" + dir + "');\nINSERT INTO d SELECT id FROM a;",
			"q.sql:2:14: sink table 'd' would overwrite the input of source table 'a': its path '" + dir + "' (which overlaps '" + in + "')"},
		{"tree_source_contains_sink", "q.sql", "CREATE TABLE d WITH (connector = 'test_tree', path = '" + dir + "');\n" + sink("b", filepath.Join(dir, "sub", "x.json")) + "INSERT INTO b SELECT id FROM d;",
			"sink table 'b' would overwrite the input of source table 'd'"},

		// What stays allowed.
		{"several_inserts_into_one_sink", "q.sql", src("a", in) + sink("b", out) + "INSERT INTO b SELECT id FROM a;\nINSERT INTO b SELECT id + 1 FROM a;", ""},
		{"two_sources_one_file", "q.sql", src("a", in) + src("c", filepath.Join(dir, "link.json")) + sink("b", out) + "INSERT INTO b SELECT id FROM a;\nINSERT INTO b SELECT id FROM c;", ""},
		{"unused_sink_table_on_source_path", "q.sql", src("a", in) + sink("b", in) + sink("c", out) + "INSERT INTO c SELECT id FROM a;", ""},
		{"stdin_is_not_a_file", "<stdin>", src("a", in) + sink("b", filepath.Join(dir, "<stdin>")) + "INSERT INTO b SELECT id FROM a;", ""},
		{"tree_sibling", "q.sql", src("a", in) + "CREATE TABLE d WITH (connector = 'test_tree', path = '" + filepath.Join(dir, "sub") + "');\nINSERT INTO d SELECT id FROM a;", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sqlplan.Plan(c.file, c.sql, sqlplan.Options{Name: "t", DefaultSink: "stdout"})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want == "":
			case err == nil:
				t.Fatalf("planned; want an error containing %q", c.want)
			case !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q\ndoes not contain %q", err, c.want)
			}
		})
	}
}
