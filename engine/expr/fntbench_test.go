package expr

import (
	"fmt"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Benchmarks of the JSON and time kernels over one batch of 1024 rows of
// a Nexmark-bid-like JSON document: go test ./engine/expr -bench 'JSON|Time'
func BenchmarkJSONAndTime(b *testing.B) {
	const n = 1024
	docs := vec(tStr)
	tsv := vec(tTS)
	for i := 0; i < n; i++ {
		appendGo(docs, fmt.Sprintf(`{"auction": %d, "bidder": %d, "price": %d.5, "channel": "Google", "url": "https://www.nexmark.com/a/b/c/item.htm?query=1", "dateTime": "2023-01-01T10:00:%02d.000Z", "extra": {"tags": ["a", "b"], "note": "caf\u00e9"}}`, 1000+i, 2000+i%97, i, i%60))
		appendGo(tsv, int64(i)*1_000_000_007)
	}
	for _, c := range []struct {
		name string
		e    *program.Expr
	}{
		{"json_get_int", call("json_get_int", tI64, col(0, tStr), lit(tStr, "bidder"))},
		{"json_get_str_nested", call("json_get_str", tStr, col(0, tStr), lit(tStr, "extra"), lit(tStr, "note"))},
		{"json_as_text_last_key", call("json_as_text", tStr, col(0, tStr), lit(tStr, "extra"))},
		{"extract_json_string", call("extract_json_string", tStr, col(0, tStr), lit(tStr, "$.channel"))},
		{"extract_json_wildcard", call("extract_json", types.ListOf(tJSON), col(0, tStr), lit(tStr, "$.extra.tags[*]"))},
		{"to_char", call("to_char", tStr, col(1, tTS), lit(tStr, "%Y-%m-%d %H:%M:%S"))},
		{"date_trunc_hour", call("date_trunc", tTS, lit(tStr, "hour"), col(1, tTS))},
		{"date_trunc_month", call("date_trunc", tTS, lit(tStr, "month"), col(1, tTS))},
		{"date_part_dow", call("date_part", tF64, lit(tStr, "dow"), col(1, tTS))},
	} {
		b.Run(c.name, func(b *testing.B) {
			ev, err := Compile(c.e, nil)
			if err != nil {
				b.Fatal(err)
			}
			batch := &coldata.Batch{Cols: []coldata.Vector{docs, tsv}, Len: n}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ev.Eval(tctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
