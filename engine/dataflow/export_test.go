package dataflow

import (
	"context"

	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// StartWith is Start with the operator constructor replaced, so tests can
// run probe operators under the real protocol.
func StartWith(ctx context.Context, p *program.Program, opts Options, newOp func(context.Context, *program.Node, ops.TaskInfo) (ops.Operator, error)) (*Job, error) {
	return start(ctx, p, opts, newOp)
}

// Buffered returns the number of messages waiting in the queue of (input,
// sender) of subtask i of node.
func (j *Job) Buffered(node, i, input, sender int) int {
	for slot, s := range j.slots[node] {
		if s.input == input && s.sender == sender {
			return j.inputs[node][i].buffered(slot)
		}
	}
	panic("no such queue")
}

// SetCompactBelow sets the shuffle's compaction threshold (0: never
// compact) and returns the previous one.
func SetCompactBelow(d int) int {
	old := compactBelow
	compactBelow = d
	return old
}
