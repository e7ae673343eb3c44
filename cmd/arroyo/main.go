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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/dataflow"
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

// handleSignals implements the interrupt protocol of `arroyo run`: the first
// interrupt stops the sources and lets the data in flight drain into the
// sinks (a normal, successful end); the second aborts: abort cancels the
// job, whose sinks then close at a record boundary without committing (a
// single_file sink keeps its previous file, stdout has only whole lines),
// and the process exits 130 when the job has ended, or after abortGrace,
// or at a third interrupt.
func handleSignals(sigs <-chan os.Signal, job *controller.Job, stderr io.Writer, abort func()) {
	select {
	case <-sigs:
	case <-job.Done():
		return
	}
	fmt.Fprintln(stderr, "stopping: draining in-flight data (interrupt again to abort)")
	job.Stop()
	select {
	case <-sigs:
	case <-job.Done():
		return
	}
	abort()
	// Said after the cancellation, so whoever reads it knows no sink can
	// commit any more.
	fmt.Fprintln(stderr, "aborting: cancelled; waiting for the sinks to close (interrupt again to exit at once)")
	select {
	case <-job.Done():
		return // run returns errAborted: exit 130
	case <-sigs:
	case <-time.After(abortGrace):
		fmt.Fprintf(stderr, "aborting: the sinks did not close within %s\n", abortGrace)
	}
	os.Exit(130)
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
	root.AddCommand(newAPI(&configFile), newMigrate(&configFile), newCluster(&configFile))
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
		Short: "Run a SQL pipeline in this process (controller, scheduler and worker embedded)",
		Long: `Run plans the SQL file and runs it in this process. A bare SELECT writes
JSON lines to standard output. The command exits 0 when every source is
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
	meta, err := openMeta(ctx, loc.local)
	if err != nil {
		return err
	}
	defer meta.Close()
	rec, resume, err := prepareRun(ctx, meta, loc, pipelineRecord{Name: name, File: file, Query: string(text), Parallelism: f.parallelism}, f.force, stderr)
	if err != nil {
		return err
	}
	// A remote state directory gets its metadata at once (a crash before
	// the first periodic backup must still find its job), then every
	// minute and at the end.
	if err := loc.backup(ctx, meta); err != nil {
		return err
	}
	stopBackups := loc.backupEvery(meta, time.Minute, func(err error) { fmt.Fprintf(stderr, "warning: %v\n", err) })
	defer func() {
		stopBackups()
		if err := loc.backup(context.Background(), meta); err != nil {
			fmt.Fprintf(stderr, "warning: %v\n", err)
		}
	}()
	cps := loc.checkpointDir(rec.JobID, cfg)
	if resume {
		if m, err := cps.Latest(ctx); err != nil {
			return err
		} else if m != nil {
			fmt.Fprintf(stderr, "resuming %s from checkpoint %d (%s)\n", rec.JobID, m.Epoch, m.Finished.Format(time.RFC3339))
		}
	}
	bg := context.WithoutCancel(ctx)
	ctl := controller.New(&scheduler.Embedded{Options: dataflow.Options{Functions: funcs}}, cfg)
	job, err := ctl.Submit(ctx, controller.Pipeline{
		Functions:          funcs,
		Name:               name,
		File:               file,
		Query:              string(text),
		Parallelism:        f.parallelism,
		DefaultSink:        "stdout",
		JobID:              rec.JobID,
		PlannedAt:          rec.PlannedAt,
		Checkpoints:        cps,
		Resume:             resume,
		CheckpointInterval: f.checkpointInterval,
		OnState: func(s controller.State) {
			if err := meta.SetState(bg, rec.JobID, s); err != nil {
				fmt.Fprintf(stderr, "warning: record job state %s: %v\n", s, err)
			}
		},
		OnCheckpoint: func(epoch uint64, m *checkpoint.Metadata, cerr error) {
			if cerr != nil {
				fmt.Fprintf(stderr, "warning: %v (the job continues from the previous checkpoint)\n", cerr)
			}
			if err := meta.Checkpoint(bg, rec.JobID, epoch, m, cerr); err != nil {
				fmt.Fprintf(stderr, "warning: record checkpoint %d: %v\n", epoch, err)
			}
		},
		OnFailure: func(fl controller.Failure) {
			if fl.Restarted {
				fmt.Fprintf(stderr, "warning: %s subtask %d failed; restarting from the last checkpoint: %s\n", fl.Operator, fl.Subtask, fl.Message)
			}
			if err := meta.Failure(bg, rec.JobID, fl); err != nil {
				fmt.Fprintf(stderr, "warning: record failure: %v\n", err)
			}
		},
		AfterDurable: crashHook(),
	})
	if err != nil {
		return err
	}
	var aborted atomic.Bool
	go handleSignals(sigs, job, stderr, func() {
		aborted.Store(true)
		job.Cancel()
	})
	err = job.Wait()
	if aborted.Load() {
		return errAborted
	}
	counters := job.Counters()
	for _, n := range job.Program.Nodes {
		if v := controller.Sum(counters, n.ID, "bad_records_dropped"); v > 0 {
			fmt.Fprintf(stderr, "warning: %s: dropped %d bad records (bad_data = 'drop')\n", n.Description, v)
		}
	}
	return err
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
