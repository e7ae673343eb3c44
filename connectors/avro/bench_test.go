package avro

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// The benchmarks decode Nexmark events (2% persons, 6% auctions, 92% bids,
// one non-null struct each, extra padding values to about 200 / 500 / 100
// bytes, as connectors/jsonfmt's benchmarks do) written as bare Avro datums
// of the schema derived from the nexmark table. Run with
//
//	go test ./connectors/avro -run '^$' -bench . -cpu 1

func nexmarkSQL() *types.Schema {
	nn := func(n string, t types.Type) types.Field { return types.Field{Name: n, Type: t} }
	ts := types.TimestampT
	person := types.StructOf(nn("id", types.Int64T), nn("name", types.StringT), nn("email_address", types.StringT),
		nn("credit_card", types.StringT), nn("city", types.StringT), nn("state", types.StringT),
		nn("datetime", ts), nn("extra", types.StringT))
	auction := types.StructOf(nn("id", types.Int64T), nn("item_name", types.StringT), nn("description", types.StringT),
		nn("initial_bid", types.Int64T), nn("reserve", types.Int64T), nn("datetime", ts), nn("expires", ts),
		nn("seller", types.Int64T), nn("category", types.Int64T), nn("extra", types.StringT))
	bid := types.StructOf(nn("auction", types.Int64T), nn("bidder", types.Int64T), nn("price", types.Int64T),
		nn("channel", types.StringT), nn("url", types.StringT), nn("datetime", ts), nn("extra", types.StringT))
	return types.NewSchema(
		types.Field{Name: "person", Type: person, Nullable: true},
		types.Field{Name: "auction", Type: auction, Nullable: true},
		types.Field{Name: "bid", Type: bid, Nullable: true})
}

// Structs for hamba/avro's reflection decoder (the comparison).
type nxPerson struct {
	ID           int64     `avro:"id"`
	Name         string    `avro:"name"`
	EmailAddress string    `avro:"email_address"`
	CreditCard   string    `avro:"credit_card"`
	City         string    `avro:"city"`
	State        string    `avro:"state"`
	Datetime     time.Time `avro:"datetime"`
	Extra        string    `avro:"extra"`
}

type nxAuction struct {
	ID          int64     `avro:"id"`
	ItemName    string    `avro:"item_name"`
	Description string    `avro:"description"`
	InitialBid  int64     `avro:"initial_bid"`
	Reserve     int64     `avro:"reserve"`
	Datetime    time.Time `avro:"datetime"`
	Expires     time.Time `avro:"expires"`
	Seller      int64     `avro:"seller"`
	Category    int64     `avro:"category"`
	Extra       string    `avro:"extra"`
}

type nxBid struct {
	Auction  int64     `avro:"auction"`
	Bidder   int64     `avro:"bidder"`
	Price    int64     `avro:"price"`
	Channel  string    `avro:"channel"`
	URL      string    `avro:"url"`
	Datetime time.Time `avro:"datetime"`
	Extra    string    `avro:"extra"`
}

type nxEvent struct {
	Person  *nxPerson  `avro:"person"`
	Auction *nxAuction `avro:"auction"`
	Bid     *nxBid     `avro:"bid"`
}

func nexmarkAvroCorpus(t testing.TB, n int) (avro.Schema, [][]byte) {
	w, err := FromSQL(nexmarkSQL())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
	word := func(k int) string {
		b := make([]byte, max(k, 0))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	extra := func(have, want int) string { return word(want - have + r.IntN(21) - 10) }
	base := time.UnixMicro(1_700_000_000_000_000).UTC()
	var out [][]byte
	for e := 0; e < n; e++ {
		now := base.Add(time.Duration(e)*time.Millisecond + time.Duration(r.IntN(1000))*time.Microsecond)
		id := int64(1000 + e)
		var ev nxEvent
		switch m := e % 50; {
		case m < 1:
			p := &nxPerson{ID: id, Name: word(5) + " " + word(7), EmailAddress: word(8) + "@" + word(5) + ".com",
				CreditCard: "4000 1234 5678 9012", City: word(8), State: "OR", Datetime: now}
			p.Extra = extra(8+len(p.Name)+len(p.EmailAddress)+len(p.CreditCard)+len(p.City)+2+8, 200)
			ev.Person = p
		case m < 4:
			initial := int64(math.Round(math.Pow(10, r.Float64()*6) * 100))
			a := &nxAuction{ID: id, ItemName: word(12), Description: word(60), InitialBid: initial, Reserve: initial * 2,
				Datetime: now, Expires: now.Add(time.Duration(r.IntN(10_000)) * time.Millisecond),
				Seller: int64(1000 + r.IntN(1000)), Category: int64(10 + r.IntN(5))}
			a.Extra = extra(8+12+60+8*6, 500)
			ev.Auction = a
		default:
			channel := []string{"Google", "Facebook", "Baidu", "Apple"}[r.IntN(4)]
			b := &nxBid{Auction: int64(1000 + r.IntN(100)), Bidder: int64(1000 + r.IntN(1000)),
				Price: int64(math.Round(math.Pow(10, r.Float64()*6) * 100)), Channel: channel,
				URL: "https://www.nexmark.com/" + word(5) + "/" + word(5) + "/item.htm?query=" + strconv.Itoa(e%7), Datetime: now}
			b.Extra = extra(8*4+len(channel)+len(b.URL), 100)
			ev.Bid = b
		}
		rec, err := avro.Marshal(w, &ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return w, out
}

func corpusBytes(c [][]byte) int {
	n := 0
	for _, r := range c {
		n += len(r)
	}
	return n
}

const batchRows = 1024

// reportRates reports events per wall second and per CPU second of the
// process (GC included; stable when other processes share the machine).
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkDecodeNexmarkColumns decodes into column builders (this
// package), flushing every 1024 rows as a source does.
func BenchmarkDecodeNexmarkColumns(b *testing.B) {
	w, corpus := nexmarkAvroCorpus(b, 10_000)
	d, err := NewDecoder(nexmarkSQL(), nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := d.Plan(w)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(corpusBytes(corpus) / len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	k := 0
	for i := 0; i < b.N; i++ {
		if err := d.DecodeWith(p, corpus[k]); err != nil {
			b.Fatal(err)
		}
		if k++; k == len(corpus) {
			k = 0
		}
		if d.Rows() == batchRows {
			d.Flush()
		}
	}
	reportRates(b, cpuTime()-cpu0)
}

// BenchmarkDecodeNexmarkHambaStructs is hamba/avro's reflection decoder
// into Go structs, the comparison.
func BenchmarkDecodeNexmarkHambaStructs(b *testing.B) {
	w, corpus := nexmarkAvroCorpus(b, 10_000)
	b.SetBytes(int64(corpusBytes(corpus) / len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	k := 0
	for i := 0; i < b.N; i++ {
		var ev nxEvent
		if err := avro.Unmarshal(w, corpus[k], &ev); err != nil {
			b.Fatal(err)
		}
		if k++; k == len(corpus) {
			k = 0
		}
	}
	reportRates(b, cpuTime()-cpu0)
}

// BenchmarkDecodeNexmarkHambaGeneric is hamba/avro decoding into
// map[string]any, the generic path a decoder would take before copying
// values into columns (what this package avoids).
func BenchmarkDecodeNexmarkHambaGeneric(b *testing.B) {
	w, corpus := nexmarkAvroCorpus(b, 10_000)
	b.SetBytes(int64(corpusBytes(corpus) / len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	k := 0
	for i := 0; i < b.N; i++ {
		var m map[string]any
		if err := avro.Unmarshal(w, corpus[k], &m); err != nil {
			b.Fatal(err)
		}
		if k++; k == len(corpus) {
			k = 0
		}
	}
	reportRates(b, cpuTime()-cpu0)
}

// BenchmarkEncodeNexmark encodes batches of decoded events back to datums.
func BenchmarkEncodeNexmark(b *testing.B) {
	w, corpus := nexmarkAvroCorpus(b, batchRows)
	d, _ := NewDecoder(nexmarkSQL(), nil)
	p, _ := d.Plan(w)
	for _, rec := range corpus {
		if err := d.DecodeWith(p, rec); err != nil {
			b.Fatal(err)
		}
	}
	vs := d.Flush()
	batch := &struct{ n int }{vs[0].Len()}
	e, err := NewEncoder(nexmarkSQL(), rawOpts(""))
	if err != nil {
		b.Fatal(err)
	}
	bt := coldata.NewBatch(vs, batch.n)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += batch.n {
		if err := e.Encode(bt, func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, cpuTime()-cpu0)
}

// TestNexmarkCorpusDecodes checks the benchmark corpus against hamba/avro:
// the same bids, field by field, for the first records.
func TestNexmarkCorpusDecodes(t *testing.T) {
	w, corpus := nexmarkAvroCorpus(t, 200)
	d, _ := NewDecoder(nexmarkSQL(), nil)
	p, err := d.Plan(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range corpus {
		if err := d.DecodeWith(p, rec); err != nil {
			t.Fatal(err)
		}
	}
	got := rows(d.Flush())
	for i, rec := range corpus {
		var ev nxEvent
		if err := avro.Unmarshal(w, rec, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Bid != nil {
			want := "NULL | NULL | {auction: " + strconv.FormatInt(ev.Bid.Auction, 10) + ", bidder: " + strconv.FormatInt(ev.Bid.Bidder, 10) +
				", price: " + strconv.FormatInt(ev.Bid.Price, 10) + ", channel: '" + ev.Bid.Channel + "', url: '" + ev.Bid.URL +
				"', datetime: " + strconv.FormatInt(ev.Bid.Datetime.UnixNano(), 10) + ", extra: '" + ev.Bid.Extra + "'}"
			if got[i] != want {
				t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], want)
			}
		}
	}
}
