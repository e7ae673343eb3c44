package expr

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// String functions. Positions and lengths count characters (code points),
// as in PostgreSQL. Kernels run a per-row function over the live, non-NULL
// rows and append into one output buffer: one allocation per batch, none
// per row.

// maxResult bounds the size of one generated value (repeat, lpad), so a
// typo cannot exhaust memory.
const maxResult = 1 << 26

var errTooLarge = errors.New("requested string length too large")

type (
	textRow func(dst []byte, i int) ([]byte, error)
	intRow  func(i int) int32
	boolRow func(i int) bool
)

// textKernel returns a strict TEXT-valued kernel: NULL if any argument is.
func textKernel(setup func(args []coldata.Vector) textRow) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		f := setup(args)
		nulls := unionNulls(args)
		hint := 0
		if b, ok := args[0].(*coldata.Bytes); ok {
			hint = len(b.Data)
		}
		var err error
		out := buildBytes(al, types.StringT, n, sel, nulls, hint, func(dst []byte, i int) []byte {
			if err != nil {
				return dst
			}
			var e error
			dst, e = f(dst, i)
			if e != nil {
				err = atRow(i, e)
			}
			return dst
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

func intKernel(setup func(args []coldata.Vector) intRow) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		f := setup(args)
		nulls := unionNulls(args)
		out := coldata.AllocVec[int32](al, types.Int32T, n)
		_ = forLive(n, sel, nulls, func(i int) error {
			out.Vals[i] = f(i)
			return nil
		})
		out.N.SetWords(nulls)
		return out, nil
	}
}

func boolKernel(setup func(args []coldata.Vector) boolRow) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		f := setup(args)
		nulls := unionNulls(args)
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		_ = forLive(n, sel, nulls, func(i int) error {
			out.Vals[i] = f(i)
			return nil
		})
		out.N.SetWords(nulls)
		return out, nil
	}
}

func textArg(args []coldata.Vector, k int) *coldata.Bytes { return args[k].(*coldata.Bytes) }
func intArg(args []coldata.Vector, k int) []int64         { return args[k].(*coldata.Vec[int64]).Vals }

// appendUpper appends the uppercase of s to dst.
func appendUpper(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToUpper(r))
		}
		i += w
	}
	return dst
}

// runeOffset returns the byte offset of the k-th (0-based) character of s,
// or len(s) when s has at most k characters.
func runeOffset(s []byte, k int64) int {
	if k <= 0 {
		return 0
	}
	i := 0
	for ; k > 0 && i < len(s); k-- {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRune(s[i:])
			i += w
		}
	}
	return i
}

// substr implements substr(s, start[, count]) with 1-based start; start may
// be before the string (PostgreSQL semantics).
func substr(s []byte, start int64, count int64, hasCount bool) ([]byte, error) {
	if !hasCount {
		return s[runeOffset(s, start-1):], nil
	}
	if count < 0 {
		return nil, errors.New("negative substring length not allowed")
	}
	end := start + count // exclusive, 1-based
	if end < start {     // overflow
		end = 1<<63 - 1
	}
	if start < 1 {
		start = 1
	}
	if end <= start {
		return nil, nil
	}
	from := runeOffset(s, start-1)
	to := from + runeOffset(s[from:], end-start)
	return s[from:to], nil
}

// trimSet trims characters in set (or ' ' when set is nil) from the ends
// of s selected by left and right.
func trimSet(s, set []byte, left, right bool) []byte {
	in := func(r rune) bool {
		if set == nil {
			return r == ' '
		}
		return bytes.ContainsRune(set, r)
	}
	if left {
		for len(s) > 0 {
			r, w := utf8.DecodeRune(s)
			if !in(r) {
				break
			}
			s = s[w:]
		}
	}
	if right {
		for len(s) > 0 {
			r, w := utf8.DecodeLastRune(s)
			if !in(r) {
				break
			}
			s = s[:len(s)-w]
		}
	}
	return s
}

func trimKernel(left, right bool) Kernel {
	return textKernel(func(args []coldata.Vector) textRow {
		s := textArg(args, 0)
		var set *coldata.Bytes
		if len(args) > 1 {
			set = textArg(args, 1)
		}
		return func(dst []byte, i int) ([]byte, error) {
			var chars []byte
			if set != nil {
				chars = set.Get(i)
				if chars == nil {
					chars = []byte{}
				}
			}
			return append(dst, trimSet(s.Get(i), chars, left, right)...), nil
		}
	})
}

// pad implements lpad and rpad.
func pad(dst, s []byte, length int64, fill []byte, left bool) ([]byte, error) {
	if length <= 0 {
		return dst, nil
	}
	if length > maxResult {
		return nil, errTooLarge
	}
	n := int64(utf8.RuneCount(s))
	if n >= length || len(fill) == 0 {
		return append(dst, s[:runeOffset(s, length)]...), nil
	}
	padding := func(dst []byte, k int64) []byte {
		for k > 0 {
			for j := 0; j < len(fill) && k > 0; {
				_, w := utf8.DecodeRune(fill[j:])
				dst = append(dst, fill[j:j+w]...)
				j += w
				k--
			}
		}
		return dst
	}
	if left {
		dst = padding(dst, length-n)
		return append(dst, s...), nil
	}
	dst = append(dst, s...)
	return padding(dst, length-n), nil
}

func padKernel(left bool) Kernel {
	return textKernel(func(args []coldata.Vector) textRow {
		s, l := textArg(args, 0), intArg(args, 1)
		var fill *coldata.Bytes
		if len(args) > 2 {
			fill = textArg(args, 2)
		}
		space := []byte{' '}
		return func(dst []byte, i int) ([]byte, error) {
			f := space
			if fill != nil {
				f = fill.Get(i)
			}
			return pad(dst, s.Get(i), l[i], f, left)
		}
	})
}

// leftRight implements left(s, n) and right(s, n); a negative n drops |n|
// characters from the other end.
func leftRight(s []byte, k int64, left bool) []byte {
	if k >= 0 && left {
		return s[:runeOffset(s, k)]
	}
	total := int64(utf8.RuneCount(s))
	if left { // all but the last -k
		return s[:runeOffset(s, total+k)]
	}
	if k >= 0 {
		return s[runeOffset(s, total-k):]
	}
	return s[runeOffset(s, -k):] // all but the first -k
}

func splitPart(s, delim []byte, field int64) ([]byte, error) {
	if field == 0 {
		return nil, errors.New("field position must not be zero")
	}
	if len(delim) == 0 {
		if field == 1 || field == -1 {
			return s, nil
		}
		return nil, nil
	}
	if field > 0 {
		for k := int64(1); ; k++ {
			j := bytes.Index(s, delim)
			if k == field {
				if j < 0 {
					return s, nil
				}
				return s[:j], nil
			}
			if j < 0 {
				return nil, nil
			}
			s = s[j+len(delim):]
		}
	}
	for k := int64(-1); ; k-- {
		j := bytes.LastIndex(s, delim)
		if k == field {
			if j < 0 {
				return s, nil
			}
			return s[j+len(delim):], nil
		}
		if j < 0 {
			return nil, nil
		}
		s = s[:j]
	}
}

// initcap uppercases the first letter of each run of letters and digits and
// lowercases the rest.
func initcap(dst, s []byte) []byte {
	inWord := false
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, s[i])
			inWord = false
			i++
			continue
		}
		if inWord {
			r = unicode.ToLower(r)
		} else {
			r = unicode.ToUpper(r)
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
		dst = utf8.AppendRune(dst, r)
		i += w
	}
	return dst
}

func reverseRunes(dst, s []byte) []byte {
	start := len(dst)
	dst = append(dst, s...)
	out := dst[start:]
	// Reverse the bytes, then each multi-byte character back.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := 0; i < len(out); {
		if out[i] < utf8.RuneSelf {
			i++
			continue
		}
		// A reversed character ends with its lead byte.
		j := i
		for j < len(out) && !utf8.RuneStart(out[j]) {
			j++
		}
		if j == len(out) {
			break
		}
		for a, b := i, j; a < b; a, b = a+1, b-1 {
			out[a], out[b] = out[b], out[a]
		}
		i = j + 1
	}
	return dst
}

func replaceAll(dst, s, from, to []byte) []byte {
	if len(from) == 0 {
		return append(dst, s...)
	}
	for {
		j := bytes.Index(s, from)
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j]...)
		dst = append(dst, to...)
		s = s[j+len(from):]
	}
}

// concatResolve accepts any arguments castable to TEXT; first ones are
// fixed params (concat_ws's separator).
func concatResolve(name string, minArgs int, kernel Kernel) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) < minArgs {
			return nil, fmt.Errorf("function %s expects at least %d arguments, got %d", name, minArgs, len(args))
		}
		want := make([]types.Type, len(args))
		for i, t := range args {
			if err := CanCast(t, types.StringT); err != nil {
				return nil, fmt.Errorf("function %s expects arguments convertible to TEXT, got %s", name, typeList(args))
			}
			want[i] = types.StringT
		}
		return &Resolved{Args: want, Result: types.StringT, Kernel: kernel}, nil
	}
}

// concat appends the non-NULL arguments; the result is never NULL.
func concat(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	bs := make([]*coldata.Bytes, len(args))
	ws := make([][]uint64, len(args))
	size := 0
	for k, a := range args {
		bs[k] = a.(*coldata.Bytes)
		ws[k] = words(a)
		size += len(bs[k].Data)
	}
	return buildBytes(al, types.StringT, n, sel, nil, size, func(dst []byte, i int) []byte {
		for k, b := range bs {
			if !nullAt(ws[k], i) {
				dst = append(dst, b.Get(i)...)
			}
		}
		return dst
	}), nil
}

// concatWS joins the non-NULL arguments with the separator; NULL only if
// the separator is.
func concatWS(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	sep := args[0].(*coldata.Bytes)
	rest := args[1:]
	bs := make([]*coldata.Bytes, len(rest))
	ws := make([][]uint64, len(rest))
	size := 0
	for k, a := range rest {
		bs[k] = a.(*coldata.Bytes)
		ws[k] = words(a)
		size += len(bs[k].Data)
	}
	return buildBytes(al, types.StringT, n, sel, words(sep), size, func(dst []byte, i int) []byte {
		first := true
		for k, b := range bs {
			if nullAt(ws[k], i) {
				continue
			}
			if !first {
				dst = append(dst, sep.Get(i)...)
			}
			first = false
			dst = append(dst, b.Get(i)...)
		}
		return dst
	}), nil
}

// simple returns a Resolve for a function with the given signatures.
func simple(result types.Type, kernel Kernel, alts ...sig) func(string) func([]types.Type) (*Resolved, error) {
	return func(name string) func([]types.Type) (*Resolved, error) {
		return sigs(name, result, kernel, alts...)
	}
}

func init() {
	text1 := sig{pText}
	registerAll([]string{"lower"}, "lowercase", simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
		s := textArg(args, 0)
		return func(dst []byte, i int) ([]byte, error) { return appendLower(dst, s.Get(i)), nil }
	}), text1))
	registerAll([]string{"upper"}, "uppercase", simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
		s := textArg(args, 0)
		return func(dst []byte, i int) ([]byte, error) { return appendUpper(dst, s.Get(i)), nil }
	}), text1))
	registerAll([]string{"length", "char_length", "character_length"}, "number of characters",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s := textArg(args, 0)
			return func(i int) int32 { return int32(utf8.RuneCount(s.Get(i))) }
		}), text1))
	registerAll([]string{"octet_length"}, "number of bytes",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s := textArg(args, 0)
			return func(i int) int32 { return s.Offsets[i+1] - s.Offsets[i] }
		}), text1))
	trims := []struct {
		names       []string
		left, right bool
		desc        string
	}{
		{[]string{"trim", "btrim"}, true, true, "remove spaces (or the given characters) from both ends"},
		{[]string{"ltrim"}, true, false, "remove spaces (or the given characters) from the start"},
		{[]string{"rtrim"}, false, true, "remove spaces (or the given characters) from the end"},
	}
	for _, t := range trims {
		registerAll(t.names, t.desc, simple(types.StringT, trimKernel(t.left, t.right), sig{pText}, sig{pText, pText}))
	}
	registerAll([]string{"substr", "substring"}, "substring from a 1-based character position, optionally of a length",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, start := textArg(args, 0), intArg(args, 1)
			var count []int64
			if len(args) > 2 {
				count = intArg(args, 2)
			}
			return func(dst []byte, i int) ([]byte, error) {
				var c int64
				if count != nil {
					c = count[i]
				}
				r, err := substr(s.Get(i), start[i], c, count != nil)
				return append(dst, r...), err
			}
		}), sig{pText, pInt}, sig{pText, pInt, pInt}))
	register(&Func{Name: "concat", Description: "concatenate the non-NULL arguments",
		Resolve: concatResolve("concat", 1, concat)})
	register(&Func{Name: "concat_ws", Description: "join the non-NULL arguments with a separator",
		Resolve: concatResolve("concat_ws", 2, concatWS)})
	register(&Func{Name: "||", Description: "string concatenation (NULL if either side is)",
		Resolve: concatOpResolve})
	registerAll([]string{"replace"}, "replace every occurrence of a substring",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, from, to := textArg(args, 0), textArg(args, 1), textArg(args, 2)
			return func(dst []byte, i int) ([]byte, error) {
				return replaceAll(dst, s.Get(i), from.Get(i), to.Get(i)), nil
			}
		}), sig{pText, pText, pText}))
	registerAll([]string{"strpos"}, "1-based character position of a substring, 0 if absent",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s, sub := textArg(args, 0), textArg(args, 1)
			return func(i int) int32 {
				x := s.Get(i)
				j := bytes.Index(x, sub.Get(i))
				if j < 0 {
					return 0
				}
				return int32(utf8.RuneCount(x[:j])) + 1
			}
		}), sig{pText, pText}))
	registerAll([]string{"starts_with"}, "whether the string starts with a prefix",
		simple(types.BoolT, boolKernel(func(args []coldata.Vector) boolRow {
			s, p := textArg(args, 0), textArg(args, 1)
			return func(i int) bool { return bytes.HasPrefix(s.Get(i), p.Get(i)) }
		}), sig{pText, pText}))
	registerAll([]string{"ends_with"}, "whether the string ends with a suffix",
		simple(types.BoolT, boolKernel(func(args []coldata.Vector) boolRow {
			s, p := textArg(args, 0), textArg(args, 1)
			return func(i int) bool { return bytes.HasSuffix(s.Get(i), p.Get(i)) }
		}), sig{pText, pText}))
	for _, left := range []bool{true, false} {
		name, desc := "left", "the first n characters (all but the last -n when negative)"
		if !left {
			name, desc = "right", "the last n characters (all but the first -n when negative)"
		}
		registerAll([]string{name}, desc, simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, k := textArg(args, 0), intArg(args, 1)
			return func(dst []byte, i int) ([]byte, error) { return append(dst, leftRight(s.Get(i), k[i], left)...), nil }
		}), sig{pText, pInt}))
	}
	registerAll([]string{"lpad"}, "pad on the left to a length with spaces or the given characters",
		simple(types.StringT, padKernel(true), sig{pText, pInt}, sig{pText, pInt, pText}))
	registerAll([]string{"rpad"}, "pad on the right to a length with spaces or the given characters",
		simple(types.StringT, padKernel(false), sig{pText, pInt}, sig{pText, pInt, pText}))
	registerAll([]string{"repeat"}, "the string repeated n times",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, k := textArg(args, 0), intArg(args, 1)
			return func(dst []byte, i int) ([]byte, error) {
				x, times := s.Get(i), k[i]
				if times <= 0 || len(x) == 0 {
					return dst, nil
				}
				if times > maxResult/int64(len(x)) {
					return dst, errTooLarge
				}
				for ; times > 0; times-- {
					dst = append(dst, x...)
				}
				return dst, nil
			}
		}), sig{pText, pInt}))
	registerAll([]string{"reverse"}, "the characters in reverse order",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s := textArg(args, 0)
			return func(dst []byte, i int) ([]byte, error) { return reverseRunes(dst, s.Get(i)), nil }
		}), text1))
	registerAll([]string{"split_part"}, "the n-th field (1-based; negative from the end) split by a delimiter",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, d, k := textArg(args, 0), textArg(args, 1), intArg(args, 2)
			return func(dst []byte, i int) ([]byte, error) {
				r, err := splitPart(s.Get(i), d.Get(i), k[i])
				return append(dst, r...), err
			}
		}), sig{pText, pText, pInt}))
	registerAll([]string{"initcap"}, "first letter of each word uppercase, the rest lowercase",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s := textArg(args, 0)
			return func(dst []byte, i int) ([]byte, error) { return initcap(dst, s.Get(i)), nil }
		}), text1))
	registerAll([]string{"md5"}, "MD5 digest as 32 hex digits",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s := textArg(args, 0)
			return func(dst []byte, i int) ([]byte, error) {
				sum := md5.Sum(s.Get(i))
				return hex.AppendEncode(dst, sum[:]), nil
			}
		}), sig{pBin}))
	registerAll([]string{"to_hex"}, "hexadecimal representation (two's complement for negatives)",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			x := intArg(args, 0)
			return func(dst []byte, i int) ([]byte, error) { return strconv.AppendUint(dst, uint64(x[i]), 16), nil }
		}), sig{pInt}))
}

// concatOpResolve is "||": both sides TEXT (other scalars are cast).
func concatOpResolve(args []types.Type) (*Resolved, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("operator || expects 2 operands, got %d", len(args))
	}
	isText := func(t types.Type) bool { return t.Kind == types.String || t.Kind == types.Null }
	if !isText(args[0]) && !isText(args[1]) {
		return nil, fmt.Errorf("operator || expects TEXT operands, got %s and %s", args[0], args[1])
	}
	for _, t := range args {
		if CanCast(t, types.StringT) != nil {
			return nil, fmt.Errorf("operator || expects TEXT operands, got %s and %s", args[0], args[1])
		}
	}
	return &Resolved{Args: []types.Type{types.StringT, types.StringT}, Result: types.StringT,
		Kernel: textKernel(func(args []coldata.Vector) textRow {
			a, b := textArg(args, 0), textArg(args, 1)
			return func(dst []byte, i int) ([]byte, error) {
				return append(append(dst, a.Get(i)...), b.Get(i)...), nil
			}
		})}, nil
}
