package kafka_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// keyedSink returns a kafka sink of (id BIGINT, k TEXT) keyed by k,
// writing topic on the cluster at addr.
func keyedSink(t testing.TB, addr, topic, mode, clientConfigs string) connector.Sink {
	t.Helper()
	c, _ := connector.Lookup("kafka")
	tb := &connector.Table{Name: "dst", Connector: "kafka",
		Options: connector.Options{"bootstrap_servers": addr, "topic": topic, "type": "sink", "sink.key_field": "k",
			"sink.commit_mode": mode, "client_configs": clientConfigs},
		Format: &connector.FormatConfig{Name: "json", Options: connector.Options{}},
		Schema: types.NewSchema(types.Field{Name: "id", Type: types.Int64T, Nullable: true}, types.Field{Name: "k", Type: types.StringT, Nullable: true})}
	s, err := c.NewSink(tb, connector.SinkTask{JobID: "j-" + topic, OperatorID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyedBatch returns rows ids from..from+n-1, key "k<id>" (null for ids
// divisible by 7, empty for the others divisible by 11), event time id
// milliseconds.
func keyedBatch(from, n int) *coldata.Batch {
	ids := coldata.New(types.Int64T, n).(*coldata.Vec[int64])
	keys := coldata.NewBytes(types.StringT, n, 8*n)
	ts := coldata.New(types.TimestampT, n).(*coldata.Vec[int64])
	for id := from; id < from+n; id++ {
		ids.Append(int64(id))
		switch {
		case id%7 == 0:
			keys.AppendNull()
		case id%11 == 0:
			keys.AppendString("")
		default:
			keys.AppendString(fmt.Sprintf("k%d", id))
		}
		ts.Append(int64(id) * int64(time.Millisecond))
	}
	return coldata.NewBatch([]coldata.Vector{ids, keys, ts}, n)
}

// TestSinkRecordMemoryReuse writes batches of random sizes through both
// commit modes with a producer buffer far smaller than the input, so
// Write blocks on acknowledgements and reuses record slabs all the time,
// and checks that every record arrives with its own key, value and
// timestamp, once: a slab reused before the producer was done with it
// would send another record's bytes.
func TestSinkRecordMemoryReuse(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "alo", "eos"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	for _, mode := range []string{"at_least_once", "exactly_once"} {
		topic := map[string]string{"at_least_once": "alo", "exactly_once": "eos"}[mode]
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			s := keyedSink(t, addr, topic, mode, "max.buffered.records=50,linger.ms=0")
			defer s.(connector.Closer).Close()
			rng := rand.New(rand.NewPCG(1, 2))
			n := 0
			for epoch := uint64(1); epoch <= 3; epoch++ {
				for range 40 {
					k := 1 + rng.IntN(300)
					if err := s.Write(ctx, keyedBatch(n, k)); err != nil {
						t.Fatal(err)
					}
					n += k
				}
				if tp, ok := s.(connector.TwoPhaseSink); ok {
					p, err := tp.PreCommit(ctx, epoch)
					if err != nil {
						t.Fatal(err)
					}
					if err := tp.Commit(ctx, epoch, [][]byte{p}); err != nil {
						t.Fatal(err)
					}
				} else if err := s.(connector.Flusher).Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			seen := readKeyed(t, addr, topic, n)
			if len(seen) != n {
				t.Fatalf("%d distinct records, want %d", len(seen), n)
			}
		})
	}
}

// readKeyed reads n records of topic (read_committed) and checks each
// one's key and timestamp against the id in its value; it returns the ids
// seen, failing on a duplicate.
func readKeyed(t *testing.T, addr, topic string, n int) map[int64]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	seen := map[int64]bool{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %d", len(seen), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var v struct {
				ID int64   `json:"id"`
				K  *string `json:"k"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("value %q: %v", r.Value, err)
			}
			want := fmt.Sprintf("k%d", v.ID)
			if v.ID%11 == 0 {
				want = ""
			}
			switch {
			case v.ID%7 == 0 && (r.Key != nil || v.K != nil):
				t.Errorf("id %d: key %q, value %s; want no key", v.ID, r.Key, r.Value)
			case v.ID%7 != 0 && (r.Key == nil || string(r.Key) != want || v.K == nil || *v.K != want):
				t.Errorf("id %d: key %q, value %s; want key %s", v.ID, r.Key, r.Value, want)
			}
			if r.Timestamp.UnixMilli() != v.ID {
				t.Errorf("id %d: timestamp %d ms", v.ID, r.Timestamp.UnixMilli())
			}
			if seen[v.ID] {
				t.Errorf("id %d twice", v.ID)
			}
			seen[v.ID] = true
		})
	}
	return seen
}

// TestSinkWriteAllocs: once its record slabs are in use, a Write of a
// keyed batch allocates nothing per row in our code. franz-go's own
// allocations per produced batch remain: 66 a Write of 2,000 rows here
// (118 with -race), where a slab, a value buffer and a key a row made
// 1,784.
func TestSinkWriteAllocs(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "allocs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := keyedSink(t, strings.Join(c.ListenAddrs(), ","), "allocs", "at_least_once", "")
	defer s.(connector.Closer).Close()
	const rows = 2000
	b := keyedBatch(1, rows)
	ctx := t.Context()
	write := func() {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.(connector.Flusher).Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write() // connect, make the first slab
	if a := testing.AllocsPerRun(20, write); a/rows > 0.2 {
		t.Errorf("%.0f allocations a Write of %d rows (%.2f a row), want under 0.2 a row", a, rows, a/rows)
	}
}
