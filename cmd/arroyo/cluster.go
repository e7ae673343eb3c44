package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

func newCluster(configFile *string) *cobra.Command {
	return &cobra.Command{
		Use:   "cluster",
		Short: "Run the API, the controller and an embedded scheduler in one long-running process",
		Long: `Cluster serves the REST API on api.bind_address:api.http_port (default
127.0.0.1:5115) over the configured metadata database (database.type
sqlite or postgres, migrated first), and runs the pipelines created through
it in this process: every pipeline checkpoints under checkpoint_url
(checkpoints/<pipeline id>/), and stopping, resuming, rescaling and
restarting go through the API. SIGINT or SIGTERM stops every running
pipeline at a final checkpoint, then shuts the server down.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadControlPlaneConfig(*configFile)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveCluster(ctx, cfg, cmd.ErrOrStderr())
		},
	}
}

// clusterCheckpoints is where a cluster's pipelines checkpoint.
func clusterCheckpoints(ctx context.Context, url string) (checkpoint.Storage, func(), error) {
	if !isURL(url) {
		if err := os.MkdirAll(url, 0o755); err != nil {
			return nil, nil, fmt.Errorf("checkpoint_url: %w", err)
		}
		return checkpoint.Local{Root: url}, func() {}, nil
	}
	b, err := openBucket(ctx, strings.TrimSuffix(url, "/"))
	if err != nil {
		return nil, nil, err
	}
	return checkpoint.Bucket{B: b, URL: url}, func() { b.Close() }, nil
}

// clusterRunner opens the configured metadata database and checkpoint
// storage and builds the runner of their pipelines (each job with its own
// pipeline's stored UDFs), for arroyo cluster and arroyo controller. close
// releases what it opened, after the jobs have stopped.
func clusterRunner(ctx context.Context, cfg config.Config, stderr io.Writer) (runner *cluster.Runner, where string, close func(), err error) {
	log := newLogger(cfg.Logging, stderr)
	sc, where, err := storeConfig(cfg.Database)
	if err != nil {
		return nil, "", nil, err
	}
	st, err := store.Open(ctx, sc)
	if err != nil {
		return nil, "", nil, err
	}
	cps, closeCps, err := clusterCheckpoints(ctx, cfg.CheckpointURL)
	if err != nil {
		st.Close()
		return nil, "", nil, err
	}
	udfs, closeUDFs, err := newUDFHost(ctx, cfg, stderr)
	if err != nil {
		closeCps()
		st.Close()
		return nil, "", nil, err
	}
	sched := &cluster.Scheduler{}
	runner = &cluster.Runner{Store: st, Ctl: controller.New(sched, cfg), Checkpoints: cps,
		Keep: cfg.Pipeline.CheckpointsRetained, DefaultSink: "stdout", Preview: streamPreview, Log: log, UDFs: udfs, Scheduler: sched}
	return runner, where, func() { closeUDFs(); closeCps(); st.Close() }, nil
}

// serveCluster runs the API and the pipelines until ctx ends.
func serveCluster(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	runner, where, closeAll, err := clusterRunner(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	log, st, udfs := runner.Log, runner.Store, runner.UDFs
	runner.Metrics = cluster.NewMetrics(runner)
	// Resume what should run before the API takes requests (a pipeline
	// created meanwhile must not be taken for one to recover).
	resumed, rerr := runner.Recover(ctx)
	// The server's context ends after the pipelines have stopped.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	srv, err := startAPIServer(srvCtx, st, runner, cfg, cfg.API.HTTPPort, log, nil, withUDFs(udfs))
	if err != nil {
		return err
	}
	if err := srv.Metrics.Register(runner.Metrics); err != nil {
		return fmt.Errorf("admin: register the controller's metrics: %w", err)
	}
	fmt.Fprintf(stderr, "cluster: API listening on %s%s (metadata: %s, checkpoints: %s)\n", srv.APIURL, api.Prefix, where, cfg.CheckpointURL)
	if srv.AdminURL != "" {
		fmt.Fprintf(stderr, "cluster: admin listening on %s (/metrics, /debug/pprof/)\n", srv.AdminURL)
	}
	if len(resumed) > 0 {
		fmt.Fprintf(stderr, "cluster: resumed %d pipelines from their last checkpoints: %s\n", len(resumed), strings.Join(resumed, ", "))
	}
	if rerr != nil {
		fmt.Fprintf(stderr, "cluster: warning: %v\n", rerr)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "cluster: stopping pipelines at a final checkpoint")
	shutdown, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	serr := runner.Shutdown(shutdown)
	stopSrv()
	if err := srv.Wait(); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "cluster: stopped")
	return serr
}
