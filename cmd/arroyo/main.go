// Command arroyo is the stream processor's command-line interface.
//
//	arroyo run [flags] [FILE|-]   run a SQL pipeline in this process
//
// It chooses the bundle of connectors linked into the binary (connectors/all)
// and composes the control plane for each mode.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		if errors.Is(err, errAborted) {
			os.Exit(130) // 128 + SIGINT, as a shell reports an interrupted command
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// errAborted is returned by run when a second interrupt aborted the job.
var errAborted = errors.New("aborted")

// abortGrace bounds how long an aborted job may take to close its sinks
// before the process exits anyway.
const abortGrace = 5 * time.Second

// follow follows the job jobID of pipeline plID through the API until it
// ends, and implements the interrupt protocol of `arroyo run`: the first
// interrupt stops the pipeline at a final checkpoint (PATCH stop =
// checkpoint: the sources stop and the data in flight drains into the
// sinks, a normal, successful end); the second aborts it (PATCH stop =
// immediate: the job is cancelled, its sinks close at a record boundary
// without committing: a single_file sink keeps its previous file, stdout
// has only whole lines), and the process exits 130 when the job has
// ended, or after abortGrace, or at a third interrupt. It returns the
// job's last state and whether it was aborted.
func follow(ctx context.Context, c *client.Client, plID, jobID string, sigs <-chan os.Signal, stderr io.Writer) (*api.Job, bool, error) {
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	interrupts := 0
	var grace <-chan time.Time
	for {
		select {
		case <-sigs:
			interrupts++
			switch interrupts {
			case 1:
				fmt.Fprintln(stderr, "stopping: draining in-flight data (interrupt again to abort)")
				if err := stopPipeline(ctx, c, plID, store.StopCheckpoint); err != nil {
					return nil, false, err
				}
			case 2:
				if err := stopPipeline(ctx, c, plID, store.StopImmediate); err != nil {
					return nil, true, err
				}
				// Said after the cancellation, so whoever reads it knows
				// no sink can commit any more.
				fmt.Fprintln(stderr, "aborting: cancelled; waiting for the sinks to close (interrupt again to exit at once)")
				grace = time.After(abortGrace)
			default:
				os.Exit(130)
			}
		case <-grace:
			fmt.Fprintf(stderr, "aborting: the sinks did not close within %s\n", abortGrace)
			os.Exit(130)
		case <-tick.C:
			jobs, err := c.PipelineJobs(ctx, plID)
			if err != nil {
				return nil, interrupts > 1, err
			}
			for i := range jobs {
				if jobs[i].ID == jobID && store.Terminal(jobs[i].State) {
					return &jobs[i], interrupts > 1, nil
				}
			}
		}
	}
}

// followInterval is how often `arroyo run` polls its job's state.
const followInterval = 20 * time.Millisecond

func stopPipeline(ctx context.Context, c *client.Client, plID, mode string) error {
	_, err := c.PatchPipeline(ctx, plID, api.PipelinePatch{Stop: &mode})
	return err
}

// backupRunner backs up a bucket state directory's state.sqlite before a
// job starts, so that a crash right after the start still finds the
// pipeline the API has just stored (a resume then continues it rather
// than creating another with the same query).
type backupRunner struct {
	*cluster.Runner
	loc *stateLoc
}

func (b backupRunner) Start(ctx context.Context, p *store.Pipeline, prog *program.Program) (string, error) {
	if err := b.loc.backup(ctx, b.Store); err != nil {
		return "", err
	}
	return b.Runner.Start(ctx, p, prog)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "arroyo",
		Short:         "A distributed, exactly-once SQL stream processor",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("arroyo {{.Version}}\n")
	var configFile string
	root.PersistentFlags().StringVar(&configFile, "config", "", "TOML configuration file (keys section.key; ARROYO__SECTION__KEY environment variables override it)")
	root.AddCommand(newRun(&configFile))
	root.AddCommand(newCheckpoints())
	root.AddCommand(newAPI(&configFile), newMigrate(&configFile), newCluster(&configFile), newController(&configFile))
	root.AddCommand(newConformance())
	root.AddCommand(newUDF(&configFile)) // udf.go
	return root
}

type runFlags struct {
	parallelism int
	name        string
	stateDir    string
	force       bool
	// checkpointInterval overrides pipeline.checkpoint_interval (0: no).
	checkpointInterval time.Duration
	// configFile is the --config path ("" = none).
	configFile string
	// udfs are the --udf modules (after run.udfs).
	udfs []string
}

func newRun(configFile *string) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] [FILE|-]",
		Short: "Run a SQL pipeline in this process (API, controller, scheduler and worker embedded)",
		Long: `Run plans the SQL file and runs it on a local cluster in this process:
the metadata in state.sqlite of the state directory, the controller with an
embedded scheduler, and the REST API on a free loopback port (printed as
"API listening on ..."), through which the pipeline is submitted, resumed,
stopped and followed. A bare SELECT writes JSON lines to standard output. The command exits 0 when every source is
bounded and has finished; Ctrl-C stops the sources, lets the data in flight
drain into the sinks and exits 0. A second Ctrl-C aborts: nothing more is
committed (a single_file sink keeps its previous file, standard output ends
at a whole line) and the command exits 130.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			f.configFile = *configFile
			return run(cmd.Context(), f, file, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().IntVarP(&f.parallelism, "parallelism", "p", 1, "number of parallel subtasks per operator")
	cmd.Flags().StringVarP(&f.name, "name", "n", "", "pipeline name (default: the file name)")
	cmd.Flags().StringVarP(&f.stateDir, "state-dir", "s", "", "state directory: metadata and checkpoints; running again with the same one resumes from the last checkpoint (default: a new directory under checkpoint_url)")
	cmd.Flags().BoolVarP(&f.force, "force", "f", false, "run even if the state directory holds another (or a finished) pipeline, discarding its state")
	cmd.Flags().DurationVar(&f.checkpointInterval, "checkpoint-interval", 0, "how often to checkpoint (default pipeline.checkpoint_interval, 10s)")
	cmd.Flags().StringArrayVar(&f.udfs, "udf", nil, "a WebAssembly UDF module (.wasm) whose functions the SQL may call; repeatable (also run.udfs)")
	return cmd
}

func run(ctx context.Context, f runFlags, file string, stdin io.Reader, stderr io.Writer) error {
	if f.parallelism < 1 {
		return fmt.Errorf("--parallelism must be at least 1, got %d", f.parallelism)
	}
	cfg, err := config.Load(f.configFile, os.Environ())
	if err != nil {
		return err
	}
	// The confluent connector's [connection_profiles.NAME].
	if err := kafka.SetConnectionProfiles(cfg.ConnectionProfiles); err != nil {
		return err
	}
	gcSettingsFor(cfg.Worker, os.Getenv, config.MachineMemory).apply()
	// Before reading a query from a terminal: the user should not type
	// one only to be told the flags are wrong. Submit checks again.
	if err := controller.CheckParallelism(f.parallelism, cfg); err != nil {
		return fmt.Errorf("--%w", err)
	}
	var text []byte
	if file == "-" {
		if isTerminal(stdin) {
			fmt.Fprintln(stderr, "reading SQL from standard input (Ctrl-D to end)")
		}
		text, err = io.ReadAll(stdin)
		file = "<stdin>"
	} else {
		text, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("read query: %w", err)
	}
	name := f.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// ctx bounds the submission only; the second interrupt aborts the job
	// with job.Cancel.
	// Interrupts are caught before the job starts: its first output could
	// otherwise reach a user (or a test) who presses Ctrl-C before the
	// handler exists, and the default action would kill the process with a
	// sink half-written. One that arrives while planning stops the job as
	// soon as it runs.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if f.checkpointInterval < 0 {
		return fmt.Errorf("--checkpoint-interval must be positive, got %s", f.checkpointInterval)
	}
	funcs, closeUDFs, err := loadUDFs(ctx, cfg, append(cfg.Run.UDFs[:len(cfg.Run.UDFs):len(cfg.Run.UDFs)], f.udfs...), stderr) // udf.go
	if err != nil {
		return err
	}
	defer closeUDFs()
	// A query that does not plan creates no state directory.
	if err := controller.Validate(controller.Pipeline{Name: name, File: file, Query: string(text), Parallelism: f.parallelism, DefaultSink: "stdout", Functions: funcs}, cfg); err != nil {
		return err
	}
	loc, err := openStateLoc(ctx, resolveStateDir(f.stateDir, cfg, name, stderr))
	if err != nil {
		return err
	}
	defer loc.Close()
	st, err := openStateStore(ctx, loc.local)
	if err != nil {
		return err
	}
	defer st.Close()
	// A remote state directory's metadata is backed up at once, before
	// each job starts (backupRunner), every minute and at the end.
	if err := loc.backup(ctx, st); err != nil {
		return err
	}
	stopBackups := loc.backupEvery(st, time.Minute, func(err error) { fmt.Fprintf(stderr, "warning: %v\n", err) })
	defer func() {
		stopBackups()
		if err := loc.backup(context.Background(), st); err != nil {
			fmt.Fprintf(stderr, "warning: %v\n", err)
		}
	}()
	// The local cluster of seed 003: the cluster runner (controller and
	// embedded scheduler) on state.sqlite, and the API on a free loopback
	// port; the pipeline is submitted and followed through the API.
	log := newLogger(config.Logging{Format: cfg.Logging.Format, Level: "warn"}, stderr)
	runner := &cluster.Runner{
		Store:        st,
		Ctl:          controller.New(&scheduler.Embedded{Options: dataflow.Options{Functions: funcs}}, cfg),
		Checkpoints:  loc.storage,
		Keep:         cfg.Pipeline.CheckpointsRetained,
		DefaultSink:  "stdout",
		Preview:      streamPreview,
		Log:          log,
		Customize:    func(p *controller.Pipeline) { p.Functions = funcs },
		AfterDurable: crashHook(),
	}
	// Jobs a killed run left "running" are not: their pipeline resumes.
	if err := runner.FailOrphans(ctx); err != nil {
		return err
	}
	srvCfg := cfg
	srvCfg.Admin.HTTPPort = -1 // no admin endpoint: several runs at once must not collide
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	// The API's errors reach this process through the client: it logs
	// none of them again.
	srv, err := startAPIServer(srvCtx, st, backupRunner{runner, loc}, srvCfg, cfg.API.RunHTTPPort, slog.New(slog.DiscardHandler), funcs)
	if err != nil {
		stopSrv()
		return err
	}
	defer func() {
		stopSrv()
		_ = srv.Wait()
	}()
	fmt.Fprintf(stderr, "API listening on %s\n", srv.APIURL)
	token := ""
	if cfg.API.AuthMode == "static" {
		token = cfg.API.AuthToken
	}
	c := client.New(srv.APIURL, token)
	p, jobID, err := submit(ctx, c, loc, cfg, runRequest{Name: name, File: file, Query: string(text), Parallelism: f.parallelism,
		CheckpointInterval: f.checkpointInterval, Force: f.force}, stderr)
	var ce *client.Error
	if errors.As(err, &ce) {
		return errors.New(ce.Message) // the API's words, without the status
	}
	if err != nil {
		return err
	}
	// The job's lifetime is its own from here: ctx (a caller's) bounds
	// the requests only through the interrupt protocol.
	job, aborted, err := follow(context.WithoutCancel(ctx), c, p.ID, jobID, sigs, stderr)
	if aborted {
		return errAborted
	}
	if err != nil {
		return err
	}
	if cj := runner.Job(jobID); cj != nil {
		counters := cj.Counters()
		for _, n := range cj.Program.Nodes {
			if v := controller.Sum(counters, n.ID, "bad_records_dropped"); v > 0 {
				fmt.Fprintf(stderr, "warning: %s: dropped %d bad records (bad_data = 'drop')\n", n.Description, v)
			}
		}
	}
	if job.State == store.JobFailed {
		msg := "the job failed"
		if job.FailureMessage != nil {
			msg = *job.FailureMessage
		}
		return errors.New(msg)
	}
	return nil
}

// isTerminal reports whether r is a character device, such as a terminal
// (or /dev/null, where the notice is harmless), rather than a pipe or file.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
