package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() {
	Register(
		Definition{Name: "source_earliest", Description: "a source with source.offset = 'earliest' reads every partition from its start", Run: sourceEarliest},
		Definition{Name: "source_latest", Description: "a source with source.offset = 'latest' skips what was there before it started and reads what comes after", Run: sourceLatest},
		Definition{Name: "source_group", Description: "a source with source.offset = 'group' starts from the group's committed offsets", Run: sourceGroup},
		Definition{Name: "source_read_committed", Description: "read_committed hides aborted transactions; read_uncommitted shows them", Run: readCommitted},
		Definition{Name: "source_partitions_added", Description: "partitions added to the topic while the pipeline runs are read from their start", Run: partitionsAdded},
		Definition{Name: "sink_at_least_once", Description: "an at_least_once sink delivers every record (duplicates allowed)", Run: atLeastOnceSink},
		Definition{Name: "sink_creates_topic", Description: "a sink creates its missing topic when it starts", Run: sinkCreatesTopic},
		Definition{Name: "exactly_once_kill_midstream", Description: "an exactly_once pipeline killed mid-stream and restored from its checkpoint delivers every record once", Run: killMidStream, Timeout: 90 * time.Second},
		Definition{Name: "exactly_once_kill_midcommit", Description: "an exactly_once pipeline killed after a durable checkpoint but before its commit delivers every record once after restore", Run: killMidCommit, Timeout: 90 * time.Second},
		Definition{Name: "rescale_2_to_3", Description: "a checkpoint taken at parallelism 2 restored at 3 keeps every partition's offset (exactly once end to end)", Run: rescale, Timeout: 90 * time.Second},
		Definition{Name: "bad_data_fail", Description: "with bad_data = 'fail' an undecodable record fails the pipeline naming topic, partition and offset", Run: badDataFail},
		Definition{Name: "bad_data_drop", Description: "with bad_data = 'drop' undecodable records are counted and skipped", Run: badDataDrop},
		Definition{Name: "missing_topic", Description: "a source on a topic that does not exist fails at start with a clear error", Run: missingTopic},
		Definition{Name: "unreachable_brokers", Description: "unreachable brokers fail the start within the connect timeout, naming the brokers", Run: unreachable},
		Definition{Name: "sasl_success", Description: "SASL authentication with each mechanism the target offers reads the topic", Run: saslSuccess},
		Definition{Name: "sasl_wrong_password", Description: "a wrong SASL password fails with an authentication error that does not show the password", Run: saslWrongPassword},
		Definition{Name: "tls_success", Description: "a TLS listener with the target's CA reads the topic", Run: tlsSuccess},
	)
}

func topics(ctx context.Context, h *H, names ...string) error {
	for _, n := range names {
		if err := h.CreateTopic(ctx, n, 0); err != nil {
			return err
		}
	}
	return nil
}

func sourceEarliest(ctx context.Context, h *H) error {
	in, out := h.Name("in"), h.Name("out")
	if err := topics(ctx, h, in, out); err != nil {
		return err
	}
	want := Rows(0, 300)
	if err := h.Produce(ctx, nil, in, h.Partitions, want); err != nil {
		return err
	}
	return copyAndCheck(ctx, h, in, out, []string{"'source.offset' = 'earliest'"}, nil, want, 2, true)
}

// copyAndCheck runs the copy pipeline until out has len(want) rows, stops
// it and compares.
func copyAndCheck(ctx context.Context, h *H, in, out string, src, snk []string, want []Row, p int, exactly bool) error {
	prog, err := Plan(h.CopySQL(in, out, src, snk), p)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	if err := h.WaitRows(ctx, out, len(want), false, pl); err != nil {
		return err
	}
	if err := pl.StopAndWait(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	got, err := h.ReadCommitted(ctx, out)
	if err != nil {
		return err
	}
	if exactly {
		return ExpectExactly(got, want)
	}
	return ExpectAtLeast(got, want)
}

func sourceLatest(ctx context.Context, h *H) error {
	in, out, group := h.Name("in"), h.Name("out"), h.Name("group")
	if err := topics(ctx, h, in, out); err != nil {
		return err
	}
	if err := h.Produce(ctx, nil, in, h.Partitions, Rows(0, 100)); err != nil {
		return err
	}
	prog, err := Plan(h.CopySQL(in, out, []string{"'source.offset' = 'latest'", fmt.Sprintf("'source.group_id' = '%s'", group)}, nil), 2)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	// Once the group has offsets, the source's start positions are fixed.
	if err := h.WaitGroupOffsets(ctx, pl, group, in, h.Partitions); err != nil {
		return err
	}
	want := Rows(100, 250)
	if err := h.Produce(ctx, nil, in, h.Partitions, want); err != nil {
		return err
	}
	return h.StopAndExpect(ctx, pl, out, want, false)
}

func sourceGroup(ctx context.Context, h *H) error {
	in, out, group := h.Name("in"), h.Name("out"), h.Name("group")
	if err := topics(ctx, h, in, out); err != nil {
		return err
	}
	all := Rows(0, 90)
	if err := h.Produce(ctx, nil, in, h.Partitions, all); err != nil {
		return err
	}
	// Commit offset 10 on every partition: rows 0..10*P-1 are skipped.
	adm, err := h.Admin()
	if err != nil {
		return err
	}
	os := kadm.Offsets{}
	for p := range h.Partitions {
		os.Add(kadm.Offset{Topic: in, Partition: int32(p), At: 10, LeaderEpoch: -1})
	}
	if _, err := adm.CommitOffsets(ctx, group, os); err != nil {
		return fmt.Errorf("commit group offsets: %w", err)
	}
	want := all[10*h.Partitions:]
	return copyAndCheck(ctx, h, in, out, []string{"'source.offset' = 'group'", fmt.Sprintf("'source.group_id' = '%s'", group)}, nil, want, 1, true)
}

func readCommitted(ctx context.Context, h *H) error {
	in, out, out2 := h.Name("in"), h.Name("out"), h.Name("out-uncommitted")
	if err := topics(ctx, h, in, out, out2); err != nil {
		return err
	}
	txn, err := h.Client(kgo.TransactionalID(h.Name("txn")), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	batch := func(rows []Row, commit bool) error {
		if err := txn.BeginTransaction(); err != nil {
			return err
		}
		if err := h.Produce(ctx, txn, in, h.Partitions, rows); err != nil {
			return err
		}
		return txn.EndTransaction(ctx, kgo.TransactionEndTry(commit))
	}
	if err := batch(Rows(0, 50), true); err != nil {
		return err
	}
	if err := batch(Rows(50, 80), false); err != nil {
		return err
	}
	if err := batch(Rows(80, 120), true); err != nil {
		return err
	}
	want := append(Rows(0, 50), Rows(80, 120)...)
	if err := copyAndCheck(ctx, h, in, out, []string{"'source.offset' = 'earliest'", "'source.read_mode' = 'read_committed'"}, nil, want, 1, true); err != nil {
		return fmt.Errorf("read_committed: %w", err)
	}
	if err := copyAndCheck(ctx, h, in, out2, []string{"'source.offset' = 'earliest'", "'source.read_mode' = 'read_uncommitted'"}, nil, Rows(0, 120), 1, true); err != nil {
		return fmt.Errorf("read_uncommitted: %w", err)
	}
	return nil
}

func partitionsAdded(ctx context.Context, h *H) error {
	in, out, group := h.Name("in"), h.Name("out"), h.Name("group")
	if err := h.CreateTopic(ctx, in, 2); err != nil {
		return err
	}
	if err := h.CreateTopic(ctx, out, 0); err != nil {
		return err
	}
	first := Rows(0, 40)
	if err := h.Produce(ctx, nil, in, 2, first); err != nil {
		return err
	}
	prog, err := Plan(h.CopySQL(in, out, []string{"'source.offset' = 'earliest'", "'source.partition_discovery_interval' = '200ms'",
		fmt.Sprintf("'source.group_id' = '%s'", group)}, nil), 2)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	if err := h.WaitRows(ctx, out, len(first), false); err != nil {
		return err
	}
	adm, err := h.Admin()
	if err != nil {
		return err
	}
	if _, err := adm.CreatePartitions(ctx, 2, in); err != nil {
		return fmt.Errorf("add partitions: %w", err)
	}
	// Rows for all four partitions: the new ones get ids 2 and 3 mod 4.
	more := Rows(40, 80)
	if err := h.Produce(ctx, nil, in, 4, more); err != nil {
		return err
	}
	want := append(first, more...)
	return h.StopAndExpect(ctx, pl, out, want, false)
}

func atLeastOnceSink(ctx context.Context, h *H) error {
	in, out := h.Name("in"), h.Name("out")
	if err := topics(ctx, h, in, out); err != nil {
		return err
	}
	want := Rows(0, 500)
	if err := h.Produce(ctx, nil, in, h.Partitions, want); err != nil {
		return err
	}
	return copyAndCheck(ctx, h, in, out, []string{"'source.offset' = 'earliest'"}, []string{"'sink.commit_mode' = 'at_least_once'", "'sink.key_field' = 'v'"}, want, 2, false)
}

func sinkCreatesTopic(ctx context.Context, h *H) error {
	in, out := h.Name("in"), h.Name("created")
	if err := topics(ctx, h, in); err != nil {
		return err
	}
	h.DeleteLater(out)
	want := Rows(0, 20)
	if err := h.Produce(ctx, nil, in, h.Partitions, want); err != nil {
		return err
	}
	return copyAndCheck(ctx, h, in, out, []string{"'source.offset' = 'earliest'"}, nil, want, 1, true)
}

var exactlyOnce = []string{"'sink.commit_mode' = 'exactly_once'", "'sink.transaction_timeout' = '60s'"}

// crashAndRestore runs the exactly-once copy at parallelism p1, takes a
// checkpoint mid-stream, crashes it (how: crash), restores the checkpoint
// at p2 and checks the output once every row is through.
func crashAndRestore(ctx context.Context, h *H, p1, p2 int, crash func(ctx context.Context, pl *Pipeline, table string) (dataflow.Snapshot, error)) error {
	in, out := h.Name("in"), h.Name("out")
	if err := h.CreateTopic(ctx, in, 6); err != nil {
		return err
	}
	if err := h.CreateTopic(ctx, out, 0); err != nil {
		return err
	}
	first := Rows(0, 600)
	if err := h.Produce(ctx, nil, in, 6, first); err != nil {
		return err
	}
	prog, err := Plan(h.CopySQL(in, out, []string{"'source.offset' = 'earliest'", "'source.read_mode' = 'read_committed'"}, exactlyOnce), p1)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	// Let some of it through uncommitted first, so the checkpoint is
	// mid-stream.
	if err := h.WaitRows(ctx, out, 100, false); err != nil {
		return err
	}
	snap, err := crash(ctx, pl, "dst")
	if err != nil {
		return err
	}
	more := Rows(600, 900)
	if err := h.Produce(ctx, nil, in, 6, more); err != nil {
		return err
	}
	if p2 != p1 {
		if prog, err = Rescale(prog, p2); err != nil {
			return err
		}
	}
	// Exactly-once output becomes visible at checkpoints.
	pl2, err := h.StartEvery(ctx, h.Name("job"), prog, snap, 300*time.Millisecond)
	if err != nil {
		return err
	}
	want := append(first, more...)
	if err := h.WaitRows(ctx, out, len(want), true, pl2); err != nil {
		return err
	}
	if err := pl2.StopAndWait(ctx); err != nil {
		return fmt.Errorf("restored pipeline: %w", err)
	}
	got, err := h.ReadCommitted(ctx, out)
	if err != nil {
		return err
	}
	return ExpectExactly(got, want)
}

// checkpointThenCancel takes a checkpoint and crashes the pipeline before
// anything else: what it wrote after the checkpoint is not committed.
func checkpointThenCancel(ctx context.Context, pl *Pipeline, _ string) (dataflow.Snapshot, error) {
	_, snap, err := pl.Job.CheckpointSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	pl.Crash(ctx)
	return snap, nil
}

func killMidStream(ctx context.Context, h *H) error {
	return crashAndRestore(ctx, h, 2, 2, checkpointThenCancel)
}

func rescale(ctx context.Context, h *H) error {
	return crashAndRestore(ctx, h, 2, 3, checkpointThenCancel)
}

// errCrash is the simulated crash in the commit phase.
var errCrash = errors.New("simulated crash between a durable checkpoint and its commit")

func killMidCommit(ctx context.Context, h *H) error {
	return crashAndRestore(ctx, h, 2, 2, func(ctx context.Context, pl *Pipeline, table string) (dataflow.Snapshot, error) {
		var armed atomic.Bool
		armed.Store(true)
		setCommitHook(func(t string, epoch uint64) error {
			if t == table && armed.Load() {
				return errCrash
			}
			return nil
		})
		defer setCommitHook(nil)
		_, snap, err := pl.Job.CheckpointSnapshot(ctx)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		// The checkpoint is complete; its commit fails the job.
		err = pl.Wait(ctx)
		armed.Store(false)
		if !errors.Is(err, errCrash) {
			return nil, fmt.Errorf("the pipeline should have failed at its commit, got %v", err)
		}
		return snap, nil
	})
}

func badData(ctx context.Context, h *H, mode string) (*Pipeline, string, error) {
	in, out := h.Name("in"), h.Name("out")
	if err := h.CreateTopic(ctx, in, 1); err != nil {
		return nil, "", err
	}
	if err := h.CreateTopic(ctx, out, 1); err != nil {
		return nil, "", err
	}
	if err := h.ProduceRaw(ctx, in, []byte(`{"id": 1, "v": "a"}`), []byte(`{"id": not json`), []byte(`{"id": 3, "v": "c"}`)); err != nil {
		return nil, "", err
	}
	prog, err := Plan(h.CopySQL(in, out, []string{"'source.offset' = 'earliest'", "bad_data = '" + mode + "'"}, nil), 1)
	if err != nil {
		return nil, "", err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	return pl, in, err
}

func badDataFail(ctx context.Context, h *H) error {
	pl, in, err := badData(ctx, h, "fail")
	if err != nil {
		return err
	}
	err = pl.Wait(ctx)
	if err == nil {
		return errors.New("the pipeline should have failed")
	}
	for _, want := range []string{"topic '" + in + "'", "partition 0", "offset 1"} {
		if !strings.Contains(err.Error(), want) {
			return fmt.Errorf("error %q does not say %q", err, want)
		}
	}
	return nil
}

func badDataDrop(ctx context.Context, h *H) error {
	pl, _, err := badData(ctx, h, "drop")
	if err != nil {
		return err
	}
	out := h.Name("out")
	if err := h.WaitRows(ctx, out, 2, false); err != nil {
		return err
	}
	if err := pl.StopAndWait(ctx); err != nil {
		return err
	}
	got, err := h.ReadCommitted(ctx, out)
	if err != nil {
		return err
	}
	if err := ExpectExactly(got, []Row{{ID: 1, V: "a"}, {ID: 3, V: "c"}}); err != nil {
		return err
	}
	var dropped int64
	for k, v := range pl.Job.Counters() {
		if k.Name == connector.CounterBadData {
			dropped += v
		}
	}
	if dropped != 1 {
		return fmt.Errorf("%s = %d, want 1", connector.CounterBadData, dropped)
	}
	return nil
}

// startFails plans sql and expects the pipeline to fail within bound.
func startFails(ctx context.Context, h *H, sql string, bound time.Duration) (error, time.Duration) {
	prog, err := Plan(sql, 1)
	if err != nil {
		return err, 0
	}
	start := time.Now()
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err, time.Since(start)
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	err = pl.Wait(wctx)
	if err == nil {
		return errors.New("pipeline ended without an error"), time.Since(start)
	}
	return err, time.Since(start)
}

func missingTopic(ctx context.Context, h *H) error {
	missing, out := h.Name("missing"), h.Name("out")
	err, _ := startFails(ctx, h, h.CopySQL(missing, out, nil, nil), 30*time.Second)
	if !strings.Contains(err.Error(), "topic does not exist") || !strings.Contains(err.Error(), missing) {
		return fmt.Errorf("error %q does not say that topic %s does not exist", err, missing)
	}
	return nil
}

func unreachable(ctx context.Context, h *H) error {
	sql := "CREATE TABLE src (id BIGINT, v TEXT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '127.0.0.1:1', topic = 't', type = 'source', connect_timeout = '2s');\n" +
		"CREATE TABLE dst (id BIGINT, v TEXT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id, v FROM src;\n"
	err, took := startFails(ctx, h, sql, 20*time.Second)
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		return fmt.Errorf("error %q does not name the brokers", err)
	}
	if took > 15*time.Second {
		return fmt.Errorf("failing took %s with connect_timeout = 2s", took)
	}
	return nil
}

func saslSuccess(ctx context.Context, h *H) error {
	if h.SASL == nil {
		return Skip("the target has no SASL listener")
	}
	for _, mech := range h.SASL.Mechanisms {
		sh, err := h.OnSASL(mech, "")
		if err != nil {
			return err
		}
		in, out := sh.Name("in-"+strings.ToLower(mech)), sh.Name("out-"+strings.ToLower(mech))
		if err := topics(ctx, sh, in, out); err != nil {
			return fmt.Errorf("%s: %w", mech, err)
		}
		want := Rows(0, 30)
		if err := sh.Produce(ctx, nil, in, sh.Partitions, want); err != nil {
			return fmt.Errorf("%s: %w", mech, err)
		}
		if err := copyAndCheck(ctx, sh, in, out, []string{"'source.offset' = 'earliest'"}, nil, want, 1, true); err != nil {
			return fmt.Errorf("%s: %w", mech, err)
		}
	}
	return nil
}

func saslWrongPassword(ctx context.Context, h *H) error {
	if h.SASL == nil {
		return Skip("the target has no SASL listener")
	}
	const wrong = "definitely-wrong-password-0451"
	for _, mech := range h.SASL.Mechanisms {
		sh, err := h.OnSASL(mech, wrong)
		if err != nil {
			return err
		}
		err, _ = startFails(ctx, sh, sh.CopySQL(sh.Name("in"), sh.Name("out"), nil, nil), 30*time.Second)
		switch msg := err.Error(); {
		case strings.Contains(msg, wrong):
			return fmt.Errorf("%s: the error shows the password: %q", mech, msg)
		case !strings.Contains(msg, "authentication"):
			return fmt.Errorf("%s: error %q does not say authentication failed", mech, msg)
		}
	}
	return nil
}

func tlsSuccess(ctx context.Context, h *H) error {
	if h.TLS == nil {
		return Skip("the target has no TLS listener")
	}
	th, err := h.OnTLS()
	if err != nil {
		return err
	}
	in, out := th.Name("in"), th.Name("out")
	if err := topics(ctx, th, in, out); err != nil {
		return err
	}
	want := Rows(0, 30)
	if err := th.Produce(ctx, nil, in, th.Partitions, want); err != nil {
		return err
	}
	return copyAndCheck(ctx, th, in, out, []string{"'source.offset' = 'earliest'"}, nil, want, 1, true)
}
