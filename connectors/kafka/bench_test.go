package kafka_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arroyogo/arroyo/connectors/avro"
	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchRecords is the size of the benchmark input: Nexmark-bid-like JSON,
// 200,000 records or ARROYO_BENCH_RECORDS (more amortize a pipeline's
// start and its last checkpoint, which a run of the exactly-once copy
// waits for).
var benchRecords = func() int {
	if n, err := strconv.Atoi(os.Getenv("ARROYO_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}()

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
// "bids" of benchRecords records over 3 partitions. With
// ARROYO_BENCH_KAFKA=host:port the benchmarks use that broker instead
// (the real one of conformance/kafka/broker.sh: eval "$(broker.sh start)",
// then ARROYO_BENCH_KAFKA=$ARROYO_CONFORMANCE_KAFKA), where a topic named
// after the process is created and filled once.
func benchCluster(b *testing.B) string {
	benchOnce.Do(func() {
		if addr := os.Getenv("ARROYO_BENCH_KAFKA"); addr != "" {
			benchAddr, benchTopic = addr, fmt.Sprintf("bids-%d-%d", os.Getpid(), time.Now().UnixNano())
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
			if err != nil {
				benchErr = err
				return
			}
			defer cl.Close()
			if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, 1, nil, benchTopic); err != nil {
				benchErr = err
				return
			}
		} else {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bids"))
			if err != nil {
				benchErr = err
				return
			}
			benchAddr = strings.Join(c.ListenAddrs(), ",")
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(benchAddr), kgo.ProducerBatchMaxBytes(1<<20))
		if err != nil {
			benchErr = err
			return
		}
		defer cl.Close()
		benchErr = produceBids(cl, benchTopic)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchAddr
}

// benchTopic is the topic the benchmarks read.
var benchTopic = "bids"

// bidRecords returns the benchmark's records for topic (JSON of ~170
// bytes).
func bidRecords(topic string) []*kgo.Record {
	recs := make([]*kgo.Record, 0, benchRecords)
	for i := range benchRecords {
		v := fmt.Sprintf(`{"auction":%d,"bidder":%d,"price":%d,"channel":"channel-%d","url":"https://www.nexmark.com/item.htm?query=1&channel_id=%d","extra":"abcdefghijklmnopqrstuvwxyz"}`,
			1000+i%997, 2000+i%1009, 100+i%10007, i%5, i%1000)
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	return recs
}

// produceBids produces benchRecords records to topic, 10,000 at a time.
func produceBids(cl *kgo.Client, topic string) error {
	recs := bidRecords(topic)
	for len(recs) > 0 {
		k := min(len(recs), 10_000)
		if err := cl.ProduceSync(context.Background(), recs[:k]...).FirstErr(); err != nil {
			return err
		}
		recs = recs[k:]
	}
	return nil
}

// cpuTime returns the CPU time (user + system) of the process so far: the
// benchmarks report events per CPU second beside events per wall second,
// as the machine is shared (wall time waits for other processes) and the
// targets are per core. Against kfake it includes the broker's work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// brokerCPU returns the CPU time (user + system) of the broker process
// ARROYO_BENCH_BROKER_PID names (the real broker: its PID is in
// $ARROYO_KAFKA_DIR/pid, ~/.cache/arroyo-kafka/run/pid by default), from
// /proc in clock ticks of 10 ms; false without one.
func brokerCPU() (time.Duration, bool) {
	pid := os.Getenv("ARROYO_BENCH_BROKER_PID")
	if pid == "" {
		return 0, false
	}
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields 14 and 15 (utime, stime), counted after the command name,
	// which is in parentheses and may hold spaces.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * 10 * time.Millisecond, true
}

// cpuMark is the CPU time of this process and of the broker (if known) at
// a benchmark's start.
type cpuMark struct{ self, broker time.Duration }

func markCPU() cpuMark {
	bk, _ := brokerCPU()
	return cpuMark{self: cpuTime(), broker: bk}
}

// reportRates reports events/s (wall) and events/cpu-s for events
// processed since the benchmark's timer started, cpu0 being cpuTime then.
func reportRates(b *testing.B, events int, cpu0 time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
}

// reportRatesBroker is reportRates, plus the broker's CPU per event
// (broker-cpu-ns/event) when ARROYO_BENCH_BROKER_PID names it: against a
// real broker, events/cpu-s is our process's alone.
func reportRatesBroker(b *testing.B, events int, m cpuMark) {
	reportRates(b, events, m.self)
	if bk, ok := brokerCPU(); ok && events > 0 {
		b.ReportMetric(float64(bk-m.broker)/float64(events), "broker-cpu-ns/event")
	}
}

// BenchmarkBrokerConsume reads the topic with a plain franz-go consumer
// and decodes nothing: what the broker and the client cost, the floor
// under BenchmarkSourceJSON.
func BenchmarkBrokerConsume(b *testing.B) {
	addr := benchCluster(b)
	cpu0 := markCPU()
	for b.Loop() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(benchTopic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(8<<20))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for n < benchRecords {
			fs := cl.PollRecords(context.Background(), 10_000)
			if err := fs.Err0(); err != nil {
				b.Fatal(err)
			}
			n += fs.NumRecords()
		}
		cl.Close()
	}
	reportRatesBroker(b, benchRecords*b.N, cpu0)
}

// BenchmarkBrokerProduce produces the records with a plain franz-go
// producer (idempotent, batches up to 1 MiB, acks all): what the broker
// accepts, the ceiling over the Kafka sinks (kafka-producer-perf-test's
// figure).
func BenchmarkBrokerProduce(b *testing.B) {
	addr := benchCluster(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	recs := bidRecords("")
	cpu0 := markCPU()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		topic := fmt.Sprintf("produce-%d-%d", os.Getpid(), i)
		if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, topic); err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			r.Topic, r.Partition, r.Offset = topic, 0, 0
		}
		b.StartTimer()
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	reportRatesBroker(b, benchRecords*b.N, cpu0)
}

// benchClientConfigs are extra client settings of the benchmark source
// (try other fetch sizes here).
var benchClientConfigs = "client.id=bench"

const benchCols = "(auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, extra TEXT)"

// BenchmarkSourceJSON reads the topic from kfake, decodes the JSON into
// columns and discards the rows (events/s over the whole pipeline,
// broker included).
func BenchmarkSourceJSON(b *testing.B) {
	benchSource(b, benchCluster(b), benchTopic, "format = 'json'")
}

// BenchmarkSourceAvro: the same bids as bare Avro datums.
func BenchmarkSourceAvro(b *testing.B) {
	addr := benchCluster(b)
	benchSource(b, addr, avroTopic(b, addr), benchAvro)
}

// benchAvro is the format of the Avro benchmarks: bare datums of the
// schema derived from the bench columns.
const benchAvro = "format = 'avro', 'avro.raw_datum' = 'true'"

func benchSource(b *testing.B, addr, topic, format string) {
	cpu0 := markCPU()
	for i := 0; b.Loop(); i++ {
		job := fmt.Sprintf("src-%s-%d", topic, i)
		sql := "CREATE TABLE bids " + benchCols + " WITH (connector = 'kafka', " + format + ", bootstrap_servers = '" + addr + "', topic = '" + topic + "', type = 'source', 'source.offset' = 'earliest', client_configs = '" + benchClientConfigs + "');\n" +
			"CREATE TABLE out " + benchCols + " WITH (connector = 'bench_count');\nINSERT INTO out SELECT * FROM bids;\n"
		runUntil(b, job, sql, 5*time.Millisecond, func() bool { return count(job) >= int64(benchRecords) })
	}
	reportRatesBroker(b, benchRecords*b.N, cpu0)
}

var (
	avroOnce sync.Once
	avroName string
)

// avroTopic returns a topic of 3 partitions holding the bids as bare Avro
// datums, made and filled once (before any benchmark's timer starts).
func avroTopic(b *testing.B, addr string) string {
	avroOnce.Do(func() {
		name := fmt.Sprintf("bids-avro-%d-%d", os.Getpid(), time.Now().UnixNano())
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchMaxBytes(1<<20))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, 1, nil, name); err != nil {
			b.Fatal(err)
		}
		_, one := avroBids(b)
		recs := make([]*kgo.Record, 0, benchRecords)
		for i := range benchRecords {
			recs = append(recs, &kgo.Record{Topic: name, Value: one[i%len(one)].Value})
		}
		for len(recs) > 0 {
			k := min(len(recs), 10_000)
			if err := cl.ProduceSync(context.Background(), recs[:k]...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[k:]
		}
		avroName = name
	})
	if avroName == "" {
		b.Fatal("no Avro topic")
	}
	return avroName
}

// BenchmarkKafkaToKafkaExactlyOnce copies the topic through an
// exactly-once sink (checkpoints every 500ms) until a read_committed
// consumer could see every record.
func BenchmarkKafkaToKafkaExactlyOnce(b *testing.B) {
	benchCopy(b, benchCluster(b), benchTopic, "format = 'json'")
}

// BenchmarkKafkaToKafkaExactlyOnceAvro: the same with bare Avro datums in
// and out.
func BenchmarkKafkaToKafkaExactlyOnceAvro(b *testing.B) {
	addr := benchCluster(b)
	benchCopy(b, addr, avroTopic(b, addr), benchAvro)
}

func benchCopy(b *testing.B, addr, topic, format string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cpu0 := markCPU()
	for i := 0; b.Loop(); i++ {
		out := fmt.Sprintf("copy-%s-%d-%d", topic, os.Getpid(), i)
		if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, out); err != nil {
			b.Fatal(err)
		}
		sql := "CREATE TABLE bids " + benchCols + " WITH (connector = 'kafka', " + format + ", bootstrap_servers = '" + addr + "', topic = '" + topic + "', type = 'source', 'source.offset' = 'earliest');\n" +
			"CREATE TABLE out " + benchCols + " WITH (connector = 'kafka', " + format + ", bootstrap_servers = '" + addr + "', topic = '" + out + "', type = 'sink', 'sink.commit_mode' = 'exactly_once');\n" +
			"INSERT INTO out SELECT * FROM bids;\n"
		// Polled every 25 ms, not 5: each poll is a ListOffsets round
		// trip, ~100 ns an event of our CPU and the broker's at 5 ms
		// with the real broker; a copy takes seconds.
		runUntil(b, out, sql, 25*time.Millisecond, func() bool {
			lo, err := adm.ListCommittedOffsets(context.Background(), out)
			if err != nil {
				return false
			}
			var n int64
			lo.Each(func(o kadm.ListedOffset) { n += o.Offset })
			return n >= int64(benchRecords)
		})
	}
	reportRatesBroker(b, benchRecords*b.N, cpu0)
}

func count(job string) int64 {
	countedMu.Lock()
	defer countedMu.Unlock()
	if c := counted[job]; c != nil {
		return c.Load()
	}
	return 0
}

// runUntil runs sql as job until done reports true (polled every
// interval), then cancels it.
func runUntil(b *testing.B, job, sql string, interval time.Duration, done func() bool) {
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
		time.Sleep(interval)
	}
	j.Cancel()
	_ = j.Wait()
}

// The decode-path benchmarks feed records fetched beforehand (the bids of
// bidRecords, as JSON, as bare Avro datums and Confluent-framed Avro)
// through the source's decode path (kafka.DecodePath: what Poll does with
// one partition's fetch), 4096 records per fetch and batch, with no broker
// and no generator in the process's CPU time: events/cpu-s is our code's
// rate per core.
const fetchRecords = 4096

// decodeTable plans a source table over the bench columns with the given
// format options and returns it.
func decodeTable(b *testing.B, format string) *connector.Table {
	return decodeTableOf(b, benchCols, format)
}

// metaCols are the bench columns and every metadata column.
const metaCols = "(auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, extra TEXT, " +
	"k TEXT METADATA FROM 'key', p INT METADATA FROM 'partition', o BIGINT METADATA FROM 'offset', " +
	"ts TIMESTAMP METADATA FROM 'timestamp', tp TEXT METADATA FROM 'topic')"

func decodeTableOf(b *testing.B, cols, format string) *connector.Table {
	return decodeQueryTable(b, cols, format, "*")
}

// decodeQueryTable plans the source table of a query reading the columns
// sel: the planner gives the source only those (the decoder skips the
// rest).
func decodeQueryTable(b *testing.B, cols, format, sel string) *connector.Table {
	b.Helper()
	sql := "CREATE TABLE bids " + cols + " WITH (connector = 'kafka', bootstrap_servers = '127.0.0.1:9', topic = 'bids', type = 'source', " + format + ");\n" +
		"CREATE TABLE out WITH (connector = 'bench_count');\nINSERT INTO out SELECT " + sel + " FROM bids;\n"
	prog, err := plan(b, sql)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range prog.Nodes {
		if n.Source != nil {
			return n.Source
		}
	}
	b.Fatal("no source in the plan")
	return nil
}

// bidBatch decodes the JSON bids into one batch (for the Avro encoders).
func bidBatch(b *testing.B) *coldata.Batch {
	b.Helper()
	d, err := kafka.NewDecodePath(decodeTable(b, "format = 'json'"))
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Decode(0, bidRecords("bids")); err != nil {
		b.Fatal(err)
	}
	return d.Flush()
}

// avroBids returns the bids as bare Avro datums of the schema derived from
// the bench columns, and that schema.
func avroBids(b *testing.B) (hamba.Schema, []*kgo.Record) {
	b.Helper()
	t := decodeTable(b, "format = 'avro', 'avro.raw_datum' = 'true'")
	w, err := avro.FromSQL(t.Schema)
	if err != nil {
		b.Fatal(err)
	}
	e, err := connector.NewEncoder(t, t.Schema)
	if err != nil {
		b.Fatal(err)
	}
	var recs []*kgo.Record
	if err := e.Encode(bidBatch(b), func(rec []byte) error {
		recs = append(recs, &kgo.Record{Topic: "bids", Value: append([]byte(nil), rec...)})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return w, recs
}

// benchDecodePath decodes recs through the decode path of table t,
// fetchRecords at a time, until b.N events.
func benchDecodePath(b *testing.B, t *connector.Table, recs []*kgo.Record) {
	d, err := kafka.NewDecodePath(t)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range recs {
		r.Offset = int64(i)
	}
	size := 0
	for _, r := range recs {
		size += len(r.Value)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	k := 0
	for n := 0; n < b.N; {
		m := min(fetchRecords, b.N-n, len(recs)-k)
		if err := d.Decode(0, recs[k:k+m]); err != nil {
			b.Fatal(err)
		}
		if bt := d.Flush(); bt == nil || bt.Rows() != m {
			b.Fatalf("batch of %v rows, want %d", bt, m)
		}
		n += m
		if k += m; k == len(recs) {
			k = 0
		}
	}
	reportRates(b, b.N, cpu0)
}

// BenchmarkDecodePathJSON: JSON bids through the source's decode path.
func BenchmarkDecodePathJSON(b *testing.B) {
	benchDecodePath(b, decodeTable(b, "format = 'json'"), bidRecords("bids"))
}

// BenchmarkDecodePathJSONMetadata: the same with the five metadata
// columns (keyed records).
func BenchmarkDecodePathJSONMetadata(b *testing.B) {
	recs := bidRecords("bids")
	for i, r := range recs {
		r.Key = []byte(strconv.Itoa(i % 1000))
	}
	benchDecodePath(b, decodeTableOf(b, metaCols, "format = 'json'"), recs)
}

// BenchmarkDecodePathAvro: bare Avro datums of the bids through the
// source's decode path.
func BenchmarkDecodePathAvro(b *testing.B) {
	_, recs := avroBids(b)
	benchDecodePath(b, decodeTable(b, "format = 'avro', 'avro.raw_datum' = 'true'"), recs)
}

// BenchmarkDecodePathAvroProjected: the same datums read by a query of
// two of the six columns.
func BenchmarkDecodePathAvroProjected(b *testing.B) {
	w, recs := avroBids(b)
	// With the writer schema given: without it the decoder derives it
	// from the columns, so the planner does not project.
	t := decodeQueryTable(b, benchCols, "format = 'avro', 'avro.raw_datum' = 'true', 'avro.schema' = '"+w.String()+"'", "auction, price")
	if n := len(t.Schema.Fields); n != 2 {
		b.Fatalf("the source reads %d columns, want 2", n)
	}
	benchDecodePath(b, t, recs)
}

// BenchmarkDecodePathAvroConfluent: Confluent-framed Avro (schema id
// looked up once in srfake, then cached) through the decode path.
func BenchmarkDecodePathAvroConfluent(b *testing.B) {
	w, recs := avroBids(b)
	reg := srfake.New()
	defer reg.Close()
	rc, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		b.Fatal(err)
	}
	ss, err := rc.CreateSchema(context.Background(), "bids-value", sr.Schema{Schema: w.String(), Type: sr.TypeAvro})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		r.Value = append([]byte{0, byte(ss.ID >> 24), byte(ss.ID >> 16), byte(ss.ID >> 8), byte(ss.ID)}, r.Value...)
	}
	benchDecodePath(b, decodeTable(b, "format = 'avro', 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '"+reg.URL()+"'"), recs)
}

// benchBid is the bids' row for hamba/avro's reflection decoder.
// (the columns are nullable: unions with null, hence pointers).
type benchBid struct {
	Auction *int64  `avro:"auction"`
	Bidder  *int64  `avro:"bidder"`
	Price   *int64  `avro:"price"`
	Channel *string `avro:"channel"`
	URL     *string `avro:"url"`
	Extra   *string `avro:"extra"`
}

// BenchmarkDecodeAvroHambaStructs: the same datums decoded by hamba/avro
// into Go structs (no Kafka path, no columns), the comparison.
func BenchmarkDecodeAvroHambaStructs(b *testing.B) {
	w, recs := avroBids(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var v benchBid
	for i := 0; i < b.N; i++ {
		if err := hamba.Unmarshal(w, recs[i%len(recs)].Value, &v); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, b.N, cpu0)
}

// BenchmarkSinkJSON writes the bids, decoded beforehand into batches of
// fetchRecords rows, through an exactly-once sink (one transaction per 50
// batches, pre-committed and committed as a checkpoint would): the sink's
// encode and produce path with no source and no generator in the process's
// CPU. Against kfake the broker's work is included; against the real broker
// (ARROYO_BENCH_KAFKA, ARROYO_BENCH_BROKER_PID) events/cpu-s is ours alone.
func BenchmarkSinkJSON(b *testing.B) {
	addr := benchCluster(b)
	d, err := kafka.NewDecodePath(decodeTable(b, "format = 'json'"))
	if err != nil {
		b.Fatal(err)
	}
	recs := bidRecords("bids")
	var batches []*coldata.Batch
	for k := 0; k < len(recs); k += fetchRecords {
		if err := d.Decode(0, recs[k:min(k+fetchRecords, len(recs))]); err != nil {
			b.Fatal(err)
		}
		batches = append(batches, d.Flush())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := markCPU()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		topic := fmt.Sprintf("sink-%d-%d", os.Getpid(), i)
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
			b.Fatal(err)
		}
		sql := "CREATE TABLE bids " + benchCols + " WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'bids', type = 'source');\n" +
			"CREATE TABLE out " + benchCols + " WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = '" + topic + "', type = 'sink', 'sink.commit_mode' = 'exactly_once');\n" +
			"INSERT INTO out SELECT * FROM bids;\n"
		prog, err := plan(b, sql)
		if err != nil {
			b.Fatal(err)
		}
		var t *connector.Table
		for _, n := range prog.Nodes {
			if n.Sink != nil {
				t = n.Sink
			}
		}
		c, _ := connector.Lookup("kafka")
		s, err := c.NewSink(t, connector.SinkTask{JobID: topic, OperatorID: "o"})
		if err != nil {
			b.Fatal(err)
		}
		tp := s.(connector.TwoPhaseSink)
		b.StartTimer()
		epoch := uint64(0)
		commit := func() {
			epoch++
			p, err := tp.PreCommit(ctx, epoch)
			if err != nil {
				b.Fatal(err)
			}
			if err := tp.Commit(ctx, epoch, [][]byte{p}); err != nil {
				b.Fatal(err)
			}
		}
		for k, bt := range batches {
			if err := s.Write(ctx, bt); err != nil {
				b.Fatal(err)
			}
			if k%50 == 49 {
				commit()
			}
		}
		commit()
		b.StopTimer()
		_ = s.(connector.Closer).Close()
		b.StartTimer()
	}
	reportRatesBroker(b, benchRecords*b.N, cpu0)
}
