package state

import (
	"errors"
	"fmt"
	"sort"
)

// Config identifies the subtask a Store belongs to.
type Config struct {
	// OperatorID is the operator's stable id; a snapshot restores only
	// into a store of the same operator.
	OperatorID string
	// Subtask and Parallelism place the store: it owns the key groups
	// KeyGroupRange(Subtask, Parallelism, MaxKeyGroups).
	Subtask, Parallelism int
	// MaxKeyGroups is the program's key-group count; 0 means MaxKeyGroups.
	MaxKeyGroups int
}

// Store is the state of one operator subtask: named keyed tables over the
// key groups it owns and named global tables. It belongs to the subtask's
// goroutine (snapshots are taken there, at a barrier) and is not safe for
// concurrent use.
type Store struct {
	cfg    Config
	lo, hi int
	keyed  map[string]*KeyedTable
	global map[string]*GlobalTable
	// pending holds the restored key groups (validated) not loaded into
	// the keyed tables yet: the first Keyed loads them all, and an
	// operator that moves its state into its own structures reads them
	// in place (RangeRestoredKeyed) and never loads them.
	pending []pendingGroup
}

type pendingGroup struct {
	gs   GroupState
	from int // the old subtask
}

// New builds the store of one subtask and loads restored into it: the
// snapshots of every subtask of the operator from one checkpoint (taken at
// any parallelism), or none for a fresh start. The store keeps the keyed
// entries of the key groups it owns and, for global tables, the union of
// all snapshots (see GlobalTable). It validates every group it keeps at
// once, but loads them into its keyed tables only when a table is first
// used (Keyed, Snapshot), copying them then; until then it refers to the
// snapshots' bytes, which must not change (RangeRestoredKeyed reads them
// in place).
func New(cfg Config, restored []*Snapshot) (*Store, error) {
	if cfg.MaxKeyGroups == 0 {
		cfg.MaxKeyGroups = MaxKeyGroups
	}
	if cfg.MaxKeyGroups < 1 || cfg.MaxKeyGroups > MaxKeyGroupsLimit {
		return nil, fmt.Errorf("state: operator %q: max key groups %d: want 1..%d", cfg.OperatorID, cfg.MaxKeyGroups, MaxKeyGroupsLimit)
	}
	if cfg.Parallelism < 1 || cfg.Subtask < 0 || cfg.Subtask >= cfg.Parallelism {
		return nil, fmt.Errorf("state: operator %q: subtask %d of parallelism %d", cfg.OperatorID, cfg.Subtask, cfg.Parallelism)
	}
	s := &Store{cfg: cfg, keyed: map[string]*KeyedTable{}, global: map[string]*GlobalTable{}}
	s.lo, s.hi = KeyGroupRange(cfg.Subtask, cfg.Parallelism, cfg.MaxKeyGroups)
	if err := s.restore(restored); err != nil {
		return nil, fmt.Errorf("state: restore operator %q subtask %d of %d: %w", cfg.OperatorID, cfg.Subtask, cfg.Parallelism, err)
	}
	return s, nil
}

// Config returns the store's configuration (MaxKeyGroups filled in).
func (s *Store) Config() Config { return s.cfg }

// KeyGroups returns the range [lo, hi) of key groups the store owns.
func (s *Store) KeyGroups() (lo, hi int) { return s.lo, s.hi }

// Keyed returns the keyed table name, creating it empty the first time.
// Look it up once (at operator start), not per row.
func (s *Store) Keyed(name string) *KeyedTable {
	s.loadPending()
	return s.keyedTable(name)
}

func (s *Store) keyedTable(name string) *KeyedTable {
	t, ok := s.keyed[name]
	if !ok {
		t = newKeyedTable(name, s.lo, s.hi)
		s.keyed[name] = t
	}
	return t
}

// loadPending loads the restored key groups into the keyed tables. They
// were validated by New, so loading cannot fail.
func (s *Store) loadPending() {
	pending := s.pending
	s.pending = nil
	for _, p := range pending {
		if err := s.loadGroup(p.gs); err != nil {
			panic(fmt.Sprintf("state: operator %q: key group %d was validated and no longer decodes: %v", s.cfg.OperatorID, p.gs.Group, err))
		}
	}
}

// Global returns the global table name, creating it empty the first time.
func (s *Store) Global(name string) *GlobalTable {
	t, ok := s.global[name]
	if !ok {
		t = newGlobalTable(name)
		s.global[name] = t
	}
	return t
}

// Snapshot copies the store's state as of now into a Snapshot for
// checkpoint epoch: the keyed entries per key group and the live global
// entries. The store can change right after; the snapshot owns its bytes.
// Its cost is an encoding of the live state (no incremental checkpoints
// yet), straight into the snapshot's one buffer (SnapshotWith).
func (s *Store) Snapshot(epoch uint64) *Snapshot {
	return s.SnapshotWith(epoch, nil, 0)
}

// restore loads snapshots into the empty store.
func (s *Store) restore(snaps []*Snapshot) error {
	if len(snaps) == 0 {
		return nil
	}
	first := snaps[0]
	if first == nil {
		return errors.New("nil snapshot")
	}
	seen := map[int]bool{}
	groupFrom := map[int]int{}
	for _, sn := range snaps {
		if sn == nil {
			return errors.New("nil snapshot")
		}
		switch {
		case sn.OperatorID != s.cfg.OperatorID:
			return fmt.Errorf("snapshot of subtask %d belongs to operator %q", sn.Subtask, sn.OperatorID)
		case sn.MaxKeyGroups != s.cfg.MaxKeyGroups:
			return fmt.Errorf("snapshot of subtask %d has %d key groups, the job %d: the key-group count cannot change across a restore", sn.Subtask, sn.MaxKeyGroups, s.cfg.MaxKeyGroups)
		case sn.Epoch != first.Epoch:
			return fmt.Errorf("snapshots of epochs %d and %d mixed", first.Epoch, sn.Epoch)
		case sn.Parallelism != first.Parallelism:
			return fmt.Errorf("snapshots taken at parallelism %d and %d mixed", first.Parallelism, sn.Parallelism)
		case sn.Subtask < 0 || sn.Subtask >= sn.Parallelism:
			return fmt.Errorf("snapshot of subtask %d of parallelism %d", sn.Subtask, sn.Parallelism)
		case seen[sn.Subtask]:
			return fmt.Errorf("two snapshots of subtask %d", sn.Subtask)
		}
		seen[sn.Subtask] = true
	}
	if len(seen) < first.Parallelism {
		var missing []int
		for i := 0; i < first.Parallelism && len(missing) < 10; i++ {
			if !seen[i] {
				missing = append(missing, i)
			}
		}
		// Global tables are the union of all subtasks: restoring from a
		// part of them would silently lose, e.g., source offsets.
		return fmt.Errorf("epoch %d was taken at parallelism %d: missing the snapshots of subtasks %v", first.Epoch, first.Parallelism, missing)
	}
	defer func() {
		sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].gs.Group < s.pending[j].gs.Group })
	}()
	owners := map[string]map[string]int{}
	for _, sn := range snaps {
		lo, hi := KeyGroupRange(sn.Subtask, sn.Parallelism, sn.MaxKeyGroups)
		for _, part := range sn.Groups {
			if part.Ref != nil && part.Data == nil {
				return fmt.Errorf("snapshot of subtask %d, key group %d: the part in %s at offset %d was not resolved", sn.Subtask, part.Group, part.Ref.File, part.Ref.Offset)
			}
			// A multi-group part is placed group by group.
			err := part.Split(func(group int, data []byte) error {
				gs := GroupState{Group: group, Data: data}
				if gs.Group < lo || gs.Group >= hi {
					return fmt.Errorf("snapshot of subtask %d of %d holds key group %d, outside its range [%d, %d)", sn.Subtask, sn.Parallelism, gs.Group, lo, hi)
				}
				// (One snapshot may hold a group in several parts.)
				if from, dup := groupFrom[gs.Group]; dup && from != sn.Subtask {
					return fmt.Errorf("key group %d in the snapshots of subtasks %d and %d", gs.Group, from, sn.Subtask)
				}
				groupFrom[gs.Group] = sn.Subtask
				if gs.Group < s.lo || gs.Group >= s.hi {
					return nil
				}
				// Validated now (a damaged group fails the restore
				// here), loaded when a table is first used.
				if err := rangeGroup(gs, nil); err != nil {
					return fmt.Errorf("snapshot of subtask %d, key group %d: %w", sn.Subtask, gs.Group, err)
				}
				s.pending = append(s.pending, pendingGroup{gs: gs, from: sn.Subtask})
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, e := range sn.Global {
			if owners[e.Table] == nil {
				owners[e.Table] = map[string]int{}
			}
			if err := s.Global(e.Table).restore(e.Key, append([]byte(nil), e.Value...), sn.Subtask, owners[e.Table]); err != nil {
				return err
			}
		}
	}
	return nil
}
