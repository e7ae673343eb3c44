package dialect

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token. The tokenizer only needs to know enough to
// split statements, find the spans the rewrites touch and blank comments;
// TiDB does the real lexing of the rewritten text.
type tokKind uint8

const (
	tkWord   tokKind = iota // identifier or keyword, unquoted
	tkQIdent                // "quoted identifier" or `backquoted identifier`
	tkString                // 'string', E'escape string' or $tag$dollar string$tag$
	tkNumber                // 1, 1.5, .5, 1e10
	tkOp                    // punctuation and operators, incl. :: || -> ->>
)

// token is a lexeme of the original file. start and end are byte offsets
// into the whole file.
type token struct {
	kind       tokKind
	start, end int
	text       string // the original bytes, text == file[start:end]
}

// is reports whether t is the unquoted word w (case-insensitive) or the
// operator w.
func (t token) is(w string) bool {
	switch t.kind {
	case tkWord:
		return strings.EqualFold(t.text, w)
	case tkOp:
		return t.text == w
	}
	return false
}

// isIdent reports whether t can name something: a word or a quoted
// identifier.
func (t token) isIdent() bool { return t.kind == tkWord || t.kind == tkQIdent }

// identName is the name t denotes: the word as written, or the content of a
// quoted identifier with doubled quotes undone.
func (t token) identName() string {
	if t.kind != tkQIdent {
		return t.text
	}
	q := t.text[:1]
	return strings.ReplaceAll(t.text[1:len(t.text)-1], q+q, q)
}

// stringValue is the content of a string token, with ” escapes undone.
// Backslashes are literal, as in Arroyo (and in TiDB with the
// NO_BACKSLASH_ESCAPES mode that Parse sets).
func (t token) stringValue() string {
	switch t.text[0] {
	case '$':
		i := strings.IndexByte(t.text[1:], '$') + 2
		return t.text[i : len(t.text)-i]
	case 'E', 'e':
		return unescape(t.text[2 : len(t.text)-1])
	}
	return strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'")
}

// rewritten reports whether TiDB needs a string token rewritten as a plain
// '...' string: dollar-quoted and E'...' strings.
func (t token) rewritten() bool {
	return t.kind == tkString && t.text[0] != '\''
}

// unescape undoes the escapes of the body of an E'...' string: \b \f \n
// \r \t, \ooo (octal), \xHH, \uXXXX, \UXXXXXXXX, a doubled quote, and \c for any
// other c.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x', 'u', 'U', '0', '1', '2', '3', '4', '5', '6', '7':
			base, maxDigits, j := 16, map[byte]int{'x': 2, 'u': 4, 'U': 8}[c], i+1
			if maxDigits == 0 {
				base, maxDigits, j = 8, 3, i
			}
			v, n := 0, 0
			for ; n < maxDigits && j < len(s); n, j = n+1, j+1 {
				d := hexDigit(s[j])
				if d < 0 || d >= base {
					break
				}
				v = v*base + d
			}
			if n == 0 {
				b.WriteByte(c)
				continue
			}
			if c == 'x' || base == 8 {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// maxDigits bounds the digits of a numeric literal, as MySQL's DECIMAL
// does; TiDB's literal driver panics on much longer ones.
const maxDigits = 65

// multiOps are the operators of more than one character, longest first.
var multiOps = []string{"->>", "<=>", "!~*", "::", "||", "->", "<=", ">=", "<>", "!=", "==", "&&", "!~", "~*", "<<"}

// lexer splits a file into tokens.
type lexer struct {
	src  string
	pos  int
	toks []token
}

// tokenize returns the tokens of src. Comments and whitespace produce no
// token: the gaps between tokens hold them.
func tokenize(f *file) ([]token, *Error) {
	l := &lexer{src: f.text}
	if strings.HasPrefix(l.src, bom) {
		l.pos = len(bom)
	}
	for {
		if err := l.skipSpace(f); err != nil {
			return nil, err
		}
		if l.pos >= len(l.src) {
			return l.toks, nil
		}
		if err := l.next(f); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) skipSpace(f *file) *Error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "--"):
			i := strings.IndexByte(l.src[l.pos:], '\n')
			if i < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += i + 1
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			// Nested comments, as in Postgres.
			start, depth := l.pos, 0
			for {
				if l.pos >= len(l.src) {
					return f.errorf(start, "unterminated /* comment")
				}
				if strings.HasPrefix(l.src[l.pos:], "/*") {
					depth++
					l.pos += 2
				} else if strings.HasPrefix(l.src[l.pos:], "*/") {
					depth--
					l.pos += 2
					if depth == 0 {
						break
					}
				} else {
					l.pos++
				}
			}
		default:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if r != utf8.RuneError && unicode.IsSpace(r) {
				l.pos += size
				continue
			}
			return nil
		}
	}
	return nil
}

func (l *lexer) emit(k tokKind, start int) {
	l.toks = append(l.toks, token{kind: k, start: start, end: l.pos, text: l.src[start:l.pos]})
}

func isWordStart(r rune) bool {
	return r == '_' || unicode.IsLetter(r)
}

func isWordPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) next(f *file) *Error {
	start := l.pos
	c := l.src[l.pos]
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	switch {
	case c == '\'':
		return l.quoted(f, '\'', tkString, "unterminated string literal")
	case c == '"':
		return l.quoted(f, '"', tkQIdent, "unterminated quoted identifier")
	case c == '`':
		return l.quoted(f, '`', tkQIdent, "unterminated quoted identifier")
	case c == '$' && l.dollarTag() != "":
		tag := l.dollarTag()
		i := strings.Index(l.src[l.pos+len(tag):], tag)
		if i < 0 {
			return f.errorf(start, "unterminated dollar-quoted string")
		}
		l.pos += len(tag) + i + len(tag)
		l.emit(tkString, start)
		return nil
	case isDigit(c) || (c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]) && !l.afterName()):
		l.number()
		if mantissaDigits(l.src[start:l.pos]) > maxDigits {
			return f.errorf(start, "numeric literal has more than %d digits", maxDigits)
		}
		// MySQL allows identifiers that start with digits (1abc); keep
		// such a run in one token so the rewrites never split it.
		kind := tkNumber
		for l.pos < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isWordPart(r) {
				break
			}
			kind = tkWord
			l.pos += size
		}
		l.emit(kind, start)
		return nil
	case (c == 'E' || c == 'e') && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'':
		return l.escapeString(f)
	case r != utf8.RuneError && isWordStart(r):
		l.pos += size
		for l.pos < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isWordPart(r) {
				break
			}
			l.pos += size
		}
		l.emit(tkWord, start)
		return nil
	}
	for _, op := range multiOps {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.pos += len(op)
			l.emit(tkOp, start)
			return nil
		}
	}
	if strings.IndexByte("(),;.+-*/%=<>!|&^~:[]{}?", c) >= 0 {
		l.pos++
		l.emit(tkOp, start)
		return nil
	}
	// '#' would start a comment for TiDB and silently drop the rest of
	// the line; '@' and '\' have MySQL meanings Arroyo does not share.
	if r == utf8.RuneError {
		return f.errorf(start, "invalid UTF-8 in SQL text")
	}
	return f.errorf(start, "unexpected character %q", r)
}

// afterName reports whether the previous token ends right before the
// current position and can be followed by ".field" (so "t.5" is not a
// number).
func (l *lexer) afterName() bool {
	if len(l.toks) == 0 {
		return false
	}
	p := l.toks[len(l.toks)-1]
	return p.end == l.pos && (p.kind == tkWord || p.kind == tkQIdent || p.text == ")" || p.text == "]")
}

// dollarTag returns the opening "$tag$" at the current position, or "".
func (l *lexer) dollarTag() string {
	s := l.src[l.pos:]
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			return s[:i+1]
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 1 && isDigit(c)) {
			return ""
		}
	}
	return ""
}

// quoted scans a token enclosed in q, where a doubled q stands for itself.
func (l *lexer) quoted(f *file, q byte, k tokKind, unterminated string) *Error {
	start := l.pos
	l.pos++
	for {
		i := strings.IndexByte(l.src[l.pos:], q)
		if i < 0 {
			return l.unterminated(f, q, start, unterminated)
		}
		l.pos += i + 1
		if l.pos < len(l.src) && l.src[l.pos] == q {
			l.pos++
			continue
		}
		l.emit(k, start)
		return nil
	}
}

// unterminated reports the quote q at start that is never closed. A stray
// quote earlier in the file pairs with the next quote, shifting every pair
// after it, so that the quote left over is not the culprit: the culprit
// starts the first earlier literal quoted by q that spans lines. Point at
// that one when there is one (a literal may span lines, so this is a guess
// the message says it is).
func (l *lexer) unterminated(f *file, q byte, start int, what string) *Error {
	for _, t := range l.toks {
		if t.text[0] == q && strings.IndexByte(t.text, '\n') >= 0 {
			return f.errorf(t.start, "%s: the %c at %v is never closed; the literal starting here runs on to line %d, so a quote here is probably missing or stray",
				what, q, f.pos(start), f.pos(t.end-1).Line)
		}
	}
	return f.errorf(start, "%s starting here", what)
}

// escapeString scans a Postgres E'...' string, in which a backslash
// escapes the next character.
func (l *lexer) escapeString(f *file) *Error {
	start := l.pos
	l.pos += 2
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case '\\':
			l.pos += 2
			continue
		case '\'':
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'' {
				l.pos += 2
				continue
			}
			l.pos++
			l.emit(tkString, start)
			return nil
		}
		l.pos++
	}
	return f.errorf(start, "unterminated string literal")
}

// mantissaDigits counts the digits of a number before its exponent.
func mantissaDigits(num string) int {
	n := 0
	for i := 0; i < len(num) && num[i] != 'e' && num[i] != 'E'; i++ {
		if isDigit(num[i]) {
			n++
		}
	}
	return n
}

func (l *lexer) number() {
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		j := l.pos + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			for j < len(l.src) && isDigit(l.src[j]) {
				j++
			}
			l.pos = j
		}
	}
}
