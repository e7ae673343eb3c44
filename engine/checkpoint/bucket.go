package checkpoint

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Bucket is a Storage in an object store (gocloud.dev/blob: s3://, gs://,
// file://, mem://). An object appears whole when its writer closes, or not
// at all, which is the atomicity WriteFile promises.
type Bucket struct {
	B *blob.Bucket
	// URL names the bucket in messages.
	URL string
}

var _ Storage = Bucket{}

func (b Bucket) String() string { return b.URL }

func (b Bucket) WriteFile(ctx context.Context, name string, data []byte) error {
	return b.B.WriteAll(ctx, name, data, nil)
}

var _ Streamer = Bucket{}

// WriteFileFrom implements Streamer: the object appears when its writer
// closes; a failed write cancels it first, so it never appears.
func (b Bucket) WriteFileFrom(ctx context.Context, name string, write func(io.Writer) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.B.NewWriter(ctx, name, nil)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	return w.Close()
}

func (b Bucket) ReadFile(ctx context.Context, name string) ([]byte, error) {
	data, err := b.B.ReadAll(ctx, name)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return data, err
}

func (b Bucket) List(ctx context.Context, dir string) ([]string, error) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	it := b.B.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	seen := map[string]bool{}
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		if name != "" && !strings.HasPrefix(name, ".") {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (b Bucket) RemoveAll(ctx context.Context, dir string) error {
	if dir == "" || dir == "." {
		return fmt.Errorf("refusing to remove the storage root %s", b.URL)
	}
	it := b.B.List(&blob.ListOptions{Prefix: strings.TrimSuffix(dir, "/") + "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.B.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return err
		}
	}
}

func (b Bucket) Remove(ctx context.Context, name string) error {
	if err := b.B.Delete(ctx, name); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	return nil
}
