package singlefile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/connector"
)

type twoPhase interface {
	connector.Sink
	connector.TwoPhaseSink
}

func newSinkTask(t *testing.T, tab *connector.Table, job string) twoPhase {
	t.Helper()
	s, err := conn(t).NewSink(tab, connector.SinkTask{JobID: job, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	tp, ok := s.(twoPhase)
	if !ok {
		t.Fatalf("the sink of a regular file is a %T, not a TwoPhaseSink", s)
	}
	return tp
}

func write(t *testing.T, s connector.Sink, vals ...int64) {
	t.Helper()
	if err := s.Write(context.Background(), batch(vals...)); err != nil {
		t.Fatal(err)
	}
}

func preCommit(t *testing.T, s twoPhase, epoch uint64) []byte {
	t.Helper()
	p, err := s.PreCommit(context.Background(), epoch)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rows(vals ...int) string {
	var sb strings.Builder
	for _, v := range vals {
		sb.WriteString(`{"a":` + itoa(v) + "}\n")
	}
	return sb.String()
}

// A job that dies after a pre-commit keeps its temporary file (named by job
// and subtask) and leaves the target alone; a restored job (another job id)
// truncates that file to the checkpoint's offset, continues it, and its
// Finish renames it into place: the rows written after the checkpoint by
// the dead job are gone, the checkpoint's are there once.
func TestSinkRecoverTruncatesToCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	writeFile(t, path, "previous\n", 0o644)
	tab := table(t, path)
	s := newSinkTask(t, tab, "job1")
	write(t, s, 1, 2)
	p1 := preCommit(t, s, 1)
	write(t, s, 3)
	p2 := preCommit(t, s, 2)
	write(t, s, 4, 5) // after the checkpoint: replayed by the restore
	closeSink(t, s)   // the job dies
	if got := readFile(t, path); got != "previous\n" {
		t.Fatalf("target changed by a job that did not finish: %q", got)
	}
	tmp := filepath.Join(dir, ".out.json.arroyo-tmp-job1-0")
	// Rows 4 and 5 may or may not have reached it (buffered): the restore
	// cuts them either way.
	if got := readFile(t, tmp); !strings.HasPrefix(got, rows(1, 2, 3)) {
		t.Fatalf("temporary file %q", got)
	}
	writeFile(t, tmp, rows(1, 2, 3, 4, 5), 0o644) // as if they had

	r := newSinkTask(t, tab, "job2")
	if err := r.Recover(context.Background(), [][]byte{p1, p2}); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Fatalf("after recover: %v, want the target and job1's temporary file only", names)
	}
	write(t, r, 4, 5, 6)
	if err := r.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, r)
	if got := readFile(t, path); got != rows(1, 2, 3, 4, 5, 6) {
		t.Fatalf("output %q", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
}

// A job that dies after Finish's rename but before it is recorded as
// finished is restored from its last checkpoint: the temporary file is
// gone, so the target's checkpointed prefix is copied back into it, the
// replay continues it and the final file is the same; the target is never
// missing meanwhile.
func TestSinkRecoverAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	tab := table(t, path)
	s := newSinkTask(t, tab, "job1")
	write(t, s, 1, 2)
	p1 := preCommit(t, s, 1)
	write(t, s, 3)
	if err := s.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)

	r := newSinkTask(t, tab, "job1") // the same job id: NewSink recreates the temporary file
	if err := r.Recover(context.Background(), [][]byte{p1}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != rows(1, 2, 3) {
		t.Fatalf("target changed by recover: %q", got)
	}
	write(t, r, 3)
	if err := r.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, r)
	if got := readFile(t, path); got != rows(1, 2, 3) {
		t.Fatalf("output %q", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
}

// Output changed outside the pipeline is never silently rebuilt: when
// neither the temporary file nor the target starts with the checkpoint's
// bytes, Recover fails naming both.
func TestSinkRecoverRefusesForeignOutput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	tab := table(t, path)
	s := newSinkTask(t, tab, "job1")
	write(t, s, 1, 2)
	p1 := preCommit(t, s, 1)
	closeSink(t, s)
	tmp := filepath.Join(dir, ".out.json.arroyo-tmp-job1-0")
	writeFile(t, tmp, rows(7, 8, 9), 0o644) // same length class, other bytes
	writeFile(t, path, "something else\n", 0o644)
	r := newSinkTask(t, tab, "job2")
	err := r.Recover(context.Background(), [][]byte{p1})
	if err == nil || !strings.Contains(err.Error(), tmp) || !strings.Contains(err.Error(), "16 bytes") {
		t.Fatalf("recover over foreign output: %v", err)
	}
	closeSink(t, r)
	if got := readFile(t, path); got != "something else\n" {
		t.Fatalf("target changed: %q", got)
	}
}

// A restore whose checkpoint has no pre-commit for the sink (it had
// finished: its file is complete) leaves the target as it is.
func TestSinkRecoverFinished(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	writeFile(t, path, rows(1, 2), 0o644)
	tab := table(t, path)
	r := newSinkTask(t, tab, "job2")
	if err := r.Recover(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(context.Background(), batch(3)); err == nil || !strings.Contains(err.Error(), "finished") {
		t.Fatalf("rows after a finished restore: %v", err)
	}
	if err := r.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, r)
	if got := readFile(t, path); got != rows(1, 2) {
		t.Fatalf("target changed: %q", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
}

// A fresh job discards what an earlier run of the same job id left in its
// temporary file.
func TestSinkFreshJobDiscardsLeftover(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	tab := table(t, path)
	writeFile(t, filepath.Join(dir, ".out.json.arroyo-tmp-job1-0"), rows(9, 9), 0o644)
	s := newSinkTask(t, tab, "job1")
	write(t, s, 1)
	if err := s.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)
	if got := readFile(t, path); got != rows(1) {
		t.Fatalf("output %q", got)
	}
}

// Job ids that are not plain file-name text are hashed into the name.
func TestSinkTempNameOfOddJobID(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	s := newSinkTask(t, table(t, path), "a/b c")
	names := dirNames(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".out.json.arroyo-tmp-") || strings.ContainsAny(names[0][1:], "/ ") || !strings.HasSuffix(names[0], "-0") {
		t.Fatalf("temporary file %v", names)
	}
	closeSink(t, s)
}
