package kafka

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchPools is the memory franz-go fetches into, shared by every source
// client: the records of a fetched batch and its decompressed bytes. The
// source recycles each record once Poll has decoded it (the decoders copy
// what they keep into column builders: connector.Decoder does not retain
// rec), so the steady state allocates neither; they were 41% of the bytes
// allocated by a Kafka -> Kafka copy (RATIONALE.md, "Kafka source: pooled
// fetch memory").
var fetchPools = &fetchPool{}

type fetchPool struct {
	recs  sync.Pool // *[]kgo.Record
	bytes sync.Pool // *[]byte
}

var (
	_ kgo.PoolRecords         = (*fetchPool)(nil)
	_ kgo.PoolDecompressBytes = (*fetchPool)(nil)
)

// GetRecords implements kgo.PoolRecords.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	if v, ok := p.recs.Get().(*[]kgo.Record); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]kgo.Record, n)
}

// PutRecords implements kgo.PoolRecords; franz-go has zeroed the records.
func (p *fetchPool) PutRecords(rs []kgo.Record) { p.recs.Put(&rs) }

// GetDecompressBytes implements kgo.PoolDecompressBytes. A buffer too small
// is grown by the client, and the grown one comes back in
// PutDecompressBytes, so pooled buffers settle at the batches' size.
func (p *fetchPool) GetDecompressBytes(compressed []byte, _ kgo.CompressionCodecType) []byte {
	if v, ok := p.bytes.Get().(*[]byte); ok {
		return (*v)[:0]
	}
	return make([]byte, 0, 4*len(compressed))
}

// PutDecompressBytes implements kgo.PoolDecompressBytes.
func (p *fetchPool) PutDecompressBytes(b []byte) { p.bytes.Put(&b) }
