package kafka_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// windowEnv: topic "in" with two partitions, a source reading it whose
// event time is the records' timestamps, and a 10-second tumbling count
// written to topic "out".
type windowEnv struct {
	addr string
	cl   *kgo.Client
	job  *dataflow.Job
}

func startWindow(t *testing.T, idle string) *windowEnv {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in"), kfake.SeedTopics(1, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	sql := "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', format = 'json', 'source.offset' = 'earliest', 'source.idle_timeout' = '" + idle + "');\n" +
		"CREATE TABLE out (n BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink', format = 'json');\n" +
		"INSERT INTO out SELECT count(*) AS n FROM src GROUP BY tumble(interval '10 seconds');\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j", WatermarkInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Cancel(); _ = j.Wait() })
	return &windowEnv{addr: addr, cl: cl, job: j}
}

// produce writes records with ids and event times (seconds) to partition p.
func (e *windowEnv) produce(t *testing.T, p int32, idAndSec ...int64) {
	t.Helper()
	for k := 0; k < len(idAndSec); k += 2 {
		r := &kgo.Record{Topic: "in", Partition: p, Value: []byte(`{"id": ` + strconv.FormatInt(idAndSec[k], 10) + `}`), Timestamp: time.Unix(idAndSec[k+1], 0)}
		if err := e.cl.ProduceSync(t.Context(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// sourceRows polls until the source has emitted n rows.
func (e *windowEnv) sourceRows(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got int64
		for k, v := range e.job.Counters() {
			if k.Name == "rows_out" && strings.Contains(k.Operator, "src") {
				got += v
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the source emitted %d rows, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *windowEnv) firstOut(t *testing.T) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no window result on 'out'")
		}
		if recs := fs.Records(); len(recs) > 0 {
			return string(recs[0].Value)
		}
	}
}

// TestPartitionWatermarks: with one partition far ahead (15s) and the
// other without data yet, the window [0s, 10s) stays open; once the slow
// partition delivers a row inside it (5s) and passes it (30s), the window
// closes with both partitions' rows. A watermark following the largest
// event time of the subtask would have closed it with one row, and
// dropped the slow partition's as late.
func TestPartitionWatermarks(t *testing.T) {
	e := startWindow(t, "1h")
	e.produce(t, 0, 1, 1, 2, 15)
	e.sourceRows(t, 2)
	// Each checkpoint's barrier follows the source's watermark ticks (one
	// a millisecond) and is acknowledged by the sink after it flushed: a
	// window closed by the fast partition alone would be on 'out' now.
	for range 3 {
		if _, err := e.job.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	end, err := kadm.NewClient(e.cl).ListEndOffsets(t.Context(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := end.Lookup("out", 0); o.Offset != 0 {
		t.Fatalf("a window closed before the slow partition passed it: %d records on 'out'", o.Offset)
	}
	e.produce(t, 1, 3, 5, 4, 30)
	if got := e.firstOut(t); got != `{"n":2}` {
		t.Errorf("window [0s, 10s): %s, want {\"n\":2}", got)
	}
}

// TestIdlePartitionReleasesWatermark: a partition without records stops
// holding the watermark back after source.idle_timeout.
func TestIdlePartitionReleasesWatermark(t *testing.T) {
	e := startWindow(t, "200ms")
	e.produce(t, 0, 1, 1, 2, 15)
	if got := e.firstOut(t); got != `{"n":1}` {
		t.Errorf("window [0s, 10s): %s, want {\"n\":1}", got)
	}
}
