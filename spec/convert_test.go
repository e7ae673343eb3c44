package spec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The converter from the first case format (queries/NAME.sql with a
// "--fail=" or "--pk=" first line, golden/NAME.json, $input_dir and
// $output_path) to cases/NAME.test. It stays for one release so that
// cases written in the old format on other branches can be brought over:
//
//	go test ./spec -run TestConvertV1 -convert
var convert = flag.Bool("convert", false, "convert queries/*.sql + golden/*.json into cases/*.test and delete the old files")

func TestConvertV1(t *testing.T) {
	if !*convert {
		t.Skip("converts the old case format; run with -convert")
	}
	files, err := filepath.Glob("queries/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	uses, err := inputUses()
	if err != nil {
		t.Fatal(err)
	}
	inlined := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		golden, err := os.ReadFile(filepath.Join("golden", name+".json"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		inline := func(file string) []byte {
			data, err := os.ReadFile(filepath.Join("inputs", file))
			if err != nil || uses[file] != 1 || !inlinable(data) {
				return nil
			}
			inlined[file] = true
			return data
		}
		text, err := convertV1(name, string(sql), string(golden), inline)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := filepath.Join("cases", name+".test")
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s exists; not overwriting it with the conversion of %s", out, f)
		}
		if err := os.MkdirAll("cases", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, old := range []string{f, filepath.Join("golden", name+".json")} {
			if err := os.Remove(old); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		t.Logf("converted %s -> %s", f, out)
	}
	for file := range inlined {
		if err := os.Remove(filepath.Join("inputs", file)); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove("queries") // only if empty
	os.Remove("golden")
}

var inputDirRe = regexp.MustCompile(`\$input_dir/([A-Za-z0-9_.\-]+)`)

// inputUses counts, per file under inputs/, the cases (old and new) that
// read it: a file only one case reads is inlined into that case.
func inputUses() (map[string]int, error) {
	uses := map[string]int{}
	old, _ := filepath.Glob("queries/*.sql")
	for _, f := range old {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, m := range inputDirRe.FindAllStringSubmatch(string(data), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				uses[m[1]]++
			}
		}
	}
	cases, _ := filepath.Glob("cases/*.test")
	for _, f := range cases {
		c, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		for _, in := range c.Inputs {
			if in.File != "" {
				uses[in.File]++
			}
		}
	}
	return uses, nil
}

// inlinable reports whether data reads the same inline: a few lines of
// printable UTF-8 (no byte-order mark), none blank, none starting with --,
// ending in a newline.
func inlinable(data []byte) bool {
	s := string(data)
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") > 20 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range strings.TrimSuffix(s, "\n") {
		if r == '\ufeff' || (r != '\n' && r != '\t' && !unicode.IsPrint(r)) {
			return false
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "--") || l != strings.TrimRight(l, " \t\r") {
			return false
		}
	}
	return true
}

// convertV1 returns the new-format text of one old case. inline returns
// the data of an input file to inline, or nil to refer to it by file=.
func convertV1(name, sql, golden string, inline func(file string) []byte) (string, error) {
	var fail string
	var pk []string
	directiveLines := 0
	if first, rest, _ := strings.Cut(sql, "\n"); strings.HasPrefix(strings.TrimSpace(first), "--fail=") {
		fail = strings.TrimPrefix(strings.TrimSpace(first), "--fail=")
		sql, directiveLines = rest, 1
	} else if strings.HasPrefix(strings.TrimSpace(first), "--pk=") {
		for _, c := range strings.Split(strings.TrimPrefix(strings.TrimSpace(first), "--pk="), ",") {
			pk = append(pk, strings.TrimSpace(c))
		}
		sql, directiveLines = rest, 1
	}
	var b strings.Builder
	line := 1 // the line b's next line will be
	emit := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
		line++
	}
	if pk != nil {
		emit("-- pk: " + strings.Join(pk, ", "))
		emit("")
	}
	names := map[string]string{} // file -> input name
	taken := map[string]bool{}
	for _, m := range inputDirRe.FindAllStringSubmatch(sql, -1) {
		file := m[1]
		if _, ok := names[file]; ok {
			continue
		}
		n := inputName(file)
		for base, i := n, 2; taken[n]; i++ {
			n = base + strconv.Itoa(i)
		}
		taken[n], names[file] = true, n
		if data := inline(file); data != nil {
			emit("-- input: " + n)
			for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				emit(l)
			}
		} else {
			emit("-- input: " + n + " file=" + file)
		}
		emit("")
	}
	sql = inputDirRe.ReplaceAllStringFunc(sql, func(ref string) string {
		return "$input." + names[inputDirRe.FindStringSubmatch(ref)[1]]
	})
	sql = strings.ReplaceAll(sql, "$output_path", "$output")
	emit("-- sql")
	sqlLine := line
	body := strings.Split(strings.TrimRight(sql, "\n \t"), "\n")
	for _, l := range body {
		emit(l)
	}
	emit("")
	if fail != "" {
		// Positions in the old message are lines of the old file; the SQL
		// now starts at sqlLine of the new one.
		// A message may name the file (queries/NAME.sql:L, NAME.sql:L) or
		// start at the position (:L:C).
		moved := func(l string) int {
			old, _ := strconv.Atoi(l)
			return old - directiveLines - 1 + sqlLine
		}
		pos := regexp.MustCompile(`(queries/)?` + regexp.QuoteMeta(name) + `\.sql:(\d+)`)
		fail = pos.ReplaceAllStringFunc(fail, func(s string) string {
			m := pos.FindStringSubmatch(s)
			dir := ""
			if m[1] != "" {
				dir = "cases/"
			}
			return fmt.Sprintf("%s%s.test:%d", dir, name, moved(m[2]))
		})
		if m := regexp.MustCompile(`^:(\d+):`).FindStringSubmatch(fail); m != nil {
			fail = fmt.Sprintf(":%d:", moved(m[1])) + fail[len(m[0]):]
		}
		emit("-- error: " + fail)
	} else {
		emit("-- output")
		for _, l := range strings.Split(golden, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				emit(l)
			}
		}
	}
	text := b.String()
	if _, err := Parse(filepath.Join("cases", name+".test"), text); err != nil {
		return "", fmt.Errorf("the conversion does not parse: %w\n%s", err, text)
	}
	return text, nil
}

// inputName makes an input name ($input.NAME) of a file name.
func inputName(file string) string {
	n := strings.TrimSuffix(file, filepath.Ext(file))
	n = regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(n, "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		n = "_" + n
	}
	return n
}

// TestConvertV1Case checks the converter on one old case: directive,
// inlined and shared inputs, placeholders and error positions.
func TestConvertV1Case(t *testing.T) {
	sql := "--fail=queries/x.sql:4:8: boom\n" +
		"CREATE TABLE a WITH (connector = 'single_file', path = '$input_dir/a.json', format = 'json', type = 'source');\n" +
		"CREATE TABLE b WITH (connector = 'single_file', path = '$input_dir/shared.json', format = 'json', type = 'source');\n" +
		"CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');\n" +
		"INSERT INTO out SELECT * FROM a;\n"
	got, err := convertV1("x", sql, "", func(file string) []byte {
		if file == "a.json" {
			return []byte("{\"id\": 1}\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "-- input: a\n{\"id\": 1}\n\n-- input: shared file=shared.json\n\n-- sql\n" +
		"CREATE TABLE a WITH (connector = 'single_file', path = '$input.a', format = 'json', type = 'source');\n" +
		"CREATE TABLE b WITH (connector = 'single_file', path = '$input.shared', format = 'json', type = 'source');\n" +
		"CREATE TABLE out WITH (connector = 'single_file', path = '$output', format = 'json', type = 'sink');\n" +
		"INSERT INTO out SELECT * FROM a;\n\n" +
		"-- error: cases/x.test:9:8: boom\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// old line 4, the sink, is new line 9
	if lines := strings.Split(got, "\n"); !strings.Contains(lines[8], "CREATE TABLE out") {
		t.Fatalf("line 9 is %q, not the old line 4", lines[8])
	}
	if got, err := convertV1("y", "--fail=:3:14: bad\nSELECT '$input_dir/a.json';\nSELECT 2;\n", "", func(string) []byte { return nil }); err != nil ||
		!strings.Contains(got, "-- error: :5:14: bad\n") || strings.Split(got, "\n")[4] != "SELECT 2;" {
		t.Fatalf("bare position: %v\n%s", err, got)
	}
	if inlinable([]byte("\ufeff{\"id\": 1}\n")) || inlinable([]byte("{\"a\": 1}\n\n")) || !inlinable([]byte("{\"a\": \"\u00e9\"}\n")) {
		t.Fatal("inlinable: a byte-order mark or a blank line must keep an input in a file; UTF-8 text is fine")
	}
	c, err := Parse("cases/x.test", got)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Inputs) != 2 || c.Inputs[1].File != "shared.json" || string(c.Inputs[0].Data) != "{\"id\": 1}\n" {
		t.Fatalf("inputs: %+v", c.Inputs)
	}
}
