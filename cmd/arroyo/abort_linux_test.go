//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A double Ctrl-C aborts: stdout ends at a whole line, the file sink's
// previous file is left exactly as it was (no temporary file stays), and the
// exit code is 130.
//
// To be deterministic the pipeline must still be running, with data in both
// sinks, when the second interrupt arrives (a drain that completes after the
// first interrupt is a normal, successful stop that replaces the file). So
// the source reads a FIFO that the test holds open: after the rows the test
// wrote, the source waits for more, and stopping cannot end it. stdout is a
// pipe the test does not read, so the stdout sink is blocked in the middle
// of a batch (4096 rows of ~150 bytes, far more than a pipe holds) when the
// abort comes: the case that used to leave a torn last line.
func TestDoubleInterruptAborts(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	// O_RDWR on a FIFO does not block on Linux, and while the test holds
	// it the reader never sees end of file.
	feed, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	out := writeFile(t, dir, "out.json", "{\"previous\": true}\n")
	sql := writeFile(t, dir, "p.sql", "CREATE TABLE src (id BIGINT, pad TEXT) WITH (connector = 'single_file', path = '"+fifo+"', format = 'json', type = 'source', allow_non_regular = 'true');\n"+
		"CREATE TABLE o (id BIGINT, pad TEXT) WITH (connector = 'single_file', path = '"+out+"', format = 'json', type = 'sink');\n"+
		"SELECT id, pad FROM src;\n"+
		"INSERT INTO o SELECT id, pad FROM src;\n")

	cmd := exec.Command(binary, "run", sql)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Only this process is signalled and killed; killing it on every exit
	// path (and after a deadline) keeps a failing test from hanging.
	exited := make(chan struct{})
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
		}
	}()
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()

	go func() {
		pad := strings.Repeat("p", 130)
		w := bufio.NewWriter(feed)
		for i := range 5000 {
			fmt.Fprintf(w, "{\"id\": %d, \"pad\": \"%s\"}\n", i, pad)
		}
		w.Flush()
	}()
	outR := bufio.NewReader(stdout)
	first, err := outR.ReadString('\n')
	if err != nil {
		t.Fatalf("no output: %v", err)
	}
	stderr := bufio.NewReader(stderrPipe)
	var errText strings.Builder
	// waitFor reads stderr up to a line starting with prefix; false if the
	// process closed stderr (exited) first.
	waitFor := func(prefix string) bool {
		for {
			line, err := stderr.ReadString('\n')
			errText.WriteString(line)
			if strings.HasPrefix(line, prefix) {
				return true
			}
			if err != nil {
				return false
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Wait for the first interrupt to be handled: two signals sent at once
	// may be delivered as one.
	if !waitFor("stopping:") {
		t.Fatalf("stderr ended before the first interrupt was handled: %q", errText.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Once it says so, the job is cancelled; then let the source see end
	// of file so the job ends without waiting out the grace period. (If the
	// process exits without saying it, the checks below still judge what
	// it left.)
	aborting := waitFor("aborting:")
	feed.Close()
	rest, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(&errText, stderr)
	err = cmd.Wait()
	close(exited)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; stderr %q", err, errText.String())
	}
	all := append([]byte(first), rest...)
	if !bytes.HasSuffix(all, []byte("\n")) {
		t.Fatalf("stdout does not end with a newline: ...%q", all[max(0, len(all)-80):])
	}
	lines := bytes.Split(bytes.TrimSuffix(all, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		var row map[string]any
		if err := json.Unmarshal(l, &row); err != nil {
			t.Fatalf("stdout line %d of %d is not JSON: %q", i+1, len(lines), l)
		}
	}
	if got, _ := os.ReadFile(out); string(got) != "{\"previous\": true}\n" {
		t.Fatalf("the previous output file changed to %d bytes", len(got))
	}
	if names, _ := filepath.Glob(filepath.Join(dir, ".*")); len(names) != 0 {
		t.Fatalf("left behind: %v", names)
	}
	if !aborting || strings.Contains(errText.String(), "did not close") {
		t.Fatalf("no clean abort: %s", errText.String())
	}
}
