// Package singlefile registers the "single_file" connector: a bounded source
// that reads one record per line from a local file, and a sink that writes
// one record per line. It is what the spec tests read and write.
//
// A file is read and written by a single subtask (MaxParallelism 1).
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
// The sink never modifies its target before the pipeline has succeeded: it
// writes a temporary file beside the target (same directory, named
// .<name>.arroyo-tmp-<random>) and, in Finish, flushes, syncs and renames it
// into place, then syncs the directory. A failed or aborted pipeline (Close
// without Finish) deletes the temporary file and leaves the previous target
// exactly as it was; its partial output is not kept.
//
// It must not import other connectors, sqlplan, controlplane, udf, cmd,
// engine/ops or engine/runtime.
package singlefile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
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
		Description: "Reads or writes newline-delimited records in one local file. A sink replaces its file only when the pipeline succeeds: it writes a temporary file beside it and renames it into place at the end, so a failed or aborted run leaves the previous file as it was.",
		Options: []connector.Option{
			{Name: OptPath, Type: connector.TypeString, Required: true, Description: "Path of the file to read or write.", Example: "/data/input.json"},
			{Name: OptType, Type: connector.TypeEnum, Enum: []string{"source", "sink"}, Description: "Whether the table is read (source) or written (sink); inferred from use when absent."},
			{Name: OptMaxRecordBytes, Type: connector.TypeInt, Default: strconv.Itoa(DefaultMaxRecordBytes), Min: 1, MinSet: true,
				Description: "Longest record (line, without its newline) a source reads, in bytes; default 16 MiB. A longer line fails the pipeline, or with bad_data = 'drop' is skipped and counted. Memory use is bounded by it."},
			{Name: OptAllowNonRegular, Type: connector.TypeBool, Default: "false",
				Description: "Allow a path that is not a regular file: a FIFO or a device (e.g. /dev/stdin, /dev/null). Refused by default, since reading a device such as /dev/zero never ends. A sink writes such a target directly, without the temporary file and rename."},
		},
		NeedsFormat:    true,
		DefaultFormat:  "json",
		MaxParallelism: 1,
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

type source struct {
	t   *connector.Table
	f   *os.File
	max int
}

func newSource(t *connector.Table) (connector.Source, error) {
	path := t.Options.String(OptPath)
	// Stat before opening: opening a FIFO for reading blocks until a
	// writer appears, and a refused path must not be opened at all.
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
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input file: %w", err)
	}
	max := int(t.Options.Int(OptMaxRecordBytes))
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	return &source{t: t, f: f, max: max}, nil
}

func (s *source) Close() error { return s.f.Close() }

func (s *source) Run(ctx connector.SourceContext) error {
	if ctx.Subtask() != 0 {
		return nil
	}
	b, err := connector.NewBatcher(s.t, batchRows)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(s.f, readBuffer)
	var line []byte
	now := time.Now().UnixNano()
	flush := func() error {
		if n := b.TakeDropped(); n > 0 {
			ctx.Counter(connector.CounterBadData, n)
		}
		if batch := b.Flush(); batch != nil {
			if err := ctx.Emit(batch); err != nil {
				return err
			}
		}
		now = time.Now().UnixNano()
		return ctx.Context().Err()
	}
	// tooLong applies bad_data to line lineNo, longer than the limit: it
	// fails at once (an endless line such as /dev/zero's is never read to
	// its end) or skips to the end of the line, holding none of it.
	tooLong := func(lineNo int, err error) error {
		if rerr := b.Reject(fmt.Errorf("%s:%d: record is longer than %s = %d bytes", s.f.Name(), lineNo, OptMaxRecordBytes, s.max)); rerr != nil {
			return rerr
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			if cerr := ctx.Context().Err(); cerr != nil {
				return cerr
			}
			_, err = r.ReadSlice('\n')
		}
		return err
	}
	for lineNo := 1; ; lineNo++ {
		chunk, err := r.ReadSlice('\n')
		skipped := false
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: assemble it, but never more
			// than the limit.
			line = append(line[:0], chunk...)
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = r.ReadSlice('\n')
				if recordLen(line)+recordLen(chunk) > s.max {
					if err = tooLong(lineNo, err); err != nil && !errors.Is(err, io.EOF) {
						return err
					}
					skipped = true
					break
				}
				line = append(line, chunk...)
			}
			chunk = line
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", s.f.Name(), err)
		}
		if lineNo == 1 {
			chunk = bytes.TrimPrefix(chunk, bom)
		}
		switch rec := bytes.TrimSpace(chunk); {
		case skipped: // already refused by tooLong
		case recordLen(chunk) > s.max:
			if rerr := tooLong(lineNo, nil); rerr != nil {
				return rerr
			}
		case len(rec) > 0:
			if derr := b.Add(rec, now); derr != nil {
				return fmt.Errorf("%s:%d: bad record: %w", s.f.Name(), lineNo, derr)
			}
			if b.Full() {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
	}
}

// recordLen is the length of a line's record, without its newline.
func recordLen(b []byte) int {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return n - 1
	}
	return len(b)
}

// sink writes into a temporary file beside its target and renames it into
// place in Finish; see the package doc.
type sink struct {
	path   string // the target as the user named it
	target string // the file the rename replaces (symlinks followed)
	tmp    string // the temporary file; "" when writing a non-regular target directly
	f      *os.File
	w      *bufio.Writer
	enc    connector.Encoder
	done   bool // Finish renamed tmp into place
}

func newSink(t *connector.Table) (connector.Sink, error) {
	enc, err := connector.NewEncoder(t, t.Schema)
	if err != nil {
		return nil, err
	}
	path := t.Options.String(OptPath)
	s := &sink{path: path, target: path, enc: enc}
	// Replace the file a symlink points to, not the link itself (as
	// writing through it would).
	if r, err := filepath.EvalSymlinks(path); err == nil {
		s.target = r
	}
	st, err := os.Stat(s.target)
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("create output file: %w", err)
	case err != nil:
		st = nil
	case st.IsDir():
		return nil, fmt.Errorf("create output file: %s is a directory", path)
	case !st.Mode().IsRegular():
		if !t.Options.Bool(OptAllowNonRegular) {
			return nil, fmt.Errorf("create output file: %s is %s, not a regular file (set %s = 'true' to write into it directly)", path, describeMode(st.Mode()), OptAllowNonRegular)
		}
		// A FIFO or device is written directly (opened at the first row:
		// opening a FIFO blocks until a reader appears).
		return s, nil
	}
	// The temporary file is created now, so an unwritable directory fails
	// the pipeline before it reads anything; the target is untouched.
	if err := s.createTemp(st); err != nil {
		return nil, err
	}
	return s, nil
}

// createTemp creates the temporary file beside the target, with the
// target's permissions if it exists (as truncating it in place would keep
// them), else the default ones (0666 less the umask).
func (s *sink) createTemp(existing fs.FileInfo) error {
	dir, base := filepath.Split(s.target)
	for range 100 {
		name := filepath.Join(dir, "."+base+".arroyo-tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create output file: %w", err)
		}
		if existing != nil {
			if err := f.Chmod(existing.Mode().Perm()); err != nil {
				f.Close()
				os.Remove(name)
				return fmt.Errorf("create output file: %w", err)
			}
		}
		s.f, s.w, s.tmp = f, bufio.NewWriterSize(f, 256<<10), name
		return nil
	}
	return fmt.Errorf("create output file: no free temporary name beside %s", s.target)
}

func (s *sink) open() error {
	if s.f != nil {
		return nil
	}
	f, err := os.OpenFile(s.target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open output file: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

func (s *sink) Write(_ context.Context, b *coldata.Batch) error {
	if err := s.open(); err != nil {
		return err
	}
	return s.enc.Encode(b, func(rec []byte) error {
		s.w.Write(rec)
		return s.w.WriteByte('\n')
	})
}

// Finish commits the output: flush, sync, rename over the target, sync
// the directory. A job cancelled before the rename commits nothing.
func (s *sink) Finish(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if s.tmp == "" {
		return nil // a FIFO or device: nothing to sync or rename
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", s.path, err)
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := os.Rename(s.tmp, s.target); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.done = true
	return syncDir(filepath.Dir(s.target))
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (EINVAL) are not an error: the rename itself has happened.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Close releases the file; without a successful Finish it deletes the
// temporary file, so the target keeps its previous contents.
func (s *sink) Close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.tmp != "" && !s.done {
		// The job failed or was aborted: its partial output is discarded
		// (the close error of a discarded file does not matter).
		if rerr := os.Remove(s.tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("remove temporary file: %w", rerr)
		}
		return nil
	}
	return err
}
