package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Row is one JSON object of an expected or actual output.
type Row struct {
	Text string // as written, for messages and -rewrite
	Line int    // line in the case file (expected) or the output file (actual)
	val  map[string]any
}

// ParseRow decodes one line, which must hold exactly one JSON object.
// Numbers keep their text (json.Number), so 1 and 1.0 stay distinct.
func ParseRow(text string, line int) (Row, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Row{}, fmt.Errorf("line %d: %w: %s", line, err, text)
	}
	if dec.More() {
		return Row{}, fmt.Errorf("line %d: more than one JSON value on the line: %s", line, text)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Row{}, fmt.Errorf("line %d: not a JSON object: %s", line, text)
	}
	return Row{Text: text, Line: line, val: m}, nil
}

// ParseRows decodes JSON lines, skipping blank lines.
func ParseRows(data []byte) ([]Row, error) {
	var rows []Row
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		r, err := ParseRow(l, i+1)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Comparer compares rows. By default it is strict about types: a number
// written with a fraction or exponent (1.0, 1e3) is a double and never
// equals an integer (1), because our encoder and Arroyo's write integral
// doubles as 1.0 and a BIGINT as 1 (docs/RATIONALE.md, JSON decoding), so
// the form is the column's type. Doubles compare by float64 value (1.50 =
// 1.5), integers exactly. Strings, timestamps included, compare as text:
// the encoder has one timestamp form and a golden in another form is a
// wrong golden. Object key order never matters.
type Comparer struct {
	// Loose compares every number by its exact decimal value (1 = 1.0).
	Loose bool
}

// Key returns the canonical form of a JSON value: two values are equal
// under c exactly when their keys are.
func (c Comparer) Key(v any) string {
	var b strings.Builder
	c.canon(&b, v)
	return b.String()
}

func (c Comparer) canon(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		b.WriteString(strconv.Quote(v))
	case json.Number:
		b.WriteString(c.number(v.String()))
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			c.canon(b, x)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			c.canon(b, v[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "?%T(%v)", v, v)
	}
}

// number renders a JSON number literal canonically; the prefixes keep
// integers, doubles and strings apart.
func (c Comparer) number(s string) string {
	if c.Loose {
		if r, ok := new(big.Rat).SetString(s); ok {
			return "n(" + r.RatString() + ")"
		}
		return "n(" + s + ")"
	}
	if strings.ContainsAny(s, ".eE") {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return "double(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
		}
		return "double(" + s + ")"
	}
	if i, ok := new(big.Int).SetString(s, 10); ok {
		return "int(" + i.String() + ")"
	}
	return "int(" + s + ")"
}

// Diff compares want and got as multisets and returns nil when they are
// equal, or an error that lists the missing and unexpected rows and, for
// the first missing row, the fields in which the closest unexpected row
// differs.
func (c Comparer) Diff(want, got []Row) error {
	byKey := map[string][]int{}
	for i, r := range got {
		k := c.Key(r.val)
		byKey[k] = append(byKey[k], i)
	}
	var missing []Row
	matched := make([]bool, len(got))
	for _, r := range want {
		k := c.Key(r.val)
		if idx := byKey[k]; len(idx) > 0 {
			matched[idx[0]] = true
			byKey[k] = idx[1:]
			continue
		}
		missing = append(missing, r)
	}
	var unexpected []Row
	for i, r := range got {
		if !matched[i] {
			unexpected = append(unexpected, r)
		}
	}
	if len(missing) == 0 && len(unexpected) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "want %d rows, got %d: %d missing, %d unexpected", len(want), len(got), len(missing), len(unexpected))
	list := func(title, where string, rows []Row) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:", title)
		for i, r := range rows {
			if i == 10 {
				fmt.Fprintf(&b, "\n  ... and %d more", len(rows)-i)
				break
			}
			fmt.Fprintf(&b, "\n  %s %d: %s", where, r.Line, r.Text)
		}
	}
	list("missing (expected, not in the output)", "case line", missing)
	list("unexpected (in the output, not expected)", "output line", unexpected)
	if len(missing) > 0 && len(unexpected) > 0 {
		b.WriteString("\n" + c.closest(missing[0], unexpected))
	}
	return fmt.Errorf("%s", b.String())
}

// closest explains how the unexpected row sharing most fields with want
// differs from it.
func (c Comparer) closest(want Row, candidates []Row) string {
	best, bestSame := candidates[0], -1
	for _, r := range candidates {
		same := 0
		for k, v := range want.val {
			if x, ok := r.val[k]; ok && c.Key(x) == c.Key(v) {
				same++
			}
		}
		if same > bestSame {
			best, bestSame = r, same
		}
	}
	keys := map[string]bool{}
	for k := range want.val {
		keys[k] = true
	}
	for k := range best.val {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "first missing row (case line %d) against the closest output row (output line %d):", want.Line, best.Line)
	for _, k := range names {
		w, wok := want.val[k]
		g, gok := best.val[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "\n  %s: want %s, absent in the output", k, show(w))
		case !wok:
			fmt.Fprintf(&b, "\n  %s: not expected, output has %s", k, show(g))
		case c.Key(w) != c.Key(g):
			fmt.Fprintf(&b, "\n  %s: want %s, got %s", k, show(w), show(g))
		}
	}
	return b.String()
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Replay applies a Debezium changelog (one {"before", "after", "op"} object
// per row, op c, r, u or d) keyed by the pk columns and returns the final
// rows, in the order their keys first appeared. It fails on a create of a
// key that exists, on an update or delete of a key that does not, and on
// an update or delete whose before is not the current row: a changelog
// that only comes out right after a lenient replay is wrong.
func (c Comparer) Replay(changes []Row, pk []string) ([]Row, error) {
	type entry struct {
		row   Row
		alive bool
	}
	state := map[string]*entry{}
	var order []string
	for _, ch := range changes {
		var raw struct {
			Before, After json.RawMessage
			Op            string
		}
		if err := json.Unmarshal([]byte(ch.Text), &raw); err != nil {
			return nil, fmt.Errorf("output line %d: %w", ch.Line, err)
		}
		for k := range ch.val {
			if k != "before" && k != "after" && k != "op" {
				return nil, fmt.Errorf("output line %d: not a changelog row (field %q; want before, after, op): %s", ch.Line, k, ch.Text)
			}
		}
		side := func(name string, text json.RawMessage) (*Row, error) {
			if len(text) == 0 || string(text) == "null" {
				return nil, nil
			}
			r, err := ParseRow(string(text), ch.Line)
			if err != nil {
				return nil, fmt.Errorf("output line %d: %s: %w", ch.Line, name, err)
			}
			var compact bytes.Buffer
			if json.Compact(&compact, text) == nil {
				r.Text = compact.String()
			}
			return &r, nil
		}
		before, err := side("before", raw.Before)
		if err != nil {
			return nil, err
		}
		after, err := side("after", raw.After)
		if err != nil {
			return nil, err
		}
		key := func(r *Row) (string, error) {
			parts := make([]any, len(pk))
			for i, col := range pk {
				v, ok := r.val[col]
				if !ok {
					return "", fmt.Errorf("output line %d: key column %q missing from %s", ch.Line, col, r.Text)
				}
				parts[i] = v
			}
			return c.Key(parts), nil
		}
		// current checks that before is the live row of its key.
		current := func() (string, error) {
			if before == nil {
				return "", fmt.Errorf("output line %d: op %q without before: %s", ch.Line, raw.Op, ch.Text)
			}
			k, err := key(before)
			if err != nil {
				return "", err
			}
			e := state[k]
			if e == nil || !e.alive {
				return "", fmt.Errorf("output line %d: op %q on key %s, which does not exist: %s", ch.Line, raw.Op, k, ch.Text)
			}
			if c.Key(e.row.val) != c.Key(before.val) {
				return "", fmt.Errorf("output line %d: op %q: before %s is not the current row %s (line %d)", ch.Line, raw.Op, before.Text, e.row.Text, e.row.Line)
			}
			return k, nil
		}
		put := func(k string) {
			if e := state[k]; e != nil {
				e.row, e.alive = *after, true
				return
			}
			state[k] = &entry{row: *after, alive: true}
			order = append(order, k)
		}
		switch raw.Op {
		case "c", "r":
			if after == nil {
				return nil, fmt.Errorf("output line %d: op %q without after: %s", ch.Line, raw.Op, ch.Text)
			}
			k, err := key(after)
			if err != nil {
				return nil, err
			}
			if e := state[k]; e != nil && e.alive {
				return nil, fmt.Errorf("output line %d: create of key %s, which exists (row %s from line %d)", ch.Line, k, e.row.Text, e.row.Line)
			}
			put(k)
		case "u":
			if after == nil {
				return nil, fmt.Errorf("output line %d: op \"u\" without after: %s", ch.Line, ch.Text)
			}
			old, err := current()
			if err != nil {
				return nil, err
			}
			k, err := key(after)
			if err != nil {
				return nil, err
			}
			if k != old {
				if e := state[k]; e != nil && e.alive {
					return nil, fmt.Errorf("output line %d: update moves key %s onto %s, which exists (row %s from line %d)", ch.Line, old, k, e.row.Text, e.row.Line)
				}
				state[old].alive = false
			}
			put(k)
		case "d":
			k, err := current()
			if err != nil {
				return nil, err
			}
			state[k].alive = false
		default:
			return nil, fmt.Errorf("output line %d: not a changelog row (op %q; want c, r, u or d): %s", ch.Line, raw.Op, ch.Text)
		}
	}
	var out []Row
	for _, k := range order {
		if e := state[k]; e.alive {
			out = append(out, e.row)
		}
	}
	return out, nil
}

// UniqueKeys checks that no two expected final rows share a key.
func (c Comparer) UniqueKeys(rows []Row, pk []string) error {
	seen := map[string]int{}
	for _, r := range rows {
		parts := make([]any, len(pk))
		for i, col := range pk {
			v, ok := r.val[col]
			if !ok {
				return fmt.Errorf("case line %d: key column %q missing from %s", r.Line, col, r.Text)
			}
			parts[i] = v
		}
		k := c.Key(parts)
		if l, ok := seen[k]; ok {
			return fmt.Errorf("case line %d: key %s repeats line %d; a final state has one row per key", r.Line, k, l)
		}
		seen[k] = r.Line
	}
	return nil
}
