package program

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Operator ids.
//
// State and metrics are keyed by Node.OperatorID, so an id must say what a
// node is, not where it happens to be in Nodes (indexes shift whenever a
// statement is added above). The rule, applied by AssignOperatorIDs:
//
//   - A node that stands for a table is named by its role and the table's
//     name: TableOperatorID("source", "orders"). Sources and sinks get this
//     from their table; the planner gives it to the nodes it makes per table
//     (a memory table's union, a source's event-time calc). Such an id
//     survives any edit but renaming the table, including a change of its
//     options or of the queries that feed it.
//   - Any other node (a calc of some query) is named by what it computes and
//     what it reads: a hash of its op, its output schema, its expressions in
//     the plan-text form (positions and SQL text excluded, so moving a
//     statement does not change it) and the operator ids of its inputs in
//     slot order with their shuffle keys (not the edge kind: forward and a
//     round-robin shuffle differ only by parallelism, so an id is the same
//     at every parallelism and a restore at another one finds its state).
//     Changing a query changes the ids of its nodes and of the non-table
//     nodes downstream of them (their state would not fit anyway); other
//     statements keep theirs.
//   - Two nodes with the same hash (the same query text inserted twice) are
//     told apart by an occurrence counter in node order: the first keeps the
//     hash, the k-th gets the suffix "~k".
//
// Ids look like "calc_1f0c3a9e": the op and 8 hex digits of a SHA-256.

// TableOperatorID is the operator id of the node that plays role (e.g.
// "source", "sink", "memory", "event_time") for table name.
func TableOperatorID(role, name string) string {
	return role + "_" + shortHash("table\x00"+role+"\x00"+name)
}

// AssignOperatorIDs sets the OperatorID of every node that has none,
// following the rule above. It needs the edges (a calc's id depends on its
// inputs') and rejects a cycle the way Validate does.
func (p *Program) AssignOperatorIDs() error {
	if err := p.checkAcyclic(); err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, n := range p.Nodes {
		if n.OperatorID != "" {
			taken[n.OperatorID] = true
		}
	}
	var assign func(n *Node)
	assign = func(n *Node) {
		if n.OperatorID != "" {
			return
		}
		var base string
		switch {
		case n.Op == OpSource && n.Source != nil:
			base = TableOperatorID("source", n.Source.Name)
		case n.Op == OpSink && n.Sink != nil:
			base = TableOperatorID("sink", n.Sink.Name)
		default:
			ins := p.Inputs(n.ID)
			sort.SliceStable(ins, func(a, b int) bool { return ins[a].Input < ins[b].Input })
			var b strings.Builder
			fmt.Fprintf(&b, "%s\x00%s\x00%t\x00%s\n", n.Op, n.Schema, n.Updating, n.Description)
			for _, e := range ins {
				in := p.Nodes[e.From]
				assign(in)
				// Forward and a round-robin shuffle only differ by the
				// parallelism on each side, which a restore may change:
				// both are "any distribution". Keys partition state.
				dist := "any"
				if len(e.Keys) > 0 {
					dist = fmt.Sprintf("keyed %v", e.Keys)
				}
				fmt.Fprintf(&b, "in %d %s %s\n", e.Input, in.OperatorID, dist)
			}
			if c := n.Calc; c != nil {
				for _, f := range c.Filters {
					fmt.Fprintf(&b, "filter %s\n", f)
				}
				for _, e := range c.Project {
					fmt.Fprintf(&b, "project %s\n", e)
				}
			}
			if w := n.WindowFunc; w != nil {
				cfg, _ := json.Marshal(w)
				fmt.Fprintf(&b, "window_func %s\n", cfg)
			}
			if j := n.Join; j != nil {
				cfg, _ := json.Marshal(j)
				fmt.Fprintf(&b, "join %s\n", cfg)
			}
			if a := n.Aggregate; a != nil {
				cfg, _ := json.Marshal(a)
				fmt.Fprintf(&b, "aggregate %s\n", cfg)
			}
			base = string(n.Op) + "_" + shortHash(b.String())
		}
		id := base
		for k := 2; taken[id]; k++ {
			id = fmt.Sprintf("%s~%d", base, k)
		}
		taken[id] = true
		n.OperatorID = id
	}
	for _, n := range p.Nodes {
		assign(n)
	}
	return nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}
