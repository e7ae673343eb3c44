package all_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// fsOutput reads every committed file under dir (the staging directory
// .arroyo aside) as rows: JSON lines as they are, Parquet rows as their
// values joined by commas. It also returns how many files there are and
// how many staged files are left.
func fsOutput(t *testing.T, dir string) (rows []string, files, staged int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, ".arroyo/") {
			if strings.Contains(rel, "/tmp/") {
				staged++
			}
			return nil
		}
		files++
		if strings.HasSuffix(p, ".parquet") {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			r := parquet.NewReader(f)
			buf := make([]parquet.Row, 64)
			for {
				n, err := r.ReadRows(buf)
				for _, row := range buf[:n] {
					var vs []string
					for _, v := range row {
						vs = append(vs, v.String())
					}
					rows = append(rows, strings.Join(vs, ","))
				}
				if err != nil {
					break
				}
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if l != "" {
				rows = append(rows, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, files, staged
}

// TestFilesystemExactlyOnceUnderCrashes: pipelines into a filesystem sink
// (JSON lines partitioned by a column; Parquet partitioned by event time),
// rolling every few hundred rows, killed at random moments (mid-stream,
// between a pre-commit and its commit, after Finish committed the last
// files), each time restored from the last complete checkpoint with the
// whole pipeline, the sink included, at parallelism 1, 2 or 3: the
// committed files hold exactly the rows of an uninterrupted run, and no
// staged file is left.
func TestFilesystemExactlyOnceUnderCrashes(t *testing.T) {
	cases := []struct{ name, sql string }{
		{"json", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '600000', message_count = '60000', event_time_interval = '1ms');
CREATE TABLE out (counter BIGINT UNSIGNED, m BIGINT UNSIGNED) WITH (connector = 'filesystem', path = '<OUT>', format = 'json',
  rollover_rows = '700', partition_fields = 'm');
INSERT INTO out SELECT counter, counter % 3 AS m FROM i;`},
		{"parquet", `CREATE TABLE i WITH (connector = 'impulse', event_rate = '600000', message_count = '60000', event_time_interval = '1ms');
CREATE TABLE out (counter BIGINT UNSIGNED, m BIGINT UNSIGNED) WITH (connector = 'filesystem', path = '<OUT>', format = 'parquet',
  rollover_rows = '900', time_partition_pattern = '%H/%M', parquet_row_group_size = '300');
INSERT INTO out SELECT counter, counter % 3 AS m FROM i;`},
	}
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			refDir := filepath.Join(dir, "ref")
			ref := planAt(t, strings.ReplaceAll(tc.sql, "<OUT>", refDir), 2, time.Now())
			j, err := dataflow.Start(t.Context(), ref, dataflow.Options{JobID: "ref"})
			if err != nil {
				t.Fatal(err)
			}
			if err := j.Wait(); err != nil {
				t.Fatal(err)
			}
			refRows, refFiles, _ := fsOutput(t, refDir)
			want := counts(refRows)
			if len(refRows) != 60000 || refFiles < 60000/900 {
				t.Fatalf("the reference run wrote %d rows in %d files", len(refRows), refFiles)
			}
			totalKilled, totalAfter := 0, 0
			for _, seed := range seeds {
				out := filepath.Join(dir, fmt.Sprint(seed))
				killed, after := crashUntilDone(t, strings.ReplaceAll(tc.sql, "<OUT>", out), seed, 6, []int{1, 2, 3}, 100*time.Millisecond)
				totalKilled, totalAfter = totalKilled+killed, totalAfter+after
				rows, _, staged := fsOutput(t, out)
				if d := diff(counts(rows), want); d != "" {
					t.Fatalf("seed %d (%d kills, %d restores after the end): %s", seed, killed, after, d)
				}
				if staged != 0 {
					t.Errorf("seed %d: %d staged files left", seed, staged)
				}
			}
			t.Logf("%d runs killed, %d restored after they had ended", totalKilled, totalAfter)
		})
	}
}
