package expr

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonCorpus are documents, valid and not, the differential tests start
// from.
var jsonCorpus = []string{
	`{}`, `[]`, `{"a": 1}`, `[1, -2.5e3, "x", true, false, null]`, ` {"a" : [ {"b": "c\"d"} ] } `,
	`{"k\u00e9y": "\ud83d\ude00", "e": "\\\/\b\f\n\r\t"}`, `"str"`, `12`, `-0.5E+2`, `nul`, `{"a":}`,
	`[1,]`, `{"a" 1}`, `01`, `1.`, `-`, `"\x"`, `"\u12"`, `[[[]]]`, `{"a":{"b":{"c":[1,{"d":null}]}}}`,
	"\"\x01\"", `{"a":1}}`, `[1 2]`, `tru`, `{"a":"b",}`, `{,}`, `[-]`, `1e`, `"é"`,
}

// mutate returns s with a random edit: a byte changed, inserted or
// removed, or a piece of another corpus document spliced in.
func mutate(rng *rand.Rand, s string) string {
	b := []byte(s)
	alphabet := []byte(`{}[]":,. -+eE0123456789tfnulrsa\u`)
	switch k := rng.IntN(4); {
	case len(b) == 0 || k == 0:
		i := rng.IntN(len(b) + 1)
		b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
	case k == 1:
		b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
	case k == 2:
		i := rng.IntN(len(b))
		b = append(b[:i], b[i+1:]...)
	default:
		o := jsonCorpus[rng.IntN(len(jsonCorpus))]
		i := rng.IntN(len(b) + 1)
		b = append(b[:i], append([]byte(o), b[i:]...)...)
	}
	return string(b)
}

// TestJSONScannerAgreesWithEncodingJSON: on thousands of mutated
// documents, the scanner accepts exactly what encoding/json accepts, finds
// the same members and elements, and decodes strings the same way.
func TestJSONScannerAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	docs := append([]string{}, jsonCorpus...)
	for len(docs) < 20000 {
		docs = append(docs, mutate(rng, docs[rng.IntN(len(docs))]))
	}
	for _, d := range docs {
		s := []byte(d)
		if !utf8.Valid(s) {
			continue // encoding/json replaces invalid UTF-8; the scanner passes it through
		}
		start, end, ok := jsonRoot(s)
		if want := json.Valid(s); ok != want {
			t.Fatalf("%q: scanner valid %v, encoding/json %v", d, ok, want)
		}
		if !ok {
			continue
		}
		v, err := decodeAny(s)
		if err != nil {
			t.Fatal(err)
		}
		checkScan(t, d, s, start, end, v)
	}
}

// checkScan checks the value at s[start:end] against its decoding v,
// member by member.
func checkScan(t *testing.T, doc string, s []byte, start, end int, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		n, ok := jsonCount(s, start)
		if !ok || n < len(v) { // duplicates count in the text, once in the map
			t.Fatalf("%q: %d members, decoded %d", doc, n, len(v))
		}
		for k, mv := range v {
			vs, ve, found, ok := jsonMember(s, start, []byte(k))
			if !found || !ok {
				t.Fatalf("%q: member %q not found", doc, k)
			}
			first, err := decodeAny(s[vs:ve])
			if err != nil {
				t.Fatalf("%q: member %q spans %q: %v", doc, k, s[vs:ve], err)
			}
			if _, isObj := mv.(map[string]any); !isObj {
				checkScan(t, doc, s, vs, ve, first)
			}
		}
	case []any:
		n, ok := jsonCount(s, start)
		if !ok || n != len(v) {
			t.Fatalf("%q: %d elements, decoded %d", doc, n, len(v))
		}
		for k, ev := range v {
			vs, ve, found, ok := jsonElement(s, start, int64(k))
			if !found || !ok {
				t.Fatalf("%q: element %d not found", doc, k)
			}
			checkScan(t, doc, s, vs, ve, ev)
		}
	case string:
		got, ok := jsonUnquote(nil, s[start:end])
		if !ok || string(got) != v {
			t.Fatalf("%q: string %q decodes to %q (%v), encoding/json %q", doc, s[start:end], got, ok, v)
		}
	}
}

// decodeAny decodes with numbers kept as text (1e999 is valid JSON).
func decodeAny(s []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(s))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func FuzzJSONScanner(f *testing.F) {
	for _, d := range jsonCorpus {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		s := []byte(d)
		if !utf8.Valid(s) {
			return
		}
		_, _, ok := jsonRoot(s)
		if want := json.Valid(s); ok != want {
			t.Fatalf("%q: scanner valid %v, encoding/json %v", d, ok, want)
		}
	})
}

// TestJSONDepthLimit: a deeply nested document is invalid (NULL) rather
// than a stack overflow, and nesting up to the limit works.
func TestJSONDepthLimit(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + "1" + strings.Repeat("]", n))
	}
	if _, _, ok := jsonRoot(deep(jsonMaxDepth)); !ok {
		t.Fatalf("depth %d rejected", jsonMaxDepth)
	}
	for _, n := range []int{jsonMaxDepth + 1, 1_000_000} {
		if _, _, ok := jsonRoot(deep(n)); ok {
			t.Fatalf("depth %d accepted", n)
		}
		jp, _ := compileJSONPath("$..*")
		if _, _, ok := jp.eval(deep(n), nil, nil); ok {
			t.Fatalf("JSONPath over depth %d accepted", n)
		}
	}
	// An unclosed million-deep array is invalid too, quickly.
	if _, _, ok := jsonRoot([]byte(strings.Repeat("[", 1_000_000))); ok {
		t.Fatal("unclosed arrays accepted")
	}
}
