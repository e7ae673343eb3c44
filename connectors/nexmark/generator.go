package nexmark

import (
	"math"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Constants of the reference generator (NexmarkConfiguration defaults and
// the generator's static fields).
const (
	personProportion  = 1
	auctionProportion = 3
	bidProportion     = 46
	totalProportion   = personProportion + auctionProportion + bidProportion

	firstPersonID   = 1000
	firstAuctionID  = 1000
	firstCategoryID = 10
	numCategories   = 5

	numActivePeople     = 1000
	numInFlightAuctions = 100
	personIDLead        = 10
	auctionIDLead       = 10

	// P(hot) = 1 - 1/ratio.
	hotAuctionRatio  = 2
	hotSellersRatio  = 4
	hotBiddersRatio  = 4
	hotChannelsRatio = 2
	// Hot keys are the first of each batch of this many recent ids.
	hotBatch = 100

	avgPersonByteSize  = 200
	avgAuctionByteSize = 500
	avgBidByteSize     = 100
	// bidFixedSize is what the reference counts of a bid before padding.
	bidFixedSize = 8 + 8 + 8 + 8

	// numEventsForAuctions is how many events it takes to create
	// numInFlightAuctions auctions; auctions last twice that long on
	// average.
	numEventsForAuctions = numInFlightAuctions * totalProportion / auctionProportion
)

// Event kinds, by n % totalProportion.
const (
	kindPerson = iota
	kindAuction
	kindBid
)

func eventKind(n int64) int {
	switch off := n % totalProportion; {
	case off < personProportion:
		return kindPerson
	case off < personProportion+auctionProportion:
		return kindAuction
	}
	return kindBid
}

// lastBase0PersonID is the id (from 0) of the last person created at or
// before event n.
func lastBase0PersonID(n int64) int64 {
	epoch, off := n/totalProportion, n%totalProportion
	if off >= personProportion {
		off = personProportion - 1
	}
	return epoch*personProportion + off
}

// lastBase0AuctionID is the id (from 0) of the last auction created at or
// before event n.
func lastBase0AuctionID(n int64) int64 {
	epoch, off := n/totalProportion, n%totalProportion
	switch {
	case off < personProportion:
		epoch--
		off = auctionProportion - 1
	case off >= personProportion+auctionProportion:
		off = auctionProportion - 1
	default:
		off -= personProportion
	}
	return epoch*auctionProportion + off
}

// nextBase0PersonID picks one of the active people, or one of a few that
// do not exist yet.
func nextBase0PersonID(n int64, r *rng) int64 {
	numPeople := lastBase0PersonID(n) + 1
	active := min(numPeople, numActivePeople)
	return numPeople - active + r.intn(active+personIDLead)
}

// nextBase0AuctionID picks one of the auctions likely still in flight, or
// one of a few that do not exist yet.
func nextBase0AuctionID(n int64, r *rng) int64 {
	maxA := lastBase0AuctionID(n)
	minA := max(maxA-numInFlightAuctions, 0)
	return minA + r.intn(maxA-minA+1+auctionIDLead)
}

// nextPrice is log-uniform in cents, round(10^(U*6) * 100), with U
// quantized to 30 bits (far finer than a cent): 10^(6U) is the product of
// three table entries, one per 10-bit digit of U. math.Pow costs ~90ns
// here and math.Exp ~20ns, a large share of a bid's budget.
func nextPrice(r *rng) int64 {
	x := r.next()
	v := priceHi[x>>54] * priceMid[x>>44&1023] * priceLo[x>>34&1023]
	return int64(v*100 + 0.5)
}

// price tables: 10^(6*i/2^10), 10^(6*i/2^20), 10^(6*i/2^30).
var priceHi, priceMid, priceLo = priceTable(1 << 10), priceTable(1 << 20), priceTable(1 << 30)

func priceTable(scale float64) *[1024]float64 {
	var t [1024]float64
	for i := range t {
		t[i] = math.Pow(10, 6*float64(i)/scale)
	}
	return &t
}

// Column types. Struct fields are not nullable; the struct columns are.
var (
	personType = types.StructOf(
		types.Field{Name: "id", Type: types.Int64T},
		types.Field{Name: "name", Type: types.StringT},
		types.Field{Name: "email_address", Type: types.StringT},
		types.Field{Name: "credit_card", Type: types.StringT},
		types.Field{Name: "city", Type: types.StringT},
		types.Field{Name: "state", Type: types.StringT},
		types.Field{Name: "datetime", Type: types.TimestampT},
		types.Field{Name: "extra", Type: types.StringT},
	)
	auctionType = types.StructOf(
		types.Field{Name: "id", Type: types.Int64T},
		types.Field{Name: "item_name", Type: types.StringT},
		types.Field{Name: "description", Type: types.StringT},
		types.Field{Name: "initial_bid", Type: types.Int64T},
		types.Field{Name: "reserve", Type: types.Int64T},
		types.Field{Name: "datetime", Type: types.TimestampT},
		types.Field{Name: "expires", Type: types.TimestampT},
		types.Field{Name: "seller", Type: types.Int64T},
		types.Field{Name: "category", Type: types.Int64T},
		types.Field{Name: "extra", Type: types.StringT},
	)
	bidType = types.StructOf(
		types.Field{Name: "auction", Type: types.Int64T},
		types.Field{Name: "bidder", Type: types.Int64T},
		types.Field{Name: "price", Type: types.Int64T},
		types.Field{Name: "channel", Type: types.StringT},
		types.Field{Name: "url", Type: types.StringT},
		types.Field{Name: "datetime", Type: types.TimestampT},
		types.Field{Name: "extra", Type: types.StringT},
	)
)

// Schema returns the table schema of every nexmark table (without the
// hidden event-time column).
func Schema() *types.Schema {
	return types.NewSchema(
		types.Field{Name: "person", Type: personType, Nullable: true},
		types.Field{Name: "auction", Type: auctionType, Nullable: true},
		types.Field{Name: "bid", Type: bidType, Nullable: true},
	)
}

// clock maps event numbers to event time.
type clock struct {
	// base is the event time of event 0, nanoseconds since the epoch.
	base int64
	sp   connector.Spacing
}

func newClock(base int64, eventRate float64) clock {
	return clock{base: base, sp: connector.NewSpacing(eventRate)}
}

// offset is the event time of event n relative to event 0. n must be
// below limit().
func (c *clock) offset(n int64) int64 { return c.sp.At(n) }

// limit is the first event that cannot be generated because one of its
// timestamps would not fit int64 nanoseconds, or 0 if even event 0
// cannot. Event n's timestamps are its event time base + offset(n) and,
// for an auction, its expiry, at most max(2*(offset(n+K) - offset(n)),
// 1ms) later (auctionLength, K = numEventsForAuctions). The bound
// 2*K*interval + 10µs covers that: float offsets are within 2049ns of
// n*interval below 2^63.
func (c *clock) limit() int64 {
	margin := max(2*numEventsForAuctions*c.sp.Interval()+10_000, 1e6)
	if !(margin < 1<<63) {
		return 0
	}
	// Offsets up to maxOff keep base + offset + margin and offset(n+K)
	// within int64.
	maxOff := math.MaxInt64 - int64(margin)
	if c.base > 0 {
		maxOff -= c.base
	}
	if maxOff < 0 {
		return 0
	}
	n := c.sp.First(maxOff)
	if n < 0 || n > math.MaxInt64-numEventsForAuctions {
		n = math.MaxInt64 - numEventsForAuctions
	}
	return n
}

// gen builds batches of events. It holds only immutable configuration, so
// one gen may be used by many goroutines.
type gen struct {
	clock clock
	p     *textPools
}

func newGen(c clock) *gen { return &gen{clock: c, p: getPools()} }

// bytesCol builds a bytes vector row by row, where rows of other event
// kinds (NULL structs) are empty. Builders are local variables of batch, so
// their writes run without write barriers; vec makes the vector at the end.
type bytesCol struct {
	off  []int32 // rows+1 entries, off[0..done] set
	data []byte
	done int
}

func newBytesCol(rows, dataCap int) bytesCol {
	return bytesCol{off: make([]int32, rows+1), data: make([]byte, 0, dataCap)}
}

// begin gives every row before i an empty value; row i's bytes follow.
func (c *bytesCol) begin(i int) {
	end := int32(len(c.data))
	off := c.off[:i+1]
	for j := c.done + 1; j < len(off); j++ {
		off[j] = end
	}
}

// end closes row i.
func (c *bytesCol) end(i int) {
	c.off[i+1] = int32(len(c.data))
	c.done = i + 1
}

func (c *bytesCol) put(i int, s []byte) {
	c.begin(i)
	c.data = append(c.data, s...)
	c.end(i)
}

func (c *bytesCol) putString(i int, s string) {
	c.begin(i)
	c.data = append(c.data, s...)
	c.end(i)
}

func (c *bytesCol) vec(rows int) *coldata.Bytes {
	c.begin(rows)
	return &coldata.Bytes{T: types.StringT, Offsets: c.off, Data: c.data}
}

func fixedCol(t types.Type, rows int) *coldata.Vec[int64] {
	return &coldata.Vec[int64]{T: t, Vals: make([]int64, rows)}
}

// batch generates events first, first+stride, ... (rows of them) into a
// new batch: columns person, auction, bid, _timestamp. Every allocation is
// per batch, none per row: buffers are sized up front (for the longest
// possible values, or for bids a bound the total exceeds with negligible
// probability, see lenStats) so appends do not grow them.
func (g *gen) batch(first, stride int64, rows int) *coldata.Batch {
	p := g.p
	var nP, nA, nB int
	for i, n := 0, first; i < rows; i, n = i+1, n+stride {
		switch eventKind(n) {
		case kindPerson:
			nP++
		case kindAuction:
			nA++
		default:
			nB++
		}
	}

	ts := fixedCol(types.TimestampT, rows)
	words := (rows + 63) / 64
	// Null bitmaps of the three structs, then copies for their 25 fields,
	// in one allocation.
	nulls := make([]uint64, 28*words)
	bitmap := func(k int) []uint64 { return nulls[k*words : (k+1)*words : (k+1)*words] }
	pNull, aNull, bNull := bitmap(0), bitmap(1), bitmap(2)

	pID, pDate := fixedCol(types.Int64T, rows), fixedCol(types.TimestampT, rows)
	pName := newBytesCol(rows, nP*p.maxName)
	pEmail := newBytesCol(rows, nP*(6+1+4+4))
	pCC := newBytesCol(rows, nP*ccLen)
	pCity := newBytesCol(rows, nP*p.maxCity)
	pState := newBytesCol(rows, nP*2)
	pExtra := newBytesCol(rows, nP*extraMax(8+5+ccLen+4+2, avgPersonByteSize))

	aID, aInit, aReserve := fixedCol(types.Int64T, rows), fixedCol(types.Int64T, rows), fixedCol(types.Int64T, rows)
	aDate, aExpires := fixedCol(types.TimestampT, rows), fixedCol(types.TimestampT, rows)
	aSeller, aCat := fixedCol(types.Int64T, rows), fixedCol(types.Int64T, rows)
	aName := newBytesCol(rows, nA*19)
	aDesc := newBytesCol(rows, nA*99)
	aExtra := newBytesCol(rows, nA*extraMax(8+40, avgAuctionByteSize))

	bAuction, bBidder, bPrice := fixedCol(types.Int64T, rows), fixedCol(types.Int64T, rows), fixedCol(types.Int64T, rows)
	bDate := fixedCol(types.TimestampT, rows)
	bChannel := newBytesCol(rows, p.channelLen.capFor(nB))
	bURL := newBytesCol(rows, p.urlLen.capFor(nB))
	bExtra := newBytesCol(rows, p.bidExtraLen.capFor(nB))

	base := g.clock.base
	for i, n := 0, first; i < rows; i, n = i+1, n+stride {
		r := eventRNG(n)
		t := base + g.clock.offset(n)
		ts.Vals[i] = t
		w, bit := i>>6, uint64(1)<<(uint(i)&63)
		switch eventKind(n) {
		case kindBid:
			aNull[w] |= bit
			pNull[w] |= bit
			var auction int64
			if r.intn(hotAuctionRatio) > 0 {
				auction = lastBase0AuctionID(n) / hotBatch * hotBatch
			} else {
				auction = nextBase0AuctionID(n, &r)
			}
			var bidder int64
			if r.intn(hotBiddersRatio) > 0 {
				// The second person of the batch, so that hot bidders
				// and hot sellers differ.
				bidder = lastBase0PersonID(n)/hotBatch*hotBatch + 1
			} else {
				bidder = nextBase0PersonID(n, &r)
			}
			bAuction.Vals[i] = auction + firstAuctionID
			bBidder.Vals[i] = bidder + firstPersonID
			bPrice.Vals[i] = nextPrice(&r)
			var k int64
			if r.intn(hotChannelsRatio) > 0 {
				k = r.intn(int64(len(hotChannel)))
			} else {
				k = int64(len(hotChannel)) + r.intn(channelsNumber)
			}
			bChannel.put(i, p.channels.get(k))
			bURL.put(i, p.urls.get(k))
			bDate.Vals[i] = t
			bExtra.put(i, p.nextExtra(&r, bidFixedSize, avgBidByteSize))

		case kindAuction:
			pNull[w] |= bit
			bNull[w] |= bit
			aID.Vals[i] = lastBase0AuctionID(n) + firstAuctionID
			var seller int64
			if r.intn(hotSellersRatio) > 0 {
				seller = lastBase0PersonID(n) / hotBatch * hotBatch
			} else {
				seller = nextBase0PersonID(n, &r)
			}
			aSeller.Vals[i] = seller + firstPersonID
			aCat.Vals[i] = firstCategoryID + r.intn(numCategories)
			initial := nextPrice(&r)
			aInit.Vals[i] = initial
			aDate.Vals[i] = t
			aExpires.Vals[i] = t + g.auctionLength(n, &r)
			name := p.nextString(&r, 20)
			desc := p.nextString(&r, 100)
			aName.put(i, name)
			aDesc.put(i, desc)
			aReserve.Vals[i] = initial + nextPrice(&r)
			aExtra.put(i, p.nextExtra(&r, 8+len(name)+len(desc)+8+8+8+8+8, avgAuctionByteSize))

		default:
			aNull[w] |= bit
			bNull[w] |= bit
			pID.Vals[i] = lastBase0PersonID(n) + firstPersonID
			name := p.names[r.intn(int64(len(p.names)))]
			pName.putString(i, name)
			// email: nextString(7) "@" nextString(5) ".com"
			pEmail.begin(i)
			start := len(pEmail.data)
			pEmail.data = append(pEmail.data, p.nextString(&r, 7)...)
			pEmail.data = append(pEmail.data, '@')
			pEmail.data = append(pEmail.data, p.nextString(&r, 5)...)
			pEmail.data = append(pEmail.data, ".com"...)
			pEmail.end(i)
			emailLen := len(pEmail.data) - start
			// credit card: four groups of four digits.
			pCC.begin(i)
			for k := range 4 {
				if k > 0 {
					pCC.data = append(pCC.data, ' ')
				}
				d := r.intn(10000)
				pCC.data = append(pCC.data, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
			}
			pCC.end(i)
			city := usCities[r.intn(int64(len(usCities)))]
			state := usStates[r.intn(int64(len(usStates)))]
			pCity.putString(i, city)
			pState.putString(i, state)
			pDate.Vals[i] = t
			pExtra.put(i, p.nextExtra(&r, 8+len(name)+emailLen+ccLen+len(city)+len(state), avgPersonByteSize))
		}
	}

	// Finish: mark the NULL structs' fields NULL too (as
	// coldata.Struct.AppendNull does) and assemble.
	next := 3
	finish := func(t types.Type, null []uint64, fields ...coldata.Vector) *coldata.Struct {
		for _, f := range fields {
			dst := bitmap(next)
			next++
			copy(dst, null)
			f.Nulls().SetWords(dst)
		}
		s := &coldata.Struct{T: t, Fields: fields, Length: rows}
		s.N.SetWords(null)
		return s
	}
	person := finish(personType, pNull, pID, pName.vec(rows), pEmail.vec(rows), pCC.vec(rows), pCity.vec(rows), pState.vec(rows), pDate, pExtra.vec(rows))
	auction := finish(auctionType, aNull, aID, aName.vec(rows), aDesc.vec(rows), aInit, aReserve, aDate, aExpires, aSeller, aCat, aExtra.vec(rows))
	bid := finish(bidType, bNull, bAuction, bBidder, bPrice, bChannel.vec(rows), bURL.vec(rows), bDate, bExtra.vec(rows))
	return coldata.NewBatch([]coldata.Vector{person, auction, bid, ts}, rows)
}

// auctionLength is how long the auction created by event n stays open: on
// average twice the event time it takes to create numInFlightAuctions
// auctions, in whole milliseconds as the reference generator computes it.
func (g *gen) auctionLength(n int64, r *rng) int64 {
	const ms = 1_000_000
	horizon := (g.clock.offset(n+numEventsForAuctions) - g.clock.offset(n)) / ms
	return (1 + r.intn(max(2*horizon, 1))) * ms
}
