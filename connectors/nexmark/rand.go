package nexmark

import "math/bits"

// rng is a wyrand stream (one 64x64->128 multiply per draw). The generator
// seeds one per event by hashing the event number with splitmix64's
// finalizer, so every value of an event is a pure function of that number
// and any subtask can generate any event without generating the ones before
// it.
type rng struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// eventRNG returns the stream of event n. Hashing n first keeps the streams
// of neighbouring events apart.
func eventRNG(n int64) rng { return rng{s: mix64(uint64(n) ^ 0x6e65786d61726b00)} }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a value in [0, n) for n > 0 (Lemire's multiply-shift; the
// bias for the small bounds used here is below 2^-40).
func (r *rng) intn(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

// bool returns true with probability 1/2.
func (r *rng) bool() bool { return r.next()>>63 != 0 }
