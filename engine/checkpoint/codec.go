package checkpoint

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/state"
)

// Kind says what a subtask's snapshot handle is, and so how its file is
// decoded. Every handle the runtime can be given is one of these; a new
// kind of handle needs a case here (TestEveryHandleKindRoundTrips).
type Kind string

const (
	// KindState is an operator's keyed and global state (*state.Snapshot):
	// aggregates, joins, window functions.
	KindState Kind = "state"
	// KindSplits is a source subtask's split positions
	// ([]connector.SplitState).
	KindSplits Kind = "splits"
	// KindTwoPhase is a two-phase-commit sink's pre-committed epochs
	// (ops.TwoPhaseState).
	KindTwoPhase Kind = "twophase"
	// KindNone is a subtask with no state (a stateless operator, a sink
	// that flushes): no file is written.
	KindNone Kind = "none"
)

const (
	splitsMagic   = "ARSP"
	twoPhaseMagic = "AR2P"
	codecVersion  = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeHandle returns the kind and file bytes of a snapshot handle.
func encodeHandle(h any) (Kind, []byte, error) {
	switch h := h.(type) {
	case nil:
		return KindNone, nil, nil
	case *state.Snapshot:
		b, err := h.MarshalBinary()
		return KindState, b, err
	case []connector.SplitState:
		b := append([]byte(splitsMagic), codecVersion)
		b = binary.AppendUvarint(b, uint64(len(h)))
		for _, s := range h {
			b = appendBytes(b, []byte(s.Split))
			b = appendOptBytes(b, s.State)
		}
		return KindSplits, appendCRC(b), nil
	case ops.TwoPhaseState:
		if len(h.Epochs) != len(h.Prepared) {
			return "", nil, fmt.Errorf("two-phase state with %d epochs and %d prepared values", len(h.Epochs), len(h.Prepared))
		}
		b := append([]byte(twoPhaseMagic), codecVersion)
		b = binary.AppendUvarint(b, uint64(len(h.Epochs)))
		for i, e := range h.Epochs {
			b = binary.AppendUvarint(b, e)
			b = appendOptBytes(b, h.Prepared[i])
		}
		return KindTwoPhase, appendCRC(b), nil
	}
	return "", nil, fmt.Errorf("cannot store a snapshot handle of type %T", h)
}

// decodeHandle is the inverse of encodeHandle.
func decodeHandle(k Kind, data []byte) (any, error) {
	switch k {
	case KindNone:
		return nil, nil
	case KindState:
		// data is this restore's own (read from the file): no copy.
		return state.DecodeSnapshot(data)
	case KindSplits:
		r, err := newReader(data, splitsMagic)
		if err != nil {
			return nil, err
		}
		n := r.count()
		out := make([]connector.SplitState, 0, n)
		for range n {
			name := r.bytes()
			st := r.optBytes()
			out = append(out, connector.SplitState{Split: string(name), State: st})
		}
		if err := r.end(); err != nil {
			return nil, err
		}
		return out, nil
	case KindTwoPhase:
		r, err := newReader(data, twoPhaseMagic)
		if err != nil {
			return nil, err
		}
		n := r.count()
		var out ops.TwoPhaseState
		for range n {
			out.Epochs = append(out.Epochs, r.uvarint())
			out.Prepared = append(out.Prepared, r.optBytes())
		}
		if err := r.end(); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown snapshot kind %q", k)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendOptBytes distinguishes nil (0) from empty (1, 0).
func appendOptBytes(b, s []byte) []byte {
	if s == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return appendBytes(b, s)
}

func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// reader decodes a framed handle; the first malformation sticks.
type reader struct {
	b   []byte
	err error
}

func newReader(data []byte, magic string) (*reader, error) {
	if len(data) < len(magic)+1+4 {
		return nil, fmt.Errorf("truncated: %d bytes", len(data))
	}
	if string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("not a %s handle (starts with %q)", magic, data[:len(magic)])
	}
	if v := data[len(magic)]; v != codecVersion {
		return nil, fmt.Errorf("handle version %d, this build reads version %d", v, codecVersion)
	}
	body := data[:len(data)-4]
	if sum, got := binary.LittleEndian.Uint32(data[len(data)-4:]), crc32.Checksum(body, castagnoli); sum != got {
		return nil, fmt.Errorf("checksum mismatch (stored %08x, computed %08x): truncated or damaged", sum, got)
	}
	return &reader{b: body[len(magic)+1:]}, nil
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("malformed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that must fit in what is left.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		if r.err == nil {
			r.err = fmt.Errorf("count %d exceeds the %d bytes left", n, len(r.b))
		}
		return 0
	}
	return int(n)
}

func (r *reader) bytes() []byte {
	n := r.count()
	if r.err != nil {
		return nil
	}
	out := append([]byte{}, r.b[:n]...)
	r.b = r.b[n:]
	return out
}

func (r *reader) optBytes() []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("truncated")
		return nil
	}
	tag := r.b[0]
	r.b = r.b[1:]
	switch tag {
	case 0:
		return nil
	case 1:
		return r.bytes()
	}
	r.err = fmt.Errorf("bad presence tag %d", tag)
	return nil
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

// Describe summarizes a decoded handle for people (arroyo checkpoints
// inspect).
func Describe(h any) string {
	switch h := h.(type) {
	case nil:
		return "no state"
	case *state.Snapshot:
		n := 0
		seen := map[int]bool{}
		for _, g := range h.Groups {
			n += len(g.Data)
			// (A key group may come in several parts, and a part may
			// hold several key groups.)
			if g.Spans == nil {
				seen[g.Group] = true
			}
			for _, sp := range g.Spans {
				seen[int(sp.Group)] = true
			}
		}
		groups := len(seen)
		if parts, refd := h.Referenced(); parts > 0 {
			return fmt.Sprintf("%d key groups (%d bytes, %d of them in %d parts referenced in earlier checkpoints' files), %d global entries", groups, n, refd, parts, len(h.Global))
		}
		return fmt.Sprintf("%d key groups (%d bytes), %d global entries", groups, n, len(h.Global))
	case []connector.SplitState:
		parts := make([]string, len(h))
		for i, s := range h {
			name := s.Split
			if name == "" {
				name = `""`
			}
			if s.State == nil {
				parts[i] = name + " (from its start)"
			} else {
				parts[i] = fmt.Sprintf("%s (%d-byte position)", name, len(s.State))
			}
		}
		return fmt.Sprintf("%d splits: %s", len(h), strings.Join(parts, ", "))
	case ops.TwoPhaseState:
		return fmt.Sprintf("pre-committed epochs %v, not yet committed", h.Epochs)
	}
	return fmt.Sprintf("%T", h)
}
