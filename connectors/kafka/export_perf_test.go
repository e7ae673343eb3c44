package kafka

import (
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DecodePath is the source's fetch -> decode path without a broker: the
// benchmarks feed it records fetched beforehand, so what they measure per
// CPU second is this package's work and the format's, not the broker's.
type DecodePath struct{ s *source }

// NewDecodePath returns the decode path of source table t owning every
// partition (split "0/1").
func NewDecodePath(t *connector.Table) (*DecodePath, error) {
	cfg, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	s := &source{t: t, cfg: cfg, classes: []*class{{name: "0/1", r: 0, mod: 1, offsets: map[int32]int64{}}}}
	if s.asm, err = newAssembler(t, cfg); err != nil {
		return nil, err
	}
	return &DecodePath{s: s}, nil
}

// Decode decodes one fetch of partition p, as Poll does.
func (d *DecodePath) Decode(p int32, recs []*kgo.Record) error { return d.s.decode(p, recs) }

// Flush returns the batch assembled since the last Flush (nil if empty).
func (d *DecodePath) Flush() *coldata.Batch { return d.s.asm.flush() }

// Offset returns the next offset of partition p.
func (d *DecodePath) Offset(p int32) int64 { return d.s.classes[0].offsets[p] }
