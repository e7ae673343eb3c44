// Package connectors is the home of the source and sink connectors and the
// formats. Each lives in its own package and registers itself with
// engine/connector from init; importing connectors/all registers them all.
//
// Connector packages import the engine only; they must not import sqlplan,
// controlplane, udf or cmd.
package connectors
