package dialect

import (
	"sort"
	"strings"
)

// segment maps a run of rewritten text back to the original text. A copied
// segment maps byte for byte; a synthetic one (text the rewrite made up)
// maps every byte to the start of the original span it replaces.
type segment struct {
	out, n        int // range out .. out+n of the rewritten text
	orig, origEnd int // original span, byte offsets in the file
	// textStart is where original text starting in a synthetic segment
	// starts: the operand for the "__cast(" put before x in x::INT, whose
	// position (orig) is the '::'.
	textStart int
	copied    bool
}

// unit is a text given to TiDB with its map back to the file.
type unit struct {
	text string
	segs []segment
	ops  map[int]string // operators rewritten, by file offset, as written (operators.go)
}

// seg returns the segment holding rewritten offset off (the last one for
// the end of the text).
func (u *unit) seg(off int) (segment, bool) {
	if len(u.segs) == 0 {
		return segment{}, false
	}
	i := sort.Search(len(u.segs), func(i int) bool { return u.segs[i].out+u.segs[i].n > off })
	if i == len(u.segs) {
		i--
	}
	return u.segs[i], true
}

// orig maps a rewritten offset to a file offset.
func (u *unit) orig(off int) int {
	s, ok := u.seg(off)
	if !ok {
		return 0
	}
	if !s.copied {
		return s.orig
	}
	return s.orig + min(max(off-s.out, 0), s.n)
}

// origText maps a rewritten offset where a span of text starts to a file
// offset: like orig, but "__cast(" maps to the start of its operand.
func (u *unit) origText(off int) int {
	s, ok := u.seg(off)
	if ok && !s.copied {
		return s.textStart
	}
	return u.orig(off)
}

// origEnd maps the rewritten end offset of a span (exclusive) to a file
// offset, so that a span ending in synthetic text ends where the replaced
// original text ends.
func (u *unit) origEnd(end int) int {
	if end <= 0 {
		return u.orig(0)
	}
	s, ok := u.seg(end - 1)
	if !ok {
		return 0
	}
	if !s.copied {
		return s.origEnd
	}
	return s.orig + min(max(end-s.out, 0), s.n)
}

// builder assembles a rewritten text and its segments.
type builder struct {
	f    *file
	b    strings.Builder
	segs []segment
}

func (b *builder) add(s string, orig, origEnd int, copied bool) {
	b.addText(s, orig, origEnd, orig, copied)
}

func (b *builder) addText(s string, orig, origEnd, textStart int, copied bool) {
	if s == "" {
		return
	}
	out := b.b.Len()
	b.b.WriteString(s)
	if n := len(b.segs); copied && n > 0 {
		last := &b.segs[n-1]
		if last.copied && last.out+last.n == out && last.orig+last.n == orig {
			last.n += len(s)
			last.origEnd = origEnd
			return
		}
	}
	b.segs = append(b.segs, segment{out: out, n: len(s), orig: orig, origEnd: origEnd, textStart: textStart, copied: copied})
}

// copyGap copies the whitespace and comments between two tokens, blanking
// every byte but newlines, so TiDB sees neither MySQL-specific comment
// forms nor Unicode spaces.
func (b *builder) copyGap(start, end int) {
	if start >= end {
		return
	}
	gap := []byte(b.f.text[start:end])
	for i, c := range gap {
		if c != '\n' {
			gap[i] = ' '
		}
	}
	b.add(string(gap), start, end, true)
}

func (b *builder) unit() *unit { return &unit{text: b.b.String(), segs: b.segs} }

// insertion is synthetic text put before a token.
type insertion struct {
	s                        string
	orig, origEnd, textStart int
}

// replacement is synthetic text that replaces n tokens.
type replacement struct {
	s string
	n int
}

// rewriter rewrites the tokens of one statement (or one CREATE TABLE
// expression) into TiDB-compatible text.
type rewriter struct {
	f        *file
	toks     []token
	match    []int // index of the matching bracket, or -1
	pre      [][]insertion
	post     [][]insertion // synthetic text put after a token
	repl     []*replacement
	pstart   []int // start of the primary expression that ends at a token, or -1
	consumed []bool
	cases    []int          // open CASE keywords
	ops      map[int]string // see unit.ops
	wraps    map[int]int    // token index -> start of the call ending there (operators.go)
}

// valueKeywords are reserved words that are values, so x::type may follow
// them.
var valueKeywords = setOf(
	"NULL", "TRUE", "FALSE", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
	"CURRENT_USER", "LOCALTIME", "LOCALTIMESTAMP", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP",
)

// matchBrackets pairs ( with ) and [ with ].
func matchBrackets(f *file, toks []token) ([]int, *Error) {
	match := make([]int, len(toks))
	var stack []int
	for i, t := range toks {
		match[i] = -1
		if t.kind != tkOp {
			continue
		}
		switch t.text {
		case "(", "[":
			stack = append(stack, i)
		case ")", "]":
			open := "("
			if t.text == "]" {
				open = "["
			}
			if len(stack) == 0 || toks[stack[len(stack)-1]].text != open {
				return nil, f.errorf(t.start, "unbalanced parentheses: unexpected '%s'", t.text)
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			match[i], match[o] = o, i
		}
	}
	if len(stack) > 0 {
		t := toks[stack[len(stack)-1]]
		return nil, f.errorf(t.start, "unbalanced parentheses: '%s' is never closed", t.text)
	}
	return match, nil
}

// rewrite turns toks (balanced) into a unit for TiDB, starting with the
// synthetic prefix (mapped to the first token).
func rewrite(f *file, toks []token, prefix string) (*unit, *Error) {
	match, err := matchBrackets(f, toks)
	if err != nil {
		return nil, err
	}
	n := len(toks)
	r := &rewriter{
		f: f, toks: toks, match: match,
		pre: make([][]insertion, n), post: make([][]insertion, n), repl: make([]*replacement, n),
		pstart: make([]int, n), consumed: make([]bool, n),
	}
	for i := range r.pstart {
		r.pstart[i] = -1
	}
	if err := r.scan(); err != nil {
		return nil, err
	}
	return r.emit(prefix), nil
}

// notCallee are words that precede "(" without making a function call, for
// deciding where the operand of :: starts.
var notCallee = setOf(
	"IN", "EXISTS", "AND", "OR", "NOT", "XOR", "SELECT", "FROM", "WHERE", "ON",
	"AS", "VALUES", "USING", "OVER", "BY", "JOIN", "WHEN", "THEN", "ELSE", "CASE",
	"ANY", "ALL", "SOME", "INTO", "HAVING", "LIKE", "ILIKE", "BETWEEN", "IS",
	"DISTINCT", "UNION", "WITH", "TABLE", "VIEW", "LATERAL", "RETURN", "LIMIT",
	"OFFSET", "INTERSECT", "EXCEPT",
)

func (r *rewriter) scan() *Error {
	toks := r.toks
	cut := -1 // the '.' after the third part of a long dotted name
	for k := 0; k < len(toks); k++ {
		if r.consumed[k] {
			continue
		}
		t := toks[k]
		afterDot := k > 0 && toks[k-1].is(".")
		if t.isIdent() && !afterDot && chainParts(toks, k) > 3 {
			// TiDB takes at most db.table.column: keep three parts for
			// it and turn the others into field accesses.
			cut = k + 5
		}
		switch {
		case t.kind == tkWord && !afterDot && t.is("INTERVAL") && r.intervalValue(k+1) > 0:
			e, err := r.interval(k)
			if err != nil {
				return err
			}
			r.pstart[e] = k
			k = e
			continue
		case t.kind == tkWord && !afterDot && (t.is("CAST") || t.is("TRY_CAST")) && k+1 < len(toks) && toks[k+1].is("("):
			if err := r.cast(k); err != nil {
				return err
			}
		case t.kind == tkWord && !afterDot && t.is("EXTRACT") && r.extract(k):
		case t.is("::"):
			e, err := r.colonCast(k)
			if err != nil {
				return err
			}
			k = e
			continue
		case t.is("[") && k > 0 && r.pstart[k-1] >= 0 && !toks[k-1].is("ARRAY"):
			r.index(k)
		case t.is("[") && !afterDot:
			r.arrayLiteral(k)
		case t.is(".") && k > 0 && (toks[k-1].is("]") || toks[k-1].is(")") || cut == k) && r.pstart[k-1] >= 0 &&
			k+1 < len(toks) && toks[k+1].isIdent():
			k = r.fields(r.pstart[k-1], k)
			continue
		case r.isOperator(k):
			if err := r.operator(k); err != nil {
				return err
			}
			if n := r.repl[k].n; n > 1 {
				k += n - 1
				continue
			}
		case t.kind == tkWord && t.is("FILTER") && k > 0 && toks[k-1].is(")") && r.pstart[k-1] >= 0 &&
			k+2 < len(toks) && toks[k+1].is("(") && toks[k+2].is("WHERE") && r.match[k+1] > k+2:
			// agg(x) FILTER (WHERE c) -> __agg_filter(agg(x), c): TiDB has
			// no FILTER clause.
			p := r.pstart[k-1]
			r.pre[p] = append([]insertion{{s: FilterFunc + "(", orig: t.start, origEnd: t.end, textStart: r.toks[p].start}}, r.pre[p]...)
			r.repl[k] = &replacement{s: ", ", n: 3}
			r.consumed[k+1], r.consumed[k+2] = true, true
			if r.wraps == nil {
				r.wraps = map[int]int{}
			}
			r.wraps[r.match[k+1]] = p
			k += 2
			continue
		case t.kind == tkWord && t.is("WITHIN") && k > 0 && toks[k-1].is(")") && r.pstart[k-1] >= 0 &&
			k+4 < len(toks) && toks[k+1].is("GROUP") && toks[k+2].is("(") && toks[k+3].is("ORDER") && toks[k+4].is("BY") && r.match[k+2] > k+4:
			// agg(p) WITHIN GROUP (ORDER BY x) -> __within_group(agg(p), x).
			p := r.pstart[k-1]
			r.pre[p] = append([]insertion{{s: WithinGroupFunc + "(", orig: t.start, origEnd: t.end, textStart: r.toks[p].start}}, r.pre[p]...)
			r.repl[k] = &replacement{s: ", ", n: 5}
			for q := k + 1; q <= k+4; q++ {
				r.consumed[q] = true
			}
			if r.wraps == nil {
				r.wraps = map[int]int{}
			}
			r.wraps[r.match[k+2]] = p
			k += 4
			continue
		case t.kind == tkWord && t.is("NULLS") && k+1 < len(toks) && (toks[k+1].is("FIRST") || toks[k+1].is("LAST")) && k > 0:
			// ORDER BY x [ASC|DESC] NULLS FIRST|LAST: TiDB has no NULLS
			// clause. It is dropped from the text and remembered by its
			// position (Statement.NullsFirst).
			r.repl[k] = &replacement{s: " ", n: 2}
			r.consumed[k+1] = true
			if r.ops == nil {
				r.ops = map[int]string{}
			}
			r.ops[t.start] = "NULLS " + strings.ToUpper(toks[k+1].text)
			k++
			continue
		case t.kind == tkWord && !afterDot && t.is("FULL") && fullJoin(toks, k) > 0:
			// TiDB (MySQL) has no FULL JOIN: it reads FULL as an alias.
			// STRAIGHT_JOIN parses as a join with the same ON and means
			// nothing else here (a user's own is rewritten to JOIN), so
			// the planner reads it as FULL.
			n := fullJoin(toks, k)
			r.repl[k] = &replacement{s: "STRAIGHT_JOIN", n: n}
			for q := k + 1; q < k+n; q++ {
				r.consumed[q] = true
			}
			k += n - 1
			continue
		case t.kind == tkWord && !afterDot && t.is("STRAIGHT_JOIN"):
			r.repl[k] = &replacement{s: "JOIN", n: 1}
		case t.rewritten():
			// TiDB has neither dollar-quoted nor E'...' strings.
			r.repl[k] = &replacement{s: sqlString(t.stringValue()), n: 1}
		case t.kind == tkWord && quoteWord(toks, k):
			r.repl[k] = &replacement{s: `"` + t.text + `"`, n: 1}
		}
		r.setPrimary(k)
		if p, ok := r.wraps[k]; ok {
			r.pstart[k] = p
		}
	}
	return nil
}

// setPrimary records where the primary expression ending at token k starts.
func (r *rewriter) setPrimary(k int) {
	t := r.toks[k]
	switch {
	case t.kind == tkOp && (t.text == ")" || t.text == "]"):
		m := r.match[k]
		if m > 0 {
			c := r.toks[m-1]
			callee := c.kind == tkQIdent || c.kind == tkWord && !notCallee[strings.ToUpper(c.text)]
			if t.text == "]" {
				callee = r.pstart[m-1] >= 0 // subscript
			}
			if callee && r.pstart[m-1] >= 0 {
				r.pstart[k] = r.pstart[m-1]
				return
			}
		}
		r.pstart[k] = m
	case t.kind == tkOp:
	case t.kind == tkWord && r.repl[k] == nil && !(k > 0 && r.toks[k-1].is(".")):
		up := strings.ToUpper(t.text)
		switch {
		case up == "CASE":
			r.cases = append(r.cases, k)
		case up == "END" && len(r.cases) > 0:
			r.pstart[k] = r.cases[len(r.cases)-1]
			r.cases = r.cases[:len(r.cases)-1]
		case isReserved(up) && !valueKeywords[up]:
			// A clause keyword: nothing to cast.
		default:
			r.pstart[k] = k
		}
	default:
		if k >= 2 && r.toks[k-1].is(".") && r.pstart[k-2] >= 0 {
			r.pstart[k] = r.pstart[k-2]
			return
		}
		if t.kind == tkString && k >= 1 && r.toks[k-1].end == t.start && r.toks[k-1].kind == tkWord {
			r.pstart[k] = k - 1 // x'ff', b'01', n'...'
			return
		}
		r.pstart[k] = k
	}
}

// intervalUnitWords are the SQL unit keywords after INTERVAL '...'.
var intervalUnitWords = setOf(
	"NANOSECOND", "NANOSECONDS", "MICROSECOND", "MICROSECONDS", "MILLISECOND", "MILLISECONDS",
	"SECOND", "SECONDS", "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "WEEKS",
	"MONTH", "MONTHS", "QUARTER", "YEAR", "YEARS",
)

// compoundUnits are MySQL's compound units, which Arroyo does not have.
var compoundUnits = setOf(
	"DAY_HOUR", "DAY_MICROSECOND", "DAY_MINUTE", "DAY_SECOND", "HOUR_MICROSECOND", "HOUR_MINUTE",
	"HOUR_SECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "SECOND_MICROSECOND", "YEAR_MONTH",
)

// intervalValue returns how many tokens the value after INTERVAL takes at
// index i: 1 for a string or number, 2 for a signed number, 0 if there is no
// literal value.
func (r *rewriter) intervalValue(i int) int {
	if i >= len(r.toks) {
		return 0
	}
	t := r.toks[i]
	switch {
	case t.kind == tkString || t.kind == tkNumber:
		return 1
	case (t.is("-") || t.is("+")) && i+1 < len(r.toks) && r.toks[i+1].kind == tkNumber:
		return 2
	}
	return 0
}

// interval rewrites INTERVAL <value> [unit] at k into __interval('text')
// and returns the index of its last token.
func (r *rewriter) interval(k int) (int, *Error) {
	toks := r.toks
	nv := r.intervalValue(k + 1)
	e := k + nv
	var text string
	if nv == 2 {
		text = toks[k+1].text + toks[k+2].text
	} else if v := toks[k+1]; v.kind == tkString {
		text = strings.TrimSpace(v.stringValue())
	} else {
		text = v.text
	}
	if e+1 < len(toks) && toks[e+1].kind == tkWord {
		u := strings.ToUpper(toks[e+1].text)
		if compoundUnits[u] {
			return 0, r.f.errorf(toks[e+1].start, "interval unit %s is not supported; write e.g. INTERVAL '1 hour 30 minutes'", u)
		}
		if intervalUnitWords[u] {
			e++
			text += " " + u
		}
	}
	if _, err := ParseInterval(text); err != nil {
		return 0, r.f.errorf(toks[k].start, "%v", err)
	}
	r.repl[k] = &replacement{s: IntervalFunc + "(" + sqlString(text) + ")", n: e - k + 1}
	return e, nil
}

// cast rewrites CAST(x AS type) at k into __cast(x, 'TYPE'). The argument
// itself is rewritten by the main scan.
func (r *rewriter) cast(k int) *Error {
	toks := r.toks
	open := k + 1
	closing := r.match[open]
	as := -1
	for q := open + 1; q < closing; q++ {
		if toks[q].is("(") || toks[q].is("[") {
			q = r.match[q]
			continue
		}
		if toks[q].is("AS") {
			as = q
		}
	}
	name := strings.ToUpper(toks[k].text)
	if as < 0 {
		return r.f.errorf(toks[k].start, "%s needs the form %s(expression AS type)", name, name)
	}
	if as == open+1 {
		return r.f.errorf(toks[as].start, "%s needs an expression before AS", name)
	}
	if as+1 == closing {
		return r.f.errorf(toks[closing].start, "expected a type name after AS")
	}
	tp := &tparser{f: r.f, toks: toks[as+1 : closing], end: toks[closing].start}
	typ, err := tp.typeName()
	if err != nil {
		return err
	}
	if !tp.atEnd() {
		return tp.errorf("unexpected %s after type %s", describe(tp.peek()), typ.String())
	}
	fn := CastFunc
	if name == "TRY_CAST" {
		fn = TryCastFunc
	}
	r.repl[k] = &replacement{s: fn, n: 1}
	r.repl[as] = &replacement{s: ", " + sqlString(typ.String()), n: closing - as}
	for q := as; q < closing; q++ {
		r.consumed[q] = true
	}
	return nil
}

// colonCast rewrites <primary>::type at k into __cast(<primary>, 'TYPE')
// and returns the index of the type's last token.
func (r *rewriter) colonCast(k int) (int, *Error) {
	toks := r.toks
	if k == 0 || r.pstart[k-1] < 0 {
		return 0, r.f.errorf(toks[k].start, "'::' must follow a value, as in x::BIGINT")
	}
	p := r.pstart[k-1]
	tp := &tparser{f: r.f, toks: toks[k+1:], end: toks[len(toks)-1].end}
	if nt := tp.peek(); tp.atEnd() || nt.kind != tkWord || isReserved(nt.text) && !typeWords[strings.ToUpper(nt.text)] {
		return 0, r.f.errorf(tp.peek().start, "expected a type name after '::', found %s", describe(tp.peek()))
	}
	typ, err := tp.typeName()
	if err != nil {
		return 0, err
	}
	e := k + tp.i // last token of the type
	t := toks[k]
	r.pre[p] = append([]insertion{{s: CastFunc + "(", orig: t.start, origEnd: t.end, textStart: toks[p].start}}, r.pre[p]...)
	r.repl[k] = &replacement{s: ", " + sqlString(typ.String()) + ")", n: e - k + 1}
	r.pstart[e] = p
	return e, nil
}

// chainParts counts the parts of the dotted name a.b.c... starting at k.
func chainParts(toks []token, k int) int {
	n := 1
	for k+2 < len(toks) && toks[k+1].is(".") && toks[k+2].isIdent() {
		n++
		k += 2
	}
	return n
}

// index rewrites <primary>[i] with its '[' at k into __index(<primary>, i).
// The index itself is rewritten by the main scan.
func (r *rewriter) index(k int) {
	p, t := r.pstart[k-1], r.toks[k]
	r.pre[p] = append([]insertion{{s: IndexFunc + "(", orig: t.start, origEnd: t.end, textStart: r.toks[p].start}}, r.pre[p]...)
	r.repl[k] = &replacement{s: ", ", n: 1}
	r.repl[r.match[k]] = &replacement{s: ")", n: 1}
}

// fields rewrites the field accesses .name.name... starting with the '.' at
// k, of the primary expression that starts at token p, into
// __field(__field(<primary>, 'name'), 'name'), and returns the index of the
// last name.
func (r *rewriter) fields(p, k int) int {
	toks := r.toks
	last := k - 1
	for ; k+1 < len(toks) && toks[k].is(".") && toks[k+1].isIdent(); k += 2 {
		name := toks[k+1]
		r.pre[p] = append([]insertion{{s: FieldFunc + "(", orig: name.start, origEnd: name.end, textStart: toks[p].start}}, r.pre[p]...)
		r.repl[k] = &replacement{s: ", " + sqlString(name.identName()) + ")", n: 2}
		last = k + 1
	}
	r.pstart[last] = p
	return last
}

// emit writes the rewritten text.
func (r *rewriter) emit(prefix string) *unit {
	b := &builder{f: r.f}
	if len(r.toks) > 0 {
		b.add(prefix, r.toks[0].start, r.toks[0].start, false)
	}
	for k := 0; k < len(r.toks); {
		t := r.toks[k]
		if k > 0 {
			b.copyGap(r.toks[k-1].end, t.start)
		}
		for _, in := range r.pre[k] {
			b.addText(in.s, in.orig, in.origEnd, in.textStart, false)
		}
		n := 1
		if rp := r.repl[k]; rp != nil {
			n = rp.n
			last := r.toks[k+rp.n-1]
			b.add(rp.s, t.start, last.end, false)
		} else {
			b.add(t.text, t.start, t.end, true)
		}
		for q := k; q < k+n; q++ {
			for _, in := range r.post[q] {
				b.addText(in.s, in.orig, in.origEnd, in.textStart, false)
			}
		}
		k += n
	}
	u := b.unit()
	u.ops = r.ops
	return u
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// fullJoin returns the number of tokens of FULL [OUTER] JOIN at k, or 0.
func fullJoin(toks []token, k int) int {
	switch {
	case k+1 < len(toks) && toks[k+1].is("JOIN"):
		return 2
	case k+2 < len(toks) && toks[k+1].is("OUTER") && toks[k+2].is("JOIN"):
		return 3
	}
	return 0
}
