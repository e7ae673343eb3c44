package program

import (
	"fmt"
	"sort"
	"strings"
)

// String renders the program as text, one node per line with its edges and
// expressions: the format of the planner's golden plan files.
func (p *Program) String() string {
	var b strings.Builder
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "%d %s %s p=%d", n.ID, n.Op, n.Description, n.Parallelism)
		var ins []string
		for _, e := range p.Inputs(n.ID) {
			s := fmt.Sprintf("%d %s", e.From, e.Kind)
			if len(e.Keys) > 0 {
				s += fmt.Sprint(e.Keys)
			}
			ins = append(ins, s)
		}
		if len(ins) > 0 {
			fmt.Fprintf(&b, " <- %s", strings.Join(ins, ", "))
		}
		b.WriteByte('\n')
		fmt.Fprintf(&b, "    schema %s\n", n.Schema)
		if t := n.Source; t != nil {
			fmt.Fprintf(&b, "    connector %s%s\n", t.Connector, formatOptions(t.Options))
		}
		if w := n.Watermark; w != nil {
			fmt.Fprintf(&b, "    watermark max(#%d) - %s\n", w.Column, w.Lateness)
		}
		if t := n.Sink; t != nil {
			fmt.Fprintf(&b, "    connector %s%s\n", t.Connector, formatOptions(t.Options))
		}
		if c := n.Calc; c != nil {
			for _, f := range c.Filters {
				fmt.Fprintf(&b, "    filter %s\n", f)
			}
			for i, e := range c.Project {
				fmt.Fprintf(&b, "    %s := %s\n", n.Schema.Fields[i].Name, e)
			}
		}
	}
	return b.String()
}

func formatOptions(o map[string]string) string {
	if len(o) == 0 {
		return ""
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + o[k]
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// String renders the expression compactly: #i for input column i,
// literals as JSON with their type, calls as name(args).
func (e *Expr) String() string {
	args := func() string {
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = a.String()
		}
		return strings.Join(parts, ", ")
	}
	switch e.Op {
	case ExprCol:
		return fmt.Sprintf("#%d", e.Col)
	case ExprLit:
		return fmt.Sprintf("%s:%s", e.Value, e.Type)
	case ExprCall:
		return fmt.Sprintf("%s(%s)", e.Func, args())
	case ExprCast:
		return fmt.Sprintf("cast(%s AS %s)", args(), e.Type)
	case ExprField:
		return fmt.Sprintf("%s.%s", e.Args[0], e.Args[0].Type.Fields[e.Field].Name)
	}
	return fmt.Sprintf("%s(%s)", e.Op, args())
}
