package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests build the real binary and run it as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arroyo-cmd-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "arroyo")
	// Runs without --state-dir create one under checkpoint_url: keep them
	// in the test's directory.
	os.Setenv("ARROYO__CHECKPOINT_URL", filepath.Join(dir, "checkpoints"))
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("build arroyo: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runArroyo(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), stripStateDir(errb.String()), code}
}

// stripStateDir drops the lines a run prints first: the state directory
// it creates without --state-dir, and its API's address.
func stripStateDir(stderr string) string {
	for _, prefix := range []string{"state directory: ", "API listening on "} {
		if strings.HasPrefix(stderr, prefix) {
			if _, rest, ok := strings.Cut(stderr, "\n"); ok {
				stderr = rest
			}
		}
	}
	return stderr
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQuickstartExample(t *testing.T) {
	r := runArroyo(t, "", "run", "../../examples/nexmark_bids.sql")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 10 {
		t.Fatalf("expected many rows, got %d:\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		for _, k := range []string{"auction", "bidder", "price_usd", "price_eur", "channel"} {
			if _, ok := row[k]; !ok {
				t.Fatalf("row %s lacks %q", l, k)
			}
		}
		if row["price_usd"].(float64) <= 1000000 {
			t.Fatalf("filter not applied: %s", l)
		}
	}
}

func TestSingleFilePipeline(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.json", `{"id": 1, "name": "a", "price": "12.5"}
{"id": 2, "name": "b", "price": "7"}
{"id": 3, "name": null, "price": "100"}
`)
	out := filepath.Join(dir, "out.json")
	sql := writeFile(t, dir, "p.sql", `
CREATE TABLE src (id BIGINT, name TEXT, price TEXT) WITH (connector = 'single_file', path = '`+in+`', format = 'json', type = 'source');
CREATE TABLE dst (id BIGINT, label TEXT, price DOUBLE) WITH (connector = 'single_file', path = '`+out+`', format = 'json', type = 'sink');
INSERT INTO dst
SELECT id, COALESCE(upper(name), 'none') || '#' || CAST(id AS TEXT), CAST(price AS DOUBLE) * 2
FROM src WHERE CAST(price AS DOUBLE) > 10;
`)
	for _, p := range []string{"1", "3"} {
		r := runArroyo(t, "", "run", "-p", p, sql)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("p=%s: exit %d, stdout %q, stderr %s", p, r.code, r.stdout, r.stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		want := map[string]bool{`{"id":1,"label":"A#1","price":25.0}`: true, `{"id":3,"label":"none#3","price":200.0}`: true}
		if len(lines) != len(want) {
			t.Fatalf("p=%s: got %q", p, got)
		}
		for _, l := range lines {
			if !want[l] {
				t.Fatalf("p=%s: unexpected row %s in %q", p, l, got)
			}
		}
	}
}

func TestQueryFromStdin(t *testing.T) {
	r := runArroyo(t, `CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '1000000', message_count = '5');
SELECT counter, counter * 10 AS tens FROM impulse;`, "run", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := []string{`{"counter":0,"tens":0}`, `{"counter":1,"tens":10}`, `{"counter":2,"tens":20}`, `{"counter":3,"tens":30}`, `{"counter":4,"tens":40}`}
	if got := strings.Split(strings.TrimSpace(r.stdout), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s", r.stdout)
	}
}

func TestBadInputErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.json", "{\"id\": 1}\n{\"id\": \"x\"}\n{\"id\": 3}\n")
	cases := []struct {
		name, sql, want string
	}{
		{"syntax", "CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '1');\nSELECT bid.price\nFROM n WHERE bid.price > > 1;", "syntax.sql:3:"},
		{"unknown_column", "CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '1');\nSELECT bid.prize FROM n;", "syntax.sql:2:8: struct 'bid' has no field 'prize'"},
		{"bad_option", "CREATE TABLE n WITH (connector = 'nexmark', event_rate = 'fast');\nSELECT bid FROM n;", "invalid value 'fast' for option 'event_rate'"},
		{"unknown_option", "CREATE TABLE n WITH (connector = 'nexmark', event_rate = '1', speed = '2');\nSELECT bid FROM n;", "unknown option 'speed'"},
		{"missing_file", "CREATE TABLE s (id BIGINT) WITH (connector = 'single_file', path = '" + dir + "/nope.json', format = 'json');\nSELECT id FROM s;", "no such file or directory"},
		{"bad_record", "CREATE TABLE s (id BIGINT) WITH (connector = 'single_file', path = '" + in + "', format = 'json');\nSELECT id FROM s;", "in.json:2: bad record: field 'id': expected integer"},
		{"unknown_function", "CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '1');\nSELECT nope(bid.price) FROM n;", "unknown function 'nope'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := writeFile(t, dir, "syntax.sql", c.sql)
			r := runArroyo(t, "", "run", f)
			if r.code == 0 {
				t.Fatalf("expected failure, got exit 0; stdout %q", r.stdout)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Fatalf("stderr %q does not contain %q", r.stderr, c.want)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Fatalf("expected one error line, got:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Fatalf("panicked: %s", r.stderr)
			}
		})
	}
}

func TestBadDataDropIsCounted(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.json", "{\"id\": 1}\nnot json\n{\"id\": \"x\"}\n{\"id\": 3}\n")
	sql := writeFile(t, dir, "p.sql", "CREATE TABLE s (id BIGINT) WITH (connector = 'single_file', path = '"+in+"', format = 'json', bad_data = 'drop');\nSELECT id FROM s;")
	r := runArroyo(t, "", "run", sql)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != "{\"id\":1}\n{\"id\":3}\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "source 's': dropped 2 bad records") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestParallelismFlag(t *testing.T) {
	r := runArroyo(t, "SELECT 1", "run", "-p", "0", "-")
	if r.code == 0 || !strings.Contains(r.stderr, "--parallelism must be at least 1") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// An unbounded pipeline stops cleanly on SIGINT: exit 0, complete lines.
func TestInterruptStopsCleanly(t *testing.T) {
	cmd := exec.Command(binary, "run", "-p", "2", "-")
	cmd.Stdin = strings.NewReader("CREATE TABLE n WITH (connector = 'nexmark', event_rate = '2000');\nSELECT bid.auction, bid.price FROM n WHERE bid IS NOT NULL;")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	lines := 0
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		lines++
		if lines == 20 {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitCleanExit(t, cmd, &stderr)
	if lines < 20 {
		t.Fatalf("only %d lines", lines)
	}
}

// waitCleanExit waits for the interrupted command to exit 0, killing it
// if it has not stopped within 30 s.
func waitCleanExit(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not stop within 30s of SIGINT")
	}
}

// Ctrl-C on an unbounded pipeline commits what a file sink was given before
// the stop barrier: the file replaces the old one and holds exactly the rows
// of a prefix of the stream (the same rows the stdout sink printed), each
// line whole.
func TestInterruptCommitsFileSink(t *testing.T) {
	dir := t.TempDir()
	out := writeFile(t, dir, "out.json", "previous\n")
	cmd := exec.Command(binary, "run", "-")
	cmd.Stdin = strings.NewReader(`CREATE TABLE i WITH (connector = 'impulse', event_rate = '200');
CREATE TABLE f WITH (connector = 'single_file', path = '` + out + `', format = 'json', type = 'sink');
INSERT INTO f SELECT counter FROM i;
SELECT counter FROM i;`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	printed := map[string]bool{}
	for sc.Scan() {
		printed[sc.Text()] = true
		if len(printed) == 5 {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitCleanExit(t, cmd, &stderr)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(got) == 0 || got[len(got)-1] != '\n' || len(lines) < 5 {
		t.Fatalf("file sink after Ctrl-C: %q", got)
	}
	for i, l := range lines {
		if want := fmt.Sprintf(`{"counter":%d}`, i); l != want {
			t.Fatalf("line %d is %q, want %q (a prefix of the stream)", i+1, l, want)
		}
		if !printed[l] {
			t.Errorf("line %q is in the file but was not printed: the two sinks cut the stream at different points", l)
		}
	}
	if len(lines) != len(printed) {
		t.Errorf("file has %d rows, stdout printed %d", len(lines), len(printed))
	}
}

// Every bounded example in examples/ runs and exits 0, so the README's tour
// stays true. impulse.sql is unbounded and bench_q1.sql is a 20M-event
// throughput check; they are left out.
func TestExamplesRun(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.sql")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		switch filepath.Base(f) {
		case "impulse.sql", "bench_q1.sql":
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			cmd := exec.Command(binary, "run", "examples/"+filepath.Base(f))
			cmd.Dir = "../.."
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := runArroyo(t, "", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "arroyo ") || !strings.HasSuffix(r.stdout, ", "+runtime.Version()+"\n") {
		t.Fatalf("--version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestVersionOf(t *testing.T) {
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3, go1.26"},
		{debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "(devel)"}}, "(devel), go1.26"},
		{debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "revision 0123456789ab+dirty, go1.26"},
		{debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v0.1.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, "v0.1.0, revision abc, go1.26"},
	} {
		if got := versionOf(&tc.bi); got != tc.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

// With a character device (a terminal; /dev/null is one too) on standard
// input and no file, run says it is waiting for SQL; with a pipe it does
// not.
func TestStdinNotice(t *testing.T) {
	const notice = "reading SQL from standard input (Ctrl-D to end)\n"
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	cmd := exec.Command(binary, "run")
	cmd.Stdin = devNull
	var errb bytes.Buffer
	cmd.Stderr = &errb
	_ = cmd.Run() // an empty query fails; the notice comes first
	if !strings.HasPrefix(errb.String(), notice) {
		t.Fatalf("stdin a character device: stderr %q, want the notice first", errb.String())
	}
	r := runArroyo(t, "SELECT 1 AS x;", "run")
	if strings.Contains(r.stderr, "reading SQL") {
		t.Fatalf("stdin a pipe: stderr %q has the notice", r.stderr)
	}
}

func runArroyoEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{out.String(), stripStateDir(errb.String()), cmd.ProcessState.ExitCode()}
}

// -p had no upper bound: 100,000,000 ran out of memory. It is capped by
// pipeline.max_parallelism (default 1024), from a --config file or
// ARROYO__PIPELINE__MAX_PARALLELISM, before the query is read.
func TestParallelismCap(t *testing.T) {
	dir := t.TempDir()
	sql := writeFile(t, dir, "p.sql", "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1e9', message_count = '6');\nSELECT counter FROM i;\n")
	cfg := writeFile(t, dir, "arroyo.toml", "[pipeline]\nmax-parallelism = 2\n")
	bad := writeFile(t, dir, "bad.toml", "[pipeline]\nmax_parallelism = 'many'\n")
	const capMsg = "error: --parallelism %d exceeds the maximum of %d (set pipeline.max_parallelism in the config file or ARROYO__PIPELINE__MAX_PARALLELISM to allow more)\n"
	for _, tc := range []struct {
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{nil, []string{"run", "-p", "100000000", sql}, 1, fmt.Sprintf(capMsg, 100000000, 1024)},
		{nil, []string{"run", "-p", "1025", sql}, 1, fmt.Sprintf(capMsg, 1025, 1024)},
		{[]string{"ARROYO__PIPELINE__MAX_PARALLELISM=2"}, []string{"run", "-p", "3", sql}, 1, fmt.Sprintf(capMsg, 3, 2)},
		{nil, []string{"--config", cfg, "run", "-p", "3", sql}, 1, fmt.Sprintf(capMsg, 3, 2)},
		{nil, []string{"run", "--config", cfg, "-p", "2", sql}, 0, ""},
		// The environment overrides the file.
		{[]string{"ARROYO__PIPELINE__MAX_PARALLELISM=3"}, []string{"--config", cfg, "run", "-p", "3", sql}, 0, ""},
		{[]string{"ARROYO__PIPELINE__MAX_PARALLELISM=none"}, []string{"run", sql}, 1,
			"error: environment variable ARROYO__PIPELINE__MAX_PARALLELISM: pipeline.max_parallelism: expected an integer\n"},
		{nil, []string{"--config", bad, "run", sql}, 1, "error: config " + bad + ": pipeline.max_parallelism: expected an integer\n"},
	} {
		r := runArroyoEnv(t, tc.env, tc.args...)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("%v %v: exit %d, stderr %q; want %d, %q", tc.env, tc.args, r.code, r.stderr, tc.code, tc.stderr)
		}
		if tc.code == 0 && strings.Count(r.stdout, "\n") != 6 {
			t.Errorf("%v %v: stdout %q, want 6 rows", tc.env, tc.args, r.stdout)
		}
	}
}

// A run that fails part-way (a bad record after many good rows, with
// bad_data = 'fail') leaves the previous output file exactly as it was and
// no temporary file beside it: a failed run writes nothing to its target.
//
// The bad record is far enough in (about 73 batches) that backpressure (the
// bounded queues hold far fewer) makes the sink write rows before the
// source reaches it.
func TestFailedRunKeepsPreviousOutput(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	const bad = 300000
	for i := 1; i <= bad; i++ {
		if i == bad {
			in.WriteString("{\"id\": \"bad\"}\n")
			break
		}
		fmt.Fprintf(&in, "{\"id\": %d}\n", i)
	}
	inPath := writeFile(t, dir, "in.json", in.String())
	out := writeFile(t, dir, "out.json", "{\"id\": -1}\n")
	sql := writeFile(t, dir, "p.sql", "CREATE TABLE s (id BIGINT) WITH (connector = 'single_file', path = '"+inPath+"', format = 'json', type = 'source');\n"+
		"CREATE TABLE o (id BIGINT) WITH (connector = 'single_file', path = '"+out+"', format = 'json', type = 'sink');\n"+
		"INSERT INTO o SELECT id FROM s;\n")
	r := runArroyo(t, "", "run", sql)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("in.json:%d: bad record", bad)) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "{\"id\": -1}\n" {
		t.Fatalf("previous output changed to %d bytes", len(got))
	}
	if names, _ := filepath.Glob(filepath.Join(dir, ".*")); len(names) != 0 {
		t.Fatalf("left behind: %v", names)
	}
}

// A sink over its own input or over the SQL file is refused at planning,
// and neither file is touched.
func TestSinkOverInputRefused(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.json", "{\"id\": 1}\n{\"id\": 2}\n")
	sqlPath := filepath.Join(dir, "p.sql")
	cases := map[string]string{
		"sink table 'o' would overwrite the input of source table 's'": in,
		"sink table 'o' would overwrite the SQL file being run":        sqlPath,
	}
	for want, target := range cases {
		sql := "CREATE TABLE s (id BIGINT) WITH (connector = 'single_file', path = '" + in + "', format = 'json', type = 'source');\n" +
			"CREATE TABLE o (id BIGINT) WITH (connector = 'single_file', path = '" + target + "', format = 'json', type = 'sink');\n" +
			"INSERT INTO o SELECT id FROM s;\n"
		writeFile(t, dir, "p.sql", sql)
		r := runArroyo(t, "", "run", sqlPath)
		if r.code != 1 || !strings.Contains(r.stderr, "p.sql:2:14: "+want) {
			t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
		}
		if got, _ := os.ReadFile(in); string(got) != "{\"id\": 1}\n{\"id\": 2}\n" {
			t.Fatalf("input changed to %q", got)
		}
		if got, _ := os.ReadFile(sqlPath); string(got) != sql {
			t.Fatalf("SQL file changed to %q", got)
		}
	}
}
