// Package avro is the "avro" format: it decodes Avro binary datums straight
// into column builders and encodes rows as Avro datums.
//
// Reading always resolves a writer schema to the reader, which is the
// table's SQL schema: a record is decoded by a plan compiled once per writer
// schema (plan.go) that says, for each writer field in writer order, which
// column it fills and how (type promotion, logical-type conversion, union
// branch choice, enum symbol lookup), which writer fields are skipped, and
// which columns the writer lacks (they get NULL). Bytes written with an old
// schema are therefore never read with the new one: that silently yields
// garbage in Avro, which carries no field tags.
//
// Where the writer schema comes from:
//
//   - 'avro.confluent_schema_registry' = 'true': from the registry, by the
//     id in each message's Confluent header (package connectors/schemareg
//     frames, looks up and caches; it calls DecodeWith with a Plan).
//   - 'avro.raw_datum' = 'true': each record is a bare datum written with
//     'avro.schema' (or, without it, with the schema derived from the SQL
//     schema, as this package's encoder writes).
//   - otherwise each record is an Avro object container (a header carrying
//     the writer schema, then blocks of datums, codec null or deflate), as
//     Arroyo writes without a registry; the plan is cached per schema text.
//
// Avro types SQL cannot express (maps, non-nullable unions, recursive
// records) are read into JSON columns as JSON text (json.go); with
// 'avro.into_unstructured_json' the whole record becomes one JSON column.
//
// A string read into a JSON column is JSON text (what the encoder writes
// for a JSON column), taken verbatim once validated; any other type read
// into a JSON column is rendered as JSON.
//
// The decoder allocates nothing per record in steady state. It must not
// import sqlplan, controlplane, udf, cmd or other connector packages
// (engine/dep_test.go enforces this).
package avro
