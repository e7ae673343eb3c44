package jsonfmt

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// The benchmarks decode and encode Nexmark events shaped like the rows of
// Arroyo's nexmark connector: {"person":...,"auction":...,"bid":...} with
// exactly one non-null struct. Run with
//
//	go test ./connectors/jsonfmt -run '^$' -bench . -cpu 1

func nexmarkSchema() *types.Schema {
	ts := types.TimestampT
	person := types.StructOf(
		notNull("id", types.Int64T), notNull("name", types.StringT), notNull("email_address", types.StringT),
		notNull("credit_card", types.StringT), notNull("city", types.StringT), notNull("state", types.StringT),
		notNull("datetime", ts), notNull("extra", types.StringT))
	auction := types.StructOf(
		notNull("id", types.Int64T), notNull("item_name", types.StringT), notNull("description", types.StringT),
		notNull("initial_bid", types.Int64T), notNull("reserve", types.Int64T), notNull("datetime", ts),
		notNull("expires", ts), notNull("seller", types.Int64T), notNull("category", types.Int64T),
		notNull("extra", types.StringT))
	bid := types.StructOf(
		notNull("auction", types.Int64T), notNull("bidder", types.Int64T), notNull("price", types.Int64T),
		notNull("channel", types.StringT), notNull("url", types.StringT), notNull("datetime", ts),
		notNull("extra", types.StringT))
	return types.NewSchema(field("person", person), field("auction", auction), field("bid", bid))
}

// nexmarkCorpus returns n JSON lines: 2% persons, 6% auctions, 92% bids
// (by event number, as the generator decides), with extra padding each
// event's values to about 200 / 500 / 100 bytes.
func nexmarkCorpus(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
	word := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	// extra pads the event's value bytes (ints and timestamps count 8) to
	// about want bytes.
	extra := func(have, want int) string {
		k := want - have + r.IntN(21) - 10
		return word(max(k, 0))
	}
	base := int64(1_700_000_000_000) * 1_000_000
	var out [][]byte
	for e := 0; e < n; e++ {
		now := base + int64(e)*1_000_000 + int64(r.IntN(1000))*1_000
		dt := string(AppendTimestampRFC3339(nil, now))
		var b []byte
		id := strconv.Itoa(1000 + e)
		switch m := e % 50; {
		case m < 1:
			name, email, card := word(5)+" "+word(7), word(8)+"@"+word(5)+".com", "4000 1234 5678 9012"
			city, state := word(8), "OR"
			b = append(b, `{"person":{"id":`+id+`,"name":"`+name+`","email_address":"`+email+
				`","credit_card":"`+card+`","city":"`+city+`","state":"`+state+`","datetime":"`+dt+
				`","extra":"`+extra(8+len(name)+len(email)+len(card)+len(city)+len(state)+8, 200)+`"},"auction":null,"bid":null}`...)
		case m < 4:
			item, desc := word(12), word(60)
			initial := int64(math.Round(math.Pow(10, r.Float64()*6) * 100))
			expires := string(AppendTimestampRFC3339(nil, now+int64(r.IntN(10_000))*1_000_000))
			b = append(b, `{"person":null,"auction":{"id":`+id+`,"item_name":"`+item+`","description":"`+desc+
				`","initial_bid":`+strconv.FormatInt(initial, 10)+`,"reserve":`+strconv.FormatInt(initial*2, 10)+
				`,"datetime":"`+dt+`","expires":"`+expires+`","seller":`+strconv.Itoa(1000+r.IntN(1000))+
				`,"category":`+strconv.Itoa(10+r.IntN(5))+`,"extra":"`+extra(8+len(item)+len(desc)+8*6, 500)+`"},"bid":null}`...)
		default:
			price := int64(math.Round(math.Pow(10, r.Float64()*6) * 100))
			channel := []string{"Google", "Facebook", "Baidu", "Apple"}[r.IntN(4)]
			url := "https://www.nexmark.com/" + word(5) + "/" + word(5) + "/item.htm?query=1"
			b = append(b, `{"person":null,"auction":null,"bid":{"auction":`+strconv.Itoa(1000+r.IntN(100))+
				`,"bidder":`+strconv.Itoa(1000+r.IntN(1000))+`,"price":`+strconv.FormatInt(price, 10)+
				`,"channel":"`+channel+`","url":"`+url+`","datetime":"`+dt+
				`","extra":"`+extra(8*4+len(channel)+len(url), 100)+`"}}`...)
		}
		out = append(out, b)
	}
	return out
}

const batchRows = 1024

func corpusBytes(c [][]byte) int {
	n := 0
	for _, r := range c {
		n += len(r)
	}
	return n
}

func BenchmarkDecodeNexmark(b *testing.B) {
	corpus := nexmarkCorpus(10_000)
	d, err := NewDecoder(nexmarkSchema(), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeCorpus(b, d, corpus, "events/s")
}

func BenchmarkDecodeUnstructured(b *testing.B) {
	corpus := nexmarkCorpus(10_000)
	d, err := NewDecoder(types.NewSchema(field("value", types.JSONT)), map[string]string{OptUnstructured: "true"})
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeCorpus(b, d, corpus, "events/s")
}

// nexmarkBatches decodes the corpus into batches of batchRows rows with the
// trailing event-time column, as a sink receives them.
func nexmarkBatches(tb testing.TB, corpus [][]byte) []*coldata.Batch {
	d, err := NewDecoder(nexmarkSchema(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var out []*coldata.Batch
	flush := func() {
		n := d.Rows()
		cols := d.Flush()
		tsv := coldata.New(types.TimestampT, n).(*coldata.Vec[int64])
		for i := 0; i < n; i++ {
			tsv.Append(int64(i))
		}
		out = append(out, coldata.NewBatch(append(cols, tsv), n))
	}
	for _, rec := range corpus {
		if err := d.Decode(rec); err != nil {
			tb.Fatal(err)
		}
		if d.Rows() == batchRows {
			flush()
		}
	}
	if d.Rows() > 0 {
		flush()
	}
	return out
}

func BenchmarkEncodeNexmark(b *testing.B) {
	corpus := nexmarkCorpus(10_000)
	batches := nexmarkBatches(b, corpus)
	e, err := NewEncoder(nexmarkSchema(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var out int
	emit := func(rec []byte) error { out += len(rec); return nil }
	b.SetBytes(int64(corpusBytes(corpus) / len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; events < b.N; i++ {
		batch := batches[i%len(batches)]
		if err := e.Encode(batch, emit); err != nil {
			b.Fatal(err)
		}
		events += batch.Rows()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeUnknownKeys decodes records of 4 keys a query reads, 16
// it does not, and a declared schema of the 4 (a source pruned to the
// columns its queries read, sqlplan/prune.go) or of 4 + 28 columns absent
// from the records: each undeclared key must be recognised as such.
func BenchmarkDecodeUnknownKeys(b *testing.B) {
	for _, declared := range []int{4, 32} {
		b.Run("declared="+strconv.Itoa(declared), func(b *testing.B) {
			fs := []types.Field{notNull("auction", types.Int64T), notNull("bidder", types.Int64T),
				notNull("price", types.Int64T), notNull("datetime", types.TimestampT)}
			for k := len(fs); k < declared; k++ {
				fs = append(fs, field("column_"+strconv.Itoa(k), types.StringT))
			}
			var corpus [][]byte
			for e := 0; e < 1000; e++ {
				rec := []byte(`{"auction":` + strconv.Itoa(1000+e%100) + `,"channel":"Google","url":"https://x/y","bidder":` +
					strconv.Itoa(e) + `,"ip":"10.0.0.1","user_agent":"Mozilla","session_id":"s` + strconv.Itoa(e) +
					`","price":` + strconv.Itoa(e*37) + `,"bid_id":` + strconv.Itoa(e) + `,"Extra":"pad","referrer":"r"`)
				for k := 0; k < 7; k++ {
					rec = append(rec, `,"attribute_`+strconv.Itoa(k)+`":`+strconv.Itoa(k)...)
				}
				rec = append(rec, `,"datetime":"2023-11-14T22:13:20.000Z"}`...)
				corpus = append(corpus, rec)
			}
			d, err := NewDecoder(types.NewSchema(fs...), nil)
			if err != nil {
				b.Fatal(err)
			}
			benchDecodeCorpus(b, d, corpus, "records/s")
		})
	}
}

// BenchmarkDecodeBids decodes the records of spec/bench_json_test.go (flat
// bids of 11 keys, ~290 bytes) into the 4 columns that query reads, the
// pruned source schema the planner gives it: the decoder half of the JSON
// end-to-end benchmark, without the runtime around it.
func BenchmarkDecodeBids(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	word := func(k int) string {
		w := make([]byte, k)
		for i := range w {
			w[i] = letters[r.IntN(len(letters))]
		}
		return string(w)
	}
	var corpus [][]byte
	for e := 0; e < 10_000; e++ {
		corpus = append(corpus, []byte(`{"auction":`+strconv.Itoa(1000+r.IntN(100))+`,"bidder":`+strconv.Itoa(1000+r.IntN(1000))+
			`,"price":`+strconv.Itoa(r.IntN(10_000_000))+`,"channel":"Google","url":"https://www.nexmark.com/`+word(5)+"/"+word(5)+
			`/item.htm?query=1","datetime":"2023-11-14T22:13:`+strconv.Itoa(10+e%50)+`.`+strconv.Itoa(100+e%900)+
			`Z","ip":"10.`+strconv.Itoa(r.IntN(256))+`.`+strconv.Itoa(r.IntN(256))+`.1","user_agent":"Mozilla/5.0 (`+word(12)+
			`)","bid_id":`+strconv.Itoa(e)+`,"extra":"`+word(40)+`"}`))
	}
	d, err := NewDecoder(types.NewSchema(notNull("auction", types.Int64T), notNull("bidder", types.Int64T),
		notNull("price", types.Int64T), notNull("datetime", types.TimestampT)), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeCorpus(b, d, corpus, "records/s")
}

// benchDecodeCorpus decodes corpus round-robin with d, a record per iteration,
// flushing every batchRows rows, and reports records per second as unit.
func benchDecodeCorpus(b *testing.B, d *Decoder, corpus [][]byte, unit string) {
	b.Helper()
	b.SetBytes(int64(corpusBytes(corpus) / len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	k := 0
	for i := 0; i < b.N; i++ {
		if err := d.Decode(corpus[k]); err != nil {
			b.Fatal(err)
		}
		if k++; k == len(corpus) {
			k = 0
		}
		if d.Rows() == batchRows {
			d.Flush()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchmarkEncodeBids encodes the four flat columns the JSONBids query
// writes (spec/bench_json_test.go), a record at a time (Encode, as the
// Kafka sink does) and a batch at a time (AppendLines, as single_file).
func BenchmarkEncodeBids(b *testing.B) {
	fields := []types.Field{
		{Name: "auction", Type: types.Int64T}, {Name: "bidder", Type: types.Int64T},
		{Name: "price", Type: types.Int64T}, {Name: "datetime", Type: types.TimestampT},
	}
	vecs := []*coldata.Vec[int64]{}
	cols := []coldata.Vector{}
	for range fields {
		v := coldata.New(types.Int64T, batchRows).(*coldata.Vec[int64])
		vecs = append(vecs, v)
		cols = append(cols, v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range batchRows {
		vecs[0].Append(1000 + r.Int64N(100))
		vecs[1].Append(1000 + r.Int64N(1000))
		vecs[2].Append(r.Int64N(10_000_000))
		vecs[3].Append(1_700_000_000_000_000_000 + int64(i)*1_000_000)
	}
	cols[3] = coldata.RetypeVec(vecs[3], types.TimestampT)
	batch := coldata.NewBatch(cols, batchRows)
	e, err := NewEncoder(types.NewSchema(fields...), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encode", func(b *testing.B) {
		out := 0
		emit := func(rec []byte) error { out += len(rec) + 1; return nil }
		b.ReportAllocs()
		events := 0
		for events < b.N {
			if err := e.Encode(batch, emit); err != nil {
				b.Fatal(err)
			}
			events += batch.Rows()
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("AppendLines", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		events := 0
		for events < b.N {
			if buf, err = e.AppendLines(buf[:0], batch); err != nil {
				b.Fatal(err)
			}
			events += batch.Rows()
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}
