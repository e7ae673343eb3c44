// Package conformance will hold the connector conformance suite: named test
// definitions (source reads, sink writes, exactly-once under failure, schema
// evolution, connection tests, bad data) run against providers (in-process
// kfake+srfake, an external cluster, testcontainers).
//
// Nothing is implemented yet: it arrives with the Kafka connector.
package conformance
