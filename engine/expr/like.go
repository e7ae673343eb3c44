package expr

import (
	"bytes"
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// LIKE and ILIKE. In a pattern '%' matches any sequence of characters,
// '_' exactly one character and '\' makes the next character literal.
// Constant patterns are classified once: exact, prefix ('abc%'), suffix
// ('%abc'), contains ('%abc%') and match-all patterns use bytes functions;
// the rest run a backtracking matcher over the pattern. ILIKE lowercases
// the pattern once and each value into a scratch buffer.

type likeKind uint8

const (
	likeGeneral likeKind = iota
	likeExact
	likePrefix
	likeSuffix
	likeContains
	likeAny
)

type likeMatcher struct {
	kind likeKind
	lit  []byte // the unescaped literal of the fast kinds
	pat  []byte // the pattern (lowercased for ILIKE), for likeGeneral
	fold bool
}

// compileLike classifies pattern p.
func compileLike(p []byte, fold bool) *likeMatcher {
	if fold {
		p = appendLower(nil, p)
	}
	m := &likeMatcher{pat: p, fold: fold}
	// Split into leading %s, an unescaped literal body, trailing %s; any
	// '_' or inner '%' makes the pattern general.
	i := 0
	lead := false
	for i < len(p) && p[i] == '%' {
		lead = true
		i++
	}
	var lit []byte
	trail := false
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case trail && c != '%':
			return m // '%' inside the body
		case c == '%':
			trail = true
		case c == '_':
			return m
		case c == '\\' && i+1 < len(p):
			i++
			lit = append(lit, p[i])
		default:
			lit = append(lit, c)
		}
	}
	m.lit = lit
	switch {
	case lead && len(lit) == 0:
		m.kind = likeAny
	case lead && trail:
		m.kind = likeContains
	case lead:
		m.kind = likeSuffix
	case trail:
		m.kind = likePrefix
	default:
		m.kind = likeExact
	}
	return m
}

// match reports whether s matches; scratch is a reusable buffer for ILIKE.
func (m *likeMatcher) match(s []byte, scratch *[]byte) bool {
	if m.fold {
		*scratch = appendLower((*scratch)[:0], s)
		s = *scratch
	}
	switch m.kind {
	case likeExact:
		return string(s) == string(m.lit)
	case likePrefix:
		return bytes.HasPrefix(s, m.lit)
	case likeSuffix:
		return bytes.HasSuffix(s, m.lit)
	case likeContains:
		return bytes.Contains(s, m.lit)
	case likeAny:
		return true
	}
	return likeMatch(s, m.pat)
}

// matchInto sets out[i] for the live rows of v.
func (m *likeMatcher) matchInto(v *coldata.Bytes, n int, sel []int32, out []bool) {
	off, data := v.Offsets, v.Data
	if !m.fold && sel == nil {
		// The hot paths: one tight loop per kind.
		switch m.kind {
		case likePrefix:
			for i := 0; i < n; i++ {
				out[i] = bytes.HasPrefix(data[off[i]:off[i+1]], m.lit)
			}
			return
		case likeContains:
			for i := 0; i < n; i++ {
				out[i] = bytes.Contains(data[off[i]:off[i+1]], m.lit)
			}
			return
		case likeExact:
			for i := 0; i < n; i++ {
				out[i] = string(data[off[i]:off[i+1]]) == string(m.lit)
			}
			return
		}
	}
	var scratch []byte
	if sel != nil {
		for _, i := range sel {
			out[i] = m.match(data[off[i]:off[i+1]], &scratch)
		}
		return
	}
	for i := 0; i < n; i++ {
		out[i] = m.match(data[off[i]:off[i+1]], &scratch)
	}
}

// likeMatch matches s against pattern p (greedy with backtracking to the
// last '%'; linear for typical patterns).
func likeMatch(s, p []byte) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			ok := false
			switch c := p[pi]; c {
			case '%':
				for pi < len(p) && p[pi] == '%' {
					pi++
				}
				starP, starS = pi, si
				continue
			case '_':
				_, w := utf8.DecodeRune(s[si:])
				si += w
				pi++
				continue
			case '\\':
				if pi+1 < len(p) {
					if s[si] == p[pi+1] {
						si++
						pi += 2
						ok = true
					}
				} else if s[si] == '\\' {
					si++
					pi++
					ok = true
				}
			default:
				if s[si] == c {
					si++
					pi++
					ok = true
				}
			}
			if ok {
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRune(s[starS:])
		starS += w
		si, pi = starS, starP
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// appendLower appends the lowercase of s to dst.
func appendLower(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += w
	}
	return dst
}

// likeEval is LIKE with a constant pattern. It is also a Filter.
type likeEval struct {
	allocs

	arg     Evaluator
	m       *likeMatcher
	scratch []bool
}

func (e *likeEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := e.al

	v0, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	v, ok := v0.(*coldata.Bytes)
	if !ok {
		return nil, fmt.Errorf("like: operand is %s, want TEXT", v0.Type())
	}
	out := coldata.AllocVec[bool](al, types.BoolT, b.Len)
	e.m.matchInto(v, b.Len, b.Sel, out.Vals)
	out.N.SetWords(words(v))
	return out, nil
}

func (e *likeEval) Select(ctx context.Context, b *coldata.Batch) ([]int32, error) {
	v0, err := e.arg.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	v, ok := v0.(*coldata.Bytes)
	if !ok {
		return nil, fmt.Errorf("like: operand is %s, want TEXT", v0.Type())
	}
	if cap(e.scratch) < b.Len {
		e.scratch = make([]bool, b.Len)
	}
	out := e.scratch[:b.Len]
	e.m.matchInto(v, b.Len, b.Sel, out)
	return collect(out, b.Len, b.Sel, words(v)), nil
}

func likeKernel(fold bool) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		s, p := args[0].(*coldata.Bytes), args[1].(*coldata.Bytes)
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		nulls := orWords(words(s), words(p))
		var ls, lp []byte
		_ = forLive(n, sel, nulls, func(i int) error {
			x, y := s.Get(i), p.Get(i)
			if fold {
				ls = appendLower(ls[:0], x)
				lp = appendLower(lp[:0], y)
				x, y = ls, lp
			}
			out.Vals[i] = likeMatch(x, y)
			return nil
		})
		out.N.SetWords(nulls)
		return out, nil
	}
}

func init() {
	for _, name := range []string{"like", "ilike"} {
		fold := name == "ilike"
		register(&Func{
			Name:        name,
			Description: "pattern match: % any characters, _ one character, \\ escapes",
			Resolve: sigs(name, types.BoolT, likeKernel(fold),
				sig{pText, pText}),
		})
	}
}
