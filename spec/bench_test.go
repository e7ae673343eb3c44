package spec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/runtime"
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
}

func BenchmarkNexmark(b *testing.B) {
	for _, q := range nexmarkQueries {
		b.Run(q.name, func(b *testing.B) {
			sql := fmt.Sprintf(`CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1e12', event_count = '%d');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink %s;`, b.N, q.query)
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: q.name, Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			job, err := runtime.Start(context.Background(), prog, runtime.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := job.Wait(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
