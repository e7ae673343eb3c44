package spec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/connectors/nexmark"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/sqlplan"
)

// Nexmark q0-q2 end to end: planner, runtime, the in-process generator and a
// blackhole sink. Run on one core:
//
//	go test ./spec -run '^$' -bench Nexmark -cpu 1
//
// b.N is the number of generated events; events/s counts all events
// (persons, auctions and bids), as Nexmark reports do.
var nexmarkQueries = []struct{ name, query string }{
	{"q0", `SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, bid.datetime, bid.extra
	        FROM nexmark WHERE bid IS NOT NULL`},
	{"q1", `SELECT bid.auction, bid.bidder, bid.price * 0.908 AS price, bid.datetime, bid.extra
	        FROM nexmark WHERE bid IS NOT NULL`},
	{"q2", `SELECT bid.auction, bid.price FROM nexmark
	        WHERE bid IS NOT NULL AND bid.auction % 123 = 0`},
	// The windowed queries run the generator at 10M events/s of event time
	// with Nexmark's windows scaled down 1000x (10 ms for 10 s, a 2 ms
	// slide for 2 s), so that a run of a few million events covers
	// hundreds of windows of about 100K events each (at 1e12 events/s and
	// 10 s windows, every event would be in one window). With the default
	// 1 s lateness they are emitted at the end of the run; the work per
	// window is the same.
	//
	// The aggregate stages of q5 (bids per auction per sliding window) and
	// q7 (highest price per tumbling window), without their joins:
	{"q5agg", `SELECT bid.auction, hop(interval '2 milliseconds', interval '10 milliseconds') AS w, count(*) AS c
	        FROM nexmark WHERE bid IS NOT NULL GROUP BY 1, 2`},
	{"q7agg", `SELECT tumble(interval '10 milliseconds') AS w, max(bid.price) AS p
	        FROM nexmark WHERE bid IS NOT NULL GROUP BY 1`},
	// q5: the auctions with the most bids per sliding window (count per
	// auction and window, the max count per window, joined back).
	{"q5", `SELECT a.auction, a.num FROM
	          (SELECT bid.auction AS auction, hop(interval '2 milliseconds', interval '10 milliseconds') AS window, count(*) AS num
	           FROM nexmark WHERE bid IS NOT NULL GROUP BY 1, 2) a
	        JOIN (SELECT window, max(num) AS maxn FROM
	               (SELECT bid.auction AS auction, hop(interval '2 milliseconds', interval '10 milliseconds') AS window, count(*) AS num
	                FROM nexmark WHERE bid IS NOT NULL GROUP BY 1, 2) GROUP BY window) m
	        ON a.window = m.window AND a.num >= m.maxn`},
	// q7: the highest bid per tumbling window (ranked by a window function).
	{"q7", `SELECT auction, price, bidder FROM (
	          SELECT auction, price, bidder, ROW_NUMBER() OVER (PARTITION BY window ORDER BY price DESC) AS rn FROM
	            (SELECT bid.auction AS auction, bid.price AS price, bid.bidder AS bidder, tumble(interval '10 milliseconds') AS window
	             FROM nexmark WHERE bid IS NOT NULL GROUP BY 1, 2, 3, 4)) WHERE rn = 1`},
	// q8: persons who created an auction in the window they joined in.
	{"q8", `SELECT p.id, p.name FROM
	          (SELECT person.id AS id, person.name AS name, tumble(interval '10 milliseconds') AS window
	           FROM nexmark WHERE person IS NOT NULL GROUP BY 1, 2, 3) p
	        JOIN (SELECT auction.seller AS seller, tumble(interval '10 milliseconds') AS window
	              FROM nexmark WHERE auction IS NOT NULL GROUP BY 1, 2) a
	        ON p.id = a.seller AND p.window = a.window`},
}

func BenchmarkNexmark(b *testing.B) {
	for _, q := range nexmarkQueries {
		b.Run(q.name, func(b *testing.B) {
			rate := "1e12"
			if q.name[1] >= '4' { // windowed queries: windows close as the stream goes
				rate = "1e7"
			}
			sql := fmt.Sprintf(`CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '%s', event_count = '%d');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink %s;`, rate, b.N, q.query)
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: q.name, Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0, start := cpuTime(b), time.Now()
			job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := job.Wait(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			// Per CPU second too: on a loaded machine wall time says little.
			b.ReportMetric(float64(b.N)/(float64(cpuTime(b)-cpu0)/1e9), "events/cpu-s")
		})
	}
}

// BenchmarkNexmarkBaseline computes q0-q2 with hand-written Go loops over
// the same generator's batches: the floor the engine is measured against
// (BRIEF: within 2x of a hand-written loop). Compare with BenchmarkNexmark in
// the same run.
func BenchmarkNexmarkBaseline(b *testing.B) {
	src, err := nexmark.NewSource(connector.Options{"event_rate": "1e12"})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 4096
	run := func(b *testing.B, query func(bid *coldata.Struct, n int) int) {
		b.ResetTimer()
		start := time.Now()
		kept := 0
		for first := int64(0); first < int64(b.N); first += rows {
			n := rows
			if rest := int64(b.N) - first; rest < int64(n) {
				n = int(rest)
			}
			batch := src.Batch(first, 1, n)
			kept += query(batch.Cols[2].(*coldata.Struct), n)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		if kept < 0 {
			b.Fatal("unreachable")
		}
	}
	b.Run("q0", func(b *testing.B) {
		run(b, func(bid *coldata.Struct, n int) int {
			kept := 0
			for i := 0; i < n; i++ {
				if !bid.IsNull(i) {
					kept++
				}
			}
			return kept
		})
	})
	b.Run("q1", func(b *testing.B) {
		run(b, func(bid *coldata.Struct, n int) int {
			price := bid.Fields[2].(*coldata.Vec[int64]).Vals
			out := make([]float64, n)
			kept := 0
			for i := 0; i < n; i++ {
				if !bid.IsNull(i) {
					out[i] = float64(price[i]) * 0.908
					kept++
				}
			}
			return kept
		})
	})
	b.Run("q2", func(b *testing.B) {
		run(b, func(bid *coldata.Struct, n int) int {
			auction := bid.Fields[0].(*coldata.Vec[int64]).Vals
			sel := make([]int32, 0, n)
			for i := 0; i < n; i++ {
				if !bid.IsNull(i) && auction[i]%123 == 0 {
					sel = append(sel, int32(i))
				}
			}
			return len(sel)
		})
	})
}
