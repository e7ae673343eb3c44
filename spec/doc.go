// Package spec holds the SQL spec cases and their runner (go test
// ./spec/...). Each case is one file, cases/NAME.test, with its inputs
// (inline or a file in inputs/), its SQL and its expected rows or error;
// Parse reads the format for the runner and for other packages' tests
// (the planner's fuzz seeds). See README.md. It imports only the
// standard library.
package spec
