package state

import (
	"fmt"
	"testing"
)

// TestKeyGroupsAgree checks KeyGroupRange and SubtaskOf against each other
// for every parallelism 1..K (and beyond K, where subtasks go idle): every
// group is owned by exactly one subtask, the ranges are contiguous and cover
// [0, K), and SubtaskOf(g) == s exactly when g is in s's range.
func TestKeyGroupsAgree(t *testing.T) {
	for _, k := range []int{1, 2, 3, 7, 100, MaxKeyGroups, 1000, 4096} {
		maxP := k + 3
		if k > MaxKeyGroups {
			maxP = 64 // every P 1..K is quadratic in K; sample the big ones
		}
		for p := 1; p <= maxP; p++ {
			if err := checkKeyGroups(p, k); err != nil {
				t.Fatalf("K=%d P=%d: %v", k, p, err)
			}
		}
		if k > MaxKeyGroups {
			for _, p := range []int{k/2 - 1, k / 3, k - 1, k, k + 1, 2 * k} {
				if err := checkKeyGroups(p, k); err != nil {
					t.Fatalf("K=%d P=%d: %v", k, p, err)
				}
			}
		}
	}
	if err := checkKeyGroups(7, MaxKeyGroupsLimit); err != nil {
		t.Fatalf("K=%d P=7: %v", MaxKeyGroupsLimit, err)
	}
}

func checkKeyGroups(p, k int) error {
	owner := make([]int, k)
	for g := range owner {
		owner[g] = -1
	}
	next := 0
	for s := range p {
		lo, hi := KeyGroupRange(s, p, k)
		if lo != next {
			return fmt.Errorf("subtask %d starts at %d, previous ended at %d", s, lo, next)
		}
		if hi < lo {
			return fmt.Errorf("subtask %d: range [%d, %d)", s, lo, hi)
		}
		// Ranges differ in size by at most one: no subtask gets twice the
		// groups of another (the old documented formula and routing
		// disagreed on this edge).
		if n := hi - lo; n != k/p && n != (k+p-1)/p {
			return fmt.Errorf("subtask %d owns %d groups, want %d or %d", s, n, k/p, (k+p-1)/p)
		}
		for g := lo; g < hi; g++ {
			if owner[g] != -1 {
				return fmt.Errorf("group %d owned by %d and %d", g, owner[g], s)
			}
			owner[g] = s
		}
		next = hi
	}
	if next != k {
		return fmt.Errorf("ranges end at %d, want %d", next, k)
	}
	for g, s := range owner {
		if got := SubtaskOf(g, p, k); got != s {
			return fmt.Errorf("SubtaskOf(%d) = %d, but group %d is in subtask %d's range", g, got, g, s)
		}
	}
	return nil
}

// TestKeyGroupRangeValues pins a few ranges, so a formula that is
// self-consistent but different from Flink's (e.g. floor-based) fails.
func TestKeyGroupRangeValues(t *testing.T) {
	for _, c := range []struct{ s, p, k, lo, hi int }{
		{0, 3, 128, 0, 43}, {1, 3, 128, 43, 86}, {2, 3, 128, 86, 128},
		{0, 1, 128, 0, 128}, {4, 5, 128, 103, 128}, {0, 200, 128, 0, 1}, {1, 200, 128, 1, 2}, {2, 200, 128, 2, 2},
	} {
		if lo, hi := KeyGroupRange(c.s, c.p, c.k); lo != c.lo || hi != c.hi {
			t.Errorf("KeyGroupRange(%d, %d, %d) = [%d, %d), want [%d, %d)", c.s, c.p, c.k, lo, hi, c.lo, c.hi)
		}
	}
	if g := KeyGroupOf(1<<63+5, 128); g != 5 {
		t.Errorf("KeyGroupOf = %d, want 5", g)
	}
	if g := KeyGroupOf(^uint64(0), 7); g != int(^uint64(0)%7) {
		t.Errorf("KeyGroupOf of a hash above MaxInt64 = %d", g)
	}
}
