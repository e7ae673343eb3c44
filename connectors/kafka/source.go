package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const batchRows = 4096

// class is one split: the partitions p of the topic with p mod mod == r.
type class struct {
	name    string
	r, mod  int32
	offsets map[int32]int64 // partition -> next offset to read
}

func (c *class) owns(p int32) bool { return p%c.mod == c.r }

// splits returns the residue classes "r/P" of a first start at
// parallelism p; it checks that the brokers answer and the topic exists,
// so a wrong address or topic fails the start with a clear error.
func splits(ctx context.Context, t *connector.Table, p int) ([]string, error) {
	cfg, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	adm, cl, err := cfg.admin()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if _, err := cfg.partitions(ctx, adm); err != nil {
		return nil, err
	}
	out := make([]string, p)
	for r := range p {
		out[r] = fmt.Sprintf("%d/%d", r, p)
	}
	return out, nil
}

func parseClass(st connector.SplitState) (*class, error) {
	r, m, ok := strings.Cut(st.Split, "/")
	ri, err1 := strconv.ParseInt(r, 10, 32)
	mi, err2 := strconv.ParseInt(m, 10, 32)
	if !ok || err1 != nil || err2 != nil || mi <= 0 || ri < 0 || ri >= mi {
		return nil, fmt.Errorf("kafka: bad split %q: want a residue class such as \"0/2\"", st.Split)
	}
	c := &class{name: st.Split, r: int32(ri), mod: int32(mi), offsets: map[int32]int64{}}
	if len(st.State) > 0 {
		var m map[string]int64
		if err := json.Unmarshal(st.State, &m); err != nil {
			return nil, fmt.Errorf("kafka: split %q: bad state: %v", st.Split, err)
		}
		for k, v := range m {
			p, err := strconv.ParseInt(k, 10, 32)
			if err != nil || v < 0 || !c.owns(int32(p)) {
				return nil, fmt.Errorf("kafka: split %q: bad state entry %q: %d", st.Split, k, v)
			}
			c.offsets[int32(p)] = v
		}
	}
	return c, nil
}

// admin returns an admin client over a plain client (the caller closes cl).
func (c *config) admin() (*kadm.Client, *kgo.Client, error) {
	cl, err := kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return nil, nil, &ConfigError{Table: c.table, Option: OptBootstrap, Problem: err.Error()}
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(c.timeout / time.Millisecond))
	return adm, cl, nil
}

// ErrTopicNotFound is what errors.Is finds when a table's topic does not
// exist.
var ErrTopicNotFound = errors.New("topic does not exist")

// partitions lists the topic's partitions, with bounded time.
func (c *config) partitions(ctx context.Context, adm *kadm.Client) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	td, err := adm.ListTopics(ctx, c.topic)
	if err != nil {
		return nil, c.connErr("list topics", err, ctx)
	}
	d, ok := td[c.topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return nil, &ConnError{Table: c.table, Topic: c.topic, Op: "metadata", Err: ErrTopicNotFound}
	}
	if d.Err != nil {
		return nil, c.connErr("metadata", d.Err, ctx)
	}
	ps := make([]int32, 0, len(d.Partitions))
	for p := range d.Partitions {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps, nil
}

// source reads the partitions of one subtask's residue classes.
type source struct {
	t       *connector.Table
	cfg     *config
	task    connector.SourceTask
	classes []*class
	adm     *kadm.Client
	meta    *kgo.Client // metadata and admin requests
	cons    *kgo.Client // the consumer; nil while no partition is owned
	next    time.Time   // next partition discovery
	asm     *assembler
	group   string
	times   *partitionTimes // per-partition watermarks (watermark.go)
	// discovered is set once a partition discovery succeeded; failures
	// tracks a run of transient discovery failures (retry.go).
	discovered bool
	failures   transient
}

var (
	_ connector.Source             = (*source)(nil)
	_ connector.Closer             = (*source)(nil)
	_ connector.CheckpointNotifier = (*source)(nil)
)

func newSource(t *connector.Table, task connector.SourceTask, sp []connector.SplitState) (connector.Source, error) {
	cfg, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	s := &source{t: t, cfg: cfg, task: task, times: newPartitionTimes(cfg.idle)}
	for _, st := range sp {
		c, err := parseClass(st)
		if err != nil {
			return nil, err
		}
		s.classes = append(s.classes, c)
	}
	if len(s.classes) == 0 {
		return s, nil
	}
	if s.asm, err = newAssembler(t, cfg); err != nil {
		return nil, err
	}
	s.group = cfg.groupID
	if s.group == "" {
		prefix := t.Options.String(OptGroupIDPrefix)
		if prefix == "" {
			prefix = "arroyo"
		}
		s.group = prefix + "-" + task.JobID + "-" + task.OperatorID
	}
	return s, nil
}

func (s *source) owner(p int32) *class {
	for _, c := range s.classes {
		if c.owns(p) {
			return c
		}
	}
	return nil
}

// discover finds the owned partitions that have no position yet and
// resolves where they start: source.offset for partitions that existed at
// the first start (first: no class has a position yet), their start for
// partitions added later.
func (s *source) discover(ctx context.Context) error {
	ps, err := s.cfg.partitions(ctx, s.adm)
	if err != nil {
		return err
	}
	var fresh []int32
	for _, p := range ps {
		if c := s.owner(p); c != nil {
			if _, ok := c.offsets[p]; !ok {
				fresh = append(fresh, p)
			}
		}
	}
	add := map[int32]kgo.Offset{}
	if s.cons == nil {
		// The consumer starts with every position restored.
		for _, c := range s.classes {
			for p, o := range c.offsets {
				add[p] = kgo.NewOffset().At(o)
			}
		}
	}
	if len(fresh) > 0 {
		first := !s.discovered
		if first {
			for _, c := range s.classes {
				if len(c.offsets) > 0 {
					first = false // restored: new partitions start at their start
				}
			}
		}
		start, err := s.startOffsets(ctx, fresh, first)
		if err != nil {
			return err
		}
		for _, p := range fresh {
			s.owner(p).offsets[p] = start[p]
			add[p] = kgo.NewOffset().At(start[p])
		}
	}
	if len(add) == 0 {
		return nil
	}
	if s.cons == nil {
		opts := append(s.cfg.clientOpts(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.topic: add}))
		if s.cfg.committed {
			opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return &ConfigError{Table: s.t.Name, Option: OptBootstrap, Problem: err.Error()}
		}
		s.cons = cl
		return nil
	}
	s.cons.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.topic: add})
	return nil
}

func (s *source) startOffsets(ctx context.Context, ps []int32, first bool) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	out := map[int32]int64{}
	mode := OffsetEarliest
	if first {
		mode = s.cfg.offset
	}
	if mode == OffsetGroup {
		or, err := s.adm.FetchOffsets(ctx, s.group)
		if err != nil {
			return nil, s.cfg.connErr("fetch offsets of group '"+s.group+"'", err, ctx)
		}
		for _, p := range ps {
			if o, ok := or.Lookup(s.cfg.topic, p); ok && o.Err == nil && o.At >= 0 {
				out[p] = o.At
			}
		}
	}
	list := s.adm.ListStartOffsets
	if mode == OffsetLatest {
		list = s.adm.ListEndOffsets
	}
	// A topic just created may have partitions without a leader yet
	// (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE): transient, so
	// retried with backoff until the connect timeout.
	var lo kadm.ListedOffsets
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var err error
		if lo, err = list(ctx, s.cfg.topic); err != nil {
			return nil, s.cfg.connErr("list offsets", err, ctx)
		}
		transient := false
		for _, p := range ps {
			if o, ok := lo.Lookup(s.cfg.topic, p); ok && o.Err != nil && kerr.IsRetriable(o.Err) {
				transient = true
			}
		}
		if !transient {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	for _, p := range ps {
		if _, ok := out[p]; ok {
			continue
		}
		o, ok := lo.Lookup(s.cfg.topic, p)
		if !ok || o.Err != nil {
			e := o.Err
			if e == nil {
				e = errors.New("no offset returned")
			}
			return nil, s.cfg.connErr(fmt.Sprintf("list offsets of partition %d", p), e, ctx)
		}
		out[p] = max(o.Offset, 0)
	}
	return out, nil
}

// Poll implements connector.Source.
func (s *source) Poll(ctx context.Context, out connector.SourceOutput) error {
	if len(s.classes) == 0 {
		return io.EOF // nothing owned (a restore at a higher parallelism)
	}
	if s.meta == nil {
		adm, cl, err := s.cfg.admin()
		if err != nil {
			return err
		}
		s.adm, s.meta = adm, cl
	}
	if now := time.Now(); !now.Before(s.next) {
		err := s.discover(ctx)
		switch {
		case err == nil:
			s.discovered = true
			s.failures.ok()
			s.next = now.Add(max(s.cfg.discovery, 100*time.Millisecond))
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return nil
		default:
			// A transient failure: read on with the partitions known,
			// and look again after a backoff.
			wait, err := s.failures.fail(err, now, s.cfg.retryWindow(), max(s.cfg.discovery, 100*time.Millisecond))
			if err != nil {
				return err
			}
			s.next = now.Add(wait)
		}
	}
	if s.cons == nil {
		// No partition yet: wait (the runtime declares the subtask idle
		// after its idle timeout).
		<-ctx.Done()
		return nil
	}
	pctx := ctx
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > time.Until(s.next) {
		var cancel context.CancelFunc
		pctx, cancel = context.WithDeadline(ctx, s.next)
		defer cancel()
	}
	// Each partition's records become a batch of their own (its split):
	// take up to batchRows per partition so batches keep their size.
	fs := s.cons.PollRecords(pctx, batchRows*min(max(len(s.times.last), 1), 4))
	var ferr error
	fs.EachError(func(topic string, p int32, err error) {
		if ferr == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			ferr = s.cfg.connErr(fmt.Sprintf("fetch partition %d", p), err, pctx)
		}
	})
	// One batch per partition, each its own split for the watermark.
	now := time.Now()
	split, _ := out.(connector.SplitOutput)
	var derr error
	fs.EachPartition(func(fp kgo.FetchTopicPartition) {
		if derr != nil || len(fp.Records) == 0 {
			return
		}
		derr = s.decode(fp.Partition, fp.Records)
		if err := s.flush(out, split, fp.Partition, now); err != nil && derr == nil {
			derr = err
		}
	})
	if split != nil {
		for _, c := range s.classes {
			for p := range c.offsets {
				s.times.add(p, now)
			}
		}
		s.times.expire(split, now)
	}
	if derr != nil {
		return derr
	}
	return ferr
}

// decode appends the records of one fetch of partition p to the
// assembler and moves p's position past the last record decoded.
func (s *source) decode(p int32, recs []*kgo.Record) error {
	done, err := s.asm.addFetch(recs)
	if err != nil {
		r := recs[done]
		err = fmt.Errorf("kafka table '%s': topic '%s' partition %d offset %d: bad record: %w", s.t.Name, r.Topic, r.Partition, r.Offset, err)
	}
	// The position moves once per fetch, past the last record decoded.
	if c := s.owner(p); c != nil && done > 0 {
		c.offsets[p] = recs[done-1].Offset + 1
	}
	return err
}

// flush emits the records of partition p assembled since the last flush.
func (s *source) flush(out connector.SourceOutput, split connector.SplitOutput, p int32, now time.Time) error {
	if n := s.asm.takeDropped(); n > 0 {
		out.Counter(connector.CounterBadData, n)
	}
	b := s.asm.flush()
	switch {
	case b == nil:
		return nil
	case split == nil:
		return out.Emit(b)
	}
	return split.EmitSplit(s.times.split(split, p, now), b)
}

// Snapshot implements connector.Source: each class's next offsets.
func (s *source) Snapshot(uint64) ([]connector.SplitState, error) {
	out := make([]connector.SplitState, len(s.classes))
	for i, c := range s.classes {
		m := make(map[string]int64, len(c.offsets))
		for p, o := range c.offsets {
			m[strconv.Itoa(int(p))] = o
		}
		st, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		out[i] = connector.SplitState{Split: c.name, State: st}
	}
	return out, nil
}

// CheckpointDone commits the checkpointed positions to the consumer group
// for lag monitoring; the checkpoint, not the group, is the truth, so a
// failed commit is not an error of the pipeline.
func (s *source) CheckpointDone(ctx context.Context, _ uint64) error {
	if s.adm == nil || s.cons == nil {
		return nil
	}
	os := kadm.Offsets{}
	for _, c := range s.classes {
		for p, o := range c.offsets {
			os.Add(kadm.Offset{Topic: s.cfg.topic, Partition: p, At: o, LeaderEpoch: -1})
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	_, _ = s.adm.CommitOffsets(ctx, s.group, os)
	return nil
}

func (s *source) Close() error {
	if s.cons != nil {
		s.cons.Close()
	}
	if s.meta != nil {
		s.meta.Close()
	}
	return nil
}

// assembler decodes records into batches: the format's columns, the
// metadata columns, and the event time (the record's timestamp).
type assembler struct {
	dec     connector.Decoder
	badData string
	n       int
	// cols maps each table column to its source: >= 0 the decoder's
	// vector index, -1 - k the metadata vector k.
	cols    []int
	meta    []coldata.Vector
	field   []string
	types   []types.Type
	ts      *coldata.Vec[int64]
	dropped int64
	kept    []int32 // addFetch: the record of each row, per fetch
}

func newAssembler(t *connector.Table, cfg *config) (*assembler, error) {
	a := &assembler{badData: t.BadData}
	var data []types.Field
	for _, f := range t.Schema.Fields {
		if m, ok := cfg.metadata[f.Name]; ok {
			a.cols = append(a.cols, -1-len(a.field))
			a.field = append(a.field, m)
			a.types = append(a.types, f.Type)
			continue
		}
		a.cols = append(a.cols, len(data))
		data = append(data, f)
	}
	if len(data) > 0 || len(a.field) == 0 {
		ft := *t
		ft.Schema = types.NewSchema(data...)
		dec, err := newRegistryDecoder(&ft, cfg.opts, ft.Schema)
		if err != nil {
			return nil, err
		}
		if dec == nil {
			if dec, err = connector.NewDecoder(&ft); err != nil {
				return nil, err
			}
		}
		a.dec = dec
	}
	a.reset()
	return a, nil
}

func metaTypeOK(field string, k types.Kind) bool {
	switch field {
	case "key":
		return k == types.String || k == types.Bytes || k == types.JSON
	case "topic":
		return k == types.String
	case "partition":
		return k == types.Int32 || k == types.Int64
	case "offset":
		return k == types.Int64
	case "timestamp":
		return k == types.Timestamp
	}
	return false
}

func (a *assembler) reset() {
	a.ts = coldata.New(types.TimestampT, batchRows).(*coldata.Vec[int64])
	a.meta = a.meta[:0]
	for _, t := range a.types {
		a.meta = append(a.meta, coldata.New(t, batchRows))
	}
}

// addFetch appends the rows of one fetch's records: the decoder's
// columns record by record, then the event times and each metadata column
// in one pass per column over the records kept (a dropped bad record has
// no row; a record may decode to several). done is the number of records
// consumed: all of them, or the index of the record that failed.
func (a *assembler) addFetch(recs []*kgo.Record) (done int, err error) {
	a.kept = a.kept[:0]
	if a.dec == nil {
		for i := range recs {
			a.kept = append(a.kept, int32(i))
		}
	} else {
		prev := a.dec.Rows()
		for i, r := range recs {
			if err := a.dec.Decode(r.Value); err != nil {
				if a.badData != connector.BadDataDrop {
					a.fill(recs)
					return i, err
				}
				a.dropped++
				continue
			}
			now := a.dec.Rows()
			for range now - prev {
				a.kept = append(a.kept, int32(i))
			}
			prev = now
		}
	}
	a.fill(recs)
	return len(recs), nil
}

// add appends the rows of one record (the connection tester's sample).
func (a *assembler) add(r *kgo.Record) error {
	_, err := a.addFetch([]*kgo.Record{r})
	return err
}

// fill appends the event time and metadata of the rows in a.kept.
func (a *assembler) fill(recs []*kgo.Record) {
	ts := a.ts.Vals
	for _, i := range a.kept {
		ts = append(ts, recs[i].Timestamp.UnixNano())
	}
	a.ts.Vals = ts
	for k, f := range a.field {
		appendMeta(a.meta[k], f, recs, a.kept)
	}
	a.n += len(a.kept)
}

// appendMeta appends metadata field of the records recs[i] for i in
// rows to v, choosing how once per fetch.
func appendMeta(v coldata.Vector, field string, recs []*kgo.Record, rows []int32) {
	switch v := v.(type) {
	case *coldata.Bytes:
		for _, i := range rows {
			r := recs[i]
			switch field {
			case "key":
				if r.Key == nil {
					v.AppendNull()
					continue
				}
				v.Append(r.Key)
			case "topic":
				v.AppendString(r.Topic)
			default:
				v.AppendString(metaString(field, r))
			}
		}
	case *coldata.Vec[int64]:
		vals := v.Vals
		switch field {
		case "offset":
			for _, i := range rows {
				vals = append(vals, recs[i].Offset)
			}
		case "partition":
			for _, i := range rows {
				vals = append(vals, int64(recs[i].Partition))
			}
		case "timestamp":
			for _, i := range rows {
				vals = append(vals, recs[i].Timestamp.UnixNano())
			}
		default:
			for range rows {
				v.AppendNull()
			}
			return
		}
		v.Vals = vals
	case *coldata.Vec[int32]:
		for _, i := range rows {
			if field == "partition" {
				v.Append(recs[i].Partition)
				continue
			}
			v.AppendNull()
		}
	default:
		for range rows {
			v.AppendNull()
		}
	}
}

func metaString(field string, r *kgo.Record) string {
	switch field {
	case "partition":
		return strconv.Itoa(int(r.Partition))
	case "offset":
		return strconv.FormatInt(r.Offset, 10)
	case "timestamp":
		return r.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

func (a *assembler) takeDropped() int64 {
	n := a.dropped
	a.dropped = 0
	return n
}

func (a *assembler) flush() *coldata.Batch {
	if a.n == 0 {
		return nil
	}
	var dv []coldata.Vector
	if a.dec != nil {
		dv = a.dec.Flush()
	}
	var cols []coldata.Vector
	if len(a.field) == 0 {
		cols = dv
	} else {
		for _, c := range a.cols {
			if c >= 0 {
				cols = append(cols, dv[c])
			} else {
				cols = append(cols, a.meta[-1-c])
			}
		}
		if a.dec != nil {
			nd := 0
			for _, c := range a.cols {
				if c >= 0 {
					nd++
				}
			}
			cols = append(cols, dv[nd:]...) // a changelog's change kinds
		}
	}
	b := coldata.NewBatch(append(cols, a.ts), a.n)
	a.n = 0
	a.reset()
	return b
}
