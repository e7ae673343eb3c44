package checkpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// Storage is where checkpoint files live: a local directory (Local) or,
// through the same interface, a bucket. Names are slash-separated paths
// relative to the storage's root.
type Storage interface {
	// WriteFile stores data under name durably and atomically: after a
	// crash the file is either absent or complete, never partial.
	WriteFile(ctx context.Context, name string, data []byte) error
	// ReadFile returns the content of name; a missing file is an error
	// wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// List returns the names of the entries directly under dir, sorted; a
	// missing dir is empty, not an error.
	List(ctx context.Context, dir string) ([]string, error)
	// RemoveAll deletes dir and everything under it.
	RemoveAll(ctx context.Context, dir string) error
	// Remove deletes the file name; a missing one is not an error.
	Remove(ctx context.Context, name string) error
	// String names the storage in messages (its root).
	String() string
}

// Streamer is a Storage that can also write a file from a function that
// writes its content, with WriteFile's guarantees, so a large snapshot is
// written from where its pieces are instead of being assembled in memory.
type Streamer interface {
	// WriteFileFrom stores what write writes under name; if write fails,
	// no file appears.
	WriteFileFrom(ctx context.Context, name string, write func(io.Writer) error) error
}

// Local is a Storage in a local directory.
type Local struct{ Root string }

var _ Storage = Local{}

func (l Local) path(name string) string { return filepath.Join(l.Root, filepath.FromSlash(name)) }

func (l Local) String() string { return l.Root }

// WriteFile writes a temporary file beside name, syncs it, renames it into
// place and syncs the directory, so the rename itself survives a crash.
func (l Local) WriteFile(ctx context.Context, name string, data []byte) error {
	return l.WriteFileFrom(ctx, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

var _ Streamer = Local{}

// WriteFileFrom implements Streamer as WriteFile does, through a buffer
// (fileWriter: a file larger than the buffer is written with direct I/O
// where the file system has it).
func (l Local) WriteFileFrom(ctx context.Context, name string, write func(io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(name)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(p)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	fw := newFileWriter(f)
	werr := write(fw)
	if werr == nil {
		werr = fw.finish()
	}
	fw.release()
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable; file systems that cannot sync a
// directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func (l Local) ReadFile(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return os.ReadFile(l.path(name))
}

func (l Local) List(ctx context.Context, dir string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(l.path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func (l Local) RemoveAll(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir == "" || dir == "." {
		return fmt.Errorf("refusing to remove the storage root %s", l.Root)
	}
	return os.RemoveAll(l.path(dir))
}

func (l Local) Remove(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(l.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// fileWriter buffers a file's content in an aligned buffer. A file that
// fits the buffer is written with one ordinary write. A larger one (a
// state snapshot) is written with O_DIRECT, whole buffers at a time,
// straight from the buffer to the device: its bytes are not copied into
// the page cache, where a checkpoint file, read back only by a restore,
// would take memory that a busy machine must first find and clear (see
// RATIONALE "Checkpoint files bypass the page cache"). The tail, less than
// a block, is written buffered after turning O_DIRECT off. Where direct
// I/O is not available (a file system without it, another OS), or a
// direct write is refused, the rest of the file is written buffered.
type fileWriter struct {
	f      *os.File
	buf    *directBuf
	n      int  // bytes of buf in use
	direct bool // O_DIRECT is on
	tried  bool // O_DIRECT was tried
	// refused: a direct write was refused, and the rest buffered.
	refused bool
}

// directBlock is the alignment of a direct write's buffer, offset and
// length: the largest logical block size in common use.
const directBlock = 4096

// directBufSize is the size of a fileWriter's buffer, and so of the
// direct writes.
const directBufSize = 1 << 20

// directBuf is a buffer of directBufSize bytes at a directBlock-aligned
// address.
type directBuf struct{ b []byte }

// directBufs recycles fileWriter buffers across files and checkpoints.
var directBufs = sync.Pool{New: func() any {
	raw := make([]byte, directBufSize+directBlock)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&raw[0])) % directBlock); r != 0 {
		off = directBlock - r
	}
	return &directBuf{b: raw[off : off+directBufSize : off+directBufSize]}
}}

func newFileWriter(f *os.File) *fileWriter {
	return &fileWriter{f: f, buf: directBufs.Get().(*directBuf)}
}

// release returns the buffer to the pool; w is not used afterwards.
func (w *fileWriter) release() {
	if w.buf != nil {
		directBufs.Put(w.buf)
		w.buf = nil
	}
}

func (w *fileWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		c := copy(w.buf.b[w.n:], p)
		w.n += c
		p = p[c:]
		done += c
		if w.n == len(w.buf.b) {
			if !w.tried {
				w.tried = true
				w.direct = setDirect(w.f, true) == nil
			}
			if err := w.out(w.buf.b); err != nil {
				return done - c, err
			}
			w.n = 0
		}
	}
	return done, nil
}

// out writes b, directly if O_DIRECT is on (b is then whole blocks of the
// aligned buffer at an aligned offset).
func (w *fileWriter) out(b []byte) error {
	_, err := w.f.Write(b)
	if err != nil && w.direct && errors.Is(err, syscall.EINVAL) {
		// The file system took the flag but refuses the write: the
		// rest goes through the page cache. (A refused write wrote
		// nothing.)
		w.refused = true
		if err := w.buffered(); err != nil {
			return err
		}
		_, err = w.f.Write(b)
	}
	return err
}

func (w *fileWriter) buffered() error {
	if !w.direct {
		return nil
	}
	w.direct = false
	return setDirect(w.f, false)
}

// finish writes what is buffered: its whole blocks directly, if direct,
// and the rest buffered.
func (w *fileWriter) finish() error {
	b := w.buf.b[:w.n]
	w.n = 0
	if w.direct {
		whole := len(b) &^ (directBlock - 1)
		if whole > 0 {
			if err := w.out(b[:whole]); err != nil {
				return err
			}
			b = b[whole:]
		}
	}
	if len(b) == 0 {
		return nil
	}
	if err := w.buffered(); err != nil {
		return err
	}
	_, err := w.f.Write(b)
	return err
}
