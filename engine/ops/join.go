package ops

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// Join is an equi-join of two inputs (program.Join): windowed (rows
// buffered per event time and key until the watermark passes them, then
// joined, with NULL padding for outer joins) or updating (inner, every row
// kept, joined as it arrives, emitting a changelog).
//
// Rows are kept encoded (coldata row codec): the key bytes index a map
// whose entry holds each side's rows. State goes into an engine/state
// snapshot at every barrier, by the key's key group (KeyedRestorer).
type Join struct {
	cfg      *program.Join
	task     TaskInfo
	in       [2][]types.Type // each input's row types (after the keys)
	out      []types.Type
	updating bool
	retract  [2]bool // input is updating
	late     *atomic.Int64

	watermark int64
	// windowed: buckets by event time
	buckets map[int64]map[string]*joinEntry
	// updating: one map
	all map[string]*joinEntry

	keyBuf []byte
	rowBuf []byte
	rows   []int32
	hashes []uint64
}

// joinEntry holds one key's rows of both sides: encoded row -> count.
type joinEntry struct {
	key  []byte
	hash uint64
	// seen is the largest event time of a row of the key (updating joins'
	// TTL).
	seen int64
	rows [2]map[string]int
	// order keeps each side's rows in arrival order, for a deterministic
	// output (windowed joins).
	order [2][]string
}

var (
	_ Operator         = (*Join)(nil)
	_ WatermarkHandler = (*Join)(nil)
	_ Checkpointer     = (*Join)(nil)
	_ KeyedRestorer    = (*Join)(nil)
)

// NewJoin builds a join subtask for node n.
func NewJoin(n *program.Node, task TaskInfo) (*Join, error) {
	j := &Join{cfg: n.Join, task: task, updating: n.Updating, late: task.counter("late_rows"), watermark: math.MinInt64, retract: n.Join.Retract}
	if j.task.MaxKeyGroups == 0 {
		j.task.MaxKeyGroups = state.MaxKeyGroups
	}
	h := 1
	if n.Updating {
		h = 2
	}
	for i, f := range n.Schema.Fields[:n.Schema.Len()-h] {
		side := 0
		if i >= n.Join.Left {
			side = 1
		}
		j.in[side] = append(j.in[side], f.Type)
	}
	for _, f := range n.Schema.Fields {
		j.out = append(j.out, f.Type)
	}
	if n.Join.Windowed {
		j.buckets = map[int64]map[string]*joinEntry{}
	} else {
		j.all = map[string]*joinEntry{}
	}
	return j, nil
}

func newJoinEntry(key []byte, hash uint64) *joinEntry {
	return &joinEntry{key: append([]byte(nil), key...), hash: hash, rows: [2]map[string]int{{}, {}}}
}

func (e *joinEntry) add(side int, row string, n int) {
	if e.rows[side][row] == 0 {
		e.order[side] = append(e.order[side], row)
	}
	e.rows[side][row] += n
}

// remove takes one copy of row away; false if there was none.
func (e *joinEntry) remove(side int, row string) bool {
	c := e.rows[side][row]
	if c == 0 {
		return false
	}
	if c == 1 {
		delete(e.rows[side], row)
		if i := slices.Index(e.order[side], row); i >= 0 {
			e.order[side] = slices.Delete(e.order[side], i, i+1)
		}
	} else {
		e.rows[side][row] = c - 1
	}
	return true
}

func (e *joinEntry) empty() bool { return len(e.rows[0]) == 0 && len(e.rows[1]) == 0 }

// Process implements Operator.
func (j *Join) Process(ctx context.Context, input int, b *coldata.Batch, out Collector) error {
	if b.Rows() == 0 {
		return nil
	}
	if input != 0 && input != 1 {
		return fmt.Errorf("join: input %d", input)
	}
	nk := j.cfg.Keys
	j.rows = j.rows[:0]
	b.ForEach(func(i int) { j.rows = append(j.rows, int32(i)) })
	n := len(j.rows)
	j.hashes = slices.Grow(j.hashes[:0], n)[:n]
	clear(j.hashes)
	for k := 0; k < nk; k++ {
		coldata.HashInto(b.Cols[k], j.rows, j.hashes)
	}
	ts := b.Cols[len(b.Cols)-1].(*coldata.Vec[int64]).Vals
	var ops []int8
	if j.retract[input] {
		ops = b.Cols[len(b.Cols)-2].(*coldata.Vec[int8]).Vals
	}
	nrow := len(j.in[input])
	var ob *changeBuilder
	if j.updating {
		ob = newChangeBuilder(j.task.Alloc, j.out, len(j.out)-2)
	}
	for k, r := range j.rows {
		j.keyBuf = j.keyBuf[:0]
		null := false
		for c := 0; c < nk; c++ {
			// SQL equality: a NULL key matches nothing.
			null = null || b.Cols[c].IsNull(int(r))
			j.keyBuf = coldata.AppendEncoded(j.keyBuf, b.Cols[c], int(r))
		}
		j.rowBuf = j.rowBuf[:0]
		for c := nk; c < nk+nrow; c++ {
			j.rowBuf = coldata.AppendEncoded(j.rowBuf, b.Cols[c], int(r))
		}
		if j.buckets != nil {
			t := ts[r]
			if t < j.watermark {
				j.late.Add(1)
				continue
			}
			bk := j.buckets[t]
			if bk == nil {
				bk = map[string]*joinEntry{}
				j.buckets[t] = bk
			}
			if null {
				// Kept apart (under a key no row can have: a presence
				// byte is 0 or 1) so an outer join still emits it, padded.
				j.keyBuf = binary.AppendUvarint(append(j.keyBuf[:0], 0xff), uint64(len(bk)))
			}
			e := bk[string(j.keyBuf)]
			if e == nil {
				e = newJoinEntry(j.keyBuf, j.hashes[k])
				bk[string(j.keyBuf)] = e
			}
			e.add(input, string(j.rowBuf), 1)
			continue
		}
		if null {
			continue
		}
		e := j.all[string(j.keyBuf)]
		if e == nil {
			e = newJoinEntry(j.keyBuf, j.hashes[k])
			j.all[string(j.keyBuf)] = e
		}
		e.seen = max(e.seen, ts[r])
		op := program.ChangeInsert
		if ops != nil && (ops[r] == program.ChangeDelete || ops[r] == program.ChangeUpdateBefore) {
			if !e.remove(input, string(j.rowBuf)) {
				if j.cfg.TTL > 0 {
					// Its row expired with the key's state: nothing of
					// it is left to retract.
					continue
				}
				return fmt.Errorf("join: input %d retracts a row it never sent", input)
			}
			op = program.ChangeDelete
		} else {
			e.add(input, string(j.rowBuf), 1)
		}
		for _, other := range e.order[1-input] {
			for c := e.rows[1-input][other]; c > 0; c-- {
				l, rr := j.rowBuf, []byte(other)
				if input == 1 {
					l, rr = rr, l
				}
				if err := ob.add(append(append([]byte(nil), l...), rr...), op, ts[r]); err != nil {
					return err
				}
			}
		}
		if e.empty() {
			delete(j.all, string(j.keyBuf))
		}
		if ob.n >= emitChunk {
			if err := out.Collect(ob.batch()); err != nil {
				return err
			}
			ob = newChangeBuilder(j.task.Alloc, j.out, len(j.out)-2)
		}
	}
	if ob != nil && ob.n > 0 {
		return out.Collect(ob.batch())
	}
	return nil
}

// OnWatermark implements WatermarkHandler: a windowed join joins and drops
// every bucket the watermark has passed.
func (j *Join) OnWatermark(ctx context.Context, w int64, out Collector) error {
	if w > j.watermark {
		j.watermark = w
	}
	if j.buckets == nil {
		if j.cfg.TTL > 0 && w != math.MaxInt64 {
			// SET updating_ttl: forget keys no row has touched for the
			// TTL (in event time), silently, as Flink's state TTL does:
			// their pairs were emitted and stay; later rows of the key
			// join only with rows that came after.
			horizon := w - int64(j.cfg.TTL)
			for k, e := range j.all {
				if e.seen < horizon {
					delete(j.all, k)
				}
			}
		}
		return nil
	}
	var due []int64
	for t := range j.buckets {
		if t < w {
			due = append(due, t)
		}
	}
	slices.Sort(due)
	for _, t := range due {
		if err := j.emitBucket(t, j.buckets[t], out); err != nil {
			return err
		}
		delete(j.buckets, t)
	}
	return nil
}

func (j *Join) emitBucket(t int64, bk map[string]*joinEntry, out Collector) error {
	keys := make([]string, 0, len(bk))
	for k := range bk {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	nl, nr := len(j.in[0]), len(j.in[1])
	var cols []coldata.Vector
	var tsv *coldata.Vec[int64]
	n := 0
	reset := func() {
		// A fresh slice: the batch just sent holds the previous one.
		cols = make([]coldata.Vector, 0, nl+nr+1)
		for _, tt := range j.out[:nl+nr] {
			cols = append(cols, j.task.Alloc.New(tt, 16))
		}
		tsv = coldata.AllocVecCap[int64](j.task.Alloc, types.TimestampT, 16)
		n = 0
	}
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := out.Collect(coldata.NewBatch(append(cols, tsv), n))
		reset()
		return err
	}
	reset()
	addSide := func(vs []coldata.Vector, row string) error {
		rest := []byte(row)
		var err error
		for _, v := range vs {
			if rest, err = coldata.DecodeAppend(v, rest); err != nil {
				return fmt.Errorf("internal error: joined row: %w", err)
			}
		}
		return nil
	}
	nulls := func(vs []coldata.Vector) {
		for _, v := range vs {
			v.AppendNull()
		}
	}
	emit := func(l, r *string) error {
		if l != nil {
			if err := addSide(cols[:nl], *l); err != nil {
				return err
			}
		} else {
			nulls(cols[:nl])
		}
		if r != nil {
			if err := addSide(cols[nl:nl+nr], *r); err != nil {
				return err
			}
		} else {
			nulls(cols[nl : nl+nr])
		}
		tsv.Append(t)
		n++
		if n >= emitChunk {
			return flush()
		}
		return nil
	}
	kind := j.cfg.Kind
	for _, k := range keys {
		e := bk[k]
		ls, rs := e.order[0], e.order[1]
		if len(ls) > 0 && len(rs) > 0 {
			for _, l := range ls {
				for lc := e.rows[0][l]; lc > 0; lc-- {
					for _, r := range rs {
						for rc := e.rows[1][r]; rc > 0; rc-- {
							if err := emit(&l, &r); err != nil {
								return err
							}
						}
					}
				}
			}
			continue
		}
		if len(rs) == 0 && (kind == program.JoinLeft || kind == program.JoinFull) {
			for _, l := range ls {
				for lc := e.rows[0][l]; lc > 0; lc-- {
					if err := emit(&l, nil); err != nil {
						return err
					}
				}
			}
		}
		if len(ls) == 0 && (kind == program.JoinRight || kind == program.JoinFull) {
			for _, r := range rs {
				for rc := e.rows[1][r]; rc > 0; rc-- {
					if err := emit(nil, &r); err != nil {
						return err
					}
				}
			}
		}
	}
	return flush()
}

// Checkpoint implements Checkpointer.
func (j *Join) Checkpoint(ctx context.Context, b Barrier, out Collector) (any, error) {
	st, err := taskStore(j.task, nil)
	if err != nil {
		return nil, err
	}
	t := st.Keyed(groupTable)
	var key, val []byte
	put := func(prefix []byte, e *joinEntry) {
		key = append(append(key[:0], prefix...), e.key...)
		val = binary.LittleEndian.AppendUint64(val[:0], e.hash)
		val = binary.AppendVarint(val, e.seen)
		for side := 0; side < 2; side++ {
			val = binary.AppendUvarint(val, uint64(len(e.order[side])))
			for _, r := range e.order[side] {
				val = binary.AppendUvarint(val, uint64(e.rows[side][r]))
				val = binary.AppendUvarint(val, uint64(len(r)))
				val = append(val, r...)
			}
		}
		t.Put(state.KeyGroupOf(e.hash, j.task.MaxKeyGroups), key, val, state.NoExpiry)
	}
	var prefix []byte
	if j.buckets != nil {
		for ts, bk := range j.buckets {
			prefix = binary.BigEndian.AppendUint64(prefix[:0], uint64(ts))
			for _, e := range bk {
				put(prefix, e)
			}
		}
	} else {
		for _, e := range j.all {
			put(nil, e)
		}
	}
	putWatermark(st, j.task, j.watermark)
	return st.Snapshot(b.Epoch), nil
}

// RestoreKeyed implements KeyedRestorer.
func (j *Join) RestoreKeyed(ctx context.Context, handles []any) error {
	st, err := taskStore(j.task, handles)
	if err != nil {
		return err
	}
	if wm, _, ok, err := restoredWatermark(st); err != nil {
		return err
	} else if ok {
		j.watermark = wm
	}
	t := st.Keyed(groupTable)
	lo, hi := st.KeyGroups()
	for kg := lo; kg < hi; kg++ {
		err := t.Range(kg, func(key, val []byte, _ int64) error {
			bad := fmt.Errorf("malformed join entry")
			var bucket map[string]*joinEntry
			if j.buckets != nil {
				if len(key) < 8 {
					return bad
				}
				ts := int64(binary.BigEndian.Uint64(key))
				key = key[8:]
				if bucket = j.buckets[ts]; bucket == nil {
					bucket = map[string]*joinEntry{}
					j.buckets[ts] = bucket
				}
			} else {
				bucket = j.all
			}
			if len(val) < 8 {
				return bad
			}
			e := newJoinEntry(key, binary.LittleEndian.Uint64(val))
			val = val[8:]
			seen, n := binary.Varint(val)
			if n <= 0 {
				return bad
			}
			e.seen, val = seen, val[n:]
			for side := 0; side < 2; side++ {
				cnt, n := binary.Uvarint(val)
				if n <= 0 {
					return bad
				}
				val = val[n:]
				for i := uint64(0); i < cnt; i++ {
					c, n1 := binary.Uvarint(val)
					if n1 <= 0 {
						return bad
					}
					val = val[n1:]
					l, n2 := binary.Uvarint(val)
					if n2 <= 0 || uint64(len(val)-n2) < l {
						return bad
					}
					e.add(side, string(val[n2:n2+int(l)]), int(c))
					val = val[n2+int(l):]
				}
			}
			bucket[string(e.key)] = e
			return nil
		})
		if err != nil {
			return fmt.Errorf("restore join: %w", err)
		}
	}
	return nil
}
