package nexmark

import (
	"math"
	"math/bits"
	"strconv"
	"sync"
)

// The reference generator builds every string character by character from
// its random stream. Here strings are slices of pools of random text built
// once from a fixed seed, so an event costs a few draws and memcpys, and the
// output is identical in every process.

var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannel = []string{"Google", "Facebook", "Baidu", "Apple"}
)

const (
	poolSize = 1 << 16
	// minStringLength is the reference generator's MIN_STRING_LENGTH.
	minStringLength = 3
	// channelsNumber is the number of cold channels (CHANNELS_NUMBER).
	channelsNumber = 10_000
	// ccLen is the length of "dddd dddd dddd dddd".
	ccLen = 19
)

type textPools struct {
	// letters is random 'a'..'z' text: extra padding (nextExactString).
	letters []byte
	// spaced is random 'a'..'z' text with one space in 13: names and
	// descriptions (nextString).
	spaced []byte
	// names are all "First Last" combinations.
	names []string
	// Channel i and its URL: the hot channels first, then the cold ones
	// ("channel-0" ...). They are flat buffers rather than []string so the
	// garbage collector has no pointers to scan in them.
	channels, urls strPool
	// Longest values, for sizing a batch's buffers so appends never grow.
	maxName, maxCity int
	// Length distributions of the bid's variable-length fields, for sizing
	// buffers tightly (bids are 92% of the rows).
	channelLen, urlLen, bidExtraLen lenStats
}

// lenStats describes the length of a random string field.
type lenStats struct {
	mean, sd float64
	max      int
}

// capFor returns a buffer size for n values: n*max at most, otherwise the
// mean plus eight standard deviations plus one longest value, which a sum
// of n values exceeds with negligible probability (and if it does, append
// grows the buffer: one more allocation, nothing worse).
func (s lenStats) capFor(n int) int {
	c := int(float64(n)*s.mean+8*s.sd*math.Sqrt(float64(n))) + s.max
	return min(c, n*s.max)
}

// mixture returns the length statistics of a field that takes a uniformly
// chosen one of hot with probability ph and of cold otherwise.
func mixture(hot, cold []int, ph float64) lenStats {
	var s lenStats
	var m1, m2 float64
	for _, part := range []struct {
		ls []int
		p  float64
	}{{hot, ph}, {cold, 1 - ph}} {
		for _, l := range part.ls {
			w := part.p / float64(len(part.ls))
			m1 += w * float64(l)
			m2 += w * float64(l) * float64(l)
			s.max = max(s.max, l)
		}
	}
	s.mean, s.sd = m1, math.Sqrt(max(0, m2-m1*m1))
	return s
}

// extraStats returns the length statistics of nextExtra(currentSize, avg).
func extraStats(currentSize, avg int) lenStats {
	lo, d := extraMin(currentSize, avg), extraDelta(currentSize, avg)
	if d == 0 {
		return lenStats{mean: float64(lo), max: lo}
	}
	w := float64(2 * d)
	return lenStats{mean: float64(lo) + (w-1)/2, sd: math.Sqrt((w*w - 1) / 12), max: lo + 2*d - 1}
}

var (
	poolsOnce sync.Once
	pools     *textPools
)

// getPools returns the shared pools, building them on first use (about a
// millisecond; binaries that never run nexmark do not pay it).
func getPools() *textPools {
	poolsOnce.Do(func() { pools = buildPools() })
	return pools
}

func buildPools() *textPools {
	r := rng{s: 0x4e45584d41524b21}
	p := &textPools{letters: make([]byte, poolSize), spaced: make([]byte, poolSize)}
	for i := range p.letters {
		p.letters[i] = 'a' + byte(r.intn(26))
	}
	for i := range p.spaced {
		if r.intn(13) == 0 {
			p.spaced[i] = ' '
		} else {
			p.spaced[i] = 'a' + byte(r.intn(26))
		}
	}
	for _, f := range firstNames {
		for _, l := range lastNames {
			p.names = append(p.names, f+" "+l)
		}
	}
	for _, hc := range hotChannel {
		p.channels.add(hc)
		p.urls.add(baseURL(&r))
	}
	for i := range channelsNumber {
		p.channels.add("channel-" + strconv.Itoa(i))
		u := baseURL(&r)
		if r.bool() {
			// Math.abs(Integer.reverse(i)), including Java's
			// abs(MIN_VALUE) == MIN_VALUE.
			v := int32(bits.Reverse32(uint32(i)))
			if v < 0 {
				v = -v
			}
			u += "&channel_id=" + strconv.Itoa(int(v))
		}
		p.urls.add(u)
	}
	for _, s := range p.names {
		p.maxName = max(p.maxName, len(s))
	}
	for _, s := range usCities {
		p.maxCity = max(p.maxCity, len(s))
	}
	nHot := len(hotChannel)
	p.channelLen = mixture(p.channels.lens()[:nHot], p.channels.lens()[nHot:], 1-1.0/hotChannelsRatio)
	p.urlLen = mixture(p.urls.lens()[:nHot], p.urls.lens()[nHot:], 1-1.0/hotChannelsRatio)
	p.bidExtraLen = extraStats(bidFixedSize, avgBidByteSize)
	return p
}

// strPool is a list of strings in one buffer.
type strPool struct {
	data []byte
	off  []int32 // string i is data[off[i]:off[i+1]]
}

func (s *strPool) add(v string) {
	if s.off == nil {
		s.off = []int32{0}
	}
	s.data = append(s.data, v...)
	s.off = append(s.off, int32(len(s.data)))
}

func (s *strPool) get(i int64) []byte { return s.data[s.off[i]:s.off[i+1]] }

func (s *strPool) lens() []int {
	ls := make([]int, len(s.off)-1)
	for i := range ls {
		ls[i] = int(s.off[i+1] - s.off[i])
	}
	return ls
}

// baseURL is the reference getBaseUrl: three random path segments.
func baseURL(r *rng) string {
	b := []byte("https://www.nexmark.com/")
	for range 3 {
		b = appendNextString(b, r, 5, '_')
		b = append(b, '/')
	}
	return string(append(b, "item.htm?query=1"...))
}

// appendNextString is the reference nextString, character by character,
// for building pools. Trimming only removes spaces, so '_' segments keep
// their length.
func appendNextString(b []byte, r *rng, maxLength int, special byte) []byte {
	n := minStringLength + int(r.intn(int64(maxLength-minStringLength)))
	start := len(b)
	for range n {
		if r.intn(13) == 0 {
			b = append(b, special)
		} else {
			b = append(b, 'a'+byte(r.intn(26)))
		}
	}
	for len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	for len(b) > start && b[start] == ' ' {
		b = append(b[:start], b[start+1:]...)
	}
	return b
}

// nextString returns a random string of up to maxLength-1 characters (the
// reference nextString), as a slice of the spaced pool.
func (p *textPools) nextString(r *rng, maxLength int) []byte {
	n := minStringLength + int(r.intn(int64(maxLength-minStringLength)))
	off := int(r.intn(int64(poolSize - n)))
	s := p.spaced[off : off+n]
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// nextExtra returns padding that brings an event of currentSize bytes to
// desiredAverage on average (the reference nextExtra): uniform within 20%
// of the missing size.
func (p *textPools) nextExtra(r *rng, currentSize, desiredAverage int) []byte {
	if currentSize > desiredAverage {
		return nil
	}
	n := extraMin(currentSize, desiredAverage)
	if d := extraDelta(currentSize, desiredAverage); d > 0 {
		n += int(r.intn(int64(2 * d)))
	}
	off := int(r.intn(int64(poolSize - n)))
	return p.letters[off : off+n]
}

func extraDelta(currentSize, desiredAverage int) int {
	// Math.round(x * 0.2) for non-negative x.
	return (2*(desiredAverage-currentSize) + 5) / 10
}

func extraMin(currentSize, desiredAverage int) int {
	return desiredAverage - currentSize - extraDelta(currentSize, desiredAverage)
}

// extraMax bounds nextExtra's length for any current size >= minCurrent.
func extraMax(minCurrent, desiredAverage int) int {
	if minCurrent > desiredAverage {
		return 0
	}
	return extraMin(minCurrent, desiredAverage) + 2*extraDelta(minCurrent, desiredAverage)
}
