package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchRecords is the size of the benchmark input: Nexmark-bid-like JSON.
const benchRecords = 200_000

var (
	benchOnce sync.Once
	benchAddr string
	benchErr  error
	// counted is what the bench_count sink has seen, per job.
	countedMu sync.Mutex
	counted   = map[string]*atomic.Int64{}
)

func init() {
	connector.Register(&connector.Connector{
		Name: "bench_count",
		NewSink: func(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			countedMu.Lock()
			defer countedMu.Unlock()
			c := counted[task.JobID]
			if c == nil {
				c = new(atomic.Int64)
				counted[task.JobID] = c
			}
			return countSink{c}, nil
		},
	})
}

type countSink struct{ n *atomic.Int64 }

func (s countSink) Write(_ context.Context, b *coldata.Batch) error {
	s.n.Add(int64(b.Rows()))
	return nil
}
func (countSink) Finish(context.Context) error { return nil }

// benchCluster starts one kfake cluster for all benchmarks, with topic
// "bids" of benchRecords records over 3 partitions.
func benchCluster(b *testing.B) string {
	benchOnce.Do(func() {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bids"))
		if err != nil {
			benchErr = err
			return
		}
		benchAddr = strings.Join(c.ListenAddrs(), ",")
		cl, err := kgo.NewClient(kgo.SeedBrokers(benchAddr), kgo.ProducerBatchMaxBytes(1<<20))
		if err != nil {
			benchErr = err
			return
		}
		defer cl.Close()
		recs := make([]*kgo.Record, 0, 10_000)
		for i := range benchRecords {
			v := fmt.Sprintf(`{"auction":%d,"bidder":%d,"price":%d,"channel":"channel-%d","url":"https://www.nexmark.com/item.htm?query=1&channel_id=%d","extra":"abcdefghijklmnopqrstuvwxyz"}`,
				1000+i%997, 2000+i%1009, 100+i%10007, i%5, i%1000)
			recs = append(recs, &kgo.Record{Topic: "bids", Value: []byte(v)})
			if len(recs) == cap(recs) {
				if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
					benchErr = err
					return
				}
				recs = recs[:0]
			}
		}
		benchErr = cl.ProduceSync(context.Background(), recs...).FirstErr()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchAddr
}

// benchClientConfigs are extra client settings of the benchmark source
// (try other fetch sizes here).
var benchClientConfigs = "client.id=bench"

const benchCols = "(auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, extra TEXT)"

// BenchmarkSourceJSON reads the topic from kfake, decodes the JSON into
// columns and discards the rows (events/s over the whole pipeline,
// broker included).
func BenchmarkSourceJSON(b *testing.B) {
	addr := benchCluster(b)
	for i := 0; b.Loop(); i++ {
		job := fmt.Sprintf("src-%d", i)
		sql := "CREATE TABLE bids " + benchCols + " WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'bids', type = 'source', 'source.offset' = 'earliest', client_configs = '" + benchClientConfigs + "');\n" +
			"CREATE TABLE out " + benchCols + " WITH (connector = 'bench_count');\nINSERT INTO out SELECT * FROM bids;\n"
		runUntil(b, job, sql, func() bool { return count(job) >= benchRecords })
	}
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkKafkaToKafkaExactlyOnce copies the topic through an
// exactly-once sink (checkpoints every 500ms) until a read_committed
// consumer could see every record.
func BenchmarkKafkaToKafkaExactlyOnce(b *testing.B) {
	addr := benchCluster(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for i := 0; b.Loop(); i++ {
		out := fmt.Sprintf("copy-%d", i)
		if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, out); err != nil {
			b.Fatal(err)
		}
		sql := "CREATE TABLE bids " + benchCols + " WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'bids', type = 'source', 'source.offset' = 'earliest');\n" +
			"CREATE TABLE out " + benchCols + " WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = '" + out + "', type = 'sink', 'sink.commit_mode' = 'exactly_once');\n" +
			"INSERT INTO out SELECT * FROM bids;\n"
		runUntil(b, out, sql, func() bool {
			lo, err := adm.ListCommittedOffsets(context.Background(), out)
			if err != nil {
				return false
			}
			var n int64
			lo.Each(func(o kadm.ListedOffset) { n += o.Offset })
			return n >= benchRecords
		})
	}
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func count(job string) int64 {
	countedMu.Lock()
	defer countedMu.Unlock()
	if c := counted[job]; c != nil {
		return c.Load()
	}
	return 0
}

// runUntil runs sql as job until done reports true (polled), then
// cancels it.
func runUntil(b *testing.B, job, sql string, done func() bool) {
	b.Helper()
	prog, err := plan(b, sql)
	if err != nil {
		b.Fatal(err)
	}
	j, err := dataflow.Start(context.Background(), prog, dataflow.Options{JobID: job, CheckpointInterval: 500 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !done() {
		if time.Now().After(deadline) {
			j.Cancel()
			b.Fatalf("not done after 2 minutes: %v", j.Wait())
		}
		time.Sleep(5 * time.Millisecond)
	}
	j.Cancel()
	_ = j.Wait()
}
