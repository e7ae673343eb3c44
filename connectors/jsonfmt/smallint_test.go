package jsonfmt

import (
	"reflect"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestSmallIntOutOfRangeIsBadData: through a source's batcher, a value that
// does not fit a SMALLINT column is a bad record: bad_data = 'fail' stops
// with a message naming the field and the range, 'drop' skips and counts
// it, and the rows around it keep their values.
func TestSmallIntOutOfRangeIsBadData(t *testing.T) {
	table := func(badData string) *connector.Table {
		return &connector.Table{
			Name:    "t",
			Schema:  types.NewSchema(field("id", types.Int64T), field("s", types.Int16T), field("u", types.UInt8T)),
			Format:  &connector.FormatConfig{Name: "json", Options: connector.Options{}},
			BadData: badData,
		}
	}
	recs := []string{
		`{"id":1,"s":-32768,"u":255}`,
		`{"id":2,"s":40000,"u":1}`,
		`{"id":3,"s":32767,"u":256}`,
		`{"id":4,"s":7,"u":0}`,
	}

	b, err := connector.NewBatcher(table(connector.BadDataFail), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]byte(recs[0]), 0); err != nil {
		t.Fatal(err)
	}
	err = b.Add([]byte(recs[1]), 0)
	if want := "field 's': integer 40000 out of range for SMALLINT (-32768 to 32767) at byte 12"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}

	b, err = connector.NewBatcher(table(connector.BadDataDrop), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := b.Add([]byte(r), 0); err != nil {
			t.Fatalf("drop mode: %v", err)
		}
	}
	if got := b.TakeDropped(); got != 2 {
		t.Fatalf("dropped %d records, want 2", got)
	}
	batch := b.Flush()
	var rows [][]any
	for i := 0; i < batch.Len; i++ {
		rows = append(rows, []any{coldata.Value(batch.Cols[0], i), coldata.Value(batch.Cols[1], i), coldata.Value(batch.Cols[2], i)})
	}
	want := [][]any{{int64(1), int16(-32768), uint8(255)}, {int64(4), int16(7), uint8(0)}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
}
