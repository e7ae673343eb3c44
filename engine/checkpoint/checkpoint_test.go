package checkpoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

// keyedSnapshot builds a real state snapshot of subtask sub of p with a few
// keys in its groups.
func keyedSnapshot(t *testing.T, op string, sub, p int, epoch uint64) *state.Snapshot {
	t.Helper()
	st, err := state.New(state.Config{OperatorID: op, Subtask: sub, Parallelism: p, MaxKeyGroups: state.MaxKeyGroups}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tab := st.Keyed("groups")
	lo, hi := state.KeyGroupRange(sub, p, state.MaxKeyGroups)
	for g := lo; g < hi; g += 7 {
		tab.Put(g, []byte{byte(g), 1}, []byte("value"), state.NoExpiry)
	}
	st.Global("watermark").Put("0", []byte{42})
	return st.Snapshot(epoch)
}

// testProgram is a program with a source, a stateful operator and a sink,
// at parallelism p (only its nodes' ids, descriptions and parallelism
// matter here).
func testProgram(p int) *program.Program {
	return &program.Program{Name: "t", Version: program.Version, MaxKeyGroups: state.MaxKeyGroups, Nodes: []*program.Node{
		{ID: 0, OperatorID: "source_a", Description: "source a", Parallelism: p},
		{ID: 1, OperatorID: "aggregate_b", Description: "aggregate", Parallelism: p},
		{ID: 2, OperatorID: "sink_c", Description: "sink c", Parallelism: p},
		{ID: 3, OperatorID: "calc_d", Description: "calc", Parallelism: p},
	}}
}

func testSnapshot(t *testing.T, p int, epoch uint64) dataflow.Snapshot {
	snap := dataflow.Snapshot{"source_a": make([]any, p), "aggregate_b": make([]any, p), "sink_c": make([]any, p), "calc_d": make([]any, p)}
	for i := range p {
		snap["source_a"][i] = []connector.SplitState{{Split: "0/2", State: []byte{1, 2, 3}}, {Split: "1/2"}}
		snap["aggregate_b"][i] = keyedSnapshot(t, "aggregate_b", i, p, epoch)
		snap["sink_c"][i] = ops.TwoPhaseState{Epochs: []uint64{epoch - 1, epoch}, Prepared: [][]byte{[]byte("a"), {}}}
	}
	return snap
}

func TestEveryHandleKindRoundTrips(t *testing.T) {
	handles := []any{
		nil,
		keyedSnapshot(t, "op", 1, 3, 9),
		[]connector.SplitState{{Split: "r0", State: nil}, {Split: "", State: []byte{}}, {Split: "x", State: []byte("pos")}},
		[]connector.SplitState{},
		ops.TwoPhaseState{Epochs: []uint64{3, 4}, Prepared: [][]byte{nil, []byte("txn")}},
		ops.TwoPhaseState{},
	}
	kinds := map[Kind]bool{}
	for _, h := range handles {
		k, data, err := encodeHandle(h)
		if err != nil {
			t.Fatalf("%T: %v", h, err)
		}
		kinds[k] = true
		back, err := decodeHandle(k, data)
		if err != nil {
			t.Fatalf("%T: decode: %v", h, err)
		}
		if ts, ok := h.(ops.TwoPhaseState); ok && len(ts.Epochs) == 0 {
			h = ops.TwoPhaseState{}
		}
		if ss, ok := h.([]connector.SplitState); ok && len(ss) == 0 {
			h = []connector.SplitState{}
		}
		if !reflect.DeepEqual(back, h) {
			t.Errorf("%T: round trip gave %#v, want %#v", h, back, h)
		}
		// Every flipped byte is caught.
		for i := range data {
			bad := append([]byte{}, data...)
			bad[i] ^= 0x40
			if _, err := decodeHandle(k, bad); err == nil {
				t.Errorf("%s: byte %d flipped: decoded without error", k, i)
			}
		}
		if len(data) > 0 {
			if _, err := decodeHandle(k, data[:len(data)-1]); err == nil {
				t.Errorf("%s: truncated: decoded without error", k)
			}
		}
	}
	for _, k := range []Kind{KindNone, KindState, KindSplits, KindTwoPhase} {
		if !kinds[k] {
			t.Errorf("no handle of kind %s tested", k)
		}
	}
	if _, _, err := encodeHandle(struct{}{}); err == nil || !strings.Contains(err.Error(), "struct {}") {
		t.Errorf("unknown handle type: %v", err)
	}
}

func newDir(t *testing.T) (*Dir, string) {
	root := t.TempDir()
	return &Dir{Storage: Local{Root: root}, Root: "checkpoints/job_1"}, root
}

func TestWriteLoadLatest(t *testing.T) {
	ctx := context.Background()
	d, root := newDir(t)
	if m, err := d.Latest(ctx); err != nil || m != nil {
		t.Fatalf("empty dir: %v, %v", m, err)
	}
	prog := testProgram(2)
	for e := uint64(1); e <= 5; e++ {
		snap := testSnapshot(t, 2, e)
		if _, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{JobID: "job_1", Epoch: e, Started: time.Now(), Snapshot: snap}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := d.Latest(ctx)
	if err != nil || m == nil || m.Epoch != 5 {
		t.Fatalf("latest: %+v, %v", m, err)
	}
	got, err := d.Load(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if want := testSnapshot(t, 2, 5); !reflect.DeepEqual(got, want) {
		t.Errorf("loaded snapshot differs from the written one")
	}
	if err := Check(m, prog); err != nil {
		t.Error(err)
	}
	// Only the last DefaultKeep are kept.
	list, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var epochs []uint64
	for _, m := range list {
		epochs = append(epochs, m.Epoch)
	}
	if !reflect.DeepEqual(epochs, []uint64{3, 4, 5}) {
		t.Errorf("kept %v, want [3 4 5]", epochs)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "checkpoints/job_1")); len(ents) != 3 {
		t.Errorf("%d directories left, want 3", len(ents))
	}
	// The stateless subtasks wrote no file.
	for _, o := range m.Operators {
		for _, s := range o.Subtasks {
			if (o.ID == "calc_d") != (s.Kind == KindNone) {
				t.Errorf("%s subtask %d: kind %s", o.ID, s.Subtask, s.Kind)
			}
		}
	}
}

func TestIncompleteCheckpointIgnored(t *testing.T) {
	ctx := context.Background()
	d, root := newDir(t)
	prog := testProgram(1)
	if _, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{Epoch: 1, Snapshot: testSnapshot(t, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	// A crash while writing epoch 2: files but no metadata.
	dir := filepath.Join(root, "checkpoints/job_1/epoch-00000002")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "aggregate_b-0.state"), []byte("half"), 0o644)
	m, err := d.Latest(ctx)
	if err != nil || m == nil || m.Epoch != 1 {
		t.Fatalf("latest = %+v, %v; want epoch 1", m, err)
	}
	// The next checkpoint removes the incomplete one.
	if _, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{Epoch: 3, Snapshot: testSnapshot(t, 1, 3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incomplete checkpoint still there: %v", err)
	}
}

// TestDamagedCheckpointNamesTheFile: a missing, truncated, damaged or
// replaced file, or damaged metadata, is an error naming the file; nothing
// is loaded.
func TestDamagedCheckpointNamesTheFile(t *testing.T) {
	ctx := context.Background()
	damage := map[string]func(path string){
		"missing":   func(p string) { os.Remove(p) },
		"truncated": func(p string) { b, _ := os.ReadFile(p); os.WriteFile(p, b[:len(b)/2], 0o644) },
		"flipped":   func(p string) { b, _ := os.ReadFile(p); b[len(b)/2] ^= 1; os.WriteFile(p, b, 0o644) },
		"empty":     func(p string) { os.WriteFile(p, nil, 0o644) },
	}
	for name, f := range damage {
		for _, file := range []string{"aggregate_b-1.state", "source_a-0.splits", "sink_c-1.twophase"} {
			t.Run(name+"/"+file, func(t *testing.T) {
				d, root := newDir(t)
				if _, err := d.Write(ctx, testProgram(2), dataflow.CompletedCheckpoint{Epoch: 4, Snapshot: testSnapshot(t, 2, 4)}); err != nil {
					t.Fatal(err)
				}
				f(filepath.Join(root, "checkpoints/job_1/epoch-00000004", file))
				m, err := d.Latest(ctx)
				if err != nil {
					t.Fatal(err)
				}
				snap, err := d.Load(ctx, m)
				if err == nil || !strings.Contains(err.Error(), file) {
					t.Fatalf("load: %v (snapshot %v); want an error naming %s", err, snap != nil, file)
				}
			})
		}
	}
	t.Run("metadata", func(t *testing.T) {
		d, root := newDir(t)
		if _, err := d.Write(ctx, testProgram(1), dataflow.CompletedCheckpoint{Epoch: 2, Snapshot: testSnapshot(t, 1, 2)}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "checkpoints/job_1/epoch-00000002", MetadataFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-10], 0o644)
		if _, err := d.Latest(ctx); err == nil || !strings.Contains(err.Error(), MetadataFile) {
			t.Fatalf("latest with damaged metadata: %v", err)
		}
	})
}

// failing is a Storage whose writes fail while fail is set (a full disk).
type failing struct {
	Storage
	fail   atomic.Bool
	writes atomic.Int64
}

func (f *failing) WriteFile(ctx context.Context, name string, data []byte) error {
	f.writes.Add(1)
	if f.fail.Load() {
		return errors.New("no space left on device")
	}
	return f.Storage.WriteFile(ctx, name, data)
}

func TestWriteErrorKeepsPreviousCheckpoint(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	fs := &failing{Storage: Local{Root: root}}
	d := &Dir{Storage: fs, Root: "cp"}
	prog := testProgram(2)
	if _, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{Epoch: 1, Snapshot: testSnapshot(t, 2, 1)}); err != nil {
		t.Fatal(err)
	}
	fs.fail.Store(true)
	_, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{Epoch: 2, Snapshot: testSnapshot(t, 2, 2)})
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "checkpoint 2") {
		t.Fatalf("write on a full disk: %v", err)
	}
	m, err := d.Latest(ctx)
	if err != nil || m.Epoch != 1 {
		t.Fatalf("latest after a failed write: %+v, %v", m, err)
	}
	if _, err := os.Stat(filepath.Join(root, "cp/epoch-00000002")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed checkpoint's files were left: %v", err)
	}
}

func TestCheckRefusesAnotherProgram(t *testing.T) {
	ctx := context.Background()
	d, _ := newDir(t)
	m, err := d.Write(ctx, testProgram(2), dataflow.CompletedCheckpoint{Epoch: 1, Snapshot: testSnapshot(t, 2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	other := testProgram(3)
	other.Nodes[1].OperatorID = "aggregate_z"
	if err := Check(m, other); err == nil || !strings.Contains(err.Error(), "aggregate_b") {
		t.Errorf("a program without the checkpointed operator: %v", err)
	}
	other = testProgram(3)
	other.MaxKeyGroups = 64
	if err := Check(m, other); err == nil || !strings.Contains(err.Error(), "key groups") {
		t.Errorf("another key-group count: %v", err)
	}
	if err := Check(m, testProgram(3)); err != nil {
		t.Errorf("another parallelism is fine: %v", err)
	}
}
