package spec

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/engine/connector"
)

// spec_script is a test source for scripted inputs: the rows of an inline
// input with steps between them (case.go: -- watermark: TIMESTAMP, -- idle,
// -- late). It reads on one subtask (MaxParallelism 1), so the order of
// rows and steps is the order downstream operators see, at any
// parallelism: a run of rows is one batch; a watermark step sends that
// watermark at once (connector.WatermarkOutput: the source's watermarks
// are only the scripted ones, and the final one at end of input); an idle
// step declares the source idle until its next rows; a late step only
// marks the rows after it for the runner, which checks the job's late_rows
// metric. Its split state is the index of the next line.
const scriptConnector = "spec_script"

func init() {
	connector.Register(&connector.Connector{
		Name:        scriptConnector,
		Description: "Test source of the spec runner: an inline input's rows with scripted watermarks, idleness and late rows between them.",
		Options: []connector.Option{
			{Name: "path", Type: connector.TypeString, Required: true, Description: "The scripted input ($input.NAME)."},
			{Name: "type", Type: connector.TypeEnum, Enum: []string{"source"}, Description: "Always a source."},
		},
		NeedsFormat:    true,
		DefaultFormat:  "json",
		MaxParallelism: 1,
		NewSource:      newScriptSource,
	})
}

type scriptSource struct {
	t     *connector.Table
	lines []string
	pos   int // next line
	b     *connector.Batcher
	took  bool // took over the watermarks
}

func newScriptSource(t *connector.Table, _ connector.SourceTask, splits []connector.SplitState) (connector.Source, error) {
	data, err := os.ReadFile(t.Options.String("path"))
	if err != nil {
		return nil, err
	}
	s := &scriptSource{t: t, lines: strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")}
	if len(splits) == 0 {
		s.pos = len(s.lines) // no split: nothing to read
	}
	for _, sp := range splits {
		if sp.State != nil {
			v, n := binary.Uvarint(sp.State)
			if n <= 0 || v > uint64(len(s.lines)) {
				return nil, fmt.Errorf("%s: bad split state %x", scriptConnector, sp.State)
			}
			s.pos = int(v)
		}
	}
	if s.b, err = connector.NewBatcher(t, 1<<16); err != nil {
		return nil, err
	}
	return s, nil
}

// Poll emits the rows up to the next step, then carries the step out.
func (s *scriptSource) Poll(_ context.Context, out connector.SourceOutput) error {
	wo, ok := out.(connector.WatermarkOutput)
	if !ok {
		return fmt.Errorf("%s: the runtime's output cannot take scripted watermarks", scriptConnector)
	}
	if !s.took {
		s.took = true
		if err := wo.EmitWatermark(math.MinInt64); err != nil {
			return err
		}
	}
	now := time.Now().UnixNano()
	for ; s.pos < len(s.lines); s.pos++ {
		line := strings.TrimSpace(s.lines[s.pos])
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "-- ") {
			if err := s.b.Add([]byte(line), now); err != nil {
				return fmt.Errorf("%s line %d: %w", s.t.Options.String("path"), s.pos+1, err)
			}
			continue
		}
		if b := s.b.Flush(); b != nil {
			if err := out.Emit(b); err != nil {
				return err
			}
		}
		s.pos++
		switch {
		case strings.HasPrefix(line, "-- watermark:"):
			ts, err := ParseScriptTime(strings.TrimPrefix(line, "-- watermark:"))
			if err != nil {
				return err
			}
			return wo.EmitWatermark(ts)
		case line == "-- idle":
			return wo.Idle()
		}
		return nil // -- late: a mark for the runner
	}
	if b := s.b.Flush(); b != nil {
		if err := out.Emit(b); err != nil {
			return err
		}
	}
	return io.EOF
}

func (s *scriptSource) Snapshot(uint64) ([]connector.SplitState, error) {
	return []connector.SplitState{{State: binary.AppendUvarint(nil, uint64(s.pos))}}, nil
}

// checkLateRows compares the job's late_rows metric, summed over its
// operators, with the rows c marks late, for a case with scripted inputs.
func checkLateRows(c *Case, counters map[controller.MetricKey]int64) error {
	scripted := false
	for _, in := range c.Inputs {
		scripted = scripted || in.Scripted
	}
	if !scripted {
		return nil
	}
	var late int64
	for k, v := range counters {
		if k.Name == "late_rows" {
			late += v
		}
	}
	if late != int64(c.LateRows) {
		return fmt.Errorf("the job dropped %d late rows (late_rows), the case marks %d rows late (-- late)", late, c.LateRows)
	}
	return nil
}
