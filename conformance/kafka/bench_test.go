package kafka

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkRealBrokerProduce measures what the real broker itself allows
// on this machine: b.N records of 100 bytes produced to a fresh topic of 4
// partitions (idempotent producer, acks=all, franz-go's default batching),
// then consumed back. Beside the pipeline benchmarks it says how much of a
// Kafka -> Kafka figure is the broker's.
//
//	eval "$(conformance/kafka/broker.sh start)"
//	go test ./conformance/kafka -run '^$' -bench RealBroker -benchtime 200000x
func BenchmarkRealBrokerProduce(b *testing.B) {
	br, ok := FromEnv()
	if !ok {
		b.Skipf("no real Kafka broker: set %s", EnvBootstrap)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("broker-bench-%d", time.Now().UnixNano())
	admin, err := kgo.NewClient(kgo.SeedBrokers(br.Plaintext))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 4, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		b.Fatalf("creating %s: %v", topic, err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Plaintext), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := make([]byte, 100)
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	bk0, withBroker := brokerCPU()
	start := time.Now()
	var (
		mu   sync.Mutex
		perr error
	)
	for i := 0; i < b.N; i++ {
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	produced := time.Since(start)
	bk1, _ := brokerCPU()
	if perr != nil {
		b.Fatal(perr)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(br.Plaintext), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(50<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	start = time.Now()
	n := 0
	for n < b.N {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			b.Fatalf("consumed %d of %d: %v", n, b.N, err)
		}
		n += fs.NumRecords()
	}
	consumed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/produced.Seconds(), "produced/s")
	b.ReportMetric(float64(b.N)/consumed.Seconds(), "consumed/s")
	if withBroker && bk1 > bk0 {
		// What the broker allows per core: records it takes per second
		// of its own CPU.
		b.ReportMetric(float64(b.N)/(bk1-bk0).Seconds(), "produced/broker-cpu-s")
	}
}

// brokerCPU returns the CPU time (user + system) of the broker process
// ARROYO_BENCH_BROKER_PID names (broker.sh writes it to
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
	// utime and stime are fields 14 and 15, counted after the command
	// name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
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
