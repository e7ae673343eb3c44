package singlefile

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// The sink of a regular target is a connector.TwoPhaseSink. Its protocol:
//
//   - NewSink opens (creating, never truncating) the temporary file
//     .<target>.arroyo-tmp-<job>-<subtask> beside the target, so an
//     unwritable directory fails the job before it reads anything. A fresh
//     job truncates it at its first Write, PreCommit or Finish (it may be
//     left over from an earlier run of the same job id); a restored job's
//     Recover has chosen its contents by then.
//   - PreCommit flushes and fsyncs the temporary file and returns its name,
//     its length and the CRC-32C of those bytes: the checkpoint then
//     holds exactly the rows written before its barrier.
//   - Commit changes nothing on disk: the rows become visible at Finish.
//   - Recover (a restore) takes the newest restored pre-commit: if its
//     temporary file is there and starts with the recorded bytes (length
//     and CRC match), it is truncated to that length; if it is gone
//     because a run renamed it into place and then died before the job was
//     recorded as finished, the target holds the same prefix, which is
//     copied back into the temporary file (the target stays as it is until
//     the next rename). Anything else is an error naming the files: the
//     output is never silently rebuilt from something else.
//   - Finish flushes, fsyncs, renames the temporary file over the target
//     and fsyncs the directory.
//   - Close deletes the temporary file unless a checkpoint refers to it
//     (a PreCommit or Recover happened) or Finish renamed it.
//
// So after a crash at any moment, a restore from the last complete
// checkpoint rebuilds the exact bytes the checkpoint covered and replays
// the rest: the final file equals an uninterrupted run's.

// crcTable is CRC-32C (Castagnoli), hardware-accelerated on amd64/arm64.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// prepared is what a PreCommit records in the checkpoint.
type prepared struct {
	// Tmp is the temporary file's name in the target's directory.
	Tmp string `json:"tmp"`
	// Offset is its length at the barrier and CRC the CRC-32C of those
	// bytes.
	Offset int64  `json:"offset"`
	CRC    uint32 `json:"crc"`
	Epoch  uint64 `json:"epoch"`
}

// sink writes a regular target through its temporary file; see above.
type sink struct {
	path   string // the target as the user named it
	target string // the file the rename replaces (symlinks followed)
	tmp    string // the temporary file's path
	perm   fs.FileMode
	hasOld bool // the target existed when the sink was built: keep its mode
	f      *os.File
	w      *bufio.Writer
	cw     *crcWriter
	enc    connector.Encoder
	buf    []byte // the encoded batch (writeLines)

	started bool // the temporary file's contents are this run's
	// referenced: a checkpoint names the temporary file (it must survive
	// Close).
	referenced bool
	// finishedBefore: the restored checkpoint had no pre-commit for this
	// subtask, so its output was already complete and renamed into place.
	finishedBefore bool
	done           bool // Finish renamed the temporary file into place
}

var (
	_ connector.TwoPhaseSink = (*sink)(nil)
	_ connector.Closer       = (*sink)(nil)
)

// crcWriter counts and checksums what reaches the file.
type crcWriter struct {
	f   *os.File
	off int64
	crc uint32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.crc = crc32.Update(c.crc, crcTable, p[:n])
	c.off += int64(n)
	return n, err
}

func newSink(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
	enc, err := connector.NewEncoder(t, t.Schema)
	if err != nil {
		return nil, err
	}
	path := t.Options.String(OptPath)
	target := path
	// Replace the file a symlink points to, not the link itself (as
	// writing through it would).
	if r, err := filepath.EvalSymlinks(path); err == nil {
		target = r
	}
	st, err := os.Stat(target)
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
		return &directSink{path: path, target: target, enc: enc}, nil
	}
	s := &sink{path: path, target: target, enc: enc, perm: 0o666}
	if st != nil {
		s.perm, s.hasOld = st.Mode().Perm(), true
	}
	dir, base := filepath.Split(target)
	s.tmp = filepath.Join(dir, "."+base+".arroyo-tmp-"+tmpSuffix(task))
	if err := s.openTmp(os.O_CREATE); err != nil {
		return nil, err
	}
	return s, nil
}

// tmpSuffix names the temporary file of a job's subtask: the job id where
// it is short and plain, else a hash of it.
func tmpSuffix(task connector.SinkTask) string {
	id := task.JobID
	plain := len(id) > 0 && len(id) <= 64
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			plain = false
			break
		}
	}
	if !plain {
		h := sha256.Sum256([]byte(id))
		id = hex.EncodeToString(h[:8])
	}
	return id + "-" + strconv.Itoa(task.Subtask)
}

// openTmp opens s.tmp for writing at its end; flag adds os.O_CREATE or
// os.O_TRUNC. A created file gets the target's permissions if it existed
// (as truncating it in place would keep them), else the default ones.
func (s *sink) openTmp(flag int) error {
	f, err := os.OpenFile(s.tmp, os.O_RDWR|flag, 0o666)
	if err != nil {
		return fmt.Errorf("create output file: %w", err)
	}
	if s.hasOld {
		if err := f.Chmod(s.perm); err != nil {
			f.Close()
			return fmt.Errorf("create output file: %w", err)
		}
	}
	s.f = f
	s.cw = &crcWriter{f: f}
	s.w = bufio.NewWriterSize(s.cw, 64<<10)
	return nil
}

// start makes the temporary file this run's: a fresh job discards what an
// earlier run of the same job id may have left in it.
func (s *sink) start() error {
	if s.started {
		return nil
	}
	if s.finishedBefore {
		return fmt.Errorf("single_file %s: the restored checkpoint has this sink finished (its output is already in place), yet rows arrived", s.path)
	}
	s.started = true
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", s.tmp, err)
	}
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

func (s *sink) Write(_ context.Context, b *coldata.Batch) error {
	if err := s.start(); err != nil {
		return err
	}
	return writeLines(s.w, s.enc, &s.buf, b)
}

// maxKeptLines is the largest encoding buffer a sink keeps between
// batches; a larger one (a batch of long rows) is dropped after use.
const maxKeptLines = 4 << 20

// writeLines writes b's records to w as lines: in one piece through buf
// where the encoder can append a whole batch (connector.LinesEncoder),
// else a record at a time.
func writeLines(w *bufio.Writer, enc connector.Encoder, buf *[]byte, b *coldata.Batch) error {
	le, ok := enc.(connector.LinesEncoder)
	if !ok {
		return enc.Encode(b, func(rec []byte) error {
			w.Write(rec)
			return w.WriteByte('\n')
		})
	}
	out, err := le.AppendLines((*buf)[:0], b)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	if cap(out) > maxKeptLines {
		out = nil
	}
	*buf = out
	return err
}

// PreCommit implements connector.TwoPhaseSink: the rows so far are durable
// in the temporary file and the checkpoint records how many bytes they
// are.
func (s *sink) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	if s.finishedBefore {
		// Nothing was written (start refuses rows): the output stays
		// complete as it is.
		return json.Marshal(prepared{Epoch: epoch})
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.tmp, err)
	}
	if err := s.f.Sync(); err != nil {
		return nil, fmt.Errorf("write %s: sync: %w", s.tmp, err)
	}
	s.referenced = true
	return json.Marshal(prepared{Tmp: filepath.Base(s.tmp), Offset: s.cw.off, CRC: s.cw.crc, Epoch: epoch})
}

// Commit implements connector.TwoPhaseSink. The committed rows stay in the
// temporary file until Finish renames it: the target changes only when the
// pipeline succeeds.
func (s *sink) Commit(context.Context, uint64, [][]byte) error { return nil }

// Recover implements connector.TwoPhaseSink; see the protocol above.
func (s *sink) Recover(_ context.Context, restored [][]byte) error {
	if len(restored) == 0 {
		s.finishedBefore = true
		return nil
	}
	var p prepared
	for i, raw := range restored {
		var q prepared
		if err := json.Unmarshal(raw, &q); err != nil {
			return fmt.Errorf("single_file %s: restore: bad pre-commit record %d: %w", s.path, i, err)
		}
		if i > 0 && q.Offset < p.Offset {
			return fmt.Errorf("single_file %s: restore: pre-commit offsets go backwards (%d after %d)", s.path, q.Offset, p.Offset)
		}
		p = q
	}
	if p.Tmp == "" {
		// The checkpoint was taken after a restore that found the output
		// complete.
		s.finishedBefore = true
		return nil
	}
	if p.Tmp != filepath.Base(p.Tmp) || !strings.HasPrefix(p.Tmp, ".") {
		return fmt.Errorf("single_file %s: restore: bad temporary file name %q", s.path, p.Tmp)
	}
	tmp := filepath.Join(filepath.Dir(s.target), p.Tmp)
	if tmp != s.tmp {
		// The checkpoint's temporary file (an earlier job's id) is
		// continued; the one NewSink opened is not needed.
		s.f.Close()
		if err := os.Remove(s.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("single_file %s: restore: %w", s.path, err)
		}
		s.tmp = tmp
		if err := s.openTmp(os.O_CREATE); err != nil {
			return err
		}
	}
	s.started, s.referenced = true, true
	if ok, err := hasPrefix(s.f, p.Offset, p.CRC); err != nil {
		return fmt.Errorf("single_file %s: restore: read %s: %w", s.path, s.tmp, err)
	} else if ok {
		if err := s.f.Truncate(p.Offset); err != nil {
			return fmt.Errorf("single_file %s: restore: truncate %s to %d bytes: %w", s.path, s.tmp, p.Offset, err)
		}
	} else if err := s.copyBack(p); err != nil {
		return err
	}
	if _, err := s.f.Seek(p.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("single_file %s: restore: %w", s.path, err)
	}
	s.cw.off, s.cw.crc = p.Offset, p.CRC
	return nil
}

// copyBack rebuilds the temporary file from the target, which a run that
// died after its rename left complete: its first p.Offset bytes are what
// the checkpoint covered.
func (s *sink) copyBack(p prepared) error {
	t, err := os.Open(s.target)
	if err != nil {
		return fmt.Errorf("single_file %s: restore: the temporary file %s does not hold the checkpoint's %d bytes, and the target cannot be read: %w", s.path, s.tmp, p.Offset, err)
	}
	defer t.Close()
	ok, err := hasPrefix(t, p.Offset, p.CRC)
	if err != nil {
		return fmt.Errorf("single_file %s: restore: read %s: %w", s.path, s.target, err)
	}
	if !ok {
		return fmt.Errorf("single_file %s: restore: neither the temporary file %s nor the target starts with the %d bytes the checkpoint covers (CRC-32C %08x): the output was changed or deleted outside the pipeline", s.path, s.tmp, p.Offset, p.CRC)
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("single_file %s: restore: %w", s.path, err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("single_file %s: restore: %w", s.path, err)
	}
	if _, err := io.Copy(s.f, io.NewSectionReader(t, 0, p.Offset)); err != nil {
		return fmt.Errorf("single_file %s: restore: copy %s back into %s: %w", s.path, s.target, s.tmp, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("single_file %s: restore: sync %s: %w", s.path, s.tmp, err)
	}
	return nil
}

// hasPrefix reports whether f is at least n bytes long and its first n
// bytes have CRC-32C crc.
func hasPrefix(f *os.File, n int64, crc uint32) (bool, error) {
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() < n {
		return false, nil
	}
	h := crc32.New(crcTable)
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return false, err
	}
	return h.Sum32() == crc, nil
}

// Finish commits the output: flush, sync, rename over the target, sync
// the directory. A job cancelled before the rename commits nothing.
func (s *sink) Finish(ctx context.Context) error {
	if s.finishedBefore {
		return nil // the output is already in place
	}
	if err := s.start(); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
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

// Close releases the file. Without a successful Finish it deletes the
// temporary file unless a checkpoint refers to it: a job that failed
// before its first checkpoint leaves nothing behind, one that a restore
// may continue keeps it (see docs/connectors/single_file.md).
func (s *sink) Close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if !s.done && !s.referenced {
		// The close error of a discarded file does not matter.
		if rerr := os.Remove(s.tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("remove temporary file: %w", rerr)
		}
		return nil
	}
	return err
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

// directSink writes a FIFO or device target as rows arrive (allow_non_regular):
// such a target cannot be replaced or rewound, so it has no exactly-once
// guarantee; it is flushed at every barrier.
type directSink struct {
	path   string
	target string
	f      *os.File
	w      *bufio.Writer
	enc    connector.Encoder
	buf    []byte
}

var (
	_ connector.Flusher = (*directSink)(nil)
	_ connector.Closer  = (*directSink)(nil)
)

func (s *directSink) open() error {
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

func (s *directSink) Write(_ context.Context, b *coldata.Batch) error {
	if err := s.open(); err != nil {
		return err
	}
	return writeLines(s.w, s.enc, &s.buf, b)
}

func (s *directSink) Flush(context.Context) error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

func (s *directSink) Finish(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	return s.Flush(ctx)
}

func (s *directSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
