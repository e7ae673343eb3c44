// Package schemareg is Confluent Schema Registry support for the formats
// that use one (avro, json): a client with a cache of schemas by id, the
// Confluent wire framing (a 0 byte, then the schema id as 4 bytes big
// endian, then the payload), decoders that look up each message's writer
// schema by its id and resolve it to the table's columns, encoders that
// register the table's schema when a sink starts and prefix every record
// with its id, "subject -> SQL columns" for tables declared without
// columns, and our own compatibility check (registries in tests, srfake,
// always answer "compatible").
//
// It is a library the kafka and confluent connectors call, not a
// connector: it registers nothing. It may import the formats it frames
// (connectors/avro, connectors/jsonfmt) and the engine's connector API, and
// must not import sqlplan, controlplane, udf, cmd or the kafka connectors
// (engine/dep_test.go enforces this).
//
// Typical use by a connector:
//
//	reg, err := schemareg.New(schemareg.ConfigFromOptions(t.Options))
//	// planning a source declared without columns:
//	schema, err := reg.TableSchema(ctx, topic+"-value")
//	// a source subtask:
//	dec, err := reg.Decoder(ctx, t.Format.Name, t.Format.Options, t.Schema)
//	// a sink subtask, at start (registers, refuses an incompatible schema):
//	enc, err := reg.Encoder(ctx, subject, t.Format.Name, t.Format.Options, schema)
//	// a side-effect-free check at plan / validate time:
//	err = reg.CheckSink(ctx, subject, t.Format.Name, t.Format.Options, schema)
//
// Errors are *Error values: Retriable ones (the registry unreachable, a 5xx)
// must fail or retry the pipeline, never count as bad data to drop;
// others (an unknown id, a message without the Confluent header, a
// schema that does not resolve) are about the data or the table.
package schemareg
