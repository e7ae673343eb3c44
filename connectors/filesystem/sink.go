package filesystem

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// The commit protocol. Every sink subtask belongs to a run: one start of
// the job, fresh or restored, with an id shared by all its subtasks in the
// process (runID). Files are written under staged names
//
//	.arroyo/<lineage>/tmp/<run>-<subtask>-<bound>-<seq><suffix>
//
// where lineage is a hash of the sink's operator id (stable across restores
// and re-plans) and bound is one more than the last epoch the subtask
// pre-committed: a file's rows are pre-committed at an epoch >= bound.
//
//   - PreCommit(e) closes every open file and records their staged and
//     final names with the run and e; Commit moves them to the final names
//     (a rename locally, copy + delete in an object store); a move already
//     done is success, so a commit can be repeated.
//   - Finish (end of input) closes every file, writes a manifest of them
//     (.arroyo/<lineage>/finish/<run>-<subtask>.json, with the last epoch
//     the subtask pre-committed) and moves them. These files are outside any
//     checkpoint: if the job dies before it is recorded as finished, a
//     restore replays their rows, so it must take them back.
//   - Recover, given what the restored checkpoint k (taken by run R)
//     pre-committed, moves those files to their final names; deletes every
//     staged file not of run R or of run R with bound > k (written after the
//     barrier, or by a run that died before its first checkpoint), which
//     are never what any restored pre-commit names; and for every finish
//     manifest, deletes the files it lists unless it is run R's with a last
//     epoch < k (that subtask had finished before checkpoint k, so nothing
//     replays its rows), then the manifest itself. Every Recover of a job
//     runs before any subtask writes (the runtime restores all operators
//     before it starts them), so what a Recover deletes is never the new
//     run's.
//   - A fresh run (no Recover) deletes, at subtask 0's first action, the
//     staged files and manifests of other runs: a job that is started
//     afresh gives up the state of the runs before it.
//
// So a crash at any moment, then a restore from the last complete
// checkpoint, leaves under path exactly the files of the rows the
// checkpoint covers, and the replay adds the rest.

const stagingDir = ".arroyo/"

// fileRef is one file: its staged key and its final key.
type fileRef struct {
	Tmp   string `json:"tmp"`
	Final string `json:"final"`
}

// precommit is what PreCommit records in the checkpoint.
type precommit struct {
	Run     string    `json:"run"`
	Subtask int       `json:"subtask"`
	Epoch   uint64    `json:"epoch"`
	Files   []fileRef `json:"files"`
}

// manifest is a finish manifest.
type manifest struct {
	Run     string    `json:"run"`
	Subtask int       `json:"subtask"`
	Last    uint64    `json:"last"`
	Files   []fileRef `json:"files"`
}

var (
	runsMu sync.Mutex
	runs   = map[string]string{}
)

// runID returns the run id of task's job: subtask 0 starts a new run (the
// runtime builds subtasks in order), the others join it.
func runID(task connector.SinkTask) string {
	key := task.JobID + "\x00" + task.OperatorID
	runsMu.Lock()
	defer runsMu.Unlock()
	id, ok := runs[key]
	if !ok || task.Subtask == 0 {
		var b [6]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
		runs[key] = id
	}
	return id
}

// clock is the sink's time source (tests inject one).
var clock = time.Now

type openFile struct {
	ref    fileRef
	w      fileWriter
	abort  func()
	done   func() // releases the writer's context once it is closed
	rows   int64
	opened time.Time
	last   time.Time
}

// partRows are the rows of a batch in one partition.
type partRows struct {
	key string
	sel []int32
}

type sink struct {
	cfg     *config
	t       *connector.Table
	task    connector.SinkTask
	st      store
	pq      *parquetLayout
	part    *partitioner
	run     string
	staging string // .arroyo/<lineage>/
	now     func() time.Time

	seq    int64
	last   uint64 // the last epoch pre-committed in this run
	open   map[string]*openFile
	closed []fileRef // closed since the last pre-commit

	started   bool
	recovered bool

	keys []*partRows // scratch: the partitions of a batch, in order of appearance
	sels map[string]*partRows
	all  []int32
}

var (
	_ connector.TwoPhaseSink = (*sink)(nil)
	_ connector.Closer       = (*sink)(nil)
)

func newSink(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
	c, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	s := &sink{cfg: c, t: t, task: task, part: newPartitioner(c, t.Schema), run: runID(task), now: clock,
		open: map[string]*openFile{}, sels: map[string]*partRows{}}
	h := sha256.Sum256([]byte(task.OperatorID))
	s.staging = stagingDir + hex.EncodeToString(h[:6]) + "/"
	if c.format == FormatParquet {
		s.pq = newParquetLayout(t.Schema)
	} else if _, err := connector.NewEncoder(t, t.Schema); err != nil {
		return nil, err
	}
	if s.st, err = openStore(context.Background(), c); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sink) tmpKey(seq int64) string {
	return s.staging + "tmp/" + s.run + "-" + strconv.Itoa(s.task.Subtask) + "-" + strconv.FormatUint(s.last+1, 10) + "-" + strconv.FormatInt(seq, 10) + s.cfg.suffix
}

// parseTmp returns the run and bound of a staged key.
func parseTmp(key string) (run string, bound uint64, ok bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	parts := strings.SplitN(name, "-", 4)
	if len(parts) != 4 {
		return "", 0, false
	}
	b, err := strconv.ParseUint(parts[2], 10, 64)
	return parts[0], b, err == nil
}

func (s *sink) finalName(seq int64) string {
	if s.cfg.uuid {
		var b [16]byte
		rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:])
		return s.cfg.prefixName + "-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + s.cfg.suffix
	}
	return s.cfg.prefixName + "-" + s.run + "-" + itoa(int64(s.task.Subtask), 3) + "-" + itoa(seq, 5) + s.cfg.suffix
}

// begin runs before a run's first write: a fresh run's subtask 0 clears
// what earlier runs staged.
func (s *sink) begin(ctx context.Context) error {
	if s.started {
		return nil
	}
	s.started = true
	if s.recovered || s.task.Subtask != 0 {
		return nil
	}
	return s.cleanup(ctx,
		func(run string, _ uint64) bool { return run != s.run },
		func(manifest) bool { return false })
}

// cleanup deletes the staged files for which dropTmp is true and the
// finish manifests of other runs, first deleting the files of those for
// which dropFinish is true.
func (s *sink) cleanup(ctx context.Context, dropTmp func(run string, bound uint64) bool, dropFinish func(manifest) bool) error {
	tmps, err := s.st.List(ctx, s.staging+"tmp/")
	if err != nil {
		return fmt.Errorf("filesystem: list %s: %w", s.st.Where(s.staging+"tmp/"), err)
	}
	for _, k := range tmps {
		run, bound, ok := parseTmp(k)
		if ok && !dropTmp(run, bound) {
			continue
		}
		if err := s.st.Delete(ctx, k); err != nil {
			return fmt.Errorf("filesystem: delete %s: %w", s.st.Where(k), err)
		}
	}
	ms, err := s.st.List(ctx, s.staging+"finish/")
	if err != nil {
		return fmt.Errorf("filesystem: list %s: %w", s.st.Where(s.staging+"finish/"), err)
	}
	for _, k := range ms {
		name := k[strings.LastIndexByte(k, '/')+1:]
		if run, _, _ := strings.Cut(name, "-"); run == s.run {
			continue // this run's (another subtask finished)
		}
		if !strings.HasSuffix(name, ".json") {
			// A manifest cut short before its rename: its files were never
			// moved (the moves follow it) and are a dead run's staged
			// files, deleted above.
			if err := s.st.Delete(ctx, k); err != nil {
				return fmt.Errorf("filesystem: delete %s: %w", s.st.Where(k), err)
			}
			continue
		}
		raw, err := s.st.Read(ctx, k)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("filesystem: read %s: %w", s.st.Where(k), err)
		}
		var m manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("filesystem: finish manifest %s: %w", s.st.Where(k), err)
		}
		if dropFinish(m) {
			for _, f := range m.Files {
				if err := s.st.Delete(ctx, f.Final); err != nil {
					return fmt.Errorf("filesystem: take back %s: %w", s.st.Where(f.Final), err)
				}
				if err := s.st.Delete(ctx, f.Tmp); err != nil {
					return fmt.Errorf("filesystem: delete %s: %w", s.st.Where(f.Tmp), err)
				}
			}
		}
		if err := s.st.Delete(ctx, k); err != nil {
			return fmt.Errorf("filesystem: delete %s: %w", s.st.Where(k), err)
		}
	}
	return nil
}

// file returns the open file of partition key, opening one if needed.
func (s *sink) file(key string, now time.Time) (*openFile, error) {
	if f := s.open[key]; f != nil {
		return f, nil
	}
	s.seq++
	ref := fileRef{Tmp: s.tmpKey(s.seq), Final: s.finalName(s.seq)}
	if key != "" {
		ref.Final = key + "/" + ref.Final
	}
	wctx, cancel := context.WithCancel(context.Background())
	out, err := s.st.Create(wctx, ref.Tmp)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("filesystem: create %s: %w", s.st.Where(ref.Tmp), err)
	}
	f := &openFile{ref: ref, opened: now, last: now, done: cancel}
	tmp := ref.Tmp
	f.abort = func() {
		cancel() // an object-store writer then discards the object
		out.Close()
		s.st.Delete(context.Background(), tmp)
	}
	if s.pq != nil {
		f.w = newParquetWriter(out, s.pq, s.cfg)
	} else {
		enc, err := connector.NewEncoder(s.t, s.t.Schema)
		if err != nil {
			f.abort()
			return nil, err
		}
		f.w = newLinesWriter(out, enc)
	}
	s.open[key] = f
	return f, nil
}

// roll closes partition key's file; its rows are pre-committed at the next
// barrier.
func (s *sink) roll(key string) error {
	f := s.open[key]
	delete(s.open, key)
	err := f.w.close()
	f.done()
	if err != nil {
		return fmt.Errorf("filesystem: write %s: %w", s.st.Where(f.ref.Tmp), err)
	}
	s.closed = append(s.closed, f.ref)
	return nil
}

// rollAll closes every open file, in key order.
func (s *sink) rollAll() error {
	keys := make([]string, 0, len(s.open))
	for k := range s.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := s.roll(k); err != nil {
			return err
		}
	}
	return nil
}

// rollByTime closes the files past rollover_seconds or idle past
// inactivity_rollover_seconds.
func (s *sink) rollByTime(now time.Time) error {
	var due []string
	for k, f := range s.open {
		if now.Sub(f.opened) >= s.cfg.rollAge || (s.cfg.rollIdle > 0 && now.Sub(f.last) >= s.cfg.rollIdle) {
			due = append(due, k)
		}
	}
	slices.Sort(due)
	for _, k := range due {
		if err := s.roll(k); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) Write(ctx context.Context, b *coldata.Batch) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	now := s.now()
	if err := s.rollByTime(now); err != nil {
		return err
	}
	n := b.Rows()
	if n == 0 {
		return nil
	}
	s.all = s.all[:0]
	for k := range n {
		if b.Sel != nil {
			s.all = append(s.all, b.Sel[k])
		} else {
			s.all = append(s.all, int32(k))
		}
	}
	if s.part.none() {
		return s.writeRows(ctx, "", b, s.all, now)
	}
	s.keys = s.keys[:0]
	for _, i := range s.all {
		kb := s.part.key(b, int(i))
		p := s.sels[string(kb)] // a lookup: no allocation
		if p == nil {
			p = &partRows{key: string(kb)}
			s.sels[p.key] = p
		}
		if len(p.sel) == 0 {
			s.keys = append(s.keys, p) // the key's first row in this batch
		}
		p.sel = append(p.sel, i)
	}
	for _, p := range s.keys {
		if err := s.writeRows(ctx, p.key, b, p.sel, now); err != nil {
			return err
		}
		p.sel = p.sel[:0]
	}
	if len(s.sels) > 4096 {
		clear(s.sels) // do not keep the scratch of every partition ever seen
	}
	return nil
}

// writeRows writes rows sel of b into partition key's files, rolling by
// rows and size.
func (s *sink) writeRows(ctx context.Context, key string, b *coldata.Batch, sel []int32, now time.Time) error {
	for len(sel) > 0 {
		f, err := s.file(key, now)
		if err != nil {
			return err
		}
		k := len(sel)
		if s.cfg.rollRows > 0 {
			k = int(min(int64(k), s.cfg.rollRows-f.rows))
		}
		sub := coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel[:k]}
		if err := f.w.write(&sub); err != nil {
			return fmt.Errorf("filesystem: write %s: %w", s.st.Where(f.ref.Tmp), err)
		}
		f.rows += int64(k)
		f.last = now
		sel = sel[k:]
		if (s.cfg.rollRows > 0 && f.rows >= s.cfg.rollRows) || (s.cfg.rollBytes > 0 && f.w.size() >= s.cfg.rollBytes) {
			if err := s.roll(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// PreCommit implements connector.TwoPhaseSink: every file is closed and
// named in the checkpoint.
func (s *sink) PreCommit(ctx context.Context, epoch uint64) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := s.rollAll(); err != nil {
		return nil, err
	}
	p := precommit{Run: s.run, Subtask: s.task.Subtask, Epoch: epoch, Files: s.closed}
	s.closed, s.last = nil, epoch
	return json.Marshal(p)
}

// Commit implements connector.TwoPhaseSink: the files of the epochs appear
// under their final names.
func (s *sink) Commit(ctx context.Context, _ uint64, prepared [][]byte) error {
	for _, raw := range prepared {
		var p precommit
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("filesystem: bad pre-commit record: %w", err)
		}
		if err := s.move(ctx, p.Files); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) move(ctx context.Context, files []fileRef) error {
	for _, f := range files {
		if err := s.st.Move(ctx, f.Tmp, f.Final); err != nil {
			return fmt.Errorf("filesystem: commit %s: %w", s.st.Where(f.Final), err)
		}
	}
	return nil
}

// Recover implements connector.TwoPhaseSink; see the protocol above.
func (s *sink) Recover(ctx context.Context, restored [][]byte) error {
	s.recovered = true
	if len(restored) == 0 {
		return nil
	}
	var k uint64
	runs := map[string]bool{}
	for _, raw := range restored {
		var p precommit
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("filesystem: restore: bad pre-commit record: %w", err)
		}
		if err := s.move(ctx, p.Files); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		k = max(k, p.Epoch)
		runs[p.Run] = true
	}
	return s.cleanup(ctx,
		func(run string, bound uint64) bool { return !runs[run] || bound > k },
		func(m manifest) bool { return !runs[m.Run] || m.Last >= k })
}

// Finish implements connector.Sink: the files after the last barrier are
// committed, recorded first in a finish manifest (see the protocol).
func (s *sink) Finish(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := s.rollAll(); err != nil {
		return err
	}
	if len(s.closed) == 0 {
		return nil
	}
	m, err := json.Marshal(manifest{Run: s.run, Subtask: s.task.Subtask, Last: s.last, Files: s.closed})
	if err != nil {
		return err
	}
	// Written under a temporary name and renamed: a manifest is whole
	// or absent.
	key := s.staging + "finish/" + s.run + "-" + strconv.Itoa(s.task.Subtask) + ".json"
	w, err := s.st.Create(ctx, key+".part")
	if err == nil {
		_, err = w.Write(m)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = s.st.Move(ctx, key+".part", key)
	}
	if err != nil {
		return fmt.Errorf("filesystem: write %s: %w", s.st.Where(key), err)
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if err := s.move(ctx, s.closed); err != nil {
		return err
	}
	s.closed = nil
	return nil
}

// Close gives up the files still open (their staged objects are deleted or
// never appear) and closes the store.
func (s *sink) Close() error {
	for k, f := range s.open {
		f.abort()
		delete(s.open, k)
	}
	return s.st.Close()
}
