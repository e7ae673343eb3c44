package spec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/connectors/nexmark"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/sqlplan"
)

// Nexmark q5, q7 and q8 computed by hand-written Go loops over the
// generator's batches: the floor BenchmarkNexmark's windowed queries are
// measured against (BenchmarkNexmarkBaseline), and, in
// TestNexmarkWindowedQueries, the answer the engine must give.

const (
	nxSlide = int64(2 * time.Millisecond)
	nxWidth = int64(10 * time.Millisecond)
	nxRate  = "1e7"
	nxBase  = "2024-01-01T00:00:00Z"
)

// nxEvents calls f with each batch of the first n events: the person,
// auction and bid structs and the event times.
func nxEvents(tb testing.TB, n int64, f func(person, auction, bid *coldata.Struct, ts []int64, rows int)) {
	src, err := nexmark.NewSource(connector.Options{"event_rate": nxRate, "base_time": nxBase})
	if err != nil {
		tb.Fatal(err)
	}
	const rows = 4096
	for first := int64(0); first < n; first += rows {
		k := int(min(rows, n-first))
		b := src.Batch(first, 1, k)
		f(b.Cols[0].(*coldata.Struct), b.Cols[1].(*coldata.Struct), b.Cols[2].(*coldata.Struct), b.Cols[len(b.Cols)-1].(*coldata.Vec[int64]).Vals, k)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// handQ5 returns "auction num" for the auctions with the most bids of each
// hopping window.
func handQ5(tb testing.TB, n int64) []string {
	panes := map[int64]map[int64]int64{}
	nxEvents(tb, n, func(_, _, bid *coldata.Struct, ts []int64, rows int) {
		auction := bid.Fields[0].(*coldata.Vec[int64]).Vals
		for i := 0; i < rows; i++ {
			if bid.IsNull(i) {
				continue
			}
			p := floorDiv(ts[i], nxSlide)
			m := panes[p]
			if m == nil {
				m = map[int64]int64{}
				panes[p] = m
			}
			m[auction[i]]++
		}
	})
	ends := map[int64]bool{}
	for p := range panes {
		for e := p + 1; e <= p+nxWidth/nxSlide; e++ {
			ends[e] = true
		}
	}
	var out []string
	for e := range ends {
		counts := map[int64]int64{}
		for p := e - nxWidth/nxSlide; p < e; p++ {
			for a, c := range panes[p] {
				counts[a] += c
			}
		}
		var best int64
		for _, c := range counts {
			best = max(best, c)
		}
		for a, c := range counts {
			if c == best {
				out = append(out, fmt.Sprintf("%d %d", a, c))
			}
		}
	}
	sort.Strings(out)
	return out
}

// handQ7 returns "auction price bidder" of each tumbling window's highest
// bid (ties: the lowest auction, then bidder).
func handQ7(tb testing.TB, n int64) []string {
	type top struct{ price, auction, bidder int64 }
	best := map[int64]top{}
	nxEvents(tb, n, func(_, _, bid *coldata.Struct, ts []int64, rows int) {
		auction := bid.Fields[0].(*coldata.Vec[int64]).Vals
		bidder := bid.Fields[1].(*coldata.Vec[int64]).Vals
		price := bid.Fields[2].(*coldata.Vec[int64]).Vals
		for i := 0; i < rows; i++ {
			if bid.IsNull(i) {
				continue
			}
			w := floorDiv(ts[i], nxWidth)
			t, ok := best[w]
			c := top{price[i], auction[i], bidder[i]}
			if !ok || c.price > t.price || c.price == t.price && (c.auction < t.auction || c.auction == t.auction && c.bidder < t.bidder) {
				best[w] = c
			}
		}
	})
	var out []string
	for _, t := range best {
		out = append(out, fmt.Sprintf("%d %d %d", t.auction, t.price, t.bidder))
	}
	sort.Strings(out)
	return out
}

// handQ8 returns "id name" of the persons who opened an auction in the
// tumbling window they joined in.
func handQ8(tb testing.TB, n int64) []string {
	type pk struct {
		w, id int64
		name  string
	}
	persons := map[pk]bool{}
	sellers := map[[2]int64]bool{}
	nxEvents(tb, n, func(person, auction, _ *coldata.Struct, ts []int64, rows int) {
		pid := person.Fields[0].(*coldata.Vec[int64]).Vals
		pname := person.Fields[1].(*coldata.Bytes)
		seller := auction.Fields[7].(*coldata.Vec[int64]).Vals
		for i := 0; i < rows; i++ {
			w := floorDiv(ts[i], nxWidth)
			if !person.IsNull(i) {
				persons[pk{w, pid[i], pname.GetString(i)}] = true
			}
			if !auction.IsNull(i) {
				sellers[[2]int64{w, seller[i]}] = true
			}
		}
	})
	var out []string
	for p := range persons {
		if sellers[[2]int64{p.w, p.id}] {
			out = append(out, fmt.Sprintf("%d %s", p.id, p.name))
		}
	}
	sort.Strings(out)
	return out
}

// TestNexmarkWindowedQueries runs q5, q7 (ties broken as handQ7 does) and
// q8 over 300K events at parallelism 1 and 3 and compares every output
// row with the hand-written loops'.
func TestNexmarkWindowedQueries(t *testing.T) {
	const n = 300000
	queries := map[string]struct {
		sql  string
		cols []string
		hand func(testing.TB, int64) []string
	}{}
	for _, q := range nexmarkQueries {
		switch q.name {
		case "q5":
			queries[q.name] = struct {
				sql  string
				cols []string
				hand func(testing.TB, int64) []string
			}{q.query, []string{"auction", "num"}, handQ5}
		case "q7":
			queries[q.name] = struct {
				sql  string
				cols []string
				hand func(testing.TB, int64) []string
			}{replaceOnce(q.query, "ORDER BY price DESC)", "ORDER BY price DESC, auction, bidder)"), []string{"auction", "price", "bidder"}, handQ7}
		case "q8":
			queries[q.name] = struct {
				sql  string
				cols []string
				hand func(testing.TB, int64) []string
			}{q.query, []string{"id", "name"}, handQ8}
		}
	}
	if len(queries) != 3 {
		t.Fatalf("found %d of q5, q7, q8 in nexmarkQueries", len(queries))
	}
	for name, q := range queries {
		want := q.hand(t, n)
		if len(want) < 3 {
			t.Fatalf("%s: the hand loop gives only %d rows", name, len(want))
		}
		for _, par := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p%d", name, par), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out.json")
				sql := fmt.Sprintf(`CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '%s', event_count = '%d', base_time = '%s');
CREATE TABLE out WITH (connector = 'single_file', path = '%s', format = 'json', type = 'sink');
INSERT INTO out %s;`, nxRate, n, nxBase, out, q.sql)
				prog, err := sqlplan.Plan(name+".sql", sql, sqlplan.Options{Name: name, Parallelism: par})
				if err != nil {
					t.Fatal(err)
				}
				job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := job.Wait(); err != nil {
					t.Fatal(err)
				}
				got := readColumns(t, out, q.cols)
				if !slices.Equal(got, want) {
					t.Errorf("%d rows, the hand loop %d; %s", len(got), len(want), firstDifference(want, got))
				}
			})
		}
	}
}

func replaceOnce(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replaceOnce: " + old + " not in the query")
	}
	return strings.Replace(s, old, new, 1)
}

// readColumns reads JSON lines and renders the given columns of each row
// as "a b ...", sorted.
func readColumns(t *testing.T, path string, cols []string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var parts []string
		for _, c := range cols {
			parts = append(parts, fmt.Sprint(row[c]))
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out
}

func firstDifference(want, got []string) string {
	for i := 0; i < len(want) && i < len(got); i++ {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference: want %q, got %q", want[i], got[i])
		}
	}
	return "one is a prefix of the other"
}

// BenchmarkNexmarkWindowedBaseline runs the hand-written q5, q7 and q8
// over b.N events, beside BenchmarkNexmark/q5, q7 and q8 (same generator
// rate, same windows):
//
//	go test ./spec -run '^$' -bench 'Nexmark(WindowedBaseline)?$/q[578]$' -cpu 1 -benchtime 2000000x
func BenchmarkNexmarkWindowedBaseline(b *testing.B) {
	for _, q := range []struct {
		name string
		f    func(testing.TB, int64) []string
	}{{"q5", handQ5}, {"q7", handQ7}, {"q8", handQ8}} {
		b.Run(q.name, func(b *testing.B) {
			cpu0, start := cpuTime(b), time.Now()
			if rows := q.f(b, int64(b.N)); rows == nil && b.N > 1000000 {
				b.Fatal("no rows")
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(b.N)/(float64(cpuTime(b)-cpu0)/1e9), "events/cpu-s")
		})
	}
}
