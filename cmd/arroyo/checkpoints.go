package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

func newCheckpoints() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoints",
		Short: "List and inspect the checkpoints in a state directory",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list STATE-DIR",
		Short: "List every job's complete checkpoints",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return listCheckpoints(cmd.Context(), args[0], cmd.OutOrStdout())
		},
	})
	var job string
	var epoch uint64
	inspect := &cobra.Command{
		Use:   "inspect STATE-DIR",
		Short: "Show what a checkpoint holds, per operator and subtask (default: the latest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inspectCheckpoint(cmd.Context(), args[0], job, epoch, cmd.OutOrStdout())
		},
	}
	inspect.Flags().StringVar(&job, "job", "", "the job (default: the only one, or the state directory's pipeline)")
	inspect.Flags().Uint64Var(&epoch, "epoch", 0, "the checkpoint's epoch (default: the latest)")
	cmd.AddCommand(inspect)
	return cmd
}

// openExisting opens a state directory that must exist.
func openExisting(ctx context.Context, stateDir string) (*stateLoc, error) {
	if !isURL(stateDir) {
		if _, err := os.Stat(stateDir); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	return openStateLoc(ctx, stateDir)
}

// jobDirs returns the jobs with checkpoints in a state directory.
func jobDirs(ctx context.Context, loc *stateLoc) ([]string, error) {
	return loc.storage.List(ctx, "checkpoints")
}

func listCheckpoints(ctx context.Context, stateDir string, w io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	loc, err := openExisting(ctx, stateDir)
	if err != nil {
		return err
	}
	defer loc.Close()
	jobs, err := jobDirs(ctx, loc)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tEPOCH\tFINISHED\tDURATION\tBYTES\tSTOP")
	n := 0
	for _, job := range jobs {
		d := &checkpoint.Dir{Storage: loc.storage, Root: "checkpoints/" + job}
		list, err := d.List(ctx)
		if err != nil {
			return err
		}
		for _, m := range list {
			stop := ""
			if m.Stop {
				stop = "stop"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\n", job, m.Epoch, m.Finished.Format("2006-01-02 15:04:05.000"), m.Finished.Sub(m.Started).Round(100_000), m.Bytes(), stop)
			n++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(w, "no complete checkpoints in %s\n", stateDir)
	}
	return nil
}

func inspectCheckpoint(ctx context.Context, stateDir, job string, epoch uint64, w io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	loc, err := openExisting(ctx, stateDir)
	if err != nil {
		return err
	}
	defer loc.Close()
	jobs, err := jobDirs(ctx, loc)
	if err != nil {
		return err
	}
	if job == "" {
		switch len(jobs) {
		case 0:
			return fmt.Errorf("no checkpoints in %s", stateDir)
		case 1:
			job = jobs[0]
		default:
			st, err := openStateStore(ctx, loc.local)
			if err != nil {
				return err
			}
			ps, _, err := st.ListPipelines(ctx, store.Page{Limit: 1})
			st.Close()
			if err != nil || len(ps) == 0 {
				return fmt.Errorf("%s has checkpoints of several jobs (%v): name one with --job", stateDir, jobs)
			}
			job = ps[0].ID // checkpoints/<pipeline id>/
		}
	}
	d := &checkpoint.Dir{Storage: loc.storage, Root: "checkpoints/" + job}
	list, err := d.List(ctx)
	if err != nil {
		return err
	}
	var m *checkpoint.Metadata
	for _, c := range list {
		if epoch == 0 || c.Epoch == epoch {
			m = c
		}
	}
	if m == nil {
		if epoch != 0 {
			return fmt.Errorf("job %s has no complete checkpoint %d in %s", job, epoch, stateDir)
		}
		return fmt.Errorf("job %s has no complete checkpoint in %s", job, stateDir)
	}
	snap, err := d.Load(ctx, m)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "job %s, checkpoint %d of program %q (format %d, %d key groups)\n", job, m.Epoch, m.Program, m.Version, m.MaxKeyGroups)
	fmt.Fprintf(w, "taken %s in %s, %d bytes of its own and %d referenced in earlier checkpoints' files, in %s\n", m.Finished.Format("2006-01-02 15:04:05.000"), m.Finished.Sub(m.Started).Round(100_000), m.Bytes(), m.Referenced(), loc.storage.String()+"/"+m.Dir)
	for _, o := range m.Operators {
		fmt.Fprintf(w, "%s (%s), parallelism %d\n", o.Description, o.ID, o.Parallelism)
		for _, s := range o.Subtasks {
			if s.Kind == checkpoint.KindNone {
				fmt.Fprintf(w, "  subtask %d: no state\n", s.Subtask)
				continue
			}
			refs := ""
			if len(s.Refs) > 0 {
				refs = fmt.Sprintf(" + %d referenced in %s", s.RefBytes, strings.Join(s.Refs, ", "))
			}
			fmt.Fprintf(w, "  subtask %d: %s, %d bytes%s: %s\n", s.Subtask, s.File, s.Size, refs, checkpoint.Describe(snap[o.ID][s.Subtask]))
		}
	}
	return nil
}
