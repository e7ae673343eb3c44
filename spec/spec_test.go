package spec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files from the parallelism-1 output")

// parallelisms every streaming case runs at; all must give the same output.
var parallelisms = []int{1, 3}

type directives struct {
	fail string   // --fail=<substring>: planning or running must fail with it
	pk   []string // --pk=<col>[,<col>]: output is a changelog keyed by these
}

func parseDirectives(sql string) directives {
	var d directives
	first, _, _ := strings.Cut(sql, "\n")
	first = strings.TrimSpace(first)
	switch {
	case strings.HasPrefix(first, "--fail="):
		d.fail = strings.TrimPrefix(first, "--fail=")
	case strings.HasPrefix(first, "--pk="):
		for _, c := range strings.Split(strings.TrimPrefix(first, "--pk="), ",") {
			d.pk = append(d.pk, strings.TrimSpace(c))
		}
	}
	return d
}

func TestSpec(t *testing.T) {
	files, err := filepath.Glob("queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no spec cases found: %v", err)
	}
	inputs, err := filepath.Abs("inputs")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := parseDirectives(string(raw))
			golden := filepath.Join("golden", name+".json")
			for _, p := range parallelisms {
				out := filepath.Join(t.TempDir(), "out.json")
				sql := strings.ReplaceAll(string(raw), "$input_dir", inputs)
				sql = strings.ReplaceAll(sql, "$output_path", out)
				err := runCase(f, sql, p)
				if d.fail != "" {
					if err == nil {
						t.Fatalf("p=%d: expected an error containing %q, got success", p, d.fail)
					}
					if !strings.Contains(err.Error(), d.fail) {
						t.Fatalf("p=%d: expected an error containing %q, got: %v", p, d.fail, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("p=%d: %v", p, err)
				}
				if *rewrite && p == parallelisms[0] {
					data, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := compareFiles(golden, out, d.pk); err != nil {
					t.Fatalf("p=%d: %v", p, err)
				}
			}
		})
	}
}

func runCase(file, sql string, parallelism int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctl := controller.New(&scheduler.Embedded{}, config.Default())
	job, err := ctl.Submit(ctx, controller.Pipeline{Name: "spec", File: file, Query: sql, Parallelism: parallelism})
	if err != nil {
		return err
	}
	return job.Wait()
}

// compareFiles compares the rows of two JSON-lines files as multisets of
// normalized values; with pk, both are replayed as Debezium changelogs
// first.
func compareFiles(wantPath, gotPath string, pk []string) error {
	want, err := readRows(wantPath, pk)
	if err != nil {
		return fmt.Errorf("golden %s: %w (run `go test ./spec -rewrite` to create it)", wantPath, err)
	}
	got, err := readRows(gotPath, pk)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return nil
	}
	return fmt.Errorf("output differs from %s\n%s", wantPath, diffRows(want, got))
}

func diffRows(want, got []string) string {
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		count[r]--
	}
	var b strings.Builder
	fmt.Fprintf(&b, "want %d rows, got %d\n", len(want), len(got))
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	shown := 0
	for _, k := range keys {
		if c := count[k]; c != 0 && shown < 20 {
			sign := "missing"
			if c < 0 {
				sign, c = "unexpected", -c
			}
			fmt.Fprintf(&b, "  %s (x%d): %s\n", sign, c, k)
			shown++
		}
	}
	return b.String()
}

// readRows returns the canonical forms of the rows of a JSON-lines file,
// sorted.
func readRows(path string, pk []string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pk != nil {
		if rows, err = replay(rows, pk); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		b, err := json.Marshal(normalize(r))
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	sort.Strings(out)
	return out, nil
}

// replay applies a Debezium changelog ({"before","after","op"}) and returns
// the final rows.
func replay(rows []map[string]any, pk []string) ([]map[string]any, error) {
	state := map[string]map[string]any{}
	var order []string
	key := func(r map[string]any) string {
		parts := make([]any, len(pk))
		for i, c := range pk {
			parts[i] = normalize(r[c])
		}
		b, _ := json.Marshal(parts)
		return string(b)
	}
	for i, r := range rows {
		op, _ := r["op"].(string)
		before, _ := r["before"].(map[string]any)
		after, _ := r["after"].(map[string]any)
		switch op {
		case "c", "r":
			if after == nil {
				return nil, fmt.Errorf("row %d: op %q without after", i+1, op)
			}
		case "u":
			if before == nil || after == nil {
				return nil, fmt.Errorf("row %d: op u needs before and after", i+1)
			}
			delete(state, key(before))
		case "d":
			if before == nil {
				return nil, fmt.Errorf("row %d: op d without before", i+1)
			}
			delete(state, key(before))
			continue
		default:
			return nil, fmt.Errorf("row %d: not a changelog row (op = %v)", i+1, r["op"])
		}
		k := key(after)
		if _, ok := state[k]; !ok {
			order = append(order, k)
		}
		state[k] = after
	}
	var out []map[string]any
	for _, k := range order {
		if r, ok := state[k]; ok {
			out = append(out, r)
			delete(state, k)
		}
	}
	return out, nil
}

// normalize makes equal values compare equal: numbers by value (1 = 1.0),
// timestamps by instant.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = normalize(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	case json.Number:
		r, ok := new(big.Rat).SetString(v.String())
		if !ok {
			return v.String()
		}
		return "num:" + r.RatString()
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, v); err == nil {
				return "ts:" + t.UTC().Format(time.RFC3339Nano)
			}
		}
		return v
	}
	return v
}
