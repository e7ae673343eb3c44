package sqlplan

import "github.com/arroyogo/arroyo/engine/program"

// skipRebalance keeps a calc at its input's parallelism when the calc was
// given more subtasks than its input has only to feed keyed shuffles: the
// round-robin rebalance into it would be followed at once by a
// repartition by key, two hops where one does the spreading. With one hop,
// each operator behind the keyed shuffle also sees a single path from a
// single-subtask source, so the order of its rows and watermarks (which
// rows are late) is the source's order at any parallelism.
func skipRebalance(p *program.Program) {
	for _, n := range p.Nodes {
		if n.Op != program.OpCalc {
			continue
		}
		ins := p.Inputs(n.ID)
		if len(ins) != 1 || ins[0].Kind != program.Shuffle || len(ins[0].Keys) != 0 {
			continue
		}
		from := p.Nodes[ins[0].From]
		if from.Parallelism >= n.Parallelism {
			continue
		}
		outs := p.Outputs(n.ID)
		keyed := len(outs) > 0
		for _, e := range outs {
			keyed = keyed && e.Kind == program.Shuffle && len(e.Keys) > 0
		}
		if !keyed {
			continue
		}
		n.Parallelism = from.Parallelism
		ins[0].Kind = program.Forward
	}
}
