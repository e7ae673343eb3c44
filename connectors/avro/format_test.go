package avro

import (
	"errors"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/connector"
)

func TestFormatRegistered(t *testing.T) {
	f, ok := connector.LookupFormat(Name)
	if !ok {
		t.Fatal("format avro not registered")
	}
	opts, err := connector.Validate(Name, f.Options, map[string]string{
		OptConfluentSchemaRegistry: "true", OptRawDatum: "false", OptSchema: ordersV1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if opts.String(OptIntoUnstructuredJSON) != "false" {
		t.Fatalf("defaults: %v", opts)
	}
	if _, err := connector.Validate(Name, f.Options, map[string]string{"avro.bogus": "1"}); !errors.Is(err, connector.ErrUnknownOption) {
		t.Fatalf("got %v", err)
	}
	s, err := f.Schema(opts)
	if err != nil || s == nil || s.Fields[0].Name != "id" {
		t.Fatalf("schema from avro.schema: %v %v", s, err)
	}
	if s, err := f.Schema(connector.Options{}); s != nil || err != nil {
		t.Fatalf("no schema: %v %v", s, err)
	}
	_, err = f.Schema(connector.Options{OptSchema: `{"type":"record"`})
	var oe *connector.OptionError
	if !errors.As(err, &oe) || oe.Option != OptSchema {
		t.Fatalf("got %v", err)
	}
	if !f.Projects(connector.Options{}) || f.Projects(connector.Options{OptIntoUnstructuredJSON: "true"}) {
		t.Fatal("Projects")
	}
	// A registry table decoded without the registry says what is missing.
	d, err := f.NewDecoder(s, connector.Options{OptConfluentSchemaRegistry: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode([]byte{0, 0, 0, 0, 1}); err == nil || !strings.Contains(err.Error(), "decoded by the schema registry") {
		t.Fatalf("got %v", err)
	}
}
