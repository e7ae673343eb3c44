package kafka

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// prepared is what an exactly-once sink's PreCommit returns (JSON in the
// checkpoint): the transaction to commit, and enough of the subtask's
// identity to fence what it may have opened after it.
type prepared struct {
	Topic string `json:"topic"`
	// Base is the transactional id without its sequence number.
	Base string `json:"base"`
	// Seq is the transaction's sequence number (-1: nothing was written
	// in the epoch, there is no transaction); Next the next one the
	// subtask would have used.
	Seq      int64  `json:"seq"`
	Next     int64  `json:"next"`
	TxnID    string `json:"txn_id,omitempty"`
	Producer int64  `json:"producer_id,omitempty"`
	Epoch    int16  `json:"producer_epoch,omitempty"`
}

// CommitHook, if set, is called at the start of every exactly-once Commit
// with the sink's table and the checkpoint epoch; an error fails the
// Commit. Tests use it to crash a pipeline between a durable checkpoint and
// the commit of its transactions.
var (
	commitHookMu sync.Mutex
	commitHook   func(table string, epoch uint64) error
)

// SetCommitHook installs f as the commit hook (nil removes it).
func SetCommitHook(f func(table string, epoch uint64) error) {
	commitHookMu.Lock()
	commitHook = f
	commitHookMu.Unlock()
}

func callCommitHook(table string, epoch uint64) error {
	commitHookMu.Lock()
	f := commitHook
	commitHookMu.Unlock()
	if f == nil {
		return nil
	}
	return f(table, epoch)
}

type sink struct {
	t      *connector.Table
	cfg    *config
	task   connector.SinkTask
	enc    connector.Encoder
	keyCol int // -1: no key
	tsCol  int // the column of record timestamps; -1: the event time (the batch's last column)
	ready  bool
	meta   *kgo.Client
	adm    *kadm.Client
	// at_least_once: one idempotent producer.
	prod *kgo.Client
	// exactly_once: the open transaction's producer, and the pre-committed
	// ones by transactional id.
	base    string
	seq     int64
	cur     *kgo.Client
	curID   string
	curSeq  int64
	pending map[string]*kgo.Client
	wrote   bool // restored state says this sink wrote its topic before

	// life is the context of buffered records, cancelled by Close.
	life   context.Context
	cancel context.CancelFunc

	errMu sync.Mutex
	err   error // the first failed produce
	rows  []int
	key   []byte // Write: the record's key
	// free are the slabs whose records are all acknowledged, for reuse
	// (at most maxFreeSlabs).
	slabMu sync.Mutex
	free   []*slab
}

// A slab holds the records of one Write and their keys and values, and is
// reused once the producer has acknowledged every one of them (franz-go
// hands a record back to its owner in the promise): in steady state a
// Write allocates nothing of its own, where it allocated its records, a
// value buffer and a key a keyed row (TestSinkWriteAllocs; RATIONALE.md,
// "Kafka sink: record slabs reused once acknowledged; snappy kept"). The
// slabs alive are about those the producer's buffer holds at once
// (max.buffered.records), so the free list adds no memory the sink did not
// already use at its peak.
type slab struct {
	recs []kgo.Record
	// buf holds the records' keys and values. When a Write outgrows it,
	// the rest go to a bigger buffer that replaces it for the next use.
	buf []byte
	// left counts the records not yet acknowledged, plus one while the
	// Write that fills the slab runs; whoever takes it to zero frees the
	// slab.
	left     atomic.Int64
	promise  func(*kgo.Record, error) // made once per slab
	released func(*slab)
}

// maxFreeSlabs bounds the slabs a sink keeps for reuse. The records in
// flight are bounded by the producer's max.buffered.records (50,000 by
// default: about 13 slabs of 4,096 rows), so more are rarely needed.
const maxFreeSlabs = 16

// done is the end of one record's or one Write's claim on the slab.
func (sl *slab) done(n int64) {
	if sl.left.Add(-n) == 0 {
		sl.released(sl)
	}
}

// takeSlab returns a free slab of at least n records, or a new one.
func (s *sink) takeSlab(n int) *slab {
	s.slabMu.Lock()
	for i, sl := range s.free {
		if cap(sl.recs) >= n {
			last := len(s.free) - 1
			s.free[i] = s.free[last]
			s.free[last] = nil
			s.free = s.free[:last]
			s.slabMu.Unlock()
			sl.recs = sl.recs[:n]
			return sl
		}
	}
	s.slabMu.Unlock()
	sl := &slab{recs: make([]kgo.Record, n), released: s.releaseSlab}
	sl.promise = func(_ *kgo.Record, err error) {
		if err != nil {
			s.setErr(err)
		}
		sl.done(1)
	}
	return sl
}

// releaseSlab keeps sl for reuse; its records and bytes are no longer the
// producer's.
func (s *sink) releaseSlab(sl *slab) {
	s.slabMu.Lock()
	if len(s.free) < maxFreeSlabs {
		s.free = append(s.free, sl)
	}
	s.slabMu.Unlock()
}

var (
	_ connector.TwoPhaseSink = twoPhase{}
	_ connector.Closer       = twoPhase{}
	_ connector.Flusher      = atLeastOnce{}
	_ connector.Closer       = atLeastOnce{}
)

// twoPhase is the exactly-once sink: only it is a connector.TwoPhaseSink.
type twoPhase struct{ *sink }

// atLeastOnce hides the TwoPhaseSink methods.
type atLeastOnce struct{ s *sink }

func (a atLeastOnce) Write(ctx context.Context, b *coldata.Batch) error { return a.s.Write(ctx, b) }
func (a atLeastOnce) Finish(ctx context.Context) error                  { return a.s.Finish(ctx) }
func (a atLeastOnce) Flush(ctx context.Context) error                   { return a.s.Flush(ctx) }
func (a atLeastOnce) Close() error                                      { return a.s.Close() }

func newSink(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
	cfg, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	enc, err := connector.NewEncoder(t, t.Schema)
	if err != nil {
		return nil, err
	}
	s := &sink{t: t, cfg: cfg, task: task, enc: enc, keyCol: -1, tsCol: -1, pending: map[string]*kgo.Client{}}
	if cfg.keyField != "" {
		if s.keyCol = t.Schema.Index(cfg.keyField); s.keyCol < 0 {
			return nil, &ConfigError{Table: t.Name, Option: OptKeyField, Problem: fmt.Sprintf("'%s' is not a column of the table (columns: %s)", cfg.keyField, columnNames(t.Schema))}
		}
	}
	if cfg.tsField != "" {
		i := t.Schema.Index(cfg.tsField)
		if i < 0 {
			return nil, &ConfigError{Table: t.Name, Option: OptTimestampField, Problem: fmt.Sprintf("'%s' is not a column of the table (columns: %s)", cfg.tsField, columnNames(t.Schema))}
		}
		if t.Schema.Fields[i].Type.Kind != types.Timestamp {
			return nil, &ConfigError{Table: t.Name, Option: OptTimestampField, Problem: fmt.Sprintf("'%s' must be TIMESTAMP, not %s", cfg.tsField, t.Schema.Fields[i].Type)}
		}
		s.tsCol = i
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	h := sha256.Sum256([]byte(task.JobID + "/" + task.OperatorID))
	s.base = fmt.Sprintf("%s-%s-%d", cfg.txnPrefix, hex.EncodeToString(h[:6]), task.Subtask)
	if cfg.exactly {
		return twoPhase{s}, nil
	}
	return atLeastOnce{s}, nil
}

func columnNames(s *types.Schema) string {
	out := ""
	for i, f := range s.Fields {
		if i > 0 {
			out += ", "
		}
		out += f.Name
	}
	return out
}

// start connects and makes sure the topic exists (seed 004: the sink's
// connection is made when it starts, idempotently; a missing topic is
// created unless this pipeline wrote to it before).
func (s *sink) start(ctx context.Context) error {
	if s.ready {
		return nil
	}
	adm, cl, err := s.cfg.admin()
	if err != nil {
		return err
	}
	s.adm, s.meta = adm, cl
	// A registry format registers the sink's schema now (seed 004: at
	// start, idempotently), refusing an incompatible one.
	enc, err := newRegistryEncoder(ctx, s.t, s.cfg.opts, s.cfg.topic)
	if err != nil {
		return err
	}
	if enc != nil {
		s.enc = enc
	}
	_, err = s.cfg.partitions(ctx, adm)
	switch {
	case errors.Is(err, ErrTopicNotFound) && s.wrote:
		return &ConnError{Table: s.t.Name, Topic: s.cfg.topic, Op: "start sink", Err: errors.New("the topic was deleted after this pipeline wrote to it; refusing to recreate it (its records would be lost silently)")}
	case errors.Is(err, ErrTopicNotFound) && s.cfg.create:
		cctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
		_, cerr := adm.CreateTopic(cctx, -1, -1, nil, s.cfg.topic)
		cancel()
		if cerr != nil && !errors.Is(cerr, kerr.TopicAlreadyExists) {
			return s.cfg.connErr("create topic", cerr, ctx)
		}
	case errors.Is(err, ErrTopicNotFound):
		return &ConnError{Table: s.t.Name, Topic: s.cfg.topic, Op: "start sink", Err: fmt.Errorf("%w (and %s is false)", ErrTopicNotFound, OptCreateTopic)}
	case err != nil:
		return err
	}
	if !s.cfg.exactly {
		opts := append(s.cfg.clientOpts(), kgo.DefaultProduceTopic(s.cfg.topic))
		if s.prod, err = kgo.NewClient(opts...); err != nil {
			return &ConfigError{Table: s.t.Name, Option: OptBootstrap, Problem: err.Error()}
		}
	}
	s.ready = true
	return nil
}

func (s *sink) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

func (s *sink) firstErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *sink) produceErr(err error) error {
	return &ConnError{Table: s.t.Name, Topic: s.cfg.topic, Op: "produce", Err: err, retriable: !errors.Is(err, kerr.ProducerFenced)}
}

// Write implements connector.Sink: it encodes and produces every row
// (asynchronously; Flush and PreCommit wait for the acknowledgements).
func (s *sink) Write(ctx context.Context, b *coldata.Batch) error {
	if err := s.start(ctx); err != nil {
		return err
	}
	if err := s.firstErr(); err != nil {
		return s.produceErr(err)
	}
	cl := s.prod
	if s.cfg.exactly {
		if s.cur == nil {
			if err := s.begin(ctx); err != nil {
				return err
			}
		}
		cl = s.cur
	}
	s.rows = s.rows[:0]
	b.ForEach(func(i int) { s.rows = append(s.rows, i) })
	k := 0
	tc := s.tsCol
	if tc < 0 {
		tc = len(b.Cols) - 1 // after a changelog's change kinds
	}
	ts := b.Cols[tc].(*coldata.Vec[int64])
	var keys coldata.Vector
	if s.keyCol >= 0 {
		keys = b.Cols[s.keyCol]
	}
	n := len(s.rows)
	sl := s.takeSlab(n)
	sl.left.Store(int64(n) + 1) // the records, and this Write
	buf := sl.buf[:0]
	err := s.enc.Encode(b, func(rec []byte) error {
		row := s.rows[k]
		r := &sl.recs[k]
		k++
		var key []byte
		hasKey := keys != nil && !keys.IsNull(row)
		if hasKey {
			s.key = appendKey(s.key[:0], keys, row)
			key = s.key
		}
		if need := len(buf) + len(key) + len(rec); need > cap(buf) {
			// A bigger buffer for the rest of the batch at this
			// record's size; earlier records keep the old one, and
			// the slab keeps the new one.
			buf = make([]byte, 0, max(2*cap(buf), (len(key)+len(rec))*(n-k+1), 4096))
			sl.buf = buf
		}
		buf = append(buf, key...)
		buf = append(buf, rec...)
		*r = kgo.Record{Topic: s.cfg.topic, Value: buf[len(buf)-len(rec) : len(buf) : len(buf)]}
		if hasKey {
			r.Key = buf[len(buf)-len(rec)-len(key) : len(buf)-len(rec) : len(buf)-len(rec)]
		}
		if !ts.IsNull(row) {
			r.Timestamp = time.Unix(0, ts.Vals[row])
		}
		// Not ctx: a record outlives the Write call that buffered it.
		cl.Produce(s.life, r, sl.promise)
		return nil
	})
	// The records never produced (an encoding error) and this Write's own
	// claim.
	sl.done(int64(n-k) + 1)
	return err
}

// appendKey appends the key of row (not null) of v to dst.
func appendKey(dst []byte, v coldata.Vector, row int) []byte {
	if b, ok := v.(*coldata.Bytes); ok {
		return append(dst, b.Get(row)...)
	}
	switch x := coldata.Value(v, row).(type) {
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	default:
		return fmt.Append(dst, x)
	}
}

// begin opens the next transaction, under a transactional id of its own.
func (s *sink) begin(ctx context.Context) error {
	id := s.base + "-" + strconv.FormatInt(s.seq, 10)
	opts := append(s.cfg.clientOpts(), kgo.TransactionalID(id), kgo.TransactionTimeout(s.cfg.txnTTL),
		kgo.DefaultProduceTopic(s.cfg.topic))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return &ConfigError{Table: s.t.Name, Option: OptBootstrap, Problem: err.Error()}
	}
	if err := cl.BeginTransaction(); err != nil {
		cl.Close()
		return s.cfg.connErr("begin transaction", err, ctx)
	}
	s.cur, s.curID, s.curSeq = cl, id, s.seq
	s.seq++
	return nil
}

// flushCtx bounds a flush: records the brokers do not take for that long
// fail the pipeline (retriable) instead of hanging it. Records carry their
// own timestamps, so the producer's per-record delivery timeout (measured
// from them) cannot be used.
func (s *sink) flushCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, max(6*s.cfg.timeout, time.Minute))
}

// Flush implements connector.Flusher (at_least_once).
func (s *sink) Flush(ctx context.Context) error {
	if err := s.start(ctx); err != nil {
		return err
	}
	if s.prod == nil {
		return s.firstErr()
	}
	fctx, cancel := s.flushCtx(ctx)
	defer cancel()
	if err := s.prod.Flush(fctx); err != nil {
		return s.cfg.connErr("flush", err, fctx)
	}
	if err := s.firstErr(); err != nil {
		return s.produceErr(err)
	}
	return nil
}

// Finish implements connector.Sink. A two-phase sink's records after
// its last PreCommit are committed by the runtime's protocol (PreCommit
// then Commit at end of input), so here it only flushes.
func (s *sink) Finish(ctx context.Context) error {
	if err := s.start(ctx); err != nil {
		return err
	}
	if s.cfg.exactly {
		if s.cur == nil {
			return s.firstErr()
		}
		cl, id := s.cur, s.curID
		if err := cl.Flush(ctx); err != nil {
			return s.cfg.connErr("flush transaction", err, ctx)
		}
		if err := s.firstErr(); err != nil {
			return s.produceErr(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return s.cfg.connErr("commit transaction "+id, err, ctx)
		}
		s.cur = nil
		cl.Close()
		return nil
	}
	return s.Flush(ctx)
}

// PreCommit implements connector.TwoPhaseSink: flush the epoch's
// transaction and return its producer id and epoch, which are enough to
// commit it from another process.
func (s twoPhase) PreCommit(ctx context.Context, epoch uint64) ([]byte, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	p := prepared{Topic: s.cfg.topic, Base: s.base, Seq: -1, Next: s.seq}
	if s.cur != nil {
		fctx, cancel := s.flushCtx(ctx)
		err := s.cur.Flush(fctx)
		cancel()
		if err != nil {
			return nil, s.cfg.connErr("flush transaction", err, fctx)
		}
		if err := s.firstErr(); err != nil {
			return nil, s.produceErr(err)
		}
		pid, pe, err := s.cur.ProducerID(ctx)
		if err != nil {
			return nil, s.cfg.connErr("producer id", err, ctx)
		}
		p.Seq, p.TxnID, p.Producer, p.Epoch = s.curSeq, s.curID, pid, pe
		s.pending[s.curID] = s.cur
		s.cur = nil
	}
	return json.Marshal(p)
}

// Commit implements connector.TwoPhaseSink.
func (s twoPhase) Commit(ctx context.Context, epoch uint64, all [][]byte) error {
	if err := callCommitHook(s.t.Name, epoch); err != nil {
		return err
	}
	for _, raw := range all {
		var p prepared
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("kafka table '%s': bad pre-commit state: %v", s.t.Name, err)
		}
		if p.TxnID == "" {
			continue
		}
		if cl, ok := s.pending[p.TxnID]; ok {
			// Bounded: the client retries CONCURRENT_TRANSACTIONS for as
			// long as its context lives, and a commit that hangs holds
			// every later epoch back; past the window it is finished by
			// producer id like any other failed commit.
			ectx, cancel := context.WithTimeout(ctx, s.cfg.retryWindow())
			err := cl.EndTransaction(ectx, kgo.TryCommit)
			cancel()
			if err != nil {
				cerr := s.cfg.connErr("commit transaction "+p.TxnID, err, ctx)
				if !retriable(cerr) || ctx.Err() != nil {
					return cerr
				}
				// The client gave up after its retry timeout: finish
				// the commit by producer id and epoch, with backoff
				// (retry.go), as a restore would.
				if err := s.resume(ctx, p); err != nil {
					return err
				}
			}
			cl.Close()
			delete(s.pending, p.TxnID)
			continue
		}
		if err := s.resume(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Recover implements connector.TwoPhaseSink: commit the restored
// pre-committed transactions (idempotently) and fence every transaction
// their subtasks may have opened after them.
func (s twoPhase) Recover(ctx context.Context, restored [][]byte) error {
	var ps []prepared
	for _, raw := range restored {
		var p prepared
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("kafka table '%s': bad restored pre-commit state: %v", s.t.Name, err)
		}
		ps = append(ps, p)
		if p.TxnID != "" && p.Topic == s.cfg.topic {
			s.wrote = true
		}
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	next := map[string]int64{}
	for _, p := range ps {
		if p.TxnID != "" {
			if err := s.resume(ctx, p); err != nil {
				return err
			}
		}
		next[p.Base] = max(next[p.Base], p.Next)
	}
	for base, n := range next {
		for seq := n; seq < n+2; seq++ {
			if err := s.fence(ctx, base+"-"+strconv.FormatInt(seq, 10)); err != nil {
				return err
			}
		}
		if base == s.base {
			s.seq = max(s.seq, n+2)
		}
	}
	return nil
}

// resume commits a pre-committed transaction of this or an earlier
// process with its producer id and epoch. A transaction already committed
// (a Commit that succeeded before a crash) is success.
func (s *sink) resume(ctx context.Context, p prepared) error {
	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.retryWindow(), 30*time.Second))
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = p.TxnID, p.Producer, p.Epoch, true
		resp, err := req.RequestWith(ctx, s.meta)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kerr.ConcurrentTransactions) || errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, kerr.NotCoordinator) ||
			(ctx.Err() == nil && !errors.As(err, new(*kerr.Error))):
			// A coordinator moving or loading, or a connection error:
			// transient.
			select {
			case <-ctx.Done():
				return s.cfg.connErr("commit transaction "+p.TxnID, err, ctx)
			case <-time.After(wait):
			}
			continue
		}
		// Ambiguous: ask the coordinator what became of it.
		if s.committed(ctx, p) {
			return nil
		}
		return &ConnError{Table: s.t.Name, Topic: s.cfg.topic, Op: "commit restored transaction " + p.TxnID,
			Err: fmt.Errorf("%w; the broker no longer has it open (it outlived %s = %s and was aborted, or expired): the records of that checkpoint epoch are lost", err, OptTxnTimeout, s.cfg.txnTTL)}
	}
}

func (s *sink) committed(ctx context.Context, p prepared) bool {
	ds, err := s.adm.DescribeTransactions(ctx, p.TxnID)
	if err != nil {
		return false
	}
	d, ok := ds[p.TxnID]
	return ok && d.Err == nil && d.State == "CompleteCommit" && d.ProducerID == p.Producer && (d.ProducerEpoch == p.Epoch || d.ProducerEpoch == p.Epoch+1)
}

// fence bumps the producer epoch of a transactional id, aborting its open
// transaction: a zombie of an earlier run can no longer commit.
func (s *sink) fence(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.timeout, 30*time.Second))
	defer cancel()
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		tid := id
		req.TransactionalID = &tid
		req.TransactionTimeoutMillis = int32(s.cfg.txnTTL / time.Millisecond)
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, s.meta)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kerr.ConcurrentTransactions) || errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, kerr.NotCoordinator):
			select {
			case <-ctx.Done():
				return s.cfg.connErr("fence transactional id "+id, err, ctx)
			case <-time.After(50 * time.Millisecond):
			}
		default:
			return s.cfg.connErr("fence transactional id "+id, err, ctx)
		}
	}
}

// Close releases the clients. Open and pre-committed transactions are left
// to the broker: a restore commits the pre-committed ones and fences the
// rest; without one they abort at their timeout.
func (s *sink) Close() error {
	if s.cur != nil {
		// Never pre-committed: no restore commits it, and left open it
		// would hold back read_committed consumers until its timeout.
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
		_ = s.cur.AbortBufferedRecords(ctx)
		_ = s.cur.EndTransaction(ctx, kgo.TryAbort)
		cancel()
	}
	s.cancel()
	for _, cl := range []*kgo.Client{s.prod, s.cur, s.meta} {
		if cl != nil {
			cl.Close()
		}
	}
	for _, cl := range s.pending {
		cl.Close()
	}
	return nil
}
