// Command arroyo is the stream processor's command-line interface.
//
//	arroyo run [flags] [FILE|-]   run a SQL pipeline in this process
//
// It chooses the bundle of connectors linked into the binary (connectors/all)
// and composes the control plane for each mode.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
)

// defaultGCPercent is the GOGC the binary runs with unless the environment
// sets one. Batches are allocated per batch and die young while the live
// heap (queued batches) stays small, so Go's default of 100 collects several
// hundred times a second; on two cores that took a third of Nexmark q1's
// throughput (see docs/RATIONALE.md).
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "arroyo",
		Short:         "A distributed, exactly-once SQL stream processor",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRun())
	return root
}

type runFlags struct {
	parallelism int
	name        string
}

func newRun() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] [FILE|-]",
		Short: "Run a SQL pipeline in this process (controller, scheduler and worker embedded)",
		Long: `Run plans the SQL file and runs it in this process. A bare SELECT writes
JSON lines to standard output. The command exits 0 when every source is
bounded and has finished; Ctrl-C stops the sources, lets the data in flight
drain into the sinks and exits 0.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			return run(cmd.Context(), f, file, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().IntVarP(&f.parallelism, "parallelism", "p", 1, "number of parallel subtasks per operator")
	cmd.Flags().StringVarP(&f.name, "name", "n", "", "pipeline name (default: the file name)")
	return cmd
}

func run(ctx context.Context, f runFlags, file string, stdin io.Reader, stderr io.Writer) error {
	if f.parallelism < 1 {
		return fmt.Errorf("--parallelism must be at least 1, got %d", f.parallelism)
	}
	var text []byte
	var err error
	if file == "-" {
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
	ctl := controller.New(&scheduler.Embedded{})
	job, err := ctl.Submit(ctx, controller.Pipeline{
		Name:        name,
		File:        file,
		Query:       string(text),
		Parallelism: f.parallelism,
		DefaultSink: "stdout",
	})
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "stopping: draining in-flight data (interrupt again to abort)")
			job.Stop()
		case <-job.Done():
			return
		}
		select {
		case <-sigs:
			os.Exit(130)
		case <-job.Done():
		}
	}()
	err = job.Wait()
	for k, v := range job.Counters() {
		if strings.HasSuffix(k, "/bad_records_dropped") && v > 0 {
			fmt.Fprintf(stderr, "warning: %s: dropped %d bad records (bad_data = 'drop')\n", strings.TrimSuffix(k, "/bad_records_dropped"), v)
		}
	}
	return err
}
