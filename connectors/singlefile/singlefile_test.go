package singlefile_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"
	"github.com/arroyogo/arroyo/connectors/singlefile"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

func conn(t *testing.T) *connector.Connector {
	c, ok := connector.Lookup("single_file")
	if !ok {
		t.Fatal("single_file not registered")
	}
	return c
}

// table returns a validated table description, as the planner builds it.
func table(t *testing.T, path string, extra ...string) *connector.Table {
	t.Helper()
	given := map[string]string{"path": path}
	for i := 0; i+1 < len(extra); i += 2 {
		given[extra[i]] = extra[i+1]
	}
	opts, err := connector.Validate("single_file", conn(t).Options, given)
	if err != nil {
		t.Fatal(err)
	}
	return &connector.Table{
		Name: "t", Connector: "single_file", Options: opts, BadData: connector.BadDataFail,
		Schema: types.NewSchema(types.Field{Name: "a", Type: types.Int64T, Nullable: true}),
		Format: &connector.FormatConfig{Name: "json", Options: connector.Options{}},
	}
}

func newSink(t *testing.T, tab *connector.Table) connector.Sink {
	t.Helper()
	s, err := conn(t).NewSink(tab, connector.SinkTask{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func batch(vals ...int64) *coldata.Batch {
	a := coldata.New(types.Int64T, len(vals)).(*coldata.Vec[int64])
	ts := coldata.New(types.TimestampT, len(vals)).(*coldata.Vec[int64])
	for _, v := range vals {
		a.Append(v)
		ts.Append(0)
	}
	return coldata.NewBatch([]coldata.Vector{a, ts}, len(vals))
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dirNames lists a directory, to find temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func closeSink(t *testing.T, s connector.Sink) {
	t.Helper()
	if err := s.(connector.Closer).Close(); err != nil {
		t.Fatal(err)
	}
}

// The target is replaced only by Finish's rename: while rows are being
// written it keeps its old contents and the output goes to a temporary file
// beside it; afterwards no temporary file is left and the old file's mode
// is kept.
func TestSinkCommitsByRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	writeFile(t, path, "previous\n", 0o600)
	s := newSink(t, table(t, path))
	ctx := context.Background()
	b := batch(1, 2, 3)
	b.Sel = []int32{0, 2}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "previous\n" {
		t.Fatalf("target changed before Finish: %q", got)
	}
	names := dirNames(t, dir)
	if len(names) != 2 || !strings.HasPrefix(names[0], ".out.json.arroyo-tmp-") {
		t.Fatalf("expected the target and one temporary file beside it, got %v", names)
	}
	if err := s.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)
	if got := readFile(t, path); got != "{\"a\":1}\n{\"a\":3}\n" {
		t.Fatalf("file is %q", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want the previous file's 0600", st.Mode())
	}
}

// A failed or aborted pipeline (Close without Finish) leaves the previous
// file exactly as it was, whether or not rows were written, and deletes its
// temporary file.
func TestSinkFailedRunLeavesTargetAlone(t *testing.T) {
	for _, rows := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.json")
		writeFile(t, path, "previous\n", 0o644)
		s := newSink(t, table(t, path))
		if rows {
			if err := s.Write(context.Background(), batch(1, 2)); err != nil {
				t.Fatal(err)
			}
		}
		closeSink(t, s)
		if got := readFile(t, path); got != "previous\n" {
			t.Fatalf("rows=%v: file changed to %q", rows, got)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Fatalf("rows=%v: left behind: %v", rows, names)
		}
	}
}

// A job cancelled before the sink commits (an abort racing with the end of
// stream) commits nothing.
func TestSinkFinishAfterCancelCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	writeFile(t, path, "previous\n", 0o644)
	s := newSink(t, table(t, path))
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Write(ctx, batch(1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.Finish(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Finish after cancel: %v", err)
	}
	closeSink(t, s)
	if got := readFile(t, path); got != "previous\n" {
		t.Fatalf("file changed to %q", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
}

// An empty stream produces an empty file at end of stream; a new target is
// created with the default permissions (not the 0600 of a private
// temporary file).
func TestSinkEmptyStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.json")
	s := newSink(t, table(t, path))
	if err := s.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)
	st, err := os.Stat(path)
	if err != nil || st.Size() != 0 {
		t.Fatalf("empty output: %v %v", st, err)
	}
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	if want := os.FileMode(0o666) &^ os.FileMode(old); st.Mode().Perm() != want {
		t.Fatalf("mode %v, want %v", st.Mode().Perm(), want)
	}
}

// Writing through a symlink replaces the file it points to and keeps the
// link, as writing through it in place did.
func TestSinkThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	writeFile(t, real, "previous\n", 0o644)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, table(t, link))
	ctx := context.Background()
	if err := s.Write(ctx, batch(7)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", st, err)
	}
	if got := readFile(t, real); got != "{\"a\":7}\n" {
		t.Fatalf("file is %q", got)
	}
}

func TestSinkNonRegularTarget(t *testing.T) {
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Skip("no /dev/null")
	}
	_, err := conn(t).NewSink(table(t, "/dev/null"), connector.SinkTask{Parallelism: 1})
	if err == nil || !strings.Contains(err.Error(), "/dev/null is a character device, not a regular file (set allow_non_regular = 'true' to write into it directly)") {
		t.Fatalf("got %v", err)
	}
	_, err = conn(t).NewSink(table(t, t.TempDir()), connector.SinkTask{Parallelism: 1})
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: got %v", err)
	}
	s := newSink(t, table(t, "/dev/null", "allow_non_regular", "true"))
	ctx := context.Background()
	if err := s.Write(ctx, batch(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	closeSink(t, s)
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode().IsRegular() {
		t.Fatalf("/dev/null replaced: %v %v", st, err)
	}
}

// collector is a SourceContext that keeps every row and counter.
type collector struct {
	ctx      context.Context
	rows     []int64
	counters map[string]int64
}

func (c *collector) Counter(name string, n int64) {
	if c.counters == nil {
		c.counters = map[string]int64{}
	}
	c.counters[name] += n
}
func (c *collector) Emit(b *coldata.Batch) error {
	v := b.Cols[0].(*coldata.Vec[int64])
	b.ForEach(func(i int) { c.rows = append(c.rows, v.Vals[i]) })
	return nil
}

// runSource reads tab at parallelism 1, and checks that 2, 3 and 5
// subtasks (the file cut into as many ranges) read the same rows, count
// the same and fail the same.
func runSource(t *testing.T, tab *connector.Table) (*collector, error) {
	t.Helper()
	c, err := runSourceP(t, tab, 1)
	for _, p := range []int{2, 3, 5} {
		cp, errp := runSourceP(t, tab, p)
		if fmt.Sprint(err) != fmt.Sprint(errp) {
			t.Fatalf("p=%d: error %v, at p=1 %v", p, errp, err)
		}
		if err != nil {
			continue // a later range may have emitted rows before the error
		}
		if !slices.Equal(c.rows, cp.rows) || !maps.Equal(c.counters, cp.counters) {
			t.Fatalf("p=%d: rows %v counters %v, at p=1 %v %v", p, cp.rows, cp.counters, c.rows, c.counters)
		}
	}
	return c, err
}

// runSourceP runs the p subtasks of a fresh job one after the other
// (subtask k owns range k: rows come in file order) and returns the first
// error.
func runSourceP(t *testing.T, tab *connector.Table, p int) (*collector, error) {
	t.Helper()
	defer singlefile.SetMinSplitBytes(1)()
	names, err := conn(t).Splits(t.Context(), tab, p)
	if err != nil {
		return nil, err
	}
	var states []connector.SplitState
	for _, n := range names {
		states = append(states, connector.SplitState{Split: n})
	}
	c := &collector{ctx: context.Background()}
	for i, own := range connector.AssignSplits(states, p) {
		src, err := conn(t).NewSource(tab, connector.SourceTask{Subtask: i, Parallelism: p}, own)
		if err != nil {
			return nil, err
		}
		err = connector.Drain(c.ctx, src, c)
		src.(connector.Closer).Close()
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func TestSourceSkipsByteOrderMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	writeFile(t, path, "\xef\xbb\xbf{\"a\": 1}\n{\"a\": 2}\n", 0o644)
	c, err := runSource(t, table(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.rows) != 2 || c.rows[0] != 1 || c.rows[1] != 2 {
		t.Fatalf("rows %v", c.rows)
	}
	// Only at the start of the file: elsewhere it is bad data.
	writeFile(t, path, "{\"a\": 1}\n\xef\xbb\xbf{\"a\": 2}\n", 0o644)
	if _, err := runSource(t, table(t, path)); err == nil || !strings.Contains(err.Error(), "in.json:2: bad record") {
		t.Fatalf("got %v", err)
	}
}

// A line longer than max_record_bytes fails with file, line and limit, or
// is dropped and counted; lines at the limit, in or beyond the read buffer,
// are read.
func TestSourceRecordLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	for _, limit := range []int{100, 1 << 20} {
		atLimit := `{"a": 2, "pad": "` + strings.Repeat("x", limit-len(`{"a": 2, "pad": ""}`)) + `"}`
		tooLong := `{"a": 3, "pad": "` + strings.Repeat("y", limit+1-len(`{"a": 3, "pad": ""}`)) + `"}`
		writeFile(t, path, "{\"a\": 1}\n"+atLimit+"\n"+tooLong+"\n{\"a\": 4}\n"+tooLong, 0o644)
		tab := table(t, path, "max_record_bytes", itoa(limit))
		tab.Schema = types.NewSchema(types.Field{Name: "a", Type: types.Int64T}, types.Field{Name: "pad", Type: types.StringT, Nullable: true})
		_, err := runSource(t, tab)
		want := path + ":3: record is longer than max_record_bytes = " + itoa(limit) + " bytes"
		if err == nil || err.Error() != want {
			t.Fatalf("limit %d: got %v, want %q", limit, err, want)
		}
		tab.BadData = connector.BadDataDrop
		c, err := runSource(t, tab)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.rows) != 3 || c.rows[0] != 1 || c.rows[1] != 2 || c.rows[2] != 4 {
			t.Fatalf("limit %d: rows %v", limit, c.rows)
		}
		if n := c.counters[connector.CounterBadData]; n != 2 {
			t.Fatalf("limit %d: dropped %d, want 2", limit, n)
		}
	}
}

// Memory stays bounded by the limit: a 32 MiB line with a 1 MiB limit is
// refused without being assembled.
func TestSourceLongLineMemoryBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("z", 1<<20))
	for range 32 {
		f.Write(chunk)
	}
	f.WriteString("\n{\"a\": 5}\n")
	f.Close()
	tab := table(t, path, "max_record_bytes", itoa(1<<20))
	tab.BadData = connector.BadDataDrop
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := runSourceP(t, tab, 2) // the long line straddles the ranges
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.rows) != 1 || c.rows[0] != 5 {
		t.Fatalf("rows %v", c.rows)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("allocated %d bytes reading a 32 MiB line with a 1 MiB limit", alloc)
	}
}

func TestSourceRefusesNonRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := runSource(t, table(t, "/dev/zero"))
	want := "open input file: /dev/zero is a character device, not a regular file; reading it may never end (set allow_non_regular = 'true' to read it anyway)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	// Refused before opening (opening a FIFO would block).
	if _, err := runSource(t, table(t, fifo)); err == nil || !strings.Contains(err.Error(), "is a named pipe (FIFO), not a regular file") {
		t.Fatalf("fifo: got %v", err)
	}
	// Allowed, /dev/zero is read until the record limit refuses its one
	// endless line.
	_, err = runSource(t, table(t, "/dev/zero", "allow_non_regular", "true", "max_record_bytes", "1000"))
	if err == nil || !strings.Contains(err.Error(), "/dev/zero:1: record is longer than max_record_bytes = 1000 bytes") {
		t.Fatalf("allowed /dev/zero: got %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSplitsSmallFile: a file under twice the minimum range is one split,
// read in order by one subtask; a bigger one is cut at the parallelism.
func TestSplitsSmallFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	writeFile(t, path, strings.Repeat("{\"a\": 1}\n", 1000), 0o644)
	names, err := conn(t).Splits(t.Context(), table(t, path), 3)
	if err != nil || len(names) != 1 || names[0] != "0-9000" {
		t.Fatalf("splits of a 9000-byte file at p=3: %q, %v; want one", names, err)
	}
	defer singlefile.SetMinSplitBytes(1000)()
	names, err = conn(t).Splits(t.Context(), table(t, path), 3)
	if err != nil || !slices.Equal(names, []string{"0-3000", "3000-6000", "6000-9000"}) {
		t.Fatalf("splits at p=3 with 1000-byte ranges: %q, %v", names, err)
	}
}

// TestSnapshotBeforeFirstPoll: a range that starts mid-line and was
// snapshotted before it was opened restores as a fresh range (aligned to
// the next line when opened), not as a position to read from: reading
// from its start would begin in the middle of a line.
func TestSnapshotBeforeFirstPoll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	var data []byte
	for i := 0; i < 100; i++ {
		data = fmt.Appendf(data, "{\"a\": %d}\n", 1000+i)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tab := table(t, path)
	mid := len(data)/2 + 3 // inside a line
	split := connector.SplitState{Split: fmt.Sprintf("%d-%d", mid, len(data))}
	src, err := conn(t).NewSource(tab, connector.SourceTask{Parallelism: 1}, []connector.SplitState{split})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap) != 1 || len(snap[0].State) != 0 {
		t.Fatalf("snapshot of an unopened mid-line range: %+v, want its split without state", snap)
	}
	restored, err := conn(t).NewSource(tab, connector.SourceTask{Parallelism: 1}, snap)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	if err := connector.Drain(context.Background(), restored, c); err != nil {
		t.Fatalf("reading the restored range: %v", err)
	}
	if n := len(c.rows); n == 0 || n >= 100 || c.rows[n-1] != 1099 {
		t.Errorf("rows %v: want the lines starting in the second half, ending with 1099", c.rows)
	}
}

// A file of many read buffers, decoded mostly a block of lines at a time:
// lines the block path leaves (CRLF endings, blank lines, spaces around a
// record, a bad record, one over the limit) are read one by one, at every
// parallelism the same rows, and an error names its line.
func TestSourceBlocksOfLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	var sb strings.Builder
	var want []int64
	const bad = 23_456 // the line of the bad record
	for line := 1; line <= 40_000; line++ {
		v := int64(line * 3)
		switch {
		case line == bad:
			sb.WriteString("{\"a\": x}\n")
			continue
		case line == bad+10:
			sb.WriteString(`{"a": 1, "pad": "` + strings.Repeat("p", 200) + "\"}\n")
			continue
		case line%997 == 0:
			sb.WriteString("\n")
			continue
		case line%991 == 0:
			fmt.Fprintf(&sb, "  {\"a\":%d} \n", v)
		case line%13 == 0:
			fmt.Fprintf(&sb, "{\"a\":%d}\r\n", v)
		case line%101 == 0:
			fmt.Fprintf(&sb, "{\"a\":%d,\"b\":\"extra key\"}\n", v)
		default:
			fmt.Fprintf(&sb, "{\"a\":%d}\n", v)
		}
		want = append(want, v)
	}
	writeFile(t, path, sb.String(), 0o644)
	tab := table(t, path, "max_record_bytes", "100")
	if _, err := runSource(t, tab); err == nil || err.Error() != fmt.Sprintf("%s:%d: bad record: invalid JSON at byte 6: expected value", path, bad) {
		t.Fatalf("got %v", err)
	}
	tab.BadData = connector.BadDataDrop
	c, err := runSource(t, tab)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.rows, want) {
		t.Fatalf("%d rows, want %d", len(c.rows), len(want))
	}
	if n := c.counters[connector.CounterBadData]; n != 2 {
		t.Fatalf("dropped %d, want 2", n)
	}
}
