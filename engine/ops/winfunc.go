package ops

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// WindowFunc computes window functions over the partitions of a windowed
// stream (program.WindowFunc). A partition key includes a window, and a
// window aggregate emits each window's rows with event time end - 1ns, so
// rows are buffered per (event time, partition key); when the watermark
// passes a bucket, each partition is sorted by the ORDER BY and the
// functions are computed over it, and the rows are emitted with them.
//
// A bucket is a rowSlab (a partition is a key, its rows those of side 0):
// no pointer per partition or row.
type WindowFunc struct {
	cfg      *program.WindowFunc
	task     TaskInfo
	out      []types.Type
	defaults []coldata.Vector // lag/lead defaults (length 1), nil: NULL
	late     *atomic.Int64
	// cross binds the comparison of a batch's ORDER BY values with
	// threshold rows, per ORDER BY column (compiled once for its type and
	// direction); bound holds them bound to batch boundB.
	cross  []crossBinder
	bound  []func(a int, u coldata.Vector, b int) int
	boundB *coldata.Batch

	watermark int64
	buckets   map[int64]*rowSlab
	pool      slabPool
	charge    stateCharge

	keyBuf []byte
	rowBuf []byte
	rows   []int32
	hashes []uint64
	keyIdx []int32
	due    []int64
	keep   []bool
	// prune's scratch: decoded columns, their ORDER BY comparators, the
	// sort order.
	scratch     []coldata.Vector
	scratchCmps []func(a, b int32) int
	order       []int32
}

// A partition with a limit (top-N) has, once pruned, a threshold: the
// ORDER BY values of the Limit-th best row the last prune kept, row aux of
// its slab's thr vectors (one per ORDER BY column). A later row that does
// not sort strictly before it cannot be among the best (ties go to the
// earlier row), so it is dropped without being buffered. A stale threshold
// only keeps more rows than needed.

var (
	_ Operator         = (*WindowFunc)(nil)
	_ WatermarkHandler = (*WindowFunc)(nil)
	_ Checkpointer     = (*WindowFunc)(nil)
	_ KeyedRestorer    = (*WindowFunc)(nil)
	_ Closer           = (*WindowFunc)(nil)
)

// NewWindowFunc builds a window-function subtask for node n.
func NewWindowFunc(n *program.Node, task TaskInfo) (*WindowFunc, error) {
	w := &WindowFunc{cfg: n.WindowFunc, task: task, late: task.counter("late_rows"), watermark: math.MinInt64,
		buckets: map[int64]*rowSlab{}, charge: stateCharge{acct: task.Account}}
	if w.task.MaxKeyGroups == 0 {
		w.task.MaxKeyGroups = state.MaxKeyGroups
	}
	for _, f := range n.Schema.Fields {
		w.out = append(w.out, f.Type)
	}
	for _, c := range w.cfg.Calls {
		var d coldata.Vector
		if c.Default != nil {
			var err error
			if d, err = expr.LiteralVector(task.Alloc, c.Default.Type, c.Default.Value); err != nil {
				return nil, fmt.Errorf("%s default: %w", c.Func, err)
			}
		}
		w.defaults = append(w.defaults, d)
	}
	for _, o := range w.cfg.Order {
		i := o.Col - w.cfg.Keys
		if i < 0 || i >= len(w.cfg.Row) {
			return nil, fmt.Errorf("window function: ORDER BY column %d is not a buffered column", o.Col)
		}
		w.cross = append(w.cross, compileCross(task.Alloc, w.cfg.Row[i], o.Desc, o.NullsFirst))
	}
	return w, nil
}

// bucket returns event time t's slab, creating it.
func (w *WindowFunc) bucket(t int64) *rowSlab {
	bk := w.buckets[t]
	if bk == nil {
		bk = w.pool.get()
		w.buckets[t] = bk
	}
	return bk
}

// Process implements Operator.
func (w *WindowFunc) Process(ctx context.Context, _ int, b *coldata.Batch, out Collector) error {
	if b.Rows() == 0 {
		return nil
	}
	nk := w.cfg.Keys
	w.rows = w.rows[:0]
	b.ForEach(func(i int) { w.rows = append(w.rows, int32(i)) })
	w.hashes = slices.Grow(w.hashes[:0], len(w.rows))[:len(w.rows)]
	clear(w.hashes)
	for k := 0; k < nk; k++ {
		coldata.HashInto(b.Cols[k], w.rows, w.hashes)
	}
	ts := b.Cols[len(b.Cols)-1].(*coldata.Vec[int64]).Vals
	var bk *rowSlab // event time bt's (rows of a batch mostly share one)
	var bt int64
	for k, r := range w.rows {
		t := ts[r]
		if t < w.watermark {
			w.late.Add(1)
			continue
		}
		w.keyBuf = w.keyBuf[:0]
		for c := 0; c < nk; c++ {
			w.keyBuf = coldata.AppendEncoded(w.keyBuf, b.Cols[c], int(r))
		}
		if bk == nil || t != bt {
			bk, bt = w.bucket(t), t
		}
		p := bk.lookup(w.keyBuf, w.hashes[k])
		if thr := bk.keys[p].aux; thr >= 0 && !w.beats(b, int(r), bk, int(thr)) {
			continue
		}
		w.rowBuf = w.rowBuf[:0]
		for c := nk; c < len(b.Cols)-1; c++ {
			w.rowBuf = coldata.AppendEncoded(w.rowBuf, b.Cols[c], int(r))
		}
		bk.appendRow(p, 0, w.rowBuf, 1)
		if l := w.cfg.Limit; l > 0 && int64(bk.keys[p].n[0]) >= 2*l+64 {
			if err := w.prune(bk, p); err != nil {
				return err
			}
		}
	}
	// Do not retain the batch.
	w.boundB = nil
	clear(w.bound)
	return nil
}

// prune keeps the Limit best rows of partition p (top-N), in arrival
// order, so that ties still go to the earlier row. Its decoded columns,
// comparators and order are scratch, reused from prune to prune: a top-N
// whose rows keep beating the threshold prunes every Limit+64 rows, and
// must not allocate for it.
func (w *WindowFunc) prune(bk *rowSlab, p int32) error {
	if !w.resetScratch() {
		w.scratch = w.scratch[:0]
		for _, tt := range w.cfg.Row {
			w.scratch = append(w.scratch, w.task.Alloc.New(tt, int(2*w.cfg.Limit+64)))
		}
		nk := w.cfg.Keys
		w.scratchCmps = w.scratchCmps[:0]
		for _, o := range w.cfg.Order {
			w.scratchCmps = append(w.scratchCmps, scratchComparer(w.scratch[o.Col-nk], o.Desc, o.NullsFirst))
		}
	}
	cols := w.scratch
	n, err := w.decodeInto(bk, p, cols)
	if err != nil {
		return err
	}
	w.order = slices.Grow(w.order[:0], n)[:n]
	for i := range w.order {
		w.order[i] = int32(i)
	}
	slices.SortFunc(w.order, w.cmpScratch)
	keep := w.order[:w.cfg.Limit]
	nk := w.cfg.Keys
	if bk.thr == nil {
		for _, o := range w.cfg.Order {
			bk.thr = append(bk.thr, w.task.Alloc.New(w.cfg.Row[o.Col-nk], 4))
		}
	}
	for i, o := range w.cfg.Order {
		coldata.AppendValue(bk.thr[i], cols[o.Col-nk], int(keep[len(keep)-1]))
	}
	bk.keys[p].aux = int32(bk.thr[0].Len() - 1)
	w.keep = slices.Grow(w.keep[:0], n)[:n]
	clear(w.keep)
	for _, k := range keep {
		w.keep[k] = true
	}
	bk.keepRows(p, 0, w.kept)
	bk.maybeCompact()
	return nil
}

// kept reports whether the i-th row of the partition being pruned stays.
func (w *WindowFunc) kept(i int) bool { return w.keep[i] }

// cmpScratch orders rows of the scratch columns by the ORDER BY, ties in
// arrival order.
func (w *WindowFunc) cmpScratch(a, b int32) int {
	for _, kc := range w.scratchCmps {
		if c := kc(a, b); c != 0 {
			return c
		}
	}
	return int(a) - int(b)
}

// resetScratch empties the scratch columns for reuse; false when there
// are none yet or one is of a type it cannot empty (structs, lists).
func (w *WindowFunc) resetScratch() bool {
	if w.scratch == nil {
		return false
	}
	for _, v := range w.scratch {
		if !resetVector(v) {
			return false
		}
	}
	return true
}

// resetVector empties a fixed-width or bytes vector, keeping its memory;
// false for other vectors.
func resetVector(v coldata.Vector) bool {
	switch x := v.(type) {
	case *coldata.Bytes:
		x.Offsets, x.Data = x.Offsets[:1], x.Data[:0]
		x.N.Reset()
		return true
	case *coldata.Vec[bool]:
		resetFixed(x)
	case *coldata.Vec[int8]:
		resetFixed(x)
	case *coldata.Vec[int16]:
		resetFixed(x)
	case *coldata.Vec[int32]:
		resetFixed(x)
	case *coldata.Vec[int64]:
		resetFixed(x)
	case *coldata.Vec[uint8]:
		resetFixed(x)
	case *coldata.Vec[uint16]:
		resetFixed(x)
	case *coldata.Vec[uint32]:
		resetFixed(x)
	case *coldata.Vec[uint64]:
		resetFixed(x)
	case *coldata.Vec[float32]:
		resetFixed(x)
	case *coldata.Vec[float64]:
		resetFixed(x)
	case *coldata.Vec[coldata.Int128]:
		resetFixed(x)
	default:
		return false
	}
	return true
}

func resetFixed[T coldata.Fixed](v *coldata.Vec[T]) {
	v.Vals = v.Vals[:0]
	v.N.Reset()
}

// scratchComparer is rowComparer for a scratch vector, whose values and
// nulls change between calls: it reads them at each call.
func scratchComparer(v coldata.Vector, desc, nullsFirst bool) func(a, b int32) int {
	sign := 1
	if desc {
		sign = -1
	}
	switch x := v.(type) {
	case *coldata.Vec[int64]:
		return func(a, b int32) int {
			if len(x.N.Words()) > 0 {
				if c, null := nullOrder(x.N.IsNull(int(a)), x.N.IsNull(int(b)), nullsFirst); null {
					return c
				}
			}
			return sign * cmpOrd(x.Vals[a], x.Vals[b])
		}
	case *coldata.Vec[uint64]:
		return func(a, b int32) int {
			if len(x.N.Words()) > 0 {
				if c, null := nullOrder(x.N.IsNull(int(a)), x.N.IsNull(int(b)), nullsFirst); null {
					return c
				}
			}
			return sign * cmpOrd(x.Vals[a], x.Vals[b])
		}
	case *coldata.Vec[float64]:
		return func(a, b int32) int {
			if len(x.N.Words()) > 0 {
				if c, null := nullOrder(x.N.IsNull(int(a)), x.N.IsNull(int(b)), nullsFirst); null {
					return c
				}
			}
			return sign * cmpFloat(x.Vals[a], x.Vals[b])
		}
	}
	return func(a, b int32) int { return compareRows(v, int(a), int(b), desc, nullsFirst) }
}

// beats reports whether row r of b sorts strictly before threshold row t
// of bk in ORDER BY order (b's columns are the keys, then the buffered
// columns, then the event time; an ORDER BY column is its index in b).
func (w *WindowFunc) beats(b *coldata.Batch, r int, bk *rowSlab, t int) bool {
	if w.boundB != b {
		w.bound = w.bound[:0]
		for i, o := range w.cfg.Order {
			w.bound = append(w.bound, w.cross[i](b.Cols[o.Col]))
		}
		w.boundB = b
	}
	for i, cmp := range w.bound {
		if c := cmp(r, bk.thr[i], t); c != 0 {
			return c < 0
		}
	}
	return false // a tie: the earlier row wins
}

// decode decodes partition p's rows into new columns.
func (w *WindowFunc) decode(bk *rowSlab, p int32) ([]coldata.Vector, int, error) {
	cols := make([]coldata.Vector, len(w.cfg.Row))
	for i, tt := range w.cfg.Row {
		cols[i] = w.task.Alloc.New(tt, int(bk.keys[p].n[0]))
	}
	n, err := w.decodeInto(bk, p, cols)
	return cols, n, err
}

// decodeInto appends partition p's rows to cols and returns their number.
func (w *WindowFunc) decodeInto(bk *rowSlab, p int32, cols []coldata.Vector) (int, error) {
	for r := bk.keys[p].head[0]; r >= 0; r = bk.rows[r].next {
		rest := bk.row(r)
		var err error
		for _, c := range cols {
			if rest, err = coldata.DecodeAppend(c, rest); err != nil {
				return 0, fmt.Errorf("internal error: buffered row: %w", err)
			}
		}
	}
	return int(bk.keys[p].n[0]), nil
}

// OnWatermark implements WatermarkHandler.
func (w *WindowFunc) OnWatermark(ctx context.Context, wm int64, out Collector) error {
	if wm > w.watermark {
		w.watermark = wm
	}
	due := w.due[:0]
	for t := range w.buckets {
		if t < wm {
			due = append(due, t)
		}
	}
	slices.Sort(due)
	w.due = due
	for _, t := range due {
		bk := w.buckets[t]
		w.keyIdx = bk.sortedKeys(w.keyIdx[:0])
		for _, p := range w.keyIdx {
			if err := w.emit(t, bk, p, out); err != nil {
				return err
			}
		}
		delete(w.buckets, t)
		w.pool.put(bk)
	}
	w.charge.set(w.stateBytes())
	return nil
}

// stateBytes is the memory the buffered rows hold.
func (w *WindowFunc) stateBytes() int {
	n := w.pool.memBytes()
	for _, bk := range w.buckets {
		n += bk.memBytes()
	}
	return n
}

// Close implements Closer: the state's memory is no longer charged.
func (w *WindowFunc) Close() error {
	w.charge.set(0)
	return nil
}

// emit sorts one partition and emits its rows with the functions' values.
func (w *WindowFunc) emit(t int64, bk *rowSlab, p int32, out Collector) error {
	cols, n, err := w.decode(bk, p)
	if err != nil {
		return err
	}
	nk := w.cfg.Keys
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	keyCmps := make([]func(a, b int32) int, len(w.cfg.Order))
	for i, o := range w.cfg.Order {
		keyCmps[i] = rowComparer(cols[o.Col-nk], o.Desc, o.NullsFirst)
	}
	cmp := func(a, b int32) int {
		for _, kc := range keyCmps {
			if c := kc(a, b); c != 0 {
				return c
			}
		}
		return 0
	}
	// Rows equal under the ORDER BY keep their arrival order (the index
	// breaks ties, so an unstable sort is stable here, and faster than
	// SortStableFunc's merges).
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp(a, b); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	if l := w.cfg.Limit; l > 0 && int64(n) > l {
		// Top-N: the rows past the limit are filtered out downstream.
		order, n = order[:l], int(l)
	}
	outCols := make([]coldata.Vector, 0, len(w.out))
	for i := 0; i < w.cfg.Cols; i++ {
		outCols = append(outCols, w.task.Alloc.Gather(cols[i], order))
	}
	// peerEnd[k] is one past the last row (in sorted order) equal to row k
	// under the ORDER BY; peerStart[k] the first.
	peerStart, peerEnd := make([]int, n), make([]int, n)
	for k := 0; k < n; {
		e := k + 1
		for e < n && cmp(order[k], order[e]) == 0 {
			e++
		}
		for i := k; i < e; i++ {
			peerStart[i], peerEnd[i] = k, e
		}
		k = e
	}
	for j, c := range w.cfg.Calls {
		var v coldata.Vector
		switch c.Func {
		case "row_number", "rank", "dense_rank":
			vals := make([]int64, n)
			dense := int64(0)
			for k := 0; k < n; k++ {
				if peerStart[k] == k {
					dense++
				}
				switch c.Func {
				case "row_number":
					vals[k] = int64(k + 1)
				case "rank":
					vals[k] = int64(peerStart[k] + 1)
				default:
					vals[k] = dense
				}
			}
			if c.Type.Kind == types.UInt64 {
				u := make([]uint64, n)
				for k, x := range vals {
					u[k] = uint64(x)
				}
				v = coldata.VecOf(w.task.Alloc, c.Type, u)
			} else {
				v = coldata.VecOf(w.task.Alloc, c.Type, vals)
			}
		case "percent_rank", "cume_dist":
			vals := make([]float64, n)
			for k := 0; k < n; k++ {
				if c.Func == "percent_rank" {
					if n > 1 {
						vals[k] = float64(peerStart[k]) / float64(n-1)
					}
				} else {
					vals[k] = float64(peerEnd[k]) / float64(n)
				}
			}
			v = coldata.VecOf(w.task.Alloc, c.Type, vals)
		default:
			src := cols[c.Arg-nk]
			dst := w.task.Alloc.New(c.Type, n)
			for k := 0; k < n; k++ {
				at := -1
				switch c.Func {
				case "lag":
					at = k - int(c.Offset)
				case "lead":
					at = k + int(c.Offset)
				case "first_value":
					at = 0
				case "last_value":
					// The default frame ends at the current row's last peer.
					at = peerEnd[k] - 1
				case "nth_value":
					if int(c.Offset) <= peerEnd[k] {
						at = int(c.Offset) - 1
					}
				}
				switch {
				case at >= 0 && at < n:
					coldata.AppendValue(dst, src, int(order[at]))
				case (c.Func == "lag" || c.Func == "lead") && w.defaults[j] != nil:
					coldata.AppendValue(dst, w.defaults[j], 0)
				default:
					dst.AppendNull()
				}
			}
			v = dst
		}
		outCols = append(outCols, v)
	}
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = t
	}
	outCols = append(outCols, coldata.VecOf(w.task.Alloc, types.TimestampT, ts))
	return out.Collect(coldata.NewBatch(outCols, n))
}

// rowComparer returns compareRows for v, specialized for NULL-free
// integer and float columns (the common ORDER BY of a count or a price).
func rowComparer(v coldata.Vector, desc, nullsFirst bool) func(a, b int32) int {
	if !v.Nulls().Any() {
		sign := 1
		if desc {
			sign = -1
		}
		switch x := v.(type) {
		case *coldata.Vec[int64]:
			vals := x.Vals
			return func(a, b int32) int { return sign * cmpOrd(vals[a], vals[b]) }
		case *coldata.Vec[uint64]:
			vals := x.Vals
			return func(a, b int32) int { return sign * cmpOrd(vals[a], vals[b]) }
		case *coldata.Vec[float64]:
			vals := x.Vals
			return func(a, b int32) int { return sign * cmpFloat(vals[a], vals[b]) }
		}
	}
	return func(a, b int32) int { return compareRows(v, int(a), int(b), desc, nullsFirst) }
}

// compareRows compares rows a and b of v for ORDER BY: NULLs last unless
// nullsFirst, reversed by desc (the NULL placement is not reversed).
func compareRows(v coldata.Vector, a, b int, desc, nullsFirst bool) int {
	return compareCross(v, a, v, b, desc, nullsFirst)
}

// compareCross compares row a of v with row b of u, a vector of the same
// type, as compareRows does.
func compareCross(v coldata.Vector, a int, u coldata.Vector, b int, desc, nullsFirst bool) int {
	na, nb := v.IsNull(a), u.IsNull(b)
	switch {
	case na && nb:
		return 0
	case na || nb:
		c := 1
		if na == nullsFirst {
			c = -1
		}
		return c
	}
	var c int
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		x, y := v.Vals[a], u.(*coldata.Vec[bool]).Vals[b]
		switch {
		case x == y:
		case !x:
			c = -1
		default:
			c = 1
		}
	case *coldata.Vec[int8]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[int8]).Vals[b])
	case *coldata.Vec[int16]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[int16]).Vals[b])
	case *coldata.Vec[int32]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[int32]).Vals[b])
	case *coldata.Vec[int64]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[int64]).Vals[b])
	case *coldata.Vec[uint8]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[uint8]).Vals[b])
	case *coldata.Vec[uint16]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[uint16]).Vals[b])
	case *coldata.Vec[uint32]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[uint32]).Vals[b])
	case *coldata.Vec[uint64]:
		c = cmpOrd(v.Vals[a], u.(*coldata.Vec[uint64]).Vals[b])
	case *coldata.Vec[float32]:
		c = cmpFloat(float64(v.Vals[a]), float64(u.(*coldata.Vec[float32]).Vals[b]))
	case *coldata.Vec[float64]:
		c = cmpFloat(v.Vals[a], u.(*coldata.Vec[float64]).Vals[b])
	case *coldata.Bytes:
		c = bytes.Compare(v.Get(a), u.(*coldata.Bytes).Get(b))
	case *coldata.Vec[coldata.Int128]:
		// DECIMAL (same scale within a column).
		c = v.Vals[a].Cmp(u.(*coldata.Vec[coldata.Int128]).Vals[b])
	default:
		// Structs and lists: by their encodings, a stable total order.
		c = bytes.Compare(coldata.AppendEncoded(nil, v, a), coldata.AppendEncoded(nil, u, b))
	}
	if desc {
		c = -c
	}
	return c
}

// crossBinder binds an ORDER BY column's comparison to a batch's vector
// v of its type: the returned function compares row a of v with row b of
// u (a threshold vector of the same type), as compareCross does. It is
// compiled once per ORDER BY column (compileCross) and bound once per
// batch, so a row costs a call, a type assertion and the comparison, not
// a type switch.
type crossBinder func(v coldata.Vector) func(a int, u coldata.Vector, b int) int

// compileCross returns the crossBinder for vectors of type t and one
// direction (al gives an empty vector of t: its layout picks the code).
func compileCross(al *coldata.Allocator, t types.Type, desc, nullsFirst bool) crossBinder {
	switch al.New(t, 0).(type) {
	case *coldata.Vec[int8]:
		return orderedCross[int8](desc, nullsFirst)
	case *coldata.Vec[int16]:
		return orderedCross[int16](desc, nullsFirst)
	case *coldata.Vec[int32]:
		return orderedCross[int32](desc, nullsFirst)
	case *coldata.Vec[int64]:
		return orderedCross[int64](desc, nullsFirst)
	case *coldata.Vec[uint8]:
		return orderedCross[uint8](desc, nullsFirst)
	case *coldata.Vec[uint16]:
		return orderedCross[uint16](desc, nullsFirst)
	case *coldata.Vec[uint32]:
		return orderedCross[uint32](desc, nullsFirst)
	case *coldata.Vec[uint64]:
		return orderedCross[uint64](desc, nullsFirst)
	case *coldata.Vec[float64]:
		return func(v coldata.Vector) func(a int, u coldata.Vector, b int) int {
			x := v.(*coldata.Vec[float64])
			xv, xn := x.Vals, x.N.Words()
			return func(a int, u coldata.Vector, b int) int {
				y := u.(*coldata.Vec[float64])
				if len(xn) > 0 || len(y.N.Words()) > 0 {
					if c, null := nullOrder(bitSet(xn, a), y.N.IsNull(b), nullsFirst); null {
						return c
					}
				}
				if desc {
					return -cmpFloat(xv[a], y.Vals[b])
				}
				return cmpFloat(xv[a], y.Vals[b])
			}
		}
	}
	// Other types (booleans, float32, decimals, strings, structs, lists):
	// rarer in an ORDER BY; compareCross switches on the type per row.
	return func(v coldata.Vector) func(a int, u coldata.Vector, b int) int {
		return func(a int, u coldata.Vector, b int) int { return compareCross(v, a, u, b, desc, nullsFirst) }
	}
}

// orderedCross is compileCross for an integer type.
func orderedCross[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](desc, nullsFirst bool) crossBinder {
	return func(v coldata.Vector) func(a int, u coldata.Vector, b int) int {
		x := v.(*coldata.Vec[T])
		xv, xn := x.Vals, x.N.Words()
		return func(a int, u coldata.Vector, b int) int {
			y := u.(*coldata.Vec[T])
			if len(xn) > 0 || len(y.N.Words()) > 0 {
				if c, null := nullOrder(bitSet(xn, a), y.N.IsNull(b), nullsFirst); null {
					return c
				}
			}
			p, q := xv[a], y.Vals[b]
			if desc {
				p, q = q, p
			}
			switch {
			case p < q:
				return -1
			case p > q:
				return 1
			}
			return 0
		}
	}
}

// bitSet reports whether bit i of a null bitmap's words is set.
func bitSet(w []uint64, i int) bool {
	return i>>6 < len(w) && w[i>>6]&(1<<(uint(i)&63)) != 0
}

// nullOrder orders two values of which at least one is NULL (null is
// false when neither is): NULLs last unless nullsFirst.
func nullOrder(na, nb, nullsFirst bool) (c int, null bool) {
	switch {
	case na && nb:
		return 0, true
	case na || nb:
		if na == nullsFirst {
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

func cmpOrd[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpFloat orders NaN above every number, as comparisons do.
func cmpFloat(x, y float64) int {
	switch xn, yn := x != x, y != y; {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// Checkpoint implements Checkpointer. Each partition is an entry: key
// (event time, big endian; the partition key's bytes), value (routing
// hash, count of rows, and per row its length and bytes).
func (w *WindowFunc) Checkpoint(ctx context.Context, b Barrier, out Collector) (any, error) {
	st, err := taskStore(w.task, nil)
	if err != nil {
		return nil, err
	}
	t := st.Keyed(groupTable)
	var key, val []byte
	for ts, bk := range w.buckets {
		for k := range bk.keys {
			e := &bk.keys[k]
			if !e.live {
				continue
			}
			key = append(binary.BigEndian.AppendUint64(key[:0], uint64(ts)), bk.key(int32(k))...)
			val = binary.LittleEndian.AppendUint64(val[:0], e.hash)
			val = binary.AppendUvarint(val, uint64(e.n[0]))
			for r := e.head[0]; r >= 0; r = bk.rows[r].next {
				row := bk.row(r)
				val = binary.AppendUvarint(val, uint64(len(row)))
				val = append(val, row...)
			}
			t.Put(state.KeyGroupOf(e.hash, w.task.MaxKeyGroups), key, val, state.NoExpiry)
		}
	}
	putWatermark(st, w.task, w.watermark)
	return st.Snapshot(b.Epoch), nil
}

// RestoreKeyed implements KeyedRestorer.
func (w *WindowFunc) RestoreKeyed(ctx context.Context, handles []any) error {
	st, err := taskStore(w.task, handles)
	if err != nil {
		return err
	}
	if wm, _, ok, err := restoredWatermark(st); err != nil {
		return err
	} else if ok {
		w.watermark = wm
	}
	t := st.Keyed(groupTable)
	lo, hi := st.KeyGroups()
	for kg := lo; kg < hi; kg++ {
		err := t.Range(kg, func(key, val []byte, _ int64) error {
			bad := fmt.Errorf("malformed window-function entry")
			if len(key) < 8 || len(val) < 8 {
				return bad
			}
			bk := w.bucket(int64(binary.BigEndian.Uint64(key)))
			p := bk.lookup(key[8:], binary.LittleEndian.Uint64(val))
			val = val[8:]
			cnt, n := binary.Uvarint(val)
			if n <= 0 {
				return bad
			}
			val = val[n:]
			for i := uint64(0); i < cnt; i++ {
				l, n := binary.Uvarint(val)
				if n <= 0 || uint64(len(val)-n) < l {
					return bad
				}
				bk.appendRow(p, 0, val[n:n+int(l)], 1)
				val = val[n+int(l):]
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("restore window functions: %w", err)
		}
	}
	w.charge.set(w.stateBytes())
	return nil
}
