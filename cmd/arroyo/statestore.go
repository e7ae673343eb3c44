package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// state directories
	_ "gocloud.dev/blob/memblob"  // mem:// (tests)
	"gocloud.dev/gcerrors"

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// stateLoc is where a state directory is: a local directory, or a bucket
// (s3://, gs://, file://, mem://) whose state.sqlite is fetched into a
// local working directory at start and backed up to the bucket (seed 003).
type stateLoc struct {
	name    string // as the user gave it (messages)
	local   string // the directory holding state.sqlite
	storage checkpoint.Storage
	bucket  *blob.Bucket // nil for a local state directory
}

// isURL reports whether a state directory is given as a URL.
func isURL(dir string) bool { return strings.Contains(dir, "://") }

// openStateLoc opens a state directory, creating it if needed. For a
// bucket it downloads state.sqlite (if the bucket has one) into a new
// local working directory.
func openStateLoc(ctx context.Context, dir string) (*stateLoc, error) {
	if !isURL(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		return &stateLoc{name: dir, local: dir, storage: checkpoint.Local{Root: dir}}, nil
	}
	b, err := openBucket(ctx, dir)
	if err != nil {
		return nil, err
	}
	local, err := os.MkdirTemp("", "arroyo-state-")
	if err != nil {
		b.Close()
		return nil, err
	}
	l := &stateLoc{name: dir, local: local, storage: checkpoint.Bucket{B: b, URL: dir}, bucket: b}
	data, err := b.ReadAll(ctx, StateDBFile)
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound:
	case err != nil:
		l.Close()
		return nil, fmt.Errorf("state directory %s: fetch %s: %w", dir, StateDBFile, err)
	default:
		if err := os.WriteFile(filepath.Join(local, StateDBFile), data, 0o644); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// openBucket opens the bucket of a state directory URL; its path is a
// prefix within the bucket (for file://, the directory itself).
func openBucket(ctx context.Context, dir string) (*blob.Bucket, error) {
	u, err := url.Parse(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if u.Scheme == "file" {
		if err := os.MkdirAll(u.Path, 0o755); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		// fileblob's sidecar attribute files are written apart from the
		// object: a crash between the two leaves an object that does not
		// read (EOF). The state directory needs no attributes.
		q := u.Query()
		if !q.Has("metadata") {
			q.Set("metadata", "skip")
			u.RawQuery = q.Encode()
		}
		b, err := blob.OpenBucket(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("state directory %s: %w", dir, err)
		}
		return b, nil
	}
	prefix := strings.Trim(u.Path, "/")
	u.Path = ""
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w (this build reads file://, mem://, and s3:// and gs:// through the filesystem connector's drivers)", dir, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	return b, nil
}

// checkpointDir is where a pipeline's checkpoints live in a state
// directory (the cluster runner's layout: checkpoints/<pipeline id>/).
func (l *stateLoc) checkpointDir(pipelineID string, cfg config.Config) *checkpoint.Dir {
	return &checkpoint.Dir{Storage: l.storage, Root: "checkpoints/" + pipelineID, Keep: cfg.Pipeline.CheckpointsRetained}
}

// removeCheckpoints deletes a pipeline's checkpoints.
func (l *stateLoc) removeCheckpoints(ctx context.Context, pipelineID string) error {
	return l.storage.RemoveAll(ctx, "checkpoints/"+pipelineID)
}

// backup copies state.sqlite to the bucket (an online backup: VACUUM INTO
// a temporary file, then one object write). A local state directory needs
// none.
func (l *stateLoc) backup(ctx context.Context, st *store.Store) error {
	if l.bucket == nil {
		return nil
	}
	tmp := filepath.Join(l.local, "backup.sqlite")
	os.Remove(tmp)
	if _, err := st.DB().ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("back up %s: %w", StateDBFile, err)
	}
	defer os.Remove(tmp)
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := l.bucket.NewWriter(ctx, StateDBFile, nil)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Close()
		return fmt.Errorf("back up %s to %s: %w", StateDBFile, l.name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("back up %s to %s: %w", StateDBFile, l.name, err)
	}
	return nil
}

// backupEvery backs st up every interval until stop is closed, reporting
// failures to warn; the returned function stops it and waits.
func (l *stateLoc) backupEvery(st *store.Store, interval time.Duration, warn func(error)) func() {
	if l.bucket == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := l.backup(context.Background(), st); err != nil {
					warn(err)
				}
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// Close releases the bucket and the local working copy of a remote state
// directory.
func (l *stateLoc) Close() {
	if l.bucket != nil {
		l.bucket.Close()
		os.RemoveAll(l.local)
	}
}
