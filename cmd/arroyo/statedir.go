package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// The state directory of `arroyo run` (seed 003): state.sqlite, the
// control plane's metadata store (the pipeline, its jobs, checkpoints and
// failures, written by the cluster runner and read through the API), and
// the checkpoints under checkpoints/<pipeline id>/. Re-running with the
// same directory and the same query resumes from the last complete
// checkpoint.

// StateDBFile is the state directory's metadata database (seed 003).
const StateDBFile = "state.sqlite"

// openStateStore opens (creating and migrating) the metadata store of a
// state directory.
func openStateStore(ctx context.Context, dir string) (*store.Store, error) {
	path := filepath.Join(dir, StateDBFile)
	s, err := store.Open(ctx, store.Config{SQLitePath: path})
	if err != nil {
		return nil, fmt.Errorf("state directory metadata %s: %w", path, err)
	}
	return s, nil
}

// resolveStateDir returns the state directory to use: the flag's (a path
// or a bucket URL), or a new timestamped one under checkpoint_url (its
// path printed).
func resolveStateDir(flag string, cfg config.Config, name string, stderr io.Writer) string {
	if flag != "" {
		return flag
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	leaf := fmt.Sprintf("%s-%s-%s", time.Now().UTC().Format("20060102T150405Z"), safeName(name), hex.EncodeToString(rnd[:]))
	dir := filepath.Join(cfg.CheckpointURL, leaf)
	if isURL(cfg.CheckpointURL) {
		dir = strings.TrimSuffix(cfg.CheckpointURL, "/") + "/" + leaf
	}
	fmt.Fprintf(stderr, "state directory: %s\n", dir)
	return dir
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// runRequest is the pipeline `arroyo run` was asked to run.
type runRequest struct {
	Name, File, Query string
	Parallelism       int
	// CheckpointInterval is --checkpoint-interval (0: the default).
	CheckpointInterval time.Duration
	Force              bool
}

// submit runs want through the API at c: a new pipeline in an empty state
// directory; the directory's pipeline resumed from its last checkpoint
// when it has the same query (PATCH stop = none, with the requested
// parallelism and checkpoint interval, or POST .../restart); refused when
// it has another query or has finished, unless want.Force: then its state
// is discarded (a restart with ignore_state of the same query and
// parallelism, otherwise a new pipeline). It returns the pipeline and the
// id of the job now running it.
func submit(ctx context.Context, c *client.Client, loc *stateLoc, cfg config.Config, want runRequest, stderr io.Writer) (*api.Pipeline, string, error) {
	list, err := c.Pipelines(ctx, client.Page{Limit: 1})
	if err != nil {
		return nil, "", err
	}
	iv := uint64(want.CheckpointInterval.Microseconds())
	create := func() (*api.Pipeline, string, error) {
		p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: want.Name, Query: want.Query, Parallelism: want.Parallelism, CheckpointIntervalMicros: &iv})
		if err != nil {
			return nil, "", err
		}
		return currentJob(ctx, c, p)
	}
	if len(list.Data) == 0 {
		return create()
	}
	have := &list.Data[0]
	var state string
	if jobs, err := c.PipelineJobs(ctx, have.ID); err != nil {
		return nil, "", err
	} else if len(jobs) > 0 {
		state = jobs[0].State
	}
	switch {
	case have.Query == want.Query && !want.Force:
		if state == store.JobFinished {
			return nil, "", fmt.Errorf("state directory %s: pipeline %q has already finished; nothing to resume (use --force to run it again from the start)", loc.name, have.Name)
		}
		if m, err := loc.checkpointDir(have.ID, cfg).Latest(ctx); err != nil {
			return nil, "", err
		} else if m != nil {
			fmt.Fprintf(stderr, "resuming %s from checkpoint %d (%s)\n", have.ID, m.Epoch, m.Finished.Format(time.RFC3339))
		}
		patch := api.PipelinePatch{CheckpointIntervalMicros: &iv}
		if have.Stop != store.StopNone || have.Parallelism != want.Parallelism {
			// A stopped pipeline resumed, or a rescale: the API restarts
			// it from its last checkpoint.
			none := store.StopNone
			patch.Stop, patch.Parallelism = &none, &want.Parallelism
			if _, err := c.PatchPipeline(ctx, have.ID, patch); err != nil {
				return nil, "", err
			}
			return currentJob(ctx, c, have)
		}
		// It should be running but its job ended (a crash, a failure).
		if _, err := c.PatchPipeline(ctx, have.ID, patch); err != nil {
			return nil, "", err
		}
		if _, err := c.RestartPipeline(ctx, have.ID, api.PipelineRestart{}); err != nil {
			return nil, "", err
		}
		return currentJob(ctx, c, have)
	case !want.Force:
		return nil, "", fmt.Errorf("state directory %s holds pipeline %q (created %s) with another query than this one (from %s): use another --state-dir, or --force to discard that pipeline's state and start over",
			loc.name, have.Name, time.UnixMicro(have.CreatedAt).UTC().Format(time.RFC3339), want.File)
	}
	fmt.Fprintf(stderr, "--force: discarding the state of pipeline %q in %s\n", have.Name, loc.name)
	if have.Query == want.Query && have.Parallelism == want.Parallelism {
		yes := true
		if _, err := c.PatchPipeline(ctx, have.ID, api.PipelinePatch{CheckpointIntervalMicros: &iv}); err != nil {
			return nil, "", err
		}
		if _, err := c.RestartPipeline(ctx, have.ID, api.PipelineRestart{Force: &yes, IgnoreState: &yes}); err != nil {
			return nil, "", err
		}
		return currentJob(ctx, c, have)
	}
	if err := c.DeletePipeline(ctx, have.ID); err != nil {
		return nil, "", err
	}
	if err := loc.removeCheckpoints(ctx, have.ID); err != nil {
		return nil, "", err
	}
	return create()
}

// currentJob returns p with the id of its newest job.
func currentJob(ctx context.Context, c *client.Client, p *api.Pipeline) (*api.Pipeline, string, error) {
	jobs, err := c.PipelineJobs(ctx, p.ID)
	if err != nil {
		return nil, "", err
	}
	if len(jobs) == 0 {
		return nil, "", fmt.Errorf("pipeline %s has no job after it was started", p.ID)
	}
	return p, jobs[0].ID, nil
}

// crashHook returns the test hook run between a durable checkpoint and
// its commit: with ARROYO_TEST_PAUSE_BEFORE_COMMIT=<file> set, the process
// creates that file and sleeps, so a test can SIGKILL it exactly there.
func crashHook() func(*checkpoint.Metadata) {
	path := os.Getenv("ARROYO_TEST_PAUSE_BEFORE_COMMIT")
	if path == "" {
		return nil
	}
	return func(m *checkpoint.Metadata) {
		if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", m.Epoch), 0o644); err == nil {
			for {
				time.Sleep(time.Hour) // until killed
			}
		}
	}
}
