package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/avro"      // registry definitions
	_ "github.com/arroyogo/arroyo/connectors/blackhole" // sinks of some definitions
	_ "github.com/arroyogo/arroyo/connectors/impulse"   // a generator source
	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"   // the formats
	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tlsConfig is how helper clients reach the TLS listener.
func (t *TLS) config() (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: t.SkipVerify, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.CAFile)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// Client returns a client of the target's plain listener, closed when the
// definition ends.
func (h *H) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	all := append([]kgo.Opt{kgo.SeedBrokers(strings.Split(h.Bootstrap, ",")...), kgo.DialTimeout(5 * time.Second), kgo.RetryTimeout(20 * time.Second)}, h.clientOpts...)
	all = append(all, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, err
	}
	h.Defer(cl.Close)
	return cl, nil
}

// Admin returns an admin client of the target.
func (h *H) Admin() (*kadm.Client, error) {
	cl, err := h.Client()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// CreateTopic creates a topic with n partitions (the target's default
// if n <= 0) and deletes it when the definition ends.
func (h *H) CreateTopic(ctx context.Context, name string, n int) error {
	if n <= 0 {
		n = h.Partitions
	}
	adm, err := h.Admin()
	if err != nil {
		return err
	}
	if _, err := adm.CreateTopic(ctx, int32(n), -1, nil, name); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	h.DeleteLater(name)
	// A real broker answers CreateTopics before its metadata lists the
	// topic with a leader for every partition: wait for that, so what a
	// definition checks next (a plan-time check, a consumer) sees it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		td, err := adm.ListTopics(ctx, name)
		if err == nil {
			if d, ok := td[name]; ok && d.Err == nil && len(d.Partitions) == n {
				ready := true
				for _, p := range d.Partitions {
					ready = ready && p.Err == nil && p.Leader >= 0
				}
				if ready {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s was created but its metadata did not list it with a leader for each of %d partitions within 30s (last error: %v)", name, n, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // polling the broker's metadata: there is no event to wait on
		}
	}
}

// StopAndExpect waits until topic out has len(want) rows (committed ones
// only, if committed) while pl runs, stops pl at a final checkpoint, and
// checks that a read_committed consumer sees exactly want there.
func (h *H) StopAndExpect(ctx context.Context, pl *Pipeline, out string, want []Row, committed bool) error {
	if err := h.WaitRows(ctx, out, len(want), committed, pl); err != nil {
		return err
	}
	if err := pl.StopAndWait(ctx); err != nil {
		return err
	}
	got, err := h.ReadCommitted(ctx, out)
	if err != nil {
		return err
	}
	return ExpectExactly(got, want)
}

// DeleteLater deletes topic when the definition ends.
func (h *H) DeleteLater(topic string) {
	h.Defer(func() {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(h.Bootstrap, ",")...), kgo.DialTimeout(2 * time.Second)}, h.clientOpts...)...)
		if err != nil {
			return
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, topic)
	})
}

// Row is what the definitions write and read: {"id": ..., "v": ...}.
type Row struct {
	ID int64  `json:"id"`
	V  string `json:"v"`
}

// Rows returns rows with ids from..to-1.
func Rows(from, to int) []Row {
	out := make([]Row, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, Row{ID: int64(i), V: fmt.Sprintf("v%d", i)})
	}
	return out
}

// Produce writes rows as JSON to topic, row i to partition i mod n (n =
// the topic's partitions), with producer cl (a plain one if nil).
func (h *H) Produce(ctx context.Context, cl *kgo.Client, topic string, partitions int, rows []Row) error {
	if cl == nil {
		var err error
		if cl, err = h.Client(kgo.RecordPartitioner(kgo.ManualPartitioner())); err != nil {
			return err
		}
	}
	recs := make([]*kgo.Record, len(rows))
	for i, r := range rows {
		v, _ := json.Marshal(r)
		recs[i] = &kgo.Record{Topic: topic, Partition: int32(int(r.ID) % partitions), Value: v}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w", topic, err)
	}
	return nil
}

// ProduceRaw writes values as they are to partition 0 of topic.
func (h *H) ProduceRaw(ctx context.Context, topic string, values ...[]byte) error {
	cl, err := h.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Partition: 0, Value: v}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

const sentinel = `{"sentinel":true}`

// ReadCommitted returns every row a read_committed consumer sees in topic.
// It appends a sentinel record to every partition first and reads until
// it has seen them all, so it returns only once every transaction before
// them is decided: a transaction left open makes it time out, which is a
// failure.
func (h *H) ReadCommitted(ctx context.Context, topic string) ([]Row, error) {
	adm, err := h.Admin()
	if err != nil {
		return nil, err
	}
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, err
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		return nil, fmt.Errorf("topic %s: not found (%v)", topic, d.Err)
	}
	n := len(d.Partitions)
	prod, err := h.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	for p := range n {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(sentinel)}).FirstErr(); err != nil {
			return nil, fmt.Errorf("produce sentinel: %w", err)
		}
	}
	parts := map[int32]kgo.Offset{}
	for p := range n {
		parts[int32(p)] = kgo.NewOffset().AtStart()
	}
	cons, err := h.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	seen := map[int32]bool{}
	var out []Row
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read %s: saw the end of %d of %d partitions before %w (a transaction left open?)", topic, len(seen), n, ctx.Err())
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		var derr error
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == sentinel {
				seen[r.Partition] = true
				return
			}
			var row Row
			if err := json.Unmarshal(r.Value, &row); err != nil && derr == nil {
				derr = fmt.Errorf("read %s: partition %d offset %d: %q: %v", topic, r.Partition, r.Offset, r.Value, err)
			}
			out = append(out, row)
		})
		if derr != nil {
			return nil, derr
		}
	}
	return out, nil
}

// ExpectExactly checks that got holds every row of want exactly once.
func ExpectExactly(got, want []Row) error {
	return compare(got, want, false)
}

// ExpectAtLeast checks that got holds every row of want, possibly more
// than once, and nothing else.
func ExpectAtLeast(got, want []Row) error {
	return compare(got, want, true)
}

func compare(got, want []Row, dupOK bool) error {
	count := map[Row]int{}
	for _, r := range got {
		count[r]++
	}
	var missing, dup, extra []string
	for _, r := range want {
		switch c := count[r]; {
		case c == 0:
			missing = append(missing, fmt.Sprint(r.ID))
		case c > 1 && !dupOK:
			dup = append(dup, fmt.Sprintf("%d (x%d)", r.ID, c))
		}
		delete(count, r)
	}
	for r := range count {
		extra = append(extra, fmt.Sprint(r.ID))
	}
	if len(missing)+len(dup)+len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return fmt.Errorf("got %d rows for %d expected: missing %s; duplicated %s; unexpected %s", len(got), len(want), short(missing), short(dup), short(extra))
}

func short(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	if len(s) > 10 {
		return strings.Join(s[:10], ", ") + fmt.Sprintf(" and %d more", len(s)-10)
	}
	return strings.Join(s, ", ")
}

// With returns the WITH options of a kafka table on topic of the target,
// plus extra ("'key' = 'value'" items).
func (h *H) With(topic, typ string, extra ...string) string {
	opts := []string{"connector = 'kafka'", "format = 'json'", fmt.Sprintf("bootstrap_servers = '%s'", h.Bootstrap),
		fmt.Sprintf("topic = '%s'", topic), fmt.Sprintf("type = '%s'", typ), "connect_timeout = '10s'"}
	opts = append(opts, h.withAuth...)
	return "WITH (" + strings.Join(append(opts, extra...), ", ") + ")"
}

// CopySQL is a pipeline that copies table in (topic from) to out (topic
// to) with the given extra options on each.
func (h *H) CopySQL(from, to string, srcOpts, sinkOpts []string) string {
	return fmt.Sprintf("CREATE TABLE src (id BIGINT, v TEXT) %s;\nCREATE TABLE dst (id BIGINT, v TEXT) %s;\nINSERT INTO dst SELECT id, v FROM src;\n",
		h.With(from, "source", srcOpts...), h.With(to, "sink", sinkOpts...))
}

// Pipeline is a running pipeline.
type Pipeline struct {
	Prog *program.Program
	Job  *dataflow.Job
	done chan error
	err  error
	over bool
}

// Plan plans sql at parallelism p.
func Plan(sql string, p int) (*program.Program, error) {
	return sqlplan.Plan("conformance.sql", sql, sqlplan.Options{Name: "conformance", Parallelism: p})
}

// Rescale returns a copy of prog with every node at parallelism p: the
// checkpointed program run at another parallelism.
func Rescale(prog *program.Program, p int) (*program.Program, error) {
	data, err := prog.Marshal()
	if err != nil {
		return nil, err
	}
	q, err := program.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	for _, n := range q.Nodes {
		n.Parallelism = p
	}
	return q, q.Validate()
}

// Start runs prog (from restore, if set) as job id; the definition's end
// cancels it.
func (h *H) Start(ctx context.Context, id string, prog *program.Program, restore dataflow.Snapshot) (*Pipeline, error) {
	return h.StartEvery(ctx, id, prog, restore, 0)
}

// StartEvery is Start with a checkpoint every interval (0: only when asked).
func (h *H) StartEvery(ctx context.Context, id string, prog *program.Program, restore dataflow.Snapshot, interval time.Duration) (*Pipeline, error) {
	j, err := dataflow.Start(context.WithoutCancel(ctx), prog, dataflow.Options{JobID: id, Restore: restore, IdleTimeout: -1, CheckpointInterval: interval})
	if err != nil {
		return nil, err
	}
	p := &Pipeline{Prog: prog, Job: j, done: make(chan error, 1)}
	go func() { p.done <- j.Wait() }()
	h.Defer(func() { j.Cancel(); p.Wait(context.Background()) })
	return p, nil
}

// Wait waits for the pipeline's end (or ctx's) and returns its error.
func (p *Pipeline) Wait(ctx context.Context) error {
	if p.over {
		return p.err
	}
	select {
	case p.err = <-p.done:
		p.over = true
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("pipeline still running: %w", ctx.Err())
	}
}

// StopAndWait stops the pipeline (a final checkpoint) and waits for it.
func (p *Pipeline) StopAndWait(ctx context.Context) error {
	p.Job.Stop()
	return p.Wait(ctx)
}

// Crash cancels the pipeline: no checkpoint, no commit, as a kill -9.
func (p *Pipeline) Crash(ctx context.Context) {
	p.Job.Cancel()
	_ = p.Wait(ctx)
}

// WaitRows polls topic (read_uncommitted, from the start) until it has at
// least n records or ctx ends.
func (h *H) WaitRows(ctx context.Context, topic string, n int, committed bool, pls ...*Pipeline) error {
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := h.Client(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	got := 0
	for got < n {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("topic %s has %d of %d records: %w", topic, got, n, ctx.Err())
		}
		got += fs.NumRecords()
		for _, p := range pls {
			select {
			case err := <-p.done:
				p.err, p.over = err, true
				return fmt.Errorf("topic %s has %d of %d records and the pipeline ended: %v", topic, got, n, err)
			default:
			}
		}
	}
	return nil
}

// WaitGroupOffsets waits until group has committed offsets for n
// partitions of topic, checkpointing p meanwhile (a source commits its
// checkpointed positions to its group when a checkpoint completes): then
// every partition's start position is fixed.
func (h *H) WaitGroupOffsets(ctx context.Context, p *Pipeline, group, topic string, n int) error {
	adm, err := h.Admin()
	if err != nil {
		return err
	}
	for {
		if _, err := p.Job.Checkpoint(ctx); err != nil && !errors.Is(err, dataflow.ErrCheckpointInProgress) {
			return fmt.Errorf("checkpoint: %w", err)
		}
		or, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			k := 0
			for range or[topic] {
				k++
			}
			if k >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("group %s never committed offsets for the %d partitions of %s: %w", group, n, topic, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// setCommitHook reaches into the kafka connector (crashes in the commit
// phase).
var setCommitHook = kafka.SetCommitHook
