package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

var adminListening = regexp.MustCompile(`cluster: admin listening on (http://[^ ]+)`)

// TestClusterUDFAndMetrics: `arroyo cluster` as a process, with its admin
// endpoint on: a UDF module stored through its API, a pipeline calling it
// (without listing it) runs in it, and the admin endpoint's /metrics shows
// that job Running and its operators' rows out above zero.
func TestClusterUDFAndMetrics(t *testing.T) {
	mod := wasmtest.Go(t, "examples/udfs/go/reverse")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.Command(binary, "cluster")
	cmd.Env = append(os.Environ(), "ARROYO__API__HTTP_PORT=0", "ARROYO__ADMIN__HTTP_PORT=0",
		"ARROYO__DATABASE__SQLITE__PATH="+filepath.Join(dir, "cluster.sqlite"), "ARROYO__CHECKPOINT_URL="+filepath.Join(dir, "checkpoints"),
		"ARROYO__UDF__CACHE_DIR="+wasmtest.CacheDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var apiURL, adminURL string
	var log []string
	for apiURL == "" || adminURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("arroyo cluster exited:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if m := clusterListening.FindStringSubmatch(l); m != nil {
				apiURL = m[1]
			}
			if m := adminListening.FindStringSubmatch(l); m != nil {
				adminURL = m[1]
			}
		case <-ctx.Done():
			t.Fatalf("arroyo cluster did not say where it listens:\n%s", strings.Join(log, "\n"))
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	c := client.New(apiURL, "")
	u, err := c.CreateUDF(ctx, api.UdfPost{Definition: mod})
	if err != nil || u.Name != "my_reverse" {
		t.Fatalf("create udf: %+v, %v", u, err)
	}
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "rev", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '200');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT my_reverse(CAST(counter AS TEXT)) AS r FROM i;"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Running" || j.State == "Failed" })
	if err != nil || j.State != "Running" {
		t.Fatalf("the pipeline calling the UDF: %+v, %v", j, err)
	}
	running := `arroyo_job_state{job_id="` + j.ID + `",pipeline_id="` + p.ID + `",state="Running"} 1`
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; {
		body = get(t, ctx, adminURL+"/metrics")
		if strings.Contains(body, running) && rowsOut(body, j.ID) > 0 {
			break
		}
		if time.Now().After(deadline) {
			var ours []string
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "arroyo_job") || strings.HasPrefix(l, "arroyo_operator") {
					ours = append(ours, l)
				}
			}
			t.Fatalf("no Running state or rows out for %s on /metrics:\n%s", j.ID, strings.Join(ours, "\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling the endpoint
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("arroyo cluster exited with %v", err)
	}
}

func get(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rowsOut sums arroyo_operator_rows_out_total over job's series.
func rowsOut(body, job string) float64 {
	sum := 0.0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "arroyo_operator_rows_out_total{") && strings.Contains(l, `job_id="`+job+`"`) {
			v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}
