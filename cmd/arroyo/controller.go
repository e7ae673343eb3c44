package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/controlplane/config"
)

func newController(configFile *string) *cobra.Command {
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the pipelines an arroyo api records in the metadata database (controller and embedded scheduler)",
		Long: `Controller runs the pipelines of the configured metadata database
(database.type postgres in production; a SQLite file works on one machine)
that arroyo api processes record: every --poll-interval (default 1s) it
starts the jobs
the API asked for (a create, restart, resume or rescale is a job in state
Created), stops those whose pipeline has a stop mode, and writes job
states, checkpoints and failures back, where the API reads them. Pipelines
checkpoint under checkpoint_url (checkpoints/<pipeline id>/).

At start it resumes, from their last checkpoints, the pipelines a previous
controller left running (one that was killed, or stopped with SIGTERM).
Run one controller per database: it takes the jobs no running controller
of its own runs for ones a crashed controller left behind. SIGINT or
SIGTERM stops every running pipeline at a final checkpoint, then exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadControlPlaneConfig(*configFile)
			if err != nil {
				return err
			}
			if poll <= 0 {
				return fmt.Errorf("--poll-interval must be positive, got %s", poll)
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runController(ctx, cfg, poll, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().DurationVar(&poll, "poll-interval", time.Second, "how often to read the database for jobs to start and pipelines to stop")
	return cmd
}

// runController runs the controller on the configured store until ctx
// ends.
func runController(ctx context.Context, cfg config.Config, poll time.Duration, stderr io.Writer) error {
	runner, where, closeAll, err := clusterRunner(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	log := runner.Log
	fmt.Fprintf(stderr, "controller: running the pipelines of %s every %s (checkpoints: %s)\n", where, poll, cfg.CheckpointURL)
	err = runner.Control(ctx, poll, time.Minute, func(err error) { log.Warn("controller", "error", err) })
	fmt.Fprintln(stderr, "controller: stopped")
	return err
}
