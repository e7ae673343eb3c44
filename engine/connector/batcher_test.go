package connector

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// test_csvish is a tiny format for Batcher tests: a record is one or more
// lines, each an integer, decoded into one BIGINT column; anything else is
// an error and appends nothing.
const csvish = "test_csvish"

func init() {
	RegisterFormat(&Format{
		Name: csvish,
		NewDecoder: func(schema *types.Schema, _ Options) (Decoder, error) {
			if len(schema.Fields) != 1 || schema.Fields[0].Type.Kind != types.Int64 {
				return nil, errors.New("test_csvish: schema must be one BIGINT")
			}
			return &csvishDecoder{col: newInt64s()}, nil
		},
	})
}

func newInt64s() *coldata.Vec[int64] { return coldata.New(types.Int64T, 0).(*coldata.Vec[int64]) }

type csvishDecoder struct{ col *coldata.Vec[int64] }

func (d *csvishDecoder) Decode(rec []byte) error {
	var xs []int64
	for _, line := range strings.Split(string(rec), "\n") {
		x, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return fmt.Errorf("test_csvish: not an integer: %q", line)
		}
		xs = append(xs, x)
	}
	for _, x := range xs {
		d.col.Append(x)
	}
	return nil
}

func (d *csvishDecoder) Rows() int { return d.col.Len() }

func (d *csvishDecoder) Flush() []coldata.Vector {
	out := []coldata.Vector{d.col}
	d.col = newInt64s()
	return out
}

func csvishTable(badData string) *Table {
	return &Table{
		Name:    "t",
		Schema:  types.NewSchema(types.Field{Name: "x", Type: types.Int64T}),
		Format:  &FormatConfig{Name: csvish},
		BadData: badData,
	}
}

// record is one Add call.
type record struct {
	rec string
	ts  int64
}

// batchRows returns the (x, _timestamp) rows of a flushed batch, checking
// its shape.
func batchRows(t *testing.T, b *coldata.Batch) [][2]int64 {
	t.Helper()
	if len(b.Cols) != 2 || b.Sel != nil {
		t.Fatalf("batch has %d columns, Sel %v; want 2, nil", len(b.Cols), b.Sel)
	}
	ts, ok := b.Cols[1].(*coldata.Vec[int64])
	if !ok || !ts.Type().Equal(types.TimestampT) || ts.Nulls().Any() {
		t.Fatalf("last column is %T of %v; want a non-null TIMESTAMP vector", b.Cols[1], b.Cols[1].Type())
	}
	out := make([][2]int64, b.Len)
	for i := range b.Len {
		if b.Cols[0].Len() != b.Len || ts.Len() != b.Len {
			t.Fatalf("columns have %d and %d rows, batch %d", b.Cols[0].Len(), ts.Len(), b.Len)
		}
		out[i] = [2]int64{coldata.Value(b.Cols[0], i).(int64), ts.Vals[i]}
	}
	return out
}

func TestBatcher(t *testing.T) {
	for _, tc := range []struct {
		name    string
		badData string
		recs    []record
		rows    [][2]int64 // flushed rows
		dropped int64
		err     string // error of the first failing Add
	}{
		{
			name:    "one row per record",
			badData: BadDataFail,
			recs:    []record{{"1", 100}, {"2", 200}, {"-3", 300}},
			rows:    [][2]int64{{1, 100}, {2, 200}, {-3, 300}},
		},
		{
			name:    "every row of a record gets its time",
			badData: BadDataFail,
			recs:    []record{{"1\n2\n3", 7}, {"4", 8}},
			rows:    [][2]int64{{1, 7}, {2, 7}, {3, 7}, {4, 8}},
		},
		{
			name:    "fail returns the decode error",
			badData: BadDataFail,
			recs:    []record{{"1", 1}, {"x", 2}},
			rows:    [][2]int64{{1, 1}},
			err:     `test_csvish: not an integer: "x"`,
		},
		{
			name:    "fail is the default",
			badData: "",
			recs:    []record{{"oops", 1}},
			err:     `test_csvish: not an integer: "oops"`,
		},
		{
			name:    "a failed multi-row record adds nothing",
			badData: BadDataFail,
			recs:    []record{{"1\nx", 1}},
			err:     `test_csvish: not an integer: "x"`,
		},
		{
			name:    "drop skips and counts",
			badData: BadDataDrop,
			recs:    []record{{"x", 1}, {"5", 2}, {"", 3}, {"6\n?", 4}, {"7", 5}},
			rows:    [][2]int64{{5, 2}, {7, 5}},
			dropped: 3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBatcher(csvishTable(tc.badData), 100)
			if err != nil {
				t.Fatal(err)
			}
			var addErr error
			for _, r := range tc.recs {
				if addErr = b.Add([]byte(r.rec), r.ts); addErr != nil {
					break
				}
			}
			if tc.err == "" && addErr != nil {
				t.Fatalf("Add: %v", addErr)
			}
			if tc.err != "" && (addErr == nil || addErr.Error() != tc.err) {
				t.Fatalf("Add error %v, want %q", addErr, tc.err)
			}
			if b.Rows() != len(tc.rows) {
				t.Fatalf("Rows() = %d, want %d", b.Rows(), len(tc.rows))
			}
			if got := b.TakeDropped(); got != tc.dropped {
				t.Fatalf("TakeDropped() = %d, want %d", got, tc.dropped)
			}
			if got := b.TakeDropped(); got != 0 {
				t.Fatalf("second TakeDropped() = %d, want 0", got)
			}
			batch := b.Flush()
			if len(tc.rows) == 0 {
				if batch != nil {
					t.Fatalf("Flush of no rows = %v, want nil", batch)
				}
				return
			}
			if got := batchRows(t, batch); !reflect.DeepEqual(got, tc.rows) {
				t.Fatalf("rows %v, want %v", got, tc.rows)
			}
			if b.Rows() != 0 || b.Flush() != nil {
				t.Fatal("Flush did not start a new batch")
			}
		})
	}
}

// TestBatcherFlushedBatchesAreImmutable: rows added after a Flush go into
// new vectors; an emitted batch never changes.
func TestBatcherFlushedBatchesAreImmutable(t *testing.T) {
	b, err := NewBatcher(csvishTable(BadDataFail), 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := b.Add([]byte(strconv.Itoa(i)), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	first := b.Flush()
	want := batchRows(t, first)
	for i := 10; i < 15; i++ {
		if err := b.Add([]byte(strconv.Itoa(i)), int64(i*100)); err != nil {
			t.Fatal(err)
		}
	}
	second := b.Flush()
	if got := batchRows(t, first); !reflect.DeepEqual(got, want) {
		t.Fatalf("first batch changed to %v", got)
	}
	if got := batchRows(t, second); !reflect.DeepEqual(got, [][2]int64{{10, 1000}, {11, 1100}, {12, 1200}, {13, 1300}, {14, 1400}}) {
		t.Fatalf("second batch %v", got)
	}
	if first.Cols[1] == second.Cols[1] || first.Cols[0] == second.Cols[0] {
		t.Fatal("two flushed batches share a vector")
	}
}

func TestBatcherFull(t *testing.T) {
	b, err := NewBatcher(csvishTable(BadDataDrop), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		rec  string
		full bool
	}{
		{"1", false},
		{"bad", false}, // dropped rows do not count
		{"2", false},
		{"3", true},
		{"4\n5", true}, // a record is never split: a batch may exceed max
	} {
		if err := b.Add([]byte(step.rec), 0); err != nil {
			t.Fatal(err)
		}
		if b.Full() != step.full {
			t.Fatalf("after %q (%d rows): Full() = %v", step.rec, b.Rows(), b.Full())
		}
	}
	if got := b.Flush(); got.Len != 5 {
		t.Fatalf("flushed %d rows, want 5", got.Len)
	}
	if b.Full() {
		t.Fatal("Full() after Flush")
	}
}

func TestNewBatcherErrors(t *testing.T) {
	noFormat := csvishTable(BadDataFail)
	noFormat.Format = nil
	unknown := csvishTable(BadDataFail)
	unknown.Format = &FormatConfig{Name: "test_no_such_format"}
	writeOnly := csvishTable(BadDataFail)
	writeOnlyName := uniqueName("test_writeonly")
	RegisterFormat(&Format{Name: writeOnlyName})
	writeOnly.Format = &FormatConfig{Name: writeOnlyName}
	badSchema := csvishTable(BadDataFail)
	badSchema.Schema = types.NewSchema(types.Field{Name: "s", Type: types.StringT})

	for _, tc := range []struct {
		name string
		t    *Table
		err  string
	}{
		{"no format", noFormat, "table 't' has no format"},
		{"unknown format", unknown, "format 'test_no_such_format' cannot be read"},
		{"format without decoder", writeOnly, fmt.Sprintf("format '%s' cannot be read", writeOnlyName)},
		{"decoder error", badSchema, "test_csvish: schema must be one BIGINT"},
	} {
		b, err := NewBatcher(tc.t, 10)
		if err == nil || err.Error() != tc.err {
			t.Errorf("%s: NewBatcher = %v, %v; want error %q", tc.name, b, err, tc.err)
		}
	}
	for _, tc := range []struct {
		name string
		t    *Table
		err  string
	}{
		{"no format", noFormat, "table 't' has no format"},
		{"unknown format", unknown, "format 'test_no_such_format' cannot be written"},
		{"format without encoder", csvishTable(BadDataFail), "format 'test_csvish' cannot be written"},
	} {
		e, err := NewEncoder(tc.t, tc.t.Schema)
		if err == nil || err.Error() != tc.err {
			t.Errorf("%s: NewEncoder = %v, %v; want error %q", tc.name, e, err, tc.err)
		}
	}
}

// test_csvish_lines is test_csvish with a block path: one integer a line.
const csvishLines = "test_csvish_lines"

func init() {
	RegisterFormat(&Format{
		Name: csvishLines,
		NewDecoder: func(*types.Schema, Options) (Decoder, error) {
			return &csvishLinesDecoder{csvishDecoder{col: newInt64s()}}, nil
		},
	})
}

type csvishLinesDecoder struct{ csvishDecoder }

func (d *csvishLinesDecoder) DecodeLines(block []byte, maxRows, maxLen int) (n, lines int) {
	for d.Rows() < maxRows {
		e := strings.IndexByte(string(block[n:]), '\n')
		if e < 0 || e > maxLen {
			break
		}
		x, err := strconv.ParseInt(string(block[n:n+e]), 10, 64)
		if err != nil {
			break
		}
		d.col.Append(x)
		n, lines = n+e+1, lines+1
	}
	return n, lines
}

// AddLines decodes up to the batch's size and gives the rows their time,
// between records added one by one; a decoder without the block path
// consumes nothing.
func TestBatcherAddLines(t *testing.T) {
	tab := csvishTable(BadDataFail)
	tab.Format.Name = csvishLines
	b, err := NewBatcher(tab, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]byte("1"), 10); err != nil {
		t.Fatal(err)
	}
	block := []byte("2\n3\nx\n4\n")
	if n, lines := b.AddLines(block, 20, 100); n != 4 || lines != 2 {
		t.Fatalf("AddLines = %d, %d; want 4, 2 (stopping at the bad line)", n, lines)
	}
	if err := b.Add([]byte("5"), 20); err != nil {
		t.Fatal(err)
	}
	if n, lines := b.AddLines([]byte("6\n7\n"), 30, 100); n != 2 || lines != 1 || !b.Full() {
		t.Fatalf("AddLines = %d, %d, full %v; want 2, 1 and a full batch", n, lines, b.Full())
	}
	want := [][2]int64{{1, 10}, {2, 20}, {3, 20}, {5, 20}, {6, 30}}
	if got := batchRows(t, b.Flush()); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n, lines := b.AddLines([]byte("12345\n"), 40, 4); n != 0 || lines != 0 {
		t.Fatalf("a line over maxLen: AddLines = %d, %d", n, lines)
	}
	plain, err := NewBatcher(csvishTable(BadDataFail), 5)
	if err != nil {
		t.Fatal(err)
	}
	if n, lines := plain.AddLines(block, 1, 100); n != 0 || lines != 0 || plain.Rows() != 0 {
		t.Fatalf("without a block path: AddLines = %d, %d, %d rows", n, lines, plain.Rows())
	}
}
