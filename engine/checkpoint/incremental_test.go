package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

// The tests of incremental checkpoints model an operator the way the
// aggregate is: its keyed state is a few panes, each encoded once into
// immutable blobs per key group (state.GroupBlobs), and a checkpoint's
// snapshot refers to the blobs of the panes live at its epoch.

// pane is a set of entries of one subtask, encoded once.
type pane struct {
	blobs map[int][]byte // by key group
	n     map[int]int
	slots map[int]*state.PartSlot
}

// newPane encodes entries (key -> value) of key groups [lo, hi): key
// "p<id>/<group>/<i>" is in group <group>.
func newPane(id string, lo, hi, perGroup int) *pane {
	entries := map[string]string{}
	for g := lo; g < hi; g++ {
		for i := range perGroup {
			entries[fmt.Sprintf("p%s/%d/%d", id, g, i)] = fmt.Sprintf("value of %s %d %d", id, g, i)
		}
	}
	return encodePane(entries)
}

// encodePane encodes entries whose keys name their key group.
func encodePane(entries map[string]string) *pane {
	byGroup := map[int][]string{}
	for k := range entries {
		byGroup[groupOf(k)] = append(byGroup[groupOf(k)], k)
	}
	p := &pane{blobs: map[int][]byte{}, n: map[int]int{}, slots: map[int]*state.PartSlot{}}
	for g, keys := range byGroup {
		sort.Strings(keys)
		b := state.AppendGroupHeader(nil, "groups", len(keys))
		for _, k := range keys {
			b = state.AppendEntry(b, []byte(k), []byte(entries[k]), state.NoExpiry)
		}
		p.blobs[g], p.n[g], p.slots[g] = b, len(keys), new(state.PartSlot)
	}
	return p
}

func groupOf(key string) int {
	var g int
	fmt.Sscanf(strings.SplitN(key, "/", 3)[1], "%d", &g)
	return g
}

// panes is the operator's table "groups": the blobs of its live panes.
type panes []*pane

func (ps panes) GroupLen(g int) int {
	n := 0
	for _, p := range ps {
		n += p.n[g]
	}
	return n
}

func (ps panes) AppendGroup(b []byte, g int) []byte { panic("the snapshot refers to the blobs") }

func (ps panes) Blobs(g int, add func([]byte, *state.PartSlot)) {
	for _, p := range ps {
		if b := p.blobs[g]; b != nil {
			add(b, p.slots[g])
		}
	}
}

// incrProgram is a program with one stateful operator at parallelism p.
func incrProgram(p int) *program.Program {
	return &program.Program{Name: "t", Version: program.Version, MaxKeyGroups: 16, Nodes: []*program.Node{
		{ID: 0, OperatorID: "aggregate_b", Description: "aggregate", Parallelism: p},
	}}
}

// write checkpoints epoch with the given live panes of each subtask.
func writePanes(t *testing.T, d *Dir, epoch uint64, live [][]*pane) *Metadata {
	t.Helper()
	p := len(live)
	hs := make([]any, p)
	for i := range p {
		st, err := state.New(state.Config{OperatorID: "aggregate_b", Subtask: i, Parallelism: p, MaxKeyGroups: 16}, nil)
		if err != nil {
			t.Fatal(err)
		}
		st.Global("watermark").Put(fmt.Sprint(i), []byte{byte(epoch)})
		hs[i] = st.SnapshotWith(epoch, map[string]state.TableEncoder{"groups": panes(live[i])}, 0)
	}
	m, err := d.Write(context.Background(), incrProgram(p), dataflow.CompletedCheckpoint{Epoch: epoch, Snapshot: dataflow.Snapshot{"aggregate_b": hs}})
	if err != nil {
		t.Fatalf("checkpoint %d: %v", epoch, err)
	}
	return m
}

// restored loads checkpoint m and restores it at parallelism p: every
// entry of table "groups" (key -> value), and checks each subtask got
// only its key groups.
func restored(t *testing.T, d *Dir, m *Metadata, p int) map[string]string {
	t.Helper()
	snap, err := d.Load(context.Background(), m)
	if err != nil {
		t.Fatalf("load checkpoint %d: %v", m.Epoch, err)
	}
	var hs []*state.Snapshot
	for _, h := range snap["aggregate_b"] {
		hs = append(hs, h.(*state.Snapshot))
	}
	out := map[string]string{}
	for i := range p {
		st, err := state.New(state.Config{OperatorID: "aggregate_b", Subtask: i, Parallelism: p, MaxKeyGroups: 16}, hs)
		if err != nil {
			t.Fatalf("restore checkpoint %d at parallelism %d: %v", m.Epoch, p, err)
		}
		lo, hi := st.KeyGroups()
		if err := st.RangeRestoredKeyed("groups", func(g int, key, value []byte, _ int64) error {
			if g < lo || g >= hi || groupOf(string(key)) != g {
				t.Errorf("subtask %d of %d got %q in key group %d", i, p, key, g)
			}
			out[string(key)] = string(value)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// union is the entries of panes.
func union(t *testing.T, ps ...*pane) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		for g, b := range p.blobs {
			gs := state.GroupState{Group: g, Data: b}
			sn := &state.Snapshot{Parallelism: 1, MaxKeyGroups: 16, Groups: []state.GroupState{gs}}
			st, err := state.New(state.Config{Parallelism: 1, MaxKeyGroups: 16}, []*state.Snapshot{sn})
			if err != nil {
				t.Fatal(err)
			}
			_ = st.RangeRestoredKeyed("groups", func(_ int, key, value []byte, _ int64) error {
				out[string(key)] = string(value)
				return nil
			})
		}
	}
	return out
}

// epochFiles lists what is in each epoch directory under d.
func epochFiles(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dirs, _ := os.ReadDir(root)
	for _, e := range dirs {
		fs, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, f := range fs {
			out[e.Name()] = append(out[e.Name()], f.Name())
		}
	}
	return out
}

// TestIncrementalChain writes a chain of checkpoints at parallelism 1
// whose panes come and go, checks each refers to the parts earlier ones
// wrote instead of writing them again, that retention keeps a dropped
// checkpoint's file while a kept one refers to it (and deletes it once
// none does), restores the chain at parallelism 3, continues it there (a
// restarted job: a new chain), and restores that at parallelism 2, with
// exactly the live panes' entries each time.
func TestIncrementalChain(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := &Dir{Storage: Local{Root: root}, Root: "cp", Keep: 2}
	dir := filepath.Join(root, "cp")
	lo, hi := 0, 16
	a, b, c := newPane("a", lo, hi, 40), newPane("b", lo, hi, 40), newPane("c", lo, hi, 40)
	dd, e, f, g := newPane("d", lo, hi, 40), newPane("e", lo, hi, 40), newPane("f", lo, hi, 40), newPane("g", lo, hi, 40)

	m1 := writePanes(t, d, 1, [][]*pane{{a, b}})
	if m1.Referenced() != 0 || m1.Version != FormatVersion {
		t.Fatalf("the first checkpoint refers to %d bytes (version %d)", m1.Referenced(), m1.Version)
	}
	m2 := writePanes(t, d, 2, [][]*pane{{a, b, c}})
	s2 := m2.Operators[0].Subtasks[0]
	if !slices.Equal(s2.Refs, []string{"epoch-00000001/aggregate_b-0.state"}) || s2.RefBytes == 0 {
		t.Fatalf("checkpoint 2 refers to %v (%d bytes)", s2.Refs, s2.RefBytes)
	}
	if s2.Size >= m1.Bytes()+m1.Bytes()/2 {
		t.Errorf("checkpoint 2 wrote %d bytes, checkpoint 1 %d: a and b again?", s2.Size, m1.Bytes())
	}
	if got, want := restored(t, d, m2, 1), union(t, a, b, c); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 2 restores %d entries, want %d", len(got), len(want))
	}
	m3 := writePanes(t, d, 3, [][]*pane{{b, c, dd}})
	writePanes(t, d, 4, [][]*pane{{c, dd, e}})
	// Keep 2: checkpoints 3 and 4. Epoch 1's file (b) is needed by 3,
	// epoch 2's (c) by 3 and 4; their metadata is gone.
	files := epochFiles(t, dir)
	if !slices.Equal(files["epoch-00000001"], []string{"aggregate_b-0.state"}) || !slices.Equal(files["epoch-00000002"], []string{"aggregate_b-0.state"}) {
		t.Fatalf("after checkpoint 4: %v", files)
	}
	list, err := d.List(ctx)
	if err != nil || len(list) != 2 || list[0].Epoch != 3 || list[1].Epoch != 4 {
		t.Fatalf("list after checkpoint 4: %v, %v", list, err)
	}
	if got, want := restored(t, d, m3, 1), union(t, b, c, dd); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 3 restores %d entries, want %d", len(got), len(want))
	}
	m5 := writePanes(t, d, 5, [][]*pane{{dd, e, f}})
	files = epochFiles(t, dir)
	if _, ok := files["epoch-00000001"]; ok {
		t.Errorf("epoch 1's file outlived the last checkpoint that referred to it: %v", files)
	}
	if _, ok := files["epoch-00000002"]; !ok {
		t.Errorf("epoch 2's file (c, referred to by checkpoint 4) is gone: %v", files)
	}
	m6 := writePanes(t, d, 6, [][]*pane{{e, f, g}})
	files = epochFiles(t, dir)
	if _, ok := files["epoch-00000002"]; ok {
		t.Errorf("epoch 2's file outlived its last reference: %v", files)
	}
	// d was written by checkpoint 3 and is referred to by 5; e by 4,
	// referred to by 5 and 6.
	if !slices.Equal(files["epoch-00000003"], []string{"aggregate_b-0.state"}) || !slices.Equal(files["epoch-00000004"], []string{"aggregate_b-0.state"}) {
		t.Errorf("epochs 3 and 4 should keep only their state files: %v", files)
	}
	if got, want := restored(t, d, m5, 1), union(t, dd, e, f); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 5 restores %d entries, want %d", len(got), len(want))
	}

	// Restore at parallelism 3, continue there as a new job (a new Dir
	// value: nothing to refer to in its first checkpoint).
	want := union(t, e, f, g)
	got := restored(t, d, m6, 3)
	if !maps.Equal(got, want) {
		t.Fatalf("checkpoint 6 at parallelism 3: %d entries, want %d", len(got), len(want))
	}
	d3 := &Dir{Storage: Local{Root: root}, Root: "cp", Keep: 2}
	repane := func(p int, src map[string]string, names ...string) [][]*pane {
		out := make([][]*pane, p)
		for i := range p {
			l, h := state.KeyGroupRange(i, p, 16)
			for _, n := range names {
				entries := map[string]string{}
				for k, v := range src {
					if strings.HasPrefix(k, "p"+n+"/") && groupOf(k) >= l && groupOf(k) < h {
						entries[k] = v
					}
				}
				out[i] = append(out[i], encodePane(entries))
			}
		}
		return out
	}
	live := repane(3, got, "e", "f", "g")
	m7 := writePanes(t, d3, 7, live)
	if m7.Referenced() != 0 {
		t.Errorf("a restarted job's first checkpoint refers to %d bytes", m7.Referenced())
	}
	h := newPane("h", lo, hi, 40)
	hp := repane(3, union(t, h), "h")
	for i := range live {
		live[i] = append(live[i][1:], hp[i]...) // e closes, h opens
	}
	m8 := writePanes(t, d3, 8, live)
	if m8.Referenced() == 0 || len(m8.Operators[0].Subtasks[2].Refs) != 1 {
		t.Errorf("checkpoint 8 refers to %d bytes: %+v", m8.Referenced(), m8.Operators[0].Subtasks)
	}
	m9 := writePanes(t, d3, 9, live)
	if m9.Bytes() >= m8.Bytes() {
		t.Errorf("checkpoint 9 (nothing changed) wrote %d bytes, checkpoint 8 %d", m9.Bytes(), m8.Bytes())
	}
	want = union(t, f, g, h)
	if got := restored(t, d3, m9, 2); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 9 at parallelism 2: %d entries, want %d", len(got), len(want))
	}
	// Checkpoint 9 refers to checkpoint 7's files (f, g) and 8's (h).
	var refs []string
	for _, s := range m9.Operators[0].Subtasks {
		refs = append(refs, s.Refs...)
	}
	if !slices.Contains(refs, "epoch-00000007/aggregate_b-1.state") || !slices.Contains(refs, "epoch-00000008/aggregate_b-1.state") {
		t.Errorf("checkpoint 9 refers to %v", refs)
	}
}

// TestIncrementalDamagedReference: a referenced part that is damaged, or
// whose file is missing, fails the load with an error naming the
// checkpoint loaded, the checkpoint that wrote the part and the file.
func TestIncrementalDamagedReference(t *testing.T) {
	root := t.TempDir()
	d := &Dir{Storage: Local{Root: root}, Root: "cp"}
	a, b := newPane("a", 0, 16, 20), newPane("b", 0, 16, 20)
	writePanes(t, d, 1, [][]*pane{{a}})
	m2 := writePanes(t, d, 2, [][]*pane{{a, b}})
	file := filepath.Join(root, "cp", "epoch-00000001", "aggregate_b-0.state")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A byte inside a's entries (the middle of the file).
	bad := slices.Clone(data)
	bad[len(bad)/2] ^= 0x20
	if err := os.WriteFile(file, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Load(context.Background(), m2)
	if err == nil || !strings.Contains(err.Error(), "checkpoint 2:") || !strings.Contains(err.Error(), "checkpoint 1's") || !strings.Contains(err.Error(), "epoch-00000001/aggregate_b-0.state") || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("load with a damaged referenced part: %v", err)
	}
	if !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("not ErrCorrupt: %v", err)
	}
	os.Remove(file)
	_, err = d.Load(context.Background(), m2)
	if err == nil || !strings.Contains(err.Error(), "checkpoint 1's") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("load with a missing referenced file: %v", err)
	}
}

// crashing is a Storage on which the metadata of one epoch is never
// written and nothing is removed: a process killed between writing a
// checkpoint's parts and its metadata.
type crashing struct {
	Storage
	epoch string
}

func (c *crashing) WriteFile(ctx context.Context, name string, data []byte) error {
	if strings.Contains(name, c.epoch) && strings.HasSuffix(name, MetadataFile) {
		return errors.New("killed")
	}
	return c.Storage.WriteFile(ctx, name, data)
}

func (c *crashing) RemoveAll(ctx context.Context, dir string) error { return nil }

// TestIncrementalCrashBeforeMetadata: the parts of a checkpoint whose
// metadata was never written are ignored (the previous checkpoint loads,
// nothing refers to them) and deleted by a later checkpoint's retention.
func TestIncrementalCrashBeforeMetadata(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	a, b, c := newPane("a", 0, 16, 20), newPane("b", 0, 16, 20), newPane("c", 0, 16, 20)
	d := &Dir{Storage: Local{Root: root}, Root: "cp"}
	writePanes(t, d, 1, [][]*pane{{a}})
	d.Storage = &crashing{Storage: Local{Root: root}, epoch: "epoch-00000002"}
	_, err := d.Write(ctx, incrProgram(1), dataflow.CompletedCheckpoint{Epoch: 2, Snapshot: dataflow.Snapshot{"aggregate_b": []any{snapshotOf(t, 2, a, b)}}})
	if err == nil {
		t.Fatal("the crash did not happen")
	}
	if _, err := os.Stat(filepath.Join(root, "cp", "epoch-00000002", "aggregate_b-0.state")); err != nil {
		t.Fatalf("the crashed checkpoint's parts are not there to test with: %v", err)
	}
	// The restarted process restores checkpoint 1, and writes 2 and 3.
	d = &Dir{Storage: Local{Root: root}, Root: "cp"}
	m, err := d.Latest(ctx)
	if err != nil || m.Epoch != 1 {
		t.Fatalf("latest after the crash: %+v, %v", m, err)
	}
	if got, want := restored(t, d, m, 1), union(t, a); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 1 restores %d entries, want %d", len(got), len(want))
	}
	m2 := writePanes(t, d, 2, [][]*pane{{a, c}})
	m3 := writePanes(t, d, 3, [][]*pane{{a, c}})
	if got, want := restored(t, d, m3, 1), union(t, a, c); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 3 restores %d entries, want %d", len(got), len(want))
	}
	if m3.Referenced() == 0 || m2.Referenced() != 0 {
		t.Errorf("referenced bytes: checkpoint 2 %d, 3 %d", m2.Referenced(), m3.Referenced())
	}
	// A partial epoch older than the latest is deleted.
	writePanes(t, d, 5, [][]*pane{{a}}) // (epoch 4 crashed and left nothing)
	os.MkdirAll(filepath.Join(root, "cp", "epoch-00000004"), 0o755)
	os.WriteFile(filepath.Join(root, "cp", "epoch-00000004", "aggregate_b-0.state"), []byte("partial"), 0o644)
	writePanes(t, d, 6, [][]*pane{{a}})
	if _, err := os.Stat(filepath.Join(root, "cp", "epoch-00000004")); !os.IsNotExist(err) {
		t.Errorf("the partial epoch 4 is still there: %v", err)
	}

	// A checkpoint that failed (the process lives on) is never referred
	// to: the next refers to the last complete one's parts.
	root = t.TempDir()
	d = &Dir{Storage: Local{Root: root}, Root: "cp"}
	a, b = newPane("a", 0, 16, 20), newPane("b", 0, 16, 20)
	writePanes(t, d, 1, [][]*pane{{a}})
	d.Storage = &crashing{Storage: Local{Root: root}, epoch: "epoch-00000002"}
	if _, err := d.Write(ctx, incrProgram(1), dataflow.CompletedCheckpoint{Epoch: 2, Snapshot: dataflow.Snapshot{"aggregate_b": []any{snapshotOf(t, 2, a, b)}}}); err == nil {
		t.Fatal("the failure did not happen")
	}
	d.Storage = Local{Root: root}
	m3 = writePanes(t, d, 3, [][]*pane{{a, b}})
	if refs := m3.Operators[0].Subtasks[0].Refs; !slices.Equal(refs, []string{"epoch-00000001/aggregate_b-0.state"}) {
		t.Errorf("after a failed checkpoint 2, checkpoint 3 refers to %v", refs)
	}
	if got, want := restored(t, d, m3, 1), union(t, a, b); !maps.Equal(got, want) {
		t.Fatalf("checkpoint 3 restores %d entries, want %d", len(got), len(want))
	}
}

func snapshotOf(t *testing.T, epoch uint64, ps ...*pane) *state.Snapshot {
	st, err := state.New(state.Config{OperatorID: "aggregate_b", Subtask: 0, Parallelism: 1, MaxKeyGroups: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.SnapshotWith(epoch, map[string]state.TableEncoder{"groups": panes(ps)}, 0)
}

// TestMetadataVersion1Loads: metadata of format version 1 (no references)
// is still read; a later version is an error naming it.
func TestMetadataVersion1Loads(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := &Dir{Storage: Local{Root: root}, Root: "cp"}
	writePanes(t, d, 1, [][]*pane{{newPane("a", 0, 16, 3)}})
	name := filepath.Join(root, "cp", "epoch-00000001", MetadataFile)
	for _, v := range []int{1, FormatVersion + 1} {
		raw, _ := os.ReadFile(name)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m["version"] = v
		raw, _ = json.Marshal(m)
		os.WriteFile(name, raw, 0o644)
		got, err := d.Latest(ctx)
		if v == 1 && (err != nil || got.Version != 1) {
			t.Errorf("version 1 metadata: %+v, %v", got, err)
		}
		if v > FormatVersion && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("format version %d", v))) {
			t.Errorf("version %d metadata: %v", v, err)
		}
	}
}
