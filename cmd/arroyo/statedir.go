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

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// The state directory of `arroyo run` (seed 003): the metadata of the
// pipeline it ran (runMeta) and its checkpoints under
// checkpoints/<job>/. Re-running with the same directory and the same
// query resumes from the last complete checkpoint.

// pipelineRecord is what a state directory remembers of its pipeline.
type pipelineRecord struct {
	Name        string
	File        string
	Query       string
	Parallelism int
	// PlannedAt is the first run's planning time: every resume plans with
	// it, so plan-time defaults (a generator's base time) stay the same.
	PlannedAt time.Time
	JobID     string
	// State is the job's last recorded state.
	State controller.State
}

// runMeta is the metadata store of one state directory.
type runMeta interface {
	// Pipeline returns the directory's pipeline, or nil if it has none.
	Pipeline(ctx context.Context) (*pipelineRecord, error)
	// SetPipeline records a new pipeline, replacing any other, and sets
	// p's JobID, PlannedAt and State from what it stored.
	SetPipeline(ctx context.Context, p *pipelineRecord) error
	// SetState records the job's state.
	SetState(ctx context.Context, jobID string, s controller.State) error
	// Checkpoint records a checkpoint written (m) or failed (err).
	Checkpoint(ctx context.Context, jobID string, epoch uint64, m *checkpoint.Metadata, err error) error
	// Failure records a failed attempt.
	Failure(ctx context.Context, jobID string, f controller.Failure) error
	Close() error
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

// prepareRun decides what a run in stateDir does with the pipeline it is
// given: a new pipeline, a resume of the same one, or a refusal (another
// query, or one that finished, without force). It returns the record to
// run and whether it resumes.
func prepareRun(ctx context.Context, meta runMeta, loc *stateLoc, want pipelineRecord, force bool, stderr io.Writer) (*pipelineRecord, bool, error) {
	stateDir := loc.name
	have, err := meta.Pipeline(ctx)
	if err != nil {
		return nil, false, err
	}
	if have != nil && have.Query == want.Query && !force {
		if have.State == controller.Finished {
			return nil, false, fmt.Errorf("state directory %s: pipeline %q has already finished; nothing to resume (use --force to run it again from the start)", stateDir, have.Name)
		}
		rec := *have
		rec.Parallelism = want.Parallelism
		return &rec, true, nil
	}
	if have != nil && !force {
		return nil, false, fmt.Errorf("state directory %s holds pipeline %q (created %s) with another query than this one (from %s): use another --state-dir, or --force to discard that pipeline's state and start over", stateDir, have.Name, have.PlannedAt.Format(time.RFC3339), want.File)
	}
	if have != nil {
		fmt.Fprintf(stderr, "--force: discarding the state of pipeline %q in %s\n", have.Name, stateDir)
		if err := loc.removeJob(ctx, have.JobID); err != nil {
			return nil, false, err
		}
	}
	// The store gives the job its id and the pipeline its planning time.
	rec := want
	if err := meta.SetPipeline(ctx, &rec); err != nil {
		return nil, false, err
	}
	return &rec, false, nil
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
