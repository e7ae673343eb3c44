package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/twmb/franz-go/pkg/kfake"
)

func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestConformanceCommand(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, err := runArgs(t, "conformance", "--bootstrap-servers", strings.Join(c.ListenAddrs(), ","), "--run", "^(source_earliest|bad_data_fail|sasl_success)$", "--junit", junit)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"source_earliest", "bad_data_fail", "sasl_success", "skip", "2 passed, 0 failed, 1 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests   int `xml:"tests,attr"`
		Skipped int `xml:"skipped,attr"`
		Cases   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(data, &suite); err != nil || suite.Tests != 3 || suite.Skipped != 1 || len(suite.Cases) != 3 {
		t.Errorf("junit report %+v (%v):\n%s", suite, err, data)
	}
}

func TestConformanceCommandFails(t *testing.T) {
	out, err := runArgs(t, "conformance", "--bootstrap-servers", "127.0.0.1:1", "--run", "^source_earliest$")
	if err == nil || !strings.Contains(err.Error(), "1 of 1 conformance definitions failed") || !strings.Contains(out, "FAIL") {
		t.Errorf("err %v\n%s", err, out)
	}
	if _, err := runArgs(t, "conformance"); err == nil || !strings.Contains(err.Error(), "--bootstrap-servers is required") {
		t.Errorf("no bootstrap: %v", err)
	}
	if out, err := runArgs(t, "conformance", "--list"); err != nil || !strings.Contains(out, "exactly_once_kill_midcommit") {
		t.Errorf("list: %v\n%s", err, out)
	}
}

// TestKafkaKill9 runs an exactly-once Kafka copy with `arroyo run` and a
// state directory, kills the process with SIGKILL mid-stream, runs it again
// on the same state directory (which resumes from the last durable
// checkpoint) and checks that a read_committed consumer sees every record
// once: the restored sink commits the checkpoint's transactions and fences
// the ones the killed process left open.
func TestKafkaKill9(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	h := conformance.NewH(conformance.Target{Bootstrap: addr, Partitions: 3}, t.Logf)
	defer h.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	first := conformance.Rows(0, 3000)
	if err := h.Produce(ctx, nil, "in", 3, first); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sqlFile := filepath.Join(dir, "copy.sql")
	if err := os.WriteFile(sqlFile, []byte(h.CopySQL("in", "out", []string{"'source.offset' = 'earliest'", "'source.read_mode' = 'read_committed'"},
		[]string{"'sink.commit_mode' = 'exactly_once'"})), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(binary, "run", "-s", state, "--checkpoint-interval", "200ms", sqlFile)
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &errb
	}
	p1, _ := start()
	// Some of it committed, then more input, then kill -9 while it is read.
	if err := h.WaitRows(ctx, "out", 1000, true); err != nil {
		p1.Process.Kill()
		t.Fatal(err)
	}
	more := conformance.Rows(3000, 6000)
	if err := h.Produce(ctx, nil, "in", 3, more); err != nil {
		t.Fatal(err)
	}
	// Kill once some of the new rows are written (in an open transaction,
	// most likely: it commits at the next checkpoint).
	if err := h.WaitRows(ctx, "out", 3001, false); err != nil {
		p1.Process.Kill()
		t.Fatal(err)
	}
	if err := p1.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p1.Wait()

	p2, stderr := start()
	want := append(first, more...)
	if err := h.WaitRows(ctx, "out", len(want), true); err != nil {
		p2.Process.Kill()
		_ = p2.Wait()
		t.Fatalf("%v\nsecond run: %s", err, stderr)
	}
	if err := p2.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := p2.Wait(); err != nil {
		t.Fatalf("second run after Ctrl-C: %v\n%s", err, stderr)
	}
	got, err := h.ReadCommitted(ctx, "out")
	if err != nil {
		t.Fatal(err)
	}
	if err := conformance.ExpectExactly(got, want); err != nil {
		t.Fatal(err)
	}
}
