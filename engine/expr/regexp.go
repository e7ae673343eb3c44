package expr

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Regular expressions: regexp_like, regexp_match, regexp_replace,
// regexp_count and the operators ~ ~* !~ !~*, with DataFusion's names,
// arguments and NULL rules (NULL if any argument is NULL). Patterns are Go's
// RE2 syntax, which is the syntax of Rust's regex crate that DataFusion uses
// minus a few flags (docs/RATIONALE.md, "Regular expressions are RE2").
//
// A constant pattern (and flags) is compiled once per call site when the
// expression is compiled, and an invalid one is a planning error at its SQL
// position. Patterns that come from rows are compiled through a small cache
// per call site; an invalid one fails the row.

// reCacheSize bounds the compiled patterns a call site keeps from rows.
const reCacheSize = 64

type reKey struct{ pat, flags string }

// compiledRe is a pattern with its flags applied; global is the 'g' flag.
type compiledRe struct {
	re     *regexp.Regexp
	global bool
}

// reCache compiles patterns given per row, keeping the last few. It is
// used by one goroutine at a time (its call site's evaluator).
type reCache struct {
	name        string
	allowGlobal bool
	m           map[reKey]compiledRe
}

func (c *reCache) get(pat, flags []byte) (compiledRe, error) {
	if cr, ok := c.m[reKey{str(pat), str(flags)}]; ok {
		return cr, nil
	}
	cr, err := compileRe(c.name, string(pat), string(flags), c.allowGlobal)
	if err != nil {
		return compiledRe{}, err
	}
	if c.m == nil || len(c.m) >= reCacheSize {
		c.m = make(map[reKey]compiledRe, reCacheSize)
	}
	c.m[reKey{string(pat), string(flags)}] = cr
	return cr, nil
}

// compileRe compiles pat with DataFusion's flags: i (case-insensitive), m
// (^ and $ match at lines), s (. matches \n), U (ungreedy) and, where
// allowGlobal, g (replace every match). Rust's x (verbose) has no RE2
// equivalent and is an error, as is any other letter.
func compileRe(name, pat, flags string, allowGlobal bool) (compiledRe, error) {
	var cr compiledRe
	var goFlags []byte
	for _, f := range flags {
		switch f {
		case 'i', 'm', 's', 'U':
			goFlags = append(goFlags, byte(f))
		case 'g':
			if !allowGlobal {
				return cr, fmt.Errorf("%s does not support the \"global\" option (flag 'g')", name)
			}
			cr.global = true
		default:
			return cr, fmt.Errorf("unsupported regular expression flag %q (supported: i, m, s, U%s)", f, map[bool]string{true: ", g"}[allowGlobal])
		}
	}
	src := pat
	if len(goFlags) > 0 {
		src = "(?" + string(goFlags) + ")" + pat
	}
	re, err := regexp.Compile(src)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return cr, fmt.Errorf("invalid regular expression '%s': %s: `%s`", pat, se.Code, se.Expr)
		}
		return cr, fmt.Errorf("invalid regular expression '%s': %v", pat, err)
	}
	cr.re = re
	return cr, nil
}

// rePatterns yields the compiled pattern of each row: fixed when the
// pattern and flags are constants, else through the cache.
type rePatterns struct {
	fixed      *compiledRe
	cache      *reCache
	pat, flags *coldata.Bytes // flags nil: no flags argument
	flagsConst []byte         // the flags when fixed by an operator (~*)
}

func (p *rePatterns) at(i int) (compiledRe, error) {
	if p.fixed != nil {
		return *p.fixed, nil
	}
	f := p.flagsConst
	if p.flags != nil {
		f = p.flags.Get(i)
	}
	return p.cache.get(p.pat.Get(i), f)
}

// reSpec describes one regex function: where its pattern and flags are.
type reSpec struct {
	name        string
	patArg      int
	flagArg     func(nargs int) int // -1: no flags argument at this arity
	flags       string              // fixed flags (the operators)
	allowGlobal bool
}

// reBuild computes a regex function over a batch, given the pattern of
// each row.
type reBuild func(al *coldata.Allocator, args []coldata.Vector, pats *rePatterns, n int, sel []int32) (coldata.Vector, error)

// reKernel returns the plain Kernel of a regex function (compiling row
// patterns through a cache per call) and its Resolved.prepare (compiling a
// constant pattern once, or keeping a cache per call site).
func reKernel(spec reSpec, build reBuild) (Kernel, func([]*scalar) (Kernel, error)) {
	withFixed := func(fixed *compiledRe, cache *reCache) Kernel {
		return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			p := &rePatterns{fixed: fixed, cache: cache, flagsConst: []byte(spec.flags)}
			if fixed == nil {
				if p.cache == nil { // the plain kernel: a cache per call
					p.cache = &reCache{name: spec.name, allowGlobal: spec.allowGlobal}
				}
				p.pat = args[spec.patArg].(*coldata.Bytes)
				if fa := spec.flagArg(len(args)); fa >= 0 {
					p.flags = args[fa].(*coldata.Bytes)
				}
			}
			return build(al, args, p, n, sel)
		}
	}
	prepare := func(consts []*scalar) (Kernel, error) {
		pat := consts[spec.patArg]
		flags := []byte(spec.flags)
		fa := spec.flagArg(len(consts))
		if fa >= 0 {
			if consts[fa] == nil {
				pat = nil
			} else {
				flags = consts[fa].s
			}
		}
		if pat == nil {
			return withFixed(nil, &reCache{name: spec.name, allowGlobal: spec.allowGlobal}), nil
		}
		cr, err := compileRe(spec.name, string(pat.s), string(flags), spec.allowGlobal)
		if err != nil {
			arg := spec.patArg
			if fa >= 0 && !strings.HasPrefix(err.Error(), "invalid regular expression") {
				arg = fa
			}
			return nil, &argError{arg: arg, err: err}
		}
		return withFixed(&cr, nil), nil
	}
	return withFixed(nil, nil), prepare
}

// reBool builds a BOOLEAN result: match (or, with negate, no match).
func reBool(negate bool) reBuild {
	return func(al *coldata.Allocator, args []coldata.Vector, pats *rePatterns, n int, sel []int32) (coldata.Vector, error) {
		s := textArg(args, 0)
		nulls := unionNulls(args)
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		err := forLive(n, sel, nulls, func(i int) error {
			cr, err := pats.at(i)
			if err != nil {
				return err
			}
			out.Vals[i] = cr.re.Match(s.Get(i)) != negate
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(nulls)
		return out, nil
	}
}

// reMatch builds regexp_match's LIST<TEXT>: the capture groups of the first
// match that took part in it (the whole match when the pattern has no
// groups); NULL when nothing matches.
func reMatch(al *coldata.Allocator, args []coldata.Vector, pats *rePatterns, n int, sel []int32) (coldata.Vector, error) {
	s := textArg(args, 0)
	nulls := unionNulls(args)
	elems := al.Bytes(types.StringT, n, 0)
	out := al.List(types.ListOf(types.StringT), n, elems)
	var nw []uint64
	setNull := func(i int) {
		if nw == nil {
			nw = copyWords(nulls, n)
		}
		setBit(nw, i)
	}
	live := func(i int) error {
		cr, err := pats.at(i)
		if err != nil {
			return err
		}
		x := s.Get(i)
		m := cr.re.FindSubmatchIndex(x)
		if m == nil {
			setNull(i)
			return nil
		}
		first := 0
		if len(m) > 2 {
			first = 1
		}
		for g := first; g < len(m)/2; g++ {
			if m[2*g] < 0 {
				continue // a group that did not take part (DataFusion omits it)
			}
			elems.Data = append(elems.Data, x[m[2*g]:m[2*g+1]]...)
			elems.Offsets = append(elems.Offsets, int32(len(elems.Data)))
		}
		return nil
	}
	k := 0
	for i := 0; i < n; i++ {
		inSel := sel == nil
		if !inSel && k < len(sel) && int(sel[k]) == i {
			inSel = true
			k++
		}
		if inSel && !nullAt(nulls, i) {
			if err := live(i); err != nil {
				return nil, atRow(i, err)
			}
		}
		out.Offsets[i+1] = int32(elems.Len())
	}
	if nw == nil {
		nw = nulls
	}
	out.N.SetWords(nw)
	return out, nil
}

// expandTemplate turns a DataFusion replacement into a Go template: \N (a
// group number) becomes ${N} and \\ a backslash; $N, ${name} and $$ are
// the same in both.
func expandTemplate(dst, repl []byte) []byte {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 == len(repl) {
			dst = append(dst, c)
			continue
		}
		j := i + 1
		for j < len(repl) && '0' <= repl[j] && repl[j] <= '9' {
			j++
		}
		switch {
		case j > i+1:
			dst = append(dst, "${"...)
			dst = append(dst, repl[i+1:j]...)
			dst = append(dst, '}')
			i = j - 1
		case repl[i+1] == '\\':
			dst = append(dst, '\\')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// reReplace builds regexp_replace's TEXT: the first match (every match with
// the flag 'g') replaced by the expanded replacement.
func reReplace(constRepl *[]byte) reBuild {
	return func(al *coldata.Allocator, args []coldata.Vector, pats *rePatterns, n int, sel []int32) (coldata.Vector, error) {
		s, repl := textArg(args, 0), textArg(args, 2)
		nulls := unionNulls(args)
		var tmpl []byte // reused across rows
		var err error
		out := buildBytes(al, types.StringT, n, sel, nulls, len(s.Data), func(dst []byte, i int) []byte {
			if err != nil {
				return dst
			}
			cr, e := pats.at(i)
			if e != nil {
				err = atRow(i, e)
				return dst
			}
			t := tmpl
			if constRepl != nil {
				t = *constRepl
			} else {
				tmpl = expandTemplate(tmpl[:0], repl.Get(i))
				t = tmpl
			}
			x := s.Get(i)
			last := 0
			if cr.global {
				for _, m := range cr.re.FindAllSubmatchIndex(x, -1) {
					dst = append(dst, x[last:m[0]]...)
					dst = cr.re.Expand(dst, t, x, m)
					last = m[1]
				}
			} else if m := cr.re.FindSubmatchIndex(x); m != nil {
				dst = append(dst, x[:m[0]]...)
				dst = cr.re.Expand(dst, t, x, m)
				last = m[1]
			}
			return append(dst, x[last:]...)
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// reCount builds regexp_count's BIGINT: the number of non-overlapping
// matches from a 1-based character position.
func reCount(al *coldata.Allocator, args []coldata.Vector, pats *rePatterns, n int, sel []int32) (coldata.Vector, error) {
	s := textArg(args, 0)
	var start []int64
	if len(args) > 2 {
		start = intArg(args, 2)
	}
	nulls := unionNulls(args)
	out := coldata.AllocVec[int64](al, types.Int64T, n)
	err := forLive(n, sel, nulls, func(i int) error {
		x := s.Get(i)
		if start != nil {
			if start[i] < 1 {
				return fmt.Errorf("regexp_count requires start to be 1-based, got %d", start[i])
			}
			x = x[runeOffset(x, start[i]-1):]
		}
		cr, err := pats.at(i)
		if err != nil {
			return err
		}
		out.Vals[i] = int64(len(cr.re.FindAllIndex(x, -1)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(nulls)
	return out, nil
}

// reResolve is a Resolve over the signatures alts with the prepared
// kernels of spec.
func reResolve(spec reSpec, result types.Type, build reBuild, alts ...sig) func([]types.Type) (*Resolved, error) {
	kernel, prepare := reKernel(spec, build)
	resolve := sigs(spec.name, result, kernel, alts...)
	return func(args []types.Type) (*Resolved, error) {
		r, err := resolve(args)
		if err != nil {
			return nil, err
		}
		r.prepare = prepare
		return r, nil
	}
}

func noFlags(int) int { return -1 }

// flagsAt returns a flagArg: the flags are argument k when there are more
// than k arguments.
func flagsAt(k int) func(int) int {
	return func(nargs int) int {
		if nargs > k {
			return k
		}
		return -1
	}
}

func init() {
	t2, t3, t4 := sig{pText, pText}, sig{pText, pText, pText}, sig{pText, pText, pText, pText}
	register(&Func{Name: "regexp_like", Description: "whether the string matches the regular expression (flags: i, m, s, U)",
		Resolve: reResolve(reSpec{name: "regexp_like", patArg: 1, flagArg: flagsAt(2)}, types.BoolT, reBool(false), t2, t3)})
	for _, op := range []struct {
		name, flags string
		negate      bool
		desc        string
	}{
		{"~", "", false, "regular expression match, case-sensitive"},
		{"~*", "i", false, "regular expression match, case-insensitive"},
		{"!~", "", true, "regular expression does not match, case-sensitive"},
		{"!~*", "i", true, "regular expression does not match, case-insensitive"},
	} {
		register(&Func{Name: op.name, Description: op.desc,
			Resolve: reResolve(reSpec{name: "operator " + op.name, patArg: 1, flagArg: noFlags, flags: op.flags}, types.BoolT, reBool(op.negate), t2)})
	}
	register(&Func{Name: "regexp_match", Description: "the capture groups of the first match (the whole match when there are none), NULL when none",
		Resolve: reResolve(reSpec{name: "regexp_match", patArg: 1, flagArg: flagsAt(2)}, types.ListOf(types.StringT), reMatch, t2, t3)})
	register(&Func{Name: "regexp_count", Description: "the number of matches, optionally from a 1-based start",
		Resolve: reResolve(reSpec{name: "regexp_count", patArg: 1, flagArg: flagsAt(3)}, types.Int64T, reCount, t2, sig{pText, pText, pInt}, sig{pText, pText, pInt, pText})})
	register(&Func{Name: "regexp_replace", Description: "replace the first match (every match with flag 'g'); \\N or $N refer to groups",
		Resolve: regexpReplaceResolve(t3, t4)})
}

// regexpReplaceResolve also expands a constant replacement once.
func regexpReplaceResolve(alts ...sig) func([]types.Type) (*Resolved, error) {
	spec := reSpec{name: "regexp_replace", patArg: 1, flagArg: flagsAt(3), allowGlobal: true}
	return func(args []types.Type) (*Resolved, error) {
		kernel, prepare := reKernel(spec, reReplace(nil))
		r, err := sigs(spec.name, types.StringT, kernel, alts...)(args)
		if err != nil {
			return nil, err
		}
		r.prepare = func(consts []*scalar) (Kernel, error) {
			p := prepare
			if consts[2] != nil {
				t := expandTemplate(nil, consts[2].s)
				_, p = reKernel(spec, reReplace(&t))
			}
			return p(consts)
		}
		return r, nil
	}
}
