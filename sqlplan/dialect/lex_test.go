package dialect

import (
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT a.b, 1.5e3, .5, 'it''s', \"q\"\"x\", `bq`", "w:SELECT w:a o:. w:b o:, n:1.5e3 o:, n:.5 o:, s:'it''s' o:, q:\"q\"\"x\" o:, q:`bq`"},
		{"a::int||b->'k'->>'j' <= >= <> != <=> ~* !~", "w:a o::: w:int o:|| w:b o:-> s:'k' o:->> s:'j' o:<= o:>= o:<> o:!= o:<=> o:~* o:!~"},
		{"x -- comment ; here\n/* block ; /* nested */ */ y", "w:x w:y"},
		{"$$a;b$$ $tag$ x $$ y $tag$", "s:$$a;b$$ s:$tag$ x $$ y $tag$"},
		{"t.5 1abc 2e 3e+4", "w:t o:. n:5 w:1abc w:2e n:3e+4"},
		{"über_naïve x$1", "w:über_naïve w:x$1"},
		{"a\u00a0b", "w:a w:b"},
		{`E'a\'b' e'' E 'x' Ex'y'`, `s:E'a\'b' s:e'' w:E s:'x' w:Ex s:'y'`},
		{"STRUCT<a STRUCT<b INT>>", "w:STRUCT o:< w:a w:STRUCT o:< w:b w:INT o:> o:>"},
	}
	kinds := map[tokKind]string{tkWord: "w", tkQIdent: "q", tkString: "s", tkNumber: "n", tkOp: "o"}
	for _, tt := range tests {
		f := newFile("", tt.in)
		toks, err := tokenize(f)
		if err != nil {
			t.Errorf("tokenize(%q): %v", tt.in, err)
			continue
		}
		var parts []string
		for _, tok := range toks {
			if tok.text != tt.in[tok.start:tok.end] {
				t.Errorf("token %q does not match its span", tok.text)
			}
			parts = append(parts, kinds[tok.kind]+":"+tok.text)
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("tokenize(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestTokenValues(t *testing.T) {
	toks, err := tokenize(newFile("", `'it''s' "a""b" $x$q'$x$ word`))
	if err != nil {
		t.Fatal(err)
	}
	if v := toks[0].stringValue(); v != "it's" {
		t.Errorf("string value %q", v)
	}
	if v := toks[1].identName(); v != `a"b` {
		t.Errorf("ident name %q", v)
	}
	if v := toks[2].stringValue(); v != "q'" {
		t.Errorf("dollar string value %q", v)
	}
	if v := toks[3].identName(); v != "word" {
		t.Errorf("word name %q", v)
	}
}

func TestFilePos(t *testing.T) {
	f := newFile("", "ab\n\tçd\n\nx")
	for _, tt := range []struct {
		off  int
		want Pos
	}{
		{0, Pos{1, 1}}, {2, Pos{1, 3}}, {3, Pos{2, 1}}, {4, Pos{2, 2}}, {6, Pos{2, 3}}, {8, Pos{3, 1}}, {9, Pos{4, 1}}, {10, Pos{4, 2}}, {99, Pos{4, 2}},
	} {
		if got := f.pos(tt.off); got != tt.want {
			t.Errorf("pos(%d) = %v, want %v", tt.off, got, tt.want)
		}
	}
}
