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
// one blob per key group, CRC-32C trailer); `arroyo checkpoints inspect`
// decodes them for people. A directory without _metadata.json is a
// checkpoint that was never completed: it is ignored and deleted.
//
// It must not import sqlplan, connectors, controlplane, udf or cmd.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

// FormatVersion is the version of the metadata and file layout this build
// writes and reads.
const FormatVersion = 1

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
}

// Bytes is the total size of the checkpoint's files.
func (m *Metadata) Bytes() int64 {
	var n int64
	for _, o := range m.Operators {
		for _, s := range o.Subtasks {
			n += s.Size
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
	// commit travels inside it.
	Keep int
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
// Write has returned nil.
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
	)
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
			)
			if sn, ok := w.h.(*state.Snapshot); ok {
				// Operator state, the bulk of a checkpoint, is written
				// from its pieces where the storage streams.
				k = KindState
				name = fileName(o.ID, w.sub, k)
				size, sum, err = d.writeSnapshot(ctx, d.join(dir, name), sn)
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
			o.Subtasks[w.sub] = Subtask{Subtask: w.sub, Kind: k, File: name, Size: size, CRC32C: sum}
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
	d.prune(ctx, c.Epoch)
	return m, nil
}

// writeSnapshot writes a state snapshot's file and returns its size and
// checksum: streamed from the snapshot's pieces if the storage can, or
// encoded in memory first.
func (d *Dir) writeSnapshot(ctx context.Context, name string, sn *state.Snapshot) (int64, uint32, error) {
	if st, ok := d.Storage.(Streamer); ok {
		var size int64
		var sum uint32
		err := st.WriteFileFrom(ctx, name, func(w io.Writer) error {
			var err error
			size, sum, err = sn.EncodeTo(w)
			return err
		})
		return size, sum, err
	}
	data, err := sn.MarshalBinary()
	if err == nil {
		err = d.Storage.WriteFile(ctx, name, data)
	}
	return int64(len(data)), crc32.Checksum(data, castagnoli), err
}

// prune deletes complete checkpoints beyond Keep and incomplete ones older
// than latest. Failures are ignored: an extra old checkpoint is harmless.
func (d *Dir) prune(ctx context.Context, latest uint64) {
	keep := d.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	epochs, err := d.epochs(ctx)
	if err != nil {
		return
	}
	complete := 0
	for i := len(epochs) - 1; i >= 0; i-- {
		e := epochs[i]
		if e > latest {
			continue
		}
		if e != latest {
			if _, err := d.Storage.ReadFile(ctx, d.join(epochDir(e), MetadataFile)); err != nil {
				_ = d.Storage.RemoveAll(ctx, d.join(epochDir(e)))
				continue
			}
		}
		complete++
		if complete > keep {
			_ = d.Storage.RemoveAll(ctx, d.join(epochDir(e)))
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
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("checkpoint metadata %s/%s has format version %d; this build reads version %d", d.Storage, name, m.Version, FormatVersion)
	}
	if m.Epoch != e {
		return nil, fmt.Errorf("checkpoint metadata %s/%s is for epoch %d, not %d", d.Storage, name, m.Epoch, e)
	}
	m.Dir = d.join(epochDir(e))
	return m, nil
}

// Load reads every file of checkpoint m, checks its size and checksum
// against the metadata, and decodes the handles into the snapshot
// dataflow.Options.Restore takes. Any missing, truncated or damaged file is
// an error naming it: a checkpoint is loaded whole or not at all.
func (d *Dir) Load(ctx context.Context, m *Metadata) (dataflow.Snapshot, error) {
	snap := dataflow.Snapshot{}
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
			hs[s.Subtask] = h
		}
		snap[o.ID] = hs
	}
	return snap, nil
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
