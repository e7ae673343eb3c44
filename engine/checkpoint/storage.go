package checkpoint

import (
	"bufio"
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
	"syscall"
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

// WriteFileFrom implements Streamer as WriteFile does, through a buffer.
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
	bw := bufio.NewWriterSize(f, 1<<20)
	werr := write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
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
