package conformance

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
)

func init() {
	Register(
		Definition{Name: "registry_avro_roundtrip", Description: "an Avro sink on the Schema Registry registers <topic>-value and frames its records; a registry source reads them back", Run: registryRoundTrip},
		Definition{Name: "registry_incompatible_refused", Description: "a registry sink refuses to start when its subject holds an incompatible schema", Run: registryIncompatible},
	)
}

func registryRoundTrip(ctx context.Context, h *H) error {
	if h.SchemaRegistry == "" {
		return Skip("the target has no Schema Registry")
	}
	in, av, out := h.Name("in"), h.Name("avro"), h.Name("out")
	if err := topics(ctx, h, in, av, out); err != nil {
		return err
	}
	h.Defer(func() { deleteSubject(h.SchemaRegistry, av+"-value") })
	want := Rows(0, 100)
	if err := h.Produce(ctx, nil, in, h.Partitions, want); err != nil {
		return err
	}
	with := func(topic, typ string) string {
		return strings.Replace(h.With(topic, typ, "'source.offset' = 'earliest'"), "format = 'json'",
			"format = 'avro', 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '"+h.SchemaRegistry+"'", 1)
	}
	sql := fmt.Sprintf("CREATE TABLE src (id BIGINT, v TEXT) %s;\nCREATE TABLE av (id BIGINT, v TEXT) %s;\nCREATE TABLE av_in (id BIGINT, v TEXT) %s;\nCREATE TABLE dst (id BIGINT, v TEXT) %s;\n"+
		"INSERT INTO av SELECT id, v FROM src;\nINSERT INTO dst SELECT id, v FROM av_in;\n",
		h.With(in, "source", "'source.offset' = 'earliest'"), with(av, "sink"), with(av, "source"), h.With(out, "sink"))
	prog, err := Plan(sql, 1)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	return h.StopAndExpect(ctx, pl, out, want, false)
}

func registryIncompatible(ctx context.Context, h *H) error {
	if h.SchemaRegistry == "" {
		return Skip("the target has no Schema Registry")
	}
	av := h.Name("avro")
	if err := topics(ctx, h, av); err != nil {
		return err
	}
	subject := av + "-value"
	cl, err := sr.NewClient(sr.URLs(h.SchemaRegistry))
	if err != nil {
		return err
	}
	old := `{"type":"record","name":"r","fields":[{"name":"id","type":"long"},{"name":"must","type":"string"}]}`
	if _, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: old, Type: sr.TypeAvro}); err != nil {
		return fmt.Errorf("register the old schema: %w", err)
	}
	h.Defer(func() { deleteSubject(h.SchemaRegistry, subject) })
	sql := fmt.Sprintf("CREATE TABLE src WITH (connector = 'impulse', event_rate = '100');\nCREATE TABLE av (id BIGINT) %s;\nINSERT INTO av SELECT CAST(counter AS BIGINT) AS id FROM src;\n",
		strings.Replace(h.With(av, "sink"), "format = 'json'", "format = 'avro', 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '"+h.SchemaRegistry+"'", 1))
	prog, err := Plan(sql, 1)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	err = pl.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), subject) || !strings.Contains(err.Error(), "compatible") {
		return fmt.Errorf("the sink should refuse the incompatible subject %s, got %v", subject, err)
	}
	return nil
}

func deleteSubject(url, subject string) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	_, _ = cl.DeleteSubject(ctx, subject, sr.SoftDelete)
	_, _ = cl.DeleteSubject(ctx, subject, sr.HardDelete)
}
