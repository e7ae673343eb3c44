package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// copyEnv copies topic "in" to "out" (JSON) on a kfake cluster, with
// checkpoints every 100ms.
type copyEnv struct {
	c    *kfake.Cluster
	addr string
	cl   *kgo.Client
	job  *dataflow.Job
	done chan error
}

func startCopy(t *testing.T, sinkOpts string) *copyEnv { return startCopyTimeout(t, sinkOpts, "2s") }

func startCopyTimeout(t *testing.T, sinkOpts, timeout string) *copyEnv {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	sql := "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', format = 'json', 'source.offset' = 'earliest', 'source.read_mode' = 'read_committed', 'source.partition_discovery_interval' = '100ms', connect_timeout = '" + timeout + "');\n" +
		"CREATE TABLE dst (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink', format = 'json', connect_timeout = '2s'" + sinkOpts + ");\n" +
		"INSERT INTO dst SELECT id FROM src;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j", CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &copyEnv{c: c, addr: addr, cl: cl, job: j, done: make(chan error, 1)}
	go func() { e.done <- j.Wait() }()
	t.Cleanup(func() { j.Cancel(); <-e.done })
	return e
}

func (e *copyEnv) produce(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := e.cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: []byte(`{"id": ` + strconv.Itoa(i) + `}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitOut waits until a read_committed consumer saw n records on "out",
// failing if the pipeline ends first.
func (e *copyEnv) waitOut(t *testing.T, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	got := 0
	for got < n {
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		got += fs.NumRecords()
		select {
		case err := <-e.done:
			e.done <- err
			t.Fatalf("the pipeline ended with %d of %d records on 'out': %v", got, n, err)
		default:
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d records on 'out'\n%s", got, n, e.diagnose())
		}
	}
}

// diagnose describes why records may be missing on "out": the job's
// counters, the cluster's transactions, the topic's end offsets beside its
// last stable offsets (an open transaction holds read_committed readers
// back), and the goroutines in this package's code.
func (e *copyEnv) diagnose() string {
	var b strings.Builder
	var keys []string
	for k, v := range e.job.Counters() {
		keys = append(keys, fmt.Sprintf("  %v = %d", k, v))
	}
	sort.Strings(keys)
	b.WriteString("counters:\n" + strings.Join(keys, "\n") + "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(e.cl)
	if ts, err := adm.ListTransactions(ctx, nil, nil); err != nil {
		fmt.Fprintf(&b, "list transactions: %v\n", err)
	} else if ds, err := adm.DescribeTransactions(ctx, ts.TransactionalIDs()...); err != nil {
		fmt.Fprintf(&b, "describe transactions: %v\n", err)
	} else {
		for _, d := range ds.Sorted() {
			fmt.Fprintf(&b, "  txn %s: %s producer %d epoch %d topics %v err %v\n", d.TxnID, d.State, d.ProducerID, d.ProducerEpoch, d.Topics, d.Err)
		}
	}
	for _, iso := range []int8{0, 1} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.IsolationLevel = iso
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "out"
		for p := int32(0); p < 2; p++ {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp = p, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, e.cl)
		if err != nil {
			fmt.Fprintf(&b, "list offsets (isolation %d): %v\n", iso, err)
			continue
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				fmt.Fprintf(&b, "  out/%d isolation %d: offset %d err %d\n", p.Partition, iso, p.Offset, p.ErrorCode)
			}
		}
	}
	var g bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&g, 2)
	for _, st := range strings.Split(g.String(), "\n\n") {
		if (strings.Contains(st, "connectors/kafka.") || strings.Contains(st, "engine/dataflow.")) && !strings.Contains(st, "diagnose") {
			b.WriteString(st + "\n\n")
		}
	}
	return b.String()
}

// TestTransientErrorsRetried: one retriable error injected into each of
// the paths a running pipeline uses (metadata refresh, fetch, produce,
// transaction commit) is retried: every record arrives and the pipeline
// keeps running.
func TestTransientErrorsRetried(t *testing.T) {
	// The first few metadata requests naming the topic fail: the
	// source's partition discovery asks every 100ms, so some are its.
	var hits atomic.Int32
	firstFew := func(kmsg.Request) bool { return hits.Add(1) <= 5 }
	cases := []struct {
		name  string
		sink  string
		fault kfake.Fault
	}{
		{"metadata refresh", "", kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: "in", Err: kerr.LeaderNotAvailable, Count: -1, When: firstFew}},
		{"fetch", "", kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Topic: "in", Err: kerr.NotLeaderForPartition}},
		{"produce", "", kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "out", Err: kerr.NotLeaderForPartition}},
		{"produce exactly once", ", 'sink.commit_mode' = 'exactly_once'", kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "out", Err: kerr.NotLeaderForPartition}},
		{"transaction commit", ", 'sink.commit_mode' = 'exactly_once'", kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.CoordinatorLoadInProgress, TopLevel: true}},
		{"transaction commit, coordinator moved", ", 'sink.commit_mode' = 'exactly_once'", kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.NotCoordinator, TopLevel: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := startCopy(t, c.sink)
			e.produce(t, 0, 10)
			e.waitOut(t, 10)
			h := e.c.Fault(c.fault)
			e.produce(t, 10, 20)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if err := h.Wait(ctx, 1); err != nil && h.Hits() == 0 {
				t.Fatalf("the fault never fired: %v", err)
			}
			e.produce(t, 20, 30)
			e.waitOut(t, 30)
		})
	}
}

// TestPersistentMetadataErrorReported: a metadata error that does not go
// away fails the pipeline after six connect timeouts, naming the table,
// the topic and what failed.
func TestPersistentMetadataErrorReported(t *testing.T) {
	e := startCopyTimeout(t, "", "300ms")
	e.produce(t, 0, 10)
	e.waitOut(t, 10)
	start := time.Now()
	e.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: "in", Err: kerr.LeaderNotAvailable, Count: -1})
	var err error
	select {
	case err = <-e.done:
		e.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline still runs after 30s of metadata errors")
	}
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "kafka table 'src' (topic 'in'): metadata: LEADER_NOT_AVAILABLE") || !strings.Contains(err.Error(), "retried for") {
		t.Errorf("got %v", err)
	}
	if took < 1800*time.Millisecond {
		t.Errorf("failed after %s: not retried for six connect timeouts (1.8s)", took)
	}
}

// TestCommitOutageRetried: transaction commits that fail for longer than
// the client's own retries (connect_timeout) are finished by producer id
// and epoch with backoff; once the coordinator answers again the epoch
// is committed and the pipeline goes on.
func TestCommitOutageRetried(t *testing.T) {
	e := startCopyTimeout(t, ", 'sink.commit_mode' = 'exactly_once'", "500ms")
	e.produce(t, 0, 10)
	e.waitOut(t, 10)
	h := e.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.CoordinatorLoadInProgress, TopLevel: true, Count: -1})
	e.produce(t, 10, 20)
	// franz-go alone gives up after about four attempts in 500ms.
	deadline := time.Now().Add(20 * time.Second)
	for h.Hits() < 8 {
		select {
		case err := <-e.done:
			e.done <- err
			t.Fatalf("the pipeline ended after %d failed commits: %v", h.Hits(), err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d commit attempts in 20s", h.Hits())
		}
	}
	h.Remove()
	e.produce(t, 20, 30)
	e.waitOut(t, 30)
}
