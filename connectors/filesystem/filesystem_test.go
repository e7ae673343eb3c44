package filesystem_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/arroyogo/arroyo/connectors/filesystem"
	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Object stores for the tests: testmem:// is one in-memory bucket shared by
// every open (memblob's own mem:// opens a new empty one each time), and
// testfile://<name> a fileblob bucket in a directory of the test's.
var (
	memOnce   sync.Once
	memShared *blob.Bucket
	fileDirs  sync.Map // bucket name -> directory
)

type memOpener struct{}

func (memOpener) OpenBucketURL(context.Context, *url.URL) (*blob.Bucket, error) {
	memOnce.Do(func() { memShared = memblob.OpenBucket(nil) })
	// A view of the shared bucket; closing it closes nothing (memblob).
	return blob.PrefixedBucket(memShared, ""), nil
}

type fileOpener struct{}

func (fileOpener) OpenBucketURL(_ context.Context, u *url.URL) (*blob.Bucket, error) {
	dir, ok := fileDirs.Load(u.Host)
	if !ok {
		return nil, fmt.Errorf("no test bucket %q", u.Host)
	}
	return fileblob.OpenBucket(dir.(string), nil)
}

func init() {
	blob.DefaultURLMux().RegisterBucket("testmem", memOpener{})
	blob.DefaultURLMux().RegisterBucket("testfile", fileOpener{})
}

func conn(t testing.TB) *connector.Connector {
	t.Helper()
	c, ok := connector.Lookup("filesystem")
	if !ok {
		t.Fatal("filesystem not registered")
	}
	return c
}

var schemaAK = types.NewSchema(
	types.Field{Name: "a", Type: types.Int64T, Nullable: true},
	types.Field{Name: "k", Type: types.StringT, Nullable: true},
)

// table validates options as the planner does (format options apart).
func table(t testing.TB, schema *types.Schema, format string, opts ...string) (*connector.Table, error) {
	t.Helper()
	f, ok := connector.LookupFormat(format)
	if !ok {
		t.Fatalf("no format %q", format)
	}
	conOpts, fmtOpts := map[string]string{}, map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		if strings.HasPrefix(opts[i], "parquet_") {
			fmtOpts[opts[i]] = opts[i+1]
		} else {
			conOpts[opts[i]] = opts[i+1]
		}
	}
	co, err := connector.Validate("filesystem", conn(t).Options, conOpts)
	if err != nil {
		return nil, err
	}
	fo, err := connector.Validate(format, f.Options, fmtOpts)
	if err != nil {
		return nil, err
	}
	return &connector.Table{Name: "out", Connector: "filesystem", Options: co, Schema: schema,
		Format: &connector.FormatConfig{Name: format, Options: fo}}, nil
}

type sinkT interface {
	connector.Sink
	connector.TwoPhaseSink
	connector.Closer
}

func newSink(t *testing.T, schema *types.Schema, format string, opts ...string) sinkT {
	t.Helper()
	tab, err := table(t, schema, format, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn(t).NewSink(tab, connector.SinkTask{JobID: "job", OperatorID: "sink_1", Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(connector.Closer).Close() })
	return s.(sinkT)
}

// batchAK is a batch of (a, k) rows with event times ts (nanoseconds).
func batchAK(as []int64, ks []string, ts []int64) *coldata.Batch {
	a := coldata.New(types.Int64T, len(as)).(*coldata.Vec[int64])
	k := coldata.NewBytes(types.StringT, len(as), 0)
	tv := coldata.New(types.TimestampT, len(as)).(*coldata.Vec[int64])
	for i, v := range as {
		a.Append(v)
		if ks == nil {
			k.AppendString("x")
		} else {
			k.AppendString(ks[i])
		}
		if ts == nil {
			tv.Append(0)
		} else {
			tv.Append(ts[i])
		}
	}
	return coldata.NewBatch([]coldata.Vector{a, k, tv}, len(as))
}

func seq(lo, hi int64) []int64 {
	var out []int64
	for v := lo; v < hi; v++ {
		out = append(out, v)
	}
	return out
}

// visible lists the committed files under dir (the staging directory
// .arroyo excluded), relative, with their contents.
func visible(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".arroyo" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func lineCounts(files map[string]string) []int {
	var out []int
	for _, k := range slices.Sorted(mapsKeys(files)) {
		out = append(out, strings.Count(files[k], "\n"))
	}
	return out
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func ctx() context.Context { return context.Background() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Files appear only when their epoch commits, rolled every rollover_rows
// rows: staged before, final after, and a second commit of the same epoch
// (after a crash) changes nothing.
func TestRollByRowsAndCommit(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, schemaAK, "json", "path", dir, "rollover_rows", "3")
	must(t, s.Write(ctx(), batchAK(seq(0, 10), nil, nil)))
	p1, err := s.PreCommit(ctx(), 1)
	must(t, err)
	if got := visible(t, dir); len(got) != 0 {
		t.Fatalf("files visible before their commit: %v", got)
	}
	must(t, s.Commit(ctx(), 1, [][]byte{p1}))
	got := visible(t, dir)
	if c := lineCounts(got); !slices.Equal(c, []int{3, 3, 3, 1}) {
		t.Fatalf("rows per file %v, want [3 3 3 1] (files %v)", c, slices.Sorted(mapsKeys(got)))
	}
	for name := range got {
		if !regexp.MustCompile(`^part-[0-9a-f]{12}-000-0000[1-4]\.json$`).MatchString(name) {
			t.Errorf("file name %q, want part-<run>-<subtask>-<number>.json", name)
		}
	}
	must(t, s.Commit(ctx(), 1, [][]byte{p1}))
	if again := visible(t, dir); len(again) != 4 {
		t.Fatalf("a repeated commit changed the files: %v", again)
	}
}

// Files roll at target_file_size bytes.
func TestRollBySize(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, schemaAK, "json", "path", dir, "target_file_size", "50")
	for i := range int64(10) {
		must(t, s.Write(ctx(), batchAK([]int64{i}, nil, nil))) // {"a":i,"k":"x"}\n: 16 bytes
	}
	p, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Commit(ctx(), 1, [][]byte{p}))
	if c := lineCounts(visible(t, dir)); !slices.Equal(c, []int{4, 4, 2}) {
		t.Fatalf("rows per file %v, want [4 4 2] (a file rolls once it reaches 50 bytes)", c)
	}
}

// Files roll rollover_seconds after they were opened and after
// inactivity_rollover_seconds without rows (an injected clock, no sleeps);
// a barrier closes every file whatever its age.
func TestRollByTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	defer filesystem.SetClock(func() time.Time { return now })()
	dir := t.TempDir()
	s := newSink(t, schemaAK, "json", "path", dir, "rollover_seconds", "10", "inactivity_rollover_seconds", "4", "partition_fields", "k")
	write := func(k string, a int64) { must(t, s.Write(ctx(), batchAK([]int64{a}, []string{k}, nil))) }
	write("busy", 1)
	write("idle", 2)
	for i := range int64(9) { // busy gets a row every 3 s; idle none
		now = now.Add(3 * time.Second)
		write("busy", 10+i)
	}
	p, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Commit(ctx(), 1, [][]byte{p}))
	got := visible(t, dir)
	var busy, idle []int
	for _, name := range slices.Sorted(mapsKeys(got)) {
		n := strings.Count(got[name], "\n")
		switch {
		case strings.HasPrefix(name, "k=busy/"):
			busy = append(busy, n)
		case strings.HasPrefix(name, "k=idle/"):
			idle = append(idle, n)
		default:
			t.Fatalf("unexpected file %q", name)
		}
	}
	// busy: opened at 0, rolled at the first write at or after 10 s (12 s:
	// rows at 0,3,6,9 then the 12 s row opens a new file), again at 24 s.
	if !slices.Equal(busy, []int{4, 4, 2}) || !slices.Equal(idle, []int{1}) {
		t.Fatalf("rows per file: busy %v (want [4 4 2]), idle %v (want [1])", busy, idle)
	}
}

// partition_fields and time_partition_pattern make Hive-style
// directories from the event time (UTC) and the column values; a NULL or
// empty value is Hive's default partition, and values are escaped into one
// path segment.
func TestPartitioning(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, schemaAK, "json", "path", "file://"+dir, "partition_fields", "k", "time_partition_pattern", "year=%Y/%m/%d/%H")
	t1 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano()
	t2 := time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC).UnixNano()
	b := batchAK([]int64{1, 2, 3, 4, 5}, []string{"eu", "us", "eu", "a/b", ""}, []int64{t1, t1, t1, t2, t2})
	b.Cols[1].(*coldata.Bytes).N.SetNull(4)
	must(t, s.Write(ctx(), b))
	p, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Commit(ctx(), 1, [][]byte{p}))
	got := map[string]int{}
	for name, content := range visible(t, dir) {
		got[name[:strings.LastIndexByte(name, '/')]] += strings.Count(content, "\n")
	}
	want := map[string]int{
		"year=2026/03/04/05/k=eu":                         2,
		"year=2026/03/04/05/k=us":                         1,
		"year=2026/03/04/06/k=a%2Fb":                      1,
		"year=2026/03/04/06/k=__HIVE_DEFAULT_PARTITION__": 1,
	}
	if !mapsEqual(got, want) {
		t.Fatalf("rows per directory %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// pqRow is the test schema's rows as parquet-go reads them back.
type pqRow struct {
	ID    int64     `parquet:"id"`
	Name  *string   `parquet:"name,optional"`
	Price float64   `parquet:"price"`
	Ok    bool      `parquet:"ok"`
	At    time.Time `parquet:"at,timestamp(nanosecond)"`
	Small int32     `parquet:"small"`
	Big   uint64    `parquet:"big"`
}

// Parquet round trip: the file read back with parquet-go has the table's
// columns, types, NULLs and rows; compression and row-group size apply.
func TestParquetRoundTrip(t *testing.T) {
	schema := types.NewSchema(
		types.Field{Name: "id", Type: types.Int64T},
		types.Field{Name: "name", Type: types.StringT, Nullable: true},
		types.Field{Name: "price", Type: types.Float64T},
		types.Field{Name: "ok", Type: types.BoolT},
		types.Field{Name: "at", Type: types.TimestampT},
		types.Field{Name: "small", Type: types.Int32T},
		types.Field{Name: "big", Type: types.UInt64T},
		types.Field{Name: "amount", Type: types.DecimalOf(10, 2), Nullable: true},
	)
	const n = 2500
	cols := []coldata.Vector{
		coldata.New(types.Int64T, n), coldata.NewBytes(types.StringT, n, 0), coldata.New(types.Float64T, n),
		coldata.New(types.BoolT, n), coldata.New(types.TimestampT, n), coldata.New(types.Int32T, n),
		coldata.New(types.UInt64T, n), coldata.New(types.DecimalOf(10, 2), n), coldata.New(types.TimestampT, n),
	}
	base := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	var want []pqRow
	for i := range n {
		cols[0].(*coldata.Vec[int64]).Append(int64(i))
		var name *string
		if i%7 == 0 {
			cols[1].(*coldata.Bytes).AppendNull()
		} else {
			s := fmt.Sprintf("n%d", i)
			name = &s
			cols[1].(*coldata.Bytes).AppendString(s)
		}
		cols[2].(*coldata.Vec[float64]).Append(float64(i) / 4)
		cols[3].(*coldata.Vec[bool]).Append(i%2 == 0)
		at := base.Add(time.Duration(i) * time.Millisecond)
		cols[4].(*coldata.Vec[int64]).Append(at.UnixNano())
		cols[5].(*coldata.Vec[int32]).Append(int32(-i))
		cols[6].(*coldata.Vec[uint64]).Append(uint64(1<<63) + uint64(i))
		if i%5 == 0 {
			cols[7].(*coldata.Vec[coldata.Int128]).AppendNull()
		} else {
			cols[7].(*coldata.Vec[coldata.Int128]).Append(coldata.Int128Of(int64(i*100 + 25)))
		}
		cols[8].(*coldata.Vec[int64]).Append(0)
		want = append(want, pqRow{ID: int64(i), Name: name, Price: float64(i) / 4, Ok: i%2 == 0, At: at, Small: int32(-i), Big: uint64(1<<63) + uint64(i)})
	}
	dir := t.TempDir()
	s := newSink(t, schema, "parquet", "path", dir, "parquet_compression", "snappy", "parquet_row_group_size", "1000")
	b := coldata.NewBatch(cols, n)
	must(t, s.Write(ctx(), b))
	p, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Commit(ctx(), 1, [][]byte{p}))
	files := visible(t, dir)
	if len(files) != 1 {
		t.Fatalf("files %v", slices.Sorted(mapsKeys(files)))
	}
	var path string
	for name := range files {
		path = filepath.Join(dir, name)
		if !strings.HasSuffix(name, ".parquet") {
			t.Errorf("file %q has not the .parquet suffix", name)
		}
	}
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	must(t, err)
	if g := len(pf.RowGroups()); g != 3 {
		t.Errorf("%d row groups, want 3 (2500 rows, 1000 per group)", g)
	}
	for _, c := range pf.Metadata().RowGroups[0].Columns {
		if c.MetaData.Codec.String() != "SNAPPY" {
			t.Errorf("column %v codec %v, want SNAPPY", c.MetaData.PathInSchema, c.MetaData.Codec)
		}
	}
	if col, ok := pf.Schema().Lookup("amount"); !ok || !col.Node.Optional() || col.Node.Type().LogicalType().Decimal == nil {
		t.Errorf("amount is not an optional DECIMAL column: %v", col.Node)
	}
	got, err := parquet.Read[pqRow](f, st.Size())
	must(t, err)
	if len(got) != n {
		t.Fatalf("%d rows read back, want %d", len(got), n)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Price != w.Price || g.Ok != w.Ok || !g.At.Equal(w.At) || g.Small != w.Small || g.Big != w.Big ||
			(g.Name == nil) != (w.Name == nil) || (g.Name != nil && *g.Name != *w.Name) {
			t.Fatalf("row %d: read back %+v, want %+v", i, g, w)
		}
	}
	// The decimal column, read as raw values: NULL every 5th row, else
	// (i*100+25) scaled by 10^2 as 16 big-endian bytes.
	rows := make([]parquet.Row, n)
	r := parquet.NewReader(f)
	k, _ := r.ReadRows(rows)
	amount, _ := pf.Schema().Lookup("amount")
	for i := range k {
		v := rows[i][amount.ColumnIndex]
		if (i%5 == 0) != v.IsNull() {
			t.Fatalf("row %d: amount null=%v", i, v.IsNull())
		}
		if !v.IsNull() {
			bs := v.ByteArray()
			if len(bs) != 16 || int64(bs[14])<<8|int64(bs[15]) != int64(i*100+25)&0xffff {
				t.Fatalf("row %d: amount bytes %x", i, bs)
			}
		}
	}
}

// Bad options fail with errors that name the option and what is allowed.
// binaryFormat stands for a binary record format (Avro): records one per
// line would make an unreadable file, so the sink refuses it.
const binaryFormat = "test_binary_records"

func init() {
	connector.RegisterFormat(&connector.Format{Name: binaryFormat,
		NewEncoder: func(*types.Schema, connector.Options) (connector.Encoder, error) { return nil, nil }})
}

func TestBadOptions(t *testing.T) {
	structT := types.StructOf(types.Field{Name: "start", Type: types.TimestampT})
	withStruct := types.NewSchema(types.Field{Name: "w", Type: structT})
	withList := types.NewSchema(types.Field{Name: "s", Type: types.StructOf(types.Field{Name: "tags", Type: types.ListOf(types.StringT)})})
	for _, tc := range []struct {
		schema *types.Schema
		format string
		opts   []string
		want   string
	}{
		{schemaAK, "json", []string{"path", "ftp://host/x"}, "unsupported scheme 'ftp'"},
		{schemaAK, "json", []string{"path", "s3://"}, "expected 'scheme://bucket/prefix'"},
		{schemaAK, "json", []string{"path", "/tmp/x", "partition_fields", "a,nope"}, "has no column 'nope' (columns: a, k)"},
		{schemaAK, "json", []string{"path", "/tmp/x", "time_partition_pattern", "%Y/%q"}, "unsupported verb '%q'"},
		{schemaAK, "json", []string{"path", "/tmp/x", "time_partition_pattern", "%Y//%m"}, "empty, '.' or '..' segments"},
		{schemaAK, "json", []string{"path", "/tmp/x", "filename.strategy", "random"}, "allowed values are 'serial', 'uuid'"},
		{schemaAK, "json", []string{"path", "/tmp/x", "rollover_rows", "0"}, "must be at least 1"},
		{schemaAK, "json", []string{"path", "/tmp/x", "max_parts", "3"}, "unknown option 'max_parts'"},
		{schemaAK, "parquet", []string{"path", "/tmp/x", "parquet_compression", "lzo"}, "allowed values are 'none', 'snappy', 'gzip', 'zstd', 'lz4'"},
		{withList, "parquet", []string{"path", "/tmp/x"}, "cannot write column 's.tags' of type TEXT[]"},
		{withStruct, "json", []string{"path", "/tmp/x", "partition_fields", "w"}, "column 'w' is a STRUCT"},
		{schemaAK, binaryFormat, []string{"path", "/tmp/x"}, "writes 'json' (JSON lines) or 'parquet'"},
	} {
		tab, err := table(t, tc.schema, tc.format, tc.opts...)
		if err == nil {
			_, err = conn(t).NewSink(tab, connector.SinkTask{Parallelism: 1})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.opts, err, tc.want)
		}
	}
}

// The object-store path (gocloud.dev/blob, here memblob and fileblob):
// staged objects, commit by copy and delete, nothing visible before.
func TestObjectStore(t *testing.T) {
	fdir := t.TempDir()
	fileDirs.Store("fb", fdir)
	for _, path := range []string{"testmem://bucket/out/data", "testfile://fb/out"} {
		t.Run(path[:strings.Index(path, ":")], func(t *testing.T) {
			s := newSink(t, schemaAK, "json", "path", path, "rollover_rows", "4")
			must(t, s.Write(ctx(), batchAK(seq(0, 10), nil, nil)))
			p, err := s.PreCommit(ctx(), 1)
			must(t, err)
			u, _ := url.Parse(path)
			b, err := blob.OpenBucket(ctx(), u.Scheme+"://"+u.Host)
			must(t, err)
			defer b.Close()
			prefix := strings.TrimPrefix(u.Path, "/") + "/"
			list := func() (final, staged []string) {
				it := b.List(&blob.ListOptions{Prefix: prefix})
				for {
					o, err := it.Next(ctx())
					if err != nil {
						return
					}
					if strings.Contains(o.Key, "/.arroyo/") {
						staged = append(staged, o.Key)
					} else {
						final = append(final, o.Key)
					}
				}
			}
			if final, staged := list(); len(final) != 0 || len(staged) != 3 {
				t.Fatalf("before commit: final %v, staged %v; want none and 3", final, staged)
			}
			must(t, s.Commit(ctx(), 1, [][]byte{p}))
			final, staged := list()
			if len(final) != 3 || len(staged) != 0 {
				t.Fatalf("after commit: final %v, staged %v; want 3 and none", final, staged)
			}
			total := 0
			for _, k := range final {
				data, err := b.ReadAll(ctx(), k)
				must(t, err)
				total += strings.Count(string(data), "\n")
			}
			if total != 10 {
				t.Fatalf("%d rows committed, want 10", total)
			}
			must(t, s.Commit(ctx(), 1, [][]byte{p})) // repeated: a no-op
		})
	}
}

// Recover commits what the checkpoint pre-committed, deletes what was
// staged after it, and takes back the files a Finish committed after it
// (the job died before it was recorded as finished: its rows replay).
func TestRecover(t *testing.T) {
	dir := t.TempDir()
	tab, err := table(t, schemaAK, "json", "path", dir, "rollover_rows", "2")
	must(t, err)
	build := func(job string) sinkT {
		s, err := conn(t).NewSink(tab, connector.SinkTask{JobID: job, OperatorID: "sink_1", Parallelism: 1})
		must(t, err)
		t.Cleanup(func() { s.(connector.Closer).Close() })
		return s.(sinkT)
	}
	s := build("run1")
	must(t, s.Write(ctx(), batchAK(seq(0, 3), nil, nil)))
	p1, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Write(ctx(), batchAK(seq(3, 6), nil, nil))) // after the checkpoint
	must(t, s.Finish(ctx()))                              // committed, then the process dies
	if c := lineCounts(visible(t, dir)); len(c) != 2 {
		t.Fatalf("after finish: %v, want the 2 files of rows 3-5 (epoch 1 was never committed)", c)
	}
	s.Close()

	r := build("run2")
	must(t, r.Recover(ctx(), [][]byte{p1}))
	got := visible(t, dir)
	if c := lineCounts(got); !slices.Equal(c, []int{2, 1}) {
		t.Fatalf("after recover: rows per file %v, want [2 1] (epoch 1's files only)", c)
	}
	all := ""
	for _, k := range slices.Sorted(mapsKeys(got)) {
		all += got[k]
	}
	if all != "{\"a\":0,\"k\":\"x\"}\n{\"a\":1,\"k\":\"x\"}\n{\"a\":2,\"k\":\"x\"}\n" {
		t.Fatalf("after recover: %q", all)
	}
	staged, _ := os.ReadDir(filepath.Join(dir, ".arroyo"))
	for _, d := range staged {
		for _, sub := range []string{"tmp", "finish"} {
			es, _ := os.ReadDir(filepath.Join(dir, ".arroyo", d.Name(), sub))
			if len(es) != 0 {
				t.Errorf("left in .arroyo/%s/%s: %d entries", d.Name(), sub, len(es))
			}
		}
	}
	// The replay.
	must(t, r.Write(ctx(), batchAK(seq(3, 6), nil, nil)))
	must(t, r.Finish(ctx()))
	if c := lineCounts(visible(t, dir)); len(c) != 4 {
		t.Fatalf("after the replay: rows per file %v", c)
	}
}

// A fresh job clears what earlier runs staged (an aborted run's files) but
// keeps every committed file.
func TestFreshRunClearsStaging(t *testing.T) {
	dir := t.TempDir()
	tab, err := table(t, schemaAK, "json", "path", dir)
	must(t, err)
	s1, err := conn(t).NewSink(tab, connector.SinkTask{JobID: "a", OperatorID: "sink_1", Parallelism: 1})
	must(t, err)
	must(t, s1.Write(ctx(), batchAK(seq(0, 3), nil, nil)))
	p, err := s1.(sinkT).PreCommit(ctx(), 1)
	must(t, err)
	must(t, s1.(sinkT).Commit(ctx(), 1, [][]byte{p}))
	must(t, s1.Write(ctx(), batchAK(seq(3, 5), nil, nil)))
	_, err = s1.(sinkT).PreCommit(ctx(), 2) // staged, never committed: the job is given up
	must(t, err)
	s1.(connector.Closer).Close()

	s2, err := conn(t).NewSink(tab, connector.SinkTask{JobID: "b", OperatorID: "sink_1", Parallelism: 1})
	must(t, err)
	defer s2.(connector.Closer).Close()
	must(t, s2.Write(ctx(), batchAK(seq(10, 11), nil, nil)))
	var staged int
	filepath.WalkDir(filepath.Join(dir, ".arroyo"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			staged++
		}
		return nil
	})
	if staged != 1 {
		t.Fatalf("%d staged files, want only the new run's open one", staged)
	}
	if c := lineCounts(visible(t, dir)); !slices.Equal(c, []int{3}) {
		t.Fatalf("committed files %v, want the first run's one", c)
	}
}

// Writing a batch into partitions allocates per batch, never per row: a
// warm sink's Write of 1000 rows over 4 partitions costs a few allocations
// (the JSON encoder's per-batch column setup).
func TestWriteAllocsPerBatch(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, schemaAK, "json", "path", dir, "partition_fields", "k")
	keys := []string{"eu", "us", "asia", "a b"}
	var ks []string
	for i := range 1000 {
		ks = append(ks, keys[i%4])
	}
	b := batchAK(seq(0, 1000), ks, nil)
	must(t, s.Write(ctx(), b)) // opens the files
	allocs := testing.AllocsPerRun(20, func() { must(t, s.Write(ctx(), b)) })
	if allocs > 40 {
		t.Fatalf("%.0f allocations per 1000-row batch, want a few per batch", allocs)
	}
	t.Logf("%.0f allocations per 1000-row batch", allocs)
}

func BenchmarkWriteJSONPartitioned(b *testing.B) {
	dir := b.TempDir()
	tab, err := table(b, schemaAK, "json", "path", dir, "partition_fields", "k")
	if err != nil {
		b.Fatal(err)
	}
	c, _ := connector.Lookup("filesystem")
	s, err := c.NewSink(tab, connector.SinkTask{JobID: "bench", Parallelism: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.(connector.Closer).Close()
	keys := []string{"eu", "us", "asia", "sa"}
	var ks []string
	for i := range 4096 {
		ks = append(ks, keys[i%4])
	}
	batch := batchAK(seq(0, 4096), ks, nil)
	b.ResetTimer()
	for range b.N {
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "rows/s")
}

// pqWindow and pqNested are TestParquetStruct's rows as read back.
type pqWindow struct {
	Start time.Time `parquet:"start,timestamp(nanosecond)"`
	End   time.Time `parquet:"end,timestamp(nanosecond)"`
}

type pqGeo struct {
	Lat float64 `parquet:"lat"`
}

type pqNested struct {
	ID int64     `parquet:"id"`
	W  *pqWindow `parquet:"w,optional"`
	P  struct {
		Name *string `parquet:"name,optional"`
		Geo  pqGeo   `parquet:"geo"`
	} `parquet:"p"`
}

// Struct columns (a window's start and end) become Parquet groups, NULL
// structs and NULL fields included, nested structs too.
func TestParquetStruct(t *testing.T) {
	winT := types.StructOf(types.Field{Name: "start", Type: types.TimestampT}, types.Field{Name: "end", Type: types.TimestampT})
	geoT := types.StructOf(types.Field{Name: "lat", Type: types.Float64T})
	pT := types.StructOf(types.Field{Name: "name", Type: types.StringT, Nullable: true}, types.Field{Name: "geo", Type: geoT})
	schema := types.NewSchema(
		types.Field{Name: "id", Type: types.Int64T},
		types.Field{Name: "w", Type: winT, Nullable: true},
		types.Field{Name: "p", Type: pT},
	)
	const n = 10
	id := coldata.New(types.Int64T, n).(*coldata.Vec[int64])
	w := coldata.New(winT, n).(*coldata.Struct)
	pv := coldata.New(pT, n).(*coldata.Struct)
	ts := coldata.New(types.TimestampT, n).(*coldata.Vec[int64])
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id.Append(int64(i))
		if i%3 == 0 {
			w.AppendNull()
		} else {
			w.Fields[0].(*coldata.Vec[int64]).Append(base.Add(time.Duration(i) * time.Minute).UnixNano())
			w.Fields[1].(*coldata.Vec[int64]).Append(base.Add(time.Duration(i+1) * time.Minute).UnixNano())
			w.AppendRow()
		}
		if i%2 == 0 {
			pv.Fields[0].(*coldata.Bytes).AppendNull()
		} else {
			pv.Fields[0].(*coldata.Bytes).AppendString(fmt.Sprint("n", i))
		}
		geo := pv.Fields[1].(*coldata.Struct)
		geo.Fields[0].(*coldata.Vec[float64]).Append(float64(i) / 2)
		geo.AppendRow()
		pv.AppendRow()
		ts.Append(0)
	}
	dir := t.TempDir()
	s := newSink(t, schema, "parquet", "path", dir)
	must(t, s.Write(ctx(), coldata.NewBatch([]coldata.Vector{id, w, pv, ts}, n)))
	p, err := s.PreCommit(ctx(), 1)
	must(t, err)
	must(t, s.Commit(ctx(), 1, [][]byte{p}))
	var path string
	for name := range visible(t, dir) {
		path = filepath.Join(dir, name)
	}
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	st, _ := f.Stat()
	got, err := parquet.Read[pqNested](f, st.Size())
	must(t, err)
	if len(got) != n {
		t.Fatalf("%d rows read back", len(got))
	}
	for i, g := range got {
		if g.ID != int64(i) || (g.W == nil) != (i%3 == 0) || (g.P.Name == nil) != (i%2 == 0) || g.P.Geo.Lat != float64(i)/2 {
			t.Fatalf("row %d read back as %+v", i, g)
		}
		if g.W != nil && (!g.W.Start.Equal(base.Add(time.Duration(i)*time.Minute)) || !g.W.End.Equal(base.Add(time.Duration(i+1)*time.Minute))) {
			t.Fatalf("row %d: window %+v", i, *g.W)
		}
		if g.P.Name != nil && *g.P.Name != fmt.Sprint("n", i) {
			t.Fatalf("row %d: name %q", i, *g.P.Name)
		}
	}
}

func BenchmarkWriteParquet(b *testing.B) {
	tab, err := table(b, schemaAK, "parquet", "path", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	c, _ := connector.Lookup("filesystem")
	s, err := c.NewSink(tab, connector.SinkTask{JobID: "bench", Parallelism: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.(connector.Closer).Close()
	var ks []string
	for i := range 4096 {
		ks = append(ks, fmt.Sprint("k", i%100))
	}
	batch := batchAK(seq(0, 4096), ks, nil)
	b.ResetTimer()
	for range b.N {
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "rows/s")
}
