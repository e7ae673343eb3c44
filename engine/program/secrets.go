package program

import (
	"fmt"
	"slices"
	"strings"
)

// RedactedValue is the text that replaces the value of a secret option wherever
// a program is displayed.
const RedactedValue = "<redacted>"

// Redacted returns a copy of p for display (plan text, EXPLAIN, logs, an
// API response): every option a table declares secret (Table.
// Secret) has the value RedactedValue. p is not modified; the copy shares
// everything but the tables, so it must not be run.
func (p *Program) Redacted() *Program {
	q := *p
	q.Nodes = make([]*Node, len(p.Nodes))
	for i, n := range p.Nodes {
		c := *n
		c.Source = redactTable(n.Source)
		c.Sink = redactTable(n.Sink)
		q.Nodes[i] = &c
	}
	return &q
}

func redactTable(t *Table) *Table {
	if t == nil || len(t.Secret) == 0 {
		return t
	}
	c := *t
	c.Options = redactOptions(t.Options, t.Secret)
	if t.Format != nil {
		f := *t.Format
		f.Options = redactOptions(f.Options, t.Secret)
		c.Format = &f
	}
	return &c
}

func redactOptions(o Options, secret []string) Options {
	out := make(Options, len(o))
	for k, v := range o {
		if slices.Contains(secret, k) {
			v = RedactedValue
		}
		out[k] = v
	}
	return out
}

// ExpandEnv returns t with every "{{NAME}}" in its option values (the
// connector's and the format's) replaced by the environment variable NAME,
// read through lookup (os.LookupEnv on a worker). Workers call it when they
// build a source or sink, so a secret kept in the environment never enters
// the program, the plan text or a stored copy. t is not modified; when no
// option has a template, t itself is returned. A missing variable is an
// error naming the option and the variable, never a value.
func ExpandEnv(t *Table, lookup func(string) (string, bool)) (*Table, error) {
	if t == nil || !hasTemplate(t) {
		return t, nil
	}
	c := *t
	var err error
	if c.Options, err = expandOptions(t.Name, t.Options, lookup); err != nil {
		return nil, err
	}
	if t.Format != nil {
		f := *t.Format
		if f.Options, err = expandOptions(t.Name, f.Options, lookup); err != nil {
			return nil, err
		}
		c.Format = &f
	}
	return &c, nil
}

func hasTemplate(t *Table) bool {
	for _, v := range t.Options {
		if strings.Contains(v, "{{") {
			return true
		}
	}
	if t.Format != nil {
		for _, v := range t.Format.Options {
			if strings.Contains(v, "{{") {
				return true
			}
		}
	}
	return false
}

func expandOptions(table string, o Options, lookup func(string) (string, bool)) (Options, error) {
	out := make(Options, len(o))
	for k, v := range o {
		x, err := expandValue(v, lookup)
		if err != nil {
			return nil, fmt.Errorf("table '%s': option '%s': %w", table, k, err)
		}
		out[k] = x
	}
	return out, nil
}

// expandValue replaces each {{NAME}} (NAME trimmed of spaces) in v.
func expandValue(v string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(v, "{{") {
		return v, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(v, "{{")
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		j := strings.Index(v[i+2:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unterminated '{{' (write {{NAME}} to read environment variable NAME)")
		}
		name := strings.TrimSpace(v[i+2 : i+2+j])
		if name == "" {
			return "", fmt.Errorf("empty '{{}}' (write {{NAME}} to read environment variable NAME)")
		}
		val, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(v[:i])
		b.WriteString(val)
		v = v[i+2+j+2:]
	}
}
