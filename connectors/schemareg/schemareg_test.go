package schemareg

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

const (
	userV1 = `{"type":"record","name":"User","fields":[
		{"name":"id","type":"long"},{"name":"n","type":"int"},{"name":"old","type":"string"}]}`
	userV2 = `{"type":"record","name":"User","fields":[
		{"name":"id","type":"long"},{"name":"n","type":"long"},
		{"name":"email","type":["null","string"],"default":null}]}`
)

func newFake(t *testing.T, opts ...srfake.Option) (*srfake.Registry, *Registry) {
	t.Helper()
	fake := srfake.New(opts...)
	t.Cleanup(fake.Close)
	r, err := New(Config{Endpoint: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return fake, r
}

func register(t *testing.T, fake *srfake.Registry, subject, text string, typ sr.SchemaType) int {
	t.Helper()
	id, _, err := fake.RegisterSchema(subject, sr.Schema{Schema: text, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func framed(t *testing.T, id int, schema string, v any) []byte {
	t.Helper()
	s, err := hamba.ParseWithCache(schema, "", &hamba.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := hamba.Marshal(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return append(AppendHeader(nil, id), b...)
}

// render prints the rows of flushed vectors of scalar columns.
func render(vs []coldata.Vector) []string {
	var out []string
	for i := 0; i < vs[0].Len(); i++ {
		var parts []string
		for _, v := range vs {
			if v.IsNull(i) {
				parts = append(parts, "NULL")
				continue
			}
			switch v := v.(type) {
			case *coldata.Vec[int64]:
				parts = append(parts, fmt.Sprint(v.Vals[i]))
			case *coldata.Vec[int32]:
				parts = append(parts, fmt.Sprint(v.Vals[i]))
			case *coldata.Vec[bool]:
				parts = append(parts, fmt.Sprint(v.Vals[i]))
			case *coldata.Bytes:
				parts = append(parts, v.GetString(i))
			default:
				parts = append(parts, fmt.Sprintf("%T", v))
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out
}

func TestAvroSourceEvolution(t *testing.T) {
	fake, r := newFake(t)
	ctx := context.Background()
	id1 := register(t, fake, "users-value", userV1, sr.TypeAvro)
	id2 := register(t, fake, "users-value", userV2, sr.TypeAvro)

	schema, err := r.TableSchema(ctx, "users-value")
	if err != nil {
		t.Fatal(err)
	}
	if schema.String() != "(id BIGINT, n BIGINT, email TEXT)" || !schema.Fields[2].Nullable {
		t.Fatalf("table schema %s %+v", schema, schema.Fields)
	}
	dec, err := r.Decoder(ctx, FormatAvro, connector.Options{"avro.confluent_schema_registry": "true"}, schema)
	if err != nil {
		t.Fatal(err)
	}
	msgs := [][]byte{
		framed(t, id1, userV1, map[string]any{"id": int64(1), "n": 7, "old": "x"}),
		framed(t, id2, userV2, map[string]any{"id": int64(2), "n": int64(1) << 40, "email": "a@b"}),
		framed(t, id1, userV1, map[string]any{"id": int64(3), "n": -1, "old": ""}),
	}
	for _, m := range msgs {
		if err := dec.Decode(m); err != nil {
			t.Fatal(err)
		}
	}
	got := render(dec.Flush())
	want := []string{"1 | 7 | NULL", "2 | 1099511627776 | a@b", "3 | -1 | NULL"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q want %q", got, want)
	}

	// Bad input: each a clear, typed error, nothing appended.
	var fe *FrameError
	if err := dec.Decode([]byte(`{"id":1}`)); !errors.As(err, &fe) || !strings.Contains(err.Error(), "plain JSON") {
		t.Fatalf("unframed: %v", err)
	}
	var re *Error
	err = dec.Decode(framed(t, 999, userV1, map[string]any{"id": int64(1), "n": 1, "old": ""}))
	if !errors.As(err, &re) || re.Retriable || !re.NotFound || !strings.Contains(err.Error(), "unknown schema id 999") {
		t.Fatalf("unknown id: %v", err)
	}
	// A message that does not match its schema names the id.
	bad := framed(t, id2, userV2, map[string]any{"id": int64(2), "n": int64(1), "email": "a@b"})
	if err := dec.Decode(bad[:len(bad)-2]); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("writer schema id %d", id2)) {
		t.Fatalf("truncated: %v", err)
	}
	if dec.Rows() != 0 {
		t.Fatalf("failed records appended %d rows", dec.Rows())
	}

	// A writer schema that cannot fill a NOT NULL column.
	strict := types.NewSchema(types.Field{Name: "id", Type: types.Int64T}, types.Field{Name: "email", Type: types.StringT})
	d2, _ := r.Decoder(ctx, FormatAvro, nil, strict)
	if err := d2.Decode(msgs[0]); err == nil || !strings.Contains(err.Error(), "column 'email'") ||
		!strings.Contains(err.Error(), fmt.Sprintf("writer schema id %d does not resolve", id1)) {
		t.Fatalf("unresolvable: %v", err)
	}

	// Registry down: a new id is a retriable error; known ids still decode
	// from the cache.
	fake.Close()
	if err := dec.Decode(msgs[0]); err != nil {
		t.Fatalf("cached id after the registry went down: %v", err)
	}
	id3 := id2 + 1
	err = dec.Decode(framed(t, id3, userV1, map[string]any{"id": int64(1), "n": 1, "old": ""}))
	t.Log(err)
	if !errors.As(err, &re) || !re.Retriable || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("registry down: %v", err)
	}
}

func TestJSONSource(t *testing.T) {
	fake, r := newFake(t)
	ctx := context.Background()
	js := `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":["string","null"]},
		"tags":{"type":"array","items":{"type":"string"}},"meta":{"type":"object"},
		"at":{"type":"string","format":"date-time"}},"required":["id"]}`
	id := register(t, fake, "ev-value", js, sr.TypeJSON)
	schema, err := r.TableSchema(ctx, "ev-value")
	if err != nil {
		t.Fatal(err)
	}
	if schema.String() != "(id BIGINT, name TEXT, tags TEXT[], meta JSON, at TIMESTAMP)" || schema.Fields[0].Nullable || !schema.Fields[1].Nullable {
		t.Fatalf("%s %+v", schema, schema.Fields)
	}
	sub := types.NewSchema(schema.Fields[0], schema.Fields[1], schema.Fields[3])
	dec, err := r.Decoder(ctx, FormatJSON, nil, sub)
	if err != nil {
		t.Fatal(err)
	}
	msg := append(AppendHeader(nil, id), `{"id":5,"name":"x","meta":{"a":[1]}}`...)
	if err := dec.Decode(msg); err != nil {
		t.Fatal(err)
	}
	if got := render(dec.Flush()); len(got) != 1 || got[0] != `5 | x | {"a":[1]}` {
		t.Fatalf("got %q", got)
	}
	// An Avro id on a JSON table.
	aid := register(t, fake, "other-value", userV1, sr.TypeAvro)
	if err := dec.Decode(append(AppendHeader(nil, aid), `{}`...)); err == nil || !strings.Contains(err.Error(), "is a AVRO schema") {
		t.Fatalf("got %v", err)
	}
}

func sinkBatch() (*types.Schema, *coldata.Batch) {
	s := types.NewSchema(types.Field{Name: "id", Type: types.Int64T}, types.Field{Name: "name", Type: types.StringT, Nullable: true})
	ids := &coldata.Vec[int64]{T: types.Int64T, Vals: []int64{1, 2}}
	names := coldata.NewBytes(types.StringT, 2, 8)
	names.AppendString("a")
	names.AppendNull()
	return s, coldata.NewBatch([]coldata.Vector{ids, names}, 2)
}

func TestSinkRegistersAndRoundTrips(t *testing.T) {
	for _, format := range []string{FormatAvro, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			fake, r := newFake(t)
			ctx := context.Background()
			schema, b := sinkBatch()
			if err := r.CheckSink(ctx, "out-value", format, nil, schema); err != nil {
				t.Fatal(err)
			}
			if fake.SubjectExists("out-value") {
				t.Fatal("CheckSink registered")
			}
			enc, err := r.Encoder(ctx, "out-value", format, nil, schema)
			if err != nil {
				t.Fatal(err)
			}
			// A second subtask registering again gets the same id.
			enc2, err := r.Encoder(ctx, "out-value", format, nil, schema)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := r.Decoder(ctx, format, nil, schema)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, e := range []connector.Encoder{enc, enc2} {
				if err := e.Encode(b, func(rec []byte) error {
					id, _, err := SplitFrame(rec)
					ids = append(ids, id)
					if err != nil {
						return err
					}
					return dec.Decode(rec)
				}); err != nil {
					t.Fatal(err)
				}
			}
			if ids[0] != ids[len(ids)-1] {
				t.Fatalf("ids %v", ids)
			}
			got := render(dec.Flush())
			if strings.Join(got, ",") != "1 | a,2 | NULL,1 | a,2 | NULL" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestSinkRefusesIncompatible(t *testing.T) {
	for _, format := range []string{FormatAvro, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			fake, r := newFake(t)
			ctx := context.Background()
			schema, _ := sinkBatch()
			if _, err := r.Encoder(ctx, "out-value", format, nil, schema); err != nil {
				t.Fatal(err)
			}
			// A new NOT NULL column: old data lacks it, so BACKWARD fails.
			grown := types.NewSchema(append(append([]types.Field{}, schema.Fields...), types.Field{Name: "age", Type: types.Int32T})...)
			err := r.CheckSink(ctx, "out-value", format, nil, grown)
			t.Log(err)
			var re *Error
			if !errors.As(err, &re) || re.Retriable || !strings.Contains(err.Error(), "not BACKWARD compatible with version 1") ||
				!strings.Contains(err.Error(), "subject 'out-value'") {
				t.Fatalf("got %v", err)
			}
			if _, err := r.Encoder(ctx, "out-value", format, nil, grown); err == nil {
				t.Fatal("Encoder registered an incompatible schema")
			}
			if v, _ := fake.GetSchema("out-value", 2); v.Schema.Schema != "" {
				t.Fatal("a second version was registered")
			}
			// A nullable new column is fine.
			opt := types.NewSchema(append(append([]types.Field{}, schema.Fields...), types.Field{Name: "age", Type: types.Int32T, Nullable: true})...)
			if err := r.CheckSink(ctx, "out-value", format, nil, opt); err != nil {
				t.Fatal(err)
			}
			// With compatibility NONE anything goes.
			if err := fake.SetCompat("out-value", sr.CompatNone); err != nil {
				t.Fatal(err)
			}
			if err := r.CheckSink(ctx, "out-value", format, nil, grown); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("key:s3cret"))
	fake := srfake.New(srfake.WithAuth(auth))
	defer fake.Close()
	ctx := context.Background()
	good, err := New(Config{Endpoint: fake.URL(), APIKey: "key", APISecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	bad, _ := New(Config{Endpoint: fake.URL(), APIKey: "key", APISecret: "wrong-secret"})
	err = bad.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(Config{Endpoint: fake.URL(), APIKey: "key"}); err == nil {
		t.Fatal("key without secret accepted")
	}
	u := strings.Replace(fake.URL(), "http://", "http://user:pw@", 1)
	r, _ := New(Config{Endpoint: u})
	if strings.Contains(r.Endpoint(), "pw") {
		t.Fatalf("endpoint not redacted: %s", r.Endpoint())
	}
}

func TestConfigFromOptions(t *testing.T) {
	cfg, ok := ConfigFromOptions(connector.Options{OptEndpoint: " http://x:8081 ", OptAPIKey: "k", OptAPISecret: "s"})
	if !ok || cfg.Endpoint != "http://x:8081" || cfg.APIKey != "k" || cfg.APISecret != "s" {
		t.Fatalf("%+v", cfg)
	}
	if _, ok := ConfigFromOptions(nil); ok {
		t.Fatal("no endpoint, ok")
	}
	if _, err := New(Config{Endpoint: "localhost:8081"}); err == nil || !strings.Contains(err.Error(), "http:// or https://") {
		t.Fatalf("got %v", err)
	}
}

func TestSQLToJSONSchemaRoundTrip(t *testing.T) {
	s := types.NewSchema(
		types.Field{Name: "a", Type: types.Int32T},
		types.Field{Name: "b", Type: types.StringT, Nullable: true},
		types.Field{Name: "c", Type: types.TimestampT},
		types.Field{Name: "d", Type: types.StructOf(types.Field{Name: "x", Type: types.BoolT}), Nullable: true},
		types.Field{Name: "e", Type: types.ListOf(types.Float64T)},
		types.Field{Name: "f", Type: types.JSONT, Nullable: true},
	)
	back, err := JSONSchemaToSQL(SQLToJSONSchema(s, false))
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != "(a BIGINT, b TEXT, c TIMESTAMP, d STRUCT<x BOOLEAN>, e DOUBLE[], f JSON)" {
		t.Fatalf("%s", back)
	}
	for i, f := range back.Fields {
		if f.Nullable != s.Fields[i].Nullable {
			t.Errorf("%s nullable %v", f.Name, f.Nullable)
		}
	}
}

// TestSharedRegistryConcurrent: subtasks share one Registry (its id cache)
// and each has its own decoder.
func TestSharedRegistryConcurrent(t *testing.T) {
	fake, r := newFake(t)
	ctx := context.Background()
	id1 := register(t, fake, "users-value", userV1, sr.TypeAvro)
	id2 := register(t, fake, "users-value", userV2, sr.TypeAvro)
	schema, err := r.TableSchema(ctx, "users-value")
	if err != nil {
		t.Fatal(err)
	}
	m1 := framed(t, id1, userV1, map[string]any{"id": int64(1), "n": 7, "old": "x"})
	m2 := framed(t, id2, userV2, map[string]any{"id": int64(2), "n": int64(3), "email": nil})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			dec, err := r.Decoder(ctx, FormatAvro, nil, schema)
			if err != nil {
				errs <- err
				return
			}
			for i := range 200 {
				m := m1
				if i%2 == 1 {
					m = m2
				}
				if err := dec.Decode(m); err != nil {
					errs <- err
					return
				}
			}
			if dec.Rows() != 200 {
				errs <- fmt.Errorf("%d rows", dec.Rows())
				return
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAvroReaderDefaults: v2 adds a NOT NULL field with a default; v1
// messages get the default when the table keeps v2 as its reader schema.
func TestAvroReaderDefaults(t *testing.T) {
	fake, r := newFake(t)
	ctx := context.Background()
	v1 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}`
	v2 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"},
		{"name":"level","type":"int","default":3},
		{"name":"tag","type":["string","null"],"default":"none"}]}`
	id1 := register(t, fake, "e-value", v1, sr.TypeAvro)
	id2 := register(t, fake, "e-value", v2, sr.TypeAvro)
	text, cols, err := r.ReaderSchema(ctx, "e-value")
	if err != nil {
		t.Fatal(err)
	}
	if cols.String() != "(id BIGINT, level INT, tag TEXT)" || cols.Fields[1].Nullable || text != v2 {
		t.Fatalf("%s %+v %q", cols, cols.Fields, text)
	}
	old := framed(t, id1, v1, map[string]any{"id": int64(1)})
	cur := framed(t, id2, v2, map[string]any{"id": int64(2), "level": 9, "tag": nil})

	dec, err := r.Decoder(ctx, FormatAvro, connector.Options{"avro.schema": text}, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][]byte{old, cur} {
		if err := dec.Decode(m); err != nil {
			t.Fatal(err)
		}
	}
	if got := render(dec.Flush()); strings.Join(got, ",") != "1 | 3 | none,2 | 9 | NULL" {
		t.Fatalf("got %q", got)
	}
	// Without the reader schema the NOT NULL column has no value for v1.
	bare, _ := r.Decoder(ctx, FormatAvro, nil, cols)
	if err := bare.Decode(old); err == nil || !strings.Contains(err.Error(), "NOT NULL") {
		t.Fatalf("got %v", err)
	}
}

func TestJSONCompatible(t *testing.T) {
	old := `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id"]}`
	cases := []struct {
		level sr.CompatibilityLevel
		new   string
		want  string // "" = compatible
	}{
		{sr.CompatBackward, `{"type":"object","properties":{"id":{"type":"number"},"name":{"type":"string"}},"required":["id"]}`, ""},
		{sr.CompatBackward, `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`, "property 'id' changed type from bigint to text"},
		{sr.CompatBackward, `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id","name"]}`, "property 'name' is required but was optional"},
		{sr.CompatForward, `{"type":"object","properties":{"name":{"type":"string"}}}`, "property 'id' is required but absent before"},
		{sr.CompatFull, `{"type":"object","properties":{"id":{"type":"number"}},"required":["id"]}`, "property 'id' changed type from double to bigint"},
		{sr.CompatNone, `{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"]}`, ""},
	}
	for _, c := range cases {
		err := jsonCompatible(c.level, old, c.new)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s %s: got %v, want %q", c.level, c.new, err, c.want)
		}
	}
}

func TestTableSchemaErrors(t *testing.T) {
	fake, r := newFake(t)
	ctx := context.Background()
	var re *Error
	if _, err := r.TableSchema(ctx, "nope-value"); !errors.As(err, &re) || !re.NotFound || !strings.Contains(err.Error(), "subject 'nope-value' not found") {
		t.Fatalf("got %v", err)
	}
	register(t, fake, "p-value", `syntax = "proto3"; message M { int32 a = 1; }`, sr.TypeProtobuf)
	if _, err := r.TableSchema(ctx, "p-value"); err == nil || !strings.Contains(err.Error(), "PROTOBUF schemas are not supported") {
		t.Fatalf("got %v", err)
	}
	register(t, fake, "j-value", `{"type":"string"}`, sr.TypeJSON)
	if _, err := r.TableSchema(ctx, "j-value"); err == nil || !strings.Contains(err.Error(), "root must be an object") {
		t.Fatalf("got %v", err)
	}
}

func TestServerErrorIsRetriable(t *testing.T) {
	fake, r := newFake(t)
	fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error_code":50003,"message":"overloaded"}`))
		return true
	})
	_, err := r.SchemaByID(context.Background(), 1)
	var re *Error
	if !errors.As(err, &re) || !re.Retriable || !strings.Contains(err.Error(), "HTTP 503: overloaded") {
		t.Fatalf("got %v", err)
	}
}
