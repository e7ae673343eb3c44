package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowSlabModel runs random operations on a rowSlab and on a map of
// slices (the model) and checks they agree after each: every key is found
// (and a removed one is not), each side's rows are the model's in arrival
// order, and ranging sees exactly the live keys. Hashes collide on
// purpose (a 1 in 8 chance of a hash shared by many keys) so probing,
// backward-shift deletion and the byte comparison are all exercised;
// compaction and reuse after reset are too.
func TestRowSlabModel(t *testing.T) {
	type mrow struct {
		b     string
		count int32
	}
	for seed := uint64(0); seed < 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		s := &rowSlab{}
		model := map[string]*[2][]mrow{}
		hashOf := func(key string) uint64 {
			if key[len(key)-1]%8 == 0 {
				return 42 // many keys, one hash
			}
			h := uint64(14695981039346656037)
			for i := 0; i < len(key); i++ {
				h = (h ^ uint64(key[i])) * 1099511628211
			}
			return h
		}
		check := func(step int) {
			t.Helper()
			if s.live != len(model) {
				t.Fatalf("seed %d step %d: %d live keys, model %d", seed, step, s.live, len(model))
			}
			seen := 0
			for _, k := range s.liveKeys(nil) {
				m := model[string(s.key(k))]
				if m == nil {
					t.Fatalf("seed %d step %d: key %q is not in the model", seed, step, s.key(k))
				}
				seen++
				for side := 0; side < 2; side++ {
					var got []mrow
					for x := s.keys[k].head[side]; x >= 0; x = s.rows[x].next {
						got = append(got, mrow{string(s.row(x)), s.rows[x].count})
					}
					if !slices.Equal(got, m[side]) || int(s.keys[k].n[side]) != len(m[side]) {
						t.Fatalf("seed %d step %d: key %q side %d: %v (n %d), model %v", seed, step, s.key(k), side, got, s.keys[k].n[side], m[side])
					}
				}
			}
			for key := range model {
				if k := s.find([]byte(key), hashOf(key)); k < 0 || string(s.key(k)) != key {
					t.Fatalf("seed %d step %d: key %q not found (%d)", seed, step, key, k)
				}
			}
			if seen != len(model) {
				t.Fatalf("seed %d step %d: ranged over %d keys, model %d", seed, step, seen, len(model))
			}
		}
		for step := 0; step < 20000; step++ {
			key := fmt.Sprintf("k%d", r.IntN(600))
			h := hashOf(key)
			switch op := r.IntN(100); {
			case op < 55:
				row := fmt.Sprintf("r%d-%s", r.IntN(5), key)
				side := r.IntN(2)
				k := s.lookup([]byte(key), h)
				s.appendRow(k, side, []byte(row), 1)
				m := model[key]
				if m == nil {
					m = &[2][]mrow{}
					model[key] = m
				}
				m[side] = append(m[side], mrow{row, 1})
			case op < 80:
				row := fmt.Sprintf("r%d-%s", r.IntN(5), key)
				side := r.IntN(2)
				k := s.find([]byte(key), h)
				m := model[key]
				if (k >= 0) != (m != nil) {
					t.Fatalf("seed %d step %d: find %q = %d, model has it: %v", seed, step, key, k, m != nil)
				}
				if k < 0 {
					continue
				}
				i := slices.IndexFunc(m[side], func(x mrow) bool { return x.b == row })
				if got := s.removeRow(k, side, []byte(row)); got != (i >= 0) {
					t.Fatalf("seed %d step %d: removeRow %q %q = %v", seed, step, key, row, got)
				}
				if i >= 0 {
					m[side] = slices.Delete(m[side], i, i+1)
				}
				if s.empty(k) {
					s.deleteKey(k)
					delete(model, key)
				}
			case op < 90:
				if k := s.find([]byte(key), h); k >= 0 {
					s.deleteKey(k)
					delete(model, key)
				}
			case op < 93:
				s.compact()
			case op < 94:
				// Keep every other row of one side (as a top-N prune does).
				if k := s.find([]byte(key), h); k >= 0 {
					side := r.IntN(2)
					s.keepRows(k, side, func(i int) bool { return i%2 == 0 })
					m := model[key]
					var kept []mrow
					for i, x := range m[side] {
						if i%2 == 0 {
							kept = append(kept, x)
						}
					}
					m[side] = kept
					if s.empty(k) {
						s.deleteKey(k)
						delete(model, key)
					}
				}
			case op < 95:
				s.reset()
				clear(model)
			default:
				// An unindexed key (a NULL key's row) is ranged over,
				// never found.
				k := s.addKey([]byte("\xffnull"), h, false)
				if s.find([]byte("\xffnull"), h) == k {
					t.Fatalf("seed %d step %d: an unindexed key was found", seed, step)
				}
				s.deleteKey(k)
			}
			if step%97 == 0 {
				check(step)
			}
		}
		check(-1)
	}
}
