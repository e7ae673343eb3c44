package controller_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
)

func submit(t *testing.T, query string) (*controller.Job, error) {
	t.Helper()
	ctl := controller.New(&scheduler.Embedded{}, config.Default())
	return ctl.Submit(context.Background(), controller.Pipeline{Name: "t", File: "t.sql", Query: query, Parallelism: 2})
}

func TestJobStates(t *testing.T) {
	const src = "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000000', message_count = '%s');\nCREATE TABLE out WITH (connector = 'blackhole');\n"
	cases := []struct {
		name  string
		query string
		stop  bool
		want  []controller.State
		err   string
	}{
		{"finishes", strings.Replace(src, "%s", "100", 1) + "INSERT INTO out SELECT counter FROM i;", false,
			[]controller.State{controller.Created, controller.Compiling, controller.Scheduling, controller.Running, controller.Finishing, controller.Finished}, ""},
		{"fails at run time", strings.Replace(src, "%s", "100", 1) + "INSERT INTO out SELECT 10 / (counter - counter) FROM i;", false,
			[]controller.State{controller.Created, controller.Compiling, controller.Scheduling, controller.Running, controller.Failing, controller.Failed}, "division by zero"},
		{"stops", "CREATE TABLE i WITH (connector = 'impulse', event_rate = '100');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT counter FROM i;", true,
			[]controller.State{controller.Created, controller.Compiling, controller.Scheduling, controller.Running, controller.Stopping, controller.Stopped}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := submit(t, c.query)
			if err != nil {
				t.Fatal(err)
			}
			if c.stop {
				j.Stop()
			}
			err = j.Wait()
			if c.err == "" && err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("Wait: %v, want %q", err, c.err)
			}
			if got := j.History(); !slices.Equal(got, c.want) {
				t.Fatalf("states %v, want %v", got, c.want)
			}
			if j.State() != c.want[len(c.want)-1] {
				t.Fatalf("state %s", j.State())
			}
		})
	}
}

func TestPlanErrorIsTyped(t *testing.T) {
	_, err := submit(t, "SELECT nope FROM nowhere;")
	var pe *controller.PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *PlanError, got %T: %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "t.sql:1:") {
		t.Fatalf("message %q should point into the file", err)
	}
}

// The cap lives in Submit, so the API gets it as well as the CLI: a huge
// parallelism used to run out of memory building subtasks.
func TestSubmitCapsParallelism(t *testing.T) {
	cfg := config.Default()
	cfg.Pipeline.MaxParallelism = 4
	ctl := controller.New(&scheduler.Embedded{}, cfg)
	q := "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1e9', message_count = '10');\nSELECT counter FROM i;"
	for _, tc := range []struct {
		p   int
		err string
	}{
		{5, "parallelism 5 exceeds the maximum of 4 (set pipeline.max_parallelism in the config file or ARROYO__PIPELINE__MAX_PARALLELISM to allow more)"},
		{100_000_000, "parallelism 100000000 exceeds the maximum of 4"},
		{-1, "parallelism must be at least 1, got -1"},
	} {
		_, err := ctl.Submit(context.Background(), controller.Pipeline{Name: "t", File: "t.sql", Query: q, Parallelism: tc.p, DefaultSink: "blackhole"})
		if !errors.Is(err, controller.ErrParallelism) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parallelism %d: %v, want %q", tc.p, err, tc.err)
		}
	}
	job, err := ctl.Submit(context.Background(), controller.Pipeline{Name: "t", File: "t.sql", Query: q, Parallelism: 4, DefaultSink: "blackhole"})
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); err != nil {
		t.Fatal(err)
	}
	if d := config.Default().Pipeline.MaxParallelism; d != 1024 {
		t.Fatalf("default max_parallelism %d, want 1024", d)
	}
}

const unbounded = "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT counter FROM i;"

// The job's lifetime is its own: a caller (a REST handler) whose context
// ends once Submit has returned does not cancel the job; Stop still stops
// it cleanly, and Cancel still ends it at once.
func TestSubmitContextBoundsOnlyTheSubmission(t *testing.T) {
	ctl := controller.New(&scheduler.Embedded{}, config.Default())
	ctx, cancel := context.WithCancel(context.Background())
	j, err := ctl.Submit(ctx, controller.Pipeline{Name: "t", File: "t.sql", Query: unbounded, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // the handler returned
	if j.State() != controller.Running {
		t.Fatalf("state %s after the submit context ended, want Running", j.State())
	}
	j.Stop()
	if err := j.Wait(); err != nil {
		t.Fatalf("Wait: %v (the submit context's end reached the job)", err)
	}
	if s := j.State(); s != controller.Stopped {
		t.Fatalf("state %s, want Stopped", s)
	}

	j, err = ctl.Submit(context.Background(), controller.Pipeline{Name: "t", File: "t.sql", Query: unbounded, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	j.Cancel()
	if err := j.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after Cancel: %v, want context.Canceled", err)
	}
	if s := j.State(); s != controller.Failed {
		t.Fatalf("state %s after Cancel, want Failed", s)
	}
}

// A submission whose context has already ended starts nothing.
func TestSubmitWithEndedContext(t *testing.T) {
	ctl := controller.New(&scheduler.Embedded{}, config.Default())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ctl.Submit(ctx, controller.Pipeline{Name: "t", File: "t.sql", Query: unbounded, Parallelism: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit: %v, want context.Canceled", err)
	}
}

// Metrics are per operator subtask: every subtask of every node has its
// own rows_out, and Sum adds one operator's up.
func TestCountersPerOperator(t *testing.T) {
	q := "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1e9', message_count = '1000');\nCREATE TABLE out WITH (connector = 'blackhole');\n" +
		"INSERT INTO out SELECT counter FROM i WHERE counter % 2 = 0;"
	j, err := submit(t, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Wait(); err != nil {
		t.Fatal(err)
	}
	m := j.Counters()
	seen := map[controller.MetricKey]bool{}
	for k := range m {
		if k.Subtask < 0 || k.Subtask >= 2 {
			t.Errorf("%+v: subtask out of range", k)
		}
		seen[k] = true
	}
	for _, n := range j.Program.Nodes {
		for i := range n.Parallelism {
			k := controller.MetricKey{Node: n.ID, OperatorID: n.OperatorID, Operator: n.Description, Subtask: i, Name: "rows_out"}
			if !seen[k] {
				t.Errorf("no counter %+v in %v", k, m)
			}
		}
	}
	if got := controller.Sum(m, 0, "rows_out"); got != 1000 {
		t.Errorf("source rows_out %d, want 1000", got)
	}
}
