// Package checkpoint makes the runtime's checkpoints durable: it writes a
// complete checkpoint's snapshot handles (operator state, source split
// positions, two-phase sinks' pre-committed epochs) to files, then the
// checkpoint's metadata last and atomically, and loads the latest complete
// checkpoint back into the form dataflow.Options.Restore takes.
//
// Layout under a job's root (Dir):
//
//	epoch-00000007/
//	  calc_1f0c3a9e-0.state     one file per subtask with state
//	  source_9a1b2c3d-1.splits
//	  sink_0d1e2f3a-0.twophase
//	  _metadata.json            written last: the checkpoint exists once it does
//
// Files are our own framed binary (the state package's snapshot encoding:
// parts of one key group or of several, CRC-32C trailer); `arroyo checkpoints
// inspect` decodes them for people. A directory without _metadata.json is
// not a checkpoint: one never completed (ignored, and deleted), or one
// retention dropped whose files later checkpoints still refer to.
//
// Checkpoints are incremental: a part of a state snapshot that does not
// change (a state.GroupState with a Slot, e.g. an aggregate's pane no row
// reached since) is written once, by the checkpoint that first had it,
// and later checkpoints' files refer to it (file, offset, length,
// CRC-32C) instead of writing it again. Each Subtask lists the files its
// references point into, so retention keeps a file as long as a retained
// checkpoint needs it without reading any state file, and Load resolves
// the references (a missing or damaged part is an error naming the
// checkpoint, the referenced epoch and the file).
//
// It must not import sqlplan, connectors, controlplane, udf or cmd.
package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

// FormatVersion is the version of the metadata and file layout this build
// writes. Version 2 adds references to earlier checkpoints' files
// (Subtask.Refs, state snapshot format 3); version 1 is still read.
const FormatVersion = 2

// MetadataFile is the name of a checkpoint's metadata, written last.
const MetadataFile = "_metadata.json"

const epochPrefix = "epoch-"

// Metadata describes one complete checkpoint.
type Metadata struct {
	Version int    `json:"version"`
	Job     string `json:"job"`
	Epoch   uint64 `json:"epoch"`
	// Stop marks the final checkpoint of a stopped job.
	Stop bool `json:"stop,omitempty"`
	// Program is the checkpointed program's name and format version;
	// MaxKeyGroups its key-group count, which a restore must keep.
	Program        string     `json:"program"`
	ProgramVersion int        `json:"program_version"`
	MaxKeyGroups   int        `json:"max_key_groups"`
	Started        time.Time  `json:"started"`
	Finished       time.Time  `json:"finished"`
	Operators      []Operator `json:"operators"`
	// Dir is where the checkpoint is, relative to the storage (not
	// stored).
	Dir string `json:"-"`
}

// Operator is one operator's part of a checkpoint.
type Operator struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	Parallelism int       `json:"parallelism"`
	Subtasks    []Subtask `json:"subtasks"`
}

// Subtask is one subtask's file (none for Kind none).
type Subtask struct {
	Subtask int    `json:"subtask"`
	Kind    Kind   `json:"kind"`
	File    string `json:"file,omitempty"`
	Size    int64  `json:"size"`
	CRC32C  uint32 `json:"crc32c"`
	// Refs are the files (relative to the Dir's root, e.g.
	// "epoch-00000003/calc_1f0c3a9e-0.state") that File refers to parts
	// of, and RefBytes the size of those parts: state this checkpoint
	// has without writing it again.
	Refs     []string `json:"refs,omitempty"`
	RefBytes int64    `json:"ref_bytes,omitempty"`
}

// Bytes is the total size of the checkpoint's own files (what writing it
// wrote; Referenced is what it refers to in earlier checkpoints' files).
func (m *Metadata) Bytes() int64 {
	var n int64
	for _, o := range m.Operators {
		for _, s := range o.Subtasks {
			n += s.Size
		}
	}
	return n
}

// Referenced is the size of the parts of earlier checkpoints' files the
// checkpoint refers to.
func (m *Metadata) Referenced() int64 {
	var n int64
	for _, o := range m.Operators {
		for _, s := range o.Subtasks {
			n += s.RefBytes
		}
	}
	return n
}

// Dir is the checkpoints of one job in a Storage.
type Dir struct {
	Storage Storage
	// Root is the job's directory in the storage (e.g.
	// "checkpoints/job_abc").
	Root string
	// Keep is how many complete checkpoints are kept (at least 1; 0 means
	// DefaultKeep). Older ones are deleted after each new one: a restore
	// only ever loads the latest, and what a two-phase sink has yet to
	// commit travels inside it. A dropped checkpoint's files that a kept
	// one refers to stay until none does.
	Keep int

	// id tells this Dir's notes in parts' slots (state.PartSlot) from
	// another's; last is the epoch of the last checkpoint it wrote, whose
	// parts (written or referred to) the next may refer to.
	id      uint64
	last    uint64
	written bool
}

// dirIDs numbers Dirs for their notes in parts' slots.
var dirIDs atomic.Uint64

// slotNote is a note to make in a part's slot once the checkpoint that
// has the part is durable.
type slotNote struct {
	slot *state.PartSlot
	ref  state.PartRef
}

// DefaultKeep is how many checkpoints a Dir keeps unless told otherwise.
const DefaultKeep = 3

func epochDir(e uint64) string { return fmt.Sprintf("%s%08d", epochPrefix, e) }

func (d *Dir) join(parts ...string) string {
	return strings.Join(append([]string{d.Root}, parts...), "/")
}

// fileName is a subtask's file name: the operator id made safe for any
// file system, the subtask and the kind.
func fileName(opID string, sub int, k Kind) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, opID)
	return fmt.Sprintf("%s-%d.%s", safe, sub, k)
}

// Write stores a complete checkpoint of prog: every subtask's file (in
// parallel), then the metadata, atomically; then older checkpoints beyond
// Keep are deleted. The checkpoint exists (Latest finds it) only once
// Write has returned nil. Parts of state snapshots the previous Write of
// this Dir wrote (or referred to) are referred to, not written again.
// Calls must not overlap (the runtime writes one checkpoint at a time).
func (d *Dir) Write(ctx context.Context, prog *program.Program, c dataflow.CompletedCheckpoint) (*Metadata, error) {
	dir := epochDir(c.Epoch)
	m := &Metadata{
		Version: FormatVersion, Job: c.JobID, Epoch: c.Epoch, Stop: c.Stop,
		Program: prog.Name, ProgramVersion: prog.Version, MaxKeyGroups: keyGroups(prog),
		Started: c.Started, Dir: d.join(dir),
	}
	type work struct {
		op, sub int
		h       any
	}
	var jobs []work
	for _, n := range prog.Nodes {
		hs := c.Snapshot[n.OperatorID]
		o := Operator{ID: n.OperatorID, Description: n.Description, Parallelism: n.Parallelism, Subtasks: make([]Subtask, n.Parallelism)}
		for i := range n.Parallelism {
			o.Subtasks[i] = Subtask{Subtask: i, Kind: KindNone}
			if i < len(hs) && hs[i] != nil {
				jobs = append(jobs, work{len(m.Operators), i, hs[i]})
			}
		}
		m.Operators = append(m.Operators, o)
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
		notes [][]slotNote
	)
	if d.id == 0 {
		d.id = dirIDs.Add(1)
	}
	for _, w := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			o := &m.Operators[w.op]
			var (
				k    Kind
				name string
				size int64
				sum  uint32
				err  error
				refs []string
				refd int64
			)
			if sn, ok := w.h.(*state.Snapshot); ok {
				// Operator state, the bulk of a checkpoint, is written
				// from its pieces where the storage streams.
				k = KindState
				name = fileName(o.ID, w.sub, k)
				var placed []slotNote
				size, sum, placed, refs, refd, err = d.writeSnapshot(ctx, dir+"/"+name, sn)
				if err == nil {
					mu.Lock()
					notes = append(notes, placed)
					mu.Unlock()
				}
			} else {
				var data []byte
				k, data, err = encodeHandle(w.h)
				name = fileName(o.ID, w.sub, k)
				if err == nil {
					err = d.Storage.WriteFile(ctx, d.join(dir, name), data)
				}
				size, sum = int64(len(data)), crc32.Checksum(data, castagnoli)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("checkpoint %d: %s subtask %d: write %s/%s: %w", c.Epoch, o.Description, w.sub, d.Storage, d.join(dir, name), err)
				}
				return
			}
			o.Subtasks[w.sub] = Subtask{Subtask: w.sub, Kind: k, File: name, Size: size, CRC32C: sum, Refs: refs, RefBytes: refd}
		}()
	}
	wg.Wait()
	if first != nil {
		// A partial checkpoint is never loaded (no metadata); remove what
		// was written so it does not take space.
		_ = d.Storage.RemoveAll(context.WithoutCancel(ctx), d.join(dir))
		return nil, first
	}
	m.Finished = time.Now().UTC()
	meta, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := d.Storage.WriteFile(ctx, d.join(dir, MetadataFile), meta); err != nil {
		_ = d.Storage.RemoveAll(context.WithoutCancel(ctx), d.join(dir))
		return nil, fmt.Errorf("checkpoint %d: write %s/%s: %w", c.Epoch, d.Storage, d.join(dir, MetadataFile), err)
	}
	// Only now may the next checkpoint refer to this one's parts (and to
	// those it refers to, which it keeps).
	for _, ns := range notes {
		for _, n := range ns {
			*n.slot = state.PartSlot{Writer: d.id, Epoch: c.Epoch, Ref: n.ref}
		}
	}
	d.last, d.written = c.Epoch, true
	d.prune(ctx, m)
	return m, nil
}

// writeSnapshot writes a state snapshot's file, name relative to the root,
// and returns its size and checksum, the notes to make in its immutable
// parts' slots (where those it wrote and those it refers to are), the
// files it refers to and the bytes of the parts it refers to. An immutable
// part the previous checkpoint of d had is referred to; the file is
// streamed from the snapshot's pieces if the storage can, or encoded in
// memory first.
func (d *Dir) writeSnapshot(ctx context.Context, name string, sn *state.Snapshot) (size int64, sum uint32, notes []slotNote, refs []string, refd int64, err error) {
	out := *sn
	out.Groups = make([]state.GroupState, len(sn.Groups))
	copy(out.Groups, sn.Groups)
	nref := 0
	for i := range out.Groups {
		g := &out.Groups[i]
		switch {
		case d.referable(g):
			nref++
		case g.Data == nil && g.Ref != nil:
			// Its bytes are gone and this writer's last checkpoint
			// does not have them: nothing can be written.
			return 0, 0, nil, nil, 0, fmt.Errorf("state of key group %d is a part of %s that this writer's last checkpoint (%d) does not have", g.Group, g.Ref.File, d.last)
		}
	}
	var own []state.PartRef // the references' storage, one allocation
	if nref > 0 {
		own = make([]state.PartRef, 0, nref)
	}
	notes = make([]slotNote, 0, len(out.Groups))
	for i := range out.Groups {
		g := &out.Groups[i]
		if !d.referable(g) {
			continue
		}
		r := g.Slot.Ref
		own = append(own, r)
		g.Ref = &own[len(own)-1]
		notes = append(notes, slotNote{g.Slot, r})
		refd += r.Length
		if len(refs) == 0 || refs[len(refs)-1] != r.File {
			if !slices.Contains(refs, r.File) {
				refs = append(refs, r.File)
			}
		}
	}
	sort.Strings(refs)
	at := func(i int, off, length int64, crc uint32) {
		if g := &out.Groups[i]; g.Slot != nil && len(g.Data) > 0 {
			notes = append(notes, slotNote{g.Slot, state.PartRef{File: name, Offset: off, Length: length, CRC32C: crc, Multi: g.Spans != nil}})
		}
	}
	if st, ok := d.Storage.(Streamer); ok {
		err = st.WriteFileFrom(ctx, d.join(name), func(w io.Writer) error {
			var err error
			size, sum, err = out.EncodeParts(w, at)
			return err
		})
	} else {
		var buf bytes.Buffer
		size, sum, err = out.EncodeParts(&buf, at)
		if err == nil {
			err = d.Storage.WriteFile(ctx, d.join(name), buf.Bytes())
		}
	}
	if err != nil {
		return 0, 0, nil, nil, 0, err
	}
	return size, sum, notes, refs, refd, nil
}

// referable reports whether g is a part the last checkpoint of d had, so
// this one refers to it.
func (d *Dir) referable(g *state.GroupState) bool {
	s := g.Slot
	if s == nil || !d.written || s.Writer != d.id || s.Epoch != d.last {
		return false
	}
	if g.Data == nil {
		// Its owner dropped the bytes once written (g.Ref is the slot's).
		return g.Ref != nil && s.Ref.Length > 0
	}
	return len(g.Data) > 0 && s.Ref.Length == g.PartLen() && s.Ref.Multi == (g.Spans != nil)
}

// prune deletes the checkpoints beyond Keep (older than latest) and the
// incomplete ones older than latest: first the metadata (the checkpoint is
// gone), then every file no retained checkpoint refers to, and the
// directory once nothing in it is referred to. Failures are ignored: an
// extra old file is harmless, and the next prune tries again.
func (d *Dir) prune(ctx context.Context, latest *Metadata) {
	keep := d.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	epochs, err := d.epochs(ctx)
	if err != nil {
		return
	}
	needed := map[string]bool{}
	need := func(m *Metadata) {
		for _, o := range m.Operators {
			for _, s := range o.Subtasks {
				if s.File != "" {
					needed[epochDir(m.Epoch)+"/"+s.File] = true
				}
				for _, r := range s.Refs {
					needed[r] = true
				}
			}
		}
	}
	retained := 0
	var drop []uint64
	for i := len(epochs) - 1; i >= 0; i-- {
		e := epochs[i]
		switch {
		case e > latest.Epoch:
			continue
		case e == latest.Epoch:
			need(latest)
			retained++
			continue
		}
		if retained < keep {
			m, err := d.metadata(ctx, e)
			if err == nil {
				need(m)
				retained++
				continue
			}
			if !errors.Is(err, fs.ErrNotExist) {
				// Damaged or of another version: kept as it is (it
				// counts as retained; what it refers to cannot be
				// known, and it cannot be loaded anyway).
				retained++
				continue
			}
		}
		drop = append(drop, e)
	}
	for _, e := range drop {
		dir := epochDir(e)
		_ = d.Storage.Remove(ctx, d.join(dir, MetadataFile))
		names, err := d.Storage.List(ctx, d.join(dir))
		if err != nil {
			continue
		}
		left := false
		for _, n := range names {
			if needed[dir+"/"+n] {
				left = true
				continue
			}
			_ = d.Storage.Remove(ctx, d.join(dir, n))
		}
		if !left {
			_ = d.Storage.RemoveAll(ctx, d.join(dir))
		}
	}
}

// epochs returns the epochs that have a directory, ascending.
func (d *Dir) epochs(ctx context.Context) ([]uint64, error) {
	names, err := d.Storage.List(ctx, d.Root)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints in %s/%s: %w", d.Storage, d.Root, err)
	}
	var out []uint64
	for _, n := range names {
		if e, ok := strings.CutPrefix(n, epochPrefix); ok {
			if v, err := strconv.ParseUint(e, 10, 64); err == nil {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// List returns the metadata of every complete checkpoint, oldest first.
// A directory whose metadata is missing is not a checkpoint and is
// skipped; metadata that does not parse is an error naming it.
func (d *Dir) List(ctx context.Context) ([]*Metadata, error) {
	epochs, err := d.epochs(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Metadata
	for _, e := range epochs {
		m, err := d.metadata(ctx, e)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Latest returns the metadata of the newest complete checkpoint, or nil if
// there is none. Metadata that exists but does not parse is an error: the
// checkpoint after which data was committed must not be skipped silently.
func (d *Dir) Latest(ctx context.Context) (*Metadata, error) {
	epochs, err := d.epochs(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(epochs) - 1; i >= 0; i-- {
		m, err := d.metadata(ctx, epochs[i])
		if errors.Is(err, fs.ErrNotExist) {
			continue // never completed
		}
		return m, err
	}
	return nil, nil
}

func (d *Dir) metadata(ctx context.Context, e uint64) (*Metadata, error) {
	name := d.join(epochDir(e), MetadataFile)
	data, err := d.Storage.ReadFile(ctx, name)
	if err != nil {
		return nil, err
	}
	m := new(Metadata)
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("checkpoint metadata %s/%s is damaged: %w", d.Storage, name, err)
	}
	if m.Version < 1 || m.Version > FormatVersion {
		return nil, fmt.Errorf("checkpoint metadata %s/%s has format version %d; this build reads versions 1 to %d", d.Storage, name, m.Version, FormatVersion)
	}
	if m.Epoch != e {
		return nil, fmt.Errorf("checkpoint metadata %s/%s is for epoch %d, not %d", d.Storage, name, m.Epoch, e)
	}
	m.Dir = d.join(epochDir(e))
	return m, nil
}

// Load reads every file of checkpoint m, checks its size and checksum
// against the metadata, decodes the handles into the snapshot
// dataflow.Options.Restore takes, and resolves the parts they refer to in
// earlier checkpoints' files (each checked against its reference's
// checksum). Any missing, truncated or damaged file or part is an error
// naming it: a checkpoint is loaded whole or not at all.
func (d *Dir) Load(ctx context.Context, m *Metadata) (dataflow.Snapshot, error) {
	snap := dataflow.Snapshot{}
	files := map[string][]byte{} // referenced files, read once
	for _, o := range m.Operators {
		hs := make([]any, o.Parallelism)
		for _, s := range o.Subtasks {
			if s.Kind == KindNone {
				continue
			}
			if s.Subtask < 0 || s.Subtask >= o.Parallelism {
				return nil, fmt.Errorf("checkpoint %d: metadata names subtask %d of %s, which has parallelism %d", m.Epoch, s.Subtask, o.ID, o.Parallelism)
			}
			name := m.Dir + "/" + s.File
			data, err := d.Storage.ReadFile(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("checkpoint %d: read %s/%s: %w", m.Epoch, d.Storage, name, err)
			}
			if int64(len(data)) != s.Size {
				return nil, fmt.Errorf("checkpoint %d: %s/%s has %d bytes, the metadata says %d: truncated or replaced", m.Epoch, d.Storage, name, len(data), s.Size)
			}
			if sum := crc32.Checksum(data, castagnoli); sum != s.CRC32C {
				return nil, fmt.Errorf("checkpoint %d: %s/%s is damaged (checksum %08x, the metadata says %08x)", m.Epoch, d.Storage, name, sum, s.CRC32C)
			}
			h, err := decodeHandle(s.Kind, data)
			if err != nil {
				return nil, fmt.Errorf("checkpoint %d: decode %s/%s: %w", m.Epoch, d.Storage, name, err)
			}
			if sn, ok := h.(*state.Snapshot); ok {
				if err := d.resolve(ctx, m, o, s, sn, files); err != nil {
					return nil, err
				}
			}
			hs[s.Subtask] = h
		}
		snap[o.ID] = hs
	}
	return snap, nil
}

// resolve sets the data of the parts sn refers to from the files they are
// in (read once per Load, into files).
func (d *Dir) resolve(ctx context.Context, m *Metadata, o Operator, s Subtask, sn *state.Snapshot, files map[string][]byte) error {
	for i := range sn.Groups {
		g := &sn.Groups[i]
		if g.Ref == nil {
			continue
		}
		ref := g.Ref.File
		epoch := "?"
		if e, _, ok := strings.Cut(strings.TrimPrefix(ref, epochPrefix), "/"); ok {
			if v, err := strconv.ParseUint(e, 10, 64); err == nil {
				epoch = strconv.FormatUint(v, 10)
			}
		}
		data, ok := files[ref]
		if !ok {
			var err error
			data, err = d.Storage.ReadFile(ctx, d.join(ref))
			if err != nil {
				return fmt.Errorf("checkpoint %d: %s subtask %d refers to a part of checkpoint %s's %s/%s: %w", m.Epoch, o.Description, s.Subtask, epoch, d.Storage, d.join(ref), err)
			}
			files[ref] = data
		}
		if err := g.ResolvePart(data); err != nil {
			return fmt.Errorf("checkpoint %d: %s subtask %d refers to a part of checkpoint %s's %s/%s: %w", m.Epoch, o.Description, s.Subtask, epoch, d.Storage, d.join(ref), err)
		}
	}
	return nil
}

// Check reports whether prog can be restored from checkpoint m: the same
// key-group count, and every operator with state in m present in prog.
func Check(m *Metadata, prog *program.Program) error {
	if m.MaxKeyGroups != keyGroups(prog) {
		return fmt.Errorf("checkpoint %d has %d key groups, the program %d: the key-group count cannot change across a restore", m.Epoch, m.MaxKeyGroups, keyGroups(prog))
	}
	ids := map[string]bool{}
	for _, n := range prog.Nodes {
		ids[n.OperatorID] = true
	}
	for _, o := range m.Operators {
		if ids[o.ID] {
			continue
		}
		for _, s := range o.Subtasks {
			if s.Kind != KindNone {
				return fmt.Errorf("checkpoint %d holds state of operator %s (%s), which the program does not have: the query changed", m.Epoch, o.ID, o.Description)
			}
		}
	}
	return nil
}

// keyGroups is prog's key-group count, the default for a hand-built 0.
func keyGroups(prog *program.Program) int {
	if prog.MaxKeyGroups == 0 {
		return state.MaxKeyGroups
	}
	return prog.MaxKeyGroups
}

// Writer is the dataflow.CheckpointWriter of one job: it writes each
// complete checkpoint of Program into Dir.
type Writer struct {
	Dir     *Dir
	Program *program.Program
	// Written, if set, is told of every checkpoint written (m set) or
	// failed (err set), on the coordinator's writing goroutine.
	Written func(epoch uint64, m *Metadata, err error)
	// AfterDurable, if set, runs once a checkpoint's metadata is durable
	// and before the sinks are told to commit: a test pauses here to
	// crash between the two.
	AfterDurable func(m *Metadata)
}

var _ dataflow.CheckpointWriter = (*Writer)(nil)

// WriteCheckpoint implements dataflow.CheckpointWriter.
func (w *Writer) WriteCheckpoint(ctx context.Context, c dataflow.CompletedCheckpoint) error {
	m, err := w.Dir.Write(ctx, w.Program, c)
	if w.Written != nil {
		w.Written(c.Epoch, m, err)
	}
	if err == nil && w.AfterDurable != nil {
		w.AfterDurable(m)
	}
	return err
}
