package dataflow_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Tests of what the runtime takes from the program as a wire contract:
// explicit input slots, operator ids, {{ENV}} expansion on the worker.

// TestInputSlotsFromEdges: an operator is told the slot its edge declares,
// not the edge's position in Program.Edges.
func TestInputSlotsFromEdges(t *testing.T) {
	checkNoLeaks(t)
	a := &testSource{batches: [][]*coldata.Batch{rowsWithV(1)}}
	bs := &testSource{batches: [][]*coldata.Batch{rowsWithV(2)}}
	ps := newProbes()
	b := newBuilder(t)
	na := b.source("source 'a'", 1, a)
	nb := b.source("source 'b'", 1, bs)
	nj := b.probe("probe 'j'", 1)
	// b's edge comes first in Edges but feeds slot 1.
	b.p.Edges = append(b.p.Edges,
		&program.Edge{From: nb, To: nj, Input: 1, Kind: program.Forward},
		&program.Edge{From: na, To: nj, Input: 0, Kind: program.Forward})
	j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{}, ps.newOp)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, l := range ps.get("probe 'j'", 0).lines() {
		if strings.HasPrefix(l, "data ") {
			data = append(data, l)
		}
	}
	slices.Sort(data)
	if want := []string{"data 0 1", "data 1 2"}; !slices.Equal(data, want) {
		t.Errorf("probe saw %v, want %v (a on slot 0, b on slot 1)", data, want)
	}
}

// TestTaskOperatorID: operators get the node's operator id.
func TestTaskOperatorID(t *testing.T) {
	ps := newProbes()
	b := newBuilder(t)
	s := b.source("source 'a'", 2, &testSource{batches: [][]*coldata.Batch{nil, nil}})
	p := b.probe("probe 'p'", 2)
	b.p.Nodes[p].OperatorID = "calc_0123abcd"
	b.forward(s, p)
	j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{}, ps.newOp)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if got := ps.get("probe 'p'", i).task.OperatorID; got != "calc_0123abcd" {
			t.Errorf("subtask %d: TaskInfo.OperatorID %q", i, got)
		}
	}
}

// secretConn is a connector with a secret option whose constructors record
// the options they were given.
const secretConn = "test_runtime_secret"

var secretSeen struct {
	sync.Mutex
	opts []connector.Options
}

type emptySource struct{}

func (emptySource) Poll(context.Context, connector.SourceOutput) error { return io.EOF }
func (emptySource) Snapshot(uint64) ([]connector.SplitState, error)    { return nil, nil }

type discardSink struct{}

func (discardSink) Write(context.Context, *coldata.Batch) error { return nil }
func (discardSink) Finish(context.Context) error                { return nil }

func init() {
	record := func(t *connector.Table) {
		secretSeen.Lock()
		secretSeen.opts = append(secretSeen.opts, t.Options)
		secretSeen.Unlock()
	}
	connector.Register(&connector.Connector{
		Name:    secretConn,
		Options: []connector.Option{{Name: "password", Type: connector.TypeString, Secret: true}, {Name: "user", Type: connector.TypeString}},
		NewSource: func(t *connector.Table, _ connector.SourceTask, _ []connector.SplitState) (connector.Source, error) {
			record(t)
			return emptySource{}, nil
		},
		NewSink: func(t *connector.Table, _ connector.SinkTask) (connector.Sink, error) {
			record(t)
			return discardSink{}, nil
		},
	})
}

// TestStartExpandsEnv: {{VAR}} in options is expanded when the worker
// builds the source and the sink, from its environment; the program keeps
// the template; a missing variable fails Start naming the option and the
// variable, not any value.
func TestStartExpandsEnv(t *testing.T) {
	t.Setenv("TEST_RUNTIME_PW", "hunter2")
	t.Setenv("TEST_RUNTIME_USER", "bob")
	build := func(srcPW, sinkPW string) *program.Program {
		b := newBuilder(t)
		table := func(pw string) *connector.Table {
			return &connector.Table{Name: "secret", Connector: secretConn, Schema: types.NewSchema(schema.Fields[:colTS]...),
				Options: connector.Options{"password": pw, "user": "{{TEST_RUNTIME_USER}}"}, Secret: []string{"password"}}
		}
		s := b.add(&program.Node{Op: program.OpSource, Description: "source 's'", Parallelism: 1, Source: table(srcPW)})
		o := b.add(&program.Node{Op: program.OpSink, Description: "sink 'o'", Parallelism: 2, Sink: table(sinkPW)})
		b.shuffle(s, o)
		return &b.p
	}
	secretSeen.Lock()
	secretSeen.opts = nil
	secretSeen.Unlock()
	p := build("{{TEST_RUNTIME_PW}}", "x{{TEST_RUNTIME_PW}}")
	j, err := dataflow.Start(context.Background(), p, dataflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	secretSeen.Lock()
	seen := secretSeen.opts
	secretSeen.Unlock()
	var pws []string
	for _, o := range seen {
		pws = append(pws, o["password"]+"/"+o["user"])
	}
	slices.Sort(pws)
	if want := []string{"hunter2/bob", "xhunter2/bob", "xhunter2/bob"}; !slices.Equal(pws, want) {
		t.Errorf("constructors got %v, want %v", pws, want)
	}
	if got := p.Nodes[0].Source.Options["password"]; got != "{{TEST_RUNTIME_PW}}" {
		t.Errorf("Start changed the program's option to %q", got)
	}

	for _, c := range []struct{ src, sink, want string }{
		{"{{TEST_RUNTIME_NOPE}}", "y", "source 's': table 'secret': option 'password': environment variable TEST_RUNTIME_NOPE is not set"},
		{"{{TEST_RUNTIME_PW}}", "{{TEST_RUNTIME_NOPE}}", "sink 'o': table 'secret': option 'password': environment variable TEST_RUNTIME_NOPE is not set"},
	} {
		j, err := dataflow.Start(context.Background(), build(c.src, c.sink), dataflow.Options{})
		if err == nil {
			j.Wait()
			t.Fatalf("%s/%s: Start succeeded", c.src, c.sink)
		}
		if err.Error() != c.want {
			t.Errorf("Start error %q, want %q", err, c.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows a value: %v", err)
		}
	}
}

// TestStartRefusesInvalid: a program that fails Validate is an error from
// Start, before anything is built.
func TestStartRefusesInvalid(t *testing.T) {
	b := newBuilder(t)
	s := b.source("source 'a'", 1, &testSource{})
	c := b.calc("calc", 1, &program.Calc{Project: identity()})
	b.forward(s, c)
	b.p.Nodes[c].Calc, b.p.Nodes[c].Sink = nil, &connector.Table{Name: "x", Connector: sinkConnector}
	_, err := dataflow.Start(context.Background(), &b.p, dataflow.Options{})
	if err == nil || !strings.Contains(err.Error(), "invalid program: node 1 (calc): a calc node has exactly one config, its calc; it has [sink]") {
		t.Fatalf("Start = %v", err)
	}
	b.p.Nodes[c].Calc, b.p.Nodes[c].Sink = &program.Calc{Project: identity()}, nil
	b.p.Version = program.Version + 1
	if _, err = dataflow.Start(context.Background(), &b.p, dataflow.Options{}); err == nil || !strings.Contains(err.Error(), "program version") {
		t.Fatalf("Start = %v", err)
	}
}
