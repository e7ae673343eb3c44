package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const okCase = `-- Prose before the first section: what the case shows.
-- pk: id, kind
-- parallelism: 3, 1, 2

-- input: small
{"id": 1}
{"id": 2}

-- input: big file=orders.json

-- sql
CREATE TABLE a WITH (connector = 'single_file', path = '$input.small', format = 'json', type = 'source');
-- an ordinary SQL comment
CREATE TABLE b WITH (connector = 'single_file', path = '$input.big', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output', format = 'json', type = 'sink');
CREATE TABLE other WITH (connector = 'single_file', path = '$output.other', format = 'json', type = 'sink');
INSERT INTO out SELECT id FROM a;

-- output
{"id": 1, "kind": "a"}

-- output: other
`

func TestParseCase(t *testing.T) {
	c, err := Parse("cases/ok.test", okCase)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "ok" || !reflect.DeepEqual(c.PK, []string{"id", "kind"}) || !reflect.DeepEqual(c.Parallelism, []int{1, 2, 3}) {
		t.Fatalf("directives: %+v", c)
	}
	if len(c.Inputs) != 2 || string(c.Inputs[0].Data) != "{\"id\": 1}\n{\"id\": 2}\n" || c.Inputs[1].File != "orders.json" {
		t.Fatalf("inputs: %+v", c.Inputs)
	}
	if c.SQLLine != 12 || !strings.HasPrefix(c.SQL, "CREATE TABLE a") || !strings.Contains(c.SQL, "-- an ordinary SQL comment") {
		t.Fatalf("sql at line %d: %q", c.SQLLine, c.SQL)
	}
	if len(c.Outputs) != 2 || len(c.Outputs[0].Rows) != 1 || c.Outputs[0].Rows[0].Line != 20 || c.Outputs[1].Name != "other" || len(c.Outputs[1].Rows) != 0 {
		t.Fatalf("outputs: %+v", c.Outputs)
	}
	sql := c.Expand(func(n string) string { return "/in/" + n }, func(n string) string { return "/out/" + n })
	lines := strings.Split(sql, "\n")
	if !strings.Contains(lines[11], "'/in/small'") || !strings.Contains(lines[13], "'/in/big'") ||
		!strings.Contains(lines[14], "'/out/'") || !strings.Contains(lines[15], "'/out/other'") {
		t.Fatalf("expanded SQL does not keep the case file's lines:\n%s", sql)
	}

	c, err = Parse("cases/d.test", "-- sql\nSELECT 1;\n-- error: boom\n")
	if err != nil || c.Error != "boom" || !reflect.DeepEqual(c.Parallelism, DefaultParallelism) {
		t.Fatalf("default parallelism, error case: %+v %v", c, err)
	}
}

// TestParseRejects checks that mistakes and directives the runner cannot
// honour yet are errors, not silently ignored lines.
func TestParseRejects(t *testing.T) {
	const sink = "CREATE TABLE out WITH (connector = 'single_file', path = '$output', format = 'json', type = 'sink');\n"
	for _, tc := range []struct{ text, want string }{
		{"-- checkpoint-restore: 0\n-- sql\n" + sink + "-- output\n", `checkpoint-restore: "0" is not a positive integer`},
		{"-- checkpoint-restore: 2\n-- checkpoint-restore: 3\n-- sql\n" + sink + "-- output\n", "second checkpoint-restore directive"},
		{"-- checkpoint-restore: 2\n-- sql\n" + sink + "-- error: boom\n", "checkpoint-restore and error do not combine"},
		{"-- idle\n-- sql\n" + sink + "-- output\n", `"idle" (scripted source idleness) is a step of an input`},
		{"-- input: a\n{\"x\":1}\n-- idle: 5s\n{\"x\":2}\n-- sql\n" + sink + "-- output\n", `idle takes no value (got "5s")`},
		{"-- input: a\n{\"x\":1}\n-- watermark: soon\n-- sql\n" + sink + "-- output\n", `watermark: "soon" is not an RFC 3339 timestamp`},
		{"-- input: a\n{\"x\":1}\n-- late: 3\n-- sql\n" + sink + "-- output\n", `late takes no value`},
		{"-- input: a\n{\"x\":1}\n-- pause\n-- sql\n" + sink + "-- output\n", `unexpected "-- pause" in an input section`},
		{"-- input: a\n-- a comment\n-- sql\n" + sink + "-- output\n", "unexpected \"-- a comment\" in an input section"},
		{"-- pkk: id\n-- sql\n" + sink + "-- output\n", `unknown directive "pkk"`},
		{"-- parallelism: 1, 2\n-- sql\n" + sink + "-- output\n", "leaves out 3"},
		{"-- parallelism: 0, 1, 3\n-- sql\n" + sink + "-- output\n", `"0" is not a positive integer`},
		{"-- loose-numbers: yes\n-- sql\n" + sink + "-- output\n", "takes no value"},
		{"SELECT 1;\n-- sql\n" + sink + "-- output\n", "text before the first section"},
		{"-- sql\n" + sink, "no -- output or -- error section"},
		{"-- output\n", "go after the sql section"},
		{"-- sql\n" + sink + "-- output\n{\"a\":1}\n-- error: x\n", "rows or an error, not both"},
		{"-- sql\n" + sink + "-- error: x\n-- output\n", "nothing may follow the error section"},
		{"-- sql\n" + sink + "-- error: x\nmore\n", "the error section has no body"},
		{"-- sql\n" + sink + "-- error:\n", "empty error substring"},
		{"-- pk: id\n-- sql\n" + sink + "-- error: x\n", "pk and error do not combine"},
		{"-- sql\n" + sink + "-- sql\n" + sink + "-- output\n", "second sql section"},
		{"-- sql\n" + sink + "-- output\n-- input: a\n{}\n", "input sections go before the sql section"},
		{"-- input: a\n-- sql\n" + sink + "-- output\n", `input "a" has no rows and no file=`},
		{"-- input: a file=x.json\n{}\n-- sql\n" + sink + "-- output\n", "has file= and inline rows"},
		{"-- input: a file=../x.json\n-- sql\n" + sink + "-- output\n", "must be relative to the inputs directory"},
		{"-- input: a size=3\n-- sql\n" + sink + "-- output\n", `unknown attribute "size=3"`},
		{"-- input: a\n{}\n-- sql\n" + sink + "-- output\n", `input "a" is not used by the sql`},
		{"-- sql\n" + sink + "SELECT '$input.b';\n-- output\n", "$input.b: no input section"},
		{"-- sql\n" + sink + "-- output\n-- output: x\n", `output "x" is not written by the sql`},
		{"-- sql\n" + sink + "SELECT '$output.y';\n-- output\n", "$output.y has no output section"},
		{"-- sql\n" + sink + "-- output\n{\"a\":1}\n-- note\n", `unexpected "-- note" in an output section`},
	} {
		_, err := Parse("cases/x.test", tc.text)
		if err == nil {
			t.Errorf("accepted:\n%s", tc.text)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cases/x.test:") {
			t.Errorf("error %q does not contain %q (or lacks the position)\n%s", err, tc.want, tc.text)
		}
	}
}

func TestRewriteCase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.test")
	if err := os.WriteFile(path, []byte(okCase), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err = rewriteCase(c, map[string][]string{"": {`{"id":1,"kind":"b"}`, `{"id":2,"kind":"b"}`}, "other": {`{"z":1}`}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := strings.Replace(okCase, "-- output\n{\"id\": 1, \"kind\": \"a\"}\n\n-- output: other\n",
		"-- output\n{\"id\":1,\"kind\":\"b\"}\n{\"id\":2,\"kind\":\"b\"}\n\n-- output: other\n{\"z\":1}\n", 1)
	if string(data) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", data, want)
	}
	if len(c.Outputs[0].Rows) != 2 || len(c.Outputs[1].Rows) != 1 {
		t.Fatalf("re-parsed outputs: %+v", c.Outputs)
	}
}
