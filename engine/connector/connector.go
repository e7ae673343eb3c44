// Package connector defines how sources, sinks and formats plug into the
// engine: their interfaces, the option declarations that validate DDL and
// feed the API and docs, and the registries that connector packages fill
// from init functions (cmd/arroyo chooses the bundle with blank imports).
//
// It must not import sqlplan, connectors, controlplane, udf or cmd.
package connector

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Source produces the rows of a source table for one subtask. The runtime
// owns its loop: it calls Poll, Snapshot and Close from one goroutine,
// never concurrently, so a checkpoint barrier always falls between two Poll
// calls and the positions Snapshot returns are exactly those of the data
// emitted before the barrier. A source needs no goroutine or select loop of
// its own.
//
// Every batch a source emits has the table's columns followed by the hidden
// event-time column types.TimestampField (TIMESTAMP, not null), so its
// schema is Table.Schema plus one trailing column.
type Source interface {
	// Poll emits what is available through out and returns by ctx's
	// deadline (a source waiting for data or for its pace waits at most
	// until then and returns nil). It returns io.EOF once the source's
	// splits are exhausted (bounded sources); it is not called again after
	// io.EOF or an error. A cancelled ctx past its deadline is not an
	// error: return nil or ctx's error.
	Poll(ctx context.Context, out SourceOutput) error
	// Snapshot returns the state of every split this subtask owns, as of
	// the last batch emitted: restoring them continues right after it.
	// epoch is the checkpoint's. The returned slices are the caller's.
	Snapshot(epoch uint64) ([]SplitState, error)
}

// SourceOutput is where a source's Poll emits.
type SourceOutput interface {
	// Emit hands a batch downstream; it blocks while downstream is busy
	// (backpressure). The source must not modify b afterwards.
	Emit(b *coldata.Batch) error
	// Counter adds n to the named metric of this subtask (e.g. the number
	// of records dropped as bad data).
	Counter(name string, n int64)
}

// SplitOutput is what the runtime's SourceOutput also offers a source that
// reads several splits: a source should declare how many it reads, emit
// each batch with the index of its split (0..n-1, in the order it was given
// them) and say when a split is exhausted. The source's watermark is then
// the minimum over its unfinished splits of each one's largest event time
// (less the lateness), so a split that is behind, as one restored at a lower
// parallelism may be, is not overtaken by another's times and its rows do
// not arrive late. Without it, the watermark follows the largest event time
// of all the source's rows.
type SplitOutput interface {
	SourceOutput
	DeclareSplits(n int)
	EmitSplit(split int, b *coldata.Batch) error
	SplitDone(split int)
}

// WatermarkOutput is what the runtime's SourceOutput also offers a source
// that knows more about event time than its rows say (a test source that
// scripts its watermarks, a partition known to be empty). Once a source
// subtask has called EmitWatermark, the runtime stops generating its
// periodic watermark: the source has taken over (end of input still sends
// the final one).
type WatermarkOutput interface {
	SourceOutput
	// EmitWatermark sends watermark ts (nanoseconds) downstream at once,
	// after everything emitted before, if it is beyond the last one sent
	// (a watermark never goes back).
	EmitWatermark(ts int64) error
	// Idle declares the subtask idle at once: it stops holding back the
	// watermark of the operators it feeds until it emits again.
	Idle() error
}

// SplitState is one split of a source and its position. A split is a unit
// of a source's input that one subtask reads at a time: a byte range of a
// file, a generator's residue class, a Kafka partition. Split names are
// fixed when a job first starts (Connector.Splits) and travel with their
// state through every checkpoint, so a restore at another parallelism
// reassigns the same splits. State is the connector's encoding of the
// position (nil: from the split's start).
type SplitState struct {
	Split string `json:"split"`
	State []byte `json:"state,omitempty"`
}

// SourceTask identifies the source subtask a Source is built for.
type SourceTask struct {
	JobID      string
	OperatorID string
	// Subtask is this subtask's index in [0, Parallelism).
	Subtask     int
	Parallelism int
}

// SinkTask identifies the sink subtask a Sink is built for; a
// transactional sink derives stable transaction ids from it.
type SinkTask struct {
	JobID      string
	OperatorID string
	// Subtask is this subtask's index in [0, Parallelism).
	Subtask     int
	Parallelism int
}

// AssignSplits distributes split states over p subtasks, round-robin by
// index (split k to subtask k mod p): the assignment of a fresh start and
// of a restore at any parallelism, so a subtask may own several splits or
// none.
func AssignSplits(splits []SplitState, p int) [][]SplitState {
	out := make([][]SplitState, p)
	for k, s := range splits {
		out[k%p] = append(out[k%p], s)
	}
	return out
}

// Sink consumes the rows written to a sink table.
//
// Batches have the table's columns followed by the hidden event-time column.
// NewSink is called once per subtask; a sink is used by one goroutine at a
// time.
type Sink interface {
	// Write consumes the logical rows of b (mind b.Sel). b must not be
	// retained after Write returns unless copied (see coldata ownership).
	Write(ctx context.Context, b *coldata.Batch) error
	// Finish is called once at end of stream, after the last Write, and
	// must flush everything written. A TwoPhaseSink's Finish commits what
	// follows its last PreCommit.
	Finish(ctx context.Context) error
}

// TwoPhaseSink is an optional interface of sinks that commit their output
// with the checkpoints (exactly once): what a subtask writes between two
// barriers becomes visible only when the checkpoint of the second is
// durable. ops.Sink drives it; a sink that implements it is never asked to
// Flush at a barrier.
type TwoPhaseSink interface {
	// PreCommit is called at the barrier of epoch, after the last Write
	// before it: prepare everything written since the previous PreCommit
	// (e.g. flush a transaction without committing it) and return what
	// Commit or Recover needs to commit it; the bytes go into the
	// checkpoint.
	PreCommit(ctx context.Context, epoch uint64) ([]byte, error)
	// Commit is called once checkpoint epoch is durable, with what
	// PreCommit returned for every epoch not yet committed, oldest first.
	// It must be idempotent: after a failure it may be called again for
	// the same epoch (through Recover).
	Commit(ctx context.Context, epoch uint64, prepared [][]byte) error
	// Recover is called once, before the first Write, when the job is
	// restored from a checkpoint: restored is what the checkpoint had
	// pre-committed and not yet known committed; commit it and abort
	// anything newer (a transaction pre-committed after that checkpoint).
	Recover(ctx context.Context, restored [][]byte) error
}

// Closer is an optional interface of sources and sinks that hold resources;
// Close is called exactly once, whether the pipeline succeeded or not.
type Closer interface {
	Close() error
}

// Table is the validated description of one connector table; it lives in
// engine/program because it travels inside the program (the wire contract
// must not depend on this plugin API).
type Table = program.Table

// FormatConfig names a format and its validated options.
type FormatConfig = program.FormatConfig

// Connector declares a connector: its options once, and constructors for the
// roles it supports.
type Connector struct {
	Name        string
	Description string
	Options     []Option
	// Schema, if set, returns the fixed schema of every table of this
	// connector; CREATE TABLE then needs no column list.
	Schema func(opts Options) (*types.Schema, error)
	// NeedsFormat is true for connectors that read or write bytes and
	// therefore need a format option.
	NeedsFormat bool
	// DefaultFormat is used when NeedsFormat and the table names none.
	DefaultFormat string
	// MaxParallelism caps the parallelism of this connector's sources and
	// sinks (0 = no cap); MaxSinkParallelism caps its sinks only (e.g. a
	// single file is written by one subtask but read by many).
	MaxParallelism     int
	MaxSinkParallelism int
	// LocalPaths, if set, returns the files and directories on the local
	// file system that a table with these (validated) options reads as a
	// source or writes as a sink. The planner uses it to refuse a pipeline
	// that would overwrite its own input or the SQL file being run, or
	// write one file from two sink tables (see LocalPath).
	LocalPaths func(opts Options) []LocalPath
	// PlanDefaults, if set, is called by the planner with the validated
	// options and the planning time; it returns the options with every
	// default that would differ per process or per restore fixed (a
	// generator's base time = now), so every subtask, every worker and
	// every restore of the program replays the same events. It must be
	// idempotent: options it already fixed stay as they are.
	PlanDefaults func(opts Options, now time.Time) Options
	// Splits returns the names of a source table's splits for a job that
	// starts (not restores) at parallelism p; nil means one split, "".
	// The runtime assigns them with AssignSplits. A connector whose
	// natural split depends on the parallelism (a generator's residue
	// class modulo p, a file cut into p ranges) uses p; a Kafka source
	// returns its partitions.
	Splits func(ctx context.Context, t *Table, p int) ([]string, error)
	// NewSource builds the source of one subtask, owning splits (possibly
	// none: it then ends at once).
	NewSource func(t *Table, task SourceTask, splits []SplitState) (Source, error)
	NewSink   func(t *Table, task SinkTask) (Sink, error)
	// AcceptsChangelog marks a sink without a format that may be written
	// a changelog (blackhole): its batches then carry the
	// program.ChangeKindField column after the table's.
	AcceptsChangelog bool
}

// Decoder turns records in a format into rows of a schema, appending to
// column builders.
type Decoder interface {
	// Decode appends the rows of one record. On error it appends nothing;
	// the error says what is wrong with the record.
	Decode(rec []byte) error
	// Rows returns the number of rows appended since the last Flush.
	Rows() int
	// Flush returns the built vectors, one per schema field, and starts
	// new ones.
	Flush() []coldata.Vector
}

// Encoder turns rows into records in a format.
type Encoder interface {
	// Encode calls emit once per logical row of b, in order, with the
	// encoded record; rec is only valid during the call. The trailing
	// event-time column is not encoded.
	Encode(b *coldata.Batch, emit func(rec []byte) error) error
}

// LinesDecoder is an optional Decoder capability for sources of
// newline-delimited records: DecodeLines decodes the records of the whole
// lines ('\n'-terminated) at the start of block, while Rows() is below
// maxRows, stopping before the first line it leaves to Decode: one longer
// than maxLen bytes (without its '\n'), one that needs trimming, or one
// that does not decode (nothing of it is appended). It returns the bytes
// and lines consumed. Whatever it accepts, Decode accepts with the same
// rows; what it leaves, the source passes to Decode, which makes any error.
type LinesDecoder interface {
	DecodeLines(block []byte, maxRows, maxLen int) (n, lines int)
}

// LinesEncoder is an optional Encoder capability for sinks that write
// newline-delimited records: AppendLines appends to dst what Encode would
// emit for b, each record followed by '\n', with no call per record.
type LinesEncoder interface {
	AppendLines(dst []byte, b *coldata.Batch) ([]byte, error)
}

// Format declares a serialization format.
type Format struct {
	Name        string
	Description string
	Options     []Option
	// Schema, if set, returns the schema of tables in this format that
	// declare no columns (e.g. raw_string's single `value` column); a nil
	// schema means the user must declare one.
	Schema     func(opts Options) (*types.Schema, error)
	NewDecoder func(schema *types.Schema, opts Options) (Decoder, error)
	NewEncoder func(schema *types.Schema, opts Options) (Encoder, error)
	// Projects, if set, says whether a decoder with these options can be
	// given any non-empty subset of a table's declared columns (in their
	// order) and then skips the others as it skips undeclared keys. The
	// planner uses it to decode only the columns some query reads.
	Projects func(opts Options) bool
	// Changelog marks a format whose records are changes (debezium_json):
	// a table in it is an updating source, its decoder's Flush returns one
	// more vector than the schema has fields, the program.ChangeKindField
	// column, and its encoder accepts batches with that column after the
	// table's (a changelog) or without it (every row an insert). Only such
	// a format may be written a changelog.
	Changelog bool
}

var (
	mu         sync.RWMutex
	connectors = map[string]*Connector{}
	formats    = map[string]*Format{}
)

// Register adds a connector to the registry; it panics on a duplicate name,
// which is a programming error.
func Register(c *Connector) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := connectors[c.Name]; ok {
		panic(fmt.Sprintf("connector %q registered twice", c.Name))
	}
	checkOptions(c.Name, c.Options)
	connectors[c.Name] = c
}

// RegisterFormat adds a format to the registry.
func RegisterFormat(f *Format) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := formats[f.Name]; ok {
		panic(fmt.Sprintf("format %q registered twice", f.Name))
	}
	checkOptions(f.Name, f.Options)
	formats[f.Name] = f
}

// Lookup returns the connector called name.
func Lookup(name string) (*Connector, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := connectors[name]
	return c, ok
}

// LookupFormat returns the format called name.
func LookupFormat(name string) (*Format, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := formats[name]
	return f, ok
}

// Names returns the registered connector names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return sortedKeys(connectors)
}

// FormatNames returns the registered format names, sorted.
func FormatNames() []string {
	mu.RLock()
	defer mu.RUnlock()
	return sortedKeys(formats)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Flusher is an optional interface of sinks that buffer: Flush makes
// everything written so far durable or visible. The runtime calls it at every
// checkpoint barrier, Stop's final one included, so a sink without two-phase
// commit loses nothing written before a stop.
type Flusher interface {
	Flush(ctx context.Context) error
}
