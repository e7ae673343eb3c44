package kafka_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/twmb/franz-go/pkg/kgo"
)

// metaTable is a JSON source table with every metadata column.
func metaTable(t testing.TB, badData string) *kafka.DecodePath {
	t.Helper()
	sql := "CREATE TABLE src (id BIGINT, k TEXT METADATA FROM 'key', p INT METADATA FROM 'partition', o BIGINT METADATA FROM 'offset', " +
		"ts TIMESTAMP METADATA FROM 'timestamp', tp TEXT METADATA FROM 'topic') WITH (connector = 'kafka', format = 'json', " +
		"bootstrap_servers = '127.0.0.1:9', topic = 't', type = 'source', bad_data = '" + badData + "');\n" +
		"CREATE TABLE out (id BIGINT, k TEXT, p INT, o BIGINT, ts TIMESTAMP, tp TEXT) WITH (connector = 'blackhole');\nINSERT INTO out SELECT * FROM src;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range prog.Nodes {
		if n.Source != nil {
			d, err := kafka.NewDecodePath(n.Source)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatal("no source")
	return nil
}

// fetch returns records of partition 2 at offsets 10.. with the values
// given (key "k<offset>" except for offset 11, which has none).
func fetch(values ...string) []*kgo.Record {
	var out []*kgo.Record
	for i, v := range values {
		r := &kgo.Record{Topic: "t", Partition: 2, Offset: int64(10 + i), Value: []byte(v),
			Timestamp: time.Unix(0, int64(1000*(10+i)))}
		if i != 1 {
			r.Key = []byte(fmt.Sprintf("k%d", 10+i))
		}
		out = append(out, r)
	}
	return out
}

func batchRows(b *coldata.Batch) []string {
	var out []string
	for i := range b.Rows() {
		var cells []string
		for _, v := range b.Cols {
			if v.IsNull(i) {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, fmt.Sprint(coldata.Value(v, i)))
			}
		}
		out = append(out, strings.Join(cells, " "))
	}
	return out
}

// TestDecodePathMetadata: the metadata columns, built per fetch, stay
// aligned with the decoded rows when bad records are dropped, and the
// partition's position moves past the whole fetch.
func TestDecodePathMetadata(t *testing.T) {
	d := metaTable(t, "drop")
	if err := d.Decode(2, fetch(`{"id":1}`, `{"id":2}`, `not json`, `{"id":4}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(2, fetch()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(batchRows(d.Flush()), "\n")
	want := "1 k10 2 10 10000 t 10000\n2 NULL 2 11 11000 t 11000\n4 k13 2 13 13000 t 13000"
	if got != want {
		t.Errorf("rows:\n%s\nwant\n%s", got, want)
	}
	if o := d.Offset(2); o != 14 {
		t.Errorf("next offset %d, want 14", o)
	}
}

// TestDecodePathFail: with bad_data = 'fail' the fetch stops at the bad
// record, naming its offset; the rows before it are kept, and the
// position is the bad record's.
func TestDecodePathFail(t *testing.T) {
	d := metaTable(t, "fail")
	err := d.Decode(2, fetch(`{"id":1}`, `{"id":2}`, `not json`, `{"id":4}`))
	if err == nil || !strings.Contains(err.Error(), "kafka table 'src': topic 't' partition 2 offset 12: bad record") {
		t.Fatalf("got %v", err)
	}
	got := strings.Join(batchRows(d.Flush()), "\n")
	if want := "1 k10 2 10 10000 t 10000\n2 NULL 2 11 11000 t 11000"; got != want {
		t.Errorf("rows:\n%s\nwant\n%s", got, want)
	}
	if o := d.Offset(2); o != 12 {
		t.Errorf("next offset %d, want 12", o)
	}
}
