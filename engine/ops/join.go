package ops

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
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
// Rows are kept encoded (coldata row codec) in a rowSlab per event time
// (windowed) or one for everything (updating): each key's rows of each
// side in arrival order, with no pointer per key or row. State goes into
// an engine/state snapshot at every barrier, by the key's key group
// (KeyedRestorer).
type Join struct {
	cfg      *program.Join
	task     TaskInfo
	in       [2][]types.Type // each input's row types (after the keys)
	out      []types.Type
	updating bool
	retract  [2]bool // input is updating
	late     *atomic.Int64

	watermark int64
	// windowed: a slab per event time
	buckets map[int64]*rowSlab
	pool    slabPool
	// updating: one slab
	all    *rowSlab
	charge stateCharge

	keyBuf []byte
	rowBuf []byte
	pair   []byte
	rows   []int32
	hashes []uint64
	keyIdx []int32
	due    []int64
}

var (
	_ Operator         = (*Join)(nil)
	_ WatermarkHandler = (*Join)(nil)
	_ Checkpointer     = (*Join)(nil)
	_ KeyedRestorer    = (*Join)(nil)
	_ Closer           = (*Join)(nil)
)

// NewJoin builds a join subtask for node n.
func NewJoin(n *program.Node, task TaskInfo) (*Join, error) {
	j := &Join{cfg: n.Join, task: task, updating: n.Updating, late: task.counter("late_rows"), watermark: math.MinInt64, retract: n.Join.Retract,
		charge: stateCharge{acct: task.Account}}
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
		j.buckets = map[int64]*rowSlab{}
	} else {
		j.all = &rowSlab{}
		j.all.track(j.task.MaxKeyGroups)
	}
	return j, nil
}

// bucket returns event time t's slab, creating it.
func (j *Join) bucket(t int64) *rowSlab {
	bk := j.buckets[t]
	if bk == nil {
		bk = j.pool.get()
		bk.track(j.task.MaxKeyGroups)
		j.buckets[t] = bk
	}
	return bk
}

// nullKey returns a key of bk for a row with a NULL key: one no row can
// have (a presence byte is 0 or 1) and no other key of bk has, so the row
// is kept apart and an outer join still emits it, padded.
func nullKey(dst []byte, bk *rowSlab) []byte {
	dst = binary.AppendUvarint(append(dst[:0], 0xff), bk.nextNull)
	bk.nextNull++
	return dst
}

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
	var ob *changeBuilder // updating joins' output, made at the first pair
	var bk *rowSlab       // event time bt's (rows of a batch mostly share one)
	var bt int64
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
			if bk == nil || t != bt {
				bk, bt = j.bucket(t), t
			}
			var e int32
			if null {
				j.keyBuf = nullKey(j.keyBuf, bk)
				e = bk.addKey(j.keyBuf, j.hashes[k], false)
			} else {
				e = bk.lookup(j.keyBuf, j.hashes[k])
			}
			bk.appendRow(e, input, j.rowBuf, 1)
			continue
		}
		if null {
			continue
		}
		all := j.all
		e := all.lookup(j.keyBuf, j.hashes[k])
		all.touch(e, ts[r])
		op := program.ChangeInsert
		if ops != nil && (ops[r] == program.ChangeDelete || ops[r] == program.ChangeUpdateBefore) {
			if !all.removeRow(e, input, j.rowBuf) {
				if all.empty(e) {
					all.deleteKey(e)
				}
				if j.cfg.TTL > 0 {
					// Its row expired with the key's state: nothing of
					// it is left to retract.
					continue
				}
				return fmt.Errorf("join: input %d retracts a row it never sent", input)
			}
			op = program.ChangeDelete
		} else {
			all.appendRow(e, input, j.rowBuf, 1)
		}
		for o := all.keys[e].head[1-input]; o >= 0; o = all.rows[o].next {
			for c := all.rows[o].count; c > 0; c-- {
				l, rr := j.rowBuf, all.row(o)
				if input == 1 {
					l, rr = rr, l
				}
				j.pair = append(append(j.pair[:0], l...), rr...)
				if ob == nil {
					ob = newChangeBuilder(j.task.Alloc, j.out, len(j.out)-2)
				}
				if err := ob.add(j.pair, op, ts[r]); err != nil {
					return err
				}
			}
		}
		if all.empty(e) {
			all.deleteKey(e)
		}
		if ob != nil && ob.n >= emitChunk {
			if err := out.Collect(ob.batch()); err != nil {
				return err
			}
			ob = nil
		}
	}
	if j.all != nil {
		j.all.maybeCompact()
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
			all := j.all
			for k := range all.keys {
				if e := &all.keys[k]; e.live && e.seen < horizon {
					all.deleteKey(int32(k))
				}
			}
			all.maybeCompact()
		}
		j.charge.set(j.stateBytes())
		return nil
	}
	defer func() { j.charge.set(j.stateBytes()) }()
	due := j.due[:0]
	for t := range j.buckets {
		if t < w {
			due = append(due, t)
		}
	}
	slices.Sort(due)
	j.due = due
	for _, t := range due {
		bk := j.buckets[t]
		if err := j.emitBucket(t, bk, out); err != nil {
			return err
		}
		delete(j.buckets, t)
		j.pool.put(bk)
	}
	return nil
}

// stateBytes is the memory the join's state holds.
func (j *Join) stateBytes() int {
	if j.all != nil {
		return j.all.memBytes()
	}
	n := j.pool.memBytes()
	for _, bk := range j.buckets {
		n += bk.memBytes()
	}
	return n
}

// Close implements Closer: the state's memory is no longer charged.
func (j *Join) Close() error {
	j.charge.set(0)
	return nil
}

func (j *Join) emitBucket(t int64, bk *rowSlab, out Collector) error {
	j.keyIdx = bk.sortedKeys(j.keyIdx[:0])
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
	addSide := func(vs []coldata.Vector, row []byte) error {
		rest := row
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
	// emit emits row l joined with row r (-1: NULLs).
	emit := func(l, r int32) error {
		if l >= 0 {
			if err := addSide(cols[:nl], bk.row(l)); err != nil {
				return err
			}
		} else {
			nulls(cols[:nl])
		}
		if r >= 0 {
			if err := addSide(cols[nl:nl+nr], bk.row(r)); err != nil {
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
	// padded emits each row of one side with NULLs for the other.
	padded := func(head int32, left bool) error {
		for x := head; x >= 0; x = bk.rows[x].next {
			for c := bk.rows[x].count; c > 0; c-- {
				l, r := x, int32(-1)
				if !left {
					l, r = r, l
				}
				if err := emit(l, r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	kind := j.cfg.Kind
	for _, k := range j.keyIdx {
		ls, rs := bk.keys[k].head[0], bk.keys[k].head[1]
		if ls >= 0 && rs >= 0 {
			for l := ls; l >= 0; l = bk.rows[l].next {
				for lc := bk.rows[l].count; lc > 0; lc-- {
					for r := rs; r >= 0; r = bk.rows[r].next {
						for rc := bk.rows[r].count; rc > 0; rc-- {
							if err := emit(l, r); err != nil {
								return err
							}
						}
					}
				}
			}
			continue
		}
		if rs < 0 && (kind == program.JoinLeft || kind == program.JoinFull) {
			if err := padded(ls, true); err != nil {
				return err
			}
		}
		if ls < 0 && (kind == program.JoinRight || kind == program.JoinFull) {
			if err := padded(rs, false); err != nil {
				return err
			}
		}
	}
	return flush()
}

// Checkpoint implements Checkpointer. Each key is an entry: key (event
// time, big endian, for a windowed join; then the key's bytes), value
// (routing hash, last event time, then per side the rows: count of
// records, and per record copies, length, bytes). Each slab (a windowed
// join's event time, or an updating join's one) keeps its entries
// encoded by key group (rowSlab.encodeParts) and encodes again only the
// key groups a row reached since: the snapshot refers to the slabs'
// blobs (state.GroupBlobs), each with a state.PartSlot, so a durable
// checkpoint writes an unchanged key group of a slab once and later ones
// refer to it (engine/checkpoint).
func (j *Join) Checkpoint(ctx context.Context, b Barrier, out Collector) (any, error) {
	st, err := taskStore(j.task, nil)
	if err != nil {
		return nil, err
	}
	lo, hi := st.KeyGroups()
	tab := &slabTable{lo: lo}
	if j.buckets != nil {
		due := j.due[:0]
		for t := range j.buckets {
			due = append(due, t)
		}
		slices.Sort(due)
		j.due = due
		var prefix [8]byte
		for _, t := range due {
			bk := j.buckets[t]
			if bk.live == 0 {
				continue
			}
			binary.BigEndian.PutUint64(prefix[:], uint64(t))
			if err := bk.encodeParts(lo, hi, j.task.MaxKeyGroups, prefix[:], joinEntries); err != nil {
				return nil, err
			}
			tab.parts = append(tab.parts, bk.parts)
		}
	} else if j.all.live > 0 {
		if err := j.all.encodeParts(lo, hi, j.task.MaxKeyGroups, nil, joinEntries); err != nil {
			return nil, err
		}
		tab.parts = append(tab.parts, j.all.parts)
	}
	putWatermark(st, j.task, j.watermark)
	// The snapshot refers to the slabs' blobs: it copies nothing big.
	return st.SnapshotWith(b.Epoch, map[string]state.TableEncoder{groupTable: tab}, 0), nil
}

// slabTable is the join's keyed table "groups" for a snapshot: the
// encodings of its slabs (windowed: in order of event time).
type slabTable struct {
	lo    int
	parts []*slabParts
}

var (
	_ state.TableEncoder = (*slabTable)(nil)
	_ state.GroupSizer   = (*slabTable)(nil)
	_ state.GroupBlobs   = (*slabTable)(nil)
)

// Blobs implements state.GroupBlobs.
func (t *slabTable) Blobs(g int, add func([]byte, *state.PartSlot)) {
	for _, p := range t.parts {
		if i := g - t.lo; p.count[i] > 0 {
			add(p.bufs[i], p.slots[i])
		}
	}
}

// GroupLen implements state.TableEncoder.
func (t *slabTable) GroupLen(g int) int {
	n := 0
	for _, p := range t.parts {
		n += int(p.count[g-t.lo])
	}
	return n
}

// GroupSize implements state.GroupSizer.
func (t *slabTable) GroupSize(g int) int {
	n := 0
	for _, p := range t.parts {
		if i := g - t.lo; p.count[i] > 0 {
			n += len(p.bufs[i]) - groupHeaderSize(int(p.count[i]))
		}
	}
	return n
}

// AppendGroup implements state.TableEncoder.
func (t *slabTable) AppendGroup(b []byte, g int) []byte {
	for _, p := range t.parts {
		if i := g - t.lo; p.count[i] > 0 {
			b = append(b, p.bufs[i][groupHeaderSize(int(p.count[i])):]...)
		}
	}
	return b
}

// RestoreKeyed implements KeyedRestorer. It reads the entries in place
// from the restored snapshots (state.Store.RangeRestoredKeyed), twice:
// once to size each slab (keys, their bytes, rows' bytes), then to fill
// them.
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
	// slabOf returns the slab of an entry and the key without its
	// event time; the last one is kept (entries come slab by slab).
	var lastT int64
	var last *rowSlab
	slabOf := func(key []byte) (*rowSlab, []byte, error) {
		if j.buckets == nil {
			return j.all, key, nil
		}
		if len(key) < 8 {
			return nil, nil, errBadJoinEntry
		}
		t := int64(binary.BigEndian.Uint64(key))
		if last == nil || t != lastT {
			last, lastT = j.bucket(t), t
		}
		return last, key[8:], nil
	}
	// The slabs' sizes, and whether each was empty: a restore's keys
	// are distinct (one entry per key of a slab), so those of a slab
	// empty before it are added without a look-up.
	type size struct {
		keys, keyBytes, rows, data int
		fresh                      bool
	}
	sizes := map[*rowSlab]*size{}
	var sz *size
	var szOf *rowSlab
	sizeOf := func(bk *rowSlab) *size {
		if bk != szOf {
			if sz = sizes[bk]; sz == nil {
				sz = &size{fresh: len(bk.keys) == 0}
				sizes[bk] = sz
			}
			szOf = bk
		}
		return sz
	}
	err = st.RangeRestoredKeyed(groupTable, func(_ int, key, val []byte, _ int64) error {
		bk, key, err := slabOf(key)
		if err != nil {
			return err
		}
		sz := sizeOf(bk)
		sz.keys++
		sz.keyBytes += len(key)
		rows, data, _, err := readJoinValue(val, nil, 0)
		sz.rows += rows
		sz.data += data
		return err
	})
	if err != nil {
		return fmt.Errorf("restore join: %w", err)
	}
	for bk, sz := range sizes {
		bk.reserve(sz.keys, sz.keyBytes, sz.rows, sz.data)
	}
	last = nil
	err = st.RangeRestoredKeyed(groupTable, func(_ int, key, val []byte, _ int64) error {
		bk, key, err := slabOf(key)
		if err != nil {
			return err
		}
		if len(val) < 8 {
			return errBadJoinEntry
		}
		h := binary.LittleEndian.Uint64(val)
		var e int32
		switch {
		case len(key) > 0 && key[0] == 0xff:
			// A NULL-keyed row's own key: new ones must not take its
			// number.
			c, n := binary.Uvarint(key[1:])
			if n <= 0 {
				return errBadJoinEntry
			}
			bk.nextNull = max(bk.nextNull, c+1)
			e = bk.addKey(key, h, false)
		case sizeOf(bk).fresh:
			e = bk.addKey(key, h, true)
		default:
			e = bk.lookup(key, h)
		}
		_, _, seen, err := readJoinValue(val, bk, e)
		bk.touch(e, seen)
		return err
	})
	if err != nil {
		return fmt.Errorf("restore join: %w", err)
	}
	j.charge.set(j.stateBytes())
	return nil
}

var errBadJoinEntry = errors.New("malformed join entry")

// readJoinValue reads the value of a join's entry (Checkpoint): it
// returns the number of row records with copies and their bytes, and the
// last event time, and appends those records to key e of bk if bk is not
// nil.
func readJoinValue(val []byte, bk *rowSlab, e int32) (rows, data int, seen int64, err error) {
	if len(val) < 8 {
		return 0, 0, 0, errBadJoinEntry
	}
	val = val[8:] // the routing hash
	seen, n := binary.Varint(val)
	if n <= 0 {
		return 0, 0, 0, errBadJoinEntry
	}
	val = val[n:]
	for side := 0; side < 2; side++ {
		cnt, n := binary.Uvarint(val)
		if n <= 0 {
			return 0, 0, 0, errBadJoinEntry
		}
		val = val[n:]
		p := 0 // val[p:] is left to read
		for i := uint64(0); i < cnt; i++ {
			var c, l uint64
			if p+1 < len(val) && val[p] < 0x80 && val[p+1] < 0x80 {
				// One-byte copies and length (most rows).
				c, l = uint64(val[p]), uint64(val[p+1])
				p += 2
			} else {
				var n1, n2 int
				c, n1 = binary.Uvarint(val[p:])
				if n1 <= 0 || c > math.MaxInt32 {
					return 0, 0, 0, errBadJoinEntry
				}
				l, n2 = binary.Uvarint(val[p+n1:])
				if n2 <= 0 {
					return 0, 0, 0, errBadJoinEntry
				}
				p += n1 + n2
			}
			if uint64(len(val)-p) < l {
				return 0, 0, 0, errBadJoinEntry
			}
			if c > 0 {
				rows++
				data += int(l)
				if bk != nil {
					bk.appendRow(e, side, val[p:p+int(l)], int32(c))
				}
			}
			p += int(l)
		}
		val = val[p:]
	}
	return rows, data, seen, nil
}
