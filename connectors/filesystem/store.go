package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// store is where a sink's files go: keys are slash-separated paths
// relative to the sink's path.
type store interface {
	// Create starts the object key; it exists, complete, once the writer's
	// Close returns nil (a local file is synced).
	Create(ctx context.Context, key string) (io.WriteCloser, error)
	// Move gives the object from the name to, atomically where the store
	// can (a local rename). It is idempotent: from missing and to present
	// is success (an earlier Move did it).
	Move(ctx context.Context, from, to string) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys under the directory prefix (ending in '/'),
	// recursively.
	List(ctx context.Context, prefix string) ([]string, error)
	// Read returns a small object's contents.
	Read(ctx context.Context, key string) ([]byte, error)
	// Where names key for error messages.
	Where(key string) string
	Close() error
}

// errNotFound is what Move and Read wrap when the object is missing.
var errNotFound = errors.New("not found")

// localStore keeps files under a directory.
type localStore struct{ root string }

func (s *localStore) Where(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

type syncFile struct{ *os.File }

func (f syncFile) Close() error {
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		return err
	}
	return f.File.Close()
}

func (s *localStore) Create(_ context.Context, key string) (io.WriteCloser, error) {
	p := s.Where(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return syncFile{f}, nil
}

func (s *localStore) Move(_ context.Context, from, to string) error {
	src, dst := s.Where(from), s.Where(to)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dst); serr == nil {
			return nil // moved before
		}
		return fmt.Errorf("%s: %w (and %s does not exist)", src, errNotFound, dst)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func (s *localStore) Delete(_ context.Context, key string) error {
	err := os.Remove(s.Where(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (s *localStore) List(_ context.Context, prefix string) ([]string, error) {
	root := s.Where(prefix)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(s.root, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

func (s *localStore) Read(_ context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(s.Where(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", s.Where(key), errNotFound)
	}
	return b, err
}

func (s *localStore) Close() error { return nil }

// syncDir makes a rename in dir durable; file systems that cannot sync a
// directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// blobStore keeps objects in a gocloud.dev bucket, under a key prefix. An
// object store has no rename: Move copies and then deletes, so a crash
// between the two leaves both, which the next Move (or Recover) finishes.
type blobStore struct {
	b      *blob.Bucket
	url    string
	prefix string
}

func (s *blobStore) Where(key string) string {
	return strings.TrimSuffix(s.url, "/") + "/" + s.prefix + key
}

func (s *blobStore) Create(ctx context.Context, key string) (io.WriteCloser, error) {
	return s.b.NewWriter(ctx, s.prefix+key, nil)
}

func (s *blobStore) Move(ctx context.Context, from, to string) error {
	err := s.b.Copy(ctx, s.prefix+to, s.prefix+from, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		if ok, eerr := s.b.Exists(ctx, s.prefix+to); eerr == nil && ok {
			return nil // moved before
		}
		return fmt.Errorf("%s: %w (and %s does not exist)", s.Where(from), errNotFound, s.Where(to))
	}
	if err != nil {
		return err
	}
	return s.Delete(ctx, from)
}

func (s *blobStore) Delete(ctx context.Context, key string) error {
	err := s.b.Delete(ctx, s.prefix+key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

func (s *blobStore) List(ctx context.Context, prefix string) ([]string, error) {
	it := s.b.List(&blob.ListOptions{Prefix: s.prefix + prefix})
	var out []string
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if !o.IsDir {
			out = append(out, strings.TrimPrefix(o.Key, s.prefix))
		}
	}
}

func (s *blobStore) Read(ctx context.Context, key string) ([]byte, error) {
	b, err := s.b.ReadAll(ctx, s.prefix+key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%s: %w", s.Where(key), errNotFound)
	}
	return b, err
}

func (s *blobStore) Close() error { return s.b.Close() }

// openStore opens the store of a validated configuration.
func openStore(ctx context.Context, c *config) (store, error) {
	if c.local != "" {
		if err := os.MkdirAll(c.local, 0o755); err != nil {
			return nil, fmt.Errorf("filesystem: create %s: %w", c.local, err)
		}
		return &localStore{root: c.local}, nil
	}
	where := c.bucketURL
	if u, err := url.Parse(where); err == nil {
		u.RawQuery = "" // options, maybe credentials: never in messages
		where = u.String()
	}
	b, err := blob.OpenBucket(ctx, c.bucketURL)
	if err != nil {
		return nil, fmt.Errorf("filesystem: open bucket %s: %w", where, err)
	}
	return &blobStore{b: b, url: where, prefix: c.prefix}, nil
}
