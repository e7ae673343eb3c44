// Package jsonfmt is the "json" format: it decodes JSON records straight into
// column builders and encodes rows as JSON objects. It is also the
// "debezium_json" changelog format (debezium.go), whose before and after
// rows are json rows.
//
// The decoder is a hand-written, schema-directed scanner. It does not build
// maps, structs or any intermediate tree: each value is parsed from the
// record bytes into the builder of the column its key names, and values of
// unknown keys are validated and skipped without being built. In steady
// state it allocates nothing per record (only column buffers grow).
//
// Decoding rules (the contract users see):
//
//   - A record is one JSON object. Keys match schema fields exactly, else
//     case-insensitively; unknown keys are skipped. A missing key or null
//     gives NULL; for a NOT NULL field it is an error.
//   - Duplicate keys: the last one wins (the earlier value is removed from
//     the builders).
//   - Integers must be JSON integers in range (1.5, 1e3 and "12" are errors
//     for BIGINT); floats accept any JSON number.
//   - TIMESTAMP accepts, whatever json.timestamp_format says, an RFC 3339
//     string (fraction and zone optional, no zone = UTC, 'T' or ' ' between
//     date and time) or an integer of Unix milliseconds. No record is
//     ambiguous between the two, so accepting both costs nothing; the option
//     chooses what the encoder writes.
//   - BYTEA is a base64 string (standard alphabet, padding optional).
//   - JSON columns get the raw text of the value, copied verbatim.
//   - A record that fails appends nothing to any column (including struct
//     fields and list elements) and the error names the field path and the
//     0-based byte offset in the record (see DecodeError).
//   - With json.unstructured the schema is one JSON or TEXT column holding
//     the whole record (validated, surrounding whitespace trimmed).
//
// It must not import encoding/json (too slow for the decode path; tests may
// use it as an oracle), nor sqlplan, controlplane, udf, cmd or other
// connector packages; dep_test.go enforces this.
package jsonfmt
