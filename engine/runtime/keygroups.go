package runtime

// keyGroupRange returns the key groups [lo, hi) that subtask i of p owns:
// exactly the groups g whose route g*p/MaxKeyGroups (output.go) is i, that
// is lo = ceil(i*K/p).
//
// It is the one place operators learn their range from (ops.TaskInfo); the
// state package will own this pair of functions.
func keyGroupRange(i, p int) (lo, hi int) {
	return ceilDiv(i*MaxKeyGroups, p), ceilDiv((i+1)*MaxKeyGroups, p)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
