// Package spec holds the SQL spec cases and their runner (go test
// ./spec/...). Each case is queries/NAME.sql with the expected output in
// golden/NAME.json (JSON lines); inputs live in inputs/. See README.md.
package spec
