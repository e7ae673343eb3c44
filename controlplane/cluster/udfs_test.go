package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/apihost"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// udfCluster is an in-process cluster as `arroyo cluster` wires it: the
// API with the wasm UDF host, the runner on the per-job-functions
// scheduler, its metrics on an admin endpoint.
type udfCluster struct {
	c      *client.Client
	runner *cluster.Runner
	admin  string // the admin endpoint's URL
}

func newUDFCluster(t *testing.T, ctx context.Context) *udfCluster {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "config.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	host, err := apihost.New(ctx, wasm.Config{CacheDir: wasmtest.CacheDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close(context.Background()) })
	sched := &cluster.Scheduler{}
	runner := &cluster.Runner{Store: st, Ctl: controller.New(sched, config.Default()), Checkpoints: checkpoint.Local{Root: dir},
		DefaultSink: "blackhole", UDFs: host, Scheduler: sched}
	runner.Metrics = cluster.NewMetrics(runner)
	t.Cleanup(func() { runner.Shutdown(context.Background()) })
	reg := api.NewRegistry()
	reg.MustRegister(runner.Metrics)
	srv, err := api.New(api.Options{Store: st, Runner: runner, UDFs: host, DefaultSink: "blackhole", Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	as := httptest.NewServer(api.AdminHandler(reg))
	t.Cleanup(as.Close)
	return &udfCluster{c: client.New(hs.URL, ""), runner: runner, admin: as.URL}
}

// TestUDFsThroughTheAPI: a UDF module stored with POST /udfs (its name
// read from the module), refused when malformed (400 naming what is wrong)
// or taken (409); a pipeline calling it (without listing it: stored UDFs
// are global) plans, runs on the cluster and
// writes the UDF's results; deleting it while a running pipeline calls it
// is a 409 naming the pipeline, allowed once that pipeline has stopped.
func TestUDFsThroughTheAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mod := wasmtest.Go(t, "examples/udfs/go/reverse") // my_reverse(TEXT) -> TEXT
	bad := wasmtest.WAT(t, "spec/udfs/badabi.wat")
	f := newUDFCluster(t, ctx)
	c := f.c

	v, err := c.ValidateUDF(ctx, api.ValidateUdfPost{Definition: mod})
	if err != nil || len(v.Errors) != 0 || v.UdfName == nil || *v.UdfName != "my_reverse" {
		t.Fatalf("validate: %+v, %v", v, err)
	}
	v, err = c.ValidateUDF(ctx, api.ValidateUdfPost{Definition: bad})
	if err != nil || len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "ABI") || v.UdfName != nil {
		t.Errorf("validate a module of another ABI: %+v, %v", v, err)
	}
	if _, err := c.CreateUDF(ctx, api.UdfPost{Definition: bad}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "definition: ") || !strings.Contains(err.Error(), "ABI") {
		t.Errorf("create from a module of another ABI: %v (want a 400 naming the definition and the ABI)", err)
	}
	if _, err := c.CreateUDF(ctx, api.UdfPost{Definition: mod[:len(mod)/2]}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "not a valid WebAssembly module") {
		t.Errorf("create from a truncated module: %v", err)
	}
	u, err := c.CreateUDF(ctx, api.UdfPost{Definition: mod, Description: "reverses text"})
	if err != nil || u.Name != "my_reverse" || !strings.HasPrefix(u.ID, "udf_") {
		t.Fatalf("create: %+v, %v", u, err)
	}
	if _, err := c.CreateUDF(ctx, api.UdfPost{Definition: mod}); !client.IsConflict(err) {
		t.Errorf("the same name again: %v, want 409", err)
	}
	if us, err := c.UDFs(ctx); err != nil || len(us) != 1 || us[0].ID != u.ID {
		t.Errorf("list: %+v, %v", us, err)
	}

	// A bounded pipeline calling the UDF: file in, file out.
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(in, []byte("{\"w\":\"stream\"}\n{\"w\":\"wasm\"}\n{\"w\":\"héllo\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`CREATE TABLE words (w TEXT) WITH (connector = 'single_file', path = '%s', format = 'json', type = 'source');
CREATE TABLE out (r TEXT) WITH (connector = 'single_file', path = '%s', format = 'json', type = 'sink');
INSERT INTO out SELECT my_reverse(w) AS r FROM words;`, in, out)
	// Stored UDFs are global, as Arroyo's: the query calls it without
	// listing it in udfs; the pipeline records that it uses it.
	if v, err := c.ValidateQuery(ctx, api.ValidateQueryPost{Query: q}); err != nil || len(v.Errors) != 0 {
		t.Errorf("validate a query calling the UDF: %+v, %v", v, err)
	}
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "rev", Parallelism: 1, Query: q})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Udfs) != 1 || p.Udfs[0].Name != "my_reverse" {
		t.Errorf("pipeline udfs %+v, want my_reverse", p.Udfs)
	}
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return store.Terminal(j.State) })
	if err != nil || j.State != "Finished" {
		t.Fatalf("the pipeline calling the UDF: %+v, %v", j, err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"r\":\"maerts\"}\n{\"r\":\"msaw\"}\n{\"r\":\"olléh\"}\n"; string(got) != want {
		t.Errorf("output %q, want %q", got, want)
	}

	// A running pipeline holds the UDF.
	run, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "live", Parallelism: 2, Udfs: []api.Udf{{Name: "my_reverse"}},
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '200');\nSELECT my_reverse(CAST(counter AS TEXT)) AS r FROM i;"})
	if err != nil {
		t.Fatal(err)
	}
	live, err := c.WaitForJob(ctx, run.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Running" || store.Terminal(j.State) })
	if err != nil || live.State != "Running" {
		t.Fatalf("the running pipeline: %+v, %v", live, err)
	}
	if err := c.DeleteUDF(ctx, u.ID); !client.IsConflict(err) || !strings.Contains(err.Error(), run.ID) || strings.Contains(err.Error(), p.ID) {
		t.Errorf("delete a UDF a running pipeline calls: %v (want 409 naming %s, not the finished %s)", err, run.ID, p.ID)
	}

	// Its operators' counters are on /metrics while it runs.
	if n := scrapeUntil(t, ctx, f.admin, "arroyo_operator_rows_out_total", run.ID, live.ID); n <= 0 {
		t.Errorf("rows out %v", n)
	}
	body := scrape(t, ctx, f.admin)
	if !strings.Contains(body, fmt.Sprintf(`arroyo_job_state{job_id=%q,pipeline_id=%q,state="Running"} 1`, live.ID, run.ID)) {
		t.Errorf("no Running state gauge for %s:\n%s", live.ID, grep(body, "arroyo_job_state"))
	}

	stop := "checkpoint"
	if _, err := c.PatchPipeline(ctx, run.ID, api.PipelinePatch{Stop: &stop}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForJob(ctx, run.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Stopped" }); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, ctx, f.admin)
	if !strings.Contains(body, fmt.Sprintf(`arroyo_checkpoint_duration_seconds_count{job_id=%q,pipeline_id=%q}`, live.ID, run.ID)) {
		t.Errorf("no checkpoint durations for %s after its stop checkpoint:\n%s", live.ID, grep(body, "arroyo_checkpoint"))
	}
	if err := c.DeleteUDF(ctx, u.ID); err != nil {
		t.Errorf("delete once the pipeline stopped: %v", err)
	}
	resume := "none"
	if _, err := c.PatchPipeline(ctx, run.ID, api.PipelinePatch{Stop: &resume}); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "my_reverse") {
		t.Errorf("resume a pipeline whose UDF is gone: %v (want a 400 naming it)", err)
	}
}

func scrape(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// scrapeUntil polls /metrics until metric's sum over the job's series is
// positive (or ctx ends) and returns it.
func scrapeUntil(t *testing.T, ctx context.Context, url, metric, pipeline, job string) float64 {
	t.Helper()
	labels := fmt.Sprintf("job_id=%q,", job)
	for {
		sum, found := 0.0, false
		sc := bufio.NewScanner(strings.NewReader(scrape(t, ctx, url)))
		for sc.Scan() {
			l := sc.Text()
			if !strings.HasPrefix(l, metric+"{") || !strings.Contains(l, labels) || !strings.Contains(l, fmt.Sprintf("pipeline_id=%q", pipeline)) {
				continue
			}
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", l, err)
			}
			sum, found = sum+v, true
		}
		if found && sum > 0 {
			return sum
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s of job %s never above 0 (found: %v)", metric, job, found)
		case <-time.After(10 * time.Millisecond): // polling the endpoint
		}
	}
}

func grep(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
