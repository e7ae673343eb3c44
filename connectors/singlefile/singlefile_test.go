package singlefile_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"
	_ "github.com/arroyogo/arroyo/connectors/singlefile"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

func newSink(t *connector.Table) (connector.Sink, error) {
	c, _ := connector.Lookup("single_file")
	return c.NewSink(t)
}

func sinkTable(path string) *connector.Table {
	return &connector.Table{
		Name: "out", Connector: "single_file",
		Options: connector.Options{"path": path},
		Schema:  types.NewSchema(types.Field{Name: "a", Type: types.Int64T}),
		Format:  &connector.FormatConfig{Name: "json", Options: connector.Options{}},
	}
}

// A sink that never receives rows and never finishes (the pipeline failed
// to start or was cancelled) leaves an existing file alone.
func TestSinkDoesNotTruncateUntilItWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(path, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := newSink(sinkTable(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.(connector.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "previous\n" {
		t.Fatalf("file changed to %q", got)
	}
}

func TestSinkWritesAndFinishes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	s, err := newSink(sinkTable(path))
	if err != nil {
		t.Fatal(err)
	}
	a := coldata.New(types.Int64T, 3).(*coldata.Vec[int64])
	a.Append(1)
	a.AppendNull()
	a.Append(3)
	ts := coldata.New(types.TimestampT, 3).(*coldata.Vec[int64])
	ts.Vals = []int64{0, 0, 0}
	b := &coldata.Batch{Cols: []coldata.Vector{a, ts}, Len: 3, Sel: []int32{0, 1}}
	ctx := context.Background()
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.(connector.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "{\"a\":1}\n{\"a\":null}\n" {
		t.Fatalf("file is %q", got)
	}
	// An empty stream still produces an (empty) file at end of stream.
	empty := filepath.Join(t.TempDir(), "empty.json")
	s2, _ := newSink(sinkTable(empty))
	if err := s2.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
		t.Fatalf("empty output: %v %v", st, err)
	}
}
