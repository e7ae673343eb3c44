package spec

import (
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// stateFeatures names what a program keeps in checkpoints: every operator
// kind, and the kinds of state within them (window kinds, updating
// aggregates and joins, each source connector's positions).
func stateFeatures(p *program.Program) []string {
	var out []string
	for _, n := range p.Nodes {
		out = append(out, "op:"+string(n.Op))
		switch {
		case n.Source != nil:
			out = append(out, "source:"+n.Source.Connector)
		case n.Aggregate != nil && n.Aggregate.Window != nil:
			out = append(out, "aggregate:"+string(n.Aggregate.Window.Kind))
		case n.Aggregate != nil:
			out = append(out, "aggregate:updating")
		case n.Join != nil && n.Join.Windowed:
			out = append(out, "join:windowed")
		case n.Join != nil:
			out = append(out, "join:updating")
		}
	}
	return out
}

// TestEveryOperatorCheckpointed fails when an operator kind (or a kind of
// state in one) has no spec case that goes through the durable
// checkpoint-restore run: each must be checkpointed mid-stream, written to
// disk, restored at another parallelism and give the uninterrupted output.
func TestEveryOperatorCheckpointed(t *testing.T) {
	inputs, err := filepath.Abs("inputs")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("cases", "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string][]string{}
	for _, f := range files {
		c, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if checkpointRestoreAt(c) == 0 {
			continue
		}
		sql, _, err := expandCase(c, inputs, t.TempDir())
		if err != nil {
			continue
		}
		prog, err := sqlplan.Plan(c.Path, sql, sqlplan.Options{Name: "cover", Parallelism: 2})
		if err != nil {
			continue
		}
		for _, feat := range stateFeatures(prog) {
			covered[feat] = append(covered[feat], filepath.Base(f))
		}
	}
	want := []string{"aggregate:tumble", "aggregate:hop", "aggregate:session", "aggregate:updating", "join:windowed", "join:updating",
		"source:impulse", "source:nexmark", "source:single_file"}
	for _, k := range program.OpKinds {
		want = append(want, "op:"+string(k))
	}
	for _, w := range want {
		if len(covered[w]) == 0 {
			t.Errorf("%s: no spec case runs through checkpoint-restore with it", w)
		}
	}
	if testing.Verbose() {
		have := slices.Collect(maps.Keys(covered))
		sort.Strings(have)
		for _, k := range have {
			t.Logf("%s: %d cases (e.g. %s)", k, len(covered[k]), covered[k][0])
		}
	}
}
