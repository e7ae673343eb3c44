// Package conformance is the connector conformance suite: a library of
// named test definitions (source reads from earliest / latest / group,
// read_committed, at-least-once and exactly-once sinks under crashes,
// rescale, partitions added while running, bad data, authentication,
// unreachable brokers) that run unchanged against any Kafka cluster a
// Target describes. Providers make targets: in-process kfake
// (conformance/kfakeprov, the default of `go test ./...`), an external
// cluster named by ARROYO_CONFORMANCE_* environment variables (FromEnv:
// how CI runs it against a real Apache Kafka broker), and testcontainers
// Redpanda where Docker answers. `arroyo conformance` runs the same
// definitions against a user's cluster.
//
// Definitions run real pipelines in this process (sqlplan + the dataflow
// runtime) and check what a read_committed consumer sees. Other suites
// (schema registry, formats) add theirs with Register.
//
// It must not import cmd or controlplane.
package conformance
