// Package singlefile registers the "single_file" connector: a bounded source
// that reads one record per line from a local file, and a sink that writes
// one record per line. It is what the spec tests read and write.
//
// A source's file is cut into line-aligned byte ranges, one per subtask of
// the parallelism the job starts with (its splits; ranges of at least 4 MiB,
// so a small file is one range read in order): a range owns the lines
// that start in it, and its state is the next byte offset and that line's
// number, so P subtasks decode in parallel and a restore at any
// parallelism continues every range. A file that is not regular (a FIFO)
// is one split read by one subtask. A sink writes its file from a single
// subtask (MaxSinkParallelism 1).
// A row's event time is the time it was read unless the table declares
// one (WATERMARK FOR or event_time_field).
//
// Reading is bounded in memory: a record (line) longer than
// max_record_bytes fails the source or, with bad_data = 'drop', is skipped
// and counted, without ever being held whole. A UTF-8 byte-order mark at
// the start of the file is skipped. Paths that are not regular files (a
// FIFO, a device such as /dev/zero) are refused unless allow_non_regular is
// set, since reading a device may never end.
//
// The sink never modifies its target before the pipeline has succeeded,
// and it is exactly-once across failures (connector.TwoPhaseSink): it
// writes a temporary file beside the target whose name is fixed by the job
// and subtask (.<name>.arroyo-tmp-<job>-<subtask>), pre-commits at every
// checkpoint barrier by flushing and syncing it and recording its length
// and CRC-32C, and in Finish renames it into place. A job restored from a
// checkpoint truncates the temporary file back to the recorded length (the
// rows after it are replayed), or, if the file was already renamed into
// place by a run that then died, copies the target's recorded prefix back
// into it; see sink.go and docs/connectors/single_file.md.
//
// It must not import other connectors, sqlplan, controlplane, udf, cmd,
// engine/ops or engine/dataflow.
package singlefile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
)

const batchRows = 4096

// Option names.
const (
	OptPath            = "path"
	OptType            = "type"
	OptMaxRecordBytes  = "max_record_bytes"
	OptAllowNonRegular = "allow_non_regular"
)

// DefaultMaxRecordBytes is the default of max_record_bytes (16 MiB).
const DefaultMaxRecordBytes = 16 << 20

// readBuffer is the read buffer; lines longer than it are assembled in a
// separate buffer, up to max_record_bytes.
const readBuffer = 256 << 10

// bom is the UTF-8 byte-order mark some editors put at the start of a file.
var bom = []byte{0xEF, 0xBB, 0xBF}

func init() {
	connector.Register(&connector.Connector{
		Name:        "single_file",
		Description: "Reads or writes newline-delimited records in one local file. A sink replaces its file only when the pipeline succeeds: it writes a temporary file beside it and renames it into place at the end, so a failed or aborted run leaves the previous file as it was. The sink is exactly-once: a pipeline restored from a checkpoint continues the temporary file from the checkpoint's offset.",
		Options: []connector.Option{
			{Name: OptPath, Type: connector.TypeString, Required: true, Description: "Path of the file to read or write.", Example: "/data/input.json"},
			{Name: OptType, Type: connector.TypeEnum, Enum: []string{"source", "sink"}, Description: "Whether the table is read (source) or written (sink); inferred from use when absent."},
			{Name: OptMaxRecordBytes, Type: connector.TypeInt, Default: strconv.Itoa(DefaultMaxRecordBytes), Min: 1, MinSet: true,
				Description: "Longest record (line, without its newline) a source reads, in bytes; default 16 MiB. A longer line fails the pipeline, or with bad_data = 'drop' is skipped and counted. Memory use is bounded by it."},
			{Name: OptAllowNonRegular, Type: connector.TypeBool, Default: "false",
				Description: "Allow a path that is not a regular file: a FIFO or a device (e.g. /dev/stdin, /dev/null). Refused by default, since reading a device such as /dev/zero never ends. A sink writes such a target directly, without the temporary file and rename."},
		},
		NeedsFormat:        true,
		DefaultFormat:      "json",
		MaxSinkParallelism: 1,
		Splits:             splits,
		LocalPaths: func(opts connector.Options) []connector.LocalPath {
			return []connector.LocalPath{{Path: opts.String(OptPath)}}
		},
		NewSource: newSource,
		NewSink:   newSink,
	})
}

// describeMode names a non-regular file kind for error messages.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// statInput checks the source path: it must exist, and be a regular file
// unless allow_non_regular is set. Stat, not open: opening a FIFO for
// reading blocks until a writer appears, and a refused path must not be
// opened at all.
func statInput(t *connector.Table) (fs.FileInfo, error) {
	path := t.Options.String(OptPath)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open input file: %w", err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("open input file: %s is a directory", path)
	case !st.Mode().IsRegular() && !t.Options.Bool(OptAllowNonRegular):
		return nil, fmt.Errorf("open input file: %s is %s, not a regular file; reading it may never end (set %s = 'true' to read it anyway)", path, describeMode(st.Mode()), OptAllowNonRegular)
	}
	return st, nil
}

// minSplitBytes is the smallest range a file is cut into: a small file is
// read by fewer subtasks than the parallelism (by one if under twice
// this), since cutting it gains nothing and costs its order (a small
// changelog file keeps its order, and its first bad record is the one
// reported).
var minSplitBytes int64 = 4 << 20

// splits cuts a regular file into p byte ranges "start-end" of about
// equal size (fewer if that makes them smaller than minSplitBytes); a
// range owns the lines that start in it. A file that is not regular is
// read whole by one subtask: one split "0-" (no end).
func splits(_ context.Context, t *connector.Table, p int) ([]string, error) {
	st, err := statInput(t)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return []string{"0-"}, nil
	}
	size := st.Size()
	p = int(max(1, min(int64(p), size/minSplitBytes)))
	out := make([]string, p)
	for k := range p {
		lo, hi := size*int64(k)/int64(p), size*int64(k+1)/int64(p)
		out[k] = strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10)
	}
	return out, nil
}

// rangeState is the position within one split. pos is the next byte to
// read: a line start, or the range's start before its first line is found.
// Line numbers are counted from base, a line start whose absolute line
// number is baseLine (0 while unknown: a range that starts mid-file counts
// the newlines before it only if an error message needs them).
type rangeState struct {
	split    string
	start    int64 // the range's first byte
	end      int64 // the first byte past it; -1: to the end of the stream
	pos      int64
	aligned  bool // pos is a line start
	base     int64
	baseLine int64
	lines    int64 // lines started at or after base and read
}

func parseRange(st connector.SplitState) (*rangeState, error) {
	lo, hi, ok := strings.Cut(st.Split, "-")
	start, err1 := strconv.ParseInt(lo, 10, 64)
	end, err2 := int64(-1), error(nil)
	if hi != "" {
		end, err2 = strconv.ParseInt(hi, 10, 64)
	}
	if !ok || err1 != nil || err2 != nil || start < 0 || (end >= 0 && end < start) {
		return nil, fmt.Errorf("single_file: bad split %q: want a byte range such as \"0-1024\"", st.Split)
	}
	r := &rangeState{split: st.Split, start: start, end: end, pos: start}
	if start == 0 {
		r.aligned, r.baseLine = true, 1
	}
	if len(st.State) > 0 {
		p, l, ok := strings.Cut(string(st.State), ",")
		pos, err1 := strconv.ParseInt(p, 10, 64)
		line, err2 := strconv.ParseInt(l, 10, 64)
		if !ok || err1 != nil || err2 != nil || pos < start || line < 0 {
			return nil, fmt.Errorf("single_file: split %q: bad state %q: want offset,line", st.Split, st.State)
		}
		r.pos, r.aligned, r.base, r.baseLine = pos, true, pos, line
	}
	return r, nil
}

// done reports whether the range has no line left to start.
func (r *rangeState) done() bool { return r.aligned && r.end >= 0 && r.pos >= r.end }

// source reads the byte ranges of one subtask, one after the other.
type source struct {
	t      *connector.Table
	f      *os.File
	name   string
	max    int
	ranges []*rangeState
	cur    int           // the range being read
	r      *bufio.Reader // reads ranges[cur] from its pos; nil until opened
	b      *connector.Batcher
	line   []byte
	eof    bool // the stream of ranges[cur] ended
	// declared: the ranges were declared as splits (connector.SplitOutput).
	declared bool
}

var (
	_ connector.Source = (*source)(nil)
	_ connector.Closer = (*source)(nil)
)

func newSource(t *connector.Table, _ connector.SourceTask, splits []connector.SplitState) (connector.Source, error) {
	st, err := statInput(t)
	if err != nil {
		return nil, err
	}
	s := &source{t: t, name: t.Options.String(OptPath), max: int(t.Options.Int(OptMaxRecordBytes))}
	if s.max <= 0 {
		s.max = DefaultMaxRecordBytes
	}
	for _, sp := range splits {
		r, err := parseRange(sp)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() && (r.end >= 0 || r.pos != 0) {
			return nil, fmt.Errorf("single_file: %s is not a regular file: it cannot be read from offset %d", s.name, r.pos)
		}
		s.ranges = append(s.ranges, r)
	}
	if len(s.ranges) == 0 {
		return s, nil // nothing to read: no need to open the file
	}
	if s.b, err = connector.NewBatcher(t, batchRows); err != nil {
		return nil, err
	}
	if s.f, err = os.Open(s.name); err != nil {
		return nil, fmt.Errorf("open input file: %w", err)
	}
	s.name = s.f.Name()
	return s, nil
}

func (s *source) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// Snapshot implements connector.Source: every range's position after the
// last line emitted (Poll emits everything it decoded before returning).
func (s *source) Snapshot(uint64) ([]connector.SplitState, error) {
	out := make([]connector.SplitState, len(s.ranges))
	for i, r := range s.ranges {
		if !r.aligned {
			// Not opened yet (a subtask barriered before its first Poll,
			// or a range after the current one): its position is the
			// range's start, which may be mid-line. No state restores it
			// as new, to be aligned when opened; a state would be taken
			// as a line start.
			out[i] = connector.SplitState{Split: r.split}
			continue
		}
		line := int64(0)
		if r.aligned && r.baseLine > 0 {
			line = r.baseLine + r.lines
		}
		out[i] = connector.SplitState{Split: r.split, State: fmt.Appendf(nil, "%d,%d", r.pos, line)}
	}
	return out, nil
}

// lineNo returns the absolute line number of the last line read.
func (s *source) lineNo(r *rangeState) (int64, error) {
	if r.baseLine == 0 {
		n, err := countLines(s.f, r.base)
		if err != nil {
			return 0, err
		}
		r.baseLine = n + 1
	}
	return r.baseLine + r.lines - 1, nil
}

// open positions the reader at the current range's first line start.
func (s *source) open(r *rangeState) error {
	s.eof = false
	if r.end < 0 {
		s.r = bufio.NewReaderSize(s.f, readBuffer) // a stream: read it whole
		return nil
	}
	s.r = bufio.NewReaderSize(io.NewSectionReader(s.f, r.pos, math.MaxInt64-r.pos), readBuffer)
	if r.aligned {
		return nil
	}
	// The range starts mid-file: its first line starts after the first
	// newline at or after start-1 (the line that starts before start is
	// the previous range's).
	var prev [1]byte
	if _, err := s.f.ReadAt(prev[:], r.start-1); err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	if prev[0] != '\n' {
		for {
			chunk, err := s.r.ReadSlice('\n')
			r.pos += int64(len(chunk))
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				s.eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", s.name, err)
			}
			break
		}
	}
	r.aligned, r.base = true, r.pos
	return nil
}

// Poll implements connector.Source: it reads lines until a batch is full
// or the subtask's ranges end, and emits them.
func (s *source) Poll(ctx context.Context, out connector.SourceOutput) error {
	now := time.Now().UnixNano()
	if so, ok := out.(connector.SplitOutput); ok && !s.declared {
		// Ranges are read one after the other: a batch never mixes two,
		// so the watermark can wait for a range that is behind (one
		// restored at a lower parallelism).
		s.declared = true
		so.DeclareSplits(len(s.ranges))
	}
	for s.cur < len(s.ranges) {
		r := s.ranges[s.cur]
		if s.r == nil {
			if err := s.open(r); err != nil {
				return err
			}
		}
		if s.eof || r.done() {
			if err := s.flush(out); err != nil {
				return err
			}
			if so, ok := out.(connector.SplitOutput); ok {
				so.SplitDone(s.cur)
			}
			s.cur++
			s.r = nil
			continue
		}
		if r.pos != 0 && s.addLines(r, now) > 0 {
			// Whole lines of the buffer decoded in one call.
		} else if err := s.readLine(ctx, r, now); err != nil {
			return err
		}
		if s.b.Full() {
			return s.flush(out)
		}
	}
	if err := s.flush(out); err != nil {
		return err
	}
	return io.EOF
}

func (s *source) flush(out connector.SourceOutput) error {
	if s.b == nil {
		return nil
	}
	if n := s.b.TakeDropped(); n > 0 {
		out.Counter(connector.CounterBadData, n)
	}
	if batch := s.b.Flush(); batch != nil {
		if so, ok := out.(connector.SplitOutput); ok && s.declared && s.cur < len(s.ranges) {
			return so.EmitSplit(s.cur, batch)
		}
		return out.Emit(batch)
	}
	return nil
}

// addLines adds the records of the whole lines already in the read buffer
// that start in range r, as one block (Batcher.AddLines), and returns the
// number of lines consumed: 0 when the buffer holds no whole line, the
// decoder has no block path, or the next line is one it leaves to readLine
// (the first line of the file, which may start with a byte-order mark,
// never gets here).
func (s *source) addLines(r *rangeState, now int64) int {
	buf, _ := s.r.Peek(s.r.Buffered())
	if r.end >= 0 {
		// Only the lines that start before the range's end (pos < end:
		// the range is not done): the last one ends at the first newline
		// at or after end-1.
		if lim := r.end - r.pos; int64(len(buf)) > lim {
			if j := bytes.IndexByte(buf[lim-1:], '\n'); j >= 0 {
				buf = buf[:lim+int64(j)]
			}
		}
	}
	n, lines := s.b.AddLines(buf, now, s.max)
	if n > 0 {
		s.r.Discard(n)
		r.pos += int64(n)
		r.lines += int64(lines)
	}
	return lines
}

// readLine reads the line starting at r.pos and adds its record.
func (s *source) readLine(ctx context.Context, r *rangeState, now int64) error {
	lineStart := r.pos
	chunk, err := s.r.ReadSlice('\n')
	r.pos += int64(len(chunk))
	r.lines++
	skipped := false
	if err == nil && lineStart != 0 && s.max >= len(chunk) {
		// The common case, a whole line that is not the first one: no
		// error checks (errors.Is is a call each) and no TrimSpace when
		// the line is a bare object ('{' ... '}' before the newline,
		// which TrimSpace would return unchanged).
		rec := chunk[:len(chunk)-1]
		if n := len(rec); n == 0 || rec[0] != '{' || rec[n-1] != '}' {
			rec = bytes.TrimSpace(rec)
		}
		if len(rec) == 0 {
			return nil
		}
		if derr := s.b.Add(rec, now); derr != nil {
			return s.badRecord(r, derr)
		}
		return nil
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		// A line longer than the buffer: assemble it, but never more than
		// the limit.
		s.line = append(s.line[:0], chunk...)
		for errors.Is(err, bufio.ErrBufferFull) {
			chunk, err = s.r.ReadSlice('\n')
			r.pos += int64(len(chunk))
			if recordLen(s.line)+recordLen(chunk) > s.max {
				if err = s.tooLong(ctx, r, err); err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				skipped = true
				break
			}
			s.line = append(s.line, chunk...)
		}
		chunk = s.line
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	if errors.Is(err, io.EOF) {
		s.eof = true
		if len(chunk) == 0 && !skipped {
			r.lines-- // no line started here
			return nil
		}
	}
	if lineStart == 0 {
		chunk = bytes.TrimPrefix(chunk, bom)
	}
	switch rec := bytes.TrimSpace(chunk); {
	case skipped: // already refused by tooLong
	case recordLen(chunk) > s.max:
		return s.tooLong(ctx, r, nil)
	case len(rec) > 0:
		if derr := s.b.Add(rec, now); derr != nil {
			return s.badRecord(r, derr)
		}
	}
	return nil
}

// badRecord is the error of a record the format refused: where it is.
func (s *source) badRecord(r *rangeState, derr error) error {
	n, lerr := s.lineNo(r)
	if lerr != nil {
		return lerr
	}
	return fmt.Errorf("%s:%d: bad record: %w", s.name, n, derr)
}

// tooLong applies bad_data to the current line, longer than the limit: it
// fails at once (an endless line such as /dev/zero's is never read to its
// end) or skips to the end of the line, holding none of it.
func (s *source) tooLong(ctx context.Context, r *rangeState, err error) error {
	n, lerr := s.lineNo(r)
	if lerr != nil {
		return lerr
	}
	if rerr := s.b.Reject(fmt.Errorf("%s:%d: record is longer than %s = %d bytes", s.name, n, OptMaxRecordBytes, s.max)); rerr != nil {
		return rerr
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		var chunk []byte
		chunk, err = s.r.ReadSlice('\n')
		r.pos += int64(len(chunk))
	}
	if errors.Is(err, io.EOF) {
		s.eof = true
	}
	return err
}

// countLines counts the newlines in the first n bytes of f.
func countLines(f *os.File, n int64) (int64, error) {
	buf := make([]byte, 1<<20)
	var count int64
	for off := int64(0); off < n; {
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		count += int64(bytes.Count(buf[:k], []byte{'\n'}))
		off += int64(k)
		if err != nil && !(errors.Is(err, io.EOF) && off >= n) {
			return 0, fmt.Errorf("read %s: %w", f.Name(), err)
		}
	}
	return count, nil
}

// recordLen is the length of a line's record, without its newline.
func recordLen(b []byte) int {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return n - 1
	}
	return len(b)
}
