package expr

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// AggregateFunc is an aggregate function: a built-in (count, sum, min, max,
// avg) or, later, a UDAF. Resolve checks the argument types and picks an
// implementation; its error is shown to the user. Aggregates live in a
// Registry beside scalar functions (Registry.AddAggregate,
// LookupAggregate), in the same namespace.
//
// The planner does not call aggregates yet (there is no GROUP BY); this is
// the contract the window and updating-aggregate operators build on.
type AggregateFunc struct {
	Name        string
	Description string
	Resolve     func(args []types.Type) (*ResolvedAggregate, error)
	// ResolveConsts, when set, is used instead of Resolve by aggregates
	// with an argument that must be a constant (approx_percentile_cont's
	// percentile): the accumulator is built for that value, so Resolve
	// has to see it, and a bad constant is a planning error. consts has
	// one entry per argument: the constant's Go value as coldata.Value
	// returns it (int64, float64, string ...), or nil when the argument
	// is not a constant (or is NULL). Call ResolveWith, which picks.
	ResolveConsts func(args []types.Type, consts []any) (*ResolvedAggregate, error)
}

// ResolveWith resolves a for args, passing consts (nil, or one entry per
// argument, see ResolveConsts) to aggregates that need constants. The
// planner should always call this rather than Resolve.
func (a *AggregateFunc) ResolveWith(args []types.Type, consts []any) (*ResolvedAggregate, error) {
	if a.ResolveConsts != nil {
		if consts == nil {
			consts = make([]any, len(args))
		}
		if len(consts) != len(args) {
			return nil, fmt.Errorf("%s: %d constants for %d arguments", a.Name, len(consts), len(args))
		}
		return a.ResolveConsts(args, consts)
	}
	return a.Resolve(args)
}

// ResolvedAggregate is an aggregate bound to concrete argument types.
type ResolvedAggregate struct {
	// Args are the types the accumulator expects (the planner casts to
	// them, as for scalar functions). count(*) has none.
	Args []types.Type
	// Result is the type of Accumulator.Result's vector.
	Result types.Type
	// New returns an accumulator with no groups.
	New func() Accumulator
	// NewRetracting returns an accumulator that also implements
	// Retracter, for aggregates whose retracting form costs more than the
	// append-only one (min and max keep a multiset of the group's values
	// to retract, where New's keep one value). It is nil when New's
	// accumulator already retracts, or when the aggregate cannot retract
	// at all (approx_distinct, first_value ...). Operators over
	// append-only input use New; updating aggregates over a changelog use
	// Retracting.
	NewRetracting func() Accumulator
	// KeepNulls says that NULL arguments are values to this aggregate
	// (array_agg collects them, first_value may return one) rather than
	// rows to skip. Distinct uses it to decide whether NULL is a value.
	KeepNulls bool
	// Consts lists the arguments that must be constants (resolved through
	// ResolveConsts); the accumulator still receives them in Update, as
	// vectors, and ignores them.
	Consts []int
}

// Retracting returns a constructor of accumulators that implement
// Retracter (NewRetracting, else New when its accumulators retract), or nil
// when the aggregate cannot retract.
func (ra *ResolvedAggregate) Retracting() func() Accumulator {
	if ra.NewRetracting != nil {
		return ra.NewRetracting
	}
	if _, ok := ra.New().(Retracter); ok {
		return ra.New
	}
	return nil
}

// Accumulator holds an aggregate's state for many groups at once, one slot
// per group: a slot is a small dense integer the operator assigns (its
// group table's index). State is columnar, one slice per field indexed by
// slot, so a million groups are a few slices rather than a million objects.
// Slots grow on demand; an untouched slot is an empty group.
//
// Vectors follow Kernel's rules: args have physical length n, only the
// rows in sel (all n when sel is nil) are live, and slots[i] is the group
// of physical row i. NULL arguments are ignored (count(*), which has no
// argument, counts every live row). An accumulator is used by one goroutine
// at a time. After an error its state is undefined (the job fails).
type Accumulator interface {
	// Update adds the live rows to their groups.
	Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error
	// Merge folds group srcSlots[k] of src into group dst[k], for every k:
	// combining partial aggregates (hop windows' panes, a two-phase
	// aggregate's partials). src comes from the same ResolvedAggregate; it
	// may be the receiver itself when no dst[k] is also a srcSlots[j].
	Merge(dst []uint32, src Accumulator, srcSlots []uint32) error
	// Result returns a new vector of length len(slots) whose row k is the
	// result of group slots[k]. An empty group gives 0 for count and NULL
	// for the others. State is unchanged.
	Result(slots []uint32) (coldata.Vector, error)
	// AppendSnapshot appends group slot's state, encoded, to dst. The
	// encoding is self-contained: Restore may read it into another slot of
	// another accumulator in another process (state is redistributed by
	// key group on restore).
	AppendSnapshot(dst []byte, slot uint32) []byte
	// Restore replaces group slot's state by a snapshot; a malformed
	// snapshot is an error.
	Restore(slot uint32, snap []byte) error
	// Reset empties group slot, so the operator can reuse it.
	Reset(slot uint32)
}

// Retracter is implemented by accumulators whose aggregate can remove rows:
// an updating aggregate over a changelog applies deletes and the old side
// of updates with Retract. Retract undoes Update for the same rows;
// retracting more rows than a group has, or a value the group does not
// hold (where the accumulator keeps values), is an error. min and max
// retract through ResolvedAggregate.NewRetracting (a multiset per group).
type Retracter interface {
	Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error
}

// ErrSnapshot is returned (wrapped) by Restore for a malformed snapshot.
var ErrSnapshot = errors.New("malformed aggregate snapshot")

// liveRow returns the physical index of the k-th live row.
func liveRow(k int, sel []int32) int {
	if sel != nil {
		return int(sel[k])
	}
	return k
}

// maxSlot returns 1 + the largest slot of a live row (0 if none).
func maxSlot(slots []uint32, n int, sel []int32) (int, error) {
	if len(slots) < n {
		return 0, fmt.Errorf("aggregate: %d slots for %d rows", len(slots), n)
	}
	m := 0
	for k, c := 0, selLen(n, sel); k < c; k++ {
		if s := int(slots[liveRow(k, sel)]) + 1; s > m {
			m = s
		}
	}
	return m, nil
}

func maxOf(slots []uint32) int {
	m := 0
	for _, s := range slots {
		if int(s)+1 > m {
			m = int(s) + 1
		}
	}
	return m
}

// growTo extends s to at least n elements, zeroed, amortized.
func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	c := 2 * cap(s)
	if c < n {
		c = n
	}
	if c < 64 {
		c = 64
	}
	out := make([]T, n, c)
	copy(out, s)
	return out
}

func at[T any](s []T, slot uint32) T {
	var zero T
	if int(slot) < len(s) {
		return s[slot]
	}
	return zero
}

func checkArgs(name string, args []coldata.Vector, want int) error {
	if len(args) != want {
		return fmt.Errorf("%s: %d arguments, want %d", name, len(args), want)
	}
	return nil
}

// snapshot helpers: every snapshot starts with a one-byte tag naming the
// accumulator kind, so restoring another aggregate's state fails.
const (
	tagCount byte = iota + 1
	tagSumInt
	tagSumFloat
	tagAvg
	tagMinMax
	tagBag
	tagMoments
	tagBits
	tagBitCounts
	tagBool
	tagFirstLast
	tagArray
	tagDistinct
	tagHLL
	tagTDigest
	tagSumUint
	tagSumDecimal
)

// snapReader returns a reader of a slot's snapshot (a value: Restore runs
// once per restored group, and must not allocate).
func snapReader(snap []byte, tag byte, name string) (reader, error) {
	if len(snap) == 0 || snap[0] != tag {
		return reader{}, fmt.Errorf("%s: %w: wrong tag", name, ErrSnapshot)
	}
	return reader{b: snap[1:], name: name}, nil
}

type reader struct {
	b    []byte
	name string
	err  error
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("truncated integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail("truncated value")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n < 0 || int64(len(r.b)) < n {
		r.fail("truncated bytes")
		return nil
	}
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w: %s", r.name, ErrSnapshot, msg)
	}
}

// done returns the first error, or an error if bytes are left over.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

// nullsOf returns a null bitmap marking the rows k where empty(k).
func nullsOf(n int, empty func(k int) bool) []uint64 {
	var w []uint64
	for k := 0; k < n; k++ {
		if empty(k) {
			if w == nil {
				w = make([]uint64, (n+63)>>6)
			}
			setBit(w, k)
		}
	}
	return w
}
