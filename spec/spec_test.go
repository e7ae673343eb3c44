package spec

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/engine/dataflow"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the output sections of the cases whose output differs, from the output at the lowest parallelism")

// TestSpec runs every cases/*.test at each of its parallelisms.
func TestSpec(t *testing.T) {
	files, err := filepath.Glob("cases/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no spec cases found: %v", err)
	}
	if old, _ := filepath.Glob("queries/*.sql"); len(old) > 0 {
		t.Errorf("%d cases in the old format (queries/*.sql); convert them: go test ./spec -run TestConvertV1 -convert", len(old))
	}
	inputs, err := filepath.Abs("inputs")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".test")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if why := udfSkip(c); why != "" { // spec/udf_test.go
				t.Skip(why)
			}
			if m := checkpointRestoreAt(c); m != 0 && !*rewrite {
				defer func() {
					if t.Failed() {
						return
					}
					cut, err := runCheckpointRestore(c, inputs, t.TempDir(), c.Parallelism[len(c.Parallelism)-1], m, nil)
					if err != nil {
						t.Fatalf("checkpoint-restore: %v", err)
					}
					t.Logf("checkpoint-restore: %s", cut)
				}()
			}
			for _, p := range c.Parallelism {
				if err := runCase(c, inputs, t.TempDir(), p); err != nil {
					var rw *rewriteNeeded
					if *rewrite && p == c.Parallelism[0] && errors.As(err, &rw) {
						if c, err = rewriteCase(c, rw.rows); err != nil {
							t.Fatal(err)
						}
						t.Logf("rewrote the output of %s", c.Path)
						continue
					}
					t.Fatalf("p=%d: %v", p, err)
				}
			}
		})
	}
}

// DefaultCheckpointRestore is the parallelism a case without
// "-- checkpoint-restore:" is restored at: every case that expects rows and
// is not a changelog (pk) goes through a checkpoint and a restore.
const DefaultCheckpointRestore = 2

// checkpointRestoreAt returns the parallelism c's checkpoint-restore run
// restores at, or 0 for none.
func checkpointRestoreAt(c *Case) int {
	switch {
	case c.CheckpointRestore != 0:
		return c.CheckpointRestore
	case c.Error == "":
		return DefaultCheckpointRestore
	}
	return 0
}

// rewriteNeeded is the error of an output comparison: it carries the rows
// -rewrite would write, per output.
type rewriteNeeded struct {
	err  error
	rows map[string][]string
}

func (e *rewriteNeeded) Error() string { return e.err.Error() }

// runCase runs c once at parallelism p with scratch files in dir.
func runCase(c *Case, inputs, dir string, p int) error {
	sql, outputPath, err := expandCase(c, inputs, dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var job *controller.Job
	funcs, err := caseFunctions(c) // spec/udf_test.go
	if err == nil {
		ctl := controller.New(&scheduler.Embedded{Options: dataflow.Options{Functions: funcs}}, config.Default())
		job, err = ctl.Submit(ctx, controller.Pipeline{Name: "spec", File: c.Path, Query: sql, Parallelism: p, Functions: funcs})
	}
	if err == nil {
		err = job.Wait()
	}
	if c.Error != "" {
		if err == nil {
			return fmt.Errorf("expected an error containing %q, got success", c.Error)
		}
		if !strings.Contains(err.Error(), c.Error) {
			return fmt.Errorf("expected an error containing %q, got: %v", c.Error, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkLateRows(c, job.Counters()); err != nil {
		return err
	}
	return compareOutputs(c, func(name string) ([]byte, error) { return os.ReadFile(outputPath(name)) })
}

// compareOutputs compares what read returns for each of c's outputs with
// the expected rows; a difference is a *rewriteNeeded.
func compareOutputs(c *Case, read func(name string) ([]byte, error)) error {
	cmp := Comparer{Loose: c.LooseNumbers}
	var failures []string
	rows := map[string][]string{}
	for _, o := range c.Outputs {
		data, err := read(o.Name)
		if err != nil {
			return fmt.Errorf("output %s: %w", outputRef(o.Name), err)
		}
		got, err := ParseRows(data)
		if err != nil {
			return fmt.Errorf("output %s: %w", outputRef(o.Name), err)
		}
		want := make([]Row, len(o.Rows))
		for i, r := range o.Rows {
			if want[i], err = ParseRow(r.Text, r.Line); err != nil {
				return fmt.Errorf("%s: expected %s: %w", c.Path, outputRef(o.Name), err)
			}
		}
		if c.PK != nil {
			if err := cmp.UniqueKeys(want, c.PK); err != nil {
				return fmt.Errorf("%s: %w", c.Path, err)
			}
			if got, err = cmp.Replay(got, c.PK); err != nil {
				return fmt.Errorf("output %s is not a valid changelog keyed by %s: %w", outputRef(o.Name), strings.Join(c.PK, ", "), err)
			}
		}
		if err := cmp.Diff(want, got); err != nil {
			failures = append(failures, fmt.Sprintf("output %s differs from %s:%d\n%v", outputRef(o.Name), c.Path, o.Line, err))
			for _, r := range got {
				rows[o.Name] = append(rows[o.Name], r.Text)
			}
		}
	}
	if failures != nil {
		return &rewriteNeeded{err: errors.New(strings.Join(failures, "\n")), rows: rows}
	}
	return nil
}

// expandCase writes c's inline inputs into dir and returns its SQL with the
// placeholders replaced, and the path of each output.
func expandCase(c *Case, inputs, dir string) (string, func(name string) string, error) {
	inputPath := map[string]string{}
	for _, in := range c.Inputs {
		if in.File != "" {
			inputPath[in.Name] = filepath.Join(inputs, in.File)
			continue
		}
		path := filepath.Join(dir, in.Name+".json")
		if err := os.WriteFile(path, in.Data, 0o644); err != nil {
			return "", nil, err
		}
		inputPath[in.Name] = path
	}
	outputPath := func(name string) string {
		if name == "" {
			return filepath.Join(dir, "out.json")
		}
		return filepath.Join(dir, "out."+name+".json")
	}
	return c.Expand(func(name string) string { return inputPath[name] }, outputPath), outputPath, nil
}

// rewriteCase replaces the bodies of the named output sections of c's file
// with rows and returns the case parsed again.
func rewriteCase(c *Case, rows map[string][]string) (*Case, error) {
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	// from the last section up, so earlier line numbers stay valid
	for i := len(c.Outputs) - 1; i >= 0; i-- {
		o := c.Outputs[i]
		r, ok := rows[o.Name]
		if !ok {
			continue
		}
		body := append([]string(nil), r...)
		end := o.BodyEnd - 1 // 0-based exclusive
		if end < len(lines) {
			body = append(body, "") // a blank line before the next section
		}
		lines = append(lines[:o.BodyStart-1], append(body, lines[end:]...)...)
	}
	if err := os.WriteFile(c.Path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return ParseFile(c.Path)
}
