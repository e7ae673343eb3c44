package state

// MaxKeyGroups is the default number of key groups of a job (Flink's
// default maximum parallelism is the same idea): keys hash into this many
// groups, and groups, not keys, are assigned to subtasks. It is the upper
// bound on useful parallelism of a keyed operator, and it cannot change
// across a restore, so a program records the count it was planned with
// (program.Program.MaxKeyGroups).
const MaxKeyGroups = 128

// MaxKeyGroupsLimit bounds the key-group count a program may ask for: each
// subtask keeps a small per-group structure, and 2^15 is Flink's limit too.
const MaxKeyGroupsLimit = 1 << 15

// KeyGroupOf is the key group of a key whose hash (coldata.HashInto over the
// key columns) is hash, among maxKeyGroups groups. Shuffle routing and state
// placement both go through it, so a row and its state meet on one subtask.
func KeyGroupOf(hash uint64, maxKeyGroups int) int {
	return int(hash % uint64(maxKeyGroups))
}

// KeyGroupRange is the range [lo, hi) of key groups subtask owns among
// parallelism subtasks: [ceil(s*K/P), ceil((s+1)*K/P)). The ranges of the
// subtasks 0..P-1 are contiguous, disjoint and cover [0, K); when P > K some
// ranges are empty (those subtasks hold no keyed state). It is the inverse of
// SubtaskOf: SubtaskOf(g) == s exactly when lo <= g < hi.
//
// It requires 0 <= subtask < parallelism and maxKeyGroups >= 1.
func KeyGroupRange(subtask, parallelism, maxKeyGroups int) (lo, hi int) {
	lo = (subtask*maxKeyGroups + parallelism - 1) / parallelism
	hi = ((subtask+1)*maxKeyGroups + parallelism - 1) / parallelism
	return lo, hi
}

// SubtaskOf is the subtask, among parallelism, that owns key group group of
// maxKeyGroups: floor(g*P/K). g*P/K >= s exactly when g >= s*K/P, that is
// g >= ceil(s*K/P), which is why it agrees with KeyGroupRange.
func SubtaskOf(group, parallelism, maxKeyGroups int) int {
	return group * parallelism / maxKeyGroups
}
