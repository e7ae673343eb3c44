package jsonfmt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// The decoder's fast paths (a shape seen before, one-word integers, the
// remembered minute of a timestamp) only ever accept what the general
// path accepts, with the same result. These tests feed mutated bid-like
// records to one long-lived decoder, which takes the fast paths, and to a
// fresh decoder per record, which has no shape or minute to reuse, and
// require the same rows and the same errors.

var fastFields = []types.Field{
	notNull("auction", types.Int64T), field("price", types.Int64T),
	field("datetime", types.TimestampT), field("channel", types.StringT),
}

// mutate applies up to three random edits (replace, insert, delete) with
// bytes that matter to the fast paths.
func mutate(r *rand.Rand, rec []byte) []byte {
	const alphabet = "0123456789.eE-+:Zz\"\\,{} \tT\x80\xc3\x01x"
	out := append([]byte(nil), rec...)
	for range r.IntN(4) {
		if len(out) == 0 {
			break
		}
		k := r.IntN(len(out))
		c := alphabet[r.IntN(len(alphabet))]
		switch r.IntN(3) {
		case 0:
			out[k] = c
		case 1:
			out = append(out[:k], append([]byte{c}, out[k:]...)...)
		default:
			out = append(out[:k], out[k+1:]...)
		}
	}
	return out
}

func bidRecord(r *rand.Rand) []byte {
	var b []byte
	keys := []string{"auction", "bidder", "price", "channel", "datetime", "extra"}
	if r.IntN(20) == 0 {
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	}
	b = append(b, '{')
	for k, key := range keys {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, key)
		b = append(b, ':')
		switch key {
		case "auction", "bidder", "price":
			n := r.Int64N(10_000_000) // mostly one word
			if r.IntN(5) == 0 {
				n = r.Int64N(1 << (r.IntN(62) + 1))
			}
			if r.IntN(10) == 0 {
				n = -n
			}
			b = strconv.AppendInt(b, n, 10)
		case "datetime":
			b = append(b, '"')
			b = append(b, []string{"2023-11-14T22:13", "2023-11-14T22:14", "2023-11-14 22:13", "1969-12-31T23:59"}[r.IntN(4)]...)
			b = append(b, []string{":20.123Z", ":59.999Z", ":00.000Z", ":60.000Z", ":20Z", ":20.1234Z", ":20.123+01:00", ":20.123"}[r.IntN(8)]...)
			b = append(b, '"')
		default:
			b = strconv.AppendQuote(b, []string{"Google", "x", "", "caf\u00e9"}[r.IntN(4)])
		}
	}
	return append(b, '}')
}

func TestFastPathsMatchSlowPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	d := newDecoder(t, nil, fastFields...)
	ok, failed := 0, 0
	for n := range 30_000 {
		rec := bidRecord(r)
		if n%2 == 1 {
			rec = mutate(r, rec)
		}
		fresh := newDecoder(t, nil, fastFields...)
		werr := fresh.Decode(rec)
		gerr := d.Decode(rec)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: error %v, a fresh decoder %v", rec, gerr, werr)
		}
		if werr != nil {
			failed++
			continue
		}
		ok++
		want := rowsOf(fresh.Flush())
		vs := d.Flush()
		for i, v := range vs {
			checkVector(t, fastFields[i].Name, v, 1)
		}
		if got := rowsOf(vs); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ngot  %v\nwant %v", rec, got, want)
		}
		// The integers also agree with strconv (what the text means).
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatalf("%q decoded but is not JSON: %v", rec, err)
		}
		if raw, ok := m["auction"]; ok && !bytes.Equal(raw, []byte("null")) {
			v, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil || v != want[0][0] {
				t.Fatalf("%q: auction %v, strconv says %d (%v)", rec, want[0][0], v, err)
			}
		}
	}
	if ok < 5000 || failed < 5000 {
		t.Fatalf("%d records decoded, %d failed: the mix does not exercise both sides", ok, failed)
	}
}

// TestDigitWords checks digitRun and digitsValue against a byte loop for
// every run length and terminator.
func TestDigitWords(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		var b [8]byte
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = '0' + byte(r.IntN(10))
			}
		}
		w := binary.LittleEndian.Uint64(b[:])
		k := 0
		for k < 8 && isDigit(b[k]) {
			k++
		}
		if got := digitRun(w); got != k {
			t.Fatalf("digitRun(%q) = %d, want %d", b, got, k)
		}
		if k > 0 {
			want, _ := strconv.ParseUint(string(b[:k]), 10, 64)
			if got := digitsValue(w, k); got != want {
				t.Fatalf("digitsValue(%q, %d) = %d, want %d", b, k, got, want)
			}
		}
	}
}

// TestAppendInt64 checks the encoder's integer text against strconv at
// every length and at the ends of the range.
func TestAppendInt64(t *testing.T) {
	vs := []int64{0, 1, 9, 10, 99, 100, -1, -9, -10, -100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p > 0 && p < math.MaxInt64/10; p *= 10 {
		vs = append(vs, p-1, p, p+1, -p+1, -p, -p-1)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 10_000 {
		vs = append(vs, int64(r.Uint64())>>r.IntN(64))
	}
	for _, v := range vs {
		prefix := []byte("x:")
		if got, want := appendInt64(prefix, v), strconv.AppendInt([]byte("x:"), v, 10); !bytes.Equal(got, want) {
			t.Fatalf("appendInt64(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestDecodeLinesMatchesDecode holds the block path to the per-record
// one as a line source uses them: DecodeLines over a block of mutated
// bid lines (with CRLF endings, blank lines, spaces around records, lines
// over the length limit), each line it stops at passed to Decode, gives
// the same batches and the same errors at the same lines as Decode on
// every line.
func TestDecodeLinesMatchesDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const maxRows, maxLen = 7, 150
	var block []byte
	for n := range 20_000 {
		rec := bidRecord(r)
		if n%3 == 1 {
			rec = mutate(r, rec)
		}
		switch r.IntN(40) {
		case 0:
			rec = nil
		case 1:
			rec = append([]byte(" "), rec...)
		case 2:
			rec = append(rec, "\t"...)
		case 3:
			rec = append(rec, '\r')
		}
		block = append(append(block, rec...), '\n')
	}
	block = append(block, bidRecord(r)...) // a last line without its newline

	type event struct {
		line int
		err  string
		rows [][]any
	}
	// slowLine is what the source does with a line the block path leaves.
	slowLine := func(d *Decoder, line []byte, no int, events *[]event) {
		if len(line) > maxLen {
			*events = append(*events, event{line: no, err: "too long"})
			return
		}
		if rec := bytes.TrimSpace(line); len(rec) > 0 {
			if err := d.Decode(rec); err != nil {
				*events = append(*events, event{line: no, err: err.Error()})
			}
		}
	}
	flush := func(d *Decoder, events *[]event) {
		if d.Rows() > 0 {
			*events = append(*events, event{rows: rowsOf(d.Flush())})
		}
	}

	var want []event
	ref := newDecoder(t, nil, fastFields...)
	for no, line := range bytes.Split(block, []byte{'\n'}) {
		if ref.Rows() >= maxRows {
			flush(ref, &want)
		}
		slowLine(ref, line, no, &want)
	}
	flush(ref, &want)

	var got []event
	d := newDecoder(t, nil, fastFields...)
	pos, no, blocks := 0, 0, 0
	for pos < len(block) {
		if d.Rows() >= maxRows {
			flush(d, &got)
		}
		n, lines := d.DecodeLines(block[pos:], maxRows, maxLen)
		pos, no = pos+n, no+lines
		if lines > 0 {
			blocks++
		}
		if d.Rows() >= maxRows || pos >= len(block) {
			continue
		}
		line := block[pos:]
		if e := bytes.IndexByte(line, '\n'); e >= 0 {
			line = line[:e+1]
		}
		pos += len(line)
		slowLine(d, bytes.TrimSuffix(line, []byte{'\n'}), no, &got)
		no++
	}
	flush(d, &got)
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("event %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	errs := 0
	for _, e := range want {
		if e.err != "" {
			errs++
		}
	}
	if blocks < 1000 || errs < 1000 {
		t.Fatalf("%d blocks decoded, %d errors: the mix does not exercise both paths", blocks, errs)
	}
}
