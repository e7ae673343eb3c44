package ops

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// Aggregate computes a GROUP BY (program.Aggregate): over windows
// (tumbling and hopping windows through panes, sessions per key), emitted
// when the watermark passes a window's end; or, without a window, as an
// updating aggregate that emits a changelog.
//
// Groups are identified by their encoded key (coldata.AppendEncoded of the
// key columns), and their aggregate state lives in columnar accumulators,
// one slot per group (expr.Accumulator). A hopping window of width W and
// slide S keeps one set of groups per pane of length S: a row updates one
// pane, and a window is the merge of its W/S panes when it is emitted.
//
// State is snapshotted at every barrier into an engine/state store keyed by
// the group key's key group, so a restore at another parallelism gives
// each subtask exactly its groups (KeyedRestorer).
type Aggregate struct {
	cfg   *program.Aggregate
	task  TaskInfo
	calls []*expr.ResolvedAggregate
	nk    int
	// out is the output schema's types; nw is 1 with a window.
	out         []types.Type
	nw          int
	updatingIn  bool
	updatingOut bool
	late        *atomic.Int64

	// watermark is the last one seen; nothing older is accepted. Windows
	// ending at or before closed have been emitted.
	watermark int64
	closed    int64
	maxTs     int64

	// panes holds tumbling windows (a pane is a window) and hopping
	// windows' panes, by start; paneW is the pane length.
	panes map[int64]*groups
	paneW int64
	// blocks caches merges of aligned runs of panes (hopping windows).
	blocks map[blockKey]*groups
	// spare holds emptied group tables of closed windows (recycle), so a
	// new pane or a hop window's merge reuses their slices instead of
	// growing fresh ones row by row.
	spare []*groups
	// encScratch holds encodeSlots' buffers per key group, reused;
	// plainScratch encodePlain's buffer.
	encScratch   [][]byte
	plainScratch []byte
	// keyWidths are the widths of the group key's columns in the row
	// codec's key encoding when every one is fixed-width
	// (coldata.FixedKeyWidth), else nil: a checkpoint writes such keys
	// compactly (state.AppendCompactKey).
	keyWidths []uint8
	keyCols   state.KeyColumns // (Widths: keyWidths)
	// sessions by key; sess holds their accumulators, a slot per session.
	byKey map[string][]session
	sess  *groups
	// upd holds the groups of an updating aggregate.
	upd       *groups
	lastFlush time.Time
	now       func() time.Time

	// per-batch scratch
	keyBuf  []byte
	keyOff  []int
	rows    []int32
	hashes  []uint64
	slots   []uint32
	sel     []int32
	callSel []int32
}

type session struct {
	start, end int64 // [start, end): first row, last row + gap
	slot       uint32
}

var (
	_ Operator           = (*Aggregate)(nil)
	_ WatermarkHandler   = (*Aggregate)(nil)
	_ Checkpointer       = (*Aggregate)(nil)
	_ CheckpointNotifier = (*Aggregate)(nil)
	_ KeyedRestorer      = (*Aggregate)(nil)
	_ Finisher           = (*Aggregate)(nil)
	_ Ticker             = (*Aggregate)(nil)
)

// NewAggregate builds an aggregate subtask for node n.
func NewAggregate(n *program.Node, task TaskInfo) (*Aggregate, error) {
	cfg := n.Aggregate
	reg := task.Functions
	if reg == nil {
		reg = expr.Builtins()
	}
	a := &Aggregate{cfg: cfg, task: task, nk: cfg.Keys, updatingOut: n.Updating, late: task.counter("late_rows"),
		watermark: math.MinInt64, closed: math.MinInt64, maxTs: math.MinInt64, now: time.Now}
	for _, f := range n.Schema.Fields {
		a.out = append(a.out, f.Type)
	}
	for k := 0; k < a.nk && k < len(a.out); k++ {
		w := coldata.FixedKeyWidth(a.out[k])
		if w == 0 {
			a.keyWidths = nil
			break
		}
		a.keyWidths = append(a.keyWidths, uint8(w))
	}
	if a.keyWidths != nil && !state.ValidWidths(a.keyWidths) {
		a.keyWidths = nil // (too many columns)
	}
	a.keyCols.Widths = a.keyWidths
	if cfg.Window != nil {
		a.nw = 1
	}
	for _, c := range cfg.Calls {
		f, ok := reg.LookupAggregate(c.Func)
		if !ok {
			return nil, fmt.Errorf("unknown aggregate function %q", c.Func)
		}
		consts, err := aggConsts(c)
		if err != nil {
			return nil, err
		}
		in := c.InTypes
		if len(in) == 0 {
			in = c.ArgTypes
		}
		ra, err := f.ResolveWith(in, consts)
		if err != nil {
			return nil, fmt.Errorf("aggregate %s: %w", c.Func, err)
		}
		if !slices.EqualFunc(ra.Args, c.ArgTypes, types.Type.Equal) {
			return nil, fmt.Errorf("aggregate %s takes %v, the program says %v", c.Func, ra.Args, c.ArgTypes)
		}
		if c.Distinct {
			if ra, err = expr.Distinct(ra); err != nil {
				return nil, fmt.Errorf("aggregate %s: %w", c.Func, err)
			}
		}
		if cfg.Retract {
			// Over a changelog: the retracting accumulators (min and max
			// keep a multiset of values there).
			mk := ra.Retracting()
			if mk == nil {
				return nil, fmt.Errorf("aggregate %s cannot retract rows, so it cannot aggregate an updating stream (a changelog)", c.Func)
			}
			r := *ra
			r.New = mk
			ra = &r
		}
		if !ra.Result.Equal(c.Type) {
			return nil, fmt.Errorf("aggregate %s returns %s, the program says %s", c.Func, ra.Result, c.Type)
		}
		a.calls = append(a.calls, ra)
	}
	if cfg.Retract {
		if cfg.Window != nil {
			return nil, fmt.Errorf("a windowed aggregate cannot read an updating stream")
		}
		a.updatingIn = true
	}
	if a.MaxKeyGroups() == 0 {
		a.task.MaxKeyGroups = state.MaxKeyGroups
	}
	switch w := cfg.Window; {
	case w == nil:
		a.upd = a.newGroups(true)
		a.upd.updating = true

	case w.Kind == program.WindowSession:
		a.byKey = map[string][]session{}
		a.sess = a.newGroups(false)
	default:
		a.panes = map[int64]*groups{}
		a.paneW = int64(w.Width)
		if w.Kind == program.WindowHop {
			a.paneW = int64(w.Slide)
		}
	}
	return a, nil
}

// aggConsts returns the values of c's constant arguments (nil if none).
func aggConsts(c program.AggCall) ([]any, error) {
	if len(c.Consts) == 0 {
		return nil, nil
	}
	out := make([]any, len(c.Consts))
	for i, k := range c.Consts {
		if k == nil {
			continue
		}
		v, err := expr.LiteralValue(k.Type, k.Value)
		if err != nil {
			return nil, fmt.Errorf("aggregate %s: constant argument %d: %w", c.Func, i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

// MaxKeyGroups is the key-group count state is partitioned by.
func (a *Aggregate) MaxKeyGroups() int { return a.task.MaxKeyGroups }

// groups is a set of groups: each slot's encoded key (in one byte slab)
// and routing hash, the calls' accumulators, and, when indexed, an
// open-addressing table from key to slot probed with the routing hash
// (already computed for every row, and well mixed). Nothing in it holds a
// pointer per group, so a million groups are a few slices to the GC.
type groups struct {
	slab       []byte
	koff, klen []uint32
	hash       []uint64
	used       []bool
	// table holds slot+1 (0 empty, tomb deleted); len is a power of two.
	table   []uint32
	tombs   int
	indexed bool
	dead    int // bytes of the slab no live key uses
	accs    []expr.Accumulator
	free    []uint32
	live    int
	// updating: the slices below are kept.
	updating bool
	// Updating aggregates: live rows per group, the row (encoded keys and
	// results) last emitted, and the groups changed since the last flush.
	count   []int64
	emitted [][]byte
	touched []int64 // event time of the last change (TTL)
	dirty   []uint32
	isDirty []bool
	// A pane's entries as its last checkpoint encoded them, and whether
	// a row reached it since (Checkpoint reuses enc when not).
	enc      *encodedSlots
	encStale bool
}

const tomb = math.MaxUint32

func (a *Aggregate) newGroups(indexed bool) *groups {
	g := &groups{indexed: indexed, accs: make([]expr.Accumulator, len(a.calls))}
	a.newAccs(g)
	return g
}

// newAccs gives g new, empty accumulators.
func (a *Aggregate) newAccs(g *groups) {
	for i, ra := range a.calls {
		acc := ra.New()
		if u, ok := acc.(expr.AllocatorUser); ok {
			u.SetAllocator(a.task.Alloc)
		}
		g.accs[i] = acc
	}
}

// spareGroups returns an empty indexed group table: a recycled one when
// a closed window left one.
func (a *Aggregate) spareGroups() *groups {
	if n := len(a.spare); n > 0 {
		g := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return g
	}
	return a.newGroups(true)
}

// recycle empties g, which nothing references any more (its window has
// been emitted: emitted rows copy their keys and results), and keeps it
// for spareGroups. Its accumulators are new: their per-slot storage
// would need a Reset per slot. Its encoded checkpoint blobs are dropped,
// not reused (snapshots refer to them).
func (a *Aggregate) recycle(g *groups) {
	if g == nil || g.updating || !g.indexed || len(a.spare) >= 2 {
		return
	}
	g.slab, g.koff, g.klen, g.hash, g.used = g.slab[:0], g.koff[:0], g.klen[:0], g.hash[:0], g.used[:0]
	clear(g.table)
	g.tombs, g.dead, g.live, g.free = 0, 0, 0, g.free[:0]
	a.newAccs(g)
	// Its last checkpoint's encoding may still be referred to by a
	// snapshot being written: drop it, never reuse it.
	g.enc, g.encStale = nil, false
	a.spare = append(a.spare, g)
}

// key returns slot s's encoded key (valid until the next alloc).
func (g *groups) key(s uint32) []byte { return g.slab[g.koff[s] : g.koff[s]+g.klen[s]] }

// alloc returns a fresh slot for key.
func (g *groups) alloc(key []byte, hash uint64) uint32 {
	var s uint32
	if n := len(g.free); n > 0 {
		s = g.free[n-1]
		g.free = g.free[:n-1]
		g.hash[s] = hash
		g.used[s] = true
	} else {
		s = uint32(len(g.koff))
		g.koff = append(g.koff, 0)
		g.klen = append(g.klen, 0)
		g.hash = append(g.hash, hash)
		g.used = append(g.used, true)
		if g.updating {
			g.count = append(g.count, 0)
			g.emitted = append(g.emitted, nil)
			g.touched = append(g.touched, 0)
			g.isDirty = append(g.isDirty, false)
		}
	}
	g.koff[s], g.klen[s] = uint32(len(g.slab)), uint32(len(key))
	g.slab = append(g.slab, key...)
	if g.indexed {
		g.insert(s)
	}
	g.live++
	return s
}

func (g *groups) insert(s uint32) {
	if (g.live+g.tombs+1)*4 >= len(g.table)*3 {
		g.rehash()
	}
	mask := uint64(len(g.table) - 1)
	for i := g.hash[s] & mask; ; i = (i + 1) & mask {
		if t := g.table[i]; t == 0 || t == tomb {
			if t == tomb {
				g.tombs--
			}
			g.table[i] = s + 1
			return
		}
	}
}

// rehash rebuilds the table for the live groups, at least twice as big.
func (g *groups) rehash() {
	n := 64
	for n*3 <= (g.live+1)*8 {
		n *= 2
	}
	g.table = make([]uint32, n)
	g.tombs = 0
	mask := uint64(n - 1)
	for s, u := range g.used {
		if !u {
			continue
		}
		for i := g.hash[s] & mask; ; i = (i + 1) & mask {
			if g.table[i] == 0 {
				g.table[i] = uint32(s) + 1
				break
			}
		}
	}
}

// find returns the table index holding key, or -1.
func (g *groups) find(key []byte, hash uint64) int {
	if len(g.table) == 0 {
		return -1
	}
	mask := uint64(len(g.table) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		t := g.table[i]
		if t == 0 {
			return -1
		}
		if t != tomb && g.hash[t-1] == hash && string(g.key(t-1)) == string(key) {
			return int(i)
		}
	}
}

// lookup returns key's slot, allocating one for a new key.
func (g *groups) lookup(key []byte, hash uint64) uint32 {
	if i := g.find(key, hash); i >= 0 {
		return g.table[i] - 1
	}
	return g.alloc(key, hash)
}

// release empties slot s for reuse.
func (g *groups) release(s uint32) {
	if g.indexed {
		if i := g.find(g.key(s), g.hash[s]); i >= 0 {
			g.table[i] = tomb
			g.tombs++
		}
	}
	for _, acc := range g.accs {
		acc.Reset(s)
	}
	if g.updating {
		g.count[s] = 0
		g.emitted[s] = nil
	}
	g.used[s] = false
	g.dead += int(g.klen[s])
	g.free = append(g.free, s)
	g.live--
	if g.dead > 1<<20 && g.dead > len(g.slab)/2 {
		g.compact()
	}
}

// compact rewrites the slab with the live keys only.
func (g *groups) compact() {
	slab := make([]byte, 0, len(g.slab)-g.dead)
	for s, u := range g.used {
		if u {
			off := len(slab)
			slab = append(slab, g.key(uint32(s))...)
			g.koff[s] = uint32(off)
		}
	}
	g.slab, g.dead = slab, 0
}

func (g *groups) markDirty(s uint32) {
	if !g.isDirty[s] {
		g.isDirty[s] = true
		g.dirty = append(g.dirty, s)
	}
}

// liveSlots returns the slots in use, ascending.
func (g *groups) liveSlots() []uint32 {
	out := make([]uint32, 0, g.live)
	for s, u := range g.used {
		if u {
			out = append(out, uint32(s))
		}
	}
	return out
}

// prepare encodes the key and hash of every live row of b.
func (a *Aggregate) prepare(b *coldata.Batch) {
	a.rows = a.rows[:0]
	b.ForEach(func(i int) { a.rows = append(a.rows, int32(i)) })
	n := len(a.rows)
	a.hashes = slices.Grow(a.hashes[:0], n)[:n]
	clear(a.hashes)
	for k := 0; k < a.nk; k++ {
		coldata.HashInto(b.Cols[k], a.rows, a.hashes)
	}
	a.keyBuf = a.keyBuf[:0]
	a.keyOff = append(a.keyOff[:0], 0)
	for _, r := range a.rows {
		for k := 0; k < a.nk; k++ {
			a.keyBuf = coldata.AppendEncoded(a.keyBuf, b.Cols[k], int(r))
		}
		a.keyOff = append(a.keyOff, len(a.keyBuf))
	}
	if cap(a.slots) < b.Len {
		a.slots = make([]uint32, b.Len)
	}
	a.slots = a.slots[:b.Len]
}

func (a *Aggregate) key(k int) []byte { return a.keyBuf[a.keyOff[k]:a.keyOff[k+1]] }

// Process implements Operator.
func (a *Aggregate) Process(ctx context.Context, _ int, b *coldata.Batch, out Collector) error {
	if b.Rows() == 0 {
		return nil
	}
	a.prepare(b)
	ts := b.Cols[len(b.Cols)-1].(*coldata.Vec[int64]).Vals
	switch {
	case a.upd != nil:
		return a.processUpdating(b, ts)
	case a.byKey != nil:
		return a.processSessions(b, ts)
	}
	return a.processPanes(b, ts)
}

// processPanes adds rows to their tumbling window or hopping pane.
func (a *Aggregate) processPanes(b *coldata.Batch, ts []int64) error {
	// Most batches fall into one pane or two: group row indexes (into
	// a.rows) by pane start.
	type paneRows struct {
		start int64
		ks    []int32
	}
	var byPane []paneRows
	for k, r := range a.rows {
		t := ts[r]
		if t < a.watermark {
			a.late.Add(1)
			continue
		}
		ps := floorDiv(t, a.paneW) * a.paneW
		i := len(byPane) - 1
		if i < 0 || byPane[i].start != ps {
			i = -1
			for j := range byPane {
				if byPane[j].start == ps {
					i = j
					break
				}
			}
			if i < 0 {
				byPane = append(byPane, paneRows{start: ps})
				i = len(byPane) - 1
			}
		}
		byPane[i].ks = append(byPane[i].ks, int32(k))
	}
	for _, p := range byPane {
		g := a.panes[p.start]
		if g == nil {
			g = a.spareGroups()
			a.panes[p.start] = g
		}
		g.encStale = true
		a.sel = a.sel[:0]
		for _, k := range p.ks {
			r := a.rows[k]
			a.slots[r] = g.lookup(a.key(int(k)), a.hashes[k])
			a.sel = append(a.sel, r)
		}
		if err := a.update(g, b, a.sel, false); err != nil {
			return err
		}
	}
	return nil
}

// update feeds the rows sel of b (physical indexes, slots in a.slots) to
// every call of g, each through its FILTER; retract removes them instead.
func (a *Aggregate) update(g *groups, b *coldata.Batch, sel []int32, retract bool) error {
	for j, c := range a.cfg.Calls {
		s := sel
		if c.Filter >= 0 {
			f := b.Cols[c.Filter].(*coldata.Vec[bool])
			a.callSel = a.callSel[:0]
			for _, r := range sel {
				if !f.IsNull(int(r)) && f.Vals[r] {
					a.callSel = append(a.callSel, r)
				}
			}
			s = a.callSel
		}
		if len(s) == 0 {
			continue
		}
		args := make([]coldata.Vector, len(c.Args))
		for k, col := range c.Args {
			args[k] = b.Cols[col]
		}
		var err error
		if retract {
			err = g.accs[j].(expr.Retracter).Retract(a.slots, args, b.Len, s)
		} else {
			err = g.accs[j].Update(a.slots, args, b.Len, s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.Func, err)
		}
	}
	return nil
}

// processSessions adds rows to their key's sessions, merging the sessions
// a row bridges.
func (a *Aggregate) processSessions(b *coldata.Batch, ts []int64) error {
	gap := int64(a.cfg.Window.Gap)
	a.sel = a.sel[:0]
	for k, r := range a.rows {
		t := ts[r]
		if t < a.watermark {
			a.late.Add(1)
			continue
		}
		key := a.key(k)
		list := a.byKey[string(key)]
		n0 := len(list)
		hit := -1
		for i := 0; i < len(list); i++ {
			s := &list[i]
			if t >= s.end || t+gap <= s.start {
				continue
			}
			if hit < 0 {
				hit = i
				s.start, s.end = min(s.start, t), max(s.end, t+gap)
				continue
			}
			// The row bridges two sessions: fold the later into the first.
			// Rows waiting for their update may name the slot that goes.
			if err := a.update(a.sess, b, a.sel, false); err != nil {
				return err
			}
			a.sel = a.sel[:0]
			h := &list[hit]
			h.start, h.end = min(h.start, s.start), max(h.end, s.end)
			for j, acc := range a.sess.accs {
				if err := acc.Merge([]uint32{h.slot}, a.sess.accs[j], []uint32{s.slot}); err != nil {
					return err
				}
			}
			a.sess.release(s.slot)
			list = slices.Delete(list, i, i+1)
			i--
		}
		if hit < 0 {
			s := session{start: t, end: t + gap, slot: a.sess.alloc(key, a.hashes[k])}
			list = append(list, s)
			hit = len(list) - 1
			a.byKey[string(key)] = list
		} else if len(list) != n0 {
			a.byKey[string(key)] = list
		}
		a.slots[r] = list[hit].slot
		a.sel = append(a.sel, r)
	}
	return a.update(a.sess, b, a.sel, false)
}

// processUpdating applies a batch of rows (or changes) to their groups.
func (a *Aggregate) processUpdating(b *coldata.Batch, ts []int64) error {
	g := a.upd
	var ops []int8
	if a.updatingIn {
		ops = b.Cols[len(b.Cols)-2].(*coldata.Vec[int8]).Vals
	}
	a.sel = a.sel[:0]
	a.callSel = a.callSel[:0]
	var retracts []int32
	for k, r := range a.rows {
		s := g.lookup(a.key(k), a.hashes[k])
		a.slots[r] = s
		if t := ts[r]; t > a.maxTs {
			a.maxTs = t
		}
		g.touched[s] = ts[r]
		g.markDirty(s)
		if ops != nil && (ops[r] == program.ChangeDelete || ops[r] == program.ChangeUpdateBefore) {
			g.count[s]--
			retracts = append(retracts, r)
			continue
		}
		g.count[s]++
		a.sel = append(a.sel, r)
	}
	if err := a.update(g, b, a.sel, false); err != nil {
		return err
	}
	if len(retracts) > 0 {
		if err := a.update(g, b, retracts, true); err != nil {
			return err
		}
	}
	return nil
}

// OnWatermark implements WatermarkHandler: it emits the windows the
// watermark closes, or flushes an updating aggregate's changes.
func (a *Aggregate) OnWatermark(ctx context.Context, w int64, out Collector) error {
	if w > a.watermark {
		a.watermark = w
	}
	switch {
	case a.upd != nil:
		if w == math.MaxInt64 || a.cfg.FlushInterval == 0 || a.now().Sub(a.lastFlush) >= a.cfg.FlushInterval {
			return a.flush(out)
		}
		return nil
	case a.byKey != nil:
		return a.closeSessions(w, out)
	}
	err := a.closePanes(a.closed, w, out)
	a.closed = w
	return err
}

// closePanes emits every window whose end the watermark has reached, in
// order of end, and drops the panes no later window needs.
func (a *Aggregate) closePanes(prev, w int64, out Collector) error {
	width := int64(a.cfg.Window.Width)
	slide := a.paneW
	if len(a.panes) == 0 {
		return nil
	}
	// The windows to emit end in (prev, w] at multiples of the slide and
	// hold a pane: the union, over panes ps, of the ends ps+slide ..
	// ps+width (each window with data is visited once, however sparse the
	// panes are in time).
	starts := make([]int64, 0, len(a.panes))
	for ps := range a.panes {
		starts = append(starts, ps)
	}
	slices.Sort(starts)
	var ends []int64
	next := prev // ends up to here are taken
	for _, ps := range starts {
		e := max(ps+slide, floorDiv(next, slide)*slide+slide)
		for ; e <= ps+width && e <= w; e += slide {
			ends = append(ends, e)
		}
		next = max(next, min(ps+width, w))
	}
	for _, e := range ends {
		start := e - width
		if width == slide {
			if g := a.panes[start]; g != nil {
				if err := a.emitWindow(g, g.liveSlots(), start, e, out); err != nil {
					return err
				}
			}
			continue
		}
		// A hopping window is the merge of its panes, taken as O(log
		// width/slide) aligned blocks of 2^k panes, each merged once and
		// kept while a later window needs it.
		tmp := a.spareGroups()
		for cur := start; cur < e; {
			size := slide
			for size*2 <= e-cur && floorDiv(cur, size*2)*(size*2) == cur {
				size *= 2
			}
			g, err := a.block(cur, size)
			if err != nil {
				return err
			}
			if g != nil {
				if err := a.mergeInto(tmp, g); err != nil {
					return err
				}
			}
			cur += size
		}
		if tmp.live > 0 {
			if err := a.emitWindow(tmp, tmp.liveSlots(), start, e, out); err != nil {
				return err
			}
		}
		a.recycle(tmp)
	}
	for ps, g := range a.panes {
		if ps+width <= w {
			delete(a.panes, ps)
			if width == slide {
				// (A hopping window's blocks may share a pane's table.)
				a.recycle(g)
			}
		}
	}
	for k := range a.blocks {
		if k.start+width <= w {
			delete(a.blocks, k)
		}
	}
	return nil
}

// blockKey names the merge of the panes [start, start+size).
type blockKey struct{ start, size int64 }

// block returns the merged groups of the panes [start, start+size) (size a
// power-of-two multiple of the slide, start aligned to it), nil if they are
// all empty. Only panes the watermark has passed are merged, so a block
// never changes once built.
func (a *Aggregate) block(start, size int64) (*groups, error) {
	if size == a.paneW {
		return a.panes[start], nil
	}
	k := blockKey{start, size}
	if g, ok := a.blocks[k]; ok {
		return g, nil
	}
	l, err := a.block(start, size/2)
	if err != nil {
		return nil, err
	}
	r, err := a.block(start+size/2, size/2)
	if err != nil {
		return nil, err
	}
	var g *groups
	switch {
	case l == nil:
		g = r
	case r == nil:
		g = l
	default:
		g = a.newGroups(true)
		if err := a.mergeInto(g, l); err != nil {
			return nil, err
		}
		if err := a.mergeInto(g, r); err != nil {
			return nil, err
		}
	}
	if a.blocks == nil {
		a.blocks = map[blockKey]*groups{}
	}
	a.blocks[k] = g
	return g, nil
}

// mergeInto folds every group of src into dst.
func (a *Aggregate) mergeInto(dst, src *groups) error {
	slots := src.liveSlots()
	to := make([]uint32, len(slots))
	for i, s := range slots {
		to[i] = dst.lookup(src.key(s), src.hash[s])
	}
	for j := range dst.accs {
		if err := dst.accs[j].Merge(to, src.accs[j], slots); err != nil {
			return fmt.Errorf("%s: %w", a.cfg.Calls[j].Func, err)
		}
	}
	return nil
}

// closeSessions emits and drops the sessions that ended before w.
func (a *Aggregate) closeSessions(w int64, out Collector) error {
	var closed []session
	for k, list := range a.byKey {
		kept := list[:0]
		for _, s := range list {
			if s.end <= w {
				closed = append(closed, s)
			} else {
				kept = append(kept, s)
			}
		}
		if len(kept) == 0 {
			delete(a.byKey, k)
		} else {
			a.byKey[k] = kept
		}
	}
	// Deterministic output: by end, then start, then key.
	sort.Slice(closed, func(i, j int) bool {
		x, y := closed[i], closed[j]
		if x.end != y.end {
			return x.end < y.end
		}
		if x.start != y.start {
			return x.start < y.start
		}
		return string(a.sess.key(x.slot)) < string(a.sess.key(y.slot))
	})
	for len(closed) > 0 {
		n := min(len(closed), emitChunk)
		chunk := closed[:n]
		closed = closed[n:]
		slots := make([]uint32, n)
		starts := make([]int64, n)
		ends := make([]int64, n)
		for i, s := range chunk {
			slots[i], starts[i], ends[i] = s.slot, s.start, s.end
		}
		if err := a.emit(a.sess, slots, starts, ends, out); err != nil {
			return err
		}
		for _, s := range slots {
			a.sess.release(s)
		}
	}
	return nil
}

// emitChunk bounds the rows of one emitted batch.
const emitChunk = 4096

func (a *Aggregate) emitWindow(g *groups, slots []uint32, start, end int64, out Collector) error {
	for len(slots) > 0 {
		n := min(len(slots), emitChunk)
		starts, ends := make([]int64, n), make([]int64, n)
		for i := range starts {
			starts[i], ends[i] = start, end
		}
		if err := a.emit(g, slots[:n], starts, ends, out); err != nil {
			return err
		}
		slots = slots[n:]
	}
	return nil
}

// emit sends the rows of groups slots of g: keys, window, results, event
// time end - 1ns.
func (a *Aggregate) emit(g *groups, slots []uint32, starts, ends []int64, out Collector) error {
	n := len(slots)
	cols := make([]coldata.Vector, 0, len(a.out))
	for k := 0; k < a.nk; k++ {
		cols = append(cols, a.task.Alloc.New(a.out[k], n))
	}
	for _, s := range slots {
		rest := g.key(s)
		var err error
		for k := 0; k < a.nk; k++ {
			if rest, err = coldata.DecodeAppend(cols[k], rest); err != nil {
				return fmt.Errorf("internal error: group key: %w", err)
			}
		}
	}
	win := a.task.Alloc.Struct(program.WindowType, []coldata.Vector{
		coldata.VecOf(a.task.Alloc, types.TimestampT, starts),
		coldata.VecOf(a.task.Alloc, types.TimestampT, ends),
	}, n)
	cols = append(cols, win)
	for j, acc := range g.accs {
		v, err := acc.Result(slots)
		if err != nil {
			return fmt.Errorf("%s: %w", a.cfg.Calls[j].Func, err)
		}
		cols = append(cols, v)
	}
	ts := make([]int64, n)
	for i, e := range ends {
		ts[i] = e - 1
	}
	cols = append(cols, coldata.VecOf(a.task.Alloc, types.TimestampT, ts))
	return out.Collect(coldata.NewBatch(cols, n))
}

// flush emits the changes to the groups changed since the last flush:
// a create for a new group, an update pair for a changed one, a delete
// for one whose rows were all retracted (or that expired).
func (a *Aggregate) flush(out Collector) error {
	g := a.upd
	a.lastFlush = a.now()
	if a.cfg.TTL > 0 && a.watermark != math.MinInt64 && a.watermark != math.MaxInt64 {
		// (The end-of-input watermark expires nothing: the job is ending,
		// not time passing.)
		// Forget groups idle for longer than the TTL: a delete of their
		// row tells downstream.
		horizon := a.watermark - int64(a.cfg.TTL)
		for s, u := range g.used {
			if u && g.count[s] > 0 && g.touched[s] < horizon && !g.isDirty[s] {
				g.count[s] = 0
				g.markDirty(uint32(s))
			}
		}
	}
	if len(g.dirty) == 0 {
		return nil
	}
	dirty := g.dirty
	g.dirty = nil
	// New results of the groups that still have rows.
	var liveSlots []uint32
	for _, s := range dirty {
		g.isDirty[s] = false
		if g.count[s] > 0 {
			liveSlots = append(liveSlots, s)
		}
	}
	results := make([]coldata.Vector, len(g.accs))
	for j, acc := range g.accs {
		v, err := acc.Result(liveSlots)
		if err != nil {
			return fmt.Errorf("%s: %w", a.cfg.Calls[j].Func, err)
		}
		results[j] = v
	}
	b := newChangeBuilder(a.task.Alloc, a.out, a.nk+len(g.accs))
	ts := a.maxTs
	li := 0
	var row []byte
	for _, s := range dirty {
		old := g.emitted[s]
		if g.count[s] <= 0 {
			if old != nil {
				if err := b.add(old, program.ChangeDelete, ts); err != nil {
					return err
				}
			}
			g.release(s)
			continue
		}
		row = append(row[:0], g.key(s)...)
		for j := range results {
			row = coldata.AppendEncoded(row, results[j], li)
		}
		li++
		switch {
		case old == nil:
			if err := b.add(row, program.ChangeInsert, ts); err != nil {
				return err
			}
		case string(old) == string(row):
			continue
		default:
			if err := b.add(old, program.ChangeUpdateBefore, ts); err != nil {
				return err
			}
			if err := b.add(row, program.ChangeUpdateAfter, ts); err != nil {
				return err
			}
		}
		g.emitted[s] = append(g.emitted[s][:0], row...)
		if b.n >= emitChunk {
			if err := out.Collect(b.batch()); err != nil {
				return err
			}
			b = newChangeBuilder(a.task.Alloc, a.out, a.nk+len(g.accs))
		}
	}
	if b.n > 0 {
		return out.Collect(b.batch())
	}
	return nil
}

// changeBuilder builds a batch of changelog rows from encoded rows.
type changeBuilder struct {
	cols []coldata.Vector
	nv   int
	ops  *coldata.Vec[int8]
	ts   *coldata.Vec[int64]
	n    int
}

func newChangeBuilder(al *coldata.Allocator, out []types.Type, visible int) *changeBuilder {
	b := &changeBuilder{nv: visible, ops: coldata.AllocVecCap[int8](al, program.ChangeKindType, 16), ts: coldata.AllocVecCap[int64](al, types.TimestampT, 16)}
	for _, t := range out[:visible] {
		b.cols = append(b.cols, al.New(t, 16))
	}
	return b
}

func (b *changeBuilder) add(row []byte, op int8, ts int64) error {
	var err error
	for _, c := range b.cols {
		if row, err = coldata.DecodeAppend(c, row); err != nil {
			return fmt.Errorf("internal error: emitted row: %w", err)
		}
	}
	b.ops.Append(op)
	b.ts.Append(ts)
	b.n++
	return nil
}

func (b *changeBuilder) batch() *coldata.Batch {
	cols := append(b.cols, b.ops, b.ts)
	return coldata.NewBatch(cols, b.n)
}

// TickInterval implements Ticker: an updating aggregate flushes every
// FlushInterval of processing time, even while the watermark stands
// still.
func (a *Aggregate) TickInterval() time.Duration {
	if a.upd == nil {
		return 0
	}
	return a.cfg.FlushInterval
}

// Tick implements Ticker.
func (a *Aggregate) Tick(ctx context.Context, out Collector) error {
	if a.upd == nil || a.now().Sub(a.lastFlush) < a.cfg.FlushInterval {
		return nil
	}
	return a.flush(out)
}

// Finish implements Finisher. The final watermark has closed every window
// and flushed every change; nothing is left to emit.
func (a *Aggregate) Finish(ctx context.Context, out Collector) error {
	if a.upd != nil {
		return a.flush(out)
	}
	return nil
}

// State layout (keyed.go): in table "groups", key = window or pane bytes +
// group key, value = the group's snapshot.

// Checkpoint implements Checkpointer: an updating aggregate first flushes
// its changes (so no pending change is state), then every group's key and
// accumulators go into a state snapshot, written straight from the groups
// into the snapshot's encoding (state.TableEncoder). A tumbling or hopping
// pane keeps its encoding and reuses it at the next
// checkpoint if no row reached it since (encStale): a checkpoint encodes
// only the panes that changed, and its snapshot refers to the panes'
// encodings (state.GroupParts: a part per pane, or per pane and key group
// for a large one), from which the file is written. Each part has a
// state.PartSlot, so a durable checkpoint writes an unchanged pane's parts
// once and later ones refer to them (engine/checkpoint); once written,
// their bytes are dropped (CheckpointDone).
func (a *Aggregate) Checkpoint(ctx context.Context, b Barrier, out Collector) (any, error) {
	if a.upd != nil && !b.Stop {
		if err := a.flush(out); err != nil {
			return nil, err
		}
	}
	st, err := taskStore(a.task, nil)
	if err != nil {
		return nil, err
	}
	lo, hi := st.KeyGroups()
	tab := &encodedTable{lo: lo}
	var prefix []byte
	switch {
	case a.upd != nil:
		g := a.upd
		slots := g.liveSlots()
		kept := slots[:0]
		for _, s := range slots {
			if g.isDirty[s] && g.count[s] <= 0 && g.emitted[s] == nil {
				continue
			}
			kept = append(kept, s)
		}
		e := &encodedSlots{}
		err = a.encodeSlots(e, g, kept, lo, hi, nil, nil, func(v []byte, s uint32) []byte {
			v = binary.AppendVarint(v, g.count[s])
			v = binary.AppendVarint(v, g.touched[s])
			v = binary.AppendUvarint(v, uint64(len(g.emitted[s])))
			return append(v, g.emitted[s]...)
		})
		tab.sets = append(tab.sets, e)
	case a.byKey != nil:
		// One set per distinct session bounds would be many; encode the
		// sessions as one set with a prefix per slot.
		var slots []uint32
		var bounds [][2]int64
		for _, list := range a.byKey {
			for _, se := range list {
				slots = append(slots, se.slot)
				bounds = append(bounds, [2]int64{se.start, se.end})
			}
		}
		e := &encodedSlots{}
		err = a.encodeSlots(e, a.sess, slots, lo, hi, nil, func(i int) []byte {
			prefix = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(prefix[:0], uint64(bounds[i][0])), uint64(bounds[i][1]))
			return prefix
		}, nil)
		tab.sets = append(tab.sets, e)
	default:
		starts := make([]int64, 0, len(a.panes))
		for ps := range a.panes {
			starts = append(starts, ps)
		}
		slices.Sort(starts)
		for _, ps := range starts {
			g := a.panes[ps]
			if g.live == 0 {
				continue
			}
			if g.enc == nil || g.encStale {
				if g.enc == nil {
					g.enc = &encodedSlots{}
				}
				pfx := binary.BigEndian.AppendUint64(nil, uint64(ps))
				if err = a.encodeSlots(g.enc, g, g.liveSlots(), lo, hi, pfx, nil, nil); err != nil {
					break
				}
				g.encStale = false
			}
			tab.sets = append(tab.sets, g.enc)
		}
	}
	if err != nil {
		return nil, err
	}
	putWatermark(st, a.task, a.watermark, a.maxTs)
	// The snapshot refers to the sets' blobs: it copies nothing big.
	return st.SnapshotWith(b.Epoch, map[string]state.TableEncoder{groupTable: tab}, 0), nil
}

// CheckpointDone implements CheckpointNotifier: once checkpoint epoch is
// complete, a pane whose encoding that checkpoint wrote durably (every
// blob's slot has the writer's note of epoch) drops the encoding's bytes,
// which would otherwise stay in memory as long as the pane, about the
// size of the pane's state again; its next snapshots refer to the blobs
// where they were written, through the slots, until a row reaches the
// pane and it is encoded anew. A stale encoding (a row reached the pane
// since) is dropped too: the next checkpoint encodes the pane again.
// After an in-memory checkpoint the slots have no notes, and encodings
// are kept (the next snapshot needs their bytes). The writer noted the
// slots before the checkpoint completed, and writes them again only
// after the next one is taken, so reading them here is safe.
func (a *Aggregate) CheckpointDone(ctx context.Context, epoch uint64) error {
	for _, g := range a.panes {
		if e := g.enc; e != nil && (g.encStale || e.written(epoch)) {
			e.drop()
		}
	}
	return nil
}

// encodedSlots is a set of groups in the snapshot's encoding, by key
// group: parts, each a buffer holding the blobs (state.AppendGroupHeader,
// then the entries by state.AppendEntry) of the key groups its spans
// name, back to back, and a slot for a checkpoint writer's note. A set of
// up to onePart bytes (a pane of a few groups in each of 128 key groups)
// is one part, so its checkpoint costs one buffer, one slot and one
// reference, not 128 of each; a larger one has a part per key group (the
// bookkeeping is then nothing beside the bytes, and no buffer as large as
// the set is needed). A snapshot refers to the parts, so they never
// change: encoding a set again makes new ones. Once a durable checkpoint
// has written every part (each slot says where), their bytes may be
// dropped (Aggregate.CheckpointDone): later snapshots refer to them by
// their slots alone.
type encodedSlots struct {
	parts []encPart
	count []int32 // entries per key group (lo+i)
	lo    int
}

type encPart struct {
	buf   []byte // nil once dropped
	spans []state.GroupSpan
	slot  *state.PartSlot
}

// onePart is the size up to which an encoded set is a single part (a
// variable for tests).
var onePart = 8 << 20

// written reports whether a durable checkpoint epoch wrote (or referred
// to) every part of e: each slot has a writer's note of it.
func (e *encodedSlots) written(epoch uint64) bool {
	for _, p := range e.parts {
		if p.slot.Writer == 0 || p.slot.Epoch != epoch {
			return false
		}
	}
	return true
}

// drop forgets the parts' bytes (their spans and slots stay).
func (e *encodedSlots) drop() {
	for i := range e.parts {
		e.parts[i].buf = nil
	}
}

// setParts makes e's parts from the blobs of every non-empty key group
// (blob(i) of key group lo+i, size(i) bytes): one part of all of them
// (copied into one buffer) if they add up to at most onePart bytes, else
// a part per key group, which is the blob itself. It reports whether it
// copied the blobs.
func (e *encodedSlots) setParts(size func(i int) int, blob func(i int) []byte) (copied bool) {
	total, n := 0, 0
	for i, c := range e.count {
		if c > 0 {
			total += size(i)
			n++
		}
	}
	e.parts = e.parts[:0]
	if n == 0 {
		return true
	}
	spans := make([]state.GroupSpan, 0, n)
	for i, c := range e.count {
		if c > 0 {
			spans = append(spans, state.GroupSpan{Group: int32(e.lo + i), Len: int32(size(i))})
		}
	}
	if total <= onePart {
		buf := make([]byte, 0, total)
		for i, c := range e.count {
			if c > 0 {
				buf = append(buf, blob(i)...)
			}
		}
		e.parts = append(e.parts, encPart{buf: buf, spans: spans, slot: new(state.PartSlot)})
		return true
	}
	slots := make([]state.PartSlot, n)
	k := 0
	for i, c := range e.count {
		if c > 0 {
			e.parts = append(e.parts, encPart{buf: blob(i), spans: spans[k : k+1 : k+1], slot: &slots[k]})
			k++
		}
	}
	return false
}

// encodeSlots encodes the groups slots of g into e, by key group (of
// [lo, hi), the subtask's): key = prefix, or prefixOf(i) if not nil, then
// the group key; value = extra(slot) (if not nil) then each accumulator's
// snapshot, uvarint length-prefixed. It reads the groups in slot order
// (their keys and accumulators sequentially) and appends to a buffer per
// key group (reused scratch when the set is one part, which copies them).
//
// Under one prefix (prefixOf nil) the blobs are compact (state format 5):
// one section per blob with the prefix in its header, and the group keys
// compact when their columns are fixed-width (a.keyWidths); with a
// prefix per slot (sessions) they are of the older form.
func (a *Aggregate) encodeSlots(e *encodedSlots, g *groups, slots []uint32, lo, hi int, prefix []byte, prefixOf func(i int) []byte, extra func(v []byte, s uint32) []byte) error {
	n := hi - lo
	e.lo = lo
	e.count = slices.Grow(e.count[:0], n)[:n]
	clear(e.count)
	// The key group of each slot, relative to lo (state.KeyGroupOf).
	k := uint64(a.MaxKeyGroups())
	kgs := make([]uint16, len(slots))
	keyBytes := make([]int, n)
	compact := prefixOf == nil
	// Locals, not g's fields: the compiler reloads a field after every
	// store it cannot prove does not alias it. count has length n, so the
	// range check on kg covers count and keyBytes.
	count, hash, klens := e.count[:n], g.hash, g.klen
	pow2, mask := k&(k-1) == 0, k-1
	// keyBytes counts each key and its length's bytes: in a compact blob
	// the key after the section's prefix, else the prefix and the key.
	pl := uint64(len(prefix))
	if compact {
		pl = 0
	}
	for i, s := range slots {
		var kg int
		if pow2 {
			kg = int(hash[s]&mask) - lo
		} else {
			kg = int(hash[s]%k) - lo
		}
		if uint(kg) >= uint(n) {
			return fmt.Errorf("checkpoint: a group of key group %d is on the subtask of key groups [%d, %d)", kg+lo, lo, hi)
		}
		kgs[i] = uint16(kg)
		count[kg]++
		l := uint64(klens[s])
		kb := int(l)
		if !compact || a.keyWidths == nil {
			if x := pl + l; x < 0x80 {
				kb++
			} else {
				kb += uvarintLen(x)
			}
		}
		keyBytes[kg] += kb
	}
	if extra == nil && len(g.accs) == 0 && compact {
		return a.encodePlain(e, g, slots, kgs, keyBytes, prefix)
	}
	// A value is written in place after a one-byte length, patched once
	// it is known (each accumulator's snapshot likewise).
	appendValue := func(b []byte, s uint32) []byte {
		at := len(b)
		b = append(b, 0)
		if extra != nil {
			b = extra(b, s)
		}
		for _, acc := range g.accs {
			ai := len(b)
			b = append(b, 0)
			b = acc.AppendSnapshot(b, s)
			b = patchLen(b, ai)
		}
		return patchLen(b, at)
	}
	var cols *state.KeyColumns
	if compact && a.keyWidths != nil {
		cols = &a.keyCols
		if err := a.observeKeys(g, slots); err != nil {
			return err
		}
	}
	if cap(a.encScratch) < n {
		a.encScratch = make([][]byte, n)
	}
	bufs := a.encScratch[:n]
	per := 0
	if len(slots) > 0 {
		per = 6 + len(appendValue(nil, slots[0]))
		switch {
		case prefixOf != nil:
			per += len(prefixOf(0))
		case !compact:
			per += len(prefix)
		}
	}
	// The expected size, from the keys and the first entry's value:
	// a set beyond onePart is a part per key group, each a new buffer.
	want := func(i int) int { w := 16 + len(prefix) + keyBytes[i] + int(e.count[i])*per; return w + w/16 }
	expect := 0
	for i := range bufs {
		if e.count[i] > 0 {
			expect += want(i)
		}
	}
	big := expect > onePart
	for i := range bufs {
		if big {
			bufs[i] = nil
		}
		bufs[i] = bufs[i][:0]
		if e.count[i] > 0 {
			bufs[i] = slices.Grow(bufs[i], want(i))
			if compact {
				bufs[i] = state.AppendCompactHeader(bufs[i], 1)
				bufs[i] = state.AppendSection(bufs[i], groupTable, prefix, cols, int(e.count[i]))
			} else {
				bufs[i] = state.AppendGroupHeader(bufs[i], groupTable, int(e.count[i]))
			}
		}
	}
	for i, s := range slots {
		kg := kgs[i]
		key := g.slab[g.koff[s] : g.koff[s]+g.klen[s]]
		b := bufs[kg]
		switch {
		case cols != nil:
			b = cols.AppendKey(b, key)
		case compact:
			b = binary.AppendUvarint(b, uint64(len(key)))
			b = append(b, key...)
		default:
			// state.AppendEntryParts, with the value written in place.
			p := prefixOf(i)
			b = binary.AppendUvarint(b, uint64(len(p)+len(key)))
			b = append(b, p...)
			b = append(b, key...)
		}
		b = appendValue(b, s)
		bufs[kg] = append(b, 0) // no expiry
	}
	copied := e.setParts(func(i int) int { return len(bufs[i]) }, func(i int) []byte { return bufs[i] })
	kept := 0
	for i := range bufs {
		if !copied {
			bufs[i] = nil // the parts' own now
		}
		kept += cap(bufs[i])
	}
	if kept > maxEncScratch {
		// A large scratch (a set just under onePart) is not kept.
		clear(a.encScratch)
	}
	return nil
}

// errKeyColumns is the error of a checkpoint that finds a group key that
// is not an encoding of the key columns' types (a bug: keys are encoded
// from columns of those types).
func errKeyColumns(key []byte, widths []uint8) error {
	return fmt.Errorf("checkpoint: a group key of %d bytes is not an encoding of key columns of widths %v", len(key), widths)
}

// observeKeys sets a.keyCols' layout from the keys of slots of g.
func (a *Aggregate) observeKeys(g *groups, slots []uint32) error {
	cols := &a.keyCols
	cols.Reset()
	slab, koff, klens := g.slab, g.koff, g.klen
	if all8(a.keyWidths) && len(a.keyWidths) <= 3 && observe8(cols, slab, koff, klens, slots, len(a.keyWidths)) {
		cols.Finish()
		return nil
	}
	cols.Reset()
	for _, s := range slots {
		ko, kl := koff[s], klens[s]
		if !cols.Observe(slab[ko : ko+kl]) {
			return errKeyColumns(slab[ko:ko+kl], a.keyWidths)
		}
	}
	cols.Finish()
	return nil
}

// observe8 is observeKeys for one to three 8-byte columns, in a loop
// with the columns at fixed offsets (no call, no loop per column): it
// reports false, having observed nothing, at the first key with a NULL
// (or not of their encoding), which observeKeys' general loop then takes.
func observe8(cols *state.KeyColumns, slab []byte, koff, klens, slots []uint32, nk int) bool {
	lo := [3]int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}
	hi := [3]int64{math.MinInt64, math.MinInt64, math.MinInt64}
	stride := uint32(9 * nk)
	le := binary.LittleEndian
	for _, s := range slots {
		ko := koff[s]
		if klens[s] != stride {
			return false
		}
		k := slab[ko : ko+stride]
		switch nk {
		case 3:
			k = k[:27]
			if k[0]&k[9]&k[18] != 1 {
				return false
			}
			v0, v1, v2 := int64(le.Uint64(k[1:9])), int64(le.Uint64(k[10:18])), int64(le.Uint64(k[19:27]))
			lo[0], hi[0] = min(lo[0], v0), max(hi[0], v0)
			lo[1], hi[1] = min(lo[1], v1), max(hi[1], v1)
			lo[2], hi[2] = min(lo[2], v2), max(hi[2], v2)
		case 2:
			k = k[:18]
			if k[0]&k[9] != 1 {
				return false
			}
			v0, v1 := int64(le.Uint64(k[1:9])), int64(le.Uint64(k[10:18]))
			lo[0], hi[0] = min(lo[0], v0), max(hi[0], v0)
			lo[1], hi[1] = min(lo[1], v1), max(hi[1], v1)
		default:
			k = k[:9]
			if k[0] != 1 {
				return false
			}
			v0 := int64(le.Uint64(k[1:9]))
			lo[0], hi[0] = min(lo[0], v0), max(hi[0], v0)
		}
	}
	for c := range nk {
		if lo[c] <= hi[c] {
			cols.ObserveRange(c, lo[c], hi[c])
		}
	}
	return true
}

// maxEncScratch bounds the bytes encodeSlots keeps in its scratch buffers
// between calls.
const maxEncScratch = 4 << 20

// encodePlain is encodeSlots for groups without values (no accumulators,
// nothing extra) under one prefix, in compact blobs (one section each,
// the prefix and the key columns' layout in its header). Keys of 8-byte
// columns without NULLs (the common case) take one size each: their
// entries are written by index straight into a buffer of the exact size,
// a store per column. Other keys are written into regions of a scratch
// buffer sized for the largest entries, then copied back to back. The
// parts are windows of the one buffer (one part, or one per key group).
func (a *Aggregate) encodePlain(e *encodedSlots, g *groups, slots []uint32, kgs []uint16, keyBytes []int, prefix []byte) error {
	n := len(e.count)
	var cols *state.KeyColumns
	if a.keyWidths != nil {
		cols = &a.keyCols
		if err := a.observeKeys(g, slots); err != nil {
			return err
		}
	}
	hdr := func(i int) int {
		// (AppendCompactHeader of one section: 2 bytes.)
		return 2 + state.SectionHeaderSize(groupTable, prefix, cols, int(e.count[i]))
	}
	appendHdr := func(b []byte, i int) []byte {
		b = state.AppendCompactHeader(b, 1)
		return state.AppendSection(b, groupTable, prefix, cols, int(e.count[i]))
	}
	// fixed: every entry takes per bytes.
	fixed, per := cols != nil && !slices.Contains(cols.Nullable, true), 0
	if cols != nil {
		per = cols.MaxKeySize() + 2
	}
	// bound(i): the most key group i's blob can take.
	bound := func(i int) int {
		if cols == nil {
			return hdr(i) + keyBytes[i] + 2*int(e.count[i])
		}
		return hdr(i) + per*int(e.count[i])
	}
	off := make([]int, n+1)
	for i := range n {
		off[i+1] = off[i]
		if e.count[i] > 0 {
			off[i+1] += bound(i)
		}
	}
	// Locals, not g's fields, which the stores into the buffer would make
	// the compiler load again for every entry.
	slab, koff, klens := g.slab, g.koff, g.klen
	kgs = kgs[:len(slots)]
	var b []byte
	if fixed && all8(a.keyWidths) {
		// Entries first, each column stored as 8 bytes (the next store,
		// or the header, overwrites what goes beyond its bytes; the
		// buffer has 8 bytes to spare at its end), headers last.
		b = make([]byte, off[n], off[n]+8)
		w := b[:cap(b)]
		pos := make([]int, n)
		for i := range n {
			if e.count[i] > 0 {
				pos[i] = off[i] + hdr(i)
			}
		}
		bases, nbytes := cols.Base, cols.Bytes
		nk := len(bases)
		nbytes = nbytes[:nk]
		le := binary.LittleEndian
		switch nk {
		case 3:
			// (q7's: one loop, the columns at fixed offsets.)
			b0, b1, b2 := uint64(bases[0]), uint64(bases[1]), uint64(bases[2])
			n0, n1, n2 := int(nbytes[0]), int(nbytes[1]), int(nbytes[2])
			for i, s := range slots {
				kg := kgs[i]
				o := pos[kg]
				key := slab[koff[s]:][:27]
				le.PutUint64(w[o:], le.Uint64(key[1:9])-b0)
				o += n0
				le.PutUint64(w[o:], le.Uint64(key[10:18])-b1)
				o += n1
				le.PutUint64(w[o:], le.Uint64(key[19:27])-b2)
				o += n2
				w[o], w[o+1] = 0, 0 // value length, expiry
				pos[kg] = o + 2
			}
		default:
			for i, s := range slots {
				kg := kgs[i]
				o := pos[kg]
				key := slab[koff[s]:][:9*nk]
				for c := range nk {
					d := le.Uint64(key[9*c+1:]) - uint64(bases[c])
					le.PutUint64(w[o:], d)
					o += int(nbytes[c])
				}
				w[o], w[o+1] = 0, 0 // value length, expiry
				pos[kg] = o + 2
			}
		}
		for i := range n {
			if e.count[i] > 0 {
				appendHdr(b[off[i]:off[i]], i)
			}
		}
	} else {
		sc := a.plainScratch
		if cap(sc) < off[n] {
			sc = make([]byte, off[n])
		}
		sc = sc[:off[n]]
		pos := make([]int, n)
		for i := range n {
			if e.count[i] > 0 {
				pos[i] = off[i] + len(appendHdr(sc[off[i]:off[i]], i))
			}
		}
		for i, s := range slots {
			kg := kgs[i]
			o := pos[kg]
			ko, kl := koff[s], klens[s]
			if cols != nil {
				o += len(cols.AppendKey(sc[o:o], slab[ko:ko+kl]))
			} else {
				if kl < 0x80 {
					sc[o] = byte(kl)
					o++
				} else {
					o += binary.PutUvarint(sc[o:], uint64(kl))
				}
				o += copy(sc[o:], slab[ko:ko+kl])
			}
			sc[o], sc[o+1] = 0, 0 // value length, expiry
			pos[kg] = o + 2
		}
		// The regions back to back, into a buffer of their size.
		total := 0
		for i := range n {
			if e.count[i] > 0 {
				total += pos[i] - off[i]
			}
		}
		b = make([]byte, total)
		at := 0
		for i := range n {
			if e.count[i] > 0 {
				m := copy(b[at:], sc[off[i]:pos[i]])
				off[i], at = at, at+m
			}
		}
		off[n] = at
		for i := n - 1; i >= 0; i-- {
			if e.count[i] == 0 {
				off[i] = off[i+1]
			}
		}
		if cap(sc) <= maxEncScratch {
			a.plainScratch = sc
		} else {
			a.plainScratch = nil
		}
	}
	// off: each key group's blob's start in b (an empty group's: the
	// next one's).
	if len(b) <= onePart {
		// (setParts would copy it: it is the part already.)
		spans := make([]state.GroupSpan, 0, n)
		for i := range n {
			if e.count[i] > 0 {
				spans = append(spans, state.GroupSpan{Group: int32(e.lo + i), Len: int32(off[i+1] - off[i])})
			}
		}
		e.parts = append(e.parts[:0], encPart{buf: b, spans: spans, slot: new(state.PartSlot)})
		if len(spans) == 0 {
			e.parts = e.parts[:0]
		}
		return nil
	}
	e.setParts(func(i int) int { return off[i+1] - off[i] }, func(i int) []byte { return b[off[i]:off[i+1]:off[i+1]] })
	return nil
}

// all8 reports whether every width is 8 (and there is one).
func all8(widths []uint8) bool {
	for _, w := range widths {
		if w != 8 {
			return false
		}
	}
	return len(widths) > 0
}

// uvarintLen is the size of v's uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// patchLen sets the uvarint length byte at b[at] to the length of what
// follows it, making room for a longer uvarint if needed.
func patchLen(b []byte, at int) []byte {
	n := len(b) - at - 1
	if n < 0x80 {
		b[at] = byte(n)
		return b
	}
	var tmp [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(tmp[:], uint64(n))
	b = append(b, tmp[:w-1]...)
	copy(b[at+w:], b[at+1:len(b)-(w-1)])
	copy(b[at:], tmp[:w])
	return b
}

// encodedTable is the aggregate's keyed table "groups" for a snapshot:
// the entries of a few encodedSlots (panes in order of start).
type encodedTable struct {
	lo   int
	sets []*encodedSlots
}

var (
	_ state.TableEncoder = (*encodedTable)(nil)
	_ state.GroupParts   = (*encodedTable)(nil)
)

// Parts implements state.GroupParts: the snapshot refers to the sets'
// parts (no copy), or, for a part whose bytes were dropped, to where a
// durable checkpoint wrote it (its slot).
func (t *encodedTable) Parts(add func([]byte, []state.GroupSpan, *state.PartSlot)) {
	for _, e := range t.sets {
		for _, p := range e.parts {
			add(p.buf, p.spans, p.slot)
		}
	}
}

func (t *encodedTable) GroupLen(g int) int {
	n := 0
	for _, e := range t.sets {
		n += int(e.count[g-t.lo])
	}
	return n
}

// blob returns key group g's blob in e.
func (e *encodedSlots) blob(g int) []byte {
	for _, p := range e.parts {
		off := 0
		for _, sp := range p.spans {
			if int(sp.Group) == g {
				if p.buf == nil {
					panic("ops: aggregate checkpoint: a key group's entries are copied, but their bytes were dropped")
				}
				return p.buf[off : off+int(sp.Len)]
			}
			off += int(sp.Len)
		}
	}
	return nil
}

// AppendGroup copies the entries of key group g, in the older form
// (state.AppendEntriesOf). The store calls it (instead of Parts) only
// when another keyed table has entries (the aggregate has none), so a
// dropped part, or a blob that does not decode, is a broken invariant.
func (t *encodedTable) AppendGroup(b []byte, g int) []byte {
	for _, e := range t.sets {
		if e.count[g-t.lo] > 0 {
			var err error
			if b, _, err = state.AppendEntriesOf(b, e.blob(g), groupTable); err != nil {
				panic(fmt.Sprintf("ops: aggregate checkpoint: its own blob of key group %d: %v", g, err))
			}
		}
	}
	return b
}

// RestoreKeyed implements KeyedRestorer. It reads the entries in place
// from the restored snapshots (state.Store.RangeRestoredKeyed), in chunks:
// their group keys are hashed in bulk (one vector per key column, not a
// decode and a hash per entry), then each is restored. Windows' panes are
// sized from a first counting pass and filled without their hash index,
// which is built once at the end (buildTable).
func (a *Aggregate) RestoreKeyed(ctx context.Context, handles []any) error {
	st, err := taskStore(a.task, handles)
	if err != nil {
		return err
	}
	if wm, maxTs, ok, err := restoredWatermark(st); err != nil {
		return err
	} else if ok {
		a.watermark, a.maxTs = wm, max(a.maxTs, maxTs)
	}
	a.closed = a.watermark
	rc := &restoreCursor{}
	if a.panes != nil {
		if err := a.presizePanes(st, rc); err != nil {
			return fmt.Errorf("restore groups: %w", err)
		}
	}
	const chunk = 1 << 14
	keys := make([][]byte, 0, chunk)
	vals := make([][]byte, 0, chunk)
	flush := func() error {
		hashes, err := a.hashKeys(keys)
		if err != nil {
			return err
		}
		for i := range keys {
			if err := a.restoreGroup(keys[i], vals[i], hashes[i], rc); err != nil {
				return err
			}
		}
		keys, vals = keys[:0], vals[:0]
		return nil
	}
	err = st.RangeRestoredKeyed(groupTable, func(_ int, key, val []byte, _ int64) error {
		keys, vals = append(keys, key), append(vals, val)
		if len(keys) == chunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("restore groups: %w", err)
	}
	for _, g := range rc.fresh {
		g.indexed = true
		g.buildTable()
	}
	return nil
}

// restoreCursor carries a restore's panes between entries: the last one
// (entries come pane by pane within a key group) and the panes the
// restore created, whose index is built at the end.
type restoreCursor struct {
	ps    int64
	g     *groups
	fresh []*groups
}

// presizePanes counts the restored entries of each pane and creates the
// panes with room for them: slices of the right size, accumulators grown
// once (by restoring the pane's last entry into its last slot first; the
// restore writes it again there), and no index until buildTable.
func (a *Aggregate) presizePanes(st *state.Store, rc *restoreCursor) error {
	type paneCount struct {
		n, keyBytes int
		last        []byte
	}
	counts := map[int64]*paneCount{}
	var lastPs int64
	var last *paneCount
	err := st.RangeRestoredKeyed(groupTable, func(_ int, key, val []byte, _ int64) error {
		if len(key) < 8 {
			return errBadGroupEntry
		}
		ps := int64(binary.BigEndian.Uint64(key))
		if last == nil || ps != lastPs {
			if last = counts[ps]; last == nil {
				last = &paneCount{}
				counts[ps] = last
			}
			lastPs = ps
		}
		last.n++
		last.keyBytes += len(key) - 8
		last.last = val
		return nil
	})
	if err != nil {
		return err
	}
	for ps, c := range counts {
		if a.panes[ps] != nil {
			continue // not a fresh operator: restored entries join the pane
		}
		g := a.newGroups(false)
		g.koff, g.klen = make([]uint32, 0, c.n), make([]uint32, 0, c.n)
		g.hash, g.used = make([]uint64, 0, c.n), make([]bool, 0, c.n)
		g.slab = make([]byte, 0, c.keyBytes)
		val := c.last
		for j, acc := range g.accs {
			l, n := binary.Uvarint(val)
			if n <= 0 || uint64(len(val)-n) < l {
				return errBadGroupEntry
			}
			if err := acc.Restore(uint32(c.n-1), val[n:n+int(l)]); err != nil {
				return fmt.Errorf("%s: %w", a.cfg.Calls[j].Func, err)
			}
			val = val[n+int(l):]
		}
		a.panes[ps] = g
		rc.fresh = append(rc.fresh, g)
	}
	return nil
}

// buildTable builds the index of a group set filled without one (a
// restore), at the size rehash would give it. The slots are bucketed by
// the upper bits of their home position first, so the inserts walk the
// table a cache-sized window at a time instead of at random.
func (g *groups) buildTable() {
	n := 64
	for n*3 <= (g.live+1)*8 {
		n *= 2
	}
	g.table = make([]uint32, n)
	g.tombs = 0
	mask := uint64(n - 1)
	insert := func(s uint32) {
		for i := g.hash[s] & mask; ; i = (i + 1) & mask {
			if g.table[i] == 0 {
				g.table[i] = s + 1
				return
			}
		}
	}
	const windowBits = 14 // 16K slots, 64 KiB of table
	if n <= 4<<windowBits {
		for s, u := range g.used {
			if u {
				insert(uint32(s))
			}
		}
		return
	}
	shift := uint(windowBits)
	buckets := n >> windowBits
	pos := make([]int, buckets+1)
	for s, u := range g.used {
		if u {
			pos[(g.hash[s]&mask)>>shift+1]++
		}
	}
	for b := range buckets {
		pos[b+1] += pos[b]
	}
	// (home, slot) pairs: the inserts then read no hash at random.
	order := make([][2]uint32, pos[buckets])
	for s, u := range g.used {
		if u {
			home := g.hash[s] & mask
			b := home >> shift
			order[pos[b]] = [2]uint32{uint32(home), uint32(s)}
			pos[b]++
		}
	}
	for _, o := range order {
		for i := uint64(o[0]); ; i = (i + 1) & mask {
			if g.table[i] == 0 {
				g.table[i] = o[1] + 1
				break
			}
		}
	}
}

// groupKeyOf returns the group-key part of a stored entry's key: after
// the pane start (panes) or the session bounds (sessions).
func (a *Aggregate) groupKeyOf(key []byte) ([]byte, error) {
	switch {
	case a.upd != nil:
		return key, nil
	case a.byKey != nil:
		if len(key) < 16 {
			return nil, errBadGroupEntry
		}
		return key[16:], nil
	default:
		if len(key) < 8 {
			return nil, errBadGroupEntry
		}
		return key[8:], nil
	}
}

// hashKeys returns the routing hash of each entry's group key (what
// hashKey computes for one).
func (a *Aggregate) hashKeys(keys [][]byte) ([]uint64, error) {
	h := make([]uint64, len(keys))
	if a.nk == 0 {
		return h, nil
	}
	cols := make([]coldata.Vector, a.nk)
	for k := range cols {
		cols[k] = a.task.Alloc.New(a.out[k], len(keys))
	}
	for _, key := range keys {
		rest, err := a.groupKeyOf(key)
		if err != nil {
			return nil, err
		}
		for k := range cols {
			if rest, err = coldata.DecodeAppend(cols[k], rest); err != nil {
				return nil, fmt.Errorf("group key: %w", err)
			}
		}
	}
	rows := make([]int32, len(keys))
	for i := range rows {
		rows[i] = int32(i)
	}
	for _, c := range cols {
		coldata.HashInto(c, rows, h)
	}
	return h, nil
}

// errBadGroupEntry is a group entry of a snapshot that does not decode.
var errBadGroupEntry = errors.New("malformed group entry")

// restoreGroup loads one group of a snapshot.
func (a *Aggregate) restoreGroup(key, val []byte, hash uint64, rc *restoreCursor) error {
	bad := errBadGroupEntry
	var g *groups
	var s uint32
	switch {
	case a.upd != nil:
		g = a.upd
		count, n := binary.Varint(val)
		if n <= 0 {
			return bad
		}
		val = val[n:]
		touched, n := binary.Varint(val)
		if n <= 0 {
			return bad
		}
		val = val[n:]
		el, n := binary.Uvarint(val)
		if n <= 0 || uint64(len(val)-n) < el {
			return bad
		}
		emitted := val[n : n+int(el)]
		val = val[n+int(el):]
		// Restored keys are distinct (key groups are disjoint across the
		// restored subtasks): no lookup before the insert.
		s = g.alloc(key, hash)
		g.count[s], g.touched[s] = count, touched
		if el > 0 {
			g.emitted[s] = append([]byte(nil), emitted...)
		}
		// A stop checkpoint holds changes not yet flushed: flush every
		// restored group again (unchanged rows are skipped).
		g.markDirty(s)
	case a.byKey != nil:
		if len(key) < 16 {
			return bad
		}
		start, end := int64(binary.BigEndian.Uint64(key)), int64(binary.BigEndian.Uint64(key[8:]))
		gk := key[16:]
		g = a.sess
		s = g.alloc(gk, hash)
		a.byKey[string(gk)] = append(a.byKey[string(gk)], session{start: start, end: end, slot: s})
	default:
		if len(key) < 8 {
			return bad
		}
		ps := int64(binary.BigEndian.Uint64(key))
		gk := key[8:]
		if rc.g == nil || rc.ps != ps {
			rc.ps, rc.g = ps, a.panes[ps]
			if rc.g == nil {
				rc.g = a.newGroups(true)
				a.panes[ps] = rc.g
			}
		}
		g = rc.g
		s = g.alloc(gk, hash)
	}
	for j, acc := range g.accs {
		l, n := binary.Uvarint(val)
		if n <= 0 || uint64(len(val)-n) < l {
			return bad
		}
		if err := acc.Restore(s, val[n:n+int(l)]); err != nil {
			return fmt.Errorf("%s: %w", a.cfg.Calls[j].Func, err)
		}
		val = val[n+int(l):]
	}
	return nil
}

// floorDiv is a / b rounded toward negative infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
