package kafka

import (
	"context"
	"fmt"
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
}
