package program

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// String renders the program as text, one node per line with its operator
// id and its inputs in slot order, then its schema and config: the format of
// the planner's golden plan files. Secret options are redacted.
func (p *Program) String() string {
	var b strings.Builder
	for _, u := range p.UDFs {
		fmt.Fprintf(&b, "udf %s %s\n", u.Name, u.ModuleHash)
	}
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "%d %s %s p=%d id=%s", n.ID, n.Op, n.Description, n.Parallelism, n.OperatorID)
		if n.Updating {
			b.WriteString(" updating")
		}
		var ins []string
		edges := p.Inputs(n.ID)
		sort.SliceStable(edges, func(a, b int) bool { return edges[a].Input < edges[b].Input })
		for _, e := range edges {
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
			fmt.Fprintf(&b, "    connector %s%s\n", t.Connector, formatOptions(t.Options, t.Secret))
		}
		if w := n.Watermark; w != nil {
			fmt.Fprintf(&b, "    watermark max(#%d) - %s\n", w.Column, w.Lateness)
		}
		if t := n.Sink; t != nil {
			fmt.Fprintf(&b, "    connector %s%s\n", t.Connector, formatOptions(t.Options, t.Secret))
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

func formatOptions(o map[string]string, secret []string) string {
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
		v := o[k]
		if slices.Contains(secret, k) {
			v = RedactedValue
		}
		parts[i] = k + "=" + v
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
